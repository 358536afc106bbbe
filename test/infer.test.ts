/**
 * infer: samplers against analytic posteriors (means and variances within
 * Monte-Carlo error by the computed ESS), divergence reporting on Neal's
 * funnel, the non-centred eight schools, transforms' log-Jacobians against
 * jacfwd determinants, and ESS/R-hat against an independent NumPy
 * implementation (test/fixtures/mcmc-diagnostics.json from
 * scripts/mcmc-diagnostics-reference.py).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  InvalidArgumentError,
  ShapeError,
  infer,
  jacfwd,
  np,
  random,
  stats,
} from "../src/index.js";
import { DualAveraging, warmupWindows } from "../src/infer/adapt.js";
import { expectAllClose, flat } from "./helpers.js";

type A = NdArray;

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/mcmc-diagnostics.json", import.meta.url), "utf8"),
) as { draws: number[][][]; rhat: number[]; essBulk: number[]; essTail: number[] };

describe("ess and rhat (Vehtari et al. 2021)", () => {
  it("match an independent NumPy implementation on fixed AR(1) draws", () => {
    const x = np.array(fixture.draws); // [4 chains, 200 draws, 4 parameters]
    expectAllClose(infer.rhat(x) as A, fixture.rhat, 1e-7);
    expectAllClose(infer.ess(x) as A, fixture.essBulk, 1e-7);
    expectAllClose(infer.ess(x, { method: "tail" }) as A, fixture.essTail, 1e-7);
  });
  it("work on pytrees and refuse draws without a chain axis", () => {
    const x = np.array(fixture.draws);
    const t = infer.rhat({ a: x }) as { a: A };
    expect(t.a.shape).toEqual([4]);
    expect(() => infer.ess(np.zeros([100]))).toThrow(ShapeError);
    expect(() => infer.ess(np.zeros([100]))).toThrow(/\[chains, draws\]/);
    expect(() => infer.ess(x, { method: "median" as never })).toThrow(InvalidArgumentError);
  });
  it("ESS of independent draws is about their number; of a sticky chain much less", () => {
    const key = random.key(5);
    const iid = random.normal(key, [4, 500]);
    const e = (infer.ess(iid) as A).item();
    expect(e).toBeGreaterThan(1500);
    expect(e).toBeLessThan(2600);
    const sticky = np.cumsum(random.normal(random.foldIn(key, 1), [4, 500]), 1);
    expect((infer.ess(sticky) as A).item()).toBeLessThan(100);
    expect((infer.rhat(sticky) as A).item()).toBeGreaterThan(1.1);
  });
});

describe("transforms", () => {
  const u = np.array([0.3, -1.2, 2.0]);
  it("positive and unitInterval: inverse, and log-Jacobians against jacfwd", () => {
    for (const tr of [infer.transforms.positive, infer.transforms.unitInterval]) {
      expectAllClose(tr.inverse(tr.forward(u)), u, 1e-12);
      const J = jacfwd((v: A) => tr.forward(v))(u); // diagonal
      const logDet = flat(np.log(np.abs(np.take(np.reshape(J, [9]), np.array([0, 4, 8])))));
      expectAllClose(tr.logDetJacobian(u), [logDet.reduce((a, b) => a + b, 0)], 1e-12);
    }
  });
  it("simplex: sums to one, inverse, and log-Jacobian of the free coordinates", () => {
    const tr = infer.transforms.simplex;
    const x = tr.forward(u);
    expect(x.shape).toEqual([4]);
    expect(np.sum(x).item()).toBeCloseTo(1, 14);
    expect(Math.min(...flat(x))).toBeGreaterThan(0);
    expectAllClose(tr.inverse(x), u, 1e-12);
    expectAllClose(tr.forward(np.zeros([3])), [0.25, 0.25, 0.25, 0.25], 1e-14);
    // the first K−1 coordinates determine x: log |det ∂x[:K−1]/∂u|
    const J = jacfwd((v: A) => np.slice(tr.forward(v), [0, 3]))(u);
    expectAllClose(tr.logDetJacobian(u), [Math.log(Math.abs(np.linalg.det(J).item()))], 1e-10);
    expect(() => tr.forward(np.zeros([2, 2]))).toThrow(ShapeError);
  });
});

describe("warm-up pieces", () => {
  it("Stan's window schedule: 75 / 25, 50, 100, 200, 500 / 50 for 1000 iterations", () => {
    expect(warmupWindows(1000)).toEqual([
      [75, 100],
      [100, 150],
      [150, 250],
      [250, 450],
      [450, 950],
    ]);
    expect(warmupWindows(10)).toEqual([]);
    // short warm-up: 15% / one window / 10%
    expect(warmupWindows(100)).toEqual([[15, 90]]);
  });
  it("dual averaging drives the acceptance of a known curve to the target", () => {
    // acceptance as a decreasing function of the step size: a(ε) = exp(−ε²); target 0.8
    const da = new DualAveraging(1, 0.8);
    let eps = 1;
    for (let i = 0; i < 2000; i++) eps = da.update(Math.exp(-eps * eps));
    expect(Math.exp(-(da.final() ** 2))).toBeCloseTo(0.8, 2);
  });
});

/** Asserts sample means and variances within Monte-Carlo error of the analytic ones. */
function expectPosterior(draws: A, mean: number[], variance: number[], zMax = 4) {
  const [C, S] = draws.shape as [number, number];
  const d = mean.length;
  const flatDraws = np.reshape(draws, [C * S, d]);
  const m = flat(np.mean(flatDraws, 0));
  const v = flat(np.variance(flatDraws, 0));
  const essBulk = flat(infer.ess(np.reshape(draws, [C, S, d])) as A);
  const squares = np.square(np.subtract(np.reshape(draws, [C, S, d]), np.array(mean)));
  const essSq = flat(infer.ess(squares, { method: "basic" }) as A);
  for (let i = 0; i < d; i++) {
    const se = Math.sqrt(variance[i]! / essBulk[i]!);
    expect(Math.abs(m[i]! - mean[i]!) / se, `mean ${i}`).toBeLessThan(zMax);
    // var̂ is a mean of squares: relative standard error √(2/ESS) for normal marginals,
    // with the ESS of the squares (NUTS's ESS for means can exceed the draws; for squares not)
    const relSe = Math.sqrt(2 / essSq[i]!);
    expect(Math.abs(v[i]! / variance[i]! - 1) / relSe, `variance ${i}`).toBeLessThan(zMax + 1);
  }
  return { essBulk };
}

describe("samplers on analytic posteriors", () => {
  it("hmc: conjugate normal-normal (4 chains, vmapped kernel)", () => {
    // y_i ~ N(μ, 1), μ ~ N(0, 2²): μ | y ~ N(n ȳ/(n + 1/4), 1/(n + 1/4))
    const y = [1.3, 0.4, 2.2, 1.7, 0.9, 1.1];
    const n = y.length;
    const prec = n + 1 / 4;
    const postMean = y.reduce((a, b) => a + b, 0) / prec;
    const logp = (mu: A) =>
      np.add(np.sum(stats.normalLogPdf(np.array(y), mu, 1)), stats.normalLogPdf(mu, 0, 2));
    const r = infer.hmc(logp, np.array(0), {
      key: random.key(11),
      numWarmup: 150,
      numSamples: 250,
      chains: 4,
      numSteps: 5,
    });
    const mu = r.samples as A;
    expect(mu.shape).toEqual([4, 250]);
    expectPosterior(np.reshape(mu, [4, 250, 1]), [postMean], [1 / prec]);
    expect((infer.rhat(mu) as A).item()).toBeLessThan(1.01);
    expect(r.stats.numDivergences).toBe(0);
    expect(r.stats.stepSize.shape).toEqual([4]);
    expect(flat(r.stats.numGradEvals).every((k) => k === 5)).toBe(true);
  });

  it("nuts: Beta-Bernoulli through the unitInterval transform", () => {
    // θ ~ Beta(2, 3), 7 successes in 20: θ | y ~ Beta(9, 16)
    const [a, b] = [9, 16];
    const { forward, logDetJacobian } = infer.transforms.unitInterval;
    const logp = (u: A) => {
      const theta = forward(u);
      return np.add(
        np.add(np.multiply(a - 1, np.log(theta)), np.multiply(b - 1, np.log1p(np.negative(theta)))),
        logDetJacobian(u),
      );
    };
    const r = infer.nuts(logp, np.array(0), {
      key: random.key(12),
      numWarmup: 150,
      numSamples: 500,
      chains: 4,
    });
    const theta = forward(r.samples as A);
    const mean = a / (a + b);
    const variance = (a * b) / ((a + b) ** 2 * (a + b + 1));
    expectPosterior(np.reshape(theta, [4, 500, 1]), [mean], [variance]);
    expect((infer.rhat(theta) as A).item()).toBeLessThan(1.01);
    expect(r.stats.numDivergences).toBe(0);
    expect(r.stats.treeDepth!.shape).toEqual([4, 500]);
  });

  it("nuts: 100-d Gaussian with correlated pairs and scales 0.5–2.75 (pytree parameters)", () => {
    // (aᵢ, bᵢ) for i < 50: a bivariate normal with sds (sᵢ, 2sᵢ/3) and correlation ρᵢ ∈ [−0.9, 0.9]
    const k = 50;
    const sA = Array.from({ length: k }, (_, i) => 0.5 + (i % 10) / 4);
    const sB = sA.map((s) => (2 * s) / 3);
    const rho = Array.from({ length: k }, (_, i) => -0.9 + (1.8 * i) / (k - 1));
    const [sAa, sBa, rhoA] = [np.array(sA), np.array(sB), np.array(rho)];
    const logp = (p: { a: A; b: A }) => {
      const za = np.divide(p.a, sAa);
      const zb = np.divide(p.b, sBa);
      const q = np.subtract(
        np.add(np.square(za), np.square(zb)),
        np.multiply(np.multiply(2, rhoA), np.multiply(za, zb)),
      );
      return np.multiply(-0.5, np.sum(np.divide(q, np.subtract(1, np.square(rhoA)))));
    };
    const r = infer.nuts(
      logp,
      { a: np.zeros([k]), b: np.zeros([k]) },
      {
        key: random.key(13),
        numWarmup: 150,
        numSamples: 150,
        chains: 4,
      },
    );
    const { a, b } = r.samples as { a: A; b: A };
    expect(a.shape).toEqual([4, 150, k]);
    const x = np.concatenate([a, b], 2);
    const sd = [...sA, ...sB];
    expectPosterior(
      x,
      sd.map(() => 0),
      sd.map((s) => s * s),
      4.5,
    );
    // the pairs' correlations: E[za zb] = ρ, Var(za zb) = 1 + ρ², error by the products' ESS
    const prod = np.multiply(np.divide(a, sAa), np.divide(b, sBa)); // [4, 150, k]
    const corr = flat(np.mean(prod, [0, 1]));
    const essProd = flat(infer.ess(prod) as A);
    const z = corr.map(
      (c, i) => Math.abs(c - rho[i]!) / Math.sqrt((1 + rho[i]! ** 2) / essProd[i]!),
    );
    expect(Math.max(...z)).toBeLessThan(4.5);
    expect(z.reduce((acc, v) => acc + v, 0) / k).toBeLessThan(1.2); // E|N(0, 1)| = 0.8
    const rh = flat(infer.rhat(x) as A);
    // with only 4 × 150 draws per coordinate (tail ESS ≈ 200) R-hat itself varies by about
    // ±0.02: most of the 100 are below 1.01, none far above (stuck or disagreeing chains give
    // R-hat ≫ 1.05); the same sampler with 300 + 600 iterations has all 100 below 1.01
    expect(rh.filter((v) => v < 1.01).length).toBeGreaterThanOrEqual(65);
    expect(Math.max(...rh)).toBeLessThan(1.05);
    expect(r.stats.numDivergences).toBe(0);
  });
});

describe("dense mass matrix", () => {
  it("nuts with dense: true adapts the inverse mass matrix to the posterior covariance", () => {
    // x ~ N(0, Σ), Σ = [[1, 2.85], [2.85, 9]] (correlation 0.95)
    const cov = [
      [1, 2.85],
      [2.85, 9],
    ];
    const precision = np.linalg.inv(np.array(cov));
    const logp = (x: A) => np.multiply(-0.5, np.sum(np.multiply(x, np.matmul(precision, x))));
    const r = infer.nuts(logp, np.zeros([2]), {
      key: random.key(4),
      numWarmup: 250,
      numSamples: 250,
      chains: 2,
      dense: true,
    });
    const inv = r.stats.inverseMassMatrix;
    expect(inv.shape).toEqual([2, 2, 2]);
    // each chain's estimate from ~100 warm-up draws: within 35% of Σ
    expectAllClose(np.take(inv, 0, 0), cov.flat(), 0.35);
    expectAllClose(np.take(inv, 1, 0), cov.flat(), 0.35);
    expectPosterior(r.samples as A, [0, 0], [1, 9]);
    // with the metric matched to Σ the trajectories are short
    expect(np.mean(r.stats.numGradEvals).item()).toBeLessThan(6);
  });
});

describe("divergences", () => {
  const funnel = (p: { v: A; x: A }) =>
    np.add(
      stats.normalLogPdf(p.v, 0, 3),
      np.sum(stats.normalLogPdf(p.x, 0, np.exp(np.divide(p.v, 2)))),
    );
  it("Neal's funnel reports divergences", () => {
    // the neck's curvature changes by orders of magnitude: no single step size fits, and
    // at a moderate acceptance target the trajectories entering the neck diverge
    const r = infer.nuts(
      funnel,
      { v: np.array(0), x: np.zeros([9]) },
      {
        key: random.key(2),
        numWarmup: 150,
        numSamples: 200,
        chains: 4,
        targetAccept: 0.6,
      },
    );
    // (33 with this key; other keys give about as many)
    expect(r.stats.numDivergences).toBeGreaterThan(5);
    expect(np.sum(np.astype(r.stats.divergences, "float64")).item()).toBe(r.stats.numDivergences);
  });

  it("the non-centred eight schools samples without divergences", () => {
    const y = np.array([28, 8, -3, 7, -1, 1, 18, 12]);
    const sigma = np.array([15, 10, 16, 11, 9, 11, 10, 18]);
    // μ ~ N(0, 5), τ ~ half-Cauchy(5) (sampled as log τ), η ~ N(0, 1), θ = μ + τ η
    const logp = (p: { mu: A; logTau: A; eta: A }) => {
      const tau = np.exp(p.logTau);
      const theta = np.add(p.mu, np.multiply(tau, p.eta));
      const halfCauchy = np.negative(np.log1p(np.square(np.divide(tau, 5))));
      return np.add(
        np.add(
          np.sum(stats.normalLogPdf(y, theta, sigma)),
          np.sum(stats.normalLogPdf(p.eta, 0, 1)),
        ),
        np.add(stats.normalLogPdf(p.mu, 0, 5), np.add(halfCauchy, p.logTau)),
      );
    };
    const r = infer.nuts(
      logp,
      { mu: np.array(0), logTau: np.array(0), eta: np.zeros([8]) },
      {
        key: random.key(1),
        numWarmup: 200,
        numSamples: 200,
        chains: 2,
      },
    );
    expect(r.stats.numDivergences).toBe(0);
    const mu = (r.samples as { mu: A }).mu;
    // the posterior mean of μ is about 4.4 (e.g. Stan's case study); a loose check
    expect(Math.abs(np.mean(mu).item() - 4.4)).toBeLessThan(1.5);
  });
});

describe("sampler errors", () => {
  const logp = (x: A) => np.multiply(-0.5, np.sum(np.square(x)));
  it("refuse a missing key, bad options, a non-scalar density and a bad start", () => {
    expect(() => infer.nuts(logp, np.zeros([2]), {} as never)).toThrow(/opts.key is required/);
    const key = random.key(0);
    expect(() => infer.nuts(logp, np.zeros([2]), { key, targetAccept: 1.5 })).toThrow(
      /targetAccept must be in \(0, 1\)/,
    );
    expect(() => infer.hmc(logp, np.zeros([2]), { key, numSamples: 0 })).toThrow(
      /numSamples must be an integer >= 1/,
    );
    expect(() => infer.hmc(logp, np.zeros([2]), { key, dense: true })).toThrow(/infer.nuts only/);
    expect(() => infer.hmc(logp, np.zeros([2]), { key, stepSize: -1 })).toThrow(
      /stepSize must be a positive number/,
    );
    expect(() => infer.nuts(3 as never, np.zeros([2]), { key })).toThrow(/must be a function/);
    expect(() =>
      infer.nuts(logp, np.zeros([2]), { key, chainMethod: "parallel" as never }),
    ).toThrow(/chainMethod must be "vectorized" or "sequential"/);
    expect(() => infer.nuts((x: A) => x, np.zeros([2]), { key })).toThrow(ShapeError);
    expect(() =>
      infer.nuts((x: A) => np.sum(np.log(x)), np.array([-1, -2]), { key, initJitter: 0 }),
    ).toThrow(/log density at the initial point/);
  });
});
