/**
 * Gamma, beta and Dirichlet samplers, as `jax.random`, with implicit
 * reparameterisation gradients (Figurnov, Mohamed and Mnih, "Implicit
 * reparameterization gradients", 2018).
 *
 * Sampling: Marsaglia and Tsang's method ("A simple method for generating
 * gamma variables", 2000). For a >= 1, with d = a - 1/3 and c = 1/sqrt(9d),
 * propose x = d v, v = (1 + c z)^3, z standard normal, and accept when
 * v > 0 and log u < z^2/2 + d - d v + d log v (u uniform on (0, 1));
 * acceptance is above 95% for every a. For a < 1, x = y u^(1/a) with y a
 * Gamma(a + 1) sample (in log space, so tiny shapes do not underflow to 0
 * before the exponent). Vectorised: every round draws a proposal for
 * every element (from the key folded with the round number) and keeps the
 * first accepted one, inside lax.whileLoop until all are accepted (a few
 * rounds), so it runs eagerly, under jit and under vmap.
 *
 * Gradient: with F(x; a) the Gamma(a, 1) CDF (the regularised incomplete
 * gamma P(a, x)), a sample is x = F^-1(u; a) for some u, and holding u
 * fixed, 0 = dF = dF/dx dx + dF/da da, so
 *     dx/da = -(dF/da)(x; a) / f(x; a),   f(x; a) = x^(a-1) e^-x / Gamma(a).
 * dF/da comes from forward mode through the series / continued fraction
 * of special.ts. The rule is a customJvp whose tangent is written with
 * the sampler itself, so second derivatives follow from the same rule.
 */
import { Array, type ArrayLike } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { ShapeError, fmtShape } from "../core/errors.js";
import { scalar } from "../core/convert.js";
import { portableExp as exp, portableLog as log } from "../primitives/portableMath.js";
import * as np from "../numpy/index.js";
import { whileLoop } from "../lax/loops.js";
import { customJvp } from "../transforms/customJvp.js";
import {
  type DtypeOptions,
  type FloatDType,
  floatDtype,
  openUniform,
  param,
  sampleShape,
  standardNormal,
} from "./continuous.js";
import { checkKey, foldIn, split, type ShapeArg, checkOptions } from "./keys.js";
import { gammaincLowerDa, logGamma } from "./special.js";

/**
 * Gamma(a, 1) samples of a's shape and their logarithms, no gradient
 * (a float, a > 0). The logarithm never underflows: for a < 1 it is
 * log y + log(u) / a, finite even where x = exp of it is below the
 * smallest float (x underflows to 0 with probability about
 * exp(-708 a) in float64, and far more often in float32: beta and
 * dirichlet work from the logarithms).
 */
function gammaSamples(key: Array, a: Array): { x: Array; logX: Array } {
  const dtype = a.dtype as FloatDType;
  const shape = a.shape;
  const boost = np.less(a, 1);
  const shifted = np.where(boost, np.add(a, 1), a);
  const d = np.subtract(shifted, 1 / 3);
  const c = np.reciprocal(np.sqrt(np.multiply(9, d)));
  const keys = split(key, 2);
  const [proposalKey, boostKey] = [keys.slice(0), keys.slice(1)];
  const init = {
    round: scalar(0, "int32"),
    x: np.zeros(shape, dtype),
    done: np.zeros(shape, "bool"),
  };
  const allDone = (done: Array) => np.equal(np.sum(done.astype("int32")), done.size);
  const result = whileLoop(
    (s: typeof init) => np.logicalNot(allDone(s.done)),
    (s: typeof init) => {
      const roundKey = foldIn(proposalKey, s.round);
      const keys = split(roundKey, 2);
      const z = standardNormal(keys.slice(0), shape, dtype);
      const u = openUniform(keys.slice(1), shape, dtype);
      const v = np.power(np.add(1, np.multiply(c, z)), 3);
      const positive = np.greater(v, 0);
      const safeV = np.where(positive, v, 1);
      const bound = np.add(
        np.multiply(0.5, np.square(z)),
        np.add(np.subtract(d, np.multiply(d, safeV)), np.multiply(d, log(safeV))),
      );
      const accept = np.logicalAnd(positive, np.less(log(u), bound));
      const take = np.logicalAnd(accept, np.logicalNot(s.done));
      return {
        round: np.add(s.round, 1),
        x: np.where(take, np.multiply(d, safeV), s.x),
        done: np.logicalOr(s.done, accept),
      };
    },
    init,
  ) as typeof init;
  // a < 1: x = y u^(1/a), computed as exp(log y + log(u) / a)
  const u = openUniform(boostKey, shape, dtype);
  const logY = log(result.x);
  const boosted = np.add(logY, np.divide(log(u), a));
  return {
    x: np.where(boost, exp(boosted), result.x),
    logX: np.where(boost, boosted, logY),
  };
}

/** dx/da = -(dP/da)(x; a) / f(x; a) (see the module comment). */
function gammaSampleDa(x: Array, a: Array): Array {
  const logDensity = np.subtract(
    np.subtract(np.multiply(np.subtract(a, 1), log(x)), x),
    logGamma(a),
  );
  return np.negative(np.divide(gammaincLowerDa(a, x), exp(logDensity)));
}

/** Gamma(a, 1) samples differentiable in a (implicit reparameterisation). */
const gammaWithGrad: (a: Array, key: Array) => Array = customJvp(
  (a: Array, key: Array) => gammaSamples(key, np.stopGradient(a)).x,
  ([a, key], [da]) => {
    const x = gammaWithGrad(a, key);
    return [x, np.multiply(gammaSampleDa(x, a), da)];
  },
);

/**
 * The logarithms of Gamma(a, 1) samples (the same draws as gammaWithGrad),
 * differentiable in a: d log x / d a = (dx/da) / x. Where x itself
 * underflows to 0 the value stays finite but the derivative is NaN.
 */
const logGammaWithGrad: (a: Array, key: Array) => Array = customJvp(
  (a: Array, key: Array) => gammaSamples(key, np.stopGradient(a)).logX,
  ([a, key], [da]) => {
    const logX = logGammaWithGrad(a, key);
    const x = exp(logX);
    return [logX, np.multiply(np.divide(gammaSampleDa(x, a), x), da)];
  },
);

/** The float dtype of a sampler's parameter (dtype option, else the parameter's, else float64). */
function dtypeOf(fn: string, opt: DtypeOptions, p: ArrayLike): FloatDType {
  return floatDtype(
    fn,
    opt.dtype ?? (p instanceof Array && isFloat(p.dtype) ? p.dtype : undefined),
  );
}

/**
 * Gamma(a, 1) samples (shape a, unit scale), as `jax.random.gamma`; divide
 * by a rate for other scales. a broadcasts to `shape` (default: a's shape).
 * Differentiable in a by implicit reparameterisation (see the module
 * comment); E[d x/d a] = d E[x]/d a = 1.
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const x = random.gamma(random.key(0), 2.5, [4]);
 * ```
 */
export function gamma(
  key: ArrayLike,
  a: ArrayLike,
  shape?: ShapeArg,
  opts: DtypeOptions = {},
): Array {
  checkOptions("gamma", opts, ["dtype"]);
  const k = checkKey("gamma", key);
  const dtype = dtypeOf("gamma", opts, a);
  const alpha = param("gamma", "a", a, dtype);
  const dims = sampleShape("gamma", shape, [{ name: "a", value: alpha }]);
  return gammaWithGrad(np.broadcastTo(alpha, dims), k);
}

/**
 * Beta(a, b) samples, as `jax.random.beta`: x / (x + y) with x, y
 * independent Gamma(a), Gamma(b) samples, from their logarithms (so tiny
 * shapes, whose gamma draws underflow, still give samples). Differentiable
 * in a and b through the gamma samples' implicit gradients.
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const p = random.beta(random.key(0), 2, 5, [3]);
 * ```
 */
export function beta(
  key: ArrayLike,
  a: ArrayLike,
  b: ArrayLike,
  shape?: ShapeArg,
  opts: DtypeOptions = {},
): Array {
  checkOptions("beta", opts, ["dtype"]);
  const k = checkKey("beta", key);
  const dtype = dtypeOf("beta", opts, a);
  const pa = param("beta", "a", a, dtype);
  const pb = param("beta", "b", b, dtype);
  const dims = sampleShape("beta", shape, [
    { name: "a", value: pa },
    { name: "b", value: pb },
  ]);
  const keys = split(k, 2);
  const logX = logGammaWithGrad(np.broadcastTo(pa, dims), keys.slice(0));
  const logY = logGammaWithGrad(np.broadcastTo(pb, dims), keys.slice(1));
  // x / (x + y) = 1 / (1 + exp(log y - log x)): no 0/0 where both underflow
  return np.reciprocal(np.add(1, exp(np.subtract(logY, logX))));
}

/**
 * Dirichlet(alpha) samples, as `jax.random.dirichlet`: alpha has shape
 * [..., k]; the samples have shape [...shape, k] (shape defaulting to
 * alpha's batch shape) and sum to 1 along the last axis. Normalised gamma
 * samples (from their logarithms, so tiny concentrations still give
 * samples), differentiable in alpha through their implicit gradients.
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const w = random.dirichlet(random.key(0), [1, 2, 3], [5]); // [5, 3]
 * ```
 */
export function dirichlet(
  key: ArrayLike,
  alpha: ArrayLike,
  shape?: ShapeArg,
  opts: DtypeOptions = {},
): Array {
  checkOptions("dirichlet", opts, ["dtype"]);
  const k = checkKey("dirichlet", key);
  const dtype = dtypeOf("dirichlet", opts, alpha);
  const conc = param("dirichlet", "alpha", alpha, dtype);
  if (conc.ndim < 1) {
    throw new ShapeError(
      `random.dirichlet: alpha must have shape [..., k] (one concentration per category), ` +
        `got shape ${fmtShape(conc.shape)}; e.g. [1, 1, 1]`,
    );
  }
  const kk = conc.shape[conc.ndim - 1]!;
  const batch = sampleShape("dirichlet", shape, [
    { name: "alpha[..., 0]", value: np.zeros(conc.shape.slice(0, -1)) },
  ]);
  // normalised in log space (a softmax of the log-gamma draws): no 0/0 where all underflow
  const logG = logGammaWithGrad(np.broadcastTo(conc, [...batch, kk]), k);
  const shifted = np.subtract(logG, np.stopGradient(np.max(logG, -1, { keepdims: true })));
  const g = exp(shifted);
  return np.divide(g, np.sum(g, -1, { keepdims: true }));
}
