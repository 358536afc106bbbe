/**
 * Vectorised transcendentals for the Wasm code generators: exp, log, sin and
 * cos on float64 lanes (f64x2), float64-accurate (a few ulp against JS
 * Math). On float32 lanes (f32x4), exp/sin/cos use the native kernels of
 * mathKernelsF32.ts; log, and sin/cos of vectors with a lane beyond their
 * range, widen each pair of lanes to float64 (lower-degree polynomials) and
 * round the result once.
 *
 * `emitMathOps(c, ops, dtype, x)` computes ops of the v128 local x into new
 * locals (`emitMath` leaves one result on the stack); the jit lowering
 * (src/jit/wasmLowering.ts) inlines them in its fused loops.
 * `addMathKernels` adds stand-alone array kernels
 * `math_<op>_<dtype>(x, out, nVectors)` (used by the tests).
 *
 * Methods. Polynomials for float64 results are minimax: an exact leading
 * part plus a correction polynomial whose coefficients minimise the largest
 * relative error on the reduced range, derived by the Remez exchange of
 * scripts/minimax.py (EXP_Q, SIN_Q, COS_Q, LOG_Q below; each error under
 * 2^-57 before rounding the coefficients). The float64 polynomials whose
 * results are rounded to float32 (widenedF32: log, and sin/cos beyond the
 * float32 kernels' range) are minimax fits of the same forms to 2^-36
 * (SIN_Q_F32, COS_Q_F32, LOG_Q_F32; degrees 9, 10 and s^9); exp there keeps
 * a degree-8 Taylor polynomial (unused: float32 exp is always native).
 * - exp: x = k ln2 + r with k = nearest(x / ln2), r computed with ln2 split
 *   in a 32-bit head (k * head is exact) and a tail (Cody-Waite);
 *   e^r = 1 + r + r^2 EXP_Q(r), degree 11 on |r| <= ln2/2 (error 2^-57.9;
 *   the Taylor polynomial needed degree 13); 2^k applied as two factors
 *   2^k1 2^k2 (k1 = nearest(k/2) by the same rounding trick) built by
 *   writing kj + 1023 into the exponent bits, so that overflow to Infinity
 *   and gradual underflow to subnormals round once. x is clamped to
 *   [-1000, 1000] first (results there are already 0 or Infinity) with the
 *   pseudo-min/max f64x2.pmin/pmax: one instruction each on x64, where
 *   f64x2.min/max (NaN and -0 rules) expand to several.
 * - log: x = m 2^e with m in [sqrt(1/2), sqrt(2)) read from the bits
 *   (subnormals are first scaled by 2^54); log m = 2 atanh(s) with
 *   s = (m-1)/(m+1), |s| <= 0.172, 2 atanh(s) = 2s + 2s^3 LOG_Q(s^2) to s^15
 *   (error 2^-59.5; the atanh series needed s^21); result e ln2 + log m with
 *   the split ln2. Special values by lane masks: log(0) = -Infinity,
 *   log(x<0) = NaN, log(Infinity) = Infinity, NaN stays NaN.
 * - sin/cos, both of one argument (the jit lowering pairs them), and on
 *   float64 lanes of float32 results: x = k pi/2 + r with k = nearest(2x/pi),
 *   r by a 3-part pi/2 (33 + 33 + 53 bits; exact products for |k| < 2^20);
 *   on |r| <= pi/4, sin r = r + r^3 SIN_Q(r^2) to degree 13 (error 2^-57.9;
 *   Taylor needed 17) and cos r = 1 - r^2/2 + r^4 COS_Q(r^2) to degree 14
 *   (error 2^-64.0; Taylor needed 16); the quadrant k mod 4 chooses sin or
 *   cos and the sign.
 * - sin alone or cos alone (float64 results): one reduction by pi and one
 *   polynomial. sin: q = nearest(x/pi), r = x - q pi; cos: q =
 *   nearest(x/pi - 1/2), r = (q + 1/2) pi - x; then |r| <= pi/2 and the
 *   result is (-1)^q sin r, with sin r = r + r^3 SIN_ALONE_Q(r^2) to degree
 *   17 (error 2^-61.7, 2^-57.4 with float64 coefficients), evaluated as
 *   r + (r^3 (-1/8) + r^3 (SIN_ALONE_Q + 1/8)). The three parts of pi are those of pi/2 doubled, so r is
 *   the pi/2 reduction's r for k = 2q (sin) or k = 2q + 1 (cos, negated).
 *   Up to 1.4 ulp from the exact sin r near |r| = pi/2, where the cubic
 *   term is half the result (the pair's polynomials: 1.2 ulp at most); see
 *   sinWideF64.
 * - Both: lanes with |x| > 2^17 are recomputed by the imported scalar
 *   Math.sin or Math.cos (rare: only vectors containing such a lane pay for
 *   it). Below 2^17 the reduced r of the float64 values closest to a
 *   multiple of pi/2 is within 2^-52.8 of x - k pi/2 relative to its size
 *   (scripts/trig-accuracy.py checks every multiple; the limit could rise
 *   to 2^18 with the same bound, but keeps its value). Tiny |x| < 2^-26
 *   returns x for sin (keeps -0 and subnormals exact).
 *
 * Integer tricks: k = (y + 1.5*2^52) - 1.5*2^52 rounds y to the nearest
 * integer, and the low bits of (y + 1.5*2^52) then hold k in two's
 * complement, so k mod 4 and k itself are read from the bits without
 * conversion instructions.
 */
import { type Code, F64, I32, type ModuleBuilder, Simd, V128 } from "./emitter.js";
import {
  type TrigPartsF32,
  anyLaneBeyondTrigLimit,
  expF32,
  trigReduceF32,
  trigSelectF32,
} from "./mathKernelsF32.js";
import { INV_FACTORIAL, type LaneOps, polynomial } from "./simdPolynomial.js";

export type MathOp = "exp" | "log" | "sin" | "cos";
export const MATH_OPS: readonly MathOp[] = ["exp", "log", "sin", "cos"];
export type FloatDType = "float32" | "float64";

/** Imports the math kernels need: scalar fallbacks for sin/cos of huge arguments. */
export const MATH_IMPORTS = { sin: Math.sin, cos: Math.cos };

/** Function indices of the imported scalar fallbacks in one module. */
export interface MathImports {
  sin: number;
  cos: number;
}

/** Declares the imports (call before adding any function to `mb`). */
export function importMathFunctions(mb: ModuleBuilder): MathImports {
  return {
    sin: mb.importFunction("math", "sin", [F64], [F64]),
    cos: mb.importFunction("math", "cos", [F64], [F64]),
  };
}

/** The import object matching `importMathFunctions`. */
export function mathImportObject(): Record<string, Record<string, (x: number) => number>> {
  return { math: MATH_IMPORTS };
}

// ---- constants (see /header; the splits were computed at 300-bit precision) ----
const LOG2E = 1.4426950408889634;
/** ln2 = LN2_HI + LN2_LO; LN2_HI has 32 significant bits. */
const LN2_HI = 0.6931471806019545; // 0x1.62e42ff000000p-1
const LN2_LO = -4.2009150726810846e-11; // -0x1.718432a1b0e26p-35
/** pi/2 = PIO2_1 + PIO2_2 + PIO2_3; the first two have 33 significant bits. */
const PIO2_1 = 1.5707963267341256; // 0x1.921fb54400000p+0
const PIO2_2 = 6.077100506303966e-11; // 0x1.0b4611a600000p-34
const PIO2_3 = 2.0222662487959506e-21; // 0x1.3198a2e037073p-69
const TWO_OVER_PI = 0.6366197723675814;
/**
 * pi = PI_1 + PI_2 + PI_3, twice the parts of pi/2 (doubling is exact), so
 * q * PI_k = (2q) * PIO2_k: reducing by pi gives the same r, bit for bit,
 * as reducing by pi/2 with k = 2q.
 */
const PI_1 = 2 * PIO2_1;
const PI_2 = 2 * PIO2_2;
const PI_3 = 2 * PIO2_3;
const INV_PI = 0.3183098861837907;
/** 1.5 * 2^52: adding it rounds to an integer held in the low mantissa bits. */
const ROUNDER = 6755399441055744;
const SQRT2 = Math.SQRT2;
/** Above this |x|, sin/cos lanes are recomputed by scalar Math calls. */
const TRIG_LIMIT = 131072;

// ---- minimax polynomials (float64 results) ----
// Derived by the Remez exchange of scripts/minimax.py (run it to reproduce):
// each is the correction polynomial Q after an exact leading part, fitted to
// minimise the largest relative error of the whole approximation, lowest
// order first. "error" is that maximum with the exact (unrounded)
// coefficients; rounding them to float64 adds at most about 2^-56.

/** e^r = 1 + r + r^2 Q(r) on |r| <= ln2/2; Q of degree 9 (e^r to r^11), error 2^-57.9. */
const EXP_Q = [
  0.5000000000000011, 0.16666666666666413, 0.041666666666530267, 0.008333333333494336,
  0.001388888894359778, 0.00019841269506770898, 2.4801493136097612e-5, 2.7557586274666723e-6,
  2.763023395101817e-7, 2.5000069565431177e-8,
];
/** sin r = r + r^3 Q(r^2) on |r| <= pi/4; Q of degree 5 (sin r to r^13), error 2^-57.9. */
const SIN_Q = [
  -0.1666666666666663, 0.008333333333322118, -0.0001984126982958954, 2.7557313621385676e-6,
  -2.5050747762850355e-8, 1.5896230157221844e-10,
];
/**
 * sin r = r + r^3 Q(r^2) on the wider |r| <= pi/2, for sin or cos alone
 * ("sin alone" in scripts/minimax.py); Q of degree 7 (sin r to r^17), error
 * 2^-61.7 (2^-57.4 with the float64 coefficients; degree 6 reaches only
 * 2^-52.5).
 */
const SIN_ALONE_Q = [
  -0.16666666666666666, 0.008333333333333194, -0.00019841269841209218, 2.755731921113729e-6,
  -2.5052106872803573e-8, 1.6058939705956408e-10, -7.642991490728604e-13, 2.721174976416612e-15,
];
/** cos r = 1 - r^2/2 + r^4 Q(r^2) on |r| <= pi/4; Q of degree 5 (cos r to r^14), error 2^-64.0. */
const COS_Q = [
  0.041666666666666595, -0.0013888888888873056, 2.4801587288851704e-5, -2.755731417929674e-7,
  2.087570084197473e-9, -1.1358536521387682e-11,
];
/**
 * 2 atanh(s) = 2s + 2s^3 Q(s^2) on |s| <= 3 - 2 sqrt2 (= 0.1716); Q of
 * degree 6 (2 atanh(s) to s^15), error 2^-59.5.
 */
const LOG_Q = [
  0.3333333333333367, 0.19999999999708187, 0.14285714371007538, 0.111110993054164,
  0.0909178120122219, 0.07657049453084834, 0.07397737221280823,
];

// The same forms fitted to 2^-36 (far below a float32 ulp) for the float64
// polynomials whose results are rounded to float32 (widenedF32).

/** sin r = r + r^3 Q(r^2), |r| <= pi/4; Q of degree 3 (to r^9), error 2^-37.5. */
const SIN_Q_F32 = [
  -0.16666666640797048, 0.008333329304842603, -0.00019839312269464155, 2.7181216275994372e-6,
];
/** cos r = 1 - r^2/2 + r^4 Q(r^2), |r| <= pi/4; Q of degree 3 (to r^10), error 2^-42.9. */
const COS_Q_F32 = [
  0.041666666619492136, -0.0013888883500139792, 2.479946017069045e-5, -2.720575549143536e-7,
];
/** 2 atanh(s) = 2s + 2s^3 Q(s^2), |s| <= 0.1716; Q of degree 3 (to s^9), error 2^-37.6. */
const LOG_Q_F32 = [
  0.3333333282432325, 0.20000167267223198, 0.14268673485584524, 0.11790736068797662,
];

// ---- small helpers appending v128 instructions ----

function constBytes(c: Code, bytes: Uint8Array): void {
  c.simd(Simd.v128_const);
  for (const b of bytes) c.bytes.push(b);
}
/** Pushes (v, v) as f64x2. */
function f64s(c: Code, v: number): void {
  constBytes(c, new Uint8Array(new Float64Array([v, v]).buffer));
}
/** Pushes (v, v) as i64x2. */
function i64s(c: Code, v: bigint): void {
  constBytes(c, new Uint8Array(new BigInt64Array([v, v]).buffer));
}
/** float64 lanes for the shared polynomial evaluator. */
const F64_LANES: LaneOps = { splat: f64s, mul: Simd.f64x2_mul, add: Simd.f64x2_add };

// ---- float64 kernels: each reads local x (f64x2) and leaves the result ----

function expF64(c: Code, x: number, precise: boolean): void {
  const xc = c.local(V128);
  const t = c.local(V128);
  const k = c.local(V128);
  const r = c.local(V128);
  const t1 = c.local(V128);
  // xc = pmin(pmax(x, -1000), 1000): the pseudo-min/max (b < a ? b : a)
  // are single instructions, unlike f64x2.min/max with their NaN and -0
  // rules; with x as the first operand a NaN lane stays NaN.
  c.get(x);
  f64s(c, -1000);
  c.simd(Simd.f64x2_pmax);
  f64s(c, 1000);
  c.simd(Simd.f64x2_pmin).set(xc);
  // t = xc * log2(e) + 1.5*2^52 ; k = t - 1.5*2^52
  c.get(xc);
  f64s(c, LOG2E);
  c.simd(Simd.f64x2_mul);
  f64s(c, ROUNDER);
  c.simd(Simd.f64x2_add).tee(t);
  f64s(c, ROUNDER);
  c.simd(Simd.f64x2_sub).set(k);
  // r = (xc - k*LN2_HI) - k*LN2_LO
  c.get(xc).get(k);
  f64s(c, LN2_HI);
  c.simd(Simd.f64x2_mul).simd(Simd.f64x2_sub).get(k);
  f64s(c, LN2_LO);
  c.simd(Simd.f64x2_mul).simd(Simd.f64x2_sub).set(r);
  // k1 = nearest(k / 2) the same way: t1 = k/2 + 1.5*2^52 holds k1 in its
  // low bits (|k1| <= 722, so 2^k1 and 2^(k - k1) are normal numbers). No
  // i64x2.shr_s, which x64 lacks (engines expand it to several instructions).
  c.get(k);
  f64s(c, 0.5);
  c.simd(Simd.f64x2_mul);
  f64s(c, ROUNDER);
  c.simd(Simd.f64x2_add).set(t1);
  // e^r by a polynomial: minimax 1 + r + r^2 EXP_Q(r) (degree 11); Taylor
  // to degree 8 for float32 results
  polynomial(c, F64_LANES, r, precise ? [1, 1, ...EXP_Q] : INV_FACTORIAL.slice(0, 9));
  // * 2^k1 * 2^k2 (k2 = k - k1), each built as (kj + 1023) << 52. The bits
  // of t1 are bits(1.5*2^52) + k1 = 0x4338000000000000 + k1, and the shift
  // keeps only the low 12 bits, where that constant has zeros:
  // (bits(t1) + 1023) << 52 = (k1 + 1023) << 52,
  // and bits(t) - bits(t1) = k - k1.
  c.get(t1);
  i64s(c, 1023n);
  c.simd(Simd.i64x2_add).i32(52).simd(Simd.i64x2_shl).simd(Simd.f64x2_mul);
  c.get(t).get(t1).simd(Simd.i64x2_sub);
  i64s(c, 1023n);
  c.simd(Simd.i64x2_add).i32(52).simd(Simd.i64x2_shl).simd(Simd.f64x2_mul);
}

function logF64(c: Code, x: number, precise: boolean): void {
  const sub = c.local(V128);
  const xs = c.local(V128);
  const e = c.local(V128);
  const m = c.local(V128);
  const big = c.local(V128);
  const s = c.local(V128);
  const z = c.local(V128);
  const res = c.local(V128);
  // Subnormal (and non-positive) lanes: scale by 2^54.
  c.get(x);
  f64s(c, 2.2250738585072014e-308);
  c.simd(Simd.f64x2_lt).set(sub);
  c.get(x);
  f64s(c, 2 ** 54);
  c.simd(Simd.f64x2_mul).get(x).get(sub).simd(Simd.v128_bitselect).set(xs);
  // biased exponent as a float: bits(2^52 + (bits >> 52)) - 2^52
  c.get(xs).i32(52).simd(Simd.i64x2_shr_u);
  i64s(c, 0x4330000000000000n);
  c.simd(Simd.v128_or);
  f64s(c, 2 ** 52 + 1023);
  c.simd(Simd.f64x2_sub);
  f64s(c, 54);
  f64s(c, 0);
  c.get(sub).simd(Simd.v128_bitselect).simd(Simd.f64x2_sub).set(e);
  // m in [1, 2): mantissa bits with the exponent of 1
  c.get(xs);
  i64s(c, 0x000fffffffffffffn);
  c.simd(Simd.v128_and);
  i64s(c, 0x3ff0000000000000n);
  c.simd(Simd.v128_or).set(m);
  // m > sqrt2: m /= 2, e += 1
  c.get(m);
  f64s(c, SQRT2);
  c.simd(Simd.f64x2_gt).set(big);
  c.get(m);
  f64s(c, 0.5);
  c.simd(Simd.f64x2_mul).get(m).get(big).simd(Simd.v128_bitselect).set(m);
  c.get(e);
  f64s(c, 1);
  f64s(c, 0);
  c.get(big).simd(Simd.v128_bitselect).simd(Simd.f64x2_add).set(e);
  // s = (m - 1) / (m + 1), z = s^2
  c.get(m);
  f64s(c, 1);
  c.simd(Simd.f64x2_sub).get(m);
  f64s(c, 1);
  c.simd(Simd.f64x2_add).simd(Simd.f64x2_div).tee(s).get(s).simd(Simd.f64x2_mul).set(z);
  // log m = 2s + 2s * z * Q(z), Q minimax: LOG_Q to s^15 (LOG_Q_F32 to s^9
  // for float32 results)
  const series = precise ? LOG_Q : LOG_Q_F32;
  c.get(s).get(s).simd(Simd.f64x2_add).tee(s);
  c.get(s).get(z).simd(Simd.f64x2_mul);
  polynomial(c, F64_LANES, z, series);
  c.simd(Simd.f64x2_mul).simd(Simd.f64x2_add);
  // + e * LN2_LO, then + e * LN2_HI
  c.get(e);
  f64s(c, LN2_LO);
  c.simd(Simd.f64x2_mul).simd(Simd.f64x2_add);
  c.get(e);
  f64s(c, LN2_HI);
  c.simd(Simd.f64x2_mul).simd(Simd.f64x2_add).set(res);
  // Special values.
  f64s(c, -Infinity);
  c.get(res).get(x);
  f64s(c, 0);
  c.simd(Simd.f64x2_eq).simd(Simd.v128_bitselect).set(res);
  f64s(c, NaN);
  c.get(res).get(x);
  f64s(c, 0);
  c.simd(Simd.f64x2_lt).simd(Simd.v128_bitselect).set(res);
  c.get(x).get(res).get(x);
  f64s(c, Infinity);
  c.simd(Simd.f64x2_eq).get(x).get(x).simd(Simd.f64x2_ne).simd(Simd.v128_or);
  c.simd(Simd.v128_bitselect);
}

/** Locals of sin/cos parts shared by both functions of one argument. */
interface TrigParts {
  /** x * 2/pi + 1.5*2^52: its low bits hold the quadrant k. */
  t: number;
  /** sin r and cos r. */
  sp: number;
  cp: number;
}

function trigReduceF64(c: Code, x: number, precise: boolean): TrigParts {
  const t = c.local(V128);
  const k = c.local(V128);
  const r = c.local(V128);
  const z = c.local(V128);
  const sp = c.local(V128);
  const cp = c.local(V128);
  // t = x * 2/pi + 1.5*2^52 ; k = t - 1.5*2^52
  c.get(x);
  f64s(c, TWO_OVER_PI);
  c.simd(Simd.f64x2_mul);
  f64s(c, ROUNDER);
  c.simd(Simd.f64x2_add).tee(t);
  f64s(c, ROUNDER);
  c.simd(Simd.f64x2_sub).set(k);
  // r = ((x - k*P1) - k*P2) - k*P3
  c.get(x);
  for (const p of [PIO2_1, PIO2_2, PIO2_3]) {
    c.get(k);
    f64s(c, p);
    c.simd(Simd.f64x2_mul).simd(Simd.f64x2_sub);
  }
  c.tee(r).get(r).simd(Simd.f64x2_mul).set(z);
  // sin r = r + r z Q(z), Q minimax: SIN_Q to r^13 (SIN_Q_F32 to r^9 for
  // float32 results)
  c.get(r);
  c.get(r).get(z).simd(Simd.f64x2_mul);
  polynomial(c, F64_LANES, z, precise ? SIN_Q : SIN_Q_F32);
  c.simd(Simd.f64x2_mul).simd(Simd.f64x2_add).set(sp);
  // cos r = 1 + z (-1/2 + z Q(z)), Q minimax: COS_Q to r^14 (COS_Q_F32 to
  // r^10 for float32 results)
  f64s(c, 1);
  c.get(z);
  polynomial(c, F64_LANES, z, [-0.5, ...(precise ? COS_Q : COS_Q_F32)]);
  c.simd(Simd.f64x2_mul).simd(Simd.f64x2_add).set(cp);
  return { t, sp, cp };
}

/** sin x or cos x from the shared parts; leaves the result on the stack. */
function trigSelectF64(
  c: Code,
  x: number,
  parts: TrigParts,
  cos: boolean,
  imports: MathImports,
): void {
  const q = c.local(V128);
  const res = c.local(V128);
  // quadrant q = k (+1 for cos) from the low bits of t
  c.get(parts.t);
  if (cos) {
    i64s(c, 1n);
    c.simd(Simd.i64x2_add);
  }
  c.set(q);
  // odd q: take the other polynomial; bit 1 of q: negate
  c.get(parts.cp).get(parts.sp);
  c.get(q);
  i64s(c, 1n);
  c.simd(Simd.v128_and);
  i64s(c, 1n);
  c.simd(Simd.i64x2_eq);
  c.simd(Simd.v128_bitselect);
  c.get(q).i32(62).simd(Simd.i64x2_shl);
  i64s(c, -0x8000000000000000n);
  c.simd(Simd.v128_and).simd(Simd.v128_xor).set(res);
  if (!cos) {
    // sin x = x for tiny x (keeps -0 and subnormals)
    c.get(x).get(res).get(x).simd(Simd.f64x2_abs);
    f64s(c, 2 ** -26);
    c.simd(Simd.f64x2_lt).simd(Simd.v128_bitselect).set(res);
  }
  const ax = c.local(V128);
  c.get(x).simd(Simd.f64x2_abs).set(ax);
  hugeLanesFallback(c, x, ax, res, cos, imports);
  c.get(res);
}

/**
 * Lanes of x with |x| > TRIG_LIMIT (Infinity included; ax holds |x|): res
 * gets the imported scalar Math.sin / Math.cos of them. Only vectors
 * holding such a lane enter the branch.
 */
function hugeLanesFallback(
  c: Code,
  x: number,
  ax: number,
  res: number,
  cos: boolean,
  imports: MathImports,
): void {
  c.get(ax);
  f64s(c, TRIG_LIMIT);
  c.simd(Simd.f64x2_gt).simd(Simd.v128_any_true).if();
  for (let lane = 0; lane < 2; lane++) {
    c.get(res).get(x).simd(Simd.f64x2_extract_lane).bytes.push(lane);
    c.call(cos ? imports.cos : imports.sin);
    c.simd(Simd.f64x2_replace_lane).bytes.push(lane);
    c.set(res);
  }
  c.end();
}

/**
 * Leaves sin r for |r| <= pi/2 (r a local):
 * sin r = r + (r^3 (-1/8) + r^3 (Q(z) + 1/8)), z = r^2, Q = SIN_ALONE_Q.
 *
 * Near |r| = pi/2 the cubic term r^3 Q is -0.57 beside a result of 1, so
 * each rounding inside it costs up to half an ulp of the result; evaluated
 * plainly, r + (r z) Q(z) is up to 2.3 ulp from the exact sin r. Splitting
 * off -1/8 of the leading coefficient -1/6 makes most of the cubic term
 * exact (a power of two times r^3), and the rest, r^3 (Q + 1/8), is at
 * most 0.09: the error falls to 1.4 ulp (scripts/trig-accuracy.py) for one
 * multiply and one add, and the results 2 float64 steps from Math.sin on
 * 10^6 arguments in [-10, 10] (bench/math-accuracy.ts) from 1624 to 1, as
 * with the shared reduction. The roundings of z and r^3 remain. Other forms
 * measured: r + (r^3 c0 + r^5 Q1(z)), 1.8 ulp and 136 results 2 steps
 * away, 4% faster; an exact r^3 (a 16-bit head rh of r, rh^3 exact, plus
 * rl (r^2 + r rh + rh^2)) 7 instructions and a fifth more time; an exact
 * c0 r^3 as well (a 5-bit head of c0, Fast2Sum: 1 ulp at most), as slow as
 * the shared reduction.
 */
function sinWideF64(c: Code, r: number): void {
  const z = c.local(V128);
  const r3 = c.local(V128);
  c.get(r).get(r).simd(Simd.f64x2_mul).tee(z);
  c.get(r).simd(Simd.f64x2_mul).set(r3);
  // r + (r3 (-1/8) + r3 (Q(z) + 1/8)); r3 (-1/8) is exact, and so is
  // Q[0] + 1/8 (Sterbenz)
  c.get(r);
  c.get(r3);
  f64s(c, -0.125);
  c.simd(Simd.f64x2_mul);
  c.get(r3);
  polynomial(c, F64_LANES, z, [SIN_ALONE_Q[0]! + 0.125, ...SIN_ALONE_Q.slice(1)]);
  c.simd(Simd.f64x2_mul).simd(Simd.f64x2_add);
  c.simd(Simd.f64x2_add);
}

/**
 * sin x or cos x alone (float64 results), leaving it on the stack: one
 * reduction by pi and one polynomial, instead of the shared reduction's two.
 *
 * sin: q = nearest(x/pi), r = x - q pi, |r| <= pi/2, sin x = (-1)^q sin r.
 * cos: q = nearest(x/pi - 1/2), m = q + 1/2, so x = m pi - r' with
 *   r' = m pi - x, |r'| <= pi/2; cos x = cos(q pi + pi/2 - r')
 *   = (-1)^q cos(pi/2 - r') = (-1)^q sin r'.
 * Both: the same sign rule (bit 0 of q) and the same polynomial for sin r
 * (sinWideF64). m PI_k = (2q + 1) PIO2_k, so r' is the shared reduction's
 * r for the odd k = 2q + 1, negated (rounding to nearest is symmetric), and
 * for sin r is its r for k = 2q; see scripts/trig-accuracy.py for its
 * accuracy.
 */
function trigAloneF64(c: Code, x: number, cos: boolean, imports: MathImports): void {
  const ax = c.local(V128);
  const t = c.local(V128);
  const m = c.local(V128);
  const r = c.local(V128);
  const res = c.local(V128);
  // ax = |x|, for the tests of tiny and huge lanes
  c.get(x).simd(Simd.f64x2_abs).set(ax);
  // t = x/pi (- 1/2 for cos) + 1.5*2^52: its low bits hold q
  c.get(x);
  f64s(c, INV_PI);
  c.simd(Simd.f64x2_mul);
  if (cos) {
    f64s(c, 0.5);
    c.simd(Simd.f64x2_sub);
  }
  f64s(c, ROUNDER);
  c.simd(Simd.f64x2_add).tee(t);
  // m = q (sin) or q + 1/2 (cos), exactly
  f64s(c, ROUNDER);
  c.simd(Simd.f64x2_sub);
  if (cos) {
    f64s(c, 0.5);
    c.simd(Simd.f64x2_add);
  }
  c.set(m);
  // sin: r = ((x - m PI_1) - m PI_2) - m PI_3 ;
  // cos: r = ((m PI_1 - x) + m PI_2) + m PI_3
  // (m PI_1 is exact, and so is its difference with x wherever r is small,
  // by Sterbenz's lemma; it rounds only for m = +-1/2 and |x| < pi/4,
  // where |r| > pi/4)
  if (cos) {
    c.get(m);
    f64s(c, PI_1);
    c.simd(Simd.f64x2_mul).get(x).simd(Simd.f64x2_sub);
  } else {
    c.get(x).get(m);
    f64s(c, PI_1);
    c.simd(Simd.f64x2_mul).simd(Simd.f64x2_sub);
  }
  for (const p of [PI_2, PI_3]) {
    c.get(m);
    f64s(c, p);
    c.simd(Simd.f64x2_mul).simd(cos ? Simd.f64x2_add : Simd.f64x2_sub);
  }
  c.set(r);
  sinWideF64(c, r);
  // negate when q is odd: bit 0 of q (the low bit of t) moved to the sign bit
  c.get(t).i32(63).simd(Simd.i64x2_shl).simd(Simd.v128_xor).set(res);
  if (!cos) {
    // sin x = x for tiny x: keeps -0 (the polynomial gives -0 + +0 = +0)
    c.get(x).get(res).get(ax);
    f64s(c, 2 ** -26);
    c.simd(Simd.f64x2_lt).simd(Simd.v128_bitselect).set(res);
  }
  hugeLanesFallback(c, x, ax, res, cos, imports);
  c.get(res);
}

/**
 * Computes each of `ops` on the f64x2 local x into a new f64x2 local (sin
 * and cos share their reduction). `precise`: float64 accuracy; otherwise
 * polynomials of lower degree that suffice for float32 results.
 */
function emitF64(
  c: Code,
  ops: readonly MathOp[],
  x: number,
  imports: MathImports,
  precise: boolean,
): number[] {
  let parts: TrigParts | undefined;
  return ops.map((op) => {
    const out = c.local(V128);
    switch (op) {
      case "exp":
        expF64(c, x, precise);
        break;
      case "log":
        logF64(c, x, precise);
        break;
      case "sin":
      case "cos":
        if (precise && !(ops.includes("sin") && ops.includes("cos"))) {
          // one of the two: reduction by pi, one polynomial
          trigAloneF64(c, x, op === "cos", imports);
        } else {
          // both (or float32 results): shared reduction by pi/2
          parts ??= trigReduceF64(c, x, precise);
          trigSelectF64(c, x, parts, op === "cos", imports);
        }
        break;
    }
    c.set(out);
    return out;
  });
}

/**
 * Computes each of `ops` on the v128 local x of `dtype` lanes; returns one
 * v128 local per op (sin and cos of the same x share their reduction).
 * float32 lanes are widened to two f64x2 halves, computed, and narrowed.
 */
export function emitMathOps(
  c: Code,
  ops: readonly MathOp[],
  dtype: FloatDType,
  x: number,
  imports: MathImports,
): number[] {
  if (dtype === "float64") return emitF64(c, ops, x, imports, true);
  // float32: exp, sin, cos natively on f32x4 (mathKernelsF32.ts); log, and
  // sin/cos of vectors with a lane beyond F32_TRIG_LIMIT, through float64.
  const outs = ops.map(() => c.local(V128));
  const trig = ops.filter((op) => op === "sin" || op === "cos");
  let parts: TrigPartsF32 | undefined;
  ops.forEach((op, j) => {
    if (op === "exp") expF32(c, x);
    else if (op === "sin" || op === "cos") {
      parts ??= trigReduceF32(c, x);
      trigSelectF32(c, x, parts, op === "cos");
    } else return;
    c.set(outs[j]!);
  });
  const copyWidened = (which: readonly MathOp[]) => {
    const results = widenedF32(c, which, x, imports);
    which.forEach((op, k) => c.get(results[k]!).set(outs[ops.indexOf(op)]!));
  };
  if (ops.includes("log")) copyWidened(["log"]);
  if (trig.length > 0) {
    anyLaneBeyondTrigLimit(c, x);
    c.if();
    copyWidened(trig);
    c.end();
  }
  return outs;
}

/** ops on float32 lanes computed as float64 on two halves, rounded once. */
function widenedF32(c: Code, ops: readonly MathOp[], x: number, imports: MathImports): number[] {
  const lowHalf = c.local(V128);
  const highHalf = c.local(V128);
  c.get(x).simd(Simd.f64x2_promote_low_f32x4).set(lowHalf);
  // high two lanes moved to the bottom
  c.get(x).get(x).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]);
  c.simd(Simd.f64x2_promote_low_f32x4).set(highHalf);
  const lo = emitF64(c, ops, lowHalf, imports, false);
  const hi = emitF64(c, ops, highHalf, imports, false);
  return ops.map((_, j) => {
    const out = c.local(V128);
    c.get(lo[j]!).simd(Simd.f32x4_demote_f64x2_zero);
    c.get(hi[j]!).simd(Simd.f32x4_demote_f64x2_zero);
    c.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).set(out);
    return out;
  });
}

/** Appends code leaving op(x) on the stack, x a v128 local of `dtype` lanes. */
export function emitMath(
  c: Code,
  op: MathOp,
  dtype: FloatDType,
  x: number,
  imports: MathImports,
): void {
  c.get(emitMathOps(c, [op], dtype, x, imports)[0]!);
}

/**
 * Adds `math_<op>_<dtype>(x, out, nVectors)`: out = op(x) over nVectors
 * whole 16-byte vectors (callers pad). `imports` from importMathFunctions.
 */
export function addMathKernels(mb: ModuleBuilder, dtype: FloatDType, imports: MathImports): void {
  for (const op of MATH_OPS) {
    mb.addFunction(`math_${op}_${dtype}`, [I32, I32, I32], [], (c) => {
      const [xp, out, n] = [0, 1, 2];
      const i = c.local(I32);
      const v = c.local(V128);
      c.i32(0).set(i);
      c.forLoop(i, n, 1, () => {
        c.get(xp).simdMem(Simd.v128_load, 0).set(v);
        c.get(out);
        emitMath(c, op, dtype, v, imports);
        c.simdMem(Simd.v128_store, 0);
        c.inc(xp, 16).inc(out, 16);
      });
    });
  }
}
