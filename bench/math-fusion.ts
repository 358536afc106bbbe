/**
 * Why jit groups with several transcendentals run in stages
 * (src/jit/wasmLowering.ts, planStages): times y = exp(2 sin x + 1) over
 * float64 vectors in the L1/L2 cache three ways, interleaved on one thread:
 *   - two loops (sin, then exp of 2t + 1), as a staged group runs it;
 *   - one fused loop body;
 *   - the fused body unrolled twice.
 * Prints the median over 21 rounds of 2^20 elements each.
 *
 * Usage: npx tsx bench/math-fusion.ts
 */
import { type Code, I32, ModuleBuilder, Op, Simd, V128 } from "../src/backends/wasm/emitter.js";
import {
  type MathOp,
  emitMathOps,
  importMathFunctions,
  mathImportObject,
} from "../src/backends/wasm/mathKernels.js";
import { machineInfo } from "./harness.js";

type Kernel = (x: number, out: number, nVectors: number) => void;

/** Elements per call: 64 KiB of float64, cache-resident. */
const block = 8192;
const callsPerRound = 128;
const rounds = 21;

const memory = new WebAssembly.Memory({ initial: 64 });
const mb = new ModuleBuilder();
const imports = importMathFunctions(mb);
mb.importMemory({ module: "env", field: "memory", initial: 1 });

/** Adds `name(x, out, nVectors)`: out = body(x), `unroll` vectors per iteration. */
function addLoop(name: string, body: (c: Code, x: number) => number, unroll = 1): void {
  mb.addFunction(name, [I32, I32, I32], [], (c) => {
    const i = c.local(I32);
    const off = c.local(I32);
    c.i32(0).set(i).i32(0).set(off);
    c.forLoop(i, 2, unroll, () => {
      for (let u = 0; u < unroll; u++) {
        const x = c.local(V128);
        c.get(0)
          .get(off)
          .op(Op.i32_add)
          .simdMem(Simd.v128_load, 0, 16 * u)
          .set(x);
        const y = body(c, x);
        c.get(1)
          .get(off)
          .op(Op.i32_add)
          .get(y)
          .simdMem(Simd.v128_store, 0, 16 * u);
      }
      c.inc(off, 16 * unroll);
    });
  });
}
const math =
  (op: MathOp) =>
  (c: Code, x: number): number =>
    emitMathOps(c, [op], "float64", x, imports)[0]!;
/** 2x + 1 */
const affine = (c: Code, x: number): number => {
  const t = c.local(V128);
  c.get(x).f64(2).simd(Simd.f64x2_splat).simd(Simd.f64x2_mul);
  c.f64(1).simd(Simd.f64x2_splat).simd(Simd.f64x2_add).set(t);
  return t;
};
addLoop("sin", math("sin"));
addLoop("expAffine", (c, x) => math("exp")(c, affine(c, x)));
addLoop("fused", (c, x) => math("exp")(c, affine(c, math("sin")(c, x))));
addLoop("fusedUnrolled", (c, x) => math("exp")(c, affine(c, math("sin")(c, x))), 2);
const k = new WebAssembly.Instance(new WebAssembly.Module(mb.finish()), {
  env: { memory },
  ...mathImportObject(),
}).exports as unknown as Record<string, Kernel>;

const xs = new Float64Array(memory.buffer, 0, block);
for (let i = 0; i < block; i++) xs[i] = Math.sin(i * 0.001);
const [x, t, y] = [0, 8 * block, 16 * block];
const vectors = block / 2;
const cases: [string, () => void][] = [
  ["two loops (staged)", () => (k.sin!(x, t, vectors), k.expAffine!(t, y, vectors))],
  ["one fused loop", () => k.fused!(x, y, vectors)],
  ["fused, unrolled twice", () => k.fusedUnrolled!(x, y, vectors)],
];
const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (let r = 0; r < rounds + 3; r++) {
  for (const [name, run] of cases) {
    const t0 = performance.now();
    for (let call = 0; call < callsPerRound; call++) run();
    if (r >= 3) times.get(name)!.push(performance.now() - t0);
  }
}
const median = (s: number[]) => [...s].sort((a, b) => a - b)[s.length >> 1]!;
console.log(machineInfo());
console.log(
  `y = exp(2 sin x + 1), float64, ${block * callsPerRound} elements per round, median of ${rounds}:`,
);
for (const [name] of cases) console.log(`  ${name}: ${median(times.get(name)!).toFixed(2)} ms`);
