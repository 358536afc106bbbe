/**
 * The parts of jit made cheaper for a program's first compile (docs/design.md,
 * "First jit call"): common subexpressions found through a hash table on
 * input ids, equal scalar constants sharing one variable while tracing, and
 * scalar programs rerolled with equation signatures interned by parameter
 * identity. Each is checked against eager evaluation, bit for bit, and
 * against counts worked out by hand.
 */
import { describe, expect, it } from "vitest";
import { type Array as NdArray, grad, jit, makeJaxpr, np } from "../src/index.js";
import { optimize, type PassStats } from "../src/ir/passes.js";
import { rng } from "./helpers.js";

const stats = (): PassStats => ({ folded: 0, simplified: 0, cse: 0, dce: 0 });

describe("common subexpressions (hash table on input ids)", () => {
  it("merges a commutative primitive's swapped inputs, never a non-commutative one's", () => {
    const f = (x: NdArray, y: NdArray) => {
      const parts = [
        np.multiply(x, y),
        np.multiply(y, x), // = x*y
        np.add(x, y),
        np.add(y, x), // = x+y
        np.subtract(x, y),
        np.subtract(y, x), // not x-y
        np.divide(x, y),
        np.divide(y, x), // not x/y
        np.multiply(x, y), // = x*y again
      ];
      return parts.reduce((acc, p) => np.add(np.multiply(acc, 1.5), p));
    };
    const s = stats();
    // 0-d arguments: the constant 1.5 needs no broadcast (which CSE would merge too)
    const opt = optimize(makeJaxpr(f)(1, 2), s);
    const names = opt.eqns.map((e) => e.prim.name);
    // the nine parts leave mul, add, sub, sub, div, div; then 8 mul-by-1.5 and 8 adds
    expect(names.filter((n) => n === "sub").length).toBe(2);
    expect(names.filter((n) => n === "div").length).toBe(2);
    expect(names.filter((n) => n === "mul").length).toBe(1 + 8);
    expect(names.filter((n) => n === "add").length).toBe(1 + 8);
    expect(s.cse).toBe(3);
    for (const [x, y] of [
      [0.3, 1.5],
      [-1.25, 0.7],
      [2, -3],
    ] as const) {
      expect(jit(f)(x, y).item()).toBe(f(np.array(x), np.array(y)).item());
    }
  });

  it("merges equations whose parameters are equal objects, keeps different ones apart", () => {
    const f = (x: NdArray) =>
      np.add(
        np.add(np.sum(x, 0), np.sum(x, 0)), // equal params, two objects
        np.sum(x, 1).sum(), // other params
      );
    const jaxpr = makeJaxpr(f)(np.ones([2, 3]));
    const sums = jaxpr.eqns.filter((e) => e.prim.name === "reduceSum");
    expect(sums.length).toBe(4);
    expect(sums[0]!.params).not.toBe(sums[1]!.params); // two objects with equal contents
    const s = stats();
    const opt = optimize(jaxpr, s);
    // the two sums over axis 0 of x merge; the sum over axis 1 and the sum of that stay
    expect(s.cse).toBe(1);
    expect(opt.eqns.filter((e) => e.prim.name === "reduceSum").length).toBe(3);
    const x = np.array([
      [1, 2, 3],
      [4, 5, 6.5],
    ]);
    expect(jit(f)(x).toArray()).toEqual(f(x).toArray());
  });

  it("a long program of distinct equations over the same two inputs keeps every one of them", () => {
    // 600 distinct equations (x * c_i + y with c_i distinct) each written twice: CSE must merge
    // exactly the second copies, however the table's buckets collide.
    const cs = Array.from({ length: 300 }, (_, i) => 1 + (i + 1) / 7);
    const f = (x: NdArray, y: NdArray) => {
      let acc = np.multiply(x, 0);
      for (let rep = 0; rep < 2; rep++) {
        for (const c of cs) acc = np.add(acc, np.subtract(np.multiply(x, c), y));
      }
      return acc;
    };
    const s = stats();
    const jaxpr = makeJaxpr(f)(np.ones([2]), np.ones([2]));
    optimize(jaxpr, s);
    // per constant: c broadcast to [2], x*c and (x*c)-y are written twice, the second copies
    // merge (the adds differ: they extend the sum)
    expect(s.cse).toBe(3 * cs.length);
    const x = np.array([0.5, -2]);
    const y = np.array([3, 0.25]);
    expect(jit(f)(x, y).toArray()).toEqual(f(x, y).toArray());
  });
});

describe("scalar constants while tracing", () => {
  it("equal host scalars share one variable; 0 and -0 stay apart", () => {
    const shared = makeJaxpr((x: NdArray) =>
      np.add(np.multiply(x, 0.5), np.multiply(np.sin(x), 0.5)),
    )(1);
    expect(shared.constVars.length).toBe(1);
    // x*0 + x*(-0): at x = -1 that is -0 + 0 = +0; sharing 0 and -0 would give -0 + -0 = -0
    const f = (x: NdArray) => np.add(np.multiply(x, 0), np.multiply(x, -0));
    expect(makeJaxpr(f)(1).constVars.length).toBe(2);
    expect(Object.is(jit(f)(-1).item(), f(np.array(-1)).item())).toBe(true);
    expect(Object.is(jit(f)(-1).item(), 0)).toBe(true);
  });

  it("constants of the same value and different dtypes stay apart", () => {
    // float32 1.1 and float64 1.1 are different numbers
    const f = (a: NdArray, b: NdArray) => [np.multiply(a, 1.1), np.multiply(b, 1.1)];
    const jaxpr = makeJaxpr(f)(np.array(1, { dtype: "float32" }), np.array(1));
    expect(jaxpr.constVars.length).toBe(2);
    const a = np.array(0.3, { dtype: "float32" });
    const b = np.array(0.3);
    const [p, q] = jit(f)(a, b);
    expect(p!.item()).toBe(Math.fround(Math.fround(0.3) * Math.fround(1.1)));
    expect(q!.item()).toBe(0.3 * 1.1);
  });
});

describe("scalar programs: rerolled loops", () => {
  it("W1's grad becomes two loops (forward, backward) and equals eager grad exactly", () => {
    const w1 = (x: NdArray) => {
      for (let i = 0; i < 200; i++)
        x = np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x));
      return x;
    };
    const g = jit(grad(w1));
    for (const x0 of [0.3, -1.7, 2.5]) expect(g(x0).item()).toBe(grad(w1)(x0).item());
    const source = g.lower(0.3).compiled.source;
    expect(source.match(/for \(let k = 0;/g)?.length).toBe(2);
  });

  it("interleaved float32 and float64 chains are not rerolled as one (signatures include the dtype)", () => {
    // s[a] = s[a-2] * 1.5 (float32) and s[a+1] = s[a-1] * 1.5 (float64) have the same operand
    // deltas and the same literal (1.5 is exact in both): a loop of period 1 would round the
    // float64 chain to float32.
    const f = (a: NdArray, b: NdArray) => {
      for (let i = 0; i < 20; i++) {
        a = np.multiply(a, 1.5);
        b = np.multiply(b, 1.5);
      }
      return [a, b];
    };
    const r = rng(18);
    for (let t = 0; t < 3; t++) {
      const v = r() * 2 - 1;
      const a = np.array(v, { dtype: "float32" });
      const b = np.array(v);
      const [p, q] = jit(f)(a, b);
      const [pe, qe] = f(a, b);
      expect(p!.item()).toBe(pe!.item());
      expect(q!.item()).toBe(qe!.item());
      let expected32 = Math.fround(v);
      let expected64 = v;
      for (let i = 0; i < 20; i++) {
        expected32 = Math.fround(expected32 * 1.5);
        expected64 *= 1.5;
      }
      expect(p!.item()).toBe(expected32);
      expect(q!.item()).toBe(expected64);
    }
  });
});
