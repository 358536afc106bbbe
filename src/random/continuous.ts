/**
 * Continuous samplers: uniform and normal, as `jax.random`. Each is a
 * function of the key through array operations only (threefry over the
 * whole array of counters, then an exact bits-to-float step and the
 * distribution's transform), run through an internal jit per (size, dtype)
 * so that an eager call is one fused loop, and traced inline under an outer
 * jit, vmap or grad like any other jitted function.
 *
 * Reparameterised gradients: the samples are differentiable functions of
 * their float parameters (uniform: minval + u (maxval - minval)), so grad
 * flows through the parameters as in JAX; the key has no derivative.
 */
import { Array, type ArrayLike } from "../core/array.js";
import { fromData } from "../core/convert.js";
import type { DType } from "../core/dtype.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import { broadcastShapes, shapeSize, shapesEqual } from "../core/shape.js";
import { jit } from "../jit/jit.js";
import * as np from "../numpy/index.js";
import { unitInterval } from "./bits.js";
import { checkKey, checkShape, hashCounters, iota, type ShapeArg } from "./keys.js";

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
 * sqrt(-2 log(1 - u1)) (1 - u1 is in (0, 1], so the log is finite) and the
 * angle 2 pi u2 give a standard normal r cos(angle). float32 takes u1 and
 * u2 from the two words of one hash (23 bits each); float64 takes 52 bits
 * for each, from the hashes of the counters (0, i) and (1, i).
 */
const normalFlat = jit(
  (key: Array, counters: Array, dtype: FloatDType): Array => {
    const [y0, y1] = hashCounters(key, counters);
    let u1: Array;
    let u2: Array;
    if (dtype === "float32") {
      const zero = np.zerosLike(y0);
      u1 = unitInterval(y0, zero, dtype);
      u2 = unitInterval(y1, zero, dtype);
    } else {
      const [z0, z1] = hashCounters(key, counters, 1);
      u1 = unitInterval(y0, y1, dtype);
      u2 = unitInterval(z0, z1, dtype);
    }
    const radius = np.sqrt(np.multiply(-2, np.log(np.subtract(1, u1))));
    return np.multiply(radius, np.cos(np.multiply(2 * Math.PI, u2)));
  },
  { staticArgnums: [2] },
);

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
  const k = checkKey("normal", key);
  const dtype = floatDtype("normal", opts.dtype);
  return standardNormal(k, checkShape("normal", shape), dtype);
}
