/**
 * The imperative styles (PyTorch's requiresGrad/backward, TensorFlow's
 * GradientTape) against the functional transformations (grad, hessian,
 * jacrev) and analytic derivatives, including the seeds' cells.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ChainruleError,
  DTypeError,
  GradientTape,
  InvalidArgumentError,
  ShapeError,
  grad,
  hessian,
  jacrev,
  jit,
  makeJaxpr,
  noGrad,
  np,
} from "../src/index.js";
import { expectAllClose, randomArray, rng } from "./helpers.js";

/** A scalar function of a vector with sums, products, division and transcendental ops. */
const f = (x: NdArray): NdArray =>
  np
    .sum(
      np
        .sin(x)
        .mul(x.mul(x))
        .add(np.exp(x.div(3))),
    )
    .add(np.tanh(x.sum()).mul(2));

describe("requiresGrad and backward", () => {
  it("reproduces seed 004's PyTorch cell: mean(3 (x + 2)^2) at ones(2, 2) gives 4.5", () => {
    const x = np.ones([2, 2], { requiresGrad: true });
    const y = x.add(2);
    const z = y.mul(y).mul(3);
    const out = z.mean();
    expect(out.item()).toBe(27);
    out.backward();
    // d/dx mean(3 (x+2)^2) = 6 (x + 2) / 4 = 4.5 at x = 1 (analytic).
    expectAllClose(x.grad!, [4.5, 4.5, 4.5, 4.5]);
    expect(y.requiresGrad && z.requiresGrad).toBe(true);
  });

  it("agrees with grad on a random vector and accumulates until zeroGrad", () => {
    const x0 = randomArray(rng(3), [5]);
    const ref = grad(f)(x0);
    const x = np.array(x0, { requiresGrad: true });
    f(x).backward();
    expectAllClose(x.grad!, ref, 1e-12);
    f(x).backward();
    expectAllClose(x.grad!, ref.mul(2), 1e-12);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    f(x).backward();
    expectAllClose(x.grad!, ref, 1e-12);
  });

  it("differentiates with respect to several leaves and with a cotangent", () => {
    const a0 = randomArray(rng(4), [3]);
    const b0 = randomArray(rng(5), [3]);
    const ct = randomArray(rng(6), [3]);
    const g = (a: NdArray, b: NdArray): NdArray => np.sin(a).mul(b).add(b.mul(b));
    const loss = (a: NdArray, b: NdArray): NdArray => np.sum(g(a, b).mul(ct));
    const [ga, gb] = grad(loss, { argnums: [0, 1] })(a0, b0) as NdArray[];
    const a = np.array(a0, { requiresGrad: true });
    const b = np.array(b0, { requiresGrad: true });
    g(a, b).backward(ct);
    expectAllClose(a.grad!, ga!, 1e-12);
    expectAllClose(b.grad!, gb!, 1e-12);
  });

  it("gives second derivatives with createGraph, as hessian does", () => {
    const x0 = randomArray(rng(7), [4]);
    const H = hessian(f)(x0);
    const x = np.array(x0, { requiresGrad: true });
    f(x).backward(undefined, { createGraph: true });
    const g = x.grad!;
    expect(g.requiresGrad).toBe(true);
    // Row 1 of the Hessian: backward of g[1].
    x.zeroGrad();
    g.slice(1).backward();
    expectAllClose(x.grad!, H.slice(1), 1e-10);
  });

  it("reproduces seed 004's exp(2x) with create_graph and x^3's derivatives at 4", () => {
    const xs = np.linspace(0, 1, 7);
    const x = np.linspace(0, 1, 7, { requiresGrad: true });
    const y = np.exp(x.mul(2));
    y.backward(np.onesLike(y), { createGraph: true });
    expectAllClose(x.grad!, np.exp(xs.mul(2)).mul(2), 1e-14);
    const d1 = x.grad!;
    x.zeroGrad();
    d1.sum().backward();
    expectAllClose(x.grad!, np.exp(xs.mul(2)).mul(4), 1e-14);

    const t = np.array(4, { requiresGrad: true });
    let cur = t.pow(3);
    const orders: number[] = [];
    for (let k = 0; k < 4; k++) {
      t.zeroGrad();
      cur.backward(undefined, { createGraph: true });
      cur = t.grad!;
      orders.push(cur.item());
    }
    // 3x^2, 6x, 6, 0 at x = 4.
    expect(orders).toEqual([48, 24, 6, 0]);
  });

  it("creates leaves with every creation function that takes options", () => {
    const made = [
      np.zeros([2], { requiresGrad: true }),
      np.ones([2], { requiresGrad: true }),
      np.full([2], 3, { requiresGrad: true }),
      np.zerosLike(np.ones([2]), { requiresGrad: true }),
      np.onesLike(np.ones([2]), { requiresGrad: true }),
      np.fullLike(np.ones([2]), 2, { requiresGrad: true }),
      np.arange(0, 2, 1, { requiresGrad: true }),
      np.linspace(0, 1, 2, { requiresGrad: true }),
    ];
    for (const x of made) {
      expect(x.requiresGrad).toBe(true);
      // d/dx sum(x^2) = 2x, against the values themselves.
      x.mul(x).sum().backward();
      expectAllClose(x.grad!, x.detach().mul(2));
    }
    expect(np.zeros([2], { requiresGrad: false }).requiresGrad).toBe(false);
  });

  it("detach and noGrad cut the graph", () => {
    const x = np.array([1, 2], { requiresGrad: true });
    const d = x.mul(3).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.toArray()).toEqual([3, 6]);
    const n = noGrad(() => x.mul(x));
    expect(n.requiresGrad).toBe(false);
    // y = x * stop(x): dy/dx = stop(x) = x.
    x.mul(x.detach()).sum().backward();
    expectAllClose(x.grad!, [1, 2]);
  });

  it("keeps the eager values: item, toArray and printing work", () => {
    const x = np.array([1.5, 2], { requiresGrad: true });
    const y = x.mul(2);
    expect(y.toArray()).toEqual([3, 4]);
    expect(String(y)).toContain("requiresGrad=true");
    expect(+x.sum()).toBe(3.5);
  });

  it("runs jit inline on requiresGrad arguments", () => {
    const x0 = randomArray(rng(8), [3]);
    const x = np.array(x0, { requiresGrad: true });
    jit(f)(x).backward();
    expectAllClose(x.grad!, grad(f)(x0), 1e-12);
  });
});

describe("imperative errors", () => {
  it("refuses backward on a non-scalar without a cotangent, or a wrong cotangent", () => {
    const x = np.array([1, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(ShapeError);
    expect(() => x.mul(2).backward([1, 2, 3])).toThrow(/cotangent has shape \[3\]/);
    expect(() => x.mul(2).backward(np.array([1, 2], { dtype: "int32" }))).toThrow(DTypeError);
  });

  it("refuses a second backward without retainGraph, allows it with", () => {
    const x = np.array(2, { requiresGrad: true });
    const y = x.mul(x);
    y.backward();
    expect(() => y.backward()).toThrow(/retainGraph: true/);
    const z = x.mul(x).mul(x);
    x.zeroGrad();
    z.backward(undefined, { retainGraph: true });
    z.backward();
    expect(x.grad!.item()).toBe(24); // 2 * 3x^2
  });

  it("refuses .grad of a non-leaf, backward on plain arrays, and int leaves", () => {
    const x = np.array(2, { requiresGrad: true });
    expect(() => x.mul(3).grad).toThrow(/not a leaf/);
    expect(() => np.array(2).backward()).toThrow(/does not require grad/);
    expect(() => np.array([1, 2], { dtype: "int32", requiresGrad: true })).toThrow(DTypeError);
    expect(() => np.zeros([2], { requiresGrad: "yes" as unknown as boolean })).toThrow(
      InvalidArgumentError,
    );
  });

  it("refuses backward inside grad and captured requiresGrad arrays under jit", () => {
    const w = np.array([1, 2], { requiresGrad: true });
    expect(() =>
      grad((u: NdArray) => {
        const q = w.mul(u).sum();
        q.backward();
        return q;
      })(np.array(1)),
    ).toThrow(/inside a transformation/);
    expect(() =>
      grad((u: NdArray) => {
        w.sum().backward();
        return u;
      })(np.array(1)),
    ).toThrow(/inside a transformation/);
    expect(() => jit((u: NdArray) => u.mul(w).sum())(np.array([1, 1]))).toThrow(
      /requires grad.*captured from outside/,
    );
    expect(() => makeJaxpr((u: NdArray) => u.mul(w))(np.array([1, 1]))).toThrow(
      InvalidArgumentError,
    );
  });
});

describe("GradientTape", () => {
  it("reproduces seed 004's TensorFlow cells", () => {
    // x = 3: dy/dx of x^2 is 6 (a Variable: requiresGrad, watched automatically).
    const v = np.array(3, { requiresGrad: true });
    const t1 = new GradientTape();
    const y1 = t1.record(() => v.pow(2));
    expect((t1.gradient(y1, v) as NdArray).item()).toBe(6);
    // x^2 on [0, 10] and exp(2x) on [0, 1.23], watched explicitly.
    const x = np.linspace(0, 10, 100);
    const t2 = new GradientTape();
    const y2 = t2.record(() => {
      t2.watch(x);
      return x.pow(2);
    });
    expectAllClose(t2.gradient(y2, x) as NdArray, x.mul(2), 1e-13);
    const u = np.linspace(0, 1.23, 100);
    const t3 = new GradientTape();
    const y3 = t3.record(() => {
      t3.watch(u);
      return np.exp(u.mul(2));
    });
    expectAllClose(t3.gradient(y3, u) as NdArray, np.exp(u.mul(2)).mul(2), 1e-13);
  });

  it("agrees with grad and jacrev for several sources (persistent tape)", () => {
    const a = randomArray(rng(9), [3]);
    const b = randomArray(rng(10), [3]);
    const tape = new GradientTape({ persistent: true });
    const y = tape.record(() => {
      tape.watch([a, b]);
      return np
        .sin(a)
        .mul(b)
        .add(np.exp(a.mul(b)));
    });
    const g = (p: NdArray, q: NdArray): NdArray =>
      np
        .sin(p)
        .mul(q)
        .add(np.exp(p.mul(q)));
    const [ga, gb] = tape.gradient(y, [a, b]) as NdArray[];
    const [ra, rb] = grad((p: NdArray, q: NdArray) => np.sum(g(p, q)), { argnums: [0, 1] })(
      a,
      b,
    ) as NdArray[];
    expectAllClose(ga!, ra!, 1e-12);
    expectAllClose(gb!, rb!, 1e-12);
    expectAllClose(tape.jacobian(y, a) as NdArray, jacrev(g)(a, b), 1e-12);
    // A pytree of sources comes back in the same structure.
    const tree = tape.gradient(y, { first: a }) as { first: NdArray };
    expectAllClose(tree.first, ra!, 1e-12);
  });

  it("records nothing outside record, and nested tapes give second derivatives", () => {
    const x = np.array(0.7);
    const outer = new GradientTape();
    const d1 = outer.record(() => {
      outer.watch(x);
      const inner = new GradientTape();
      const y = inner.record(() => {
        inner.watch(x);
        return np.sin(x).mul(x);
      });
      return inner.gradient(y, x) as NdArray; // sin x + x cos x
    });
    const d2 = outer.gradient(d1, x) as NdArray; // 2 cos x - x sin x
    const xv = 0.7;
    expectAllClose(d1, Math.sin(xv) + xv * Math.cos(xv), 1e-14);
    expectAllClose(d2, 2 * Math.cos(xv) - xv * Math.sin(xv), 1e-14);
    const t = new GradientTape();
    t.watch(x);
    const outside = x.mul(x);
    t.record(() => x.add(1));
    expect((t.gradient(outside, x) as NdArray).item()).toBe(0);
  });

  it("refuses a second gradient on a non-persistent tape and bad sources", () => {
    const x = np.array(2);
    const tape = new GradientTape();
    const y = tape.record(() => (tape.watch(x), x.mul(x)));
    tape.gradient(y, x);
    expect(() => tape.gradient(y, x)).toThrow(/persistent: true/);
    expect(() => tape.jacobian(y, x)).toThrow(ChainruleError);
    const t2 = new GradientTape();
    expect(() => t2.watch(3)).toThrow(/not an Array/);
    expect(() => t2.watch(np.array([1], { dtype: "int32" }))).toThrow(DTypeError);
    expect(() => t2.gradient(3 as unknown as NdArray, x)).toThrow(InvalidArgumentError);
    expect(() => jit((u: NdArray) => t2.record(() => u.mul(2)))(np.array(1))).toThrow(
      /while tracing for jit/,
    );
  });

  it("refuses bad options, nested recording on one tape and mis-shaped output gradients", () => {
    expect(() => new GradientTape(3 as never)).toThrow(InvalidArgumentError);
    const tape = new GradientTape({ persistent: true });
    expect(() => tape.record(3 as never)).toThrow(/expected a function/);
    expect(() => tape.record(() => tape.record(() => 1))).toThrow(/already recording/);
    const x = np.array([1, 2]);
    const y = tape.record(() => (tape.watch(x), x.mul(x)));
    expect(() => tape.gradient(y, x, { outputGradients: np.ones([3]) })).toThrow(ShapeError);
    // With output gradients w: d(sum(w * x^2))/dx = 2 w x.
    expectAllClose(tape.gradient(y, x, { outputGradients: np.array([3, 5]) }) as NdArray, [6, 20]);
    expect(() => tape.gradient(y, [x, 2])).toThrow(/source 1 is a number/);
    expect(() => tape.gradient(y, np.array([1], { dtype: "int32" }))).toThrow(DTypeError);
    const w = np.array(1, { requiresGrad: true });
    expect(() => w.mul(w).backward(undefined, 3 as never)).toThrow(InvalidArgumentError);
  });
});
