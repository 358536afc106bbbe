/**
 * Transformations composed with each other, checked against finite
 * differences, the other AD mode, analytic formulas or plain loops.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  grad,
  hessian,
  jacfwd,
  jacobian,
  jacrev,
  jit,
  jvp,
  linearize,
  makeJaxpr,
  nn,
  np,
  stopGradient,
  valueAndGrad,
  vjp,
  vmap,
} from "../src/index.js";
import { expectAllClose, fdJacobian, fdScalar, flat, randomArray, rng } from "./helpers.js";

const r = rng(42);

describe("nesting to any depth", () => {
  // h(x) = sin(x) exp(x); derivatives: h^(k) = 2^(k/2) exp(x) sin(x + k pi/4)
  const h = (x: NdArray) => np.multiply(np.sin(x), np.exp(x));
  const analytic = (k: number, x: number) =>
    2 ** (k / 2) * Math.exp(x) * Math.sin(x + (k * Math.PI) / 4);
  it("grad of grad up to order 4 and 5", () => {
    let d: (x: number) => NdArray = (v) => h(np.array(v));
    for (let k = 1; k <= 5; k++) {
      d = grad(d);
      expectAllClose(d(0.7), analytic(k, 0.7), 1e-11);
    }
  });
  it("forward over forward (jvp of jvp) gives the second derivative", () => {
    const d1 = (x: NdArray) => jvp(h, [x], [1])[1];
    expectAllClose(jvp(d1, [0.3], [1])[1], analytic(2, 0.3), 1e-12);
  });
  it("jvp of grad is a Hessian-vector product", () => {
    const f = (x: NdArray) => np.sum(np.multiply(np.sin(x), np.square(x)));
    const x = randomArray(r, [4]);
    const v = randomArray(r, [4]);
    const hvp = jvp(grad(f), [x], [v])[1];
    expectAllClose(hvp, np.matmul(hessian(f)(x), v), 1e-12);
    expectAllClose(hvp, np.matmul(fdJacobian(grad(f), x), v), 1e-6, 1e-8);
  });
  it("vjp of jvp transposes the directional derivative", () => {
    const f = (x: NdArray) => np.tanh(np.multiply(x, np.array([1, 2, 3])));
    const x = randomArray(r, [3]);
    const v = randomArray(r, [3]);
    const u = randomArray(r, [3]);
    const dirDeriv = (y: NdArray) => jvp(f, [y], [v])[1];
    const [, pullback] = vjp(dirDeriv, x);
    // d/dx <u, J(x) v> by reverse mode vs finite differences
    const g = (y: NdArray) => np.sum(np.multiply(u, dirDeriv(y)));
    expectAllClose(pullback(u)[0], fdJacobian(g, x), 1e-6, 1e-8);
  });
  it("perturbation confusion cannot happen: d/dx [x * d/dy (x + y)] = 1", () => {
    const inner = (x: NdArray) => grad((y: NdArray) => np.add(x, y))(3);
    expectAllClose(grad((x: NdArray) => np.multiply(x, inner(x)))(2), 1, 0);
    // d/dx [x * d/dy (x y)]|_y=3 = d/dx x^2 = 2x
    const inner2 = (x: NdArray) => grad((y: NdArray) => np.multiply(x, y))(3);
    expectAllClose(grad((x: NdArray) => np.multiply(x, inner2(x)))(1.5), 3, 1e-14);
  });
});

describe("vmap with differentiation", () => {
  const f = (w: NdArray, x: NdArray) => np.sum(np.tanh(np.multiply(w, x)));
  it("vmap of grad equals a loop of grads", () => {
    const xs = randomArray(r, [5, 3]);
    const w = randomArray(r, [3]);
    const batched = vmap(grad(f), { inAxes: [null, 0] })(w, xs);
    const loop = np.stack(
      flat(np.arange(5)).map((i) => grad(f)(w, np.take(xs, [i], 0).reshape([3]))),
    );
    expectAllClose(batched, loop, 1e-14);
  });
  it("grad of vmap equals the sum of per-example gradients", () => {
    const xs = randomArray(r, [5, 3]);
    const w = randomArray(r, [3]);
    const total = (w: NdArray) => np.sum(vmap((x: NdArray) => f(w, x))(xs));
    const perExample = vmap(grad(f), { inAxes: [null, 0] })(w, xs);
    expectAllClose(grad(total)(w), np.sum(perExample, 0), 1e-13);
  });
  it("vmap of vmap equals an outer loop", () => {
    const g = (a: NdArray, b: NdArray) => np.multiply(np.sin(a), b);
    const a = randomArray(r, [3]);
    const b = randomArray(r, [4]);
    const table = vmap(vmap(g, { inAxes: [null, 0] }), { inAxes: [0, null] })(a, b);
    expect(table.shape).toEqual([3, 4]);
    const av = flat(a);
    const bv = flat(b);
    expectAllClose(
      table,
      av.flatMap((x) => bv.map((y) => Math.sin(x) * y)),
      1e-15,
    );
  });
  it("outAxes moves the batch axis", () => {
    const out = vmap((x: NdArray) => np.multiply(x, 2), { outAxes: 1 })(np.ones([3, 2]));
    expect(out.shape).toEqual([2, 3]);
  });
});

describe("Jacobians", () => {
  const f = (x: NdArray) => np.stack([np.sum(np.sin(x)), np.prod(x)]);
  it("jacfwd equals jacrev equals finite differences, R^3 -> R^2", () => {
    const x = randomArray(r, [3], 0.5, 1.5);
    const jf = jacfwd(f)(x);
    expect(jf.shape).toEqual([2, 3]);
    expectAllClose(jacrev(f)(x), jf, 1e-14);
    expectAllClose(jf, fdJacobian(f, x), 1e-7, 1e-9);
    expectAllClose(jacobian(f)(x), jf, 1e-14);
  });
  it("matrix input, vector output: shape out.shape ++ in.shape", () => {
    const m = randomArray(r, [2, 3]);
    const h = (m: NdArray) => np.concatenate([np.sum(np.square(m), 0), np.sum(m, 1)]);
    const jf = jacfwd(h)(m);
    expect(jf.shape).toEqual([5, 2, 3]);
    expectAllClose(jacrev(h)(m), jf, 1e-14);
    expectAllClose(jf, fdJacobian(h, m), 1e-7, 1e-9);
  });
  it("pytree inputs and outputs follow JAX's layout", () => {
    const model = (p: { w: NdArray; b: NdArray }) => ({
      y: np.add(np.matmul(p.w, np.array([1, 2])), p.b),
      s: np.sum(p.w),
    });
    const params = { w: randomArray(r, [3, 2]), b: randomArray(r, [3]) };
    const jf = jacfwd(model)(params);
    const jr = jacrev(model)(params);
    expect(jf.y.w.shape).toEqual([3, 3, 2]);
    expect(jf.y.b.shape).toEqual([3, 3]);
    expect(jf.s.w.shape).toEqual([3, 2]);
    expect(jf.s.b.shape).toEqual([3]);
    for (const o of ["y", "s"] as const) {
      for (const i of ["w", "b"] as const) expectAllClose(jr[o][i], jf[o][i], 1e-14);
    }
    // dy_i/db_j = delta_ij; dy_i/dw_jk = delta_ij * [1, 2]_k
    expectAllClose(jf.y.b, np.eye(3), 0);
    expectAllClose(jf.s.w, np.ones([3, 2]), 0);
  });
  it("hessian equals finite differences of the gradient", () => {
    const f2 = (x: NdArray) =>
      np.sum(np.multiply(np.exp(np.multiply(x, 0.3)), np.sin(np.cumsum(x))));
    const x = randomArray(r, [3]);
    expectAllClose(hessian(f2)(x), fdJacobian(grad(f2), x), 1e-6, 1e-8);
  });
  it("argnums with a list gives one Jacobian per argument", () => {
    const g = (a: NdArray, b: NdArray) => np.multiply(a, np.sin(b));
    const a = randomArray(r, [2]);
    const b = randomArray(r, [2]);
    const [ja, jb] = jacrev(g, { argnums: [0, 1] })(a, b) as NdArray[];
    expectAllClose(ja!, np.multiply(np.eye(2), np.sin(b)), 1e-15);
    expectAllClose(jb!, np.multiply(np.eye(2), np.multiply(a, np.cos(b))), 1e-15);
  });
});

describe("grad options", () => {
  const f = (x: NdArray, y: NdArray) => np.sum(np.multiply(np.square(x), y));
  it("argnums number and list", () => {
    const x = randomArray(r, [3]);
    const y = randomArray(r, [3]);
    expectAllClose(grad(f, { argnums: 1 })(x, y), np.square(x), 1e-15);
    const [gx, gy] = grad(f, { argnums: [0, 1] })(x, y) as NdArray[];
    expectAllClose(gx!, np.multiply(np.multiply(x, y), 2), 1e-15);
    expectAllClose(gy!, np.square(x), 1e-15);
  });
  it("hasAux with grad and valueAndGrad", () => {
    const withAux = (x: NdArray): [NdArray, { norm: NdArray }] => [
      np.sum(np.square(x)),
      { norm: np.sqrt(np.sum(np.square(x))) },
    ];
    const x = np.array([3, 4]);
    const [g, aux] = grad(withAux, { hasAux: true })(x);
    expectAllClose(g, [6, 8], 0);
    expectAllClose(aux.norm, 5, 1e-15);
    const [[value, aux2], g2] = valueAndGrad(withAux, { hasAux: true })(x);
    expectAllClose(value, 25, 0);
    expectAllClose(aux2.norm, 5, 1e-15);
    expectAllClose(g2, [6, 8], 0);
  });
  it("linearize gives the same tangents as jvp", () => {
    const g = (x: NdArray) => np.multiply(np.sin(x), np.exp(x));
    const x = randomArray(r, [3]);
    const [out, fJvp] = linearize(g, x);
    expectAllClose(out, g(x), 0);
    for (let k = 0; k < 3; k++) {
      const v = randomArray(r, [3]);
      expectAllClose(fJvp(v), jvp(g, [x], [v])[1], 1e-14);
    }
  });
  it("stopGradient: grad of x * stopGradient(x) is x", () => {
    expectAllClose(grad((x: NdArray) => np.multiply(x, stopGradient(x)))(1.7), 1.7, 0);
  });
});

describe("jit", () => {
  const f = (x: NdArray) => np.sum(np.multiply(np.sin(x), np.exp(np.multiply(x, 0.5))));
  it("agrees with eager evaluation and composes with every transform", () => {
    const x = randomArray(r, [4]);
    expectAllClose(jit(f)(x), f(x), 1e-15);
    expectAllClose(grad(jit(f))(x), grad(f)(x), 1e-15);
    expectAllClose(jit(grad(f))(x), grad(f)(x), 1e-15);
    expectAllClose(jit(jit(f))(x), f(x), 1e-15);
    const xs = randomArray(r, [3, 4]);
    expectAllClose(vmap(jit(f))(xs), vmap(f)(xs), 1e-15);
    expectAllClose(jit(vmap(f))(xs), vmap(f)(xs), 1e-15);
    expectAllClose(jit(hessian(f))(x), hessian(f)(x), 1e-14);
  });
  it("traces once per shape/dtype signature and per static value", () => {
    let traces = 0;
    const g = jit(
      (x: NdArray, scale: number) => {
        traces++;
        return np.multiply(x, scale);
      },
      { staticArgnums: 1 },
    );
    expectAllClose(g(np.ones([2]), 3), [3, 3], 0);
    expectAllClose(g(np.array([1, 2]), 3), [3, 6], 0);
    expect(traces).toBe(1);
    g(np.ones([3]), 3);
    expect(traces).toBe(2);
    g(np.ones([3]), 4);
    expect(traces).toBe(3);
    g(np.ones([3], "float32"), 4);
    expect(traces).toBe(4);
    expect(g.cacheSize).toBe(4);
  });
  it("makeJaxpr shows one equation per primitive", () => {
    const text = makeJaxpr((x: NdArray) => np.multiply(np.sin(x), x))(np.ones([3])).toString();
    expect(text.match(/ = sin /g)?.length).toBe(1);
    expect(text.match(/ = mul /g)?.length).toBe(1);
    expect(text).toContain("f64[3]");
    const gradText = makeJaxpr(grad((x: NdArray) => np.multiply(np.sin(x), x)))(0.5).toString();
    // sin x * x: primal sin, the cos for its tangent, and the products of the backward pass
    expect(gradText).toContain("= cos ");
    expect(gradText.split("\n").length).toBeGreaterThan(4);
  });
});

describe("nn and composite functions against finite differences", () => {
  const x = randomArray(r, [5], -2, 2);
  const cases: [string, (x: NdArray) => NdArray][] = [
    ["softmax", (v) => nn.softmax(v)],
    ["logSoftmax", (v) => nn.logSoftmax(v)],
    ["sigmoid", (v) => nn.sigmoid(v)],
    ["softplus", (v) => nn.softplus(v)],
    ["relu (away from 0)", (v) => nn.relu(np.add(v, np.multiply(np.sign(v), 0.1)))],
    ["logsumexp", (v) => np.logsumexp(v)],
    ["prod", (v) => np.prod(v)],
    ["mean/var", (v) => np.add(np.mean(v), np.variance(v))],
    ["cumsum", (v) => np.cumsum(np.square(v))],
    ["flip", (v) => np.multiply(np.flip(v), np.arange(5))],
  ];
  for (const [name, fn] of cases) {
    it(`${name}: jacrev equals finite differences`, () => {
      expectAllClose(jacrev(fn)(x), fdJacobian(fn, x), 1e-6, 1e-8);
    });
  }
  it("sigmoid matches 1 / (1 + e^-x) and its derivative e^-|x| / (1 + e^-|x|)^2", () => {
    for (const v of [-30, -1, 0, 2, 40]) {
      const s = 1 / (1 + Math.exp(-v));
      const z = Math.exp(-Math.abs(v));
      expectAllClose(nn.sigmoid(v), s, 1e-15, 1e-300);
      expectAllClose(grad(nn.sigmoid)(v), z / (1 + z) ** 2, 1e-12, 1e-300);
    }
  });
  it("logsumexp is stable for large inputs and its gradient is softmax", () => {
    const big = np.array([1000, 1001, 999]);
    expectAllClose(np.logsumexp(big), 1001 + Math.log(1 + Math.exp(-1) + Math.exp(-2)), 1e-15);
    expectAllClose(grad((v: NdArray) => np.logsumexp(v))(big), nn.softmax(big), 1e-15);
  });
  it("flip reverses like a JS loop", () => {
    expectAllClose(
      np.flip(
        np.array([
          [1, 2, 3],
          [4, 5, 6],
        ]),
        1,
      ),
      [3, 2, 1, 6, 5, 4],
      0,
    );
    expectAllClose(
      np.flip(
        np.array([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      ),
      [6, 5, 4, 3, 2, 1],
      0,
    );
  });
  it("prod has the exact gradient at a zero element", () => {
    const v = np.array([2, 0, 3, 4]);
    // d prod / d v_i = product of the others
    expectAllClose(grad((u: NdArray) => np.prod(u))(v), [0, 24, 0, 0], 0);
  });
  it("matmul gradients against finite differences", () => {
    const a = randomArray(r, [3, 4]);
    const b = randomArray(r, [4, 2]);
    const loss = (p: NdArray) => np.sum(np.sin(np.matmul(p, b)));
    expectAllClose(grad(loss)(a), fdJacobian(loss, a), 1e-6, 1e-8);
    const loss2 = (q: NdArray) => np.sum(np.sin(np.matmul(a, q)));
    expectAllClose(grad(loss2)(b), fdJacobian(loss2, b), 1e-6, 1e-8);
  });
  it("float32 stays float32 through grad and matches float64", () => {
    const f = (v: NdArray) => np.sum(np.multiply(np.tanh(v), 0.5));
    const x64 = randomArray(r, [4]);
    const x32 = x64.astype("float32");
    const g32 = grad(f)(x32);
    expect(g32.dtype).toBe("float32");
    expectAllClose(g32, grad(f)(x64), 1e-6, 1e-7);
  });
});

describe("JS control flow under grad, jvp and vmap", () => {
  const loopy = (x: NdArray) => {
    let y = x;
    let steps = 0;
    while (y.item() < 10 && steps < 100) {
      y = np.multiply(y, 1.5);
      steps++;
    }
    return y;
  };
  it("a while loop on concrete values: d/dx (1.5^k x) = 1.5^k", () => {
    const x = 2;
    let k = 0;
    for (let y = x; y < 10; y *= 1.5) k++;
    expectAllClose(grad(loopy)(x), 1.5 ** k, 1e-14);
    expectAllClose(jvp(loopy, [x], [1])[1], 1.5 ** k, 1e-14);
  });
  it("early return", () => {
    const f = (x: NdArray) => {
      if (x.item() < 0) return np.negative(x);
      return np.square(x);
    };
    expectAllClose(grad(f)(-2), -1, 0);
    expectAllClose(grad(f)(3), 6, 0);
    expect(fdScalar((v) => (v < 0 ? -v : v * v), 3)).toBeCloseTo(6, 6);
  });
});
