/**
 * lax.scan staged under jit (src/lax/scanPrimitive.ts): one `scan` equation
 * whatever the length. Checked against the eager (unrolled) scan, plain JS
 * loops and float64 finite differences, under jit, jit(grad), grad(jit),
 * jit(vmap) and jvp inside jit; and the program size for T = 10 and 10,000.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  InvalidArgumentError,
  ShapeError,
  grad,
  hessian,
  jacfwd,
  jit,
  jvp,
  lax,
  makeJaxpr,
  np,
  vmap,
} from "../src/index.js";
import { lastSweep } from "../src/lax/scanProgram.js";
import { expectAllClose, fdScalar, randomArray, rng } from "./helpers.js";

type Carry = { h: NdArray; k: NdArray };
type Xs = { u: NdArray; v: NdArray };

/** A recurrent cell with a pytree carry (float vector + int32 step count) and pytree xs/ys. */
const cell = (w: NdArray, reverse: boolean) => (h0: NdArray, xs: Xs) =>
  lax.scan(
    (c: Carry, x: Xs) => {
      const h = np.tanh(np.add(np.multiply(w, c.h), np.multiply(x.u, x.v)));
      return [
        { h, k: np.add(c.k, 1) },
        { sq: np.multiply(h, h), s: np.sum(h) },
      ];
    },
    { h: h0, k: np.array(0, { dtype: "int32" }) },
    xs,
    { reverse },
  ) as [Carry, { sq: NdArray; s: NdArray }];

const loss = (reverse: boolean) => (w: NdArray, h0: NdArray, xs: Xs) => {
  const [c, ys] = cell(w, reverse)(h0, xs);
  return np.add(np.sum(np.multiply(c.h, c.h)), np.add(np.sum(ys.sq), np.sum(np.sin(ys.s))));
};

const r = rng(7);
const W = randomArray(r, [3]);
const H0 = randomArray(r, [3]);
const XS: Xs = { u: randomArray(r, [6, 3]), v: randomArray(r, [6, 3]) };

const countEqns = (text: string, prim: string) =>
  text.split("\n").filter((l) => l.includes(` = ${prim}[`)).length;

describe("lax.scan under jit is one staged scan equation", () => {
  it("jit(scan) equals the eager scan and a JS loop (pytrees, both directions)", () => {
    for (const reverse of [false, true]) {
      const eager = cell(W, reverse)(H0, XS);
      const jitted = jit(cell(W, reverse))(H0, XS) as [Carry, { sq: NdArray; s: NdArray }];
      expectAllClose(jitted[0].h, eager[0].h, 1e-14);
      expect(jitted[0].k.dtype).toBe("int32");
      expect(jitted[0].k.item()).toBe(6);
      expectAllClose(jitted[1].sq, eager[1].sq, 1e-14);
      expectAllClose(jitted[1].s, eager[1].s, 1e-14);
      // plain JS loop
      const w = Array.from(W.data());
      let h = Array.from(H0.data());
      const u = Array.from(XS.u.data());
      const v = Array.from(XS.v.data());
      const s = new Array<number>(6);
      for (let k = 0; k < 6; k++) {
        const t = reverse ? 5 - k : k;
        h = h.map((hj, j) => Math.tanh(w[j]! * hj + u[t * 3 + j]! * v[t * 3 + j]!));
        s[t] = h[0]! + h[1]! + h[2]!;
      }
      expectAllClose(jitted[0].h, h, 1e-12);
      expectAllClose(jitted[1].s, s, 1e-12);
    }
  });

  it("the program has the same size for T = 10 and T = 10,000, and runs 10,000 steps exactly", () => {
    const decay = (a: NdArray, xs: NdArray) =>
      lax.scan(
        (c: NdArray, x: NdArray) => [np.add(np.multiply(a, c), x), null],
        np.zeros([4]),
        xs,
      )[0];
    const a = np.array(0.999);
    const small = makeJaxpr(decay)(a, np.zeros([10, 4]));
    const large = makeJaxpr(decay)(a, np.zeros([10_000, 4]));
    expect(large.eqns.length).toBe(small.eqns.length);
    expect(countEqns(large.toString(), "scan")).toBe(1);
    const xs = np.reshape(np.cos(np.arange(0, 40_000)), [10_000, 4]);
    const out = jit(decay)(a, xs);
    const x = Array.from(xs.data());
    const c = [0, 0, 0, 0];
    for (let t = 0; t < 10_000; t++)
      for (let j = 0; j < 4; j++) c[j] = 0.999 * c[j]! + x[t * 4 + j]!;
    expectAllClose(out, c, 1e-10);
  });

  it("xs = null with the length option, and bool and int32 ys, keep their values and dtypes", () => {
    const f = (a: NdArray) =>
      lax.scan<NdArray, null, [NdArray, NdArray]>(
        (c: NdArray) => [np.add(c, a), [np.greater(c, 1), c.astype("int32")]],
        np.array(0.5),
        null,
        { length: 5 },
      );
    expect(countEqns(makeJaxpr(f)(np.array(0.4)).toString(), "scan")).toBe(1);
    const [c, [big, floor]] = jit(f)(np.array(0.4));
    const [ec, [ebig, efloor]] = f(np.array(0.4));
    expectAllClose(c, ec, 1e-15);
    expect(big.dtype).toBe("bool");
    expect(floor.dtype).toBe("int32");
    expect(Array.from(big.data())).toEqual(Array.from(ebig.data()));
    expect(Array.from(floor.data())).toEqual(Array.from(efloor.data()));
  });

  it("large ys are staged too (one scan equation writing rows in place), with eager values", () => {
    const withYs = (xs: NdArray) =>
      lax.scan((c: NdArray, x: NdArray) => [np.add(c, x), np.multiply(c, 2)], np.zeros([4]), xs);
    const rows = 1024;
    const staged = makeJaxpr(withYs)(np.zeros([rows + 1, 4])).toString();
    expect(countEqns(staged, "scan")).toBe(1);
    expect(countEqns(staged, "add")).toBe(0); // the step is inside the scan's program
    const xs = np.reshape(np.sin(np.arange(0, 4 * (rows + 1))), [rows + 1, 4]);
    const [c, ys] = jit(withYs)(xs);
    const [ec, eys] = withYs(xs);
    expectAllClose(c, ec, 1e-12);
    expectAllClose(ys, eys, 1e-12);
  });

  it("jit(grad) and grad(jit) equal the eager gradient and finite differences", () => {
    for (const reverse of [false, true]) {
      const f = loss(reverse);
      for (const argnums of [0, 1, 2] as const) {
        const eager = grad(f, { argnums })(W, H0, XS);
        const staged = jit(grad(f, { argnums }))(W, H0, XS);
        const outer = grad(jit(f), { argnums })(W, H0, XS);
        const leaves = (g: unknown) =>
          argnums === 2 ? [(g as Xs).u, (g as Xs).v] : [g as NdArray];
        leaves(eager).forEach((e, i) => {
          expectAllClose(leaves(staged)[i]!, e, 1e-10);
          expectAllClose(leaves(outer)[i]!, e, 1e-10);
        });
      }
      const fd = fdScalar((w0: number) => {
        const w = np.array([w0, ...Array.from(W.data()).slice(1)]);
        return f(w, H0, XS).item();
      }, W.data()[0]!);
      expectAllClose(jit(grad(f))(W, H0, XS).data()[0]!, fd, 1e-6, 1e-8);
    }
  });

  it("jit(grad) with the checkpoint option gives the same gradient", () => {
    const f = (w: NdArray) => {
      const [c, ys] = lax.scan(
        (c: NdArray, x: NdArray) => {
          const h = np.sin(np.add(np.multiply(w, c), x));
          return [h, np.sum(h)];
        },
        H0,
        XS.u,
        { checkpoint: { snapshots: 2 } },
      );
      return np.add(np.sum(c), np.sum(np.multiply(ys, ys)));
    };
    expectAllClose(jit(grad(f))(W), grad(f)(W), 1e-10);
  });

  it("jit(vmap), vmap(jit) and jvp inside jit equal the eager transforms", () => {
    const f = loss(false);
    const ws = np.stack([W, np.multiply(W, -0.5), np.add(W, 0.3)]);
    const byW = (w: NdArray) => f(w, H0, XS);
    const eager = vmap(byW)(ws);
    expectAllClose(jit(vmap(byW))(ws), eager, 1e-12);
    expectAllClose(vmap(jit(byW))(ws), eager, 1e-12);
    // per-example xs batched along axis 1 of u
    const us = np.stack([XS.u, np.multiply(XS.u, 2)], 1);
    const byU = (u: NdArray) => f(W, H0, { u, v: XS.v });
    expectAllClose(jit(vmap(byU, { inAxes: 1 }))(us), vmap(byU, { inAxes: 1 })(us), 1e-12);
    const dir = randomArray(r, [3]);
    const [p, t] = jvp(byW, [W], [dir]);
    const [jp, jt] = jit((w: NdArray, d: NdArray) => jvp(byW, [w], [d]))(W, dir);
    expectAllClose(jp, p, 1e-12);
    expectAllClose(jt, t, 1e-10);
    expectAllClose(jt, np.sum(np.multiply(grad(byW)(W), dir)), 1e-10);
  });

  it("second derivatives (hessian, grad of grad) under jit equal the eager ones", () => {
    const f = (w: NdArray) =>
      np.sum(
        lax.scan(
          (c: NdArray, x: NdArray) => [np.sin(np.add(np.multiply(w, c), x)), null],
          H0,
          XS.u,
        )[0],
      );
    const eager = hessian(f)(W);
    expectAllClose(jit(hessian(f))(W), eager, 1e-10);
    expectAllClose(hessian(jit(f))(W), eager, 1e-10);
    expectAllClose(jit(jacfwd(jacfwd(f)))(W), eager, 1e-10);
    const gg = (w: NdArray) => np.sum(grad(f)(w));
    expectAllClose(jit(grad(gg))(W), grad(gg)(W), 1e-10);
  });

  it("gradientHorizon under jit (staged) equals the eager values", () => {
    const f = (w: NdArray) => {
      const [c] = lax.scan(
        (c: NdArray, x: NdArray) => [np.tanh(np.add(np.multiply(w, c), x)), null],
        H0,
        XS.u,
        { gradientHorizon: 2 },
      );
      return np.sum(c);
    };
    expectAllClose(jit(grad(f))(W), grad(f)(W), 1e-12);
  });

  it("a step whose carry changes shape is a ShapeError naming lax.scan", () => {
    const bad = (xs: NdArray) =>
      lax.scan((c: NdArray, x: NdArray) => [np.concatenate([c, x]), null], np.zeros([2]), xs);
    expect(() => jit(bad)(np.zeros([3, 2]))).toThrow(ShapeError);
    expect(() => jit(bad)(np.zeros([3, 2]))).toThrow(/lax\.scan.*shape/);
  });
});

describe("lax.forILoop with the checkpoint option", () => {
  /** x_{i+1} = x_i + 0.1 sin(w x_i + i): T steps from lo. */
  const loop =
    (lo: number, hi: number, opts: { checkpoint?: { snapshots: number } }) => (w: NdArray) =>
      np.sum(
        lax.forILoop(
          lo,
          hi,
          (i: NdArray, x: NdArray) =>
            np.add(x, np.multiply(0.1, np.sin(np.add(np.multiply(w, x), i)))),
          H0,
          opts,
        ),
      );

  it("gives the unrolled loop's value and gradient, through the checkpointed scan", () => {
    for (const [lo, hi, snapshots] of [
      [0, 40, 3],
      [5, 17, 2],
      [-3, 60, 8],
    ] as const) {
      const plain = loop(lo, hi, {});
      const cp = loop(lo, hi, { checkpoint: { snapshots } });
      expectAllClose(cp(W), plain(W), 1e-14);
      const sweeps = lastSweep.sweeps;
      const g = grad(cp)(W);
      expect(lastSweep.sweeps).toBe(sweeps + 1); // the revolve backward sweep ran
      expect(lastSweep.peakSnapshots).toBeLessThanOrEqual(snapshots);
      expectAllClose(g, grad(plain)(W), 1e-11);
      expectAllClose(jit(grad(cp))(W), grad(plain)(W), 1e-11);
    }
  });

  it("an empty range returns the initial carry; a bad checkpoint is an InvalidArgumentError", () => {
    expectAllClose(loop(4, 4, { checkpoint: { snapshots: 2 } })(W), np.sum(H0), 0);
    expect(() => loop(0, 5, { checkpoint: { snapshots: 0 } })(W)).toThrow(InvalidArgumentError);
    expect(() => loop(0, 5, { checkpoint: { snapshots: 0 } })(W)).toThrow(
      /checkpoint\.snapshots must be a positive integer/,
    );
  });
});
