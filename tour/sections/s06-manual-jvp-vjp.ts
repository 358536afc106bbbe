/**
 * Section 6 (seed 002): the JVP/VJP walk-through of z = x1*x2 + x2, written
 * out by hand (one derivative rule per statement: forward propagates
 * tangents, reverse accumulates adjoints in the opposite order) next to
 * chainrule's jvp and vjp, plus the graph of the program grad runs.
 */
import { jvp, np, toDot, vjp, type Array } from "../../src/index.js";
import { METHOD_COLORS, Plot, colorScale, graphSvg, plotSvg } from "../lib/plot.js";
import { check, type Section, type SectionResult } from "../lib/types.js";

// The program: y = x1 * x2; z = y + x2.
const program = (x1: Array, x2: Array) => np.add(np.multiply(x1, x2), x2);

/** Forward mode by hand: each statement carries its tangent. */
function manualJvp(x1: number, x2: number, dx1: number, dx2: number): [number, number] {
  const y = x1 * x2;
  const dy = x1 * dx2 + x2 * dx1; // product rule
  const z = y + x2;
  const dz = dy + dx2; // sum rule
  return [z, dz];
}

/** Reverse mode by hand: run forward, then accumulate adjoints statement by statement backwards. */
function manualVjp(x1: number, x2: number, dz: number): [number, [number, number]] {
  const y = x1 * x2;
  const z = y + x2;
  let gx1 = 0;
  let gx2 = 0;
  // z = y + x2: both operands receive dz
  const gy = dz;
  gx2 += dz;
  // y = x1 * x2: each factor receives gy times the other
  gx1 += gy * x2;
  gx2 += gy * x1;
  return [z, [gx1, gx2]];
}

export const manualJvpVjp: Section = {
  id: "manual",
  title: "6. JVP and VJP by hand vs chainrule",
  async run(): Promise<SectionResult> {
    const [x1, x2] = [2, 4];
    const rows: { quantity: string; value: number; source: string }[] = [];
    const checks = [];
    for (const [name, tangent] of [
      ["dz/dx1 (jvp along e1)", [1, 0]],
      ["dz/dx2 (jvp along e2)", [0, 1]],
    ] as const) {
      const [, manual] = manualJvp(x1, x2, tangent[0], tangent[1]);
      const [, auto] = jvp(program, [x1, x2], [tangent[0], tangent[1]]);
      rows.push({ quantity: name, value: manual, source: "by hand" });
      rows.push({ quantity: name, value: auto.item(), source: "chainrule" });
      checks.push(check(`${name} at (2, 4)`, auto.item(), manual, "hand-written JVP", 0));
    }
    const [zAuto, pullback] = vjp(program, x1, x2) as [Array, (ct: number) => Array[]];
    const [zManual, grads] = manualVjp(x1, x2, 1);
    const auto = pullback(1).map((g) => g.item());
    ["x1", "x2"].forEach((v, i) => {
      const name = `dz/d${v} (vjp with dz = 1)`;
      rows.push({ quantity: name, value: grads[i]!, source: "by hand" });
      rows.push({ quantity: name, value: auto[i]!, source: "chainrule" });
      checks.push(check(`${name} at (2, 4)`, auto[i]!, grads[i]!, "hand-written VJP", 0));
    });
    checks.push(check("z(2, 4)", zAuto.item(), zManual, "plain arithmetic", 0));
    const graph = await graphSvg(toDot(program, { backward: true, rankdir: "LR" })(x1, x2));
    return {
      id: this.id,
      title: this.title,
      explanation:
        "The seed writes the derivative of z = x1*x2 + x2 by hand twice: forward (each statement " +
        "propagates a tangent, one pass per input direction) and reverse (run forward, then each " +
        "statement, last first, hands its adjoint to its operands; one pass gives both partials). " +
        "chainrule's jvp and vjp apply the same per-operation rules automatically; the values agree " +
        "exactly: dz/dx1 = x2 = 4, dz/dx2 = x1 + 1 = 3.",
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
