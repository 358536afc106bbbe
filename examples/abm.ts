/**
 * Agent-based models with discrete randomness, differentiated with
 * `stochastic.grad` (used by the tour's ABM section, bench/abm.ts and
 * `npx tsx examples/abm.ts`).
 *
 * The SIR epidemic: N agents, each susceptible, infected or recovered. Each
 * day every susceptible agent is infected with probability
 * 1 - exp(-β I / N) (I the number infected: everyone meets everyone), and
 * every infected agent recovers with probability γ. At day 0 each agent is
 * infected with probability i0. The output is the final epidemic size, the
 * fraction of agents ever infected.
 *
 * Every draw is a Bernoulli per agent with the agent's own probability:
 * an agent that cannot change (a recovered agent facing infection) gets
 * probability 0, so its draw carries no weight in the triple estimator and
 * the one perturbation it keeps always lands on an agent that matters.
 */
import { type Array, np, random, stochastic } from "../src/index.js";

/** The epidemic's parameters. */
export interface SirParams {
  beta: Array;
  gamma: Array;
  initial: Array;
}

/** Population size and length of the simulation. */
export interface SirConfig {
  agents: number;
  days: number;
}

/** The SIR model's daily counts and final size for one key. */
export function simulateSir(
  params: SirParams,
  key: Array,
  { agents, days }: SirConfig,
): { finalSize: Array; infectedPerDay: Array[] } {
  const keys = random.split(key, 2 * days + 1);
  const draw = (i: number, p: Array) =>
    np.astype(random.bernoulli(np.take(keys, i, 0), p), "float64");
  let infected = draw(0, np.broadcastTo(params.initial, [agents]));
  let susceptible = np.subtract(1, infected);
  let recovered = np.zerosLike(infected);
  const infectedPerDay: Array[] = [];
  for (let day = 0; day < days; day++) {
    const pressure = np.divide(np.multiply(params.beta, np.sum(infected)), agents);
    const pInfect = np.multiply(np.subtract(1, np.exp(np.negative(pressure))), susceptible);
    const pRecover = np.multiply(params.gamma, infected);
    const newInfected = draw(2 * day + 1, pInfect);
    const newRecovered = draw(2 * day + 2, pRecover);
    susceptible = np.subtract(susceptible, newInfected);
    infected = np.add(np.subtract(infected, newRecovered), newInfected);
    recovered = np.add(recovered, newRecovered);
    infectedPerDay.push(np.divide(np.sum(infected), agents));
  }
  const finalSize = np.divide(np.sum(np.add(infected, recovered)), agents);
  return { finalSize, infectedPerDay };
}

/** The final epidemic size as a function of the parameters and a key, for stochastic.grad. */
export function sirFinalSize(config: SirConfig) {
  return (params: SirParams, key: Array): Array => simulateSir(params, key, config).finalSize;
}

/**
 * The Brock–Hommes asset-pricing model with heterogeneous beliefs: types h
 * forecast x_{t+1} = g_h x_{t-1} + b_h; their fractions follow a discrete
 * choice n_h = softmax(β U_h) on past profits
 * U_h = (x_t - R x_{t-1}) (g_h x_{t-2} + b_h - R x_{t-1}); the price deviation
 * is x_{t+1} = Σ_h n_h (g_h x_t + b_h) / R + σ ε_t. For large β the map is
 * chaotic and gradients through many steps explode.
 */
export function brockHommes(
  beta: Array,
  noise: Array,
  opts: { g: number[]; b: number[]; R: number; sigma: number },
): Array[] {
  const g = np.array(opts.g);
  const b = np.array(opts.b);
  let [x2, x1, x0] = [np.array(0.1), np.array(0.12), np.array(0.15)];
  const path: Array[] = [];
  const T = noise.shape[0]!;
  for (let t = 0; t < T; t++) {
    const profit = np.multiply(
      np.subtract(x0, np.multiply(opts.R, x1)),
      np.subtract(np.add(np.multiply(g, x2), b), np.multiply(opts.R, x1)),
    );
    const logits = np.multiply(beta, profit);
    const e = np.exp(np.subtract(logits, np.stopGradient(np.max(logits))));
    const fractions = np.divide(e, np.sum(e));
    const next = np.add(
      np.divide(np.sum(np.multiply(fractions, np.add(np.multiply(g, x0), b))), opts.R),
      np.multiply(opts.sigma, np.take(noise, t)),
    );
    [x2, x1, x0] = [x1, x0, next];
    path.push(next);
  }
  return path;
}

/** Prints the final size's gradient by each estimator (a few samples each). */
function main(): void {
  const config = { agents: 1000, days: 40 };
  const params: SirParams = { beta: np.array(0.3), gamma: np.array(0.1), initial: np.array(0.01) };
  const f = sirFinalSize(config);
  for (const estimator of ["triple", "score", "straightThrough"] as const) {
    const g = stochastic.grad(f, { estimator });
    const samples = globalThis.Array.from({ length: 5 }, (_, i) =>
      g(params, random.key(i)).beta.item(),
    );
    console.log(estimator.padEnd(16), samples.map((v) => v.toFixed(3)).join("  "));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
