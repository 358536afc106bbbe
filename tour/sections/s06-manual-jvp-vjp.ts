/**
 * Section 6 (seed 002): the JVP/VJP walk-through of z = x1*x2 + x2, written
 * out by hand (one derivative rule per statement: forward propagates
 * tangents, reverse accumulates adjoints in the opposite order) next to
 * chainrule's jvp and vjp, plus the graph of the program grad runs. Live:
 * the experiment is s06-manual-jvp-vjp.live.js (editable in the live page).
 */
import { toDot, type Array } from "../../src/index.js";
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { METHOD_COLORS, Plot, colorScale, graphSvg, plotSvg } from "../lib/plot.js";
import { check, requireLiveSource, type Section, type SectionResult } from "../lib/types.js";

const live: LiveCode = {
  file: "s06-manual-jvp-vjp.live.js",
  caption: "The program, its JVP and VJP by hand, and chainrule's (live: edit and run)",
  outputs: {
    program: "function",
    manualJvp: "function",
    manualVjp: "function",
    at: "object",
    jvpAlongE1: "number",
    jvpAlongE2: "number",
    zByVjp: "object",
    vjpGrads: "object",
  },
};

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  program: (x1: Array, x2: Array) => Array;
  manualJvp: (x1: number, x2: number, dx1: number, dx2: number) => [number, number];
  manualVjp: (x1: number, x2: number, dz: number) => [number, [number, number]];
  at: [number, number];
  jvpAlongE1: number;
  jvpAlongE2: number;
  zByVjp: Array;
  vjpGrads: number[];
}

export const manualJvpVjp: Section = {
  id: "manual",
  title: "6. JVP and VJP by hand vs chainrule",
  live,
  async run(opts, liveSource): Promise<SectionResult> {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const [x1, x2] = v.at;
    const point = `(${x1}, ${x2})`;
    const rows: { quantity: string; value: number; source: string }[] = [];
    const checks = [];
    for (const [name, tangent, auto] of [
      ["dz/dx1 (jvp along e1)", [1, 0], v.jvpAlongE1],
      ["dz/dx2 (jvp along e2)", [0, 1], v.jvpAlongE2],
    ] as const) {
      const [, manual] = v.manualJvp(x1, x2, tangent[0], tangent[1]);
      rows.push({ quantity: name, value: manual, source: "by hand" });
      rows.push({ quantity: name, value: auto, source: "chainrule" });
      checks.push(check(`${name} at ${point}`, auto, manual, "hand-written JVP", 0));
    }
    const [zManual, grads] = v.manualVjp(x1, x2, 1);
    ["x1", "x2"].forEach((name, i) => {
      const label = `dz/d${name} (vjp with dz = 1)`;
      rows.push({ quantity: label, value: grads[i]!, source: "by hand" });
      rows.push({ quantity: label, value: v.vjpGrads[i]!, source: "chainrule" });
      checks.push(check(`${label} at ${point}`, v.vjpGrads[i]!, grads[i]!, "hand-written VJP", 0));
    });
    checks.push(check(`z${point}`, v.zByVjp.item(), zManual, "plain arithmetic", 0));
    const graph = await graphSvg(toDot(v.program, { backward: true, rankdir: "LR" })(x1, x2));
    return {
      id: this.id,
      title: this.title,
      explanation:
        "The seed writes the derivative of z = x1*x2 + x2 by hand twice: forward (each statement " +
        "propagates a tangent, one pass per input direction) and reverse (run forward, then each " +
        "statement, last first, hands its adjoint to its operands; one pass gives both partials). " +
        "chainrule's jvp and vjp apply the same per-operation rules automatically; the values agree " +
        "exactly: dz/dx1 = x2 = 4, dz/dx2 = x1 + 1 = 3.",
      code: [{ caption: live.caption, source, live: true }],
      checks,
      figures: [
        {
          caption: "The four derivatives, by hand and by chainrule (bars side by side).",
          svg: plotSvg({
            height: 300,
            marginLeft: 60,
            color: colorScale(
              ["by hand", "chainrule"],
              [METHOD_COLORS.exact, METHOD_COLORS.chainrule],
            ),
            fx: { label: null },
            x: { axis: null },
            y: { grid: true, label: "value" },
            marks: [
              Plot.barY(rows, { fx: "quantity", x: "source", y: "value", fill: "source" }),
              Plot.text(rows, { fx: "quantity", x: "source", y: "value", text: "value", dy: -8 }),
              Plot.ruleY([0]),
            ],
          }),
        },
        {
          caption:
            "The program of valueAndGrad(z) traced by chainrule (toDot with backward: true): yellow forward, violet backward.",
          svg: graph,
        },
      ],
    };
  },
};
