/**
 * Log-densities against their formulas, and maximum-likelihood fits against
 * closed-form estimates and standard errors.
 */
import { describe, expect, it } from "vitest";
import { type Array as NdArray, InvalidArgumentError, grad, np, stats } from "../src/index.js";
import { expectAllClose } from "./helpers.js";

describe("log-densities", () => {
  it("normal and Poisson match their formulas, with derivatives", () => {
    expectAllClose(
      stats.normalLogPdf(1.5, 0.5, 2),
      -0.5 * 0.25 - Math.log(2) - 0.5 * Math.log(2 * Math.PI),
      1e-15,
    );
    // log Pois(3 | 2.5) = 3 log 2.5 - 2.5 - log 6
    expectAllClose(stats.poissonLogPmf(3, 2.5), 3 * Math.log(2.5) - 2.5 - Math.log(6), 1e-15);
    expectAllClose(stats.poissonLogPmf(0, 2.5), -2.5, 1e-15);
    // d/d rate = k / rate - 1; d/d mu of the normal = (x - mu) / sigma^2
    expectAllClose(grad((r: NdArray) => stats.poissonLogPmf(3, r))(2.5), 3 / 2.5 - 1, 1e-15);
    expectAllClose(grad((m: NdArray) => stats.normalLogPdf(1.5, m, 2))(0.5), 1 / 4, 1e-15);
    expectAllClose(stats.exponentialLogPdf(2, 0.5), Math.log(0.5) - 1, 1e-15);
    expect(() => stats.poissonLogPmf(2.5, 1)).toThrow(/k must hold counts/);
  });
});

describe("fit", () => {
  it("Gaussian mean: estimate = sample mean, standard error = sigma / sqrt(n)", () => {
    const data = [2.1, 1.7, 2.9, 2.4, 1.5, 2.2];
    const sigma = 0.5;
    const x = np.array(data);
    const r = stats.fit(
      (p: { mu: NdArray }) => np.negative(np.sum(stats.normalLogPdf(x, p.mu, sigma))),
      { mu: 0 },
    );
    const mean = data.reduce((a, b) => a + b, 0) / data.length;
    expectAllClose(r.params.mu, mean, 1e-9);
    expectAllClose(r.stdErrors.mu, sigma / Math.sqrt(data.length), 1e-9);
  });
  it("Poisson rate: estimate = mean count, standard error = sqrt(rate / n)", () => {
    const counts = [3, 5, 2, 4, 6, 4];
    const k = np.array(counts);
    const r = stats.fit((rate: NdArray) => np.negative(np.sum(stats.poissonLogPmf(k, rate))), 1);
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    expectAllClose(r.params, mean, 1e-8);
    expectAllClose(r.stdErrors, Math.sqrt(mean / counts.length), 1e-7);
  });
  it("the seeds' one-bin counting model: best fit (1, 1) and the inverse-Hessian covariance", () => {
    // n = 15 observed, signal 5, background 10 with a Normal constraint of width 3.5 / 10 on gamma
    const [n, s, b, width] = [15, 5, 10, 0.35];
    const nll = (p: NdArray) => {
      const mu = np.take(p, 0);
      const gamma = np.take(p, 1);
      const rate = np.add(np.multiply(mu, s), np.multiply(gamma, b));
      return np.negative(np.add(stats.poissonLogPmf(n, rate), stats.normalLogPdf(1, gamma, width)));
    };
    const r = stats.fit(nll, np.array([0.5, 0.8]));
    expectAllClose(r.params, [1, 1], 1e-7);
    // Hessian at the optimum (rate = n): [[s^2, s b], [s b, b^2]] / n + [[0, 0], [0, 1 / width^2]]
    const h = [
      [(s * s) / n, (s * b) / n],
      [(s * b) / n, (b * b) / n + 1 / (width * width)],
    ];
    const det = h[0]![0]! * h[1]![1]! - h[0]![1]! * h[1]![0]!;
    const cov = [h[1]![1]! / det, -h[0]![1]! / det, -h[1]![0]! / det, h[0]![0]! / det];
    expectAllClose(r.covariance, cov, 1e-6);
    expectAllClose(r.stdErrors, [Math.sqrt(cov[0]!), Math.sqrt(cov[3]!)], 1e-6);
  });
});

/** log n! by summation, for references. */
const logFactorial = (n: number) => {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
};
/** Central difference of a scalar JS function of one variable. */
const central = (f: (v: number) => number, v: number, h = 1e-5) => (f(v + h) - f(v - h)) / (2 * h);

describe("more log-densities", () => {
  it("logGamma matches log (n-1)!, Gamma(1/2) = sqrt(pi), reflection, and digamma as its derivative", () => {
    const ns = [1, 2, 3, 5, 10, 20, 50];
    expectAllClose(
      stats.logGamma(np.array(ns)),
      ns.map((n) => logFactorial(n - 1)),
      1e-13,
      1e-14,
    );
    expectAllClose(stats.logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14);
    // Gamma(-1/2) = -2 sqrt(pi): log |Gamma(-1/2)| = log(2 sqrt(pi))
    expectAllClose(stats.logGamma(-0.5), Math.log(2 * Math.sqrt(Math.PI)), 1e-13);
    // digamma(1) = -Euler's gamma; digamma(1/2) = -gamma - 2 log 2; digamma(x + 1) = digamma(x) + 1/x
    const euler = 0.5772156649015329;
    const dlg = grad((x: NdArray) => stats.logGamma(x));
    expectAllClose(dlg(1), -euler, 1e-12);
    expectAllClose(dlg(0.5), -euler - 2 * Math.log(2), 1e-12);
    expectAllClose(dlg(4.3).item() - dlg(3.3).item(), 1 / 3.3, 1e-12);
    expectAllClose(
      dlg(0.3),
      central((v) => stats.logGamma(v).item(), 0.3),
      1e-8,
    );
  });

  it("gamma and beta densities match their formulas, gradients match finite differences", () => {
    // Gamma(2 | 3, 1) = 2^2 e^-2 / 2!
    expectAllClose(stats.gammaLogPdf(2, 3, 1), Math.log(2) - 2, 1e-14);
    // Gamma(x | 1, rate) is the exponential density
    expectAllClose(stats.gammaLogPdf(0.7, 1, 2.5), stats.exponentialLogPdf(0.7, 2.5), 1e-14);
    // Beta(0.5 | 2, 3) = x (1 - x)^2 / B(2, 3), B(2, 3) = 1! 2! / 4! = 1/12
    expectAllClose(stats.betaLogPdf(0.5, 2, 3), Math.log(0.5 * 0.25 * 12), 1e-14);
    expectAllClose(stats.betaLogPdf(0.3, 1, 1), 0, 1e-14, 1e-14);
    // Derivatives in every argument against central differences.
    const args: [number, number, number] = [1.7, 2.3, 0.8];
    for (let i = 0; i < 3; i++) {
      const f = (v: number) =>
        stats
          .gammaLogPdf(...(args.map((a, j) => (j === i ? v : a)) as [number, number, number]))
          .item();
      const g = grad(stats.gammaLogPdf, { argnums: i })(...args);
      expectAllClose(g, central(f, args[i]!), 1e-8);
    }
    const bargs: [number, number, number] = [0.35, 2.5, 1.5];
    for (let i = 0; i < 3; i++) {
      const f = (v: number) =>
        stats
          .betaLogPdf(...(bargs.map((a, j) => (j === i ? v : a)) as [number, number, number]))
          .item();
      const g = grad(stats.betaLogPdf, { argnums: i })(...bargs);
      expectAllClose(g, central(f, bargs[i]!), 1e-8);
    }
  });

  it("binomial pmf matches n choose k p^k (1-p)^(n-k), sums to one, gradient in p", () => {
    const n = 10;
    const p = 0.4;
    const ks = Array.from({ length: n + 1 }, (_, k) => k);
    const choose = (nn: number, k: number) => {
      let c = 1;
      for (let i = 1; i <= k; i++) c = (c * (nn - k + i)) / i;
      return c;
    };
    const direct = ks.map((k) => Math.log(choose(n, k) * p ** k * (1 - p) ** (n - k)));
    const got = stats.binomialLogPmf(np.array(ks), n, p);
    expectAllClose(got, direct, 1e-13, 1e-13);
    expectAllClose(np.sum(np.exp(got)), 1, 1e-13);
    // d/dp = k / p - (n - k) / (1 - p); at k = 0 and k = n the 0 log 0 convention holds
    for (const k of [0, 3, 10]) {
      const g = grad((pp: NdArray) => stats.binomialLogPmf(k, n, pp))(p);
      expectAllClose(g, k / p - (n - k) / (1 - p), 1e-12);
      expectAllClose(
        g,
        central((v) => stats.binomialLogPmf(k, n, v).item(), p),
        1e-8,
      );
    }
  });

  it("Student t, Laplace and log-normal match their formulas, gradients match finite differences", () => {
    // nu = 1 is the Cauchy density 1 / (pi s (1 + z^2))
    const z = (1.3 - 0.2) / 0.7;
    expectAllClose(
      stats.studentTLogPdf(1.3, 1, 0.2, 0.7),
      -Math.log(Math.PI * 0.7 * (1 + z * z)),
      1e-14,
    );
    // nu = 2 at 0: Gamma(3/2) / (sqrt(2 pi) Gamma(1)) = 1 / (2 sqrt 2)
    expectAllClose(stats.studentTLogPdf(0, 2), -Math.log(2 * Math.SQRT2), 1e-14);
    // large nu approaches the normal density
    expectAllClose(stats.studentTLogPdf(0.4, 1e7), stats.normalLogPdf(0.4, 0, 1), 1e-6);
    expectAllClose(stats.laplaceLogPdf(1.5, 0.5, 2), -Math.log(4) - 0.5, 1e-14);
    const x = 2.2;
    const [mu, s] = [0.3, 0.6];
    expectAllClose(
      stats.logNormalLogPdf(x, mu, s),
      Math.log(
        Math.exp(-((Math.log(x) - mu) ** 2) / (2 * s * s)) / (x * s * Math.sqrt(2 * Math.PI)),
      ),
      1e-13,
    );
    const cases: [(...a: number[]) => NdArray, number[]][] = [
      [(a, b, c, d) => stats.studentTLogPdf(a, b, c, d), [0.9, 3.5, 0.2, 1.4]],
      [(a, b, c) => stats.laplaceLogPdf(a, b, c), [0.9, 0.2, 1.4]],
      [(a, b, c) => stats.logNormalLogPdf(a, b, c), [0.9, 0.2, 1.4]],
    ];
    for (const [fn, args] of cases) {
      for (let i = 0; i < args.length; i++) {
        const f = (v: number) => fn(...args.map((a, j) => (j === i ? v : a))).item();
        const g = grad((...a: NdArray[]) => fn(...(a as unknown as number[])), { argnums: i })(
          ...args,
        );
        expectAllClose(g, central(f, args[i]!), 1e-8);
      }
    }
  });

  it("bad counts in binomialLogPmf give a clear InvalidArgumentError", () => {
    expect(() => stats.binomialLogPmf(2.5, 10, 0.3)).toThrow(InvalidArgumentError);
    expect(() => stats.binomialLogPmf(2.5, 10, 0.3)).toThrow(
      /binomialLogPmf: k must hold counts.*2\.5/,
    );
    expect(() => stats.binomialLogPmf(2, -1, 0.3)).toThrow(/binomialLogPmf: n must hold counts/);
    expect(() => stats.binomialLogPmf(np.array([3, 12]), 10, 0.3)).toThrow(
      /binomialLogPmf: k must not exceed n.*\[2\].*larger than its n by 2/,
    );
  });
});
