/**
 * `stats`: log-densities and maximum-likelihood fits with uncertainties.
 *
 *   normalLogPdf, poissonLogPmf, exponentialLogPdf,
 *   gammaLogPdf, betaLogPdf, binomialLogPmf, studentTLogPdf,
 *   laplaceLogPdf, logNormalLogPdf        elementwise with broadcasting,
 *                                         differentiable in every real argument
 *                                         (counts k, n are data)
 *   logGamma(x)                           log |Gamma(x)|, differentiable (special.gammaln)
 *   normalCdf, studentTCdf, gammaCdf, chi2Cdf, betaCdf, poissonCdf,
 *   binomialCdf (and Sf, normal LogCdf/LogSf; Ppf for normal, Student t,
 *   gamma, chi2, beta), chi2LogPdf,
 *   multivariateNormalLogPdf, dirichletLogPdf    see cdf.ts
 *   fit(nll, x0)   minimises a negative log-likelihood; the covariance is the
 *                  inverse Hessian at the optimum, the standard errors the
 *                  square roots of its diagonal
 *
 * @module
 */
import type { Array, ArrayLike } from "../core/array.js";
import { asArray, expectOptions } from "../core/convert.js";
import { ChainruleError, InvalidArgumentError, fmtShape } from "../core/errors.js";
import * as np from "../numpy/index.js";
import { minimize, type MinimizeOptions, type MinimizeResult } from "../optim/index.js";
import { hessian } from "../transforms/jacobian.js";
import { flatten, unflatten } from "../tree/index.js";
import type { Arrays } from "../tree/types.js";
import { logGamma } from "./special.js";

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

export { logGamma } from "./special.js";
export * from "./cdf.js";

/** Elementwise log(1 - p), written once so its meaning is plain. */
const log1mp = (p: ArrayLike) => np.log1p(np.negative(p));
/** a * logB with the convention 0 log 0 = 0 where the count a is 0. */
const countTimesLog = (a: Array, logB: Array) => np.where(np.equal(a, 0), 0, np.multiply(a, logB));

/** log Gamma(x | shape a, rate b) = a log b + (a - 1) log x - b x - log Gamma(a), x > 0. */
export function gammaLogPdf(x: ArrayLike, shape: ArrayLike, rate: ArrayLike): Array {
  const a = np.asarray(shape);
  return np.subtract(
    np.add(np.multiply(a, np.log(rate)), np.multiply(np.subtract(a, 1), np.log(x))),
    np.add(np.multiply(rate, x), logGamma(a)),
  );
}

/** log Beta(x | a, b) = (a - 1) log x + (b - 1) log(1 - x) - log B(a, b), 0 < x < 1. */
export function betaLogPdf(x: ArrayLike, a: ArrayLike, b: ArrayLike): Array {
  const logB = np.subtract(np.add(logGamma(a), logGamma(b)), logGamma(np.add(a, b)));
  return np.subtract(
    np.add(np.multiply(np.subtract(a, 1), np.log(x)), np.multiply(np.subtract(b, 1), log1mp(x))),
    logB,
  );
}

/** Checks that an argument holds counts; returns it. */
function counts(v: ArrayLike, fn: string, name: string): Array {
  const a = asArray(v, `${fn}: argument ${name}`);
  for (const c of a.concrete(fn).data()) {
    if (!Number.isInteger(c) || c < 0) {
      throw new InvalidArgumentError(
        `${fn}: ${name} must hold counts (non-negative integers), got ${c}; ` +
          `for non-integer data use a continuous density`,
      );
    }
  }
  return a;
}

/**
 * log Binomial(k | n, p) = log C(n, k) + k log p + (n - k) log(1 - p),
 * log C(n, k) = log Gamma(n + 1) - log Gamma(k + 1) - log Gamma(n - k + 1).
 * k and n are counts (data, k <= n); p is differentiable.
 */
export function binomialLogPmf(k: ArrayLike, n: ArrayLike, p: ArrayLike): Array {
  const fn = "stats.binomialLogPmf";
  const kv = counts(k, fn, "k");
  const nv = counts(n, fn, "n");
  const excess = np.max(np.subtract(kv, nv)).item();
  if (excess > 0) {
    throw new InvalidArgumentError(
      `${fn}: k must not exceed n (k has shape ${fmtShape(kv.shape)}, n ${fmtShape(nv.shape)}; ` +
        `some k is larger than its n by ${excess})`,
    );
  }
  const rest = np.subtract(nv, kv);
  const logChoose = np.subtract(
    logGamma(np.add(nv, 1)),
    np.add(logGamma(np.add(kv, 1)), logGamma(np.add(rest, 1))),
  );
  return np.add(logChoose, np.add(countTimesLog(kv, np.log(p)), countTimesLog(rest, log1mp(p))));
}

/**
 * log StudentT(x | df nu, loc mu, scale s) = log Gamma((nu + 1)/2) - log Gamma(nu/2)
 *   - log(nu pi)/2 - log s - (nu + 1)/2 log(1 + ((x - mu)/s)^2 / nu).
 */
export function studentTLogPdf(
  x: ArrayLike,
  df: ArrayLike,
  loc: ArrayLike = 0,
  scale: ArrayLike = 1,
): Array {
  const nu = np.asarray(df);
  const z = np.divide(np.subtract(x, loc), scale);
  const norm = np.subtract(
    np.subtract(logGamma(np.multiply(np.add(nu, 1), 0.5)), logGamma(np.multiply(nu, 0.5))),
    np.add(np.multiply(0.5, np.log(np.multiply(nu, Math.PI))), np.log(scale)),
  );
  return np.subtract(
    norm,
    np.multiply(np.multiply(np.add(nu, 1), 0.5), np.log1p(np.divide(np.square(z), nu))),
  );
}

/** log Laplace(x | loc mu, scale b) = -log(2 b) - |x - mu| / b. */
export function laplaceLogPdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1): Array {
  return np.subtract(
    np.negative(np.log(np.multiply(2, scale))),
    np.divide(np.abs(np.subtract(x, loc)), scale),
  );
}

/** log LogNormal(x | mu, sigma) = log N(log x | mu, sigma) - log x, x > 0. */
export function logNormalLogPdf(x: ArrayLike, mu: ArrayLike = 0, sigma: ArrayLike = 1): Array {
  const logX = np.log(x);
  return np.subtract(normalLogPdf(logX, mu, sigma), logX);
}

/** What {@link fit} returns: the best fit and its uncertainties. */
export interface FitResult<P = unknown> {
  /** Best-fit parameters, shaped like x0. */
  params: P;
  /** The negative log-likelihood at the best fit. */
  nll: number;
  /** Inverse Hessian of the negative log-likelihood at the best fit (flattened parameters). */
  covariance: Array;
  /** Standard errors, shaped like x0. */
  stdErrors: P;
  /** How the minimisation ended. */
  optimization: MinimizeResult;
}

/**
 * Maximum-likelihood fit: minimises nll(params) from x0, then takes the
 * covariance as the inverse Hessian of nll at the optimum.
 */
export function fit<X>(
  nll: (params: Arrays<NoInfer<X>>) => unknown,
  x0: X,
  opts?: MinimizeOptions,
): FitResult<Arrays<X>>;
export function fit(
  nll: (params: never) => unknown,
  x0: unknown,
  opts: MinimizeOptions = {},
): FitResult {
  expectOptions(
    "stats.fit",
    opts,
    ["method", "tol", "maxIter", "learningRate", "onStep"],
    'stats.fit(nll, x0, { method: "newton" })',
  );
  const optimization = minimize(nll as (x: unknown) => unknown, x0, { tol: 1e-9, ...opts });
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
  )(flat);
  const covariance = np.linalg.inv(h);
  const stdErrors = asParams(np.sqrt(np.sum(np.multiply(covariance, np.eye(flat.size)), 1)));
  const params: unknown = optimization.x;
  return { params, nll: optimization.value, covariance, stdErrors, optimization };
}
