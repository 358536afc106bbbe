/**
 * Section 9 (seeds 003 and 004): dual numbers and the tape. Forward mode as
 * arithmetic on pairs a + b eps with eps^2 = 0 (a tiny Dual class written
 * here as the reference) against chainrule's jvp; reverse mode on the
 * slides' Var-graph example z = x*y + sin(x) at (0.5, 4.2) against the
 * hand derivation dz/dx = y + cos x, dz/dy = x, with the recorded program.
 * Live: the experiment is s09-dual-and-tape.live.js (editable in the live
 * page); this module turns its values into checks and figures.
 */
import { toDot, type Array } from "../../src/index.js";
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { METHOD_COLORS, Plot, colorScale, graphSvg, plotSvg } from "../lib/plot.js";
import {
  check,
  checkWorst,
  requireLiveSource,
  type Section,
  type SectionResult,
} from "../lib/types.js";

const live: LiveCode = {
  file: "s09-dual-and-tape.live.js",
  caption: "Dual numbers, jvp and grad (live: edit and run)",
  outputs: {
    squareJvp: "object",
    squareDual: "object",
    cubeJvp: "object",
    cubeDual: "object",
    xs: "object",
    sweep: "object",
    dualSweep: "object",
    z: "function",
    at: "object",
    dzdx: "number",
    dzdy: "number",
  },
};

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  squareJvp: [number, number];
  squareDual: { value: number; deriv: number };
  cubeJvp: [number, number];
  cubeDual: { value: number; deriv: number };
  xs: number[];
  sweep: [number, number][];
  dualSweep: number[];
  z: (x: Array, y: Array) => Array;
  at: [number, number];
  dzdx: number;
  dzdy: number;
}

export const dualAndTape: Section = {
  id: "dual-tape",
  title: "9. Dual numbers (forward) and the tape (reverse)",
  live,
  async run(opts, liveSource): Promise<SectionResult> {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const [sq, dsq] = v.squareJvp;
    const [cb, dcb] = v.cubeJvp;
    const { xs, dualSweep } = v;
    const adSweep = v.sweep.map(([, dy]) => dy);
    const rows = xs.flatMap((x, i) => [
      { x, y: v.sweep[i]![0], series: "x^3" },
      { x, y: adSweep[i]!, series: "d/dx x^3 by jvp" },
    ]);
    const dualRows = xs.map((x, i) => ({ x, y: dualSweep[i]!, series: "dual numbers" }));
    const [x0, y0] = v.at;
    const tape = await graphSvg(toDot(v.z, { backward: true, rankdir: "LR" })(x0, y0));
    return {
      id: this.id,
      title: this.title,
      explanation:
        "Forward mode is arithmetic on dual numbers a + b·eps with eps² = 0: multiplying " +
        "(3.1 + eps)(3.1 + eps) gives 9.61 + 6.2 eps, the value and the derivative at once. " +
        "chainrule's jvp does the same for every operation. Reverse mode records the operations " +
        "(the Wengert list or tape; the slides' graph of Var nodes) and replays them backwards, " +
        "accumulating adjoints: for z = x·y + sin(x) one backward pass gives dz/dx = y + cos x and " +
        "dz/dy = x together.",
      code: [{ caption: live.caption, source, live: true }],
      checks: [
        check("x^2 at 3.1: value by jvp", sq, v.squareDual.value, "dual number", 1e-14),
        check("x^2 at 3.1: derivative by jvp", dsq, v.squareDual.deriv, "dual number", 1e-14),
        check("x^3 at 2: value by jvp", cb, v.cubeDual.value, "dual number", 0),
        check("x^3 at 2: derivative by jvp", dcb, v.cubeDual.deriv, "dual number", 0),
        checkWorst("d/dx x^3 by jvp on the grid", adSweep, dualSweep, "dual numbers", 1e-15),
        check(
          `z = xy + sin x at (${x0}, ${y0}): dz/dx by grad`,
          v.dzdx,
          y0 + Math.cos(x0),
          "analytic y + cos x",
          1e-15,
        ),
        check(`dz/dy at (${x0}, ${y0}) by grad`, v.dzdy, x0, "analytic x", 0),
      ],
      figures: [
        {
          caption: "x^3 and its derivative by chainrule's jvp (line) and by the Dual class (dots).",
          svg: plotSvg({
            color: colorScale(
              ["x^3", "d/dx x^3 by jvp", "dual numbers"],
              [METHOD_COLORS.function, METHOD_COLORS.chainrule, METHOD_COLORS.dual],
            ),
            y: { grid: true, label: "value" },
            marks: [
              Plot.ruleY([0], { stroke: "#ccc" }),
              Plot.line(rows, { x: "x", y: "y", stroke: "series", strokeWidth: 2 }),
              Plot.dot(dualRows, { x: "x", y: "y", stroke: "series", r: 3 }),
            ],
          }),
        },
        {
          caption: `The tape of z = x*y + sin(x) at (${x0}, ${y0}): forward operations (yellow) and their adjoints (violet).`,
          svg: tape,
        },
      ],
    };
  },
};
