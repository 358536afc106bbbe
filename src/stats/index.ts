/**
 * `stats`: log-densities and maximum-likelihood fits with uncertainties.
 *
 *   normalLogPdf, poissonLogPmf, exponentialLogPdf   elementwise, differentiable
 *   fit(nll, x0)   minimises a negative log-likelihood; the covariance is the
 *                  inverse Hessian at the optimum, the standard errors the
 *                  square roots of its diagonal
 */
import type { Array, ArrayLike } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { ChainruleError, InvalidArgumentError } from "../core/errors.js";
import * as np from "../numpy/index.js";
import { minimize, type MinimizeOptions, type MinimizeResult } from "../optim/index.js";
import { hessian } from "../transforms/jacobian.js";
import { flatten, unflatten, type PyTree } from "../tree/index.js";

const LOG_2PI = Math.log(2 * Math.PI);

/** log N(x | mu, sigma^2) = -((x - mu) / sigma)^2 / 2 - log sigma - log(2 pi) / 2 */
export function normalLogPdf(x: ArrayLike, mu: ArrayLike, sigma: ArrayLike): Array {
  const z = np.divide(np.subtract(x, mu), sigma);
  return np.subtract(np.subtract(np.multiply(np.square(z), -0.5), np.log(sigma)), LOG_2PI / 2);
}

/** log Pois(k | rate) = k log rate - rate - log k!  (log k! = lgamma(k + 1), k integer-valued data) */
export function poissonLogPmf(k: ArrayLike, rate: ArrayLike): Array {
  const kv = asArray(k, "stats.poissonLogPmf: argument k");
  const counts = kv.concrete("stats.poissonLogPmf").data();
  const logFactorial = Float64Array.from(counts, (v) => {
    if (!Number.isInteger(v) || v < 0) {
      throw new InvalidArgumentError(
        `stats.poissonLogPmf: k must hold counts (non-negative integers), got ${v}`,
      );
    }
    let s = 0;
    for (let i = 2; i <= v; i++) s += Math.log(i);
    return s;
  });
  const kTerm = np.array(logFactorial, { shape: [...kv.shape] });
  // k log rate with the convention 0 log 0 = 0
  const kLogRate = np.where(np.equal(kv, 0), 0, np.multiply(kv, np.log(rate)));
  return np.subtract(np.subtract(kLogRate, rate), kTerm);
}

/** log Exp(x | rate) = log rate - rate x */
export function exponentialLogPdf(x: ArrayLike, rate: ArrayLike): Array {
  return np.subtract(np.log(rate), np.multiply(rate, x));
}

export interface FitResult {
  /** Best-fit parameters, shaped like x0. */
  params: PyTree;
  /** The negative log-likelihood at the best fit. */
  nll: number;
  /** Inverse Hessian of the negative log-likelihood at the best fit (flattened parameters). */
  covariance: Array;
  /** Standard errors, shaped like x0. */
  stdErrors: PyTree;
  /** How the minimisation ended. */
  optimization: MinimizeResult;
}

/**
 * Maximum-likelihood fit: minimises nll(params) from x0, then takes the
 * covariance as the inverse Hessian of nll at the optimum.
 */
export function fit(
  nll: (params: never) => unknown,
  x0: unknown,
  opts: MinimizeOptions = {},
): FitResult {
  const optimization = minimize(nll, x0, { tol: 1e-9, ...opts });
  if (optimization.status !== "converged") {
    throw new ChainruleError(
      `stats.fit: the minimisation did not converge (${optimization.message})`,
    );
  }
  const [leaves, def] = flatten(optimization.x);
  const arrays = leaves.map((l, i) => asArray(l, `stats.fit: parameter leaf ${i}`));
  const flat = np.concatenate(arrays.map((a) => np.reshape(a, [a.size])));
  const asParams = (v: Array): unknown => {
    let k = 0;
    return unflatten(
      def,
      arrays.map((a) => {
        const part = np.reshape(np.slice(v, [k, k + a.size]), a.shape);
        k += a.size;
        return part;
      }),
    );
  };
  const h = hessian((v: Array) =>
    asArray((nll as (p: unknown) => unknown)(asParams(v)), "stats.fit: nll"),
  )(flat) as Array;
  const covariance = np.linalg.inv(h);
  const stdErrors = asParams(np.sqrt(np.sum(np.multiply(covariance, np.eye(flat.size)), 1)));
  const params: unknown = optimization.x;
  return { params, nll: optimization.value, covariance, stdErrors, optimization };
}
