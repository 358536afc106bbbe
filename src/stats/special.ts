/**
 * The log-gamma function for stats:
 *
 *   logGamma(x)        log |Gamma(x)| elementwise, any real x off the poles:
 *                      the lgamma primitive (special.gammaln), differentiable,
 *                      its derivative the digamma primitive
 *   logGammaNumber(x)  the same on one JS number (for constant terms), by
 *
 * Lanczos (g = 7, 9 terms, relative error ~1e-15 for x >= 1/2):
 *   Gamma(x) = sqrt(2 pi) t^(x - 1/2) e^-t A(x),  t = x + g - 1/2,
 *   A(x) = c0 + sum_i c_i / (x - 1 + i).
 * For x < 1/2 the reflection Gamma(x) Gamma(1 - x) = pi / sin(pi x).
 */
import type { Array, ArrayLike } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { asFloat } from "../numpy/core.js";
import { lgamma } from "../primitives/special.js";

const LANCZOS_G = 7;
// Godfrey's coefficients for g = 7.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log Gamma(x) for one number. */
export function logGammaNumber(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGammaNumber(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * log |Gamma(x)| elementwise (float), differentiable: the `lgamma` primitive
 * (special.gammaln), whose derivative is the digamma primitive.
 */
export function logGamma(x: ArrayLike): Array {
  return lgamma(asFloat(asArray(x, "stats.logGamma: argument x")));
}
