/**
 * The loop primitives (`while`, `scan` and their linear and reverse-pass
 * primitives) with carries of mixed dtypes kept as they are, one scan whose
 * checkpoint semantics are the same eagerly and under jit, and derivatives
 * of the reverse pass (grad of grad) through staged loops. References: a
 * plain JS loop (values), float64 finite differences, and the unrolled
 * eager loop (gradients).
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ChainruleError,
  grad,
  hessian,
  jacfwd,
  jit,
  lax,
  makeJaxpr,
  np,
  vmap,
} from "../src/index.js";
import { lastSweep } from "../src/lax/scanProgram.js";
import { expectAllClose, fdScalar } from "./helpers.js";

const countEqns = (text: string, prim: string) =>
  text.split("\n").filter((l) => l.includes(` = ${prim}[`)).length;

const i32 = (v: number) => np.array(v, { dtype: "int32" });
const f32 = (v: number[]) => np.array(v, { dtype: "float32" });

interface Mixed {
  x: NdArray; // float64 scalar
  y: NdArray; // float32 [2]
  n: NdArray; // int32 counter
  done: NdArray; // bool
}

/** A whileLoop over a mixed carry; stops when x passes 3 or after `limit` steps. */
const mixedWhile = (a: NdArray, limit: NdArray | number) =>
  lax.whileLoop(
    (c: Mixed) => np.logicalAnd(np.logicalNot(c.done), np.less(c.n, limit)),
    (c: Mixed) => {
      const x = np.add(np.multiply(c.x, a), 0.25);
      return {
        x,
        y: np.multiply(c.y, a.astype("float32")),
        n: np.add(c.n, i32(1)),
        done: np.greater(x, 3),
      };
    },
    { x: np.array(0.5), y: f32([1, -2]), n: i32(0), done: np.array(false) },
  );

/** The same loop in plain JS (float32 rounding of y by Math.fround). */
function mixedWhileJs(a: number, limit: number): { x: number; y: number[]; n: number } {
  let x = 0.5;
  let y = [1, -2].map(Math.fround);
  let n = 0;
  let done = false;
  while (!done && n < limit) {
    x = x * a + 0.25;
    y = y.map((v) => Math.fround(v * Math.fround(a)));
    n++;
    done = x > 3;
  }
  return { x, y, n };
}

describe("while: mixed-dtype carries as they are (float64, float32, int32, bool)", () => {
  it("jit with a traced bound equals a JS loop, leaf by leaf and dtype by dtype", () => {
    const f = jit((a: NdArray, limit: NdArray) => mixedWhile(a, limit));
    for (const [a, limit] of [
      [1.5, 20],
      [1.1, 4],
    ] as const) {
      const text = makeJaxpr((av: NdArray, l: NdArray) => mixedWhile(av, l))(a, i32(limit));
      expect(countEqns(text.toString(), "while")).toBe(1);
      const out = f(np.array(a), i32(limit));
      const ref = mixedWhileJs(a, limit);
      expect(out.x.dtype).toBe("float64");
      expect(out.y.dtype).toBe("float32");
      expect(out.n.dtype).toBe("int32");
      expect(out.done.dtype).toBe("bool");
      expect(out.x.item()).toBe(ref.x);
      expect(Array.from(out.y.data())).toEqual(ref.y);
      expect(out.n.item()).toBe(ref.n);
    }
  });

  it("jit(grad), vmap and jacfwd through the staged loop equal the eager loop and finite differences", () => {
    const loss = (a: NdArray, limit: NdArray) => {
      const c = mixedWhile(a, limit);
      return np.add(c.x, np.sum(c.y.astype("float64")));
    };
    const a = 1.3;
    // float32 leaves: a wide step, so that rounding (1e-7) stays below the tolerance
    const fd = fdScalar((v) => loss(np.array(v), i32(6)).item(), a, 1e-3);
    const eager = grad(loss)(np.array(a), i32(6)); // concrete condition: unrolled in JS
    expectAllClose(jit(grad(loss))(np.array(a), i32(6)), eager, 1e-6);
    expectAllClose(jit(jacfwd(loss))(np.array(a), i32(6)), eager, 1e-6);
    expect(Math.abs(eager.item() - fd)).toBeLessThan(2e-3 * Math.abs(fd));
    // each element stops at its own trip count
    const as = np.array([1.1, 1.5, 2.0]);
    const batched = jit(vmap((av: NdArray) => mixedWhile(av, i32(20)).n))(as);
    expect(Array.from(batched.data())).toEqual([1.1, 1.5, 2.0].map((v) => mixedWhileJs(v, 20).n));
  });

  it("grad of grad through a loop with a traced condition is refused with the reason and advice", () => {
    const f = (a: NdArray) => mixedWhile(a, i32(5)).x;
    expect(() => jit(grad(grad(f)))(np.array(1.2))).toThrow(ChainruleError);
    expect(() => jit(grad(grad(f)))(np.array(1.2))).toThrow(
      /lax\.whileLoop: differentiating the reverse pass again.*trip count is known only when the loop runs.*jacfwd\(jacfwd\(f\)\)/,
    );
    // the advised alternative: forward over forward, against finite differences of the gradient
    const d2 = jit(jacfwd(jacfwd(f)))(np.array(1.2));
    const fd2 = fdScalar((v) => grad(f)(np.array(v)).item(), 1.2, 1e-5);
    expectAllClose(d2, fd2, 1e-6, 1e-8);
  });
});

interface ScanCarry {
  h: NdArray; // float32 [3]
  k: NdArray; // int32
  flag: NdArray; // bool
  s: NdArray; // float64
}

/** A scan over a mixed carry, ys a float64 row and a bool per step. */
const mixedScan =
  (opts: lax.ScanOptions) =>
  (w: NdArray, xs: NdArray): [ScanCarry, { r: NdArray; b: NdArray }] =>
    lax.scan(
      ((c: ScanCarry, x: NdArray) => {
        const h = np.tanh(np.add(np.multiply(c.h, w.astype("float32")), x.astype("float32")));
        const s = np.add(np.multiply(c.s, 0.9), np.sum(h.astype("float64")));
        const flag = np.logicalOr(c.flag, np.greater(s, 1));
        return [
          { h, k: np.add(c.k, i32(1)), flag, s },
          { r: np.multiply(s, w), b: flag },
        ];
      }) as never,
      { h: f32([0.1, -0.2, 0.3]), k: i32(0), flag: np.array(false), s: np.array(0) },
      xs,
      opts,
    );

const scanLoss = (opts: lax.ScanOptions) => (w: NdArray, xs: NdArray) => {
  const [c, ys] = mixedScan(opts)(w, xs);
  return np.add(np.add(c.s, np.sum(c.h.astype("float64"))), np.sum(ys.r));
};

describe("scan: mixed-dtype leaves, one scan eagerly and under jit", () => {
  const W = np.array(0.7);
  const XS = np.reshape(np.sin(np.arange(0, 24)), [8, 3]);

  it("the checkpointed scan gives the same values, dtypes and gradients eagerly and under jit", () => {
    const cp = { checkpoint: { snapshots: 3 } };
    const [ec, eys] = mixedScan(cp)(W, XS);
    const [jc, jys] = jit(mixedScan(cp))(W, XS) as [ScanCarry, { r: NdArray; b: NdArray }];
    const [pc, pys] = mixedScan({})(W, XS); // eager, unrolled in JS: the reference
    for (const [got, ref] of [
      [ec, pc],
      [jc, pc],
    ] as const) {
      expect(got.h.dtype).toBe("float32");
      expect(got.k.dtype).toBe("int32");
      expect(got.flag.dtype).toBe("bool");
      expect(Array.from(got.h.data())).toEqual(Array.from(ref.h.data()));
      expect(got.k.item()).toBe(8);
      expect(got.flag.item()).toBe(ref.flag.item());
      expect(got.s.item()).toBe(ref.s.item());
    }
    for (const ys of [eys, jys]) {
      expect(ys.b.dtype).toBe("bool");
      expect(Array.from(ys.b.data())).toEqual(Array.from(pys.b.data()));
      expect(Array.from(ys.r.data())).toEqual(Array.from(pys.r.data()));
    }
    // gradients: the same revolve schedule eagerly and under jit
    const ref = grad(scanLoss({}), { argnums: [0, 1] })(W, XS) as NdArray[];
    const eager = grad(scanLoss(cp), { argnums: [0, 1] })(W, XS) as NdArray[];
    const eagerStats = { ...lastSweep };
    const jitted = jit(grad(scanLoss(cp), { argnums: [0, 1] }))(W, XS) as NdArray[];
    expect(lastSweep.sweeps).toBe(eagerStats.sweeps + 1);
    expect(lastSweep.peakSnapshots).toBe(eagerStats.peakSnapshots);
    eager.forEach((g, i) => expectAllClose(g, ref[i]!, 1e-6));
    jitted.forEach((g, i) => expectAllClose(g, eager[i]!, 1e-12));
    const fd = fdScalar((v) => scanLoss({})(np.array(v), XS).item(), 0.7, 1e-3);
    expect(Math.abs(eager[0]!.item() - fd)).toBeLessThan(2e-3 * Math.abs(fd));
  });

  it("grad of grad through the staged scan under jit: one program for any length, the eager value", () => {
    const f = (T: number) => (w: NdArray) =>
      lax.scan(
        ((c: NdArray, x: NdArray) => [np.sin(np.add(np.multiply(c, w), x)), null]) as never,
        np.array(0.3),
        np.linspace(0, 1, T),
      )[0];
    for (const T of [5, 40]) {
      const eager = grad(grad(f(T)))(np.array(0.8)); // unrolled in JS
      expectAllClose(jit(grad(grad(f(T))))(np.array(0.8)), eager, 1e-11);
      expectAllClose(jit(hessian(f(T)))(np.array(0.8)), eager, 1e-11);
    }
    const small = makeJaxpr(grad(grad(f(5))))(np.array(0.8)).toString();
    const large = makeJaxpr(grad(grad(f(400))))(np.array(0.8)).toString();
    expect(large.split("\n").length).toBe(small.split("\n").length);
    expect(countEqns(large, "sin")).toBe(0); // every step inside scan equations
  });
});
