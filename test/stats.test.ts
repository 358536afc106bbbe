/**
 * Log-densities against their formulas, and maximum-likelihood fits against
 * closed-form estimates and standard errors.
 */
import { describe, expect, it } from "vitest";
import { type Array as NdArray, grad, np, stats } from "../src/index.js";
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
