/**
 * Shape arithmetic: sizes, strides, NumPy broadcasting and axis normalisation.
 */
import { ShapeError, fmtShape } from "./errors.js";

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
  const list = typeof axis === "number" ? [axis] : axis;
  const out = list.map((a) => normalizeAxis(fnName, a, ndim));
  out.sort((x, y) => x - y);
  for (let i = 1; i < out.length; i++) {
    if (out[i] === out[i - 1]) throw new ShapeError(`${fnName}: repeated axis ${out[i]}`);
  }
  return out;
}
