/**
 * Graph pictures, graph sizes (tree vs DAG, expression swell) and emitted
 * standalone derivative source.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  emitSource,
  grad,
  graphSize,
  np,
  renderSvg,
  toDot,
  valueAndGrad,
} from "../src/index.js";
import { registeredPrimitives } from "../src/core/primitive.js";
import type { JaxprEqn } from "../src/ir/jaxpr.js";
import { helperSource } from "../src/jit/emitSource.js";
import { expectAllClose } from "./helpers.js";

/** Runs emitted source (it defines `function compute`) and returns compute. */
function load(source: string): (...args: unknown[]) => number[] {
  // Evaluating the emitted standalone source is what this test is about.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function(`${source}\nreturn compute;`)() as (...args: unknown[]) => number[];
}

describe("tree vs DAG (seed 000)", () => {
  it("x = x*x three times: 3 multiplications in the DAG, 8 leaves in the tree", () => {
    const f = (x: NdArray) => {
      x = np.multiply(x, x);
      x = np.multiply(x, x);
      x = np.multiply(x, x);
      return x;
    };
    expect(graphSize(f)(2)).toEqual({ dagOperations: 3, treeOperations: 7, treeLeaves: 8 });
  });

  it("expression swell: the AD program of the iterated quadmap grows linearly, the expanded derivative much faster", () => {
    // quadmap(x) = x^2 + 3x + 4, iterated k times
    const iterated = (k: number) => (x: NdArray) => {
      for (let i = 0; i < k; i++) x = np.add(np.add(np.square(x), np.multiply(3, x)), 4);
      return x;
    };
    const dag: number[] = [];
    const tree: number[] = [];
    for (let k = 1; k <= 20; k++) {
      const size = graphSize(grad(iterated(k)))(0.1);
      dag.push(size.dagOperations);
      tree.push(size.treeOperations);
    }
    // Linear: constant increments after the first few iterations.
    const steps = dag.slice(1).map((d, i) => d - dag[i]!);
    expect(new Set(steps.slice(2)).size).toBe(1);
    // The expanded tree at least doubles per iteration from some k on (exponential growth).
    for (let k = 5; k < 20; k++) expect(tree[k]! / tree[k - 1]!).toBeGreaterThan(1.9);
    expect(tree[19]! / dag[19]!).toBeGreaterThan(1e4);
  });
});

describe("toDot and renderSvg", () => {
  const f = (x: NdArray, y: NdArray) =>
    np.add(np.add(np.square(x), np.multiply(4, y)), np.square(np.cos(x)));

  it("draws one node per operation with its shape, and the inputs and outputs", () => {
    const dot = toDot(f)(2.0, 1.5);
    expect(dot.startsWith("digraph")).toBe(true);
    const ops = dot.match(/shape=box/g)?.length;
    // square = mul(x, x): mul, mul(4, y), add, cos, mul, add
    expect(ops).toBe(6);
    expect(dot).toContain('label="cos\\nf64[]"');
    expect(dot.match(/shape=ellipse/g)?.length).toBe(2);
    expect(dot.match(/doubleoctagon/g)?.length).toBe(1);
  });

  it("with backward: true, shades the gradient's operations and adds gradient outputs", () => {
    const dot = toDot(f, { backward: true })(2.0, 1.5);
    expect(dot.match(/label="gradient \d/g)?.length).toBe(2);
    expect(dot).toContain("#e3d7ff");
  });

  it("renders SVG through @viz-js/viz", async () => {
    const svg = await renderSvg(toDot(f)(2.0, 1.5));
    expect(svg).toContain("<svg");
    expect(svg).toContain(">cos</text>");
  });
});

describe("emitSource", () => {
  it("emits standalone source of valueAndGrad that computes the same numbers", () => {
    const f = (x: NdArray, y: NdArray) =>
      np.add(np.add(np.square(x), np.multiply(4, y)), np.square(np.cos(x)));
    const source = emitSource(valueAndGrad(f, { argnums: [0, 1] }))(2, 1.5);
    expect(source).not.toContain("chainrule.");
    const compute = load(source);
    for (const [x, y] of [
      [2, 1.5],
      [-0.3, 7],
    ] as const) {
      const [value, dx, dy] = compute(x, y);
      const [v2, [gx, gy]] = valueAndGrad(f, { argnums: [0, 1] })(x, y);
      expectAllClose([value!, dx!, dy!], [v2.item(), gx.item(), gy.item()], 1e-15);
      // analytic: d/dx = 2x - 2 cos x sin x, d/dy = 4
      expectAllClose([dx!, dy!], [2 * x - 2 * Math.cos(x) * Math.sin(x), 4], 1e-14);
    }
  });

  it("handles loops and branches (traced away) and small arrays", () => {
    const f = (x: NdArray) => {
      let y = x;
      for (let i = 0; i < 3; i++) y = y.sum().item() > 0 ? np.multiply(np.sin(y), 2) : np.cos(y);
      return np.sum(np.square(y));
    };
    const x = np.array([0.3, -0.2, 0.5]);
    const compute = load(emitSource(grad(f))(x));
    expectAllClose(compute([0.3, -0.2, 0.5])[0] as unknown as number[], grad(f)(x), 1e-14);
  });

  it("refuses programs it cannot write standalone, naming the operation", () => {
    const f = (a: NdArray) => np.sum(np.matmul(a, a));
    expect(() => emitSource(f)(np.ones([2, 2]))).toThrow(/emitSource: the program uses matmul/);
  });

  it("every printable scalar runs standalone with the kernels its rule lists in `uses`", () => {
    // A scalar calling a module function missing from `uses` throws a
    // ReferenceError here on the branch that calls it: the grid takes every
    // operand through small, moderate, large, negative and tail values.
    const grid = [-3.5, -0.7, -0.2, 0, 1e-12, 0.2, 0.45, 0.55, 0.7, 0.97, 1, 1.5, 2.5, 4, 30, 400];
    let checked = 0;
    for (const prim of registeredPrimitives()) {
      const rule = prim.elementwise;
      if (rule === undefined || rule.js !== undefined || rule.standalone === false) continue;
      const eqn = { prim, params: {}, inputs: [], out: { dtype: "float64" } };
      const source = helperSource([eqn as unknown as JaxprEqn]).join("\n");
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the generated source under test
      const helper = new Function(`${source}\nreturn H_${prim.name};`)() as typeof rule.scalar;
      const arity = rule.scalar.length;
      for (let k = 0; k < grid.length; k++) {
        // operand j takes grid value k + 3j: every operand meets every value
        const args = Array.from({ length: arity }, (_, j) => grid[(k + 3 * j) % grid.length]!);
        expect(
          Object.is(helper(...args), rule.scalar(...args)),
          `${prim.name}(${args.join(", ")})`,
        ).toBe(true);
      }
      checked++;
    }
    // erf, erfc, erfinv, ndtr, logNdtr, ndtri, lgamma, digamma, ... are printable
    expect(checked).toBeGreaterThan(10);
  });

  it("refuses a kernel it cannot print under its own name (a minified build), naming it", () => {
    const renamed = function i(t: number): number {
      return t + 1;
    };
    const prim = {
      name: "fake",
      elementwise: { scalar: (x: number) => renamed(x), uses: [renamed] },
    };
    const eqn = { prim, params: {}, inputs: [], out: { dtype: "float64" } } as unknown as JaxprEqn;
    expect(() => helperSource([eqn])).toThrow(
      /^emitSource: fake's scalar calls the library function "i", which cannot be printed under its own name.*run the program with jit instead/,
    );
  });

  it("never embeds user strings: hostile keys and function names", () => {
    const hostile = '"); process.exit(1); //';
    const f = (p: Record<string, NdArray>) => np.square(p[hostile]!);
    Object.defineProperty(f, "name", { value: hostile });
    const source = emitSource(grad(f))({ [hostile]: 1.5 });
    expect(source).not.toContain("process");
    expect(load(source)(1.5)[0]).toBe(3);
    const dot = toDot(f)({ [hostile]: 1.5 });
    expect(dot).not.toContain("process");
  });
});
