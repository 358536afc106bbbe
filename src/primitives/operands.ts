/**
 * Operand checks and constants shared by the primitive families: the shape
 * and dtype rule of elementwise operands, and arrays filled with a value.
 * Imports no family, so every family can use it.
 */
import { type Aval, ConcreteArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import { shapesEqual } from "../core/shape.js";

/** Abstract eval of an elementwise op: operands of one shape and dtype. */
export function sameShapeDtype(name: string, avals: readonly Aval[]): Aval {
  const first = avals[0]!;
  for (let i = 1; i < avals.length; i++) {
    const a = avals[i]!;
    // The same shape object (the common case) needs no call.
    if (a.shape !== first.shape && !shapesEqual(a.shape, first.shape)) {
      throw new ShapeError(
        `${name}: operands must have equal shapes, got ${fmtShape(first.shape)} and ` +
          `${fmtShape(a.shape)} (np functions broadcast for you)`,
      );
    }
    if (a.dtype !== first.dtype) {
      throw new DTypeError(
        `${name}: operands must have equal dtypes, got ${first.dtype} and ${a.dtype} ` +
          `(np functions promote for you; or use x.astype(dtype))`,
      );
    }
  }
  return first;
}

/** A concrete array shaped like `like`, filled with `value`. */
export function fullLike(like: Aval, value: number, dtype: DType = like.dtype): ConcreteArray {
  return ConcreteArray.full(like.shape, dtype, value);
}
