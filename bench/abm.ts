/**
 * Benchmark: gradient estimates of an agent-based SIR epidemic
 * (examples/abm.ts) with stochastic.grad. Prints, for the forward-mode
 * triple estimator (eager and jitted) and the reverse-mode score estimator:
 * the median time per estimate of dE[final size]/dβ, the estimates' mean and
 * standard error, and the peak live memory during an estimate (V8 heap plus
 * ArrayBuffers, sampled during the last simulated day).
 *
 *   npx tsx bench/abm.ts [--agents 100000] [--days 100] [--samples 5]
 */
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { parseArgs } from "node:util";
import { type Array, jit, np, random, stochastic } from "../src/index.js";
import { simulateSir } from "../examples/abm.js";

const { values } = parseArgs({
  options: {
    agents: { type: "string", default: "100000" },
    days: { type: "string", default: "100" },
    samples: { type: "string", default: "5" },
  },
});
const agents = Number(values.agents);
const days = Number(values.days);
const samples = Number(values.samples);

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
function liveBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

let peak = 0;
let probing = false;
const f = (beta: Array, key: Array) =>
  simulateSir({ beta, gamma: np.array(0.1), initial: np.array(0.001) }, key, {
    agents,
    days,
    onLastDay: () => {
      if (probing) peak = Math.max(peak, liveBytes());
    },
  }).finalSize;

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function stats(xs: number[]): string {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const se = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) / xs.length);
  return `${mean.toFixed(3)} ± ${se.toFixed(3)}`;
}

console.log(
  `SIR, ${agents} agents, ${days} days, ${samples} estimates per method (after one warm-up)`,
);
const methods: [string, (beta: Array, key: Array) => Array][] = [
  ["triple (forward), eager", stochastic.grad(f, { estimator: "triple" })],
  ["triple (forward), jit", jit(stochastic.grad(f, { estimator: "triple" }))],
  ["score (reverse), eager", stochastic.grad(f, { estimator: "score" })],
];
for (const [name, g] of methods) {
  const t0 = performance.now();
  g(np.array(0.3), random.key(0)).item(); // warm-up (jit: trace and compile)
  const firstMs = performance.now() - t0;
  const times: number[] = [];
  const estimates: number[] = [];
  for (let i = 1; i <= samples; i++) {
    const t = performance.now();
    estimates.push(g(np.array(0.3), random.key(i)).item());
    times.push(performance.now() - t);
  }
  // Memory: one more eager estimate with the probe on (compiled code does not call it).
  let memory = "n/a (compiled)";
  if (!name.includes("jit")) {
    const base = liveBytes();
    peak = base;
    probing = true;
    g(np.array(0.3), random.key(samples + 1));
    probing = false;
    memory = `${((peak - base) / 2 ** 20).toFixed(1)} MiB`;
  }
  console.log(
    `${name.padEnd(26)} first call ${(firstMs / 1000).toFixed(1)} s, median ${(median(times) / 1000).toFixed(2)} s ` +
      `per estimate, estimate ${stats(estimates)}, memory at the last day ${memory}`,
  );
}
