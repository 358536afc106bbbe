/**
 * The Wasm backend: the Backend interface with float32/float64 kernels in
 * WebAssembly SIMD (matmul, add/sub/mul/div, neg/abs/sqrt, exp/log/sin/cos,
 * strided gathers and scatter-adds, sums) and everything else delegated to
 * the JS reference backend, whose results it therefore shares exactly. The
 * Wasm exp/log/sin/cos are within 2 ulp of JS Math (mathKernels.ts).
 *
 * Inputs are copied into the runtime's arena, the kernel runs there, and the
 * result is copied out into a fresh TypedArray (see runtime.ts); a call whose
 * working set does not fit the Wasm memory runs in JS. Arrays
 * smaller than `minElements` (elementwise) or products with fewer than
 * `minMatmulFlops` multiply-adds stay in JS, where the copies would cost
 * more than the kernel saves.
 */
import { type DType, type TypedArray, allocate } from "../../core/dtype.js";
import type { Backend } from "../backend.js";
import type { VectorOp } from "../../core/primitive.js";
import { jsBackend } from "../js.js";
import { PAIRWISE_BLOCK } from "../pairwiseSum.js";
import { WASM_BINARY_OPS, WASM_UNARY_OPS } from "./elementwiseKernel.js";
import { MATH_OPS, type MathOp } from "./mathKernels.js";
import { MATMUL_TILE, dtypeOps } from "./matmulKernel.js";
import { ArenaFullError, type WasmRuntime, alloc, resetArena, tryRuntime } from "./runtime.js";
import { parallelGemm } from "./threads.js";

export interface WasmBackendOptions {
  /** Elementwise kernels on fewer elements run in JS (default 2048). */
  minElements?: number;
  /**
   * Matrix products with fewer multiply-adds per product (m*k*n) run in JS
   * (default 4096; a batch of small products pays the copies once per product).
   */
  minMatmulWork?: number;
  /**
   * Dtypes whose add/sub/mul/div/neg/abs/sqrt run in Wasm (default float32
   * only: for float64 the copies in and out cost as much as the JS loop saves).
   */
  elementwiseDTypes?: readonly ("float32" | "float64")[];
}

type FloatDType = "float32" | "float64";

function floatStorage(x: TypedArray, dtype: DType): dtype is FloatDType {
  return (
    (dtype === "float32" && x instanceof Float32Array) ||
    (dtype === "float64" && x instanceof Float64Array)
  );
}

/** A view of `count` elements of `dtype` at byte address `ptr` of the memory. */
function view(rt: WasmRuntime, dtype: FloatDType, ptr: number, count: number): TypedArray {
  return dtype === "float32"
    ? new Float32Array(rt.memory.buffer, ptr, count)
    : new Float64Array(rt.memory.buffer, ptr, count);
}

/** Copies `x` into the arena; returns its address. */
function copyIn(rt: WasmRuntime, dtype: FloatDType, x: TypedArray): number {
  const ptr = alloc(rt, x.length * x.BYTES_PER_ELEMENT);
  view(rt, dtype, ptr, x.length).set(x);
  return ptr;
}

/** Copies `count` elements at `ptr` out into a fresh array. */
function copyOut(rt: WasmRuntime, dtype: FloatDType, ptr: number, count: number): TypedArray {
  const out = allocate(dtype, count);
  out.set(view(rt, dtype, ptr, count));
  return out;
}

/** Copies any TypedArray into the arena byte for byte; returns its address. */
function copyBytesIn(rt: WasmRuntime, x: TypedArray): number {
  const ptr = alloc(rt, x.byteLength);
  new Uint8Array(rt.memory.buffer, ptr, x.byteLength).set(
    new Uint8Array(x.buffer, x.byteOffset, x.byteLength),
  );
  return ptr;
}

/** Copies the arena bytes at `ptr` into `out` (all of it). */
function copyBytesOut(rt: WasmRuntime, ptr: number, out: TypedArray): TypedArray {
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(
    new Uint8Array(rt.memory.buffer, ptr, out.byteLength),
  );
  return out;
}

/** Writes shape, strides and a zeroed index vector (i32 each) into the arena. */
function odometerArgs(
  rt: WasmRuntime,
  shape: readonly number[],
  strides: readonly number[],
): [number, number, number] {
  const nd = shape.length;
  const ptr = alloc(rt, 12 * nd);
  const words = new Int32Array(rt.memory.buffer, ptr, 3 * nd);
  words.set(shape, 0);
  words.set(strides, nd);
  words.fill(0, 2 * nd);
  return [ptr, ptr + 4 * nd, ptr + 8 * nd];
}

/** Whether `x` is stored as `dtype` stores (Float32Array for float32, ...). */
function storedAs(x: TypedArray, dtype: DType): boolean {
  return allocate(dtype, 0).constructor === x.constructor;
}

/**
 * C = op(A) op(B) for one product (op(A) [m, k], op(B) [k, n]), written into
 * `out` at `outOffset`. A transposed operand (A stored [k, m], B stored
 * [n, k]) is packed straight from its stored layout by `packStrided`; the
 * panels, and so the result, are the same as for the materialised transpose.
 *
 * With `out` null the product is left in the arena instead (for a jit group
 * that reads it next, see `matmulInArena`): the result is the byte address
 * of C, whose rows are `ldc` elements apart, or, when worker threads
 * computed some chunks elsewhere (a late worker's chunk redone in a spare
 * block), a fresh array holding the product, copied from where its rows are.
 */
function matmulOne(
  rt: WasmRuntime,
  dtype: FloatDType,
  a: TypedArray,
  b: TypedArray,
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
  out: TypedArray | null,
  outOffset: number,
): number | TypedArray {
  const { mr, nv } = MATMUL_TILE[dtype];
  const E = dtypeOps(dtype).bytes;
  const nr = (nv * 16) / E;
  const mPanels = Math.ceil(m / mr);
  const nPanels = Math.ceil(n / nr);
  resetArena(rt);
  const aRaw = alloc(rt, a.length * E);
  const bRaw = alloc(rt, b.length * E);
  const aPack = alloc(rt, mPanels * mr * k * E);
  const bPack = alloc(rt, nPanels * nr * k * E);
  const ldc = nPanels * nr;
  const cPtr = alloc(rt, mPanels * mr * ldc * E);
  // A and B go in once the workers have started (waking them takes a
  // while); they pack A panel by panel, for the chunks they take, as soon
  // as A is in, while B is copied in and packed here.
  const prepareA = (): void => view(rt, dtype, aRaw, a.length).set(a);
  const prepareB = (): void => {
    view(rt, dtype, bRaw, b.length).set(b);
    if (transposeB) rt.kernels[`packStrided_${dtype}`]!(bRaw, bPack, nr, n, k, k, 1, 0, nPanels);
    else rt.kernels[`packB_${dtype}`]!(bRaw, bPack, k, n, nPanels);
  };
  /**
   * Copies the rows of row panels p0..p1-1 of C into `to` (dropping the
   * padding), from `rows`, the address of row p0 * mr (in C, or where a
   * thread put them).
   */
  const copyRows = (to: TypedArray, offset: number, p0: number, p1: number, rows: number): void => {
    const [r0, r1] = [p0 * mr, Math.min(p1 * mr, m)];
    const c = view(rt, dtype, rows, (r1 - r0) * ldc);
    if (ldc === n) to.set(c, offset + r0 * n);
    else
      for (let i = 0; i < r1 - r0; i++)
        to.set(c.subarray(i * ldc, i * ldc + n), offset + (r0 + i) * n);
  };
  // Each finished chunk of C is copied out while the other threads still
  // compute (threads.ts); kept in the arena, the chunks are only recorded.
  const chunks: [number, number, number][] = [];
  let moved = false;
  const finished =
    out !== null
      ? (p0: number, p1: number, rows: number): void => copyRows(out, outOffset, p0, p1, rows)
      : (p0: number, p1: number, rows: number): void => {
          chunks.push([p0, p1, rows]);
          if (rows !== cPtr + p0 * mr * ldc * E) moved = true;
        };
  const aOperand = { raw: aRaw, pack: aPack, m, transposed: transposeA, prepare: prepareA };
  const bOperand = { pack: bPack, prepare: prepareB };
  parallelGemm(rt, dtype, aOperand, bOperand, cPtr, k, nPanels, mPanels, m * k * n, finished);
  if (out !== null || !moved) return cPtr;
  // A late worker may still write its chunk's rows of C: copy every chunk from where it is now.
  const result = allocate(dtype, m * n);
  for (const [p0, p1, rows] of chunks) copyRows(result, 0, p0, p1, rows);
  return result;
}

/** The Wasm backend object plus its adjustable thresholds. */
export interface WasmBackend extends Backend {
  /** Changes the size thresholds (tests set them to 0 to run every kernel in Wasm). */
  configure(options: WasmBackendOptions): void;
  /** The thresholds in force (to restore them after `configure`). */
  options(): Required<WasmBackendOptions>;
  /**
   * op(A) op(B) of one pair of matrices (a [m, k] or, transposed, [k, m];
   * b likewise), left in the Wasm arena for the jit group that reads it
   * next (jit/wasmLowering.ts): the byte address of its m x n elements, row
   * after row, valid until the next `resetArena`. Where the product cannot
   * stay there (n not a whole number of kernel panels, a product the
   * backend runs in JS, a chunk redone by another thread, a full arena) the
   * product itself, as `matmul` returns it.
   */
  matmulInArena(
    a: TypedArray,
    b: TypedArray,
    m: number,
    k: number,
    n: number,
    dtype: DType,
    transposeA: boolean,
    transposeB: boolean,
  ): number | TypedArray;
}

/** out[offset + sum_d i_d strides[d]] += x[i] over the multi-indices i of `shape`, in Wasm. */
function scatterAdd(
  rt: WasmRuntime,
  x: TypedArray,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  dtype: DType,
  out: TypedArray,
): void {
  resetArena(rt);
  const src = copyBytesIn(rt, x);
  const dst = copyBytesIn(rt, out);
  const [shapePtr, stridesPtr, idxPtr] = odometerArgs(rt, shape, strides);
  rt.kernels[`scatterAdd_${dtype}`]!(src, dst, shapePtr, stridesPtr, shape.length, offset, idxPtr);
  copyBytesOut(rt, dst, out);
}

/**
 * The sum of x (float, `shape`) over its first `nAxes` axes, bit for bit as
 * the JS reference computes it (backends/js.ts, `pairwiseRowSum`): x viewed
 * as [rows, width], the column sums of each block of PAIRWISE_BLOCK rows in
 * float64 (a Wasm kernel, sumKernel.ts), the blocks combined by the same
 * pairwise tree, and each sum rounded to the dtype once.
 */
function leadingAxesSum(
  rt: WasmRuntime,
  x: TypedArray,
  shape: readonly number[],
  nAxes: number,
  dtype: FloatDType,
): TypedArray {
  const rows = shape.slice(0, nAxes).reduce((p, q) => p * q, 1);
  const width = shape.slice(nAxes).reduce((p, q) => p * q, 1);
  const out = allocate(dtype, width);
  if (rows === 0 || width === 0) return out;
  const E = x.BYTES_PER_ELEMENT;
  resetArena(rt);
  const src = copyIn(rt, dtype, x);
  const blocks = Math.ceil(rows / PAIRWISE_BLOCK);
  const acc = alloc(rt, blocks * width * 8);
  for (let b = 0; b < blocks; b++) {
    const count = Math.min(PAIRWISE_BLOCK, rows - b * PAIRWISE_BLOCK);
    const from = src + b * PAIRWISE_BLOCK * width * E;
    rt.kernels[`colSum_${dtype}`]!(from, acc + b * width * 8, count, width);
  }
  const sums = new Float64Array(rt.memory.buffer, acc, blocks * width);
  /** Combines the blocks of rows first..first+count-1 as the reference's tree; returns the block holding their sum. */
  const combine = (first: number, count: number): number => {
    if (count <= PAIRWISE_BLOCK) return first / PAIRWISE_BLOCK;
    const half = Math.ceil(count / 2 / PAIRWISE_BLOCK) * PAIRWISE_BLOCK;
    const lo = combine(first, half);
    const hi = combine(first + half, count - half);
    for (let o = 0; o < width; o++) sums[lo * width + o]! += sums[hi * width + o]!;
    return lo;
  };
  const total = combine(0, rows);
  // storing into out rounds each float64 sum to the dtype once
  out.set(sums.subarray(total * width, (total + 1) * width));
  return out;
}

/** Creates a Wasm backend (the kernel module is compiled on first use). */
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend {
  let minElements = options.minElements ?? 2048;
  let minMatmulWork = options.minMatmulWork ?? 4096;
  let elementwiseDTypes: readonly FloatDType[] = options.elementwiseDTypes ?? ["float32"];
  const elementwiseInWasm = (d: DType) => (elementwiseDTypes as readonly DType[]).includes(d);
  // Kernels by the declared vector form (primitives without one run in JS).
  const binaryOps = new Set<VectorOp | undefined>(WASM_BINARY_OPS);
  const unaryOps = new Set<VectorOp | undefined>(WASM_UNARY_OPS);
  const mathOps = new Set<VectorOp | undefined>(MATH_OPS satisfies readonly (MathOp & VectorOp)[]);

  const backend: WasmBackend = {
    ...jsBackend,
    name: "wasm",

    configure(o) {
      minElements = o.minElements ?? minElements;
      minMatmulWork = o.minMatmulWork ?? minMatmulWork;
      elementwiseDTypes = o.elementwiseDTypes ?? elementwiseDTypes;
    },

    options: () => ({ minElements, minMatmulWork, elementwiseDTypes }),

    unary(op, x, dtype) {
      // exp/log/sin/cos run in Wasm for both float dtypes: the vectorised
      // math costs far less than JS Math, the copies included.
      const v = op.vector;
      if (mathOps.has(v) && x.length >= minElements && floatStorage(x, dtype)) {
        const rt = tryRuntime();
        if (rt !== undefined) {
          resetArena(rt);
          const xp = copyIn(rt, dtype, x);
          const out = alloc(rt, x.byteLength);
          // whole vectors: the tail reads and writes the slack after each block
          rt.kernels[`math_${v}_${dtype}`]!(xp, out, Math.ceil(x.byteLength / 16));
          return copyOut(rt, dtype, out, x.length);
        }
      }
      if (
        !unaryOps.has(v) ||
        x.length < minElements ||
        !elementwiseInWasm(dtype) ||
        !floatStorage(x, dtype)
      )
        return jsBackend.unary(op, x, dtype);
      const rt = tryRuntime();
      if (rt === undefined) return jsBackend.unary(op, x, dtype);
      resetArena(rt);
      const xp = copyIn(rt, dtype, x);
      const out = alloc(rt, x.length * x.BYTES_PER_ELEMENT);
      rt.kernels[`unary_${v}_${dtype}`]!(xp, out, x.length);
      return copyOut(rt, dtype, out, x.length);
    },

    binary(op, a, b, dtype) {
      if (
        !binaryOps.has(op.vector) ||
        a.length < minElements ||
        !elementwiseInWasm(dtype) ||
        !floatStorage(a, dtype) ||
        !floatStorage(b, dtype) ||
        a.length !== b.length
      )
        return jsBackend.binary(op, a, b, dtype);
      const rt = tryRuntime();
      if (rt === undefined) return jsBackend.binary(op, a, b, dtype);
      resetArena(rt);
      const ap = copyIn(rt, dtype, a);
      const bp = copyIn(rt, dtype, b);
      const out = alloc(rt, a.length * a.BYTES_PER_ELEMENT);
      rt.kernels[`binary_${op.vector}_${dtype}`]!(ap, bp, out, a.length);
      return copyOut(rt, dtype, out, a.length);
    },

    stridedGather(x, outShape, strides, offset, dtype) {
      const size = outShape.reduce((p, q) => p * q, 1);
      if (size < minElements || size === 0 || outShape.length === 0 || !storedAs(x, dtype))
        return jsBackend.stridedGather(x, outShape, strides, offset, dtype);
      const rt = tryRuntime();
      if (rt === undefined) return jsBackend.stridedGather(x, outShape, strides, offset, dtype);
      resetArena(rt);
      const src = copyBytesIn(rt, x);
      const out = allocate(dtype, size);
      const dst = alloc(rt, out.byteLength);
      const [shapePtr, stridesPtr, idxPtr] = odometerArgs(rt, outShape, strides);
      rt.kernels[`gather_${x.BYTES_PER_ELEMENT}`]!(
        src,
        dst,
        shapePtr,
        stridesPtr,
        outShape.length,
        offset,
        idxPtr,
      );
      return copyBytesOut(rt, dst, out);
    },

    stridedScatterAdd(x, shape, outSize, strides, offset, dtype, into) {
      if (
        x.length < minElements ||
        x.length === 0 ||
        shape.length === 0 ||
        dtype === "bool" ||
        !storedAs(x, dtype) ||
        (into !== undefined && !storedAs(into, dtype))
      )
        return jsBackend.stridedScatterAdd(x, shape, outSize, strides, offset, dtype, into);
      const rt = tryRuntime();
      if (rt === undefined)
        return jsBackend.stridedScatterAdd(x, shape, outSize, strides, offset, dtype, into);
      const out = into ?? allocate(dtype, outSize);
      scatterAdd(rt, x, shape, strides, offset, dtype, out);
      return out;
    },

    reduce(op, x, shape, axes, dtype) {
      // A float sum over the leading axes (not all of them) in Wasm, as the
      // JS reference sums it (see leadingAxesSum).
      const leading = axes.length < shape.length && axes.every((a) => a < axes.length);
      if (op === "sum" && leading && x.length >= minElements && floatStorage(x, dtype)) {
        const rt = tryRuntime();
        if (rt !== undefined) return leadingAxesSum(rt, x, shape, axes.length, dtype);
      }
      if (
        op !== "sum" ||
        x.length < minElements ||
        x.length === 0 ||
        shape.length === 0 ||
        dtype === "bool" ||
        // Float sums are pairwise in float64 (pairwiseSum.ts); the scatter-add kernel
        // below adds in the storage dtype, exact only for integers (wrap-around).
        dtype === "float32" ||
        dtype === "float64" ||
        !storedAs(x, dtype)
      )
        return jsBackend.reduce(op, x, shape, axes, dtype);
      const rt = tryRuntime();
      if (rt === undefined) return jsBackend.reduce(op, x, shape, axes, dtype);
      // sum = scatter-add into the output with stride 0 along the reduced axes.
      const kept = shape.filter((_, d) => !axes.includes(d));
      const outStrides: number[] = new Array<number>(shape.length).fill(0);
      let stride = 1;
      for (let d = shape.length - 1; d >= 0; d--) {
        if (axes.includes(d)) continue;
        outStrides[d] = stride;
        stride *= shape[d]!;
      }
      const out = allocate(
        dtype,
        kept.reduce((p, q) => p * q, 1),
      );
      scatterAdd(rt, x, shape, outStrides, 0, dtype, out);
      return out;
    },

    matmul(a, b, batch, m, k, n, dtype, transposeA = false, transposeB = false) {
      if (
        m * k * n < minMatmulWork ||
        k === 0 ||
        !floatStorage(a, dtype) ||
        !floatStorage(b, dtype)
      )
        return jsBackend.matmul(a, b, batch, m, k, n, dtype, transposeA, transposeB);
      const rt = tryRuntime();
      if (rt === undefined)
        return jsBackend.matmul(a, b, batch, m, k, n, dtype, transposeA, transposeB);
      const out = allocate(dtype, batch * m * n);
      for (let p = 0; p < batch; p++) {
        const ap = a.subarray(p * m * k, (p + 1) * m * k);
        const bp = b.subarray(p * k * n, (p + 1) * k * n);
        matmulOne(rt, dtype, ap, bp, m, k, n, transposeA, transposeB, out, p * m * n);
      }
      return out;
    },

    matmulInArena(a, b, m, k, n, dtype, transposeA, transposeB) {
      const rt = tryRuntime();
      const kept =
        rt !== undefined &&
        m * k * n >= minMatmulWork &&
        floatStorage(a, dtype) &&
        floatStorage(b, dtype) &&
        // C's rows are then exactly n elements apart
        n % ((MATMUL_TILE[dtype].nv * 16) / dtypeOps(dtype).bytes) === 0;
      if (kept) {
        try {
          return matmulOne(rt, dtype, a, b, m, k, n, transposeA, transposeB, null, 0);
        } catch (e) {
          if (!(e instanceof ArenaFullError)) throw e;
        }
      }
      return guarded.matmul(a, b, 1, m, k, n, dtype, transposeA, transposeB);
    },
  };
  // matmulInArena's fallback is the guarded matmul (JS where the arena is full)
  const guarded = withArenaFallback(backend);
  return guarded;
}

/**
 * Wraps every kernel so that a call whose working set does not fit the Wasm
 * memory runs in the JS reference instead.
 */
function withArenaFallback(backend: WasmBackend): WasmBackend {
  const guarded = { ...backend };
  for (const key of KERNELS) {
    const wasmKernel = backend[key].bind(backend) as (...args: unknown[]) => TypedArray;
    const jsKernel = jsBackend[key].bind(jsBackend) as (...args: unknown[]) => TypedArray;
    (guarded as Record<string, unknown>)[key] = (...args: unknown[]): TypedArray => {
      try {
        return wasmKernel(...args);
      } catch (e) {
        if (e instanceof ArenaFullError) return jsKernel(...args);
        throw e;
      }
    };
  }
  return guarded;
}

const KERNELS = [
  "unary",
  "binary",
  "stridedGather",
  "stridedScatterAdd",
  "reduce",
  "matmul",
] as const satisfies readonly (keyof Backend)[];

/** The Wasm backend with default thresholds, as registered under the name "wasm". */
export const wasmBackend: WasmBackend = createWasmBackend();
