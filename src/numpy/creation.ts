/**
 * np's array creation: from data (`array`), filled (`zeros`, `full`, ...),
 * and ranges (`arange`, `linspace`, `eye`). Every shape argument goes
 * through core/shape.ts's `checkShapeArg`, so a bad one is a ShapeError
 * naming the function, never a malformed array or a raw RangeError.
 */
import { Array, type ArrayLike, ConcreteArray } from "../core/array.js";
import { fromData } from "../core/convert.js";
import { type DType, isDType } from "../core/dtype.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { checkShapeArg, shapeSize } from "../core/shape.js";
import { convert } from "../primitives/elementwise.js";
import { makeLeaf } from "../imperative/tensor.js";
import { arr } from "./core.js";

/** Options of `array` / `asarray`. */
export interface ArrayOptions {
  dtype?: DType;
  /** Shape for flat data (TypedArray or flat list). */
  shape?: readonly number[];
  /**
   * Make a leaf that records operations for `backward()` (the imperative,
   * PyTorch-style interface); only float arrays can.
   */
  requiresGrad?: boolean;
}

/**
 * A dtype argument of a creation function: the dtype itself (NumPy's
 * positional form, `np.zeros([2], "float32")`) or an options object
 * (`np.zeros([2], { dtype: "float32" })`, as `np.array` takes it).
 */
export type DTypeArg = DType | { dtype?: DType; requiresGrad?: boolean };

/** `x` as a requiresGrad leaf when the options ask for one. */
function maybeLeaf(fn: string, x: Array, opts: unknown): Array {
  if (typeof opts !== "object" || opts === null) return x;
  const flag = (opts as { requiresGrad?: unknown }).requiresGrad;
  if (flag === undefined || flag === false) return x;
  if (flag !== true) {
    throw new InvalidArgumentError(
      `np.${fn}: requiresGrad must be true or false, got ${typeof flag} ${JSON.stringify(flag)}`,
    );
  }
  return makeLeaf(`np.${fn}`, x);
}

/** The dtype named by `arg` (or `fallback`), checked, for np function `fn`. */
export function checkDtype(
  fn: string,
  arg: DTypeArg | undefined,
  fallback: DType = "float64",
): DType {
  const dtype =
    typeof arg === "object" && arg !== null ? (arg.dtype ?? fallback) : (arg ?? fallback);
  if (!isDType(dtype)) {
    const shown = typeof dtype === "object" ? JSON.stringify(dtype) : String(dtype);
    throw new InvalidArgumentError(
      `np.${fn}: unknown dtype ${shown}; use "float64", "float32", "int32" or "bool" ` +
        `(positionally or as { dtype })`,
    );
  }
  return dtype;
}

/**
 * Runs an allocation of an array of `shape` for np function `fn`; the
 * engine's RangeError (not enough memory for a valid shape) becomes a
 * ShapeError that says how large the array would have been.
 */
function allocating<T>(fn: string, shape: readonly number[], make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new ShapeError(
      `np.${fn}: cannot allocate an array of shape ${fmtShape(shape)} ` +
        `(${shapeSize(shape)} elements): ${e.message}; use a smaller shape`,
    );
  }
}

/** Creates an array from numbers, nested arrays or a TypedArray (copying the data). */
export function array(data: ArrayLike, opts: ArrayOptions = {}): Array {
  return maybeLeaf("array", arrayData(data, opts), opts);
}

function arrayData(data: ArrayLike, opts: ArrayOptions): Array {
  if (data instanceof Array) {
    return opts.dtype === undefined ? data : convert(data, checkDtype("array", opts.dtype));
  }
  const x = fromData(data, "np.array: argument data", opts.dtype);
  if (opts.shape === undefined) return x;
  const shape = checkShapeArg("np.array", opts.shape);
  if (shapeSize(shape) !== x.size) {
    throw new ShapeError(
      `np.array: shape ${fmtShape(shape)} needs ${shapeSize(shape)} elements but the ` +
        `data has ${x.size}`,
    );
  }
  return new ConcreteArray(shape, x.dtype, x.buffer);
}
/** Like `array`, but returns Arrays unchanged. */
export function asarray(data: ArrayLike, opts: ArrayOptions = {}): Array {
  return array(data, opts);
}

/** An array of `shape` with every element `value`. */
export function full(shape: readonly number[] | number, value: number, dtype?: DTypeArg): Array {
  const s = checkShapeArg("np.full", shape);
  const dt = checkDtype("full", dtype);
  return maybeLeaf(
    "full",
    allocating("full", s, () => ConcreteArray.full(s, dt, value)),
    dtype,
  );
}
/** An array of `shape` filled with 0. */
export function zeros(shape: readonly number[] | number, dtype?: DTypeArg): Array {
  const s = checkShapeArg("np.zeros", shape);
  const dt = checkDtype("zeros", dtype);
  return maybeLeaf(
    "zeros",
    allocating("zeros", s, () => ConcreteArray.full(s, dt, 0)),
    dtype,
  );
}
/** An array of `shape` filled with 1. */
export function ones(shape: readonly number[] | number, dtype?: DTypeArg): Array {
  const s = checkShapeArg("np.ones", shape);
  const dt = checkDtype("ones", dtype);
  return maybeLeaf(
    "ones",
    allocating("ones", s, () => ConcreteArray.full(s, dt, 1)),
    dtype,
  );
}
/** Zeros of x's shape (and dtype unless given). */
export function zerosLike(x: ArrayLike, dtype?: DTypeArg): Array {
  const a = arr(x, "zerosLike");
  return maybeLeaf("zerosLike", zeros(a.shape, checkDtype("zerosLike", dtype, a.dtype)), dtype);
}
/** Ones of x's shape (and dtype unless given). */
export function onesLike(x: ArrayLike, dtype?: DTypeArg): Array {
  const a = arr(x, "onesLike");
  return maybeLeaf("onesLike", ones(a.shape, checkDtype("onesLike", dtype, a.dtype)), dtype);
}
/** `value` in x's shape (and dtype unless given). */
export function fullLike(x: ArrayLike, value: number, dtype?: DTypeArg): Array {
  const a = arr(x, "fullLike");
  return maybeLeaf("fullLike", full(a.shape, value, checkDtype("fullLike", dtype, a.dtype)), dtype);
}
/** The n x m identity (ones on diagonal k). */
export function eye(n: number, m: number = n, opts: { k?: number; dtype?: DType } = {}): Array {
  const k = opts.k ?? 0;
  const shape = checkShapeArg("np.eye", [n, m]);
  if (!Number.isInteger(k)) {
    throw new InvalidArgumentError(`np.eye: diagonal offset k = ${k} must be an integer`);
  }
  const dt = checkDtype("eye", opts.dtype ?? "float64");
  const x = allocating("eye", shape, () => ConcreteArray.zeros(shape, dt));
  for (let i = 0; i < n; i++) if (i + k >= 0 && i + k < m) x.buffer[i * m + i + k] = 1;
  return x;
}
/**
 * Evenly spaced values in [start, stop) (one argument: [0, stop)): the
 * length is ceil((stop - start) / step), or 0 when that is negative.
 */
export function arange(start: number, stop?: number, step = 1, dtype?: DTypeArg): Array {
  if (stop === undefined) [start, stop] = [0, start];
  const bounds = { start, stop, step };
  for (const [name, v] of Object.entries(bounds)) {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new InvalidArgumentError(
        `np.arange: ${name} must be a finite number, got ${String(v)} ` +
          `(arange(start, stop, step) with start = ${String(start)}, stop = ${String(stop)}, ` +
          `step = ${String(step)})`,
      );
    }
  }
  if (step === 0) throw new InvalidArgumentError(`np.arange: step must not be 0`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const shape = checkShapeArg("np.arange", [n]);
  const x = allocating("arange", shape, () =>
    ConcreteArray.zeros(shape, checkDtype("arange", dtype)),
  );
  for (let i = 0; i < n; i++) x.buffer[i] = start + i * step;
  return maybeLeaf("arange", x, dtype);
}
/** `num` evenly spaced values from start to stop inclusive. */
export function linspace(start: number, stop: number, num = 50, dtype?: DTypeArg): Array {
  const shape = checkShapeArg("np.linspace", num);
  const x = allocating("linspace", shape, () =>
    ConcreteArray.zeros(shape, checkDtype("linspace", dtype)),
  );
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) x.buffer[i] = i === num - 1 && num > 1 ? stop : start + i * step;
  return maybeLeaf("linspace", x, dtype);
}
