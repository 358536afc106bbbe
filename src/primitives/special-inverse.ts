/**
 * Quantile primitives for `special` and `stats`: the inverses in x of the
 * regularised incomplete gamma function (gammaincinv, gammainccinv) and of
 * the regularised incomplete beta function (betaincinv), elementwise like
 * their forward functions in special.ts.
 *
 * Each scalar solves F(x) = t by a safeguarded Newton iteration on
 * g(x) = log(F(x) / t), where F is the smaller tail (t <= 1/2; for a
 * probability above 1/2 the other tail is solved, 1 - p being exact there by
 * Sterbenz's lemma). Working with log F gives relative accuracy down to
 * t = 1e-300 and makes g nearly linear in log x in the power-law tails, so
 * the steps are taken multiplicatively in x (in 1 - x for the beta's upper
 * tail): x <- x exp(-g / (dg / d log x)), with dg / d log x = x f(x) / F(x)
 * (f the density). Every evaluation narrows a bracket [lo, hi] around the
 * root (F is monotone); a step that leaves the bracket is replaced by a
 * bisection (geometric where the bracket spans more than a factor 4), so the
 * iteration cannot diverge. It stops when the relative step is below 1e-15
 * (about 4.5 ulp) or the bracket is that narrow.
 *
 * Starting guesses: the best (smallest |g|) of the power laws of the tails
 * (P(a, x) ~ x^a / Gamma(a + 1) as x -> 0, Q(a, x) ~ x^(a-1) e^-x / Gamma(a)
 * as x -> inf; I_x(a, b) ~ x^a / (a B(a, b)) as x -> 0 and the mirror image
 * at 1) and a normal approximation (Wilson-Hilferty's cube-root
 * transformation for the gamma, the Abramowitz-Stegun 26.5.22 form for the
 * beta) with the normal quantile special.ts's ndtriScalar.
 *
 * Each scalar calls its forward kernel (special.ts's incompleteGammaScalar,
 * betaincScalar) and ndtriScalar, so it is not self-contained: its rule says
 * `standalone: false`, compiled code calls it as a function as usual, and
 * emitSource refuses programs that use it. The operands are those of the
 * forward primitives with
 * x replaced by the probability: (a, p, lgamma(a), upper) and
 * (a, b, p, log B(a, b), upper).
 *
 * Derivatives: in p by the inverse function theorem, dx/dp = 1 / (dF/dx) at
 * the output x; in a, b an InvalidArgumentError naming the function.
 */
import type { Array } from "../core/array.js";
import { fullLike } from "./operands.js";
import { add, div, eq, exp, log, log1p, mul, neg, select, sub } from "./elementwise.js";
import {
  betaincScalar,
  incompleteGammaScalar,
  incompletePrimitive,
  ndtriScalar,
} from "./special.js";

/**
 * The x >= 0 with P(a, x) = p (upper = 0) or Q(a, x) = p (upper = 1), given
 * lg = log Gamma(a). p = 0 gives 0 (P) or inf (Q), p = 1 the other;
 * NaN for a <= 0, p outside [0, 1] or NaN operands.
 */
function gammaincinvScalar(a: number, p: number, lg: number, upper: number): number {
  if (Number.isNaN(a) || Number.isNaN(p) || Number.isNaN(lg)) return NaN;
  if (a <= 0 || p < 0 || p > 1) return NaN;
  if (p === 0) return upper === 0 ? 0 : Infinity;
  if (p === 1) return upper === 0 ? Infinity : 0;
  // the smaller tail: F = P (lowerTail) or Q, F(x) = t <= 1/2
  let lowerTail = upper === 0;
  let t = p;
  if (p > 0.5) {
    t = 1 - p;
    lowerTail = !lowerTail;
  }
  const logT = Math.log(t);
  const sign = lowerTail ? 1 : -1; // F increases (P) or decreases (Q) with x
  let lo = 0;
  let hi = Infinity;
  // g(x) = log(F(x) / t), narrowing the bracket as a side effect
  function g(x: number): number {
    const v = Math.log(incompleteGammaScalar(a, x, lg, lowerTail ? 0 : 1)) - logT;
    if (sign * v < 0) lo = Math.max(lo, x);
    else if (sign * v > 0) hi = Math.min(hi, x);
    return v;
  }
  const zUpper = -ndtriScalar(t); // the normal quantile of the upper tail t
  const guesses: number[] = [];
  // Wilson-Hilferty: (X / a)^(1/3) is nearly normal with mean 1 - 1/(9a), variance 1/(9a)
  const c = 1 / (9 * a);
  const base = 1 - c + (lowerTail ? -zUpper : zUpper) * Math.sqrt(c);
  if (base > 0) guesses.push(a * base * base * base);
  if (lowerTail) {
    // P(a, x) ~ x^a / (a Gamma(a)) as x -> 0
    guesses.push(Math.exp((logT + Math.log(a) + lg) / a));
  } else {
    // Q(a, x) ~ x^(a-1) e^-x / Gamma(a) as x -> inf: x = -log t - lg + (a - 1) log x, iterated
    let x = Math.max(1, -logT);
    for (let i = 0; i < 4; i++) x = Math.max(1e-300, -logT - lg + (a - 1) * Math.log(x));
    guesses.push(x);
  }
  // below the smallest subnormal: P(a, 5e-324) > t already (the power law exceeds P)
  if (lowerTail && !(guesses[guesses.length - 1]! > 1e-300) && g(Number.MIN_VALUE) > 0) return 0;
  let x = NaN;
  let gx = Infinity;
  for (const guess of guesses) {
    if (!(guess > 0 && guess < Infinity)) continue;
    const v = g(guess);
    if (Math.abs(v) < Math.abs(gx) || Number.isNaN(x)) {
      x = guess;
      gx = v;
    }
  }
  if (Number.isNaN(x)) x = a; // not reached for valid operands (the power laws are positive)
  if (Number.isNaN(gx)) gx = g(x);
  let best = x;
  let bestG = gx;
  for (let iter = 0; iter < 300; iter++) {
    if (gx === 0) break;
    // Newton in log x: dg / d log x = sign x f(x) / F(x), log f(x) = (a - 1) log x - x - lg
    const slope = sign * Math.exp(a * Math.log(x) - x - lg - (gx + logT));
    const step = -gx / slope;
    let next = x * Math.exp(step);
    if (!(next > lo && next < hi)) {
      // bisection: geometric for wide brackets, expanding where one side is open
      if (lo === 0) next = hi === Infinity ? x : hi / 16;
      else if (hi === Infinity) next = lo * 16;
      else if (hi > 4 * lo) next = Math.sqrt(lo) * Math.sqrt(hi);
      else next = lo + (hi - lo) / 2;
    } else if (Math.abs(step) < 1e-15) {
      x = next;
      break;
    }
    if (next === x || (hi - lo <= 1e-15 * hi && lo > 0 && hi < Infinity)) break;
    x = next;
    gx = g(x);
    if (Math.abs(gx) < Math.abs(bestG)) {
      best = x;
      bestG = gx;
    }
  }
  // the last point evaluated, unless an earlier one came closer (the iteration can
  // end on a bisection step at the bracket's edge when the root lies within an ulp)
  return Math.abs(gx) <= Math.abs(bestG) ? x : best;
}

/**
 * The x in [0, 1] with I_x(a, b) = p (upper = 0) or 1 - I_x(a, b) = p
 * (upper = 1), given lb = log B(a, b); p = 0 gives 0 (upper: 1), p = 1 gives
 * 1 (upper: 0); NaN for a, b <= 0, p outside [0, 1] or NaN operands.
 */
function betaincinvScalar(a: number, b: number, p: number, lb: number, upper: number): number {
  if (Number.isNaN(a) || Number.isNaN(b) || Number.isNaN(p) || Number.isNaN(lb)) return NaN;
  if (a <= 0 || b <= 0 || p < 0 || p > 1) return NaN;
  if (p === 0 || p === 1) return upper === 0 ? p : 1 - p;
  // the smaller tail: F = I_x(a, b) (lowerTail) or 1 - I_x(a, b) = I_(1-x)(b, a), F(x) = t <= 1/2
  // p is I_x(a, b) (upper = 0) or 1 - I_x(a, b) (upper = 1)
  const lowerTail = upper === 0 ? p <= 0.5 : p > 0.5;
  const t = p <= 0.5 ? p : 1 - p;
  const logT = Math.log(t);
  let lo = 0;
  let hi = 1;
  function g(x: number): number {
    // upper tail: I_(1-x)(b, a), 1 - x exact for x >= 1/2; below, 1 - I_x(a, b) (1 - x
    // rounds x's low digits away) unless that cancels (I_x > 3/4), then I_(1-x)(b, a)
    // anyway (x is then known to an absolute, not relative, ulp)
    let f: number;
    if (lowerTail) f = betaincScalar(a, b, x, lb);
    else if (x >= 0.5) f = betaincScalar(b, a, 1 - x, lb);
    else {
      const lower = betaincScalar(a, b, x, lb);
      f = lower <= 0.75 ? 1 - lower : betaincScalar(b, a, 1 - x, lb);
    }
    const v = Math.log(f) - logT;
    // F increases with x in the lower tail, decreases in the upper
    if ((lowerTail ? v : -v) < 0) lo = Math.max(lo, x);
    else if ((lowerTail ? v : -v) > 0) hi = Math.min(hi, x);
    return v;
  }
  const logP = upper === 0 ? Math.log(p) : Math.log1p(-p); // log I_x(a, b)
  const logQ = upper === 0 ? Math.log1p(-p) : Math.log(p); // log(1 - I_x(a, b))
  const guesses: number[] = [];
  // I_x(a, b) ~ x^a / (a B(a, b)) as x -> 0, and 1 - I_x ~ (1 - x)^b / (b B(a, b)) as x -> 1
  guesses.push(Math.exp((logP + Math.log(a) + lb) / a));
  guesses.push(-Math.expm1((logQ + Math.log(b) + lb) / b));
  // normal approximation (Abramowitz-Stegun 26.5.22), for a, b > 1
  if (a > 1 && b > 1) {
    const zUpper = -ndtriScalar(t); // the normal quantile of the upper tail t
    const y = lowerTail ? zUpper : -zUpper; // the quantile of 1 - p
    const lambda = (y * y - 3) / 6;
    const h = 2 / (1 / (2 * a - 1) + 1 / (2 * b - 1));
    const ww =
      (y * Math.sqrt(h + lambda)) / h -
      (1 / (2 * b - 1) - 1 / (2 * a - 1)) * (lambda + 5 / 6 - 2 / (3 * h));
    guesses.push(a / (a + b * Math.exp(2 * ww)));
  }
  guesses.push(a / (a + b));
  // below the smallest subnormal: I_x(a, b) at x = 5e-324 exceeds t already
  if (lowerTail && !(guesses[0]! > 1e-300) && g(Number.MIN_VALUE) > 0) return 0;
  // within half an ulp of 1: at x = 1 - 2^-53, I_x(a, b) < p still
  if (!(guesses[1]! < 1 - 1e-15)) {
    const v = g(1 - 2 ** -53);
    if (lowerTail ? v < 0 : v > 0) return 1;
  }
  let x = NaN;
  let gx = Infinity;
  for (const guess of guesses) {
    if (!(guess > 0 && guess < 1)) continue;
    const v = g(guess);
    if (Math.abs(v) < Math.abs(gx) || Number.isNaN(x)) {
      x = guess;
      gx = v;
    }
  }
  if (Number.isNaN(x)) return lowerTail ? 0 : 1; // every guess at the end of the range
  let best = x;
  let bestG = gx;
  for (let iter = 0; iter < 300; iter++) {
    if (gx === 0 || Number.isNaN(gx)) break;
    // log f(x) = (a - 1) log x + (b - 1) log(1 - x) - lb, f the density
    const logF = gx + logT;
    const logDensity = (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - lb;
    const sign = lowerTail ? 1 : -1; // F increases (lower tail) or decreases with x
    let next: number;
    let step: number;
    if (x < 0.5) {
      // Newton in log x: dg / d log x = sign x f(x) / F(x)
      step = -gx / (sign * Math.exp(Math.log(x) + logDensity - logF));
      next = x * Math.exp(step);
    } else {
      // Newton in log(1 - x) (which keeps x's distance to 1 exact): dg / d log(1 - x) = -sign (1 - x) f(x) / F(x)
      const y = 1 - x;
      step = -gx / (-sign * Math.exp(Math.log(y) + logDensity - logF));
      next = 1 - y * Math.exp(step);
    }
    if (!(next > lo && next < hi)) {
      const ylo = 1 - lo;
      const yhi = 1 - hi;
      if (lo === 0) next = Math.min(hi / 16, lo + (hi - lo) / 2);
      else if (hi === 1) next = Math.max(1 - ylo / 16, lo + (hi - lo) / 2);
      else if (hi > 4 * lo) next = Math.sqrt(lo) * Math.sqrt(hi);
      else if (ylo > 4 * yhi) next = 1 - Math.sqrt(ylo) * Math.sqrt(yhi);
      else next = lo + (hi - lo) / 2;
    } else if (Math.abs(step) < 1e-15) {
      x = next;
      break;
    }
    if (next === x || hi - lo <= 1e-15 * Math.min(hi, 1 - lo)) break;
    x = next;
    gx = g(x);
    if (Math.abs(gx) < Math.abs(bestG)) {
      best = x;
      bestG = gx;
    }
  }
  // the last point evaluated, unless an earlier one came closer (the iteration can
  // end on a bisection step at the bracket's edge when the root lies within an ulp)
  return Math.abs(gx) <= Math.abs(bestG) ? x : best;
}

/** f(x) = x^(a-1) e^-x / Gamma(a), the gamma density (a - 1) log x taken as 0 where a = 1) */
function gammaDensity(a: Array, x: Array, lg: Array): Array {
  const one = fullLike(a, 1);
  const power = select(eq(a, one), fullLike(a, 0), mul(sub(a, one), log(x)));
  return exp(sub(sub(power, x), lg));
}

/**
 * x = gammaincinv(a, p) (upper = 0) or gammainccinv(a, q) (upper = 1) as one
 * primitive of (a, p, lgamma(a), upper). Inverse function theorem: P(a, x(p)) = p
 * gives dx/dp = 1 / f(x); Q(a, x(q)) = q gives dx/dq = -1 / f(x).
 */
export const incompleteGammaInv = incompletePrimitive(
  "incompleteGammaInv",
  "special.gammaincinv/gammainccinv (also behind stats.gammaPpf and chi2Ppf)",
  gammaincinvScalar,
  1,
  "a",
  ([a, , lg, upper], x) => {
    const signOf = sub(fullLike(a!, 1), mul(upper!, fullLike(a!, 2))); // 1 for P, -1 for Q
    return div(signOf, gammaDensity(a!, x, lg!));
  },
  { standalone: false },
);

/**
 * x = betaincinv(a, b, p) (upper = 0) as a primitive of (a, b, p, log B(a, b), upper);
 * upper = 1 solves 1 - I_x(a, b) = p instead (exact for p near 0 where 1 - p would
 * round; stats.studentTPpf uses it). I_(x(p))(a, b) = p gives dx/dp = 1 / f(x),
 * f(x) = x^(a-1) (1 - x)^(b-1) / B(a, b); the upper form -1 / f(x).
 */
export const incompleteBetaInv = incompletePrimitive(
  "incompleteBetaInv",
  "special.betaincinv (also behind stats.betaPpf and studentTPpf)",
  betaincinvScalar,
  2,
  "a and b",
  ([a, b, , lb, upper], x) => {
    const one = fullLike(x, 1);
    const zero = fullLike(x, 0);
    const left = select(eq(a!, one), zero, mul(sub(a!, one), log(x)));
    const right = select(eq(b!, one), zero, mul(sub(b!, one), log1p(neg(x))));
    const signOf = sub(one, mul(upper!, fullLike(x, 2))); // 1 for I, -1 for 1 - I
    return div(signOf, exp(sub(add(left, right), lb!)));
  },
  { standalone: false },
);
