/**
 * Float32 WGSL forms of the special functions (erfc, ndtr, logNdtr, erfinv,
 * ndtri, lgamma, digamma, polygamma, the regularised incomplete gamma
 * and beta functions, i0e, i1e), part of the webgpu kernel
 * library (`WGSL_LIBRARY` in kernels.ts): the primitives in
 * primitives/special.ts name these functions in their `wgsl` forms, and a
 * shader includes the ones it mentions, with what they call.
 *
 * Each is derived for float32 from the maths its float64 CPU scalar uses
 * (series, asymptotic expansions, Newton's method), with one fitted
 * polynomial (erfcx, scripts/wgsl-special-fit.py). Where float32 needs more
 * care than the builtins give, these functions use their own: `expF32` and
 * `logF32` (argument reduction by ln 2 and short polynomials, about one ulp;
 * WGSL only promises 3 + 2|x| ulp for exp, so exp(-81) could be off by
 * 1e-5 relative), `sinPiF32`/`cosPiF32` (Taylor series on the exactly
 * reduced argument; SwiftShader's sin is off by up to 4.5e-5 absolute, far
 * too much for a reflection formula near a pole), and exp(-x^2) with x^2
 * split exactly (the head of x keeps its top 12 bits, so every partial
 * product is exact).
 *
 * Measured maximum errors against the float64 CPU values over dense grids
 * (test/webgpu.test.ts, "special functions on webgpu") are listed in
 * docs/design.md, WebGPU backend.
 */

/** WGSL expressions of +inf and NaN (constant expressions cannot hold them). */
const INF = "bitcast<f32>(INF_BITS)";
const NAN = "bitcast<f32>(NAN_BITS)";

/** The WGSL functions, by name (merged into `WGSL_LIBRARY`). */
export const SPECIAL_WGSL: Readonly<Record<string, string>> = {
  // exp x = 2^n exp r, n = round(x / ln 2), r = x - n ln 2 with ln 2 split in
  // two (Cody and Waite: n * 0.693359375 is exact for |n| < 2^15), so
  // |r| <= ln 2 / 2; exp r by its Taylor polynomial to r^7 (remainder below
  // r^8 / 8! < 1e-9 relative).
  expF32: `fn expF32(x: f32) -> f32 {
  if (isNanF32(x)) { return x; }
  if (x < -104.0) { return 0.0; }
  if (x > 88.8) { return ${INF}; }
  let n = round(x * 1.4426950408889634);
  let r = (x - n * 0.693359375) - n * -2.1219444005469057e-4;
  let p = 1.0 + r * (1.0 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 +
    r * (0.008333333333333333 + r * (0.001388888888888889 + r * 0.0001984126984126984))))));
  return ldexp(p, i32(n));
}`,
  // log(1 + y) = 2 atanh(s), s = y / (2 + y), by the series
  // 2 (s + s^3/3 + ... + s^13/13), for -0.29 < y < 0.42 (|s| < 0.18: the
  // remainder is below s^15 / 7.5 < 2e-12).
  log1pSeriesF32: `fn log1pSeriesF32(y: f32) -> f32 {
  let s = y / (2.0 + y);
  let s2 = s * s;
  return 2.0 * s * (1.0 + s2 * (0.3333333333333333 + s2 * (0.2 + s2 * (0.14285714285714285 +
    s2 * (0.1111111111111111 + s2 * (0.09090909090909091 + s2 * 0.07692307692307693))))));
}`,
  // log(1 + y): the series for -0.29 < y < 0.42, else logF32(1 + y).
  log1pF32: `fn log1pF32(y: f32) -> f32 {
  if (y < -0.29 || y > 0.42 || isNanF32(y)) { return logF32(1.0 + y); }
  return log1pSeriesF32(y);
}`,
  // log x = e ln 2 + log m with x = m 2^e, m in [sqrt(1/2), sqrt 2) (frexp,
  // then one doubling), log m = log1p(m - 1) (m - 1 exact), ln 2 split as in expF32.
  logF32: `fn logF32(x: f32) -> f32 {
  if (isNanF32(x) || x < 0.0) { return ${NAN}; }
  if (x == 0.0) { return -${INF}; }
  if (x == ${INF}) { return x; }
  let parts = frexp(x);
  var m = parts.fract;
  var e = f32(parts.exp);
  if (m < 0.70710678118654752) { m = 2.0 * m; e = e - 1.0; }
  return e * 0.693359375 + (e * -2.1219444005469057e-4 + log1pSeriesF32(m - 1.0));
}`,
  // sin(pi r) for |r| <= 1/2 by the Taylor series of sin u, u = pi r, to
  // u^17 (remainder below (pi/2)^19 / 19! < 1e-13).
  sinPiF32: `fn sinPiF32(r: f32) -> f32 {
  let u = 3.141592653589793 * r;
  let u2 = u * u;
  return u * (1.0 + u2 * (-0.16666666666666666 + u2 * (0.008333333333333333 +
    u2 * (-0.0001984126984126984 + u2 * (2.7557319223985893e-6 + u2 * (-2.505210838544172e-8 +
    u2 * (1.6059043836821613e-10 + u2 * (-7.647163731819816e-13 + u2 * 2.8114572543455206e-15))))))));
}`,
  // cos(pi r) for |r| <= 1/2 by the Taylor series of cos u to u^16.
  cosPiF32: `fn cosPiF32(r: f32) -> f32 {
  let u = 3.141592653589793 * r;
  let u2 = u * u;
  return 1.0 + u2 * (-0.5 + u2 * (0.041666666666666664 + u2 * (-0.001388888888888889 +
    u2 * (2.48015873015873e-5 + u2 * (-2.755731922398589e-7 + u2 * (2.08767569878681e-9 +
    u2 * (-1.1470745597729725e-11 + u2 * 4.779477332387385e-14)))))));
}`,
  // exp(-c a^2) for a >= 0 and c = 1 or 1/2: a = h + l with h = a's top 12
  // significant bits (a mask of its bits) and l = a - h exact, so h^2 and
  // 2 h l + l^2 are exact or nearly (l has at most 12 significant bits), and
  // exp(-c a^2) = exp(-c h^2) exp(-c (2 h l + l^2)) carries no rounding of a^2.
  expMinusSquareF32: `fn expMinusSquareF32(a: f32, c: f32) -> f32 {
  if (a * a * c > 104.0) { return 0.0; }
  let h = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  let l = a - h;
  return expF32(-c * (h * h)) * expF32(-c * (l * (2.0 * h + l)));
}`,
  // erf x for |x| < 1/2 by its Maclaurin series
  // 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)) to n = 6 (relative error below 3e-9).
  erfSmallF32: `fn erfSmallF32(x: f32) -> f32 {
  let x2 = x * x;
  return x * (1.1283791670955126 + x2 * (-0.37612638903183754 + x2 * (0.11283791670955126 +
    x2 * (-0.026866170645131252 + x2 * (0.005223977625442188 + x2 * (-0.0008548327023450853 +
    x2 * 0.00012055332981789664))))));
}`,
  // erfcx x = exp(x^2) erfc x for x >= 0. x < 1/2: exp(x^2) (1 - erf x).
  // 1/2 <= x < 10: t P(t), t = 2 / (2 + x), P of degree 10 fitted to relative
  // error 7e-11 (scripts/wgsl-special-fit.py; P(0) = 1/(2 sqrt(pi)) as erfcx
  // x ~ 1/(sqrt(pi) x)). x >= 10: the asymptotic series
  // 1/(sqrt(pi) x) (1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6) + 105/(16x^8))
  // (next term 945/(32 x^10) < 3e-9).
  erfcxF32: `fn erfcxF32(x: f32) -> f32 {
  if (x < 0.5) { return expF32(x * x) * (1.0 - erfSmallF32(x)); }
  if (x < 10.0) {
    let t = 2.0 / (2.0 + x);
    return t * (0.2820962369441986 + t * (0.28204596042633057 + t * (0.24756577610969543 +
      t * (0.16990020871162415 + t * (0.1199774444103241 + t * (-0.14288167655467987 +
      t * (0.3052526116371155 + t * (-0.6879292726516724 + t * (0.6900075674057007 +
      t * (-0.3287414312362671 + t * 0.06271141767501831))))))))));
  }
  let z = 1.0 / (x * x);
  return 0.5641895835477563 / x * (1.0 + z * (-0.5 + z * (0.75 + z * (-1.875 + z * 6.5625))));
}`,
  // erfc x: |x| < 1/2: 1 - erf x; else erfc |x| = exp(-x^2) erfcx |x|, and
  // erfc(-x) = 2 - erfc x.
  erfcF32: `fn erfcF32(x: f32) -> f32 {
  if (isNanF32(x)) { return x; }
  let a = abs(x);
  if (a < 0.5) { return 1.0 - erfSmallF32(x); }
  var tail = 0.0;
  if (a < ${INF}) { tail = expMinusSquareF32(a, 1.0) * erfcxF32(a); }
  return select(2.0 - tail, tail, x > 0.0);
}`,
  // ndtr x = erfc(-x / sqrt 2) / 2. |x| / sqrt 2 < 1/2: (1 + erf(x / sqrt 2)) / 2;
  // else the lower tail exp(-x^2/2) erfcx(|x| / sqrt 2) / 2 (x^2 split
  // exactly; the rounding of |x| / sqrt 2 only moves the slowly varying
  // erfcx), which is ndtr x for x < 0 and 1 - ndtr x for x > 0.
  ndtrF32: `fn ndtrF32(x: f32) -> f32 {
  if (isNanF32(x)) { return x; }
  let a = abs(x);
  let t = a * 0.7071067811865476;
  if (t < 0.5) { return 0.5 + 0.5 * erfSmallF32(x * 0.7071067811865476); }
  var tail = 0.0;
  if (a < ${INF}) { tail = 0.5 * expMinusSquareF32(a, 0.5) * erfcxF32(t); }
  return select(1.0 - tail, tail, x < 0.0);
}`,
  // log ndtr x. x <= -1/sqrt 2: log(erfcx(t) / 2) - x^2/2 (t = -x / sqrt 2),
  // x^2 = h^2 + l (2h + l) split as in expMinusSquareF32, so no underflow
  // and no rounding of x^2; |x| < 1/sqrt 2: log ndtr x; x >= 1/sqrt 2:
  // log1p(-ndtr(-x)), accurate where ndtr is near 1.
  logNdtrF32: `fn logNdtrF32(x: f32) -> f32 {
  if (isNanF32(x)) { return x; }
  if (x == -${INF}) { return x; }
  let a = abs(x);
  let t = a * 0.7071067811865476;
  if (t < 0.5) { return logF32(ndtrF32(x)); }
  if (x > 0.0) { return log1pF32(-ndtrF32(-x)); }
  let h = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  let l = a - h;
  return (logF32(0.5 * erfcxF32(t)) - 0.5 * (l * (2.0 * h + l))) - 0.5 * (h * h);
}`,
  // erfinv y. |y| <= 1/2: from the Maclaurin series of erfinv to z^7
  // (z = sqrt(pi)/2 y: x = z + z^3/3 + 7z^5/30 + 127z^7/630, relative error
  // below 3e-4 there), two Newton steps on erf x = |y|,
  // x <- x - (erf x - |y|) sqrt(pi)/2 exp(x^2) (quadratic: below 1e-13);
  // |y| > 1/2: erfcinv(1 - |y|) (1 - |y| exact). Odd.
  erfinvF32: `fn erfinvF32(y: f32) -> f32 {
  if (isNanF32(y)) { return y; }
  let a = abs(y);
  if (a >= 1.0) { return select(${NAN}, select(-${INF}, ${INF}, y > 0.0), a == 1.0); }
  var x = 0.0;
  if (a <= 0.5) {
    let z = 0.886226925452758 * a;
    let z2 = z * z;
    x = z * (1.0 + z2 * (0.3333333333333333 + z2 * (0.23333333333333334 + z2 * 0.20158730158730159)));
    for (var k = 0; k < 2; k = k + 1) {
      x = x - (erfSmallF32(x) - a) * 0.886226925452758 * expF32(x * x);
    }
  } else {
    x = erfcinvF32(1.0 - a);
  }
  return select(x, -x, y < 0.0);
}`,
  // erfcinv z for 0 < z <= 1/2 (root x >= 0.4769): Newton's method on
  // f(x) = log erfc x - log z = log erfcx x - x^2 - log z, whose derivative
  // is -2/(sqrt(pi) erfcx x): x <- x + f(x) sqrt(pi)/2 erfcx x; from the
  // asymptotic x = sqrt(w - log sqrt(pi w)), w = -log z. log erfc is
  // concave, so the iterates approach the root from above; at most 8 steps
  // (5 at z = 1/2, 2 in the far tail), stopping when a step is below 1e-7 x.
  erfcinvF32: `fn erfcinvF32(z: f32) -> f32 {
  if (z <= 0.0) { return ${INF}; }
  let lz = logF32(z);
  let w = -lz;
  var x = sqrt(max(w - logF32(sqrt(3.141592653589793 * w)), 0.25));
  for (var k = 0; k < 8; k = k + 1) {
    let e = erfcxF32(x);
    let step = ((logF32(e) - lz) - x * x) * 0.886226925452758 * e;
    x = x + step;
    if (abs(step) <= 1e-7 * x) { break; }
  }
  return x;
}`,
  // ndtri p: p < 1/4: -sqrt 2 erfcinv(2p); 1/4 <= p <= 3/4: sqrt 2 erfinv(2p - 1)
  // (2p - 1 exact); p > 3/4: sqrt 2 erfcinv(2 (1 - p)) (1 - p exact).
  ndtriF32: `fn ndtriF32(p: f32) -> f32 {
  if (isNanF32(p)) { return p; }
  if (p <= 0.0) { return select(${NAN}, -${INF}, p == 0.0); }
  if (p >= 1.0) { return select(${NAN}, ${INF}, p == 1.0); }
  if (p < 0.25) { return -1.4142135623730951 * erfcinvF32(2.0 * p); }
  if (p > 0.75) { return 1.4142135623730951 * erfcinvF32(2.0 * (1.0 - p)); }
  return 1.4142135623730951 * erfinvF32(2.0 * p - 1.0);
}`,
  // lgamma(2 + e) = (1 - euler) e + sum_(k=2..16) z_k e^k,
  // z_k = (-1)^k (zeta(k) - 1) / k, for |e| <= 1/2 (|z_k| < 2^-k, so the
  // remainder is below 4^-17 / 17 < 4e-12).
  lgammaNearTwoF32: `fn lgammaNearTwoF32(e: f32) -> f32 {
  let s = 0.3224670334241132 + e * (-0.0673523010531981 + e * (0.020580808427784546 +
    e * (-0.007385551028673986 + e * (0.0028905103307415234 + e * (-0.001192753911703261 +
    e * (0.0005096695247430425 + e * (-0.00022315475845357939 + e * (9.945751278180853e-5 +
    e * (-4.492623673813314e-5 + e * (2.050721277567069e-5 + e * (-9.439488275268397e-6 +
    e * (4.374866789907488e-6 + e * (-2.039215753801366e-6 + e * 9.55141213040742e-7)))))))))))));
  return e * (0.42278433509846713 + e * s);
}`,
  // lgamma v for v >= 1/2: [1/2, 3/2): lgamma(2 + e) - log1p e with
  // e = v - 1 exact; [3/2, 5/2): the series about 2; [5/2, 8): down to
  // [3/2, 5/2) by Gamma(v) = (v - 1) Gamma(v - 1) (each v - 1 exact), the
  // product's log added; v >= 8: Stirling's series
  // (v - 1/2)(log v - 1) + log sqrt(2 pi) - 1/2 + 1/(12v) - 1/(360v^3)
  // + 1/(1260v^5) - 1/(1680v^7) (next term below 1e-11).
  lgammaPositiveF32: `fn lgammaPositiveF32(x: f32) -> f32 {
  if (x < 1.5) { return lgammaNearTwoF32(x - 1.0) - log1pF32(x - 1.0); }
  if (x < 2.5) { return lgammaNearTwoF32(x - 2.0); }
  if (x < 8.0) {
    var v = x;
    var prod = 1.0;
    while (v >= 2.5) {
      v = v - 1.0;
      prod = prod * v;
    }
    return lgammaNearTwoF32(v - 2.0) + logF32(prod);
  }
  if (x == ${INF}) { return x; }
  let r = 1.0 / x;
  let r2 = r * r;
  let series = r * (0.08333333333333333 + r2 * (-0.002777777777777778 +
    r2 * (0.0007936507936507937 + r2 * -0.0005952380952380952)));
  return (x - 0.5) * (logF32(x) - 1.0) + (0.4189385332046727 + series);
}`,
  // log |Gamma(x)|: x >= 1/2 as above; 0 < x < 1/2: lgamma(x + 1) - log x;
  // x < 0: the reflection log(pi / |sin(pi x)|) - lgamma(1 - x), sin on the
  // exactly reduced argument r in [0, 1/2]; poles (0, -1, ...) give +inf.
  lgammaF32: `fn lgammaF32(x: f32) -> f32 {
  if (isNanF32(x)) { return x; }
  if (x >= 0.5) { return lgammaPositiveF32(x); }
  if (x == -${INF} || floor(x) == x) { return ${INF}; }
  if (x > 0.0) { return lgammaPositiveF32(x + 1.0) - logF32(x); }
  var r = abs(x - 2.0 * round(0.5 * x));
  if (r > 0.5) { r = 1.0 - r; }
  return logF32(3.141592653589793 / sinPiF32(r)) - lgammaPositiveF32(1.0 - x);
}`,
  // digamma(h + d) = digamma(h) + sum_(k=1..22) c_k d^k, c_k = psi^(k)(h) / k!,
  // about h = 1.4616321 (the float32 nearest the positive root x0;
  // digamma(h) = -1.2036e-8), with d = v - h exact, for v in [1, 2]
  // (|d| <= 0.54: |c_k d^k| < 0.37^k, remainder below 1e-9). Near the root
  // the result keeps its relative accuracy: d is exact and digamma(h) is
  // added last. (Expanding about x0 with d = (v - hi) - lo instead failed on
  // SwiftShader: its compiler folded the two constants, dropping lo.)
  // Coefficients: scripts/wgsl-special-fit.py.
  digammaNearRootF32: `fn digammaNearRootF32(v: f32) -> f32 {
  let d = v - 1.4616321325302124;
  let s = 0.9676722564619307 + d * (-0.4427631786293686 + d * (0.258499769112227 + d *
    (-0.16394271214806524 + d * (0.10782405607943633 + d * (-0.07219956550570023 + d *
    (0.04880429146384774 + d * (-0.0331611290045039 + d * (0.022597650150773706 + d *
    (-0.015424767346862807 + d * (0.010538792691945182 + d * (-0.00720453518299751 + d *
    (0.004926781982527267 + d * (-0.0033698020855119607 + d * (0.0023051266405617666 + d *
    (-0.0015769369995462382 + d * (0.001078825367160576 + d * (-0.0007380710583290195 + d *
    (0.0005049533517742716 + d * (-0.0003454680868427763 + d * (0.00023635605988945173 + d *
    (-0.0001617062525695658)))))))))))))))))))));
  return s * d + -1.203605254910667e-8;
}`,
  // digamma v for v > 0: (0, 1): psi(v + 1) - 1/v; [1, 2]: the series about
  // the root; (2, 6): down to [1, 2] by psi(v) = psi(v - 1) + 1/(v - 1);
  // v >= 6: log v - 1/(2v) - sum_(k=1..7) B_2k / (2k v^2k) (next term below 2e-13).
  digammaPositiveF32: `fn digammaPositiveF32(x: f32) -> f32 {
  var v = x;
  var acc = 0.0;
  if (v < 1.0) {
    acc = -1.0 / v;
    v = v + 1.0;
  }
  if (v <= 2.0) { return digammaNearRootF32(v) + acc; }
  if (v < 6.0) {
    while (v > 2.0) {
      v = v - 1.0;
      acc = acc + 1.0 / v;
    }
    return digammaNearRootF32(v) + acc;
  }
  if (v == ${INF}) { return v; }
  let r2 = 1.0 / (v * v);
  let series = r2 * (0.08333333333333333 + r2 * (-0.008333333333333333 + r2 * (0.003968253968253968 +
    r2 * (-0.004166666666666667 + r2 * (0.007575757575757576 + r2 * (-0.021092796092796094 +
    r2 * 0.08333333333333333))))));
  return (logF32(v) - 0.5 / v) - series;
}`,
  // digamma x: x > 0 as above; x < 0: the reflection psi(1 - x) - pi cos(pi r) / sin(pi r),
  // r = x - round(x) exact; poles (0, -1, ...) give NaN.
  digammaF32: `fn digammaF32(x: f32) -> f32 {
  if (isNanF32(x)) { return x; }
  if (x > 0.0) { return digammaPositiveF32(x); }
  if (floor(x) == x) { return ${NAN}; }
  let r = x - round(x);
  return digammaPositiveF32(1.0 - x) - 3.141592653589793 * cosPiF32(r) / sinPiF32(r);
}`,
  // b^e for e >= 0 an integer, by squaring (rounding errors grow with log2 e, not e).
  powIntF32: `fn powIntF32(b: f32, e: u32) -> f32 {
  var result = 1.0;
  var base = b;
  var k = e;
  loop {
    if (k == 0u) { break; }
    if ((k & 1u) == 1u) { result = result * base; }
    base = base * base;
    k = k >> 1u;
  }
  return result;
}`,
  // polygamma(n, x) = (-1)^(n+1) n! zeta(n + 1, x) for integer n >= 1
  // (others NaN, as on the CPU). The Hurwitz zeta is the direct sum of
  // (x + k)^-s (s = n + 1) until q = x + k >= 16 + n, plus the
  // Euler-Maclaurin tail q^(1-s)/(s-1) + q^-s/2 + sum_(j=1..6) B_2j/(2j)!
  // s (s+1) ... (s+2j-2) q^(1-s-2j) (each term at most (s+2j)^2/(2 pi q)^2
  // of the previous one). The direct sum takes at most 65,536 terms:
  // x below 16 + n - 65,536 gives NaN.
  polygammaF32: `fn polygammaF32(n: f32, x: f32) -> f32 {
  if (isNanF32(n) || isNanF32(x)) { return ${NAN}; }
  if (!(n >= 1.0) || n == ${INF} || floor(n) != n || n > 64.0) { return ${NAN}; }
  if (x <= 0.0 && floor(x) == x) { return ${NAN}; }
  if (x == ${INF}) { return 0.0; }
  let start = 16.0 + n;
  if (x < start - 65536.0) { return ${NAN}; }
  let s = n + 1.0;
  let si = u32(s);
  var sum = 0.0;
  var q = x;
  while (q < start) {
    sum = sum + powIntF32(1.0 / q, si);
    q = q + 1.0;
  }
  let iq = 1.0 / q;
  let qs = powIntF32(iq, si);
  var tail = qs * q / (s - 1.0) + 0.5 * qs;
  var b = array<f32, 6>(0.16666666666666666, -0.03333333333333333, 0.023809523809523808,
    -0.03333333333333333, 0.07575757575757576, -0.2531135531135531);
  var factor = qs * iq * s;
  var fact = 2.0;
  for (var j = 1; j <= 6; j = j + 1) {
    tail = tail + b[j - 1] / fact * factor;
    let jf = f32(j);
    factor = factor * (s + 2.0 * jf - 1.0) * (s + 2.0 * jf) * iq * iq;
    fact = fact * (2.0 * jf + 1.0) * (2.0 * jf + 2.0);
  }
  var nFact = 1.0;
  for (var i = 2.0; i <= n; i = i + 1.0) { nFact = nFact * i; }
  let zeta = sum + tail;
  return select(-1.0, 1.0, (u32(n) & 1u) == 1u) * nFact * zeta;
}`,
  // exp(u) - 1: |u| < 1/2 by its Taylor series to u^9 (remainder below
  // 0.5^10 / 10! < 3e-10 relative), else expF32(u) - 1.
  expm1F32: `fn expm1F32(u: f32) -> f32 {
  if (abs(u) >= 0.5 || isNanF32(u)) { return expF32(u) - 1.0; }
  return u * (1.0 + u * (0.5 + u * (0.16666666666666666 + u * (0.041666666666666664 +
    u * (0.008333333333333333 + u * (0.001388888888888889 + u * (0.0001984126984126984 +
    u * (2.48015873015873e-5 + u * 2.755731922398589e-6))))))));
}`,
  // The prefactor x^a e^-x / Gamma(a) of the incomplete gamma function, lg =
  // log Gamma(a). a < 10: exp(a log x - x - lg). a >= 10: with x = a (1 + eta)
  // and Stirling's correction s(a) of log Gamma(a), sqrt(a / (2 pi))
  // exp(-a (eta - log1p eta) - s(a)), where the large terms cancel
  // analytically (log1pExcessF32, stirlingCorrectionF32).
  igammaPrefactorF32: `fn igammaPrefactorF32(a: f32, x: f32, lg: f32) -> f32 {
  if (a < 10.0) { return expF32(a * logF32(x) - x - lg); }
  let eta = (x - a) / a;
  return sqrt(a / 6.283185307179586) *
    expF32(-a * log1pExcessF32(eta, x / a) - stirlingCorrectionF32(a));
}`,
  // Q(a, x) by Legendre's continued fraction, evaluated forwards (Lentz's
  // method, at most 1,000 steps, until a step changes it by under 1e-8).
  igammaFractionF32: `fn igammaFractionF32(a: f32, x: f32, lg: f32) -> f32 {
  var b = x + 1.0 - a;
  var c = 1e30;
  var d = 1.0 / b;
  var h = d;
  for (var i = 1.0; i < 1000.0; i = i + 1.0) {
    let an = -i * (i - a);
    b = b + 2.0;
    d = an * d + b;
    if (abs(d) < 1e-30) { d = 1e-30; }
    c = b + an / c;
    if (abs(c) < 1e-30) { c = 1e-30; }
    d = 1.0 / d;
    let del = d * c;
    h = h * del;
    if (abs(del - 1.0) < 1e-8) { break; }
  }
  return igammaPrefactorF32(a, x, lg) * h;
}`,
  // Q(a, x) for a < 1 and x < 1.5, where 1 - P would cancel: with
  // u = a log x - lgamma(1 + a) (lgamma(1 + a) from the series about 2, a
  // exact), Q = -expm1(u) - e^u a sum_(n>=1) (-x)^n / (n! (a + n)).
  igammaSmallAF32: `fn igammaSmallAF32(a: f32, x: f32) -> f32 {
  var lg1 = 0.0;
  if (a < 0.5) { lg1 = lgammaNearTwoF32(a) - log1pF32(a); } else { lg1 = lgammaNearTwoF32(a - 1.0); }
  let u = a * logF32(x) - lg1;
  var term = 1.0;
  var sum = 0.0;
  for (var n = 1.0; n < 60.0; n = n + 1.0) {
    term = term * -x / n;
    let t = term / (a + n);
    sum = sum + t;
    if (abs(t) < 1e-9 * abs(sum)) { break; }
  }
  return -expm1F32(u) - expF32(u) * a * sum;
}`,
  // The regularised incomplete gamma functions, P (upper = 0) or Q (upper =
  // 1), given lg = log Gamma(a). x < a + 1: the series
  // P = prefactor sum_n x^n / (a (a+1) ... (a+n)) (at most 4,096 terms:
  // enough for a up to about 4e5 near x = a), Q = 1 - P, except Q by the
  // small-a series (a < 1, x < 1.5) or the continued fraction (P > 1/2,
  // x >= 1.5); x >= a + 1: the continued fraction for Q, P = 1 - Q. NaN for
  // a <= 0 or x < 0, as on the CPU.
  incompleteGammaF32: `fn incompleteGammaF32(a: f32, x: f32, lg: f32, upper: f32) -> f32 {
  if (isNanF32(a) || isNanF32(x)) { return ${NAN}; }
  if (a <= 0.0 || x < 0.0) { return ${NAN}; }
  if (x == 0.0) { return upper; }
  if (x == ${INF}) { return 1.0 - upper; }
  if (x < a + 1.0) {
    var term = 1.0 / a;
    var sum = term;
    for (var n = 1.0; n < 4096.0; n = n + 1.0) {
      term = term * x / (a + n);
      sum = sum + term;
      if (term < 1e-9 * sum) { break; }
    }
    let p = sum * igammaPrefactorF32(a, x, lg);
    if (upper == 0.0) { return p; }
    if (a < 1.0 && x < 1.5) { return igammaSmallAF32(a, x); }
    if (p > 0.5 && x >= 1.5) { return igammaFractionF32(a, x, lg); }
    return 1.0 - p;
  }
  let q = igammaFractionF32(a, x, lg);
  return select(1.0 - q, q, upper == 1.0);
}`,
  // e - log1p(e) (>= 0 for e > -1): the series sum_(k>=2) (-1)^k e^k / k for
  // |e| < 1/2 (until a term is below 1e-9 of the sum); beyond, e - log(ratio)
  // with ratio = 1 + e computed by the caller without e's rounding.
  log1pExcessF32: `fn log1pExcessF32(e: f32, ratio: f32) -> f32 {
  if (abs(e) >= 0.5) { return e - logF32(ratio); }
  var power = e;
  var sum = 0.0;
  for (var k = 2.0; k < 40.0; k = k + 1.0) {
    power = power * -e;
    let term = power / k;
    sum = sum + term;
    if (abs(term) < 1e-9 * abs(sum)) { break; }
  }
  return -sum;
}`,
  // Stirling's correction s(z) = log Gamma(z) - ((z - 1/2) log z - z + log sqrt(2 pi))
  // = 1/(12z) - 1/(360z^3) + 1/(1260z^5) - 1/(1680z^7) for z >= 10 (next term below 1e-11).
  stirlingCorrectionF32: `fn stirlingCorrectionF32(z: f32) -> f32 {
  let r = 1.0 / z;
  let r2 = r * r;
  return r * (0.08333333333333333 + r2 * (-0.002777777777777778 +
    r2 * (0.0007936507936507937 + r2 * -0.0005952380952380952)));
}`,
  // The prefactor x^a (1 - x)^b / B(a, b), lb = log B(a, b). a < 10 or b < 10:
  // exp(a log x + b log1p(-x) - lb); a, b >= 10: with x = x0 (1 + e1),
  // 1 - x = y0 (1 + e2), x0 = a / (a + b), y0 = b / (a + b) and Stirling's
  // formula for the three gammas, sqrt(a b / (2 pi (a + b)))
  // exp(-a (e1 - log1p e1) - b (e2 - log1p e2) + s(a + b) - s(a) - s(b)):
  // the large logarithms cancel analytically.
  betaPrefactorF32: `fn betaPrefactorF32(a: f32, b: f32, x: f32, lb: f32) -> f32 {
  if (a < 10.0 || b < 10.0) { return expF32(a * logF32(x) + b * log1pF32(-x) - lb); }
  let n = a + b;
  let e1 = (x * n - a) / a;
  let e2 = ((1.0 - x) * n - b) / b;
  let exponent = -a * log1pExcessF32(e1, x * n / a) - b * log1pExcessF32(e2, (1.0 - x) * n / b) +
    stirlingCorrectionF32(n) - stirlingCorrectionF32(a) - stirlingCorrectionF32(b);
  return sqrt(a * b / (6.283185307179586 * n)) * expF32(exponent);
}`,
  // The continued fraction of I_y(p, q) (its even and odd steps,
  // d_2m = m (q - m) y / ((p + 2m - 1)(p + 2m)),
  // d_2m+1 = -(p + m)(p + q + m) y / ((p + 2m)(p + 2m + 1))), by Lentz's
  // method: at most 1,000 steps, until one changes it by under 1e-8.
  betaFractionF32: `fn betaFractionF32(p: f32, q: f32, y: f32) -> f32 {
  let qab = p + q;
  let qap = p + 1.0;
  let qam = p - 1.0;
  var c = 1.0;
  var d = 1.0 - qab * y / qap;
  if (abs(d) < 1e-30) { d = 1e-30; }
  d = 1.0 / d;
  var h = d;
  for (var m = 1.0; m < 1000.0; m = m + 1.0) {
    let m2 = 2.0 * m;
    var aa = m * (q - m) * y / ((qam + m2) * (p + m2));
    d = 1.0 + aa * d;
    if (abs(d) < 1e-30) { d = 1e-30; }
    c = 1.0 + aa / c;
    if (abs(c) < 1e-30) { c = 1e-30; }
    d = 1.0 / d;
    h = h * d * c;
    aa = -(p + m) * (qab + m) * y / ((p + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (abs(d) < 1e-30) { d = 1e-30; }
    c = 1.0 + aa / c;
    if (abs(c) < 1e-30) { c = 1e-30; }
    d = 1.0 / d;
    let del = d * c;
    h = h * del;
    if (abs(del - 1.0) < 1e-8) { break; }
  }
  return h;
}`,
  // The regularised incomplete beta function I_x(a, b), lb = log B(a, b):
  // the prefactor times the continued fraction of I_x(a, b) / a for
  // x < (a + 1) / (a + b + 2), else 1 - that of I_(1-x)(b, a) / b (the
  // fraction converges fast on that side). NaN for a, b <= 0 or x outside [0, 1].
  incompleteBetaF32: `fn incompleteBetaF32(a: f32, b: f32, x: f32, lb: f32) -> f32 {
  if (isNanF32(a) || isNanF32(b) || isNanF32(x)) { return ${NAN}; }
  if (a <= 0.0 || b <= 0.0 || x < 0.0 || x > 1.0) { return ${NAN}; }
  if (x == 0.0 || x == 1.0) { return x; }
  let front = betaPrefactorF32(a, b, x, lb);
  if (x < (a + 1.0) / (a + b + 2.0)) { return front * betaFractionF32(a, b, x) / a; }
  return 1.0 - front * betaFractionF32(b, a, 1.0 - x) / b;
}`,
  // i0e x = exp(-|x|) I0(x). |x| <= 12: exp(-|x|) sum_k (x^2/4)^k / k!^2
  // (positive terms, until one is below 1e-9 of the sum); |x| > 12: the
  // asymptotic series (2 pi |x|)^(-1/2) sum_k t_k,
  // t_k = t_(k-1) (2k - 1)^2 / (8 k |x|), stopped at its smallest term (< 1e-10 there).
  i0eF32: `fn i0eF32(x: f32) -> f32 {
  if (isNanF32(x)) { return x; }
  let a = abs(x);
  if (a == ${INF}) { return 0.0; }
  var term = 1.0;
  var sum = 1.0;
  if (a <= 12.0) {
    let q = 0.25 * a * a;
    for (var k = 1.0; k < 80.0; k = k + 1.0) {
      term = term * q / (k * k);
      sum = sum + term;
      if (term < 1e-9 * sum) { break; }
    }
    return sum * expF32(-a);
  }
  for (var k = 1.0; k < 60.0; k = k + 1.0) {
    let next = term * (2.0 * k - 1.0) * (2.0 * k - 1.0) / (8.0 * k * a);
    if (next > term) { break; }
    term = next;
    sum = sum + term;
    if (term < 1e-9 * sum) { break; }
  }
  return sum / sqrt(6.283185307179586 * a);
}`,
  // i1e x = exp(-|x|) I1(x), odd. |x| <= 12: exp(-|x|) (|x|/2) sum_k
  // (x^2/4)^k / (k! (k+1)!); beyond, the asymptotic series with
  // t_k = t_(k-1) ((2k - 1)^2 - 4) / (8 k |x|) (alternating from k = 2).
  i1eF32: `fn i1eF32(x: f32) -> f32 {
  if (isNanF32(x)) { return x; }
  let a = abs(x);
  if (a == 0.0) { return x; }
  if (a == ${INF}) { return select(0.0, -0.0, x < 0.0); }
  var term = 1.0;
  var sum = 1.0;
  var result = 0.0;
  if (a <= 12.0) {
    let q = 0.25 * a * a;
    for (var k = 1.0; k < 80.0; k = k + 1.0) {
      term = term * q / (k * (k + 1.0));
      sum = sum + term;
      if (term < 1e-9 * sum) { break; }
    }
    result = 0.5 * a * sum * expF32(-a);
  } else {
    for (var k = 1.0; k < 60.0; k = k + 1.0) {
      let next = term * ((2.0 * k - 1.0) * (2.0 * k - 1.0) - 4.0) / (8.0 * k * a);
      if (abs(next) > abs(term)) { break; }
      term = next;
      sum = sum + term;
      if (abs(term) < 1e-9 * sum) { break; }
    }
    result = sum / sqrt(6.283185307179586 * a);
  }
  return select(result, -result, x < 0.0);
}`,
};
