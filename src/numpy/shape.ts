/**
 * np's shape functions beyond reshape/transpose: stacking (vstack, hstack,
 * dstack, columnStack, append), splitting (split, arraySplit, hsplit,
 * vsplit), rearranging (roll, repeat, tile, pad, flipud, fliplr, rot90,
 * atleast1d/2d/3d) and differences (diff, gradient). All are compositions
 * of movement primitives (slice, pad, concatenate, broadcastInDim, reshape,
 * transpose) and gather with constant indices, so they are linear in the
 * data with derivatives, vmap and jit from those primitives.
 */
import { Array, type ArrayLike, ConcreteArray } from "../core/array.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { normalizeAxes, normalizeAxis } from "../core/shape.js";
import * as ew from "../primitives/elementwise.js";
import { gather } from "../primitives/indexing.js";
import * as mv from "../primitives/movement.js";
import { checkInt, flatten, int32Vector, promoteAll } from "./arrays.js";
import { arr, asFloat, promotePair } from "./core.js";

/** x[lo:hi] along `axis`. */
function sliceAxis(x: Array, axis: number, lo: number, hi: number): Array {
  const start = x.shape.map((_, d) => (d === axis ? lo : 0));
  const limit = x.shape.map((n, d) => (d === axis ? hi : n));
  return mv.slice(x, start, limit);
}

function concatChecked(fn: string, xs: Array[], axis: number): Array {
  const first = xs[0]!;
  for (const a of xs) {
    const ok = a.ndim === first.ndim && a.shape.every((n, d) => d === axis || n === first.shape[d]);
    if (!ok) {
      throw new ShapeError(
        `np.${fn}: the arrays must agree except along axis ${axis}, got shapes ` +
          xs.map((v) => fmtShape(v.shape)).join(", "),
      );
    }
  }
  return mv.concatenate(xs, axis);
}

// ----------------------------------------------------------- atleast --

/**
 * x viewed with at least one axis (a scalar becomes [1]).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const v = np.atleast1d(5); // shape [1]
 * ```
 */
export function atleast1d(x: ArrayLike): Array {
  const a = arr(x, "atleast1d");
  return a.ndim >= 1 ? a : mv.reshape(a, [1]);
}
/**
 * x viewed with at least two axes: a scalar becomes [1, 1], a vector [n] a row [1, n].
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const r = np.atleast2d([1, 2, 3]); // shape [1, 3]
 * ```
 */
export function atleast2d(x: ArrayLike): Array {
  const a = arr(x, "atleast2d");
  if (a.ndim >= 2) return a;
  return mv.reshape(a, a.ndim === 0 ? [1, 1] : [1, a.shape[0]!]);
}
/**
 * x viewed with at least three axes: [] -> [1, 1, 1], [n] -> [1, n, 1], [m, n] -> [m, n, 1].
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const t = np.atleast3d(np.ones([2, 3])); // shape [2, 3, 1]
 * ```
 */
export function atleast3d(x: ArrayLike): Array {
  const a = arr(x, "atleast3d");
  if (a.ndim >= 3) return a;
  if (a.ndim === 0) return mv.reshape(a, [1, 1, 1]);
  if (a.ndim === 1) return mv.reshape(a, [1, a.shape[0]!, 1]);
  return mv.reshape(a, [...a.shape, 1]);
}

// ----------------------------------------------------------- stacking --

/**
 * Stacks arrays vertically (along axis 0, vectors as rows).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const m = np.vstack([[1, 2], [3, 4]]); // [[1, 2], [3, 4]]
 * ```
 */
export function vstack(xs: readonly ArrayLike[] | Array): Array {
  return concatChecked("vstack", promoteAll("vstack", xs).map(atleast2d), 0);
}
/**
 * Stacks arrays horizontally: along axis 0 for vectors, axis 1 otherwise.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const v = np.hstack([[1, 2], [3]]); // [1, 2, 3]
 * ```
 */
export function hstack(xs: readonly ArrayLike[] | Array): Array {
  const arrays = promoteAll("hstack", xs).map(atleast1d);
  return concatChecked("hstack", arrays, arrays[0]!.ndim === 1 ? 0 : 1);
}
/**
 * Stacks arrays along the third axis (after making them at least 3-D).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const d = np.dstack([[1, 2], [3, 4]]); // shape [1, 2, 2]
 * ```
 */
export function dstack(xs: readonly ArrayLike[] | Array): Array {
  return concatChecked("dstack", promoteAll("dstack", xs).map(atleast3d), 2);
}
/**
 * Stacks vectors as the columns of a matrix (arrays of rank >= 2 are joined along axis 1).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const m = np.columnStack([[1, 2], [3, 4]]); // [[1, 3], [2, 4]]
 * ```
 */
export function columnStack(xs: readonly ArrayLike[] | Array): Array {
  // As NumPy: 0-d and 1-D operands become columns [n, 1]; arrays of rank >= 2
  // are joined as they are along axis 1.
  const arrays = promoteAll("columnStack", xs).map((a) =>
    a.ndim >= 2 ? a : mv.reshape(a, [a.size, 1]),
  );
  return concatChecked("columnStack", arrays, 1);
}
/**
 * x with `values` appended along `axis` (both flattened when axis is omitted).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const v = np.append([1, 2], [3, 4]); // [1, 2, 3, 4]
 * ```
 */
export function append(x: ArrayLike, values: ArrayLike, axis?: number): Array {
  const [a, v] = promotePair(x, values, "append");
  if (axis === undefined) return mv.concatenate([flatten(a), flatten(v)], 0);
  if (a.ndim !== v.ndim) {
    throw new ShapeError(
      `np.append: with an axis, values must have the rank of x: shapes ${fmtShape(a.shape)} ` +
        `and ${fmtShape(v.shape)}`,
    );
  }
  return concatChecked("append", [a, v], normalizeAxis("np.append", axis, a.ndim));
}

// ---------------------------------------------------------- splitting --

/** The cut points of `split`/`arraySplit` for an axis of length n. */
function cutPoints(fn: string, n: number, spec: number | readonly number[], even: boolean) {
  if (typeof spec === "number") {
    checkInt(fn, "sections", spec);
    if (spec <= 0) {
      throw new InvalidArgumentError(`np.${fn}: the number of sections must be > 0, got ${spec}`);
    }
    if (even && n % spec !== 0) {
      throw new ShapeError(
        `np.${fn}: an axis of length ${n} does not split into ${spec} equal sections; use ` +
          `np.arraySplit for unequal sections`,
      );
    }
    const base = Math.floor(n / spec);
    const extra = n % spec;
    const cuts: number[] = [];
    let at = 0;
    for (let i = 0; i < spec - 1; i++) {
      at += base + (i < extra ? 1 : 0);
      cuts.push(at);
    }
    return cuts;
  }
  return spec.map((c) => checkInt(fn, "an index", c));
}

function splitAt(
  fn: string,
  a: Array,
  spec: number | readonly number[],
  axis: number,
  even: boolean,
) {
  const ax = normalizeAxis(`np.${fn}`, axis, a.ndim);
  const n = a.shape[ax]!;
  const cuts = cutPoints(fn, n, spec, even);
  const clampIdx = (c: number) => Math.min(Math.max(c < 0 ? c + n : c, 0), n);
  const bounds = [0, ...cuts.map(clampIdx), n];
  const out: Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const lo = bounds[i]!;
    out.push(sliceAxis(a, ax, lo, Math.max(lo, bounds[i + 1]!)));
  }
  return out;
}
function checkRank(fn: string, a: Array, min: number): void {
  if (a.ndim < min) {
    throw new ShapeError(
      `np.${fn}: needs an array of rank >= ${min}, got shape ${fmtShape(a.shape)}`,
    );
  }
}
/**
 * Splits x along `axis` into `sections` equal parts, or at the given indices.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const [a, b] = np.split(np.arange(6), 2); // [0, 1, 2] and [3, 4, 5]
 * ```
 */
export function split(x: ArrayLike, sections: number | readonly number[], axis = 0): Array[] {
  const a = arr(x, "split");
  checkRank("split", a, 1);
  return splitAt("split", a, sections, axis, true);
}
/**
 * Like split, but `sections` need not divide the axis: the first n % sections parts get one more.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const parts = np.arraySplit(np.arange(5), 3); // [0, 1], [2, 3], [4]
 * ```
 */
export function arraySplit(x: ArrayLike, sections: number | readonly number[], axis = 0): Array[] {
  const a = arr(x, "arraySplit");
  checkRank("arraySplit", a, 1);
  return splitAt("arraySplit", a, sections, axis, false);
}
/**
 * split along axis 1 (axis 0 for vectors).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const [l, r] = np.hsplit(np.ones([2, 4]), 2); // two [2, 2] halves
 * ```
 */
export function hsplit(x: ArrayLike, sections: number | readonly number[]): Array[] {
  const a = arr(x, "hsplit");
  checkRank("hsplit", a, 1);
  return splitAt("hsplit", a, sections, a.ndim === 1 ? 0 : 1, true);
}
/**
 * split along axis 0 (rank >= 2).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const [top, bottom] = np.vsplit(np.ones([4, 2]), 2); // two [2, 2] halves
 * ```
 */
export function vsplit(x: ArrayLike, sections: number | readonly number[]): Array[] {
  const a = arr(x, "vsplit");
  checkRank("vsplit", a, 2);
  return splitAt("vsplit", a, sections, 0, true);
}

// -------------------------------------------------------- rearranging --

/**
 * Rolls elements by `shift` along `axis` (flattened when omitted); several
 * axes with a list of shifts. Elements past the end come back at the start.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const r = np.roll([1, 2, 3, 4], 1); // [4, 1, 2, 3]
 * ```
 */
export function roll(
  x: ArrayLike,
  shift: number | readonly number[],
  axis?: number | readonly number[],
): Array {
  const a = arr(x, "roll");
  if (axis === undefined) {
    if (typeof shift !== "number") {
      throw new InvalidArgumentError(`np.roll: a list of shifts needs a list of axes`);
    }
    return mv.reshape(roll(flatten(a), shift, 0), a.shape);
  }
  const axes = typeof axis === "number" ? [axis] : [...axis];
  const shifts = typeof shift === "number" ? axes.map(() => shift) : [...shift];
  if (shifts.length !== axes.length) {
    throw new InvalidArgumentError(
      `np.roll: ${shifts.length} shifts for ${axes.length} axes; give one shift per axis`,
    );
  }
  let out = a;
  axes.forEach((ax0, i) => {
    const ax = normalizeAxis("np.roll", ax0, a.ndim);
    const n = a.shape[ax]!;
    const s = checkInt("roll", "shift", shifts[i]!);
    if (n === 0) return;
    const k = ((s % n) + n) % n;
    if (k === 0) return;
    out = mv.concatenate([sliceAxis(out, ax, n - k, n), sliceAxis(out, ax, 0, n - k)], ax);
  });
  return out;
}

/**
 * Repeats each element `repeats` times (or repeats[i] times for element i)
 * along `axis` (of the flattened array when omitted).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const r = np.repeat([1, 2], 2); // [1, 1, 2, 2]
 * ```
 */
export function repeat(x: ArrayLike, repeats: number | readonly number[], axis?: number): Array {
  let a = arr(x, "repeat");
  if (axis === undefined) a = flatten(a);
  const ax = axis === undefined ? 0 : normalizeAxis("np.repeat", axis, a.ndim);
  const n = a.shape[ax]!;
  const counts =
    typeof repeats === "number" ? new globalThis.Array<number>(n).fill(repeats) : [...repeats];
  if (counts.length !== n) {
    throw new ShapeError(
      `np.repeat: ${counts.length} repeat counts for an axis of length ${n}; give one count ` +
        `per element or a single count`,
    );
  }
  const idx: number[] = [];
  counts.forEach((c, i) => {
    checkInt("repeat", "a repeat count", c);
    if (c < 0) throw new InvalidArgumentError(`np.repeat: repeat counts must be >= 0, got ${c}`);
    for (let r = 0; r < c; r++) idx.push(i);
  });
  return gather(a, int32Vector(idx), ax);
}

/**
 * x repeated `reps` times along each axis (reps and x's shape are aligned
 * from the right; the shorter gets leading ones).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const t = np.tile([1, 2], 2); // [1, 2, 1, 2]
 * ```
 */
export function tile(x: ArrayLike, reps: number | readonly number[]): Array {
  const a = arr(x, "tile");
  const r = typeof reps === "number" ? [reps] : [...reps];
  r.forEach((k) => {
    checkInt("tile", "a repetition count", k);
    if (k < 0) throw new InvalidArgumentError(`np.tile: repetition counts must be >= 0, got ${k}`);
  });
  const nd = Math.max(a.ndim, r.length);
  const shape = [...new globalThis.Array<number>(nd - a.ndim).fill(1), ...a.shape];
  const reps2 = [...new globalThis.Array<number>(nd - r.length).fill(1), ...r];
  const inter: number[] = [];
  for (let d = 0; d < nd; d++) inter.push(reps2[d]!, shape[d]!);
  const b = mv.broadcastInDim(
    mv.reshape(a, shape),
    inter,
    shape.map((_, d) => 2 * d + 1),
  );
  return mv.reshape(
    b,
    shape.map((n, d) => n * reps2[d]!),
  );
}

/** Pad widths per axis: an int, [before, after], or one [before, after] per axis. */
export type PadWidth = number | readonly [number, number] | readonly (readonly [number, number])[];

function padWidths(widths: PadWidth, ndim: number): [number, number][] {
  let out: [number, number][];
  if (typeof widths === "number")
    out = new globalThis.Array<[number, number]>(ndim).fill([widths, widths]);
  else if (widths.length === 2 && typeof widths[0] === "number") {
    const [b, e] = widths as readonly [number, number];
    out = new globalThis.Array<[number, number]>(ndim).fill([b, e]);
  } else {
    const list = widths as readonly (readonly [number, number])[];
    if (list.length === 1)
      out = new globalThis.Array<[number, number]>(ndim).fill([list[0]![0], list[0]![1]]);
    else if (list.length !== ndim) {
      throw new ShapeError(
        `np.pad: ${list.length} [before, after] pairs for an array of rank ${ndim}; give one ` +
          `per axis, one pair for all, or a single width`,
      );
    } else out = list.map((p) => [p[0], p[1]]);
  }
  for (const [b, e] of out) {
    if (!Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e < 0) {
      throw new InvalidArgumentError(
        `np.pad: pad widths must be non-negative integers, got [${b}, ${e}]`,
      );
    }
  }
  return out;
}

/** The source index of padded position i (i in [-before, n + after)) in each mode. */
function padSource(mode: "edge" | "reflect" | "symmetric" | "wrap", i: number, n: number): number {
  if (mode === "edge") return Math.min(Math.max(i, 0), n - 1);
  if (mode === "wrap") return ((i % n) + n) % n;
  if (mode === "reflect") {
    if (n === 1) return 0;
    const p = 2 * (n - 1);
    const k = ((i % p) + p) % p;
    return k < n ? k : p - k;
  }
  const p = 2 * n;
  const k = ((i % p) + p) % p;
  return k < n ? k : p - 1 - k;
}

/**
 * Pads x (NumPy's pad). `mode` "constant" (with `constantValues`, default 0),
 * "edge" (repeat the border value), "reflect" (mirror without repeating the
 * border), "symmetric" (mirror repeating it) or "wrap" (periodic).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const p = np.pad([1, 2, 3], 2, { mode: "reflect" }); // [3, 2, 1, 2, 3, 2, 1]
 * ```
 */
export function pad(
  x: ArrayLike,
  padWidth: PadWidth,
  opts: {
    mode?: "constant" | "edge" | "reflect" | "symmetric" | "wrap";
    constantValues?: number;
  } = {},
): Array {
  const a = arr(x, "pad");
  const widths = padWidths(padWidth, a.ndim);
  const mode = opts.mode ?? "constant";
  if (mode === "constant") {
    const lo = widths.map((w) => w[0]);
    const hi = widths.map((w) => w[1]);
    const padded = mv.pad(a, lo, hi);
    const c = opts.constantValues ?? 0;
    if (c === 0) return padded;
    // Add a constant array: c where padding was added, 0 over x.
    const border = ConcreteArray.zeros(padded.shape, a.dtype);
    const coord = padded.shape.map(() => 0);
    for (let i = 0; i < border.size; i++) {
      const inside = coord.every((k, d) => k >= lo[d]! && k < lo[d]! + a.shape[d]!);
      border.buffer[i] = inside ? 0 : c;
      for (let d = coord.length - 1; d >= 0; d--) {
        if (++coord[d]! < padded.shape[d]!) break;
        coord[d] = 0;
      }
    }
    return ew.add(padded, border);
  }
  if (!["edge", "reflect", "symmetric", "wrap"].includes(mode)) {
    throw new InvalidArgumentError(
      `np.pad: unknown mode ${JSON.stringify(mode)}; use "constant", "edge", "reflect", ` +
        `"symmetric" or "wrap"`,
    );
  }
  let out = a;
  widths.forEach(([b, e], ax) => {
    if (b === 0 && e === 0) return;
    const n = a.shape[ax]!;
    if (n === 0) {
      throw new ShapeError(
        `np.pad: mode "${mode}" cannot pad axis ${ax} of length 0 (shape ${fmtShape(a.shape)})`,
      );
    }
    const idx: number[] = [];
    for (let i = -b; i < n + e; i++) idx.push(padSource(mode, i, n));
    out = gather(out, int32Vector(idx), ax);
  });
  return out;
}

/**
 * Reverses the order of rows (axis 0).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const f = np.flipud([[1, 2], [3, 4]]); // [[3, 4], [1, 2]]
 * ```
 */
export function flipud(x: ArrayLike): Array {
  const a = arr(x, "flipud");
  checkRank("flipud", a, 1);
  return reverseAxis(a, 0);
}
/**
 * Reverses the order of columns (axis 1).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const f = np.fliplr([[1, 2], [3, 4]]); // [[2, 1], [4, 3]]
 * ```
 */
export function fliplr(x: ArrayLike): Array {
  const a = arr(x, "fliplr");
  checkRank("fliplr", a, 2);
  return reverseAxis(a, 1);
}
/** x reversed along `axis`. */
export function reverseAxis(a: Array, axis: number): Array {
  const n = a.shape[axis]!;
  const idx: number[] = [];
  for (let i = n - 1; i >= 0; i--) idx.push(i);
  return gather(a, int32Vector(idx), axis);
}
/**
 * Rotates by 90 degrees `k` times in the plane of `axes` (from the first
 * towards the second axis, counterclockwise for a matrix).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const r = np.rot90([[1, 2], [3, 4]]); // [[2, 4], [1, 3]]
 * ```
 */
export function rot90(x: ArrayLike, k = 1, axes: readonly [number, number] = [0, 1]): Array {
  const a = arr(x, "rot90");
  checkRank("rot90", a, 2);
  checkInt("rot90", "k", k);
  const [a0, a1] = axes.map((ax) => normalizeAxis("np.rot90", ax, a.ndim));
  if (a0 === a1 || axes.length !== 2) {
    throw new ShapeError(`np.rot90: axes must be two different axes, got [${axes.join(", ")}]`);
  }
  const swap = (v: Array) => {
    const perm = v.shape.map((_, d) => d);
    [perm[a0!], perm[a1!]] = [a1!, a0!];
    return mv.transpose(v, perm);
  };
  const times = ((k % 4) + 4) % 4;
  if (times === 0) return a;
  if (times === 2) return reverseAxis(reverseAxis(a, a0!), a1!);
  if (times === 1) return swap(reverseAxis(a, a1!));
  return reverseAxis(swap(a), a1!);
}

// -------------------------------------------------------- differences --

/**
 * The n-th discrete difference along `axis` (default the last):
 * out[i] = x[i + 1] - x[i], applied n times (for bool, x[i + 1] != x[i], as NumPy).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const d = np.diff([1, 4, 9, 16]); // [3, 5, 7]
 * ```
 */
export function diff(x: ArrayLike, n = 1, axis = -1): Array {
  let a = arr(x, "diff");
  checkRank("diff", a, 1);
  checkInt("diff", "n", n);
  if (n < 0) throw new InvalidArgumentError(`np.diff: order n must be >= 0, got ${n}`);
  const ax = normalizeAxis("np.diff", axis, a.ndim);
  // bool arrays differ where neighbours differ (NumPy and JAX use not_equal).
  const step = a.dtype === "bool" ? ew.ne : ew.sub;
  for (let k = 0; k < n; k++) {
    const len = a.shape[ax]!;
    if (len === 0) break;
    a = step(sliceAxis(a, ax, 1, len), sliceAxis(a, ax, 0, len - 1));
  }
  return a;
}

/**
 * NumPy's gradient along one axis with uniform spacing h: second-order
 * central differences inside, (f[i+1] - f[i-1]) / 2h, and first-order
 * (edgeOrder 1) or second-order (edgeOrder 2) one-sided differences at the ends.
 */
function gradientAxis(a: Array, ax: number, h: number, edgeOrder: 1 | 2): Array {
  const n = a.shape[ax]!;
  if (n < edgeOrder + 1) {
    throw new ShapeError(
      `np.gradient: axis ${ax} has ${n} points; edgeOrder ${edgeOrder} needs at least ` +
        `${edgeOrder + 1}`,
    );
  }
  const s = (lo: number, hi: number) => sliceAxis(a, ax, lo, hi);
  const scale = (v: Array, c: number) => ew.mul(v, ConcreteArray.full(v.shape, v.dtype, c));
  const interior = scale(ew.sub(s(2, n), s(0, n - 2)), 1 / (2 * h));
  let first: Array;
  let last: Array;
  if (edgeOrder === 1) {
    first = scale(ew.sub(s(1, 2), s(0, 1)), 1 / h);
    last = scale(ew.sub(s(n - 1, n), s(n - 2, n - 1)), 1 / h);
  } else {
    // (-3 f0 + 4 f1 - f2) / 2h and (3 f[n-1] - 4 f[n-2] + f[n-3]) / 2h
    first = scale(
      ew.add(ew.sub(scale(s(1, 2), 4), scale(s(0, 1), 3)), ew.neg(s(2, 3))),
      1 / (2 * h),
    );
    last = scale(
      ew.add(ew.sub(scale(s(n - 1, n), 3), scale(s(n - 2, n - 1), 4)), s(n - 3, n - 2)),
      1 / (2 * h),
    );
  }
  return mv.concatenate([first, interior, last], ax);
}

/**
 * NumPy's gradient along one axis at coordinates x (not evenly spaced):
 * with hs = x[i] - x[i-1] and hd = x[i+1] - x[i], inside
 * f'(x[i]) ~ (-hd/(hs(hs+hd))) f[i-1] + ((hd-hs)/(hs hd)) f[i] + (hs/(hd(hs+hd))) f[i+1]
 * (exact for quadratics); at the ends one-sided differences of order
 * `edgeOrder` (the order-2 ones exact for quadratics too).
 */
function gradientCoords(a: Array, ax: number, x: readonly number[], edgeOrder: 1 | 2): Array {
  const n = a.shape[ax]!;
  if (n < edgeOrder + 1) {
    throw new ShapeError(
      `np.gradient: axis ${ax} has ${n} points; edgeOrder ${edgeOrder} needs at least ` +
        `${edgeOrder + 1}`,
    );
  }
  if (x.length !== n) {
    throw new ShapeError(
      `np.gradient: ${x.length} coordinates for axis ${ax} of length ${n}; give one per point`,
    );
  }
  const dx = x.slice(1).map((v, i) => v - x[i]!);
  const s = (lo: number, hi: number) => sliceAxis(a, ax, lo, hi);
  /** Entry i of `coef` times entry i of f's slice along the axis. */
  const along = (v: Array, coef: readonly number[]) => {
    const c = ConcreteArray.zeros([coef.length], v.dtype);
    coef.forEach((k, i) => (c.buffer[i] = k));
    return ew.mul(v, mv.broadcastInDim(c, v.shape, [ax]));
  };
  const combo = (terms: [Array, number][]) =>
    terms.map(([v, k]) => along(v, [k])).reduce((p, q) => ew.add(p, q));
  const parts: Array[] = [];
  if (edgeOrder === 1)
    parts.push(
      combo([
        [s(1, 2), 1 / dx[0]!],
        [s(0, 1), -1 / dx[0]!],
      ]),
    );
  else {
    const [h1, h2] = [dx[0]!, dx[1]!];
    parts.push(
      combo([
        [s(0, 1), -(2 * h1 + h2) / (h1 * (h1 + h2))],
        [s(1, 2), (h1 + h2) / (h1 * h2)],
        [s(2, 3), -h1 / (h2 * (h1 + h2))],
      ]),
    );
  }
  if (n > 2) {
    const hs = dx.slice(0, -1);
    const hd = dx.slice(1);
    parts.push(
      ew.add(
        ew.add(
          along(
            s(0, n - 2),
            hs.map((h, i) => -hd[i]! / (h * (h + hd[i]!))),
          ),
          along(
            s(1, n - 1),
            hs.map((h, i) => (hd[i]! - h) / (h * hd[i]!)),
          ),
        ),
        along(
          s(2, n),
          hs.map((h, i) => h / (hd[i]! * (h + hd[i]!))),
        ),
      ),
    );
  }
  if (edgeOrder === 1) {
    const h = dx[n - 2]!;
    parts.push(
      combo([
        [s(n - 1, n), 1 / h],
        [s(n - 2, n - 1), -1 / h],
      ]),
    );
  } else {
    const [h1, h2] = [dx[n - 3]!, dx[n - 2]!];
    parts.push(
      combo([
        [s(n - 3, n - 2), h2 / (h1 * (h1 + h2))],
        [s(n - 2, n - 1), -(h1 + h2) / (h1 * h2)],
        [s(n - 1, n), (2 * h2 + h1) / (h2 * (h1 + h2))],
      ]),
    );
  }
  return mv.concatenate(parts, ax);
}

/**
 * One spacing entry of np.gradient as numbers: a number (uniform step), or
 * the coordinates of the points as a list or as a concrete Array (a 0-d
 * Array is a step, as in NumPy). The coefficients are computed in JS, so a
 * traced Array cannot serve.
 */
function spacingValues(h: number | readonly number[] | Array): number | readonly number[] {
  if (!(h instanceof Array)) return h;
  if (!(h instanceof ConcreteArray) || h.ndim > 1) {
    throw new InvalidArgumentError(
      `np.gradient: spacing must be numbers or concrete 1-D coordinates, got ` +
        `${h instanceof ConcreteArray ? `an Array of shape ${fmtShape(h.shape)}` : "a traced Array"}` +
        `; pass the coordinates as a list of numbers (a static argument under jit)`,
    );
  }
  return h.ndim === 0 ? h.item() : globalThis.Array.from(h.data(), Number);
}

/**
 * NumPy's gradient: the derivative estimate along each axis (second-order
 * central differences inside, one-sided at the ends, `edgeOrder` 1 or 2).
 * `spacing` is one number for all axes, or one entry per axis: a number
 * (uniform step) or the coordinates of the points (any spacing), as a list
 * or a concrete Array; for one axis the coordinates may be given alone.
 * Returns one Array for a single axis (a vector, or `axis` given as a
 * number) and a list with one Array per axis otherwise, as NumPy.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const g = np.gradient([1, 4, 9, 16]); // [3, 4, 6, 7]
 * const h = np.gradient([0, 1, 4], { spacing: [[0, 1, 2]], edgeOrder: 2 }); // [0, 2, 4]
 * ```
 */
export function gradient(
  f: ArrayLike,
  opts: {
    spacing?: number | Array | readonly (number | readonly number[] | Array)[];
    axis?: number | readonly number[];
    edgeOrder?: 1 | 2;
  } = {},
): Array | Array[] {
  const a = asFloat(arr(f, "gradient"));
  checkRank("gradient", a, 1);
  const axes = normalizeAxes("np.gradient", opts.axis ?? null, a.ndim);
  const sp = opts.spacing ?? 1;
  const hs = (
    typeof sp === "number" ? axes.map(() => sp) : sp instanceof Array ? [sp] : [...sp]
  ).map(spacingValues);
  if (hs.length !== axes.length) {
    throw new InvalidArgumentError(
      `np.gradient: ${hs.length} spacings for ${axes.length} axes; give one number or one per axis`,
    );
  }
  const edge = opts.edgeOrder ?? 1;
  if (edge !== 1 && edge !== 2) {
    throw new InvalidArgumentError(`np.gradient: edgeOrder must be 1 or 2, got ${String(edge)}`);
  }
  const out = axes.map((ax, i) => {
    const h = hs[i]!;
    return typeof h === "number" ? gradientAxis(a, ax, h, edge) : gradientCoords(a, ax, h, edge);
  });
  return out.length === 1 && (a.ndim === 1 || typeof opts.axis === "number") ? out[0]! : out;
}
