/**
 * Eager evaluation of primitives on the webgpu backend (installed with
 * `setEagerEvaluator` while "webgpu" is selected): each supported primitive
 * becomes one or two compute dispatches on GPU arrays; host operands are
 * uploaded first. Elementwise primitives are found by their declared forms
 * (`elementwise.wgslInt32`, the Wasm vector form `elementwise.vector`, a
 * literal union the kernel table covers exactly, or `elementwise.wgsl`);
 * structural ones by their declared `device` rule, written in the device
 * kernel vocabulary (`DeviceKernels`) that this module implements on GPU
 * arrays. No primitive is known here by name; one with neither is refused
 * with an error naming it.
 */
import { ConcreteArray } from "../../core/array.js";
import { type DType, castScalar } from "../../core/dtype.js";
import { ChainruleError, DTypeError } from "../../core/errors.js";
import type { AnyPrimitive, DenseLinalgOp, DeviceKernels } from "../../core/primitive.js";
import { type Shape, shapeSize, stridesOf } from "../../core/shape.js";
import { jsBackend } from "../js.js";
import {
  type GpuReduceOp,
  TILE,
  argReduceSource,
  cumsumSource,
  indexGatherSource,
  scatterAddSource,
  elementwiseSource,
  gatherSource,
  matmulSource,
  operandExprs,
  reduceIdentityBits,
  reduceSource,
  ruleExpr,
  scatterSource,
} from "./kernels.js";
import { LINALG_MAX_N, LINALG_WORKGROUP, denseLinalgSource } from "./linalgWgsl.js";
import {
  GpuArray,
  clearGpuArray,
  dispatch,
  emptyGpuArray,
  gpuLimit,
  grid1d,
  groupsFor,
  onGpu,
  reshapedGpuArray,
} from "./runtime.js";

function notSupported(name: string, why?: string): ChainruleError {
  return new ChainruleError(
    `not supported on webgpu yet: ${name}${why === undefined ? "" : ` (${why})`}; ` +
      `use setBackend("wasm") (or "js") for it`,
  );
}

function refuseFloat64(prim: AnyPrimitive, dtypes: readonly DType[]): void {
  if (dtypes.includes("float64")) {
    throw new DTypeError(
      `${prim.name} on webgpu: got a float64 array (dtypes ${dtypes.join(", ")}), but WebGPU ` +
        `has no float64; convert with x.astype("float32") first, or use setBackend("wasm") ` +
        `or setBackend("js") for float64`,
    );
  }
}

/** out (shape `shape`) = x[offset + sum_d i_d * strides[d]]: broadcast, transpose, slice. */
function gather(x: GpuArray, shape: Shape, strides: readonly number[], offset: number): GpuArray {
  const out = emptyGpuArray(shape, x.dtype);
  const n = shapeSize(shape);
  if (n === 0) return out;
  dispatch(
    gatherSource(x.dtype),
    [x.storage.buffer, out.storage.buffer],
    [n, shape.length, offset, ...shape, ...strides],
    true,
    groupsFor(n),
  );
  return out;
}

/** Writes x into `out` at offset + sum_d i_d * strides[d] (distinct positions). */
function scatterInto(x: GpuArray, out: GpuArray, strides: readonly number[], offset: number): void {
  const n = shapeSize(x.shape);
  if (n === 0) return;
  dispatch(
    scatterSource(x.dtype),
    [x.storage.buffer, out.storage.buffer],
    [n, x.shape.length, offset, ...x.shape, ...strides],
    true,
    groupsFor(n),
  );
}

/** Each input scattered into its window along `axis` (together they cover the output). */
function concatenateGpu(xs: readonly GpuArray[], outShape: Shape, axis: number): GpuArray {
  const out = emptyGpuArray(outShape, xs[0]!.dtype);
  const outStrides = stridesOf(outShape);
  let at = 0;
  for (const x of xs) {
    scatterInto(x, out, outStrides, at * outStrides[axis]!);
    at += x.shape[axis]!;
  }
  return out;
}

function transposeGpu(x: GpuArray, perm: readonly number[]): GpuArray {
  const inStrides = stridesOf(x.shape);
  return gather(
    x,
    perm.map((p) => x.shape[p]!),
    perm.map((p) => inStrides[p]!),
    0,
  );
}

/** Columns per chunk beyond which a row is folded by several workgroups (then their partials). */
const CHUNK_COLUMNS = 4096;
/** Workgroups per row at most in the first pass. */
const MAX_PARTS = 1024;

/**
 * out[r] = op over x[r, :] (x [rows, cols] row-major): one workgroup per
 * row, or, for few long rows, one per chunk of a row and a second pass over
 * the partials (a full sum of 16M elements uses 1,024 workgroups, not one).
 */
function reduceRows(op: GpuReduceOp, x: GpuArray, out: GpuArray, rows: number, cols: number): void {
  const bits = reduceIdentityBits(op);
  const parts = rows >= 64 ? 1 : Math.min(MAX_PARTS, Math.ceil(cols / CHUNK_COLUMNS));
  if (parts <= 1) {
    dispatch(
      reduceSource(op, x.dtype),
      [x.storage.buffer, out.storage.buffer],
      [rows, cols, bits, 1, cols],
      false,
      grid1d(rows),
    );
    return;
  }
  const chunk = Math.ceil(cols / parts);
  const partials = emptyGpuArray([rows, parts], x.dtype);
  dispatch(
    reduceSource(op, x.dtype),
    [x.storage.buffer, partials.storage.buffer],
    [rows * parts, cols, bits, parts, chunk],
    false,
    grid1d(rows * parts),
  );
  dispatch(
    reduceSource(op, x.dtype),
    [partials.storage.buffer, out.storage.buffer],
    [rows, parts, bits, 1, parts],
    false,
    grid1d(rows),
  );
}

/** Reduces the sorted `axes`: moved last (a gather when needed), then one workgroup per row. */
function reduceGpu(op: GpuReduceOp, x: GpuArray, axes: readonly number[]): GpuArray {
  const kept = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const outShape = kept.map((d) => x.shape[d]!);
  if (axes.length === 0) return x;
  const perm = [...kept, ...axes];
  const moved = perm.every((p, i) => p === i) ? x : transposeGpu(x, perm);
  const rows = shapeSize(outShape);
  const cols = shapeSize(axes.map((d) => x.shape[d]!));
  const out = emptyGpuArray(outShape, x.dtype);
  if (rows === 0) return out;
  reduceRows(op, moved, out, rows, cols);
  return out;
}

/** x viewed as [outer, len, inner] around `axis`. */
function aroundAxis(shape: Shape, axis: number): [outer: number, len: number, inner: number] {
  return [shapeSize(shape.slice(0, axis)), shape[axis]!, shapeSize(shape.slice(axis + 1))];
}

/** gather: out[o, j, i] = x[o, idx[j], i] (indices clamped on the GPU). */
function indexGatherGpu(x: GpuArray, idx: GpuArray, outShape: Shape, axis: number): GpuArray {
  const out = emptyGpuArray(outShape, x.dtype);
  const n = shapeSize(outShape);
  const [, len, inner] = aroundAxis(x.shape, axis);
  if (n === 0) return out;
  dispatch(
    indexGatherSource(x.dtype),
    [x.storage.buffer, idx.storage.buffer, out.storage.buffer],
    [n, len, shapeSize(idx.shape), inner],
    false,
    groupsFor(n),
  );
  return out;
}

/** scatterAdd: zeros of `shape`, each update added at its index (atomically). */
function scatterAddGpu(u: GpuArray, idx: GpuArray, shape: Shape, axis: number): GpuArray {
  const out = emptyGpuArray(shape, u.dtype);
  clearGpuArray(out);
  const n = shapeSize(u.shape);
  const [, len, inner] = aroundAxis(shape, axis);
  if (n === 0 || shapeSize(shape) === 0) return out;
  dispatch(
    scatterAddSource(u.dtype),
    [u.storage.buffer, idx.storage.buffer, out.storage.buffer],
    [n, len, shapeSize(idx.shape), inner],
    false,
    groupsFor(n),
  );
  return out;
}

function cumsumGpu(x: GpuArray, axis: number, reverse: boolean): GpuArray {
  const out = emptyGpuArray(x.shape, x.dtype);
  const [outer, len, inner] = aroundAxis(x.shape, axis);
  const lines = outer * inner;
  if (lines === 0 || len === 0) return out;
  dispatch(
    cumsumSource(x.dtype),
    [x.storage.buffer, out.storage.buffer],
    [lines, len, inner, reverse ? 1 : 0],
    false,
    groupsFor(lines),
  );
  return out;
}

/** argmax/argmin along one axis: moved last (a gather when needed), then one workgroup per row. */
function argReduceGpu(
  op: "argmax" | "argmin",
  x: GpuArray,
  axis: number,
  outShape: Shape,
): GpuArray {
  const rank = x.shape.length;
  const perm = [...x.shape.keys()].filter((d) => d !== axis);
  perm.push(axis);
  const moved = axis === rank - 1 ? x : transposeGpu(x, perm);
  const out = emptyGpuArray(outShape, "int32");
  const rows = shapeSize(outShape);
  if (rows === 0) return out;
  dispatch(
    argReduceSource(op, x.dtype),
    [moved.storage.buffer, out.storage.buffer],
    [rows, x.shape[axis]!],
    false,
    grid1d(rows),
  );
  return out;
}

interface MatmulParams {
  transposeA: boolean;
  transposeB: boolean;
}

function matmulGpu(a: GpuArray, b: GpuArray, { transposeA, transposeB }: MatmulParams): GpuArray {
  const r = a.shape.length;
  const m = transposeA ? a.shape[r - 1]! : a.shape[r - 2]!;
  const k = transposeA ? a.shape[r - 2]! : a.shape[r - 1]!;
  const n = transposeB ? b.shape[r - 2]! : b.shape[r - 1]!;
  const batchShape = a.shape.slice(0, -2);
  const batch = shapeSize(batchShape);
  const out = emptyGpuArray([...batchShape, m, n], a.dtype);
  if (batch * m * n === 0) return out;
  if (k === 0) return fillZero(out);
  if (batch > gpuLimit()) {
    throw notSupported(
      "matmul",
      `${batch} batch entries exceed the device's ${gpuLimit()} workgroups per dimension`,
    );
  }
  dispatch(
    // vec4 loads where rows of A (length k) or B (length n) are whole vectors
    matmulSource(
      a.dtype,
      transposeA,
      transposeB,
      !transposeA && k % 4 === 0,
      !transposeB && n % 4 === 0,
    ),
    [a.storage.buffer, b.storage.buffer, out.storage.buffer],
    [m, k, n],
    false,
    [Math.ceil(n / (4 * TILE)), Math.ceil(m / (4 * TILE)), batch],
  );
  return out;
}

/** Zeros into `out` (a product with an empty inner dimension). */
function fillZero(out: GpuArray): GpuArray {
  const zero = onGpu(ConcreteArray.scalar(0, out.dtype));
  return gather(
    zero,
    out.shape,
    out.shape.map(() => 0),
    0,
  );
}

function elementwiseGpu(
  prim: AnyPrimitive,
  args: readonly ConcreteArray[],
  outDtype: DType,
): GpuArray {
  const rule = prim.multipleResults === true ? undefined : prim.elementwise;
  if (rule === undefined) throw notSupported(prim.name);
  const dtypes = args.map((a) => a.dtype);
  const found = ruleExpr(rule, dtypes, outDtype, operandExprs(args.length));
  if ("why" in found) throw notSupported(prim.name, found.why);
  const expr = found.expr;
  const ins = args.map(onGpu);
  const out = emptyGpuArray(args[0]!.shape, outDtype);
  const n = shapeSize(out.shape);
  if (n === 0) return out;
  dispatch(
    elementwiseSource(expr, dtypes, outDtype),
    [...ins.map((x) => x.storage.buffer), out.storage.buffer],
    [n],
    false,
    groupsFor(n),
  );
  return out;
}

/**
 * A dense solver on a stack of matrices (linalgWgsl.ts): one invocation per
 * matrix (per matrix and column for triangular solves), n <= 64; LU and
 * determinants work on a scratch copy of the matrices.
 */
function denseLinalgGpu(
  op: DenseLinalgOp,
  a: GpuArray,
  b: GpuArray | null,
  lower: boolean,
  shape: Shape,
): GpuArray {
  const n = a.shape[a.shape.length - 1]!;
  if (n > LINALG_MAX_N) {
    throw notSupported(
      op,
      `matrices of ${n} x ${n} (shape [${a.shape.join(", ")}]): the webgpu solvers take n <= ` +
        `${LINALG_MAX_N}, one matrix per GPU thread`,
    );
  }
  const count = shapeSize(a.shape.slice(0, -2));
  const k = b === null ? 0 : b.shape[b.shape.length - 1]!;
  const out = emptyGpuArray(shape, a.dtype);
  const invocations = op === "triangularSolve" ? count * k : count;
  if (invocations === 0 || shapeSize(shape) === 0) return out;
  const groups = grid1d(Math.ceil(invocations / LINALG_WORKGROUP));
  const meta = [invocations, n, k, lower ? 1 : 0];
  const source = denseLinalgSource(op);
  if (op === "triangularSolve") {
    dispatch(
      source,
      [a.storage.buffer, b!.storage.buffer, out.storage.buffer],
      meta,
      false,
      groups,
    );
  } else if (op === "cholesky") {
    dispatch(source, [a.storage.buffer, out.storage.buffer], meta, false, groups);
  } else {
    const work = emptyGpuArray(a.shape, a.dtype);
    const buffers =
      op === "solve"
        ? [a.storage.buffer, b!.storage.buffer, out.storage.buffer, work.storage.buffer]
        : [a.storage.buffer, out.storage.buffer, work.storage.buffer];
    dispatch(source, buffers, meta, false, groups);
  }
  return out;
}

/** The device kernel vocabulary (core/primitive.ts `DeviceKernels`) on GPU arrays. */
const GPU_KERNELS: DeviceKernels<GpuArray> = {
  stridedGather: gather,
  stridedScatter(x, shape, strides, offset) {
    const out = emptyGpuArray(shape, x.dtype);
    clearGpuArray(out);
    scatterInto(x, out, strides, offset);
    return out;
  },
  concatenate: concatenateGpu,
  reshape: reshapedGpuArray,
  reduce: reduceGpu,
  argReduce: argReduceGpu,
  matmul: (a, b, transposeA, transposeB) => matmulGpu(a, b, { transposeA, transposeB }),
  take: (x, indices, axis, shape) => indexGatherGpu(x, indices, shape, axis),
  scatterAdd: (updates, indices, axis, shape) => scatterAddGpu(updates, indices, shape, axis),
  cumsum: cumsumGpu,
  denseLinalg: denseLinalgGpu,
};

/** Converts a host array on the host (float64 data becomes float32 before it goes up). */
function convertOnHost(x: ConcreteArray, dtype: DType): ConcreteArray {
  if (x.shape.length === 0) return ConcreteArray.scalar(castScalar(x.scalarValue, dtype), dtype);
  return new ConcreteArray(x.shape, dtype, jsBackend.convert(x.buffer, dtype));
}

/** The webgpu backend's `EagerEvaluator`: the outputs of `prim` on `args`, on the GPU. */
export function evaluateOnGpu(
  prim: AnyPrimitive,
  args: readonly ConcreteArray[],
  params: unknown,
): ConcreteArray[] {
  if (prim.multipleResults === true) throw notSupported(prim.name);
  const out = prim.abstractEval(args, params);
  const x = args[0]!;
  if (prim.elementwise?.vector === "convert" && !(x instanceof GpuArray)) {
    // Host data (float64 included) converts where it is and is uploaded when used.
    refuseFloat64(prim, [out.dtype]);
    return [convertOnHost(x, out.dtype)];
  }
  refuseFloat64(prim, [...args.map((a) => a.dtype), out.dtype]);
  // Structural primitives say which device kernels compute them; elementwise ones have a WGSL form.
  const device = prim.device;
  if (device !== undefined) return [device(GPU_KERNELS, args.map(onGpu), params, out)];
  return [elementwiseGpu(prim, args, out.dtype)];
}
