/**
 * Discrete draws by inversion, and the hook through which the stochastic
 * estimators (src/stochastic/) take over the discrete samplers of `random`.
 *
 * Every discrete sampler here turns ONE uniform u in [0, 1) per output
 * element into its value by inverting the distribution's CDF:
 *
 *   X = min { k : u < F(k; θ) }.
 *
 * Inversion couples draws across parameter values: with the same u, a small
 * change of θ changes X only where u lies next to a jump of F. That coupling
 * is what the stochastic-triple estimator differentiates (its weights are
 * the rates at which X jumps, see triple.ts), and what makes a draw at the
 * perturbed parameters reproducible from the same key.
 *
 * The parameters are read through stopGradient: a discrete value has no
 * pathwise derivative. `random.bernoulli/binomial/poisson/categorical` ask
 * `activeDrawHandler()` first; when an estimator has installed a handler
 * (withDrawHandler), the handler decides the value (records it, replaces
 * it on an alternative path, or relaxes it); otherwise the plain inversion
 * below is used.
 */
import type { Array, SliceIndex } from "../core/array.js";
import { InvalidArgumentError } from "../core/errors.js";
import * as lax from "../lax/index.js";
import * as np from "../numpy/index.js";

/** The discrete distributions the estimators know. */
export type DiscreteKind = "bernoulli" | "binomial" | "poisson" | "categorical";

/**
 * One discrete draw, as a sampler of `random` describes it to a handler.
 * Parameters are already broadcast to the output shape (categorical: logits
 * of shape [...outShape, K], the categories on the last axis).
 */
export type DrawRequest =
  | {
      /** `random.bernoulli`: X = 1 with probability p. */
      kind: "bernoulli";
      /** The success probability of each draw (not stop-gradiented: the handler may differentiate it). */
      p: Array;
      /** One uniform in [0, 1) per draw; by inversion X = [u < p]. */
      u: Array;
    }
  | {
      /** `random.binomial`: X = the number of successes in n trials of probability p. */
      kind: "binomial";
      /** The number of trials of each draw: whole numbers (n floored, clamped at 0; not differentiated). */
      n: Array;
      /** The success probability of each trial. */
      p: Array;
      /** One uniform in [0, 1) per draw; by inversion X = min { k : u < F(k; n, p) }. */
      u: Array;
    }
  | {
      /** `random.poisson`: X ~ Poisson(rate). */
      kind: "poisson";
      /** The mean λ of each draw (the `lam` of `random.poisson`). */
      rate: Array;
      /** One uniform in [0, 1) per draw; by inversion X = min { k : u < F(k; rate) }. */
      u: Array;
    }
  | {
      /** `random.categorical`: X = k with probability softmax(logits)_k. */
      kind: "categorical";
      /** Unnormalised log-probabilities, shape [...outShape, K] (the categories on the last axis). */
      logits: Array;
      /**
       * One uniform in [0, 1) per draw, shape outShape; by inversion
       * X = #{k < K - 1 : c_k <= u} with c_k = p_0 + ... + p_k.
       */
      u: Array;
    };

/** Decides the value of each discrete draw while an estimator runs f. */
export interface DrawHandler {
  /**
   * The value of one draw: the same shape as `request.u`, bool for
   * "bernoulli" and int32 for the other kinds (as the plain sampler returns).
   * A handler may record the request, return the inversion's value, or
   * replace it (e.g. by a relaxed or straight-through value).
   */
  draw(request: DrawRequest): Array;
}

let activeHandler: DrawHandler | null = null;

/** The handler installed by the innermost running estimator, or null. */
export function activeDrawHandler(): DrawHandler | null {
  return activeHandler;
}

/** Runs fn with `handler` deciding every discrete draw; restores the previous one after. */
export function withDrawHandler<T>(handler: DrawHandler | null, fn: () => T): T {
  const previous = activeHandler;
  activeHandler = handler;
  try {
    return fn();
  } finally {
    activeHandler = previous;
  }
}

/** The draw's value by inversion (no handler): bool for Bernoulli, int32 otherwise. */
export function drawByInversion(request: DrawRequest): Array {
  switch (request.kind) {
    case "bernoulli":
      return bernoulliByInversion(request.u, request.p);
    case "binomial":
      return binomialByInversion(request.u, request.n, request.p);
    case "poisson":
      return poissonByInversion(request.u, request.rate);
    case "categorical":
      return categoricalByInversion(request.u, request.logits);
  }
}

/** X = [u < p]: 1 with probability p. */
export function bernoulliByInversion(u: Array, p: Array): Array {
  return np.less(u, np.stopGradient(p));
}

/**
 * Binomial(n, p) by inversion: walk k = 0, 1, ... adding pmf(k) to the CDF
 * and counting the k with F(k) <= u. The pmf is carried in log space,
 *   log pmf(0) = n log(1 - p),
 *   log pmf(k + 1) = log pmf(k) + log(n - k) - log(k + 1) + log p - log(1 - p),
 * so large n does not underflow pmf(0) to 0. n must be concrete (it bounds
 * the walk); p = 0 gives 0 and p = 1 gives n.
 */
export function binomialByInversion(u: Array, n: Array, p: Array): Array {
  const nMax = maxConcrete(n, "random.binomial", "n");
  const q = np.clip(np.stopGradient(p), 0, 1);
  const interior = np.logicalAnd(np.greater(q, 0), np.less(q, 1));
  const qSafe = np.where(interior, q, 0.5);
  const logOdds = np.subtract(np.log(qSafe), np.log1p(np.negative(qSafe)));
  let logPmf = np.multiply(n, np.log1p(np.negative(qSafe)));
  let cdf = np.exp(logPmf);
  let count = np.zerosLike(u);
  for (let k = 0; k < nMax; k++) {
    const below = np.logicalAnd(np.lessEqual(cdf, u), np.less(k, n));
    count = np.add(count, np.astype(below, u.dtype));
    logPmf = np.add(
      logPmf,
      np.add(np.subtract(np.log(np.maximum(np.subtract(n, k), 1)), Math.log(k + 1)), logOdds),
    );
    cdf = np.add(cdf, np.exp(logPmf));
  }
  const value = np.where(interior, count, np.where(np.greater(q, 0), n, 0));
  return np.astype(value, "int32");
}

/**
 * Poisson(rate) by inversion, the pmf in log space:
 *   log pmf(0) = -rate, log pmf(k + 1) = log pmf(k) + log rate - log(k + 1).
 * The walk stops when every element has passed its u, or its pmf has
 * underflowed (k far beyond the rate). A lax.whileLoop, so it works with a
 * traced rate under jit; the cost grows with the largest rate.
 */
export function poissonByInversion(u: Array, rate: Array): Array {
  const lam = np.maximum(np.stopGradient(rate), 0);
  const positive = np.greater(lam, 0);
  const logLam = np.log(np.where(positive, lam, 1));
  type Carry = [Array, Array, Array, Array];
  const init: Carry = [np.array(0), np.negative(lam), np.exp(np.negative(lam)), np.zerosLike(u)];
  const active = ([, logPmf, cdf]: Carry) =>
    np.logicalAnd(np.logicalAnd(np.lessEqual(cdf, u), np.greater(logPmf, -745)), positive);
  const [, , , count] = lax.whileLoop(
    (c: Carry) => np.max(np.astype(active(c), "int32")).astype("bool"),
    (c: Carry): Carry => {
      const [k, logPmf, cdf, total] = c;
      const next = np.add(logPmf, np.subtract(logLam, np.log(np.add(k, 1))));
      return [
        np.add(k, 1),
        next,
        np.add(cdf, np.exp(next)),
        np.add(total, np.astype(active(c), u.dtype)),
      ];
    },
    init,
  );
  return np.astype(count, "int32");
}

/**
 * Categorical(softmax(logits)) by inversion on the cumulative probabilities
 * c_k = p_0 + ... + p_k: X = #{k < K - 1 : c_k <= u}.
 */
export function categoricalByInversion(u: Array, logits: Array): Array {
  const probs = softmaxLast(np.stopGradient(logits));
  const cdf = np.cumsum(probs, -1);
  const K = logits.shape[logits.ndim - 1]!;
  const inner = np.slice(cdf, ...sliceLastAxis(logits.ndim, 0, K - 1));
  const below = np.lessEqual(inner, np.expandDims(u, -1));
  return np.astype(np.sum(np.astype(below, "int32"), -1), "int32");
}

/** softmax along the last axis, with the maximum subtracted. */
export function softmaxLast(logits: Array): Array {
  const shifted = np.subtract(logits, np.stopGradient(np.max(logits, -1, { keepdims: true })));
  const e = np.exp(shifted);
  return np.divide(e, np.sum(e, -1, { keepdims: true }));
}

/** Slice indices selecting [start, stop) on the last of `ndim` axes. */
export function sliceLastAxis(ndim: number, start: number, stop: number): SliceIndex[] {
  const index: SliceIndex[] = [];
  for (let d = 0; d < ndim - 1; d++) index.push(null);
  index.push([start, stop]);
  return index;
}

/** The largest element of an array that must be known when the program is traced. */
function maxConcrete(x: Array, fnName: string, what: string): number {
  let value: number;
  try {
    value = np.max(x).item();
  } catch {
    throw new InvalidArgumentError(
      `${fnName}: ${what} must be a concrete value (it bounds the sampler's loop), but it is ` +
        `traced; pass ${what} as a constant (close over it) rather than as a jit argument`,
    );
  }
  if (!Number.isFinite(value) || value < 0 || !Number.isInteger(value)) {
    throw new InvalidArgumentError(
      `${fnName}: ${what} must be a non-negative integer, got ${String(value)}`,
    );
  }
  return value;
}
