/**
 * Section (seeds 000/001, the agent-based-model tutorial, and its paper,
 * Quera-Bofarull et al. 2023): derivatives of simulations with discrete
 * random decisions. An SIR epidemic of 10,000 agents that are infected and
 * recover by Bernoulli draws: the derivative of the expected final size with respect
 * to the infection rate β by each of stochastic.grad's estimators, against
 * finite differences of the expectation with common random numbers;
 * calibration of (β, γ) to an observed epidemic curve by gradient descent;
 * forward (triple) against reverse (score) mode in time and memory as the
 * horizon grows; and the chaotic Brock–Hommes market, whose full-horizon
 * gradients explode while truncated ones stay bounded.
 */
import { type Array as NdArray, grad, np, optim, random, stochastic } from "../../src/index.js";
import { brockHommesLoss, simulateSir } from "../../examples/abm.js";
import { liveBytes } from "../lib/memory.js";
import { Plot, plotSvg, powerOfTen } from "../lib/plot.js";
import { check, type Check, type Section, type SectionResult } from "../lib/types.js";

/** The epidemic of parts 1 and 2: R0 = β/γ = 5/3, so the final size (about 0.68) still moves with β. */
const BETA = 0.5;
const GAMMA = 0.3;
const INITIAL = 0.01;

/** Mean and standard error of a list. */
function meanSe(xs: number[]): { mean: number; se: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, se: Math.sqrt(variance / xs.length) };
}

/** One colour per estimator, the same in every figure. */
const COLOURS: Record<string, string> = {
  triple: "#1f77b4",
  score: "#ff7f0e",
  straightThrough: "#2ca02c",
  "finite differences (CRN)": "#444444",
};

/** Keys 0..n-1 of a seed, one per estimate (a loop over them: see the note on vmap). */
function keysOf(seed: number, n: number): NdArray[] {
  return Array.from({ length: n }, (_, i) => random.foldIn(random.key(seed), i));
}

export const agentBased: Section = {
  id: "agent-based",
  title: "19. Agent-based models: derivatives through discrete random decisions",
  run(opts): SectionResult {
    const quick = opts.quick === true;
    const agents = quick ? 1000 : 10000;
    const days = quick ? 15 : 40;
    const checks: Check[] = [];
    const figures: SectionResult["figures"] = [];
    const notes: string[] = [];
    const config = { agents, days };
    const finalSize = (beta: NdArray, key: NdArray) =>
      simulateSir({ beta, gamma: np.array(GAMMA), initial: np.array(INITIAL) }, key, config)
        .finalSize;

    // ---- 1. d E[final size] / d beta by each estimator, against CRN finite differences.
    const counts = quick
      ? { triple: 6, score: 4, straightThrough: 2 }
      : { triple: 10, score: 4, straightThrough: 3 };
    const rows: { estimator: string; mean: number; se: number; ms: number }[] = [];
    for (const estimator of ["triple", "score", "straightThrough"] as const) {
      const g = stochastic.grad(finalSize, { estimator });
      const t0 = performance.now();
      const values = keysOf(2023, counts[estimator]).map((k) => g(np.array(BETA), k).item());
      const ms = (performance.now() - t0) / values.length;
      rows.push({ estimator, ...meanSe(values), ms });
    }
    const fdRuns = quick ? 6 : 10;
    const h = 0.02;
    const fdKeys = keysOf(7, fdRuns);
    const fdValues = fdKeys.map(
      (k) =>
        (finalSize(np.array(BETA + h), k).item() - finalSize(np.array(BETA - h), k).item()) /
        (2 * h),
    );
    const fd = meanSe(fdValues);
    rows.push({ estimator: "finite differences (CRN)", ...fd, ms: NaN });
    for (const row of rows.slice(0, 2)) {
      checks.push(
        check(
          `${row.estimator}: mean of ${counts[row.estimator as "triple"]} estimates of dE[final size]/dβ`,
          row.mean,
          fd.mean,
          `central FD of the expectation (h = ${h}, common random numbers, ${fdRuns} pairs of runs); tolerance 4 combined SE`,
          4 * Math.hypot(row.se, fd.se) + h * h,
        ),
      );
    }
    notes.push(
      `dE[final size]/dβ at β = ${BETA}, γ = ${GAMMA}, initial fraction ${INITIAL}, ${agents} agents, ` +
        `${days} days: ` +
        rows
          .map(
            (r) =>
              `${r.estimator} ${r.mean.toFixed(3)} ± ${r.se.toFixed(3)}` +
              (Number.isNaN(r.ms) ? "" : ` (${r.ms.toFixed(0)} ms per estimate)`),
          )
          .join("; ") +
        ". One triple or score estimate is noisy (one pruned jump among ~10^5 candidate flips, " +
        "weighted by their total rate; the score estimator sums the log-probabilities of 10^5 draws); " +
        "finite differences with common random numbers are precise for this one derivative but need " +
        "two runs per parameter and a step h. Straight-through differentiates each draw's mean, not " +
        "the expectation: biased in general, though close here, where the dynamics are nearly mean-field.",
    );
    figures.push({
      caption:
        "Estimates of dE[final size]/dβ (mean ± 2 standard errors): the unbiased triple and score " +
        "estimators agree with finite differences of the expectation within their wide error bars " +
        "(one estimate is noisy); straight-through, biased in general, has a small variance.",
      svg: plotSvg({
        width: 640,
        height: 220,
        marginLeft: 190,
        x: {
          label: "dE[final size]/dβ",
          grid: true,
          domain: [
            Math.min(...rows.map((r) => r.mean - 2 * r.se)),
            Math.max(...rows.map((r) => r.mean + 2 * r.se)),
          ],
          nice: true,
        },
        y: { label: null },
        color: { domain: Object.keys(COLOURS), range: Object.values(COLOURS) },
        marks: [
          Plot.ruleX([fd.mean], { stroke: "#999", strokeDasharray: "4,3" }),
          Plot.link(rows, {
            x1: (r: (typeof rows)[number]) => r.mean - 2 * r.se,
            x2: (r: (typeof rows)[number]) => r.mean + 2 * r.se,
            y1: "estimator",
            y2: "estimator",
            stroke: "estimator",
            strokeWidth: 2,
          }),
          Plot.dot(rows, { x: "mean", y: "estimator", fill: "estimator", r: 4 }),
        ],
      }),
    });

    // ---- 2. Calibration of (beta, gamma) to an observed curve, gradient descent with triples.
    const truth = { beta: BETA, gamma: GAMMA };
    const calibrationConfig = config;
    const curve = (beta: NdArray, gamma: NdArray, key: NdArray) =>
      np.stack(
        simulateSir({ beta, gamma, initial: np.array(INITIAL) }, key, calibrationConfig)
          .infectedPerDay,
      );
    const observed = curve(np.array(truth.beta), np.array(truth.gamma), random.key(99));
    const loss = (theta: { beta: NdArray; gamma: NdArray }, key: NdArray) =>
      np.mean(np.square(np.subtract(curve(theta.beta, theta.gamma, key), observed)));
    const lossGrad = stochastic.grad(loss, { estimator: "triple" });
    const optimizer = optim.adam(0.03);
    const start = { beta: 0.3, gamma: 0.45 };
    let theta = { beta: np.array(start.beta), gamma: np.array(start.gamma) };
    let state = optimizer.init(theta);
    const history: { step: number; loss: number }[] = [];
    const averaged = { beta: 0, gamma: 0 };
    const steps = quick ? 4 : 12;
    const averagedSteps = steps - Math.ceil(steps / 2);
    for (let step = 0; step < steps; step++) {
      const key = random.key(1000 + step);
      const g = lossGrad(theta, key);
      history.push({ step, loss: loss(theta, key).item() });
      [theta, state] = optimizer.update(g, state, theta);
      // Polyak averaging over the second half: the iterates jitter around the optimum
      // with the gradient noise; their mean settles.
      if (step >= steps / 2) {
        averaged.beta += theta.beta.item() / averagedSteps;
        averaged.gamma += theta.gamma.item() / averagedSteps;
      }
    }
    const recovered = averaged;
    if (!quick) {
      checks.push(
        check(
          "calibrated β",
          recovered.beta,
          truth.beta,
          "the β that made the observed curve",
          0.1,
        ),
        check(
          "calibrated γ",
          recovered.gamma,
          truth.gamma,
          "the γ that made the observed curve",
          0.08,
        ),
      );
    }
    notes.push(
      `Calibration to the observed fraction infected over ${calibrationConfig.days} days, by Adam ` +
        `on triple estimates (one key per step, ${steps} steps, the ` +
        `iterates of the second half averaged) from β = ${start.beta}, γ = ${start.gamma} ` +
        `(R0 < 1: no epidemic): recovered β = ${recovered.beta.toFixed(3)}, ` +
        `γ = ${recovered.gamma.toFixed(3)} (true ${truth.beta}, ${truth.gamma}).`,
    );
    figures.push({
      caption:
        "Calibration: the squared error to the observed infection curve falls as (β, γ) approach the truth.",
      svg: plotSvg({
        width: 560,
        height: 240,
        x: { label: "gradient step", grid: true },
        y: {
          label: "loss (mean squared error of I(t)/N)",
          type: "log",
          grid: true,
          tickFormat: powerOfTen,
        },
        marks: [Plot.line(history, { x: "step", y: "loss", stroke: COLOURS.triple })],
      }),
    });

    // ---- 3. Forward (triple) against reverse (score) mode as the horizon grows.
    const costAgents = 1000;
    const horizons = quick ? [20, 60] : [100, 1000];
    const cost: { method: string; days: number; ms: number; mib: number }[] = [];
    for (const T of horizons) {
      for (const method of ["triple", "score"] as const) {
        let atLastDay = 0;
        const probed = (beta: NdArray, key: NdArray) =>
          simulateSir({ beta, gamma: np.array(GAMMA), initial: np.array(INITIAL) }, key, {
            agents: costAgents,
            days: T,
            onLastDay: () => (atLastDay = Math.max(atLastDay, liveBytes())),
          }).finalSize;
        const g = stochastic.grad(probed, { estimator: method });
        const base = liveBytes();
        const t0 = performance.now();
        g(np.array(BETA), random.key(5));
        cost.push({
          method: method === "triple" ? "forward (triple)" : "reverse (score)",
          days: T,
          ms: performance.now() - t0,
          mib: Math.max(atLastDay - base, 0) / 2 ** 20,
        });
      }
    }
    const at = (method: string, T: number) =>
      cost.find((c) => c.method === method && c.days === T)!;
    const [first, last] = [horizons[0]!, horizons.at(-1)!];
    const reverseGrowth = at("reverse (score)", last).mib / at("reverse (score)", first).mib;
    // Memory at quick mode's small sizes is within the heap's noise: checked in the full run only.
    if (!quick) {
      checks.push(
        check(
          `reverse mode: memory at ${last} days / at ${first} days`,
          reverseGrowth,
          last / first,
          "a tape grows in proportion to the days recorded; tolerance 40%",
          0.4 * (last / first),
        ),
        check(
          `forward mode: memory at ${last} days minus at ${first} days (MiB)`,
          at("forward (triple)", last).mib - at("forward (triple)", first).mib,
          0,
          "the triple's online choice keeps nothing per draw; tolerance 10% of the reverse tape",
          0.1 * at("reverse (score)", last).mib,
        ),
      );
    }
    notes.push(
      `Forward against reverse mode on ${costAgents} agents (the reverse tape of 10,000 agents over ` +
        `1,000 days would not fit a small machine): ` +
        cost
          .map((c) => `${c.method} ${c.days} days ${c.mib.toFixed(2)} MiB, ${c.ms.toFixed(0)} ms`)
          .join("; ") +
        ". The score estimator's reverse pass keeps a tape of the operations leading to the " +
        "log-probabilities, which grows with the horizon; the triple estimator runs forward and " +
        "offers each draw's jumps to its pruned choice at the draw (a weighted reservoir, fed by " +
        "a customJvp rule that sees the parameter's tangent), so it holds only the current state.",
    );
    figures.push({
      caption:
        "Memory held at the last day of the simulation and time per estimate, by method and horizon " +
        `(${costAgents} agents): flat for forward mode, growing for reverse mode.`,
      svg: plotSvg({
        width: 560,
        height: 240,
        x: { label: "days simulated", type: "log", grid: true, tickFormat: powerOfTen },
        y: { label: "memory held (MiB)", grid: true },
        color: { legend: true },
        marks: [
          Plot.line(cost, { x: "days", y: "mib", stroke: "method" }),
          Plot.dot(cost, { x: "days", y: "mib", fill: "method" }),
        ],
      }),
    });
    figures.push({
      caption: `Time per estimate of dE[final size]/dβ (${costAgents} agents), by method and horizon.`,
      svg: plotSvg({
        width: 560,
        height: 240,
        x: { label: "days simulated", type: "log", grid: true, tickFormat: powerOfTen },
        y: { label: "ms per estimate", type: "log", grid: true },
        color: { legend: true },
        marks: [
          Plot.line(cost, { x: "days", y: "ms", stroke: "method" }),
          Plot.dot(cost, { x: "days", y: "ms", fill: "method" }),
        ],
      }),
    });

    // ---- 4. Brock–Hommes: exploding full-horizon gradients, bounded truncated ones.
    const market = { g: [0, 1.1, 0.9, 1.21], b: [0, 0.2, -0.2, 0], R: 1.1, sigma: 0.01 };
    const lengths = quick ? [25, 50] : [25, 50, 100, 150, 200];
    const bh: { horizon: string; T: number; gradient: number }[] = [];
    for (const T of lengths) {
      const noise = random.normal(random.key(3), [T]);
      for (const [name, H] of [
        ["full", undefined],
        ["truncated, 10 steps", 10],
      ] as const) {
        const g = grad((beta: NdArray) =>
          brockHommesLoss(beta, noise, { ...market, gradientHorizon: H }),
        )(np.array(120));
        bh.push({ horizon: name, T, gradient: Math.abs(g.item()) });
      }
    }
    const fullLast = bh.filter((r) => r.horizon === "full").at(-1)!.gradient;
    const truncLast = bh.filter((r) => r.horizon !== "full").at(-1)!.gradient;
    notes.push(
      `Brock–Hommes at β = 120 over ${lengths.at(-1)} steps: |dL/dβ| = ${fullLast.toExponential(2)} ` +
        `with the full horizon, ${truncLast.toExponential(2)} truncated to 10 steps.`,
    );
    figures.push({
      caption:
        "Brock–Hommes market (chaotic at β = 120): the full-horizon gradient of the mean squared " +
        "price grows with the path length; truncating it to 10 steps (lax.scan's gradientHorizon) keeps it bounded.",
      svg: plotSvg({
        width: 560,
        height: 240,
        x: { label: "steps simulated", grid: true },
        y: { label: "|dL/dβ|", type: "log", grid: true, tickFormat: powerOfTen },
        color: { legend: true },
        marks: [
          Plot.line(bh, { x: "T", y: "gradient", stroke: "horizon" }),
          Plot.dot(bh, { x: "T", y: "gradient", fill: "horizon" }),
        ],
      }),
    });

    return {
      id: "agent-based",
      title: agentBased.title,
      explanation:
        "Agents decide by chance: a susceptible agent is infected with probability " +
        "1 − exp(−β I/N), an infected one recovers with probability γ. Such draws have no pathwise " +
        "derivative (a coin flip does not move when β moves a little), so grad of one simulation " +
        "is zero in the draws. stochastic.grad estimates the derivative of the expectation instead: " +
        "the triple estimator (forward mode) follows each draw's chance of flipping and reruns the " +
        "simulation once with the chosen flip; the score estimator (reverse mode) weights the " +
        "simulation's value by the derivative of the draws' log-probabilities.",
      checks,
      figures,
      notes,
    };
  },
};
