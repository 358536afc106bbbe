/**
 * The thread choice replayed on measured times: W5 (jit exp(sin(x) * 2 + 1),
 * forward and grad, 1e6 elements, float32 and float64) and W3 (512^3
 * float32 matmul) on the wasm backend, each timed alternately with its
 * worker threads (the measured choice off) and on the calling thread alone,
 * while a child process spins on one core (`--idle`: without it). Then the
 * gate policies are replayed on these times, drawn at random (seeded) from
 * each choice's measured calls: the current `ThreadGate` (lower median of
 * 5, two times of each choice before deciding), the first gate (best of the
 * last 4 times, one time of each choice before deciding, a retry every 16th
 * call), and always threads / always one thread. For each it reports the
 * median call time of `bench/run.ts`'s W5 sequence (13 calls, the last 11
 * timed), averaged over many replays, and the mean time over 200 calls.
 * Replaying the same times makes the policies comparable on a host whose
 * load changes from minute to minute, where two runs of `bench/run.ts` are not.
 *
 *   npx tsx bench/gate-replay.ts [--calls 25] [--idle]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { setWasmThreadLimit } from "../src/backends/wasm/index.js";
import { ThreadGate, setAdaptiveThreads } from "../src/backends/wasm/threadGate.js";
import { uniformGenerator } from "../src/core/random.js";
import { type Array, grad, jit, np, setBackend } from "../src/index.js";
import { fmt, machineInfo, printTable } from "./harness.js";

/** A gate policy as the kernels use it. */
interface Policy {
  useThreads(): boolean;
  record(threads: boolean, ms: number): void;
}

/** The first ThreadGate (before issue 18, round 3): best of the last 4 times. */
class BestOfFourGate implements Policy {
  private readonly times: [number[], number[]] = [[], []];
  private calls = 0;
  private warmedUp = false;
  useThreads(): boolean {
    this.calls++;
    const [one, threads] = this.times;
    if (!this.warmedUp || threads.length === 0) return true;
    if (one.length === 0) return false;
    const preferThreads = Math.min(...threads) <= Math.min(...one);
    return this.calls % 16 === 0 ? !preferThreads : preferThreads;
  }
  record(threads: boolean, ms: number): void {
    if (threads && !this.warmedUp) {
      this.warmedUp = true;
      return;
    }
    const list = this.times[threads ? 1 : 0];
    list.push(ms);
    if (list.length > 4) list.shift();
  }
}

const fixed = (threads: boolean): Policy => ({ useThreads: () => threads, record: () => {} });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Replays `calls` calls of a policy on the measured times; returns each call's time. */
function replay(policy: Policy, times: [number[], number[]], calls: number, draw: () => number) {
  const out: number[] = [];
  for (let i = 0; i < calls; i++) {
    const threads = policy.useThreads();
    const list = times[threads ? 1 : 0];
    const ms = list[Math.floor(draw() * list.length)]!;
    policy.record(threads, ms);
    out.push(ms);
  }
  return out;
}

async function main(): Promise<void> {
  const callsArg = process.argv.indexOf("--calls");
  const calls = callsArg > 0 ? Number(process.argv[callsArg + 1]) : 25;
  const idle = process.argv.includes("--idle");
  setBackend("wasm");
  const n = 1_000_000;
  const f = (v: Array) => np.exp(np.add(np.multiply(np.sin(v), 2), 1));
  const cases: { name: string; run: () => unknown }[] = [];
  for (const dtype of ["float32", "float64"] as const) {
    const data = (dtype === "float32" ? new Float32Array(n) : new Float64Array(n)).map((_, i) =>
      Math.sin(i * 0.001),
    );
    const x = np.array(data);
    const fwd = jit(f);
    const bwd = jit(grad((v: Array) => np.sum(f(v))));
    cases.push({ name: `W5 ${dtype} forward`, run: () => fwd(x).data() });
    cases.push({ name: `W5 ${dtype} grad`, run: () => bwd(x).data() });
  }
  const m = 512;
  const a = np.array(
    new Float32Array(m * m).map((_, i) => Math.sin(i * 0.37)),
    { shape: [m, m] },
  );
  const b = np.array(
    new Float32Array(m * m).map((_, i) => Math.cos(i * 0.11)),
    { shape: [m, m] },
  );
  cases.push({ name: "W3 float32 512^3", run: () => np.matmul(a, b).data() });
  // Every call below uses the threads as told: the gates record nothing.
  setAdaptiveThreads(false);
  for (let w = 0; w < 3; w++)
    for (const c of cases)
      for (const limit of [Infinity, 0]) {
        setWasmThreadLimit(limit);
        c.run();
      }
  let spinner: ChildProcess | undefined;
  if (!idle) {
    spinner = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 50));
  }
  const measured = new Map<string, [number[], number[]]>(cases.map((c) => [c.name, [[], []]]));
  try {
    for (let i = 0; i < calls; i++)
      for (const c of cases)
        for (const threads of i % 2 === 0 ? [true, false] : [false, true]) {
          setWasmThreadLimit(threads ? Infinity : 0);
          const t0 = performance.now();
          c.run();
          measured.get(c.name)![threads ? 1 : 0].push(performance.now() - t0);
        }
  } finally {
    spinner?.kill("SIGKILL");
    setWasmThreadLimit(Infinity);
    setAdaptiveThreads(true);
  }
  console.log(
    `${machineInfo()}; ${idle ? "no core kept busy" : "one core busy"}; ${calls} calls of each choice per case`,
  );
  const policies: [string, () => Policy][] = [
    ["always threads", () => fixed(true)],
    ["always 1 thread", () => fixed(false)],
    ["first gate (best of 4)", () => new BestOfFourGate()],
    ["ThreadGate (median)", () => new ThreadGate()],
  ];
  const rows: string[][] = [];
  for (const c of cases) {
    const times = measured.get(c.name)!;
    const row = [c.name, fmt(median(times[1]), 2), fmt(median(times[0]), 2)];
    for (const [, make] of policies) {
      const draw = uniformGenerator(12345);
      let runMedians = 0;
      const trials = 2000;
      for (let t = 0; t < trials; t++)
        runMedians += median(replay(make(), times, 13, draw).slice(2)) / trials;
      const long = replay(make(), times, 200, uniformGenerator(777));
      const mean = long.reduce((x, y) => x + y, 0) / long.length;
      row.push(`${fmt(runMedians, 2)} / ${fmt(mean, 2)}`);
    }
    rows.push(row);
  }
  console.log(
    "\nms: measured medians of each choice; per policy, the median of a run.ts sequence " +
      "(mean over 2000 replays) / the mean over 200 calls",
  );
  printTable(["case", "threads", "1 thread", ...policies.map(([name]) => name)], rows);
}

await main();
