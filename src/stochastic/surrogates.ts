/**
 * The estimators that differentiate a surrogate of the program with grad:
 *
 * - score function (REINFORCE): ∇ E[y] = E[∇y + (y - b) ∇ log P(draws; θ)],
 *   with the discrete values held fixed and b a baseline independent of
 *   the draws (unbiased; any number of parameters in one reverse pass).
 *   The surrogate y + stopGradient(y - b) · Σ log P has exactly that
 *   gradient. Constant terms of log P (log C(n, k), log k!) are dropped.
 * - straight-through: the draw's value in the forward pass, the derivative
 *   of its mean in the backward pass: X + (m(θ) - stopGradient(m(θ))) with
 *   m = p, n p or λ. Biased.
 * - relaxed (concrete / Gumbel-softmax, Maddison et al. and Jang et al.
 *   2017): a Bernoulli(p) draw becomes σ((logit p + L) / τ) with logistic
 *   noise L = log u - log(1 - u); with `hard`, the rounded value forward and
 *   the relaxed derivative backward. Biased; the bias vanishes as τ -> 0
 *   while the variance grows.
 */
import type { Array } from "../core/array.js";
import { InvalidArgumentError } from "../core/errors.js";
import * as np from "../numpy/index.js";
import { type DrawHandler, type DrawRequest, drawByInversion, softmaxLast } from "./draws.js";

/** log x where the mask holds, 0 elsewhere (x replaced by 1 off the mask). */
function safeLog(mask: Array, x: Array): Array {
  return np.where(mask, np.log(np.where(mask, x, 1)), 0);
}

/** Draws by inversion and sums the log-probabilities of the values drawn (differentiable in θ). */
export class ScoreRecorder implements DrawHandler {
  private readonly terms: Array[] = [];
  draw(request: DrawRequest): Array {
    const value = drawByInversion(request);
    this.terms.push(np.sum(logProbability(request, value)));
    return value;
  }
  /** Σ log P(draws; θ), 0 when nothing was drawn. */
  total(): Array {
    return this.terms.reduce((a, b) => np.add(a, b), np.array(0));
  }
}

/** log P(X = value; θ) up to terms constant in θ. */
function logProbability(request: DrawRequest, value: Array): Array {
  switch (request.kind) {
    case "bernoulli": {
      const p = request.p;
      const one = np.astype(value, "bool");
      return np.where(
        one,
        safeLog(np.greater(p, 0), p),
        np.log1p(np.negative(np.where(np.less(p, 1), p, 0))),
      );
    }
    case "binomial": {
      const { n, p } = request;
      const k = np.astype(value, p.dtype);
      // k log p + (n - k) log(1 - p)
      return np.add(
        np.multiply(k, safeLog(np.greater(k, 0), p)),
        np.multiply(
          np.subtract(n, k),
          safeLog(np.greater(np.subtract(n, k), 0), np.subtract(1, p)),
        ),
      );
    }
    case "poisson": {
      const rate = request.rate;
      const k = np.astype(value, rate.dtype);
      // k log λ - λ
      return np.subtract(np.multiply(k, safeLog(np.greater(k, 0), rate)), rate);
    }
    case "categorical": {
      const logits = request.logits;
      const K = logits.shape[logits.ndim - 1]!;
      const shifted = np.subtract(logits, np.stopGradient(np.max(logits, -1, { keepdims: true })));
      const logSoftmax = np.subtract(
        shifted,
        np.log(np.sum(np.exp(shifted), -1, { keepdims: true })),
      );
      const categories = np.arange(K, undefined, 1, "int32");
      const oneHot = np.equal(categories, np.expandDims(np.astype(value, "int32"), -1));
      return np.sum(np.where(oneHot, logSoftmax, 0), -1);
    }
  }
}

/** x with the derivative of m: x + (m - stopGradient(m)). */
function withDerivativeOf(x: Array, mean: Array): Array {
  return np.add(x, np.subtract(mean, np.stopGradient(mean)));
}

/** Straight-through: the drawn value forward, the derivative of its mean backward. */
export const straightThroughHandler: DrawHandler = {
  draw(request: DrawRequest): Array {
    const value = drawByInversion(request);
    switch (request.kind) {
      case "bernoulli":
        return withDerivativeOf(np.astype(value, request.p.dtype), request.p);
      case "binomial":
        return withDerivativeOf(
          np.astype(value, request.p.dtype),
          np.multiply(request.n, request.p),
        );
      case "poisson":
        return withDerivativeOf(np.astype(value, request.rate.dtype), request.rate);
      case "categorical":
        throw new InvalidArgumentError(
          `stochastic.grad: the "straightThrough" estimator has no form for random.categorical, ` +
            `whose value is an index; draw a one-hot sample with ` +
            `stochastic.gumbelSoftmax(key, logits, { hard: true }) instead, or use the "triple" ` +
            `or "score" estimator`,
        );
    }
  },
};

/** The concrete relaxation of Bernoulli draws (see the header). */
export function relaxedHandler(temperature: number, hard: boolean): DrawHandler {
  return {
    draw(request: DrawRequest): Array {
      if (request.kind !== "bernoulli") {
        throw new InvalidArgumentError(
          `stochastic.grad: the "relaxed" estimator relaxes Bernoulli draws only, but the ` +
            `program draws from random.${request.kind}; use the "triple" or "score" estimator ` +
            `(unbiased), "straightThrough"` +
            (request.kind === "categorical"
              ? `, or draw one-hot samples with stochastic.gumbelSoftmax(key, logits)`
              : ``),
        );
      }
      const { p, u } = request;
      // p = 0 or 1 (a draw that cannot go the other way, e.g. an agent that cannot change)
      // keeps its value with no derivative: logit p would be infinite, and its derivative
      // times σ' (0) a NaN. The relaxed branch sees p = 1/2 there, so nothing overflows.
      const interior = np.logicalAnd(np.greater(p, 0), np.less(p, 1));
      const pSafe = np.where(interior, p, 0.5);
      const logistic = np.subtract(np.log(u), np.log1p(np.negative(u)));
      const logit = np.subtract(np.log(pSafe), np.log1p(np.negative(pSafe)));
      const relaxed = sigmoid(np.divide(np.add(logit, logistic), temperature));
      const soft = np.where(interior, relaxed, np.astype(np.greaterEqual(p, 1), relaxed.dtype));
      if (!hard) return soft;
      return withDerivativeOf(np.astype(np.greater(soft, 0.5), soft.dtype), soft);
    },
  };
}

/** σ(x) = 1 / (1 + e^-x). */
function sigmoid(x: Array): Array {
  return np.divide(1, np.add(1, np.exp(np.negative(x))));
}

/**
 * Gumbel-softmax (concrete) sample of a categorical: softmax((logits + g) / τ)
 * with g = -log(-log u) Gumbel noise; with `hard`, the one-hot of its
 * argmax forward and the relaxed derivative backward.
 */
export function gumbelSoftmaxFromUniform(
  u: Array,
  logits: Array,
  temperature: number,
  hard: boolean,
): Array {
  // u = 0 would give an infinite g: the smallest positive float stands in for it.
  const positive = np.maximum(u, u.dtype === "float32" ? 1.1754944e-38 : 2.2250738585072014e-308);
  const gumbel = np.negative(np.log(np.negative(np.log(positive))));
  const soft = softmaxLast(np.divide(np.add(logits, gumbel), temperature));
  if (!hard) return soft;
  const K = logits.shape[logits.ndim - 1]!;
  const best = np.argmax(soft, -1);
  const oneHot = np.astype(
    np.equal(np.arange(K, undefined, 1, "int32"), np.expandDims(best, -1)),
    soft.dtype,
  );
  return withDerivativeOf(oneHot, soft);
}
