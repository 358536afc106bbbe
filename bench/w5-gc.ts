/**
 * Where W5's time goes next to its peers (issue 18, round 4): runs the cases
 * of `bench/w5.ts` interleaved as `bench/run.ts` does (plain loops, chainrule
 * jit on the js and wasm backends, TF.js, jax-js) and, for every chainrule
 * call, records its wall time, the CPU time of the calling thread and of
 * every other thread of the process (Linux `/proc/self/task/<tid>/schedstat`,
 * nanoseconds), split into threads that existed at start-up (V8's platform
 * workers: concurrent marking and sweeping, compile jobs) and threads made
 * later (the Wasm backend's workers), and the GC pauses (PerformanceObserver
 * "gc" entries, matched to the call by their start time).
 *
 * Also the minor page faults per call (`process.resourceUsage()`). The
 * result-pool prototype measured with it (docs/benchmarks.md, "Issue 18,
 * round 4") is commit 8bb769b on branch pool, reverted after measuring.
 * `--tick` lets one macrotask run after every call (`setImmediate`), as an
 * event-driven loop would; `bench/run.ts` awaits only resolved promises.
 *
 *   npx tsx bench/w5-gc.ts [--dtype float64] [--rounds 11] [--backend wasm] [--tick] [--no-peers]
 *
 * Run it once idle and once with a core busy (`node -e 'for(;;){}' &`).
 */
import fs from "node:fs";
import { PerformanceObserver, constants } from "node:perf_hooks";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { grad as jaxGrad, jit as jaxJit, numpy as jnp } from "@jax-js/jax";
import { type Array, grad, jit, np, setBackend } from "../src/index.js";
import { fmt, machineInfo, printTable } from "./harness.js";
import { tfRead } from "./peers.js";

type JaxArray = ReturnType<typeof jnp.array>;

const { values } = parseArgs({
  options: {
    dtype: { type: "string", default: "float64" },
    rounds: { type: "string", default: "11" },
    backend: { type: "string", multiple: true },
    "no-peers": { type: "boolean", default: false },
    tick: { type: "boolean", default: false },
  },
});
const dtype = values.dtype === "float32" ? "float32" : "float64";
const rounds = Number(values.rounds);
const backends = values.backend ?? ["js", "wasm"];
const peers = values["no-peers"] !== true;
/** With CHAINRULE_W5_MARKS=1, every call prints its start and end (to line up with --trace-gc). */
const marks = process.env.CHAINRULE_W5_MARKS === "1";

const KIND: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};
const gcs: { start: number; ms: number; kind: string }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const k = (e as PerformanceEntry & { detail?: { kind: number } }).detail?.kind ?? -1;
    gcs.push({ start: e.startTime, ms: e.duration, kind: KIND[k] ?? "other" });
  }
}).observe({ entryTypes: ["gc"] });

const pid = process.pid;
/** Per-thread CPU times need Linux's /proc; elsewhere those columns read 0. */
const hasProc = fs.existsSync("/proc/self/task");
const startupTids = new Set(hasProc ? fs.readdirSync("/proc/self/task").map(Number) : []);
/** CPU nanoseconds per thread id. */
function threadCpu(): Map<number, number> {
  const m = new Map<number, number>();
  if (!hasProc) return m;
  for (const t of fs.readdirSync("/proc/self/task")) {
    try {
      const s = fs.readFileSync(`/proc/self/task/${t}/schedstat`, "utf8");
      m.set(Number(t), Number(s.split(" ")[0]));
    } catch {
      // the thread ended
    }
  }
  return m;
}

interface Sample {
  name: string;
  start: number;
  wall: number;
  main: number;
  v8: number;
  workers: number;
  faults: number;
}
const samples: Sample[] = [];

function measured(name: string, run: () => unknown): () => unknown {
  return () => {
    const c0 = threadCpu();
    const f0 = process.resourceUsage().minorPageFault;
    const t0 = performance.now();
    run();
    const t1 = performance.now();
    const f1 = process.resourceUsage().minorPageFault;
    const c1 = threadCpu();
    let main = 0;
    let v8 = 0;
    let workers = 0;
    for (const [tid, ns] of c1) {
      const d = (ns - (c0.get(tid) ?? 0)) / 1e6;
      if (tid === pid) main += d;
      else if (startupTids.has(tid)) v8 += d;
      else workers += d;
    }
    samples.push({ name, start: t0, wall: t1 - t0, main, v8, workers, faults: f1 - f0 });
  };
}

await tf.setBackend("cpu");
const n = 1_000_000;
const Typed = dtype === "float32" ? Float32Array : Float64Array;
const data = new Typed(n);
for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.001);
const f = (x: Array) => np.exp(np.add(np.multiply(np.sin(x), 2), 1));
const x = np.array(data);
const fwd = jit(f);
const bwd = jit(grad((v: Array) => np.sum(f(v))));
const tfX = tf.tensor1d(Float32Array.from(data));
const tfF = (t: tf.Tensor) => tf.exp(tf.add(tf.mul(tf.sin(t), 2), 1));
const tfG = tf.grad((t: tf.Tensor) => tf.sum(tfF(t)));
const jaxX = jnp.array(data, { dtype: dtype === "float32" ? jnp.float32 : jnp.float64 });
const jaxFwd = jaxJit((v: JaxArray) => jnp.exp(jnp.sin(v).mul(2).add(1)));
const jaxBwd = jaxJit(jaxGrad((v: JaxArray) => jnp.exp(jnp.sin(v).mul(2).add(1)).sum()));
const plain = () => {
  const out = new Typed(n);
  for (let i = 0; i < n; i++) out[i] = Math.exp(Math.sin(data[i]!) * 2 + 1);
  return out;
};
const cases: { name: string; run: () => unknown }[] = [
  ...(peers ? [{ name: "plain fwd", run: plain }] : []),
  ...backends.map((b) => ({
    name: `${b} fwd`,
    run: measured(`${b} fwd`, () => {
      setBackend(b);
      return fwd(x).data();
    }),
  })),
  ...(peers
    ? [
        { name: "tf fwd", run: () => tfRead(() => tfF(tfX)) },
        { name: "jax fwd", run: measured("jax fwd", () => jaxFwd(jaxX.ref).dataSync()) },
        { name: "plain grad", run: plain },
      ]
    : []),
  ...backends.map((b) => ({
    name: `${b} grad`,
    run: measured(`${b} grad`, () => {
      setBackend(b);
      return bwd(x).data();
    }),
  })),
  ...(peers
    ? [
        { name: "tf grad", run: () => tfRead(() => tfG(tfX)) },
        { name: "jax grad", run: measured("jax grad", () => jaxBwd(jaxX.ref).dataSync()) },
      ]
    : []),
];
for (let r = 0; r < rounds + 2; r++) {
  for (const c of cases) {
    if (marks) console.log(`[call] ${c.name} start`);
    await c.run();
    if (values.tick === true) await new Promise((r) => setImmediate(r));
    if (marks) console.log(`[call] ${c.name} end`);
  }
  if (r === 1) samples.length = 0; // two warm-up rounds, as bench/run.ts
}
await new Promise((r) => setTimeout(r, 50)); // deliver the gc entries
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[(s.length - 1) >> 1]!;
};
console.log(`W5 ${dtype}, n = ${n}, ${rounds} rounds, on ${machineInfo()}`);
const names = [...new Set(samples.map((s) => s.name))];
printTable(
  [
    "case",
    "wall ms (median)",
    "wall ms (mean)",
    "main CPU ms (mean)",
    "V8 threads CPU ms (mean)",
    "wasm workers CPU ms (mean)",
    "page faults (mean)",
    "GC pauses in call (count, ms/call)",
    "kinds",
  ],
  names.map((name) => {
    const ss = samples.filter((s) => s.name === name);
    let count = 0;
    let ms = 0;
    const kinds = new Map<string, number>();
    for (const s of ss) {
      for (const g of gcs) {
        if (g.start >= s.start && g.start < s.start + s.wall) {
          count++;
          ms += g.ms;
          kinds.set(g.kind, (kinds.get(g.kind) ?? 0) + 1);
        }
      }
    }
    return [
      name,
      fmt(med(ss.map((s) => s.wall)), 2),
      fmt(mean(ss.map((s) => s.wall)), 2),
      fmt(mean(ss.map((s) => s.main)), 2),
      fmt(mean(ss.map((s) => s.v8)), 2),
      fmt(mean(ss.map((s) => s.workers)), 2),
      fmt(mean(ss.map((s) => s.faults)), 0),
      `${count}, ${fmt(ms / ss.length, 2)}`,
      [...kinds].map(([k, c]) => `${k} ${c}`).join(", "),
    ];
  }),
);
console.log("\nper call (wall / main / V8 threads / workers ms):");
for (const name of names) {
  const ss = samples.filter((s) => s.name === name);
  console.log(
    `${name}: ${ss.map((s) => `${s.wall.toFixed(1)}/${s.main.toFixed(1)}/${s.v8.toFixed(1)}/${s.workers.toFixed(1)}`).join("  ")}`,
  );
}
