/**
 * Shape arithmetic: sizes, strides, NumPy broadcasting and axis normalisation.
 */
import { InvalidArgumentError, ShapeError, fmtShape } from "./errors.js";

/** An array's shape: the size of each axis (`[]` for a scalar). */
export type Shape = readonly number[];

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Row-major strides (in elements) of a contiguous array of this shape. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/**
 * NumPy broadcasting: align trailing dimensions; each pair must be equal or
 * one of them 1.
 */
export function broadcastShapes(fnName: string, a: Shape, b: Shape): number[] {
  if (shapesEqual(a, b)) return a.slice();
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw new ShapeError(
        `${fnName}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together ` +
          `(dimension ${i - n} is ${da} vs ${db}); reshape one operand or use np.expandDims ` +
          `so that each trailing dimension is equal or 1`,
      );
    }
  }
  return out;
}

/** Normalises a possibly negative axis against `ndim`, with a clear error. */
export function normalizeAxis(fnName: string, axis: number, ndim: number): number {
  if (typeof axis !== "number") {
    // An options object where the axis goes (np.concatenate(xs, { axis: 1 })), a string...
    const shown = typeof axis === "object" && axis !== null ? JSON.stringify(axis) : String(axis);
    throw new InvalidArgumentError(
      `${fnName}: an axis must be an integer, got ${typeof axis} ${shown}; pass the axis ` +
        `itself (e.g. 1, or -1 for the last axis)`,
    );
  }
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new ShapeError(
      `${fnName}: axis ${axis} is out of range for an array of rank ${ndim} ` +
        `(valid axes are ${-ndim}..${ndim - 1})`,
    );
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Normalises `axis` (undefined = all axes) to a sorted list of distinct axes. */
export function normalizeAxes(
  fnName: string,
  axis: number | readonly number[] | undefined | null,
  ndim: number,
): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: ndim }, (_, i) => i);
  // Anything but a number or a list reaches normalizeAxis's error for non-numbers.
  const list: readonly number[] =
    typeof axis === "number" || !globalThis.Array.isArray(axis) ? [axis as number] : axis;
  const out = list.map((a) => normalizeAxis(fnName, a, ndim));
  out.sort((x, y) => x - y);
  for (let i = 1; i < out.length; i++) {
    if (out[i] === out[i - 1]) throw new ShapeError(`${fnName}: repeated axis ${out[i]}`);
  }
  return out;
}

/**
 * Most elements one array may hold (2^32): above it no engine can allocate
 * the typed array, and shape arithmetic past 2^53 would not even be exact.
 */
export const MAX_ARRAY_ELEMENTS = 2 ** 32;

/** Shows a user's shape argument as written, non-numbers quoted (`[2, "3"]`). */
function showShapeArg(shape: unknown): string {
  const show = (d: unknown): string =>
    typeof d === "number" ? String(d) : typeof d === "string" ? JSON.stringify(d) : String(d);
  if (typeof shape === "number") return show(shape);
  if (globalThis.Array.isArray(shape)) return `[${shape.map(show).join(", ")}]`;
  return show(shape);
}

/**
 * Validates a shape argument of the user-facing function `fnName` (a
 * dimension size or a list of them) and returns it as a fresh number[].
 * Every entry must be a non-negative integer; with `inferred`, one entry
 * may be -1 (reshape's "whatever size fits"). The element count (the
 * product, -1 left out) must not exceed MAX_ARRAY_ELEMENTS. Anything else
 * is a ShapeError naming the function and the shape.
 */
export function checkShapeArg(
  fnName: string,
  shape: unknown,
  opts: { inferred?: boolean } = {},
): number[] {
  const allowed =
    "a shape is a list of non-negative integer sizes" +
    (opts.inferred === true ? ", one of which may be -1 (inferred from the size)" : "");
  // An Array where a size belongs (np.zeros(n) with n an argument of jit):
  // array.ts imports this module, so Arrays are recognised by their fields.
  const isArrayLike = (d: unknown) =>
    typeof d === "object" && d !== null && "dtype" in d && "shape" in d;
  const arrayHint =
    isArrayLike(shape) || (globalThis.Array.isArray(shape) && shape.some(isArrayLike))
      ? "; an Array is not a size: sizes must be JS numbers while the program is built " +
        "(under jit use x.shape of an argument, or pass the size as a static argument with " +
        "jit(f, { staticArgnums }); outside jit, read it with n.item())"
      : "";
  const reject = (why: string): never => {
    throw new ShapeError(`${fnName}: shape ${showShapeArg(shape)} ${why}; ${allowed}${arrayHint}`);
  };
  let dims: unknown[];
  if (typeof shape === "number") dims = [shape];
  else if (globalThis.Array.isArray(shape)) dims = shape as unknown[];
  else return reject("is neither a number nor a list of numbers");
  let inferredAt = -1;
  let size = 1;
  dims.forEach((d, i) => {
    if (typeof d !== "number") reject(`has a non-number at position ${i} (${typeof d})`);
    const n = d as number;
    if (n === -1 && opts.inferred === true) {
      if (inferredAt >= 0) reject(`has more than one -1 (positions ${inferredAt} and ${i})`);
      inferredAt = i;
      return;
    }
    if (!Number.isInteger(n)) reject(`has a size ${n} at position ${i} that is not an integer`);
    if (n < 0) reject(`has a negative size ${n} at position ${i}`);
    size *= n;
  });
  if (size > MAX_ARRAY_ELEMENTS) {
    reject(`has ${size} elements, more than the ${MAX_ARRAY_ELEMENTS} an array may hold`);
  }
  return [...(dims as number[])];
}
