/**
 * `nn`: activation functions and losses, composed from np functions (their
 * derivatives come from the primitives').
 */
import type { Array, ArrayLike } from "../core/array.js";
import * as np from "../numpy/index.js";

/** max(x, 0). */
export function relu(x: ArrayLike): Array {
  return np.maximum(x, 0);
}
/** 1 / (1 + exp(-x)), written as (1 + tanh(x / 2)) / 2 so it never overflows. */
export function sigmoid(x: ArrayLike): Array {
  return np.multiply(np.add(np.tanh(np.multiply(x, 0.5)), 1), 0.5);
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
/** log softmax along `axis` (default last): x - logsumexp(x). */
export function logSoftmax(x: ArrayLike, axis: number = -1): Array {
  return np.subtract(x, np.logsumexp(x, axis, { keepdims: true }));
}
/** softmax along `axis` (default last), stably. */
export function softmax(x: ArrayLike, axis: number = -1): Array {
  return np.exp(logSoftmax(x, axis));
}
