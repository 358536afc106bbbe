/**
 * Section 16 (seed 004, probabilistic inference): Hamiltonian Monte Carlo on
 * a 2-D correlated Gaussian N(mu, Sigma). Shown: leapfrog trajectories
 * (physics.leapfrog on the potential -log p) over the density's contours,
 * NUTS samples (infer.nuts, several chains) over the same contours and
 * against the analytic marginal densities, trace plots, and the
 * diagnostics infer.ess and infer.rhat. References: the analytic gradient,
 * a plain-JS leapfrog, the analytic mean and covariance (within the
 * Monte-Carlo error that the computed ESS implies), and the analytic ESS of
 * an AR(1) series. Live: the target, the trajectories and the NUTS run are
 * s16-hmc.live.js (the page runs the shorter `quick` sampling); this module
 * adds the plain-JS references (built from the live code's mu, sd and rho),
 * the diagnostics, checks and figures.
 */
import { grad, infer, np, vmap, type Array as NdArray } from "../../src/index.js";
import { liveCodeBlock, runLiveCode, type LiveCode } from "../lib/live.js";
import { Plot, grid, maxAbsDiff, numbers, plotSvg } from "../lib/plot.js";
import {
  check,
  checkWorst,
  requireLiveSource,
  type Check,
  type Section,
  type SectionResult,
} from "../lib/types.js";

const live: LiveCode = {
  file: "s16-hmc.live.js",
  caption: "The target, the leapfrog trajectories and the NUTS run (live: edit and run)",
  outputs: {
    mu: "object",
    sd: "object",
    rho: "number",
    logDensity: "function",
    stepSize: "number",
    trajSteps: "number",
    starts: "object",
    trajectories: "object",
    seed: "number",
    chains: "number",
    numWarmup: "number",
    numSamples: "number",
    result: "object",
    samplerSeconds: "number",
  },
  quickInPage: true,
};

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  mu: number[];
  sd: number[];
  rho: number;
  logDensity: (x: NdArray) => NdArray;
  stepSize: number;
  trajSteps: number;
  starts: { q: number[]; p: number[] }[];
  trajectories: { q: number[][]; p: number[][] }[];
  seed: number;
  chains: number;
  numWarmup: number;
  numSamples: number;
  result: ReturnType<typeof infer.nuts>;
  samplerSeconds: number;
}

/** The Gaussian target in plain JS (the references), from the live code's mu, sd and rho. */
function gaussian(mu: number[], sd: number[], rho: number) {
  const sigma = [
    [sd[0]! ** 2, rho * sd[0]! * sd[1]!],
    [rho * sd[0]! * sd[1]!, sd[1]! ** 2],
  ];
  const det = sigma[0]![0]! * sigma[1]![1]! - sigma[0]![1]! ** 2;
  /** The precision matrix Sigma^-1 (2 x 2 inverse written out). */
  const prec = [
    [sigma[1]![1]! / det, -sigma[0]![1]! / det],
    [-sigma[1]![0]! / det, sigma[0]![0]! / det],
  ];
  /** -grad log p = Sigma^-1 (x - mu). */
  const gradPotential = (x: number[]): number[] => {
    const d = [x[0]! - mu[0]!, x[1]! - mu[1]!];
    return [
      prec[0]![0]! * d[0]! + prec[0]![1]! * d[1]!,
      prec[1]![0]! * d[0]! + prec[1]![1]! * d[1]!,
    ];
  };
  /** U(x) = -log p(x) = (x - mu)^T Sigma^-1 (x - mu) / 2. */
  const potential = (x: number[]): number => {
    const g = gradPotential(x);
    return 0.5 * (g[0]! * (x[0]! - mu[0]!) + g[1]! * (x[1]! - mu[1]!));
  };
  /** The normalised density, for the contours and the marginals. */
  const density = (x: number, y: number): number =>
    Math.exp(-potential([x, y])) / (2 * Math.PI * Math.sqrt(det));
  return { sigma, gradPotential, potential, density };
}

/** Plain-JS leapfrog (kick-drift-kick, unit mass): positions and momenta after each step. */
function leapfrogJs(
  gradPotential: (q: number[]) => number[],
  step: number,
  q0: number[],
  p0: number[],
  steps: number,
): number[][] {
  let q = q0.slice();
  let p = p0.slice();
  const out: number[][] = [];
  for (let s = 0; s < steps; s++) {
    let g = gradPotential(q);
    p = p.map((pi, i) => pi - (step / 2) * g[i]!);
    q = q.map((qi, i) => qi + step * p[i]!);
    g = gradPotential(q);
    p = p.map((pi, i) => pi - (step / 2) * g[i]!);
    out.push(q.concat(p));
  }
  return out;
}

/** A small seeded generator (mulberry32) with Box-Muller normals, independent of chainrule. */
function normalStream(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const PARAM_NAMES = ["x₁", "x₂"];

/** Several plots side by side (wrapping on narrow pages) in one figure. */
function row(svgs: string[]): string {
  return `<div style="display:flex;flex-wrap:wrap;gap:4px 24px">${svgs.join("")}</div>`;
}

export const hmc: Section = {
  id: "hmc",
  title: "16. Hamiltonian Monte Carlo: leapfrog trajectories, NUTS, ESS and R-hat",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const { logDensity, starts, trajSteps, chains, numWarmup, numSamples, result } = v;
    const { mu: MU, sd: SD, rho: RHO, stepSize: STEP, seed: SEED, samplerSeconds } = v;
    const target = gaussian(MU, SD, RHO);
    const SIGMA = target.sigma;
    const { gradPotential: gradPotentialJs, potential: potentialJs, density: densityJs } = target;
    const mean = np.array(MU);
    const checks: Check[] = [];

    // 1. Leapfrog trajectories of H(q, p) = U(q) + |p|^2 / 2 from three starts.
    const trajRows: { x: number; y: number; path: string; step: number }[] = [];
    let maxTrajDiff = 0;
    let maxEnergyError = 0;
    starts.forEach((s, k) => {
      const { q, p } = v.trajectories[k]!;
      const ref = leapfrogJs(gradPotentialJs, STEP, s.q, s.p, trajSteps);
      maxTrajDiff = Math.max(
        maxTrajDiff,
        maxAbsDiff(
          q.flatMap((qi, i) => qi.concat(p[i]!)),
          ref.flat(),
        ),
      );
      const h0 = potentialJs(s.q) + 0.5 * (s.p[0]! ** 2 + s.p[1]! ** 2);
      const path = `trajectory ${k + 1}`;
      trajRows.push({ x: s.q[0]!, y: s.q[1]!, path, step: 0 });
      q.forEach((qi, i) => {
        const h = potentialJs(qi) + 0.5 * (p[i]![0]! ** 2 + p[i]![1]! ** 2);
        maxEnergyError = Math.max(maxEnergyError, Math.abs(h - h0));
        trajRows.push({ x: qi[0]!, y: qi[1]!, path, step: i + 1 });
      });
    });
    checks.push(
      check(
        `physics.leapfrog positions and momenta, ${starts.length} x ${trajSteps} steps: max |difference|`,
        maxTrajDiff,
        0,
        "plain-JS leapfrog with the analytic gradient",
        1e-12,
      ),
      check(
        `leapfrog energy error max |H(t) - H(0)| (step ${STEP})`,
        maxEnergyError,
        0,
        "exact Hamiltonian flow conserves H; leapfrog's error is O(step²)",
        0.05,
      ),
    );

    // 2. NUTS (run by the live code).
    const samples = result.samples as NdArray; // [chains, numSamples, 2]
    const draws = samples.toArray() as number[][][];

    // The gradient NUTS follows, at a few draws, against the analytic one.
    const some = np.array(draws[0]!.slice(0, 20));
    const g = (vmap(grad(logDensity)) as (x: NdArray) => NdArray)(some).toArray() as number[][];
    const gRef = draws[0]!.slice(0, 20).map((x) => gradPotentialJs(x).map((v) => -v));
    checks.push(
      checkWorst(
        "∇ log p by vmap(grad) at 20 draws",
        g.flat(),
        gRef.flat(),
        "analytic −Σ⁻¹(x − μ)",
        1e-12,
      ),
    );

    // Diagnostics: bulk/tail ESS and R-hat; the Monte-Carlo error of each
    // estimate from the (basic) ESS of the quantity averaged.
    const essBulk = numbers(infer.ess(samples) as NdArray);
    const essTail = numbers(infer.ess(samples, { method: "tail" }) as NdArray);
    const rhat = numbers(infer.rhat(samples) as NdArray);
    const centred = np.subtract(samples, mean);
    const essMean = numbers(infer.ess(samples, { method: "basic" }) as NdArray);
    const essSquares = numbers(infer.ess(np.square(centred), { method: "basic" }) as NdArray);
    const products = np.prod(centred, -1);
    const essProduct = (infer.ess(products, { method: "basic" }) as NdArray).item();
    const flat = draws.flat();
    const n = flat.length;
    const z = 4; // tolerance in standard errors
    for (let i = 0; i < 2; i++) {
      const m = flat.reduce((acc, x) => acc + x[i]!, 0) / n;
      checks.push(
        check(
          `sample mean of ${PARAM_NAMES[i]} (tolerance ${z} MCSE, ESS ${essMean[i]!.toFixed(0)})`,
          m,
          MU[i]!,
          "analytic mean μ",
          z * Math.sqrt(SIGMA[i]![i]! / essMean[i]!),
        ),
      );
    }
    for (let i = 0; i < 2; i++) {
      // Variance about the known mean: a mean of squares, Var((x - mu)^2) = 2 sigma^4.
      const v = flat.reduce((acc, x) => acc + (x[i]! - MU[i]!) ** 2, 0) / n;
      checks.push(
        check(
          `sample variance of ${PARAM_NAMES[i]} (tolerance ${z} MCSE, ESS ${essSquares[i]!.toFixed(0)})`,
          v,
          SIGMA[i]![i]!,
          "analytic Σᵢᵢ",
          z * Math.sqrt((2 * SIGMA[i]![i]! ** 2) / essSquares[i]!),
        ),
      );
    }
    // Covariance: Var((x1 - mu1)(x2 - mu2)) = s1^2 s2^2 (1 + rho^2).
    const c = flat.reduce((acc, x) => acc + (x[0]! - MU[0]!) * (x[1]! - MU[1]!), 0) / n;
    checks.push(
      check(
        `sample covariance of x₁, x₂ (tolerance ${z} MCSE, ESS ${essProduct.toFixed(0)})`,
        c,
        SIGMA[0]![1]!,
        "analytic Σ₁₂",
        z * Math.sqrt(((SD[0]! * SD[1]!) ** 2 * (1 + RHO * RHO)) / essProduct),
      ),
    );
    const rhatTol = opts.quick ? 0.05 : 0.01;
    rhat.forEach((r, i) =>
      checks.push(
        check(
          `split rank-normalised R-hat of ${PARAM_NAMES[i]} (${chains} chains)`,
          r,
          1,
          "1 (chains agree)",
          rhatTol,
        ),
      ),
    );

    // infer.ess on an AR(1) series x_t = phi x_{t-1} + e_t, whose ESS is N (1 - phi) / (1 + phi).
    const phi = 0.6;
    const arChains = 4;
    const arLength = opts.quick ? 1000 : 4000;
    const next = normalStream(SEED);
    const ar = Array.from({ length: arChains }, () => {
      let x = next(); // the stationary law has variance 1 / (1 - phi^2); started there
      x /= Math.sqrt(1 - phi * phi);
      return Array.from({ length: arLength }, () => (x = phi * x + next()));
    });
    const arEss = (infer.ess(np.array(ar), { method: "basic" }) as NdArray).item();
    const arEssRef = (arChains * arLength * (1 - phi)) / (1 + phi);
    checks.push(
      check(
        `infer.ess of ${arChains} AR(1) chains (φ = ${phi}) of ${arLength} draws`,
        arEss,
        arEssRef,
        "analytic N(1 − φ)/(1 + φ) (tolerance: ESS estimates scatter ~5%)",
        0.15 * arEssRef,
      ),
    );

    // Figures. Density on a grid for the contours.
    const xs = grid(-3, 5, opts.quick ? 61 : 121);
    const ys = grid(-7, 6, opts.quick ? 81 : 161);
    const dens: number[] = [];
    for (const y of ys) for (const x of xs) dens.push(densityJs(x, y));
    const extent = {
      x1: xs[0]!,
      x2: xs.at(-1)!,
      y1: ys[0]!,
      y2: ys.at(-1)!,
      width: xs.length,
      height: ys.length,
    };
    const peak = densityJs(MU[0]!, MU[1]!);
    // Contours at the 1..3 sigma (Mahalanobis radius) ellipses.
    const levels = [3, 2.5, 2, 1.5, 1, 0.5].map((r) => peak * Math.exp((-r * r) / 2));
    const contours = () =>
      Plot.contour(dens, { ...extent, stroke: "#888", strokeWidth: 0.8, thresholds: levels });
    const planeAxes = {
      width: 520,
      height: 620,
      marginBottom: 40,
      x: { label: "x₁", labelAnchor: "center" as const, domain: [-3, 5], grid: true },
      y: { label: "x₂", domain: [-7, 6], grid: true },
    };
    const thin = Math.max(1, Math.floor((chains * numSamples) / 1000));
    const scatter = draws
      .flatMap((chain, ci) => chain.map(([x, y]) => ({ x: x!, y: y!, chain: `chain ${ci + 1}` })))
      .filter((_, i) => i % thin === 0);
    const trace = draws.flatMap((chain, ci) =>
      chain.flatMap(([x, y], it) => [
        { it, value: x!, chain: `chain ${ci + 1}`, param: PARAM_NAMES[0]! },
        { it, value: y!, chain: `chain ${ci + 1}`, param: PARAM_NAMES[1]! },
      ]),
    );
    // Histograms of the marginals (density-normalised) against the analytic normal densities.
    const bins = opts.quick ? 20 : 40;
    const hist: { param: string; x1: number; x2: number; density: number }[] = [];
    const pdf: { param: string; x: number; density: number }[] = [];
    for (let i = 0; i < 2; i++) {
      const lo = MU[i]! - 4 * SD[i]!;
      const width = (8 * SD[i]!) / bins;
      const counts = new Array<number>(bins).fill(0);
      for (const x of flat) {
        const b = Math.floor((x[i]! - lo) / width);
        if (b >= 0 && b < bins) counts[b]!++;
      }
      counts.forEach((cnt, b) =>
        hist.push({
          param: PARAM_NAMES[i]!,
          x1: lo + b * width,
          x2: lo + (b + 1) * width,
          density: cnt / (n * width),
        }),
      );
      for (const x of grid(lo, lo + 8 * SD[i]!, 200)) {
        pdf.push({
          param: PARAM_NAMES[i]!,
          x,
          density:
            Math.exp(-0.5 * ((x - MU[i]!) / SD[i]!) ** 2) / (SD[i]! * Math.sqrt(2 * Math.PI)),
        });
      }
    }

    const stats = result.stats;
    const meanSteps =
      numbers(stats.numGradEvals).reduce((a, b) => a + b, 0) / (chains * numSamples);
    const stepSizes = numbers(stats.stepSize);
    return {
      id: this.id,
      title: this.title,
      explanation:
        "Seed 004 lists Hamiltonian Monte Carlo among the applications of AD: to sample a density p, " +
        "HMC treats −log p as a potential energy, gives the position a random momentum and follows " +
        "Hamilton's equations with the leapfrog integrator, which needs ∇ log p at every step — here " +
        "from chainrule's grad. Because leapfrog is symplectic and reversible, the energy error stays " +
        "small, so long moves are accepted. The no-U-turn sampler (infer.nuts, as Stan and NumPyro) " +
        "doubles each trajectory until it turns back and adapts step size and mass matrix during " +
        `warm-up. The target is a correlated Gaussian (μ = (${MU.join(", ")}), σ = (${SD.join(", ")}), ρ = ${RHO}) whose ` +
        "mean and covariance are known, so the samples can be checked: each estimate must lie within " +
        "4 Monte-Carlo standard errors, computed from infer.ess of the averaged quantity. R-hat " +
        "(infer.rhat) compares the chains; values below 1.01 indicate they agree.",
      notes: [
        `NUTS: ${chains} chains x (${numWarmup} warm-up + ${numSamples} kept) draws, seed ${SEED}, ` +
          `${samplerSeconds.toFixed(2)} s, ${stats.totalGradEvals} gradient evaluations in all, ` +
          `${meanSteps.toFixed(1)} leapfrog steps per draw on average, ${stats.numDivergences} divergences; ` +
          `adapted step sizes ${stepSizes.map((s) => s.toFixed(3)).join(", ")}.`,
        `Bulk ESS ${essBulk.map((e) => e.toFixed(0)).join(", ")}; tail ESS ` +
          `${essTail.map((e) => e.toFixed(0)).join(", ")}; R-hat ${rhat.map((r) => r.toFixed(4)).join(", ")} ` +
          `(x₁, x₂; ${chains * numSamples} draws).`,
      ],
      code: [liveCodeBlock(live, source)],
      checks,
      figures: [
        {
          caption:
            `Leapfrog trajectories (physics.leapfrog, step ${STEP}, ${trajSteps} steps, start marked) ` +
            "over the density's contours at Mahalanobis radius 0.5, 1, ..., 3: the moves follow the " +
            "level sets of H, crossing many contours of p in one trajectory.",
          svg: plotSvg({
            ...planeAxes,
            color: { legend: true },
            marks: [
              contours(),
              Plot.line(trajRows, { x: "x", y: "y", stroke: "path", strokeWidth: 2 }),
              Plot.dot(
                trajRows.filter((r) => r.step === 0),
                { x: "x", y: "y", fill: "path", r: 5, stroke: "white" },
              ),
            ],
          }),
        },
        {
          caption:
            `NUTS draws (every ${thin === 1 ? "" : `${thin}th `}draw, coloured by chain) over the ` +
            "same contours of the analytic density.",
          svg: plotSvg({
            ...planeAxes,
            color: { legend: true },
            marks: [
              Plot.dot(scatter, { x: "x", y: "y", fill: "chain", r: 1.8, fillOpacity: 0.6 }),
              contours(),
            ],
          }),
        },
        {
          caption:
            "Marginal histograms of all draws (bars) against the analytic normal densities (line).",
          // One plot per coordinate, side by side, each with its own x scale.
          svg: row(
            PARAM_NAMES.map((name) =>
              plotSvg({
                width: 320,
                height: 260,
                marginBottom: 40,
                x: { label: name, labelAnchor: "center" },
                y: { label: "density", grid: true },
                marks: [
                  Plot.rectY(
                    hist.filter((b) => b.param === name),
                    { x1: "x1", x2: "x2", y: "density", fill: "#9ecae1" },
                  ),
                  Plot.line(
                    pdf.filter((d) => d.param === name),
                    { x: "x", y: "density", stroke: "#d62728", strokeWidth: 2 },
                  ),
                  Plot.ruleY([0]),
                ],
              }),
            ),
          ),
        },
        {
          caption: "Trace plots: each chain's kept draws against the iteration.",
          svg: plotSvg({
            width: 640,
            height: 360,
            marginRight: 40,
            fy: { label: null },
            color: { legend: true },
            marginBottom: 40,
            x: { label: "iteration (after warm-up)", labelAnchor: "center" },
            y: { label: "value", grid: true },
            marks: [
              Plot.line(trace, {
                fy: "param",
                x: "it",
                y: "value",
                stroke: "chain",
                strokeWidth: 0.7,
                strokeOpacity: 0.8,
              }),
            ],
          }),
        },
      ],
    };
  },
};
