/**
 * The np layer's plumbing: converting arguments, NumPy dtype promotion with
 * weakly typed JS numbers, and broadcasting operands to a common shape.
 */
import { Array, type ArrayLike } from "../core/array.js";
import { fromData, scalar } from "../core/convert.js";
import { type DType, isFloat, promoteTypes } from "../core/dtype.js";
import { InvalidArgumentError, fmtShape } from "../core/errors.js";
import { type Shape, broadcastShapes, shapesEqual } from "../core/shape.js";
import { convert } from "../primitives/elementwise.js";
import { broadcastInDim } from "../primitives/movement.js";

/** Converts an argument of np function `fn` to an Array. */
export function arr(x: ArrayLike, fn: string, arg = "x"): Array {
  return x instanceof Array ? x : fromData(x, `np.${fn}: argument ${arg}`);
}

/** The dtype a JS number takes next to an array of dtype `other` (weak typing). */
function weakDtype(value: number | boolean, other: DType): DType {
  if (typeof value === "boolean") return other;
  if (isFloat(other)) return other;
  return Number.isInteger(value) ? (other === "bool" ? "int32" : other) : "float64";
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Whether JS number `v` is an integer that int32 cannot hold (it would wrap around). */
function outOfInt32(v: number | boolean): boolean {
  return typeof v === "number" && Number.isInteger(v) && (v < INT32_MIN || v > INT32_MAX);
}

/**
 * A weakly typed integer next to an int32 (or bool) array takes int32, as
 * NumPy 2 and JAX do; one that int32 cannot hold is an error there
 * (NumPy's OverflowError), never a silent wrap-around.
 */
function weakScalar(fn: string, value: number | boolean, other: Array): Array {
  const dt = weakDtype(value, other.dtype);
  if (dt === "int32" && outOfInt32(value)) {
    throw new InvalidArgumentError(
      `np.${fn}: the number ${value} does not fit in int32, the dtype it takes next to the ` +
        `${other.dtype} operand of shape ${fmtShape(other.shape)}; convert that operand first, ` +
        `e.g. x.astype("float64")`,
    );
  }
  return scalar(Number(value), dt);
}

/**
 * Converts two operands to Arrays of one dtype. A JS number adopts the other
 * operand's dtype (float32 stays float32); otherwise NumPy promotion applies.
 */
export function promotePair(a: ArrayLike, b: ArrayLike, fn: string): [Array, Array] {
  const aIsNum = typeof a === "number" || typeof a === "boolean";
  const bIsNum = typeof b === "number" || typeof b === "boolean";
  if (aIsNum && b instanceof Array)
    return [weakScalar(fn, a, b), promoteTo(b, weakDtype(a, b.dtype))];
  if (bIsNum && a instanceof Array)
    return [promoteTo(a, weakDtype(b, a.dtype)), weakScalar(fn, b, a)];
  const x = arr(a, fn, "x1");
  const y = arr(b, fn, "x2");
  if (x.dtype === y.dtype) return [x, y];
  const dt = promoteTypes(x.dtype, y.dtype);
  return [convert(x, dt), convert(y, dt)];
}

function promoteTo(x: Array, dtype: DType): Array {
  return x.dtype === dtype ? x : convert(x, dtype);
}

/** NumPy broadcasting of x to `shape` (trailing axes aligned). */
export function broadcastTo(x: Array, shape: Shape): Array {
  if (shapesEqual(x.shape, shape)) return x;
  const offset = shape.length - x.ndim;
  return broadcastInDim(
    x,
    shape,
    x.shape.map((_, i) => i + offset),
  );
}

/** Broadcasts operands to their common shape (named by `fn` in errors). */
export function broadcastAll(fn: string, xs: Array[]): Array[] {
  let shape: Shape = xs[0]!.shape;
  let same = true;
  for (let i = 1; i < xs.length; i++) {
    if (!shapesEqual(xs[i]!.shape, shape)) {
      same = false;
      shape = broadcastShapes(`np.${fn}`, shape, xs[i]!.shape);
    }
  }
  return same ? xs : xs.map((x) => broadcastTo(x, shape));
}

/**
 * What a binary function does with its operands: "float" (its result is a
 * float, as divide's) and "compare" (a comparison or logical operation) make
 * `binary` compute an int32/bool operand in float64 next to a JS number that
 * int32 cannot hold (see `numberSafe`); "integer" (the default) keeps
 * NumPy's int32 rules, where such a number is an error.
 */
export type OperandKind = "integer" | "float" | "compare";

/**
 * Operand `x` of a function whose result is a float (`kind` "float") or of a
 * comparison ("compare"), where `other` is the other operand: an int32/bool
 * Array is converted to float64 first when `other` is a JS number that
 * would lose something as an int32 (a value beyond int32's range; for
 * "float", also the sign of -0), so that e.g. np.divide(i32, 1e10),
 * np.less(i32, 2 ** 40) and np.copysign(i32, -0) compute NumPy's values.
 * Anything else is returned as it is (no allocation on the common path).
 */
function numberSafe(x: ArrayLike, other: ArrayLike, kind: "float" | "compare"): ArrayLike {
  if (!(x instanceof Array) || isFloat(x.dtype)) return x;
  if (typeof other !== "number" && typeof other !== "boolean") return x;
  const loses = outOfInt32(other) || (kind === "float" && Object.is(other, -0));
  return loses ? asFloat(x) : x;
}

/** Applies a same-shape, same-dtype binary primitive with promotion and broadcasting. */
export function binary(
  fn: string,
  op: (a: Array, b: Array) => Array,
  a0: ArrayLike,
  b0: ArrayLike,
  kind: OperandKind = "integer",
): Array {
  const a = kind === "integer" ? a0 : numberSafe(a0, b0, kind);
  const b = kind === "integer" ? b0 : numberSafe(b0, a0, kind);
  // Two arrays of one dtype and shape go straight through (the common case
  // in eager scalar code, where the pair below is a tenth of the allocation).
  if (
    a instanceof Array &&
    b instanceof Array &&
    a.dtype === b.dtype &&
    shapesEqual(a.shape, b.shape)
  )
    return op(a, b);
  // Indexed, not destructured: see the note in primitives/elementwise.ts.
  const pair = promotePair(a, b, fn);
  const x = pair[0];
  const y = pair[1];
  if (shapesEqual(x.shape, y.shape)) return op(x, y);
  const [bx, by] = broadcastAll(fn, [x, y]);
  return op(bx!, by!);
}

/** Converts int/bool arrays to float64 for functions that need floats (as NumPy does). */
export function asFloat(x: Array): Array {
  return isFloat(x.dtype) ? x : convert(x, "float64");
}
