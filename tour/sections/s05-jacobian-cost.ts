/**
 * Section 5 (seed 000): forward vs reverse mode cost. f(x) = sum(x) * ones(n)
 * maps R^m to R^n; its Jacobian is the n x m matrix of ones. Forward mode
 * builds it column by column (cost grows with the inputs m), reverse mode
 * row by row (cost grows with the outputs n). Measured live: fastest wall
 * time of jacfwd and jacrev as n grows (m = 10) and as m grows (n = 10).
 * Live: the function, the modes and the sizes are s05-jacobian-cost.live.js
 * (editable in the live page); the timing harness is here.
 */
import { InvalidArgumentError, np, type Array } from "../../src/index.js";
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { METHOD_COLORS, Plot, colorScale, numbers, plotSvg, powerOfTen } from "../lib/plot.js";
import { check, requireLiveSource, type Section, type SectionResult } from "../lib/types.js";

const live: LiveCode = {
  file: "s05-jacobian-cost.live.js",
  caption: "The function, the two modes and the sizes (live: edit and run)",
  outputs: {
    makeF: "function",
    jacobianByHand: "function",
    modes: "object",
    sizes: "object",
    small: "number",
    reps: "number",
  },
};

type Jacobian = (f: (x: Array) => Array) => (x: Array) => Array;

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  makeF: (nOutputs: number) => (x: Array) => Array;
  jacobianByHand: (nOutputs: number, nInputs: number) => Array;
  /** Two modes: the first is forward, the second reverse (the plot's colours). */
  modes: Record<string, Jacobian>;
  sizes: number[];
  small: number;
  reps: number;
}

/**
 * Fastest of `reps` timings of fn in milliseconds (after one warm-up call): on a shared
 * machine, load only ever adds time, so the minimum is the steadiest estimate.
 */
function fastestMs(fn: () => unknown, reps: number): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return Math.min(...times);
}

/** Largest |J - ref| over the entries (Infinity when the shapes differ). */
const maxDiff = (j: Array, ref: Array) => {
  if (j.shape.join() !== ref.shape.join()) return Infinity;
  const r = numbers(ref);
  return Math.max(0, ...numbers(j).map((v, i) => Math.abs(v - r[i]!)));
};

export const jacobianCost: Section = {
  id: "jacobian-cost",
  title: "5. Forward vs reverse mode: Jacobian cost",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const { makeF, jacobianByHand, sizes, small, reps } = v;
    const modes = Object.entries(v.modes);
    if (modes.length !== 2 || sizes.length < 2) {
      throw new InvalidArgumentError(
        `tour section "${this.id}": \`modes\` must name two Jacobian functions (forward first, ` +
          `then reverse; got ${modes.length}) and \`sizes\` at least two sizes (got ${sizes.length})`,
      );
    }
    const [[fwdName, jf], [revName, jr]] = modes as [[string, Jacobian], [string, Jacobian]];
    const rows: { size: number; ms: number; mode: string; panel: string }[] = [];
    let worst = 0;
    // Warm-up of both modes (V8 compiles the batched code paths on first use).
    for (let k = 0; k < 3; k++) {
      jf(makeF(sizes[0]!))(np.ones([small]));
      jr(makeF(sizes[0]!))(np.ones([small]));
      jf(makeF(small))(np.ones([sizes[0]!]));
      jr(makeF(small))(np.ones([sizes[0]!]));
    }
    const panelOut = `varying number of outputs (${small} inputs)`;
    const panelIn = `varying number of inputs (${small} outputs)`;
    for (const [index, n] of sizes.entries()) {
      opts.onProgress?.(index / sizes.length);
      // Varying outputs: R^small -> R^n.
      const fOut = makeF(n);
      const xSmall = np.ones([small]);
      const fwdOut = () => jf(fOut)(xSmall);
      const revOut = () => jr(fOut)(xSmall);
      // Varying inputs: R^n -> R^small.
      const fIn = makeF(small);
      const xBig = np.ones([n]);
      const fwdIn = () => jf(fIn)(xBig);
      const revIn = () => jr(fIn)(xBig);
      const outRef = jacobianByHand(n, small);
      const inRef = jacobianByHand(small, n);
      worst = Math.max(
        worst,
        maxDiff(fwdOut(), outRef),
        maxDiff(revOut(), outRef),
        maxDiff(fwdIn(), inRef),
        maxDiff(revIn(), inRef),
      );
      // Interleave the modes so that machine load affects both alike.
      rows.push({ size: n, ms: fastestMs(fwdOut, reps), mode: fwdName, panel: panelOut });
      rows.push({ size: n, ms: fastestMs(revOut, reps), mode: revName, panel: panelOut });
      rows.push({ size: n, ms: fastestMs(fwdIn, reps), mode: fwdName, panel: panelIn });
      rows.push({ size: n, ms: fastestMs(revIn, reps), mode: revName, panel: panelIn });
    }
    const at = (panel: string, mode: string) =>
      rows.filter((r) => r.panel === panel && r.mode === mode);
    const ratio = (panel: string, mode: string) => {
      const r = at(panel, mode);
      return r.at(-1)!.ms / r[0]!.ms;
    };
    const nMax = sizes.at(-1)!;
    /**
     * Least-squares slope of log(time) against log(size): the exponent of the growth.
     * The mode that needs one pass per element makes `size` passes (linear in the
     * size), and here each pass also costs O(size) (the function builds ones(n) or
     * sums n inputs), so its time grows as size^2.
     */
    const slope = (panel: string, mode: string) => {
      const r = at(panel, mode);
      const lx = r.map((p) => Math.log(p.size));
      const ly = r.map((p) => Math.log(p.ms));
      const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
      const my = ly.reduce((a, b) => a + b, 0) / ly.length;
      const num = lx.reduce((a, x, i) => a + (x - mx) * (ly[i]! - my), 0);
      const den = lx.reduce((a, x) => a + (x - mx) ** 2, 0);
      return num / den;
    };
    const revSlope = slope(panelOut, revName);
    const fwdSlope = slope(panelIn, fwdName);
    const notes = [
      `Outputs 10 -> ${nMax}: growth of jacrev time from the smallest to the largest size ` +
        `x${ratio(panelOut, revName).toFixed(1)}, jacfwd x${ratio(panelOut, fwdName).toFixed(1)}.`,
      `Inputs: growth of jacfwd time x${ratio(panelIn, fwdName).toFixed(1)}, ` +
        `jacrev x${ratio(panelIn, revName).toFixed(1)}.`,
      `Fastest of ${reps} runs each after a warm-up, measured while the tour runs (the machine may be shared).`,
      `Growth exponents (log-log slopes): jacrev as outputs grow ${revSlope.toFixed(2)}, jacfwd as inputs ` +
        `grow ${fwdSlope.toFixed(2)}. The number of passes grows linearly; chainrule runs them as one ` +
        `vmapped pass whose work is passes x O(n), hence about n^2 for this function.`,
    ];
    return {
      id: this.id,
      title: this.title,
      explanation:
        "For f: R^m -> R^n, forward mode needs one pass per input and reverse mode one pass per " +
        "output (chainrule batches those passes with vmap, so the growth is in work, not in " +
        "interpreter calls). The seeds' experiment f(x) = sum(x) * ones(n) shows it: with few inputs " +
        "and many outputs forward mode is cheaper; with many inputs and few outputs reverse mode is.",
      notes,
      code: [{ caption: live.caption, source, live: true }],
      checks: [
        check(
          "every Jacobian computed (both modes, all sizes): max |J - jacobianByHand|",
          worst,
          0,
          "analytic (all ones)",
          0,
        ),
        // Timing checks only in the full run: quick mode runs inside the test suite, in
        // parallel with other test files, where timings of a few ms are not reliable.
        ...(opts.quick
          ? []
          : [
              check(
                "outputs grow: exponent of jacrev's time growth (log-log slope)",
                revSlope,
                2,
                "n passes (linear in n) x O(n) per pass",
                1,
              ),
              check(
                "inputs grow: exponent of jacfwd's time growth (log-log slope)",
                fwdSlope,
                2,
                "n passes (linear in n) x O(n) per pass",
                1,
              ),
            ]),
      ],
      figures: [
        {
          caption:
            "Fastest time of jacfwd and jacrev of sum(x) * ones(n), measured live (log-log: a straight line of slope 1 is linear growth).",
          svg: plotSvg({
            width: 900,
            height: 360,
            marginRight: 30,
            color: colorScale([fwdName, revName], [METHOD_COLORS.forward, METHOD_COLORS.reverse]),
            fx: {
              label: null,
              domain: [panelOut, panelIn],
            },
            x: { type: "log", label: "size (outputs or inputs)", grid: true, ticks: sizes },
            y: { type: "log", label: "time (ms, log scale)", grid: true, tickFormat: powerOfTen },
            marks: [
              Plot.frame({ stroke: "#ddd" }),
              Plot.line(rows, { x: "size", y: "ms", stroke: "mode", fx: "panel" }),
              Plot.dot(rows, { x: "size", y: "ms", fill: "mode", fx: "panel", r: 3 }),
            ],
          }),
        },
      ],
    };
  },
};
