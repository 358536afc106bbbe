/**
 * The JS reference backend: plain loops over TypedArrays. Correct for every
 * dtype, and the baseline the faster backends are tested against.
 */
import { type DType, type TypedArray, allocate } from "../core/dtype.js";
import { type Shape, shapeSize, stridesOf } from "../core/shape.js";
import type { Backend, ReduceOp } from "./backend.js";
import { elementScalar } from "../core/primitive.js";
import { PAIRWISE_BLOCK, pairwiseSum } from "./pairwiseSum.js";

export const jsBackend: Backend = {
  name: "js",

  unary(op, x, dtype) {
    const n = x.length;
    const out = allocate(dtype, n);
    const f = elementScalar(op, dtype);
    if (n === 1) {
      out[0] = f(x[0]!);
      return out;
    }
    for (let i = 0; i < n; i++) out[i] = f(x[i]!);
    return out;
  },

  binary(op, a, b, dtype) {
    const n = a.length;
    const out = allocate(dtype, n);
    // int32 overrides (wrap-around products) skip the plain loops.
    switch (dtype === "int32" && op.int32 !== undefined ? undefined : op.vector) {
      // The hottest ops get their own loops (no call per element); the
      // others, and those without a vector form, loop over their scalar.
      case "add":
        for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
        return out;
      case "sub":
        for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
        return out;
      case "mul":
        for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
        return out;
      case "div":
        for (let i = 0; i < n; i++) out[i] = a[i]! / b[i]!;
        return out;
      default: {
        const f = elementScalar(op, dtype);
        for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!);
        return out;
      }
    }
  },

  select(pred, onTrue, onFalse, dtype) {
    const n = pred.length;
    const out = allocate(dtype, n);
    for (let i = 0; i < n; i++) out[i] = pred[i] ? onTrue[i]! : onFalse[i]!;
    return out;
  },

  convert(x, dtype) {
    const out = allocate(dtype, x.length);
    if (dtype === "bool") for (let i = 0; i < x.length; i++) out[i] = x[i] ? 1 : 0;
    else if (dtype === "int32") for (let i = 0; i < x.length; i++) out[i] = Math.trunc(x[i]!);
    else out.set(x);
    return out;
  },

  reduce(op, x, shape, axes, dtype) {
    return reduceKernel(op, x, shape, axes, dtype);
  },

  stridedGather(x, outShape, strides, offset, dtype) {
    const size = shapeSize(outShape);
    const out = allocate(dtype, size);
    forEachStrided(outShape, strides, offset, (i, src) => {
      out[i] = x[src]!;
    });
    return out;
  },

  stridedScatterAdd(x, shape, outSize, strides, offset, dtype, into) {
    const out = into ?? allocate(dtype, outSize);
    forEachStrided(shape, strides, offset, (i, dst) => {
      out[dst] = out[dst]! + x[i]!;
    });
    return out;
  },

  matmul(a, b, batch, m, k, n, dtype, transposeA = false, transposeB = false) {
    // A transposed operand is materialised first, so that every layout sums
    // in the same order and gives the same bits.
    if (transposeA) a = transposeBatched(a, batch, k, m, dtype);
    if (transposeB) b = transposeBatched(b, batch, n, k, dtype);
    const out = allocate(dtype, batch * m * n);
    for (let p = 0; p < batch; p++) {
      const ao = p * m * k;
      const bo = p * k * n;
      const oo = p * m * n;
      // i-k-j order: the inner loop walks rows of b and out contiguously.
      for (let i = 0; i < m; i++) {
        for (let kk = 0; kk < k; kk++) {
          const aik = a[ao + i * k + kk]!;
          if (aik === 0) continue;
          const brow = bo + kk * n;
          const orow = oo + i * n;
          if (dtype === "int32") {
            // Wrap-around products, as NumPy's int32: a float64 product of
            // two int32 values can exceed 2^53 and lose the low bits that
            // the Int32Array store keeps (the sum of two int32s is exact).
            for (let j = 0; j < n; j++)
              out[orow + j] = out[orow + j]! + Math.imul(aik, b[brow + j]!);
          } else {
            for (let j = 0; j < n; j++) out[orow + j] = out[orow + j]! + aik * b[brow + j]!;
          }
        }
      }
    }
    return out;
  },

  cumsum(x, shape, axis, reverse, dtype) {
    const out = allocate(dtype, x.length);
    const strides = stridesOf(shape);
    const len = shape[axis]!;
    const stride = strides[axis]!;
    const outer = shapeSize(shape.slice(0, axis));
    const inner = stride;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * len * stride + j;
        let acc = 0;
        for (let t = 0; t < len; t++) {
          const idx = base + (reverse ? len - 1 - t : t) * stride;
          acc += x[idx]!;
          out[idx] = acc;
        }
      }
    }
    return out;
  },
};

/**
 * Calls visit(i, src) for each row-major position i of `shape`, where
 * src = offset + sum_d index_d * strides[d] (an odometer over the indices).
 */
function forEachStrided(
  shape: Shape,
  strides: readonly number[],
  offset: number,
  visit: (i: number, src: number) => void,
): void {
  const ndim = shape.length;
  const size = shapeSize(shape);
  if (size === 0) return;
  if (ndim === 0) {
    visit(0, offset);
    return;
  }
  const idx = new Int32Array(ndim);
  let src = offset;
  const last = ndim - 1;
  const lastLen = shape[last]!;
  const lastStride = strides[last]!;
  for (let i = 0; i < size;) {
    for (let j = 0; j < lastLen; j++, i++) visit(i, src + j * lastStride);
    // carry into the higher dimensions
    let d = last - 1;
    while (d >= 0) {
      idx[d]!++;
      src += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      src -= idx[d]! * strides[d]!;
      idx[d] = 0;
      d--;
    }
  }
}

function reduceKernel(
  op: ReduceOp,
  x: TypedArray,
  shape: Shape,
  axes: readonly number[],
  dtype: DType,
): TypedArray {
  const outShape = shape.filter((_, d) => !axes.includes(d));
  const outSize = shapeSize(outShape);
  const outStridesCompact = stridesOf(outShape);
  // Stride in the output for each input dimension (0 along reduced axes).
  const strides: number[] = [];
  let k = 0;
  for (let d = 0; d < shape.length; d++) {
    if (axes.includes(d)) strides.push(0);
    else strides.push(outStridesCompact[k++]!);
  }
  // Position along the reduced axes (for argmax/argmin): row-major over reduced dims.
  const redShape = axes.map((a) => shape[a]!);
  const redStridesCompact = stridesOf(redShape);
  const redStrides = shape.map((_, d) => {
    const j = axes.indexOf(d);
    return j < 0 ? 0 : redStridesCompact[j]!;
  });
  const out = allocate(dtype, outSize);
  if (op === "sum") {
    sumRows(x, shape, axes, strides, redStrides, shapeSize(redShape), out);
    return out;
  }
  const best = new Float64Array(outSize).fill(
    op === "max" || op === "argmax" ? -Infinity : Infinity,
  );
  const seen = new Uint8Array(outSize);
  const wantMax = op === "max" || op === "argmax";
  const arg = op === "argmax" || op === "argmin";
  const pos = arg ? new Float64Array(x.length) : undefined;
  if (pos !== undefined) forEachStrided(shape, redStrides, 0, (i, p) => (pos[i] = p));
  forEachStrided(shape, strides, 0, (i, o) => {
    const v = x[i]!;
    const b = best[o]!;
    // NaN wins (propagates), as in NumPy; otherwise the first extreme is kept.
    const better =
      seen[o] === 0 || (!Number.isNaN(b) && (Number.isNaN(v) || (wantMax ? v > b : v < b)));
    if (better) {
      best[o] = v;
      seen[o] = 1;
      out[o] = arg ? pos![i]! : v;
    }
  });
  return out;
}

/**
 * out[o] = the sum over the reduced axes, pairwise in float64 (see
 * pairwiseSum.ts) and rounded to out's dtype once. When the reduced axes are
 * the trailing ones each output's terms are a contiguous row of x; otherwise
 * they are first gathered into rows (input position i goes to
 * o * redSize + p, p its row-major position along the reduced axes).
 */
function sumRows(
  x: TypedArray,
  shape: Shape,
  axes: readonly number[],
  outStrides: readonly number[],
  redStrides: readonly number[],
  redSize: number,
  out: TypedArray,
): void {
  if (out.length === 0 || redSize === 0) return;
  // Trailing reduced axes: the terms of out[o] are the contiguous row o of x.
  const trailing = axes.every((a) => a >= shape.length - axes.length);
  if (!trailing && axes.every((a) => a < axes.length)) {
    // Leading reduced axes: the terms of out[o] are x[r * out.length + o], so
    // whole rows are added at once.
    const sums = pairwiseRowSum(x, 0, redSize, out.length);
    for (let o = 0; o < out.length; o++) out[o] = sums[o]!;
    return;
  }
  let rows: TypedArray = x;
  if (!trailing) {
    rows = new Float64Array(out.length * redSize);
    const gatherStrides = shape.map((_, d) => outStrides[d]! * redSize + redStrides[d]!);
    forEachStrided(shape, gatherStrides, 0, (i, g) => (rows[g] = x[i]!));
  }
  for (let o = 0; o < out.length; o++) out[o] = pairwiseSum(rows, o * redSize, redSize);
}

/**
 * The column sums of rows first..first+count-1 of x viewed as [rows, width],
 * pairwise over the rows (the same tree as pairwiseSum, row by row, so each
 * step is a contiguous loop over a row).
 */
function pairwiseRowSum(x: TypedArray, first: number, count: number, width: number): Float64Array {
  if (count <= PAIRWISE_BLOCK) {
    const acc = new Float64Array(width);
    for (let r = first; r < first + count; r++) {
      const base = r * width;
      for (let o = 0; o < width; o++) acc[o]! += x[base + o]!;
    }
    return acc;
  }
  const half = Math.ceil(count / 2 / PAIRWISE_BLOCK) * PAIRWISE_BLOCK;
  const lo = pairwiseRowSum(x, first, half, width);
  const hi = pairwiseRowSum(x, first + half, count - half, width);
  for (let o = 0; o < width; o++) lo[o]! += hi[o]!;
  return lo;
}

/** x stored [batch, rows, cols] -> its transpose [batch, cols, rows] (a fresh array). */
function transposeBatched(
  x: TypedArray,
  batch: number,
  rows: number,
  cols: number,
  dtype: DType,
): TypedArray {
  const out = allocate(dtype, batch * rows * cols);
  for (let p = 0; p < batch; p++) {
    const base = p * rows * cols;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) out[base + c * rows + r] = x[base + r * cols + c]!;
  }
  return out;
}
