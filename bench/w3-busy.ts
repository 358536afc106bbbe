/**
 * W3 (512^3 float32 matmul, `np.matmul(a, b).data()`) with one core busy:
 * chainrule's wasm backend on its worker threads ("threads", the measured
 * choice off; and the same with the chunks used before round 4 of issue 18,
 * 8 row panels each), on the calling thread alone ("1 thread"), as the library runs
 * by default ("gate"), next to TF.js wasm, all interleaved in one process,
 * while a child process spins on one core and while it is stopped
 * (SIGSTOP), alternating every `--streak` rounds. Prints the medians, each
 * case's speed relative to TF.js wasm in each state (the W3 target
 * is 1.2x with one core busy), and the worker statistics (chunks a late
 * worker held that the calling thread computed again).
 *
 * `--gap ms` spends that long in plain JS before each case (as the slow
 * cases of bench/run.ts's W3 do), so that the workers have gone to sleep.
 *
 *   npx tsx bench/w3-busy.ts [--rounds 15] [--streak 3] [--gap 0] [--trace] [--always-busy] [--float64]
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as tf from "@tensorflow/tfjs";
import { setWasmThreadLimit } from "../src/backends/wasm/index.js";
import { setAdaptiveThreads, setThreadGateTrace } from "../src/backends/wasm/threadGate.js";
import { setGemmChunkPanels, wasmThreadStats } from "../src/backends/wasm/threads.js";
import { np, setBackend } from "../src/index.js";
import { fmt, machineInfo, printTable } from "./harness.js";
import { tfRead, tfWasmAvailable, tfWasmInfo } from "./peers.js";

interface Case {
  name: string;
  enter: () => Promise<void> | void;
  run: () => unknown;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

async function main(): Promise<void> {
  const arg = (name: string, dflt: number): number => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const rounds = arg("--rounds", 15);
  const streak = arg("--streak", 3);
  // --float64: the float64 product (no TF.js case; ratios against TF.js are NaN)
  const dtype = process.argv.includes("--float64") ? "float64" : "float32";
  // plain JS work between the cases (ms), as bench/run.ts's slow cases put there
  const gap = arg("--gap", 0);
  let sink = 0;
  const spend = (ms: number): void => {
    const end = performance.now() + ms;
    const junk = new Float64Array(4096);
    while (performance.now() < end) for (let i = 0; i < junk.length; i++) sink += junk[i]! + i;
  };
  if (!(await tfWasmAvailable())) throw new Error("w3-busy: TF.js wasm is unavailable");
  console.log(await tfWasmInfo());
  setBackend("wasm");
  const m = 512;
  const aData = new Float32Array(m * m).map((_, i) => Math.sin(i * 0.37));
  const bData = new Float32Array(m * m).map((_, i) => Math.cos(i * 0.11));
  const a = np.array(aData, { shape: [m, m], dtype });
  const b = np.array(bData, { shape: [m, m], dtype });
  await tf.setBackend("wasm");
  const ta = tf.tensor2d(aData, [m, m]);
  const tb = tf.tensor2d(bData, [m, m]);
  let gateThreaded = { idle: [0, 0], busy: [0, 0] } as Record<string, [number, number]>;
  let state = "warm-up";
  const tracing = process.argv.includes("--trace");
  setThreadGateTrace((e) => {
    if (tracing)
      console.log(
        `${state}: ${e.threads ? "threads" : "1 thread"} ${e.ms.toFixed(2)} ms${e.recorded ? "" : " (not counted)"}; ` +
          `estimates 1 thread ${e.oneThreadMs.toFixed(2)}, threads ${e.threadsMs.toFixed(2)}`,
      );
    const g = gateThreaded[state];
    if (g !== undefined) {
      g[0] += e.threads ? 1 : 0;
      g[1]++;
    }
  });
  const ours = (mode: "threads" | "threads, 8-panel chunks" | "1 thread" | "gate"): Case => ({
    name: `chainrule wasm (${mode})`,
    enter: () => {
      setWasmThreadLimit(mode === "1 thread" ? 0 : Infinity);
      setAdaptiveThreads(mode === "1 thread" || mode === "gate");
      // the chunks before round 4: 8 per thread, 8 row panels each at 512^3
      setGemmChunkPanels(mode === "threads, 8-panel chunks" ? 8 : undefined);
    },
    run: () => np.matmul(a, b).data(),
  });
  const all: Case[] = [
    ours("threads"),
    ours("threads, 8-panel chunks"),
    ours("1 thread"),
    ours("gate"),
  ];
  if (dtype === "float32")
    all.push({
      name: "TF.js wasm",
      enter: () => {},
      run: () => tfRead(() => tf.matMul(ta, tb)),
    });
  for (let w = 0; w < 3; w++)
    for (const c of all) {
      await c.enter();
      c.run();
    }
  gateThreaded = { idle: [0, 0], busy: [0, 0] };
  const spinner: ChildProcess = spawn(process.execPath, ["-e", "for (;;) {}"], {
    stdio: "ignore",
  });
  // --always-busy: the spinner never stops (as in a run of bench/run.ts beside one)
  const alwaysBusy = process.argv.includes("--always-busy");
  if (!alwaysBusy) spinner.kill("SIGSTOP");
  const wall = new Map<string, number[]>();
  /** CPU time of this process (all threads) per call. */
  const cpu = new Map<string, number[]>();
  const s0 = wasmThreadStats();
  try {
    for (let r = 0; r < rounds; r++) {
      for (const busy of [false, true]) {
        if (!alwaysBusy) spinner.kill(busy ? "SIGCONT" : "SIGSTOP");
        state = busy || alwaysBusy ? "busy" : "idle";
        await new Promise((res) => setTimeout(res, 20));
        for (let k = 0; k < streak; k++)
          for (const c of all) {
            await c.enter();
            if (gap > 0) spend(gap);
            const c0 = process.cpuUsage();
            const t0 = performance.now();
            c.run();
            const ms = performance.now() - t0;
            const used = process.cpuUsage(c0);
            const key = `${c.name}|${state}`;
            wall.set(key, [...(wall.get(key) ?? []), ms]);
            cpu.set(key, [...(cpu.get(key) ?? []), (used.user + used.system) / 1000]);
          }
      }
    }
  } finally {
    spinner.kill("SIGKILL");
    setGemmChunkPanels(undefined);
    setWasmThreadLimit(Infinity);
    setAdaptiveThreads(true);
    setThreadGateTrace(undefined);
  }
  const s1 = wasmThreadStats() as { recomputed?: number; cancelled: number; joinWaitMs: number };
  const s0r = s0 as { recomputed?: number; cancelled: number; joinWaitMs: number };
  console.log(
    `${machineInfo()}; ${rounds} rounds x streak ${streak}, medians; worker jobs cancelled unstarted ` +
      `${s1.cancelled - s0r.cancelled}, late workers' chunks computed again ` +
      `${(s1.recomputed ?? 0) - (s0r.recomputed ?? 0)}, caller's wait for workers ` +
      `${(s1.joinWaitMs - s0r.joinWaitMs).toFixed(1)} ms in all`,
  );
  const med = (key: string): number => {
    const xs = wall.get(key);
    return xs === undefined ? NaN : median(xs);
  };
  const tfIdle = med("TF.js wasm|idle");
  const tfBusy = med("TF.js wasm|busy");
  printTable(
    [
      "case",
      "idle ms",
      "busy ms",
      "busy mean",
      "busy p90",
      "busy CPU ms",
      "x TF.js idle",
      "x TF.js busy",
    ],
    all.map((c) => {
      const idle = med(`${c.name}|idle`);
      const busy = med(`${c.name}|busy`);
      const all = [...wall.get(`${c.name}|busy`)!].sort((x, y) => x - y);
      const mean = all.reduce((x, y) => x + y, 0) / all.length;
      const p90 = all[Math.floor(0.9 * (all.length - 1))]!;
      return [
        c.name,
        fmt(idle, 2),
        fmt(busy, 2),
        fmt(mean, 2),
        fmt(p90, 2),
        fmt(median(cpu.get(`${c.name}|busy`)!), 2),
        fmt(tfIdle / idle, 2),
        fmt(tfBusy / busy, 2),
      ];
    }),
  );
  const g = gateThreaded;
  console.log(
    `${sink > 0 ? "" : " "}gate: threaded ${g.idle![0]} / ${g.idle![1]} idle, ${g.busy![0]} / ${g.busy![1]} busy`,
  );
}

await main();
