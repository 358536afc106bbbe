/**
 * Section 14 (seeds 000 and 002): pictures of programs. The expression tree
 * of x = x*x applied three times next to its DAG; seed 000's f1 (R -> R^3)
 * and f2 (R^3 -> R) with the programs forward and reverse mode run on them;
 * and seed 002's expression swell against common-subexpression elimination:
 * the expanded symbolic derivative of the iterated quadratic map, its CSE'd
 * form (a tiny CSE in tour/lib/expr.ts) and chainrule's derivative program
 * (emitSource), with their sizes.
 */
import { runInNewContext } from "node:vm";
import { emitSource, grad, graphSize, jvp, np, toDot, vjp, type Array } from "../../src/index.js";
import { codeRegion } from "../lib/code.js";
import * as E from "../lib/expr.js";
import { graphSvg } from "../lib/plot.js";
import { check, checkRel, type Section, type SectionResult } from "../lib/types.js";

/** DOT text of the expression tree of x*x applied `depth` times: every use drawn separately. */
function treeDot(depth: number): string {
  const lines = ["digraph tree {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=11];'];
  let id = 0;
  const build = (d: number): string => {
    const me = `n${id++}`;
    if (d === 0) {
      lines.push(`  ${me} [shape=ellipse, style=filled, fillcolor="#cfe8ff", label="x"];`);
      return me;
    }
    lines.push(`  ${me} [shape=box, style="rounded,filled", fillcolor="#fff3c4", label="mul"];`);
    const a = build(d - 1);
    const b = build(d - 1);
    lines.push(`  ${a} -> ${me};`, `  ${b} -> ${me};`);
    return me;
  };
  build(depth);
  lines.push("}");
  return lines.join("\n");
}

// #region programs
// Seed 000: x = x*x three times (x^8), and f1, f2.
const power8 = (x: Array) => {
  x = x.mul(x);
  x = x.mul(x);
  x = x.mul(x);
  return x;
};
const f1 = (x1: Array) => {
  x1 = x1.mul(x1);
  x1 = x1.mul(x1);
  return [x1, x1, x1];
};
const f2 = (x1: Array, x2: Array, x3: Array) => {
  x1 = x1.mul(x2).mul(x3);
  x1 = x1.mul(x1);
  return x1;
};
// Forward mode: one jvp gives all of f1's outputs; reverse mode needs one pullback per output.
const f1Forward = (x: Array) => jvp(f1, [x], [1])[1];
const f1Reverse = (x: Array) => {
  const [, pullback] = vjp(f1, x);
  return [0, 1, 2].map((i) => pullback([0, 1, 2].map((j) => (i === j ? 1 : 0)))[0]);
};
// For f2 it is the other way round: three jvps, or one pullback.
const f2Forward = (a: Array, b: Array, c: Array) =>
  [0, 1, 2].map(
    (i) =>
      jvp(
        f2,
        [a, b, c],
        [0, 1, 2].map((j) => (i === j ? 1 : 0)),
      )[1],
  );
const f2Reverse = (a: Array, b: Array, c: Array) => vjp(f2, a, b, c)[1](1) as Array[];
// #endregion

// #region swell
const quadmap = (x: Array) => x.mul(x).add(x.mul(3)).add(4);
const iterated = (n: number) => (x: Array) => {
  for (let i = 0; i < n; i++) x = quadmap(x);
  return x;
};
// chainrule's optimised derivative program, as JavaScript source:
const derivativeSource = (n: number) => emitSource(grad(iterated(n)))(0.3);
// #endregion

const symbolicQuadmap = (x: E.Expr) => E.add(E.add(E.pow(x, 2), E.mul(E.cst(3), x)), E.cst(4));

/** Runs a CSE'd form (its printed text is valid JavaScript) at x, in a fresh V8 context. */
function runCse(form: E.CseForm, x: number): number {
  const body = form.temps.map((t) => `const ${t.name} = ${t.text};`).join("\n");
  const fn = runInNewContext(`(x) => {\n${body}\nreturn ${form.result};\n}`) as (
    x: number,
  ) => number;
  return fn(x);
}

/** Runs emitSource's program (a function named compute) at x0. */
function runEmitted(source: string, x: number): number {
  const compute = runInNewContext(`${source}\ncompute;`) as (x0: number) => number[];
  return compute(x)[0]!;
}

const clip = (s: string, n: number) =>
  s.length <= n ? s : `${s.slice(0, n)} … (${s.length} characters in all)`;

export const graphsCse: Section = {
  id: "graphs-cse",
  title: "14. Trees, DAGs and common subexpressions",
  async run(): Promise<SectionResult> {
    const x0 = 0.3;
    const sizes = graphSize(power8)(1.1);
    const [treePic, dagPic] = await Promise.all([
      graphSvg(treeDot(3)),
      graphSvg(toDot(power8)(1.1)),
    ]);
    const pics = await Promise.all([
      graphSvg(toDot(f1Forward)(1.5)),
      graphSvg(toDot(f1Reverse)(1.5)),
      graphSvg(toDot(f2Forward)(1.5, 0.5, 2)),
      graphSvg(toDot(f2Reverse)(1.5, 0.5, 2)),
    ]);
    const opCount = {
      f1Forward: graphSize(f1Forward)(1.5).dagOperations,
      f1Reverse: graphSize(f1Reverse)(1.5).dagOperations,
      f2Forward: graphSize(f2Forward)(1.5, 0.5, 2).dagOperations,
      f2Reverse: graphSize(f2Reverse)(1.5, 0.5, 2).dagOperations,
    };
    const f1d = f1Reverse(np.array(1.5)).map((a) => a.item());
    const f1f = f1Forward(np.array(1.5)).map((a) => a.item());
    const f2r = f2Reverse(np.array(1.5), np.array(0.5), np.array(2)).map((a) => a.item());
    const f2f = f2Forward(np.array(1.5), np.array(0.5), np.array(2)).map((a) => a.item());
    const [a, b, c] = [1.5, 0.5, 2];
    const f2Exact = [2 * a * b * b * c * c, 2 * a * a * b * c * c, 2 * a * a * b * b * c];

    const swell = [4, 6].map((n) => {
      let s: E.Expr = E.X;
      for (let i = 0; i < n; i++) s = symbolicQuadmap(s);
      const d = E.diff(s);
      const expanded = E.toText(d);
      const form = E.cse(d);
      const source = derivativeSource(n);
      const ad = grad(iterated(n))(x0).item();
      return {
        n,
        expanded,
        form,
        formText: [
          ...form.temps.map((t) => `${t.name} = ${t.text}`),
          `result = ${form.result}`,
        ].join("\n"),
        source,
        sourceOps: Number(/(\d+) operations/.exec(source)?.[1] ?? NaN),
        treeOps: E.treeSize(d),
        ad,
        symbolic: E.evaluate(d, x0),
        cseValue: runCse(form, x0),
        emitted: runEmitted(source, x0),
      };
    });
    let six: E.Expr = E.X;
    for (let i = 0; i < 6; i++) six = symbolicQuadmap(six);
    const functionCse = E.cse(six);

    return {
      id: this.id,
      title: this.title,
      seed:
        'seed 000 "Automatic Differentiation" (AD for agent-based models), "Expression Representation" and ' +
        '"Forward and Reverse Mode Automatic Differentiation"; seed 002 "IML 2022 -- Tutorial on Automatic ' +
        'Differentiation", "Problems with Symbolic Differentiation" (sympy.cse)',
      explanation:
        "The expression tree of x = x*x applied three times repeats the first x*x four times and x eight " +
        "times; the program (the DAG) computes each once. Forward mode pushes one tangent through f1 " +
        "(R -> R^3) and gets all three outputs' derivatives, while reverse mode must run the backward " +
        "pass once per output; for f2 (R^3 -> R) it is the other way round. Symbolic differentiation " +
        "of the iterated quadratic map writes every shared subexpression out again (expression swell); " +
        "common-subexpression elimination recovers the structure the program had all along, and " +
        "chainrule's derivative program (emitSource) has it by construction.",
      notes: [
        `x*x three times: expression tree ${sizes.treeOperations} operations, DAG ${sizes.dagOperations}.`,
        `Operations in the traced derivative programs: f1 forward ${opCount.f1Forward}, f1 reverse ` +
          `${opCount.f1Reverse}; f2 forward ${opCount.f2Forward}, f2 reverse ${opCount.f2Reverse}.`,
        ...swell.map(
          (s) =>
            `quadmap ${s.n} times, derivative: expanded formula ${s.expanded.length} characters ` +
            `(${s.treeOps} nodes as a tree); CSE'd ${s.formText.length} characters, ${s.form.operations} ` +
            `operations; chainrule's program ${s.sourceOps} operations.`,
        ),
        "tour/lib/expr.ts's differentiator does not distribute numbers over sums as sympy does " +
          "(sympy prints 81*(x**2 + 3*x + 4)**2 + 243*x**2 + ...), so the printed formulas differ in " +
          "form, not in value or growth.",
      ],
      code: [
        { caption: "The programs drawn below", source: codeRegion(import.meta.url, "programs") },
        {
          caption: "The iterated map and its derivative program",
          source: codeRegion(import.meta.url, "swell"),
        },
        ...swell.flatMap((s) => [
          {
            caption: `Derivative of quadmap applied ${s.n} times, expanded (symbolic)`,
            source: clip(s.expanded, 700),
            wrap: true,
          },
          { caption: `… after common-subexpression elimination`, source: s.formText },
          { caption: `… chainrule's emitSource(grad(f))(0.3)`, source: s.source, folded: true },
        ]),
      ],
      seedValues: [
        {
          what: "sympy.cse(quad_6_times) (the function, seed 002)",
          seed:
            "x0 = x**2, x1 = (3*x + x0 + 4)**2, x2 = (9*x + 3*x0 + x1 + 16)**2, x3 = ..., x4 = ...; " +
            "result 729*x + 243*x0 + ... (5 temporaries)",
          chainrule: [
            ...functionCse.temps.map((t) => `${t.name} = ${t.text}`),
            functionCse.result,
          ].join("; "),
          note: "same 5 temporaries up to sympy's expansion of the coefficients",
        },
      ],
      checks: [
        check("x^8 program: DAG operations", sizes.dagOperations, 3, "count of x = x*x lines", 0),
        check(
          "x^8 expression tree operations",
          sizes.treeOperations,
          7,
          "1 + 2 + 4 multiplications",
          0,
        ),
        ...f1f.map((v, i) =>
          checkRel(`f1 forward: d(output ${i})/dx at 1.5`, v, 4 * 1.5 ** 3, "analytic 4x³", 1e-15),
        ),
        ...f1d.map((v, i) =>
          checkRel(`f1 reverse: d(output ${i})/dx at 1.5`, v, 4 * 1.5 ** 3, "analytic 4x³", 1e-15),
        ),
        ...f2r.map((v, i) =>
          checkRel(`f2 reverse: df2/dx${i + 1}`, v, f2Exact[i]!, "analytic", 1e-15),
        ),
        ...f2f.map((v, i) =>
          checkRel(`f2 forward: df2/dx${i + 1}`, v, f2Exact[i]!, "analytic", 1e-15),
        ),
        ...swell.flatMap((s) => [
          checkRel(
            `quadmap ×${s.n}: expanded symbolic derivative at 0.3`,
            s.symbolic,
            s.ad,
            "grad",
            1e-12,
          ),
          checkRel(
            `quadmap ×${s.n}: CSE'd form (run as JS) at 0.3`,
            s.cseValue,
            s.ad,
            "grad",
            1e-12,
          ),
          checkRel(`quadmap ×${s.n}: emitSource program at 0.3`, s.emitted, s.ad, "grad", 1e-12),
        ]),
      ],
      figures: [
        {
          caption:
            "Expression tree of x = x*x three times: every use drawn again (7 multiplications, 8 x's).",
          svg: treePic,
        },
        {
          caption:
            "The same program as a DAG (chainrule's traced graph): 3 multiplications, one x.",
          svg: dagPic,
        },
        { caption: `f1 by forward mode: one jvp, ${opCount.f1Forward} operations.`, svg: pics[0] },
        {
          caption: `f1 by reverse mode: three pullbacks, ${opCount.f1Reverse} operations.`,
          svg: pics[1],
        },
        {
          caption: `f2 by forward mode: three jvps, ${opCount.f2Forward} operations.`,
          svg: pics[2],
        },
        {
          caption: `f2 by reverse mode: one pullback, ${opCount.f2Reverse} operations.`,
          svg: pics[3],
        },
      ],
    };
  },
};
