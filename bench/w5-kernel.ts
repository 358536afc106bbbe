/**
 * W5 float64 on the wasm backend, one thread: jit forward and jit grad of
 * y = exp(sin(x) * 2 + 1) over 1e6 elements, with the jax-js jit peer
 * interleaved, medians over `--rounds` rounds (default 21). Used to compare
 * versions of the float64 math kernels (src/backends/wasm/mathKernels.ts):
 * run it alternately in two checkouts and compare the medians.
 *
 * Usage: npx tsx bench/w5-kernel.ts [--rounds 21] [--n 1000000] [--no-peer]
 */
import { parseArgs } from "node:util";
import { grad as jaxGrad, jit as jaxJit, numpy as jnp } from "@jax-js/jax";
import { setWasmThreadLimit } from "../src/backends/wasm/index.js";
import { type Array, grad, jit, np, setBackend } from "../src/index.js";
import { type BenchCase, fmt, machineInfo, printTable, runInterleaved } from "./harness.js";
import "./peers.js"; // Float16Array stand-in for jax-js on Node 20

type JaxArray = ReturnType<typeof jnp.array>;

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "21" },
    n: { type: "string", default: "1000000" },
    "no-peer": { type: "boolean", default: false },
  },
});
const rounds = Number(values.rounds);
const n = Number(values.n);

await Promise.resolve(setBackend("wasm") as unknown);
setWasmThreadLimit(0);

const f = (x: Array) => np.exp(np.add(np.multiply(np.sin(x), 2), 1));
const data = new Float64Array(n);
for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.001);
const x = np.array(data);
const fwd = jit(f);
const bwd = jit(grad((v: Array) => np.sum(f(v))));

// Check against a plain loop: d/dx exp(2 sin x + 1) = exp(2 sin x + 1) 2 cos x
const g = bwd(x).data();
let maxRel = 0;
for (let i = 0; i < n; i += 7) {
  const ref = Math.exp(Math.sin(data[i]!) * 2 + 1) * 2 * Math.cos(data[i]!);
  maxRel = Math.max(maxRel, Math.abs(g[i]! / ref - 1));
}

const cases: BenchCase[] = [
  { name: "chainrule jit (wasm, 1 thread), forward", run: () => fwd(x).data() },
  { name: "chainrule jit (wasm, 1 thread), grad", run: () => bwd(x).data() },
];
if (!values["no-peer"]) {
  const jaxX = jnp.array(data, { dtype: jnp.float64 });
  const jaxFwd = jaxJit((v: JaxArray) => jnp.exp(jnp.sin(v).mul(2).add(1)));
  const jaxBwd = jaxJit(jaxGrad((v: JaxArray) => jnp.exp(jnp.sin(v).mul(2).add(1)).sum()));
  cases.push(
    { name: "jax-js jit, forward", run: () => jaxFwd(jaxX.ref).dataSync() },
    { name: "jax-js jit, grad", run: () => jaxBwd(jaxX.ref).dataSync() },
  );
}
const results = await runInterleaved(cases, { rounds, warmup: 3, capMs: 20000 });
console.log(machineInfo());
console.log(
  `W5 float64, n = ${n}, ${rounds} rounds; grad vs plain loop max relative difference ${maxRel.toExponential(1)}`,
);
printTable(
  ["case", "median ms", "Melem/s"],
  results.map((r) => [
    r.name,
    r.note ?? fmt(r.medianMs, 2),
    r.medianMs === null ? "-" : fmt(n / (r.medianMs * 1000), 0),
  ]),
);
