/**
 * `np.linalg`: differentiable linear algebra (float64 and float32; integer
 * input is converted to float64 as in NumPy). Every function takes stacks
 * of matrices [..., m, n] natively, as NumPy and JAX do: the leading
 * dimensions are batch dimensions (broadcast against each other where two
 * operands meet). Decompositions are multi-output primitives
 * (src/primitives/decomp.ts); norm, pinv, lstsq, matrixPower, expm, cond
 * and matrixRank are compositions of differentiable operations.
 *
 * @module
 */
import { type Array, type ArrayLike, ConcreteArray } from "../core/array.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { broadcastShapes, normalizeAxis } from "../core/shape.js";
import * as dc from "../primitives/decomp.js";
import * as ew from "../primitives/elementwise.js";
import * as la from "../primitives/linalg.js";
import * as mv from "../primitives/movement.js";
import * as rd from "../primitives/reduce.js";
import { customJvp } from "../transforms/customJvp.js";
import { sequenceOf } from "./arrays.js";
import { arr, asFloat, binary, broadcastTo, promotePair } from "./core.js";

// ------------------------------------------------------------- plumbing --

/** a as a float stack of matrices [..., m, n] (rank >= 2). */
function matrices(fn: string, a: ArrayLike, arg = "a"): Array {
  const m = asFloat(arr(a, `linalg.${fn}`, arg));
  if (m.ndim < 2) {
    throw new ShapeError(
      `np.linalg.${fn}: expected a matrix [m, n] or a stack of matrices [..., m, n], got ` +
        `shape ${fmtShape(m.shape)}; a vector needs a reshape to [1, n] or [n, 1]`,
    );
  }
  return m;
}

/** a as a float stack of square matrices [..., n, n]. */
function square(fn: string, a: ArrayLike): Array {
  const m = matrices(fn, a);
  if (m.shape[m.ndim - 1] !== m.shape[m.ndim - 2]) {
    throw new ShapeError(
      `np.linalg.${fn}: expected a square matrix [n, n] or a stack of them [..., n, n], got ` +
        `shape ${fmtShape(m.shape)}`,
    );
  }
  return m;
}

const last = (x: Array, k = 1): number => x.shape[x.ndim - k]!;

/** The identity broadcast to the shape of the square stack a. */
function eyeLike(a: Array): Array {
  return la.stackedConstant(a.shape, a.dtype, (i, j) => (i === j ? 1 : 0));
}

/** Batched matrix product with NumPy broadcasting of the leading dimensions. */
function mm(a: Array, b: Array, transposeA = false, transposeB = false): Array {
  const batch = broadcastShapes("np.linalg", a.shape.slice(0, -2), b.shape.slice(0, -2));
  const ba = broadcastTo(a, [...batch, ...a.shape.slice(-2)]);
  const bb = broadcastTo(b, [...batch, ...b.shape.slice(-2)]);
  return la.matmulT(ba, bb, transposeA, transposeB);
}

const mul = (a: ArrayLike, b: ArrayLike): Array => binary("multiply", ew.mul, a, b);
const div = (a: ArrayLike, b: ArrayLike): Array => binary("divide", ew.div, a, b);
const sub = (a: ArrayLike, b: ArrayLike): Array => binary("subtract", ew.sub, a, b);
const addB = (a: ArrayLike, b: ArrayLike): Array => binary("add", ew.add, a, b);
const where = (c: Array, x: ArrayLike, y: ArrayLike): Array => {
  const [a, b] = promotePair(x, y, "where");
  const shape = broadcastShapes("np.where", broadcastShapes("np.where", c.shape, a.shape), b.shape);
  return ew.select(broadcastTo(c, shape), broadcastTo(a, shape), broadcastTo(b, shape));
};
const full = (like: Array, v: number): Array => ConcreteArray.full([], like.dtype, v);

/** Right-hand sides as a stack [..., n, k], and how to shape the solution back. */
function rhs(
  fn: string,
  a: Array,
  b: ArrayLike,
): { a: Array; b: Array; back: (x: Array) => Array } {
  const v = asFloat(arr(b, `linalg.${fn}`, "b"));
  const dt = v.dtype === a.dtype ? a.dtype : "float64";
  const am = a.dtype === dt ? a : ew.convert(a, dt);
  const bv = v.dtype === dt ? v : ew.convert(v, dt);
  const n = last(a);
  const batchA = a.shape.slice(0, -2);
  // As NumPy 2 and JAX: b is one vector [n] when 1-d, else a stack of matrices [..., n, k].
  if (bv.ndim === 1 && bv.shape[0] === n) {
    const col = mv.reshape(bv, [n, 1]);
    return {
      a: am,
      b: broadcastTo(col, [...batchA, n, 1]),
      back: (x) => mv.reshape(x, x.shape.slice(0, -1)),
    };
  }
  if (bv.ndim >= 2 && bv.shape[bv.ndim - 2] === n) {
    const batch = broadcastShapes(`np.linalg.${fn}`, batchA, bv.shape.slice(0, -2));
    return {
      a: broadcastTo(am, [...batch, n, n]),
      b: broadcastTo(bv, [...batch, n, last(bv)]),
      back: (x) => x,
    };
  }
  throw new ShapeError(
    `np.linalg.${fn}: b must be a vector [${n}] or a stack of matrices [..., ${n}, k] to match ` +
      `a of shape ${fmtShape(a.shape)}, got shape ${fmtShape(bv.shape)}`,
  );
}

// --------------------------------------------------- solve, inv, det, ... --

/**
 * x with a x = b for a stack of square matrices a [..., n, n]; b is one
 * vector [n] or a stack of matrices [..., n, k] (leading dimensions
 * broadcast as in NumPy 2: a 1-d b is a vector, anything else is matrices).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const x = np.linalg.solve([[2, 0], [0, 4]], [2, 2]); // [1, 0.5]
 * ```
 */
export function solve(a: ArrayLike, b: ArrayLike): Array {
  const r = rhs("solve", square("solve", a), b);
  return r.back(la.solve(r.a, r.b));
}

/**
 * Inverses of a stack of square matrices [..., n, n].
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const ai = np.linalg.inv([[2, 0], [0, 4]]); // [[0.5, 0], [0, 0.25]]
 * ```
 */
export function inv(a: ArrayLike): Array {
  const m = square("inv", a);
  return la.solve(m, eyeLike(m));
}

/**
 * Determinants of a stack of square matrices [..., n, n] -> [...].
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const d = np.linalg.det([[1, 2], [3, 4]]); // -2
 * ```
 */
export function det(a: ArrayLike): Array {
  return la.det(square("det", a));
}

/**
 * [sign, log|det|] of a stack of square matrices: the determinant without
 * overflow. The sign has derivative 0; log|det| has d = tr(A^-1 dA).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const [sign, logAbsDet] = np.linalg.slogdet([[1, 2], [3, 4]]); // -1, log 2
 * ```
 */
export function slogdet(a: ArrayLike): [Array, Array] {
  const m = square("slogdet", a);
  return [la.detSign(m), la.logAbsDet(m)];
}

/**
 * Lower-triangular L with L L^T = a, for a stack of symmetric positive
 * definite matrices (the symmetric part of a is factorised); with
 * `upper: true` the upper-triangular U = L^T with U^T U = a (as JAX).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const l = np.linalg.cholesky([[4, 2], [2, 2]]); // [[2, 0], [1, 1]]
 * const u = np.linalg.cholesky([[4, 2], [2, 2]], { upper: true }); // [[2, 1], [0, 1]]
 * ```
 */
export function cholesky(a: ArrayLike, opts: { upper?: boolean } = {}): Array {
  const l = la.cholesky(square("cholesky", a));
  return opts.upper === true ? la.swapLast(l) : l;
}

/**
 * x with t x = b, t the lower (default) or upper triangle of each matrix
 * of the stack a; b as in `solve`.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const x = np.linalg.triangularSolve([[2, 0], [1, 1]], [2, 3]); // [1, 2]
 * ```
 */
export function triangularSolve(a: ArrayLike, b: ArrayLike, opts: { lower?: boolean } = {}): Array {
  const r = rhs("triangularSolve", square("triangularSolve", a), b);
  return r.back(la.triangularSolve(r.a, r.b, opts.lower ?? true));
}

// ----------------------------------------------------------------- norm --

/** The order of a norm: a number (±Infinity included), "fro" or "nuc". */
export type NormOrd = number | "fro" | "nuc";

/** Options of `norm`. */
export interface NormOptions {
  /** One axis (vector norm) or two (matrix norm); default: all axes (see `norm`). */
  axis?: number | readonly [number, number] | null;
  /** Keep the reduced axes as size 1. */
  keepdims?: boolean;
}

/**
 * sqrt(s) with derivative 0 where s = 0 (instead of 0 / 0): at a zero
 * vector the 2-norm takes the minimum-norm subgradient, 0, as np.std does.
 */
function safeSqrt(s: Array): Array {
  const zero = ew.eq(s, ConcreteArray.zeros(s.shape, s.dtype));
  return where(zero, 0, ew.sqrt(where(zero, 1, s)));
}

function vectorNormAlong(x: Array, ord: NormOrd, axis: number): Array {
  const ax = [axis];
  const absx = ew.abs(x);
  if (ord === 2) return safeSqrt(mv.reduceSum(ew.mul(x, x), ax));
  if (ord === Infinity) return rd.reduceMax(absx, ax);
  if (ord === -Infinity) return rd.reduceMin(absx, ax);
  if (ord === 1) return mv.reduceSum(absx, ax);
  if (ord === 0) {
    const nz = ew.ne(x, ConcreteArray.zeros(x.shape, x.dtype));
    return mv.reduceSum(ew.convert(nz, x.dtype), ax);
  }
  if (typeof ord !== "number" || Number.isNaN(ord)) {
    throw new InvalidArgumentError(
      `np.linalg.norm: ord ${String(ord)} is not a vector norm; use a number, Infinity or ` +
        `-Infinity for vectors ("fro" and "nuc" need two axes)`,
    );
  }
  // (sum |x|^p)^(1/p); where the sum is 0 the derivative is taken as 0 (p > 1 is then a minimum).
  const s = mv.reduceSum(binary("power", ew.pow, absx, ord), ax);
  const zero = ew.eq(s, ConcreteArray.zeros(s.shape, s.dtype));
  return where(zero, 0, binary("power", ew.pow, where(zero, 1, s), 1 / ord));
}

/** Singular values of the matrices over the last two axes. */
function singularValues(x: Array): Array {
  return dc.svd(x, false)[1];
}

function matrixNormOver(x: Array, ord: NormOrd | null, rowAxis: number, colAxis: number): Array {
  const absx = () => ew.abs(x);
  if (ord === null || ord === "fro")
    return safeSqrt(mv.reduceSum(ew.mul(x, x), [rowAxis, colAxis]));
  // 1 / -1: the largest / smallest column sum of |x|; inf / -inf: row sums.
  if (ord === 1 || ord === -1 || ord === Infinity || ord === -Infinity) {
    const sumAxis = Math.abs(ord) === 1 ? rowAxis : colAxis;
    const otherAxis = Math.abs(ord) === 1 ? colAxis : rowAxis;
    const sums = mv.reduceSum(absx(), [sumAxis]);
    const other = otherAxis > sumAxis ? otherAxis - 1 : otherAxis;
    return ord > 0 ? rd.reduceMax(sums, [other]) : rd.reduceMin(sums, [other]);
  }
  if (ord === 2 || ord === -2 || ord === "nuc") {
    const perm = x.shape.map((_, i) => i).filter((i) => i !== rowAxis && i !== colAxis);
    const s = singularValues(mv.transpose(x, [...perm, rowAxis, colAxis]));
    const ax = [s.ndim - 1];
    if (ord === "nuc") return mv.reduceSum(s, ax);
    return ord === 2 ? rd.reduceMax(s, ax) : rd.reduceMin(s, ax);
  }
  throw new InvalidArgumentError(
    `np.linalg.norm: ord ${String(ord)} is not a matrix norm; use "fro", "nuc", 1, -1, 2, -2, ` +
      `Infinity or -Infinity`,
  );
}

/**
 * Vector or matrix norm, as `jnp.linalg.norm(x, ord, axis, keepdims)`.
 * Without `axis`: a 1-d x takes the vector norm `ord`, a 2-d x the matrix
 * norm `ord`, and with no `ord` any x the 2-norm of all its entries. An
 * integer `axis` takes vector norms along it, a pair of axes matrix norms.
 * Vector `ord`: 2 (default), 1, Infinity, -Infinity, 0 (count of nonzeros)
 * or any other p (sum |x|^p)^(1/p). Matrix `ord`: "fro" (default), "nuc",
 * 1, -1, 2, -2, Infinity, -Infinity (2, -2 and "nuc" from singular values).
 * Derivatives: the 2-norm (and "fro") of a zero vector has derivative 0
 * (a subgradient) rather than NaN; max/min-based norms take the derivative
 * of the selected entry.
 *
 * @example
 * ```ts
 * import { np, grad } from "chainrule";
 * const n = np.linalg.norm([3, 4]); // 5
 * const g = grad((x) => np.linalg.norm(x))(np.array([0, 0])); // [0, 0]
 * const m = np.linalg.norm([[1, 2], [3, 4]], 1); // 6
 * ```
 */
export function norm(x: ArrayLike, ord: NormOrd | null = null, opts: NormOptions = {}): Array {
  const a = asFloat(arr(x, "linalg.norm"));
  const keepdims = opts.keepdims ?? false;
  let axes: number[];
  if (opts.axis === undefined || opts.axis === null) {
    if (ord === null) {
      const all = a.shape.map((_, i) => i);
      const out = safeSqrt(mv.reduceSum(ew.mul(a, a), all));
      return keepdims
        ? mv.reshape(
            out,
            a.shape.map(() => 1),
          )
        : out;
    }
    if (a.ndim !== 1 && a.ndim !== 2) {
      throw new ShapeError(
        `np.linalg.norm: with ord ${String(ord)} and no axis, x must be 1-d or 2-d, got shape ` +
          `${fmtShape(a.shape)}; pass axis (one axis for vector norms, two for matrix norms)`,
      );
    }
    axes = a.shape.map((_, i) => i);
  } else if (typeof opts.axis === "number") {
    axes = [normalizeAxis("np.linalg.norm", opts.axis, a.ndim)];
  } else {
    axes = opts.axis.map((ax) => normalizeAxis("np.linalg.norm", ax, a.ndim));
    if (axes.length !== 2 || axes[0] === axes[1]) {
      throw new ShapeError(
        `np.linalg.norm: axis must be one axis or two different axes, got ` +
          `[${opts.axis.join(", ")}] for shape ${fmtShape(a.shape)}`,
      );
    }
  }
  const out =
    axes.length === 1
      ? vectorNormAlong(a, ord ?? 2, axes[0]!)
      : matrixNormOver(a, ord, axes[0]!, axes[1]!);
  return keepdims
    ? mv.reshape(
        out,
        a.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
      )
    : out;
}

// -------------------------------------------------------- decompositions --

/**
 * Eigenvalues (ascending) and eigenvectors (columns) of a stack of
 * symmetric matrices [..., n, n]: [w [..., n], V [..., n, n]] with
 * a V = V diag(w). As JAX, the symmetric part (a + a^T) / 2 is decomposed.
 * Computed by cyclic Jacobi rotations in float64.
 *
 * Derivatives (forward and reverse, any order): dw = diag(V^T dA V) always;
 * dV = V (F ∘ (V^T dA V)) with F[i, j] = 1 / (w[j] - w[i]), which is
 * infinite for repeated (degenerate) eigenvalues: there the eigenvectors
 * are not unique and dV, and gradients through V, are inf/NaN (as in JAX).
 * Functions of w alone, or invariant under the choice of basis, are fine.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const [w, v] = np.linalg.eigh([[2, 1], [1, 2]]); // w = [1, 3]
 * ```
 */
export function eigh(a: ArrayLike): [Array, Array] {
  return dc.eigh(square("eigh", a));
}

/**
 * Eigenvalues (ascending) of a stack of symmetric matrices; see `eigh`.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const w = np.linalg.eigvalsh([[2, 1], [1, 2]]); // [1, 3]
 * ```
 */
export function eigvalsh(a: ArrayLike): Array {
  return dc.eigh(square("eigvalsh", a))[0];
}

/** Options of `qr`: "reduced" (default), "complete", or "r" (R only). */
export interface QrOptions {
  /**
   * Which factors: "reduced" (default; Q [..., m, k], R [..., k, n] with
   * k = min(m, n)), "complete" (Q [..., m, m], R [..., m, n]) or "r" (the
   * reduced R alone, returned as one Array instead of [Q, R]).
   */
  mode?: "reduced" | "complete" | "r";
}

/**
 * QR decomposition of a stack [..., m, n] by Householder reflections:
 * [Q, R] with a = Q R, Q with orthonormal columns, R upper triangular.
 * mode "reduced": Q [..., m, k], R [..., k, n], k = min(m, n); "complete":
 * Q [..., m, m], R [..., m, n]; "r": R alone (reduced). The signs follow
 * LAPACK (R's diagonal may be negative).
 *
 * Derivative: for m >= n (mode "reduced", or "complete" when square) and R
 * invertible; other shapes raise an error when differentiated (as JAX).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const [q, r] = np.linalg.qr([[3, 1], [4, 2]]); // q r = a
 * ```
 */
export function qr(a: ArrayLike, opts?: { mode?: "reduced" | "complete" }): [Array, Array];
export function qr(a: ArrayLike, opts: { mode: "r" }): Array;
export function qr(a: ArrayLike, opts: QrOptions = {}): [Array, Array] | Array {
  const mode = opts.mode ?? "reduced";
  if (mode !== "reduced" && mode !== "complete" && mode !== "r") {
    throw new InvalidArgumentError(
      `np.linalg.qr: mode must be "reduced", "complete" or "r", got ${String(mode)}`,
    );
  }
  const [q, r] = dc.qr(matrices("qr", a), mode === "complete");
  return mode === "r" ? r : [q, r];
}

/** Options of `svd`. */
export interface SvdOptions {
  /** U [..., m, m] and Vt [..., n, n] (default true, as NumPy) or the reduced k = min(m, n). */
  fullMatrices?: boolean;
  /** Return [U, s, Vt] (default) or only s. */
  computeUv?: boolean;
}

/**
 * Singular value decomposition of a stack [..., m, n]: [U, s, Vt] with
 * a = U diag(s) Vt, s descending (>= 0). One-sided Jacobi in float64
 * (accurate to working precision for small singular values too).
 *
 * Derivatives: s is differentiable wherever the singular values are
 * distinct... and also where they repeat (ds = diag(U^T dA V)). dU and dV
 * involve 1 / (s_j^2 - s_i^2): infinite (inf/NaN) for repeated singular
 * values, and for a non-square matrix also 1 / s_j: infinite for a zero
 * singular value (as in JAX). With fullMatrices and m != n, U or Vt has
 * arbitrary completing columns: differentiating it raises an error; pass
 * fullMatrices: false (or computeUv: false).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const s = np.linalg.svd([[3, 0], [0, -4]], { computeUv: false }); // [4, 3]
 * const [u, s2, vt] = np.linalg.svd([[1, 2], [3, 4], [5, 6]], { fullMatrices: false });
 * ```
 */
export function svd(a: ArrayLike, opts: SvdOptions & { computeUv: false }): Array;
export function svd(a: ArrayLike, opts?: SvdOptions): [Array, Array, Array];
export function svd(a: ArrayLike, opts: SvdOptions = {}): [Array, Array, Array] | Array {
  const m = matrices("svd", a);
  if (opts.computeUv === false) return singularValues(m);
  return dc.svd(m, opts.fullMatrices ?? true);
}

/**
 * Singular values (descending) of a stack [..., m, n]; see `svd`.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const s = np.linalg.svdvals([[3, 0], [0, -4]]); // [4, 3]
 * ```
 */
export function svdvals(a: ArrayLike): Array {
  return singularValues(matrices("svdvals", a));
}

// --------------------------------------------------- built on the above --

/** Machine epsilon of a float dtype. */
function epsOf(x: Array): number {
  return x.dtype === "float32" ? 1.1920929e-7 : 2.220446049250313e-16;
}

/** The largest entry along the last axis, kept as [..., 1]. */
function maxLast(s: Array): Array {
  const m = rd.reduceMax(s, [s.ndim - 1]);
  return mv.reshape(m, [...m.shape, 1]);
}

/** pinv's value: V diag(1/s) U^T from the reduced SVD, singular values <= rtol max(s) dropped. */
function pinvValue(m: Array, rtol: number): Array {
  const [u, s, vt] = dc.svd(m, false);
  const cutoff = mul(maxLast(ew.stopGradient(s)), rtol);
  const keep = binary("greater", ew.gt, s, cutoff);
  const sInv = where(keep, div(1, where(keep, s, 1)), 0);
  // V diag(1/s) U^T = (Vt^T * sInv[j]) U^T
  const scaled = mul(
    mv.reshape(sInv, [...sInv.shape.slice(0, -1), 1, last(sInv)]),
    la.swapLast(vt),
  );
  return mm(scaled, u, false, true);
}

/** The identity [..., k, k] for a stack with leading dimensions like x's. */
function eyeOf(x: Array, k: number): Array {
  return la.stackedConstant([...x.shape.slice(0, -2), k, k], x.dtype, (i, j) => (i === j ? 1 : 0));
}

/**
 * pinv as a function with its own derivative rule (one per cut-off rtol),
 * so that its derivative does not go through the SVD's singular vectors
 * (infinite at repeated singular values, e.g. at orthogonal matrices).
 * For P = A+ and a perturbation that keeps the rank (Golub & Pereyra 1973):
 *   dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P.
 * The rule calls the same function for P, so its second derivative uses
 * this rule again.
 */
const pinvWithRule = new Map<number, (m: Array) => Array>();
function pinvFunction(rtol: number): (m: Array) => Array {
  let f = pinvWithRule.get(rtol);
  if (f === undefined) {
    const g: (m: Array) => Array = customJvp(
      (m: Array) => pinvValue(m, rtol),
      ([m]: Array[], [dm]: Array[]) => {
        const p = g(m!);
        const rows = last(m!, 2);
        const cols = last(m!);
        const pdap = mm(mm(p, dm!), p);
        const ppt = mm(p, p, false, true); // P P^T [n, n]
        const ptp = mm(p, p, true, false); // P^T P [m, m]
        const iAp = sub(eyeOf(m!, rows), mm(m!, p)); // I - A P [m, m]
        const iPa = sub(eyeOf(m!, cols), mm(p, m!)); // I - P A [n, n]
        const second = mm(mm(ppt, dm!, false, true), iAp);
        const third = mm(mm(iPa, dm!, false, true), ptp);
        return [p, addB(sub(second, pdap), third)];
      },
    );
    f = g;
    pinvWithRule.set(rtol, f);
  }
  return f;
}

/**
 * Moore–Penrose pseudo-inverse of a stack [..., m, n] -> [..., n, m] from
 * the reduced SVD: V diag(1/s) U^T, with singular values at most
 * rtol * max(s) treated as zero (rtol defaults to 10 max(m, n) eps, as JAX).
 * Differentiable (any order) where the rank is constant, by its own rule
 * (Golub–Pereyra), so repeated singular values are fine.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const p = np.linalg.pinv([[1, 0], [0, 2], [0, 0]]); // [[1, 0, 0], [0, 0.5, 0]]
 * ```
 */
export function pinv(a: ArrayLike, opts: { rtol?: number } = {}): Array {
  const m = matrices("pinv", a);
  const rtol = opts.rtol ?? 10 * Math.max(last(m), last(m, 2)) * epsOf(m);
  return pinvFunction(rtol)(m);
}

/**
 * Least squares: [x, residuals, rank, s] minimising |a x - b| for a [m, n]
 * and b [m] or [m, k], as NumPy: x = pinv(a) b (the minimum-norm solution),
 * residuals the squared residual norms per column when rank = n < m (else
 * an empty array), rank and the singular values s of a. x and residuals are
 * differentiable (see `pinv`).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const [x] = np.linalg.lstsq([[1, 0], [0, 1], [1, 1]], [1, 1, 2]); // [1, 1]
 * ```
 */
export function lstsq(
  a: ArrayLike,
  b: ArrayLike,
  opts: { rcond?: number } = {},
): [Array, Array, Array, Array] {
  const m = matrices("lstsq", a);
  if (m.ndim !== 2) {
    throw new ShapeError(
      `np.linalg.lstsq: a must be one matrix [m, n], got shape ${fmtShape(m.shape)} ` +
        `(use vmap for stacks)`,
    );
  }
  const bb = asFloat(arr(b, "linalg.lstsq", "b"));
  const rows = m.shape[0]!;
  const cols = m.shape[1]!;
  if ((bb.ndim !== 1 && bb.ndim !== 2) || bb.shape[0] !== rows) {
    throw new ShapeError(
      `np.linalg.lstsq: b must be [${rows}] or [${rows}, k] to match a of shape ` +
        `${fmtShape(m.shape)}, got shape ${fmtShape(bb.shape)}`,
    );
  }
  const bm = bb.ndim === 1 ? mv.reshape(bb, [rows, 1]) : bb;
  const s = singularValues(m);
  const rtol = opts.rcond ?? Math.max(rows, cols) * epsOf(m);
  const rank = matrixRankOf(s, rtol);
  const x = mm(pinv(m, { rtol }), bm.dtype === m.dtype ? bm : ew.convert(bm, m.dtype));
  const rankValue = rank instanceof ConcreteArray ? rank.scalarValue : Number.NaN;
  let residuals: Array;
  if (rankValue === cols && rows > cols) {
    const r = sub(mm(m, x), bm);
    residuals = mv.reduceSum(ew.mul(r, r), [0]);
    if (bb.ndim === 1) residuals = mv.reshape(residuals, [1]);
  } else {
    residuals = ConcreteArray.zeros([0], m.dtype);
  }
  return [bb.ndim === 1 ? mv.reshape(x, [cols]) : x, residuals, rank, s];
}

/** How many singular values exceed rtol * max(s) (int32, per stack entry). */
function matrixRankOf(s: Array, rtol: number): Array {
  const sv = ew.stopGradient(s);
  const cutoff = mul(maxLast(sv), rtol);
  const above = binary("greater", ew.gt, sv, cutoff);
  return mv.reduceSum(ew.convert(above, "int32"), [s.ndim - 1]);
}

/**
 * Rank of each matrix of a stack [..., m, n]: the number of singular
 * values above rtol * max(s), rtol = max(m, n) eps by default (int32; no
 * derivative).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const r = np.linalg.matrixRank([[1, 2], [2, 4]]); // 1
 * ```
 */
export function matrixRank(a: ArrayLike, opts: { rtol?: number } = {}): Array {
  const m = matrices("matrixRank", a);
  return matrixRankOf(singularValues(m), opts.rtol ?? Math.max(last(m), last(m, 2)) * epsOf(m));
}

/**
 * a^n for a stack of square matrices and an integer n (n = 0: identity;
 * n < 0: the inverse to the power -n), by repeated squaring.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const p = np.linalg.matrixPower([[1, 1], [0, 1]], 3); // [[1, 3], [0, 1]]
 * ```
 */
export function matrixPower(a: ArrayLike, n: number): Array {
  const m = square("matrixPower", a);
  if (!Number.isInteger(n)) {
    throw new InvalidArgumentError(
      `np.linalg.matrixPower: the exponent must be an integer, got ${n}; for real powers of ` +
        `a symmetric matrix use eigh`,
    );
  }
  if (n === 0) return eyeLike(m);
  let base = n < 0 ? inv(m) : m;
  let k = Math.abs(n);
  let result: Array | null = null;
  while (k > 0) {
    if (k & 1) result = result === null ? base : la.matmul(result, base);
    k >>= 1;
    if (k > 0) base = la.matmul(base, base);
  }
  return result!;
}

// Padé 13 coefficients b_0..b_13 of exp (Higham 2005) and the norm up to
// which it is accurate to double precision without squaring.
const PADE13 = [
  64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000,
  10559470521600, 670442572800, 33522128640, 1323241920, 40840800, 960960, 16380, 182, 1,
];
const THETA13 = 5.371920351148152;

/** Options of `expm`. */
export interface ExpmOptions {
  /**
   * The most squarings applied under tracing (jit, vmap, derivatives), as
   * JAX's max_squarings: matrices whose 1-norm exceeds 5.37 * 2^maxSquarings
   * give NaN there. Default 16.
   */
  maxSquarings?: number;
}

/**
 * Matrix exponential of a stack of square matrices, by scaling and
 * squaring with the degree-13 Padé approximant (Higham 2005): a is scaled
 * by 2^-s so that its 1-norm is at most 5.37, exp of the scaled matrix is
 * r = (V - U)^-1 (V + U), then squared s times. Differentiable to any order
 * (a composition of matrix products and one solve); s is chosen from the
 * value and has no derivative.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const e = np.linalg.expm([[0, 1], [0, 0]]); // [[1, 1], [0, 1]]
 * ```
 */
export function expm(a: ArrayLike, opts: ExpmOptions = {}): Array {
  const m = square("expm", a);
  const maxSquarings = opts.maxSquarings ?? 16;
  const nd = m.ndim;
  // s = max(0, ceil(log2(|a|_1 / theta13))) per matrix, without derivative.
  const norm1 = rd.reduceMax(mv.reduceSum(ew.abs(ew.stopGradient(m)), [nd - 2]), [nd - 2]);
  const ratio = div(norm1, THETA13);
  const positive = binary("greater", ew.gt, ratio, 1);
  const log2 = div(ew.log(where(positive, ratio, 1)), Math.LN2);
  // ceil(log2), then corrected so that 2^-s |a|_1 <= theta13 holds despite rounding.
  const s0 = where(positive, ew.ceil(log2), 0);
  const scaledNorm = div(ratio, binary("power", ew.pow, full(m, 2), s0));
  const s = where(binary("greater", ew.gt, scaledNorm, 1), addB(s0, 1), s0);
  const scale = binary("power", ew.pow, full(m, 2), ew.neg(s));
  const sMat = mv.reshape(scale, [...scale.shape, 1, 1]);
  const x = mul(m, sMat);
  const eye = eyeLike(m);
  const x2 = la.matmul(x, x);
  const x4 = la.matmul(x2, x2);
  const x6 = la.matmul(x4, x2);
  const b = PADE13;
  const lin = (c6: number, c4: number, c2: number, c0: number): Array =>
    addB(addB(addB(mul(x6, c6), mul(x4, c4)), mul(x2, c2)), mul(eye, c0));
  const u = la.matmul(
    x,
    addB(la.matmul(x6, lin(b[13]!, b[11]!, b[9]!, 0)), lin(b[7]!, b[5]!, b[3]!, b[1]!)),
  );
  const v = addB(la.matmul(x6, lin(b[12]!, b[10]!, b[8]!, 0)), lin(b[6]!, b[4]!, b[2]!, b[0]!));
  let r = la.solve(sub(v, u), addB(v, u));
  // Undo the scaling: r^(2^s). With s known (eager) the loop runs s times;
  // under tracing, maxSquarings guarded squarings, each kept where i < s.
  if (s instanceof ConcreteArray) {
    const most = Math.max(0, ...globalThis.Array.from(s.data()));
    // an infinite (or NaN) entry has no finite exponential to compute
    if (!Number.isFinite(most)) return where(sGreater(s, -1), Number.NaN, r);
    for (let i = 0; i < most; i++) {
      const squared = la.matmul(r, r);
      r = s.size === 1 ? squared : where(sGreater(s, i), squared, r);
    }
    return r;
  }
  for (let i = 0; i < maxSquarings; i++) r = where(sGreater(s, i), la.matmul(r, r), r);
  return where(sGreater(s, maxSquarings), Number.NaN, r);
}

/** s > i per matrix, broadcastable against the stack [..., n, n]. */
function sGreater(s: Array, i: number): Array {
  const g = binary("greater", ew.gt, s, i);
  return mv.reshape(g, [...g.shape, 1, 1]);
}

/**
 * Condition number of a stack of matrices: for p = null or 2, the ratio of
 * the largest to the smallest singular value (-2: smallest to largest);
 * for other p ("fro", "nuc", 1, -1, Infinity, -Infinity; square matrices)
 * norm(a, p) norm(inv(a), p).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const c = np.linalg.cond([[2, 0], [0, 0.5]]); // 4
 * ```
 */
export function cond(a: ArrayLike, p: NormOrd | null = null): Array {
  const m = matrices("cond", a);
  if (p === null || p === 2 || p === -2) {
    const s = singularValues(m);
    const big = rd.reduceMax(s, [s.ndim - 1]);
    const small = rd.reduceMin(s, [s.ndim - 1]);
    return p === -2 ? div(small, big) : div(big, small);
  }
  const sq = square("cond", m);
  const axis = [sq.ndim - 2, sq.ndim - 1] as const;
  return mul(norm(sq, p, { axis }), norm(inv(sq), p, { axis }));
}

/**
 * Eigenvalues of a stack of real (not necessarily symmetric) square
 * matrices [..., n, n]. chainrule has no complex dtype, so the result is
 * [real parts, imaginary parts], each [..., n], sorted by real part and
 * then imaginary part (a conjugate pair appears as re - i im, re + i im).
 * Computed by Hessenberg reduction and Francis double-shift QR steps.
 * Differentiable to first order in both modes: dλ = diag(V^-1 dA V) with
 * the eigenvectors V (inverse iteration); inf/NaN at repeated eigenvalues.
 * A second derivative raises an error (for symmetric matrices use
 * `eigvalsh`, differentiable to any order).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const [re, im] = np.linalg.eigvals([[0, -1], [1, 0]]); // re [0, 0], im [-1, 1]
 * ```
 */
export function eigvals(a: ArrayLike): [Array, Array] {
  return dc.eigvals(square("eigvals", a));
}

/**
 * Vector norms along `axis` (default: all entries as one vector), as the
 * array API's `vector_norm`: `ord` as in `norm` for vectors (2 by default).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const n = np.linalg.vectorNorm([[3, 4], [6, 8]], { axis: 1 }); // [5, 10]
 * ```
 */
export function vectorNorm(
  x: ArrayLike,
  opts: { ord?: number; axis?: number | null; keepdims?: boolean } = {},
): Array {
  const a = asFloat(arr(x, "linalg.vectorNorm"));
  if (opts.axis === undefined || opts.axis === null) {
    const flat = mv.reshape(a, [a.size]);
    const out = norm(flat, opts.ord ?? 2, { axis: 0 });
    return opts.keepdims === true
      ? mv.reshape(
          out,
          a.shape.map(() => 1),
        )
      : out;
  }
  return norm(a, opts.ord ?? 2, { axis: opts.axis, keepdims: opts.keepdims });
}

/**
 * Matrix norms over the last two axes of a stack [..., m, n], as the array
 * API's `matrix_norm`: `ord` as in `norm` for matrices ("fro" by default).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const n = np.linalg.matrixNorm([[[1, 2], [3, 4]], [[0, 0], [0, 2]]], { ord: 1 }); // [6, 2]
 * ```
 */
export function matrixNorm(x: ArrayLike, opts: { ord?: NormOrd; keepdims?: boolean } = {}): Array {
  const a = matrices("matrixNorm", x, "x");
  return norm(a, opts.ord ?? "fro", { axis: [-2, -1], keepdims: opts.keepdims });
}

/**
 * The product of a chain of matrices in the cheapest association order
 * (dynamic programming over the multiplication counts, as NumPy's
 * multi_dot); the first operand may be a vector [n] (a row) and the last a
 * vector [n] (a column), which are dropped from the result's shape.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const p = np.linalg.multiDot([[[1, 2]], [[3], [4]], [[2]]]); // [[22]]
 * ```
 */
export function multiDot(sequence: readonly ArrayLike[] | Array): Array {
  const xs = sequenceOf("linalg.multiDot", sequence);
  if (xs.length < 2) {
    throw new InvalidArgumentError(
      `np.linalg.multiDot: needs at least two arrays, got ${xs.length}`,
    );
  }
  const ms = xs.map((x) => asFloat(arr(x, "linalg.multiDot")));
  const firstVec = ms[0]!.ndim === 1;
  const lastVec = ms[ms.length - 1]!.ndim === 1;
  if (firstVec) ms[0] = mv.reshape(ms[0]!, [1, ms[0]!.shape[0]!]);
  if (lastVec)
    ms[ms.length - 1] = mv.reshape(ms[ms.length - 1]!, [ms[ms.length - 1]!.shape[0]!, 1]);
  ms.forEach((m, i) => {
    if (m.ndim !== 2 || (i > 0 && ms[i - 1]!.shape[1] !== m.shape[0])) {
      throw new ShapeError(
        `np.linalg.multiDot: operand ${i} has shape ${fmtShape(m.shape)}, which does not ` +
          `chain: operands must be matrices (the first and last may be vectors) whose inner ` +
          `dimensions agree (${i > 0 ? `previous operand ${fmtShape(ms[i - 1]!.shape)}` : ""})`,
      );
    }
  });
  const dt = ms.some((m) => m.dtype === "float64") ? "float64" : ms[0]!.dtype;
  const mats = ms.map((m) => (m.dtype === dt ? m : ew.convert(m, dt)));
  // dims[i] x dims[i + 1] is the shape of matrix i; cost[i][j] the cheapest product of i..j.
  const k = mats.length;
  const dims = [...mats.map((m) => m.shape[0]!), mats[k - 1]!.shape[1]!];
  const cost = mats.map(() => new Float64Array(k));
  const split = mats.map(() => new Int32Array(k));
  for (let len = 1; len < k; len++) {
    for (let i = 0; i + len < k; i++) {
      const j = i + len;
      cost[i]![j] = Infinity;
      for (let s = i; s < j; s++) {
        const c = cost[i]![s]! + cost[s + 1]![j]! + dims[i]! * dims[s + 1]! * dims[j + 1]!;
        if (c < cost[i]![j]!) {
          cost[i]![j] = c;
          split[i]![j] = s;
        }
      }
    }
  }
  const product = (i: number, j: number): Array =>
    i === j ? mats[i]! : la.matmul(product(i, split[i]![j]!), product(split[i]![j]! + 1, j));
  let out = product(0, k - 1);
  if (firstVec) out = mv.reshape(out, out.shape.slice(1));
  if (lastVec) out = mv.reshape(out, out.shape.slice(0, -1));
  return out;
}

/**
 * Eigenvalues and right eigenvectors of a stack of real square matrices,
 * as real and imaginary parts (chainrule has no complex dtype):
 * [wRe, wIm, vRe, vIm] with a (vRe + i vIm)[:, k] = (wRe + i wIm)[k]
 * (vRe + i vIm)[:, k]. Eigenvalues as `eigvals` (sorted by real part, then
 * imaginary part); each eigenvector has unit norm and its largest entry
 * real and positive (so real eigenvalues have real eigenvectors). Vectors
 * by inverse iteration. The eigenvalues are differentiable to first order
 * (see `eigvals`); the eigenvectors are values only (differentiating them
 * raises an error).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const [wRe, wIm, vRe, vIm] = np.linalg.eig([[2, 0], [0, 1]]); // wRe [1, 2], vRe [[0, 1], [1, 0]]
 * ```
 */
export function eig(a: ArrayLike): [Array, Array, Array, Array] {
  const m = square("eig", a);
  const [re, im] = dc.eigvals(m);
  const [vr, vi] = dc.eigBasis(m, ew.stopGradient(re), ew.stopGradient(im));
  return [re, im, vr!, vi!];
}
