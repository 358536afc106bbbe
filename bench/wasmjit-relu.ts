/**
 * The W2 elementwise groups that the jit Wasm lowering gained with bool masks
 * (src/jit/wasmLowering.ts): the relu forward and backward of a 128x256
 * float32 hidden layer (grad of sum(relu(x + b) * y): max, comparisons,
 * selects), and for reference the SGD update of W1 (784x256). Each is jitted
 * twice on the wasm backend, once with the lowering off (JS loops) and once
 * on, and the two are timed interleaved in one process (medians).
 * Run: `npx tsx bench/wasmjit-relu.ts`.
 */
import { type Array, grad, jit, nn, np, setBackend } from "../src/index.js";
import { configureWasmJit } from "../src/jit/wasmLowering.js";
import { machineInfo } from "./harness.js";

setBackend("wasm");
// let the Wasm runtime finish compiling
await new Promise((resolve) => setTimeout(resolve, 300));

const rows = 128;
const hidden = 256;
const filled = (n: number, f: (i: number) => number, shape: number[]) =>
  np.array(
    new Float32Array(n).map((_, i) => f(i)),
    { shape },
  );
const x = filled(rows * hidden, (i) => Math.sin(i * 0.37), [rows, hidden]);
const b = filled(hidden, (i) => Math.cos(i) * 0.1, [hidden]);
const y = filled(rows * hidden, (i) => Math.cos(i * 0.11), [rows, hidden]);
const w1 = filled(784 * hidden, (i) => Math.sin(i), [784, hidden]);
const dw1 = filled(784 * hidden, (i) => Math.cos(i), [784, hidden]);

const reluGrad = (v: Array): Array =>
  grad((u: Array) => np.sum(np.multiply(nn.relu(np.add(u, b)), y)))(v);
const sgd = (w: Array, dw: Array): Array => np.subtract(w, np.multiply(dw, 0.01));

/** Jits both functions with groups of at least `minElements` lowered, and compiles them. */
function compile(minElements: number): { relu: () => Array; sgd: () => Array } {
  configureWasmJit({ minElements });
  const r = jit(reluGrad);
  const s = jit(sgd);
  r(x);
  s(w1, dw1);
  return { relu: () => r(x), sgd: () => s(w1, dw1) };
}
const off = compile(Number.MAX_SAFE_INTEGER);
const on = compile(1024);
// both versions give the same gradient
const a = off.relu().data();
const c = on.relu().data();
for (let i = 0; i < a.length; i++)
  if (Math.abs(a[i]! - c[i]!) > 1e-6) throw new Error(`gradients differ at ${i}`);

const cases: [string, () => Array][] = [
  ["relu fwd+bwd, JS loops", off.relu],
  ["relu fwd+bwd, Wasm", on.relu],
  ["SGD update W1, JS loop", off.sgd],
  ["SGD update W1, Wasm", on.sgd],
];
const times = cases.map((): number[] => []);
for (let round = 0; round < 60; round++) {
  cases.forEach(([, f], k) => {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) f();
    times[k]!.push((performance.now() - t0) / 5);
  });
}
const median = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1]!;
console.log(machineInfo());
cases.forEach(([name], k) => console.log(`${name.padEnd(24)} ${median(times[k]!).toFixed(3)} ms`));
