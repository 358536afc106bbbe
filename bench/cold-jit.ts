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
 *                             [--program w1|relu-loop|mlp]
 *
 * `--program` picks f: `w1` (default, above); `relu-loop`, W1's loop with
 * `np.maximum` in each step (N steps, scalar); `mlp`, the loss of a
 * 784-256-10 network with ReLU (`np.maximum`) and log-softmax on a batch of
 * 64, differentiated in its four parameters (N is ignored).
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
type Program = "w1" | "relu-loop" | "mlp";

/**
 * The child's f, its argument (both as source, with \`np\` in scope) and
 * how a gradient becomes one number to compare.
 */
function programSource(program: Program, n: number): { f: string; arg: string; check: string } {
  if (program === "w1" || program === "relu-loop") {
    const step =
      program === "w1"
        ? "np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x))"
        : "np.add(np.maximum(np.multiply(np.sin(x), x), np.multiply(x, 0.25)), np.cos(x))";
    return {
      f: `(x) => { for (let i = 0; i < ${n}; i++) x = ${step}; return x; }`,
      arg: "0.3",
      check: "(g) => g.item()",
    };
  }
  // A seeded pseudo-random fill (no library RNG: its first call would be timed apart).
  const fill = (rows: number, cols: number, scale: number): string =>
    `np.array(Array.from({ length: ${rows} }, (_, i) => Array.from({ length: ${cols} }, ` +
    `(_, j) => ${scale} * Math.sin(i * 12.9898 + j * 78.233)))) `;
  return {
    f: `([w1, b1, w2, b2]) => {
  const h = np.maximum(np.add(np.matmul(X, w1), b1), 0);
  const logits = np.add(np.matmul(h, w2), b2);
  const shifted = np.subtract(logits, np.max(logits, 1, { keepdims: true }));
  const logp = np.subtract(shifted, np.log(np.sum(np.exp(shifted), 1, { keepdims: true })));
  return np.negative(np.mean(np.sum(np.multiply(Y, logp), 1)));
}`,
    arg: `[${fill(784, 256, 0.05)}, np.zeros([256]), ${fill(256, 10, 0.1)}, np.zeros([10])]`,
    check: "(g) => g.reduce((s, a) => s + np.sum(np.abs(a)).item(), 0)",
  };
}

function childSource(libraryUrl: string, n: number, program: Program): string {
  const p = programSource(program, n);
  const mlpData =
    program === "mlp"
      ? `const X = np.array(Array.from({ length: 64 }, (_, i) => Array.from({ length: 784 }, (_, j) => Math.cos(i * 3.1 + j * 0.7))));
const Y = np.array(Array.from({ length: 64 }, (_, i) => Array.from({ length: 10 }, (_, j) => (j === i % 10 ? 1 : 0))));`
      : "";
  return `
const cpuMs = (c) => (c.user + c.system) / 1000;
const { PerformanceObserver } = await import("node:perf_hooks");
const gcs = [];
new PerformanceObserver((list) => gcs.push(...list.getEntries())).observe({ entryTypes: ["gc"] });
const t0 = performance.now();
const i0 = process.cpuUsage();
const { grad, jit, np } = await import(${JSON.stringify(libraryUrl)});
const importCpu = process.cpuUsage(i0);
${mlpData}
const f = ${p.f};
const arg = ${p.arg};
const check = ${p.check};
const t1 = performance.now();
const c0 = process.cpuUsage();
const firstGrad = jit(grad(f))(arg);
const t2 = performance.now();
const c1 = process.cpuUsage();
// a second, separate jit of the same function: the compile once V8 is warm
const secondGrad = jit(grad(f))(arg);
const t3 = performance.now();
const c2 = process.cpuUsage(c1);
const first = check(firstGrad);
const second = check(secondGrad);
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

function runChild(
  mode: Mode,
  n: number,
  program: Program,
  profDir: string | null,
  extra: string[],
): Sample {
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
      childSource(pathToFileURL(mode.lib).href, n, program),
    ],
    { encoding: "utf8", cwd: root },
  );
  return JSON.parse(out.trim().split("\n").pop()!) as Sample;
}

function main(): void {
  const n = Number(argValue("--n", "1000"));
  const runs = Number(argValue("--runs", "5"));
  const only = argValue("--only", "");
  const program = argValue("--program", "w1") as Program;
  if (!["w1", "relu-loop", "mlp"].includes(program)) {
    throw new Error(`bench/cold-jit.ts: --program must be w1, relu-loop or mlp, not ${program}`);
  }
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
    for (const m of modes) samples.get(m.name)!.push(runChild(m, n, program, profDir, extraFlags));
  }
  const flagsNote = extraFlags.length > 0 ? `, node flags ${extraFlags.join(" ")}` : "";
  console.log(
    `${machineInfo()}; ${program} jit(grad), N = ${n}, ${runs} fresh processes per mode${flagsNote}`,
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
