/**
 * Section 5 (seed 000): forward vs reverse mode cost. f(x) = sum(x) * ones(n)
 * maps R^m to R^n; its Jacobian is the n x m matrix of ones. Forward mode
 * builds it column by column (cost grows with the inputs m), reverse mode
 * row by row (cost grows with the outputs n). Measured live: fastest wall
 * time of jacfwd and jacrev as n grows (m = 10) and as m grows (n = 10).
 */
import { jacfwd, jacrev, np, type Array } from "../../src/index.js";
import { METHOD_COLORS, Plot, colorScale, numbers, plotSvg, powerOfTen } from "../lib/plot.js";
import { check, type Section, type SectionResult } from "../lib/types.js";

const makeF = (nOutputs: number) => (x: Array) => np.multiply(np.sum(x), np.ones([nOutputs]));

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

/** Largest |J - 1| over the entries of a Jacobian that should be all ones. */
const offOnes = (j: Array) => Math.max(...numbers(j).map((v) => Math.abs(v - 1)));

export const jacobianCost: Section = {
  id: "jacobian-cost",
  title: "5. Forward vs reverse mode: Jacobian cost",
  run(opts): SectionResult {
    // Sizes doubling, so that a log axis spaces them evenly and the slope of log(time)
    // against log(size) measures the growth (1 = linear).
    const sizes = opts.quick ? [128, 256, 512, 1024] : [128, 256, 512, 1024, 2048];
    const reps = opts.quick ? 3 : 7;
    const small = 10;
    const rows: { size: number; ms: number; mode: string; panel: string }[] = [];
    let worst = 0;
    // Warm-up of both modes (V8 compiles the batched code paths on first use).
    for (let k = 0; k < 3; k++) {
      (jacfwd(makeF(sizes[0]!)) as (x: Array) => Array)(np.ones([small]));
      (jacrev(makeF(sizes[0]!)) as (x: Array) => Array)(np.ones([small]));
      (jacfwd(makeF(small)) as (x: Array) => Array)(np.ones([sizes[0]!]));
      (jacrev(makeF(small)) as (x: Array) => Array)(np.ones([sizes[0]!]));
    }
    for (const [index, n] of sizes.entries()) {
      opts.onProgress?.(index / sizes.length);
      // Varying outputs: R^10 -> R^n.
      const fOut = makeF(n);
      const xSmall = np.ones([small]);
      const fwdOut = () => (jacfwd(fOut) as (x: Array) => Array)(xSmall);
      const revOut = () => (jacrev(fOut) as (x: Array) => Array)(xSmall);
      // Varying inputs: R^n -> R^10.
      const fIn = makeF(small);
      const xBig = np.ones([n]);
      const fwdIn = () => (jacfwd(fIn) as (x: Array) => Array)(xBig);
      const revIn = () => (jacrev(fIn) as (x: Array) => Array)(xBig);
      for (const j of [fwdOut(), revOut(), fwdIn(), revIn()]) worst = Math.max(worst, offOnes(j));
      // Interleave the modes so that machine load affects both alike.
      const panelOut = "varying number of outputs (10 inputs)";
      const panelIn = "varying number of inputs (10 outputs)";
      rows.push({
        size: n,
        ms: fastestMs(fwdOut, reps),
        mode: "forward (jacfwd)",
        panel: panelOut,
      });
      rows.push({
        size: n,
        ms: fastestMs(revOut, reps),
        mode: "reverse (jacrev)",
        panel: panelOut,
      });
      rows.push({ size: n, ms: fastestMs(fwdIn, reps), mode: "forward (jacfwd)", panel: panelIn });
      rows.push({ size: n, ms: fastestMs(revIn, reps), mode: "reverse (jacrev)", panel: panelIn });
    }
    const at = (panel: string, mode: string) =>
      rows.filter((r) => r.panel.startsWith(panel) && r.mode.startsWith(mode));
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
    const revSlope = slope("varying number of outputs", "reverse");
    const fwdSlope = slope("varying number of inputs", "forward");
    const notes = [
      `Outputs 10 -> ${nMax}: growth of jacrev time from the smallest to the largest size ` +
        `x${ratio("varying number of outputs", "reverse").toFixed(1)}, jacfwd x${ratio("varying number of outputs", "forward").toFixed(1)}.`,
      `Inputs: growth of jacfwd time x${ratio("varying number of inputs", "forward").toFixed(1)}, ` +
        `jacrev x${ratio("varying number of inputs", "reverse").toFixed(1)}.`,
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
      checks: [
        check(
          "every Jacobian computed (both modes, all sizes): max |J - 1|",
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
            color: colorScale(
              ["forward (jacfwd)", "reverse (jacrev)"],
              [METHOD_COLORS.forward, METHOD_COLORS.reverse],
            ),
            fx: {
              label: null,
              domain: [
                "varying number of outputs (10 inputs)",
                "varying number of inputs (10 outputs)",
              ],
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
