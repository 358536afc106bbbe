/**
 * Special-function primitives (the family behind `special` and the stats
 * cdfs): erfc, erfinv, ndtr, logNdtr, ndtri, lgamma, digamma, polygamma,
 * the regularised incomplete gamma (gammainc, gammaincc) and beta (betainc)
 * functions, and the exponentially scaled Bessel functions i0e and i1e.
 *
 * Each is an elementwise primitive declared as docs/design.md "Adding a
 * primitive" says: a `scalar` (float64 arithmetic; float32 results are
 * that value rounded, so within one float32 ulp of a correct float64 value),
 * a derivative rule written with other primitives (so higher orders, vmap
 * and jit follow), and a conformance entry. emitSource prints a scalar's
 * source into standalone code, so a scalar refers to no module variable
 * except the shared kernels (erfcx, the inverses of erf and erfc) that its
 * rule lists in `uses`, which emitSource prints too.
 *
 * The incomplete gamma and beta primitives take log Gamma(a) (resp. log
 * B(a, b)) as an extra operand, computed by the caller with `lgamma`, so
 * that their scalars need no log-gamma kernel (and their derivative rules
 * reuse the same operand). They are
 * differentiable in x only; a tangent in a, b (or in those extra operands)
 * raises InvalidArgumentError.
 *
 * Coefficient tables come from scripts/special-coefficients.py (mpmath).
 */
import type { Array } from "../core/array.js";
import { ConcreteArray } from "../core/array.js";
import { DTypeError, InvalidArgumentError } from "../core/errors.js";
import { type ElementwiseRule, definePrimitive, type PrimitiveDef } from "../core/primitive.js";
import { bind } from "../core/trace.js";
import { allocate, isFloat } from "../core/dtype.js";
import { fullLike, sameShapeDtype } from "./operands.js";
import { elementwiseBatch } from "./movement.js";
import {
  add,
  binary,
  div,
  eq,
  exp,
  log,
  log1p,
  mul,
  neg,
  select,
  sign,
  sub,
  unary,
} from "./elementwise.js";

/**
 * The float32 WGSL form of a special function on webgpu: a call of `fn`, a
 * function of the webgpu kernel library (backends/webgpu/specialWgsl.ts).
 */
const wgslCall =
  (fn: string) =>
  (args: readonly string[]): string =>
    `${fn}(${args.join(", ")})`;

const SQRT_PI_OVER_2 = Math.sqrt(Math.PI) / 2;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);

// ------------------------------------------------------------------ erf --

/*
 * The kernels that several scalars below share. Each is a function
 * declaration that refers to nothing of this module but the kernels above
 * it, so that emitSource can print it into standalone code: a scalar that
 * calls them lists them, callees first, in its rule's `uses`.
 */

/**
 * erf a = 2/sqrt(pi) sum_n (-1)^n a^(2n+1) / (n! (2n + 1)), the Taylor
 * series, for |a| < 1/2 (terms fall by a^2 / n: no cancellation to speak of).
 */
function erfTaylor(a: number): number {
  const a2 = a * a;
  let term = a;
  let sum = a;
  for (let n = 1; n < 40; n++) {
    term *= -a2 / n;
    const t = term / (2 * n + 1);
    sum += t;
    if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
  }
  return 1.1283791670955126 * sum;
}

/**
 * h with Gamma(a, x) = exp(-x) x^a h, the upper incomplete gamma function's
 * continued fraction (Legendre's, in its even form: h = 1/(b0 - 1(1 - a)/(b0
 * + 2 - 2(2 - a)/(b0 + 4 - ...))), b0 = x + 1 - a, passed in so that callers
 * keep their own rounding of it), evaluated forwards by Lentz's method until
 * a step changes h by less than 1e-16, at most `maxSteps` steps.
 */
function upperGammaFraction(a: number, b0: number, maxSteps: number): number {
  let b = b0;
  let c = 1e300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < maxSteps; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/**
 * erfcx t = exp(t^2) erfc t for t >= 0. t < 1/2: from erf's series; t < 3.0625:
 * a Taylor series about the nearest table point; beyond: t h / sqrt(pi),
 * since sqrt(pi) erfc t = Gamma(1/2, t^2) = exp(-t^2) t h with h the
 * continued fraction for a = 1/2, x = t^2 (upperGammaFraction); 1/(sqrt(pi) t)
 * past 1e8.
 */
function erfcx(t: number): number {
  if (t > 1e8) return 0.5641895835477563 / t;
  if (t < 0.5) return Math.exp(t * t) * (1 - erfTaylor(t));
  if (t < 3.0625) {
    // Taylor series about the nearest c = 1/2 + k/8 (|h| <= 1/16) from
    // erfcx' = 2 t erfcx - 2/sqrt(pi): (j + 1) a_(j+1) = 2c a_j + 2 a_(j-1)
    const table = [
      0.6156903441929259, 0.5568138808733625, 0.5069376502931449, 0.464311583202669,
      0.427583576155807, 0.3956980795529959, 0.3678229164523611, 0.3432958898621254,
      0.3215854164543175, 0.30226120936348594, 0.2849722347374364, 0.2694299851646704,
      0.25539567631050575, 0.24267036461265454, 0.23108725873039188, 0.22050569220490668,
      0.2108063640611436, 0.201887554546017, 0.1936620962790687, 0.1860549346844711,
      0.17900115118138996,
    ];
    const k = Math.round((t - 0.5) * 8);
    const c = 0.5 + k / 8;
    const h = t - c;
    let prev = table[k]!;
    let cur = 2 * c * prev - 1.1283791670955126;
    let sum = prev + cur * h;
    let power = h;
    for (let j = 1; j < 24; j++) {
      const next = (2 * c * cur + 2 * prev) / (j + 1);
      power *= h;
      sum += next * power;
      prev = cur;
      cur = next;
    }
    return sum;
  }
  return 0.5641895835477563 * t * upperGammaFraction(0.5, t * t + 0.5, 200);
}

/** The kernels erfcx needs, callees first (for a rule's `uses`). */
const ERFCX_USES = [erfTaylor, upperGammaFraction, erfcx];

/**
 * erfcinv z = x with erfc x = z, for 0 < z <= 1/2 (x > 0.47): Newton's
 * method on log erfc x = log z, with log erfc x = log erfcx x - x^2 (x^2
 * split exactly) and derivative -2/(sqrt(pi) erfcx x); log erfc is concave,
 * so the iteration approaches the root from above without overshooting,
 * from x^2 = w - log(x sqrt(pi)) + log(1 - 1/(2x^2)), w = -log z (erfc's
 * asymptotic form, two fixed-point steps from sqrt(w - log sqrt(pi w))).
 */
function erfcinv(z: number): number {
  const logZ = Math.log(z);
  const w = -logZ;
  // x^2 = w - log(x sqrt(pi)) + log(1 - 1/(2x^2)) (erfc's asymptotic form), twice by
  // fixed point from sqrt(w - log sqrt(pi w)): a few digits, saving Newton steps
  let x = Math.sqrt(Math.max(w - Math.log(Math.sqrt(Math.PI * w)), 0.2));
  if (w > 3) {
    for (let i = 0; i < 2; i++) {
      x = Math.sqrt(w - Math.log(x * 1.772453850905516) + Math.log1p(-0.5 / (x * x)));
    }
  }
  for (let i = 0; i < 100; i++) {
    // log erfc x and erfcx x from one erfcx evaluation
    let logErfc: number;
    let scaled: number;
    if (x < 0.5) {
      const c = 1 - erfTaylor(x);
      logErfc = Math.log(c);
      scaled = Math.exp(x * x) * c;
    } else {
      scaled = erfcx(x);
      const hi = x * x;
      const split = 134217729 * x;
      const xh = split - (split - x);
      const xl = x - xh;
      const lo = xh * xh - hi + 2 * xh * xl + xl * xl;
      logErfc = Math.log(scaled) - lo - hi;
    }
    const step = (logErfc - logZ) * scaled * 0.886226925452758;
    x += step;
    if (Math.abs(step) <= 1e-16 * x) break;
  }
  return x;
}

/**
 * erfinv a for 0 < a <= 1/2 (x < 0.48): Halley's iteration on erf x - a, erf
 * by its Taylor series, from x = sqrt(pi)/2 a (1 + pi a^2 / 12); the
 * residual is relative to a, so small a keep full relative accuracy.
 */
function erfinvSmall(a: number): number {
  let x = 0.886226925452758 * a * (1 + 0.2617993877991494 * a * a);
  for (let i = 0; i < 8; i++) {
    const u = (erfTaylor(x) - a) / (1.1283791670955126 * Math.exp(-x * x));
    x -= u / (1 + x * u);
    if (Math.abs(u) <= 1e-17 * x) break;
  }
  return x;
}

/** The kernels of erf's inverses (erfcinv, erfinvSmall and what they call), callees first. */
const ERFINV_USES = [...ERFCX_USES, erfcinv, erfinvSmall];

/**
 * erfc x. |x| < 1/2: 1 - erf x by erf's Taylor series. |x| >= 1/2:
 * erfc |x| = exp(-x^2) erfcx |x|, with x^2 = hi + lo split exactly
 * (Veltkamp/Dekker) so exp(-x^2) = exp(-hi)(1 - lo) carries no rounding of
 * x^2; erfc(-x) = 2 - erfc x.
 */
function erfcScalar(x: number): number {
  function expMinusSquare(a: number): number {
    const hi = a * a;
    if (hi > 800) return 0;
    const split = 134217729 * a;
    const ah = split - (split - a);
    const al = a - ah;
    const lo = ah * ah - hi + 2 * ah * al + al * al;
    return Math.exp(-hi) * (1 - lo);
  }
  if (Number.isNaN(x)) return x;
  if (x > -0.5 && x < 0.5) return 1 - erfTaylor(x);
  const a = Math.abs(x);
  const tail = a === Infinity ? 0 : expMinusSquare(a) * erfcx(a);
  return x > 0 ? tail : 2 - tail;
}
// d erfc x = -2/sqrt(pi) exp(-x^2) dx
export const erfc = unary(
  "erfc",
  { scalar: erfcScalar, uses: ERFCX_USES, wgsl: wgslCall("erfcF32") },
  (x, dx) => mul(dx, mul(fullLike(x, -TWO_OVER_SQRT_PI), exp(neg(mul(x, x))))),
  { floatOnly: true },
);

/** erfinv y = sign(y) erfinvSmall |y| for |y| <= 1/2, else sign(y) erfcinv(1 - |y|) (1 - |y| exact). */
function erfinvScalar(y: number): number {
  if (Number.isNaN(y) || y < -1 || y > 1) return NaN;
  if (y === 0) return y;
  const a = Math.abs(y);
  if (a === 1) return y * Infinity;
  const x = a <= 0.5 ? erfinvSmall(a) : erfcinv(1 - a);
  return y < 0 ? -x : x;
}
// d erfinv y = sqrt(pi)/2 exp(erfinv(y)^2) dy
export const erfinv = unary(
  "erfinv",
  { scalar: erfinvScalar, uses: ERFINV_USES, wgsl: wgslCall("erfinvF32") },
  (y, dy, out) => mul(dy, mul(fullLike(y, SQRT_PI_OVER_2), exp(mul(out, out)))),
  { floatOnly: true },
);

// ------------------------------------------------------------ normal --

/**
 * ndtr x = P(N(0, 1) <= x) = erfc(-x / sqrt 2) / 2. With t = |x| / sqrt 2:
 * t < 1/2: (1 - erf(-x / sqrt 2)) / 2 by erf's series (result in (0.3, 0.7));
 * x < 0: exp(-x^2/2) erfcx(t) / 2, x^2 split exactly (the rounding of t
 * only moves erfcx, which varies slowly, by about one ulp), so the lower
 * tail keeps full relative accuracy down to underflow; x > 0: 1 - that.
 */
function ndtrScalar(x: number): number {
  if (Number.isNaN(x)) return x;
  const t = Math.abs(x) * 0.7071067811865476;
  if (t < 0.5) return 0.5 * (1 - erfTaylor(-x * 0.7071067811865476));
  let tail = 0;
  const hi = x * x;
  if (hi < 1500) {
    const split = 134217729 * x;
    const xh = split - (split - x);
    const xl = x - xh;
    const lo = xh * xh - hi + 2 * xh * xl + xl * xl;
    tail = 0.5 * Math.exp(-0.5 * hi) * (1 - 0.5 * lo) * erfcx(t);
  }
  return x < 0 ? tail : 1 - tail;
}
// d ndtr x = exp(-x^2/2) / sqrt(2 pi) dx
export const ndtr = unary(
  "ndtr",
  { scalar: ndtrScalar, uses: ERFCX_USES, wgsl: wgslCall("ndtrF32") },
  (x, dx) => mul(dx, exp(sub(mul(mul(x, x), fullLike(x, -0.5)), fullLike(x, LOG_SQRT_2PI)))),
  { floatOnly: true },
);

/**
 * log ndtr x. x < -1/sqrt 2: log(erfcx(t)/2) - x^2/2 with x^2 split exactly
 * (no underflow: about -x^2/2 for any x); |x| <= 1/sqrt 2: log of the series
 * form; x > 1/sqrt 2: log1p(-ndtr(-x)), accurate where ndtr is near 1.
 */
function logNdtrScalar(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x === -Infinity) return x;
  if (x === Infinity) return 0;
  const t = Math.abs(x) * 0.7071067811865476;
  if (t < 0.5) return Math.log(0.5 * (1 - erfTaylor(-x * 0.7071067811865476)));
  const hi = x * x;
  if (x > 0) {
    if (hi > 1500) return -0;
    const split = 134217729 * x;
    const xh = split - (split - x);
    const xl = x - xh;
    const lo = xh * xh - hi + 2 * xh * xl + xl * xl;
    return Math.log1p(-0.5 * Math.exp(-0.5 * hi) * (1 - 0.5 * lo) * erfcx(t));
  }
  if (hi === Infinity) return -Infinity;
  const split = 134217729 * x;
  const xh = Number.isFinite(split) ? split - (split - x) : x;
  const xl = x - xh;
  const lo = xh * xh - hi + 2 * xh * xl + xl * xl;
  return Math.log(0.5 * erfcx(t)) - 0.5 * lo - 0.5 * hi;
}
// d logNdtr x = phi(x) / ndtr(x) dx = exp(-x^2/2 - log sqrt(2 pi) - logNdtr x) dx
export const logNdtr = unary(
  "logNdtr",
  { scalar: logNdtrScalar, uses: ERFCX_USES, wgsl: wgslCall("logNdtrF32") },
  (x, dx, out) =>
    mul(dx, exp(sub(sub(mul(mul(x, x), fullLike(x, -0.5)), fullLike(x, LOG_SQRT_2PI)), out))),
  { floatOnly: true },
);

/**
 * ndtri p, the standard normal quantile: p < 1/4: -sqrt2 erfcinv(2p);
 * 1/4 <= p <= 3/4: sqrt2 erfinv(2p - 1) (2p - 1 exact, by erfinvSmall);
 * p > 3/4: sqrt2 erfcinv(2(1 - p)) (1 - p exact). erfcinv is Newton's method
 * on log erfc, so deep tails such as p = 1e-300 keep full relative accuracy.
 */
export function ndtriScalar(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p < 0.25) return -1.4142135623730951 * erfcinv(2 * p);
  if (p > 0.75) return 1.4142135623730951 * erfcinv(2 * (1 - p));
  const y = 2 * p - 1;
  if (y === 0) return 0;
  const a = Math.abs(y);
  const x = erfinvSmall(a);
  return 1.4142135623730951 * (y < 0 ? -x : x);
}
// d ndtri p = sqrt(2 pi) exp(ndtri(p)^2 / 2) dp
export const ndtri = unary(
  "ndtri",
  { scalar: ndtriScalar, uses: ERFINV_USES, wgsl: wgslCall("ndtriF32") },
  (p, dp, out) => mul(dp, mul(fullLike(p, SQRT_2PI), exp(mul(mul(out, out), fullLike(p, 0.5))))),
  { floatOnly: true },
);

// ---------------------------------------------------------------- gamma --

/**
 * lgamma(2 + e) for |e| <= 1/2 by its Taylor series about 2:
 * (1 - euler) e + sum_k z_k e^k, z_k = (-1)^k (zeta(k) - 1)/k.
 */
function lgammaNearTwo(e: number): number {
  const z = [
    0.3224670334241132, -0.0673523010531981, 0.020580808427784546, -0.007385551028673986,
    0.0028905103307415234, -0.001192753911703261, 0.0005096695247430425, -0.00022315475845357939,
    9.945751278180853e-5, -4.492623673813314e-5, 2.050721277567069e-5, -9.439488275268397e-6,
    4.374866789907488e-6, -2.039215753801366e-6, 9.55141213040742e-7, -4.492469198764566e-7,
    2.1207184805554665e-7, -1.0043224823968099e-7, 4.7698101693639804e-8, -2.2711094608943164e-8,
    1.0838659214896955e-8, -5.183475041970047e-9, 2.4836745438024785e-9, -1.1921401405860912e-9,
    5.731367241678862e-10, -2.7595228851242334e-10, 1.330476437424449e-10, -6.4229645638381e-11,
    3.1044247747322276e-11,
  ];
  let s = 0;
  for (let k = z.length - 1; k >= 0; k--) s = s * e + z[k]!;
  return e * (0.42278433509846713 + e * s);
}

/**
 * log |Gamma(x)|. Near the zeros at 1 and 2 by the Taylor series about 2,
 * lgamma(2 + e) = (1 - euler) e + sum_k z_k e^k (z_k = (-1)^k (zeta(k) - 1)/k,
 * |e| <= 1/2), and lgamma(1 + e) = lgamma(2 + e) - log1p(e) with e = x - 1
 * exact; 2.5 <= x < 12: down to [1.5, 2.5) by Gamma(x) = (x - 1) Gamma(x - 1),
 * the product's log added; x >= 12: Stirling's series
 * (x - 1/2)(log x - 1) - 1/2 + log sqrt(2 pi) + sum B_2k / (2k (2k - 1) x^(2k-1));
 * x < 1/2: the reflection log(pi / |sin(pi x)|) - lgamma(1 - x), sin(pi x)
 * on the exactly reduced argument. Poles (0, -1, -2, ...) give +Infinity.
 */
function lgammaScalar(x: number): number {
  function positive(v: number): number {
    if (v < 1.5) return lgammaNearTwo(v - 1) - Math.log1p(v - 1);
    if (v < 2.5) return lgammaNearTwo(v - 2);
    if (v < 12) {
      let prod = 1;
      while (v >= 2.5) {
        v -= 1;
        prod *= v;
      }
      return lgammaNearTwo(v - 2) + Math.log(prod);
    }
    if (v === Infinity) return v;
    const r = 1 / v;
    const r2 = r * r;
    const series =
      r *
      (1 / 12 +
        r2 *
          (-1 / 360 +
            r2 *
              (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 / 156))))));
    return (v - 0.5) * (Math.log(v) - 1) + (0.4189385332046727 + series);
  }
  if (Number.isNaN(x)) return x;
  if (x >= 0.5) return positive(x);
  if (x === -Infinity) return Infinity;
  if (Math.floor(x) === x) return Infinity;
  if (x > 0) return positive(x + 1) - Math.log(x);
  // sin(pi x) with x reduced exactly to r in [0, 1/2] (|sin| is even and 1-periodic)
  let r = Math.abs(x - 2 * Math.round(x / 2));
  if (r > 0.5) r = 1 - r;
  return Math.log(Math.PI / Math.sin(Math.PI * r)) - positive(1 - x);
}
// d lgamma x = digamma(x) dx
export const lgamma = unary(
  "lgamma",
  { scalar: lgammaScalar, uses: [lgammaNearTwo], wgsl: wgslCall("lgammaF32") },
  (x, dx) => mul(dx, digamma(x)),
  {
    floatOnly: true,
  },
);

/**
 * digamma x = d/dx log Gamma(x). On [1, 2] the Taylor series about its
 * positive root x0 (x - x0 = (x - x0hi) - x0lo exactly: relative accuracy
 * near the root), c_k = psi^(k)(x0)/k!; (0, 1): psi(x + 1) - 1/x; (2, 12):
 * down to [1, 2] by psi(x) = psi(x - 1) + 1/(x - 1); x >= 12: the asymptotic
 * series log x - 1/(2x) - sum B_2k / (2k x^2k); x < 0: the reflection
 * psi(1 - x) - pi / tan(pi x), tan on the exactly reduced argument. Poles
 * (0, -1, ...) give NaN.
 */
function digammaScalar(x: number): number {
  function nearRoot(v: number): number {
    const c = [
      0.9676722454476212, -0.4427631689835921, 0.258499760955651, -0.16394270544240652,
      0.10782405069126237, -0.07219956125645471, 0.04880428816414311, -0.03316112647484736,
      0.022597648232218104, -0.01542476590494896, 0.010538791616612175, -0.007204534386356869,
      0.004926781395729853, -0.003369801655439328, 0.002305126326734928, -0.0015769367714301972,
      0.0010788252019162967, -0.0007380709389960052, 0.000504953265834602, -0.0003454680251063077,
      0.00023635601564027053, -0.00016170622091974803, 0.0001106337276874741, -7.569179582195066e-5,
      5.178575795222081e-5, -3.5430070947659604e-5, 2.424006611860132e-5, -1.6584242271854135e-5,
      1.134638458466385e-5, -7.762817668462094e-6, 5.3110609208898636e-6, -3.6336507898010456e-6,
      2.486022733129538e-6, -1.7008538854332607e-6, 1.1636675363548843e-6, -7.96142543124197e-7,
      5.446941930669446e-7, -3.7266161283438227e-7, 2.549626552021554e-7, -1.7443695117727745e-7,
      1.1934394829830244e-7, -8.165115189488409e-8, 5.586299683532171e-8, -3.821960061917494e-8,
    ];
    const d = v - 1.4616321449683622 - 9.549995429965697e-17;
    let s = 0;
    for (let k = c.length - 1; k >= 0; k--) s = s * d + c[k]!;
    return s * d;
  }
  function positive(v: number): number {
    if (v < 1) return positive(v + 1) - 1 / v;
    if (v <= 2) return nearRoot(v);
    if (v < 12) {
      let acc = 0;
      while (v > 2) {
        v -= 1;
        acc += 1 / v;
      }
      return nearRoot(v) + acc;
    }
    if (v === Infinity) return v;
    const r2 = 1 / (v * v);
    const series =
      r2 *
      (1 / 12 +
        r2 *
          (-1 / 120 +
            r2 * (1 / 252 + r2 * (-1 / 240 + r2 * (1 / 132 + r2 * (-691 / 32760 + r2 / 12))))));
    return Math.log(v) - 0.5 / v - series;
  }
  if (Number.isNaN(x)) return x;
  if (x > 0) return positive(x);
  if (Math.floor(x) === x) return NaN;
  // pi / tan(pi x) with x reduced exactly to (-1/2, 1/2]
  const r = x - Math.round(x);
  return positive(1 - x) - Math.PI / Math.tan(Math.PI * r);
}
// d digamma x = polygamma(1, x) dx
export const digamma = unary(
  "digamma",
  { scalar: digammaScalar, wgsl: wgslCall("digammaF32") },
  (x, dx) => mul(dx, polygamma(fullLike(x, 1), x)),
  { floatOnly: true },
);

/**
 * polygamma(n, x) = (-1)^(n+1) n! zeta(n + 1, x) for integer n >= 1 (n = 0,
 * digamma, is the public wrapper's job: here NaN, as for non-integer or
 * negative n). The Hurwitz zeta sums (x + k)^-(n+1) until x + k >= 16 + n,
 * then adds the Euler-Maclaurin tail q^(1-s)/(s - 1) + q^-s / 2 +
 * sum_j B_2j/(2j)! s(s+1)...(s+2j-2) q^(-s-2j+1). Poles give NaN.
 */
function polygammaScalar(n: number, x: number): number {
  if (Number.isNaN(n) || Number.isNaN(x)) return NaN;
  if (!(n >= 1) || n === Infinity || Math.floor(n) !== n) return NaN;
  if (x <= 0 && Math.floor(x) === x) return NaN;
  if (x === Infinity) return 0;
  const s = n + 1;
  const bernoulli = [
    1 / 6,
    -1 / 30,
    1 / 42,
    -1 / 30,
    5 / 66,
    -691 / 2730,
    7 / 6,
    -3617 / 510,
    43867 / 798,
    -174611 / 330,
  ];
  let sum = 0;
  let k = 0;
  const start = 16 + n;
  while (x + k < start) {
    sum += Math.pow(x + k, -s);
    k++;
  }
  const q = x + k;
  let tail = Math.pow(q, 1 - s) / (s - 1) + 0.5 * Math.pow(q, -s);
  // term_j = B_2j/(2j)! * s (s+1) ... (s+2j-2) * q^(-s-2j+1)
  let factor = Math.pow(q, -s - 1) * s; // j = 1: s q^(-s-1)
  let fact = 2; // (2j)!
  for (let j = 1; j <= bernoulli.length; j++) {
    const term = (bernoulli[j - 1]! / fact) * factor;
    tail += term;
    if (Math.abs(term) < 1e-17 * Math.abs(tail)) break;
    factor *= ((s + 2 * j - 1) * (s + 2 * j)) / (q * q);
    fact *= (2 * j + 1) * (2 * j + 2);
  }
  let nFact = 1;
  for (let i = 2; i <= n; i++) nFact *= i;
  const zeta = sum + tail;
  return (n % 2 === 1 ? 1 : -1) * nFact * zeta;
}
// d polygamma(n, x) = polygamma(n + 1, x) dx; n is an integer order (no derivative)
export const polygamma = binary(
  "polygamma",
  { scalar: polygammaScalar, wgsl: wgslCall("polygammaF32") },
  (n, x, dn, dx) => {
    if (dn !== null) {
      throw new InvalidArgumentError(
        `polygamma: not differentiable in the order n (an integer); ` +
          `differentiate with respect to x only, or wrap n in stopGradient`,
      );
    }
    return dx === null ? null : mul(dx, polygamma(add(n, fullLike(n, 1)), x));
  },
  { floatOnly: true },
);

// -------------------------------------------------- incomplete gamma/beta --

function notInParams(name: string, what: string): never {
  throw new InvalidArgumentError(
    `${name}: the derivative with respect to ${what} is not implemented (only the one with ` +
      `respect to x is); treat ${what} as a constant (a plain number or stopGradient(...)), ` +
      `or differentiate with respect to x only`,
  );
}

/** The float operands of equal shape and dtype; returns their aval. */
function floatOperands(
  name: string,
  avals: readonly { shape: readonly number[]; dtype: string }[],
) {
  const aval = sameShapeDtype(name, avals as never);
  if (!isFloat(aval.dtype)) {
    throw new DTypeError(
      `${name}: expected float arrays, got dtype ${aval.dtype}; convert with x.astype("float64")`,
    );
  }
  return aval;
}

/**
 * A primitive of three or four same-shape float operands (a, [b,] x, logNorm)
 * whose derivative is `dOut(args, out) * dx` in x (the operand at xIndex), an
 * error in the rest. Also behind the inverses in special-inverse.ts.
 */
export function incompletePrimitive(
  name: string,
  display: string,
  scalar: (...args: number[]) => number,
  xIndex: number,
  params: string,
  dOut: (args: readonly Array[], out: Array) => Array,
  extras: Pick<ElementwiseRule, "wgsl" | "uses" | "standalone"> = {},
) {
  const rule: ElementwiseRule = { scalar, ...extras };
  const prim: PrimitiveDef<Record<string, never>> = definePrimitive<Record<string, never>>({
    name,
    linear: false,
    abstractEval: (avals) => floatOperands(name, avals),
    impl(args) {
      const first = args[0]!;
      const dtype = first.dtype;
      if (first.shape.length === 0) {
        const v = scalar(...args.map((a) => a.scalarValue));
        return ConcreteArray.scalar(dtype === "float32" ? Math.fround(v) : v, dtype);
      }
      // No n-ary backend kernel: one loop here (compiled code fuses `scalar` as usual).
      const buffers = args.map((a) => a.buffer);
      const out = allocate(dtype, first.size);
      const vals: number[] = buffers.map(() => 0);
      for (let i = 0; i < out.length; i++) {
        for (let j = 0; j < buffers.length; j++) vals[j] = buffers[j]![i]!;
        out[i] = scalar(...vals);
      }
      return new ConcreteArray(first.shape, dtype, out);
    },
    jvp(args, tangents, out) {
      tangents.forEach((t, i) => {
        if (t !== null && i !== xIndex) notInParams(display, params);
      });
      const dx = tangents[xIndex];
      return dx === null || dx === undefined ? null : mul(dx, dOut(args, out));
    },
    batch: elementwiseBatch((args) => bind(prim, args, {})),
    elementwise: rule,
  });
  return (...args: Array[]): Array => bind(prim, args, {});
}

/**
 * The regularised lower (upper) incomplete gamma function P(a, x) (Q(a, x)),
 * given lg = log Gamma(a). Prefactor x^a e^-x / Gamma(a) = exp(a log x - x -
 * lg). x < a + 1: the series P = prefactor sum_n x^n / (a (a+1) ... (a+n));
 * otherwise Legendre's continued fraction for Q (Lentz). The other one is
 * 1 minus it, except Q from the series side when P > 1/2 and x >= 1.5, which
 * takes the continued fraction (no cancellation; below 1.5 the fraction needs
 * hundreds of steps and its rounding errors exceed the cancellation's).
 */
export function incompleteGammaScalar(a: number, x: number, lg: number, upper: number): number {
  if (Number.isNaN(a) || Number.isNaN(x)) return NaN;
  if (a <= 0 || x < 0) return NaN;
  if (x === 0) return upper;
  if (x === Infinity) return 1 - upper;
  // x^a e^-x / Gamma(a). For a >= 10, with x = a (1 + eta) and Stirling's
  // log Gamma(a) = (a - 1/2) log a - a + log sqrt(2 pi) + s(a), it is
  // sqrt(a / (2 pi)) exp(-a (eta - log1p(eta)) - s(a)): the large terms
  // a log x, x and log Gamma(a), whose roundings would cost |a log x| ulps,
  // cancel analytically; eta - log1p(eta) is summed as a series for |eta| < 1/2
  // (beyond, log1p(eta) is log(x / a): eta itself has lost x's digits near -1).
  function prefactor(): number {
    if (a < 10) return Math.exp(a * Math.log(x) - x - lg);
    const eta = (x - a) / a;
    let dd = 0;
    if (Math.abs(eta) < 0.5) {
      let power = eta;
      for (let k = 2; k < 70; k++) {
        power *= -eta;
        const term = power / k;
        dd += term;
        if (Math.abs(term) < 1e-17 * Math.abs(dd)) break;
      }
      dd = -dd;
    } else {
      dd = eta - Math.log(x / a);
    }
    const r = 1 / a;
    const r2 = r * r;
    const stirling =
      r *
      (1 / 12 +
        r2 *
          (-1 / 360 +
            r2 *
              (1 / 1260 +
                r2 *
                  (-1 / 1680 +
                    r2 *
                      (1 / 1188 +
                        r2 * (-691 / 360360 + r2 * (1 / 156 + (r2 * -3617) / 122400)))))));
    return Math.sqrt(a / (2 * Math.PI)) * Math.exp(-a * dd - stirling);
  }
  // lgamma(1 + e) for |e| <= 1/2 from its Taylor series about 2 (as in lgamma)
  function lgammaOnePlus(e: number): number {
    const d = e < 0.5 ? e : e - 1;
    const nearTwo = lgammaNearTwo(d);
    return e < 0.5 ? nearTwo - Math.log1p(e) : nearTwo;
  }
  // Q for a < 1, x < 1.5, where 1 - P would cancel: with the alternating series
  // P = x^a / Gamma(a + 1) (1 + a sum_(n>=1) (-x)^n / (n! (a + n))) and
  // u = a log x - lgamma(1 + a), Q = -expm1(u) - e^u a sum_(n>=1) ...
  function smallA(): number {
    const u = a * Math.log(x) - lgammaOnePlus(a);
    let term = 1;
    let sum = 0;
    for (let n = 1; n < 200; n++) {
      term *= -x / n;
      const t = term / (a + n);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return -Math.expm1(u) - Math.exp(u) * a * sum;
  }
  function continuedFraction(): number {
    return prefactor() * upperGammaFraction(a, x + 1 - a, 5000);
  }
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 100000; n++) {
      term *= x / (a + n);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    const p = sum * prefactor();
    if (upper === 0) return p;
    if (a < 1 && x < 1.5) return smallA();
    return p > 0.5 && x >= 1.5 ? continuedFraction() : 1 - p;
  }
  const q = continuedFraction();
  return upper === 1 ? q : 1 - q;
}

/** d P(a, x) / dx = x^(a-1) e^-x / Gamma(a) = exp((a - 1) log x - x - lg), negated for Q. */
function gammaDerivative([a, x, lg, upper]: readonly Array[]): Array {
  // (a - 1) log x is taken as 0 where a = 1 (at x = 0 it would be 0 * -inf)
  const one = fullLike(a!, 1);
  const power = select(eq(a!, one), fullLike(a!, 0), mul(sub(a!, one), log(x!)));
  const density = exp(sub(sub(power, x!), lg!));
  // upper is 0 (P) or 1 (Q): the factor 1 - 2 upper is the sign
  return mul(density, sub(fullLike(a!, 1), mul(upper!, fullLike(a!, 2))));
}

/**
 * The regularised incomplete gamma function as one primitive of (a, x,
 * lgamma(a), upper): upper = 0 gives P(a, x), upper = 1 gives Q(a, x).
 * Internal: `special.gammainc` / `special.gammaincc` supply the last two.
 */
export const incompleteGamma = incompletePrimitive(
  "incompleteGamma",
  "special.gammainc/gammaincc (also behind stats' gamma, chi2 and Poisson cdfs)",
  incompleteGammaScalar,
  1,
  "a",
  gammaDerivative,
  { uses: [lgammaNearTwo, upperGammaFraction], wgsl: wgslCall("incompleteGammaF32") },
);

/**
 * The regularised incomplete beta function I_x(a, b), given lb = log B(a, b).
 * Prefactor x^a (1 - x)^b / B(a, b) = exp(a log x + b log1p(-x) - lb), for
 * a, b >= 10 in a form whose large terms cancel analytically (below);
 * x < (a + 1)/(a + b + 2): prefactor cf(a, b, x) / a with the continued
 * fraction of Numerical Recipes' betacf (Lentz); otherwise 1 - prefactor
 * cf(b, a, 1 - x) / b by the symmetry I_x(a, b) = 1 - I_(1-x)(b, a).
 */
export function betaincScalar(a: number, b: number, x: number, lb: number): number {
  function continuedFraction(p: number, q: number, y: number): number {
    const qab = p + q;
    const qap = p + 1;
    const qam = p - 1;
    let c = 1;
    let d = 1 - (qab * y) / qap;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    d = 1 / d;
    let h = d;
    for (let m = 1; m < 10000; m++) {
      const m2 = 2 * m;
      let aa = (m * (q - m) * y) / ((qam + m2) * (p + m2));
      d = 1 + aa * d;
      if (Math.abs(d) < 1e-300) d = 1e-300;
      c = 1 + aa / c;
      if (Math.abs(c) < 1e-300) c = 1e-300;
      d = 1 / d;
      h *= d * c;
      aa = (-(p + m) * (qab + m) * y) / ((p + m2) * (qap + m2));
      d = 1 + aa * d;
      if (Math.abs(d) < 1e-300) d = 1e-300;
      c = 1 + aa / c;
      if (Math.abs(c) < 1e-300) c = 1e-300;
      d = 1 / d;
      const del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-16) break;
    }
    return h;
  }
  if (Number.isNaN(a) || Number.isNaN(b) || Number.isNaN(x)) return NaN;
  if (a <= 0 || b <= 0 || x < 0 || x > 1) return NaN;
  if (x === 0 || x === 1) return x;
  // e - log1p(e) (>= 0), by its series for |e| < 1/2; beyond, from log(ratio), ratio = 1 + e
  function excess(e: number, ratio: number): number {
    if (Math.abs(e) >= 0.5) return e - Math.log(ratio);
    let power = e;
    let sum = 0;
    for (let k = 2; k < 70; k++) {
      power *= -e;
      const term = power / k;
      sum += term;
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return -sum;
  }
  // Stirling's correction log Gamma(z) - ((z - 1/2) log z - z + log sqrt(2 pi)), z >= 10
  function stirling(z: number): number {
    const r = 1 / z;
    const r2 = r * r;
    return (
      r *
      (1 / 12 +
        r2 *
          (-1 / 360 +
            r2 *
              (1 / 1260 +
                r2 *
                  (-1 / 1680 +
                    r2 *
                      (1 / 1188 + r2 * (-691 / 360360 + r2 * (1 / 156 + (r2 * -3617) / 122400)))))))
    );
  }
  // The prefactor x^a (1 - x)^b / B(a, b). For a, b >= 10, with x = x0 (1 + e1),
  // 1 - x = y0 (1 + e2), x0 = a / (a + b), y0 = b / (a + b) (so a e1 + b e2 = 0)
  // and Stirling's formula for the three gammas, it is
  // sqrt(a b / (2 pi (a + b))) exp(-a (e1 - log1p e1) - b (e2 - log1p e2) + s(a + b) - s(a) - s(b)):
  // the large logarithms cancel analytically instead of in rounded sums.
  function prefactor(): number {
    if (a < 10 || b < 10) return Math.exp(a * Math.log(x) + b * Math.log1p(-x) - lb);
    const n = a + b;
    const r1 = (x * n) / a;
    const r2 = ((1 - x) * n) / b;
    const e1 = (x * n - a) / a;
    const e2 = ((1 - x) * n - b) / b;
    const exponent =
      -a * excess(e1, r1) - b * excess(e2, r2) + stirling(n) - stirling(a) - stirling(b);
    return Math.sqrt((a * b) / (2 * Math.PI * n)) * Math.exp(exponent);
  }
  const front = prefactor();
  if (x < (a + 1) / (a + b + 2)) return (front * continuedFraction(a, b, x)) / a;
  return 1 - (front * continuedFraction(b, a, 1 - x)) / b;
}

/** d I_x(a, b) / dx = x^(a-1) (1 - x)^(b-1) / B(a, b) */
function betaDerivative([a, b, x, lb]: readonly Array[]): Array {
  // (a - 1) log x and (b - 1) log(1 - x) are taken as 0 where a = 1 (b = 1)
  const one = fullLike(x!, 1);
  const zero = fullLike(x!, 0);
  const left = select(eq(a!, one), zero, mul(sub(a!, one), log(x!)));
  const right = select(eq(b!, one), zero, mul(sub(b!, one), log1p(neg(x!))));
  return exp(sub(add(left, right), lb!));
}

/** I_x(a, b) as a primitive of (a, b, x, log B(a, b)); `special.betainc` supplies the last. */
export const incompleteBeta = incompletePrimitive(
  "incompleteBeta",
  "special.betainc (also behind stats' Student t, beta and binomial cdfs)",
  betaincScalar,
  2,
  "a and b",
  betaDerivative,
  { wgsl: wgslCall("incompleteBetaF32") },
);

// --------------------------------------------------------------- bessel --

/**
 * i0e x = exp(-|x|) I0(x). |x| <= 20: the power series sum (x^2/4)^k / k!^2
 * (positive terms) times exp(-|x|); |x| > 20: the asymptotic series
 * (2 pi |x|)^(-1/2) sum_k t_k, t_k = t_(k-1) (2k - 1)^2 / (8 k |x|), whose
 * smallest term there is below 1e-17.
 */
function i0eScalar(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a === Infinity) return 0;
  if (a <= 20) {
    const q = (a * a) / 4;
    let term = 1;
    let sum = 1;
    for (let k = 1; k < 500; k++) {
      term *= q / (k * k);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return sum * Math.exp(-a);
  }
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 200; k++) {
    const next = (term * (2 * k - 1) * (2 * k - 1)) / (8 * k * a);
    if (next > term) break;
    term = next;
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum / Math.sqrt(2 * Math.PI * a);
}
/**
 * i1e x = exp(-|x|) I1(x), odd. |x| <= 20: (x/2) sum (x^2/4)^k / (k! (k+1)!)
 * times exp(-|x|); beyond, the asymptotic series with
 * t_k = t_(k-1) ((2k - 1)^2 - 4) / (8 k |x|) (alternating from k = 2).
 */
function i1eScalar(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a === Infinity) return x > 0 ? 0 : -0;
  let result: number;
  if (a <= 20) {
    const q = (a * a) / 4;
    let term = 1;
    let sum = 1;
    for (let k = 1; k < 500; k++) {
      term *= q / (k * (k + 1));
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    result = 0.5 * a * sum * Math.exp(-a);
  } else {
    let term = 1;
    let sum = 1;
    for (let k = 1; k < 200; k++) {
      const next = (term * ((2 * k - 1) * (2 * k - 1) - 4)) / (8 * k * a);
      if (Math.abs(next) > Math.abs(term)) break;
      term = next;
      sum += term;
      if (Math.abs(term) < 1e-17 * sum) break;
    }
    result = sum / Math.sqrt(2 * Math.PI * a);
  }
  return x < 0 ? -result : x === 0 ? x : result;
}
// d i0e x = (i1e x - sign(x) i0e x) dx   (I0' = I1)
export const i0e = unary(
  "i0e",
  { scalar: i0eScalar, wgsl: wgslCall("i0eF32") },
  (x, dx, out) => mul(dx, sub(i1e(x), mul(sign(x), out))),
  { floatOnly: true },
);
// d i1e x = (i0e x - sign(x) i1e x - i1e(x) / x) dx   (I1' = I0 - I1 / x);
// i1e(x) / x -> 1/2 as x -> 0, taken there (x = 0 replaced by 1 first so no 0/0 arises).
export const i1e = unary(
  "i1e",
  { scalar: i1eScalar, wgsl: wgslCall("i1eF32") },
  (x, dx, out) => {
    const zero = eq(x, fullLike(x, 0));
    const safeX = select(zero, fullLike(x, 1), x);
    const ratio = select(zero, fullLike(x, 0.5), div(i1e(safeX), safeX));
    return mul(dx, sub(sub(i0e(x), mul(sign(x), out)), ratio));
  },
  { floatOnly: true },
);
