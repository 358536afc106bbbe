/**
 * Small helpers shared by the np modules on shapes, contractions and
 * indexing (shape.ts, products.ts, einsum.ts, indexing.ts, sorting.ts):
 * promotion of a list of operands, constant int32 index vectors, and
 * row-major index arithmetic on concrete shapes. Imports only primitives
 * and numpy/core.ts, so the modules above it stay free of import cycles.
 */
import { Array, type ArrayLike, ConcreteArray } from "../core/array.js";
import { type DType, promoteTypes } from "../core/dtype.js";
import { describe } from "../core/convert.js";
import { InvalidArgumentError } from "../core/errors.js";
import { convert } from "../primitives/elementwise.js";
import { reshape } from "../primitives/movement.js";
import { arr, promotePair } from "./core.js";

/**
 * The sequence argument of np function `fn` (concatenate, stack, vstack, ...): a JS list, or an Array taken
 * as the list of its rows (as NumPy iterates one); anything else is named
 * instead of failing inside as "xs.map is not a function".
 */
export function sequenceOf(fn: string, xs: unknown): readonly ArrayLike[] {
  if (xs instanceof Array) {
    if (xs.ndim === 0) {
      throw new InvalidArgumentError(
        `np.${fn}: expected a list of arrays, got a 0-d Array; pass a list, e.g. np.${fn}([x, y])`,
      );
    }
    return [...xs];
  }
  if (!globalThis.Array.isArray(xs)) {
    throw new InvalidArgumentError(
      `np.${fn}: expected a list of arrays, got ${describe(xs)}; pass a list, e.g. np.${fn}([x, y])`,
    );
  }
  return xs as readonly ArrayLike[];
}

/** Converts operands of np function `fn` to Arrays of one (NumPy-promoted) dtype. */
export function promoteAll(fn: string, sequence: readonly ArrayLike[] | Array): Array[] {
  const xs = sequenceOf(fn, sequence);
  if (xs.length === 0) {
    throw new InvalidArgumentError(`np.${fn}: needs at least one array, got an empty list`);
  }
  if (xs.length === 2) return promotePair(xs[0]!, xs[1]!, fn);
  const arrays = xs.map((x, i) => arr(x, fn, `${i}`));
  let dt: DType = arrays[0]!.dtype;
  for (const a of arrays) if (a.dtype !== dt) dt = promoteTypes(dt, a.dtype);
  return arrays.map((a) => (a.dtype === dt ? a : convert(a, dt)));
}

/** A constant int32 vector. */
export function int32Vector(values: readonly number[]): ConcreteArray {
  return new ConcreteArray([values.length], "int32", Int32Array.from(values));
}

/** x flattened to one axis. */
export function flatten(x: Array): Array {
  return x.ndim === 1 ? x : reshape(x, [x.size]);
}

/** Checks that `v` is an integer (for np function `fn`, argument `name`). */
export function checkInt(fn: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new InvalidArgumentError(
      `np.${fn}: ${name} must be an integer, got ${typeof v === "number" ? v : typeof v}`,
    );
  }
  return v;
}
