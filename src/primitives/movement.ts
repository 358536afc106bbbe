/**
 * Movement primitives: reshape, broadcastInDim, transpose, slice, pad,
 * concatenate, gather (take along an axis) and scatterAdd. All are linear;
 * each transpose rule is the adjoint data movement.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { ShapeError, fmtShape, InvalidArgumentError } from "../core/errors.js";
import { definePrimitive, type BatchDim, UndefPrimal } from "../core/primitive.js";
import { type Shape, shapeSize, shapesEqual, stridesOf } from "../core/shape.js";
import { bind } from "../core/trace.js";
import { backend } from "../backends/index.js";
import { allocate } from "../core/dtype.js";
import { reduceSum } from "./reduce.js";
import { add } from "./elementwise.js";
import { batchSize, batchToFront, moveAxis } from "./helpers.js";

function avalOf(x: UndefPrimal | Array): Aval {
  return x instanceof UndefPrimal ? x.aval : x;
}

// -------------------------------------------------------------- reshape --

interface ReshapeParams {
  shape: Shape;
}
const reshapePrim = definePrimitive<ReshapeParams>({
  name: "reshape",
  linear: true,
  abstractEval([x], { shape }) {
    if (shapeSize(shape) !== shapeSize(x!.shape)) {
      throw new ShapeError(
        `reshape: cannot reshape an array of shape ${fmtShape(x!.shape)} ` +
          `(${shapeSize(x!.shape)} elements) into shape ${fmtShape(shape)} ` +
          `(${shapeSize(shape)} elements)`,
      );
    }
    return { shape, dtype: x!.dtype };
  },
  impl: ([x], { shape }) => new ConcreteArray(shape, x!.dtype, x!.buffer),
  jvp: (_p, [dx], _o, { shape }) => reshape(dx!, shape),
  transpose: (ct, [x]) => [reshape(ct, avalOf(x!).shape)],
  batch([x], [d], { shape }) {
    return [reshape(moveAxis(x!, d!, 0), [x!.shape[d!]!, ...shape]), 0];
  },
});
/** Reshape with the same number of elements (no -1 here; np.reshape resolves it). */
export function reshape(x: Array, shape: Shape): Array {
  if (shapesEqual(x.shape, shape)) return x;
  return bind(reshapePrim, [x], { shape });
}

// -------------------------------------------------------- broadcastInDim --

interface BroadcastParams {
  /** The output shape. */
  shape: Shape;
  /** For each input axis, the output axis it becomes (increasing). */
  dims: readonly number[];
}
const broadcastPrim = definePrimitive<BroadcastParams>({
  name: "broadcastInDim",
  linear: true,
  abstractEval([x], { shape, dims }) {
    const ok =
      dims.length === x!.shape.length &&
      dims.every(
        (d, i) =>
          d >= 0 &&
          d < shape.length &&
          (i === 0 || d > dims[i - 1]!) &&
          (x!.shape[i] === 1 || x!.shape[i] === shape[d]),
      );
    if (!ok) {
      throw new ShapeError(
        `broadcastTo: cannot broadcast shape ${fmtShape(x!.shape)} to ${fmtShape(shape)}`,
      );
    }
    return { shape, dtype: x!.dtype };
  },
  impl([x], { shape, dims }) {
    const inStrides = stridesOf(x!.shape);
    const strides = shape.map(() => 0);
    dims.forEach((d, i) => {
      if (x!.shape[i] !== 1) strides[d] = inStrides[i]!;
    });
    return new ConcreteArray(
      shape,
      x!.dtype,
      backend().stridedGather(x!.buffer, shape, strides, 0, x!.dtype),
    );
  },
  jvp: (_p, [dx], _o, params) => broadcastInDim(dx!, params.shape, params.dims),
  // The adjoint of copying is summing the copies.
  transpose(ct, [x], { shape, dims }) {
    const inShape = avalOf(x!).shape;
    const summed: number[] = [];
    for (let d = 0; d < shape.length; d++) {
      const i = dims.indexOf(d);
      if (i < 0 || (inShape[i] === 1 && shape[d] !== 1)) summed.push(d);
    }
    return [reshape(reduceSum(ct, summed), inShape)];
  },
  batch([x], [d], { shape, dims }) {
    const xs = moveAxis(x!, d!, 0);
    return [broadcastInDim(xs, [xs.shape[0]!, ...shape], [0, ...dims.map((k) => k + 1)]), 0];
  },
});
/** Broadcasts x into `shape`, input axis i becoming output axis dims[i]. */
export function broadcastInDim(x: Array, shape: Shape, dims: readonly number[]): Array {
  if (shapesEqual(x.shape, shape)) return x;
  return bind(broadcastPrim, [x], { shape, dims });
}

// ------------------------------------------------------------ transpose --

interface TransposeParams {
  perm: readonly number[];
}
const transposePrim = definePrimitive<TransposeParams>({
  name: "transpose",
  linear: true,
  abstractEval([x], { perm }) {
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== x!.shape.length || sorted.some((p, i) => p !== i)) {
      throw new ShapeError(
        `transpose: axes [${perm.join(", ")}] are not a permutation of the ${x!.shape.length} axes ` +
          `of an array of shape ${fmtShape(x!.shape)}`,
      );
    }
    return { shape: perm.map((p) => x!.shape[p]!), dtype: x!.dtype };
  },
  impl([x], { perm }) {
    const inStrides = stridesOf(x!.shape);
    const shape = perm.map((p) => x!.shape[p]!);
    const strides = perm.map((p) => inStrides[p]!);
    return new ConcreteArray(
      shape,
      x!.dtype,
      backend().stridedGather(x!.buffer, shape, strides, 0, x!.dtype),
    );
  },
  jvp: (_p, [dx], _o, { perm }) => transpose(dx!, perm),
  transpose: (ct, _args, { perm }) => [transpose(ct, inversePermutation(perm))],
  batch([x], [d], { perm }) {
    return [transpose(moveAxis(x!, d!, 0), [0, ...perm.map((p) => p + 1)]), 0];
  },
});
export function inversePermutation(perm: readonly number[]): number[] {
  const inv = new globalThis.Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}
/** Permutes axes: output axis i is input axis perm[i]. */
export function transpose(x: Array, perm: readonly number[]): Array {
  if (perm.every((p, i) => p === i) && perm.length === x.ndim) return x;
  return bind(transposePrim, [x], { perm });
}

// ---------------------------------------------------------------- slice --

interface SliceParams {
  start: readonly number[];
  limit: readonly number[];
  step: readonly number[];
}
function sliceShape(
  start: readonly number[],
  limit: readonly number[],
  step: readonly number[],
): number[] {
  return start.map((s, d) => Math.max(0, Math.ceil((limit[d]! - s) / step[d]!)));
}
const slicePrim = definePrimitive<SliceParams>({
  name: "slice",
  linear: true,
  abstractEval([x], { start, limit, step }) {
    const ok =
      start.length === x!.shape.length &&
      start.every((s, d) => s >= 0 && s <= limit[d]! && limit[d]! <= x!.shape[d]! && step[d]! >= 1);
    if (!ok) {
      throw new ShapeError(
        `slice: start [${start.join(", ")}], limit [${limit.join(", ")}], step [${step.join(", ")}] ` +
          `do not fit an array of shape ${fmtShape(x!.shape)}`,
      );
    }
    return { shape: sliceShape(start, limit, step), dtype: x!.dtype };
  },
  impl([x], { start, limit, step }) {
    const inStrides = stridesOf(x!.shape);
    const shape = sliceShape(start, limit, step);
    const strides = inStrides.map((s, d) => s * step[d]!);
    const offset = start.reduce((acc, s, d) => acc + s * inStrides[d]!, 0);
    return new ConcreteArray(
      shape,
      x!.dtype,
      backend().stridedGather(x!.buffer, shape, strides, offset, x!.dtype),
    );
  },
  jvp: (_p, [dx], _o, params) => slice(dx!, params.start, params.limit, params.step),
  // The adjoint of taking a strided window is padding back with zeros.
  transpose(ct, [x], { start, step }) {
    const inShape = avalOf(x!).shape;
    const lo = start.slice();
    const interior = step.map((s) => s - 1);
    const hi = inShape.map((n, d) => {
      const len = ct.shape[d]!;
      const used = len === 0 ? start[d]! : start[d]! + (len - 1) * step[d]! + 1;
      return n - used;
    });
    return [pad(ct, lo, hi, interior)];
  },
  batch([x], [d], { start, limit, step }) {
    const xs = moveAxis(x!, d!, 0);
    return [slice(xs, [0, ...start], [xs.shape[0]!, ...limit], [1, ...step]), 0];
  },
});
/** x[start:limit:step] along every axis (steps >= 1). */
export function slice(
  x: Array,
  start: readonly number[],
  limit: readonly number[],
  step: readonly number[] = start.map(() => 1),
): Array {
  // The whole array (a common case in Jacobian assembly) is x itself.
  const whole =
    start.length === x.ndim &&
    start.every((s, d) => s === 0 && limit[d] === x.shape[d] && step[d] === 1);
  if (whole) return x;
  return bind(slicePrim, [x], { start, limit, step });
}

// ------------------------------------------------------------------ pad --

interface PadParams {
  lo: readonly number[];
  hi: readonly number[];
  /** Zeros inserted between neighbouring elements along each axis. */
  interior: readonly number[];
}
function padShape(shape: Shape, { lo, hi, interior }: PadParams): number[] {
  return shape.map((n, d) => lo[d]! + hi[d]! + n + Math.max(0, n - 1) * interior[d]!);
}
const padPrim = definePrimitive<PadParams>({
  name: "pad",
  linear: true,
  abstractEval([x], params) {
    const { lo, hi, interior } = params;
    const ok = [lo, hi, interior].every(
      (v) => v.length === x!.shape.length && v.every((k) => k >= 0),
    );
    if (!ok) {
      throw new ShapeError(
        `pad: widths lo [${lo.join(", ")}], hi [${hi.join(", ")}] must be non-negative, ` +
          `one per axis of shape ${fmtShape(x!.shape)}`,
      );
    }
    return { shape: padShape(x!.shape, params), dtype: x!.dtype };
  },
  impl([x], params) {
    const outShape = padShape(x!.shape, params);
    const outStrides = stridesOf(outShape);
    const strides = outStrides.map((s, d) => s * (params.interior[d]! + 1));
    const offset = params.lo.reduce((acc, l, d) => acc + l * outStrides[d]!, 0);
    const buf = backend().stridedScatterAdd(
      x!.buffer,
      x!.shape,
      shapeSize(outShape),
      strides,
      offset,
      x!.dtype,
    );
    return new ConcreteArray(outShape, x!.dtype, buf);
  },
  jvp: (_p, [dx], _o, params) => pad(dx!, params.lo, params.hi, params.interior),
  transpose(ct, [x], { lo, interior }) {
    const inShape = avalOf(x!).shape;
    const step = interior.map((k) => k + 1);
    const limit = inShape.map((n, d) => (n === 0 ? lo[d]! : lo[d]! + (n - 1) * step[d]! + 1));
    return [slice(ct, lo, limit, step)];
  },
  batch([x], [d], { lo, hi, interior }) {
    return [pad(moveAxis(x!, d!, 0), [0, ...lo], [0, ...hi], [0, ...interior]), 0];
  },
});
/** Pads with zeros: lo before, hi after, and `interior` between elements. */
export function pad(
  x: Array,
  lo: readonly number[],
  hi: readonly number[],
  interior: readonly number[] = lo.map(() => 0),
): Array {
  return bind(padPrim, [x], { lo, hi, interior });
}

// ---------------------------------------------------------- concatenate --

interface ConcatParams {
  axis: number;
}
const concatPrim = definePrimitive<ConcatParams>({
  name: "concatenate",
  linear: true,
  abstractEval(avals, { axis }) {
    const first = avals[0]!;
    for (const a of avals) {
      const ok =
        a.shape.length === first.shape.length &&
        a.dtype === first.dtype &&
        a.shape.every((n, d) => d === axis || n === first.shape[d]);
      if (!ok) {
        throw new ShapeError(
          `concatenate: arrays must agree except along axis ${axis}, got shapes ` +
            avals.map((v) => fmtShape(v.shape)).join(", ") +
            ` with dtypes ` +
            avals.map((v) => v.dtype).join(", "),
        );
      }
    }
    const shape = first.shape.slice();
    shape[axis] = avals.reduce((acc, a) => acc + a.shape[axis]!, 0);
    return { shape, dtype: first.dtype };
  },
  impl(xs, { axis }) {
    const first = xs[0]!;
    const shape = first.shape.slice();
    shape[axis] = xs.reduce((acc, a) => acc + a.shape[axis]!, 0);
    const outStrides = stridesOf(shape);
    const out = allocate(first.dtype, shapeSize(shape));
    let at = 0;
    for (const x of xs) {
      backend().stridedScatterAdd(
        x.buffer,
        x.shape,
        out.length,
        outStrides,
        at * outStrides[axis]!,
        x.dtype,
        out,
      );
      at += x.shape[axis]!;
    }
    return new ConcreteArray(shape, first.dtype, out);
  },
  jvp(primals, tangents, _o, { axis }) {
    return concatenate(
      tangents.map((t, i) => t ?? ConcreteArray.zeros(primals[i]!.shape, primals[i]!.dtype)),
      axis,
    );
  },
  transpose(ct, args, { axis }) {
    let at = 0;
    return args.map((a) => {
      const shape = avalOf(a).shape;
      const start = shape.map((_, d) => (d === axis ? at : 0));
      const limit = shape.map((n, d) => (d === axis ? at + n : ct.shape[d]!));
      at += shape[axis]!;
      return a instanceof UndefPrimal ? slice(ct, start, limit) : null;
    });
  },
  batch(args, dims, { axis }) {
    const size = batchSize(args, dims);
    return [
      concatenate(
        args.map((a, i) => batchToFront(a, dims[i] ?? null, size)),
        axis + 1,
      ),
      0,
    ];
  },
});
/** Joins arrays along an existing axis. */
export function concatenate(xs: readonly Array[], axis: number): Array {
  if (xs.length === 1) return xs[0]!;
  return bind(concatPrim, [...xs], { axis });
}

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
