/**
 * Section 1 (seed 000): finite differences against automatic differentiation.
 * FD's forward quotient (f(x + eps) - f(x)) / eps has a truncation error
 * ~ eps |f''| / 2 and a rounding error ~ macheps |f| / eps, so its error
 * against the exact derivative is U-shaped in eps; AD has neither. Live: the
 * experiment is s01-finite-differences.live.js (editable in the live page);
 * this module turns its values into checks and figures.
 */
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { METHOD_COLORS, Plot, colorScale, maxAbsDiff, plotSvg, powerOfTen } from "../lib/plot.js";
import {
  check,
  checkWorst,
  requireLiveSource,
  type Section,
  type SectionResult,
} from "../lib/types.js";

const live: LiveCode = {
  file: "s01-finite-differences.live.js",
  caption: "Finite differences and vmap(grad) (live: edit and run)",
  outputs: {
    polyJs: "function",
    polyPrime: "function",
    oscJs: "function",
    oscPrime: "function",
    forwardDifference: "function",
    xsPoly: "object",
    adPoly: "object",
    xsOsc: "object",
    adOsc: "object",
    xsZoom: "object",
    adZoom: "object",
    epsList: "object",
    at: "object",
    adAtPoly: "number",
    adAtOsc: "number",
  },
};

type Fn = (x: number) => number;

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  polyJs: Fn;
  polyPrime: Fn;
  oscJs: Fn;
  oscPrime: Fn;
  forwardDifference: (f: Fn, x: number, eps: number) => number;
  xsPoly: number[];
  adPoly: number[];
  xsOsc: number[];
  adOsc: number[];
  xsZoom: number[];
  adZoom: number[];
  epsList: number[];
  at: { poly: number; osc: number };
  adAtPoly: number;
  adAtOsc: number;
}

export const finiteDifferences: Section = {
  id: "fd",
  title: "1. Finite differences vs automatic differentiation",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const { polyJs, polyPrime, oscJs, oscPrime, forwardDifference, at, adAtPoly, adAtOsc } = v;
    const { xsPoly, adPoly, xsOsc, adOsc, xsZoom, adZoom, epsList } = v;
    const rows1 = xsPoly.flatMap((x, i) => [
      { x, value: polyJs(x), series: "f(x)" },
      { x, value: adPoly[i]!, series: "f'(x) by AD" },
      { x, value: forwardDifference(polyJs, x, 1e-2), series: "f'(x) by FD, eps 1e-2" },
    ]);
    // The seed's 50-point grid on [-0.5, 0.5] samples sin(1000x) about once per 3 periods
    // (aliasing); the plot zooms to three periods with 40 points per period instead.
    const rows2 = xsZoom.flatMap((x, i) => [
      { x, value: adZoom[i]!, series: "f'(x) by AD" },
      { x, value: forwardDifference(oscJs, x, 1e-2), series: "FD, eps 1e-2" },
      { x, value: forwardDifference(oscJs, x, 1e-5), series: "FD, eps 1e-5" },
    ]);
    // The U-shaped curve: |FD - AD| against eps at one point per function.
    const uRows = epsList.flatMap((eps) => [
      {
        eps,
        error: Math.abs(forwardDifference(polyJs, at.poly, eps) - adAtPoly) || 1e-17,
        series: `x^3 + 4x^2 - 10 at ${at.poly}`,
      },
      {
        eps,
        error: Math.abs(forwardDifference(oscJs, at.osc, eps) - adAtOsc) / 1000 || 1e-17,
        series: `sin(1000x) at ${at.osc} (relative to 1000)`,
      },
    ]);
    const best = uRows
      .filter((r) => r.series.startsWith("x^3"))
      .reduce((a, b) => (b.error < a.error ? b : a));
    const fdOscErr = (eps: number) =>
      maxAbsDiff(
        xsOsc.map((x) => forwardDifference(oscJs, x, eps)),
        xsOsc.map(oscPrime),
      );
    const notes = [
      `sin(1000x): largest |FD - exact| on the grid is ${fdOscErr(1e-2).toFixed(1)} with eps = 1e-2 ` +
        `and ${fdOscErr(1e-5).toFixed(3)} with eps = 1e-5 (the derivative's scale is 1000).`,
      `x^3 + 4x^2 - 10 at x = ${at.poly}: the best forward difference (eps = ${best.eps.toExponential(1)}) ` +
        `is still off by ${best.error.toExponential(2)}; AD is exact to rounding.`,
    ];
    const lineDot = (data: object[], y: string) => [
      Plot.ruleY([0], { stroke: "#ccc" }),
      Plot.line(data, { x: "x", y, stroke: "series", strokeWidth: 1.5 }),
      Plot.dot(data, { x: "x", y, stroke: "series", r: 2 }),
    ];
    return {
      id: this.id,
      title: this.title,
      notes,
      explanation:
        "Finite differences need a hand-tuned step: eps = 1e-2 is fine for the smooth polynomial " +
        "but useless for sin(1000x), whose period is 0.006. Shrinking eps trades truncation error " +
        "(~eps) for rounding error (~1e-16/eps): the error against the exact derivative is U-shaped, " +
        "best near eps ~ 1e-8 and never better than ~1e-8 relative. Automatic differentiation gives " +
        "the derivative to rounding, with no step at all.",
      code: [{ caption: live.caption, source, live: true }],
      checks: [
        checkWorst(
          "x^3 + 4x^2 - 10: f'(x) by vmap(grad)",
          adPoly,
          xsPoly.map(polyPrime),
          "analytic 3x^2 + 8x",
          1e-14,
        ),
        checkWorst(
          "sin(1000x): f'(x) by vmap(grad)",
          adOsc,
          xsOsc.map(oscPrime),
          "analytic 1000 cos(1000x)",
          1e-12,
        ),
        check(
          "U-curve: log10 of the FD step closest to chainrule's derivative (polynomial at 1.3)",
          Math.log10(best.eps),
          -8,
          "theory: sqrt(machine eps)",
          1.6,
        ),
      ],
      figures: [
        {
          caption: "f(x) = x^3 + 4x^2 - 10: AD derivative and forward difference with eps = 1e-2.",
          svg: plotSvg({
            color: colorScale(
              ["f(x)", "f'(x) by AD", "f'(x) by FD, eps 1e-2"],
              [METHOD_COLORS.function, METHOD_COLORS.chainrule, METHOD_COLORS.finiteDifferences],
            ),
            y: { grid: true, label: "value" },
            marks: lineDot(rows1, "value"),
          }),
        },
        {
          caption:
            "f(x) = sin(1000x) over three periods (x in [0, 0.019]; the seed's 50 points on [-0.5, 0.5] alias): AD derivative (thick line), forward differences with eps = 1e-2 (thin line, wrong) and 1e-5 (dots, on the AD line).",
          svg: plotSvg({
            color: colorScale(
              ["f'(x) by AD", "FD, eps 1e-2", "FD, eps 1e-5"],
              [
                METHOD_COLORS.chainrule,
                METHOD_COLORS.finiteDifferences,
                METHOD_COLORS.finiteDifferencesFine,
              ],
            ),
            x: { label: "x", ticks: 5 },
            y: { grid: true, label: "f'(x)" },
            marks: [
              Plot.ruleY([0], { stroke: "#ccc" }),
              Plot.line(
                rows2.filter((r) => r.series === "f'(x) by AD"),
                { x: "x", y: "value", stroke: "series", strokeWidth: 5, strokeOpacity: 0.45 },
              ),
              Plot.line(
                rows2.filter((r) => r.series === "FD, eps 1e-2"),
                { x: "x", y: "value", stroke: "series", strokeWidth: 1.5 },
              ),
              Plot.dot(
                rows2.filter((r) => r.series === "FD, eps 1e-5").filter((_, i) => i % 3 === 0),
                { x: "x", y: "value", fill: "series", r: 2.2 },
              ),
            ],
          }),
        },
        {
          caption:
            "The U-shaped curve: error of the forward difference against the AD derivative as eps shrinks (log-log).",
          svg: plotSvg({
            color: colorScale(
              [`x^3 + 4x^2 - 10 at ${at.poly}`, `sin(1000x) at ${at.osc} (relative to 1000)`],
              [METHOD_COLORS.finiteDifferences, METHOD_COLORS.second],
            ),
            x: { type: "log", label: "eps", grid: true, tickFormat: powerOfTen },
            y: { type: "log", label: "|FD - AD|", grid: true, tickFormat: powerOfTen },
            marks: [
              Plot.line(uRows, { x: "eps", y: "error", stroke: "series" }),
              Plot.dot(uRows, { x: "eps", y: "error", stroke: "series", r: 2 }),
            ],
          }),
        },
      ],
    };
  },
};
