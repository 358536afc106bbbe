/**
 * Generates the Wasm kernel of a float sum over leading axes (a bias
 * gradient: the sum of a [batch, width] array over the batch): the column
 * sums of one block of rows, accumulated in float64 as the JS reference's
 * leaf of pairwise summation does (`pairwiseRowSum` in backends/js.ts: an
 * accumulator per column starting at +0, the rows added in order). float32
 * terms are widened exactly (`f64x2.promote_low_f32x4`), and float64
 * addition is exactly rounded, so the sums are the JS reference's bits; the
 * backend combines the blocks by the reference's pairwise tree.
 *
 * Exports `colSum_<dtype>(src, acc, rows, width)`: acc[o] (float64) = the
 * sum over r < rows of src[r * width + o] (byte addresses).
 */
import { I32, ModuleBuilder, Op, Simd } from "./emitter.js";

export function addSumKernels(mb: ModuleBuilder, dtype: "float32" | "float64"): void {
  const E = dtype === "float32" ? 4 : 8;
  mb.addFunction(`colSum_${dtype}`, [I32, I32, I32, I32], [], (c) => {
    const [src, acc, rows, width] = [0, 1, 2, 3];
    const o = c.local(I32);
    const r = c.local(I32);
    const pairs = c.local(I32);
    const a = c.local(I32);
    const end = c.local(I32);
    // pairs = width & ~1: the columns taken two at a time
    c.get(width).i32(-2).op(Op.i32_and).set(pairs);
    // acc[0 .. width) = +0
    c.get(acc).set(a);
    c.get(acc).get(width).i32(8).op(Op.i32_mul).op(Op.i32_add).set(end);
    c.forLoop(a, end, 8, () => {
      c.get(a).f64(0).mem(Op.f64_store, 3);
    });
    c.i32(0).set(r);
    c.forLoop(r, rows, 1, () => {
      c.i32(0).set(o);
      c.get(acc).set(a);
      c.forLoop(o, pairs, 2, () => {
        // acc[o, o+1] += widen(src[o, o+1]); src advances with o
        c.get(a);
        c.get(a).simdMem(Simd.v128_load, 0);
        c.get(src);
        if (E === 4) c.simdMem(Simd.v128_load64_splat, 0).simd(Simd.f64x2_promote_low_f32x4);
        else c.simdMem(Simd.v128_load, 0);
        c.simd(Simd.f64x2_add).simdMem(Simd.v128_store, 0);
        c.inc(a, 16);
        c.inc(src, 2 * E);
      });
      // an odd last column
      c.get(pairs).get(width).op(Op.i32_lt_s).if();
      c.get(a);
      c.get(a).mem(Op.f64_load, 3);
      c.get(src);
      if (E === 4) c.mem(Op.f32_load, 2).op(Op.f64_promote_f32);
      else c.mem(Op.f64_load, 3);
      c.op(Op.f64_add).mem(Op.f64_store, 3);
      c.inc(src, E);
      c.end();
    });
  });
}
