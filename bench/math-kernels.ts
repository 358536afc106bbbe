/**
 * Times each stand-alone float64 Wasm math kernel (addMathKernels in
 * src/backends/wasm/mathKernels.ts), the float32 log (which runs a widened
 * float64 polynomial) and the native float32 exp, over 2^20 elements on one
 * thread:
 * medians over 25 interleaved rounds. Arguments are 2 sin(i/1000) + 1, the
 * values exp sees in benchmark W5. Run it in two checkouts, alternately, to
 * compare versions of the kernels.
 *
 * Usage: npx tsx bench/math-kernels.ts
 */
import { ModuleBuilder } from "../src/backends/wasm/emitter.js";
import {
  MATH_OPS,
  addMathKernels,
  importMathFunctions,
  mathImportObject,
} from "../src/backends/wasm/mathKernels.js";
import { machineInfo } from "./harness.js";

type Kernel = (x: number, out: number, nVectors: number) => void;

const n = 1 << 20;
const rounds = 25;
const memory = new WebAssembly.Memory({ initial: 3 * (n / 8192) + 1 });
const mb = new ModuleBuilder();
const imports = importMathFunctions(mb);
mb.importMemory({ module: "env", field: "memory", initial: 1 });
addMathKernels(mb, "float64", imports);
addMathKernels(mb, "float32", imports);
const kernels = new WebAssembly.Instance(new WebAssembly.Module(mb.finish()), {
  env: { memory },
  ...mathImportObject(),
}).exports as unknown as Record<string, Kernel>;

// float64 arguments at [0, 8n) and output at [8n, 16n); float32 log
// arguments at [16n, 20n) and output at [20n, 24n) (bytes).
const xs = new Float64Array(memory.buffer, 0, n);
for (let i = 0; i < n; i++) xs[i] = Math.sin(i * 0.001) * 2 + 1;
new Float32Array(memory.buffer, 16 * n, n).set(xs);
const cases: [string, () => void][] = [
  ...MATH_OPS.map((op): [string, () => void] => [
    `${op}`,
    () => kernels[`math_${op}_float64`]!(0, n * 8, n / 2),
  ]),
  // float32 log runs the widened float64 polynomial (LOG_Q_F32)
  ["log float32", () => kernels.math_log_float32!(16 * n, 20 * n, n / 4)],
  // float32 exp is native f32x4 (mathKernelsF32.ts)
  ["exp float32", () => kernels.math_exp_float32!(16 * n, 20 * n, n / 4)],
];
const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (let r = 0; r < rounds + 2; r++) {
  for (const [name, run] of cases) {
    const t0 = performance.now();
    run();
    if (r >= 2) times.get(name)!.push(performance.now() - t0);
  }
}
const median = (s: number[]) => [...s].sort((a, b) => a - b)[s.length >> 1]!;
console.log(machineInfo());
console.log(
  cases.map(([name]) => `${name} ${median(times.get(name)!).toFixed(2)} ms`).join(", "),
  `per ${n} elements (median of ${rounds})`,
);
