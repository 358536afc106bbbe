/**
 * Section 9 (seeds 003 and 004): dual numbers and the tape. Forward mode as
 * arithmetic on pairs a + b eps with eps^2 = 0 (a tiny Dual class written
 * here as the reference) against chainrule's jvp; reverse mode on the
 * slides' Var-graph example z = x*y + sin(x) at (0.5, 4.2) against the
 * hand derivation dz/dx = y + cos x, dz/dy = x, with the recorded program.
 */
import { grad, jvp, np, toDot, type Array } from "../../src/index.js";
import { METHOD_COLORS, Plot, colorScale, graphSvg, grid, plotSvg } from "../lib/plot.js";
import { check, checkWorst, type Section, type SectionResult } from "../lib/types.js";

/** A dual number a + b eps (eps^2 = 0): the value and the derivative travel together. */
class Dual {
  constructor(
    readonly value: number,
    readonly deriv: number,
  ) {}
  mul(o: Dual): Dual {
    // (a + b eps)(c + d eps) = ac + (ad + bc) eps
    return new Dual(this.value * o.value, this.value * o.deriv + this.deriv * o.value);
  }
}
const variable = (x: number) => new Dual(x, 1);

const jvpAt = (f: (x: Array) => Array, x: number): [number, number] => {
  const [y, dy] = jvp(f, [x], [1]);
  return [y.item(), dy.item()];
};

export const dualAndTape: Section = {
  id: "dual-tape",
  title: "9. Dual numbers (forward) and the tape (reverse)",
  async run(opts): Promise<SectionResult> {
    const square = (x: Array) => np.multiply(x, x);
    const cube = (x: Array) => np.multiply(np.multiply(x, x), x);
    const [sq, dsq] = jvpAt(square, 3.1);
    const dualSq = variable(3.1).mul(variable(3.1));
    const [cb, dcb] = jvpAt(cube, 2);
    const dualCb = variable(2).mul(variable(2)).mul(variable(2));
    // A sweep: derivative of x^3 by jvp and by dual numbers on a grid.
    const xs = grid(-2, 2, opts.quick ? 17 : 41);
    const adSweep = xs.map((x) => jvpAt(cube, x)[1]);
    const dualSweep = xs.map((x) => variable(x).mul(variable(x)).mul(variable(x)).deriv);
    const rows = xs.flatMap((x, i) => [
      { x, y: x ** 3, series: "x^3" },
      { x, y: adSweep[i]!, series: "d/dx x^3 by jvp" },
    ]);
    const dualRows = xs.map((x, i) => ({ x, y: dualSweep[i]!, series: "dual numbers" }));

    // Reverse mode on the Var-graph example.
    const z = (x: Array, y: Array) => np.add(np.multiply(x, y), np.sin(x));
    const [gx, gy] = grad(z, { argnums: [0, 1] })(0.5, 4.2);
    const tape = await graphSvg(toDot(z, { backward: true, rankdir: "LR" })(0.5, 4.2));
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
      checks: [
        check("x^2 at 3.1: value by jvp", sq, dualSq.value, "dual number", 1e-14),
        check("x^2 at 3.1: derivative by jvp", dsq, dualSq.deriv, "dual number (6.2)", 1e-14),
        check("x^3 at 2: value by jvp", cb, dualCb.value, "dual number", 0),
        check("x^3 at 2: derivative by jvp", dcb, dualCb.deriv, "dual number (12)", 0),
        checkWorst("d/dx x^3 by jvp on the grid", adSweep, dualSweep, "dual numbers", 1e-15),
        check(
          "z = xy + sin x at (0.5, 4.2): dz/dx by grad",
          gx.item(),
          4.2 + Math.cos(0.5),
          "analytic y + cos x",
          1e-15,
        ),
        check("dz/dy by grad", gy.item(), 0.5, "analytic x", 0),
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
          caption:
            "The tape of z = x*y + sin(x) at (0.5, 4.2): forward operations (yellow) and their adjoints (violet).",
          svg: tape,
        },
      ],
    };
  },
};
