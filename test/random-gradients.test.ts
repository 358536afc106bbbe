/**
 * random: derivatives of samples with respect to their parameters, checked
 * through their expectations (d E[x] / d theta = E[d x / d theta] for
 * pathwise and implicit reparameterisation gradients) against the analytic
 * derivative of the mean, within 5 standard errors of the per-sample
 * derivatives; a second derivative of gamma samples the same way; discrete
 * samplers' zero derivatives; every sampler giving the same numbers
 * eagerly, under jit and under vmap over keys (as a loop); and errors.
 */
import { describe, expect, it } from "vitest";
import {
  DTypeError,
  InvalidArgumentError,
  ShapeError,
  grad,
  jit,
  jvp,
  np,
  random,
  vmap,
  type Array as NdArray,
} from "../src/index.js";

const values = (x: NdArray): number[] => Array.from(x.data(), Number);

/** Expects the mean of per-sample values to be `expected` within 5 standard errors. */
function expectMean(xs: number[], expected: number): void {
  const n = xs.length;
  const m = xs.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(xs.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1));
  expect(Math.abs(m - expected), `mean ${m} vs ${expected} (se ${sd / Math.sqrt(n)})`).toBeLessThan(
    5 * (sd / Math.sqrt(n)),
  );
}

const N = 4000;

describe("reparameterised gradients", () => {
  it("gamma: E[dx/da] = dE[x]/da = 1 (a < 1 and a > 1), and E[d^2 x^2/da^2] = 2", () => {
    const k = random.key(40);
    for (const a0 of [0.4, 3]) {
      const a = np.full([N], a0);
      // the samples are independent, so the gradient of the sum is the per-sample derivative
      const g = grad((aa: NdArray) => np.sum(random.gamma(k, aa)))(a);
      expectMean(values(g), 1);
    }
    // E[x^2] = a^2 + a: second derivative 2 (forward over reverse through the implicit rule)
    const a = np.full([1000], 2);
    const dSquare = (aa: NdArray) =>
      grad((b: NdArray) => np.sum(np.square(random.gamma(k, b))))(aa);
    const second = jvp(dSquare, [a], [np.onesLike(a)])[1];
    expectMean(values(second), 2);
  });

  it("gamma: the implicit derivative matches a finite difference of the inverse CDF for a = 1 (exponential)", () => {
    // Gamma(1) is Exp(1): x = -log(1 - u); at fixed u, F(x; a) = u defines x(a);
    // a central difference of the a = 1 +- h samples' CDF values gives dF/da,
    // so dx/da = -(dF/da)/f. Here checked on the a = 1 + h sample itself:
    // F(x; a) from the series is independent of the sampler.
    const x = random.gamma(random.key(41), 1, [5]);
    const g = grad((a: NdArray) => np.sum(random.gamma(random.key(41), a)))(np.full([5], 1));
    // reference: dP(a, x)/da at a = 1 by the integral identity
    //   dP/da = integral_0^x log t e^-t dt (at a = 1, Gamma'(1) = -gamma_E, Gamma(1) = 1) + gamma_E P(1, x),
    // integrated by Simpson's rule on 20000 intervals after t = s^2 (smooth integrand).
    const eulerGamma = 0.5772156649015329;
    values(x).forEach((xi, i) => {
      const m = 20000;
      const top = Math.sqrt(xi);
      const h = top / m;
      let integral = 0;
      for (let j = 0; j <= m; j++) {
        const s = j * h;
        const f = s === 0 ? 0 : 2 * s * Math.log(s * s) * Math.exp(-s * s);
        integral += f * (j === 0 || j === m ? 1 : j % 2 === 1 ? 4 : 2);
      }
      integral *= h / 3;
      const dPda = integral + eulerGamma * (1 - Math.exp(-xi));
      const want = -dPda / Math.exp(-xi);
      expect(values(g)[i]).toBeCloseTo(want, 6);
    });
  });

  it("beta: E[dx/da] = b / (a + b)^2", () => {
    const [a0, b0] = [2, 3];
    const g = grad((aa: NdArray) => np.sum(random.beta(random.key(42), aa, b0)))(np.full([N], a0));
    expectMean(values(g), b0 / (a0 + b0) ** 2);
  });

  it("dirichlet: E[d x_0 / d alpha_0] = (s - alpha_0) / s^2", () => {
    const alpha = np.broadcastTo(np.array([1.5, 2, 0.7]), [N, 3]);
    const g = grad((al: NdArray) => np.sum(random.dirichlet(random.key(43), al).slice(null, 0)))(
      alpha,
    );
    const first = (g.toArray() as number[][]).map((r) => r[0]!);
    const s = 4.2;
    expectMean(first, (s - 1.5) / s ** 2);
  });

  it("truncatedNormal: E[dx/d lower] = phi(a) (m - a) / Z", () => {
    const [a, b] = [-0.5, 1.5];
    const g = grad((lo: NdArray) => np.sum(random.truncatedNormal(random.key(44), lo, b)))(
      np.full([N], a),
    );
    const phi = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
    const cdf = (x: number) => 0.5 * (1 + np.erf(x / Math.SQRT2).item());
    const z = cdf(b) - cdf(a);
    const m = (phi(a) - phi(b)) / z;
    expectMean(values(g), (phi(a) * (m - a)) / z);
  });

  it("discrete samplers have zero derivatives in their float parameters (as JAX)", () => {
    const k = random.key(45);
    const f = (p: NdArray) => np.sum(random.bernoulli(k, p, [10]).astype("float64"));
    expect(grad(f)(np.array(0.4)).item()).toBe(0);
    const g = (lam: NdArray) => np.sum(random.poisson(k, lam, [10]).astype("float64"));
    expect(grad(g)(np.array(3.0)).item()).toBe(0);
    const c = (l: NdArray) => np.sum(random.categorical(k, l, [10]).astype("float64"));
    expect(values(grad(c)(np.zeros([3])))).toEqual([0, 0, 0]);
  });
});

describe("the same numbers eagerly, under jit and under vmap over keys", () => {
  const samplers: [string, (k: NdArray) => NdArray][] = [
    ["exponential", (k) => random.exponential(k, [5])],
    ["gumbel", (k) => random.gumbel(k, [5], { dtype: "float32" })],
    ["truncatedNormal", (k) => random.truncatedNormal(k, -1, 0.5, [5])],
    [
      "multivariateNormal",
      (k) =>
        random.multivariateNormal(
          k,
          np.array([1, 2]),
          np.array([
            [2, 0.3],
            [0.3, 1],
          ]),
          [3],
        ),
    ],
    ["gamma", (k) => random.gamma(k, np.array([0.3, 1, 4, 30]))],
    ["beta", (k) => random.beta(k, 0.5, 2, [4])],
    ["dirichlet", (k) => random.dirichlet(k, [1, 2, 3], [2])],
    ["randint", (k) => random.randint(k, [6], -5, 5)],
    ["categorical", (k) => random.categorical(k, np.array([0.1, 0.5, -1]), [6])],
    ["permutation", (k) => random.permutation(k, 6)],
    ["choice", (k) => random.choice(k, 8, [3], { replace: false })],
    ["poisson", (k) => random.poisson(k, np.array([0.5, 4, 12, 80]))],
    ["binomial", (k) => random.binomial(k, np.array([5, 40, 100]), np.array([0.3, 0.5, 0.9]))],
  ];
  const keys = random.split(random.key(46), 3);
  for (const [name, f] of samplers) {
    it(name, () => {
      const loop = [0, 1, 2].map((i) => f(keys.slice(i)));
      const jitted = jit(f);
      [0, 1, 2].forEach((i) => expect(values(jitted(keys.slice(i)))).toEqual(values(loop[i]!)));
      const mapped = vmap(f)(keys);
      expect(mapped.shape).toEqual([3, ...loop[0]!.shape]);
      expect(values(mapped)).toEqual(loop.flatMap(values));
    });
  }
});

describe("bad arguments", () => {
  const k = random.key(0);
  it("names the function, the argument and what to do", () => {
    expect(() => random.gamma(k, np.array([1, 2]), [3])).toThrow(ShapeError);
    expect(() => random.gamma(k, np.array([1, 2]), [3])).toThrow(
      /random.gamma: the parameters \(a \[2\]\) do not broadcast to the requested shape \[3\]/,
    );
    expect(() => random.dirichlet(k, 2)).toThrow(
      /random.dirichlet: alpha must have shape \[..., k\]/,
    );
    expect(() => random.multivariateNormal(k, np.zeros([2]), np.eye(3))).toThrow(
      /mean must have shape \[..., n\] and cov \[..., n, n\], got mean \[2\] and cov \[3, 3\]/,
    );
    expect(() =>
      random.multivariateNormal(k, np.zeros([2]), np.eye(2), undefined, {
        method: "svd" as "cholesky",
      }),
    ).toThrow(InvalidArgumentError);
    expect(() => random.poisson(k, 2, [3], { dtype: "float64" })).toThrow(DTypeError);
    expect(() => random.poisson(k, 2, [3], { dtype: "float64" })).toThrow(
      /random.poisson: samples are integers/,
    );
    expect(() => random.categorical(k, np.array(1.0))).toThrow(
      /random.categorical: logits must have at least one axis/,
    );
    expect(() => random.categorical(k, np.zeros([3]), undefined, { axis: 2 })).toThrow(
      /axis 2 is out of range for logits of shape \[3\]/,
    );
    expect(() => random.permutation(k, -2)).toThrow(
      /random.permutation: expected a non-negative integer/,
    );
    expect(() => random.choice(k, 3, [5], { replace: false })).toThrow(
      /cannot take 5 entries \(shape \[5\]\) without replacement from 3/,
    );
    expect(() => random.choice(k, 3, [2], { p: [0.5, 0.5] })).toThrow(
      /random.choice: p must have shape \[3\]/,
    );
    expect(() => random.randint(k, [2], np.array([true]), 3)).toThrow(
      /random.randint: minval must be integers, got bool/,
    );
    expect(() => random.permutation(k, np.array(3))).toThrow(
      /random.permutation: x must have at least one axis/,
    );
    expect(() => random.permutation(k, np.zeros([2, 3]), { axis: 2 })).toThrow(
      /random.permutation: axis 2 is out of range for shape \[2, 3\]/,
    );
    expect(() => random.choice(k, 0, [2])).toThrow(
      /random.choice: cannot choose 2 entries from an empty set/,
    );
    expect(() => random.choice(k, np.zeros([3]), [2], { axis: 1 })).toThrow(
      /random.choice: axis 1 is out of range for shape \[3\]/,
    );
    expect(() => random.choice(k, 2.5)).toThrow(
      /random.choice: expected a non-negative integer or an array, got 2.5/,
    );
    expect(() => random.uniform(k, [2], { minval: np.array([true, false]) })).toThrow(
      /random.uniform: minval must be a number or a float array, got bool/,
    );
    expect(() => random.split(k, [2.5])).toThrow(
      /random.split: the shape must be a list of non-negative integers/,
    );
    expect(() => random.normal(np.array([1, 2, 3], { dtype: "int32" }))).toThrow(
      /random.normal: expected one key, an int32 array of shape \[2\], got shape \[3\]; make one with random.key/,
    );
    expect(() => random.truncatedNormal(k, np.zeros([2]), np.ones([3]))).toThrow(
      /random.truncatedNormal: the parameters do not broadcast together: lower \[2\], upper \[3\]/,
    );
  });
});
