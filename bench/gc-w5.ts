/**
 * Garbage collection caused by W5's large results: jit exp(sin(x) * 2 + 1)
 * and its gradient over 1e6 float64 elements on the wasm backend, 60 calls
 * each, with and without reading the result back with `.data()` (a copy),
 * optionally after growing the JS heap (`--big-heap`: 300 MB of live
 * objects, as TF.js and jax-js leave in `bench/run.ts`). Reports V8's
 * collections (PerformanceObserver 'gc' entries: count and milliseconds by
 * kind) per call, and the wall and CPU time per call.
 *
 *   npx tsx bench/gc-w5.ts [--big-heap]
 */
import { PerformanceObserver, constants } from "node:perf_hooks";
import { type Array, grad, jit, np, setBackend } from "../src/index.js";
import { fmt, machineInfo, printTable } from "./harness.js";

const KIND: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak callbacks",
};

interface GcTally {
  count: number;
  ms: number;
  byKind: Map<string, { count: number; ms: number }>;
}

const tally: GcTally = { count: 0, ms: 0, byKind: new Map() };
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind =
      KIND[(e as PerformanceEntry & { detail?: { kind: number } }).detail?.kind ?? -1] ?? "other";
    tally.count++;
    tally.ms += e.duration;
    const k = tally.byKind.get(kind) ?? { count: 0, ms: 0 };
    k.count++;
    k.ms += e.duration;
    tally.byKind.set(kind, k);
  }
});

/** Lets the observer's callbacks run (they are delivered between tasks). */
const drain = () => new Promise((r) => setTimeout(r, 10));

async function main(): Promise<void> {
  const bigHeap = process.argv.includes("--big-heap");
  const ballast: object[] = [];
  if (bigHeap) {
    // about 300 MB of small live objects
    for (let i = 0; i < 3_000_000; i++) ballast.push({ i, a: [i, i + 1], s: `x${i % 1000}` });
  }
  setBackend("wasm");
  const n = 1_000_000;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.001);
  const x = np.array(data);
  const f = (v: Array) => np.exp(np.add(np.multiply(np.sin(v), 2), 1));
  const fwd = jit(f);
  const bwd = jit(grad((v: Array) => np.sum(f(v))));
  const cases: [string, () => unknown][] = [
    ["forward, result only", () => fwd(x)],
    ["forward + .data()", () => fwd(x).data()],
    ["grad, result only", () => bwd(x)],
    ["grad + .data()", () => bwd(x).data()],
  ];
  for (const [, run] of cases) for (let w = 0; w < 5; w++) run();
  observer.observe({ entryTypes: ["gc"] });
  const calls = 60;
  const rows: string[][] = [];
  for (const [name, run] of cases) {
    await drain();
    tally.count = 0;
    tally.ms = 0;
    tally.byKind.clear();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) run();
    const ms = (performance.now() - t0) / calls;
    const cpu = process.cpuUsage(c0);
    await drain();
    const kinds = [...tally.byKind]
      .map(([k, v]) => `${k} ${v.count} (${fmt(v.ms, 1)} ms)`)
      .join(", ");
    rows.push([
      name,
      fmt(ms, 2),
      fmt((cpu.user + cpu.system) / 1000 / calls, 2),
      fmt(tally.count / calls, 2),
      fmt(tally.ms / calls, 2),
      kinds,
    ]);
  }
  observer.disconnect();
  console.log(
    `${machineInfo()}; W5 float64, n = ${n}, ${calls} calls per case${bigHeap ? ", 300 MB live heap" : ""} (ballast ${ballast.length})`,
  );
  printTable(
    ["case", "ms / call", "CPU ms / call", "GCs / call", "GC ms / call", "collections in all"],
    rows,
  );
}

await main();
