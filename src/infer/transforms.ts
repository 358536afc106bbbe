/**
 * Bijections from unconstrained real vectors to constrained parameters, with
 * the log-determinant of their Jacobians, so that a sampler can work on ℝⁿ:
 * for x = T(u), the density of u is p(T(u)) |det ∂T/∂u|, i.e.
 * log p_u(u) = log p(T(u)) + logDetJacobian(u).
 *
 * @module
 */
import { type Array, type ArrayLike } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import * as nn from "../nn/index.js";
import * as np from "../numpy/index.js";

/** A bijection ℝⁿ → constrained set with its log |det Jacobian|. */
export interface Transform {
  /** u (unconstrained) ↦ x (constrained). */
  forward: (u: ArrayLike) => Array;
  /** x (constrained) ↦ u. */
  inverse: (x: ArrayLike) => Array;
  /** log |det ∂forward/∂u| at u, summed over elements (0-d). */
  logDetJacobian: (u: ArrayLike) => Array;
}

const softplus = (x: Array): Array =>
  np.add(np.maximum(x, 0), np.log1p(np.exp(np.negative(np.abs(x)))));

/**
 * x = exp(u) > 0; log |dx/du| = u.
 *
 * @example
 * ```ts
 * import { infer } from "chainrule";
 * const sigma = infer.transforms.positive.forward(0); // 1
 * ```
 */
export const positive: Transform = {
  forward: (u) => np.exp(asArray(u, "infer.transforms.positive")),
  inverse: (x) => np.log(asArray(x, "infer.transforms.positive")),
  logDetJacobian: (u) => np.sum(asArray(u, "infer.transforms.positive")),
};

/**
 * x = sigmoid(u) ∈ (0, 1); log |dx/du| = log σ(u) + log(1 − σ(u)) = −softplus(−u) − softplus(u).
 *
 * @example
 * ```ts
 * import { infer } from "chainrule";
 * const p = infer.transforms.unitInterval.forward(0); // 0.5
 * ```
 */
export const unitInterval: Transform = {
  forward: (u) => nn.sigmoid(asArray(u, "infer.transforms.unitInterval")),
  inverse: (x) => {
    const a = asArray(x, "infer.transforms.unitInterval");
    return np.subtract(np.log(a), np.log1p(np.negative(a)));
  },
  logDetJacobian: (u) => {
    const a = asArray(u, "infer.transforms.unitInterval");
    return np.negative(np.sum(np.add(softplus(a), softplus(np.negative(a)))));
  },
};

function lastAxis(fnName: string, x: Array, what: string): number {
  if (x.ndim !== 1) {
    throw new ShapeError(
      `${fnName}: ${what} must be a 1-d vector, got shape ${fmtShape(x.shape)}; ` +
        `apply the transform to each vector (vmap)`,
    );
  }
  return x.shape[0]!;
}

/**
 * Stick-breaking (as Stan): u ∈ ℝ^{K−1} ↦ x on the K-simplex (xₖ > 0, Σx = 1),
 * zₖ = σ(uₖ − log(K − k)) for k = 1..K−1, xₖ = (1 − Σ_{j<k} xⱼ) zₖ,
 * x_K = 1 − Σ_{j<K} xⱼ; log |det| = Σₖ log(zₖ (1 − zₖ) (1 − Σ_{j<k} xⱼ)).
 * u = 0 maps to the uniform vector.
 *
 * @example
 * ```ts
 * import { np, infer } from "chainrule";
 * const x = infer.transforms.simplex.forward(np.zeros([2])); // [1/3, 1/3, 1/3]
 * ```
 */
export const simplex: Transform = {
  forward(uIn) {
    const fnName = "infer.transforms.simplex.forward";
    const u = asArray(uIn, fnName);
    const km1 = lastAxis(fnName, u, "u");
    const parts: Array[] = [];
    let rest: Array = np.array(1);
    for (let k = 0; k < km1; k++) {
      const z = nn.sigmoid(np.subtract(np.take(u, k), Math.log(km1 + 1 - (k + 1))));
      const xk = np.multiply(rest, z);
      parts.push(xk);
      rest = np.subtract(rest, xk);
    }
    parts.push(rest);
    return np.stack(parts);
  },
  inverse(xIn) {
    const fnName = "infer.transforms.simplex.inverse";
    const x = asArray(xIn, fnName);
    const K = lastAxis(fnName, x, "x");
    const parts: Array[] = [];
    let rest: Array = np.array(1);
    for (let k = 0; k < K - 1; k++) {
      const xk = np.take(x, k);
      const z = np.divide(xk, rest);
      parts.push(np.add(np.subtract(np.log(z), np.log1p(np.negative(z))), Math.log(K - 1 - k)));
      rest = np.subtract(rest, xk);
    }
    return np.stack(parts);
  },
  logDetJacobian(uIn) {
    const fnName = "infer.transforms.simplex.logDetJacobian";
    const u = asArray(uIn, fnName);
    const km1 = lastAxis(fnName, u, "u");
    let rest: Array = np.array(1);
    let acc: Array = np.array(0);
    for (let k = 0; k < km1; k++) {
      const v = np.subtract(np.take(u, k), Math.log(km1 - k));
      // log z + log(1 − z) = −softplus(−v) − softplus(v)
      const logZ1mZ = np.negative(np.add(softplus(v), softplus(np.negative(v))));
      acc = np.add(acc, np.add(logZ1mZ, np.log(rest)));
      rest = np.multiply(rest, np.subtract(1, nn.sigmoid(v)));
    }
    return acc;
  },
};
