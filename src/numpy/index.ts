/**
 * `np`: the NumPy-style API, composed from primitives. Broadcasting, dtype
 * promotion and keepdims live here; derivative rules do not (every function
 * here is differentiable because its primitives are).
 *
 * @module
 */
import { Array, type ArrayLike, ConcreteArray, installArrayMethods } from "../core/array.js";
import { describe, scalar } from "../core/convert.js";
import { type DType, isFloat } from "../core/dtype.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { checkShapeArg, normalizeAxes, normalizeAxis } from "../core/shape.js";
import * as ew from "../primitives/elementwise.js";
import { matmul as matmulPrim } from "../primitives/linalg.js";
import * as mv from "../primitives/movement.js";
import { gather } from "../primitives/indexing.js";
import * as rd from "../primitives/reduce.js";
import { sort as sortLastAxis } from "../primitives/sort.js";
import {
  arr,
  asFloat,
  binary,
  broadcastAll,
  broadcastTo as broadcastToShape,
  promotePair,
} from "./core.js";
import { sequenceOf } from "./arrays.js";
import { checkDtype } from "./creation.js";
import { formatArray } from "./format.js";
import { nonzero, slice } from "./indexing.js";
import { dotGeneral } from "./products.js";

export type { ArrayLike } from "../core/array.js";
/** An axis argument: one axis, several, or null/undefined for all. */
export type Axis = number | readonly number[] | null | undefined;
/** Options of reductions. */
export interface ReduceOpts {
  /** Keep the reduced axes, with size 1 (so that the result broadcasts against the input). */
  keepdims?: boolean;
}
/** Reductions take `axis` positionally or `{ axis, keepdims }`. */
export type AxisArg =
  | Axis
  | {
      /** The axis or axes to reduce (all when absent). */
      axis?: Axis;
      /** Keep the reduced axes, with size 1. */
      keepdims?: boolean;
    };

export {
  type ArrayOptions,
  type DTypeArg,
  type NestedArrayLike,
  arange,
  array,
  asarray,
  eye,
  full,
  fullLike,
  linspace,
  ones,
  onesLike,
  zeros,
  zerosLike,
} from "./creation.js";

// ---------------------------------------------------------- elementwise --

/**
 * a + b, elementwise with NumPy broadcasting.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.add([1, 2], 10); // array([11., 12.])
 * ```
 */
export const add = (a: ArrayLike, b: ArrayLike): Array => binary("add", ew.add, a, b);
/**
 * a - b, elementwise with broadcasting.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.subtract([5, 7], [1, 2]); // array([4., 5.])
 * ```
 */
export const subtract = (a: ArrayLike, b: ArrayLike): Array => binary("subtract", ew.sub, a, b);
/**
 * a * b, elementwise with broadcasting.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.multiply([[1], [2]], [1, 10]); // array([[ 1., 10.], [ 2., 20.]])
 * ```
 */
export const multiply = (a: ArrayLike, b: ArrayLike): Array => binary("multiply", ew.mul, a, b);
/** True division: ints divide as floats. */
export const divide = (a: ArrayLike, b: ArrayLike): Array =>
  binary("divide", (x, y) => ew.div(asFloat(x), asFloat(y)), a, b, "float");
/**
 * a ** b, elementwise with broadcasting; d/da = b a^(b-1), d/db = a^b ln a.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.power(2, [1, 2, 3]); // array([2., 4., 8.])
 * ```
 */
export const power = (a: ArrayLike, b: ArrayLike): Array =>
  binary(
    "power",
    // int32 ** int32 stays int32 (wrap-around, as NumPy); other dtypes power in float
    (x, y) =>
      x.dtype === "int32" && y.dtype === "int32" ? ew.pow(x, y) : ew.pow(asFloat(x), asFloat(y)),
    a,
    b,
  );
/**
 * The larger of a and b, elementwise with broadcasting; at ties the gradient is split evenly.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.maximum([1, 5], 3); // array([3., 5.])
 * ```
 */
export const maximum = (a: ArrayLike, b: ArrayLike): Array => binary("maximum", ew.max, a, b);
/**
 * The smaller of a and b, elementwise with broadcasting; at ties the gradient is split evenly.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.minimum([1, 5], 3); // array([1., 3.])
 * ```
 */
export const minimum = (a: ArrayLike, b: ArrayLike): Array => binary("minimum", ew.min, a, b);
/**
 * The angle of the point (b, a), i.e. atan(a / b) in the right quadrant, in (-pi, pi]; d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.arctan2(1, -1); // array(2.35619449)
 * ```
 */
export const arctan2 = (a: ArrayLike, b: ArrayLike): Array =>
  binary("arctan2", (x, y) => ew.atan2(asFloat(x), asFloat(y)), a, b, "float");
/** Remainder with the sign of the divisor (NumPy's mod). */
export const mod = (a: ArrayLike, b: ArrayLike): Array => binary("mod", ew.rem, a, b);

/**
 * a < b, elementwise with broadcasting, as bool.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.less([1, 3], 2); // array([ True, False])
 * ```
 */
export const less = (a: ArrayLike, b: ArrayLike): Array => binary("less", ew.lt, a, b, "compare");
/**
 * a <= b, elementwise with broadcasting, as bool.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.lessEqual([1, 2], 2); // array([ True,  True])
 * ```
 */
export const lessEqual = (a: ArrayLike, b: ArrayLike): Array =>
  binary("lessEqual", ew.le, a, b, "compare");
/**
 * a > b, elementwise with broadcasting, as bool.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.greater([1, 3], 2); // array([False,  True])
 * ```
 */
export const greater = (a: ArrayLike, b: ArrayLike): Array =>
  binary("greater", ew.gt, a, b, "compare");
/**
 * a >= b, elementwise with broadcasting, as bool.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.greaterEqual([1, 2], 2); // array([False,  True])
 * ```
 */
export const greaterEqual = (a: ArrayLike, b: ArrayLike): Array =>
  binary("greaterEqual", ew.ge, a, b, "compare");
/**
 * a == b, elementwise with broadcasting, as bool.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.equal([1, 2], 2); // array([False,  True])
 * ```
 */
export const equal = (a: ArrayLike, b: ArrayLike): Array => binary("equal", ew.eq, a, b, "compare");
/**
 * a != b, elementwise with broadcasting, as bool.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.notEqual([1, 2], 2); // array([ True, False])
 * ```
 */
export const notEqual = (a: ArrayLike, b: ArrayLike): Array =>
  binary("notEqual", ew.ne, a, b, "compare");
/**
 * a AND b, elementwise (nonzero is true), as bool.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.logicalAnd([true, false], true); // array([ True, False])
 * ```
 */
export const logicalAnd = (a: ArrayLike, b: ArrayLike): Array =>
  binary("logicalAnd", (x, y) => ew.logicalAnd(toBool(x), toBool(y)), a, b, "compare");
/**
 * a OR b, elementwise (nonzero is true), as bool.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.logicalOr([true, false], false); // array([ True, False])
 * ```
 */
export const logicalOr = (a: ArrayLike, b: ArrayLike): Array =>
  binary("logicalOr", (x, y) => ew.logicalOr(toBool(x), toBool(y)), a, b, "compare");
/**
 * NOT a, elementwise (nonzero is true), as bool.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.logicalNot([0, 2]); // array([ True, False])
 * ```
 */
export const logicalNot = (a: ArrayLike): Array => ew.logicalNot(toBool(arr(a, "logicalNot")));

function toBool(x: Array): Array {
  return x.dtype === "bool" ? x : ew.ne(x, ConcreteArray.zeros(x.shape, x.dtype));
}

function floatUnary(fn: string, op: (x: Array) => Array) {
  return (x: ArrayLike): Array => op(asFloat(arr(x, fn)));
}
/** A rounding function: int32 and bool inputs are already whole and come back as they are (NumPy 2, JAX). */
function intIdentityUnary(fn: string, op: (x: Array) => Array) {
  return (x: ArrayLike): Array => {
    const a = arr(x, fn);
    return isFloat(a.dtype) ? op(a) : a;
  };
}
/**
 * -x, elementwise.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.negative([1, -2]); // array([-1.,  2.])
 * ```
 */
export const negative = (x: ArrayLike): Array => ew.neg(arr(x, "negative"));
/**
 * |x|, elementwise; its derivative is sign(x) (0 at 0).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.abs([-1.5, 2]); // array([1.5, 2. ])
 * ```
 */
export const abs = (x: ArrayLike): Array => ew.abs(arr(x, "abs"));
/**
 * -1, 0 or 1 by the sign of x, elementwise; its derivative is 0.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.sign([-3, 0, 2]); // array([-1.,  0.,  1.])
 * ```
 */
export const sign = (x: ArrayLike): Array => ew.sign(arr(x, "sign"));
/**
 * The largest integer <= x, elementwise. Its derivative is 0 almost everywhere.
 * int32 and bool inputs are returned unchanged, in their dtype (as NumPy 2 and JAX).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.floor([1.5, -1.5]); // array([ 1., -2.])
 * ```
 */
export const floor = intIdentityUnary("floor", ew.floor);
/**
 * The smallest integer >= x, elementwise. Its derivative is 0 almost everywhere.
 * int32 and bool inputs are returned unchanged, in their dtype (as NumPy 2 and JAX).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.ceil([1.5, -1.5]); // array([ 2., -1.])
 * ```
 */
export const ceil = intIdentityUnary("ceil", ew.ceil);
/**
 * e^x, elementwise; d/dx e^x = e^x.
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.exp([0, 1]); // array([1.        , 2.71828183])
 * ```
 */
export const exp = floatUnary("exp", ew.exp);
/**
 * The natural logarithm ln x, elementwise (nan for x < 0, -inf at 0); d/dx ln x = 1/x.
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.log([1, Math.E]); // array([0., 1.])
 * ```
 */
export const log = floatUnary("log", ew.log);
/**
 * ln(1 + x), elementwise, accurate for small |x|; d/dx = 1/(1 + x).
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.log1p(1e-10); // array(1.e-10), where Math.log(1 + 1e-10) loses digits
 * ```
 */
export const log1p = floatUnary("log1p", ew.log1p);
/**
 * e^x - 1, elementwise, accurate for small |x|; d/dx = e^x.
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.expm1(1e-10); // array(1.e-10)
 * ```
 */
export const expm1 = floatUnary("expm1", ew.expm1);
/**
 * The square root, elementwise (nan for x < 0); d/dx sqrt(x) = 1 / (2 sqrt(x)).
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.sqrt([4, 9]); // array([2., 3.])
 * ```
 */
export const sqrt = floatUnary("sqrt", ew.sqrt);
/**
 * The sine (radians), elementwise; d/dx sin x = cos x.
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { grad, np } from "chainrule";
 * grad((x) => np.sin(x))(0); // array(1.)
 * ```
 */
export const sin = floatUnary("sin", ew.sin);
/**
 * The cosine (radians), elementwise; d/dx cos x = -sin x.
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.cos([0, Math.PI]); // array([ 1., -1.])
 * ```
 */
export const cos = floatUnary("cos", ew.cos);
/**
 * The tangent (radians), elementwise; d/dx tan x = 1 + tan^2 x.
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.tan(Math.PI / 4); // array(1.)
 * ```
 */
export const tan = floatUnary("tan", ew.tan);
/**
 * The inverse sine, elementwise, in [-pi/2, pi/2] (nan outside [-1, 1]); d/dx = 1 / sqrt(1 - x^2).
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.arcsin(1); // array(1.57079633)
 * ```
 */
export const arcsin = floatUnary("arcsin", ew.asin);
/**
 * The inverse cosine, elementwise, in [0, pi] (nan outside [-1, 1]); d/dx = -1 / sqrt(1 - x^2).
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.arccos(-1); // array(3.14159265)
 * ```
 */
export const arccos = floatUnary("arccos", ew.acos);
/**
 * The inverse tangent, elementwise, in (-pi/2, pi/2); d/dx = 1 / (1 + x^2).
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.arctan(1); // array(0.78539816)
 * ```
 */
export const arctan = floatUnary("arctan", ew.atan);
/**
 * The hyperbolic sine (e^x - e^-x) / 2, elementwise; d/dx sinh x = cosh x.
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.sinh(0); // array(0.)
 * ```
 */
export const sinh = floatUnary("sinh", ew.sinh);
/**
 * The hyperbolic cosine (e^x + e^-x) / 2, elementwise; d/dx cosh x = sinh x.
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.cosh(0); // array(1.)
 * ```
 */
export const cosh = floatUnary("cosh", ew.cosh);
/**
 * The hyperbolic tangent, elementwise; d/dx tanh x = 1 - tanh^2 x.
 * Takes any ArrayLike; integer and bool inputs are computed in float64.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.tanh([0, 100]); // array([0., 1.])
 * ```
 */
export const tanh = floatUnary("tanh", ew.tanh);
/** The error function erf x = 2/sqrt(pi) * integral_0^x exp(-t^2) dt (ints promote to float64). */
export const erf = floatUnary("erf", ew.erf);
/**
 * x^2, elementwise; d/dx = 2x.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.square([2, -3]); // array([4., 9.])
 * ```
 */
export const square = (x: ArrayLike): Array => {
  const a = arr(x, "square");
  return ew.mul(a, a);
};
/**
 * 1 / x, elementwise; d/dx = -1 / x^2.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.reciprocal([2, 4]); // array([0.5 , 0.25])
 * ```
 */
export const reciprocal = (x: ArrayLike): Array => divide(1, x);
/**
 * Whether each element is NaN, as bool.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.isnan([1, NaN]); // array([False,  True])
 * ```
 */
export const isnan = (x: ArrayLike): Array => {
  const a = arr(x, "isnan");
  return ew.ne(a, a);
};
/**
 * Whether each element is finite (not NaN or infinite), as bool.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.isfinite([1, Infinity, NaN]); // array([ True, False, False])
 * ```
 */
export const isfinite = (x: ArrayLike): Array => {
  const a = asFloat(arr(x, "isfinite"));
  return ew.lt(ew.abs(a), ConcreteArray.full(a.shape, a.dtype, Infinity));
};

/**
 * Elementwise cond ? x : y, with broadcasting. With one argument,
 * np.where(cond) is np.nonzero(cond): one int32 index Array per axis
 * (eager only, since the count depends on the values).
 */
export function where(cond: ArrayLike): Array[];
export function where(cond: ArrayLike, x: ArrayLike, y: ArrayLike): Array;
export function where(cond: ArrayLike, x?: ArrayLike, y?: ArrayLike): Array | Array[] {
  if (x === undefined && y === undefined) return nonzero(cond, "where");
  if (x === undefined || y === undefined) {
    throw new InvalidArgumentError(
      `np.where: takes one argument (the indices of true entries) or three (cond, x, y), ` +
        `got two; pass both x and y`,
    );
  }
  const c = toBool(arr(cond, "where", "condition"));
  const [a, b] = promotePair(x, y, "where");
  const [bc, ba, bb] = broadcastAll("where", [c, a, b]);
  return ew.select(bc!, ba!, bb!);
}
/**
 * Limits values to [lo, hi] (null: no bound on that side). For an int32 x a
 * whole-number bound beyond int32's range on the far side (lo below it, hi
 * above it) changes nothing and is ignored, as NumPy clips; one on the near
 * side is the weak-integer error of np.maximum / np.minimum.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.clip([-2, 0.5, 3], 0, 1); // array([0. , 0.5, 1. ])
 * ```
 */
export function clip(x: ArrayLike, lo: ArrayLike | null, hi: ArrayLike | null): Array {
  let out = arr(x, "clip");
  const int = out.dtype === "int32";
  const below = (v: ArrayLike | null) =>
    typeof v === "number" && Number.isInteger(v) && v < -(2 ** 31);
  const above = (v: ArrayLike | null) =>
    typeof v === "number" && Number.isInteger(v) && v >= 2 ** 31;
  if (lo !== null && !(int && below(lo))) out = maximum(out, lo);
  if (hi !== null && !(int && above(hi))) out = minimum(out, hi);
  return out;
}
/**
 * x converted to `dtype` (float to int truncates toward zero; nonzero becomes true); differentiable between float dtypes.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.astype([1.7, -1.7], "int32"); // array([ 1, -1], dtype=int32)
 * ```
 */
export function astype(x: ArrayLike, dtype: DType): Array {
  return ew.convert(arr(x, "astype"), checkDtype("astype", dtype));
}
/** The identity for values, a constant for derivatives. */
export function stopGradient(x: ArrayLike): Array {
  return ew.stopGradient(arr(x, "stopGradient"));
}

// ----------------------------------------------------------- reductions --

/**
 * A reduction's options object must be an object with known keys: PyTorch's
 * `x.sum(0, true)` (keepdim) or NumPy's positional `ddof` would otherwise be
 * ignored and give a differently shaped or scaled result without a word.
 */
function checkReduceOptions(
  fn: string,
  value: unknown,
  allowed: readonly string[],
  where: string,
): void {
  const form = `{ ${allowed.map((k) => `${k}?`).join(", ")} }`;
  if (typeof value !== "object" || value === null || globalThis.Array.isArray(value)) {
    throw new InvalidArgumentError(
      `np.${fn}: ${where} is the options object ${form}, got ${describe(value)}; ` +
        `name the option, e.g. np.${fn}(x, 0, { keepdims: true })`,
    );
  }
  for (const k of Object.keys(value)) {
    if (!allowed.includes(k)) {
      throw new InvalidArgumentError(
        `np.${fn}: unknown option ${JSON.stringify(k)} in ${where}; the options are ${form}`,
      );
    }
  }
}

const KEEPDIMS: readonly string[] = ["keepdims"];

/**
 * The array, the normalised axes and keepdims of a reduction, from `axis`
 * given positionally or as `{ axis, keepdims, ... }` and from `opts`. `extra`
 * names further options (ddof); `form` is the object form when used, so the
 * caller can read them from either place.
 */
function reduceArgs(
  fn: string,
  x: ArrayLike,
  axisArg: AxisArg,
  opts: ReduceOpts | undefined,
  extra: readonly string[] = [],
) {
  const a = arr(x, fn);
  const allowed = extra.length === 0 ? KEEPDIMS : [...KEEPDIMS, ...extra];
  if (opts !== undefined) checkReduceOptions(fn, opts, allowed, "the argument after the axis");
  let axis: Axis;
  let keepdims = opts?.keepdims ?? false;
  let form: Record<string, unknown> | undefined;
  if (axisArg !== null && typeof axisArg === "object" && !globalThis.Array.isArray(axisArg)) {
    checkReduceOptions(fn, axisArg, ["axis", ...allowed], "the argument after the array");
    const o = axisArg as { axis?: Axis; keepdims?: boolean };
    axis = o.axis;
    keepdims = o.keepdims ?? keepdims;
    form = axisArg as Record<string, unknown>;
  } else {
    axis = axisArg as Axis;
  }
  const axes = normalizeAxes(`np.${fn}`, axis, a.ndim);
  return { a, axes, keepdims, form };
}

function keep(
  out: Array,
  inShape: readonly number[],
  axes: readonly number[],
  keepdims: boolean,
): Array {
  if (!keepdims) return out;
  return mv.reshape(
    out,
    inShape.map((d, i) => (axes.includes(i) ? 1 : d)),
  );
}

/**
 * The sum over `axis` (an axis, a list, or all when absent; negative counts from the end), with `keepdims` keeping reduced axes as size 1. Float sums are pairwise (error O(log n)).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.sum([[1, 2], [3, 4]], 0); // array([4., 6.])
 * ```
 */
export function sum(x: ArrayLike, axis?: AxisArg, opts?: ReduceOpts): Array {
  const { a, axes, keepdims } = reduceArgs("sum", x, axis, opts);
  const src = a.dtype === "bool" ? ew.convert(a, "int32") : a;
  return keep(rd.reduceSum(src, axes), a.shape, axes, keepdims);
}
/**
 * The arithmetic mean over `axis` (all axes when absent).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.mean([[1, 2], [3, 4]], { axis: 1, keepdims: true }); // array([[1.5], [3.5]])
 * ```
 */
export function mean(x: ArrayLike, axis?: AxisArg, opts?: ReduceOpts): Array {
  const { a, axes, keepdims } = reduceArgs("mean", x, axis, opts);
  const n = axes.reduce((acc, ax) => acc * a.shape[ax]!, 1);
  const s = rd.reduceSum(asFloat(a), axes);
  return keep(divide(s, n), a.shape, axes, keepdims);
}
function checkNonEmpty(fn: string, a: Array, axes: readonly number[]): void {
  if (axes.some((ax) => a.shape[ax] === 0)) {
    throw new ShapeError(`np.${fn}: cannot reduce an empty axis (shape ${fmtShape(a.shape)})`);
  }
}
/**
 * The maximum over `axis` (all axes when absent); the gradient goes to the maximal elements, split evenly between ties.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.max([[1, 5], [7, 2]], 1); // array([5., 7.])
 * ```
 */
export function max(x: ArrayLike, axis?: AxisArg, opts?: ReduceOpts): Array {
  const { a, axes, keepdims } = reduceArgs("max", x, axis, opts);
  checkNonEmpty("max", a, axes);
  return keep(rd.reduceMax(a, axes), a.shape, axes, keepdims);
}
/**
 * The minimum over `axis` (all axes when absent); the gradient goes to the minimal elements, split evenly between ties.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.min([[1, 5], [7, 2]], 0); // array([1., 2.])
 * ```
 */
export function min(x: ArrayLike, axis?: AxisArg, opts?: ReduceOpts): Array {
  const { a, axes, keepdims } = reduceArgs("min", x, axis, opts);
  checkNonEmpty("min", a, axes);
  return keep(rd.reduceMin(a, axes), a.shape, axes, keepdims);
}
/** Variance for np.var and np.std (`fn` names the caller in errors). */
function varianceOf(
  fn: "var" | "std",
  x: ArrayLike,
  axis?: AxisArg | { axis?: Axis; keepdims?: boolean; ddof?: number },
  opts: ReduceOpts & { ddof?: number } = {},
): Array {
  const { a, axes, keepdims, form } = reduceArgs(fn, x, axis, opts, ["ddof"]);
  // ddof may come with the axis ({ axis: 0, ddof: 1 }) or in opts.
  const ddof = (form?.ddof as number | undefined) ?? opts.ddof ?? 0;
  const n = axes.reduce((acc, ax) => acc * a.shape[ax]!, 1);
  const centered = subtract(a, mean(a, axes, { keepdims: true }));
  const s = rd.reduceSum(ew.mul(centered, centered), axes);
  // NumPy divides by max(n - ddof, 0): inf (NaN for a zero sum) once ddof >= n,
  // never a negative variance.
  return keep(divide(s, Math.max(n - ddof, 0)), a.shape, axes, keepdims);
}
/** Variance (ddof = 0 unless given). */
export function variance(
  x: ArrayLike,
  axis?: AxisArg | { axis?: Axis; keepdims?: boolean; ddof?: number },
  opts: ReduceOpts & { ddof?: number } = {},
): Array {
  return varianceOf("var", x, axis, opts);
}
/**
 * The standard deviation over `axis`: sqrt(mean(|x - mean(x)|^2) * n / (n - ddof)).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.std([1, 2, 3, 4]); // array(1.11803399)
 * ```
 */
export function std(
  x: ArrayLike,
  axis?: AxisArg | { axis?: Axis; keepdims?: boolean; ddof?: number },
  opts: ReduceOpts & { ddof?: number } = {},
): Array {
  // std = sqrt(var). Where var = 0 (one element, or all equal) sqrt has no
  // derivative (dvar / (2 sqrt(var)) = 0/0): std of one element is constant 0,
  // and for equal elements std is convex with its minimum there, so 0 (the
  // minimum-norm subgradient, like sign(0) = 0 for |x|) is the derivative
  // taken. sqrt runs on 1 at those places so the unselected branch stays finite.
  const v = varianceOf("std", x, axis, opts);
  const flat = equal(v, 0);
  return where(flat, 0, sqrt(where(flat, 1, v)));
}
/**
 * Product over axes, as a balanced tree of elementwise products (so its
 * derivative is exact even where elements are zero).
 */
export function prod(x: ArrayLike, axis?: AxisArg, opts?: ReduceOpts): Array {
  const { a, axes, keepdims } = reduceArgs("prod", x, axis, opts);
  const rest = a.shape.filter((_, d) => !axes.includes(d));
  const perm = [...axes, ...a.shape.map((_, d) => d).filter((d) => !axes.includes(d))];
  const n = axes.reduce((acc, ax) => acc * a.shape[ax]!, 1);
  let cur = mv.reshape(mv.transpose(a.dtype === "bool" ? ew.convert(a, "int32") : a, perm), [
    n,
    ...rest,
  ]);
  if (n === 0) return keep(ConcreteArray.full(rest, cur.dtype, 1), a.shape, axes, keepdims);
  while (cur.shape[0]! > 1) {
    const m = cur.shape[0]!;
    const half = Math.floor(m / 2);
    const zero = rest.map(() => 0);
    const lo = mv.slice(cur, [0, ...zero], [half, ...rest]);
    const hi = mv.slice(cur, [half, ...zero], [2 * half, ...rest]);
    let next = ew.mul(lo, hi);
    if (m % 2 === 1)
      next = mv.concatenate([next, mv.slice(cur, [m - 1, ...zero], [m, ...rest])], 0);
    cur = next;
  }
  return keep(mv.reshape(cur, rest), a.shape, axes, keepdims);
}
function argReduce(fn: "argmax" | "argmin", x: ArrayLike, axis?: number | null): Array {
  let a = arr(x, fn);
  let ax: number;
  if (axis === undefined || axis === null) {
    a = mv.reshape(a, [a.size]);
    ax = 0;
  } else {
    ax = normalizeAxis(`np.${fn}`, axis, a.ndim);
  }
  checkNonEmpty(fn, a, [ax]);
  return fn === "argmax" ? rd.argmax(a, ax) : rd.argmin(a, ax);
}
/**
 * The index of the maximum (the first one at ties) over `axis`, or in the
 * flattened array when `axis` is absent, as int32. Not differentiable (an
 * integer result).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.argmax([[1, 9], [7, 2]], 1); // array([1, 0], dtype=int32)
 * ```
 */
export const argmax = (x: ArrayLike, axis?: number | null): Array => argReduce("argmax", x, axis);
/**
 * The index of the minimum (the first one at ties) over `axis`, or in the
 * flattened array when `axis` is absent, as int32.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.argmin([3, 1, 2]); // array(1, dtype=int32)
 * ```
 */
export const argmin = (x: ArrayLike, axis?: number | null): Array => argReduce("argmin", x, axis);

/** log(sum(exp(x))) computed stably: the max is subtracted first. */
export function logsumexp(x: ArrayLike, axis?: AxisArg, opts?: ReduceOpts): Array {
  const { a, axes, keepdims } = reduceArgs("logsumexp", x, axis, opts);
  const af = asFloat(a);
  const m = ew.stopGradient(rd.reduceMax(af, axes));
  // An all -inf slice would give -inf - -inf = NaN; shift by 0 there instead.
  const mSafe = where(isfinite(m), m, 0);
  const mBack = mv.broadcastInDim(
    mSafe,
    af.shape,
    af.shape.map((_, d) => d).filter((d) => !axes.includes(d)),
  );
  const s = rd.reduceSum(exp(ew.sub(af, mBack)), axes);
  return keep(add(log(s), mSafe), a.shape, axes, keepdims);
}
/** Cumulative sum along `axis` (flattened when omitted). */
export function cumsum(x: ArrayLike, axis?: number): Array {
  let a = arr(x, "cumsum");
  if (a.dtype === "bool") a = ew.convert(a, "int32");
  if (axis === undefined) return rd.cumsum(mv.reshape(a, [a.size]), 0);
  return rd.cumsum(a, normalizeAxis("np.cumsum", axis, a.ndim));
}

// -------------------------------------------------------- linear algebra --

/**
 * Matrix product with NumPy semantics: 1-D operands are promoted to
 * matrices and the added axis removed; batch axes broadcast.
 */
export function matmul(a: ArrayLike, b: ArrayLike): Array {
  return matrixProduct("matmul", a, b);
}
/**
 * NumPy's dot: multiplication when one operand is a scalar, matmul for
 * ranks <= 2, and for higher ranks the sum over the last axis of a and the
 * second-to-last of b (shape a.shape[:-1] ++ b.shape[:-2] ++ b.shape[-1:];
 * np.matmul broadcasts stacks of matrices instead).
 */
export function dot(a: ArrayLike, b: ArrayLike): Array {
  const x = arr(a, "dot", "a");
  const y = arr(b, "dot", "b");
  // The operands as given: a JS number stays weakly typed (np.dot(i32, 2) is int32).
  if (x.ndim === 0 || y.ndim === 0) return multiply(a, b);
  if (x.ndim > 2 || y.ndim > 2) {
    const [px, py] = promotePair(x, y, "dot");
    return dotGeneral(px, py);
  }
  return matrixProduct("dot", x, y);
}

/**
 * np.matmul's semantics for np function `fn` (named in errors). With x of
 * shape [...batchX, m, k] and y of shape [...batchY, k, n] (after promoting
 * 1-D operands), the batch shapes broadcast and each matrix product is
 * [m, k] @ [k, n] -> [m, n].
 */
function matrixProduct(fn: string, a: ArrayLike, b: ArrayLike): Array {
  let [x, y] = promotePair(a, b, fn);
  const shapes = `shapes ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`;
  if (x.ndim === 0 || y.ndim === 0) {
    throw new ShapeError(
      `np.${fn}: operands must be at least 1-D, got ${shapes}; use np.multiply for scalars`,
    );
  }
  const xVec = x.ndim === 1;
  const yVec = y.ndim === 1;
  if (xVec) x = mv.reshape(x, [1, x.shape[0]!]);
  if (yVec) y = mv.reshape(y, [y.shape[0]!, 1]);
  const k1 = x.shape[x.ndim - 1]!;
  const k2 = y.shape[y.ndim - 2]!;
  if (k1 !== k2) {
    throw new ShapeError(
      `np.${fn}: inner dimensions do not match: ${shapes} (${k1} vs ${k2}); the last axis of ` +
        `the first operand must equal the ${yVec ? "only" : "second-to-last"} axis of the ` +
        `second (transpose one of them?)`,
    );
  }
  const batch = batchShape(fn, shapes, x.shape.slice(0, -2), y.shape.slice(0, -2));
  x = broadcastToShape(x, [...batch, ...x.shape.slice(-2)]);
  y = broadcastToShape(y, [...batch, ...y.shape.slice(-2)]);
  // bool @ bool is bool (NumPy, JAX): the int32 count of true products, then != 0.
  const bool = x.dtype === "bool";
  if (bool) {
    x = ew.convert(x, "int32");
    y = ew.convert(y, "int32");
  }
  let out = matmulPrim(x, y);
  if (bool) out = toBool(out);
  if (xVec && yVec) out = mv.reshape(out, batch);
  else if (xVec) out = mv.reshape(out, [...batch, out.shape[out.ndim - 1]!]);
  else if (yVec) out = mv.reshape(out, out.shape.slice(0, -1));
  return out;
}
/**
 * The broadcast batch shape of a matrix product (NumPy broadcasting of the
 * leading axes); `shapes` names the full operand shapes for the error.
 */
function batchShape(
  fn: string,
  shapes: string,
  xBatch: readonly number[],
  yBatch: readonly number[],
): number[] {
  const n = Math.max(xBatch.length, yBatch.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const dx = xBatch[xBatch.length - n + i] ?? 1;
    const dy = yBatch[yBatch.length - n + i] ?? 1;
    if (dx !== dy && dx !== 1 && dy !== 1) {
      throw new ShapeError(
        `np.${fn}: the batch (leading) dimensions of ${shapes} cannot be broadcast: batch ` +
          `axis ${i - n} (counted from the matrix axes) is ${dx} in the first and ${dy} in the ` +
          `second; each must be equal or 1`,
      );
    }
    out.push(dx === 1 ? dy : dx);
  }
  return out;
}
/** Outer product of two vectors (flattened first). */
export function outer(a: ArrayLike, b: ArrayLike): Array {
  // Promoted as a pair first, so that a JS number stays weakly typed.
  const [pa, pb] = promotePair(a, b, "outer");
  const x = ravel(pa);
  const y = ravel(pb);
  return multiply(mv.reshape(x, [x.size, 1]), mv.reshape(y, [1, y.size]));
}

// ------------------------------------------------------------------ shape --

/**
 * Reshape to `shape`, as a list (`reshape(x, [2, 3])`) or as separate sizes
 * (`reshape(x, 2, 3)`, as NumPy's `x.reshape(2, 3)`). One entry may be -1:
 * it is inferred so that the element count stays the same.
 */
export function reshape(
  x: ArrayLike,
  shape: readonly number[] | number,
  ...moreSizes: number[]
): Array {
  const a = arr(x, "reshape");
  const requested = moreSizes.length > 0 ? [shape, ...moreSizes] : shape;
  const s = checkShapeArg("np.reshape", requested, { inferred: true });
  const unknown = s.indexOf(-1);
  const known = s.reduce((acc, d, i) => (i === unknown ? acc : acc * d), 1);
  const fits = unknown >= 0 ? known !== 0 && a.size % known === 0 : known === a.size;
  if (!fits) {
    throw new ShapeError(
      `np.reshape: cannot reshape an array of shape ${fmtShape(a.shape)} (${a.size} elements) ` +
        `into ${fmtShape(s)}${unknown < 0 ? ` (${known} elements)` : ""}; the sizes must ` +
        `multiply to ${a.size}`,
    );
  }
  if (unknown >= 0) s[unknown] = a.size / known;
  return mv.reshape(a, s);
}
/**
 * The elements as a 1-D array, in row-major order.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.ravel([[1, 2], [3, 4]]); // array([1., 2., 3., 4.])
 * ```
 */
export function ravel(x: ArrayLike): Array {
  const a = arr(x, "ravel");
  return mv.reshape(a, [a.size]);
}
/** Permutes axes (reverses them by default). */
export function transpose(x: ArrayLike, axes?: readonly number[]): Array {
  const a = arr(x, "transpose");
  if (axes !== undefined && !globalThis.Array.isArray(axes)) {
    throw new InvalidArgumentError(
      `np.transpose: axes must be a list (a permutation of the ${a.ndim} axes of shape ` +
        `${fmtShape(a.shape)}), got ${describe(axes)}; e.g. np.transpose(x, [1, 0]) or ` +
        `x.transpose(1, 0)`,
    );
  }
  const perm =
    axes === undefined
      ? a.shape.map((_, i) => a.ndim - 1 - i)
      : axes.map((ax: number) => normalizeAxis("np.transpose", ax, a.ndim));
  return mv.transpose(a, perm);
}
/**
 * x with axes a1 and a2 exchanged.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.swapaxes(np.zeros([2, 3, 4]), 0, 2).shape; // [4, 3, 2]
 * ```
 */
export function swapaxes(x: ArrayLike, a1: number, a2: number): Array {
  const a = arr(x, "swapaxes");
  const perm = a.shape.map((_, i) => i);
  const i = normalizeAxis("np.swapaxes", a1, a.ndim);
  const j = normalizeAxis("np.swapaxes", a2, a.ndim);
  [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  return mv.transpose(a, perm);
}
/**
 * x with axis `source` moved to position `destination`, the others keeping their order.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.moveaxis(np.zeros([2, 3, 4]), 0, -1).shape; // [3, 4, 2]
 * ```
 */
export function moveaxis(x: ArrayLike, source: number, destination: number): Array {
  const a = arr(x, "moveaxis");
  const s = normalizeAxis("np.moveaxis", source, a.ndim);
  const d = normalizeAxis("np.moveaxis", destination, a.ndim);
  const perm = a.shape.map((_, i) => i).filter((i) => i !== s);
  perm.splice(d, 0, s);
  return mv.transpose(a, perm);
}
/** [values, indices] of x sorted along `axis` (the `sort` primitive works on the last axis). */
function sortAlong(fn: string, x: ArrayLike, axis: number | null): [Array, Array] {
  let a = arr(x, fn);
  if (axis === null) {
    a = mv.reshape(a, [a.size]);
    axis = 0;
  }
  if (a.ndim === 0) {
    throw new ShapeError(
      `np.${fn}: cannot sort a 0-d array (a scalar); pass an array of rank >= 1`,
    );
  }
  const ax = normalizeAxis(`np.${fn}`, axis, a.ndim);
  const last = a.ndim - 1;
  const [values, indices] = sortLastAxis(ax === last ? a : moveaxis(a, ax, last));
  return ax === last
    ? [values, indices]
    : [moveaxis(values, last, ax), moveaxis(indices, last, ax)];
}
/**
 * x sorted in ascending order along `axis` (default the last; null sorts
 * the flattened array; stable, NaN last); differentiable.
 */
export function sort(x: ArrayLike, axis: number | null = -1): Array {
  return sortAlong("sort", x, axis)[0];
}
/** The int32 indices that sort x along `axis` (default the last; null: flattened; stable, NaN last). */
export function argsort(x: ArrayLike, axis: number | null = -1): Array {
  return sortAlong("argsort", x, axis)[1];
}
/**
 * x broadcast to `shape` by NumPy's rules (size-1 and missing leading axes repeated); its gradient sums over the repeated axes.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.broadcastTo([1, 2], [3, 2]).shape; // [3, 2]
 * ```
 */
export function broadcastTo(x: ArrayLike, shape: readonly number[]): Array {
  const a = arr(x, "broadcastTo");
  const s = checkShapeArg("np.broadcastTo", shape);
  if (s.length < a.ndim) {
    throw new ShapeError(
      `np.broadcastTo: cannot broadcast shape ${fmtShape(a.shape)} to ${fmtShape(s)}`,
    );
  }
  return broadcastToShape(a, s);
}
/**
 * x with a new axis of size 1 at position `axis`.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.expandDims([1, 2], 0).shape; // [1, 2]
 * ```
 */
export function expandDims(x: ArrayLike, axis: number): Array {
  const a = arr(x, "expandDims");
  const ax = normalizeAxis("np.expandDims", axis, a.ndim + 1);
  const s = a.shape.slice();
  s.splice(ax, 0, 1);
  return mv.reshape(a, s);
}
/**
 * x without its size-1 axes (or only those in `axis`, which must have size 1).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.squeeze(np.zeros([1, 3, 1])).shape; // [3]
 * ```
 */
export function squeeze(x: ArrayLike, axis?: number | readonly number[]): Array {
  const a = arr(x, "squeeze");
  const axes =
    axis === undefined
      ? a.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)
      : normalizeAxes("np.squeeze", axis, a.ndim);
  for (const ax of axes) {
    if (a.shape[ax] !== 1) {
      throw new ShapeError(
        `np.squeeze: axis ${ax} of shape ${fmtShape(a.shape)} has size ${a.shape[ax]}, not 1`,
      );
    }
  }
  return mv.reshape(
    a,
    a.shape.filter((_, i) => !axes.includes(i)),
  );
}
/**
 * The arrays joined along an existing `axis` (default 0); the other axes must agree.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.concatenate([[1, 2], [3]]); // array([1., 2., 3.])
 * ```
 */
export function concatenate(xs: readonly ArrayLike[] | Array, axis = 0): Array {
  xs = sequenceOf("concatenate", xs);
  if (xs.length === 0) throw new InvalidArgumentError(`np.concatenate: needs at least one array`);
  const arrays = promoteMany("concatenate", xs);
  const first = arrays[0]!;
  if (first.ndim === 0)
    throw new ShapeError(
      `np.concatenate: zero-dimensional arrays cannot be concatenated; use np.stack`,
    );
  for (const a of arrays) {
    if (a.ndim !== first.ndim) {
      throw new ShapeError(
        `np.concatenate: all arrays need the same rank, got shapes ${arrays.map((v) => fmtShape(v.shape)).join(", ")}`,
      );
    }
  }
  return mv.concatenate(arrays, normalizeAxis("np.concatenate", axis, first.ndim));
}
/** Joins arrays along a new axis. */
export function stack(xs: readonly ArrayLike[] | Array, axis = 0): Array {
  xs = sequenceOf("stack", xs);
  if (xs.length === 0) throw new InvalidArgumentError(`np.stack: needs at least one array`);
  const arrays = promoteMany("stack", xs);
  const shape = arrays[0]!.shape;
  for (const a of arrays) {
    if (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(
        `np.stack: all arrays need the same shape, got ${arrays.map((v) => fmtShape(v.shape)).join(", ")}`,
      );
    }
  }
  const ax = normalizeAxis("np.stack", axis, shape.length + 1);
  return mv.concatenate(
    arrays.map((a) => expandDims(a, ax)),
    ax,
  );
}
function promoteMany(fn: string, xs: readonly ArrayLike[]): Array[] {
  const arrays = xs.map((x, i) => arr(x, fn, `${i}`));
  const dt = arrays.reduce<DType>(
    (d, a) =>
      d === a.dtype
        ? d
        : promotePair(ConcreteArray.zeros([], d), ConcreteArray.zeros([], a.dtype), fn)[0].dtype,
    arrays[0]!.dtype,
  );
  return arrays.map((a) => (a.dtype === dt ? a : ew.convert(a, dt)));
}

// --------------------------------------------------------------- indexing --

/** Elements at integer `indices` along `axis` (of the flattened array when omitted). */
export function take(x: ArrayLike, indices: ArrayLike, axis?: number): Array {
  let a = arr(x, "take");
  let idx = arr(indices, "take", "indices");
  if (isFloat(idx.dtype)) {
    const c = idx instanceof ConcreteArray ? idx : undefined;
    if (c !== undefined && c.buffer.every((v) => Number.isInteger(v)))
      idx = ew.convert(idx, "int32");
    else {
      throw new InvalidArgumentError(
        `np.take: indices must be integers, got dtype ${idx.dtype}; convert with astype("int32")`,
      );
    }
  } else if (idx.dtype === "bool") {
    throw new InvalidArgumentError(`np.take: indices must be integers, got a bool array`);
  }
  if (axis === undefined) {
    a = mv.reshape(a, [a.size]);
    return gather(a, idx, 0);
  }
  return gather(a, idx, normalizeAxis("np.take", axis, a.ndim));
}

/** Reverses the order of elements along `axis` (all axes when omitted). */
export function flip(x: ArrayLike, axis?: number | readonly number[]): Array {
  let a = arr(x, "flip");
  for (const ax of normalizeAxes("np.flip", axis, a.ndim)) {
    const n = a.shape[ax]!;
    const reversed = new ConcreteArray(
      [n],
      "int32",
      Int32Array.from({ length: n }, (_, i) => n - 1 - i),
    );
    a = gather(a, reversed, ax);
  }
  return a;
}

// ----------------------------------------------------------------- print --

/**
 * NumPy's repr text of x (what `x.toString()` and `console.log(x)` show).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * np.toString(np.array([1, 2])); // "array([1., 2.])"
 * ```
 */
export function toString(x: Array): string {
  return formatArray(x);
}

installArrayMethods({
  add,
  subtract,
  multiply,
  divide,
  power,
  negative,
  matmul,
  sum: (a, axis, opts) => sum(a, axis, opts),
  mean: (a, axis, opts) => mean(a, axis, opts),
  max: (a, axis, opts) => max(a, axis, opts),
  min: (a, axis, opts) => min(a, axis, opts),
  reshape,
  transpose,
  astype,
  exp,
  log,
  sin,
  cos,
  tanh,
  sqrt,
  square,
  abs,
  less,
  lessEqual,
  greater,
  greaterEqual,
  equal,
  notEqual,
  slice,
  toString,
});

export { scalar };
export { variance as var };
export { at, nonzero, slice } from "./indexing.js";
export { einsum, einsumPath, type EinsumStep } from "./einsum.js";
export {
  append,
  arraySplit,
  atleast1d,
  atleast2d,
  atleast3d,
  columnStack,
  diff,
  dstack,
  fliplr,
  flipud,
  gradient,
  hsplit,
  hstack,
  pad,
  type PadWidth,
  repeat,
  roll,
  rot90,
  split,
  tile,
  vsplit,
  vstack,
} from "./shape.js";
export {
  argpartition,
  cumprod,
  nanMean,
  type NanAxis,
  type NanAxisOptions,
  nanSum,
  partition,
  searchsorted,
  unique,
  type UniqueResult,
} from "./sorting.js";
export * as linalg from "./linalg.js";
export {
  cross,
  diag,
  diagonal,
  inner,
  kron,
  tensordot,
  trace,
  tril,
  triu,
  vander,
} from "./products.js";
export * from "./math.js";
