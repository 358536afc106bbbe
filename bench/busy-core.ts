/**
 * Threads on a busy machine: W5 (jit exp(sin(x) * 2 + 1), forward and
 * grad, 1e6 float64 elements) and W3 (512^3 float32 matmul) on the wasm
 * backend in three modes: always with its worker threads ("threads", the
 * measured choice off), on the calling thread alone ("1 thread"), and as
 * the library runs by default ("gate": the per-kernel ThreadGate picks
 * threads or one thread from measured times), while a child process spins
 * on one core and while it is stopped (SIGSTOP), alternating in one process
 * (`--streak k`: k rounds in a row in each state, default 1). Each mode has
 * its own jitted functions, so its own gates. Prints the medians and the
 * ratios that matter: threads and gate against one thread, busy against
 * idle, and how often the gates chose the threads in each state.
 * Besides wall time, each case's CPU time of this process
 * (`process.cpuUsage`, all threads) says how much work the threads did,
 * and for the threaded cases the time the calling thread spent waiting for
 * workers once it had no chunk left (`wasmThreadStats`) says what a late
 * worker cost the call. `--trace` prints every gate decision.
 *
 *   npx tsx bench/busy-core.ts [--rounds 9] [--streak 1] [--trace]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { setWasmThreadLimit } from "../src/backends/wasm/index.js";
import { setAdaptiveThreads, setThreadGateTrace } from "../src/backends/wasm/threadGate.js";
import { wasmThreadStats } from "../src/backends/wasm/threads.js";
import { type Array, grad, jit, np, setBackend } from "../src/index.js";
import { fmt, machineInfo, printTable } from "./harness.js";

type Mode = "threads" | "gate" | "1 thread";

interface Case {
  name: string;
  mode: Mode;
  run: () => unknown;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function cases(): Case[] {
  const n = 1_000_000;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.001);
  const x = np.array(data);
  const f = (v: Array) => np.exp(np.add(np.multiply(np.sin(v), 2), 1));
  const m = 512;
  const aData = new Float32Array(m * m).map((_, i) => Math.sin(i * 0.37));
  const bData = new Float32Array(m * m).map((_, i) => Math.cos(i * 0.11));
  const a = np.array(aData, { shape: [m, m] });
  const b = np.array(bData, { shape: [m, m] });
  const out: Case[] = [];
  for (const mode of ["threads", "gate", "1 thread"] as const) {
    // own jitted functions per mode: own gates
    const fwd = jit(f);
    const bwd = jit(grad((v: Array) => np.sum(f(v))));
    out.push({ name: `W5 f64 forward (${mode})`, mode, run: () => fwd(x).data() });
    out.push({ name: `W5 f64 grad (${mode})`, mode, run: () => bwd(x).data() });
    out.push({ name: `W3 f32 512^3 (${mode})`, mode, run: () => np.matmul(a, b).data() });
  }
  return out;
}

/** Sets the thread limit and the measured choice for a mode. */
function enter(mode: Mode): void {
  setWasmThreadLimit(mode === "1 thread" ? 0 : Infinity);
  setAdaptiveThreads(mode !== "threads");
}

async function main(): Promise<void> {
  const roundsArg = process.argv.indexOf("--rounds");
  const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 9;
  const streakArg = process.argv.indexOf("--streak");
  const streak = streakArg > 0 ? Number(process.argv[streakArg + 1]) : 1;
  const tracing = process.argv.includes("--trace");
  setBackend("wasm");
  const all = cases();
  /** Gate choices per state: [threaded, all]. */
  const choices = new Map<string, [number, number]>();
  let state = "warm-up";
  setThreadGateTrace((e) => {
    const key = `${e.label}|${state}`;
    const [t, k] = choices.get(key) ?? [0, 0];
    choices.set(key, [t + (e.threads ? 1 : 0), k + 1]);
    if (tracing)
      console.log(
        `${state} ${e.label}: ${e.threads ? "threads" : "1 thread"} ${e.ms.toFixed(2)} ms` +
          `${e.recorded ? "" : " (not counted)"}; estimates 1 thread ${e.oneThreadMs.toFixed(2)}, threads ${e.threadsMs.toFixed(2)}`,
      );
  });
  // warm-up: compiles, starts the workers, sends them the group modules
  for (let w = 0; w < 3; w++)
    for (const c of all) {
      enter(c.mode);
      c.run();
    }
  await new Promise((r) => setTimeout(r, 50));
  const spinner: ChildProcess = spawn(process.execPath, ["-e", "for (;;) {}"], {
    stdio: "ignore",
  });
  spinner.kill("SIGSTOP");
  const wall = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const waits = new Map<string, number[]>();
  const record = (key: string, ms: number, cpuMs: number, waitMs: number) => {
    wall.set(key, [...(wall.get(key) ?? []), ms]);
    cpu.set(key, [...(cpu.get(key) ?? []), cpuMs]);
    waits.set(key, [...(waits.get(key) ?? []), waitMs]);
  };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const busy of [false, true]) {
        spinner.kill(busy ? "SIGCONT" : "SIGSTOP");
        state = busy ? "busy" : "idle";
        await new Promise((res) => setTimeout(res, 20));
        for (let k = 0; k < streak; k++)
          for (const c of all) {
            enter(c.mode);
            const w0 = wasmThreadStats().joinWaitMs;
            const c0 = process.cpuUsage();
            const t0 = performance.now();
            c.run();
            const ms = performance.now() - t0;
            const used = process.cpuUsage(c0);
            const waitMs = wasmThreadStats().joinWaitMs - w0;
            record(
              `${c.name}|${busy ? "busy" : "idle"}`,
              ms,
              (used.user + used.system) / 1000,
              waitMs,
            );
          }
      }
    }
  } finally {
    spinner.kill("SIGKILL");
    setWasmThreadLimit(Infinity);
    setAdaptiveThreads(true);
    setThreadGateTrace(undefined);
  }
  const stats = wasmThreadStats() as { recomputed?: number; cancelled: number };
  console.log(
    `${machineInfo()}; ${rounds} rounds (streak ${streak}), medians; worker jobs cancelled unstarted ${stats.cancelled}, ` +
      `late workers' chunks computed again ${stats.recomputed ?? "-"}`,
  );
  const rows: string[][] = [];
  for (const c of all) {
    const idle = median(wall.get(`${c.name}|idle`)!);
    const busy = median(wall.get(`${c.name}|busy`)!);
    rows.push([
      c.name,
      fmt(idle, 2),
      fmt(median(cpu.get(`${c.name}|idle`)!), 2),
      fmt(busy, 2),
      fmt(median(cpu.get(`${c.name}|busy`)!), 2),
      fmt(busy / idle, 2),
    ]);
  }
  printTable(["case", "idle ms", "idle CPU ms", "busy ms", "busy CPU ms", "busy / idle"], rows);
  const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length;
  console.log(
    "\nthreaded cases: calling thread's wait for workers after its last chunk, ms per call",
  );
  printTable(
    ["case", "idle median", "idle mean", "busy median", "busy mean"],
    all
      .filter((c) => c.mode === "threads")
      .map((c) => {
        const idle = waits.get(`${c.name}|idle`)!;
        const busy = waits.get(`${c.name}|busy`)!;
        return [
          c.name,
          fmt(median(idle), 3),
          fmt(mean(idle), 3),
          fmt(median(busy), 3),
          fmt(mean(busy), 3),
        ];
      }),
  );
  const ratioRows: string[][] = [];
  for (const c of all.filter((k) => k.mode !== "1 thread")) {
    const one = c.name.replace(`(${c.mode})`, "(1 thread)");
    const ratio = (state: string) =>
      median(wall.get(`${one}|${state}`)!) / median(wall.get(`${c.name}|${state}`)!);
    ratioRows.push([c.name, fmt(ratio("idle"), 2), fmt(ratio("busy"), 2)]);
  }
  console.log("\nspeed relative to one thread (> 1: faster than the calling thread alone)");
  printTable(["case", "idle", "one core busy"], ratioRows);
  console.log("\ngate mode: calls the gates ran threaded / calls they timed");
  printTable(
    ["gate", "warm-up", "idle", "busy"],
    [...new Set([...choices.keys()].map((k) => k.split("|")[0]!))].map((label) => [
      label,
      ...["warm-up", "idle", "busy"].map((st) => {
        const [t, k] = choices.get(`${label}|${st}`) ?? [0, 0];
        return `${t} / ${k}`;
      }),
    ]),
  );
}

await main();
