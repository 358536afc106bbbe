/**
 * jit compiles traced programs to JavaScript: checks that the compiled code
 * computes what eager evaluation computes (scalar straight-line code, fused
 * array loops, kernels, long programs split into chunks), that the passes
 * simplify what they claim to, and that user strings never reach the source.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  grad,
  jacrev,
  jit,
  makeJaxpr,
  nn,
  np,
  valueAndGrad,
  vmap,
} from "../src/index.js";
import { evalJaxpr } from "../src/ir/jaxpr.js";
import { optimize } from "../src/ir/passes.js";
import { compileJaxpr } from "../src/jit/codegen.js";
import { expectAllClose, randomArray, rng } from "./helpers.js";

const r = rng(3);
const w1 = (n: number) => (x: NdArray) => {
  for (let i = 0; i < n; i++) x = np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x));
  return x;
};

describe("compiled scalar programs", () => {
  it("jit(grad) of W1 equals eager grad exactly and is straight-line code on locals", () => {
    const g = jit(grad(w1(3)));
    expect(g(0.3).item()).toBe(grad(w1(3))(0.3).item());
    const source = g.lower(0.3).compiled.source;
    expect(source).toContain("Math.sin(");
    expect(source).not.toContain("K[");
    // CSE: sin and cos of each iterate are computed once, shared by the forward and backward passes
    expect(source.match(/Math\.sin\(/g)?.length).toBe(3);
    expect(source.match(/Math\.cos\(/g)?.length).toBe(3);
  });
  it("a 100,000-operation program traces and compiles without a stack overflow, rerolled into a loop", () => {
    const f = (x: NdArray) => {
      for (let i = 0; i < 25000; i++)
        x = np.add(np.multiply(np.sin(x), 0.999), np.multiply(x, 1e-3));
      return x;
    };
    const g = jit(f);
    let x = 0.4;
    for (let i = 0; i < 25000; i++) x = Math.sin(x) * 0.999 + x * 1e-3;
    expect(g(0.4).item()).toBe(x);
    const lowered = g.lower(0.4);
    expect(lowered.jaxpr.eqns.length).toBe(100000);
    expect(lowered.compiled.source).toContain("for (let k = 0; k < 25000; k++)");
  });
  it("a long program without repetition compiles into chunked straight-line code", () => {
    const ops = [Math.sin, Math.cos, Math.tanh, (v: number) => v * 0.9 + 0.1];
    const npOps = [np.sin, np.cos, np.tanh, (v: NdArray) => np.add(np.multiply(v, 0.9), 0.1)];
    const choice = Array.from({ length: 6000 }, () => Math.floor(r() * 4));
    const f = (x: NdArray) => {
      for (const c of choice) x = npOps[c]!(x);
      return x;
    };
    let x = 0.4;
    for (const c of choice) x = ops[c]!(x);
    const g = jit(f);
    expect(g(0.4).item()).toBe(x);
    expect(g.lower(0.4).compiled.source).toContain("function chunk1(");
  });
  it("float32 and int32 programs round like eager evaluation", () => {
    const f = (x: NdArray) => np.add(np.multiply(np.sin(x), 1.1), np.divide(x, 3));
    for (const dtype of ["float32", "float64"] as const) {
      const x = np.array(0.7, { dtype });
      expect(jit(f)(x).item()).toBe(f(x).item());
      expect(jit(f)(x).dtype).toBe(dtype);
    }
    const h = (a: NdArray) => np.multiply(np.add(a, 7), 3);
    const i = np.array([5, -9], { dtype: "int32" });
    expectAllClose(jit(h)(i), h(i), 0);
    expect(jit(h)(i).dtype).toBe("int32");
  });
});

describe("compiled array programs", () => {
  it("fuses an elementwise chain and a following sum into one loop", () => {
    const f = (x: NdArray) => np.sum(np.exp(np.add(np.multiply(np.sin(x), 2), 1)));
    const x = randomArray(r, [1000]);
    const g = jit(f);
    expectAllClose(g(x), f(x), 1e-13);
    const source = g.lower(x).compiled.source;
    expect(source.match(/for \(let i = 0;/g)?.length).toBe(1);
    expect(source).not.toContain("K[");
  });
  it("MLP loss and gradient: fused loops around matmul kernels, equal to eager", () => {
    const loss = (p: { w1: NdArray; w2: NdArray }, x: NdArray, y: NdArray) => {
      const h = nn.relu(np.matmul(x, p.w1));
      const logits = np.matmul(h, p.w2);
      return np.mean(np.sum(np.multiply(nn.logSoftmax(logits), y), 1)).neg();
    };
    const p = { w1: randomArray(r, [4, 8]), w2: randomArray(r, [8, 3]) };
    const x = randomArray(r, [5, 4]);
    const y = np.eye(3).slice([0, 3]).reshape([3, 3]);
    const y5 = np.concatenate([y, y.slice([0, 2])], 0);
    const [v1, g1] = valueAndGrad(loss)(p, x, y5);
    const [v2, g2] = jit(valueAndGrad(loss))(p, x, y5);
    expectAllClose(v2, v1, 1e-14);
    expectAllClose(g2.w1, g1.w1, 1e-13, 1e-15);
    expectAllClose(g2.w2, g1.w2, 1e-13, 1e-15);
  });
  it("vmap inside jit and jit inside vmap agree with eager", () => {
    const f = (x: NdArray) => np.sum(np.tanh(x));
    const xs = randomArray(r, [6, 5]);
    expectAllClose(jit(vmap(grad(f)))(xs), vmap(grad(f))(xs), 1e-15);
    expectAllClose(vmap(jit(grad(f)))(xs), vmap(grad(f))(xs), 1e-15);
  });
});

describe("traced programs of transformed functions", () => {
  it("makeJaxpr(vmap(jacrev(f))) is a program that computes vmap(jacrev(f))", () => {
    const f = (x: NdArray) => np.multiply(np.sin(x), np.sum(x));
    const xs = randomArray(r, [4, 3]);
    const transformed = vmap(jacrev(f));
    const jaxpr = makeJaxpr(transformed)(xs);
    const text = jaxpr.toString();
    expect(text).toMatch(/; \w+:f64\[4,3\] \./); // the input
    expect(text).toMatch(/f64\[4,3,3\]/);
    expectAllClose(evalJaxpr(jaxpr, [xs])[0]!, transformed(xs), 1e-15);
    // and its optimised, compiled form too
    expectAllClose(compileJaxpr(optimize(jaxpr)).run([xs as never])[0]!, transformed(xs), 1e-15);
  });
});

describe("passes", () => {
  it("DCE, CSE, constant folding and simplification shrink the program", () => {
    const f = (x: NdArray) => {
      np.exp(x); // dead code: its result is never used
      const a = np.sin(x);
      const b = np.sin(x); // common subexpression
      const c = np.multiply(np.subtract(a, 0), 1); // x - 0, x * 1 (exact rewrites)
      const k = np.multiply(np.array(2), np.array(3)); // constant
      return np.multiply(np.multiply(c, k), np.divide(b, 1)); // x / 1
    };
    const jaxpr = makeJaxpr(f)(np.ones([3]));
    const stats = { folded: 0, simplified: 0, cse: 0, dce: 0 };
    const opt = optimize(jaxpr, stats);
    expect(unusedCount(jaxpr)).toBe(1);
    expect(stats.dce).toBeGreaterThan(0);
    expect(stats.cse).toBeGreaterThan(0);
    expect(stats.folded).toBeGreaterThan(0);
    expect(stats.simplified).toBeGreaterThan(0);
    // what is left: sin, the folded constant 6 broadcast (compiled loops read it as a scalar), and the product
    expect(opt.eqns.map((e) => e.prim.name).sort()).toEqual([
      "broadcastInDim",
      "mul",
      "mul",
      "sin",
    ]);
    const x = randomArray(r, [3]);
    expectAllClose(compileJaxpr(opt).run([x.astype("float64") as never])[0]!, f(x), 1e-15);
  });
});

describe("matmul of transposed operands under jit", () => {
  it("reads swapped-axes operands through the matmul's flags: no transpose is left", () => {
    const r = rng(21);
    const a = randomArray(r, [2, 5, 3]);
    const b = randomArray(r, [2, 4, 5]);
    // Both operands transposed, only the first, only the second.
    const f = (x: NdArray, y: NdArray) => {
      const xt = np.transpose(x, [0, 2, 1]); // [2, 3, 5]
      const yt = np.transpose(y, [0, 2, 1]); // [2, 5, 4]
      const both = np.matmul(xt, yt); // [2, 3, 4]
      const onlyA = np.matmul(xt, x); // [2, 3, 3]
      const onlyB = np.matmul(y, yt); // [2, 4, 4]
      return np.add(np.add(np.sum(both), np.sum(np.square(onlyA))), np.sum(np.square(onlyB)));
    };
    const opt = optimize(makeJaxpr(f)(a, b));
    const names = opt.eqns.map((e) => e.prim.name);
    expect(names).not.toContain("transpose");
    expect(names.filter((n) => n === "matmul")).toHaveLength(3);
    // Values: the compiled program equals eager evaluation (explicit strided copies).
    expectAllClose(jit(f)(a, b), f(a, b), 1e-13, 1e-13);
    // A transpose of other axes (not the last two) is left alone.
    const g = (x: NdArray) => np.matmul(np.transpose(x, [2, 1, 0]), np.ones([2, 3]));
    const gNames = optimize(makeJaxpr(g)(np.ones([2, 5, 2]))).eqns.map((e) => e.prim.name);
    expect(gNames).toContain("transpose");
  });
});

describe("broadcasts of broadcasts under jit", () => {
  it("compose into one broadcast (vmap of a per-example constant reads a scalar)", () => {
    // Per example: x * c with c a scalar broadcast to [5]; vmap broadcasts c again to [4, 5].
    const perExample = (x: NdArray) => np.multiply(x, np.broadcastTo(np.array(3), [5]));
    const f = (xs: NdArray) => vmap(perExample)(xs);
    const xs = randomArray(rng(5), [4, 5]);
    const opt = optimize(makeJaxpr(f)(xs));
    const broadcasts = opt.eqns.filter((e) => e.prim.name === "broadcastInDim");
    // One broadcast, of the rank-0 constant straight to the batched shape.
    expect(broadcasts).toHaveLength(1);
    expect(broadcasts[0]!.inputs[0]!.shape).toEqual([]);
    expect(broadcasts[0]!.out.shape).toEqual([4, 5]);
    // An axis of x moved through two broadcasts: [3] -> [3, 1] (dims [0]) -> [2, 3, 4] (dims [1, 2]).
    const g = (x: NdArray) =>
      np.add(
        np.broadcastTo(np.reshape(x, [3, 1]), [2, 3, 4]),
        np.zeros([2, 3, 4]).add(np.arange(24).reshape([2, 3, 4])),
      );
    const x = randomArray(rng(6), [3]);
    const expected: number[] = [];
    const xv = globalThis.Array.from(x.data());
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 3; b++)
        for (let c = 0; c < 4; c++) expected.push(xv[b]! + 12 * a + 4 * b + c);
    expectAllClose(jit(g)(x), expected, 1e-15);
    expectAllClose(jit(f)(xs), np.multiply(xs, 3), 1e-15);
  });
});

function unusedCount(jaxpr: ReturnType<ReturnType<typeof makeJaxpr>>): number {
  return jaxpr.eqns.filter((e) => e.prim.name === "exp").length;
}

describe("environments that forbid generated code", () => {
  it("falls back to interpreting the program when new Function throws EvalError (strict CSP)", () => {
    const original = globalThis.Function;
    const f = (x: NdArray) => np.sum(np.multiply(np.sin(x), x));
    const x = randomArray(r, [5]);
    const blocked = function () {
      throw new EvalError("Refused to evaluate a string as JavaScript (CSP)");
    } as unknown as FunctionConstructor;
    globalThis.Function = blocked;
    try {
      const g = jit(grad(f));
      expectAllClose(g(x), grad(f)(x), 1e-15);
      expect(g.lower(x).compiled.source).toBe("");
    } finally {
      globalThis.Function = original;
    }
  });
});

describe("security", () => {
  const hostile = '"); process.exit(1); //';
  it("hostile pytree keys and function names never reach generated code", () => {
    const f = (p: Record<string, NdArray>) => ({ [hostile]: np.sin(p[hostile]!) });
    Object.defineProperty(f, "name", { value: hostile });
    const g = jit(f);
    const out = g({ [hostile]: np.array([0.5]) });
    expectAllClose(out[hostile], [Math.sin(0.5)], 0);
    const source = g.lower({ [hostile]: np.array([0.5]) }).compiled.source;
    expect(source).not.toContain("process");
    expect(source).not.toContain(hostile);
    expect(
      grad((p: Record<string, NdArray>) => np.sum(g(p)[hostile]))({ [hostile]: np.array([0.5]) })[
        hostile
      ].item(),
    ).toBeCloseTo(Math.cos(0.5), 14);
  });
});
