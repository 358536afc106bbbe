/**
 * The float64 sin and cos Wasm kernels (src/backends/wasm/mathKernels.ts)
 * where their range reduction is hardest, against JS Math.sin / Math.cos
 * within 2 ulp: both the kernels of one function alone (reduction by pi, one
 * polynomial) and the pair of one argument (shared reduction by pi/2, two
 * polynomials), on
 * - every float64 value next to a multiple of pi/2 below the reduction's
 *   limit (the reduction's worst cases, where r is smallest, are among them),
 *   with small offsets, and next to odd multiples of pi/4 (the pair's
 *   quadrant boundaries);
 * - values around the limit 2^17 on both sides (beyond it, the scalar Math
 *   fallback);
 * - special values: zeros, subnormals, tiny values (sin x = x exactly),
 *   infinities and NaN.
 */
import { describe, expect, it } from "vitest";
import { I32, ModuleBuilder, Simd, V128, hasSimd } from "../src/backends/wasm/emitter.js";
import {
  addMathKernels,
  emitMathOps,
  importMathFunctions,
  mathImportObject,
} from "../src/backends/wasm/mathKernels.js";
import { ulps64 } from "./helpers.js";

type Kernel = (x: number, out: number, nVectors: number) => void;
type PairKernel = (x: number, sinOut: number, cosOut: number, nVectors: number) => void;

const memory = new WebAssembly.Memory({ initial: 16 });
const kernels: Record<string, Kernel | PairKernel> = (() => {
  if (!hasSimd()) return {};
  const mb = new ModuleBuilder();
  const imports = importMathFunctions(mb);
  mb.importMemory({ module: "env", field: "memory", initial: 1 });
  addMathKernels(mb, "float64", imports);
  // sin and cos of the same vector: the shared reduction
  mb.addFunction("sincos_float64", [I32, I32, I32, I32], [], (c) => {
    const [xp, sinOut, cosOut, n] = [0, 1, 2, 3];
    const i = c.local(I32);
    const v = c.local(V128);
    c.i32(0).set(i);
    c.forLoop(i, n, 1, () => {
      c.get(xp).simdMem(Simd.v128_load, 0).set(v);
      const [s, co] = emitMathOps(c, ["sin", "cos"], "float64", v, imports);
      c.get(sinOut).get(s!).simdMem(Simd.v128_store, 0);
      c.get(cosOut).get(co!).simdMem(Simd.v128_store, 0);
      c.inc(xp, 16).inc(sinOut, 16).inc(cosOut, 16);
    });
  });
  const module = new WebAssembly.Module(mb.finish());
  const inst = new WebAssembly.Instance(module, { env: { memory }, ...mathImportObject() });
  return inst.exports as unknown as Record<string, Kernel | PairKernel>;
})();

/** Grows the memory to hold `bytes`. */
function reserve(bytes: number): void {
  const missing = Math.ceil((bytes - memory.buffer.byteLength) / 65536);
  if (missing > 0) memory.grow(missing);
}

/** sin and cos of xs by the kernels of one function alone. */
function alone(xs: Float64Array): { sin: Float64Array; cos: Float64Array } {
  const n = xs.length + (xs.length % 2);
  reserve(2 * n * 8);
  const run = (op: "sin" | "cos") => {
    new Float64Array(memory.buffer, 0, n).set(xs);
    (kernels[`math_${op}_float64`] as Kernel)(0, n * 8, n / 2);
    return new Float64Array(memory.buffer, n * 8, xs.length).slice();
  };
  return { sin: run("sin"), cos: run("cos") };
}

/** sin and cos of xs by the pair kernel (one shared reduction). */
function pair(xs: Float64Array): { sin: Float64Array; cos: Float64Array } {
  const n = xs.length + (xs.length % 2);
  reserve(3 * n * 8);
  new Float64Array(memory.buffer, 0, n).set(xs);
  (kernels.sincos_float64 as PairKernel)(0, n * 8, 2 * n * 8, n / 2);
  return {
    sin: new Float64Array(memory.buffer, n * 8, xs.length).slice(),
    cos: new Float64Array(memory.buffer, 2 * n * 8, xs.length).slice(),
  };
}

/** The float64 value `steps` representable values above x (below for steps < 0); x finite. */
function stepFrom(x: number, steps: number): number {
  const f = new Float64Array([x]);
  const bits = new BigInt64Array(f.buffer);
  // sign-magnitude to a monotonic integer line and back
  const line = bits[0]! < 0n ? -(bits[0]! & 0x7fffffffffffffffn) : bits[0]!;
  const moved = line + BigInt(steps);
  bits[0] = moved < 0n ? -moved | -0x8000000000000000n : moved;
  return f[0]!;
}

/** Largest ulp distance from Math over xs, and where. */
function worst(
  xs: Float64Array,
  got: Float64Array,
  reference: (x: number) => number,
): { ulps: number; at: number } {
  let ulps = 0;
  let at = NaN;
  xs.forEach((x, i) => {
    const u = ulps64(got[i]!, reference(x));
    if (u > ulps) {
      ulps = u;
      at = x;
    }
  });
  return { ulps, at };
}

const TRIG_LIMIT = 2 ** 17;

/**
 * Every float64 value within 2 steps of fl(j pi/2), j = 1 .. 2^17/(pi/2)
 * (fl(j pi/2) is within an ulp of j pi/2, so the nearest float64 values to
 * each multiple are included), both signs.
 */
function nearMultiplesOfHalfPi(): Float64Array {
  const last = Math.floor(TRIG_LIMIT / (Math.PI / 2));
  const xs = new Float64Array(last * 5 * 2);
  let k = 0;
  for (let j = 1; j <= last; j++) {
    const centre = j * (Math.PI / 2);
    for (let s = -2; s <= 2; s++) {
      const x = stepFrom(centre, s);
      xs[k++] = x;
      xs[k++] = -x;
    }
  }
  return xs;
}

/** Offsets around multiples of pi/4 (up to 2000 pi/4) and a few far ones. */
function aroundQuarterPi(): Float64Array {
  const out: number[] = [];
  const offsets = [0, 1e-15, -1e-15, 1e-12, -1e-12, 1e-9, -1e-9, 1e-6, -1e-6, 1e-3, -1e-3];
  const js = [...Array.from({ length: 2001 }, (_, j) => j), 50001, 83443, 166886];
  for (const j of js) {
    const centre = j * (Math.PI / 4);
    for (const d of offsets) {
      const x = centre + d * Math.max(1, centre);
      if (Math.abs(x) <= TRIG_LIMIT) out.push(x, -x);
    }
  }
  return Float64Array.from(out);
}

/** Values next to the limit 2^17 on both sides (both signs). */
function aroundLimit(): Float64Array {
  const out: number[] = [];
  for (let s = -50; s <= 50; s++) out.push(stepFrom(TRIG_LIMIT, s));
  for (const d of [1e-6, 1e-3, 0.1, 0.5, 1, Math.PI, 100]) out.push(TRIG_LIMIT - d, TRIG_LIMIT + d);
  return Float64Array.from([...out, ...out.map((x) => -x)]);
}

const TINY = [
  0,
  -0,
  5e-324,
  -5e-324,
  1e-310,
  -1e-310,
  2.2250738585072014e-308,
  -2.2250738585072014e-308,
  1e-200,
  -1e-30,
  2 ** -27,
  stepFrom(2 ** -26, -1),
  -stepFrom(2 ** -26, -1),
];

describe.skipIf(!hasSimd())("Wasm float64 sin and cos at the reduction's boundaries", () => {
  const sets: [string, () => Float64Array][] = [
    ["next to multiples of pi/2 below 2^17", nearMultiplesOfHalfPi],
    ["around multiples of pi/4", aroundQuarterPi],
    ["around the limit 2^17", aroundLimit],
  ];
  for (const [name, make] of sets) {
    it(`are within 2 ulp of Math.sin/Math.cos ${name}`, () => {
      const xs = make();
      for (const [kind, run] of [
        ["alone", alone],
        ["pair", pair],
      ] as const) {
        const got = run(xs);
        const s = worst(xs, got.sin, Math.sin);
        const c = worst(xs, got.cos, Math.cos);
        expect(s.ulps, `sin ${kind}(${s.at}) is ${s.ulps} ulp from Math.sin`).toBeLessThanOrEqual(
          2,
        );
        expect(c.ulps, `cos ${kind}(${c.at}) is ${c.ulps} ulp from Math.cos`).toBeLessThanOrEqual(
          2,
        );
      }
    });
  }

  it("give the exact special results", () => {
    const specials = Float64Array.from([...TINY, Infinity, -Infinity, NaN]);
    for (const run of [alone, pair]) {
      const got = run(specials);
      TINY.forEach((x, i) => {
        // sin x = x exactly for |x| < 2^-26 (the sign of -0 and subnormals kept)
        expect(Object.is(got.sin[i], x), `sin(${x}) = ${got.sin[i]}`).toBe(true);
        // cos x = 1 exactly while x is below half an ulp of pi/2 (the
        // reduced argument is then pi/2 itself); within 2 ulp beyond
        if (Math.abs(x) < 2 ** -54) expect(got.cos[i]).toBe(Math.cos(x));
        else expect(ulps64(got.cos[i]!, Math.cos(x))).toBeLessThanOrEqual(2);
      });
      const tail = specials.length - 3;
      for (let i = tail; i < specials.length; i++) {
        expect(got.sin[i]).toBeNaN();
        expect(got.cos[i]).toBeNaN();
      }
    }
  });
});
