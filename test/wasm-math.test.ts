/**
 * The vectorised Wasm transcendentals (src/backends/wasm/mathKernels.ts)
 * against JS Math: float64 results within 2 ulp of Math.exp/log/sin/cos on
 * random values over wide ranges (log-uniform magnitudes, both signs) and on
 * special values (NaN, ±Infinity, ±0, subnormals, overflow and underflow
 * thresholds, huge sin/cos arguments); float32 results (native f32x4 exp,
 * sin, cos; log through float64) within 2 float32 ulp of
 * Math.fround(Math.op(x)), arguments beyond the native sin/cos range included.
 */
import { describe, expect, it } from "vitest";
import { ModuleBuilder, hasSimd } from "../src/backends/wasm/emitter.js";
import {
  MATH_OPS,
  type MathOp,
  addMathKernels,
  importMathFunctions,
  mathImportObject,
} from "../src/backends/wasm/mathKernels.js";
import { rng, ulps64 } from "./helpers.js";

type Kernel = (x: number, out: number, nVectors: number) => void;

const memory = new WebAssembly.Memory({ initial: 128 });
const kernels: Record<string, Kernel> = (() => {
  if (!hasSimd()) return {};
  const mb = new ModuleBuilder();
  const imports = importMathFunctions(mb);
  mb.importMemory({ module: "env", field: "memory", initial: 1 });
  addMathKernels(mb, "float64", imports);
  addMathKernels(mb, "float32", imports);
  const module = new WebAssembly.Module(mb.finish());
  const inst = new WebAssembly.Instance(module, { env: { memory }, ...mathImportObject() });
  return inst.exports as unknown as Record<string, Kernel>;
})();

const reference: Record<MathOp, (x: number) => number> = {
  exp: Math.exp,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
};

/** Runs the float64 kernel on xs (padded to whole vectors). */
function run64(op: MathOp, xs: readonly number[]): Float64Array {
  const n = xs.length + (xs.length % 2);
  const outAt = n * 8;
  new Float64Array(memory.buffer, 0, n).set(xs);
  kernels[`math_${op}_float64`]!(0, outAt, n / 2);
  return new Float64Array(memory.buffer, outAt, xs.length).slice();
}

function run32(op: MathOp, xs: Float32Array): Float32Array {
  const n = Math.ceil(xs.length / 4) * 4;
  const outAt = n * 4;
  new Float32Array(memory.buffer, 0, n).set(xs);
  kernels[`math_${op}_float32`]!(0, outAt, n / 4);
  return new Float32Array(memory.buffer, outAt, xs.length).slice();
}

function ulps32(actual: number, expected: number): number {
  if (Object.is(actual, expected) || (Number.isNaN(actual) && Number.isNaN(expected))) return 0;
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) return Infinity;
  const mag = Math.max(Math.abs(expected), 2 ** -126);
  return Math.abs(actual - expected) / 2 ** (Math.floor(Math.log2(mag)) - 23);
}

/** Random arguments per op: uniform on a few intervals and log-uniform magnitudes. */
function samples(op: MathOp, r: () => number, count: number): number[] {
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * r();
  const logUniform = (lo: number, hi: number) =>
    Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * r());
  const xs: number[] = [];
  for (let i = 0; i < count; i++) {
    const sign = r() < 0.5 ? -1 : 1;
    switch (op) {
      case "exp":
        xs.push(i % 2 === 0 ? uniform(-745, 710) : sign * logUniform(1e-20, 30));
        break;
      case "log":
        xs.push(i % 2 === 0 ? logUniform(1e-320, 1e308) : uniform(0.5, 2));
        break;
      default:
        xs.push(i % 3 === 0 ? uniform(-10, 10) : sign * logUniform(1e-12, 1e12));
    }
  }
  return xs;
}

const SPECIALS = [
  0,
  -0,
  Infinity,
  -Infinity,
  NaN,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  1e-310,
  1,
  -1,
  0.5,
  709.782712893384,
  709.7827128933841,
  -708.4,
  -745.1332191019411,
  -745.1332191019412,
  -746,
  1e300,
  -1e300,
  131071.9,
  131072.1,
  Math.PI,
  Math.PI / 2,
  -Math.PI / 4,
  1e22,
  2 ** 60,
];

describe.skipIf(!hasSimd())("Wasm vectorised math", () => {
  for (const op of MATH_OPS) {
    it(`${op} float64 is within 2 ulp of Math.${op} on random and special values`, () => {
      const r = rng(op.length * 7919);
      const xs = [...samples(op, r, 20000), ...SPECIALS];
      const got = run64(op, xs);
      let worst = 0;
      let worstX = 0;
      xs.forEach((x, i) => {
        const u = ulps64(got[i]!, reference[op](x));
        if (u > worst) {
          worst = u;
          worstX = x;
        }
      });
      expect(worst, `${op}(${worstX}) is ${worst} ulp from Math.${op}`).toBeLessThanOrEqual(2);
    });

    it(`${op} float32 is within 2 ulp of fround(Math.${op})`, () => {
      const r = rng(op.length * 104729);
      const xs = Float32Array.from(samples(op, r, 8001).filter((x) => Math.abs(x) < 3e38));
      const specials = Float32Array.from([
        0,
        -0,
        Infinity,
        -Infinity,
        NaN,
        1e-45,
        -1e-45,
        1e-40,
        88.7,
        88.73,
        89,
        -103.9,
        -104,
        -110,
        511.9,
        512.1,
        -600,
        Math.PI,
        1e20,
      ]);
      const all = new Float32Array(xs.length + specials.length);
      all.set(xs);
      all.set(specials, xs.length);
      const got = run32(op, all);
      let worst = 0;
      all.forEach((x, i) => {
        worst = Math.max(worst, ulps32(got[i]!, Math.fround(reference[op](x))));
      });
      expect(worst).toBeLessThanOrEqual(2);
    });
  }

  it("keeps the sign of zero and the exact special results", () => {
    const [s0, sm0] = run64("sin", [0, -0]);
    expect(Object.is(s0, 0) && Object.is(sm0, -0)).toBe(true);
    expect([...run64("log", [0, -1, Infinity, NaN])]).toEqual([-Infinity, NaN, Infinity, NaN]);
    expect([...run64("exp", [-Infinity, Infinity, 1000, -1000])]).toEqual([
      0,
      Infinity,
      Infinity,
      0,
    ]);
    expect([...run64("cos", [Infinity, NaN])]).toEqual([NaN, NaN]);
  });
});
