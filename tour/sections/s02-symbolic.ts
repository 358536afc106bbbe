/**
 * Section 2 (seeds 000 and 002): expression swell. Iterating a quadratic map
 * and differentiating the resulting formula symbolically makes a derivative
 * expression that grows exponentially with the number of iterations, while
 * the AD program of the derivative grows linearly; the same holds for the
 * expression tree vs the DAG of x = x*x repeated.
 */
import { grad, graphSize, makeJaxpr, np, type Array } from "../../src/index.js";
import * as E from "../lib/expr.js";
import { METHOD_COLORS, Plot, colorScale, plotSvg, powerOfTen } from "../lib/plot.js";
import { check, checkRel, type Section, type SectionResult } from "../lib/types.js";

interface QuadMap {
  name: string;
  /** The map on arrays (for chainrule). */
  ad: (x: Array) => Array;
  /** The same map on symbolic expressions. */
  sym: (x: E.Expr) => E.Expr;
}

const MAPS: QuadMap[] = [
  {
    name: "3x^2 - x + 1",
    ad: (x) => np.add(np.subtract(np.multiply(3, np.square(x)), x), 1),
    sym: (x) => E.add(E.sub(E.mul(E.cst(3), E.pow(x, 2)), x), E.cst(1)),
  },
  {
    name: "quadmap x^2 + 3x + 4",
    ad: (x) => np.add(np.add(np.square(x), np.multiply(3, x)), 4),
    sym: (x) => E.add(E.add(E.pow(x, 2), E.mul(E.cst(3), x)), E.cst(4)),
  },
];

const iterate =
  <T>(step: (x: T) => T, n: number) =>
  (x: T): T => {
    for (let i = 0; i < n; i++) x = step(x);
    return x;
  };

export const symbolic: Section = {
  id: "symbolic",
  title: "2. Symbolic differentiation vs AD: expression swell",
  run(opts): SectionResult {
    const maxIter = opts.quick ? 6 : 8;
    const x0 = 0.3;
    const rows: { iterations: number; size: number; series: string }[] = [];
    const checks = [];
    for (const m of MAPS) {
      for (let n = 1; n <= maxIter; n++) {
        const expr = iterate(m.sym, n)(E.X);
        const derivative = E.diff(expr);
        const adProgram = makeJaxpr(grad(iterate(m.ad, n)))(x0);
        rows.push({
          iterations: n,
          size: E.treeSize(derivative),
          series: `${m.name}: symbolic f'`,
        });
        rows.push({
          iterations: n,
          size: adProgram.eqns.length,
          series: `${m.name}: AD program of grad f`,
        });
        if (n === maxIter) {
          const adValue = (grad(iterate(m.ad, n)) as (x: number) => Array)(x0).item();
          checks.push(
            checkRel(
              `${m.name} iterated ${n}x: f'(${x0}) by grad vs evaluating the symbolic derivative`,
              adValue,
              E.evaluate(derivative, x0),
              "symbolic derivative",
              1e-12,
            ),
          );
        }
      }
    }
    // Tree vs DAG: x = x*x repeated k times computes x^(2^k).
    const kMax = opts.quick ? 10 : 16;
    const treeRows: { k: number; count: number; series: string }[] = [];
    let lastCounts = { dag: 0, tree: 0 };
    for (let k = 1; k <= kMax; k++) {
      const squareK = iterate((x: Array) => np.multiply(x, x), k);
      const size = graphSize(squareK)(1.0001);
      treeRows.push({ k, count: size.dagOperations, series: "DAG (computational graph)" });
      treeRows.push({ k, count: size.treeOperations, series: "expression tree" });
      lastCounts = { dag: size.dagOperations, tree: size.treeOperations };
    }
    checks.push(
      check(
        `x*x squared ${kMax} times: tree operations`,
        lastCounts.tree,
        2 ** kMax - 1,
        "2^k - 1",
        0,
      ),
      check(`x*x squared ${kMax} times: DAG operations`, lastCounts.dag, kMax, "k", 0),
    );
    const last = (series: string) => rows.filter((r) => r.series === series).at(-1)!.size;
    return {
      id: this.id,
      title: this.title,
      explanation:
        "Differentiating the formula of an iterated map by the sum, product and power rules, as a " +
        "computer-algebra system does, repeats every shared subexpression: the derivative's size " +
        "grows exponentially with the number of iterations. The program that chainrule's grad runs " +
        "keeps each intermediate value once (a DAG), so it grows linearly. The same gap separates the " +
        "expression tree of x = x*x repeated k times (2^k - 1 multiplications) from its graph (k).",
      notes: MAPS.map(
        (m) =>
          `${m.name} iterated ${maxIter} times: symbolic derivative ${last(`${m.name}: symbolic f'`)} nodes, ` +
          `AD program ${last(`${m.name}: AD program of grad f`)} operations`,
      ),
      checks,
      figures: [
        {
          caption:
            "Size of the derivative: symbolic expression (nodes, violet) vs chainrule's grad program (operations, blue); the two maps' AD programs grow alike, so their blue lines nearly coincide.",
          svg: plotSvg({
            color: colorScale(
              [...new Set(rows.map((r) => r.series))],
              [...new Set(rows.map((r) => r.series))].map((name) =>
                name.includes("symbolic")
                  ? name.startsWith("quadmap")
                    ? "#c39bd3"
                    : METHOD_COLORS.symbolic
                  : name.startsWith("quadmap")
                    ? "#8fb3ee"
                    : METHOD_COLORS.chainrule,
              ),
            ),
            x: { label: "iterations of the map", ticks: maxIter },
            y: { type: "log", label: "size", grid: true, tickFormat: powerOfTen },
            marks: [
              Plot.line(rows, { x: "iterations", y: "size", stroke: "series" }),
              Plot.dot(rows, {
                x: "iterations",
                y: "size",
                stroke: "series",
                fill: "series",
                r: 3,
              }),
            ],
          }),
        },
        {
          caption:
            "x = x*x repeated k times: operations in the expression tree vs in the DAG (graphSize).",
          svg: plotSvg({
            color: colorScale(
              ["DAG (computational graph)", "expression tree"],
              [METHOD_COLORS.chainrule, METHOD_COLORS.symbolic],
            ),
            x: { label: "k" },
            y: { type: "log", label: "operations", grid: true, tickFormat: powerOfTen },
            marks: [
              Plot.line(treeRows, { x: "k", y: "count", stroke: "series" }),
              Plot.dot(treeRows, { x: "k", y: "count", fill: "series", r: 3 }),
            ],
          }),
        },
      ],
    };
  },
};
