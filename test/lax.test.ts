/**
 * lax control flow against plain JS control flow, under eager evaluation,
 * grad, vmap (per-element predicates) and jit (traced predicates).
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ChainruleError,
  checkpoint,
  grad,
  jit,
  lax,
  np,
  vmap,
} from "../src/index.js";
import { expectAllClose, fdScalar } from "./helpers.js";

describe("lax.cond and lax.switch", () => {
  const f = (x: NdArray) => lax.cond(np.greater(x, 0), np.sin, np.cos, x);
  const plain = (x: number) => (x > 0 ? Math.sin(x) : Math.cos(x));
  it("matches a JS conditional in value and derivative, eagerly, batched and compiled", () => {
    const xs = [-1.2, -0.1, 0.4, 2];
    for (const x of xs) {
      expectAllClose(f(np.array(x)), plain(x), 0);
      expectAllClose(grad(f)(x), x > 0 ? Math.cos(x) : -Math.sin(x), 1e-15);
      expectAllClose(jit(f)(x), plain(x), 0);
      expectAllClose(jit(grad(f))(x), x > 0 ? Math.cos(x) : -Math.sin(x), 1e-15);
    }
    // vmap: the predicate differs per element
    expectAllClose(vmap(f)(np.array(xs)), xs.map(plain), 0);
    expectAllClose(
      vmap(grad(f))(np.array(xs)),
      xs.map((x) => (x > 0 ? Math.cos(x) : -Math.sin(x))),
      1e-15,
    );
  });
  it("switch picks the branch by index (clamped, as JAX does), also per batch element", () => {
    const branches = [
      (x: NdArray) => np.multiply(x, 2),
      (x: NdArray) => np.square(x),
      (x: NdArray) => np.negative(x),
    ];
    const g = (i: NdArray, x: NdArray) => lax.switch(i, branches, x);
    const plainG = (i: number, x: number) => [2 * x, x * x, -x][Math.min(Math.max(i, 0), 2)]!;
    for (const i of [-1, 0, 1, 2, 5]) expectAllClose(g(np.array(i), np.array(3)), plainG(i, 3), 0);
    expectAllClose(vmap(g)(np.array([0, 1, 2]), np.array([3, 3, 3])), [6, 9, -3], 0);
    expectAllClose(jit(g)(1, 4), 16, 0);
    expectAllClose(grad(g, { argnums: 1 })(1, 4), 8, 0);
  });
});

describe("lax loops", () => {
  it("forILoop: carry = body(i, carry), with its derivative", () => {
    // x -> x * (1 + i / 10) for i = 0..4: derivative is the product of the factors
    const f = (x: NdArray) =>
      lax.forILoop(
        0,
        5,
        (i: NdArray, c: NdArray) => np.multiply(c, np.add(1, np.divide(i, 10))),
        x,
      );
    const factor = [0, 1, 2, 3, 4].reduce((acc, i) => acc * (1 + i / 10), 1);
    expectAllClose(f(np.array(2)), 2 * factor, 1e-15);
    expectAllClose(grad(f)(2), factor, 1e-15);
    expectAllClose(jit(f)(2), 2 * factor, 1e-15);
  });
  it("whileLoop runs while the condition holds; a traced condition is staged", () => {
    const f = (x: NdArray) =>
      lax.whileLoop(
        (c: NdArray) => np.less(c, 100),
        (c: NdArray) => np.multiply(c, 3),
        x,
      );
    let v = 2;
    while (v < 100) v *= 3;
    expectAllClose(f(np.array(2)), v, 0);
    expectAllClose(grad(f)(2), v / 2, 1e-15);
    expectAllClose(jit(f)(2), v, 0);
    // reverse mode through the staged loop (see while.test.ts)
    expectAllClose(jit(grad(f))(2), v / 2, 1e-15);
  });
  it("scan matches a JS loop: carry, stacked outputs, reverse order, and its gradient", () => {
    // A damped oscillator step: (p, v) -> (p + dt v, v - dt (p + 0.1 v) + force_t)
    const dt = 0.1;
    const step = (c: NdArray[], force: NdArray): [NdArray[], NdArray] => {
      const [p, v] = c as [NdArray, NdArray];
      const p2 = np.add(p, np.multiply(v, dt));
      const v2 = np.add(np.subtract(v, np.multiply(np.add(p, np.multiply(v, 0.1)), dt)), force);
      return [[p2, v2], p2];
    };
    const forces = [0.1, 0, -0.2, 0.05, 0.3];
    const simulate = (p0: NdArray) => {
      const [, ps] = lax.scan(step, [p0, np.array(0)], np.array(forces));
      return np.sum(np.square(ps));
    };
    const plainSim = (p0: number) => {
      let [p, v] = [p0, 0];
      let s = 0;
      for (const f of forces) {
        [p, v] = [p + dt * v, v - dt * (p + 0.1 * v) + f];
        s += p * p;
      }
      return s;
    };
    expectAllClose(simulate(np.array(0.7)), plainSim(0.7), 1e-14);
    expect(grad(simulate)(0.7).item()).toBeCloseTo(fdScalar(plainSim, 0.7), 7);
    expectAllClose(jit(grad(simulate))(0.7), grad(simulate)(0.7), 1e-14);
    // reverse: visits xs from the end
    const [last, ys] = lax.scan(
      (c: NdArray, x: NdArray) => [np.add(c, x), c],
      0,
      np.array([1, 2, 3]),
      { reverse: true },
    );
    expectAllClose(last, 6, 0);
    expectAllClose(ys, [5, 3, 0], 0);
    // xs null with a length
    const [count] = lax.scan(((c: NdArray) => [np.add(c, 1), null]) as never, 0, null, {
      length: 4,
    });
    expectAllClose(count, 4, 0);
  });
  it("a checkpointed step keeps scan's gradient", () => {
    const body = checkpoint((c: NdArray) => np.sin(np.multiply(c, 1.1)));
    const f = (x: NdArray) => lax.forILoop(0, 6, (_i: NdArray, c: NdArray) => body(c), x);
    const g = (x: NdArray) =>
      lax.forILoop(0, 6, (_i: NdArray, c: NdArray) => np.sin(np.multiply(c, 1.1)), x);
    expectAllClose(grad(f)(0.4), grad(g)(0.4), 1e-15);
  });
  it("unsupported options and malformed steps are reported", () => {
    expect(() =>
      lax.scan(((c: NdArray) => [c, c]) as never, 0, np.ones([3]), {
        checkpoint: { snapshots: 0 },
      }),
    ).toThrow(ChainruleError);
    expect(() => lax.scan(((c: NdArray) => c) as never, 0, np.ones([3]))).toThrow(
      /must return a pair \[carry, y\]/,
    );
    expect(() => lax.scan(((c: NdArray) => [c, c]) as never, 0, null)).toThrow(
      /give xs or the length option/,
    );
    expect(() => lax.forILoop(0, 2.5, (_i: NdArray, c: NdArray) => c, 1)).toThrow(
      /upper must be an integer, got 2\.5/,
    );
  });
});
