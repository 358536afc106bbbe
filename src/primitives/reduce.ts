/**
 * Reductions: max, min (over sorted axes, removing them), argmax/argmin
 * (one axis, int32 result) and cumsum. `keepdims` is the np layer's reshape.
 * reduceSum is declared with broadcastInDim (movement.ts, its adjoint) and
 * re-exported here.
 */
import { type Array, ConcreteArray } from "../core/array.js";
import { DTypeError } from "../core/errors.js";
import { definePrimitive, type PrimitiveDef } from "../core/primitive.js";
import { bind } from "../core/trace.js";
import { backend } from "../backends/index.js";
import { convert, div, eq, mul } from "./elementwise.js";
import {
  type AxesParams,
  broadcastInDim,
  keptDims,
  moveAxis,
  reduceImpl,
  reduceSum,
  reducedAval,
  shiftAxesBatch,
} from "./movement.js";

export { reduceSum };

function extremum(name: "reduceMax" | "reduceMin", op: "max" | "min") {
  const prim: PrimitiveDef<AxesParams> = definePrimitive<AxesParams>({
    name,
    linear: false,
    abstractEval: ([x], { axes }) => reducedAval(op, x!, axes),
    device: (k, [x], { axes }) => k.reduce(op, x!, axes),
    impl: reduceImpl(op),
    jvp([x], [dx], out, { axes }) {
      const back = broadcastInDim(out, x!.shape, keptDims(x!.ndim, axes));
      const mask = convert(eq(x!, back), x!.dtype);
      return div(reduceSum(mul(dx!, mask), axes), reduceSum(mask, axes));
    },
    batch: shiftAxesBatch((x, axes) => bind(prim, [x], { axes })),
  });
  return (x: Array, axes: readonly number[]): Array =>
    axes.length === 0 ? x : bind(prim, [x], { axes });
}
export const reduceMax = extremum("reduceMax", "max");
export const reduceMin = extremum("reduceMin", "min");

function argExtremum(name: "argmax" | "argmin") {
  const prim: PrimitiveDef<AxesParams> = definePrimitive<AxesParams>({
    name,
    linear: false,
    abstractEval([x], { axes }) {
      return { shape: reducedAval(name, x!, axes).shape, dtype: "int32" };
    },
    device: (k, [x], { axes }, out) => k.argReduce(name, x!, axes[0]!, out.shape),
    impl: reduceImpl(name, "int32"),
    jvp: () => null,
    batch: shiftAxesBatch((x, axes) => bind(prim, [x], { axes })),
  });
  return (x: Array, axis: number): Array => bind(prim, [x], { axes: [axis] });
}
/** Index of the first maximum along `axis` (int32). */
export const argmax = argExtremum("argmax");
/** Index of the first minimum along `axis` (int32). */
export const argmin = argExtremum("argmin");

interface CumsumParams {
  axis: number;
  reverse: boolean;
}
const cumsumPrim = definePrimitive<CumsumParams>({
  name: "cumsum",
  device: (k, [x], { axis, reverse }) => k.cumsum(x!, axis, reverse),
  maskRule: "route", // moves or sums entries: the mask routes through the transpose
  linear: true,
  abstractEval([x], { axis }) {
    reducedAval("cumsum", x!, [axis]);
    if (x!.dtype === "bool") throw new DTypeError(`cumsum: convert bool arrays to int32 first`);
    return x!;
  },
  impl([x], { axis, reverse }) {
    return new ConcreteArray(
      x!.shape,
      x!.dtype,
      backend().cumsum(x!.buffer, x!.shape, axis, reverse, x!.dtype),
    );
  },
  // d cumsum(x) = cumsum(dx); its adjoint sums from the other end.
  jvp: (_p, [dx], _o, { axis, reverse }) => cumsum(dx!, axis, reverse),
  transpose: (ct, _args, { axis, reverse }) => [cumsum(ct, axis, !reverse)],
  batch: ([x], [d], { axis, reverse }) => [cumsum(moveAxis(x!, d!, 0), axis + 1, reverse), 0],
});
/** Running sum along `axis` (from the end when `reverse`). */
export function cumsum(x: Array, axis: number, reverse = false): Array {
  return bind(cumsumPrim, [x], { axis, reverse });
}
