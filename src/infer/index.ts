/**
 * `infer`: Bayesian inference by Hamiltonian Monte Carlo.
 *
 *   hmc(logDensity, init, opts)    static-length HMC (jitted, vmapped over chains)
 *   nuts(logDensity, init, opts)   the no-U-turn sampler (multinomial, generalised criterion)
 *   ess(samples), rhat(samples)    convergence diagnostics (Vehtari et al. 2021)
 *   transforms                     positive, unitInterval, simplex with log-Jacobians
 *
 * Both samplers warm up as Stan does (dual-averaging step size, windowed
 * mass-matrix adaptation) and return samples with leading axes
 * [chains, numSamples]; see sampler.ts.
 *
 * @module
 */
import { type SampleResult, type SamplerOptions, runSampler } from "./sampler.js";

export { ess, rhat, type EssMethod } from "./diagnostics.js";
export * as transforms from "./transforms.js";
export type { SampleResult, SamplerOptions, SamplerStats } from "./sampler.js";
export type { Transform } from "./transforms.js";

/**
 * Hamiltonian Monte Carlo with `numSteps` leapfrog steps per transition
 * (default 10) on the unnormalised log density of a pytree of float
 * parameters (use `infer.transforms` for constrained ones). The transition
 * of all chains is one jitted, vmapped program; step size and a diagonal
 * mass matrix are adapted during warm-up.
 *
 * @example
 * ```ts
 * import { np, random, infer } from "chainrule";
 * const logp = (x) => np.multiply(-0.5, np.sum(np.square(x)));
 * const { samples } = infer.hmc(logp, np.zeros([2]), {
 *   key: random.key(0), numWarmup: 50, numSamples: 50, chains: 2,
 * }); // samples.shape: [2, 50, 2]
 * ```
 */
export function hmc(
  logDensity: (params: never) => unknown,
  init: unknown,
  opts: SamplerOptions,
): SampleResult {
  return runSampler("hmc", logDensity, init, opts);
}

/**
 * The no-U-turn sampler (multinomial trajectory sampling with the
 * generalised U-turn criterion, as Stan and NumPyro): trajectories double
 * until they turn back, up to `maxTreeDepth` (default 10). Step size and a
 * diagonal (or, with `dense: true`, dense) mass matrix are adapted during
 * warm-up. The tree logic runs in JS, all chains in lockstep; each leapfrog
 * step calls the jitted value-and-gradient of `logDensity` per chain
 * (`chainMethod: "sequential"`, default) or once, vmapped, for every chain
 * still building its trajectory (`"vectorized"`).
 *
 * @example
 * ```ts
 * import { np, random, infer } from "chainrule";
 * const logp = (p) => np.multiply(-0.5, np.sum(np.square(np.subtract(p.mu, 3))));
 * const { samples, stats } = infer.nuts(logp, { mu: np.zeros([2]) }, {
 *   key: random.key(1), numWarmup: 50, numSamples: 50,
 * }); // samples.mu.shape: [1, 50, 2]; stats.treeDepth, stats.numDivergences
 * ```
 */
export function nuts(
  logDensity: (params: never) => unknown,
  init: unknown,
  opts: SamplerOptions,
): SampleResult {
  return runSampler("nuts", logDensity, init, opts);
}
