/**
 * Random words to floats, exactly: a float uniform on [0, 1) on a grid of
 * 2^-23 (float32) or 2^-52 (float64), made from the top mantissa-many bits
 * of the random words, as JAX does (its float32 draws are the same bits'
 * top 23 as 1.m - 1). Every step is exact: the integers fit the float's
 * mantissa, and the scaling is by a power of two.
 *
 *   float32: u = (w >>> 9) * 2^-23, with w = y0 ^ y1 (the two words of a
 *            counter's hash folded into 32 bits, as JAX's 32-bit draws);
 *   float64: u = top52(y0:y1) * 2^-52, the top 52 of the 64 bits y0 y1,
 *            assembled as (y0 >>> 6) * 2^26 + (((y0 & 63) << 20) | (y1 >>> 12)),
 *            two 26-bit halves (int32 has 31 value bits).
 */
import type { Array } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import { add, convert, mul } from "../primitives/elementwise.js";
import {
  bitwiseAnd,
  bitwiseOr,
  bitwiseXor,
  shiftLeft,
  shiftRightLogical,
} from "../primitives/bitwise.js";
import { broadcastInDim } from "../primitives/movement.js";
import { scalar } from "../core/convert.js";
import { int32Constant } from "./threefry.js";

/** A float constant of `dtype` as an array of `shape` (a broadcast, which jit fuses). */
export function floatConstant(value: number, shape: readonly number[], dtype: DType): Array {
  const s = scalar(value, dtype);
  return shape.length === 0 ? s : broadcastInDim(s, shape, []);
}

/**
 * Uniform floats on [0, 1) of `dtype` from the words (y0, y1) of each
 * element's hash (float32 with y1 null: from the word y0 alone).
 */
export function unitInterval(y0: Array, y1: Array | null, dtype: "float32" | "float64"): Array {
  const shape = y0.shape;
  const c = (v: number) => int32Constant(v, shape);
  if (dtype === "float32") {
    const top23 = shiftRightLogical(y1 === null ? y0 : bitwiseXor(y0, y1), c(9));
    return mul(convert(top23, "float32"), floatConstant(2 ** -23, shape, "float32"));
  }
  if (y1 === null) throw new Error("internal error: float64 uniforms need two words");
  const high = shiftRightLogical(y0, c(6));
  const low = bitwiseOr(shiftLeft(bitwiseAnd(y0, c(63)), c(20)), shiftRightLogical(y1, c(12)));
  const top52 = add(
    mul(convert(high, "float64"), floatConstant(2 ** 26, shape, "float64")),
    convert(low, "float64"),
  );
  return mul(top52, floatConstant(2 ** -52, shape, "float64"));
}
