/**
 * Threads on a busy machine: W5 (jit exp(sin(x) * 2 + 1), forward and
 * grad, 1e6 float64 elements) and W3 (512^3 float32 matmul) on the wasm
 * backend, with its worker threads and on the calling thread alone, while
 * a child process spins on one core and while it is stopped (SIGSTOP),
 * alternating round by round in one process. Prints the medians and the
 * ratios that matter: threads against one thread, busy against idle.
 * Besides wall time, each case's CPU time of this process
 * (`process.cpuUsage`, all threads) says how much work the threads did,
 * and for the threaded cases the time the calling thread spent waiting for
 * workers once it had no chunk left (`wasmThreadStats`) says what a late
 * worker cost the call.
 *
 *   npx tsx bench/busy-core.ts [--rounds 9]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { setWasmThreadLimit } from "../src/backends/wasm/index.js";
import { wasmThreadStats } from "../src/backends/wasm/threads.js";
import { type Array, grad, jit, np, setBackend } from "../src/index.js";
import { fmt, machineInfo, printTable } from "./harness.js";

interface Case {
  name: string;
  threads: boolean;
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
  const fwd = jit(f);
  const bwd = jit(grad((v: Array) => np.sum(f(v))));
  const m = 512;
  const aData = new Float32Array(m * m).map((_, i) => Math.sin(i * 0.37));
  const bData = new Float32Array(m * m).map((_, i) => Math.cos(i * 0.11));
  const a = np.array(aData, { shape: [m, m] });
  const b = np.array(bData, { shape: [m, m] });
  const out: Case[] = [];
  for (const threads of [true, false]) {
    const tag = threads ? "threads" : "1 thread";
    out.push({ name: `W5 f64 forward (${tag})`, threads, run: () => fwd(x).data() });
    out.push({ name: `W5 f64 grad (${tag})`, threads, run: () => bwd(x).data() });
    out.push({ name: `W3 f32 512^3 (${tag})`, threads, run: () => np.matmul(a, b).data() });
  }
  return out;
}

async function main(): Promise<void> {
  const roundsArg = process.argv.indexOf("--rounds");
  const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 9;
  setBackend("wasm");
  const all = cases();
  // warm-up: compiles, starts the workers, sends them the group modules
  for (let w = 0; w < 3; w++) for (const c of all) c.run();
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
        await new Promise((res) => setTimeout(res, 20));
        for (const c of all) {
          setWasmThreadLimit(c.threads ? Infinity : 0);
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
  }
  const stats = wasmThreadStats() as { recomputed?: number; cancelled: number };
  console.log(
    `${machineInfo()}; ${rounds} rounds, medians; worker jobs cancelled unstarted ${stats.cancelled}, ` +
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
      .filter((c) => c.threads)
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
  for (const c of all.filter((k) => k.threads)) {
    const one = c.name.replace("(threads)", "(1 thread)");
    const ratio = (state: string) =>
      median(wall.get(`${one}|${state}`)!) / median(wall.get(`${c.name}|${state}`)!);
    ratioRows.push([
      c.name.replace(" (threads)", ""),
      fmt(ratio("idle"), 2),
      fmt(ratio("busy"), 2),
    ]);
  }
  console.log("\nspeed of threads relative to one thread (> 1: threads faster)");
  printTable(["case", "idle", "one core busy"], ratioRows);
}

await main();
