/**
 * `special`: special functions in the manner of jax.scipy.special, elementwise
 * with NumPy broadcasting, on float64 and float32 (ints promote to float64),
 * differentiable (forward and reverse, any order the rules allow), and
 * working under vmap and jit. The functions of one argument and polygamma
 * are primitives of src/primitives/special.ts (accurate kernels on numbers);
 * the rest (expit, logit, xlogy, xlog1py, softplus, betaln) are composites.
 *
 * The incomplete gamma and beta functions are differentiable in x; their
 * derivatives in a (and b) are not implemented and raise an
 * InvalidArgumentError when asked for. Their inverses in x (gammaincinv,
 * gammainccinv, betaincinv, betainccinv; primitives of
 * src/primitives/special-inverse.ts) are differentiable in the probability.
 *
 * @module
 */
import { Array as NdArray, ConcreteArray, type ArrayLike } from "../core/array.js";
type Array = NdArray;
import { InvalidArgumentError } from "../core/errors.js";
import * as np from "../numpy/index.js";
import { arr, asFloat, broadcastAll } from "../numpy/core.js";
import * as nn from "../nn/index.js";
import * as ew from "../primitives/elementwise.js";
import { fullLike } from "../primitives/operands.js";
import * as sp from "../primitives/special.js";
import * as inv from "../primitives/special-inverse.js";

const unary =
  (fn: string, op: (x: Array) => Array) =>
  (x: ArrayLike): Array =>
    op(asFloat(arr(x, `special.${fn}`)));

/**
 * Float operands of one dtype, broadcast to one shape. The dtype is float32
 * when every array argument is float32 (or bool) and one is float32, else
 * float64; plain JS numbers adopt it (NumPy's weak scalars).
 */
function floats(fn: string, args: readonly ArrayLike[]): Array[] {
  const arrays = args.filter((a): a is Array => a instanceof NdArray);
  const single =
    arrays.some((a) => a.dtype === "float32") &&
    arrays.every((a) => a.dtype === "float32" || a.dtype === "bool");
  const dtype = single ? "float32" : "float64";
  const xs = args.map((a, i) => {
    const v = arr(a, `special.${fn}`, `argument ${i + 1}`);
    return v.dtype === dtype ? v : ew.convert(v, dtype);
  });
  return broadcastAll(`special.${fn}`, xs);
}

/**
 * The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt (same as np.erf).
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.erf(0); // 0
 * ```
 */
export const erf = (x: ArrayLike): Array => np.erf(x);

/**
 * The complementary error function 1 - erf(x), accurate in the upper tail
 * (erfc(10) = 2.088e-45 to a few ulp).
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.erfc(0); // 1
 * ```
 */
export const erfc = unary("erfc", sp.erfc);

/**
 * The inverse error function on [-1, 1] (±1 give ±Infinity).
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.erfinv(0.5); // 0.4769...
 * ```
 */
export const erfinv = unary("erfinv", sp.erfinv);

/**
 * The standard normal cdf, accurate in both tails (ndtr(-30) = 4.9e-198).
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.ndtr(0); // 0.5
 * ```
 */
export const ndtr = unary("ndtr", sp.ndtr);

/**
 * log of the standard normal cdf, finite for any finite x (about -x^2/2 for x -> -inf).
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.logNdtr(-40); // -804.6...
 * ```
 */
export const logNdtr = unary("logNdtr", sp.logNdtr);

/**
 * The standard normal quantile (inverse of ndtr) on [0, 1].
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.ndtri(0.975); // 1.959963984540054
 * ```
 */
export const ndtri = unary("ndtri", sp.ndtri);

/**
 * log |Gamma(x)|, +Infinity at the poles 0, -1, -2, ...; its derivative is digamma.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.gammaln(5); // log 24
 * ```
 */
export const gammaln = unary("gammaln", sp.lgamma);

/**
 * The digamma function psi(x) = d/dx log Gamma(x) (NaN at the poles).
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.digamma(1); // -0.5772156649015329 (minus Euler's constant)
 * ```
 */
export const digamma = unary("digamma", sp.digamma);

/**
 * The polygamma function psi^(n)(x), the n-th derivative of digamma, for
 * integer n >= 0 (n broadcasts with x; n = 0 is digamma). Differentiable
 * in x only.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.polygamma(1, 1); // pi^2 / 6
 * ```
 */
export function polygamma(n: ArrayLike, x: ArrayLike): Array {
  const order = arr(n, "special.polygamma", "n");
  if (order instanceof ConcreteArray) {
    for (const v of order.data()) {
      if (!Number.isInteger(v) || v < 0) {
        throw new InvalidArgumentError(
          `special.polygamma: the order n must hold non-negative integers, got ${v} ` +
            `(n of shape [${order.shape.join(", ")}]); for non-integer orders there is no polygamma`,
        );
      }
    }
  }
  const [nv, xv] = floats("polygamma", [asFloat(order), x]);
  const zero = ew.eq(nv!, fullLike(nv!, 0));
  const positive = ew.select(zero, fullLike(nv!, 1), nv!);
  return ew.select(zero, sp.digamma(xv!), sp.polygamma(positive, xv!));
}

/**
 * log |B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b).
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.betaln(1, 2); // log(1/2)
 * ```
 */
export function betaln(a: ArrayLike, b: ArrayLike): Array {
  const [av, bv] = floats("betaln", [a, b]);
  return ew.sub(ew.add(sp.lgamma(av!), sp.lgamma(bv!)), sp.lgamma(ew.add(av!, bv!)));
}

/**
 * The regularised lower incomplete gamma function P(a, x) =
 * gamma(a, x) / Gamma(a), a > 0, x >= 0. Differentiable in x
 * (dP/dx = x^(a-1) e^-x / Gamma(a)); a derivative in a raises an error.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.gammainc(1, 2); // 1 - exp(-2)
 * ```
 */
export function gammainc(a: ArrayLike, x: ArrayLike): Array {
  const [av, xv] = floats("gammainc", [a, x]);
  return sp.incompleteGamma(av!, xv!, sp.lgamma(av!), fullLike(av!, 0));
}

/**
 * The regularised upper incomplete gamma function Q(a, x) = 1 - P(a, x),
 * accurate where it is small. Differentiable in x only.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.gammaincc(1, 2); // exp(-2)
 * ```
 */
export function gammaincc(a: ArrayLike, x: ArrayLike): Array {
  const [av, xv] = floats("gammaincc", [a, x]);
  return sp.incompleteGamma(av!, xv!, sp.lgamma(av!), fullLike(av!, 1));
}

/**
 * The regularised incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1.
 * Differentiable in x (dI/dx = x^(a-1) (1-x)^(b-1) / B(a, b)); a derivative
 * in a or b raises an error.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.betainc(1, 1, 0.3); // 0.3
 * ```
 */
export function betainc(a: ArrayLike, b: ArrayLike, x: ArrayLike): Array {
  const [av, bv, xv] = floats("betainc", [a, b, x]);
  const lb = ew.sub(ew.add(sp.lgamma(av!), sp.lgamma(bv!)), sp.lgamma(ew.add(av!, bv!)));
  return sp.incompleteBeta(av!, bv!, xv!, lb);
}

/**
 * The inverse of gammainc in x: the x >= 0 with P(a, x) = p, for a > 0 and
 * 0 <= p <= 1 (p = 0 gives 0, p = 1 gives Infinity; NaN outside). A
 * safeguarded Newton iteration on log P from a Wilson-Hilferty or power-law
 * start; measured round trips P(a, x) = p within 2e-13 relative for
 * a in [1e-2, 1e3], p down to 1e-300 (see docs/design.md). Differentiable in
 * p (dx/dp = 1 / f(x), f the gamma density); a derivative in a raises an error.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const x = special.gammaincinv(1, 0.5); // log 2
 * ```
 */
export function gammaincinv(a: ArrayLike, p: ArrayLike): Array {
  const [av, pv] = floats("gammaincinv", [a, p]);
  return inv.incompleteGammaInv(av!, pv!, sp.lgamma(av!), fullLike(av!, 0));
}

/**
 * The inverse of gammaincc in x: the x >= 0 with Q(a, x) = q (q = 1 gives 0,
 * q = 0 gives Infinity), accurate for small q (the upper tail). Differentiable
 * in q (dx/dq = -1 / f(x)); a derivative in a raises an error.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const x = special.gammainccinv(1, 1e-300); // 300 log 10 = 690.7755...
 * ```
 */
export function gammainccinv(a: ArrayLike, q: ArrayLike): Array {
  const [av, qv] = floats("gammainccinv", [a, q]);
  return inv.incompleteGammaInv(av!, qv!, sp.lgamma(av!), fullLike(av!, 1));
}

/**
 * The inverse of betainc in x: the x in [0, 1] with I_x(a, b) = p, for
 * a, b > 0 and 0 <= p <= 1 (p = 0 gives 0, p = 1 gives 1; NaN outside).
 * Differentiable in p (dx/dp = 1 / f(x), f the beta density); a derivative
 * in a or b raises an error.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const x = special.betaincinv(2, 1, 0.25); // 0.5 (I_x(2, 1) = x^2)
 * ```
 */
export function betaincinv(a: ArrayLike, b: ArrayLike, p: ArrayLike): Array {
  const [av, bv, pv] = floats("betaincinv", [a, b, p]);
  const lb = ew.sub(ew.add(sp.lgamma(av!), sp.lgamma(bv!)), sp.lgamma(ew.add(av!, bv!)));
  return inv.incompleteBetaInv(av!, bv!, pv!, lb, fullLike(av!, 0));
}

/**
 * The x in [0, 1] with 1 - I_x(a, b) = q (SciPy's betainccinv), accurate for
 * q near 0 where betaincinv(a, b, 1 - q) would lose q to rounding.
 * Differentiable in q; a derivative in a or b raises an error.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const x = special.betainccinv(1, 2, 0.25); // 0.5 ((1 - x)^2 = q)
 * ```
 */
export function betainccinv(a: ArrayLike, b: ArrayLike, q: ArrayLike): Array {
  const [av, bv, qv] = floats("betainccinv", [a, b, q]);
  const lb = ew.sub(ew.add(sp.lgamma(av!), sp.lgamma(bv!)), sp.lgamma(ew.add(av!, bv!)));
  return inv.incompleteBetaInv(av!, bv!, qv!, lb, fullLike(av!, 1));
}

/**
 * exp(-|x|) I0(x), the exponentially scaled modified Bessel function of order 0.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.i0e(0); // 1
 * ```
 */
export const i0e = unary("i0e", sp.i0e);
/**
 * exp(-|x|) I1(x), the exponentially scaled modified Bessel function of order 1.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.i1e(0); // 0
 * ```
 */
export const i1e = unary("i1e", sp.i1e);

/**
 * The logistic sigmoid 1 / (1 + exp(-x)) (the same as nn.sigmoid).
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.expit(0); // 0.5
 * ```
 */
export const expit = (x: ArrayLike): Array => nn.sigmoid(asFloat(arr(x, "special.expit")));

/**
 * log(p / (1 - p)), the inverse of expit. For 1/4 <= p <= 3/4 it is
 * log1p((2p - 1) / (1 - p)) (2p - 1 exact), which keeps relative accuracy
 * near p = 1/2 where log p - log1p(-p) would cancel; elsewhere that difference.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.logit(0.5); // 0
 * ```
 */
export const logit = unary("logit", (p) => {
  const central = ew.logicalAnd(ew.ge(p, fullLike(p, 0.25)), ew.le(p, fullLike(p, 0.75)));
  const one = fullLike(p, 1);
  const nearHalf = ew.log1p(ew.div(ew.sub(ew.mul(p, fullLike(p, 2)), one), ew.sub(one, p)));
  const tails = ew.sub(ew.log(p), ew.log1p(ew.neg(p)));
  return ew.select(central, nearHalf, tails);
});

/**
 * x * log(y), taken as 0 where x = 0 (also for y = 0 or y = inf). Its
 * derivative in x is log y, in y x / y.
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.xlogy(0, 0); // 0
 * ```
 */
export function xlogy(x: ArrayLike, y: ArrayLike): Array {
  const [xv, yv] = floats("xlogy", [x, y]);
  // y is replaced by 1 where x = 0 and log y is not finite, so that 0 * log y stays 0
  const bad = ew.logicalNot(
    ew.logicalAnd(ew.gt(yv!, fullLike(yv!, 0)), ew.lt(yv!, fullLike(yv!, Infinity))),
  );
  const safeY = ew.select(ew.logicalAnd(ew.eq(xv!, fullLike(xv!, 0)), bad), fullLike(yv!, 1), yv!);
  return ew.mul(xv!, ew.log(safeY));
}

/**
 * x * log1p(y), taken as 0 where x = 0 (also for y = -1 or y = inf).
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.xlog1py(0, -1); // 0
 * ```
 */
export function xlog1py(x: ArrayLike, y: ArrayLike): Array {
  const [xv, yv] = floats("xlog1py", [x, y]);
  const bad = ew.logicalNot(
    ew.logicalAnd(ew.gt(yv!, fullLike(yv!, -1)), ew.lt(yv!, fullLike(yv!, Infinity))),
  );
  const safeY = ew.select(ew.logicalAnd(ew.eq(xv!, fullLike(xv!, 0)), bad), fullLike(yv!, 0), yv!);
  return ew.mul(xv!, ew.log1p(safeY));
}

/**
 * log(1 + exp(x)) without overflow (the same as nn.softplus).
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.softplus(0); // log 2
 * ```
 */
export const softplus = (x: ArrayLike): Array => nn.softplus(asFloat(arr(x, "special.softplus")));

/**
 * log(sum(exp(x))) along `axis`, stably (the same as np.logsumexp).
 * @example
 * ```ts
 * import { special } from "chainrule";
 * const y = special.logsumexp([0, 0]); // log 2
 * ```
 */
export const logsumexp = np.logsumexp;
