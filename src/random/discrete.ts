/**
 * Discrete samplers, as `jax.random`: their samples are bool or int32 and
 * have no pathwise derivative. As in JAX, gradients with respect to their
 * float parameters are zero (the comparison that makes a Bernoulli sample
 * has a zero derivative); for derivatives of expectations use the
 * `stochastic` estimators.
 */
import { Array, type ArrayLike } from "../core/array.js";
import * as np from "../numpy/index.js";
import { floatDtype, param, sampleShape, unitUniform } from "./continuous.js";
import { checkKey, type ShapeArg } from "./keys.js";

/**
 * Bernoulli samples (bool): true with probability p, as
 * `jax.random.bernoulli` (u < p with u uniform on [0, 1) of p's float
 * dtype, float64 for JS numbers). p broadcasts to `shape`; without a shape
 * the samples take p's shape.
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const coins = random.bernoulli(random.key(0), 0.3, [10]); // bool [10]
 * ```
 */
export function bernoulli(key: ArrayLike, p: ArrayLike = 0.5, shape?: ShapeArg): Array {
  const k = checkKey("bernoulli", key);
  const dtype = floatDtype("bernoulli", p instanceof Array ? p.dtype : undefined);
  const prob = param("bernoulli", "p", p, dtype);
  const dims = sampleShape("bernoulli", shape, [{ name: "p", value: prob }]);
  return np.less(unitUniform(k, dims, dtype), prob);
}
