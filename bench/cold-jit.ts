/**
 * The cost of the first jit call in a fresh process: jit(grad(f)) for the
 * W1 function (see w1.ts) with N = 1,000 applications (5,000 primitive
 * operations forward), traced, optimised, compiled and run once, in `runs`
 * fresh Node processes (nothing of the library warmed up, not even V8's
 * code for it). Reports the wall and CPU time of that first call (and of
 * the library's import, apart), medians over the processes, for the library
 * as users run it: the compiled package (`dist/`, tsc output of
 * `npm run build`, loaded by plain `node`) and the TypeScript sources under
 * tsx. Runs alternate between the two.
 *
 *   npx tsx bench/cold-jit.ts [--runs 5] [--n 1000] [--only dist|src] [--prof DIR]
 *                             [--baseline ROOT] [--node-flags "--no-opt ..."]
 *
 * `--prof DIR` writes a V8 CPU profile of each child process into DIR
 * (node --cpu-prof). `--baseline ROOT` adds the same two modes for another
 * checkout ("baseline dist", "baseline src": ROOT/dist/index.js and
 * ROOT/src/index.ts, e.g. main's `src/` exported and built in a scratch
 * folder with node_modules linked), run alternately with this checkout's for
 * before/after comparisons; `--only dist` or `--only src` picks one kind in
 * both. `dist/` must be built first (`npm run build`). `--node-flags` adds
 * V8/Node flags to every child: `--no-opt` (no optimising compiler) shows
 * how much of the first call is V8's interpreter and baseline code (nearly
 * all of it: docs/design.md, "The first jit call, round 5").
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fmt, machineInfo, printTable } from "./harness.js";

interface Sample {
  importMs: number;
  importCpuMs: number;
  firstCallMs: number;
  firstCallCpuMs: number;
  secondCallMs: number;
  secondCallCpuMs: number;
  /** Main-thread pauses of V8's collector during the first call. */
  firstCallGcMs: number;
}

function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

/** The child's source (an ES module run by `node -e`): import, first jit call, second jit. */
function childSource(libraryUrl: string, n: number): string {
  return `
const cpuMs = (c) => (c.user + c.system) / 1000;
const { PerformanceObserver } = await import("node:perf_hooks");
const gcs = [];
new PerformanceObserver((list) => gcs.push(...list.getEntries())).observe({ entryTypes: ["gc"] });
const t0 = performance.now();
const i0 = process.cpuUsage();
const { grad, jit, np } = await import(${JSON.stringify(libraryUrl)});
const importCpu = process.cpuUsage(i0);
const f = (x) => {
  for (let i = 0; i < ${n}; i++) x = np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x));
  return x;
};
const t1 = performance.now();
const c0 = process.cpuUsage();
const first = jit(grad(f))(0.3).item();
const t2 = performance.now();
const c1 = process.cpuUsage();
// a second, separate jit of the same function: the compile once V8 is warm
const second = jit(grad(f))(0.3).item();
const t3 = performance.now();
const c2 = process.cpuUsage(c1);
if (!(first === second && Number.isFinite(first))) throw new Error("cold-jit: results differ");
await new Promise((resolve) => setTimeout(resolve, 10)); // gc entries arrive asynchronously
const gcMs = (a, b) =>
  gcs.filter((e) => e.startTime >= a && e.startTime < b).reduce((sum, e) => sum + e.duration, 0);
console.log(JSON.stringify({
  importMs: t1 - t0,
  importCpuMs: cpuMs(importCpu),
  firstCallMs: t2 - t1,
  firstCallCpuMs: cpuMs(process.cpuUsage(c0)) - cpuMs(c2),
  secondCallMs: t3 - t2,
  secondCallCpuMs: cpuMs(c2),
  firstCallGcMs: gcMs(t1, t2),
}));
`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

interface Mode {
  name: string;
  /** The library's entry file. */
  lib: string;
  /** Node flags of the child. */
  flags: string[];
}

function runChild(mode: Mode, n: number, profDir: string | null, extra: string[]): Sample {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const prof =
    profDir === null ? [] : ["--cpu-prof", "--cpu-prof-interval=100", `--cpu-prof-dir=${profDir}`];
  const out = execFileSync(
    process.execPath,
    [
      ...mode.flags,
      ...extra,
      ...prof,
      "--input-type=module",
      "-e",
      childSource(pathToFileURL(mode.lib).href, n),
    ],
    { encoding: "utf8", cwd: root },
  );
  return JSON.parse(out.trim().split("\n").pop()!) as Sample;
}

function main(): void {
  const n = Number(argValue("--n", "1000"));
  const runs = Number(argValue("--runs", "5"));
  const only = argValue("--only", "");
  const profDir = argValue("--prof", "") || null;
  const baseline = argValue("--baseline", "");
  const extraFlags = argValue("--node-flags", "")
    .split(" ")
    .filter((f) => f !== "");
  const root = fileURLToPath(new URL("..", import.meta.url));
  // dist: plain node, as users run the package; src: node with tsx's loader (this process's flags).
  const all: Mode[] = [
    { name: "dist", lib: `${root}dist/index.js`, flags: [] },
    { name: "src", lib: `${root}src/index.ts`, flags: process.execArgv },
  ];
  if (baseline !== "") {
    all.push(
      { name: "baseline dist", lib: `${baseline}/dist/index.js`, flags: [] },
      { name: "baseline src", lib: `${baseline}/src/index.ts`, flags: process.execArgv },
    );
  }
  const modes = all.filter((m) => only === "" || m.name.endsWith(only));
  for (const m of modes) {
    if (m.lib.endsWith(".js") && !existsSync(m.lib)) {
      throw new Error(`bench/cold-jit.ts: ${m.lib} is missing; run \`npm run build\` there first`);
    }
  }
  const samples = new Map<string, Sample[]>(modes.map((m) => [m.name, []]));
  for (let r = 0; r < runs; r++) {
    for (const m of modes) samples.get(m.name)!.push(runChild(m, n, profDir, extraFlags));
  }
  const flagsNote = extraFlags.length > 0 ? `, node flags ${extraFlags.join(" ")}` : "";
  console.log(
    `${machineInfo()}; W1 jit(grad), N = ${n}, ${runs} fresh processes per mode${flagsNote}`,
  );
  const rows: string[][] = [];
  for (const { name: m } of modes) {
    const ss = samples.get(m)!;
    const row = (name: string, pick: (s: Sample) => number): string[] => [
      `${m}: ${name}`,
      fmt(median(ss.map(pick)), 1),
      ss.map((s) => fmt(pick(s), 0)).join(", "),
    ];
    rows.push(
      row("import (wall)", (s) => s.importMs),
      row("import (CPU)", (s) => s.importCpuMs),
      row("first call (wall)", (s) => s.firstCallMs),
      row("first call (CPU, all threads)", (s) => s.firstCallCpuMs),
      row("first call (GC pauses)", (s) => s.firstCallGcMs),
      row("second jit of f (wall)", (s) => s.secondCallMs),
      row("second jit of f (CPU)", (s) => s.secondCallCpuMs),
    );
  }
  printTable(["", "median ms", "each run"], rows);
}

main();
