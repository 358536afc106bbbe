/**
 * Special functions the samplers need, local to the random module and
 * written with np operations on whole arrays (so they batch, jit and
 * differentiate like any other array code): log Gamma, the inverse error
 * function, and the regularised lower incomplete gamma P(a, x) with its
 * derivative in a (for the implicit reparameterisation gradient of gamma
 * samples).
 */
import { type Array, ConcreteArray } from "../core/array.js";
import { portableExp as exp, portableLog as log } from "../primitives/portableMath.js";
import * as np from "../numpy/index.js";
import { customJvp } from "../transforms/customJvp.js";
import { jvp } from "../transforms/jvp.js";

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log Gamma(x) for x > 0 (float64: about 1e-15 relative away from the zero
 * at x = 1 and 2). Stirling's series with six correction terms,
 *   log Gamma(y) = (y - 1/2) log y - y + log(2 pi)/2 + sum_k B_2k / (2k (2k - 1) y^(2k - 1)),
 * at y = x + 10 (where the first omitted term is below 1e-16 of the sum),
 * brought back by log Gamma(x) = log Gamma(x + 10) - log(x (x + 1) ... (x + 9)).
 */
export function logGamma(x: Array): Array {
  let product = x;
  for (let k = 1; k < 10; k++) product = np.multiply(product, np.add(x, k));
  const y = np.add(x, 10);
  const r = np.reciprocal(y);
  const r2 = np.multiply(r, r);
  // B2/2, B4/12, B6/30, B8/56, B10/90, B12/132
  const coeffs = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360];
  let series = np.multiply(r2, 0);
  for (let k = coeffs.length - 1; k >= 0; k--) series = np.add(np.multiply(series, r2), coeffs[k]!);
  const stirling = np.add(
    np.subtract(np.multiply(np.subtract(y, 0.5), log(y)), y),
    np.add(np.multiply(series, r), HALF_LOG_2PI),
  );
  return np.subtract(stirling, log(product));
}

/**
 * The inverse error function on (-1, 1): Giles' single-precision
 * polynomial in w = -log((1 - y)(1 + y)) ("Approximating the erfinv
 * function", GPU Computing Gems, 2011) as the start, then three Newton
 * steps on erf(x) = y (each squares the relative error: 1e-7, 1e-14, then
 * rounding). Its derivative is d erfinv(y) = sqrt(pi)/2 exp(erfinv(y)^2) dy.
 */
function erfinvValue(y: Array): Array {
  const w = np.negative(log(np.multiply(np.subtract(1, y), np.add(1, y))));
  const central = [
    2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 2.1858087e-4, -1.25372503e-3,
    -4.17768164e-3, 0.246640727, 1.50140941,
  ];
  const tail = [
    -2.00214257e-4, 1.00950558e-4, 1.34934322e-3, -3.67342844e-3, 5.73950773e-3, -7.6224613e-3,
    9.43887047e-3, 1.00167406, 2.83297682,
  ];
  const horner = (cs: number[], t: Array): Array =>
    cs.slice(1).reduce((p, c) => np.add(np.multiply(p, t), c), np.multiply(np.onesLike(t), cs[0]!));
  const small = np.less(w, 5);
  // each branch on arguments that keep the other finite
  const pc = horner(central, np.subtract(np.where(small, w, 2.5), 2.5));
  const pt = horner(tail, np.subtract(np.sqrt(np.where(small, 9, w)), 3));
  let x = np.multiply(np.where(small, pc, pt), y);
  for (let step = 0; step < 3; step++) {
    // x -= (erf(x) - y) / (2/sqrt(pi) exp(-x^2))
    const slope = np.multiply(2 / Math.sqrt(Math.PI), exp(np.negative(np.square(x))));
    const next = np.subtract(x, np.divide(np.subtract(np.erf(x), y), slope));
    // |y| = 1 (or rounding to it) gives ±inf: keep the start there
    x = np.where(np.isfinite(next), next, x);
  }
  return x;
}

/** erfinv with its derivative sqrt(pi)/2 exp(x^2) (d erfinv y = dy / erf'(x) at x = erfinv y). */
export const erfinv: (y: Array) => Array = customJvp(
  (y: Array) => erfinvValue(np.stopGradient(y)),
  ([y], [dy]) => {
    const x = erfinv(y);
    return [x, np.multiply(dy, np.multiply(Math.sqrt(Math.PI) / 2, exp(np.square(x))))];
  },
);

/**
 * The regularised lower incomplete gamma function P(a, x) for a > 0, x >= 0,
 * as a differentiable function of both (its derivative in a is what the
 * gamma sampler's gradient needs; forward mode through these operations
 * gives it exactly for the truncated expansions below):
 *   x < a + 1: the series P = x^a e^-x / Gamma(a + 1) sum_n x^n / ((a + 1) ... (a + n)),
 *   x >= a + 1: P = 1 - Q with Q = x^a e^-x / Gamma(a) times Legendre's continued
 *               fraction 1/(x + 1 - a - 1 (1 - a)/(x + 3 - a - 2 (2 - a)/(x + 5 - a - ...))),
 *               evaluated with `terms` levels from the tail.
 * Both converge after about 6 sqrt(max(a, x)) + 30 levels (the series'
 * ratio x/(a + n) and the fraction's tail shrink like exp(-n^2 / a) past
 * that); `terms` defaults to that count when a and x are concrete, and to
 * 200 (enough for a and x up to about 10^3) when they are traced.
 */
export function gammaincLower(a: Array, x: Array, terms = levelsFor(a, x)): Array {
  const useSeries = np.less(x, np.add(a, 1));
  // Each branch sees arguments that keep the other finite and its gradient NaN-free.
  const xs = np.where(useSeries, x, 0);
  const xc = np.where(useSeries, np.add(a, 1), x);
  const logPrefix = (xx: Array) => np.subtract(np.multiply(a, log(xx)), xx);
  // series: sum_n t_n with t_0 = 1, t_n = t_{n-1} x / (a + n)
  let term = np.onesLike(xs);
  let sum = term;
  for (let n = 1; n <= terms; n++) {
    term = np.divide(np.multiply(term, xs), np.add(a, n));
    sum = np.add(sum, term);
  }
  const series = np.multiply(
    exp(np.subtract(logPrefix(np.where(useSeries, xs, 1)), logGamma(np.add(a, 1)))),
    sum,
  );
  // continued fraction from its tail: f_k = b_k - c_{k+1} / f_{k+1}, b_k = x + 2k + 1 - a, c_k = k (k - a)
  let fraction = np.add(np.subtract(xc, a), 2 * terms + 1);
  for (let k = terms - 1; k >= 0; k--) {
    const c = np.multiply(k + 1, np.subtract(k + 1, a));
    fraction = np.subtract(np.add(np.subtract(xc, a), 2 * k + 1), np.divide(c, fraction));
  }
  const upper = np.divide(exp(np.subtract(logPrefix(xc), logGamma(a))), fraction);
  return np.where(useSeries, series, np.subtract(1, upper));
}

/** The number of levels gammaincLower needs for concrete a and x, else 200. */
function levelsFor(a: Array, x: Array): number {
  if (!(a instanceof ConcreteArray) || !(x instanceof ConcreteArray) || a.size === 0) return 200;
  let largest = 0;
  for (const v of a.data()) if (v > largest) largest = v;
  for (const v of x.data()) if (v > largest) largest = v;
  return Number.isFinite(largest) ? Math.ceil(6 * Math.sqrt(largest) + 30) : 200;
}

/** d P(a, x) / d a (forward mode through gammaincLower). */
export function gammaincLowerDa(a: Array, x: Array): Array {
  const terms = levelsFor(a, x);
  return jvp((aa: Array) => gammaincLower(aa, x, terms), [a], [np.onesLike(a)])[1];
}
