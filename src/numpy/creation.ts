/**
 * np's array creation: from data (`array`), filled (`zeros`, `full`, ...),
 * and ranges (`arange`, `linspace`, `eye`). Every shape argument goes
 * through core/shape.ts's `checkShapeArg`, so a bad one is a ShapeError
 * naming the function, never a malformed array or a raw RangeError.
 */
import { Array, type ArrayLike, ConcreteArray } from "../core/array.js";
import { describe, fromData } from "../core/convert.js";
import { type DType, isDType, isFloat as isFloatDtype, promoteTypes } from "../core/dtype.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { checkShapeArg, shapeSize } from "../core/shape.js";
import { makeLeaf } from "../imperative/tensor.js";
import { add, convert, mul, select, sub } from "../primitives/elementwise.js";
import { broadcastInDim, concatenate, reshape } from "../primitives/movement.js";
import { arr } from "./core.js";

/** Options of `array` / `asarray`. */
export interface ArrayOptions {
  /** The element type (default float64; bool data gives bool). */
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
export type DTypeArg =
  | DType
  | {
      /** The element type. */
      dtype?: DType;
      /** Make the result a leaf that records operations for `backward()`. */
      requiresGrad?: boolean;
    };

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

/** Data for `np.array`: numbers, Arrays (traced ones too) and nested lists of them. */
export type NestedArrayLike = ArrayLike | readonly NestedArrayLike[];

/** Whether nested JS data holds an Array anywhere (then `array` stacks, like jnp.array). */
function holdsArray(data: unknown): boolean {
  if (data instanceof Array) return true;
  return globalThis.Array.isArray(data) && data.some(holdsArray);
}

/**
 * Stacks nested lists whose leaves are numbers or Arrays (possibly traced)
 * into one Array along new leading axes, as jnp.array does. The dtype is
 * the NumPy promotion of the Arrays' dtypes, with JS numbers weakly typed
 * (they adopt a float dtype; a fraction next to ints gives float64).
 */
function stackNested(data: readonly unknown[], dtype: DType | undefined): Array {
  let dt: DType | undefined;
  let fraction = false;
  let numbers = false;
  const scan = (d: unknown): void => {
    if (d instanceof Array) dt = dt === undefined ? d.dtype : promoteTypes(dt, d.dtype);
    else if (globalThis.Array.isArray(d)) d.forEach(scan);
    else if (typeof d === "number") {
      numbers = true;
      if (!Number.isInteger(d)) fraction = true;
    }
  };
  scan(data);
  let target: DType = dtype ?? dt ?? "float64";
  if (dtype === undefined && numbers && !isFloatDtype(target)) {
    target = fraction ? "float64" : target === "bool" ? "int32" : target;
  }
  const walk = (d: unknown, at: string): Array => {
    if (!globalThis.Array.isArray(d)) {
      const leaf = d instanceof Array ? d : fromData(d, `np.array: argument data${at}`, target);
      return leaf.dtype === target ? leaf : convert(leaf, target);
    }
    if (d.length === 0) {
      throw new ShapeError(
        `np.array: the empty list at data${at} cannot be stacked with Arrays (it has no ` +
          `shape to match); use np.zeros([0]) there`,
      );
    }
    const parts = d.map((e: unknown, i) => walk(e, `${at}[${i}]`));
    const shape = parts[0]!.shape;
    parts.forEach((p, i) => {
      if (p.shape.length !== shape.length || p.shape.some((n, k) => n !== shape[k])) {
        throw new ShapeError(
          `np.array: the entries of data${at} have different shapes (${fmtShape(shape)} at ` +
            `[0], ${fmtShape(p.shape)} at [${i}]); a nested list must be rectangular`,
        );
      }
    });
    return concatenate(
      parts.map((p) => reshape(p, [1, ...p.shape])),
      0,
    );
  };
  return walk(data, "");
}

/**
 * Creates an array from numbers, nested arrays or a TypedArray (copying the
 * data). Nested lists may hold Arrays, traced ones included (as jnp.array):
 * they are stacked, so `np.array([x, y])` is differentiable and works under
 * jit and vmap. The dtype may also be given positionally, as NumPy's
 * `np.array(data, dtype)`: `np.array([1, 2], "float32")`.
 *
 * @example
 * ```ts
 * import { np, grad } from "chainrule";
 * const g = grad((x) => np.sum(np.array([x, np.multiply(x, 2), 1])))(3); // 3
 * const h = np.array([1, 2], "float32").dtype; // "float32"
 * ```
 */
export function array(data: NestedArrayLike, opts: ArrayOptions | DType = {}): Array {
  const o = arrayOptions("array", opts);
  return maybeLeaf("array", arrayData(data, o), o);
}

/**
 * The options of np.array: an object, or a dtype string (NumPy's positional
 * form). Anything else (a number, `true`) would be ignored, so it is refused.
 */
function arrayOptions(fn: string, opts: unknown): ArrayOptions {
  if (typeof opts === "string") return { dtype: checkDtype(fn, opts as DType) };
  if (opts === undefined) return {};
  if (typeof opts !== "object" || opts === null || globalThis.Array.isArray(opts)) {
    throw new InvalidArgumentError(
      `np.${fn}: the second argument is a dtype ("float32") or the options ` +
        `{ dtype?, shape?, requiresGrad? }, got ${describe(opts)}`,
    );
  }
  return opts;
}

function arrayData(data: NestedArrayLike, opts: ArrayOptions): Array {
  if (data instanceof Array) {
    return opts.dtype === undefined ? data : convert(data, checkDtype("array", opts.dtype));
  }
  if (globalThis.Array.isArray(data) && holdsArray(data)) {
    const dt = opts.dtype === undefined ? undefined : checkDtype("array", opts.dtype);
    const x = stackNested(data as readonly unknown[], dt);
    if (opts.shape === undefined) return x;
    const shape = checkShapeArg("np.array", opts.shape);
    if (shapeSize(shape) !== x.size) {
      throw new ShapeError(
        `np.array: shape ${fmtShape(shape)} needs ${shapeSize(shape)} elements but the ` +
          `data has ${x.size}`,
      );
    }
    return reshape(x, shape);
  }
  const x = fromData(data as ArrayLike, "np.array: argument data", opts.dtype);
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
export function asarray(data: NestedArrayLike, opts: ArrayOptions | DType = {}): Array {
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
/**
 * `num` evenly spaced values from start to stop inclusive. The endpoints
 * may be Arrays, traced ones included (differentiable, under jit and vmap):
 * then out[i, ...] = start + i (stop - start) / (num - 1), with the last
 * value exactly stop, and the endpoints' shape (broadcast) after the first axis.
 *
 * @example
 * ```ts
 * import { np, grad } from "chainrule";
 * const x = np.linspace(0, 1, 5); // [0, 0.25, 0.5, 0.75, 1]
 * const g = grad((s) => np.sum(np.linspace(0, s, 5)))(2); // 0 + 0.25 + 0.5 + 0.75 + 1 = 2.5
 * ```
 */
export function linspace(start: ArrayLike, stop: ArrayLike, num = 50, dtype?: DTypeArg): Array {
  if (typeof start !== "number" || typeof stop !== "number") {
    return maybeLeaf("linspace", linspaceArrays(start, stop, num, dtype), dtype);
  }
  const shape = checkShapeArg("np.linspace", num);
  const x = allocating("linspace", shape, () =>
    ConcreteArray.zeros(shape, checkDtype("linspace", dtype)),
  );
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) x.buffer[i] = i === num - 1 && num > 1 ? stop : start + i * step;
  return maybeLeaf("linspace", x, dtype);
}

/** linspace with Array endpoints (see linspace): composed from primitives. */
function linspaceArrays(start: ArrayLike, stop: ArrayLike, num: number, dtype?: DTypeArg): Array {
  checkShapeArg("np.linspace", num);
  let a = arr(start, "linspace", "start");
  let b = arr(stop, "linspace", "stop");
  const dt =
    typeof dtype === "undefined" || (typeof dtype === "object" && dtype.dtype === undefined)
      ? isFloatDtype(promoteTypes(a.dtype, b.dtype))
        ? promoteTypes(a.dtype, b.dtype)
        : "float64"
      : checkDtype("linspace", dtype);
  if (a.dtype !== dt) a = convert(a, dt);
  if (b.dtype !== dt) b = convert(b, dt);
  const n = Math.max(a.ndim, b.ndim);
  const bshape: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a.shape[a.ndim - n + i] ?? 1;
    const db = b.shape[b.ndim - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `np.linspace: start of shape ${fmtShape(a.shape)} and stop of shape ` +
          `${fmtShape(b.shape)} cannot be broadcast together`,
      );
    }
    bshape.push(da === 1 ? db : da);
  }
  const outShape = [num, ...bshape];
  const up = (x: Array) =>
    broadcastInDim(
      x,
      outShape,
      x.shape.map((_, d) => d + 1 + n - x.ndim),
    );
  const steps = ConcreteArray.zeros([num], dt);
  const last = ConcreteArray.zeros([num], "bool");
  for (let i = 0; i < num; i++) {
    steps.buffer[i] = num > 1 ? i / (num - 1) : 0;
    last.buffer[i] = num > 1 && i === num - 1 ? 1 : 0;
  }
  const t = broadcastInDim(steps, outShape, [0]);
  const lo = up(a);
  const hi = up(b);
  // start + t (stop - start), and exactly stop at the last point (as NumPy).
  const inner = add(lo, mul(t, sub(hi, lo)));
  return select(broadcastInDim(last, outShape, [0]), hi, inner);
}
