/**
 * Benchmark: gradient estimates of an agent-based SIR epidemic
 * (examples/abm.ts) with stochastic.grad, at β = 0.5, γ = 0.3 and an
 * initial fraction 0.01 (R0 = 5/3: the final size, about 0.68, still moves
 * with β). Prints, for the forward-mode triple estimator (eager and jitted),
 * the reverse-mode score estimator and plain reverse-mode grad of the
 * straight-through and relaxed surrogates: the median time per estimate of
 * dE[final size]/dβ, the estimates' mean and standard error, and the live
 * memory an estimate holds at the last simulated day: V8's heapUsed plus
 * arrayBuffers after a full garbage collection (a probe called by the
 * simulation at the start of its last day, minus the same probe before the
 * estimate; the largest over the estimate's runs of the simulation), and
 * the process's peak resident set size so far (maxRSS: it only grows, so it
 * shows a method's peak only where that exceeds every earlier method's).
 *
 *   npx tsx bench/abm.ts [--agents 100000] [--days 100] [--samples 5] [--only triple,score]
 */
import { parseArgs } from "node:util";
import { type Array, jit, np, random, stochastic } from "../src/index.js";
import { simulateSir } from "../examples/abm.js";
import { liveBytes } from "../tour/lib/memory.js";

const { values } = parseArgs({
  options: {
    agents: { type: "string", default: "100000" },
    days: { type: "string", default: "100" },
    samples: { type: "string", default: "5" },
    only: { type: "string", default: "" },
  },
});
const agents = Number(values.agents);
const days = Number(values.days);
const samples = Number(values.samples);
const only = values.only === "" ? null : values.only.split(",");

/** The epidemic's parameters: R0 = β / γ = 5/3. */
const BETA = 0.5;
const GAMMA = 0.3;
const INITIAL = 0.01;

let peak = 0;
let probing = false;
const f = (beta: Array, key: Array) =>
  simulateSir({ beta, gamma: np.array(GAMMA), initial: np.array(INITIAL) }, key, {
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
  `SIR, ${agents} agents, ${days} days, β = ${BETA}, γ = ${GAMMA}, initial fraction ${INITIAL}, ${samples} estimates per method (after one warm-up)`,
);
const methods: [string, string, (beta: Array, key: Array) => Array][] = [
  ["triple", "triple (forward), eager", stochastic.grad(f, { estimator: "triple" })],
  ["jit", "triple (forward), jit", jit(stochastic.grad(f, { estimator: "triple" }))],
  ["score", "score (reverse), eager", stochastic.grad(f, { estimator: "score" })],
  [
    "straightThrough",
    "straight-through (grad)",
    stochastic.grad(f, { estimator: "straightThrough" }),
  ],
  ["relaxed", "relaxed τ = 0.5 (grad)", stochastic.grad(f, { estimator: "relaxed" })],
];
for (const [id, name, g] of methods) {
  if (only !== null && !only.includes(id)) continue;
  const t0 = performance.now();
  g(np.array(BETA), random.key(0)).item(); // warm-up (jit: trace and compile)
  const firstMs = performance.now() - t0;
  const times: number[] = [];
  const estimates: number[] = [];
  for (let i = 1; i <= samples; i++) {
    const t = performance.now();
    estimates.push(g(np.array(BETA), random.key(i)).item());
    times.push(performance.now() - t);
  }
  // Memory: one more eager estimate with the probe on (compiled code does not call it).
  let memory = "n/a (compiled)";
  if (!name.includes("jit")) {
    const base = liveBytes();
    peak = base;
    probing = true;
    g(np.array(BETA), random.key(samples + 1));
    probing = false;
    memory = `${((peak - base) / 2 ** 20).toFixed(1)} MiB`;
  }
  console.log(
    `${name.padEnd(26)} first call ${(firstMs / 1000).toFixed(1)} s, median ${(median(times) / 1000).toFixed(2)} s ` +
      `per estimate, estimate ${stats(estimates)}, memory at the last day ${memory}, ` +
      `peak RSS so far ${(process.resourceUsage().maxRSS / 2 ** 10).toFixed(0)} MiB`,
  );
}
