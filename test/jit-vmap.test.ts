/**
 * vmap of a jitted function runs one compiled, batched program: checked
 * against vmap of the plain function and against a loop of the jitted
 * function over the batch; the batched program is compiled once per
 * pattern, and grad/jvp around it still go inline (finite differences).
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  InvalidArgumentError,
  grad,
  jit,
  lax,
  np,
  random,
  vmap,
} from "../src/index.js";
import {
  expectAllClose,
  fdJacobian,
  fdScalar,
  flat,
  randomArray,
  rng,
  useBackendAtAllSizes,
} from "./helpers.js";
import { matmulT } from "../src/primitives/linalg.js";

const r = rng(7);

/** Element i of x along `axis` (the axis removed). */
const row = (x: NdArray, i: number, axis = 0): NdArray => np.take(x, i, axis);

/** f applied to each batch element (axis `axis` of every argument) in a JS loop, stacked on `outAxis`. */
function loop(
  f: (...a: NdArray[]) => NdArray,
  args: NdArray[],
  n: number,
  axis = 0,
  outAxis = 0,
): NdArray {
  const outs: NdArray[] = [];
  for (let i = 0; i < n; i++) outs.push(f(...args.map((a) => row(a, i, axis))));
  return np.stack(outs, outAxis);
}

describe("vmap(jit(f)) equals vmap(f) and a loop of f", () => {
  it("elementwise", () => {
    const f = (x: NdArray, y: NdArray) => np.add(np.multiply(np.sin(x), y), np.exp(y.mul(0.5)));
    const jf = jit(f);
    const x = randomArray(r, [5, 4]);
    const y = randomArray(r, [5, 4]);
    const out = vmap(jf)(x, y);
    expect(out.shape).toEqual([5, 4]);
    expectAllClose(out, vmap(f)(x, y));
    expectAllClose(out, loop(jf, [x, y], 5));
    expect(jf.batchedCacheSize).toBe(1);
  });

  it("reductions", () => {
    const f = (x: NdArray) => np.add(np.sum(np.square(x), 1), np.max(x, 0).mean());
    const jf = jit(f);
    const x = randomArray(r, [6, 3, 4]);
    expectAllClose(vmap(jf)(x), vmap(f)(x));
    expectAllClose(vmap(jf)(x), loop(jf, [x], 6));
    expect(jf.batchedCacheSize).toBe(1);
  });

  it("matmul with an unbatched matrix (inAxes null) and a closed-over bias", () => {
    const b = randomArray(r, [3]);
    const f = (w: NdArray, x: NdArray) => np.tanh(np.add(np.matmul(w, x), b));
    const jf = jit(f);
    const w = randomArray(r, [3, 4]);
    const xs = randomArray(r, [7, 4]);
    const out = vmap(jf, { inAxes: [null, 0] })(w, xs);
    expect(out.shape).toEqual([7, 3]);
    expectAllClose(out, vmap(f, { inAxes: [null, 0] })(w, xs));
    const rows: NdArray[] = [];
    for (let i = 0; i < 7; i++) rows.push(jf(w, row(xs, i)));
    expectAllClose(out, np.stack(rows));
    // batched matrices too
    const ws = randomArray(r, [7, 3, 4]);
    expectAllClose(vmap(jf)(ws, xs), loop(jf, [ws, xs], 7));
  });

  it("inAxes and outAxes other than 0", () => {
    const f = (x: NdArray) => np.cumsum(np.cos(x), 0);
    const jf = jit(f);
    const x = randomArray(r, [4, 6]);
    const out = vmap(jf, { inAxes: 1, outAxes: 1 })(x);
    expect(out.shape).toEqual([4, 6]);
    expectAllClose(out, vmap(f, { inAxes: 1, outAxes: 1 })(x));
    expectAllClose(out, loop(jf, [x], 6, 1, 1));
    const neg = vmap(jf, { inAxes: -1, outAxes: -1 })(x);
    expectAllClose(neg, out);
  });

  it("an output that does not depend on the batched argument is broadcast by vmap", () => {
    const c = randomArray(r, [3]);
    const jf = jit((x: NdArray, y: NdArray) => [np.sum(x), np.multiply(y, 2)]);
    const x = randomArray(r, [4, 2]);
    const [s, twice] = vmap(jf, { inAxes: [0, null] })(x, c);
    expectAllClose(s!, np.sum(x, 1));
    expect(twice!.shape).toEqual([4, 3]);
    expectAllClose(twice!, np.broadcastTo(np.multiply(c, 2), [4, 3]));
  });

  it("pytree arguments and outputs", () => {
    type P = { w: NdArray; b: NdArray };
    const f = (p: P, x: NdArray) => ({
      y: np.add(np.multiply(p.w, x), p.b),
      parts: [np.sum(x), np.negative(p.b)],
    });
    const jf = jit(f);
    const p = { w: randomArray(r, [3]), b: randomArray(r, [5, 3]) };
    const xs = randomArray(r, [5, 3]);
    const inAxes = [{ w: null, b: 0 }, 0];
    const out = vmap(jf, { inAxes })(p, xs);
    const ref = vmap(f, { inAxes })(p, xs);
    expectAllClose(out.y, ref.y);
    expectAllClose(out.parts[0]!, ref.parts[0]!);
    expectAllClose(out.parts[1]!, ref.parts[1]!);
    for (let i = 0; i < 5; i++) {
      const one = jf({ w: p.w, b: row(p.b, i) }, row(xs, i));
      expectAllClose(row(out.y, i), one.y);
      expectAllClose(row(out.parts[0]!, i), one.parts[0]!);
      expectAllClose(row(out.parts[1]!, i), one.parts[1]!);
    }
  });

  it("nested vmap: one batched program for both levels", () => {
    const f = (x: NdArray, y: NdArray) => np.sum(np.multiply(np.sin(x), y));
    const jf = jit(f);
    const x = randomArray(r, [3, 2, 4]);
    const y = randomArray(r, [2, 4]);
    // outer over axis 1 of x (size 2) and axis 0 of y; inner over axis 0 of x (size 3), y unbatched
    const g = (h: typeof f) =>
      vmap(vmap(h, { inAxes: [0, null] }), { inAxes: [1, 0], outAxes: 1 })(x, y);
    const out = g(jf);
    expect(out.shape).toEqual([3, 2]);
    expectAllClose(out, g(f));
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 2; j++) {
        const ref = jf(row(row(x, i), j), row(y, j));
        expectAllClose(flat(out)[i * 2 + j]!, flat(ref));
      }
    }
    expect(jf.batchedCacheSize).toBe(1);
  });

  it("nested vmap whose levels give the outputs different batch axes", () => {
    // the inner level batches B only (its batch lands on axis 1 of A·B's columns), the outer A only
    const jf = jit((a: NdArray, b: NdArray) => np.matmul(a, b));
    const as = randomArray(r, [5, 2, 3]);
    const bs = randomArray(r, [6, 3, 4]);
    const out = vmap(vmap(jf, { inAxes: [null, 0] }), { inAxes: [0, null] })(as, bs);
    expect(out.shape).toEqual([5, 6, 2, 4]);
    const ref: NdArray[] = [];
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 6; j++) ref.push(jf(row(as, i), row(bs, j)));
    }
    expectAllClose(out, np.stack(ref), 1e-12, 1e-14);
    expect(jf.batchedCacheSize).toBe(1);
  });

  it("a function closing over an outer vmap's variable still works (runs inline)", () => {
    const xs = randomArray(r, [3]);
    const ys = randomArray(r, [4, 2]);
    const out = vmap((x: NdArray) => vmap((y: NdArray) => jit((z: NdArray) => z.mul(x))(y))(ys))(
      xs,
    );
    expect(out.shape).toEqual([3, 4, 2]);
    const ex = flat(xs);
    const ey = flat(ys);
    expectAllClose(
      out,
      ex.flatMap((a) => ey.map((b) => a * b)),
    );
  });

  it("JS control flow on an unbatched argument's value still works (runs inline)", () => {
    let calls = 0;
    const f = (x: NdArray, n: NdArray) => {
      calls++;
      return n.item() > 0 ? np.sin(x) : np.cos(x);
    };
    const jf = jit(f);
    const x = randomArray(r, [4, 3]);
    const pos = vmap(jf, { inAxes: [0, null] })(x, np.array(1));
    const neg = vmap(jf, { inAxes: [0, null] })(x, np.array(-1));
    expectAllClose(
      pos,
      loop((v) => f(v, np.array(1)), [x], 4),
    );
    expectAllClose(
      neg,
      loop((v) => f(v, np.array(-1)), [x], 4),
    );
    expect(jf.batchedCacheSize).toBe(0);
    // the signature is remembered as inline-only: one inline run per call, no new trace attempt
    calls = 0;
    vmap(jf, { inAxes: [0, null] })(x, np.array(1));
    expect(calls).toBe(1);
  });

  it("a closed-over array that requires grad is recorded, as before", () => {
    const w = np.array([1, 2, 3], { requiresGrad: true });
    const jf = jit((x: NdArray) => np.sum(np.multiply(x, w)));
    const x = randomArray(r, [2, 3]);
    np.sum(vmap(jf)(x)).backward();
    // d/dw sum_i sum_j x_ij w_j = sum_i x_ij
    expectAllClose(w.grad!, np.sum(x, 0));
  });

  it("a function closing over a vmap variable, called on concrete arguments, runs inline", () => {
    // (before, jit traced it for the concrete arguments and failed on the captured tracer)
    const xs = randomArray(r, [3]);
    const ones = np.ones([2]);
    const out = vmap((x: NdArray) => jit((z: NdArray) => z.add(x))(ones))(xs);
    expectAllClose(
      out,
      flat(xs).flatMap((a) => [a + 1, a + 1]),
    );
  });

  it("random.uniform and random.normal over vmapped keys equal the loop of single calls", () => {
    const keys = random.split(random.key(3), 6);
    for (const draw of [
      (k: NdArray) => random.uniform(k, [50]),
      (k: NdArray) => random.normal(k, [7, 3], { dtype: "float32" }),
      (k: NdArray) => random.normal(k, [5]),
    ]) {
      const out = vmap(draw)(keys);
      const ref = loop(draw, [keys], 6);
      expect(out.shape).toEqual(ref.shape);
      expect(out.dtype).toBe(ref.dtype);
      expect(Array.from(out.data())).toEqual(Array.from(ref.data()));
    }
  });

  it("staged control flow (cond, whileLoop, scan) and integer outputs inside f", () => {
    const f = (x: NdArray) => {
      const c = lax.cond(
        x.gt(0.2),
        (v: NdArray) => v.mul(2),
        (v: NdArray) => v.neg(),
        x,
      );
      const w = lax.whileLoop(
        (v: NdArray) => v.lt(3),
        (v: NdArray) => v.add(0.7),
        c,
      );
      const [carry, ys] = lax.scan(
        (acc: NdArray, y: NdArray) => [acc.add(y), acc.mul(y)],
        w,
        np.array([0.5, 1, 1.5]),
      );
      return [carry, ys, w.astype("int32")];
    };
    const jf = jit(f);
    const xs = randomArray(r, [6]);
    const out = vmap(jf)(xs);
    expect(jf.batchedCacheSize).toBe(1);
    for (let i = 0; i < 6; i++) {
      const one = f(row(xs, i));
      one.forEach((v, j) => expectAllClose(row(out[j]!, i), v, 1e-14, 1e-15));
    }
    expect(out[2]!.dtype).toBe("int32");
  });

  it("nested vmap of a random draw over a [3, 4] grid of keys equals the double loop", () => {
    const keys = random.split(random.key(9), 12).reshape([3, 4, 2]);
    const draw = (k: NdArray) => random.normal(k, [5]);
    const out = vmap(vmap(draw))(keys);
    expect(out.shape).toEqual([3, 4, 5]);
    const rows: number[] = [];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 4; j++) rows.push(...flat(draw(row(row(keys, i), j))));
    }
    expect(flat(out)).toEqual(rows);
  });

  it("staticArgnums: a static argument is baked in and never batched", () => {
    let traces = 0;
    const jf = jit(
      (x: NdArray, power: number) => {
        traces++;
        return np.power(x, power);
      },
      { staticArgnums: 1 },
    );
    const x = randomArray(r, [4, 3]);
    const out2 = vmap((v: NdArray) => jf(v, 2))(x);
    const out3 = vmap((v: NdArray) => jf(v, 3))(x);
    expectAllClose(out2, np.square(x));
    expectAllClose(out3, np.multiply(np.square(x), x));
    expect(traces).toBe(2);
    expect(jf.batchedCacheSize).toBe(2);
  });
});

describe("vmap of a matrix product with one unbatched matrix (folded into rows or columns)", () => {
  // every flag combination, the batched operand on either side, batch axis 0, 1 or 2,
  // n = 1 (matrix-vector) and n > 1; against a loop of the unbatched product
  for (const [ta, tb] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const) {
    for (const n of [1, 3]) {
      it(`transposeA ${ta}, transposeB ${tb}, n = ${n}`, () => {
        const [m, k, size] = [4, 5, 6];
        const aShape = ta ? [k, m] : [m, k];
        const bShape = tb ? [n, k] : [k, n];
        const a = randomArray(r, aShape);
        const b = randomArray(r, bShape);
        const prod = (x: NdArray, y: NdArray) => matmulT(x, y, ta, tb);
        for (const axis of [0, 1, 2]) {
          const as = np.moveaxis(randomArray(r, [size, ...aShape]), 0, axis);
          const bs = np.moveaxis(randomArray(r, [size, ...bShape]), 0, axis);
          const left = vmap(prod, { inAxes: [axis, null] })(as, b);
          const right = vmap(prod, { inAxes: [null, axis] })(a, bs);
          const jitted = vmap(jit(prod), { inAxes: [null, axis] })(a, bs);
          const leftRef: NdArray[] = [];
          const rightRef: NdArray[] = [];
          for (let i = 0; i < size; i++) {
            leftRef.push(prod(row(as, i, axis), b));
            rightRef.push(prod(a, row(bs, i, axis)));
          }
          expect(left.shape).toEqual([size, m, n]);
          expectAllClose(left, np.stack(leftRef), 1e-12, 1e-14);
          expectAllClose(right, np.stack(rightRef), 1e-12, 1e-14);
          expectAllClose(jitted, np.stack(rightRef), 1e-12, 1e-14);
        }
      });
    }
  }
});

describe("gradients through the folded matrix-product batch rule", () => {
  it("grad of a vmapped matrix-vector and matrix-matrix product against finite differences", () => {
    const xs = randomArray(r, [5, 3]);
    const ys = randomArray(r, [5, 3, 2]);
    const loss = (w: NdArray) =>
      np.add(
        np.sum(np.square(vmap((x: NdArray) => np.matmul(w, x))(xs))),
        np.sum(np.sin(vmap((y: NdArray) => np.matmul(w, y))(ys))),
      );
    const w = randomArray(r, [4, 3]);
    expectAllClose(grad(loss)(w), fdJacobian(loss, w), 1e-6, 1e-8);
    const lossX = (x: NdArray) => np.sum(np.square(vmap((v: NdArray) => np.matmul(w, v))(x)));
    expectAllClose(grad(lossX)(xs), fdJacobian(lossX, xs), 1e-6, 1e-8);
  });
});

describe("the batched program is compiled once per pattern", () => {
  it("repeated calls reuse it; a new batch size or batch axis compiles another", () => {
    let traces = 0;
    const jf = jit((x: NdArray) => {
      traces++;
      return np.exp(np.sin(x));
    });
    const v = vmap(jf);
    const a = randomArray(r, [4, 3]);
    expectAllClose(v(a), np.exp(np.sin(a)));
    const b = randomArray(r, [4, 3]);
    expectAllClose(v(b), loop(jf, [b], 4));
    expect(traces).toBe(1);
    expect(jf.cacheSize).toBe(1);
    expect(jf.batchedCacheSize).toBe(1);
    v(randomArray(r, [5, 3])); // batch size 5: same per-example signature
    expect(traces).toBe(1);
    expect(jf.batchedCacheSize).toBe(2);
    vmap(jf, { inAxes: 1 })(randomArray(r, [3, 4])); // batch axis 1
    expect(jf.batchedCacheSize).toBe(3);
    jf(np.ones([3])); // the eager call shares the per-example trace
    expect(traces).toBe(1);
  });
});

describe("other transformations around vmap(jit f) still differentiate correctly", () => {
  const f = (x: NdArray) => np.sum(np.multiply(np.sin(x), x));
  const scalarF = (t: number) => Math.sin(t) * t;

  it("grad(vmap(jit f)) against finite differences", () => {
    const jf = jit(f);
    const x = randomArray(r, [3, 2]);
    const g = grad((z: NdArray) => np.sum(vmap(jf)(z).mul(np.array([1, 2, 3]))))(x);
    const weights = [1, 1, 2, 2, 3, 3];
    expectAllClose(
      g,
      flat(x).map((t, i) => weights[i]! * fdScalar(scalarF, t)),
      1e-7,
      1e-8,
    );
  });

  it("vmap(grad(jit f)) against the unjitted gradient and finite differences", () => {
    const jf = jit(f);
    const x = randomArray(r, [4, 3]);
    const g = vmap(grad(jf))(x);
    expectAllClose(g, vmap(grad(f))(x));
    expectAllClose(
      g,
      flat(x).map((t) => fdScalar(scalarF, t)),
      1e-7,
      1e-8,
    );
  });
});

describe("errors", () => {
  it("a batched value at a static position says to pass it as a dynamic argument", () => {
    const jf = jit((x: NdArray, p: NdArray) => np.multiply(x, p), { staticArgnums: 1 });
    const call = () => vmap((p: NdArray) => jf(np.ones([2]), p))(np.array([1, 2, 3]));
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(/static argument 1 is a traced array \(shape \[\], dtype float64\)/);
    // with a batched dynamic argument beside it, f runs inline (as before) and gets the value
    const out = vmap((x: NdArray, p: NdArray) => jf(x, p))(np.ones([3, 2]), np.array([1, 2, 3]));
    expectAllClose(out, [1, 1, 2, 2, 3, 3]);
  });

  it("lower() of a function closing over a vmap variable says to pass it as an argument", () => {
    const xs = randomArray(r, [3, 2]);
    const lowerInside = () =>
      vmap((x: NdArray) => {
        jit((z: NdArray) => z.mul(x)).lower(np.ones([2]));
        return x;
      })(xs);
    expect(lowerInside).toThrow(InvalidArgumentError);
    // names the captured value as the function sees it: one row of xs
    expect(lowerInside).toThrow(/traced value \(shape \[2\], dtype float64\).*closes over/);
  });
});

describe("on the wasm backend", () => {
  useBackendAtAllSizes("wasm");
  it("vmap(jit(f)) equals a loop of f, random draws included", () => {
    const f = (x: NdArray, w: NdArray) => np.tanh(np.matmul(w, np.sin(x)));
    const jf = jit(f);
    const xs = randomArray(r, [5, 4]);
    const w = randomArray(r, [3, 4]);
    const out = vmap(jf, { inAxes: [0, null] })(xs, w);
    const rows: NdArray[] = [];
    for (let i = 0; i < 5; i++) rows.push(jf(row(xs, i), w));
    expectAllClose(out, np.stack(rows), 1e-12, 1e-14);
    expect(jf.batchedCacheSize).toBe(1);
    const keys = random.split(random.key(11), 4);
    const draw = (k: NdArray) => random.uniform(k, [33], { dtype: "float32" });
    expect(Array.from(vmap(draw)(keys).data())).toEqual(Array.from(loop(draw, [keys], 4).data()));
  });
});
