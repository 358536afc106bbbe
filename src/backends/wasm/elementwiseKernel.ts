/**
 * Generates the Wasm elementwise kernels: out[i] = op(a[i], b[i]) for
 * add/sub/mul/div and out[i] = op(x[i]) for neg/abs/sqrt, on float32
 * (f32x4) and float64 (f64x2). Each kernel runs whole vectors, then the
 * scalar tail. These ops are exactly rounded in IEEE 754, so the results
 * equal the JS reference bit for bit.
 *
 * Exports `binary_<op>_<dtype>(a, b, out, n)` and `unary_<op>_<dtype>(x, out, n)`
 * (byte addresses, element count).
 */
import { I32, ModuleBuilder, Op, Simd } from "./emitter.js";

export type WasmBinaryOp = "add" | "sub" | "mul" | "div";
export type WasmUnaryOp = "neg" | "abs" | "sqrt";
export const WASM_BINARY_OPS: readonly WasmBinaryOp[] = ["add", "sub", "mul", "div"];
export const WASM_UNARY_OPS: readonly WasmUnaryOp[] = ["neg", "abs", "sqrt"];

const VECTOR_BINARY: Record<"float32" | "float64", Record<WasmBinaryOp, number>> = {
  float32: { add: Simd.f32x4_add, sub: Simd.f32x4_sub, mul: Simd.f32x4_mul, div: Simd.f32x4_div },
  float64: { add: Simd.f64x2_add, sub: Simd.f64x2_sub, mul: Simd.f64x2_mul, div: Simd.f64x2_div },
};
const SCALAR_BINARY: Record<"float32" | "float64", Record<WasmBinaryOp, number>> = {
  float32: { add: Op.f32_add, sub: Op.f32_sub, mul: Op.f32_mul, div: Op.f32_div },
  float64: { add: Op.f64_add, sub: Op.f64_sub, mul: Op.f64_mul, div: Op.f64_div },
};
const VECTOR_UNARY: Record<"float32" | "float64", Record<WasmUnaryOp, number>> = {
  float32: { neg: Simd.f32x4_neg, abs: Simd.f32x4_abs, sqrt: Simd.f32x4_sqrt },
  float64: { neg: Simd.f64x2_neg, abs: Simd.f64x2_abs, sqrt: Simd.f64x2_sqrt },
};
const SCALAR_UNARY: Record<"float32" | "float64", Record<WasmUnaryOp, number>> = {
  float32: { neg: Op.f32_neg, abs: Op.f32_abs, sqrt: Op.f32_sqrt },
  float64: { neg: Op.f64_neg, abs: Op.f64_abs, sqrt: Op.f64_sqrt },
};

export function addElementwiseKernels(mb: ModuleBuilder, dtype: "float32" | "float64"): void {
  const E = dtype === "float32" ? 4 : 8;
  const lanes = 16 / E;
  const load = dtype === "float32" ? Op.f32_load : Op.f64_load;
  const store = dtype === "float32" ? Op.f32_store : Op.f64_store;
  const align = dtype === "float32" ? 2 : 3;

  for (const op of WASM_BINARY_OPS) {
    mb.addFunction(`binary_${op}_${dtype}`, [I32, I32, I32, I32], [], (c) => {
      const [a, b, out, n] = [0, 1, 2, 3];
      const i = c.local(I32);
      const nVec = c.local(I32);
      // nVec = n rounded down to whole vectors
      c.get(n).i32(-lanes).op(Op.i32_and).set(nVec);
      c.i32(0).set(i);
      c.forLoop(i, nVec, lanes, () => {
        c.get(out);
        c.get(a).simdMem(Simd.v128_load, 0);
        c.get(b).simdMem(Simd.v128_load, 0);
        c.simd(VECTOR_BINARY[dtype][op]);
        c.simdMem(Simd.v128_store, 0);
        c.inc(a, 16).inc(b, 16).inc(out, 16);
      });
      c.forLoop(i, n, 1, () => {
        c.get(out);
        c.get(a).mem(load, align);
        c.get(b).mem(load, align);
        c.op(SCALAR_BINARY[dtype][op]);
        c.mem(store, align);
        c.inc(a, E).inc(b, E).inc(out, E);
      });
    });
  }

  for (const op of WASM_UNARY_OPS) {
    mb.addFunction(`unary_${op}_${dtype}`, [I32, I32, I32], [], (c) => {
      const [x, out, n] = [0, 1, 2];
      const i = c.local(I32);
      const nVec = c.local(I32);
      c.get(n).i32(-lanes).op(Op.i32_and).set(nVec);
      c.i32(0).set(i);
      c.forLoop(i, nVec, lanes, () => {
        c.get(out);
        c.get(x).simdMem(Simd.v128_load, 0);
        c.simd(VECTOR_UNARY[dtype][op]);
        c.simdMem(Simd.v128_store, 0);
        c.inc(x, 16).inc(out, 16);
      });
      c.forLoop(i, n, 1, () => {
        c.get(out);
        c.get(x).mem(load, align);
        c.op(SCALAR_UNARY[dtype][op]);
        c.mem(store, align);
        c.inc(x, E).inc(out, E);
      });
    });
  }
}
