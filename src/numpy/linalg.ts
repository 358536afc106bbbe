/**
 * `np.linalg`: differentiable linear algebra on square matrices (float64 and
 * float32). Batches of matrices go through vmap.
 *
 * @module
 */
import type { Array, ArrayLike } from "../core/array.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import { sign } from "../primitives/elementwise.js";
import * as la from "../primitives/linalg.js";
import { reshape } from "../primitives/movement.js";
import { asFloat, arr } from "./core.js";
import { eye } from "./creation.js";

function square(fn: string, a: ArrayLike): Array {
  const m = asFloat(arr(a, `linalg.${fn}`, "a"));
  if (m.ndim !== 2 || m.shape[0] !== m.shape[1]) {
    throw new ShapeError(
      `np.linalg.${fn}: expected a square matrix [n, n], got shape ${fmtShape(m.shape)} (use vmap for batches)`,
    );
  }
  return m;
}

/** Right-hand sides as a matrix [n, k], and how to shape the solution back. */
function rhs(fn: string, a: Array, b: ArrayLike): [Array, (x: Array) => Array] {
  const v = asFloat(arr(b, `linalg.${fn}`, "b")).astype(a.dtype);
  const n = a.shape[0]!;
  if (v.ndim === 1 && v.shape[0] === n) return [reshape(v, [n, 1]), (x) => reshape(x, [n])];
  if (v.ndim === 2 && v.shape[0] === n) return [v, (x) => x];
  throw new ShapeError(
    `np.linalg.${fn}: b must have ${n} rows to match a of shape ${fmtShape(a.shape)}, got shape ${fmtShape(v.shape)}`,
  );
}

/** x with a x = b (b a vector [n] or a matrix [n, k]). */
export function solve(a: ArrayLike, b: ArrayLike): Array {
  const m = square("solve", a);
  const [rhsMatrix, back] = rhs("solve", m, b);
  return back(la.solve(m, rhsMatrix));
}

/** The inverse matrix. */
export function inv(a: ArrayLike): Array {
  const m = square("inv", a);
  return la.solve(m, eye(m.shape[0]!, m.shape[0], { dtype: m.dtype }));
}

/** The determinant. */
export function det(a: ArrayLike): Array {
  return la.det(square("det", a));
}

/** `[sign, log|det|]`: the determinant without overflow. */
export function slogdet(a: ArrayLike): [Array, Array] {
  const m = square("slogdet", a);
  return [sign(la.det(m)), la.logAbsDet(m)];
}

/** Lower-triangular L with L L^T = a (a symmetric positive definite). */
export function cholesky(a: ArrayLike): Array {
  return la.cholesky(square("cholesky", a));
}

/** x with t x = b, t the lower (default) or upper triangle of a. */
export function triangularSolve(a: ArrayLike, b: ArrayLike, opts: { lower?: boolean } = {}): Array {
  const m = square("triangularSolve", a);
  const [rhsMatrix, back] = rhs("triangularSolve", m, b);
  return back(la.triangularSolve(m, rhsMatrix, opts.lower ?? true));
}
