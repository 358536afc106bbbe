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
import { type Array, lax, np, random, stochastic } from "../src/index.js";

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
  /** Called during the last day (to measure what a method holds in memory there). */
  onLastDay?: () => void;
}

/** The SIR model's daily counts and final size for one key. */
export function simulateSir(
  params: SirParams,
  key: Array,
  { agents, days, onLastDay }: SirConfig,
): { finalSize: Array; infectedPerDay: Array[] } {
  const keys = random.split(key, 2 * days + 1);
  const draw = (i: number, p: Array) =>
    np.astype(random.bernoulli(np.take(keys, i, 0), p), "float64");
  let infected = draw(0, np.broadcastTo(params.initial, [agents]));
  let susceptible = np.subtract(1, infected);
  let recovered = np.zerosLike(infected);
  const infectedPerDay: Array[] = [];
  for (let day = 0; day < days; day++) {
    if (day === days - 1) onLastDay?.();
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

/** The Brock–Hommes model's belief types and market constants. */
export interface BrockHommesConfig {
  /** Trend coefficients g_h and biases b_h of the belief types. */
  g: number[];
  b: number[];
  /** Gross interest rate R > 1. */
  R: number;
  /** Noise scale σ. */
  sigma: number;
  /** Truncate gradients to this many steps back (lax.scan's gradientHorizon). */
  gradientHorizon?: number;
}

/**
 * The Brock–Hommes asset-pricing model with heterogeneous beliefs (1998):
 * types h forecast g_h x_t + b_h; their fractions follow a discrete choice
 * n_h = softmax(β U_h) on realised profits
 * U_h = (x_t - R x_{t-1}) (g_h x_{t-2} + b_h - R x_{t-1}); the price
 * deviation is x_{t+1} = Σ_h n_h (g_h x_t + b_h) / R + σ ε_t. For large β
 * (intensity of choice) the map is chaotic and derivatives through many
 * steps explode. Returns the mean squared price deviation over the path,
 * a lax.scan over the noise.
 */
export function brockHommesLoss(beta: Array, noise: Array, config: BrockHommesConfig): Array {
  const g = np.array(config.g);
  const b = np.array(config.b);
  type State = [Array, Array, Array];
  const step = ([x2, x1, x0]: State, eps: Array): [State, Array] => {
    const profit = np.multiply(
      np.subtract(x0, np.multiply(config.R, x1)),
      np.subtract(np.add(np.multiply(g, x2), b), np.multiply(config.R, x1)),
    );
    const logits = np.multiply(beta, profit);
    const e = np.exp(np.subtract(logits, np.stopGradient(np.max(logits))));
    const fractions = np.divide(e, np.sum(e));
    const forecast = np.sum(np.multiply(fractions, np.add(np.multiply(g, x0), b)));
    const next = np.add(np.divide(forecast, config.R), np.multiply(config.sigma, eps));
    return [[x1, x0, next], next];
  };
  const init: State = [np.array(0.1), np.array(0.12), np.array(0.15)];
  const [, path] = lax.scan(step, init, noise, {
    gradientHorizon: config.gradientHorizon,
  }) as [State, Array];
  return np.mean(np.square(path));
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
