/**
 * Section 4 (seeds 002 and 004): derivatives of derivatives. f(x) = x^3 and
 * f', f'', f''' on a grid, each by vmap of nested grad, against 3x^2, 6x, 6.
 */
import { grad, np, vmap, type Array } from "../../src/index.js";
import { METHOD_COLORS, Plot, colorScale, numbers, grid, plotSvg } from "../lib/plot.js";
import { checkWorst, type Section, type SectionResult } from "../lib/types.js";

const cube = (x: Array) => np.power(x, 3);

export const higher: Section = {
  id: "higher",
  title: "4. Higher derivatives: vmap of nested grad",
  run(opts): SectionResult {
    const xs = grid(-2, 2, opts.quick ? 21 : 81);
    const x = np.array(xs);
    const fns: [string, (x: Array) => Array, (x: number) => number][] = [
      ["f = x^3", cube, (v) => v ** 3],
      ["f' = grad f", grad(cube), (v) => 3 * v * v],
      ["f'' = grad(grad f)", grad(grad(cube)), (v) => 6 * v],
      ["f''' = grad(grad(grad f))", grad(grad(grad(cube))), () => 6],
    ];
    const rows: { x: number; y: number; series: string }[] = [];
    const checks = fns.slice(1).map(([name, fn, exact]) => {
      const values = numbers((vmap(fn) as (x: Array) => Array)(x));
      values.forEach((y, i) => rows.push({ x: xs[i]!, y, series: name }));
      return checkWorst(`${name} by vmap`, values, xs.map(exact), "analytic", 1e-14);
    });
    xs.forEach((v) => rows.push({ x: v, y: v ** 3, series: "f = x^3" }));
    return {
      id: this.id,
      title: this.title,
      explanation:
        "grad returns an ordinary function, so it can be differentiated again; vmap maps the scalar " +
        "derivative over a whole grid without a loop. Three nested grads of x^3 give 3x^2, 6x and the " +
        "constant 6, exactly.",
      checks,
      figures: [
        {
          caption:
            "x^3 and its first three derivatives, each computed by vmap(grad(...)) on the grid.",
          svg: plotSvg({
            color: colorScale(
              fns.map(([name]) => name),
              [
                METHOD_COLORS.function,
                METHOD_COLORS.chainrule,
                METHOD_COLORS.second,
                METHOD_COLORS.dual,
              ],
            ),
            y: { grid: true, label: "value" },
            marks: [
              Plot.ruleY([0], { stroke: "#ccc" }),
              Plot.line(rows, { x: "x", y: "y", stroke: "series", strokeWidth: 2 }),
            ],
          }),
        },
      ],
    };
  },
};
