/**
 * Random keys, JAX style: a key is an int32 array of shape [2] holding the
 * two 32-bit words of a Threefry-2x32 key (int32 because chainrule has no
 * uint32 dtype; the bits are what matter). `key(seed)` makes one, `split`
 * derives independent keys, `foldIn` mixes an integer into a key, and
 * `randomWords` turns a key into 32-bit words for a whole array of samples.
 *
 * Element i of an array of samples (row-major, flat index i) is made from
 * the Threefry-2x32 hash of the counter (0, i) under the key, as JAX does
 * with `jax_threefry_partitionable` (its default since 0.5): element i never
 * depends on the array's size, so the first k samples of a larger draw are
 * the k samples of a smaller one with the same key and shape prefix.
 * `split(key, n)` returns the n hashes of the counters (0, 0) .. (0, n - 1)
 * and `foldIn(key, d)` the hash of (high word of d, low word of d).
 *
 * Everything here is array operations on whole arrays of counters: the same
 * bits eagerly, under jit and under vmap (a vmap over a batch of keys gives
 * for each key what a loop over the keys gives).
 */
import { Array, type ArrayLike } from "../core/array.js";
import { describe, fromData, scalar } from "../core/convert.js";
import { DTypeError, InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { shapeSize } from "../core/shape.js";
import { ConcreteArray } from "../core/array.js";
import { shiftRightArithmetic } from "../primitives/bitwise.js";
import { concatenate, reshape, slice } from "../primitives/movement.js";
import { threefry2x32 } from "./threefry.js";

/** A shape argument: a list of dimensions, or one number for a 1-d shape. */
export type ShapeArg = readonly number[] | number;

/** The shape named by `shape` for random function `fn`, checked. */
export function checkShape(fn: string, shape: ShapeArg): number[] {
  const dims = typeof shape === "number" ? [shape] : [...shape];
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new InvalidArgumentError(
        `random.${fn}: the shape must be a list of non-negative integers, got ` +
          `${JSON.stringify(shape)}; e.g. [2, 3]`,
      );
    }
  }
  return dims;
}

/**
 * The options argument of random function `fn`: absent, or a plain object
 * with only the named keys. JAX passes dtype, minval and maxval
 * positionally (`uniform(key, shape, dtype, minval, maxval)`); written that
 * way here (`uniform(key, [3], -1, 1)`) they would be ignored without this
 * check, and so would a misspelt key (`{ min: -1 }`).
 */
export function checkOptions(fn: string, opts: unknown, allowed: readonly string[]): void {
  const form = `{ ${allowed.map((k) => `${k}?`).join(", ")} }`;
  if (opts === undefined) return;
  if (typeof opts !== "object" || opts === null || globalThis.Array.isArray(opts)) {
    throw new InvalidArgumentError(
      `random.${fn}: the argument after the shape is the options object ${form}, got ` +
        `${describe(opts)}; parameters go before the shape and options by name, e.g. ` +
        `random.uniform(key, [3], { minval: -1, maxval: 1 }), random.normal(key, [2, 3])`,
    );
  }
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) {
      throw new InvalidArgumentError(
        `random.${fn}: unknown option ${JSON.stringify(k)}; the options are ${form}`,
      );
    }
  }
}

/**
 * The key argument of random function `fn` as an int32 array of shape [2],
 * checked: a batch of keys belongs in vmap.
 */
export function checkKey(fn: string, key: ArrayLike): Array {
  const k = key instanceof Array ? key : fromData(key, `random.${fn}: argument key`, "int32");
  if (k.dtype !== "int32") {
    throw new DTypeError(
      `random.${fn}: a key is an int32 array of shape [2], got dtype ${k.dtype}; ` +
        `make one with random.key(seed)`,
    );
  }
  if (k.ndim !== 1 || k.shape[0] !== 2) {
    const batch =
      k.ndim >= 2 && k.shape[k.ndim - 1] === 2
        ? `; for a batch of keys map over them: vmap((k) => random.${fn}(k, ...))(keys)`
        : "; make one with random.key(seed) or random.split(key)";
    throw new ShapeError(
      `random.${fn}: expected one key, an int32 array of shape [2], got shape ` +
        `${fmtShape(k.shape)}${batch}`,
    );
  }
  return k;
}

/** The two words of a key of shape [2], each 0-d. */
export function keyWords(key: Array): [Array, Array] {
  return [reshape(slice(key, [0], [1]), []), reshape(slice(key, [1], [2]), [])];
}

/** The counters 0 .. n - 1 as an int32 array (the low words of the counters). */
export function iota(n: number): ConcreteArray {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return new ConcreteArray([n], "int32", out);
}

/**
 * The hashes (y0, y1) of the counters (stream, i) under `key`, for the
 * int32 array `counters` of low words i (iota(n) for n samples): 64 random
 * bits per element, shaped like `counters`. Samples use stream 0; a sampler
 * that needs more than 64 bits per element takes the next words from
 * stream 1 (the counters of elements 2^32 and on, which no array reaches).
 */
export function hashCounters(key: Array, counters: Array, stream = 0): [Array, Array] {
  const [k0, k1] = keyWords(key);
  return threefry2x32(k0, k1, scalar(stream, "int32"), counters);
}

/** The hashes (y0, y1) of the counters (stream, i), i = 0 .. size(shape) - 1, each of `shape`. */
export function randomWords(key: Array, shape: readonly number[], stream = 0): [Array, Array] {
  const [y0, y1] = hashCounters(key, iota(shapeSize(shape)), stream);
  return [reshape(y0, shape), reshape(y1, shape)];
}

/** The 64-bit two's-complement words (high, low) of a safe integer, each as int32. */
function splitInteger(fn: string, value: number): [number, number] {
  if (!Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(
      `random.${fn}: expected an integer (at most 2^53 in magnitude), got ${value}; ` +
        `round it first, e.g. Math.floor(x)`,
    );
  }
  const high = Math.floor(value / 2 ** 32);
  return [high | 0, (value - high * 2 ** 32) | 0];
}

/** The words (high, low) of an integer seed or datum: a JS integer or a 0-d int32 array. */
function integerWords(fn: string, what: string, value: number | Array): [Array, Array] {
  if (typeof value === "number") {
    const [high, low] = splitInteger(fn, value);
    return [scalar(high, "int32"), scalar(low, "int32")];
  }
  if (!(value instanceof Array) || value.dtype !== "int32" || value.ndim !== 0) {
    const got =
      value instanceof Array ? `${value.dtype} of shape ${fmtShape(value.shape)}` : typeof value;
    throw new InvalidArgumentError(
      `random.${fn}: ${what} must be an integer or a 0-d int32 array, got ${got}; ` +
        `e.g. random.${fn === "key" ? "key(0)" : "foldIn(key, 3)"}`,
    );
  }
  // An int32 sign-extends to 64 bits: the high word is all sign bits.
  return [shiftRightArithmetic(value, scalar(31, "int32")), value];
}

/**
 * A random key from an integer seed: an int32 array of shape [2] holding the
 * seed's 64-bit two's-complement words (high, low), as `jax.random.key`.
 * The seed may be a JS integer (|seed| <= 2^53) or a 0-d int32 array (also
 * traced, under jit).
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const k = random.key(42); // int32 [0, 42]
 * const x = random.normal(k, [3]); // three standard normal samples
 * ```
 */
export function key(seed: number | Array): Array {
  const [high, low] = integerWords("key", "the seed", seed);
  return concatenate([reshape(high, [1]), reshape(low, [1])], 0);
}

/**
 * Derives `num` new keys from a key (`num` a count or a shape): an int32
 * array of shape [num, 2] (or [...shape, 2]). The new keys are independent
 * of each other and of the key's own draws, as `jax.random.split`; use one
 * key for each draw and never draw twice from the same key.
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const keys = random.split(random.key(0), 3); // shape [3, 2]
 * const [a, b] = [keys.slice(0), keys.slice(1)];
 * ```
 */
export function split(key: ArrayLike, num: ShapeArg = 2): Array {
  const k = checkKey("split", key);
  const shape = checkShape("split", num);
  const [y0, y1] = randomWords(k, shape);
  const column = [...shape, 1];
  return concatenate([reshape(y0, column), reshape(y1, column)], shape.length);
}

/**
 * A new key from a key and an integer (a JS integer or a 0-d int32 array,
 * also traced): the Threefry hash of the integer's words under the key, as
 * `jax.random.fold_in`. Distinct integers give independent keys, e.g. one
 * per step of a loop.
 *
 * @example
 * ```ts
 * import { random } from "chainrule";
 * const k = random.key(0);
 * const perStep = [0, 1, 2].map((t) => random.uniform(random.foldIn(k, t)));
 * ```
 */
export function foldIn(key: ArrayLike, data: number | Array): Array {
  const k = checkKey("foldIn", key);
  const [high, low] = integerWords("foldIn", "the datum", data);
  const [k0, k1] = keyWords(k);
  const [y0, y1] = threefry2x32(k0, k1, high, reshape(low, [1]));
  return concatenate([y0, y1], 0);
}
