/**
 * Continuous samplers, as `jax.random`: uniform, normal, exponential,
 * gumbel, truncatedNormal and multivariateNormal (gamma, beta and
 * dirichlet are in gamma.ts), and the shared argument checks. Each is a
 * function of the key through array operations only (threefry over the
 * whole array of counters, then an exact bits-to-float step and the
 * distribution's transform), run through an internal jit per (size, dtype)
 * so that an eager call is one fused loop, and traced inline under an outer
 * jit, vmap or grad like any other jitted function.
 *
 * Reparameterised gradients: the samples are differentiable functions of
 * their float parameters (uniform: minval + u (maxval - minval); truncated
 * normal through erf and erfinv; multivariate normal through Cholesky), so
 * grad flows through the parameters as in JAX; the key has no derivative.
 * Transcendentals are the portable ones (primitives/portableMath.ts), so
 * the numbers do not depend on the backend or on batching.
 */
import { Array, type ArrayLike } from "../core/array.js";
import { fromData } from "../core/convert.js";
import { type DType, isFloat } from "../core/dtype.js";
import { DTypeError, InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { broadcastShapes, shapeSize, shapesEqual } from "../core/shape.js";
import { jit } from "../jit/jit.js";
import {
  portableCos as cos,
  portableLog as log,
  portableSin as sin,
} from "../primitives/portableMath.js";
import * as np from "../numpy/index.js";
import { unitInterval } from "./bits.js";
import { checkKey, checkShape, hashCounters, iota, type ShapeArg, checkOptions } from "./keys.js";
import { erfinv } from "./special.js";

/** A float dtype of random samples. */
export type FloatDType = "float32" | "float64";

/** The float dtype asked of random function `fn` (default float64), checked. */
export function floatDtype(fn: string, dtype: DType | undefined): FloatDType {
  const d = dtype ?? "float64";
  if (d !== "float32" && d !== "float64") {
    throw new DTypeError(
      `random.${fn}: samples are floats, got dtype ${String(d)}; use "float32" or "float64"` +
        (d === "int32" ? " (random.randint draws integers)" : ""),
    );
  }
  return d;
}

/** A parameter of random function `fn` as an Array of `dtype` (JS numbers adopt it). */
export function param(fn: string, name: string, x: ArrayLike, dtype: FloatDType): Array {
  const a = x instanceof Array ? x : fromData(x, `random.${fn}: argument ${name}`);
  if (a.dtype === "bool") {
    throw new DTypeError(`random.${fn}: ${name} must be a number or a float array, got bool`);
  }
  return a.dtype === dtype ? a : a.astype(dtype);
}

/**
 * The sample shape: `shape` if given (every parameter must broadcast to it),
 * else the parameters' broadcast shape (as jax.random).
 */
export function sampleShape(
  fn: string,
  shape: ShapeArg | undefined,
  params: readonly { name: string; value: Array }[],
): number[] {
  let common: readonly number[] = [];
  for (const p of params) {
    try {
      common = broadcastShapes(fn, common, p.value.shape);
    } catch {
      throw new ShapeError(
        `random.${fn}: the parameters do not broadcast together: ` +
          params.map((q) => `${q.name} ${fmtShape(q.value.shape)}`).join(", "),
      );
    }
  }
  if (shape === undefined) return [...common];
  const dims = checkShape(fn, shape);
  let fits: boolean;
  try {
    fits = shapesEqual(broadcastShapes(fn, dims, common), dims);
  } catch {
    fits = false;
  }
  if (!fits) {
    throw new ShapeError(
      `random.${fn}: the parameters (` +
        params.map((q) => `${q.name} ${fmtShape(q.value.shape)}`).join(", ") +
        `) do not broadcast to the requested shape ${fmtShape(dims)}; ` +
        `pass a shape they broadcast to, or leave shape out to use theirs`,
    );
  }
  return dims;
}

// One fused program per (size, dtype): the counters are an argument (not a
// constant baked into the cached program), the dtype a static argument.
const uniformFlat = jit(
  (key: Array, counters: Array, dtype: FloatDType): Array => {
    const [y0, y1] = hashCounters(key, counters);
    return unitInterval(y0, y1, dtype);
  },
  { staticArgnums: [2] },
);

/**
 * Box–Muller: with u1, u2 independent uniform on [0, 1), the radius
 * r = sqrt(-2 log(1 - u1)) (1 - u1 is in (0, 1], so the log is finite) and
 * the angle t = 2 pi u2 give two independent standard normals r cos t and
 * r sin t: samples 2j and 2j + 1 come from counter j (so the first k
 * samples still do not depend on how many are drawn). float32 takes u1 and
 * u2 from the two words of one hash (23 bits each) and computes the
 * transform in float64, rounding once at the end (more accurate, and
 * faster in JS than rounding every step); float64 takes 52 bits for each,
 * from the hashes of the counters (0, j) and (1, j).
 */
const normalPairs = jit(
  (key: Array, counters: Array, dtype: FloatDType): Array => {
    const [y0, y1] = hashCounters(key, counters);
    let u1: Array;
    let u2: Array;
    if (dtype === "float32") {
      // exact conversions: u1 and u2 are multiples of 2^-23
      u1 = unitInterval(y0, null, dtype).astype("float64");
      u2 = unitInterval(y1, null, dtype).astype("float64");
    } else {
      const [z0, z1] = hashCounters(key, counters, 1);
      u1 = unitInterval(y0, y1, dtype);
      u2 = unitInterval(z0, z1, dtype);
    }
    const radius = np.sqrt(np.multiply(-2, log(np.subtract(1, u1))));
    const angle = np.multiply(2 * Math.PI, u2);
    const even = np.multiply(radius, cos(angle)).astype(dtype);
    const odd = np.multiply(radius, sin(angle)).astype(dtype);
    return np.stack([even, odd], -1).reshape([2 * counters.size]);
  },
  { staticArgnums: [2] },
);

/** n standard normal samples: the pairs of ceil(n / 2) counters, the last one cut for odd n. */
function normalFlat(key: Array, counters: Array, dtype: FloatDType): Array {
  const n = counters.size;
  const pairs = normalPairs(key, iota(Math.ceil(n / 2)), dtype);
  return n % 2 === 0 ? pairs : pairs.slice([0, n]);
}

/** Standard samples of `shape` from a flat sampler. */
function draw(
  flat: (key: Array, counters: Array, dtype: FloatDType) => unknown,
  key: Array,
  shape: readonly number[],
  dtype: FloatDType,
): Array {
  return (flat(key, iota(shapeSize(shape)), dtype) as Array).reshape(shape);
}

/** Uniform samples on [0, 1) of `shape` (internal: no checks). */
export function unitUniform(key: Array, shape: readonly number[], dtype: FloatDType): Array {
  return draw(uniformFlat, key, shape, dtype);
}

/** Standard normal samples of `shape` (internal: no checks). */
export function standardNormal(key: Array, shape: readonly number[], dtype: FloatDType): Array {
  return draw(normalFlat, key, shape, dtype);
}

/** Options of random.uniform. */
export interface UniformOptions {
  /** float64 (default) or float32. */
  dtype?: DType;
  /** Lower bound (inclusive), broadcast to the shape; default 0. */
  minval?: ArrayLike;
  /** Upper bound (exclusive), broadcast to the shape; default 1. */
  maxval?: ArrayLike;
}

/**
 * Uniform samples on [minval, maxval), as `jax.random.uniform`:
 * minval + u (maxval - minval) with u on a grid of 2^-52 (float64) or
 * 2^-23 (float32) in [0, 1), and at least minval after rounding.
 * Differentiable in minval and maxval (d x/d minval = 1 - u, d x/d maxval = u).
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const u = random.uniform(random.key(0), [2, 3], { minval: -1, maxval: 1 });
 * ```
 */
export function uniform(key: ArrayLike, shape: ShapeArg = [], opts: UniformOptions = {}): Array {
  checkOptions("uniform", opts, ["dtype", "minval", "maxval"]);
  const k = checkKey("uniform", key);
  const dtype = floatDtype("uniform", opts.dtype);
  const minval = param("uniform", "minval", opts.minval ?? 0, dtype);
  const maxval = param("uniform", "maxval", opts.maxval ?? 1, dtype);
  const dims = sampleShape("uniform", shape, [
    { name: "minval", value: minval },
    { name: "maxval", value: maxval },
  ]);
  const u = unitUniform(k, dims, dtype);
  if (opts.minval === undefined && opts.maxval === undefined) return u;
  const x = np.add(np.multiply(u, np.subtract(maxval, minval)), minval);
  return np.broadcastTo(np.maximum(x, minval), dims);
}

/** Options of samplers that only choose a dtype. */
export interface DtypeOptions {
  /** float64 (default) or float32. */
  dtype?: DType;
}

/**
 * Standard normal samples, as `jax.random.normal` (Box–Muller from exact
 * uniforms; see the module comment). Scale and shift them for other means
 * and deviations: `mu + sigma * z` is differentiable in mu and sigma.
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const z = random.normal(random.key(1), [1000], { dtype: "float32" });
 * ```
 */
export function normal(key: ArrayLike, shape: ShapeArg = [], opts: DtypeOptions = {}): Array {
  checkOptions("normal", opts, ["dtype"]);
  const k = checkKey("normal", key);
  const dtype = floatDtype("normal", opts.dtype);
  return standardNormal(k, checkShape("normal", shape), dtype);
}

/** The half step of the uniform grid: 2^-24 (float32) or 2^-53 (float64). */
function halfStep(dtype: FloatDType): number {
  return dtype === "float32" ? 2 ** -24 : 2 ** -53;
}

/**
 * Uniform samples on the open interval (0, 1): the grid's midpoints
 * u + half a step (exact: (2m + 1) 2^-24 or 2^-53 fits the mantissa), so
 * log(u) and log(1 - u) are finite (internal: no checks).
 */
export function openUniform(key: Array, shape: readonly number[], dtype: FloatDType): Array {
  return np.add(unitUniform(key, shape, dtype), halfStep(dtype));
}

/**
 * Standard exponential samples (rate 1), as `jax.random.exponential`:
 * -log(u) with u uniform on (0, 1). Scale by 1/rate for other rates (differentiable).
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const waits = random.exponential(random.key(0), [5]);
 * ```
 */
export function exponential(key: ArrayLike, shape: ShapeArg = [], opts: DtypeOptions = {}): Array {
  checkOptions("exponential", opts, ["dtype"]);
  const k = checkKey("exponential", key);
  const dtype = floatDtype("exponential", opts.dtype);
  return np.negative(log(openUniform(k, checkShape("exponential", shape), dtype)));
}

/**
 * Standard Gumbel samples, as `jax.random.gumbel`: -log(-log(u)) with u
 * uniform on (0, 1). argmax(logits + gumbel) samples a categorical.
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const g = random.gumbel(random.key(0), [4]);
 * ```
 */
export function gumbel(key: ArrayLike, shape: ShapeArg = [], opts: DtypeOptions = {}): Array {
  checkOptions("gumbel", opts, ["dtype"]);
  const k = checkKey("gumbel", key);
  const dtype = floatDtype("gumbel", opts.dtype);
  const u = openUniform(k, checkShape("gumbel", shape), dtype);
  return np.negative(log(np.negative(log(u))));
}

/**
 * Standard normal samples truncated to [lower, upper], as
 * `jax.random.truncated_normal`: by the inverse CDF,
 * x = sqrt(2) erfinv(u) with u uniform between erf(lower/sqrt 2) and
 * erf(upper/sqrt 2), clipped into the interval. Differentiable in lower
 * and upper (pathwise through erf and erfinv). lower and upper broadcast
 * to `shape`; without a shape the samples take their broadcast shape.
 * (Far in one tail, |bounds| beyond about 5, erf's rounding near ±1 makes
 * the samples coarse, as in JAX.)
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const x = random.truncatedNormal(random.key(0), -1, 2, [100]);
 * ```
 */
export function truncatedNormal(
  key: ArrayLike,
  lower: ArrayLike,
  upper: ArrayLike,
  shape?: ShapeArg,
  opts: DtypeOptions = {},
): Array {
  checkOptions("truncatedNormal", opts, ["dtype"]);
  const k = checkKey("truncatedNormal", key);
  const dtype = floatDtype(
    "truncatedNormal",
    opts.dtype ?? (lower instanceof Array && isFloat(lower.dtype) ? lower.dtype : undefined),
  );
  const lo = param("truncatedNormal", "lower", lower, dtype);
  const hi = param("truncatedNormal", "upper", upper, dtype);
  const dims = sampleShape("truncatedNormal", shape, [
    { name: "lower", value: lo },
    { name: "upper", value: hi },
  ]);
  const a = np.erf(np.divide(lo, Math.SQRT2));
  const b = np.erf(np.divide(hi, Math.SQRT2));
  const u = np.add(a, np.multiply(openUniform(k, dims, dtype), np.subtract(b, a)));
  const x = np.multiply(Math.SQRT2, erfinv(u));
  return np.broadcastTo(np.clip(x, lo, hi), dims);
}

/** Options of random.multivariateNormal. */
export interface MultivariateNormalOptions extends DtypeOptions {
  /** How cov is factored: "cholesky" (the only one; cov must be positive definite). */
  method?: "cholesky";
}

/**
 * Multivariate normal samples, as `jax.random.multivariate_normal`:
 * mean + L z with cov = L L^T (Cholesky) and z standard normal. mean has
 * shape [..., n], cov [..., n, n]; the samples have shape [...shape, n],
 * with `shape` defaulting to the broadcast of their batch shapes.
 * Differentiable in mean and cov (through the Cholesky factor).
 *
 * @example
 * ```ts
 * import { np, random } from "chainrule";
 * const cov = np.array([[1, 0.5], [0.5, 2]]);
 * const x = random.multivariateNormal(random.key(0), np.zeros([2]), cov, [10]); // [10, 2]
 * ```
 */
export function multivariateNormal(
  key: ArrayLike,
  mean: ArrayLike,
  cov: ArrayLike,
  shape?: ShapeArg,
  opts: MultivariateNormalOptions = {},
): Array {
  checkOptions("multivariateNormal", opts, ["dtype", "method"]);
  const fn = "multivariateNormal";
  const k = checkKey(fn, key);
  if (opts.method !== undefined && opts.method !== "cholesky") {
    throw new InvalidArgumentError(
      `random.${fn}: unknown method ${JSON.stringify(opts.method)}; use "cholesky"`,
    );
  }
  const dtype = floatDtype(
    fn,
    opts.dtype ?? (mean instanceof Array && isFloat(mean.dtype) ? mean.dtype : undefined),
  );
  const mu = param(fn, "mean", mean, dtype);
  const sigma = param(fn, "cov", cov, dtype);
  const n = mu.shape[mu.ndim - 1];
  if (
    mu.ndim < 1 ||
    sigma.ndim < 2 ||
    sigma.shape[sigma.ndim - 1] !== n ||
    sigma.shape[sigma.ndim - 2] !== n
  ) {
    throw new ShapeError(
      `random.${fn}: mean must have shape [..., n] and cov [..., n, n], got mean ` +
        `${fmtShape(mu.shape)} and cov ${fmtShape(sigma.shape)}`,
    );
  }
  const batch = sampleShape(fn, shape, [
    { name: "mean[..., 0]", value: np.zeros(mu.shape.slice(0, -1)) },
    { name: "cov[..., 0, 0]", value: np.zeros(sigma.shape.slice(0, -2)) },
  ]);
  const factor = np.linalg.cholesky(sigma);
  const z = standardNormal(k, [...batch, n!], dtype);
  // (L z) for each batch element: z [..., n] as a column [..., n, 1]
  const lz = np.matmul(factor, np.expandDims(z, -1)).reshape([...batch, n!]);
  return np.add(mu, lz);
}
