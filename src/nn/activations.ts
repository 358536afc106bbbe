/**
 * `nn`'s activation functions: elementwise nonlinearities and the softmax
 * family, composed from np functions (their derivatives come from the
 * primitives'). The layers and losses in layers.ts build on these.
 */
import type { Array, ArrayLike } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import * as np from "../numpy/index.js";

/** max(x, 0). */
export function relu(x: ArrayLike): Array {
  return np.maximum(x, 0);
}
/**
 * 1 / (1 + exp(-x)), computed from z = exp(-|x|) (which never overflows):
 * 1 / (1 + z) for x >= 0 and z / (1 + z) for x < 0. Both branches stay
 * finite, so their derivatives do too, and neither cancels catastrophically.
 * |x| is written as a select so that its derivative at 0 matches the branch.
 */
export function sigmoid(x: ArrayLike): Array {
  const nonNegative = np.greaterEqual(x, 0);
  const z = np.exp(np.where(nonNegative, np.negative(x), x));
  const denom = np.add(z, 1);
  return np.where(nonNegative, np.divide(1, denom), np.divide(z, denom));
}
/** log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)). */
export function softplus(x: ArrayLike): Array {
  return np.add(relu(x), np.log1p(np.exp(np.negative(np.abs(x)))));
}
/** x * sigmoid(x). */
export function silu(x: ArrayLike): Array {
  return np.multiply(x, sigmoid(x));
}
/** log(sum(exp(x))) along `axis`, stably. */
export function logsumexp(
  x: ArrayLike,
  axis?: number | readonly number[] | null,
  opts?: { keepdims?: boolean },
): Array {
  return np.logsumexp(x, axis, opts);
}
/**
 * x - max(x) along `axis`, the max held constant for derivatives. Every
 * softmax-family function is invariant under this shift, so holding it
 * constant changes no derivative, and it keeps the largest exponent at 0.
 * A slice that is all -inf (or holds +inf or NaN) is shifted by 0 instead,
 * so that -inf - -inf does not turn into NaN.
 */
function shiftByMax(x: ArrayLike, axis: number): Array {
  const a = np.asarray(x);
  const xf = isFloat(a.dtype) ? a : np.astype(a, "float64");
  const m = np.stopGradient(np.max(xf, axis, { keepdims: true }));
  return np.subtract(xf, np.where(np.isfinite(m), m, 0));
}

/**
 * log softmax along `axis` (default last): with s = x - max(x),
 * log softmax(x) = s - log(sum(exp(s))). Subtracting the max from x first
 * (rather than computing x - logsumexp(x)) keeps the result accurate where
 * x is large: logsumexp(x) would round to the precision of max(x).
 */
export function logSoftmax(x: ArrayLike, axis: number = -1): Array {
  const shifted = shiftByMax(x, axis);
  return np.subtract(shifted, np.log(np.sum(np.exp(shifted), axis, { keepdims: true })));
}
/** softmax along `axis` (default last): exp(s) / sum(exp(s)) with s = x - max(x). */
export function softmax(x: ArrayLike, axis: number = -1): Array {
  const e = np.exp(shiftByMax(x, axis));
  return np.divide(e, np.sum(e, axis, { keepdims: true }));
}
