/**
 * Transformations composed with each other to any depth, each result checked
 * against a value obtained another way: an analytic formula, central finite
 * differences in float64, the other AD mode, or a plain JS loop.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ConcretizationError,
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
import {
  expectClose,
  matmulJS,
  mulberry32,
  nest,
  numericGrad,
  numericJacobian,
  numericJacobianFlat,
  randArray,
  shapeOf,
  toNumbers,
  uniform,
} from "./util.js";

const A = (x: unknown) => x as NdArray;
const FD = { rtol: 1e-6, atol: 1e-8 };
const AD = { rtol: 1e-10, atol: 1e-12 };

// ------------------------------------------------------------- nesting --

describe("grad of grad to order 4", () => {
  // h(x) = sin(x) e^x; h^(k)(x) = 2^(k/2) e^x sin(x + k pi / 4).
  const h = (x: NdArray) => np.multiply(np.sin(x), np.exp(x));
  const analytic = (k: number, x: number) =>
    2 ** (k / 2) * Math.exp(x) * Math.sin(x + (k * Math.PI) / 4);

  for (const x0 of [-1.3, 0, 0.7, 2.1]) {
    it(`derivatives 1..4 of sin(x) exp(x) at x=${x0}`, () => {
      let d: (x: NdArray) => NdArray = h;
      for (let k = 1; k <= 4; k++) {
        d = grad(d);
        const got = d(np.array(x0));
        expect(got.shape).toEqual([]);
        expectClose(got, analytic(k, x0), 1e-11, 1e-12, `order ${k}`);
      }
    });
  }

  it("4th derivative also matches FD of the analytic 3rd derivative", () => {
    const d4 = grad(grad(grad(grad(h))));
    const fd = numericGrad(([x]) => analytic(3, x!), [0.4]);
    expectClose(A(d4(0.4)), np.array(fd[0]!), FD.rtol, FD.atol);
  });

  it("grad of grad of a vector -> scalar function equals the Hessian diagonal (analytic)", () => {
    // f(x) = sum(x^4) + x0 x1: d/dx0 of (df/dx0) = 12 x0^2
    const f = (x: NdArray) => np.add(np.sum(np.power(x, 4)), np.multiply(x.slice(0), x.slice(1)));
    const g0 = (x: NdArray) => A(grad(f)(x)).slice(0);
    const x = np.array([0.5, -1.5, 2]);
    expectClose(A(grad(g0)(x)), [12 * 0.25, 1, 0], AD.rtol, AD.atol);
  });

  it("jvp of jvp (forward over forward) gives the second derivative", () => {
    const d1 = (x: NdArray) => A(jvp(h, [x], [1])[1]);
    expectClose(A(jvp(d1, [0.3], [1])[1]), analytic(2, 0.3), 1e-12, 1e-12);
  });

  it("grad over jvp over grad (mixed order 3)", () => {
    const d1 = (x: NdArray) => A(grad(h)(x));
    const d2 = (x: NdArray) => A(jvp(d1, [x], [np.array(1)])[1]);
    expectClose(A(grad(d2)(1.1)), analytic(3, 1.1), 1e-11, 1e-12);
  });
});

describe("mixed modes", () => {
  const r = mulberry32(1);

  it("jvp of grad is the Hessian-vector product (vs hessian(f) @ v and FD of grad)", () => {
    const f = (x: NdArray) =>
      np.add(np.sum(np.multiply(np.sin(x), np.square(x))), np.square(np.sum(np.tanh(x))));
    const x = randArray(r, [5]);
    const v = randArray(r, [5]);
    const hvp = A(jvp(grad(f), [x], [v])[1]);
    // H v with a JS loop over hessian(f)
    const H = hessian(f)(x);
    expect(H.shape).toEqual([5, 5]);
    const Hn = H.toArray() as number[][];
    const vn = toNumbers(v);
    const Hv = Hn.map((row) => row.reduce((s, h, j) => s + h * vn[j]!, 0));
    expectClose(hvp, Hv, AD.rtol, AD.atol);
    // FD of the gradient, contracted with v
    const J = toNumbers(numericJacobian((y) => A(grad(f)(y)), [x]));
    const fdHv = Array.from({ length: 5 }, (_, i) =>
      vn.reduce((s, vj, j) => s + J[i * 5 + j]! * vj, 0),
    );
    expectClose(hvp, fdHv, FD.rtol, FD.atol);
  });

  it("vjp of jvp: pullback of x -> J(x) v equals d/dx <u, J(x) v> (grad and FD)", () => {
    const W = randArray(r, [3, 3]);
    const f = (x: NdArray) => np.tanh(np.matmul(W, np.sin(x)));
    const x = randArray(r, [3]);
    const v = randArray(r, [3]);
    const u = randArray(r, [3]);
    const dir = (y: NdArray) => A(jvp(f, [y], [v])[1]);
    const [out, pullback] = vjp(dir, x);
    expectClose(A(out), A(jvp(f, [x], [v])[1]), 1e-14, 1e-14);
    const ct = A(pullback(u)[0]);
    const scalar = (y: NdArray) => np.sum(np.multiply(u, dir(y)));
    expectClose(ct, A(grad(scalar)(x)), AD.rtol, AD.atol);
    const fd = numericGrad((y) => scalar(np.array(y)), toNumbers(x));
    expectClose(ct, fd, FD.rtol, FD.atol);
  });

  it("vjp of a vector function equals u^T (jacfwd J)", () => {
    const f = (x: NdArray) => np.stack([np.prod(x), np.sum(np.exp(x)), np.sin(x.slice(1))]);
    const x = randArray(r, [4]);
    const u = randArray(r, [3]);
    const [, pb] = vjp(f, x);
    const J = jacfwd(f)(x).toArray() as number[][];
    const un = toNumbers(u);
    const uJ = J[0]!.map((_, j) => J.reduce((s, row, i) => s + un[i]! * row[j]!, 0));
    expectClose(A(pb(u)[0]), uJ, AD.rtol, AD.atol);
  });

  it("vmap of grad equals a loop of grad over the batch", () => {
    const w = randArray(r, [3]);
    const loss = (x: NdArray) => np.sum(np.sin(np.multiply(w, x)).mul(x));
    const X = randArray(r, [6, 3]);
    const batched = A(vmap(grad(loss))(X));
    expect(batched.shape).toEqual([6, 3]);
    const rows = (X.toArray() as number[][]).map((row) => toNumbers(A(grad(loss)(np.array(row)))));
    expectClose(batched, rows, AD.rtol, AD.atol);
    // analytic: d/dx_j sin(w_j x_j) x_j = w_j cos(w_j x_j) x_j + sin(w_j x_j)
    const wn = toNumbers(w);
    const analytic = (X.toArray() as number[][]).map((row) =>
      row.map((xj, j) => wn[j]! * Math.cos(wn[j]! * xj) * xj + Math.sin(wn[j]! * xj)),
    );
    expectClose(batched, analytic, 1e-12, 1e-13);
  });

  it("grad of (sum of vmap) equals the sum of per-example grads", () => {
    const loss = (p: { w: NdArray; b: NdArray }, x: NdArray, y: NdArray) =>
      np.square(np.subtract(np.tanh(np.add(np.dot(p.w, x), p.b)), y));
    const params = { w: randArray(r, [4]), b: np.array(0.3) };
    const X = randArray(r, [5, 4]);
    const Y = randArray(r, [5]);
    const total = (p: { w: NdArray; b: NdArray }) =>
      np.sum(A(vmap(loss, { inAxes: [null, 0, 0] })(p, X, Y)));
    const g = grad(total)(params);
    expect(Object.keys(g).sort()).toEqual(["b", "w"]);
    const Xn = X.toArray() as number[][];
    const Yn = toNumbers(Y);
    let sw = [0, 0, 0, 0];
    let sb = 0;
    for (let i = 0; i < 5; i++) {
      const gi = grad(loss)(params, np.array(Xn[i]!), Yn[i]!);
      sw = sw.map((s, j) => s + toNumbers(gi.w)[j]!);
      sb += gi.b.item();
    }
    expectClose(g.w, sw, AD.rtol, AD.atol);
    expectClose(g.b, sb, AD.rtol, AD.atol);
    // and FD of the plain JS loss
    const wn = toNumbers(params.w);
    const jsTotal = (v: number[]) => {
      let s = 0;
      for (let i = 0; i < 5; i++) {
        const z = Math.tanh(v.slice(0, 4).reduce((a, wj, j) => a + wj * Xn[i]![j]!, 0) + v[4]!);
        s += (z - Yn[i]!) ** 2;
      }
      return s;
    };
    const fd = numericGrad(jsTotal, [...wn, 0.3]);
    expectClose(g.w, fd.slice(0, 4), FD.rtol, FD.atol);
    expectClose(g.b, fd[4]!, FD.rtol, FD.atol);
  });

  it("vmap of vmap equals a double loop (outer product of a function)", () => {
    const f = (x: NdArray, y: NdArray) => np.add(np.multiply(np.sin(x), y), np.square(y));
    const xs = uniform(r, 4);
    const ys = uniform(r, 3);
    const out = A(
      vmap(vmap(f, { inAxes: [null, 0] }), { inAxes: [0, null] })(np.array(xs), np.array(ys)),
    );
    const expected = xs.map((x) => ys.map((y) => Math.sin(x) * y + y * y));
    expectClose(out, expected, 1e-14, 1e-15);
  });

  it("vmap of vmap over a matrix with inAxes 1 equals a loop", () => {
    const X = randArray(r, [3, 4, 2]);
    const f = (v: NdArray) => np.sum(np.multiply(v, v)); // v: [2]
    // inner over axis 0 of [3,2] slices, outer over axis 1 of X
    const out = A(vmap(vmap(f), { inAxes: 1 })(X));
    expect(out.shape).toEqual([4, 3]);
    const Xn = X.toArray() as number[][][];
    const expected = [0, 1, 2, 3].map((j) =>
      [0, 1, 2].map((i) => Xn[i]![j]![0]! ** 2 + Xn[i]![j]![1]! ** 2),
    );
    expectClose(out, expected, 1e-14, 1e-15);
  });

  it("vmap of jacfwd and of hessian equal loops", () => {
    const f = (x: NdArray) => np.multiply(np.sin(x), np.sum(np.square(x)));
    const X = randArray(r, [3, 2]);
    const Jb = A(vmap(jacfwd(f))(X));
    const Hb = A(vmap(hessian((x: NdArray) => np.sum(f(x))))(X));
    expect(Jb.shape).toEqual([3, 2, 2]);
    expect(Hb.shape).toEqual([3, 2, 2]);
    const rows = X.toArray() as number[][];
    expectClose(
      Jb,
      rows.map((row) => A(jacrev(f)(np.array(row))).toArray() as number[][]),
      AD.rtol,
      AD.atol,
    );
    expectClose(
      Hb,
      rows.map(
        (row) => A(hessian((x: NdArray) => np.sum(f(x)))(np.array(row))).toArray() as number[][],
      ),
      AD.rtol,
      AD.atol,
    );
  });
});

// ----------------------------------------------------------- jacobians --

describe("jacobians", () => {
  const r = mulberry32(2);

  it("R^3 -> R^2: jacfwd == jacrev == analytic", () => {
    const f = (x: NdArray) =>
      np.stack([
        np.multiply(np.multiply(x.slice(0), x.slice(1)), np.sin(x.slice(2))),
        np.add(np.exp(x.slice(0)), np.square(x.slice(1))),
      ]);
    const [a, b, c] = [0.3, -1.2, 0.8];
    const x = np.array([a, b, c]);
    const Jf = A(jacfwd(f)(x));
    const Jr = A(jacrev(f)(x));
    const analytic = [
      [b * Math.sin(c), a * Math.sin(c), a * b * Math.cos(c)],
      [Math.exp(a), 2 * b, 0],
    ];
    expectClose(Jf, analytic, 1e-13, 1e-14);
    expectClose(Jr, Jf, AD.rtol, AD.atol);
  });

  it("R^[2,3] -> R^[4]: shape [4,2,3], jacfwd == jacrev == FD", () => {
    const M = randArray(r, [4, 6]);
    const f = (X: NdArray) => np.tanh(np.matmul(M, np.reshape(np.sin(X), [6])));
    const X = randArray(r, [2, 3]);
    const Jf = A(jacfwd(f)(X));
    const Jr = A(jacrev(f)(X));
    expect(Jf.shape).toEqual([4, 2, 3]);
    expect(Jr.shape).toEqual([4, 2, 3]);
    expectClose(Jr, Jf, AD.rtol, AD.atol);
    expectClose(Jf, numericJacobian(f, [X]), FD.rtol, FD.atol);
    // analytic: J[i, p, q] = (1 - t_i^2) M[i, 3p+q] cos(X[p, q])
    const Mn = M.toArray() as number[][];
    const Xn = toNumbers(X);
    const t = Mn.map((row) => Math.tanh(row.reduce((s, m, k) => s + m * Math.sin(Xn[k]!), 0)));
    const analytic = Mn.map((row, i) => row.map((m, k) => (1 - t[i]! ** 2) * m * Math.cos(Xn[k]!)));
    expectClose(toNumbers(Jf), analytic.flat(), 1e-12, 1e-13);
  });

  it("R^[2] -> R^[2,2] (matrix output): shape [2,2,2]", () => {
    const f = (x: NdArray) => np.outer(np.sin(x), x);
    const x = np.array([0.4, -0.9]);
    const Jf = A(jacfwd(f)(x));
    const Jr = A(jacrev(f)(x));
    expect(Jf.shape).toEqual([2, 2, 2]);
    expectClose(Jr, Jf, AD.rtol, AD.atol);
    const [p, q] = [0.4, -0.9];
    const s = [Math.sin(p), Math.sin(q)];
    const c = [Math.cos(p), Math.cos(q)];
    const xv = [p, q];
    // d(sin x_i x_j)/dx_k = c_i x_j [i=k] + s_i [j=k]
    const analytic = [0, 1].map((i) =>
      [0, 1].map((j) => [0, 1].map((k) => (i === k ? c[i]! * xv[j]! : 0) + (j === k ? s[i]! : 0))),
    );
    expectClose(Jf, analytic, 1e-14, 1e-15);
  });

  it("scalar -> vector: shape [3]", () => {
    const f = (t: NdArray) => np.stack([np.sin(t), np.square(t), np.exp(t)]);
    const t = 0.7;
    const analytic = [Math.cos(t), 2 * t, Math.exp(t)];
    const Jf = A(jacfwd(f)(np.array(t)));
    const Jr = A(jacrev(f)(np.array(t)));
    expect(Jf.shape).toEqual([3]);
    expect(Jr.shape).toEqual([3]);
    expectClose(Jf, analytic, 1e-14, 1e-15);
    expectClose(Jr, analytic, 1e-14, 1e-15);
  });

  it("vector -> scalar: shape [n], equals grad and 3 x^2", () => {
    const f = (x: NdArray) => np.sum(np.power(x, 3));
    const x = randArray(r, [5]);
    const Jf = A(jacfwd(f)(x));
    const Jr = A(jacrev(f)(x));
    expect(Jf.shape).toEqual([5]);
    expect(Jr.shape).toEqual([5]);
    const analytic = toNumbers(x).map((v) => 3 * v * v);
    expectClose(Jf, analytic, 1e-13, 1e-14);
    expectClose(Jr, analytic, 1e-13, 1e-14);
    expectClose(A(grad(f)(x)), analytic, 1e-13, 1e-14);
  });

  it("scalar -> scalar: shape []", () => {
    const f = (x: NdArray) => np.multiply(np.cos(x), x);
    const x = 1.3;
    const d = Math.cos(x) - x * Math.sin(x);
    expectClose(A(jacfwd(f)(x)), np.array(d), 1e-14, 1e-15);
    expectClose(A(jacrev(f)(x)), np.array(d), 1e-14, 1e-15);
  });

  it("pytree input {w, b}: Jacobian is {w: out++w.shape, b: out++b.shape}", () => {
    const f = (p: { w: NdArray; b: NdArray }, x: NdArray) =>
      np.tanh(np.add(np.matmul(p.w, x), p.b));
    const p = { w: randArray(r, [2, 3]), b: randArray(r, [2]) };
    const x = randArray(r, [3]);
    for (const jac of [jacfwd, jacrev]) {
      const J = jac(f)(p, x);
      expect(Object.keys(J).sort()).toEqual(["b", "w"]);
      expect(J.w.shape).toEqual([2, 2, 3]);
      expect(J.b.shape).toEqual([2, 2]);
      const wn = p.w.toArray() as number[][];
      const bn = toNumbers(p.b);
      const xn = toNumbers(x);
      const t = wn.map((row, i) => Math.tanh(row.reduce((s, w, k) => s + w * xn[k]!, 0) + bn[i]!));
      const Jw = [0, 1].map((i) =>
        [0, 1].map((j) => [0, 1, 2].map((k) => (i === j ? (1 - t[i]! ** 2) * xn[k]! : 0))),
      );
      const Jb = [0, 1].map((i) => [0, 1].map((j) => (i === j ? 1 - t[i]! ** 2 : 0)));
      expectClose(J.w, Jw, 1e-13, 1e-14, "J.w");
      expectClose(J.b, Jb, 1e-13, 1e-14, "J.b");
    }
  });

  it("pytree output (object of arrays) with list argnums: output tree outside, input list inside", () => {
    const f = (x: NdArray, y: NdArray) => ({
      u: np.multiply(x, np.sum(y)), // [2]
      v: np.sum(np.multiply(np.sin(x), x.slice(0))), // []
    });
    const x = np.array([0.5, -0.25]);
    const y = np.array([1, 2, 3]);
    const [x0, x1] = [0.5, -0.25];
    const sy = 6;
    const expected = {
      u: [
        [
          [sy, 0],
          [0, sy],
        ],
        [
          [x0, x0, x0],
          [x1, x1, x1],
        ],
      ],
      v: [
        [Math.cos(x0) * x0 + Math.sin(x0) + Math.sin(x1), Math.cos(x1) * x0],
        [0, 0, 0],
      ],
    };
    for (const jac of [jacfwd, jacrev, jacobian]) {
      const J = jac(f, { argnums: [0, 1] })(x, y) as { u: NdArray[]; v: NdArray[] };
      expect(Object.keys(J).sort()).toEqual(["u", "v"]);
      expect(J.u.length).toBe(2);
      expect(J.v.length).toBe(2);
      expect(J.u[0]!.shape).toEqual([2, 2]);
      expect(J.u[1]!.shape).toEqual([2, 3]);
      expect(J.v[0]!.shape).toEqual([2]);
      expect(J.v[1]!.shape).toEqual([3]);
      expectClose(J.u[0]!, expected.u[0]!, 1e-14, 1e-15, "u/x");
      expectClose(J.u[1]!, expected.u[1]!, 1e-14, 1e-15, "u/y");
      expectClose(J.v[0]!, expected.v[0]!, 1e-14, 1e-15, "v/x");
      expectClose(J.v[1]!, expected.v[1]!, 1e-14, 1e-15, "v/y");
    }
  });

  it("list input and list output: out list outside, in list inside", () => {
    const f = (xs: NdArray[]) => [np.multiply(xs[0]!, xs[1]!), np.sin(xs[0]!)];
    const a = np.array([0.2, 0.4]);
    const b = np.array(1.5);
    const Jf = jacfwd(f)([a, b]) as NdArray[][];
    const Jr = jacrev(f)([a, b]) as NdArray[][];
    for (const J of [Jf, Jr]) {
      expect(J.length).toBe(2);
      expect(J[0]!.length).toBe(2);
      expect(J[0]![0]!.shape).toEqual([2, 2]);
      expect(J[0]![1]!.shape).toEqual([2]);
      expect(J[1]![0]!.shape).toEqual([2, 2]);
      expect(J[1]![1]!.shape).toEqual([2]);
      expectClose(
        J[0]![0]!,
        [
          [1.5, 0],
          [0, 1.5],
        ],
        1e-15,
        0,
      );
      expectClose(J[0]![1]!, [0.2, 0.4], 1e-15, 0);
      expectClose(
        J[1]![0]!,
        [
          [Math.cos(0.2), 0],
          [0, Math.cos(0.4)],
        ],
        1e-15,
        0,
      );
      expectClose(J[1]![1]!, [0, 0], 0, 0);
    }
  });

  it("hessian equals FD of grad and is symmetric", () => {
    const f = (x: NdArray) => np.sum(np.multiply(np.exp(np.sin(x)), x)).add(np.prod(x));
    const x = randArray(r, [4]);
    const H = A(hessian(f)(x));
    expect(H.shape).toEqual([4, 4]);
    expectClose(
      H,
      numericJacobian((y) => A(grad(f)(y)), [x]),
      FD.rtol,
      FD.atol,
    );
    const Hn = H.toArray() as number[][];
    expectClose(
      Hn,
      Hn.map((row, i) => row.map((_, j) => Hn[j]![i]!)),
      1e-13,
      1e-14,
    );
    // jacrev(jacfwd) and jacfwd(jacfwd) agree with forward-over-reverse
    expectClose(A(jacrev(jacfwd(f))(x)), H, AD.rtol, AD.atol);
    expectClose(A(jacfwd(jacfwd(f))(x)), H, AD.rtol, AD.atol);
  });

  it("hessian of a matrix-input function has shape in ++ in and matches FD", () => {
    const f = (X: NdArray) => np.sum(np.tanh(np.matmul(X, X.T)));
    const X = randArray(r, [2, 3]);
    const H = A(hessian(f)(X));
    expect(H.shape).toEqual([2, 3, 2, 3]);
    expectClose(
      H,
      numericJacobian((Y) => A(grad(f)(Y)), [X]),
      FD.rtol,
      FD.atol,
    );
  });

  it("hessian with argnums on a pytree of two args", () => {
    // f(x, y) = x^2 y^3 (scalars): H = [[2y^3, 6xy^2],[6xy^2, 6x^2 y]]
    const f = (x: NdArray, y: NdArray) => np.multiply(np.square(x), np.power(y, 3));
    const H = hessian(f, { argnums: [0, 1] })(0.5, -2) as NdArray[][];
    const [x, y] = [0.5, -2];
    expectClose(H[0]![0]!, np.array(2 * y ** 3), 1e-14, 1e-15);
    expectClose(H[0]![1]!, np.array(6 * x * y * y), 1e-14, 1e-15);
    expectClose(H[1]![0]!, np.array(6 * x * y * y), 1e-14, 1e-15);
    expectClose(H[1]![1]!, np.array(6 * x * x * y), 1e-14, 1e-15);
  });

  it("jacobian equals jacfwd for wide (n_out < n_in) and tall (n_out > n_in) functions", () => {
    const wide = (x: NdArray) => np.stack([np.sum(np.sin(x)), np.prod(x)]); // R^5 -> R^2
    const tall = (x: NdArray) => np.outer(np.exp(x), np.cos(x)).reshape([9]); // R^3 -> R^9
    const xw = randArray(r, [5]);
    const xt = randArray(r, [3]);
    expectClose(A(jacobian(wide)(xw)), A(jacfwd(wide)(xw)), AD.rtol, AD.atol);
    expectClose(A(jacobian(tall)(xt)), A(jacfwd(tall)(xt)), AD.rtol, AD.atol);
    expectClose(A(jacobian(wide)(xw)), numericJacobian(wide, [xw]), FD.rtol, FD.atol);
    expectClose(A(jacobian(tall)(xt)), numericJacobian(tall, [xt]), FD.rtol, FD.atol);
  });

  it("jacobian of a function with JS control flow on concrete values", () => {
    const f = (x: NdArray) => (x.slice(0).item() > 0 ? np.sin(x) : np.cos(x));
    const x = np.array([0.5, 1.0]);
    expectClose(
      A(jacobian(f)(x)),
      [
        [Math.cos(0.5), 0],
        [0, Math.cos(1)],
      ],
      1e-15,
      0,
    );
    const y = np.array([-0.5, 1.0]);
    expectClose(
      A(jacobian(f)(y)),
      [
        [Math.sin(0.5), 0],
        [0, -Math.sin(1)],
      ],
      1e-15,
      0,
    );
  });
});

// ------------------------------------------------ argnums, aux, linearize --

describe("argnums and hasAux", () => {
  const f = (x: NdArray, y: NdArray, z: NdArray) =>
    np.sum(np.multiply(np.multiply(x, np.square(y)), np.sin(z)));
  const [x, y, z] = [np.array([1.5, -0.5]), np.array([2, 3]), np.array(0.7)];
  const xn = [1.5, -0.5];
  const yn = [2, 3];
  const s = Math.sin(0.7);
  const dfdx = yn.map((v) => v * v * s);
  const dfdy = xn.map((v, i) => 2 * v * yn[i]! * s);
  const dfdz = xn.reduce((a, v, i) => a + v * yn[i]! ** 2, 0) * Math.cos(0.7);

  it("argnums as a number selects one argument and returns a bare gradient", () => {
    expectClose(A(grad(f, { argnums: 1 })(x, y, z)), dfdy, 1e-14, 1e-15);
    expectClose(A(grad(f, { argnums: 2 })(x, y, z)), np.array(dfdz), 1e-14, 1e-15);
    expectClose(A(grad(f)(x, y, z)), dfdx, 1e-14, 1e-15);
  });

  it("argnums as a list returns a list in that order", () => {
    const g = grad(f, { argnums: [2, 0] })(x, y, z) as NdArray[];
    expect(g.length).toBe(2);
    expectClose(g[0]!, np.array(dfdz), 1e-14, 1e-15);
    expectClose(g[1]!, dfdx, 1e-14, 1e-15);
    const single = grad(f, { argnums: [1] })(x, y, z) as NdArray[];
    expect(Array.isArray(single)).toBe(true);
    expectClose(single[0]!, dfdy, 1e-14, 1e-15);
  });

  it("negative argnums count from the end", () => {
    expectClose(A(grad(f, { argnums: -1 })(x, y, z)), np.array(dfdz), 1e-14, 1e-15);
  });

  it("valueAndGrad with list argnums", () => {
    const [v, g] = valueAndGrad(f, { argnums: [0, 1] })(x, y, z) as [NdArray, NdArray[]];
    expectClose(v, np.array(xn.reduce((a, xv, i) => a + xv * yn[i]! ** 2 * s, 0)), 1e-14, 1e-15);
    expectClose(g[0]!, dfdx, 1e-14, 1e-15);
    expectClose(g[1]!, dfdy, 1e-14, 1e-15);
  });

  it("grad with hasAux returns [grad, aux] with aux undifferentiated and concrete", () => {
    const fa = (w: NdArray) => {
      const pred = np.tanh(w);
      const loss = np.sum(np.square(pred));
      return [loss, { pred, n: np.sum(w) }];
    };
    const w = np.array([0.3, -0.8, 1.1]);
    const [g, aux] = grad(fa, { hasAux: true })(w) as [NdArray, { pred: NdArray; n: NdArray }];
    const wn = [0.3, -0.8, 1.1];
    expectClose(
      g,
      wn.map((v) => 2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)),
      1e-14,
      1e-15,
    );
    expectClose(aux.pred, wn.map(Math.tanh), 1e-15, 0);
    expectClose(aux.n, np.array(0.6), 1e-14, 1e-15);
  });

  it("valueAndGrad with hasAux returns [[value, aux], grad]", () => {
    const fa = (w: NdArray) => [np.sum(np.exp(w)), np.max(w)];
    const w = np.array([0.1, 0.5]);
    const [[v, aux], g] = valueAndGrad(fa, { hasAux: true })(w) as [[NdArray, NdArray], NdArray];
    const e = [Math.exp(0.1), Math.exp(0.5)];
    expectClose(v, np.array(e[0]! + e[1]!), 1e-15, 0);
    expectClose(aux, np.array(0.5), 0, 0);
    expectClose(g, e, 1e-15, 0);
  });

  it("hasAux under an outer grad: aux does not break nesting", () => {
    // inner: grad of x*y^2 w.r.t. y with aux; outer: d/dx of that gradient = 2y
    const inner = (x: NdArray, y: NdArray) => [np.multiply(x, np.square(y)), y];
    const outer = (x: NdArray) => {
      const [g] = grad(inner, { argnums: 1, hasAux: true })(x, 1.5) as [NdArray, NdArray];
      return g;
    };
    expectClose(A(grad(outer)(0.7)), np.array(3), 1e-15, 0);
  });
});

describe("linearize", () => {
  const r = mulberry32(3);
  it("its jvp function equals jvp at several tangents", () => {
    const f = (x: NdArray) =>
      np.stack([np.sum(np.sin(x)), np.prod(np.exp(x)), np.max(np.square(x))]);
    const x = randArray(r, [4]);
    const [out, fJvp] = linearize(f, x);
    expectClose(A(out), A(f(x)), 0, 0);
    for (let k = 0; k < 4; k++) {
      const t = randArray(r, [4]);
      expectClose(A(fJvp(t)), A(jvp(f, [x], [t])[1]), 1e-13, 1e-14, `tangent ${k}`);
    }
    // linearity: fJvp(2a + b) = 2 fJvp(a) + fJvp(b)
    const a = randArray(r, [4]);
    const b = randArray(r, [4]);
    const lhs = A(fJvp(np.add(np.multiply(2, a), b)));
    const rhs = np.add(np.multiply(2, A(fJvp(a))), A(fJvp(b)));
    expectClose(lhs, rhs, 1e-13, 1e-14);
  });

  it("with several (pytree) primals", () => {
    const f = (p: { a: NdArray; b: NdArray }, x: NdArray) =>
      np.add(np.multiply(p.a, np.sin(x)), np.multiply(p.b, np.square(x)));
    const p = { a: randArray(r, [3]), b: np.array(0.5) };
    const x = randArray(r, [3]);
    const [, fJvp] = linearize(f, p, x);
    for (let k = 0; k < 3; k++) {
      const tp = { a: randArray(r, [3]), b: np.array(r()) };
      const tx = randArray(r, [3]);
      expectClose(A(fJvp(tp, tx)), A(jvp(f, [p, x], [tp, tx])[1]), 1e-13, 1e-14);
    }
  });

  it("linearize of grad gives Hessian-vector products", () => {
    const f = (x: NdArray) => np.sum(np.power(x, 4));
    const x = np.array([1, -2, 0.5]);
    const [, hvp] = linearize(grad(f), x);
    // H = diag(12 x^2)
    expectClose(A(hvp(np.array([1, 1, 1]))), [12, 48, 3], 1e-14, 1e-15);
    expectClose(A(hvp(np.array([0, 2, 0]))), [0, 96, 0], 1e-14, 1e-15);
  });
});

// ------------------------------------------------ perturbation confusion --

describe("perturbation confusion", () => {
  it("d/dx [x * d/dy (x + y)] = 1 with grad/grad", () => {
    const inner = (x: NdArray) => A(grad((y: NdArray) => np.add(x, y))(np.array(2)));
    const f = (x: NdArray) => np.multiply(x, inner(x));
    for (const x0 of [0.5, 3]) expectClose(A(grad(f)(x0)), np.array(1), 0, 0);
  });

  it("d/dx [x * d/dy (x + y)] = 1 with jvp/jvp and mixed grad/jvp", () => {
    const dInnerJvp = (x: NdArray) =>
      A(jvp((y: NdArray) => np.add(x, y), [np.array(2)], [np.array(1)])[1]);
    const fj = (x: NdArray) => np.multiply(x, dInnerJvp(x));
    expectClose(A(jvp(fj, [np.array(4)], [np.array(1)])[1]), np.array(1), 0, 0);
    expectClose(A(grad(fj)(4)), np.array(1), 0, 0);
    const dInnerGrad = (x: NdArray) => A(grad((y: NdArray) => np.add(x, y))(np.array(2)));
    const fg = (x: NdArray) => np.multiply(x, dInnerGrad(x));
    expectClose(A(jvp(fg, [np.array(4)], [np.array(1)])[1]), np.array(1), 0, 0);
  });

  it("d/dx (x * (d/dy x*y)|_{y=3}) = d/dx x^2 = 2x", () => {
    const f = (x: NdArray) =>
      np.multiply(x, A(grad((y: NdArray) => np.multiply(x, y))(np.array(3))));
    for (const x0 of [-1.5, 0.25, 2]) {
      expectClose(A(grad(f)(x0)), np.array(2 * x0), 1e-15, 0);
      expectClose(A(jvp(f, [np.array(x0)], [np.array(1)])[1]), np.array(2 * x0), 1e-15, 0);
    }
  });

  it("inner derivative closing over the outer variable: d/dx [d/dy sin(x y)]|_{y=1}", () => {
    // d/dy sin(xy) = x cos(xy); at y = 1: x cos x; d/dx = cos x - x sin x
    const f = (x: NdArray) => A(grad((y: NdArray) => np.sin(np.multiply(x, y)))(np.array(1)));
    const x0 = 0.9;
    const expected = Math.cos(x0) - x0 * Math.sin(x0);
    expectClose(A(grad(f)(x0)), np.array(expected), 1e-14, 1e-15);
    expectClose(A(jvp(f, [np.array(x0)], [np.array(1)])[1]), np.array(expected), 1e-14, 1e-15);
    expectClose(
      A(grad(f)(x0)),
      np.array(numericGrad(([v]) => v! * Math.cos(v!), [x0])[0]!),
      FD.rtol,
      FD.atol,
    );
  });

  it("the same function differentiated at two levels: d/dx [x * f'(x)] with f = exp(2·)", () => {
    const f = (t: NdArray) => np.exp(np.multiply(2, t));
    const g = (x: NdArray) => np.multiply(x, A(grad(f)(x)));
    // g = 2x e^{2x}; g' = 2 e^{2x} + 4x e^{2x}
    const x0 = 0.3;
    expectClose(A(grad(g)(x0)), np.array(2 * Math.exp(0.6) + 4 * x0 * Math.exp(0.6)), 1e-14, 1e-15);
  });
});

// -------------------------------------------------------- stopGradient --

describe("stopGradient", () => {
  it("grad of x * stopGradient(x) is x", () => {
    const f = (x: NdArray) => np.multiply(x, stopGradient(x));
    for (const x0 of [-2, 0.5, 3]) expectClose(A(grad(f)(x0)), np.array(x0), 0, 0);
    expectClose(A(jvp(f, [np.array(3)], [np.array(1)])[1]), np.array(3), 0, 0);
  });

  it("on vectors: grad sum(x * sg(x)^2) = sg(x)^2 = x^2", () => {
    const f = (x: NdArray) => np.sum(np.multiply(x, np.square(stopGradient(x))));
    const x = np.array([1, -2, 3]);
    expectClose(A(grad(f)(x)), [1, 4, 9], 0, 0);
  });

  it("stopGradient blocks all levels: second derivative of x * sg(x) is 0", () => {
    // With c = sg(x) a constant at every level, f = c x, f' = c (a constant), f'' = 0.
    const f = (x: NdArray) => np.multiply(x, stopGradient(x));
    expectClose(A(grad(grad(f))(1.7)), np.array(0), 0, 0);
  });

  it("the forward value is unchanged", () => {
    const x = np.array([0.3, -0.4]);
    expectClose(stopGradient(np.sin(x)), [Math.sin(0.3), Math.sin(-0.4)], 0, 0);
  });
});

// -------------------------------------------------------- control flow --

describe("ordinary JS control flow", () => {
  // piecewise: x > 0 ? x^3 : -2x (branch on a concrete value)
  const pw = (x: NdArray) => (x.item() > 0 ? np.power(x, 3) : np.multiply(-2, x));
  const pwD = (x: number) => (x > 0 ? 3 * x * x : -2);

  it("if/else under grad and jvp", () => {
    for (const x0 of [1.5, -0.7]) {
      expectClose(A(grad(pw)(x0)), np.array(pwD(x0)), 1e-15, 0);
      expectClose(A(jvp(pw, [np.array(x0)], [np.array(1)])[1]), np.array(pwD(x0)), 1e-15, 0);
    }
  });

  it("if/else under grad of grad", () => {
    expectClose(A(grad(grad(pw))(2)), np.array(12), 1e-15, 0);
    expectClose(A(grad(grad(pw))(-2)), np.array(0), 0, 0);
  });

  it("while loop with a value-dependent trip count under grad and jvp", () => {
    // double x until it exceeds 10: f(x) = 2^n x with n = trip count; f' = 2^n
    const f = (x: NdArray) => {
      let y = x;
      while (y.item() < 10) y = np.multiply(y, 2);
      return y;
    };
    for (const [x0, n] of [
      [0.7, 4],
      [3, 2],
      [11, 0],
    ] as const) {
      expectClose(A(grad(f)(x0)), np.array(2 ** n), 0, 0);
      expectClose(A(jvp(f, [np.array(x0)], [np.array(1)])[1]), np.array(2 ** n), 0, 0);
    }
  });

  it("for loop (iterated map) under grad vs FD of a JS loop", () => {
    const n = 6;
    const f = (x: NdArray) => {
      let y = x;
      for (let i = 0; i < n; i++) y = np.add(np.sin(y), np.multiply(0.5, x));
      return y;
    };
    const js = (x: number) => {
      let y = x;
      for (let i = 0; i < n; i++) y = Math.sin(y) + 0.5 * x;
      return y;
    };
    const x0 = 0.8;
    expectClose(A(grad(f)(x0)), np.array(numericGrad(([v]) => js(v!), [x0])[0]!), FD.rtol, FD.atol);
    expectClose(A(jvp(f, [np.array(x0)], [np.array(1)])[1]), A(grad(f)(x0)), 1e-14, 1e-15);
  });

  it("vmap: control flow on an unbatched (concrete) argument works", () => {
    const f = (x: NdArray, k: NdArray) => (k.item() > 0 ? np.sin(x) : np.cos(x));
    const xs = [0.1, 0.2, 0.3];
    expectClose(A(vmap(f, { inAxes: [0, null] })(np.array(xs), 1)), xs.map(Math.sin), 1e-15, 0);
    expectClose(A(vmap(f, { inAxes: [0, null] })(np.array(xs), -1)), xs.map(Math.cos), 1e-15, 0);
  });

  it("vmap: control flow on a batched value throws a ConcretizationError naming vmap", () => {
    const f = (x: NdArray) => (x.item() > 0 ? np.sin(x) : np.cos(x));
    expect(() => vmap(f)(np.array([0.5, -0.5]))).toThrow(ConcretizationError);
    expect(() => vmap(f)(np.array([0.5, -0.5]))).toThrow(/vmap/);
  });

  it("jit: control flow on a traced value throws a ConcretizationError", () => {
    const f = (x: NdArray) => (x.item() > 0 ? np.sin(x) : np.cos(x));
    expect(() => jit(f)(np.array(0.5))).toThrow(ConcretizationError);
  });
});

// ----------------------------------------------------------------- jit --

describe("jit", () => {
  const r = mulberry32(4);
  const f = (x: NdArray, y: NdArray) =>
    np.sum(np.multiply(np.tanh(np.matmul(x, y)), np.exp(np.sin(x.sum()))));
  const X = randArray(r, [3, 4]);
  const Y = randArray(r, [4, 2]);

  it("jit(f) equals f", () => {
    expectClose(A(jit(f)(X, Y)), A(f(X, Y)), 1e-13, 1e-14);
    const g = (x: NdArray) => [np.sin(x), { s: np.sum(np.square(x)) }];
    const x = randArray(r, [5]);
    const [a, b] = jit(g)(x) as [NdArray, { s: NdArray }];
    expectClose(a, toNumbers(x).map(Math.sin), 1e-14, 1e-15);
    expectClose(b.s, np.array(toNumbers(x).reduce((s, v) => s + v * v, 0)), 1e-13, 1e-15);
  });

  it("grad(jit(f)) equals grad(f), and jit(grad(f)) too", () => {
    const gr = grad(f, { argnums: [0, 1] });
    const expected = gr(X, Y) as NdArray[];
    const a = grad(jit(f), { argnums: [0, 1] })(X, Y) as NdArray[];
    const b = jit(gr)(X, Y) as NdArray[];
    for (const got of [a, b]) {
      expectClose(got[0]!, expected[0]!, 1e-12, 1e-14);
      expectClose(got[1]!, expected[1]!, 1e-12, 1e-14);
    }
    expectClose(expected[0]!, numericJacobian(f, [X, Y], 0), FD.rtol, FD.atol);
    expectClose(expected[1]!, numericJacobian(f, [X, Y], 1), FD.rtol, FD.atol);
  });

  it("vmap(jit(f)) and jit(vmap(f)) equal a loop", () => {
    const h = (x: NdArray) => np.add(np.sum(np.exp(np.tanh(x))), np.max(x));
    const B = randArray(r, [5, 3]);
    const loop = (B.toArray() as number[][]).map(
      (row) => row.reduce((s, v) => s + Math.exp(Math.tanh(v)), 0) + Math.max(...row),
    );
    expectClose(A(vmap(jit(h))(B)), loop, 1e-13, 1e-14);
    expectClose(A(jit(vmap(h))(B)), loop, 1e-13, 1e-14);
  });

  it("jit(jit(f)) equals f, and jit of a higher-order derivative", () => {
    expectClose(A(jit(jit(f))(X, Y)), A(f(X, Y)), 1e-13, 1e-14);
    const h = (x: NdArray) => np.multiply(np.sin(x), np.exp(x));
    const d3 = jit(grad(grad(grad(h))));
    const x0 = 0.6;
    expectClose(
      A(d3(x0)),
      np.array(2 ** 1.5 * Math.exp(x0) * Math.sin(x0 + (3 * Math.PI) / 4)),
      1e-12,
      1e-14,
    );
    expectClose(
      A(jit(hessian((x: NdArray) => np.sum(np.power(x, 3))))(np.array([1, 2]))),
      [
        [6, 0],
        [0, 12],
      ],
      1e-14,
      1e-15,
    );
  });

  it("jit of elementwise ops that read a full sum of the same loop (normalisation) equals a JS loop", () => {
    const xs = [0.1, 0.2, 0.3, -0.4];
    const x = np.array(xs);
    const e = xs.map(Math.exp);
    const z = e.reduce((a, b) => a + b, 0);
    const normalise = (y: NdArray) => np.divide(np.exp(y), np.sum(np.exp(y)));
    expectClose(
      A(normalise(x)),
      e.map((v) => v / z),
      1e-15,
      0,
      "eager",
    );
    expectClose(
      A(jit(normalise)(x)),
      e.map((v) => v / z),
      1e-15,
      0,
      "jit",
    );
    const c = xs.map(Math.cos);
    const sc = c.reduce((a, b) => a + b, 0);
    const addSum = (y: NdArray) => {
      const cy = np.cos(y);
      return np.add(cy, np.sum(cy));
    };
    expectClose(
      A(jit(addSum)(x)),
      c.map((v) => v + sc),
      1e-15,
      0,
      "jit cos + sum(cos)",
    );
    expectClose(
      A(jit(nn.softmax)(x)),
      e.map((v) => v / z),
      1e-14,
      0,
      "jit softmax",
    );
  });

  it("jit(grad(f)) for f = sum(sin(sum(x) + x)) equals the analytic gradient", () => {
    // d/dx_j = cos(s + x_j) + sum_i cos(s + x_i), s = sum(x)
    const f = (y: NdArray) => np.sum(np.sin(np.add(np.sum(y), y)));
    const xs = [0.1, 0.2, 0.3];
    const s = 0.6;
    const tot = xs.reduce((a, v) => a + Math.cos(s + v), 0);
    const expected = xs.map((v) => Math.cos(s + v) + tot);
    expectClose(A(grad(f)(np.array(xs))), expected, 1e-14, 1e-15, "grad");
    expectClose(A(jit(grad(f))(np.array(xs))), expected, 1e-14, 1e-15, "jit(grad)");
  });

  it("traces once per shape/dtype signature (side-effect counter)", () => {
    let traces = 0;
    const g = (x: NdArray) => {
      traces++;
      return np.sum(np.sin(x));
    };
    const jg = jit(g);
    const a = jg(np.array([1, 2, 3]));
    expect(traces).toBe(1);
    const b = jg(np.array([0.5, -1, 4])); // same shape, new values
    expect(traces).toBe(1);
    expectClose(a, np.array(Math.sin(1) + Math.sin(2) + Math.sin(3)), 1e-14, 1e-15);
    expectClose(b, np.array(Math.sin(0.5) + Math.sin(-1) + Math.sin(4)), 1e-14, 1e-15);
    jg(np.array([1, 2])); // new shape
    expect(traces).toBe(2);
    jg(np.array([[1, 2]])); // new rank
    expect(traces).toBe(3);
    const c = jg(np.array([1, 2, 3], { dtype: "float32" })); // new dtype
    expect(traces).toBe(4);
    expect(c.dtype).toBe("float32");
    jg(np.array([7, 8, 9]));
    jg(np.array([1, 2], { dtype: "float64" }));
    expect(traces).toBe(4);
    expect(jg.cacheSize).toBe(4);
  });

  it("staticArgnums: a static value is baked in; a new static value retraces", () => {
    let traces = 0;
    const g = (x: NdArray, n: number) => {
      traces++;
      let y = x;
      for (let i = 0; i < n; i++) y = np.sin(y);
      return y;
    };
    const jg = jit(g, { staticArgnums: 1 });
    const iter = (x: number, n: number) => {
      for (let i = 0; i < n; i++) x = Math.sin(x);
      return x;
    };
    expectClose(A(jg(np.array(0.9), 3)), np.array(iter(0.9, 3)), 1e-15, 0);
    expect(traces).toBe(1);
    expectClose(A(jg(np.array(0.4), 3)), np.array(iter(0.4, 3)), 1e-15, 0);
    expect(traces).toBe(1);
    expectClose(A(jg(np.array(0.4), 5)), np.array(iter(0.4, 5)), 1e-15, 0);
    expect(traces).toBe(2);
    jg(np.array(0.1), 5);
    expect(traces).toBe(2);
  });

  it("makeJaxpr: one equation per primitive", () => {
    const countOps = (text: string, op: string) =>
      text.split("\n").filter((l) => new RegExp(` = ${op}\\b`).test(l)).length;
    const t1 = makeJaxpr((x: NdArray) => np.multiply(np.sin(x), x))(np.array([1, 2]));
    const s1 = t1.toString();
    expect(countOps(s1, "sin")).toBe(1);
    expect(countOps(s1, "mul")).toBe(1);
    expect(t1.eqns.length).toBe(2);
    const t2 = makeJaxpr((x: NdArray) => np.add(np.multiply(np.sin(x), np.cos(x)), np.sin(x)))(
      np.array(1),
    );
    const s2 = t2.toString();
    expect(countOps(s2, "sin")).toBe(2);
    expect(countOps(s2, "cos")).toBe(1);
    expect(countOps(s2, "mul")).toBe(1);
    expect(countOps(s2, "add")).toBe(1);
    expect(s2.split("\n").filter((l) => / = /.test(l)).length).toBe(5);
  });

  it("makeJaxpr of grad(sin(x) * x) contains cos (derivative of sin) and evaluates like grad", () => {
    const g = grad((x: NdArray) => np.multiply(np.sin(x), x));
    const s = makeJaxpr(g)(np.array(0.5)).toString();
    expect(countLines(s, "cos")).toBeGreaterThanOrEqual(1);
    expectClose(A(jit(g)(0.5)), np.array(Math.sin(0.5) + 0.5 * Math.cos(0.5)), 1e-15, 0);
  });
});

function countLines(text: string, op: string): number {
  return text.split("\n").filter((l) => new RegExp(` = ${op}\\b`).test(l)).length;
}

// ------------------------------------------------------ nn & numerics --

describe("nn gradients and numerics", () => {
  const r = mulberry32(5);

  it("softmax Jacobian: analytic diag(s) - s s^T, FD, both modes", () => {
    const x = randArray(r, [4], -2, 2);
    const xn = toNumbers(x);
    const m = Math.max(...xn);
    const e = xn.map((v) => Math.exp(v - m));
    const z = e.reduce((a, b) => a + b, 0);
    const s = e.map((v) => v / z);
    const analytic = s.map((si, i) => s.map((sj, j) => (i === j ? si : 0) - si * sj));
    expectClose(A(jacrev(nn.softmax)(x)), analytic, 1e-13, 1e-15);
    expectClose(A(jacfwd(nn.softmax)(x)), analytic, 1e-13, 1e-15);
    expectClose(
      A(jacrev(nn.softmax)(x)),
      numericJacobian((y) => nn.softmax(y), [x]),
      FD.rtol,
      FD.atol,
    );
  });

  it("softmax along axis 0 of a matrix vs FD", () => {
    const X = randArray(r, [3, 2]);
    const f = (y: NdArray) => nn.softmax(y, 0);
    expectClose(A(jacrev(f)(X)), numericJacobian(f, [X]), FD.rtol, FD.atol);
    // columns sum to 1
    const S = f(X).toArray() as number[][];
    expectClose(
      [S[0]![0]! + S[1]![0]! + S[2]![0]!, S[0]![1]! + S[1]![1]! + S[2]![1]!],
      [1, 1],
      1e-15,
      0,
    );
  });

  it("logSoftmax Jacobian: I - softmax, and FD", () => {
    const x = randArray(r, [5], -3, 3);
    const xn = toNumbers(x);
    const m = Math.max(...xn);
    const z = xn.reduce((a, v) => a + Math.exp(v - m), 0);
    const s = xn.map((v) => Math.exp(v - m) / z);
    const analytic = xn.map((_, i) => s.map((sj, j) => (i === j ? 1 : 0) - sj));
    expectClose(A(jacrev(nn.logSoftmax)(x)), analytic, 1e-13, 1e-15);
    expectClose(
      A(jacfwd(nn.logSoftmax)(x)),
      numericJacobian((y) => nn.logSoftmax(y), [x]),
      FD.rtol,
      FD.atol,
    );
  });

  it("sigmoid gradient: s (1 - s), FD, and stable at large |x|", () => {
    const xs = [-40, -3, -0.5, 0, 0.5, 3, 40, 800, -800];
    const x = np.array(xs);
    const g = A(grad((y: NdArray) => np.sum(nn.sigmoid(y)))(x));
    const sig = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
    // s (1 - s) = e^{-|x|} / (1 + e^{-|x|})^2, without cancellation
    expectClose(
      g,
      xs.map((v) => Math.exp(-Math.abs(v)) / (1 + Math.exp(-Math.abs(v))) ** 2),
      1e-12,
      1e-300,
    );
    expectClose(nn.sigmoid(x), xs.map(sig), 1e-15, 0);
    const small = [-3, -0.5, 0.5, 3];
    expectClose(
      A(grad((y: NdArray) => np.sum(nn.sigmoid(y)))(np.array(small))),
      numericGrad((v) => v.reduce((a, b) => a + sig(b), 0), small),
      FD.rtol,
      FD.atol,
    );
  });

  it("relu gradient is the step function away from 0, and matches FD", () => {
    const xs = [-2, -0.1, 0.3, 1.7];
    const f = (y: NdArray) => np.sum(np.multiply(nn.relu(y), np.array([1, 2, 3, 4])));
    expectClose(A(grad(f)(np.array(xs))), [0, 0, 3, 4], 0, 0);
    expectClose(
      A(grad(f)(np.array(xs))),
      numericGrad((v) => f(np.array(v)), xs),
      FD.rtol,
      FD.atol,
    );
  });

  it("np.logsumexp is stable for large inputs and its gradient is softmax", () => {
    const xs = [1000, 1000, 999, -1000];
    const x = np.array(xs);
    const lse = np.logsumexp(x);
    const expected = 1000 + Math.log(2 + Math.exp(-1) + Math.exp(-2000));
    expectClose(lse, np.array(expected), 1e-15, 0);
    const z = 2 + Math.exp(-1);
    const softmax = [1 / z, 1 / z, Math.exp(-1) / z, 0];
    // relative error ~ ulp(1000) is expected in exp(x - lse)
    expectClose(A(grad((y: NdArray) => np.logsumexp(y))(x)), softmax, 1e-12, 1e-300);
    expectClose(A(grad((y: NdArray) => np.logsumexp(y))(x)), nn.softmax(x), 1e-12, 1e-300);
    // very negative
    expectClose(np.logsumexp(np.array([-1000, -1000])), np.array(-1000 + Math.LN2), 1e-15, 0);
    // along an axis with keepdims
    const M = np.array([
      [1000, 0],
      [2, 3],
    ]);
    expectClose(
      np.logsumexp(M, 1, { keepdims: true }),
      [[1000 + Math.log1p(Math.exp(-1000))], [3 + Math.log1p(Math.exp(-1))]],
      1e-15,
      0,
    );
  });

  it("logsumexp gradient along an axis equals softmax along that axis (vs FD at moderate inputs)", () => {
    const X = randArray(r, [2, 3], -2, 2);
    const f = (y: NdArray) => np.sum(np.multiply(np.logsumexp(y, 1), np.array([1, -2])));
    const g = A(grad(f)(X));
    const S = nn.softmax(X, 1).toArray() as number[][];
    expectClose(g, [S[0]!, S[1]!.map((v) => -2 * v)], 1e-14, 1e-15);
    expectClose(g, numericJacobian(f, [X]), FD.rtol, FD.atol);
  });

  it("np.prod gradient with zero elements equals the product of the others", () => {
    const prodOthers = (xs: number[]) =>
      xs.map((_, i) => xs.reduce((p, v, j) => (j === i ? p : p * v), 1));
    for (const xs of [
      [2, 0, 3, 4],
      [2, 0, 3, 4, 5], // odd length
      [0, 0, 3],
      [1.5, -2, 0.5, 3, -1, 2, 0.25],
      [0],
      [7],
    ]) {
      const g = A(grad((y: NdArray) => np.prod(y))(np.array(xs)));
      expectClose(g, prodOthers(xs), 1e-15, 0, `prod grad of [${xs.join(", ")}]`);
    }
  });

  it("np.prod along an axis: gradient vs product of others, Hessian vs FD", () => {
    const M = np.array([
      [1, 0, 2],
      [3, -1, 0.5],
    ]);
    const f = (y: NdArray) => np.sum(np.multiply(np.prod(y, 1), np.array([1, 10])));
    expectClose(
      A(grad(f)(M)),
      [
        [0, 2, 0],
        [-5, 15, -30],
      ],
      1e-15,
      0,
    );
    expectClose(
      A(hessian(f)(M)),
      numericJacobian((y) => A(grad(f)(y)), [M]),
      FD.rtol,
      FD.atol,
    );
  });

  it("matmul gradients vs FD on random 3x4 @ 4x2", () => {
    const a = randArray(r, [3, 4]);
    const b = randArray(r, [4, 2]);
    const loss = (p: NdArray, q: NdArray) => np.sum(np.sin(np.matmul(p, q)));
    const [ga, gb] = grad(loss, { argnums: [0, 1] })(a, b) as NdArray[];
    expect(ga!.shape).toEqual([3, 4]);
    expect(gb!.shape).toEqual([4, 2]);
    expectClose(ga!, numericJacobian(loss, [a, b], 0), FD.rtol, FD.atol);
    expectClose(gb!, numericJacobian(loss, [a, b], 1), FD.rtol, FD.atol);
    // analytic: G = cos(AB); dA = G B^T; dB = A^T G
    const An = a.toArray() as number[][];
    const Bn = b.toArray() as number[][];
    const G = matmulJS(An, Bn).map((row) => row.map(Math.cos));
    const Bt = Bn[0]!.map((_, j) => Bn.map((row) => row[j]!));
    const At = An[0]!.map((_, j) => An.map((row) => row[j]!));
    expectClose(ga!, matmulJS(G, Bt), 1e-13, 1e-15);
    expectClose(gb!, matmulJS(At, G), 1e-13, 1e-15);
  });

  it("matmul Jacobian (jacfwd) matches the Kronecker structure", () => {
    const a = randArray(r, [3, 4]);
    const b = randArray(r, [4, 2]);
    const J = A(jacfwd((p: NdArray) => np.matmul(p, b))(a)); // [3,2,3,4]
    expect(J.shape).toEqual([3, 2, 3, 4]);
    const Bn = b.toArray() as number[][];
    const expected = [0, 1, 2].map((i) =>
      [0, 1].map((j) => [0, 1, 2].map((k) => [0, 1, 2, 3].map((l) => (i === k ? Bn[l]![j]! : 0)))),
    );
    expectClose(J, expected, 0, 0);
  });

  it("matrix-vector and vector-vector matmul gradients vs FD", () => {
    const M = randArray(r, [3, 4]);
    const v = randArray(r, [4]);
    const f = (m: NdArray, w: NdArray) => np.sum(np.tanh(np.matmul(m, w)));
    const g = (w: NdArray, u: NdArray) => np.square(np.matmul(w, u));
    const [gm, gv] = grad(f, { argnums: [0, 1] })(M, v) as NdArray[];
    expectClose(gm!, numericJacobian(f, [M, v], 0), FD.rtol, FD.atol);
    expectClose(gv!, numericJacobian(f, [M, v], 1), FD.rtol, FD.atol);
    const u = randArray(r, [4]);
    expectClose(A(grad(g)(v, u)), numericJacobian(g, [v, u], 0), FD.rtol, FD.atol);
  });

  it("float32 inputs keep float32 through grad, jvp, vmap, hessian and match float64 within 1e-4", () => {
    const f = (x: NdArray) => np.sum(np.multiply(np.sin(x), np.exp(np.tanh(x))));
    const x64 = randArray(r, [6]);
    const x32 = x64.astype("float32");
    expect(x32.dtype).toBe("float32");
    const g32 = A(grad(f)(x32));
    const g64 = A(grad(f)(x64));
    expect(g32.dtype).toBe("float32");
    expect(g64.dtype).toBe("float64");
    expectClose(g32, g64, 1e-4, 1e-5);
    expect(A(f(x32)).dtype).toBe("float32");
    const [p, t] = jvp(f, [x32], [np.onesLike(x32)]);
    expect(p.dtype).toBe("float32");
    expect(t.dtype).toBe("float32");
    expectClose(
      t,
      toNumbers(g64).reduce((a, b) => a + b, 0),
      1e-4,
      1e-5,
    );
    const X32 = randArray(r, [3, 6], -1, 1, "float32");
    const vg = A(vmap(grad(f))(X32));
    expect(vg.dtype).toBe("float32");
    const H32 = A(hessian(f)(x32));
    expect(H32.dtype).toBe("float32");
    expectClose(H32, A(hessian(f)(x64)), 1e-4, 1e-5);
    // a float64 constant does not promote (weak JS number)
    const g2 = A(grad((y: NdArray) => np.sum(np.multiply(y, 2.5)))(x32));
    expect(g2.dtype).toBe("float32");
    expectClose(g2, [2.5, 2.5, 2.5, 2.5, 2.5, 2.5], 0, 0);
  });

  it("float32 under jit keeps float32 and matches float64 within 1e-4", () => {
    const f = (x: NdArray) => np.sum(np.square(np.cos(x)));
    const x64 = randArray(r, [5]);
    const x32 = x64.astype("float32");
    const gj = A(jit(grad(f))(x32));
    expect(gj.dtype).toBe("float32");
    expectClose(
      gj,
      toNumbers(x64).map((v) => -2 * Math.cos(v) * Math.sin(v)),
      1e-4,
      1e-5,
    );
    expect(A(jit(f)(x32)).dtype).toBe("float32");
  });
});

// sanity checks on the helpers themselves (so a broken helper cannot mask a bug)
describe("test helpers", () => {
  it("numericGrad and numericJacobianFlat are accurate on known functions", () => {
    expectClose(
      numericGrad(([a, b]) => a! * a! * b!, [3, 2]),
      [12, 9],
      1e-8,
      1e-9,
    );
    expectClose(
      numericJacobianFlat(([a, b]) => [a! * b!, Math.sin(a!)], [1, 2]),
      [
        [2, 1],
        [Math.cos(1), 0],
      ],
      1e-8,
      1e-9,
    );
    expect(shapeOf(nest([1, 2, 3, 4, 5, 6], [2, 3]))).toEqual([2, 3]);
  });
});

// ------------------------------------------------ more composition edges --

describe("more composition edges", () => {
  const r = mulberry32(6);

  it("vmap with outAxes 1 and inAxes 1 equals a loop (transposed layout)", () => {
    const f = (v: NdArray) => np.multiply(np.sin(v), np.sum(v)); // [3] -> [3]
    const X = randArray(r, [3, 4]); // map over axis 1
    const out = A(vmap(f, { inAxes: 1, outAxes: 1 })(X));
    expect(out.shape).toEqual([3, 4]);
    const Xn = X.toArray() as number[][];
    const cols = [0, 1, 2, 3].map((j) => Xn.map((row) => row[j]!));
    const res = cols.map((c) => c.map((v) => Math.sin(v) * c.reduce((a, b) => a + b, 0)));
    const expected = [0, 1, 2].map((i) => [0, 1, 2, 3].map((j) => res[j]![i]!));
    expectClose(out, expected, 1e-14, 1e-15);
  });

  it("vmap of a function whose output ignores the batched input broadcasts it", () => {
    const f = (x: NdArray, c: NdArray) => [np.sin(x), np.multiply(c, 2)];
    const [a, b] = vmap(f, { inAxes: [0, null] })(np.array([0.1, 0.2]), np.array(3));
    expectClose(a!, [Math.sin(0.1), Math.sin(0.2)], 1e-15, 0);
    expectClose(b!, [6, 6], 0, 0);
  });

  it("vmap over a dict argument with a per-key inAxes tree", () => {
    const f = (p: { a: NdArray; b: NdArray }) => np.add(np.sum(p.a), p.b);
    const a = randArray(r, [2, 3]);
    const b = np.array(0.5);
    const out = A(vmap(f, { inAxes: [{ a: 0, b: null }] })({ a, b }));
    const An = a.toArray() as number[][];
    expectClose(
      out,
      An.map((row) => row.reduce((s, v) => s + v, 0) + 0.5),
      1e-15,
      0,
    );
  });

  it("vmap over a list argument with a per-element inAxes tree (null = unbatched)", () => {
    const f = (p: NdArray[]) => np.add(np.sum(p[0]!), p[1]!);
    const a = randArray(r, [2, 3]);
    const out = A(vmap(f, { inAxes: [[0, null]] })([a, np.array(0.5)]));
    const An = a.toArray() as number[][];
    expectClose(
      out,
      An.map((row) => row.reduce((s, v) => s + v, 0) + 0.5),
      1e-15,
      0,
    );
  });

  it("grad of a vmapped loss with unbatched params (per-example gradients via vmap(grad))", () => {
    const loss = (w: NdArray, x: NdArray) => np.square(np.sum(np.multiply(np.sin(w), x)));
    const w = randArray(r, [3]);
    const X = randArray(r, [4, 3]);
    const per = A(vmap(grad(loss), { inAxes: [null, 0] })(w, X));
    expect(per.shape).toEqual([4, 3]);
    const wn = toNumbers(w);
    const expected = (X.toArray() as number[][]).map((x) => {
      const s = wn.reduce((a, wj, j) => a + Math.sin(wj) * x[j]!, 0);
      return wn.map((wj, j) => 2 * s * Math.cos(wj) * x[j]!);
    });
    expectClose(per, expected, 1e-13, 1e-15);
  });

  it("jvp with pytree primals/tangents and pytree outputs vs analytic", () => {
    const f = (p: { a: NdArray; b: NdArray[] }) => ({
      s: np.multiply(p.a, p.b[0]!),
      t: [np.sin(p.b[1]!)],
    });
    const p = { a: np.array(2), b: [np.array([1, 3]), np.array(0.5)] };
    const t = { a: np.array(0.1), b: [np.array([1, -1]), np.array(2)] };
    const [out, tan] = jvp(f, [p], [t]) as [
      { s: NdArray; t: NdArray[] },
      { s: NdArray; t: NdArray[] },
    ];
    expectClose(out.s, [2, 6], 0, 0);
    expectClose(out.t[0]!, np.array(Math.sin(0.5)), 0, 0);
    // d(a b0) = da b0 + a db0
    expectClose(tan.s, [0.1 * 1 + 2 * 1, 0.1 * 3 + 2 * -1], 1e-15, 0);
    expectClose(tan.t[0]!, np.array(Math.cos(0.5) * 2), 1e-15, 0);
  });

  it("vjp with pytree outputs: pullback of a dict cotangent vs analytic", () => {
    const f = (x: NdArray) => ({ p: np.square(x), q: np.sum(np.exp(x)) });
    const x = np.array([0.3, -0.2]);
    const [, pb] = vjp(f, x);
    const ct = { p: np.array([1, 2]), q: np.array(0.5) };
    const [g] = pb(ct) as NdArray[];
    expectClose(
      g!,
      [2 * 0.3 * 1 + 0.5 * Math.exp(0.3), 2 * -0.2 * 2 + 0.5 * Math.exp(-0.2)],
      1e-15,
      0,
    );
  });

  it("jit with a dict argument, a closed-over constant, and retracing on a new tree structure", () => {
    let traces = 0;
    const C = randArray(r, [3]);
    const f = (p: { w: NdArray; b?: NdArray }) => {
      traces++;
      const base = np.sum(np.multiply(p.w, C));
      return p.b === undefined ? base : np.add(base, p.b);
    };
    const jf = jit(f);
    const w = randArray(r, [3]);
    const dot = toNumbers(w).reduce((s, v, i) => s + v * toNumbers(C)[i]!, 0);
    expectClose(A(jf({ w })), np.array(dot), 1e-14, 1e-15);
    expectClose(A(jf({ w, b: np.array(1) })), np.array(dot + 1), 1e-14, 1e-15);
    expect(traces).toBe(2);
    jf({ w: np.zerosLike(w) });
    expect(traces).toBe(2);
    // grad through jit with a dict
    const g = grad(jf)({ w, b: np.array(1) });
    expectClose(g.w, C, 1e-15, 0);
    expectClose(g.b, np.array(1), 0, 0);
  });

  it("jit of a function returning an input unchanged and a constant", () => {
    const f = (x: NdArray) => [x, np.array(4), np.multiply(x, 0)];
    const x = np.array([1.5, -2]);
    const [a, b, c] = jit(f)(x);
    expectClose(a!, [1.5, -2], 0, 0);
    expectClose(b!, np.array(4), 0, 0);
    expectClose(c!, [0, 0], 0, 0);
  });

  it("jit with keepdims reductions and broadcasting, under grad, vs FD", () => {
    const f = (X: NdArray) => {
      const m = np.mean(X, 1, { keepdims: true }); // [3,1]
      const c = np.subtract(X, m); // broadcast
      return np.sum(np.multiply(np.square(c), np.array([1, 2, 3, 4])));
    };
    const X = randArray(r, [3, 4]);
    expectClose(A(jit(f)(X)), A(f(X)), 1e-13, 1e-15);
    const g = A(jit(grad(f))(X));
    expectClose(g, A(grad(f)(X)), 1e-12, 1e-14);
    expectClose(g, numericJacobian(f, [X]), FD.rtol, FD.atol);
  });

  it("grad of a jitted function with staticArgnums", () => {
    const f = (x: NdArray, n: number) => np.power(x, n);
    const jf = jit(f, { staticArgnums: 1 });
    expectClose(A(grad(jf)(1.5, 3)), np.array(3 * 1.5 ** 2), 1e-15, 0);
    expectClose(A(grad(jf)(1.5, 4)), np.array(4 * 1.5 ** 3), 1e-15, 0);
  });

  it("jvp accepts JS number tangents for float32 primals and keeps float32", () => {
    const f = (x: NdArray) => np.sin(x);
    const x = np.array([0.5, 1], { dtype: "float32" });
    const [, t] = jvp(f, [x], [np.array([1, 2], { dtype: "float32" })]) as NdArray[];
    expect(t!.dtype).toBe("float32");
    expectClose(t!, [Math.cos(0.5), 2 * Math.cos(1)], 1e-6, 1e-7);
    const [, t0] = jvp(f, [np.array(0.5, { dtype: "float32" })], [1]) as NdArray[];
    expect(t0!.dtype).toBe("float32");
    expectClose(t0!, np.array(Math.cos(0.5)), 1e-6, 1e-7);
  });

  it("grad w.r.t. an int input and of a non-scalar output throw the documented error classes", async () => {
    const { DTypeError, ShapeError } = await import("../src/index.js");
    expect(() => grad((x: NdArray) => np.sum(x))(np.array([1, 2], { dtype: "int32" }))).toThrow(
      DTypeError,
    );
    expect(() => grad((x: NdArray) => np.sin(x))(np.array([1, 2]))).toThrow(ShapeError);
    expect(() => grad((x: NdArray) => np.sin(x))(np.array([1, 2]))).toThrow(/jacrev|vjp/);
  });

  it("int arguments next to float ones are treated as constants (grad argnums only floats)", () => {
    const f = (x: NdArray, idx: NdArray) => np.sum(np.take(np.square(x), idx));
    const x = np.array([1, 2, 3]);
    const idx = np.array([0, 2, 2], { dtype: "int32" });
    expectClose(A(grad(f)(x, idx)), [2, 0, 12], 0, 0);
    expectClose(A(jit(grad(f))(x, idx)), [2, 0, 12], 0, 0);
  });
});
