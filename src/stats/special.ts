/**
 * Special functions on plain numbers, for the constant terms of
 * log-densities (normalising constants that do not depend on differentiated
 * arguments).
 *
 *   logGamma(x)   log |Gamma(x)| for x > 0, by the Lanczos approximation
 *                 (g = 7, 9 terms; relative error ~1e-15)
 *   logBeta(a, b) log B(a, b) = logGamma(a) + logGamma(b) - logGamma(a + b)
 */

// Lanczos coefficients for g = 7 (Godfrey's table).
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** log Gamma(x) for x > 0. Gamma(x) = sqrt(2 pi) t^(x - 1/2) e^-t A(x), t = x + g - 1/2. */
export function logGamma(x: number): number {
  if (x < 0.5) {
    // Reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x)
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  }
  const z = x - 1;
  let a = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log B(a, b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}
