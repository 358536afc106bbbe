/**
 * The staged while loop (src/lax/while.ts): lax.whileLoop with a traced
 * condition and lax.forILoop with traced bounds, against plain JS loops,
 * finite differences and the eager (unrolled) loops; under jit, vmap with
 * per-element trip counts, forward mode, and their compositions.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ChainruleError,
  DTypeError,
  InvalidArgumentError,
  ShapeError,
  grad,
  hessian,
  jacfwd,
  jacrev,
  jit,
  jvp,
  lax,
  linearize,
  makeJaxpr,
  np,
  vjp,
  vmap,
} from "../src/index.js";
import { setCheckpointBudget } from "../src/lax/whileReverse.js";
import { expectAllClose, fdScalar } from "./helpers.js";

/** Newton's iteration for sqrt(a): [root, number of steps]. */
const newton = (a: NdArray) =>
  lax.whileLoop(
    (c: NdArray[]) => np.greater(np.abs(np.subtract(np.multiply(c[0]!, c[0]!), a)), 1e-12),
    (c: NdArray[]) => [np.multiply(0.5, np.add(c[0]!, np.divide(a, c[0]!))), np.add(c[1]!, 1)],
    [np.add(a, 1), np.array(0, { dtype: "int32" })],
  );
function plainNewton(a: number): [number, number] {
  let x = a + 1;
  let k = 0;
  while (Math.abs(x * x - a) > 1e-12) {
    x = 0.5 * (x + a / x);
    k++;
  }
  return [x, k];
}
const root = (a: NdArray) => newton(a)[0];

/** Counts up from 0 while i < n; also accumulates a float sum of i. */
const count = (n: NdArray) =>
  lax.whileLoop(
    (c: { i: NdArray; s: NdArray }) => np.less(c.i, n),
    (c: { i: NdArray; s: NdArray }) => ({ i: np.add(c.i, 1), s: np.add(c.s, c.i) }),
    { i: np.array(0, { dtype: "int32" }), s: np.array(0, { dtype: "float32" }) },
  );

const countEqns = (text: string, prim: string) =>
  text.split("\n").filter((l) => l.includes(` = ${prim}[`)).length;

describe("whileLoop with a traced condition (jit)", () => {
  it("Newton's iteration under jit equals the eager loop and a JS loop", () => {
    for (const a of [2, 9, 0.25, 1e4]) {
      const [x, k] = plainNewton(a);
      const [ex, ek] = newton(np.array(a));
      const [jx, jk] = jit(newton)(a) as NdArray[];
      expectAllClose(ex, x, 0);
      expectAllClose(jx!, x, 0);
      expect(ek.item()).toBe(k);
      expect(jk!.item()).toBe(k);
      expect(jk!.dtype).toBe("int32");
    }
  });
  it("a counting loop with a pytree carry of mixed dtypes", () => {
    const jitted = jit(count);
    for (const n of [0, 1, 7, 40]) {
      const out = jitted(np.array(n, { dtype: "int32" }));
      expect(out.i.item()).toBe(n);
      expect(out.s.dtype).toBe("float32");
      expect(out.s.item()).toBe((n * Math.max(n - 1, 0)) / 2);
    }
  });
  it("makeJaxpr shows one while equation; the condition and body are its parameters", () => {
    const text = makeJaxpr(newton)(2).toString();
    expect(countEqns(text, "while")).toBe(1);
    // the loop's arithmetic is inside the programs, not unrolled in the outer one
    expect(countEqns(text, "div")).toBe(0);
  });
  it("nested loops and a loop over arrays under jit", () => {
    // sum over i < n of (number of j < i): n (n - 1) / 2, by two nested while loops
    const nested = (n: NdArray) =>
      (
        lax.whileLoop(
          (c: NdArray[]) => np.less(c[0]!, n),
          (c: NdArray[]) => {
            const inner = lax.whileLoop(
              (d: NdArray[]) => np.less(d[0]!, c[0]!),
              (d: NdArray[]) => [np.add(d[0]!, 1), np.add(d[1]!, 1)],
              [np.array(0, { dtype: "int32" }), c[1]!],
            ) as NdArray[];
            return [np.add(c[0]!, 1), inner[1]!];
          },
          [np.array(0, { dtype: "int32" }), np.array(0, { dtype: "int32" })],
        ) as NdArray[]
      )[1]!;
    const text = makeJaxpr(nested)(np.array(5, { dtype: "int32" })).toString();
    expect(countEqns(text, "while")).toBe(1);
    for (const n of [0, 5, 12]) {
      expect(jit(nested)(np.array(n, { dtype: "int32" })).item()).toBe(
        (n * Math.max(n - 1, 0)) / 2,
      );
    }
    // an array carry: halve every entry until the largest is below 1
    const halve = (x: NdArray) =>
      lax.whileLoop(
        (c: NdArray) => np.greaterEqual(np.max(c), 1),
        (c: NdArray) => np.multiply(c, 0.5),
        x,
      );
    const data = [3, 17, 0.5, 100];
    let plain = data.slice();
    while (Math.max(...plain) >= 1) plain = plain.map((v) => v * 0.5);
    expectAllClose(jit(halve)(np.array(data)), plain, 0);
  });
});

describe("vmap of whileLoop: a predicate that differs per element", () => {
  it("each element stops at its own trip count (eager vmap, jit(vmap), vmap(jit))", () => {
    const as = [2, 9, 0.25, 1e4, 1];
    const expected = as.map(plainNewton);
    for (const g of [vmap(newton), jit(vmap(newton)), vmap(jit(newton))]) {
      const [x, k] = g(np.array(as)) as NdArray[];
      expectAllClose(
        x!,
        expected.map((e) => e[0]),
        0,
      );
      expect(Array.from(k!.data())).toEqual(expected.map((e) => e[1]));
    }
  });
  it("a batched bound and an unbatched carry; a batched closed-over value", () => {
    const ns = [3, 0, 5, 1];
    const out = vmap(count)(np.array(ns, { dtype: "int32" }));
    expect(Array.from(out.i.data())).toEqual(ns);
    expect(Array.from(out.s.data())).toEqual(ns.map((n) => (n * Math.max(n - 1, 0)) / 2));
    // the step size is batched, the predicate is batched through the carry
    const steps = (h: NdArray) =>
      lax.whileLoop(
        (c: NdArray[]) => np.less(c[0]!, 1),
        (c: NdArray[]) => [np.add(c[0]!, h), np.add(c[1]!, 1)],
        [np.array(0), np.array(0)],
      ) as NdArray[];
    const hs = [0.3, 0.5, 0.09, 2];
    const plain = hs.map((h) => {
      let [x, k] = [0, 0];
      while (x < 1) [x, k] = [x + h, k + 1];
      return [x, k];
    });
    const [x, k] = jit(vmap(steps))(np.array(hs));
    expectAllClose(
      x!,
      plain.map((p) => p[0]!),
      0,
    );
    expectAllClose(
      k!,
      plain.map((p) => p[1]!),
      0,
    );
  });
  it("vmap with inAxes 1 over a matrix of starting points", () => {
    const m = np.array([
      [2, 9, 4],
      [16, 0.5, 3],
    ]);
    const [x] = vmap(vmap(newton), { inAxes: 1 })(m) as NdArray[];
    expectAllClose(
      x!,
      [2, 16, 9, 0.5, 4, 3].map((a) => plainNewton(a)[0]),
      0,
    );
    expect(x!.shape).toEqual([3, 2]);
  });
});

describe("forward mode through the staged loop", () => {
  const dRoot = (a: number) => 0.5 / Math.sqrt(a);
  it("jvp of Newton's root inside jit equals the eager jvp, finite differences and 1/(2 sqrt a)", () => {
    const tangentJit = jit((a: NdArray) => jvp(root, [a], [1])[1]);
    for (const a of [2, 9, 0.25]) {
      const eager = jvp(root, [a], [1])[1];
      expectAllClose(tangentJit(a), eager, 1e-12);
      expectAllClose(tangentJit(a), dRoot(a), 1e-10);
      expectAllClose(
        tangentJit(a),
        fdScalar((v) => plainNewton(v)[0], a),
        1e-7,
      );
    }
  });
  it("jacfwd under jit and vmap of jvp (per-element trip counts with tangents)", () => {
    const as = [2, 9, 0.25, 1e4];
    const j = jit(jacfwd((v: NdArray) => vmap(root)(v)))(np.array(as));
    const diag = as.flatMap((a, i) => as.map((_, k) => (i === k ? dRoot(a) : 0)));
    expectAllClose(j, diag, 1e-10, 1e-14);
    const perElement = vmap((a: NdArray) => jvp(root, [a], [1])[1])(np.array(as));
    expectAllClose(perElement, as.map(dRoot), 1e-10);
  });
  it("tangents of closed-over values and of an int counter (zero)", () => {
    // x_{k+1} = x_k * w until x > 10, from x_0 = 1: x = w^K, d/dw = K w^(K-1)
    const powUntil = (w: NdArray) =>
      lax.whileLoop(
        (c: NdArray[]) => np.lessEqual(c[0]!, 10),
        (c: NdArray[]) => [np.multiply(c[0]!, w), np.add(c[1]!, 1)],
        [np.array(1), np.array(0, { dtype: "int32" })],
      ) as NdArray[];
    for (const w of [1.5, 3, 11]) {
      let k = 0;
      while (Math.pow(w, k) <= 10) k++;
      const tangents = jit((v: NdArray) => jvp(powUntil, [v], [1])[1])(w);
      expectAllClose(tangents[0]!, k * Math.pow(w, k - 1), 1e-12);
      expect(tangents[1]!.item()).toBe(0);
    }
  });
});

describe("forILoop with traced bounds", () => {
  const body = (i: NdArray, c: NdArray) =>
    np.add(np.multiply(c, 0.99), np.multiply(np.sin(c), np.divide(i.astype("float64"), 100)));
  const plain = (x: number, lo: number, hi: number) => {
    for (let i = lo; i < hi; i++) x = x * 0.99 + Math.sin(x) * (i / 100);
    return x;
  };
  const loop = (x: NdArray, n: NdArray) => lax.forILoop(0, n, body, x);
  it("equals the unrolled loop and a JS loop; bounds can be float numbers passed to jit", () => {
    const f = jit(loop);
    for (const n of [0, 1, 25, 300]) {
      expectAllClose(f(0.7, n), plain(0.7, 0, n), 1e-13);
      expectAllClose(f(0.7, n), lax.forILoop(0, n, body, np.array(0.7)), 0);
    }
    // a traced lower bound
    const g = jit((x: NdArray, lo: NdArray) => lax.forILoop(lo, 40, body, x));
    expectAllClose(g(0.3, np.array(10, { dtype: "int32" })), plain(0.3, 10, 40), 1e-13);
  });
  it("the program does not grow with the trip count", () => {
    const small = jit(loop).lower(0.5, 10).jaxpr.eqns.length;
    const large = jit(loop).lower(0.5, 100000).jaxpr.eqns.length;
    expect(large).toBe(small);
    expect(countEqns(makeJaxpr(loop)(0.5, 100000).toString(), "while")).toBe(1);
    expect(countEqns(makeJaxpr(loop)(0.5, 100000).toString(), "sin")).toBe(0);
    // 100,000 steps of an array carry run (and agree with a JS loop)
    const x = np.array([0.1, -0.4]);
    const out = jit(loop)(x, 100000);
    expectAllClose(out, [plain(0.1, 0, 100000), plain(-0.4, 0, 100000)], 1e-9);
  });
  it("vmap over the upper bound: per-element trip counts", () => {
    const ns = [0, 3, 10, 7];
    const out = vmap(loop, { inAxes: [null, 0] })(0.5, np.array(ns, { dtype: "int32" }));
    expectAllClose(
      out,
      ns.map((n) => plain(0.5, 0, n)),
      1e-14,
    );
  });
  it("forward mode through traced bounds equals finite differences", () => {
    const t = jit((x: NdArray, n: NdArray) => jvp((y: NdArray) => loop(y, n), [x], [1])[1]);
    expectAllClose(
      t(0.7, 30),
      fdScalar((x) => plain(x, 0, 30), 0.7),
      1e-7,
    );
  });
});

describe("reverse mode through the staged loop (run forwards, then backwards, at run time)", () => {
  const dRoot = (a: number) => 0.5 / Math.sqrt(a);
  it("jit(grad) of Newton's root equals the eager (unrolled) grad and 1/(2 sqrt a)", () => {
    const g = jit(grad(root));
    for (const a of [2, 9, 0.25, 1e4]) {
      expectAllClose(g(a), grad(root)(a), 1e-13);
      expectAllClose(g(a), dRoot(a), 1e-9);
    }
    // the program holds the loop once: one while (primal) and one whileVjp (backward)
    const text = makeJaxpr(grad(root))(2).toString();
    expect(countEqns(text, "whileVjp")).toBe(1);
  });
  it("vmap(grad) and jit(vmap(grad)): each element's own trip count", () => {
    const as = [2, 9, 0.25, 1e4];
    expectAllClose(vmap(grad(root))(np.array(as)), as.map(dRoot), 1e-9);
    expectAllClose(jit(vmap(grad(root)))(np.array(as)), as.map(dRoot), 1e-9);
    // grad of a vmapped loop (the batched loop's reverse pass) and an empty batch
    const total = (x: NdArray) => np.sum(vmap(root)(x));
    expectAllClose(grad(total)(np.array(as)), as.map(dRoot), 1e-9);
    expectAllClose(jit(grad(total))(np.array(as)), as.map(dRoot), 1e-9);
    expect(vmap(grad(root))(np.zeros([0])).shape).toEqual([0]);
    // linearize's forward map replays the loop's tangent map (per-element loops inside vmap)
    const [out, tangentMap] = linearize(vmap(root), np.array(as));
    expectAllClose(
      out,
      as.map((a) => plainNewton(a)[0]),
      0,
    );
    expectAllClose(
      tangentMap(np.array([1, 2, 0, 1])),
      [dRoot(2), 2 * dRoot(9), 0, dRoot(1e4)],
      1e-9,
    );
  });
  it("forILoop with a traced trip count: jit(grad) and jacrev equal the unrolled loop's", () => {
    // carry c <- sin(c) * x + c / 2 with x closed over (its cotangent sums over the steps)
    const step = (x: NdArray) => (_i: NdArray, c: NdArray) =>
      np.add(np.multiply(np.sin(c), x), np.divide(c, 2));
    const traced = (x: NdArray, n: NdArray) => np.sum(lax.forILoop(0, n, step(x), x));
    const unrolled = (x: NdArray, n: number) => np.sum(lax.forILoop(0, n, step(x), x));
    const x = np.array([0.5, -1.25, 2]);
    for (const n of [0, 1, 6]) {
      expectAllClose(jit(grad(traced))(x, n), grad((v: NdArray) => unrolled(v, n))(x), 1e-14);
    }
    const vec = (v: NdArray, n: NdArray) => lax.forILoop(0, n, step(v), v);
    expectAllClose(
      jit(jacrev(vec))(x, 5),
      jacrev((v: NdArray) => lax.forILoop(0, 5, step(v), v))(x),
      1e-14,
    );
    // vjp with a cotangent, and linearize's forward map through the staged loop
    const [, pullback] = vjp((v: NdArray) => jit(vec)(v, 4), x);
    const ct = np.array([1, -2, 0.5]);
    const expected = vjp((v: NdArray) => lax.forILoop(0, 4, step(v), v), x)[1](ct)[0];
    expectAllClose(pullback(ct)[0], expected, 1e-14);
  });
  it("with a small memory budget (thinned checkpoints, recomputed segments) the gradient is unchanged", () => {
    const step = (x: NdArray) => (_i: NdArray, c: NdArray) =>
      np.add(np.multiply(np.sin(c), x), np.divide(c, 2));
    const traced = (x: NdArray, n: NdArray) => np.sum(lax.forILoop(0, n, step(x), x));
    const x = np.array([0.5, -1.25, 2]);
    const carryBytes = 3 * 8 + 4; // the [3] float64 carry (and the int32 counter)
    for (const kept of [2, 3, 5, 1000]) {
      const previous = setCheckpointBudget(kept * carryBytes);
      try {
        for (const n of [1, 2, 7, 37]) {
          const expected = grad((v: NdArray) => np.sum(lax.forILoop(0, n, step(v), v)))(x);
          expectAllClose(jit(grad(traced))(x, n), expected, 1e-14);
        }
      } finally {
        setCheckpointBudget(previous);
      }
    }
  });
  it("jvp, grad and finite differences agree on a loop with an int counter and two float leaves", () => {
    // (x, y) <- (x cos y, y + x / 10) until the counter reaches n
    const f = (v: NdArray, n: NdArray) => {
      const out = lax.whileLoop(
        (c: NdArray[]) => np.less(c[0]!, n),
        (c: NdArray[]) => [
          np.add(c[0]!, 1),
          np.multiply(c[1]!, np.cos(c[2]!)),
          np.add(c[2]!, np.divide(c[1]!, 10)),
        ],
        [np.array(0, { dtype: "int32" }), np.take(v, 0), np.take(v, 1)],
      ) as NdArray[];
      return np.add(out[1]!, np.multiply(out[2]!, out[2]!));
    };
    const plain = (x: number, y: number, n: number) => {
      for (let k = 0; k < n; k++) [x, y] = [x * Math.cos(y), y + x / 10];
      return x + y * y;
    };
    const v = np.array([0.8, 0.3]);
    const n = np.array(7, { dtype: "int32" });
    const g = jit(grad(f))(v, n);
    expectAllClose(
      g,
      [fdScalar((x) => plain(x, 0.3, 7), 0.8), fdScalar((y) => plain(0.8, y, 7), 0.3)],
      1e-7,
    );
    const forward = [0, 1].map((j) =>
      jit((w: NdArray) => jvp((u: NdArray) => f(u, n), [w], [np.eye(2).slice(j)])[1])(v).item(),
    );
    expectAllClose(g, forward, 1e-13);
  });
  it("second-order reverse mode through a traced loop is refused with advice", () => {
    const msg = /lax\.whileLoop: .*(hessian|grad of grad).*traced condition.*jacfwd\(jacfwd/;
    expect(() => jit(grad(grad(root)))(2)).toThrow(ChainruleError);
    expect(() => jit(grad(grad(root)))(2)).toThrow(msg);
    expect(() => jit(hessian(root))(2)).toThrow(msg);
    // the advised alternative
    expectAllClose(jit(jacfwd(jacfwd(root)))(2), -0.25 * Math.pow(2, -1.5), 1e-9);
    // and the concrete paths keep working
    expectAllClose(grad(grad(jit(root)))(2), -0.25 * Math.pow(2, -1.5), 1e-9);
  });
});

describe("bad input", () => {
  it("a body that changes the carry's dtype, shape or structure; a non-scalar condition", () => {
    const n = np.array(3, { dtype: "int32" });
    const dtypeChange = () =>
      jit((m: NdArray) =>
        lax.whileLoop(
          (i: NdArray) => np.less(i, m),
          (i: NdArray) => np.add(i, np.array(0.5)),
          np.array(0, { dtype: "int32" }),
        ),
      )(n);
    expect(dtypeChange).toThrow(DTypeError);
    // a JS number carry is float64, here the body makes it int32
    expect(() =>
      jit((m: NdArray) =>
        lax.whileLoop(
          (i: NdArray) => np.less(i, m),
          (i: NdArray) => np.add(i, 1).astype("int32"),
          0,
        ),
      )(n),
    ).toThrow(
      /lax\.whileLoop: carry is int32\[\] in the body's new carry but float64\[\] in the initial carry/,
    );
    expect(() =>
      jit((x: NdArray) =>
        lax.whileLoop(
          (c: NdArray) => np.less(np.sum(c), 10),
          (c: NdArray) => np.concatenate([c, c]),
          x,
        ),
      )(np.ones([2])),
    ).toThrow(ShapeError);
    expect(() =>
      jit((x: NdArray) =>
        lax.whileLoop(
          (c: NdArray[]) => np.less(c[0]!, 10),
          (c: NdArray[]) => [np.add(c[0]!, 1)],
          [x, x],
        ),
      )(1),
    ).toThrow(InvalidArgumentError);
    expect(() =>
      jit((x: NdArray) =>
        lax.whileLoop(
          (c: NdArray) => np.less(c, 10),
          (c: NdArray) => np.add(c, 1),
          x,
        ),
      )(np.ones([2])),
    ).toThrow(/lax\.whileLoop: the predicate must be a scalar, got shape \[2\]/);
    expect(() =>
      jit((x: NdArray, hi: NdArray) => lax.forILoop(0, hi, (_i: NdArray, c: NdArray) => c, x))(
        1,
        np.array(true),
      ),
    ).toThrow(/lax\.forILoop: upper must be an integer, got a bool array/);
  });
});
