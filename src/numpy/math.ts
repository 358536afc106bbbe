/**
 * More of NumPy's elementwise math for `np` (re-exported by numpy/index.ts):
 * logaddexp, logaddexp2, the inverse hyperbolic functions, exp2, log2,
 * log10, hypot, sinc, fmax, fmin, deg2rad, rad2deg, nanToNum, heaviside,
 * copysign, trunc, round with decimals, remainder, floorDivide and fmod.
 *
 * Each is a primitive (where one number in, one out is the whole story:
 * arcsinh, log2, hypot, fmod, floorDivide...) or a composite of primitives
 * whose derivatives then follow; NumPy's broadcasting and promotion come
 * from numpy/core.ts. Integer and bool operands promote to float64 where
 * NumPy returns floats.
 */
import type { Array, ArrayLike } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { InvalidArgumentError } from "../core/errors.js";
import * as ew from "../primitives/elementwise.js";
import { fullLike } from "../primitives/operands.js";
import { arr, asFloat, binary } from "./core.js";

const floatUnary =
  (fn: string, op: (x: Array) => Array) =>
  (x: ArrayLike): Array =>
    op(asFloat(arr(x, fn)));
const floatBinary =
  (fn: string, op: (a: Array, b: Array) => Array) =>
  (a: ArrayLike, b: ArrayLike): Array =>
    binary(fn, (x, y) => op(asFloat(x), asFloat(y)), a, b, "float");

const isNan = (x: Array): Array => ew.ne(x, x);

/**
 * log(exp(a) + exp(b)), without overflow: max(a, b) + log1p(exp(-|a - b|)),
 * with |a - b| taken as 0 where a = b (so that two equal infinities give that
 * infinity, not NaN).
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.logaddexp(1000, 1000); // 1000 + log 2
 * ```
 */
export const logaddexp = floatBinary("logaddexp", (a, b) => {
  const gap = ew.select(ew.eq(a, b), fullLike(a, 0), ew.abs(ew.sub(a, b)));
  return ew.add(ew.max(a, b), ew.log1p(ew.exp(ew.neg(gap))));
});

/**
 * log2(2^a + 2^b), without overflow: max(a, b) + log1p(2^-|a - b|) / ln 2.
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.logaddexp2(3, 3); // 4
 * ```
 */
export const logaddexp2 = floatBinary("logaddexp2", (a, b) => {
  const gap = ew.select(ew.eq(a, b), fullLike(a, 0), ew.abs(ew.sub(a, b)));
  const tail = ew.log1p(ew.pow(fullLike(a, 2), ew.neg(gap)));
  return ew.add(ew.max(a, b), ew.div(tail, fullLike(a, Math.LN2)));
});

/**
 * Inverse hyperbolic sine, elementwise (ints promote to float64).
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.arcsinh(0); // 0
 * ```
 */
export const arcsinh = floatUnary("arcsinh", ew.asinh);
/**
 * Inverse hyperbolic cosine (x >= 1; NaN below), elementwise.
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.arccosh(1); // 0
 * ```
 */
export const arccosh = floatUnary("arccosh", ew.acosh);
/**
 * Inverse hyperbolic tangent (|x| < 1), elementwise.
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.arctanh(0.5); // 0.5493...
 * ```
 */
export const arctanh = floatUnary("arctanh", ew.atanh);
/**
 * Base-2 logarithm (exact on powers of two), elementwise.
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.log2(8); // 3
 * ```
 */
export const log2 = floatUnary("log2", ew.log2);
/**
 * Base-10 logarithm, elementwise.
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.log10(1000); // 3
 * ```
 */
export const log10 = floatUnary("log10", ew.log10);
/**
 * 2^x, elementwise (exact for integer x in range).
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.exp2(10); // 1024
 * ```
 */
export const exp2 = floatUnary("exp2", (x) => ew.pow(fullLike(x, 2), x));

/**
 * sqrt(a^2 + b^2) without overflow or underflow (Math.hypot), elementwise.
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.hypot(3, 4); // 5
 * ```
 */
export const hypot = floatBinary("hypot", ew.hypot);

/**
 * The normalised sinc, sin(pi x) / (pi x), with sinc(0) = 1. sin(pi x) is
 * (-1)^n sin(pi (x - n)) with n = round(x) (x - n exact), so results near
 * the zeros at the integers keep their relative accuracy. Below |x| = 1e-4
 * the Taylor polynomial 1 - (pi x)^2/6 + (pi x)^4/120 is used (exact to
 * rounding there), so derivatives at and near 0 are right too.
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.sinc(0.5); // 2 / pi
 * ```
 */
export const sinc = floatUnary("sinc", (x) => {
  const small = ew.lt(ew.abs(x), fullLike(x, 1e-4));
  const n = ew.round(x);
  // (-1)^n = 1 - 2 (n mod 2)
  const sign = ew.sub(fullLike(x, 1), ew.mul(fullLike(x, 2), ew.rem(n, fullLike(x, 2))));
  const sinPiX = ew.mul(sign, ew.sin(ew.mul(ew.sub(x, n), fullLike(x, Math.PI))));
  const px = ew.mul(x, fullLike(x, Math.PI));
  const safe = ew.select(small, fullLike(x, 1), px);
  const ratio = ew.div(ew.select(small, fullLike(x, 1), sinPiX), safe);
  const u = ew.select(small, px, fullLike(x, 0));
  const u2 = ew.mul(u, u);
  // 1 + u^2 (-1/6 + u^2 / 120)
  const taylor = ew.add(
    fullLike(x, 1),
    ew.mul(u2, ew.add(fullLike(x, -1 / 6), ew.mul(u2, fullLike(x, 1 / 120)))),
  );
  return ew.select(small, taylor, ratio);
});

/**
 * Elementwise maximum that ignores NaN (NaN only where both are NaN).
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.fmax(NaN, 2); // 2
 * ```
 */
export const fmax = (a: ArrayLike, b: ArrayLike): Array =>
  binary("fmax", (x, y) => ew.select(isNan(y), x, ew.select(isNan(x), y, ew.max(x, y))), a, b);
/**
 * Elementwise minimum that ignores NaN (NaN only where both are NaN).
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.fmin(NaN, 2); // 2
 * ```
 */
export const fmin = (a: ArrayLike, b: ArrayLike): Array =>
  binary("fmin", (x, y) => ew.select(isNan(y), x, ew.select(isNan(x), y, ew.min(x, y))), a, b);

/**
 * Degrees to radians: x * (pi / 180).
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.deg2rad(180); // pi
 * ```
 */
export const deg2rad = floatUnary("deg2rad", (x) => ew.mul(x, fullLike(x, Math.PI / 180)));
/**
 * Radians to degrees: x * (180 / pi).
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.rad2deg(Math.PI); // 180
 * ```
 */
export const rad2deg = floatUnary("rad2deg", (x) => ew.mul(x, fullLike(x, 180 / Math.PI)));

/** Options of nanToNum: the replacements (defaults: 0 and the dtype's largest finite values). */
export interface NanToNumOptions {
  /** The value that replaces NaN (default 0). */
  nan?: number;
  /**
   * The value that replaces +inf (default the dtype's largest finite value:
   * 3.4028234663852886e38 for float32, Number.MAX_VALUE for float64).
   */
  posinf?: number;
  /** The value that replaces -inf (default minus the dtype's largest finite value). */
  neginf?: number;
}
/**
 * Replaces NaN by `nan` (0), +inf by `posinf` and -inf by `neginf` (the
 * largest finite values of the dtype). Int and bool arrays come back as they are.
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.nanToNum([NaN, Infinity, 1], { posinf: 9 }); // [0, 9, 1]
 * ```
 */
export function nanToNum(x: ArrayLike, opts: NanToNumOptions = {}): Array {
  const a = arr(x, "nanToNum");
  if (a.dtype === "int32" || a.dtype === "bool") return a;
  const big = a.dtype === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
  const infinite = ew.select(
    ew.eq(a, fullLike(a, Infinity)),
    fullLike(a, opts.posinf ?? big),
    fullLike(a, opts.neginf ?? -big),
  );
  const finite = ew.lt(ew.abs(a), fullLike(a, Infinity));
  return ew.select(finite, a, ew.select(isNan(a), fullLike(a, opts.nan ?? 0), infinite));
}

/**
 * The Heaviside step: 0 where x1 < 0, x2 where x1 = 0, 1 where x1 > 0 (NaN stays NaN).
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.heaviside([-1, 0, 2], 0.5); // [0, 0.5, 1]
 * ```
 */
export const heaviside = floatBinary("heaviside", (x1, x2) =>
  ew.select(
    ew.lt(x1, fullLike(x1, 0)),
    fullLike(x1, 0),
    ew.select(ew.gt(x1, fullLike(x1, 0)), fullLike(x1, 1), ew.select(isNan(x1), x1, x2)),
  ),
);

/**
 * |a| with the sign of b, elementwise; -0 counts as negative, as in NumPy
 * (the sign bit of a NaN is not seen: NaN counts as positive).
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.copysign(3, -0); // -3
 * ```
 */
export const copysign = floatBinary("copysign", (a, b) => {
  const zero = fullLike(b, 0);
  const negativeZero = ew.logicalAnd(ew.eq(b, zero), ew.lt(ew.div(fullLike(b, 1), b), zero));
  const negative = ew.logicalOr(ew.lt(b, zero), negativeZero);
  const magnitude = ew.abs(a);
  return ew.select(negative, ew.neg(magnitude), magnitude);
});

/**
 * Rounds towards zero, elementwise; int32 and bool inputs are returned
 * unchanged (as NumPy 2 and JAX).
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.trunc([-1.7, 1.7]); // [-1, 1]
 * ```
 */
export const trunc = (x: ArrayLike): Array => {
  const a = arr(x, "trunc");
  if (!isFloat(a.dtype)) return a;
  return ew.select(ew.lt(a, fullLike(a, 0)), ew.ceil(a), ew.floor(a));
};

/**
 * Rounds half to even, as NumPy, to `decimals` decimal places (negative:
 * to tens, hundreds...), by NumPy's method: rint(x * 10^d) / 10^d (for
 * d < 0, rint(x / 10^-d) * 10^-d), so results agree with NumPy bit for bit.
 * int32 and bool inputs keep their dtype: unchanged for d >= 0, and for
 * d < 0 rounded (half to even) in float64 and converted back to int32, as
 * NumPy 2 rounds integers.
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.round([0.5, 1.5, 2.675], 0); // [0, 2, 3]
 * ```
 */
export function round(x: ArrayLike, decimals = 0): Array {
  if (!Number.isInteger(decimals)) {
    throw new InvalidArgumentError(
      `np.round: decimals must be an integer, got ${decimals}; e.g. np.round(x, 2)`,
    );
  }
  const input = arr(x, "round");
  if (!isFloat(input.dtype)) {
    if (decimals >= 0) return input;
    return ew.convert(round(asFloat(input), decimals), "int32");
  }
  const a = input;
  if (decimals === 0) return ew.round(a);
  const scale = fullLike(a, 10 ** Math.abs(decimals));
  return decimals > 0
    ? ew.div(ew.round(ew.mul(a, scale)), scale)
    : ew.mul(ew.round(ew.div(a, scale)), scale);
}

/**
 * Remainder with the sign of the divisor (NumPy's mod and remainder), exact
 * (computed from fmod).
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.remainder(-7, 3); // 2
 * ```
 */
export const remainder = (a: ArrayLike, b: ArrayLike): Array => binary("remainder", ew.rem, a, b);

/**
 * The largest integer <= a / b, elementwise, as NumPy's floor_divide (ints
 * stay int32 and give 0 for b = 0; floats follow NumPy's divmod rule).
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.floorDivide(-7, 2); // -4
 * ```
 */
export const floorDivide = (a: ArrayLike, b: ArrayLike): Array =>
  binary("floorDivide", ew.floorDivide, a, b);

/**
 * C's fmod: the remainder with the sign of the dividend, exact.
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.fmod(-7, 3); // -1
 * ```
 */
export const fmod = (a: ArrayLike, b: ArrayLike): Array => binary("fmod", ew.fmod, a, b);
