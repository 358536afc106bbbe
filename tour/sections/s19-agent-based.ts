/**
 * Section (seeds 000/001, the agent-based-model tutorial, and its paper,
 * Quera-Bofarull et al. 2023): derivatives of simulations with discrete
 * random decisions. An SIR epidemic of agents that are infected and recover
 * by Bernoulli draws: the derivative of the expected final size with respect
 * to the infection rate β by each of stochastic.grad's estimators, against
 * finite differences of the expectation with common random numbers;
 * calibration of (β, γ) to an observed epidemic curve by gradient descent;
 * forward (triple) against reverse (score) mode in time and memory as the
 * horizon grows; and the chaotic Brock–Hommes market, whose full-horizon
 * gradients explode while truncated ones stay bounded.
 */
import {
  type Array as NdArray,
  grad,
  np,
  optim,
  random,
  stochastic,
  vmap,
} from "../../src/index.js";
import { brockHommesLoss, simulateSir } from "../../examples/abm.js";
import { liveBytes } from "../lib/memory.js";
import { Plot, plotSvg, powerOfTen } from "../lib/plot.js";
import { check, type Check, type Section, type SectionResult } from "../lib/types.js";

const GAMMA = 0.1;
const INITIAL = 0.02;
const BETA = 0.3;

/** Mean and standard error of a list. */
function meanSe(xs: number[]): { mean: number; se: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, se: Math.sqrt(variance / xs.length) };
}

const numbersOf = (a: NdArray) => Array.from(a.data() as Float64Array);

/** One colour per estimator, the same in every figure. */
const COLOURS: Record<string, string> = {
  triple: "#1f77b4",
  score: "#ff7f0e",
  straightThrough: "#2ca02c",
  relaxed: "#9467bd",
  "finite differences (CRN)": "#444444",
};

export const agentBased: Section = {
  id: "agent-based",
  title: "19. Agent-based models: derivatives through discrete random decisions",
  run(opts): SectionResult {
    const agents = opts.quick ? 100 : 300;
    const days = opts.quick ? 12 : 25;
    const samples = opts.quick ? 16 : 24;
    const checks: Check[] = [];
    const figures: SectionResult["figures"] = [];
    const notes: string[] = [];
    const config = { agents, days };
    const finalSize = (beta: NdArray, key: NdArray) =>
      simulateSir({ beta, gamma: np.array(GAMMA), initial: np.array(INITIAL) }, key, config)
        .finalSize;

    // ---- 1. d E[final size] / d beta by each estimator, against CRN finite differences.
    const keys = random.split(random.key(2023), samples);
    const rows: { estimator: string; mean: number; se: number }[] = [];
    for (const estimator of ["triple", "score", "straightThrough"] as const) {
      const g = stochastic.grad(finalSize, { estimator });
      const values = numbersOf(vmap((k: NdArray) => g(np.array(BETA), k))(keys));
      rows.push({ estimator, ...meanSe(values) });
    }
    const fdKeys = random.split(random.key(7), opts.quick ? 100 : 300);
    const h = 0.02;
    const sizes = (beta: number) => vmap((k: NdArray) => finalSize(np.array(beta), k))(fdKeys);
    const fd = meanSe(numbersOf(np.divide(np.subtract(sizes(BETA + h), sizes(BETA - h)), 2 * h)));
    rows.push({ estimator: "finite differences (CRN)", ...fd });
    for (const row of rows.slice(0, 2)) {
      checks.push(
        check(
          `${row.estimator}: mean of ${samples} estimates of dE[final size]/dβ`,
          row.mean,
          fd.mean,
          `central FD of the expectation (h = ${h}, common random numbers, ${fdKeys.shape[0]} runs); tolerance 4 combined SE`,
          4 * Math.hypot(row.se, fd.se) + h * h,
        ),
      );
    }
    notes.push(
      `dE[final size]/dβ at β = ${BETA}, γ = ${GAMMA}, ${agents} agents, ${days} days: ` +
        rows.map((r) => `${r.estimator} ${r.mean.toFixed(3)} ± ${r.se.toFixed(3)}`).join("; ") +
        `. Straight-through differentiates each draw's mean instead of the expectation: biased.`,
    );
    figures.push({
      caption:
        "Estimates of dE[final size]/dβ (mean ± 2 standard errors): the unbiased triple and score " +
        "estimators agree with finite differences of the expectation (with this few samples, " +
        "their error bars are wide: the estimates are heavy-tailed); straight-through differentiates " +
        "the draws' means and is biased.",
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
    const truth = { beta: 0.4, gamma: 0.15 };
    const observedKey = random.key(99);
    const curve = (beta: NdArray, gamma: NdArray, key: NdArray) =>
      np.stack(
        simulateSir({ beta, gamma, initial: np.array(INITIAL) }, key, config).infectedPerDay,
      );
    const observed = curve(np.array(truth.beta), np.array(truth.gamma), observedKey);
    const loss = (theta: { beta: NdArray; gamma: NdArray }, key: NdArray) =>
      np.mean(np.square(np.subtract(curve(theta.beta, theta.gamma, key), observed)));
    const lossGrad = stochastic.grad(loss, { estimator: "triple" });
    const optimizer = optim.adam(0.02);
    let theta = { beta: np.array(0.25), gamma: np.array(0.25) };
    let state = optimizer.init(theta);
    const history: { step: number; loss: number }[] = [];
    const averaged = { beta: 0, gamma: 0 };
    const steps = opts.quick ? 6 : 24;
    const perStep = 2;
    for (let step = 0; step < steps; step++) {
      const stepKeys = random.split(random.key(1000 + step), perStep);
      const grads = vmap((k: NdArray) => lossGrad(theta, k))(stepKeys);
      const mean = { beta: np.mean(grads.beta), gamma: np.mean(grads.gamma) };
      const lossNow = np.mean(vmap((k: NdArray) => loss(theta, k))(stepKeys)).item();
      history.push({ step, loss: lossNow });
      [theta, state] = optimizer.update(mean, state, theta);
      // Polyak averaging over the second half: the iterates jitter around the optimum
      // with the gradient noise; their mean settles.
      if (step >= steps / 2) {
        averaged.beta += theta.beta.item() / (steps - Math.ceil(steps / 2));
        averaged.gamma += theta.gamma.item() / (steps - Math.ceil(steps / 2));
      }
    }
    const recovered = averaged;
    if (!opts.quick) {
      checks.push(
        check(
          "calibrated β",
          recovered.beta,
          truth.beta,
          "the β that made the observed curve",
          0.08,
        ),
        check(
          "calibrated γ",
          recovered.gamma,
          truth.gamma,
          "the γ that made the observed curve",
          0.05,
        ),
      );
    }
    notes.push(
      `Calibration by Adam on triple estimates (${perStep} keys per step, ${steps} steps, the ` +
        `iterates of the second half averaged) from ` +
        `β = 0.25, γ = 0.25: recovered β = ${recovered.beta.toFixed(3)}, γ = ${recovered.gamma.toFixed(3)} ` +
        `(true ${truth.beta}, ${truth.gamma}).`,
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
    const horizons = opts.quick ? [6, 12] : [20, 40, 60];
    const cost: { method: string; days: number; ms: number; mib: number }[] = [];
    for (const T of horizons) {
      for (const method of ["triple", "score"] as const) {
        let atLastDay = 0;
        const probed = (beta: NdArray, key: NdArray) =>
          simulateSir({ beta, gamma: np.array(GAMMA), initial: np.array(INITIAL) }, key, {
            agents,
            days: T,
            onLastDay: () => (atLastDay = liveBytes()),
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
    notes.push(
      "Memory held during the last simulated day (MiB): " +
        cost.map((c) => `${c.method} ${c.days} days ${c.mib.toFixed(2)}`).join("; ") +
        ". Both grow with the horizon here. The score estimator's reverse pass keeps a tape " +
        "of the float operations that lead to the log-probabilities; the triple estimator runs " +
        "forward but keeps every draw's parameter, with its tangent, and value until the end of " +
        "its first run (17 bytes per agent and draw) to weigh the jumps. An online choice of the " +
        "jump at each draw would make forward mode's memory flat; it is not implemented yet.",
    );
    figures.push({
      caption: "Memory held at the last day of the simulation, by method and horizon.",
      svg: plotSvg({
        width: 560,
        height: 240,
        x: { label: "days simulated", grid: true },
        y: { label: "memory held (MiB)", grid: true },
        color: { legend: true },
        marks: [
          Plot.line(cost, { x: "days", y: "mib", stroke: "method" }),
          Plot.dot(cost, { x: "days", y: "mib", fill: "method" }),
        ],
      }),
    });

    // ---- 4. Brock–Hommes: exploding full-horizon gradients, bounded truncated ones.
    const market = { g: [0, 1.1, 0.9, 1.21], b: [0, 0.2, -0.2, 0], R: 1.1, sigma: 0.01 };
    const lengths = opts.quick ? [25, 50] : [25, 50, 100, 150, 200];
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
