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
/** log softmax along `axis` (default last): x - logsumexp(x). */
export function logSoftmax(x: ArrayLike, axis: number = -1): Array {
  return np.subtract(x, np.logsumexp(x, axis, { keepdims: true }));
}
/** softmax along `axis` (default last), stably. */
export function softmax(x: ArrayLike, axis: number = -1): Array {
  return np.exp(logSoftmax(x, axis));
}

export {
  crossEntropy,
  dense,
  denseApply,
  initWeights,
  mlp,
  mlpApply,
  mse,
  uniformGenerator,
  type DenseParams,
  type Initializer,
} from "./layers.js";
