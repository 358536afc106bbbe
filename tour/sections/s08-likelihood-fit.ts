/**
 * Section 8 (seed 002): maximum-likelihood fit of the one-bin counting model
 * (pyhf's uncorrelated_background with signal 5, background 10, background
 * uncertainty 3.5, observed 15). Parameters p = (mu, gamma):
 *
 *   log L(mu, gamma) = log Pois(15 | 5 mu + 10 gamma) + log Pois_c(tau | gamma tau)
 *
 * with tau = (10 / 3.5)^2 the auxiliary count of the background constraint
 * (continuous Poisson: tau log(gamma tau) - gamma tau - log Gamma(tau + 1)).
 * Shown: the log-likelihood contour over (mu, gamma), its gradient field by
 * vmap(valueAndGrad), and the best fit with uncertainties from the inverse
 * Hessian (stats.fit). Reference: the closed-form optimum (mu, gamma) = (1, 1)
 * and the inverse of the analytic Fisher information.
 */
import { np, stats, valueAndGrad, vmap, type Array } from "../../src/index.js";
import { logGammaNumber } from "../../src/stats/special.js";
import { Plot, numbers, grid, plotSvg } from "../lib/plot.js";
import { check, checkRel, checkWorst, type Section, type SectionResult } from "../lib/types.js";

const SIGNAL = 5;
const BACKGROUND = 10;
const SIGMA_B = 3.5;
const OBSERVED = 15;
const TAU = (BACKGROUND / SIGMA_B) ** 2;

/** log L at p = [mu, gamma]. */
export function logLikelihood(p: Array): Array {
  const mu = np.take(p, 0);
  const gamma = np.take(p, 1);
  const rate = np.add(np.multiply(SIGNAL, mu), np.multiply(BACKGROUND, gamma));
  const main = stats.poissonLogPmf(OBSERVED, rate);
  const constraint = np.subtract(
    np.subtract(np.multiply(TAU, np.log(np.multiply(gamma, TAU))), np.multiply(gamma, TAU)),
    logGammaNumber(TAU + 1),
  );
  return np.add(main, constraint);
}
export const logLikelihoodJs = (mu: number, gamma: number) => {
  const rate = SIGNAL * mu + BACKGROUND * gamma;
  let logFact = 0;
  for (let i = 2; i <= OBSERVED; i++) logFact += Math.log(i);
  return (
    OBSERVED * Math.log(rate) -
    rate -
    logFact +
    TAU * Math.log(gamma * TAU) -
    gamma * TAU -
    logGammaNumber(TAU + 1)
  );
};

export const likelihoodFit: Section = {
  id: "likelihood",
  title: "8. Maximum-likelihood fit of a counting experiment",
  run(opts): SectionResult {
    // Log-likelihood on an n x n grid over [0.5, 1.5]^2, all points in one vmap call.
    const n = opts.quick ? 41 : 101;
    const axis = grid(0.5, 1.5, n);
    const points: number[][] = [];
    for (const gamma of axis) for (const mu of axis) points.push([mu, gamma]);
    const values = numbers((vmap(logLikelihood) as (p: Array) => Array)(np.array(points)));

    // Gradient field on a coarse 11 x 11 grid by vmap(valueAndGrad).
    const coarse = grid(0.5, 1.5, 11);
    const arrows: number[][] = [];
    for (const gamma of coarse) for (const mu of coarse) arrows.push([mu, gamma]);
    const [, grads] = (vmap(valueAndGrad(logLikelihood)) as (p: Array) => [Array, Array])(
      np.array(arrows),
    );
    const g = grads.toArray() as number[][];
    const field = arrows.map(([mu, gamma], i) => {
      const [gMu, gGamma] = g[i]!;
      return {
        mu: mu!,
        gamma: gamma!,
        gMu: gMu!,
        gGamma: gGamma!,
        norm: Math.hypot(gMu!, gGamma!),
      };
    });
    // Reference gradient: central differences of the plain-JS log-likelihood.
    const h = 1e-6;
    const fdMu = field.map(
      (a) => (logLikelihoodJs(a.mu + h, a.gamma) - logLikelihoodJs(a.mu - h, a.gamma)) / (2 * h),
    );
    const fdGamma = field.map(
      (a) => (logLikelihoodJs(a.mu, a.gamma + h) - logLikelihoodJs(a.mu, a.gamma - h)) / (2 * h),
    );

    // The fit: minimise -log L from (0.8, 1.2); uncertainties from the inverse Hessian.
    const result = stats.fit((p: Array) => np.negative(logLikelihood(p)), np.array([0.8, 1.2]));
    const best = numbers(result.params);
    const errors = numbers(result.stdErrors);
    // Analytic Fisher information at the optimum (rates equal the data there):
    // H = sum_i (1 / rate_i) grad(rate_i) grad(rate_i)^T
    //   = [[25/15, 50/15], [50/15, 100/15 + tau]];  cov = H^-1.
    const h11 = (SIGNAL * SIGNAL) / OBSERVED;
    const h12 = (SIGNAL * BACKGROUND) / OBSERVED;
    const h22 = (BACKGROUND * BACKGROUND) / OBSERVED + TAU;
    const det = h11 * h22 - h12 * h12;
    const sigmaMu = Math.sqrt(h22 / det);
    const sigmaGamma = Math.sqrt(h11 / det);

    const maxNorm = Math.max(...field.map((a) => a.norm));
    // Contour levels at log L_max - k^2 / 2: the k-sigma regions of the likelihood-ratio test.
    const maxLogL = -result.nll;
    const sigmas = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5];
    const levels = sigmas.map((k) => maxLogL - (k * k) / 2).reverse();
    const extent = {
      x1: 0.5 - 0.5 / (n - 1),
      x2: 1.5 + 0.5 / (n - 1),
      y1: 0.5 - 0.5 / (n - 1),
      y2: 1.5 + 0.5 / (n - 1),
      width: n,
      height: n,
    };
    const bestRow = [{ mu: best[0]!, gamma: best[1]!, sMu: errors[0]!, sGamma: errors[1]! }];
    return {
      id: this.id,
      title: this.title,
      explanation:
        "The seeds' pyhf model: one bin with signal 5 (scaled by mu), background 10 (scaled by " +
        "gamma), a Poisson constraint on gamma encoding the 3.5 background uncertainty, and 15 " +
        "observed events. vmap evaluates the log-likelihood on the whole grid at once and " +
        "vmap(valueAndGrad) gives the gradient field (arrows point uphill). stats.fit minimises " +
        "-log L with L-BFGS using chainrule gradients and takes the uncertainties from the inverse " +
        "Hessian (forward over reverse).",
      notes: [
        `Best fit: mu = ${best[0]!.toFixed(6)} ± ${errors[0]!.toFixed(4)}, gamma = ${best[1]!.toFixed(6)} ± ${errors[1]!.toFixed(4)} ` +
          `(${result.optimization.iterations} L-BFGS iterations).`,
        `Analytic: mu = 1 ± ${sigmaMu.toFixed(4)}, gamma = 1 ± ${sigmaGamma.toFixed(4)} (= 3.5 / 10).`,
      ],
      checks: [
        checkWorst(
          "d log L / d mu by vmap(valueAndGrad)",
          field.map((a) => a.gMu),
          fdMu,
          "central FD",
          1e-7,
        ),
        checkWorst(
          "d log L / d gamma by vmap(valueAndGrad)",
          field.map((a) => a.gGamma),
          fdGamma,
          "central FD",
          1e-7,
        ),
        check("best-fit mu", best[0]!, 1, "closed form (rates = data)", 1e-5),
        check("best-fit gamma", best[1]!, 1, "closed form", 1e-5),
        checkRel(
          "uncertainty of mu (inverse Hessian)",
          errors[0]!,
          sigmaMu,
          "inverse analytic Fisher information",
          1e-5,
        ),
        checkRel(
          "uncertainty of gamma",
          errors[1]!,
          sigmaGamma,
          "inverse analytic Fisher information",
          1e-5,
        ),
      ],
      figures: [
        {
          caption:
            "log L(mu, gamma): bands at log L_max - k²/2 (thick white: the 1σ contour), gradient field (arrows uphill, length ∝ sqrt |grad|), best fit (red) with ±1σ bars from the inverse Hessian.",
          svg: plotSvg({
            width: 600,
            height: 560,
            x: { label: "mu (signal strength)", domain: [0.5, 1.5] },
            y: { label: "gamma (background scale)", domain: [0.5, 1.5] },
            color: {
              type: "threshold",
              domain: levels.slice(1),
              scheme: "viridis",
              legend: true,
              label: "distance from the best fit",
              // Ticks in standard deviations: k = sqrt(2 (log L_max - level)).
              tickFormat: (v: number) => `${Number(Math.sqrt(2 * (maxLogL - v)).toFixed(1))}σ`,
            },
            length: { type: "sqrt", range: [0, 24], domain: [0, maxNorm] },
            marks: [
              Plot.contour(values, {
                ...extent,
                fill: Plot.identity,
                stroke: "white",
                strokeOpacity: 0.4,
                thresholds: levels,
              }),
              Plot.contour(values, {
                ...extent,
                stroke: "white",
                strokeWidth: 2.5,
                thresholds: [maxLogL - 0.5],
              }),
              Plot.vector(field, {
                x: "mu",
                y: "gamma",
                rotate: (a: { gMu: number; gGamma: number }) =>
                  (Math.atan2(a.gMu, a.gGamma) * 180) / Math.PI,
                length: "norm",
                stroke: "black",
                strokeWidth: 1.2,
              }),
              Plot.link(bestRow, {
                x1: (d: { mu: number; sMu: number }) => d.mu - d.sMu,
                x2: (d: { mu: number; sMu: number }) => d.mu + d.sMu,
                y1: "gamma",
                y2: "gamma",
                stroke: "red",
                strokeWidth: 2,
                clip: true,
              }),
              Plot.link(bestRow, {
                x1: "mu",
                x2: "mu",
                y1: (d: { gamma: number; sGamma: number }) => d.gamma - d.sGamma,
                y2: (d: { gamma: number; sGamma: number }) => d.gamma + d.sGamma,
                stroke: "red",
                strokeWidth: 2,
                clip: true,
              }),
              Plot.dot(bestRow, { x: "mu", y: "gamma", fill: "red", stroke: "white", r: 6 }),
            ],
          }),
        },
      ],
    };
  },
};
