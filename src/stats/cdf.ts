/**
 * Distribution functions for `stats` (re-exported by stats/index.ts): cdfs,
 * survival functions (sf = 1 - cdf, computed without the subtraction where
 * it would cancel), log-cdfs and quantiles (ppf) where a closed form or a
 * stable special function exists, and two multivariate log-densities.
 *
 *   normal        normalCdf, normalSf, normalLogCdf, normalLogSf, normalPpf
 *   Student t     studentTCdf, studentTSf, studentTPpf  (via the incomplete beta)
 *   gamma, chi2   gammaCdf, gammaSf, chi2Cdf, chi2Sf, chi2LogPdf, gammaPpf, chi2Ppf
 *   beta          betaCdf, betaSf, betaPpf
 *   Poisson       poissonCdf, poissonSf        (Q(floor k + 1, rate))
 *   binomial      binomialCdf, binomialSf      (I_(1-p)(n - k, k + 1))
 *   multivariateNormalLogPdf, dirichletLogPdf
 *
 * Differentiable in x (and loc, scale, rate, p; the quantiles in q); the
 * shape parameters that enter an incomplete gamma or beta function or their
 * inverses (df, shape a, b) are not (their derivative raises an
 * InvalidArgumentError naming the function).
 */
import type { Array, ArrayLike } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import * as np from "../numpy/index.js";
import * as special from "../special/index.js";

const LOG_2PI = Math.log(2 * Math.PI);

/** v * c, a plain number staying a (weakly typed) number so that float32 arguments stay float32. */
const times = (v: ArrayLike, c: number): ArrayLike =>
  typeof v === "number" ? v * c : np.multiply(v, c);

/** (x - loc) / scale */
const standardise = (x: ArrayLike, loc: ArrayLike, scale: ArrayLike): Array =>
  np.divide(np.subtract(x, loc), scale);

/**
 * P(X <= x) for X ~ N(mu, sigma^2), accurate in the lower tail.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const p = stats.normalCdf(1.96); // 0.9750021048517795
 * ```
 */
export function normalCdf(x: ArrayLike, mu: ArrayLike = 0, sigma: ArrayLike = 1): Array {
  return special.ndtr(standardise(x, mu, sigma));
}
/**
 * P(X > x) for X ~ N(mu, sigma^2), accurate in the upper tail.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const q = stats.normalSf(10); // 7.62e-24
 * ```
 */
export function normalSf(x: ArrayLike, mu: ArrayLike = 0, sigma: ArrayLike = 1): Array {
  return special.ndtr(np.negative(standardise(x, mu, sigma)));
}
/**
 * log P(X <= x) for X ~ N(mu, sigma^2), finite far into the lower tail.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const l = stats.normalLogCdf(-40); // -804.608...
 * ```
 */
export function normalLogCdf(x: ArrayLike, mu: ArrayLike = 0, sigma: ArrayLike = 1): Array {
  return special.logNdtr(standardise(x, mu, sigma));
}
/**
 * log P(X > x) for X ~ N(mu, sigma^2).
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const l = stats.normalLogSf(40); // -804.608...
 * ```
 */
export function normalLogSf(x: ArrayLike, mu: ArrayLike = 0, sigma: ArrayLike = 1): Array {
  return special.logNdtr(np.negative(standardise(x, mu, sigma)));
}
/**
 * The quantile: x with P(X <= x) = q, X ~ N(mu, sigma^2).
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const x = stats.normalPpf(0.975); // 1.959963984540054
 * ```
 */
export function normalPpf(q: ArrayLike, mu: ArrayLike = 0, sigma: ArrayLike = 1): Array {
  return np.add(mu, np.multiply(sigma, special.ndtri(q)));
}

/**
 * The standard Student t cdf at t with nu degrees of freedom. Tails
 * (t^2 >= nu): I_(nu/(nu+t^2))(nu/2, 1/2) / 2 (no cancellation as t grows);
 * centre: 1/2 + sign(t) I_(t^2/(nu+t^2))(1/2, nu/2) / 2; within 1e-7 sqrt(nu)
 * of 0: 1/2 + f(0) t (f the density; the cubic term is below 1e-21), which
 * keeps the derivative at t = 0 finite and right. Each branch is evaluated
 * on safe stand-in values where it is not selected.
 */
function studentStandardCdf(t: Array, nu: Array): Array {
  const t2 = np.square(t);
  const center = np.less(t2, nu);
  const tiny = np.less(t2, np.multiply(nu, 1e-14));
  const stand = np.sqrt(nu); // a harmless |t| for the branches not taken
  const half = np.multiply(nu, 0.5);
  // tails
  const tTail = np.where(center, np.multiply(stand, 2), t);
  const tailX = np.divide(nu, np.add(nu, np.square(tTail)));
  const tailMass = np.multiply(special.betainc(half, 0.5, tailX), 0.5);
  const tails = np.where(np.less(t, 0), tailMass, np.subtract(1, tailMass));
  // centre
  const tCenter = np.where(np.logicalAnd(center, np.logicalNot(tiny)), t, np.multiply(stand, 0.5));
  const centerX = np.divide(np.square(tCenter), np.add(nu, np.square(tCenter)));
  const centerMass = np.multiply(special.betainc(0.5, half, centerX), 0.5);
  const centre = np.add(0.5, np.multiply(np.sign(tCenter), centerMass));
  // near 0: 1/2 + f(0) t, f(0) = Gamma((nu+1)/2) / (Gamma(nu/2) sqrt(nu pi))
  const logDensity0 = np.subtract(
    np.subtract(special.gammaln(np.add(half, 0.5)), special.gammaln(half)),
    np.multiply(0.5, np.log(np.multiply(nu, Math.PI))),
  );
  const linear = np.add(0.5, np.multiply(np.exp(logDensity0), t));
  return np.where(tiny, linear, np.where(center, centre, tails));
}

/**
 * P(T <= x) for a Student t with `df` degrees of freedom, location and scale.
 * Differentiable in x, loc and scale (not df).
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const p = stats.studentTCdf(2, 5); // 0.9490302605850709
 * ```
 */
export function studentTCdf(
  x: ArrayLike,
  df: ArrayLike,
  loc: ArrayLike = 0,
  scale: ArrayLike = 1,
): Array {
  const t = standardise(x, loc, scale);
  return studentStandardCdf(t, np.add(np.zerosLike(t), df));
}
/**
 * P(T > x) for a Student t (studentTCdf at the mirrored point).
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const q = stats.studentTSf(2, 5); // 0.05096973941492914
 * ```
 */
export function studentTSf(
  x: ArrayLike,
  df: ArrayLike,
  loc: ArrayLike = 0,
  scale: ArrayLike = 1,
): Array {
  const t = np.negative(standardise(x, loc, scale));
  return studentStandardCdf(t, np.add(np.zerosLike(t), df));
}

/**
 * The standard Student t quantile. With m = min(q, 1 - q) and the cdf's split
 * at t^2 = nu (where m = I_(1/2)(nu/2, 1/2) / 2): in the tails (t^2 > nu)
 * x = nu / (nu + t^2) = betaincinv(nu/2, 1/2, 2m) is below 1/2 and
 * |t| = sqrt(nu (1 - x) / x); where x < 1e-280 (|t| beyond 1e140 sqrt(nu),
 * only for small nu), x would underflow and the power law
 * I_x(nu/2, 1/2) ~ x^(nu/2) / ((nu/2) B(nu/2, 1/2)) gives log x directly (the
 * next term is O(x) relative). In the centre y = t^2 / (nu + t^2), the root
 * of 1 - I_y(1/2, nu/2) = 2m (betainccinv: 2m is exact where |2q - 1| would
 * round), is below 1/2 and |t| = sqrt(nu y / (1 - y)); no branch divides by a
 * difference that cancels. Within 1e-9 of q = 1/2, t = (q - 1/2) / f(0) (the
 * cubic term is below 1e-17 relative), which keeps the derivative finite
 * there. Each branch sees stand-in values where it is not selected.
 */
function studentStandardPpf(q: Array, nu: Array): Array {
  const half = np.multiply(nu, 0.5);
  const d = np.subtract(q, 0.5);
  const m = np.minimum(q, np.subtract(1, q));
  const split = np.multiply(special.betainc(half, 0.5, np.multiply(np.onesLike(nu), 0.5)), 0.5);
  const tail = np.less(m, split);
  const tiny = np.less(np.abs(d), 1e-9);
  // tails (stand-in mass: half the split, inside the tail region)
  const mTail = np.where(tail, m, np.multiply(split, 0.5));
  const x = special.betaincinv(half, 0.5, np.multiply(mTail, 2));
  const tailAbs = np.sqrt(np.multiply(nu, np.divide(np.subtract(1, x), x)));
  // far tails: log x = (log 2m + log(nu/2) + log B(nu/2, 1/2)) / (nu/2), |t| = sqrt(nu / x)
  const logX = np.divide(
    np.add(np.add(np.log(np.multiply(mTail, 2)), np.log(half)), special.betaln(half, 0.5)),
    half,
  );
  const farAbs = np.multiply(np.sqrt(nu), np.exp(np.multiply(logX, -0.5)));
  const tailT = np.where(np.less(x, 1e-280), farAbs, tailAbs);
  // centre (stand-in mass: halfway between the split and 1/2)
  const mCentre = np.where(np.logicalOr(tail, tiny), np.add(np.multiply(split, 0.5), 0.25), m);
  const y = special.betainccinv(0.5, half, np.multiply(mCentre, 2));
  const centreAbs = np.sqrt(np.multiply(nu, np.divide(y, np.subtract(1, y))));
  // near 1/2: t = (q - 1/2) / f(0), f(0) = Gamma((nu+1)/2) / (Gamma(nu/2) sqrt(nu pi))
  const logDensity0 = np.subtract(
    np.subtract(special.gammaln(np.add(half, 0.5)), special.gammaln(half)),
    np.multiply(0.5, np.log(np.multiply(nu, Math.PI))),
  );
  const linear = np.divide(d, np.exp(logDensity0));
  const magnitude = np.where(tail, tailT, centreAbs);
  const signed = np.where(np.less(d, 0), np.negative(magnitude), magnitude);
  return np.where(tiny, linear, signed);
}

/**
 * The quantile of a Student t with `df` degrees of freedom, location and
 * scale: the x with studentTCdf(x, df, loc, scale) = q (q = 0, 1 give -inf,
 * inf). Differentiable in q (dx/dq = 1 / density), loc and scale, not df.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const x = stats.studentTPpf(0.975, 5); // 2.570581835636314
 * ```
 */
export function studentTPpf(
  q: ArrayLike,
  df: ArrayLike,
  loc: ArrayLike = 0,
  scale: ArrayLike = 1,
): Array {
  const nu = np.add(np.zerosLike(q), df);
  const qv = np.add(np.zerosLike(nu), q);
  return np.add(loc, np.multiply(scale, studentStandardPpf(qv, nu)));
}

/**
 * The quantile of X ~ Gamma(shape, rate): the x with gammaCdf(x, shape, rate) = q,
 * gammaincinv(shape, q) / rate. Differentiable in q and rate, not shape.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const x = stats.gammaPpf(0.5, 1, 2); // log(2) / 2
 * ```
 */
export function gammaPpf(q: ArrayLike, shape: ArrayLike, rate: ArrayLike = 1): Array {
  return np.divide(special.gammaincinv(shape, q), rate);
}

/**
 * The quantile of chi-squared with `df` degrees of freedom: 2 gammaincinv(df/2, q).
 * Differentiable in q, not df.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const x = stats.chi2Ppf(0.95, 1); // 3.84145882069412...
 * ```
 */
export function chi2Ppf(q: ArrayLike, df: ArrayLike): Array {
  return np.multiply(special.gammaincinv(times(df, 0.5), q), 2);
}

/**
 * The quantile of X ~ Beta(a, b): the x in [0, 1] with betaCdf(x, a, b) = q,
 * betaincinv(a, b, q). Differentiable in q, not a, b.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const x = stats.betaPpf(0.25, 2, 1); // 0.5
 * ```
 */
export function betaPpf(q: ArrayLike, a: ArrayLike, b: ArrayLike): Array {
  return special.betaincinv(a, b, q);
}

/**
 * P(X <= x) for X ~ Gamma(shape, rate) (density prop. to x^(shape-1) e^(-rate x)):
 * P(shape, rate max(x, 0)). Differentiable in x and rate.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const p = stats.gammaCdf(2, 1, 1); // 1 - exp(-2)
 * ```
 */
export function gammaCdf(x: ArrayLike, shape: ArrayLike, rate: ArrayLike = 1): Array {
  return special.gammainc(shape, np.maximum(np.multiply(rate, x), 0));
}
/**
 * P(X > x) for X ~ Gamma(shape, rate): Q(shape, rate max(x, 0)).
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const q = stats.gammaSf(2, 1, 1); // exp(-2)
 * ```
 */
export function gammaSf(x: ArrayLike, shape: ArrayLike, rate: ArrayLike = 1): Array {
  return special.gammaincc(shape, np.maximum(np.multiply(rate, x), 0));
}

/**
 * P(X <= x) for X ~ chi-squared with k degrees of freedom: P(k/2, x/2).
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const p = stats.chi2Cdf(3.841458820694124, 1); // 0.95
 * ```
 */
export function chi2Cdf(x: ArrayLike, df: ArrayLike): Array {
  return special.gammainc(times(df, 0.5), np.multiply(np.maximum(x, 0), 0.5));
}
/**
 * P(X > x) for X ~ chi-squared with k degrees of freedom: Q(k/2, x/2).
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const q = stats.chi2Sf(3.841458820694124, 1); // 0.05
 * ```
 */
export function chi2Sf(x: ArrayLike, df: ArrayLike): Array {
  return special.gammaincc(times(df, 0.5), np.multiply(np.maximum(x, 0), 0.5));
}
/**
 * log density of chi-squared with k degrees of freedom:
 * (k/2 - 1) log x - x/2 - (k/2) log 2 - log Gamma(k/2), x > 0.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const l = stats.chi2LogPdf(1, 2); // -log 2 - 1/2
 * ```
 */
export function chi2LogPdf(x: ArrayLike, df: ArrayLike): Array {
  const half = times(df, 0.5);
  const xv = asArray(x, "stats.chi2LogPdf: argument x");
  // a plain number df stays a number, so float32 x gives a float32 result
  const norm =
    typeof half === "number"
      ? half * Math.LN2 + special.gammaln(half).item()
      : np.add(np.multiply(half, Math.LN2), special.gammaln(half));
  const power = typeof half === "number" ? half - 1 : np.subtract(half, 1);
  return np.subtract(np.subtract(special.xlogy(power, xv), np.multiply(xv, 0.5)), norm);
}

/**
 * P(X <= x) for X ~ Beta(a, b): I_x(a, b), x clipped to [0, 1].
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const p = stats.betaCdf(0.5, 2, 2); // 0.5
 * ```
 */
export function betaCdf(x: ArrayLike, a: ArrayLike, b: ArrayLike): Array {
  return special.betainc(a, b, np.clip(x, 0, 1));
}
/**
 * P(X > x) for X ~ Beta(a, b): I_(1-x)(b, a).
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const q = stats.betaSf(0.25, 1, 1); // 0.75
 * ```
 */
export function betaSf(x: ArrayLike, a: ArrayLike, b: ArrayLike): Array {
  return special.betainc(b, a, np.subtract(1, np.clip(x, 0, 1)));
}

/**
 * P(K <= k) for K ~ Poisson(rate): Q(floor(k) + 1, rate), 0 for k < 0.
 * Differentiable in rate.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const p = stats.poissonCdf(0, 2); // exp(-2)
 * ```
 */
export function poissonCdf(k: ArrayLike, rate: ArrayLike): Array {
  const kv = np.floor(k);
  const negative = np.less(kv, 0);
  const a = np.where(negative, 1, np.add(kv, 1));
  return np.where(negative, 0, special.gammaincc(a, rate));
}
/**
 * P(K > k) for K ~ Poisson(rate): P(floor(k) + 1, rate), 1 for k < 0.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const q = stats.poissonSf(0, 2); // 1 - exp(-2)
 * ```
 */
export function poissonSf(k: ArrayLike, rate: ArrayLike): Array {
  const kv = np.floor(k);
  const negative = np.less(kv, 0);
  const a = np.where(negative, 1, np.add(kv, 1));
  return np.where(negative, 1, special.gammainc(a, rate));
}

/** The incomplete beta form of the binomial cdf, with its edge cases (k < 0, k >= n). */
function binomialTail(k: ArrayLike, n: ArrayLike, p: ArrayLike, upper: boolean): Array {
  const kv = np.floor(k);
  const below = np.less(kv, 0);
  const above = np.greaterEqual(kv, n);
  const inside = np.logicalNot(np.logicalOr(below, above));
  // stand-ins where the incomplete beta is not used
  const a = np.where(inside, np.subtract(n, kv), 1);
  const b = np.where(inside, np.add(kv, 1), 1);
  const q = np.subtract(1, p);
  const mass = upper ? special.betainc(b, a, p) : special.betainc(a, b, q);
  return np.where(below, upper ? 1 : 0, np.where(above, upper ? 0 : 1, mass));
}
/**
 * P(K <= k) for K ~ Binomial(n, p): I_(1-p)(n - k, k + 1) (k floored; 0 for
 * k < 0, 1 for k >= n). Differentiable in p.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const c = stats.binomialCdf(1, 2, 0.5); // 0.75
 * ```
 */
export function binomialCdf(k: ArrayLike, n: ArrayLike, p: ArrayLike): Array {
  return binomialTail(k, n, p, false);
}
/**
 * P(K > k) for K ~ Binomial(n, p): I_p(k + 1, n - k).
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const s = stats.binomialSf(1, 2, 0.5); // 0.25
 * ```
 */
export function binomialSf(k: ArrayLike, n: ArrayLike, p: ArrayLike): Array {
  return binomialTail(k, n, p, true);
}

/**
 * log N(x | mean, cov) for a d-dimensional normal: x of shape [..., d]
 * (one point or a batch), mean of shape [d] (or broadcastable to x), cov of
 * shape [d, d] symmetric positive definite. Through the Cholesky factor L:
 * -(|L^-1 (x - mean)|^2 + d log 2 pi + 2 sum log diag L) / 2.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const l = stats.multivariateNormalLogPdf([0, 0], [0, 0], [[1, 0], [0, 1]]); // -log(2 pi)
 * ```
 */
export function multivariateNormalLogPdf(x: ArrayLike, mean: ArrayLike, cov: ArrayLike): Array {
  const fn = "stats.multivariateNormalLogPdf";
  const xv = asArray(x, `${fn}: argument x`);
  const c = asArray(cov, `${fn}: argument cov`);
  const d = c.shape[0];
  if (c.ndim !== 2 || c.shape[1] !== d || d === undefined) {
    throw new ShapeError(
      `${fn}: cov must be a square matrix [d, d], got shape ${fmtShape(c.shape)}`,
    );
  }
  if (xv.ndim < 1 || xv.shape[xv.ndim - 1] !== d) {
    throw new ShapeError(
      `${fn}: x must have shape [..., ${d}] to match cov ${fmtShape(c.shape)}, got ${fmtShape(xv.shape)}`,
    );
  }
  const diff = np.subtract(xv, mean);
  if (diff.shape.length !== xv.shape.length || diff.shape.some((s, i) => s !== xv.shape[i])) {
    throw new ShapeError(
      `${fn}: mean must broadcast to x's shape ${fmtShape(xv.shape)}, got ${fmtShape(asArray(mean, fn).shape)}`,
    );
  }
  const lead = xv.shape.slice(0, -1);
  const rows = lead.reduce((a, b) => a * b, 1);
  const l = np.linalg.cholesky(c);
  // z = L^-1 diff^T: [d, rows]
  const z = np.linalg.triangularSolve(l, np.transpose(np.reshape(diff, [rows, d])), {
    lower: true,
  });
  const maha = np.reshape(np.sum(np.square(z), 0), lead);
  const logDet = np.multiply(2, np.sum(np.log(np.sum(np.multiply(l, np.eye(d)), 1))));
  return np.multiply(-0.5, np.add(maha, np.add(logDet, d * LOG_2PI)));
}

/**
 * log Dirichlet(x | alpha) over the last axis: sum (alpha_i - 1) log x_i +
 * log Gamma(sum alpha) - sum log Gamma(alpha_i), x on the simplex.
 * Differentiable in x and alpha.
 * @example
 * ```ts
 * import { stats } from "chainrule";
 * const l = stats.dirichletLogPdf([0.5, 0.5], [1, 1]); // 0 (uniform on the simplex)
 * ```
 */
export function dirichletLogPdf(x: ArrayLike, alpha: ArrayLike): Array {
  const fn = "stats.dirichletLogPdf";
  const xv = asArray(x, `${fn}: argument x`);
  const av = asArray(alpha, `${fn}: argument alpha`);
  const k = xv.shape[xv.ndim - 1];
  if (xv.ndim < 1 || av.ndim < 1 || av.shape[av.ndim - 1] !== k) {
    throw new ShapeError(
      `${fn}: x and alpha must share their last axis (the categories), got x ${fmtShape(xv.shape)} ` +
        `and alpha ${fmtShape(av.shape)}`,
    );
  }
  const terms = np.sum(special.xlogy(np.subtract(av, 1), xv), -1);
  const norm = np.subtract(special.gammaln(np.sum(av, -1)), np.sum(special.gammaln(av), -1));
  return np.add(terms, norm);
}
