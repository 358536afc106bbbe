/**
 * Polynomial evaluation on SIMD lanes, shared by the float64 (f64x2) and
 * float32 (f32x4) math kernels, and the Taylor coefficients 1/n! they use.
 */
import { type Code, V128 } from "./emitter.js";

/** The lane arithmetic of one float dtype: push a splatted constant; mul and add opcodes. */
export interface LaneOps {
  splat(c: Code, v: number): void;
  mul: number;
  add: number;
}

/** 1/n! for n = 0..20, in float64. */
export const INV_FACTORIAL: readonly number[] = (() => {
  const out = [1];
  let f = 1;
  for (let n = 1; n <= 20; n++) {
    f *= n;
    out.push(1 / f);
  }
  return out;
})();

/**
 * Leaves sum_j coeffs[j] z^j on the stack (z a local), by Estrin's scheme:
 * p = low(z) + z^h high(z) with h a power of two, recursively. The halves
 * are independent, so the CPU overlaps them; Horner's rule would make one
 * chain of n dependent multiply-adds (latency-bound).
 */
export function polynomial(c: Code, lanes: LaneOps, z: number, coeffs: readonly number[]): void {
  // powers[k] = z^(2^k)
  const powers = [z];
  while (1 << powers.length < coeffs.length) {
    const prev = powers[powers.length - 1]!;
    const next = c.local(V128);
    c.get(prev).get(prev).simd(lanes.mul).set(next);
    powers.push(next);
  }
  const part = (lo: number, len: number): void => {
    if (len === 1) {
      lanes.splat(c, coeffs[lo]!);
      return;
    }
    let k = 0;
    while (2 << k < len) k++;
    const h = 1 << k;
    part(lo, h);
    part(lo + h, len - h);
    c.get(powers[k]!).simd(lanes.mul).simd(lanes.add);
  };
  part(0, coeffs.length);
}
