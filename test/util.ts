/**
 * Test utilities: a seeded PRNG, tolerant comparisons on nested numbers and
 * Arrays, and central finite differences in float64 (on plain JS functions
 * or on chainrule functions evaluated eagerly). Nothing here uses AD, so it
 * gives values independent of the library's derivative machinery.
 */
import { expect } from "vitest";
import { Array as NdArray, np } from "../src/index.js";

/** Nested JS numbers, Arrays, or numbers. */
export type Numeric = number | boolean | NdArray | readonly Numeric[] | ArrayLike<number>;

/** mulberry32: a deterministic PRNG with uniform output in [0, 1). */
export { uniformGenerator as mulberry32 } from "../src/core/random.js";

/** `n` uniform numbers in [lo, hi). */
export function uniform(r: () => number, n: number, lo = -1, hi = 1): number[] {
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** A random float64 (or float32) Array with entries in [lo, hi). */
export function randArray(
  r: () => number,
  shape: readonly number[],
  lo = -1,
  hi = 1,
  dtype: "float64" | "float32" = "float64",
): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(Float64Array.from(uniform(r, n, lo, hi)), { shape }).astype(dtype);
}

/** Flattens an Array, a number, or nested arrays of those to number[] (row-major). */
export function toNumbers(x: Numeric): number[] {
  if (typeof x === "number") return [x];
  if (typeof x === "boolean") return [x ? 1 : 0];
  if (x instanceof NdArray) return Array.from(x.data() as ArrayLike<number>, Number);
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) out.push(...toNumbers((x as readonly Numeric[])[i]!));
  return out;
}

/** The shape of an Array, number (`[]`) or rectangular nested JS array. */
export function shapeOf(x: Numeric): number[] {
  if (typeof x === "number" || typeof x === "boolean") return [];
  if (x instanceof NdArray) return [...x.shape];
  const xs = x as readonly Numeric[];
  return xs.length === 0 ? [0] : [xs.length, ...shapeOf(xs[0]!)];
}

/** Largest violation of |a - b| <= atol + rtol * max(|a|, |b|), with its index; null if none. */
export function worstMismatch(
  a: number[],
  b: number[],
  rtol: number,
  atol: number,
): { index: number; a: number; b: number; err: number } | null {
  let worst: { index: number; a: number; b: number; err: number } | null = null;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Object.is(x, y)) continue;
    const err = Math.abs(x - y);
    const bound = atol + rtol * Math.max(Math.abs(x), Math.abs(y));
    const excess = Number.isNaN(err) ? Infinity : err - bound;
    if (excess > 0 && (worst === null || excess > worst.err)) worst = { index: i, a: x, b: y, err };
  }
  return worst;
}

/** True when a and b have the same number of elements and all are close. */
export function allClose(a: Numeric, b: Numeric, rtol = 1e-9, atol = 1e-12): boolean {
  const x = toNumbers(a);
  const y = toNumbers(b);
  return x.length === y.length && worstMismatch(x, y, rtol, atol) === null;
}

/**
 * Asserts closeness with a message naming the worst element. If both are
 * Arrays or nested JS arrays, shapes are compared too (a number matches a
 * shape-[] Array).
 */
export function expectClose(
  actual: Numeric,
  expected: Numeric,
  rtol = 1e-9,
  atol = 1e-12,
  what = "",
): void {
  const sa = shapeOf(actual);
  const se = shapeOf(expected);
  if (sa.join(",") !== se.join(",")) {
    expect.fail(`${what} shape mismatch: got [${sa.join(", ")}], expected [${se.join(", ")}]`);
  }
  const a = toNumbers(actual);
  const e = toNumbers(expected);
  expect(a.length, `${what} number of elements`).toBe(e.length);
  const w = worstMismatch(a, e, rtol, atol);
  if (w !== null) {
    expect.fail(
      `${what} element ${w.index}: got ${w.a}, expected ${w.b} (|diff| ${w.err.toExponential(2)}, ` +
        `rtol ${rtol}, atol ${atol})`,
    );
  }
}

/**
 * Central finite-difference gradient of a scalar function of a flat vector.
 * f may return a JS number or a size-1 chainrule Array.
 */
export function numericGrad(
  f: (x: number[]) => number | NdArray,
  x: readonly number[],
  eps = 1e-6,
): number[] {
  const val = (v: number[]): number => {
    const y = f(v);
    return typeof y === "number" ? y : y.item();
  };
  return x.map((_, j) => {
    const p = x.slice();
    const m = x.slice();
    p[j] = p[j]! + eps;
    m[j] = m[j]! - eps;
    return (val(p) - val(m)) / (2 * eps);
  });
}

/**
 * Central finite-difference Jacobian of a vector function of a flat vector:
 * rows are outputs, columns inputs (J[i][j] = d f_i / d x_j).
 */
export function numericJacobianFlat(
  f: (x: number[]) => number[],
  x: readonly number[],
  eps = 1e-6,
): number[][] {
  const cols = x.map((_, j) => {
    const p = x.slice();
    const m = x.slice();
    p[j] = p[j]! + eps;
    m[j] = m[j]! - eps;
    const fp = f(p);
    const fm = f(m);
    return fp.map((v, i) => (v - fm[i]!) / (2 * eps));
  });
  const nOut = cols[0]?.length ?? f(x.slice()).length;
  return Array.from({ length: nOut }, (_, i) => cols.map((c) => c[i]!));
}

/**
 * Central finite-difference Jacobian of a chainrule function with respect to
 * argument `argnum`, evaluated eagerly on perturbed float64 np.array inputs.
 * Returns a float64 Array shaped out.shape ++ in.shape (JAX's layout).
 */
export function numericJacobian(
  f: (...args: NdArray[]) => NdArray,
  args: readonly Numeric[],
  argnum = 0,
  eps = 1e-6,
): NdArray {
  const arrays = args.map((a) =>
    a instanceof NdArray ? a.astype("float64") : np.array(a as never, { dtype: "float64" }),
  );
  const x = arrays[argnum]!;
  const base = toNumbers(x);
  const inShape = [...x.shape];
  const evalAt = (v: number[]): NdArray => {
    const xs = arrays.slice();
    xs[argnum] = np.array(Float64Array.from(v), { shape: inShape });
    return f(...xs);
  };
  const outShape = [...evalAt(base.slice()).shape];
  const J = numericJacobianFlat((v) => toNumbers(evalAt(v)), base, eps);
  return np.array(Float64Array.from(J.flat()), { shape: [...outShape, ...inShape] });
}

/** Central finite-difference gradient of a scalar chainrule function w.r.t. argument `argnum`. */
export function numericGradArray(
  f: (...args: NdArray[]) => NdArray,
  args: readonly Numeric[],
  argnum = 0,
  eps = 1e-6,
): NdArray {
  return numericJacobian(f, args, argnum, eps);
}

/** Plain-JS matrix product of row-major matrices. */
export function matmulJS(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}

/** Reshapes flat data into nested arrays of the given shape. */
export function nest(data: readonly number[], shape: readonly number[]): Numeric {
  if (shape.length === 0) return data[0]!;
  const [n, ...rest] = shape;
  const stride = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: n! }, (_, i) => nest(data.slice(i * stride, (i + 1) * stride), rest));
}
