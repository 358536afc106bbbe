/**
 * Section 5 (seed 000): forward vs reverse mode cost. f(x) = sum(x) * ones(n)
 * maps R^m to R^n; its Jacobian is the n x m matrix of ones. Forward mode
 * builds it column by column (cost grows with the inputs m), reverse mode
 * row by row (cost grows with the outputs n). Measured live: median wall
 * time of jacfwd and jacrev as n grows (m = 10) and as m grows (n = 10).
 */
import { jacfwd, jacrev, np, type Array } from "../../src/index.js";
import { Plot, numbers, plotSvg } from "../lib/plot.js";
import { check, type Section, type SectionResult } from "../lib/types.js";

const makeF = (nOutputs: number) => (x: Array) => np.multiply(np.sum(x), np.ones([nOutputs]));

/** Median of `reps` timings of fn in milliseconds (after one warm-up call). */
function medianMs(fn: () => unknown, reps: number): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Largest |J - 1| over the entries of a Jacobian that should be all ones. */
const offOnes = (j: Array) => Math.max(...numbers(j).map((v) => Math.abs(v - 1)));

export const jacobianCost: Section = {
  id: "jacobian-cost",
  title: "5. Forward vs reverse mode: Jacobian cost",
  run(opts): SectionResult {
    const sizes = opts.quick ? [50, 100, 200, 400] : [250, 500, 1000, 1500, 2000, 2500, 3000];
    const reps = opts.quick ? 3 : 5;
    const small = 10;
    const rows: { size: number; ms: number; mode: string; panel: string }[] = [];
    let worst = 0;
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
      rows.push({ size: n, ms: medianMs(fwdOut, reps), mode: "forward (jacfwd)", panel: panelOut });
      rows.push({ size: n, ms: medianMs(revOut, reps), mode: "reverse (jacrev)", panel: panelOut });
      rows.push({ size: n, ms: medianMs(fwdIn, reps), mode: "forward (jacfwd)", panel: panelIn });
      rows.push({ size: n, ms: medianMs(revIn, reps), mode: "reverse (jacrev)", panel: panelIn });
    }
    const at = (panel: string, mode: string) =>
      rows.filter((r) => r.panel.startsWith(panel) && r.mode.startsWith(mode));
    const ratio = (panel: string, mode: string) => {
      const r = at(panel, mode);
      return r.at(-1)!.ms / r[0]!.ms;
    };
    const nMax = sizes.at(-1)!;
    const notes = [
      `Outputs 10 -> ${nMax}: growth of jacrev time from the smallest to the largest size ` +
        `x${ratio("varying number of outputs", "reverse").toFixed(1)}, jacfwd x${ratio("varying number of outputs", "forward").toFixed(1)}.`,
      `Inputs: growth of jacfwd time x${ratio("varying number of inputs", "forward").toFixed(1)}, ` +
        `jacrev x${ratio("varying number of inputs", "reverse").toFixed(1)}.`,
      `Medians of ${reps} runs each after a warm-up, measured while the tour runs (the machine may be shared).`,
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
      ],
      figures: [
        {
          caption: "Median time of jacfwd and jacrev of sum(x) * ones(n), measured live.",
          svg: plotSvg({
            width: 900,
            height: 360,
            marginRight: 30,
            color: { legend: true },
            fx: {
              label: null,
              domain: [
                "varying number of outputs (10 inputs)",
                "varying number of inputs (10 outputs)",
              ],
            },
            x: { label: "size (outputs or inputs)", grid: true },
            y: { label: "time (ms)", grid: true },
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
