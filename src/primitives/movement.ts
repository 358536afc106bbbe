/**
 * Movement primitives: reshape, broadcastInDim, transpose, slice, pad and
 * concatenate, plus reduceSum (broadcasting's adjoint, so the two transpose
 * rules live together). All are linear; each transpose rule is the adjoint
 * data movement. Also the batch-axis plumbing vmap rules share (moveAxis,
 * batchToFront, elementwiseBatch). This is the bottom family: it imports no
 * other family, so elementwise, indexing, reduce and linalg build on it
 * without import cycles.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import {
  definePrimitive,
  type BatchDim,
  type PrimitiveDef,
  UndefPrimal,
} from "../core/primitive.js";
import { type Shape, shapeSize, shapesEqual, stridesOf } from "../core/shape.js";
import { bind } from "../core/trace.js";
import { backend } from "../backends/index.js";
import type { ReduceOp } from "../backends/backend.js";
import { allocate } from "../core/dtype.js";

/** The shape and dtype of a transpose argument (linear or known). */
export function avalOf(x: UndefPrimal | Array): Aval {
  return x instanceof UndefPrimal ? x.aval : x;
}

// -------------------------------------------------------------- reshape --

interface ReshapeParams {
  shape: Shape;
}
const reshapePrim: PrimitiveDef<ReshapeParams> = definePrimitive<ReshapeParams>({
  name: "reshape",
  // on a device: the same buffer seen with the new shape
  device: (k, [x], { shape }) => k.reshape(x!, shape),
  // reshape to the same shape, or of a reshape back to its input's shape: that input
  simplify(q) {
    const a = q.inputs[0]!;
    if (q.fits(a)) return a;
    const p = q.producer(a);
    return p !== undefined && p.prim === reshapePrim && q.fits(p.inputs[0]) ? p.inputs[0] : null;
  },
  maskRule: "route", // moves or sums entries: the mask routes through the transpose
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
  // on a device: a gather reading input axis i along output axis dims[i] (stride 0 where it repeats)
  device(k, [x], { dims }, out) {
    const inStrides = stridesOf(x!.shape);
    const strides = out.shape.map(() => 0);
    dims.forEach((d, i) => {
      if (x!.shape[i] !== 1) strides[d] = inStrides[i]!;
    });
    return k.stridedGather(x!, out.shape, strides, 0);
  },
  maskRule: "route", // moves or sums entries: the mask routes through the transpose
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
const transposePrim: PrimitiveDef<TransposeParams> = definePrimitive<TransposeParams>({
  name: "transpose",
  // on a device: a gather with the input's strides permuted
  device(k, [x], { perm }, out) {
    const inStrides = stridesOf(x!.shape);
    return k.stridedGather(
      x!,
      out.shape,
      perm.map((p) => inStrides[p]!),
      0,
    );
  },
  // transpose(transpose(x, inner), outer) = x when the two permutations cancel
  simplify(q) {
    const p = q.producer(q.inputs[0]!);
    if (p === undefined || p.prim !== transposePrim) return null;
    const inner = (p.params as TransposeParams).perm;
    const outer = q.params.perm;
    return outer.every((k, i) => inner[k] === i) && q.fits(p.inputs[0]) ? p.inputs[0] : null;
  },
  maskRule: "route", // moves or sums entries: the mask routes through the transpose
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
  // on a device: a gather from start with the input's strides times step
  device(k, [x], { start, step }, out) {
    const inStrides = stridesOf(x!.shape);
    const offset = start.reduce((acc, s, d) => acc + s * inStrides[d]!, 0);
    return k.stridedGather(
      x!,
      out.shape,
      inStrides.map((s, d) => s * step[d]!),
      offset,
    );
  },
  maskRule: "route", // moves or sums entries: the mask routes through the transpose
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
  // on a device: x scattered into zeros at lo, every (interior + 1)-th position
  device(k, [x], { lo, interior }, out) {
    const outStrides = stridesOf(out.shape);
    const offset = lo.reduce((acc, l, d) => acc + l * outStrides[d]!, 0);
    return k.stridedScatter(
      x!,
      out.shape,
      outStrides.map((s, d) => s * (interior[d]! + 1)),
      offset,
    );
  },
  maskRule: "route", // moves or sums entries: the mask routes through the transpose
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
  device: (k, xs, { axis }, out) => k.concatenate(xs, out.shape, axis),
  maskRule: "route", // moves or sums entries: the mask routes through the transpose
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
    const out = allocate(first.dtype, shapeSize(shape));
    // Row-major: out is `outer` rows of `rowOut` elements; block x fills, in
    // every row, a contiguous run of x.shape[axis] * inner elements starting
    // at column `at * inner`. Copying runs costs O(total) for any number of
    // blocks (a scatter per block into the whole output would be O(k * total)).
    const outer = shapeSize(shape.slice(0, axis));
    const inner = shapeSize(shape.slice(axis + 1));
    const rowOut = shape[axis] * inner;
    let at = 0;
    for (const x of xs) {
      const run = x.shape[axis]! * inner;
      const src = x.buffer;
      for (let row = 0; row < outer; row++) {
        const from = row * run;
        const to = row * rowOut + at * inner;
        if (run >= 32) out.set(src.subarray(from, from + run), to);
        else for (let j = 0; j < run; j++) out[to + j] = src[from + j]!;
      }
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

// ----------------------------------------------------- batch-axis plumbing --

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

// ------------------------------------------------------------ reduceSum --

/** Parameters of the axis reductions. */
export interface AxesParams {
  axes: readonly number[];
}

/** Abstract eval of an axis reduction (checks the axes). */
export function reducedAval(name: string, x: Aval, axes: readonly number[]): Aval {
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= x.shape.length) {
      throw new ShapeError(`${name}: axis ${a} is out of range for shape ${fmtShape(x.shape)}`);
    }
  }
  return { shape: x.shape.filter((_, d) => !axes.includes(d)), dtype: x.dtype };
}

/** The output axes kept by a reduction, as broadcastInDim dims back into the input. */
export function keptDims(ndim: number, axes: readonly number[]): number[] {
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) if (!axes.includes(d)) dims.push(d);
  return dims;
}

/** Batch rule of axis reductions: the batch axis moves to 0 and the axes shift by one. */
export function shiftAxesBatch(apply: (x: Array, axes: number[]) => Array) {
  return (
    [x]: readonly Array[],
    [d]: readonly (number | null)[],
    { axes }: AxesParams,
  ): [Array, number] => [
    apply(
      moveAxis(x!, d!, 0),
      axes.map((a) => a + 1),
    ),
    0,
  ];
}

/** impl of an axis reduction through the backend. */
export function reduceImpl(op: ReduceOp, outDtype?: "int32") {
  return ([x]: readonly ConcreteArray[], { axes }: AxesParams): ConcreteArray => {
    const dtype = outDtype ?? x!.dtype;
    const shape = x!.shape.filter((_, d) => !axes.includes(d));
    return new ConcreteArray(shape, dtype, backend().reduce(op, x!.buffer, x!.shape, axes, dtype));
  };
}

const reduceSumPrim = definePrimitive<AxesParams>({
  name: "reduceSum",
  device: (k, [x], { axes }) => k.reduce("sum", x!, axes),
  maskRule: "route", // moves or sums entries: the mask routes through the transpose
  linear: true,
  abstractEval([x], { axes }) {
    if (x!.dtype === "bool") {
      throw new DTypeError(`sum: cannot sum a bool array; convert with x.astype("int32")`);
    }
    return reducedAval("sum", x!, axes);
  },
  impl: reduceImpl("sum"),
  // d sum(x) = sum(dx)
  jvp: (_p, [dx], _o, { axes }) => reduceSum(dx!, axes),
  // The adjoint of summing is broadcasting back.
  transpose: (ct, [x], { axes }) => {
    const shape = (x as { aval: Aval }).aval.shape;
    return [broadcastInDim(ct, shape, keptDims(shape.length, axes))];
  },
  batch: shiftAxesBatch((x, axes) => reduceSum(x, axes)),
});
/** Sums over the sorted, distinct `axes`, removing them. */
export function reduceSum(x: Array, axes: readonly number[]): Array {
  if (axes.length === 0) return x;
  return bind(reduceSumPrim, [x], { axes });
}

/**
 * max/min: the tangent is the average of the tangents at the positions that
 * attain the extreme (ties share it), i.e. sum(dx * mask) / sum(mask).
 */
