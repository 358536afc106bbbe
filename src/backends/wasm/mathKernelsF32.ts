/**
 * Native float32 (f32x4) exp, sin and cos for the Wasm code generators: the
 * methods of mathKernels.ts with float32 constants and lower degrees, four
 * lanes per instruction instead of two. Accuracy: within 2 float32 ulp of
 * Math.fround(Math.op(x)) (test/wasm-math.test.ts).
 *
 * - exp: k = nearest(x / ln2) with the 1.5*2^23 rounding trick, ln2 split in
 *   a 16-bit head and a tail, e^r to degree 7 on |r| <= ln2/2, 2^k as two
 *   exponent-bit factors; x clamped to [-104, 89] (outside: 0 or Infinity).
 * - sin/cos: k = nearest(2x/pi), pi/2 in three parts (15 + 15 + 24 bits:
 *   exact products for |k| < 2^9), polynomials to r^9 and r^10 on |r| <=
 *   pi/4, quadrant from the low bits. These are used for vectors whose lanes
 *   all have |x| <= 512; others take the float64 route of mathKernels.ts.
 */
import { type Code, Simd, V128 } from "./emitter.js";
import { INV_FACTORIAL, type LaneOps, polynomial } from "./simdPolynomial.js";

const LOG2E = 1.4426950216293335;
/** ln2 = LN2_HI + LN2_LO; LN2_HI has 16 significant bits. */
const LN2_HI = 0.693145751953125;
const LN2_LO = 1.428606765330187e-6;
/** pi/2 = P1 + P2 + P3; P1 and P2 have 15 significant bits. */
const P1 = 1.57080078125;
const P2 = -4.454515874385834e-6;
const P3 = 6.07710062827671e-11;
const TWO_OVER_PI = 0.6366197466850281;
/** 1.5 * 2^23 and its bits. */
const ROUNDER = 12582912;
const ROUNDER_BITS = 0x4b400000;
/** Largest |x| whose sin/cos this file computes. */
export const F32_TRIG_LIMIT = 512;

function f32s(c: Code, v: number): void {
  c.f32(v).simd(Simd.f32x4_splat);
}
function i32s(c: Code, v: number): void {
  c.i32(v).simd(Simd.i32x4_splat);
}

/** float32 lanes for the shared polynomial evaluator. */
const F32_LANES: LaneOps = { splat: f32s, mul: Simd.f32x4_mul, add: Simd.f32x4_add };

/** Leaves exp(x) for the f32x4 local x. */
export function expF32(c: Code, x: number): void {
  const xc = c.local(V128);
  const t = c.local(V128);
  const k = c.local(V128);
  const r = c.local(V128);
  const ki = c.local(V128);
  const k1 = c.local(V128);
  // xc = pmin(pmax(x, -104), 89): single-instruction pseudo-min/max (see
  // expF64); x first, so a NaN lane stays NaN.
  c.get(x);
  f32s(c, -104);
  c.simd(Simd.f32x4_pmax);
  f32s(c, 89);
  c.simd(Simd.f32x4_pmin).set(xc);
  c.get(xc);
  f32s(c, LOG2E);
  c.simd(Simd.f32x4_mul);
  f32s(c, ROUNDER);
  c.simd(Simd.f32x4_add).tee(t);
  f32s(c, ROUNDER);
  c.simd(Simd.f32x4_sub).set(k);
  c.get(xc).get(k);
  f32s(c, LN2_HI);
  c.simd(Simd.f32x4_mul).simd(Simd.f32x4_sub).get(k);
  f32s(c, LN2_LO);
  c.simd(Simd.f32x4_mul).simd(Simd.f32x4_sub).set(r);
  c.get(t);
  i32s(c, ROUNDER_BITS);
  c.simd(Simd.i32x4_sub).tee(ki).i32(1).simd(Simd.i32x4_shr_s).set(k1);
  polynomial(c, F32_LANES, r, INV_FACTORIAL.slice(0, 8));
  c.get(k1);
  i32s(c, 127);
  c.simd(Simd.i32x4_add).i32(23).simd(Simd.i32x4_shl).simd(Simd.f32x4_mul);
  c.get(ki).get(k1).simd(Simd.i32x4_sub);
  i32s(c, 127);
  c.simd(Simd.i32x4_add).i32(23).simd(Simd.i32x4_shl).simd(Simd.f32x4_mul);
}

/** Shared parts of sin and cos of one argument. */
export interface TrigPartsF32 {
  t: number;
  sp: number;
  cp: number;
}

export function trigReduceF32(c: Code, x: number): TrigPartsF32 {
  const t = c.local(V128);
  const k = c.local(V128);
  const r = c.local(V128);
  const z = c.local(V128);
  const sp = c.local(V128);
  const cp = c.local(V128);
  c.get(x);
  f32s(c, TWO_OVER_PI);
  c.simd(Simd.f32x4_mul);
  f32s(c, ROUNDER);
  c.simd(Simd.f32x4_add).tee(t);
  f32s(c, ROUNDER);
  c.simd(Simd.f32x4_sub).set(k);
  c.get(x);
  for (const p of [P1, P2, P3]) {
    c.get(k);
    f32s(c, p);
    c.simd(Simd.f32x4_mul).simd(Simd.f32x4_sub);
  }
  c.tee(r).get(r).simd(Simd.f32x4_mul).set(z);
  // sin r = r + r z (-1/3! + z/5! - z^2/7! + z^3/9!)
  c.get(r).get(r).get(z).simd(Simd.f32x4_mul);
  polynomial(c, F32_LANES, z, [
    -INV_FACTORIAL[3]!,
    INV_FACTORIAL[5]!,
    -INV_FACTORIAL[7]!,
    INV_FACTORIAL[9]!,
  ]);
  c.simd(Simd.f32x4_mul).simd(Simd.f32x4_add).set(sp);
  // cos r = 1 + z (-1/2! + z/4! - ... - z^4/10!)
  f32s(c, 1);
  c.get(z);
  polynomial(c, F32_LANES, z, [
    -INV_FACTORIAL[2]!,
    INV_FACTORIAL[4]!,
    -INV_FACTORIAL[6]!,
    INV_FACTORIAL[8]!,
    -INV_FACTORIAL[10]!,
  ]);
  c.simd(Simd.f32x4_mul).simd(Simd.f32x4_add).set(cp);
  return { t, sp, cp };
}

/** Leaves sin x or cos x (lanes with |x| <= F32_TRIG_LIMIT are valid). */
export function trigSelectF32(c: Code, x: number, parts: TrigPartsF32, cos: boolean): void {
  const q = c.local(V128);
  c.get(parts.t);
  if (cos) {
    i32s(c, 1);
    c.simd(Simd.i32x4_add);
  }
  c.set(q);
  c.get(parts.cp).get(parts.sp);
  c.get(q).i32(31).simd(Simd.i32x4_shl).i32(31).simd(Simd.i32x4_shr_s);
  c.simd(Simd.v128_bitselect);
  c.get(q).i32(30).simd(Simd.i32x4_shl);
  i32s(c, -0x80000000);
  c.simd(Simd.v128_and).simd(Simd.v128_xor);
  if (!cos) {
    // sin x = x for |x| < 2^-12 (keeps -0 and subnormals)
    const res = c.local(V128);
    c.set(res);
    c.get(x).get(res).get(x).simd(Simd.f32x4_abs);
    f32s(c, 2 ** -12);
    c.simd(Simd.f32x4_lt).simd(Simd.v128_bitselect);
  }
}

/** Pushes an i32 that is nonzero when some lane of x has |x| > F32_TRIG_LIMIT (Infinity included). */
export function anyLaneBeyondTrigLimit(c: Code, x: number): void {
  c.get(x).simd(Simd.f32x4_abs);
  f32s(c, F32_TRIG_LIMIT);
  c.simd(Simd.f32x4_gt).simd(Simd.v128_any_true);
}
