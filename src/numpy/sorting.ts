/**
 * np's order-based functions beside sort/argsort: partition and
 * argpartition (through the stable sort primitive), searchsorted (counts of
 * comparisons, so it works under jit and vmap), unique (eager only: its
 * output shape depends on the values), cumprod (a log-depth product scan,
 * exact derivatives where entries are zero), and the NaN-skipping sums
 * nanSum and nanMean.
 */
import { Array, type ArrayLike, ConcreteArray } from "../core/array.js";
import { allocate } from "../core/dtype.js";
import { ConcretizationError, InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { normalizeAxes, normalizeAxis } from "../core/shape.js";
import { Tracer } from "../core/trace.js";
import * as ew from "../primitives/elementwise.js";
import * as mv from "../primitives/movement.js";
import { sort as sortLastAxis } from "../primitives/sort.js";
import { checkInt, flatten } from "./arrays.js";
import { arr, asFloat, promotePair } from "./core.js";

/** [values, indices] sorted along `axis` (null: the flattened array). */
function sortAxis(fn: string, x: ArrayLike, axis: number | null): [Array, Array] {
  let a = arr(x, fn);
  if (axis === null) a = flatten(a);
  if (a.ndim === 0) {
    throw new ShapeError(
      `np.${fn}: cannot sort a 0-d array (a scalar); pass an array of rank >= 1`,
    );
  }
  const ax = axis === null ? 0 : normalizeAxis(`np.${fn}`, axis, a.ndim);
  const last = a.ndim - 1;
  const [v, i] = sortLastAxis(ax === last ? a : mv.moveAxis(a, ax, last));
  return ax === last ? [v, i] : [mv.moveAxis(v, last, ax), mv.moveAxis(i, last, ax)];
}

function checkKth(fn: string, kth: number | readonly number[], n: number): void {
  for (const k of typeof kth === "number" ? [kth] : kth) {
    checkInt(fn, "kth", k);
    if (k < -n || k >= n) {
      throw new ShapeError(`np.${fn}: kth = ${k} is out of bounds for an axis of length ${n}`);
    }
  }
}

/**
 * x rearranged along `axis` so that the element at position kth is the one
 * a full sort puts there, smaller ones before it and larger ones after. The
 * order inside each side is unspecified in NumPy; here it is sorted (a
 * stable sort is a valid partition). Differentiable like sort.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const p = np.partition([3, 1, 2, 5, 4], 2); // element 2 is 3
 * ```
 */
export function partition(
  x: ArrayLike,
  kth: number | readonly number[],
  axis: number | null = -1,
): Array {
  const [v] = sortAxis("partition", x, axis);
  checkKth(
    "partition",
    kth,
    v.shape[axis === null ? 0 : normalizeAxis("np.partition", axis, v.ndim)]!,
  );
  return v;
}
/**
 * The int32 indices that partition x along `axis` (see partition).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const i = np.argpartition([3, 1, 2], 0); // [1, 2, 0]
 * ```
 */
export function argpartition(
  x: ArrayLike,
  kth: number | readonly number[],
  axis: number | null = -1,
): Array {
  const [v, i] = sortAxis("argpartition", x, axis);
  checkKth(
    "argpartition",
    kth,
    v.shape[axis === null ? 0 : normalizeAxis("np.argpartition", axis, v.ndim)]!,
  );
  return i;
}

/**
 * Indices where `v` would be inserted into the sorted 1-D array `a` to keep
 * it sorted: with side "left" the count of entries of a below v, with
 * "right" the count not above it (NaN sorts last, as in np.sort). The
 * result has v's shape (int32). Works under jit and vmap (it compares every
 * pair: O(len(a) * size(v))).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const i = np.searchsorted([1, 2, 2, 3], [2, 5]); // [1, 4]
 * const j = np.searchsorted([1, 2, 2, 3], 2, { side: "right" }); // 3
 * ```
 */
export function searchsorted(
  a: ArrayLike,
  v: ArrayLike,
  opts: { side?: "left" | "right" } = {},
): Array {
  const [s, q] = promotePair(a, v, "searchsorted");
  if (s.ndim !== 1) {
    throw new ShapeError(
      `np.searchsorted: a must be a sorted 1-D array, got shape ${fmtShape(s.shape)}`,
    );
  }
  const side = opts.side ?? "left";
  if (side !== "left" && side !== "right") {
    throw new InvalidArgumentError(
      `np.searchsorted: side must be "left" or "right", got ${JSON.stringify(side)}`,
    );
  }
  const n = s.shape[0]!;
  const shape = [...q.shape, n];
  const as = mv.broadcastInDim(s, shape, [q.ndim]);
  const vs = mv.broadcastInDim(
    q,
    shape,
    q.shape.map((_, d) => d),
  );
  // NaN-last order: p < r  iff  p < r, or r is NaN and p is not.
  const before = (p: Array, r: Array) =>
    ew.logicalOr(ew.lt(p, r), ew.logicalAnd(ew.ne(r, r), ew.eq(p, p)));
  const hit = side === "left" ? before(as, vs) : ew.logicalNot(before(vs, as));
  return mv.reduceSum(ew.convert(hit, "int32"), [q.ndim]);
}

/** What np.unique returns with options: the values and the requested extras. */
export interface UniqueResult {
  /** The sorted distinct values (what `np.unique(x)` returns without options; NaNs last, once). */
  values: Array;
  /** Index of the first occurrence of each value in the flattened input (int32). */
  indices?: Array;
  /** For each input element, the index of its value in `values` (int32). */
  inverse?: Array;
  /** How often each value occurs (int32). */
  counts?: Array;
}

/**
 * The sorted distinct values of the flattened x (all NaNs count as one
 * value, placed last, as NumPy >= 1.21 does).
 * Eager only: the number of values depends on the data, so under jit, vmap
 * or a derivative it is an error. With options, returns an object with the
 * requested `indices`, `inverse` and `counts`.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const u = np.unique([3, 1, 3, 2]); // [1, 2, 3]
 * const { values, counts } = np.unique([3, 1, 3], { returnCounts: true }); // [1, 3], [1, 2]
 * ```
 */
export function unique(x: ArrayLike): Array;
export function unique(
  x: ArrayLike,
  opts: { returnIndex?: boolean; returnInverse?: boolean; returnCounts?: boolean },
): UniqueResult;
export function unique(
  x: ArrayLike,
  opts?: { returnIndex?: boolean; returnInverse?: boolean; returnCounts?: boolean },
): Array | UniqueResult {
  const a = arr(x, "unique");
  if (a instanceof Tracer) {
    throw new ConcretizationError(
      `np.unique: the number of distinct values depends on the data, so it cannot be computed ` +
        `under jit, vmap or a derivative (got a traced array of shape ${fmtShape(a.shape)}); ` +
        `call it outside the transformation, or use np.sort / np.searchsorted, whose shapes ` +
        `are static`,
    );
  }
  const c = a.concrete("np.unique");
  const n = c.size;
  const src = c.buffer;
  const order = globalThis.Array.from({ length: n }, (_, i) => i);
  order.sort((i, j) => {
    const p = src[i]!;
    const q = src[j]!;
    if (Number.isNaN(p) || Number.isNaN(q)) {
      return Number.isNaN(p) === Number.isNaN(q) ? i - j : Number.isNaN(p) ? 1 : -1;
    }
    return p < q ? -1 : p > q ? 1 : i - j;
  });
  const same = (i: number, j: number) =>
    src[i] === src[j] || (Number.isNaN(src[i]!) && Number.isNaN(src[j]!));
  const first: number[] = [];
  const counts: number[] = [];
  const inverse = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (k === 0 || !same(order[k - 1]!, i)) {
      first.push(i);
      counts.push(0);
    }
    counts[counts.length - 1]!++;
    inverse[i] = first.length - 1;
  }
  const values = allocate(c.dtype, first.length);
  first.forEach((i, k) => (values[k] = src[i]!));
  const valuesArr = new ConcreteArray([first.length], c.dtype, values);
  if (opts === undefined) return valuesArr;
  const out: UniqueResult = { values: valuesArr };
  if (opts.returnIndex)
    out.indices = new ConcreteArray([first.length], "int32", Int32Array.from(first));
  if (opts.returnInverse) out.inverse = new ConcreteArray([n], "int32", inverse);
  if (opts.returnCounts)
    out.counts = new ConcreteArray([first.length], "int32", Int32Array.from(counts));
  return out;
}

/**
 * Cumulative product along `axis` (of the flattened array when omitted).
 * Computed as a log-depth scan of elementwise products (no division), so
 * its derivatives are exact where entries are zero.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const c = np.cumprod([1, 2, 3, 4]); // [1, 2, 6, 24]
 * ```
 */
export function cumprod(x: ArrayLike, axis?: number): Array {
  let a = arr(x, "cumprod");
  if (a.dtype === "bool") a = ew.convert(a, "int32");
  if (axis === undefined) a = flatten(a);
  const ax = axis === undefined ? 0 : normalizeAxis("np.cumprod", axis, a.ndim);
  const n = a.shape[ax]!;
  // Hillis-Steele: after the pass with shift s, y[i] is the product of
  // x[i - 2s + 1 .. i]; padding with ones keeps the early entries.
  let y = a;
  for (let s = 1; s < n; s *= 2) {
    const start = y.shape.map(() => 0);
    const limit = y.shape.map((d, k) => (k === ax ? n - s : d));
    const shifted = mv.slice(y, start, limit);
    const onesShape = y.shape.map((d, k) => (k === ax ? s : d));
    const ones = ConcreteArray.full(onesShape, y.dtype, 1);
    y = ew.mul(y, mv.concatenate([ones, shifted], ax));
  }
  return y;
}

/**
 * The `axis` of nanSum and nanMean: an axis (negative counts from the end),
 * a list of axes, or null / undefined for all axes (the same as {@link Axis}).
 */
export type NanAxis = number | readonly number[] | null | undefined;

/** The options form of a nanSum/nanMean axis argument, as np.sum takes it. */
export type NanAxisOptions = {
  /** The axis or axes to reduce (all when absent). */
  axis?: NanAxis;
  /** Keep the reduced axes, with size 1. */
  keepdims?: boolean;
};

/**
 * The axes and keepdims of nanSum/nanMean: `axis` positionally or, as every
 * other reduction takes it, `{ axis, keepdims }`.
 */
function nanAxes(
  fn: string,
  a: Array,
  axisArg: NanAxis | NanAxisOptions,
  opts: { keepdims?: boolean },
): { axes: number[]; keepdims: boolean } {
  let axis: NanAxis = axisArg as NanAxis;
  let keepdims = opts.keepdims ?? false;
  if (axisArg !== null && typeof axisArg === "object" && !globalThis.Array.isArray(axisArg)) {
    const o = axisArg as NanAxisOptions;
    axis = o.axis;
    keepdims = o.keepdims ?? keepdims;
  }
  return { axes: normalizeAxes(`np.${fn}`, axis ?? null, a.ndim), keepdims };
}

/**
 * Sum treating NaN as zero, over `axis` (all axes when omitted); `axis` may
 * also be given as `{ axis, keepdims }`, as np.sum takes it.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const s = np.nanSum([1, NaN, 2]); // 3
 * ```
 */
export function nanSum(
  x: ArrayLike,
  axis?: NanAxis | NanAxisOptions,
  opts: { keepdims?: boolean } = {},
): Array {
  const a = arr(x, "nanSum");
  const { axes, keepdims } = nanAxes("nanSum", a, axis, opts);
  const clean = a.dtype === "bool" ? ew.convert(a, "int32") : dropNaN(a);
  return keep(mv.reduceSum(clean, axes), a.shape, axes, keepdims);
}
/**
 * Mean of the entries that are not NaN, over `axis` (all axes when
 * omitted; `{ axis, keepdims }` also works); NaN where a slice has no such entry.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const m = np.nanMean([1, NaN, 2]); // 1.5
 * ```
 */
export function nanMean(
  x: ArrayLike,
  axis?: NanAxis | NanAxisOptions,
  opts: { keepdims?: boolean } = {},
): Array {
  const a = asFloat(arr(x, "nanMean"));
  const { axes, keepdims } = nanAxes("nanMean", a, axis, opts);
  const s = mv.reduceSum(dropNaN(a), axes);
  const count = mv.reduceSum(ew.convert(ew.eq(a, a), a.dtype), axes);
  return keep(ew.div(s, count), a.shape, axes, keepdims);
}
/** x with NaN entries replaced by 0 (a select, so they get no gradient). */
function dropNaN(a: Array): Array {
  if (a.dtype === "int32") return a;
  return ew.select(ew.ne(a, a), ConcreteArray.zeros(a.shape, a.dtype), a);
}
function keep(out: Array, shape: readonly number[], axes: readonly number[], keepdims: boolean) {
  return keepdims
    ? mv.reshape(
        out,
        shape.map((d, i) => (axes.includes(i) ? 1 : d)),
      )
    : out;
}
