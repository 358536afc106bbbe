/**
 * jit's trace folds, simplifies and CSEs each equation as it records it
 * (ir/passes.ts `EquationOptimizer`, docs/design.md "The first jit call,
 * round 5"), then runs DCE only. Checked against the passes run the other
 * way, after a plain trace (`optimize(makeJaxpr(f)(...))`): the same
 * program, and against eager evaluation: the same values, bit for bit.
 * Also the pieces it relies on: folding an impl that itself binds
 * primitives records nothing into the trace (`outsideDynamicTrace`), and
 * the tables that grow past their initial size (VarMap, the CSE table).
 */
import { stagedReverse } from "../src/transforms/stagedReverse.js";
import { withSwitch } from "./scalarPrograms.js";
import { describe, expect, it } from "vitest";
import { type Array as NdArray, ConcreteArray, type Aval } from "../src/core/array.js";
import { defineMultiPrimitive, definePrimitive } from "../src/core/primitive.js";
import { bind, bindAll, outsideDynamicTrace } from "../src/core/trace.js";
import { Var, VarMap } from "../src/ir/jaxpr.js";
import { optimize, type PassStats } from "../src/ir/passes.js";
import { grad, jit, makeJaxpr, np } from "../src/index.js";

const stats = (): PassStats => ({ folded: 0, simplified: 0, cse: 0, dce: 0 });

/** jit's program for f at args, and the plain trace optimised afterwards, as text. */
function bothWays(f: (...xs: NdArray[]) => NdArray, ...args: NdArray[]): [string, string] {
  const online = jit(f)
    .lower(...args)
    .jaxpr.toString();
  const offline = optimize(makeJaxpr(f)(...args)).toString();
  return [online, offline];
}

/** x -> [x + 1, x * 2] elementwise by loops: a multi-output primitive for these tests. */
const plusTimes = defineMultiPrimitive<Record<string, never>>({
  name: "testPlusTimes",
  multipleResults: true,
  linear: false,
  abstractEval([x]) {
    return [
      { shape: x!.shape, dtype: x!.dtype },
      { shape: x!.shape, dtype: x!.dtype },
    ];
  },
  impl([x]) {
    const a = new Float64Array(x!.size);
    const b = new Float64Array(x!.size);
    for (let i = 0; i < a.length; i++) {
      a[i] = x!.buffer[i]! + 1;
      b[i] = x!.buffer[i]! * 2;
    }
    return [new ConcreteArray(x!.shape, "float64", a), new ConcreteArray(x!.shape, "float64", b)];
  },
  jvp: (_p, [dx]) => [dx!, np.multiply(dx!, 2)],
  batch: ([x], [d]) => [plusTimesOf(x!), [d ?? null, d ?? null]],
});

function plusTimesOf(x: NdArray): NdArray[] {
  return bindAll(plusTimes, [x], {});
}

/** sin x through np.sin in its impl: folding it must not record that sin into the trace. */
const sinByNp = definePrimitive<Record<string, never>>({
  name: "testSinByNp",
  linear: false,
  abstractEval([x]): Aval {
    return { shape: x!.shape, dtype: x!.dtype };
  },
  impl([x]) {
    return np.sin(x!).concrete("testSinByNp");
  },
  jvp: ([x], [dx]) => np.multiply(dx!, np.cos(x!)),
  batch: ([x], [d]) => [sinByNpOf(x!), d ?? null],
});

function sinByNpOf(x: NdArray): NdArray {
  return bind(sinByNp, [x], {});
}

describe("jit's trace runs the passes as it records", () => {
  it("W1's grad (N = 5): the same program as the passes after the trace, eager grad's bits", () => {
    const f = (x: NdArray) => {
      for (let i = 0; i < 5; i++)
        x = np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x));
      return x;
    };
    // The general path of reverse mode (makeJaxpr's); jit's staged one: staged-reverse.test.ts.
    const [online, offline] = withSwitch(stagedReverse, false, () =>
      bothWays(grad(f), np.array(0.3)),
    );
    expect(online).toBe(offline);
    // by hand: the cotangent 1.0 times 0.5 is folded, 1.0 * x simplified, and each
    // step's cos x and sin x (from the JVP rules and from f) merged by CSE
    const s = stats();
    optimize(makeJaxpr(grad(f))(0.3), s);
    expect([s.folded, s.simplified, s.cse]).toEqual([1, 1, 10]);
    for (const x of [0.3, -1.7, 2.5]) {
      withSwitch(stagedReverse, false, () =>
        expect(jit(grad(f))(x).item()).toBe(grad(f)(x).item()),
      );
    }
  });

  it("folds constants (arrays too), simplifies x * 1 and -(-x), merges repeats", () => {
    const f = (x: NdArray) => {
      const c = np.multiply(np.array([1, 1, 1]), np.array([2, 2, 2])); // constants: folded
      const y = np.multiply(np.add(x, c), 1); // x + c, times 1: simplified away
      const z = np.negative(np.negative(np.sin(y))); // -(-sin y) -> sin y
      return np.add(np.add(z, np.sin(y)), np.exp(c)); // sin y again: CSE; exp c folded
    };
    const x = np.array([0.25, -1.5, 3]);
    const [online, offline] = bothWays(f, x);
    expect(online).toBe(offline);
    const program = jit(f).lower(x).jaxpr;
    expect(program.eqns.map((e) => e.prim.name)).toEqual(["add", "sin", "add", "add"]);
    expect(Array.from(jit(f)(x).data())).toEqual(Array.from(f(x).data()));
  });

  it("broadcasts and transposes: the rewrites across equations match the passes after the trace", () => {
    const f = (x: NdArray, m: NdArray) => {
      const b = np.broadcastTo(np.broadcastTo(x, [3]), [2, 3]); // broadcast of broadcast
      const t = np.transpose(np.broadcastTo(x, [2, 3])); // transpose of broadcast
      const p = np.matmul(np.transpose(m), m); // matmul of a transpose
      return np.add(np.sum(np.multiply(b, 2)), np.add(np.sum(t), np.sum(p)));
    };
    const x = np.array(1.5);
    const m = np.array([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const [online, offline] = bothWays(f, x, m);
    expect(online).toBe(offline);
    expect(jit(f)(x, m).item()).toBe(f(x, m).item());
  });

  it("multi-output equations: folded when their inputs are constants, merged when repeated", () => {
    const f = (x: NdArray) => {
      const [a, b] = plusTimesOf(x);
      const [c, d] = plusTimesOf(x); // the same equation: CSE
      const [k1, k2] = plusTimesOf(np.array([1, 2])); // constants: folded
      return np.add(np.add(np.multiply(a!, d!), np.multiply(b!, c!)), np.multiply(k1!, k2!));
    };
    const x = np.array([0.5, -2]);
    const [online, offline] = bothWays(f, x);
    expect(online).toBe(offline);
    const names = jit(f)
      .lower(x)
      .jaxpr.eqns.map((e) => e.prim.name);
    expect(names.filter((n) => n === "testPlusTimes").length).toBe(1);
    // by hand: k1 = [2, 3], k2 = [2, 4]
    const expected = [0.5, -2].map((v) => (v + 1) * (v * 2) * 2).map((v, i) => v + [4, 12][i]!);
    expect(Array.from(jit(f)(x).data())).toEqual(expected);
  });

  it("folding an impl that binds primitives records nothing into the trace", () => {
    const f = (x: NdArray) => np.add(x, sinByNpOf(np.array(0.5)));
    const program = jit(f).lower(np.array(1)).jaxpr;
    // folded to a constant: one add, and no sin recorded by the impl's np.sin
    expect(program.eqns.map((e) => e.prim.name)).toEqual(["add"]);
    expect(jit(f)(1).item()).toBe(1 + Math.sin(0.5));
  });

  it("outsideDynamicTrace runs eagerly inside makeJaxpr, and the trace continues after it", () => {
    let inside: NdArray | null = null;
    const jaxpr = makeJaxpr((x: NdArray) => {
      inside = outsideDynamicTrace(() => np.sin(np.array(0.5)));
      return np.cos(x);
    })(1);
    expect(inside).toBeInstanceOf(ConcreteArray);
    expect(inside!.item()).toBe(Math.sin(0.5));
    expect(jaxpr.eqns.map((e) => e.prim.name)).toEqual(["cos"]);
  });

  it("W1's grad at N = 1,000 (past the tables' initial sizes): the same program both ways", () => {
    const f = (x: NdArray) => {
      for (let i = 0; i < 1000; i++)
        x = np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x));
      return x;
    };
    withSwitch(stagedReverse, false, () => {
      const [online, offline] = bothWays(grad(f), np.array(0.3));
      expect(online).toBe(offline);
      expect(jit(grad(f))(0.3).item()).toBe(grad(f)(0.3).item());
    });
  });
});

describe("VarMap", () => {
  it("grows past its initial size, keeping what it holds", () => {
    const m = new VarMap<number>(4);
    const vars = [0, 3, 4, 100, 5000].map((id) => new Var(id, [], "float64"));
    vars.forEach((v, i) => m.set(v, i * 10));
    vars.forEach((v, i) => expect(m.get(v)).toBe(i * 10));
    expect(m.has(new Var(7, [], "float64"))).toBe(false);
    expect(m.get(new Var(1e6, [], "float64"))).toBeUndefined();
  });
});
