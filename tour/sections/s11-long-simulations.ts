/**
 * Section 11 (seeds 000/001 and 003): long simulations. An array of damped
 * nonlinear (Duffing) oscillators is stepped T times with lax.scan; the
 * gradient of a final loss with respect to three parameters is computed by
 * plain reverse mode (the unrolled scan on the tape), by checkpointed reverse
 * mode (revolve, a few snapshot counts) and by forward mode (jacfwd). All
 * agree with each other and with central finite differences of a plain-JS
 * float64 simulation. Measured live for a few T: the memory each method holds
 * and its time, plus the recomputation (advances) that revolve performs.
 */
import { jacfwd, lax, np, vjp, type Array as NdArray } from "../../src/index.js";
import { optimalAdvances } from "../../src/lax/revolve.js";
import { lastSweep } from "../../src/lax/scanProgram.js";
import { liveCodeBlock, runLiveCode, type LiveCode } from "../lib/live.js";
import { METHOD_COLORS, Plot, maxAbsDiff, numbers, plotSvg } from "../lib/plot.js";
import {
  checkRel,
  requireLiveSource,
  type Check,
  type Section,
  type SectionResult,
} from "../lib/types.js";

const live: LiveCode = {
  file: "s11-long-simulations.live.js",
  caption: "The oscillators, their loss by lax.scan and the sizes measured (live: edit and run)",
  outputs: {
    PARAMS: "object",
    n: "number",
    Ts: "object",
    snapshotCounts: "object",
    reps: "number",
    simulation: "function",
    simulationJs: "function",
  },
  quickInPage: true,
};

/** The simulation as the live code defines it: the loss as a function of the parameters. */
type Simulation = (
  T: number,
  n: number,
  scanOptions: lax.ScanOptions,
  onLastStep?: () => void,
) => (params: NdArray) => NdArray;

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  PARAMS: number[];
  n: number;
  Ts: number[];
  snapshotCounts: number[];
  reps: number;
  simulation: Simulation;
  simulationJs: (T: number, n: number, params: number[]) => number;
}

/** Central differences of the JS simulation, step h * max(|p|, 1) per parameter. */
function fdGradient(v: Values, T: number, h: number): number[] {
  const { PARAMS, n, simulationJs } = v;
  return PARAMS.map((p, j) => {
    const step = h * Math.max(Math.abs(p), 1);
    const plus = PARAMS.slice();
    const minus = PARAMS.slice();
    plus[j] = p + step;
    minus[j] = p - step;
    return (simulationJs(T, n, plus) - simulationJs(T, n, minus)) / (2 * step);
  });
}

/** Lets pending callbacks run, so that the baseline is taken with an idle event loop. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** Live bytes after a gc (Node: TourOptions.liveBytes), or 0 where it cannot be measured (the page). */
type Probe = () => number;

interface Measurement {
  method: string;
  T: number;
  ms: number;
  /** Live memory above the baseline at the measuring point (bytes). */
  bytes: number;
  gradient: number[];
  advances?: number;
}

/** Reverse mode through vjp: memory is measured with the pullback alive, before the backward sweep. */
async function measureReverse(
  v: Values,
  liveBytes: Probe,
  method: string,
  T: number,
  opts: lax.ScanOptions,
): Promise<Measurement> {
  const f = v.simulation(T, v.n, opts);
  const params = np.array(v.PARAMS);
  await settle();
  const base = liveBytes();
  const t0 = performance.now();
  const [, pullback] = vjp(f, params);
  const tForward = performance.now() - t0;
  const bytes = liveBytes() - base;
  const t1 = performance.now();
  const [g] = pullback(np.array(1)) as NdArray[];
  const ms = tForward + performance.now() - t1;
  return { method, T, ms, bytes, gradient: numbers(g!) };
}

/** Forward mode: memory is measured inside the last step (the tangents ride along; no tape). */
async function measureForward(v: Values, liveBytes: Probe, T: number): Promise<Measurement> {
  let base = 0;
  let atLastStep = 0;
  let gcMs = 0;
  const probe = () => {
    const t = performance.now();
    atLastStep = liveBytes();
    gcMs += performance.now() - t;
  };
  const f = v.simulation(T, v.n, {}, probe);
  const params = np.array(v.PARAMS);
  await settle();
  base = liveBytes();
  const t0 = performance.now();
  const g = (jacfwd(f) as (p: NdArray) => NdArray)(params);
  const ms = performance.now() - t0 - gcMs;
  return { method: FORWARD, T, ms, bytes: atLastStep - base, gradient: numbers(g) };
}

const MiB = 2 ** 20;
const PLAIN = "reverse, unrolled (plain)";
const FORWARD = "forward (jacfwd)";
const revolveName = (s: number) => `reverse, revolve ${s} snapshots`;

/** The median of a non-empty list. */
function median(xs: number[]): number {
  const sorted = xs.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One colour per method, the same in every figure. */
const COLOURS: Record<string, string> = {
  // Reverse and forward mode in the report's colours; the checkpointed variants in
  // other violets (the same method, storing less).
  [PLAIN]: METHOD_COLORS.reverse,
  [revolveName(4)]: "#b48ade",
  [revolveName(16)]: "#4a235a",
  [FORWARD]: METHOD_COLORS.forward,
};
function colourScale(methods: string[]) {
  return { legend: true, domain: methods, range: methods.map((m) => COLOURS[m]!) };
}

export const longSimulations: Section = {
  id: "long-simulations",
  title: "11. Long simulations: tape memory, checkpointing and forward mode",
  live,
  async run(opts, liveSource): Promise<SectionResult> {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const { n, Ts, snapshotCounts, reps } = v;
    // Memory needs Node's garbage collector: measured in the report, not in the page.
    const measuresMemory = opts.liveBytes !== undefined;
    const liveBytes: Probe = opts.liveBytes ?? (() => 0);
    const methods = [PLAIN, ...snapshotCounts.map(revolveName), FORWARD];
    /** One measurement of every method at T, in a fixed order. */
    const measureAll = async (T: number): Promise<Measurement[]> => {
      const out = [await measureReverse(v, liveBytes, PLAIN, T, {})];
      for (const s of snapshotCounts) {
        const r = await measureReverse(v, liveBytes, revolveName(s), T, {
          checkpoint: { snapshots: s },
        });
        r.advances = lastSweep.advances;
        out.push(r);
      }
      out.push(await measureForward(v, liveBytes, T));
      return out;
    };
    const rows: Measurement[] = [];
    for (const [i, T] of Ts.entries()) {
      opts.onProgress?.(i / Ts.length);
      // Methods interleaved within each repetition, so that machine load affects them alike;
      // memory and gradient from the first repetition, time = median over the repetitions.
      const runs: Measurement[][] = [];
      for (let r = 0; r < reps; r++) runs.push(await measureAll(T));
      runs[0]!.forEach((m, k) => rows.push({ ...m, ms: median(runs.map((run) => run[k]!.ms)) }));
    }

    // Checks at the longest T: every method against central FD of the JS simulation and against plain reverse.
    const Tmax = Ts.at(-1)!;
    const fd = fdGradient(v, Tmax, 1e-6);
    const atMax = rows.filter((r) => r.T === Tmax);
    const plain = atMax[0]!;
    const names = ["k", "c", "a"];
    const checks: Check[] = [];
    for (const r of atMax) {
      names.forEach((name, j) =>
        checks.push(
          checkRel(
            `dL/d${name} at T = ${Tmax}, ${r.method}`,
            r.gradient[j]!,
            fd[j]!,
            "central FD of plain-JS simulation",
            1e-6,
          ),
        ),
      );
    }
    for (const r of atMax.slice(1)) {
      checks.push(
        checkRel(
          `max |gradient difference| at T = ${Tmax}: ${r.method} vs plain reverse`,
          maxAbsDiff(r.gradient, plain.gradient),
          0,
          "plain reverse mode (other method)",
          1e-10,
        ),
      );
    }

    const memRows = rows.map((r) => ({ ...r, mib: Math.max(r.bytes, 0) / MiB }));
    const recomputeRows = rows
      .filter((r) => r.advances !== undefined)
      .flatMap((r) => [
        { T: r.T, perStep: r.advances! / r.T, method: r.method, kind: "measured" },
        {
          T: r.T,
          perStep: optimalAdvances(r.T, Number(/(\d+) snapshots/.exec(r.method)![1])) / r.T,
          method: r.method,
          kind: "optimal F(T, s) / T",
        },
      ]);
    const at = (method: string, T: number) => rows.find((r) => r.method === method && r.T === T)!;
    const Tmin = Ts[0]!;
    const perStepKiB =
      (at(plain.method, Tmax).bytes - at(plain.method, Tmin).bytes) / (Tmax - Tmin) / 1024;
    const memoryNote = measuresMemory
      ? `Memory = V8 heap in use + ArrayBuffer bytes after a forced ` +
        "garbage collection (and a 20 ms wait for V8 to free dead array buffers), minus the same before the " +
        "computation (noise about ±1 MiB; negative values drawn as 0): for reverse mode measured between the " +
        "forward sweep (vjp) and the backward sweep, i.e. what is kept for the backward sweep; for jacfwd " +
        "measured inside the last simulation step."
      : "Memory: measured in Node only (it needs Node's garbage collector); the report " +
        "(`npm run tour`) shows it.";
    const notes = [
      `${n} oscillators, T = ${Ts.join(", ")} steps. ${memoryNote} Time: forward + backward, ` +
        `median of ${reps} interleaved run(s), measured live while the section runs (the machine ` +
        "may be shared; gc time excluded).",
      (measuresMemory
        ? `Plain reverse mode grows by about ${perStepKiB.toFixed(1)} KiB per step here; at T = ${Tmax}: `
        : `At T = ${Tmax}: `) +
        atMax
          .map(
            (r) =>
              `${r.method} ${measuresMemory ? `${(r.bytes / MiB).toFixed(2)} MiB, ` : ""}${r.ms.toFixed(0)} ms`,
          )
          .join("; ") +
        ".",
      "Recorded by `npm run bench:memory` (bench/scanMemory.ts, docs/benchmarks.md, separate processes, " +
        "peak RSS, 1,000 oscillators, T = 100,000, shared 2-core machine): plain reverse 6,688 MiB extra in " +
        "214 s; 30 snapshots 79 MiB in 28 s (step compiled with jit); jacfwd 70 MiB in 308 s.",
    ];
    return {
      id: this.id,
      title: this.title,
      explanation:
        "Forward mode carries the tangents along with the values, so it needs no tape: its memory is " +
        "that of the simulation itself whatever the number of steps, at the price of one pass per " +
        "parameter (fine for 3 parameters, as in the seeds' agent-based models). Reverse mode gives all " +
        "parameters in one backward sweep, but the backward sweep needs every step's intermediate values: " +
        "O(T) memory. Checkpointing (Griewank's revolve, 1992) keeps only a few snapshots of the state and " +
        "recomputes the rest during the backward sweep: with s snapshots the memory stays flat and the " +
        "number of recomputed steps grows like T log T (for fixed s, about r T with r the smallest " +
        "integer such that C(s + r, s) >= T). Here chainrule's lax.scan computes the same gradient all " +
        "three ways; `checkpoint: { snapshots }` selects revolve.",
      notes,
      code: [liveCodeBlock(live, source)],
      checks,
      figures: [
        {
          caption:
            "Memory kept by each method against the number of steps T (live heap + array buffers, MiB)" +
            (measuresMemory ? "." : ": measured in Node only."),
          svg: !measuresMemory
            ? '<p class="node-only">Measured in Node only: the memory measurement needs Node\'s garbage collector (see the report).</p>'
            : plotSvg({
                color: colourScale(methods),
                x: { label: "steps T", grid: true },
                y: { label: "memory (MiB)", grid: true },
                marks: [
                  Plot.line(memRows, { x: "T", y: "mib", stroke: "method" }),
                  Plot.dot(memRows, { x: "T", y: "mib", fill: "method", r: 3 }),
                ],
              }),
        },
        {
          caption: `Time of each method (forward + backward, ms, median of ${reps} run(s), measured live).`,
          svg: plotSvg({
            color: colourScale(methods),
            x: { label: "steps T", grid: true },
            y: { label: "time (ms)", grid: true },
            marks: [
              Plot.line(rows, { x: "T", y: "ms", stroke: "method" }),
              Plot.dot(rows, { x: "T", y: "ms", fill: "method", r: 3 }),
            ],
          }),
        },
        {
          caption:
            "Steps recomputed by revolve per simulation step: dots, measured advances / T; lines, " +
            "Griewank's optimum F(T, s) / T for a backward sweep that starts from the initial state " +
            "only (chainrule's forward sweep already stores the first sweep's snapshots, saving some).",
          svg: plotSvg({
            color: colourScale(snapshotCounts.map(revolveName)),
            x: { label: "steps T", grid: true },
            y: { label: "recomputed steps per step", grid: true },
            marks: [
              Plot.line(
                recomputeRows.filter((d) => d.kind !== "measured"),
                { x: "T", y: "perStep", stroke: "method" },
              ),
              Plot.dot(
                recomputeRows.filter((d) => d.kind === "measured"),
                { x: "T", y: "perStep", fill: "method", r: 4 },
              ),
            ],
          }),
        },
      ],
    };
  },
};
