/**
 * `npm run bench:memory`: peak memory and time of differentiating a long
 * lax.scan, with and without binomial checkpointing, and forward mode.
 *
 * Workload: T steps of an array of N damped nonlinear (Duffing) oscillators
 * with three scalar parameters (stiffness k, damping c, cubic term a) closed
 * over by the step:
 *     acc = -k s x - c v - a x^3,  v' = v + dt acc,  x' = x + dt v'
 * (s: fixed per-oscillator stiffness factors), loss = mean(x_T^2).
 *
 * Each case runs in its own child process (node --expose-gc), so that peak
 * memory is measured in isolation: the child reports its resident set size
 * after setup (baseline) and the operating system's peak RSS (maxRSS) after
 * the gradient; "extra" = peak - baseline is the memory the differentiation
 * needed. Cases:
 *   plain        grad, unrolled scan (every step's intermediates on the tape)
 *   revolve-s    grad, checkpoint: { snapshots: s }
 *   revolve-s-eager  the same with the step run eagerly (not compiled by jit)
 *   jacfwd       forward mode: jacfwd over the 3 parameters (unrolled scan)
 *
 * Usage: tsx bench/scanMemory.ts [--T 100000] [--N 1000] [--cases plain,revolve-10,...]
 *        [--repeats 1]
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Array as NdArray, grad, jacfwd, lax, np } from "../src/index.js";
import { scanTuning } from "../src/lax/scanProgram.js";
import { machineInfo, printTable, fmt } from "./harness.js";

interface CaseResult {
  name: string;
  T: number;
  N: number;
  seconds: number;
  baselineMiB: number;
  peakMiB: number;
  extraMiB: number;
  gradient: number[];
}

/** The simulation loss as a function of the three parameters. */
function simulation(T: number, N: number, opts: lax.ScanOptions) {
  const stiff = np.linspace(0.5, 2, N);
  const x0 = np.sin(np.linspace(0, 6, N));
  const dt = 0.01;
  return (params: NdArray): NdArray => {
    const k = np.take(params, 0, 0);
    const c = np.take(params, 1, 0);
    const a = np.take(params, 2, 0);
    const ks = np.multiply(k, stiff);
    const step = ([x, v]: [NdArray, NdArray]) => {
      const acc = np.subtract(
        np.negative(np.add(np.multiply(ks, x), np.multiply(c, v))),
        np.multiply(a, np.multiply(x, np.square(x))),
      );
      const v2 = np.add(v, np.multiply(dt, acc));
      const x2 = np.add(x, np.multiply(dt, v2));
      return [[x2, v2], null];
    };
    const [[xT]] = lax.scan(step as never, [x0, np.zeros([N])], null, {
      length: T,
      ...opts,
    });
    return np.mean(np.square(xT));
  };
}

/** Runs one case in this process (the child side). */
function runCase(name: string, T: number, N: number): CaseResult {
  const params = np.array([1.0, 0.002, 0.5]);
  const mib = (b: number) => b / 2 ** 20;
  let run: () => NdArray;
  if (name === "plain") run = () => grad(simulation(T, N, {}))(params);
  else if (name === "jacfwd") run = () => jacfwd(simulation(T, N, {}))(params);
  else if (name.startsWith("revolve-")) {
    // revolve-S, or revolve-S-eager: the step not compiled with jit
    const [, s, eager] = name.split("-");
    const snapshots = Number(s);
    if (eager === "eager") scanTuning.jitStep = false;
    run = () => grad(simulation(T, N, { checkpoint: { snapshots } }))(params);
  } else throw new Error(`scanMemory: unknown case ${name}`);
  (globalThis as { gc?: () => void }).gc?.();
  const baseline = process.memoryUsage().rss;
  const t0 = performance.now();
  const g = run();
  const seconds = (performance.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  return {
    name,
    T,
    N,
    seconds,
    baselineMiB: mib(baseline),
    peakMiB: mib(peak),
    extraMiB: mib(peak - baseline),
    gradient: [...(g.data() as Float64Array)],
  };
}

const { values } = parseArgs({
  options: {
    T: { type: "string", default: "100000" },
    N: { type: "string", default: "1000" },
    cases: { type: "string", default: "revolve-10,revolve-30,revolve-100,jacfwd,plain" },
    child: { type: "string" },
  },
});
const T = Number(values.T);
const N = Number(values.N);

if (values.child !== undefined) {
  console.log(JSON.stringify(runCase(values.child, T, N)));
} else {
  console.log(`lax.scan reverse-mode memory, T = ${T}, N = ${N}, on ${machineInfo()}\n`);
  const script = fileURLToPath(import.meta.url);
  const rows: string[][] = [];
  const results: CaseResult[] = [];
  for (const name of values.cases.split(",")) {
    let r: CaseResult;
    try {
      const out = execFileSync(
        process.execPath,
        [
          "--expose-gc",
          "--max-old-space-size=20000",
          "--import",
          "tsx",
          script,
          "--child",
          name,
          "--T",
          String(T),
          "--N",
          String(N),
        ],
        { encoding: "utf8", maxBuffer: 1 << 26 },
      );
      r = JSON.parse(out.trim().split("\n").at(-1)!) as CaseResult;
    } catch (e) {
      console.log(`${name}: failed (${(e as Error).message.split("\n")[0]})`);
      continue;
    }
    results.push(r);
    rows.push([
      name,
      fmt(r.seconds, 2),
      fmt(r.baselineMiB),
      fmt(r.peakMiB),
      fmt(r.extraMiB),
      r.gradient.map((v) => v.toPrecision(8)).join(" "),
    ]);
  }
  printTable(["case", "time s", "baseline MiB", "peak RSS MiB", "extra MiB", "gradient"], rows);
  const plain = results.find((r) => r.name === "plain");
  if (plain !== undefined) {
    console.log("\nrelative to plain (extra memory, time):");
    for (const r of results) {
      console.log(
        `  ${r.name}: memory ${(r.extraMiB / plain.extraMiB).toFixed(4)}x, time ${(r.seconds / plain.seconds).toFixed(2)}x, ` +
          `max |grad - plain grad| ${Math.max(...r.gradient.map((v, i) => Math.abs(v - plain.gradient[i]!))).toExponential(1)}`,
      );
    }
  }
}
