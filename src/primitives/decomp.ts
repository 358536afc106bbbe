/**
 * Matrix decompositions as multi-output primitives, on stacks of matrices
 * [..., m, n] natively (the kernels loop over the leading dimensions; a vmap
 * axis moves to the front and joins them):
 *
 *   eigh  symmetric eigendecomposition [w ascending, V] by Householder
 *         tridiagonalisation and implicit QR steps with Wilkinson shifts,
 *   qr    [Q, R] by Householder reflections (reduced or complete),
 *   svd   [U, s descending, Vt] by one-sided (Hestenes) Jacobi,
 *   eigvals  [re, im] of real non-symmetric matrices by Hessenberg
 *         reduction and Francis double-shift QR (first derivative only,
 *         through eigBasis: eigenvectors by inverse iteration, values only).
 *
 * The kernels compute in float64 and round to the input's dtype. Each JVP
 * rule is written with the primitive's own outputs (so it differentiates
 * again: second order), as products with the tangent, which makes it linear
 * in the tangent; reverse mode transposes those products. The maths of each
 * rule is above it.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { DTypeError, InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { type BatchDim, type Tangent, defineMultiPrimitive } from "../core/primitive.js";
import { shapeSize } from "../core/shape.js";
import { bindAll } from "../core/trace.js";
import { add, div, mul, select, sub } from "./elementwise.js";
import {
  checkSquare,
  matmul,
  matmulT,
  stackedConstant,
  swapLast,
  triangularSolve,
} from "./linalg.js";
import { batchSize, batchToFront, broadcastInDim, reduceSum } from "./movement.js";

// ----------------------------------------------------------- shared pieces --

/** Checks a stack of float matrices [..., m, n] (rank >= 2). */
function checkMatrices(fn: string, a: Aval): void {
  if (a.shape.length < 2) {
    throw new ShapeError(
      `${fn}: expected a matrix [m, n] or a stack of them [..., m, n], got shape ` +
        `${fmtShape(a.shape)}`,
    );
  }
  if (a.dtype !== "float64" && a.dtype !== "float32") {
    throw new DTypeError(
      `${fn}: expected a float matrix (float64 or float32), got dtype ${a.dtype} for shape ` +
        `${fmtShape(a.shape)}; convert it with astype("float64")`,
    );
  }
}

/** v [..., k] broadcast along rows to [..., r, k]: entry [i, j] = v[j]. */
function alongRows(v: Array, rows: number): Array {
  const nb = v.shape.length - 1;
  const shape = [...v.shape.slice(0, nb), rows, v.shape[nb]!];
  const dims = [...v.shape.slice(0, nb).map((_, i) => i), nb + 1];
  return broadcastInDim(v, shape, dims);
}

/** v [..., r] broadcast along columns to [..., r, k]: entry [i, j] = v[i]. */
function alongCols(v: Array, cols: number): Array {
  const nb = v.shape.length - 1;
  const shape = [...v.shape.slice(0, nb), v.shape[nb]!, cols];
  const dims = [...v.shape.slice(0, nb).map((_, i) => i), nb];
  return broadcastInDim(v, shape, dims);
}

/** The diagonals of a stack of square matrices [..., n, n] -> [..., n]. */
function diagPart(x: Array): Array {
  const eye = stackedConstant(x.shape, x.dtype, (i, j) => (i === j ? 1 : 0));
  return reduceSum(mul(x, eye), [x.shape.length - 1]);
}

/**
 * F with F[i, j] = 1 / (d[..., i, j]) off the diagonal and 0 on it, for a
 * stack of square matrices of differences d. The diagonal is replaced by 1
 * before dividing, so its (unused) reciprocal is finite and derivatives of
 * F stay finite there.
 */
function offDiagonalReciprocal(d: Array): Array {
  const onDiag = stackedConstant(d.shape, "bool", (i, j) => (i === j ? 1 : 0));
  const ones = ConcreteArray.full(d.shape, d.dtype, 1);
  const zeros = ConcreteArray.zeros(d.shape, d.dtype);
  return select(onDiag, zeros, div(ones, select(onDiag, ones, d)));
}

/** x + x^T over the last two axes. */
function plusTranspose(x: Array): Array {
  return add(x, swapLast(x));
}

/** Batch rule of a one-operand decomposition: the vmap axis joins the stack at the front. */
function frontBatch<P>(apply: (a: Array, params: P) => Array[]) {
  return (args: readonly Array[], dims: readonly BatchDim[], params: P): [Array[], BatchDim[]] => {
    const a = batchToFront(args[0]!, dims[0] ?? null, batchSize(args, dims));
    const outs = apply(a, params);
    return [outs, outs.map(() => 0)];
  };
}

/** The float64 copy of matrix number `m` of a stack [..., r, c] (row-major). */
function matrixAt(a: ConcreteArray, m: number, size: number): Float64Array {
  const out = new Float64Array(size);
  const buf = a.buffer;
  const o = m * size;
  for (let i = 0; i < size; i++) out[i] = buf[o + i]!;
  return out;
}

/** Whether every entry is finite (NaN or inf input makes NaN output, as in NumPy/JAX). */
function allFinite(x: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false;
  return true;
}
const nans = (size: number): Float64Array => new Float64Array(size).fill(Number.NaN);

/**
 * Makes the columns of `cols` (column-major, m rows) that `valid` marks
 * false orthonormal to the valid ones and to each other: each takes the
 * first unit vector e_i whose component orthogonal to the accepted columns
 * is large (Gram–Schmidt, applied twice for accuracy).
 */
function completeBasis(cols: Float64Array, m: number, count: number, valid: boolean[]): void {
  const v = new Float64Array(m);
  for (let j = 0; j < count; j++) {
    if (valid[j]) continue;
    for (let e = 0; e < m; e++) {
      v.fill(0);
      v[e] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let q = 0; q < count; q++) {
          if (!valid[q]) continue;
          let dot = 0;
          for (let i = 0; i < m; i++) dot += cols[q * m + i]! * v[i]!;
          for (let i = 0; i < m; i++) v[i]! -= dot * cols[q * m + i]!;
        }
      }
      let norm = 0;
      for (let i = 0; i < m; i++) norm += v[i]! * v[i]!;
      norm = Math.sqrt(norm);
      if (norm > 0.5) {
        for (let i = 0; i < m; i++) cols[j * m + i] = v[i]! / norm;
        valid[j] = true;
        break;
      }
    }
  }
}

/**
 * The sign that makes the largest-magnitude entry of column j of `cols`
 * (column-major, `rows` rows) positive (the first such entry on ties): the
 * decompositions fix their vectors' signs this way, so that results are a
 * deterministic (and locally continuous) function of the input.
 */
function columnSign(cols: Float64Array, rows: number, j: number): number {
  let best = 0;
  for (let i = 0; i < rows; i++) {
    const x = cols[j * rows + i]!;
    if (Math.abs(x) > Math.abs(best)) best = x;
  }
  return best < 0 ? -1 : 1;
}

/** sqrt(x^2 + y^2): directly where that cannot overflow or underflow (Math.hypot is slow). */
function hypot(x: number, y: number): number {
  const m = Math.max(Math.abs(x), Math.abs(y));
  return m < 1e150 && m > 1e-150 ? Math.sqrt(x * x + y * y) : Math.hypot(x, y);
}

// -------------------------------------------------------------------- eigh --

/**
 * Householder tridiagonalisation of the symmetric n x n matrix `a`
 * (row-major, overwritten): a = Q T Q^T. Returns T's diagonal d and
 * subdiagonal e (e[i] = T[i + 1, i]) and Q^T (row-major, so that Q's
 * columns are contiguous rows). Step k reflects a[k+1.., k] onto its first
 * entry with P = I - 2 v v^T / (v^T v) and updates the trailing block as
 * the symmetric rank-2 correction P A P = A - v q^T - q v^T, with
 * p = 2 A v / (v^T v) and q = p - (v^T p / v^T v) v.
 */
function tridiagonalize(
  a: Float64Array,
  n: number,
): { d: Float64Array; e: Float64Array; qt: Float64Array } {
  const qt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) qt[i * n + i] = 1;
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    let below = 0;
    for (let i = k + 2; i < n; i++) below += a[i * n + k]! ** 2;
    if (below === 0) continue;
    const x0 = a[(k + 1) * n + k]!;
    const norm = Math.sqrt(x0 * x0 + below);
    const alpha = x0 >= 0 ? -norm : norm;
    v[k + 1] = x0 - alpha;
    for (let i = k + 2; i < n; i++) v[i] = a[i * n + k]!;
    const vv = v[k + 1]! ** 2 + below;
    let vp = 0;
    for (let i = k + 1; i < n; i++) {
      let s = 0;
      for (let j = k + 1; j < n; j++) s += a[i * n + j]! * v[j]!;
      p[i] = (2 * s) / vv;
      vp += v[i]! * p[i]!;
    }
    const kq = vp / vv;
    for (let i = k + 1; i < n; i++) p[i]! -= kq * v[i]!; // p now holds q
    for (let i = k + 1; i < n; i++) {
      for (let j = k + 1; j < n; j++) a[i * n + j]! -= v[i]! * p[j]! + p[i]! * v[j]!;
    }
    a[(k + 1) * n + k] = alpha;
    a[k * n + k + 1] = alpha;
    for (let i = k + 2; i < n; i++) {
      a[i * n + k] = 0;
      a[k * n + i] = 0;
    }
    // Q^T <- P Q^T (rows k+1..)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = k + 1; i < n; i++) s += v[i]! * qt[i * n + j]!;
      const f = (2 * s) / vv;
      for (let i = k + 1; i < n; i++) qt[i * n + j]! -= f * v[i]!;
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  for (let i = 0; i < n; i++) d[i] = a[i * n + i]!;
  for (let i = 0; i < n - 1; i++) e[i] = a[(i + 1) * n + i]!;
  return { d, e, qt };
}

/**
 * Eigenvalues (ascending) and eigenvectors (columns, row-major n x n) of the
 * symmetric n x n matrix `a` (overwritten): tridiagonalisation, then
 * implicit symmetric QR steps with Wilkinson shifts on the unreduced block
 * [l, h] of T, deflating where a subdiagonal entry is negligible against
 * its neighbours on the diagonal. Each step chases the bulge down with
 * rotations R = [[c, -s], [s, c]] (T <- R^T T R) and accumulates them into
 * Q's columns. Each eigenvector is signed so that its largest entry is
 * positive.
 */
function symmetricEigen(a: Float64Array, n: number): { w: Float64Array; v: Float64Array } {
  const { d, e, qt } = tridiagonalize(a, n);
  const eps = 2.220446049250313e-16;
  const negligible = (k: number) =>
    Math.abs(e[k]!) <= eps * (Math.abs(d[k]!) + Math.abs(d[k + 1]!)) || Math.abs(e[k]!) < 1e-300;
  let h = n - 1;
  let steps = 0;
  while (h > 0) {
    if (negligible(h - 1)) {
      e[h - 1] = 0;
      h--;
      continue;
    }
    let l = h - 1;
    while (l > 0 && !negligible(l - 1)) l--;
    if (++steps > 60 * n) {
      throw new InvalidArgumentError(
        `np.linalg.eigh: the QR iteration did not converge for a ${n} x ${n} matrix; check ` +
          `the input for NaN or inf`,
      );
    }
    // Wilkinson shift: the eigenvalue of the trailing 2 x 2 block nearer d[h].
    const dd = (d[h - 1]! - d[h]!) / 2;
    const ee = e[h - 1]!;
    const mu = d[h]! - (ee * ee) / (dd + (dd >= 0 ? 1 : -1) * hypot(dd, ee));
    let x = d[l]! - mu;
    let z = e[l]!;
    for (let k = l; k < h; k++) {
      const r = hypot(x, z);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : z / r;
      if (k > l) e[k - 1] = r;
      const dk = d[k]!;
      const dk1 = d[k + 1]!;
      const f = e[k]!;
      d[k] = c * c * dk + 2 * c * s * f + s * s * dk1;
      d[k + 1] = s * s * dk - 2 * c * s * f + c * c * dk1;
      e[k] = c * s * (dk1 - dk) + (c * c - s * s) * f;
      if (k < h - 1) {
        z = s * e[k + 1]!; // the bulge at (k + 2, k)
        e[k + 1] = c * e[k + 1]!;
        x = e[k]!;
      }
      // Q <- Q R: rows k, k + 1 of Q^T
      const ko = k * n;
      const k1o = ko + n;
      for (let j = 0; j < n; j++) {
        const qk = qt[ko + j]!;
        const qk1 = qt[k1o + j]!;
        qt[ko + j] = c * qk + s * qk1;
        qt[k1o + j] = c * qk1 - s * qk;
      }
    }
  }
  const order = globalThis.Array.from({ length: n }, (_, i) => i).sort(
    (i, j) => d[i]! - d[j]! || i - j,
  );
  const w = new Float64Array(n);
  const vs = new Float64Array(n * n);
  order.forEach((src, dst) => {
    w[dst] = d[src]!;
    const sign = columnSign(qt, n, src);
    for (let k = 0; k < n; k++) vs[k * n + dst] = sign * qt[src * n + k]!;
  });
  return { w, v: vs };
}

function eighImpl(a: ConcreteArray): ConcreteArray[] {
  const n = a.shape[a.shape.length - 1]!;
  const count = shapeSize(a.shape.slice(0, -2));
  const w = ConcreteArray.zeros(a.shape.slice(0, -1), a.dtype);
  const v = ConcreteArray.zeros(a.shape, a.dtype);
  for (let m = 0; m < count; m++) {
    const x = matrixAt(a, m, n * n);
    // The symmetric part (A + A^T) / 2 is decomposed, as JAX's symmetrize_input.
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const s = 0.5 * (x[i * n + j]! + x[j * n + i]!);
        x[i * n + j] = s;
        x[j * n + i] = s;
      }
    }
    const r = allFinite(x) ? symmetricEigen(x, n) : { w: nans(n), v: nans(n * n) };
    w.buffer.set(r.w, m * n);
    v.buffer.set(r.v, m * n * n);
  }
  return [w, v];
}

const eighPrim = defineMultiPrimitive<Record<string, never>>({
  name: "eigh",
  multipleResults: true,
  linear: false,
  abstractEval([a]) {
    checkSquare("np.linalg.eigh", a!);
    return [
      { shape: a!.shape.slice(0, -1), dtype: a!.dtype },
      { shape: a!.shape, dtype: a!.dtype },
    ];
  },
  impl: ([a]) => eighImpl(a!),
  // A = V diag(w) V^T (A symmetric). With M = V^T dA V (dA symmetrised):
  //   dw = diag(M),   dV = V (F ∘ M),   F[i, j] = 1 / (w[j] - w[i]) (i != j), 0 on the diagonal.
  // Repeated eigenvalues make F infinite: dV is then inf/NaN (as in JAX);
  // dw stays finite.
  jvp([a], [da], [w, v]): Tangent[] {
    if (da === null) return [null, null];
    const n = a!.shape[a!.shape.length - 1]!;
    const sym = mul(plusTranspose(da!), ConcreteArray.full(a!.shape, a!.dtype, 0.5));
    const m = matmulT(v!, matmul(sym, v!), true, false);
    const f = offDiagonalReciprocal(sub(alongRows(w!, n), alongCols(w!, n)));
    return [diagPart(m), matmul(v!, mul(f, m))];
  },
  batch: frontBatch((a) => eigh(a)),
});

/** [w ascending, V] with A V = V diag(w), for a stack of symmetric matrices. */
export function eigh(a: Array): [Array, Array] {
  const [w, v] = bindAll(eighPrim, [a], {});
  return [w!, v!];
}

// ---------------------------------------------------------------------- qr --

interface QrParams {
  complete: boolean;
}

/**
 * Householder QR of the m x n matrix `r` (row-major, overwritten by R):
 * returns the full m x m Q. Column j's reflector H = I - 2 v v^T maps the
 * part of column j on and below the diagonal to (alpha, 0, ..., 0) with
 * alpha = -sign(x0) |x| (no cancellation in v0 = x0 - alpha); a column
 * already zero below the diagonal is left as it is (H = I, as LAPACK).
 */
function householderQr(r: Float64Array, m: number, n: number): Float64Array {
  const q = new Float64Array(m * m);
  for (let i = 0; i < m; i++) q[i * m + i] = 1;
  const v = new Float64Array(m);
  const steps = Math.min(m - 1, n);
  for (let j = 0; j < steps; j++) {
    let below = 0;
    for (let i = j + 1; i < m; i++) below += r[i * n + j]! ** 2;
    if (below === 0) continue;
    const x0 = r[j * n + j]!;
    const norm = Math.sqrt(x0 * x0 + below);
    const alpha = x0 >= 0 ? -norm : norm;
    v[j] = x0 - alpha;
    for (let i = j + 1; i < m; i++) v[i] = r[i * n + j]!;
    const vnorm = Math.sqrt(v[j]! * v[j]! + below);
    for (let i = j; i < m; i++) v[i]! /= vnorm;
    // R <- H R on rows j.., columns j..
    for (let c = j; c < n; c++) {
      let dot = 0;
      for (let i = j; i < m; i++) dot += v[i]! * r[i * n + c]!;
      for (let i = j; i < m; i++) r[i * n + c]! -= 2 * dot * v[i]!;
    }
    for (let i = j + 1; i < m; i++) r[i * n + j] = 0;
    // Q <- Q H on columns j..
    for (let row = 0; row < m; row++) {
      let dot = 0;
      for (let i = j; i < m; i++) dot += q[row * m + i]! * v[i]!;
      for (let i = j; i < m; i++) q[row * m + i]! -= 2 * dot * v[i]!;
    }
  }
  return q;
}

function qrShapes(shape: readonly number[], complete: boolean): [number[], number[]] {
  const m = shape[shape.length - 2]!;
  const n = shape[shape.length - 1]!;
  const batch = shape.slice(0, -2);
  const k = complete ? m : Math.min(m, n);
  return [
    [...batch, m, k],
    [...batch, k, n],
  ];
}

function qrImpl(a: ConcreteArray, complete: boolean): ConcreteArray[] {
  const m = a.shape[a.shape.length - 2]!;
  const n = a.shape[a.shape.length - 1]!;
  const [qShape, rShape] = qrShapes(a.shape, complete);
  const k = qShape[qShape.length - 1]!;
  const count = shapeSize(a.shape.slice(0, -2));
  const qOut = ConcreteArray.zeros(qShape, a.dtype);
  const rOut = ConcreteArray.zeros(rShape, a.dtype);
  for (let b = 0; b < count; b++) {
    const r = matrixAt(a, b, m * n);
    const q = householderQr(r, m, n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < k; j++) qOut.buffer[b * m * k + i * k + j] = q[i * m + j]!;
    for (let i = 0; i < k; i++)
      for (let j = 0; j < n; j++) rOut.buffer[b * k * n + i * n + j] = r[i * n + j]!;
  }
  return [qOut, rOut];
}

const qrPrim = defineMultiPrimitive<QrParams>({
  name: "qr",
  multipleResults: true,
  linear: false,
  abstractEval([a], { complete }) {
    checkMatrices("np.linalg.qr", a!);
    const [q, r] = qrShapes(a!.shape, complete);
    return [
      { shape: q, dtype: a!.dtype },
      { shape: r, dtype: a!.dtype },
    ];
  },
  impl: ([a], { complete }) => qrImpl(a!, complete),
  // A = Q R with m >= n, Q [m, n] orthonormal columns, R [n, n] upper
  // triangular. With C = Q^T dA R^-1: Q^T dQ = X is antisymmetric and
  // dR R^-1 = C - X is upper triangular, so X's strict lower triangle is
  // C's:  X = tril(C, -1) - tril(C, -1)^T. Then
  //   dR = (C - X) R,   dQ = Q (X - C) + dA R^-1
  // (the last two terms are dQ's part outside span(Q), (I - Q Q^T) dA R^-1).
  // R must be invertible (A of full column rank).
  jvp([a], [da], [q, r], { complete }): Tangent[] {
    if (da === null) return [null, null];
    const m = a!.shape[a!.shape.length - 2]!;
    const n = a!.shape[a!.shape.length - 1]!;
    if (m < n || (complete && m !== n)) {
      throw new InvalidArgumentError(
        `np.linalg.qr: the derivative is implemented for matrices with at least as many rows ` +
          `as columns (mode "reduced", or "complete" when square); got shape ` +
          `${fmtShape(a!.shape)} with mode "${complete ? "complete" : "reduced"}` +
          `${m < n ? "; differentiate the QR of the transpose instead" : ""}`,
      );
    }
    // dA R^-1 = (R^-T dA^T)^T, R^T lower triangular.
    const daRinv = swapLast(triangularSolve(swapLast(r!), swapLast(da!), true));
    const c = matmulT(q!, daRinv, true, false);
    const strictLower = stackedConstant(c.shape, c.dtype, (i, j) => (j < i ? 1 : 0));
    const low = mul(c, strictLower);
    const x = sub(low, swapLast(low));
    return [add(matmul(q!, sub(x, c)), daRinv), matmul(sub(c, x), r!)];
  },
  batch: frontBatch((a, p: QrParams) => qrAll(a, p.complete)),
});

function qrAll(a: Array, complete: boolean): Array[] {
  return bindAll(qrPrim, [a], complete ? QR_COMPLETE : QR_REDUCED);
}
const QR_COMPLETE: QrParams = { complete: true };
const QR_REDUCED: QrParams = { complete: false };

/**
 * [Q, R] with A = Q R for a stack [..., m, n]: reduced (Q [..., m, k],
 * R [..., k, n], k = min(m, n)) or complete (Q [..., m, m], R [..., m, n]).
 */
export function qr(a: Array, complete: boolean): [Array, Array] {
  const [q, r] = qrAll(a, complete);
  return [q!, r!];
}

// --------------------------------------------------------------------- svd --

/** From this many columns on, the SVD's Jacobi sweeps start from eigh(A^T A)'s vectors. */
const PRECONDITION_MIN = 8;

interface SvdParams {
  fullMatrices: boolean;
}

/**
 * SVD of the m x n matrix `a` (row-major) with m >= n by one-sided Jacobi:
 * rotations of column pairs of W = A V until all columns are orthogonal
 * (|w_p . w_q| <= eps |w_p| |w_q|); then s_j = |w_j|, u_j = w_j / s_j.
 * Each v_j is signed so that its largest entry is positive.
 * Returns U (m x m when `full`, else m x n; column-major), s descending
 * and V (n x n, column-major).
 */
function jacobiSvdTall(
  a: Float64Array,
  m: number,
  n: number,
  full: boolean,
): { u: Float64Array; s: Float64Array; v: Float64Array; uCols: number } {
  let w = new Float64Array(m * n); // column-major
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) w[j * m + i] = a[i * n + j]!;
  const v = new Float64Array(n * n);
  if (n >= PRECONDITION_MIN) {
    // Preconditioning: V0 from eigh(A^T A) makes the columns of A V0 nearly
    // orthogonal, so the sweeps below (which alone decide accuracy: they
    // orthogonalise A V with V orthogonal to working precision) converge in
    // one or two sweeps instead of about eight.
    const g = new Float64Array(n * n);
    for (let p = 0; p < n; p++) {
      for (let q = p; q < n; q++) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += w[p * m + i]! * w[q * m + i]!;
        g[p * n + q] = dot;
        g[q * n + p] = dot;
      }
    }
    const v0 = symmetricEigen(g, n).v; // row-major, eigenvectors in columns
    const w0 = new Float64Array(m * n);
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < n; k++) {
        const f = v0[k * n + j]!;
        if (f === 0) continue;
        for (let i = 0; i < m; i++) w0[j * m + i]! += f * w[k * m + i]!;
      }
      for (let i = 0; i < n; i++) v[j * n + i] = v0[i * n + j]!;
    }
    w = w0;
  } else {
    for (let i = 0; i < n; i++) v[i * n + i] = 1;
  }
  const eps = 2.3e-16;
  // Squared column norms, recomputed each sweep and updated by each rotation
  // (|w_p'|^2 = |w_p|^2 - t gamma, |w_q'|^2 = |w_q|^2 + t gamma).
  const sq = new Float64Array(n);
  for (let sweep = 0; sweep < 80; sweep++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += w[j * m + i]! ** 2;
      sq[j] = s;
    }
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const alpha = sq[p]!;
        const beta = sq[q]!;
        let gamma = 0;
        const po = p * m;
        const qo = q * m;
        for (let i = 0; i < m; i++) gamma += w[po + i]! * w[qo + i]!;
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        // The rotation that makes columns p and q orthogonal: t = tan(phi)
        // is the smaller root of t^2 + 2 zeta t - 1 = 0.
        const zeta = (beta - alpha) / (2 * gamma);
        const t =
          Math.abs(zeta) > 1e150
            ? 1 / (2 * zeta)
            : Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const x = w[po + i]!;
          const y = w[qo + i]!;
          w[po + i] = c * x - s * y;
          w[qo + i] = s * x + c * y;
        }
        const pv = p * n;
        const qv = q * n;
        for (let i = 0; i < n; i++) {
          const x = v[pv + i]!;
          const y = v[qv + i]!;
          v[pv + i] = c * x - s * y;
          v[qv + i] = s * x + c * y;
        }
        sq[p] = Math.max(alpha - t * gamma, 0);
        sq[q] = beta + t * gamma;
      }
    }
    if (!rotated) break;
  }
  const norms = globalThis.Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let i = 0; i < m; i++) s += w[j * m + i]! ** 2;
    return Math.sqrt(s);
  });
  const order = norms.map((_, j) => j).sort((i, j) => norms[j]! - norms[i]! || i - j);
  const uCols = full ? m : n;
  const u = new Float64Array(m * uCols);
  const s = new Float64Array(n);
  const vs = new Float64Array(n * n);
  const valid = new globalThis.Array<boolean>(uCols).fill(false);
  order.forEach((src, dst) => {
    const sigma = norms[src]!;
    s[dst] = sigma;
    // Sign: v's largest entry positive (u follows, u = A v / sigma).
    const sign = columnSign(v, n, src);
    for (let i = 0; i < n; i++) vs[dst * n + i] = sign * v[src * n + i]!;
    if (sigma > 0) {
      for (let i = 0; i < m; i++) u[dst * m + i] = (sign * w[src * m + i]!) / sigma;
      valid[dst] = true;
    }
  });
  completeBasis(u, m, uCols, valid);
  return { u, s, v: vs, uCols };
}

function svdShapes(shape: readonly number[], full: boolean): [number[], number[], number[]] {
  const m = shape[shape.length - 2]!;
  const n = shape[shape.length - 1]!;
  const batch = shape.slice(0, -2);
  const k = Math.min(m, n);
  return [
    [...batch, m, full ? m : k],
    [...batch, k],
    [...batch, full ? n : k, n],
  ];
}

function svdImpl(a: ConcreteArray, full: boolean): ConcreteArray[] {
  const m = a.shape[a.shape.length - 2]!;
  const n = a.shape[a.shape.length - 1]!;
  const [uShape, sShape, vtShape] = svdShapes(a.shape, full);
  const ku = uShape[uShape.length - 1]!;
  const kv = vtShape[vtShape.length - 2]!;
  const k = Math.min(m, n);
  const count = shapeSize(a.shape.slice(0, -2));
  const uOut = ConcreteArray.zeros(uShape, a.dtype);
  const sOut = ConcreteArray.zeros(sShape, a.dtype);
  const vtOut = ConcreteArray.zeros(vtShape, a.dtype);
  for (let b = 0; b < count; b++) {
    const x = matrixAt(a, b, m * n);
    if (m >= n) {
      const r = jacobiSvdTall(x, m, n, full);
      // U [m, ku] from column-major u; Vt[i, j] = V[j, i] = v column i.
      for (let i = 0; i < m; i++)
        for (let j = 0; j < ku; j++) uOut.buffer[b * m * ku + i * ku + j] = r.u[j * m + i]!;
      for (let i = 0; i < kv; i++)
        for (let j = 0; j < n; j++) vtOut.buffer[b * kv * n + i * n + j] = r.v[i * n + j]!;
      sOut.buffer.set(r.s, b * k);
    } else {
      // A^T = U' S V'^T (tall), so A = V' S U'^T: U = V', Vt = U'^T.
      const xt = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) xt[j * m + i] = x[i * n + j]!;
      const r = jacobiSvdTall(xt, n, m, full);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < ku; j++) uOut.buffer[b * m * ku + i * ku + j] = r.v[j * m + i]!;
      for (let i = 0; i < kv; i++)
        for (let j = 0; j < n; j++) vtOut.buffer[b * kv * n + i * n + j] = r.u[i * n + j]!;
      sOut.buffer.set(r.s, b * k);
    }
  }
  return [uOut, sOut, vtOut];
}

const svdPrim = defineMultiPrimitive<SvdParams>({
  name: "svd",
  multipleResults: true,
  linear: false,
  abstractEval([a], { fullMatrices }) {
    checkMatrices("np.linalg.svd", a!);
    return svdShapes(a!.shape, fullMatrices).map((shape) => ({ shape, dtype: a!.dtype }));
  },
  impl: ([a], { fullMatrices }) => svdImpl(a!, fullMatrices),
  // A = U S V^T (reduced, k = min(m, n)). With P = U^T dA V (k x k):
  //   ds = diag(P)
  //   U^T dU = F ∘ (P S + S P^T),  V^T dV = F ∘ (S P + P^T S),
  //   F[i, j] = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it;
  // and the parts outside the spans (only when the matrix is not square):
  //   m > n: dU += (I - U U^T) dA V S^-1,   n > m: dV += (I - V V^T) dA^T U S^-1.
  // Repeated singular values make F infinite and a zero singular value of a
  // non-square matrix makes S^-1 infinite: dU, dV are then inf/NaN (as in
  // JAX); ds stays finite.
  jvp([a], [da], [u, s, vt], { fullMatrices }): Tangent[] {
    if (da === null) return [null, null, null];
    const m = a!.shape[a!.shape.length - 2]!;
    const n = a!.shape[a!.shape.length - 1]!;
    if (fullMatrices && m !== n) {
      throw new InvalidArgumentError(
        `np.linalg.svd: the derivative with fullMatrices: true is only defined for square ` +
          `matrices (the completed singular vectors are not unique), got shape ` +
          `${fmtShape(a!.shape)}; pass { fullMatrices: false }`,
      );
    }
    const k = Math.min(m, n);
    const p = matmul(matmulT(u!, da!, true, false), swapLast(vt!)); // U^T dA V
    const sRow = alongRows(s!, k); // [i, j] = s_j
    const sCol = alongCols(s!, k); // [i, j] = s_i
    const f = offDiagonalReciprocal(sub(mul(sRow, sRow), mul(sCol, sCol)));
    let du = matmul(u!, mul(f, plusTranspose(mul(p, sRow))));
    let dv = matmul(swapLast(vt!), mul(f, plusTranspose(mul(sCol, p))));
    if (m > n) {
      const dav = matmulT(da!, vt!, false, true); // dA V [m, k]
      const outside = sub(dav, matmul(u!, p));
      du = add(du, div(outside, alongRows(s!, m)));
    } else if (n > m) {
      const dau = matmulT(da!, u!, true, false); // dA^T U [n, k]
      const outside = sub(dau, matmulT(vt!, p, true, true));
      dv = add(dv, div(outside, alongRows(s!, n)));
    }
    return [du, diagPart(p), swapLast(dv)];
  },
  batch: frontBatch((a, p: SvdParams) => svdAll(a, p.fullMatrices)),
});

const SVD_FULL: SvdParams = { fullMatrices: true };
const SVD_REDUCED: SvdParams = { fullMatrices: false };
function svdAll(a: Array, fullMatrices: boolean): Array[] {
  return bindAll(svdPrim, [a], fullMatrices ? SVD_FULL : SVD_REDUCED);
}

/**
 * [U, s, Vt] with A = U diag(s) Vt for a stack [..., m, n], s descending.
 * Reduced: U [..., m, k], Vt [..., k, n] (k = min(m, n)); full: U [..., m, m],
 * Vt [..., n, n].
 */
export function svd(a: Array, fullMatrices: boolean): [Array, Array, Array] {
  const [u, s, vt] = svdAll(a, fullMatrices);
  return [u!, s!, vt!];
}

// ----------------------------------------------------------------- eigvals --

/** Householder reduction of the n x n matrix `h` (row-major, in place) to upper Hessenberg form. */
function toHessenberg(h: Float64Array, n: number): void {
  const v = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    let below = 0;
    for (let i = k + 2; i < n; i++) below += h[i * n + k]! ** 2;
    if (below === 0) continue;
    const x0 = h[(k + 1) * n + k]!;
    const norm = Math.sqrt(x0 * x0 + below);
    const alpha = x0 >= 0 ? -norm : norm;
    v[k + 1] = x0 - alpha;
    for (let i = k + 2; i < n; i++) v[i] = h[i * n + k]!;
    const vv = v[k + 1]! ** 2 + below;
    // H <- P H P with P = I - 2 v v^T / (v^T v) acting on indices k+1..n-1.
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k + 1; i < n; i++) dot += v[i]! * h[i * n + j]!;
      const f = (2 * dot) / vv;
      for (let i = k + 1; i < n; i++) h[i * n + j]! -= f * v[i]!;
    }
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let j = k + 1; j < n; j++) dot += h[i * n + j]! * v[j]!;
      const f = (2 * dot) / vv;
      for (let j = k + 1; j < n; j++) h[i * n + j]! -= f * v[j]!;
    }
    for (let i = k + 2; i < n; i++) h[i * n + k] = 0;
  }
}

/**
 * Applies the reflector I - 2 v v^T / (v^T v) (v of length `len`, 2 or 3,
 * starting at index k) to rows k.. of columns c0..c1 and to columns k.. of
 * rows r0..r1 of h.
 */
function reflect(
  h: Float64Array,
  n: number,
  v: number[],
  k: number,
  c0: number,
  c1: number,
  r0: number,
  r1: number,
): void {
  const len = v.length;
  let vv = 0;
  for (const x of v) vv += x * x;
  if (vv === 0) return;
  for (let j = c0; j <= c1; j++) {
    let dot = 0;
    for (let t = 0; t < len; t++) dot += v[t]! * h[(k + t) * n + j]!;
    const f = (2 * dot) / vv;
    for (let t = 0; t < len; t++) h[(k + t) * n + j]! -= f * v[t]!;
  }
  for (let i = r0; i <= r1; i++) {
    let dot = 0;
    for (let t = 0; t < len; t++) dot += h[i * n + k + t]! * v[t]!;
    const f = (2 * dot) / vv;
    for (let t = 0; t < len; t++) h[i * n + k + t]! -= f * v[t]!;
  }
}

/** The reflector vector mapping (x, ...) to (alpha, 0, ...): v = x - alpha e_1, alpha = -sign(x_0) |x|. */
function reflectorOf(x: number[]): number[] {
  const norm = Math.hypot(...x);
  if (norm === 0) return x.map(() => 0);
  const alpha = x[0]! >= 0 ? -norm : norm;
  return [x[0]! - alpha, ...x.slice(1)];
}

/**
 * Eigenvalues (real and imaginary parts) of the real n x n matrix `a`
 * (row-major, overwritten): Hessenberg reduction, then Francis double-shift
 * QR steps on the unreduced trailing block, deflating 1 x 1 blocks (real
 * eigenvalues) and 2 x 2 blocks (complex pairs, or two real values) as the
 * subdiagonal becomes negligible. Values only (no Schur vectors).
 */
function francisEigenvalues(h: Float64Array, n: number): { re: Float64Array; im: Float64Array } {
  toHessenberg(h, n);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const H = (i: number, j: number) => h[i * n + j]!;
  const eps = 2.220446049250313e-16;
  let hi = n - 1;
  let iter = 0;
  let totalIter = 0;
  while (hi >= 0) {
    // the start l of the unreduced block ending at hi
    let l = hi;
    while (l > 0) {
      const s = Math.abs(H(l - 1, l - 1)) + Math.abs(H(l, l));
      if (Math.abs(H(l, l - 1)) <= eps * (s === 0 ? 1 : s)) {
        h[l * n + l - 1] = 0;
        break;
      }
      l--;
    }
    if (l === hi) {
      re[hi] = H(hi, hi);
      im[hi] = 0;
      hi -= 1;
      iter = 0;
      continue;
    }
    if (l === hi - 1) {
      // 2 x 2 block [[p, q], [r, s]]: (p + s)/2 ± sqrt(((p - s)/2)^2 + q r)
      const p = H(hi - 1, hi - 1);
      const q = H(hi - 1, hi);
      const r = H(hi, hi - 1);
      const s = H(hi, hi);
      const mean = (p + s) / 2;
      const half = (p - s) / 2;
      const disc = half * half + q * r;
      if (disc >= 0) {
        const root = Math.sqrt(disc);
        // the larger magnitude root without cancellation, the other from the determinant
        const big = mean + (mean >= 0 ? root : -root);
        const small = big === 0 ? 0 : (p * s - q * r) / big;
        re[hi - 1] = Math.min(big, small);
        re[hi] = Math.max(big, small);
        im[hi - 1] = 0;
        im[hi] = 0;
      } else {
        const root = Math.sqrt(-disc);
        re[hi - 1] = mean;
        re[hi] = mean;
        im[hi - 1] = -root;
        im[hi] = root;
      }
      hi -= 2;
      iter = 0;
      continue;
    }
    iter++;
    totalIter++;
    if (totalIter > 100 * n) {
      throw new InvalidArgumentError(
        `np.linalg.eigvals: the QR iteration did not converge for a ${n} x ${n} matrix; ` +
          `check the input for NaN or inf`,
      );
    }
    // Shifts: the eigenvalues of the trailing 2 x 2 block (sum sh, product pr),
    // or an exceptional pair every 10 iterations without deflation.
    let sh: number;
    let pr: number;
    if (iter % 10 === 0) {
      const x = Math.abs(H(hi, hi - 1)) + Math.abs(H(hi - 1, hi - 2));
      sh = 1.5 * x + H(hi, hi);
      pr = x * x;
    } else {
      sh = H(hi - 1, hi - 1) + H(hi, hi);
      pr = H(hi - 1, hi - 1) * H(hi, hi) - H(hi - 1, hi) * H(hi, hi - 1);
    }
    // First column of (H - mu1)(H - mu2) = H^2 - sh H + pr I, restricted to the block.
    const h00 = H(l, l);
    const h10 = H(l + 1, l);
    let x = h00 * h00 + H(l, l + 1) * h10 - sh * h00 + pr;
    let y = h10 * (h00 + H(l + 1, l + 1) - sh);
    let z = h10 * H(l + 2, l + 1);
    for (let k = l; k <= hi - 2; k++) {
      if (k > l) {
        x = H(k, k - 1);
        y = H(k + 1, k - 1);
        z = H(k + 2, k - 1);
      }
      const v = reflectorOf([x, y, z]);
      reflect(h, n, v, k, Math.max(l, k - 1), hi, l, Math.min(k + 3, hi));
      if (k > l) {
        h[(k + 1) * n + k - 1] = 0;
        h[(k + 2) * n + k - 1] = 0;
      }
    }
    const v = reflectorOf([H(hi - 1, hi - 2), H(hi, hi - 2)]);
    reflect(h, n, v, hi - 1, hi - 2, hi, l, hi);
    h[hi * n + hi - 2] = 0;
  }
  return { re, im };
}

function eigvalsImpl(a: ConcreteArray): ConcreteArray[] {
  const n = a.shape[a.shape.length - 1]!;
  const count = shapeSize(a.shape.slice(0, -2));
  const outShape = a.shape.slice(0, -1);
  const re = ConcreteArray.zeros(outShape, a.dtype);
  const im = ConcreteArray.zeros(outShape, a.dtype);
  for (let m = 0; m < count; m++) {
    const x = matrixAt(a, m, n * n);
    const r = allFinite(x) ? francisEigenvalues(x, n) : { re: nans(n), im: nans(n) };
    // sorted by real part, then imaginary part (a conjugate pair: -im first)
    const order = globalThis.Array.from({ length: n }, (_, i) => i).sort(
      (i, j) => r.re[i]! - r.re[j]! || r.im[i]! - r.im[j]!,
    );
    order.forEach((src, dst) => {
      re.buffer[m * n + dst] = r.re[src]!;
      im.buffer[m * n + dst] = r.im[src]!;
    });
  }
  return [re, im];
}

/**
 * Solves the dense real system m x = rhs (m k x k row-major, rhs k x c
 * row-major) by LU with partial pivoting; a zero pivot is replaced by a
 * tiny one (the callers solve nearly singular systems on purpose).
 */
function denseSolve(m: Float64Array, k: number, rhs: Float64Array, c: number): Float64Array {
  const a = Float64Array.from(m);
  const x = Float64Array.from(rhs);
  let scale = 0;
  for (let i = 0; i < k * k; i++) scale = Math.max(scale, Math.abs(a[i]!));
  const tiny = (scale || 1) * 1e-300;
  for (let col = 0; col < k; col++) {
    let p = col;
    for (let i = col + 1; i < k; i++)
      if (Math.abs(a[i * k + col]!) > Math.abs(a[p * k + col]!)) p = i;
    if (p !== col) {
      for (let j = 0; j < k; j++) [a[col * k + j], a[p * k + j]] = [a[p * k + j]!, a[col * k + j]!];
      for (let j = 0; j < c; j++) [x[col * c + j], x[p * c + j]] = [x[p * c + j]!, x[col * c + j]!];
    }
    if (a[col * k + col] === 0) a[col * k + col] = tiny;
    const pivot = a[col * k + col]!;
    for (let i = col + 1; i < k; i++) {
      const f = a[i * k + col]! / pivot;
      if (f === 0) continue;
      for (let j = col; j < k; j++) a[i * k + j]! -= f * a[col * k + j]!;
      for (let j = 0; j < c; j++) x[i * c + j]! -= f * x[col * c + j]!;
    }
  }
  for (let i = k - 1; i >= 0; i--) {
    for (let j = 0; j < c; j++) {
      let sum = x[i * c + j]!;
      for (let t = i + 1; t < k; t++) sum -= a[i * k + t]! * x[t * c + j]!;
      x[i * c + j] = sum / a[i * k + i]!;
    }
  }
  return x;
}

/**
 * Right eigenvectors V (unit columns) of the real n x n matrix `a` for the
 * given eigenvalues re + i im, and W = V^-1, as real and imaginary parts
 * [Vr, Vi, Wr, Wi] (row-major). Each vector by three steps of inverse
 * iteration with the complex shift written as the real 2n x 2n system
 * [[A - re I, im I], [-im I, A - re I]] [xr; xi] = [br; bi] (the shift moved
 * off the eigenvalue by a relative 1e-10 so that the system is solvable),
 * then scaled to unit norm with its largest entry real and positive;
 * W from the real form of V, [[Vr, -Vi], [Vi, Vr]] [Wr; Wi] = [I; 0].
 */
function eigenBasis(
  a: Float64Array,
  n: number,
  re: ArrayLike<number>,
  im: ArrayLike<number>,
): Float64Array[] {
  const vr = new Float64Array(n * n);
  const vi = new Float64Array(n * n);
  let norm = 0;
  for (let i = 0; i < n * n; i++) norm = Math.max(norm, Math.abs(a[i]!));
  const big = new Float64Array(4 * n * n);
  const k = 2 * n;
  for (let e = 0; e < n; e++) {
    const shiftRe = re[e]! + 1e-10 * (norm || 1);
    const shiftIm = im[e]!;
    big.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = a[i * n + j]! - (i === j ? shiftRe : 0);
        big[i * k + j] = v;
        big[(n + i) * k + n + j] = v;
      }
      big[i * k + n + i] = shiftIm;
      big[(n + i) * k + i] = -shiftIm;
    }
    let x: Float64Array = new Float64Array(k).fill(1);
    for (let it = 0; it < 3; it++) {
      x = denseSolve(big, k, x, 1);
      let s = 0;
      for (let i = 0; i < k; i++) s += x[i]! * x[i]!;
      s = Math.sqrt(s);
      for (let i = 0; i < k; i++) x[i]! /= s;
    }
    // Phase: the largest-magnitude entry real and positive (real vectors for
    // real eigenvalues, as LAPACK), unit 2-norm (x already is).
    let best = 0;
    for (let i = 1; i < n; i++) {
      if (x[i]! ** 2 + x[n + i]! ** 2 > x[best]! ** 2 + x[n + best]! ** 2) best = i;
    }
    const mag = Math.hypot(x[best]!, x[n + best]!) || 1;
    const [cr, ci] = [x[best]! / mag, -x[n + best]! / mag]; // conj(phase)
    for (let i = 0; i < n; i++) {
      vr[i * n + e] = x[i]! * cr - x[n + i]! * ci;
      vi[i * n + e] = x[i]! * ci + x[n + i]! * cr;
    }
    vi[best * n + e] = 0;
  }
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const [r, c] = [i % n, j % n];
      const sameHalf = i < n === j < n;
      big[i * k + j] = sameHalf ? vr[r * n + c]! : i < n ? -vi[r * n + c]! : vi[r * n + c]!;
    }
  }
  const rhs = new Float64Array(k * n);
  for (let i = 0; i < n; i++) rhs[i * n + i] = 1;
  const w = denseSolve(big, k, rhs, n);
  return [vr, vi, w.subarray(0, n * n), w.subarray(n * n)];
}

/** The message of the refused derivative of eigvals' eigenvector basis (second order). */
export const EIG_BASIS_NOT_DIFFERENTIABLE =
  "np.linalg.eigvals: only the first derivative of the eigenvalues of non-symmetric matrices " +
  "is implemented (their eigenvectors, which it uses, have no derivative rule here); for " +
  "symmetric matrices use np.linalg.eigvalsh or eigh, differentiable to any order";

const eigBasisPrim = defineMultiPrimitive<Record<string, never>>({
  name: "eigBasis",
  multipleResults: true,
  linear: false,
  abstractEval([a, re, im]) {
    checkSquare("np.linalg.eigvals", a!);
    const batch = a!.shape.slice(0, -2);
    const n = a!.shape[a!.shape.length - 1]!;
    for (const v of [re!, im!]) {
      if (v.shape.length !== batch.length + 1 || v.shape[batch.length] !== n) {
        throw new ShapeError(
          `eigBasis: eigenvalues of shape ${fmtShape(v.shape)} do not match the matrices ` +
            `${fmtShape(a!.shape)}`,
        );
      }
    }
    return globalThis.Array.from({ length: 4 }, () => ({ shape: a!.shape, dtype: a!.dtype }));
  },
  impl([a, re, im]) {
    const n = a!.shape[a!.shape.length - 1]!;
    const count = shapeSize(a!.shape.slice(0, -2));
    const outs = globalThis.Array.from({ length: 4 }, () =>
      ConcreteArray.zeros(a!.shape, a!.dtype),
    );
    for (let m = 0; m < count; m++) {
      const parts = eigenBasis(
        matrixAt(a!, m, n * n),
        n,
        re!.buffer.subarray(m * n, m * n + n),
        im!.buffer.subarray(m * n, m * n + n),
      );
      parts.forEach((part, i) => outs[i]!.buffer.set(part, m * n * n));
    }
    return outs;
  },
  jvp([a], tangents): Tangent[] {
    if (tangents.every((t) => t === null)) return [null, null, null, null];
    throw new InvalidArgumentError(`${EIG_BASIS_NOT_DIFFERENTIABLE} (shape ${fmtShape(a!.shape)})`);
  },
  batch(args, dims) {
    const size = batchSize(args, dims);
    const front = args.map((x, i) => batchToFront(x, dims[i] ?? null, size));
    const outs = eigBasis(front[0]!, front[1]!, front[2]!);
    return [outs, outs.map(() => 0)];
  },
});

/** [Vr, Vi, Wr, Wi]: right eigenvectors V = Vr + i Vi of a stack for its eigenvalues, W = V^-1. */
export function eigBasis(a: Array, re: Array, im: Array): Array[] {
  return bindAll(eigBasisPrim, [a, re, im], {});
}

const eigvalsPrim = defineMultiPrimitive<Record<string, never>>({
  name: "eigvals",
  multipleResults: true,
  linear: false,
  abstractEval([a]) {
    checkSquare("np.linalg.eigvals", a!);
    const shape = a!.shape.slice(0, -1);
    return [
      { shape, dtype: a!.dtype },
      { shape, dtype: a!.dtype },
    ];
  },
  impl: ([a]) => eigvalsImpl(a!),
  // A V = V diag(λ) with V = Vr + i Vi complex and W = V^-1 (rows: left
  // eigenvectors scaled so that W V = I): dλ = diag(W dA V), that is
  //   dλ_re = diag(Wr dA Vr - Wi dA Vi),   dλ_im = diag(Wr dA Vi + Wi dA Vr).
  // V and W come from eigBasis, which has no derivative: first order only
  // (a second derivative raises its error). Repeated eigenvalues make V
  // singular: W and dλ are then inf/NaN.
  jvp([a], [da], [re, im]): Tangent[] {
    if (da === null) return [null, null];
    const [vr, vi, wr, wi] = eigBasis(a!, re!, im!);
    const part = (w: Array, v: Array) => diagPart(matmul(matmul(w, da!), v));
    return [sub(part(wr!, vr!), part(wi!, vi!)), add(part(wr!, vi!), part(wi!, vr!))];
  },
  batch: frontBatch((a) => eigvals(a)),
});

/**
 * Eigenvalues of a stack of real square matrices as [real parts, imaginary
 * parts], each [..., n], sorted by real part then imaginary part.
 * Differentiable to first order.
 */
export function eigvals(a: Array): [Array, Array] {
  const [re, im] = bindAll(eigvalsPrim, [a], {});
  return [re!, im!];
}
