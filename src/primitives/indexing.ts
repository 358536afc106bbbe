/**
 * Indexing primitives: gather (read entries at int32 indices along an axis)
 * and scatterAdd (its adjoint: add updates into zeros at those indices).
 * They sit above movement and elementwise (their batch rules offset the
 * indices with an elementwise add), so the families import without cycles.
 */
import { type Array, ConcreteArray } from "../core/array.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { allocate } from "../core/dtype.js";
import { definePrimitive, type BatchDim, UndefPrimal } from "../core/primitive.js";
import { type Shape, shapeSize, shapesEqual } from "../core/shape.js";
import { bind } from "../core/trace.js";
import { add } from "./elementwise.js";
import {
  avalOf,
  batchSize,
  batchToFront,
  broadcastInDim,
  moveAxis,
  reshape,
  transpose,
} from "./movement.js";

// --------------------------------------------------------------- gather --

interface GatherParams {
  axis: number;
}
function gatherShape(x: Shape, idx: Shape, axis: number): number[] {
  return [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
}
function checkIndices(fnName: string, idx: ConcreteArray, n: number): Int32Array {
  const out = new Int32Array(idx.size);
  for (let i = 0; i < out.length; i++) {
    let k = idx.buffer[i]!;
    if (k < 0) k += n;
    if (k < 0 || k >= n) {
      throw new InvalidArgumentError(
        `${fnName}: index ${idx.buffer[i]} is out of bounds for an axis of length ${n}`,
      );
    }
    out[i] = k;
  }
  return out;
}
/** out[..., i..., ...] = x[..., idx[i...], ...] with the index array replacing `axis`. */
function gatherStrides(xShape: Shape, axis: number): [outer: number, len: number, inner: number] {
  return [shapeSize(xShape.slice(0, axis)), xShape[axis]!, shapeSize(xShape.slice(axis + 1))];
}
const gatherPrim = definePrimitive<GatherParams>({
  name: "gather",
  device: (k, [x, idx], { axis }, out) => k.take(x!, idx!, axis, out.shape),
  maskRule: "route", // moves or sums entries: the mask routes through the transpose
  linear: true, // in x
  abstractEval([x, idx], { axis }) {
    if (idx!.dtype !== "int32") {
      throw new InvalidArgumentError(`take: indices must be int32, got dtype ${idx!.dtype}`);
    }
    return { shape: gatherShape(x!.shape, idx!.shape, axis), dtype: x!.dtype };
  },
  impl([x, idx], { axis }) {
    const [outer, len, inner] = gatherStrides(x!.shape, axis);
    const k = checkIndices("take", idx!, len);
    const out = allocate(x!.dtype, outer * k.length * inner);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < k.length; j++) {
        const src = (o * len + k[j]!) * inner;
        const dst = (o * k.length + j) * inner;
        for (let i = 0; i < inner; i++) out[dst + i] = x!.buffer[src + i]!;
      }
    return new ConcreteArray(gatherShape(x!.shape, idx!.shape, axis), x!.dtype, out);
  },
  jvp: ([, idx], [dx], _o, { axis }) => (dx === null ? null : gather(dx!, idx!, axis)),
  transpose(ct, [x, idx], { axis }) {
    if (idx instanceof UndefPrimal) throw new Error("gather: indices cannot be linear");
    return [scatterAdd(ct, idx!, axis, avalOf(x!).shape), null];
  },
  batch: ([x, idx], [dx, di], { axis }) => batchGather(x!, idx!, dx ?? null, di ?? null, axis),
});
/** Takes elements along `axis` at int32 `indices`. */
export function gather(x: Array, indices: Array, axis: number): Array {
  return bind(gatherPrim, [x, indices], { axis });
}

interface ScatterParams {
  axis: number;
  /** Shape of the array scattered into. */
  shape: Shape;
}
const scatterPrim = definePrimitive<ScatterParams>({
  name: "scatterAdd",
  device: (k, [u, idx], { axis, shape }) => k.scatterAdd(u!, idx!, axis, shape),
  maskRule: "route", // moves or sums entries: the mask routes through the transpose
  linear: true, // in the updates
  abstractEval([u, idx], { axis, shape }) {
    const expected = gatherShape(shape, idx!.shape, axis);
    if (!shapesEqual(expected, u!.shape)) {
      throw new ShapeError(
        `scatterAdd: updates of shape ${fmtShape(u!.shape)} do not match ${fmtShape(expected)}`,
      );
    }
    return { shape, dtype: u!.dtype };
  },
  impl([u, idx], { axis, shape }) {
    const [outer, len, inner] = gatherStrides(shape, axis);
    const k = checkIndices("scatterAdd", idx!, len);
    const out = allocate(u!.dtype, shapeSize(shape));
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < k.length; j++) {
        const dst = (o * len + k[j]!) * inner;
        const src = (o * k.length + j) * inner;
        for (let i = 0; i < inner; i++) out[dst + i] = out[dst + i]! + u!.buffer[src + i]!;
      }
    return new ConcreteArray(shape, u!.dtype, out);
  },
  jvp: ([, idx], [du], _o, { axis, shape }) =>
    du === null ? null : scatterAdd(du!, idx!, axis, shape),
  transpose(ct, [, idx], { axis }) {
    if (idx instanceof UndefPrimal) throw new Error("scatterAdd: indices cannot be linear");
    return [gather(ct, idx!, axis), null];
  },
  batch: ([u, idx], [du, di], { axis, shape }) =>
    batchScatter(u!, idx!, du ?? null, di ?? null, axis, shape),
});
/** Adds updates into zeros of `shape` at int32 `indices` along `axis` (the adjoint of gather). */
export function scatterAdd(updates: Array, indices: Array, axis: number, shape: Shape): Array {
  return bind(scatterPrim, [updates, indices], { axis, shape });
}

/** Indices batched in front, offset by b * len so they address a flattened (batch * len) axis. */
function offsetIndices(idx: Array, di: BatchDim, size: number, len: number): Array {
  const ib = batchToFront(idx, di, size);
  const offsets = new Int32Array(size);
  for (let b = 0; b < size; b++) offsets[b] = b * len;
  const off = new ConcreteArray([size], "int32", offsets);
  return add(ib, broadcastInDim(off, ib.shape, [0]));
}

/**
 * vmap of gather. With only the data batched, the batch axis goes in front
 * and `axis` shifts by one; with only the indices batched, the batch axis
 * lands among the index axes. With both, the batch and `axis` axes are
 * flattened into one and the indices offset per batch element.
 */
function batchGather(
  x: Array,
  idx: Array,
  dx: BatchDim,
  di: BatchDim,
  axis: number,
): [Array, BatchDim] {
  if (di === null) return [gather(moveAxis(x, dx!, 0), idx, axis + 1), 0];
  if (dx === null) return [gather(x, idx, axis), axis + di];
  const size = batchSize([x, idx], [dx, di]);
  const xs = moveAxis(moveAxis(x, dx, 0), axis + 1, 1); // [B, len, pre..., post...]
  const len = xs.shape[1]!;
  const flat = reshape(xs, [size * len, ...xs.shape.slice(2)]);
  const g = gather(flat, offsetIndices(idx, di, size, len), 0); // [B, idx..., pre..., post...]
  const nIdx = idx.ndim - 1;
  const perm = [0];
  for (let d = 0; d < axis; d++) perm.push(1 + nIdx + d);
  for (let d = 0; d < nIdx; d++) perm.push(1 + d);
  for (let d = 1 + nIdx + axis; d < g.ndim; d++) perm.push(d);
  return [transpose(g, perm), 0];
}

/** vmap of scatterAdd, mirroring batchGather. */
function batchScatter(
  u: Array,
  idx: Array,
  du: BatchDim,
  di: BatchDim,
  axis: number,
  shape: Shape,
): [Array, BatchDim] {
  const size = batchSize([u, idx], [du, di]);
  if (di === null) return [scatterAdd(moveAxis(u, du!, 0), idx, axis + 1, [size, ...shape]), 0];
  const us = batchToFront(u, du, size); // [B, pre..., idx..., post...]
  const nIdx = idx.ndim - 1;
  const perm = [0];
  for (let d = 0; d < nIdx; d++) perm.push(1 + axis + d);
  for (let d = 0; d < axis; d++) perm.push(1 + d);
  for (let d = 1 + axis + nIdx; d < us.ndim; d++) perm.push(d);
  const len = shape[axis]!;
  const rest = [...shape.slice(0, axis), ...shape.slice(axis + 1)];
  const s = scatterAdd(transpose(us, perm), offsetIndices(idx, di, size, len), 0, [
    size * len,
    ...rest,
  ]);
  return [moveAxis(reshape(s, [size, len, ...rest]), 1, axis + 1), 0];
}
