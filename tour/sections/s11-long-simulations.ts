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
import { liveBytes } from "../lib/memory.js";
import { METHOD_COLORS, Plot, maxAbsDiff, numbers, plotSvg } from "../lib/plot.js";
import { checkRel, type Check, type Section, type SectionResult } from "../lib/types.js";

const DT = 0.01;
/** The parameters: stiffness k, damping c, cubic coefficient a. */
const PARAMS = [1.0, 0.05, 0.5];

/** Per-oscillator stiffness factors s_i and initial positions x0_i (same in chainrule and in JS). */
function setup(n: number): { stiff: number[]; x0: number[] } {
  const stiff = Array.from({ length: n }, (_, i) => 0.5 + (1.5 * i) / (n - 1));
  const x0 = Array.from({ length: n }, (_, i) => Math.sin((6 * i) / (n - 1)));
  return { stiff, x0 };
}

/**
 * The loss L(k, c, a) = mean(x_T^2) after T semi-implicit Euler steps of
 *     acc = -k s x - c v - a x^3,  v' = v + dt acc,  x' = x + dt v',
 * written with chainrule's lax.scan. `probe` (if given) is called inside the
 * step at the last step, which runs eagerly when the scan is unrolled.
 */
function simulation(T: number, n: number, opts: lax.ScanOptions, probe?: () => void) {
  const { stiff, x0 } = setup(n);
  const s = np.array(stiff);
  const xInit = np.array(x0);
  return (params: NdArray): NdArray => {
    const k = np.take(params, 0, 0);
    const c = np.take(params, 1, 0);
    const a = np.take(params, 2, 0);
    const ks = np.multiply(k, s);
    let t = 0;
    const step = ([x, v]: [NdArray, NdArray]): [[NdArray, NdArray], null] => {
      if (++t === T) probe?.();
      const acc = np.subtract(
        np.negative(np.add(np.multiply(ks, x), np.multiply(c, v))),
        np.multiply(a, np.multiply(x, np.square(x))),
      );
      const v2 = np.add(v, np.multiply(DT, acc));
      return [[np.add(x, np.multiply(DT, v2)), v2], null];
    };
    const [[xT]] = lax.scan(step, [xInit, np.zeros([n])], null, {
      length: T,
      ...opts,
    }) as [[NdArray, NdArray], unknown];
    return np.mean(np.square(xT));
  };
}

/** The same simulation in plain float64 JavaScript (the finite-difference reference). */
function simulationJs(T: number, n: number, [k, c, a]: number[]): number {
  const { stiff, x0 } = setup(n);
  const x = x0.slice();
  const v = x0.map(() => 0);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      const acc = -k! * stiff[i]! * x[i]! - c! * v[i]! - a! * x[i]! ** 3;
      v[i] = v[i]! + DT * acc;
      x[i] = x[i]! + DT * v[i]!;
    }
  }
  return x.reduce((sum, xi) => sum + xi * xi, 0) / n;
}

/** Central differences of the JS simulation, step h * max(|p|, 1) per parameter. */
function fdGradient(T: number, n: number, h: number): number[] {
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
  await new Promise((resolve) => setImmediate(resolve));
}

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
  method: string,
  T: number,
  n: number,
  opts: lax.ScanOptions,
): Promise<Measurement> {
  const f = simulation(T, n, opts);
  const params = np.array(PARAMS);
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
async function measureForward(T: number, n: number): Promise<Measurement> {
  let base = 0;
  let atLastStep = 0;
  let gcMs = 0;
  const probe = () => {
    const t = performance.now();
    atLastStep = liveBytes();
    gcMs += performance.now() - t;
  };
  const f = simulation(T, n, {}, probe);
  const params = np.array(PARAMS);
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
  async run(opts): Promise<SectionResult> {
    const n = opts.quick ? 50 : 100;
    const Ts = opts.quick ? [100, 200, 400] : [250, 500, 1000, 2000];
    const snapshotCounts = [4, 16];
    const methods = [PLAIN, ...snapshotCounts.map(revolveName), FORWARD];
    const reps = opts.quick ? 1 : 3;
    /** One measurement of every method at T, in a fixed order. */
    const measureAll = async (T: number): Promise<Measurement[]> => {
      const out = [await measureReverse(PLAIN, T, n, {})];
      for (const s of snapshotCounts) {
        const r = await measureReverse(revolveName(s), T, n, { checkpoint: { snapshots: s } });
        r.advances = lastSweep.advances;
        out.push(r);
      }
      out.push(await measureForward(T, n));
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
    const fd = fdGradient(Tmax, n, 1e-6);
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
    const notes = [
      `${n} oscillators, T = ${Ts.join(", ")} steps. Memory = V8 heap in use + ArrayBuffer bytes after a forced ` +
        "garbage collection (and a 20 ms wait for V8 to free dead array buffers), minus the same before the " +
        "computation (noise about ±1 MiB; negative values drawn as 0): for reverse mode measured between the " +
        "forward sweep (vjp) and the backward sweep, i.e. what is kept for the backward sweep; for jacfwd " +
        `measured inside the last simulation step. Time: forward + backward, median of ${reps} interleaved ` +
        "run(s), measured live " +
        "while the tour runs (the machine may be shared; gc time excluded).",
      `Plain reverse mode grows by about ${perStepKiB.toFixed(1)} KiB per step here; at T = ${Tmax}: ` +
        atMax
          .map((r) => `${r.method} ${(r.bytes / MiB).toFixed(2)} MiB, ${r.ms.toFixed(0)} ms`)
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
      checks,
      figures: [
        {
          caption:
            "Memory kept by each method against the number of steps T (live heap + array buffers, MiB).",
          svg: plotSvg({
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
