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
 * (in general: rates equal the data) and the inverse of the analytic Fisher
 * information. Live: the model and the computations are
 * s08-likelihood-fit.live.js (edit the counts and the references follow the
 * model it defines); this module adds the references, checks and figure.
 */
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { Plot, plotSvg } from "../lib/plot.js";
import {
  check,
  checkRel,
  checkWorst,
  requireLiveSource,
  type Section,
  type SectionResult,
} from "../lib/types.js";

const live: LiveCode = {
  file: "s08-likelihood-fit.live.js",
  caption: "The model, the grid by vmap, the gradient field and the fit (live: edit and run)",
  outputs: {
    model: "object",
    logLikelihoodJs: "function",
    n: "number",
    values: "object",
    field: "object",
    best: "object",
    errors: "object",
    iterations: "number",
    maxLogL: "number",
  },
};

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  model: { signal: number; background: number; sigmaB: number; observed: number };
  logLikelihoodJs: (mu: number, gamma: number) => number;
  n: number;
  values: number[];
  field: { mu: number; gamma: number; gMu: number; gGamma: number }[];
  best: number[];
  errors: number[];
  iterations: number;
  maxLogL: number;
}

export const likelihoodFit: Section = {
  id: "likelihood",
  title: "8. Maximum-likelihood fit of a counting experiment",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const { model, logLikelihoodJs, n, values, best, errors, maxLogL } = v;
    const field = v.field.map((a) => ({ ...a, norm: Math.hypot(a.gMu, a.gGamma) }));
    // Reference gradient: central differences of the plain-JS log-likelihood.
    const h = 1e-6;
    const fdMu = field.map(
      (a) => (logLikelihoodJs(a.mu + h, a.gamma) - logLikelihoodJs(a.mu - h, a.gamma)) / (2 * h),
    );
    const fdGamma = field.map(
      (a) => (logLikelihoodJs(a.mu, a.gamma + h) - logLikelihoodJs(a.mu, a.gamma - h)) / (2 * h),
    );

    // The closed-form optimum: both rates equal their data, gamma tau = tau and
    // s mu + b gamma = observed, so gamma = 1 and mu = (observed - b) / s.
    const { signal: s, background: b, sigmaB, observed } = model;
    const tau = (b / sigmaB) ** 2;
    const muHat = (observed - b) / s;
    // Analytic Fisher information there (rates equal the data):
    // H = sum_i (1 / rate_i) grad(rate_i) grad(rate_i)^T
    //   = [[s²/obs, s b/obs], [s b/obs, b²/obs + tau]] (seed: [[25/15, 50/15], [50/15, 100/15 + tau]]);
    // cov = H^-1.
    const h11 = (s * s) / observed;
    const h12 = (s * b) / observed;
    const h22 = (b * b) / observed + tau;
    const det = h11 * h22 - h12 * h12;
    const sigmaMu = Math.sqrt(h22 / det);
    const sigmaGamma = Math.sqrt(h11 / det);

    const maxNorm = Math.max(...field.map((a) => a.norm));
    // Contour levels at log L_max - k^2 / 2: the k-sigma regions of the likelihood-ratio test.
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
          `(${v.iterations} L-BFGS iterations).`,
        `Analytic: mu = ${muHat} ± ${sigmaMu.toFixed(4)}, gamma = 1 ± ${sigmaGamma.toFixed(4)} ` +
          `(about sigma_b / b = ${(sigmaB / b).toFixed(4)}).`,
      ],
      code: [{ caption: live.caption, source, live: true }],
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
        check("best-fit mu", best[0]!, muHat, "closed form (rates = data)", 1e-5),
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
