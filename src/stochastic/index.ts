/**
 * stochastic: derivatives of expectations of programs with discrete
 * randomness (the public namespace `stochastic`).
 *
 * `stochastic.grad(f, { estimator })(θ, key)` returns a one-sample estimate
 * of ∇_θ E[f(θ, key)], where f draws with `random.bernoulli`,
 * `random.binomial`, `random.poisson` and `random.categorical` (whose
 * pathwise derivative is zero almost everywhere) and with continuous
 * samplers (differentiated pathwise, as usual). Averaging estimates over
 * split keys (vmap) gives the expectation's gradient.
 *
 * | estimator         | unbiased | cost per estimate          | notes                                       |
 * | ----------------- | -------- | -------------------------- | ------------------------------------------- |
 * | "triple"          | yes      | 2 runs of f per parameter  | forward mode, no tape: memory flat in draws |
 * | "score"           | yes      | 2 runs of f (reverse mode) | any number of parameters; high variance     |
 * | "straightThrough" | no       | 1 reverse pass             | derivative of the draws' means              |
 * | "relaxed"         | no       | 1 reverse pass             | Bernoulli draws only; bias set by τ         |
 *
 * @module
 */
import type { Array, ArrayLike } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { EscapedTracerError, InvalidArgumentError } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import * as np from "../numpy/index.js";
import * as random from "../random/index.js";
import { grad as reverseGrad } from "../transforms/linearize.js";
import { flatten, unflatten } from "../tree/index.js";
import { type DrawHandler, drawByInversion, withDrawHandler } from "./draws.js";
import {
  ScoreRecorder,
  gumbelSoftmaxFromUniform,
  relaxedHandler,
  straightThroughHandler,
} from "./surrogates.js";
import { tripleDirectional } from "./triple.js";

export { activeDrawHandler, type DrawHandler, type DrawRequest } from "./draws.js";

/** Which estimator `stochastic.grad` uses (see the module's table). */
export type Estimator = "triple" | "score" | "straightThrough" | "relaxed";

/** Options of `stochastic.grad`. */
export interface StochasticGradOptions {
  /** The estimator (default "triple"). */
  estimator?: Estimator;
  /** "relaxed" only: the temperature τ > 0 of the concrete relaxation (default 0.5). */
  temperature?: number;
  /** "relaxed" only: round the relaxed value forward, keep its derivative (default false). */
  hard?: boolean;
  /**
   * "score" only: the baseline b subtracted from f's value. "independent"
   * (default) uses f at an independent key (one more run of f, unbiased);
   * "none" uses 0.
   */
  baseline?: "independent" | "none";
}

/** Salts that derive the estimators' own keys from the user's key (never reused by f's draws). */
const CHOICE_SALT = 0x5eed0001;
const BASELINE_SALT = 0x5eed0002;

/** Draws with plain inversion, hiding any enclosing estimator's handler. */
const plainDraws: DrawHandler = { draw: drawByInversion };

/**
 * A one-sample estimate of the gradient of E[f(θ, key)] with respect to θ,
 * for programs with discrete random draws (see the module header for the
 * estimators). θ is a pytree of float arrays (or numbers); the result has
 * its structure. f must return a scalar float array.
 *
 * @example
 * ```ts
 * import { type Array, np, random, stochastic } from "chainrule";
 * // E[b] for b ~ Bernoulli(p) is p, so the derivative is 1.
 * const f = (p: Array, key: Array) => np.astype(random.bernoulli(key, p), "float64");
 * const estimate = stochastic.grad(f, { estimator: "triple" })(0.3, random.key(0));
 * estimate.item(); // 1 / (1 - 0.3) or 0: unbiased, mean 1
 * ```
 */
export function grad<Theta>(
  f: (theta: Theta, key: Array) => Array,
  opts: StochasticGradOptions = {},
): (theta: Theta, key: Array) => Theta extends number ? Array : Theta {
  const estimator = opts.estimator ?? "triple";
  const known: readonly Estimator[] = ["triple", "score", "straightThrough", "relaxed"];
  if (!known.includes(estimator)) {
    throw new InvalidArgumentError(
      `stochastic.grad: unknown estimator ${JSON.stringify(estimator)}; use one of ` +
        known.map((e) => `"${e}"`).join(", "),
    );
  }
  const temperature = opts.temperature ?? 0.5;
  if (!(typeof temperature === "number" && temperature > 0 && Number.isFinite(temperature))) {
    throw new InvalidArgumentError(
      `stochastic.grad: temperature must be a positive number, got ${String(temperature)}`,
    );
  }
  const scalarF = (theta: unknown, key: Array): Array => {
    const y = f(theta as Theta, key);
    if (!(y instanceof Object) || !("shape" in y) || y.shape.length !== 0 || !isFloat(y.dtype)) {
      const shown =
        y instanceof Object && "shape" in y ? `${y.dtype}[${y.shape.join(", ")}]` : typeof y;
      throw new InvalidArgumentError(
        `stochastic.grad: f must return a scalar float Array (the quantity whose expectation ` +
          `is differentiated), got ${shown}; reduce it (np.sum, np.mean) first`,
      );
    }
    return y;
  };
  return (theta, key) => {
    const thetaArrays = checkTheta(theta);
    let estimate: unknown;
    switch (estimator) {
      case "triple":
        estimate = explainEscapes(() => tripleGradient(scalarF, thetaArrays, key));
        break;
      case "score":
        estimate = explainEscapes(() =>
          scoreGradient(scalarF, thetaArrays, key, opts.baseline ?? "independent"),
        );
        break;
      case "straightThrough":
        estimate = reverseGrad((t: unknown) =>
          withDrawHandler(straightThroughHandler, () => scalarF(t, key)),
        )(thetaArrays);
        break;
      case "relaxed":
        estimate = reverseGrad((t: unknown) =>
          withDrawHandler(relaxedHandler(temperature, opts.hard ?? false), () => scalarF(t, key)),
        )(thetaArrays);
        break;
    }
    return estimate as Theta extends number ? Array : Theta;
  };
}

/**
 * Runs an estimator that records draws. A draw made inside a loop that jit
 * stages (lax.scan, whileLoop, forILoop under jit) is traced once for all
 * steps, so its value cannot be handed to the estimator: that surfaces as an
 * escaped tracer, explained here.
 */
function explainEscapes<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof EscapedTracerError) {
      throw new InvalidArgumentError(
        `stochastic.grad: a discrete draw was made inside a loop that jit stages ` +
          `(lax.scan, lax.whileLoop or lax.forILoop under jit), so the estimator cannot see ` +
          `each step's draw. Write that loop as a JavaScript for loop (jit unrolls it), run ` +
          `stochastic.grad outside jit, or use the "straightThrough" or "relaxed" estimator. ` +
          `(${e.message})`,
      );
    }
    throw e;
  }
}

/** θ's leaves as float arrays (numbers become float64 0-d arrays), refusing others. */
function checkTheta(theta: unknown): unknown {
  const [leaves, def] = flatten(theta);
  const arrays = leaves.map((leaf, i) => {
    const a = typeof leaf === "number" ? np.array(leaf) : leaf;
    if (!(a instanceof Object) || !("dtype" in a) || !isFloat(a.dtype)) {
      throw new InvalidArgumentError(
        `stochastic.grad: parameter leaf ${i} must be a float Array or a number, got ` +
          `${a instanceof Object && "dtype" in a ? a.dtype : typeof a}`,
      );
    }
    return a;
  });
  return unflatten(def, arrays);
}

/**
 * The triple estimate for every parameter element: one directional
 * estimate (two runs of f) per element of θ, along the unit vectors.
 */
function tripleGradient(
  f: (theta: unknown, key: Array) => Array,
  theta: unknown,
  key: Array,
): unknown {
  const [leaves, def] = flatten(theta) as [Array[], ReturnType<typeof flatten>[1]];
  const choiceKey = random.foldIn(key, CHOICE_SALT);
  let direction = 0;
  const gradLeaves = leaves.map((leaf, leafIndex) => {
    const estimates: Array[] = [];
    for (let j = 0; j < leaf.size; j++) {
      const basis = leaves.map((other, i) => {
        if (i !== leafIndex) return np.zerosLike(other);
        const unit = np.equal(np.arange(leaf.size, undefined, 1, "int32"), j);
        return np.reshape(np.astype(unit, leaf.dtype), leaf.shape);
      });
      const directionKey = random.foldIn(choiceKey, direction++);
      const { derivative } = tripleDirectional(f, theta, unflatten(def, basis), key, directionKey);
      estimates.push(np.astype(derivative, leaf.dtype));
    }
    return estimates.length === 0
      ? np.zerosLike(leaf)
      : np.reshape(np.stack(estimates), leaf.shape);
  });
  return unflatten(def, gradLeaves);
}

/** The score-function estimate: the gradient of y + stopGradient(y - b) Σ log P(draws). */
function scoreGradient(
  f: (theta: unknown, key: Array) => Array,
  theta: unknown,
  key: Array,
  baseline: "independent" | "none",
): unknown {
  let b: Array = np.array(0);
  if (baseline === "independent") {
    b = np.stopGradient(
      withDrawHandler(plainDraws, () => f(theta, random.foldIn(key, BASELINE_SALT))),
    );
  } else if (baseline !== "none") {
    throw new InvalidArgumentError(
      `stochastic.grad: baseline must be "independent" or "none", got ${JSON.stringify(baseline)}`,
    );
  }
  return reverseGrad((t: unknown) => {
    const recorder = new ScoreRecorder();
    const y = withDrawHandler(recorder, () => f(t, key));
    return np.add(y, np.multiply(np.stopGradient(np.subtract(y, b)), recorder.total()));
  })(theta);
}

/** Options of `stochastic.gumbelSoftmax`. */
export interface GumbelSoftmaxOptions {
  /** τ > 0 (default 1): small τ is close to one-hot with high-variance derivatives. */
  temperature?: number;
  /** One-hot forward, the relaxed derivative backward (default false). */
  hard?: boolean;
}

/**
 * A relaxed one-hot sample of the categorical distribution softmax(logits)
 * along the last axis (Gumbel-softmax / concrete): softmax((logits + g) / τ)
 * with Gumbel noise g; differentiable in the logits.
 *
 * @example
 * ```ts
 * import { np, random, stochastic } from "chainrule";
 * const y = stochastic.gumbelSoftmax(random.key(1), np.array([0, 1, 2]), { temperature: 0.5 });
 * np.sum(y).item(); // 1
 * ```
 */
export function gumbelSoftmax(
  key: Array,
  logits: ArrayLike,
  opts: GumbelSoftmaxOptions = {},
): Array {
  const temperature = opts.temperature ?? 1;
  if (!(typeof temperature === "number" && temperature > 0 && Number.isFinite(temperature))) {
    throw new InvalidArgumentError(
      `stochastic.gumbelSoftmax: temperature must be a positive number, got ${String(temperature)}`,
    );
  }
  const l = asArray(logits, "stochastic.gumbelSoftmax");
  if (l.ndim === 0 || !isFloat(l.dtype)) {
    throw new InvalidArgumentError(
      `stochastic.gumbelSoftmax: logits must be a float array with the categories on the last ` +
        `axis, got ${l.dtype}[${l.shape.join(", ")}]`,
    );
  }
  const u = random.uniform(key, l.shape, { dtype: l.dtype });
  return gumbelSoftmaxFromUniform(u, l, temperature, opts.hard ?? false);
}
