/**
 * Section 2 (seeds 000 and 002): expression swell. Iterating a quadratic map
 * and differentiating the resulting formula symbolically makes a derivative
 * expression that grows exponentially with the number of iterations, while
 * the AD program of the derivative grows linearly; the same holds for the
 * expression tree vs the DAG of x = x*x repeated. Live: the maps and sizes
 * are s02-symbolic.live.js, each map written once against numpy's names and
 * run both on arrays (np) and on formulas (SYMBOLIC_OPS below, the tour's
 * symbolic differentiator in tour/lib/expr.ts).
 */
import { grad, graphSize, makeJaxpr, np, type Array } from "../../src/index.js";
import * as E from "../lib/expr.js";
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { METHOD_COLORS, Plot, colorScale, plotSvg, powerOfTen } from "../lib/plot.js";
import {
  check,
  checkRel,
  requireLiveSource,
  type Section,
  type SectionResult,
} from "../lib/types.js";

const live: LiveCode = {
  file: "s02-symbolic.live.js",
  caption:
    "The maps (written once for np and for the symbolic differentiator) and the sizes swept (live: edit and run)",
  outputs: {
    maps: "object",
    maxIter: "number",
    x0: "number",
    repeatSquare: "function",
    kMax: "number",
  },
};

/** The five numpy names a map may use, on arrays (np) or on formulas (SYMBOLIC_OPS). */
interface Ops<T> {
  add(a: T | number, b: T | number): T;
  subtract(a: T | number, b: T | number): T;
  multiply(a: T | number, b: T | number): T;
  square(a: T | number): T;
  power(a: T | number, n: number): T;
}

const lift = (a: E.Expr | number): E.Expr => (typeof a === "number" ? E.cst(a) : a);

/** np's names on formulas: the tour's symbolic differentiator's constructors (tour/lib/expr.ts). */
const SYMBOLIC_OPS: Ops<E.Expr> = {
  add: (a, b) => E.add(lift(a), lift(b)),
  subtract: (a, b) => E.sub(lift(a), lift(b)),
  multiply: (a, b) => E.mul(lift(a), lift(b)),
  square: (a) => E.pow(lift(a), 2),
  power: (a, n) => E.pow(lift(a), n),
};

/** A map as the live code writes it: one function of x and a namespace. */
interface LiveMap {
  name: string;
  f: <T>(x: T, ops: Ops<T>) => T;
}

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  maps: LiveMap[];
  maxIter: number;
  x0: number;
  repeatSquare: (k: number) => (x: Array) => Array;
  kMax: number;
}

interface QuadMap {
  name: string;
  /** The map on arrays (for chainrule). */
  ad: (x: Array) => Array;
  /** The same map on symbolic expressions. */
  sym: (x: E.Expr) => E.Expr;
}

const iterate =
  <T>(step: (x: T) => T, n: number) =>
  (x: T): T => {
    for (let i = 0; i < n; i++) x = step(x);
    return x;
  };

export const symbolic: Section = {
  id: "symbolic",
  title: "2. Symbolic differentiation vs AD: expression swell",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const { maxIter, x0, kMax } = v;
    const MAPS: QuadMap[] = v.maps.map((m) => ({
      name: m.name,
      ad: (x) => m.f<Array>(x, np),
      sym: (x) => m.f(x, SYMBOLIC_OPS),
    }));
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
    const treeRows: { k: number; count: number; series: string }[] = [];
    let lastCounts = { dag: 0, tree: 0 };
    for (let k = 1; k <= kMax; k++) {
      const squareK = v.repeatSquare(k);
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
      code: [{ caption: live.caption, source, live: true }],
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
