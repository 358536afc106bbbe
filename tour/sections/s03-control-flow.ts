/**
 * Section 3 (seed 000): control flow. f(x) = x^3 for x < 2, 3x otherwise,
 * written with an ordinary `if`; a symbolic system cannot differentiate it,
 * chainrule differentiates the branch taken. First and second derivatives
 * by grad and grad(grad), against central finite differences. Live: the
 * experiment is s03-control-flow.live.js (editable in the live page); this
 * module adds the finite-difference references, the checks and the figure.
 */
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { METHOD_COLORS, Plot, colorScale, plotSvg } from "../lib/plot.js";
import { checkWorst, requireLiveSource, type Section, type SectionResult } from "../lib/types.js";

const live: LiveCode = {
  file: "s03-control-flow.live.js",
  caption: "The piecewise function and its derivatives (live: edit and run)",
  outputs: {
    piecewiseJs: "function",
    secondByHand: "function",
    kink: "number",
    xs: "object",
    ad1: "object",
    ad2: "object",
  },
};

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  piecewiseJs: (x: number) => number;
  secondByHand: (x: number) => number;
  kink: number;
  xs: number[];
  ad1: number[];
  ad2: number[];
}

/** Central difference (f(x + h) - f(x - h)) / 2h, error O(h^2). */
const central = (f: (x: number) => number, x: number, h: number) => (f(x + h) - f(x - h)) / (2 * h);

export const controlFlow: Section = {
  id: "control-flow",
  title: "3. Control flow: a piecewise function",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const { piecewiseJs, secondByHand, kink, xs, ad1, ad2 } = runLiveCode(
      this.id,
      live,
      source,
      opts.quick,
    ) as unknown as Values;
    // References: FD of f (step 1e-5), and FD of the FD derivative (step 1e-4) for f''.
    // Points within a step of the kink are excluded from the FD comparison.
    const safe = xs.map((x) => Math.abs(x - kink) > 2e-3);
    const fd1 = xs.map((x) => central(piecewiseJs, x, 1e-5));
    const fd2 = xs.map((x) => central((y) => central(piecewiseJs, y, 1e-4), x, 1e-4));
    const pick = <T>(a: T[]) => a.filter((_, i) => safe[i]);
    const rows = xs.flatMap((x, i) => [
      { x, y: piecewiseJs(x), series: "f", kind: "AD" },
      { x, y: ad1[i]!, series: "f' (grad)", kind: "AD" },
      { x, y: ad2[i]!, series: "f'' (grad of grad)", kind: "AD" },
    ]);
    const fdRows = xs.flatMap((x, i) => [
      { x, y: fd1[i]!, series: "finite differences" },
      { x, y: fd2[i]!, series: "finite differences" },
    ]);
    return {
      id: this.id,
      title: this.title,
      explanation:
        "The function is an ordinary TypeScript `if` on the value of x. Symbolic differentiation " +
        "has no formula for it; automatic differentiation follows the branch the program takes, so " +
        "grad gives 3x^2 (then 6x) left of 2 and 3 (then 0) right of it: correct everywhere except " +
        "at the kink x = 2 itself, where no derivative exists. Lines: chainrule; circles: central " +
        "finite differences.",
      code: [{ caption: live.caption, source, live: true }],
      checks: [
        checkWorst("f'(x) by grad", pick(ad1), pick(fd1), "central FD, h = 1e-5", 1e-7),
        checkWorst(
          "f''(x) by grad(grad)",
          pick(ad2),
          pick(fd2),
          "nested central FD, h = 1e-4",
          1e-4,
        ),
        checkWorst(
          "f''(x) by grad(grad) vs the hand-derived f''",
          ad2,
          xs.map(secondByHand),
          "analytic (6x, then 0)",
          1e-14,
        ),
      ],
      figures: [
        {
          caption:
            "f, f' and f'' of the piecewise function: chainrule (lines) vs finite differences (orange circles, every other grid point).",
          svg: plotSvg({
            color: colorScale(
              ["f", "f' (grad)", "f'' (grad of grad)", "finite differences"],
              [
                METHOD_COLORS.function,
                METHOD_COLORS.chainrule,
                METHOD_COLORS.second,
                METHOD_COLORS.finiteDifferences,
              ],
            ),
            y: { grid: true, label: "value" },
            marks: [
              Plot.ruleX([kink], { stroke: "#bbb", strokeDasharray: "4,3" }),
              Plot.line(rows, {
                x: "x",
                y: "y",
                stroke: "series",
                z: (d: { x: number; series: string }) => `${d.series}${d.x < kink ? "L" : "R"}`,
              }),
              Plot.dot(
                fdRows.filter((_, i) => i % 4 < 2),
                { x: "x", y: "y", stroke: "series", r: 2.5 },
              ),
            ],
          }),
        },
      ],
    };
  },
};
