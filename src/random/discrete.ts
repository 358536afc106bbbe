/**
 * Discrete samplers, as `jax.random`: their samples are bool or int32 and
 * have no pathwise derivative. As in JAX, gradients with respect to their
 * float parameters are zero (the comparison that makes a Bernoulli sample
 * has a zero derivative); for derivatives of expectations use the
 * `stochastic` estimators.
 *
 * While a `stochastic.grad` estimator runs, bernoulli, binomial, poisson and
 * categorical hand their uniforms and parameters to its draw handler
 * (src/stochastic/draws.ts), which samples by inversion of the CDF (the
 * same distributions, coupled across parameter values) and records what the
 * estimator needs.
 */
import { Array, type ArrayLike } from "../core/array.js";
import { fromData, scalar } from "../core/convert.js";
import { type DType, isFloat } from "../core/dtype.js";
import { DTypeError, InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { portableLog as log } from "../primitives/portableMath.js";
import * as np from "../numpy/index.js";
import { whileLoop } from "../lax/loops.js";
import { floatDtype, gumbel, param, sampleShape, unitUniform } from "./continuous.js";
import { checkKey, checkShape, foldIn, split, type ShapeArg, checkOptions } from "./keys.js";
import { logGamma } from "./special.js";
import { activeDrawHandler } from "../stochastic/draws.js";

/**
 * Bernoulli samples (bool): true with probability p, as
 * `jax.random.bernoulli` (u < p with u uniform on [0, 1) of p's float
 * dtype, float64 for JS numbers). p broadcasts to `shape`; without a shape
 * the samples take p's shape.
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const coins = random.bernoulli(random.key(0), 0.3, [10]); // bool [10]
 * ```
 */
export function bernoulli(key: ArrayLike, p: ArrayLike = 0.5, shape?: ShapeArg): Array {
  const k = checkKey("bernoulli", key);
  const dtype = floatDtype("bernoulli", p instanceof Array ? p.dtype : undefined);
  const prob = param("bernoulli", "p", p, dtype);
  const dims = sampleShape("bernoulli", shape, [{ name: "p", value: prob }]);
  const handler = activeDrawHandler();
  if (handler !== null) {
    const u = unitUniform(k, dims, dtype);
    return handler.draw({ kind: "bernoulli", p: np.broadcastTo(prob, dims), u });
  }
  return np.less(unitUniform(k, dims, dtype), prob);
}

/** Options of samplers of integers. */
export interface IntOptions {
  /** int32 (the only integer dtype). */
  dtype?: DType;
}

function intDtype(fn: string, dtype: DType | undefined): "int32" {
  if (dtype !== undefined && dtype !== "int32") {
    throw new DTypeError(
      `random.${fn}: samples are integers, got dtype ${String(dtype)}; use "int32" ` +
        `(and x.astype("float64") afterwards if floats are needed)`,
    );
  }
  return "int32";
}

/** An integer parameter of `fn` as a float64 array (exact for int32 values). */
function intParam(fn: string, name: string, x: ArrayLike): Array {
  const a = x instanceof Array ? x : fromData(x, `random.${fn}: argument ${name}`);
  if (a.dtype === "bool") throw new DTypeError(`random.${fn}: ${name} must be integers, got bool`);
  return a.astype("float64");
}

/**
 * Uniform integers in [minval, maxval), as `jax.random.randint`: floor of
 * minval + u (maxval - minval) with u uniform on a 2^-52 grid in [0, 1) (each
 * value's probability is 1/(maxval - minval) within a relative
 * (maxval - minval) 2^-52). minval and maxval broadcast to `shape`;
 * where maxval <= minval the result is minval.
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const dice = random.randint(random.key(0), [10], 1, 7); // int32 in 1..6
 * ```
 */
export function randint(
  key: ArrayLike,
  shape: ShapeArg,
  minval: ArrayLike,
  maxval: ArrayLike,
  opts: IntOptions = {},
): Array {
  checkOptions("randint", opts, ["dtype"]);
  const k = checkKey("randint", key);
  intDtype("randint", opts.dtype);
  const lo = np.floor(intParam("randint", "minval", minval));
  const hi = np.floor(intParam("randint", "maxval", maxval));
  const dims = sampleShape("randint", shape, [
    { name: "minval", value: lo },
    { name: "maxval", value: hi },
  ]);
  const span = np.maximum(np.subtract(hi, lo), 1);
  const offset = np.minimum(
    np.floor(np.multiply(unitUniform(k, dims, "float64"), span)),
    np.subtract(span, 1),
  );
  return np.broadcastTo(np.add(lo, offset), dims).astype("int32");
}

/** Options of random.categorical. */
export interface CategoricalOptions {
  /** The axis of the categories in logits (default -1). */
  axis?: number;
}

/**
 * Samples of categories (int32 indices) with probabilities softmax(logits)
 * along `axis`, as `jax.random.categorical`: argmax(logits + Gumbel noise)
 * (the Gumbel-max trick). Without a shape the samples take logits' shape
 * without the axis; a shape must end with (broadcast from) that batch shape.
 *
 * @example
 * ```ts
 * import { np, random } from "chainrule";
 * const logits = np.log(np.array([0.2, 0.3, 0.5]));
 * const draws = random.categorical(random.key(0), logits, [100]); // int32 in 0..2
 * ```
 */
export function categorical(
  key: ArrayLike,
  logits: ArrayLike,
  shape?: ShapeArg,
  opts: CategoricalOptions = {},
): Array {
  checkOptions("categorical", opts, ["axis"]);
  const fn = "categorical";
  const k = checkKey(fn, key);
  const dtype = floatDtype(
    fn,
    logits instanceof Array && isFloat(logits.dtype) ? logits.dtype : undefined,
  );
  const l = param(fn, "logits", logits, dtype);
  if (l.ndim < 1) {
    throw new ShapeError(
      `random.${fn}: logits must have at least one axis (the categories), got a 0-d array`,
    );
  }
  const axis = opts.axis ?? -1;
  if (!Number.isInteger(axis) || axis < -l.ndim || axis >= l.ndim) {
    throw new InvalidArgumentError(
      `random.${fn}: axis ${axis} is out of range for logits of shape ${fmtShape(l.shape)}`,
    );
  }
  const last = np.moveaxis(l, axis, -1);
  const n = last.shape[last.ndim - 1]!;
  const batch = sampleShape(fn, shape, [
    { name: "logits (without the axis)", value: np.zeros(last.shape.slice(0, -1)) },
  ]);
  const handler = activeDrawHandler();
  if (handler !== null) {
    const u = unitUniform(k, batch, dtype);
    return handler.draw({ kind: "categorical", logits: np.broadcastTo(last, [...batch, n]), u });
  }
  const g = gumbel(k, [...batch, n], { dtype });
  return np.argmax(np.add(g, last), -1);
}

/** Options of random.permutation. */
export interface PermutationOptions {
  /** The axis of x to shuffle (default 0). */
  axis?: number;
}

/** A random permutation of 0 .. n - 1 (int32): argsort of n uniform floats (ties have probability ~n^2 2^-53). */
function permutationIndices(key: Array, n: number): Array {
  return np.argsort(unitUniform(key, [n], "float64"));
}

/**
 * A random permutation, as `jax.random.permutation`: of 0 .. x - 1 (int32)
 * for an integer x, or of x's entries along `axis` for an array (the
 * shuffle is differentiable in x: a gather).
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const order = random.permutation(random.key(0), 5); // e.g. [3, 0, 4, 1, 2]
 * ```
 */
export function permutation(
  key: ArrayLike,
  x: number | ArrayLike,
  opts: PermutationOptions = {},
): Array {
  checkOptions("permutation", opts, ["axis"]);
  const k = checkKey("permutation", key);
  if (typeof x === "number") {
    if (!Number.isInteger(x) || x < 0) {
      throw new InvalidArgumentError(
        `random.permutation: expected a non-negative integer or an array, got ${x}`,
      );
    }
    return permutationIndices(k, x);
  }
  const a = x instanceof Array ? x : fromData(x, "random.permutation: argument x");
  if (a.ndim === 0) {
    throw new ShapeError(
      `random.permutation: x must have at least one axis, got a 0-d array; pass an integer n for 0..n-1`,
    );
  }
  const axis = opts.axis ?? 0;
  const ax = axis < 0 ? axis + a.ndim : axis;
  if (!Number.isInteger(axis) || ax < 0 || ax >= a.ndim) {
    throw new InvalidArgumentError(
      `random.permutation: axis ${axis} is out of range for shape ${fmtShape(a.shape)}`,
    );
  }
  return np.take(a, permutationIndices(k, a.shape[ax]!), ax);
}

/** Options of random.choice. */
export interface ChoiceOptions {
  /** With replacement (default true). */
  replace?: boolean;
  /** Probabilities of the entries (default uniform), shape [n]. */
  p?: ArrayLike;
  /** The axis of a to choose along (default 0). */
  axis?: number;
}

/**
 * Random entries of a (or of 0 .. a - 1 for an integer a), as
 * `jax.random.choice`: `shape` draws along `axis`, with replacement or
 * without, uniform or with probabilities p. With p and replacement: the
 * Gumbel-max trick on log p; without replacement: the indices of the
 * largest log p + Gumbel keys (Gumbel-top-k; a permutation when p is
 * uniform).
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const picks = random.choice(random.key(0), 10, [3], { replace: false });
 * ```
 */
export function choice(
  key: ArrayLike,
  a: number | ArrayLike,
  shape: ShapeArg = [],
  opts: ChoiceOptions = {},
): Array {
  checkOptions("choice", opts, ["replace", "p", "axis"]);
  const fn = "choice";
  const k = checkKey(fn, key);
  const dims = checkShape(fn, shape);
  const count = dims.reduce((s, d) => s * d, 1);
  let source: Array | null = null;
  let n: number;
  const axis = opts.axis ?? 0;
  if (typeof a === "number") {
    if (!Number.isInteger(a) || a < 0) {
      throw new InvalidArgumentError(
        `random.${fn}: expected a non-negative integer or an array, got ${a}`,
      );
    }
    n = a;
  } else {
    source = a instanceof Array ? a : fromData(a, `random.${fn}: argument a`);
    if (source.ndim === 0) {
      throw new ShapeError(
        `random.${fn}: a must have at least one axis, got a 0-d array; pass an integer n for 0..n-1`,
      );
    }
    const ax = axis < 0 ? axis + source.ndim : axis;
    if (ax < 0 || ax >= source.ndim) {
      throw new InvalidArgumentError(
        `random.${fn}: axis ${axis} is out of range for shape ${fmtShape(source.shape)}`,
      );
    }
    n = source.shape[ax]!;
  }
  const replace = opts.replace ?? true;
  if (n === 0 && count > 0) {
    throw new InvalidArgumentError(
      `random.${fn}: cannot choose ${count} entries from an empty set`,
    );
  }
  if (!replace && count > n) {
    throw new InvalidArgumentError(
      `random.${fn}: cannot take ${count} entries (shape ${fmtShape(dims)}) without replacement from ${n}; ` +
        `use a smaller shape or { replace: true }`,
    );
  }
  let logp: Array | null = null;
  if (opts.p !== undefined) {
    const p = param(fn, "p", opts.p, "float64");
    if (p.ndim !== 1 || p.shape[0] !== n) {
      throw new ShapeError(
        `random.${fn}: p must have shape [${n}] (one probability per entry), got ${fmtShape(p.shape)}`,
      );
    }
    logp = log(p);
  }
  let flat: Array;
  if (replace) {
    flat = logp === null ? randint(k, [count], 0, n) : categorical(k, logp, [count]);
  } else {
    const keysToSort =
      logp === null ? unitUniform(k, [n], "float64") : np.add(logp, gumbel(k, [n]));
    // the count largest keys: argsort of the negated keys, first count
    flat = np.argsort(np.negative(keysToSort)).slice([0, count]);
  }
  const idx = flat.reshape(dims);
  if (source === null) return idx;
  return np.take(source, idx, axis);
}

/** The state of a vectorised rejection or counting loop: one round per pass over all elements. */
interface LoopState {
  round: Array;
  value: Array;
  done: Array;
}
const notAllDone = (s: LoopState) => np.less(np.sum(s.done.astype("int32")), s.done.size);

/** Loops `step` (given the round's key and the state) until every element is done. */
function untilDone(
  key: Array,
  init: { value: Array; done: Array },
  step: (roundKey: Array, s: LoopState) => { value: Array; done: Array },
): Array {
  const start: LoopState = { round: scalar(0, "int32"), ...init };
  const out = whileLoop(
    notAllDone,
    (s: LoopState) => ({ round: np.add(s.round, 1), ...step(foldIn(key, s.round), s) }),
    start,
  ) as LoopState;
  return out.value;
}

/**
 * Hörmann's transformed rejection with squeeze (PTRS, "The transformed
 * rejection method for generating Poisson random variables", 1993), for
 * rates >= 10; elements already done (or with small rates) pass through.
 */
function poissonPtrs(key: Array, lam: Array, skip: Array): Array {
  const rate = np.where(skip, 10, lam);
  const slam = np.sqrt(rate);
  const logLam = log(rate);
  const b = np.add(0.931, np.multiply(2.53, slam));
  const a = np.add(-0.059, np.multiply(0.02483, b));
  const invAlpha = np.add(1.1239, np.divide(1.1328, np.subtract(b, 3.4)));
  const vr = np.subtract(0.9277, np.divide(3.6224, np.subtract(b, 2)));
  return untilDone(key, { value: np.zerosLike(rate), done: skip }, (roundKey, s) => {
    const keys = split(roundKey, 2);
    const u = np.subtract(unitUniform(keys.slice(0), rate.shape, "float64"), 0.5);
    const v = openUnit(keys.slice(1), rate.shape);
    const us = np.subtract(0.5, np.abs(u));
    const k = np.floor(
      np.add(np.multiply(np.add(np.divide(np.multiply(2, a), us), b), u), np.add(rate, 0.43)),
    );
    const quick = np.logicalAnd(np.greaterEqual(us, 0.07), np.lessEqual(v, vr));
    const reject = np.logicalOr(
      np.less(k, 0),
      np.logicalAnd(np.less(us, 0.013), np.greater(v, us)),
    );
    const lhs = np.add(
      log(v),
      np.subtract(log(invAlpha), log(np.add(np.divide(a, np.square(us)), b))),
    );
    const safeK = np.maximum(k, 0);
    const rhs = np.subtract(
      np.add(np.negative(rate), np.multiply(safeK, logLam)),
      logGamma(np.add(safeK, 1)),
    );
    const accept = np.logicalOr(
      quick,
      np.logicalAnd(np.logicalNot(reject), np.lessEqual(lhs, rhs)),
    );
    const take = np.logicalAnd(accept, np.logicalNot(s.done));
    return { value: np.where(take, k, s.value), done: np.logicalOr(s.done, accept) };
  });
}

/** Uniform samples on (0, 1), float64 (log-safe). */
function openUnit(key: Array, shape: readonly number[]): Array {
  return np.add(unitUniform(key, shape, "float64"), 2 ** -53);
}

/**
 * Knuth's counting method for small rates: the number of uniforms whose
 * running product stays above e^-lam (in log space: sums of log u above
 * -lam); elements already done pass through.
 */
function poissonKnuth(key: Array, lam: Array, skip: Array): Array {
  const rate = np.where(skip, 0, lam);
  const init = { value: np.zerosLike(rate), done: skip, logProduct: np.zerosLike(rate) };
  const out = whileLoop(
    (s: LoopState & { logProduct: Array }) => notAllDone(s),
    (s: LoopState & { logProduct: Array }) => {
      const u = openUnit(foldIn(key, s.round), rate.shape);
      const next = np.add(s.logProduct, log(u));
      const stop = np.logicalAnd(np.lessEqual(next, np.negative(rate)), np.logicalNot(s.done));
      const active = np.logicalNot(np.logicalOr(s.done, stop));
      return {
        round: np.add(s.round, 1),
        value: np.where(active, np.add(s.value, 1), s.value),
        done: np.logicalOr(s.done, stop),
        logProduct: next,
      };
    },
    { round: scalar(0, "int32"), ...init },
  ) as LoopState;
  return out.value;
}

/**
 * Poisson samples (int32) with rate lam, as `jax.random.poisson`: Knuth's
 * counting method for lam < 10 and Hörmann's transformed rejection (PTRS)
 * for lam >= 10, both vectorised (every element advances each round, in
 * lax.whileLoop until all are done). lam broadcasts to `shape` (default:
 * lam's shape). No derivative in lam (integer samples; JAX gives zero).
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const counts = random.poisson(random.key(0), 3.5, [10]);
 * ```
 */
export function poisson(
  key: ArrayLike,
  lam: ArrayLike,
  shape?: ShapeArg,
  opts: IntOptions = {},
): Array {
  checkOptions("poisson", opts, ["dtype"]);
  const k = checkKey("poisson", key);
  intDtype("poisson", opts.dtype);
  const lamParam = param("poisson", "lam", lam, "float64");
  const rate = np.stopGradient(lamParam);
  const dims = sampleShape("poisson", shape, [{ name: "lam", value: rate }]);
  const handler = activeDrawHandler();
  if (handler !== null) {
    const u = unitUniform(k, dims, "float64");
    return handler.draw({ kind: "poisson", rate: np.broadcastTo(lamParam, dims), u });
  }
  const r = np.broadcastTo(rate, dims);
  const small = np.less(r, 10);
  const keys = split(k, 2);
  const knuth = poissonKnuth(keys.slice(0), r, np.logicalNot(small));
  const ptrs = poissonPtrs(keys.slice(1), r, small);
  return np.where(small, knuth, ptrs).astype("int32");
}

/**
 * Hörmann's BTRS ("The generation of binomial random variables", 1993) for
 * n p >= 10 with p <= 1/2; elements already done pass through.
 */
function binomialBtrs(key: Array, count: Array, prob: Array, skip: Array): Array {
  const n = np.where(skip, 100, count);
  const p = np.where(skip, 0.25, prob);
  const q = np.subtract(1, p);
  const spq = np.sqrt(np.multiply(n, np.multiply(p, q)));
  const b = np.add(1.15, np.multiply(2.53, spq));
  const a = np.add(np.add(-0.0873, np.multiply(0.0248, b)), np.multiply(0.01, p));
  const c = np.add(np.multiply(n, p), 0.5);
  const vr = np.subtract(0.92, np.divide(4.2, b));
  const alpha = np.multiply(np.add(2.83, np.divide(5.1, b)), spq);
  const lpq = log(np.divide(p, q));
  const m = np.floor(np.multiply(np.add(n, 1), p));
  const h = np.add(logGamma(np.add(m, 1)), logGamma(np.add(np.subtract(n, m), 1)));
  return untilDone(key, { value: np.zerosLike(n), done: skip }, (roundKey, s) => {
    const keys = split(roundKey, 2);
    const u = np.subtract(unitUniform(keys.slice(0), n.shape, "float64"), 0.5);
    const v = openUnit(keys.slice(1), n.shape);
    const us = np.subtract(0.5, np.abs(u));
    const k = np.floor(np.add(np.multiply(np.add(np.divide(np.multiply(2, a), us), b), u), c));
    const quick = np.logicalAnd(np.greaterEqual(us, 0.07), np.lessEqual(v, vr));
    const inRange = np.logicalAnd(np.greaterEqual(k, 0), np.lessEqual(k, n));
    const safeK = np.clip(k, 0, n);
    const lhs = log(np.divide(np.multiply(v, alpha), np.add(np.divide(a, np.square(us)), b)));
    const rhs = np.add(
      np.subtract(
        np.subtract(h, logGamma(np.add(safeK, 1))),
        logGamma(np.add(np.subtract(n, safeK), 1)),
      ),
      np.multiply(np.subtract(safeK, m), lpq),
    );
    const accept = np.logicalOr(quick, np.logicalAnd(inRange, np.lessEqual(lhs, rhs)));
    const take = np.logicalAnd(accept, np.logicalNot(s.done));
    return { value: np.where(take, k, s.value), done: np.logicalOr(s.done, accept) };
  });
}

/**
 * Counting by geometric waiting times (Devroye's second waiting-time
 * method) for n p < 10: successes are the number of Geometric(p) gaps,
 * ceil(log u / log(1 - p)), that fit in n trials; elements already done pass through.
 */
function binomialWaiting(key: Array, count: Array, prob: Array, skip: Array): Array {
  const n = np.where(skip, 0, count);
  const logQ = np.log1p(np.negative(np.where(skip, 0.5, prob)));
  const out = whileLoop(
    (s: LoopState & { position: Array }) => notAllDone(s),
    (s: LoopState & { position: Array }) => {
      const u = openUnit(foldIn(key, s.round), n.shape);
      const position = np.add(s.position, np.ceil(np.divide(log(u), logQ)));
      const stop = np.logicalAnd(np.greater(position, n), np.logicalNot(s.done));
      const active = np.logicalNot(np.logicalOr(s.done, stop));
      return {
        round: np.add(s.round, 1),
        value: np.where(active, np.add(s.value, 1), s.value),
        done: np.logicalOr(s.done, stop),
        position,
      };
    },
    { round: scalar(0, "int32"), value: np.zerosLike(n), done: skip, position: np.zerosLike(n) },
  ) as LoopState;
  return out.value;
}

/**
 * Binomial samples (int32): successes in n trials of probability p, as
 * `jax.random.binomial` (which returns floats; chainrule's discrete
 * samplers return int32). Geometric waiting times when n min(p, 1 - p) < 10,
 * Hörmann's BTRS rejection otherwise, on min(p, 1 - p) and reflected
 * (n - k) where p > 1/2. n and p broadcast to `shape` (default: their
 * broadcast shape). No derivative in n or p.
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const heads = random.binomial(random.key(0), 20, 0.3, [5]);
 * ```
 */
export function binomial(
  key: ArrayLike,
  n: ArrayLike,
  p: ArrayLike,
  shape?: ShapeArg,
  opts: IntOptions = {},
): Array {
  checkOptions("binomial", opts, ["dtype"]);
  const fn = "binomial";
  const k = checkKey(fn, key);
  intDtype(fn, opts.dtype);
  const count = np.stopGradient(np.floor(intParam(fn, "n", n)));
  const probParam = param(fn, "p", p, "float64");
  const prob = np.stopGradient(probParam);
  const dims = sampleShape(fn, shape, [
    { name: "n", value: count },
    { name: "p", value: prob },
  ]);
  const handler = activeDrawHandler();
  if (handler !== null) {
    const u = unitUniform(k, dims, "float64");
    const trials = np.broadcastTo(np.maximum(count, 0), dims);
    return handler.draw({ kind: "binomial", n: trials, p: np.broadcastTo(probParam, dims), u });
  }
  const nn = np.broadcastTo(np.maximum(count, 0), dims);
  const pp = np.broadcastTo(np.clip(prob, 0, 1), dims);
  const flip = np.greater(pp, 0.5);
  const pm = np.where(flip, np.subtract(1, pp), pp);
  const trivial = np.logicalOr(np.equal(pm, 0), np.equal(nn, 0));
  const small = np.less(np.multiply(nn, pm), 10);
  const keys = split(k, 2);
  const waiting = binomialWaiting(
    keys.slice(0),
    nn,
    pm,
    np.logicalOr(trivial, np.logicalNot(small)),
  );
  const btrs = binomialBtrs(keys.slice(1), nn, pm, np.logicalOr(trivial, small));
  const successes = np.where(trivial, 0, np.where(small, waiting, btrs));
  return np.where(flip, np.subtract(nn, successes), successes).astype("int32");
}
