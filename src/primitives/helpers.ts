/**
 * Shared pieces of primitive rules: shape checks for elementwise operands,
 * tangent arithmetic that keeps symbolic zeros (`null`) symbolic, and the
 * batch-axis plumbing used by vmap rules.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import type { BatchDim, Tangent } from "../core/primitive.js";
import { shapesEqual } from "../core/shape.js";
import { add, mul, neg } from "./elementwise.js";
import { broadcastInDim, transpose } from "./movement.js";

/** Abstract eval of an elementwise op: operands of one shape and dtype. */
export function sameShapeDtype(name: string, avals: readonly Aval[]): Aval {
  const first = avals[0]!;
  for (let i = 1; i < avals.length; i++) {
    const a = avals[i]!;
    if (!shapesEqual(a.shape, first.shape)) {
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

/** t1 + t2 with null as zero. */
export function tAdd(a: Tangent, b: Tangent): Tangent {
  if (a === null) return b;
  if (b === null) return a;
  return add(a, b);
}

/** t * c with null as zero. */
export function tMul(t: Tangent, c: Array): Tangent {
  return t === null ? null : mul(t, c);
}

/** -t with null as zero. */
export function tNeg(t: Tangent): Tangent {
  return t === null ? null : neg(t);
}

/** A tangent as an array (zeros when symbolically zero). */
export function instantiate(t: Tangent, like: Aval): Array {
  return t === null ? fullLike(like, 0) : t;
}

/** Moves axis `from` of x to position `to`. */
export function moveAxis(x: Array, from: number, to: number): Array {
  if (from === to) return x;
  const perm: number[] = [];
  for (let d = 0; d < x.ndim; d++) if (d !== from) perm.push(d);
  perm.splice(to, 0, from);
  return transpose(x, perm);
}

/**
 * Brings x to a batch axis at position 0 of size `size`: moves an existing
 * batch axis there, or broadcasts an unbatched value.
 */
export function batchToFront(x: Array, dim: BatchDim, size: number): Array {
  if (dim !== null) return moveAxis(x, dim, 0);
  const shape = [size, ...x.shape];
  return broadcastInDim(
    x,
    shape,
    x.shape.map((_, i) => i + 1),
  );
}

/** The batch size among batched operands (they agree; vmap checked it). */
export function batchSize(args: readonly Array[], dims: readonly BatchDim[]): number {
  for (let i = 0; i < args.length; i++) {
    const d = dims[i];
    if (d !== null && d !== undefined) return args[i]!.shape[d]!;
  }
  throw new Error("batchSize: no batched operand");
}

/**
 * Batch rule of elementwise primitives: with every operand batched at the
 * same axis the primitive applies as is; otherwise operands move to axis 0.
 */
export function elementwiseBatch(
  apply: (args: Array[]) => Array,
): (args: readonly Array[], dims: readonly BatchDim[]) => [Array, BatchDim] {
  return (args, dims) => {
    const d0 = dims[0];
    if (d0 !== null && d0 !== undefined && dims.every((d) => d === d0))
      return [apply([...args]), d0];
    const size = batchSize(args, dims);
    return [apply(args.map((a, i) => batchToFront(a, dims[i] ?? null, size))), 0];
  };
}
