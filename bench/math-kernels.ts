/**
 * Times each stand-alone float64 Wasm math kernel (addMathKernels in
 * src/backends/wasm/mathKernels.ts) over 2^20 elements on one thread:
 * medians over 25 interleaved rounds. Arguments are 2 sin(i/1000) + 1, the
 * values exp sees in benchmark W5. Run it in two checkouts, alternately, to
 * compare versions of the kernels.
 *
 * Usage: npx tsx bench/math-kernels.ts
 */
import { ModuleBuilder } from "../src/backends/wasm/emitter.js";
import {
  MATH_OPS,
  type MathOp,
  addMathKernels,
  importMathFunctions,
  mathImportObject,
} from "../src/backends/wasm/mathKernels.js";
import { machineInfo } from "./harness.js";

type Kernel = (x: number, out: number, nVectors: number) => void;

const n = 1 << 20;
const rounds = 25;
const memory = new WebAssembly.Memory({ initial: 2 * (n / 8192) + 1 });
const mb = new ModuleBuilder();
const imports = importMathFunctions(mb);
mb.importMemory({ module: "env", field: "memory", initial: 1 });
addMathKernels(mb, "float64", imports);
const kernels = new WebAssembly.Instance(new WebAssembly.Module(mb.finish()), {
  env: { memory },
  ...mathImportObject(),
}).exports as unknown as Record<string, Kernel>;

const xs = new Float64Array(memory.buffer, 0, n);
for (let i = 0; i < n; i++) xs[i] = Math.sin(i * 0.001) * 2 + 1;
const times = new Map<MathOp, number[]>(MATH_OPS.map((op) => [op, []]));
for (let r = 0; r < rounds + 2; r++) {
  for (const op of MATH_OPS) {
    const t0 = performance.now();
    kernels[`math_${op}_float64`]!(0, n * 8, n / 2);
    if (r >= 2) times.get(op)!.push(performance.now() - t0);
  }
}
const median = (s: number[]) => [...s].sort((a, b) => a - b)[s.length >> 1]!;
console.log(machineInfo());
console.log(
  MATH_OPS.map((op) => `${op} ${median(times.get(op)!).toFixed(2)} ms`).join(", "),
  `per ${n} float64 elements (median of ${rounds})`,
);
