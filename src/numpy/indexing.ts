/**
 * NumPy indexing on top of the gather and scatterAdd primitives: basic
 * slicing with negative steps (`slice`), integer-array and boolean-mask
 * indexing, functional updates `x.at(...index).set/add/mul/min/max/get`
 * (JAX's `x.at[...]`), and `nonzero` (np.where with one argument).
 *
 * An index is one entry per leading axis: an integer (drops the axis),
 * null (the whole axis), [start, stop?, step?] (a slice; negative steps
 * walk backwards), an integer Array (picks entries), or a bool Array (a
 * mask over as many axes as it has). With concrete indices the positions
 * are computed in JS as flat offsets and one gather (or scatterAdd) does
 * the work, so it works on traced data under every transformation. A
 * traced integer Array is supported as the only array entry (a gather or
 * scatter along its axis); a traced bool mask is refused: its number of
 * true entries, hence the result's shape, is unknown while tracing.
 */
import {
  Array,
  type ArrayAt,
  type ArrayLike,
  ConcreteArray,
  type SliceIndex,
  installAtMethod,
} from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import {
  ChainruleError,
  ConcretizationError,
  InvalidArgumentError,
  ShapeError,
  fmtShape,
} from "../core/errors.js";
import { broadcastShapes, shapeSize, stridesOf } from "../core/shape.js";
import * as ew from "../primitives/elementwise.js";
import { gather, scatterAdd } from "../primitives/indexing.js";
import * as mv from "../primitives/movement.js";
import { flatten, int32Vector } from "./arrays.js";
import { arr, broadcastTo, promotePair } from "./core.js";

/** [start, stop, step] normalised as NumPy does for an axis of length n: the positions. */
function slicePositions(
  fn: string,
  n: number,
  ix: readonly (number | null | undefined)[],
  d: number,
): number[] {
  const step = ix[2] ?? 1;
  if (!Number.isInteger(step) || step === 0) {
    throw new ShapeError(`${fn}: step ${step} on axis ${d} must be a non-zero integer`);
  }
  const norm = (v: number | null | undefined, dflt: number, lo: number, hi: number) => {
    if (v === null || v === undefined) return dflt;
    if (!Number.isInteger(v))
      throw new ShapeError(`${fn}: slice bound ${v} on axis ${d} must be an integer`);
    return Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  };
  const out: number[] = [];
  if (step > 0) {
    const s = norm(ix[0], 0, 0, n);
    const e = norm(ix[1], n, 0, n);
    for (let i = s; i < e; i += step) out.push(i);
  } else {
    const s = norm(ix[0], n - 1, -1, n - 1);
    const e = norm(ix[1], -1, -1, n - 1);
    for (let i = s; i > e; i += step) out.push(i);
  }
  return out;
}

function intAt(fn: string, v: number, n: number, d: number): number {
  const i = v < 0 ? v + n : v;
  if (!Number.isInteger(v)) {
    throw new InvalidArgumentError(
      `${fn}: index ${v} for axis ${d} (of size ${n}) is not an integer; ` +
        `round it first (Math.floor), or give a [start, stop, step] slice`,
    );
  }
  if (i < 0 || i >= n) {
    throw new ShapeError(`${fn}: index ${v} is out of bounds for axis ${d} of size ${n}`);
  }
  return i;
}

function isTuple(
  ix: SliceIndex,
): ix is readonly [number | null, (number | null)?, (number | null)?] {
  return globalThis.Array.isArray(ix);
}

/** The concrete value of an index Array, or undefined when it is traced. */
function concreteIndex(ix: Array): ConcreteArray | undefined {
  if (ix instanceof ConcreteArray) return ix;
  try {
    return ix.concrete("indexing");
  } catch (e) {
    if (e instanceof ChainruleError) return undefined;
    throw e;
  }
}

function checkIndexDtype(fn: string, ix: Array): void {
  if (isFloat(ix.dtype)) {
    throw new InvalidArgumentError(
      `${fn}: index arrays must be int32 or bool, got dtype ${ix.dtype}; convert with astype("int32")`,
    );
  }
}

/** Number of axes an index entry consumes. */
const width = (ix: SliceIndex): number =>
  ix instanceof Array && ix.dtype === "bool" ? ix.ndim : 1;

/** Splits the index into per-entry descriptions, checking the count. */
function checkCount(fn: string, shape: readonly number[], index: readonly SliceIndex[]): void {
  const used = index.reduce<number>((acc, ix) => acc + width(ix), 0);
  if (used > shape.length) {
    throw new ShapeError(
      `${fn}: ${used} indexed axes for an array of rank ${shape.length} (shape ${fmtShape(shape)})`,
    );
  }
}

/** A plan with concrete offsets: out.flat[k] = x.flat[offsets[k]]. */
interface FlatPlan {
  outShape: number[];
  offsets: number[];
}

/** Positions of the whole index, as flat offsets into an array of `shape` (all entries concrete). */
function flatPlan(fn: string, shape: readonly number[], index: readonly SliceIndex[]): FlatPlan {
  checkCount(fn, shape, index);
  const strides = stridesOf(shape);
  const hasArray = index.some((ix) => ix instanceof Array);
  // Output dimensions in order: [positions along an axis] or "advanced" (the broadcast block).
  const dims: ({ axis: number; at: number[] } | "adv")[] = [];
  let constant = 0;
  const adv: { axis: number; values: Int32Array | number[]; shape: readonly number[] }[] = [];
  const advEntries: number[] = [];
  let axis = 0;
  index.forEach((ix, e) => {
    if (ix instanceof Array) {
      checkIndexDtype(fn, ix);
      const c = concreteIndex(ix)!;
      if (ix.dtype === "bool") {
        const k = ix.ndim;
        const maskShape = shape.slice(axis, axis + k);
        if (c.shape.some((n, i) => n !== maskShape[i])) {
          throw new ShapeError(
            `${fn}: a boolean mask of shape ${fmtShape(c.shape)} does not match axes ` +
              `${axis}..${axis + k - 1} of shape ${fmtShape(shape)} (${fmtShape(maskShape)})`,
          );
        }
        const coords: number[][] = maskShape.map(() => []);
        const ms = stridesOf(maskShape);
        for (let i = 0; i < c.size; i++) {
          if (!c.buffer[i]) continue;
          ms.forEach((s, d) => coords[d]!.push(Math.floor(i / s) % maskShape[d]!));
        }
        coords.forEach((vals, d) =>
          adv.push({ axis: axis + d, values: vals, shape: [vals.length] }),
        );
        advEntries.push(e);
        axis += k;
      } else {
        const n = shape[axis]!;
        const vals = globalThis.Array.from(c.buffer, (v) => intAt(fn, v, n, axis));
        adv.push({ axis, values: vals, shape: c.shape });
        advEntries.push(e);
        axis += 1;
      }
      return;
    }
    const n = shape[axis]!;
    if (typeof ix === "number") {
      if (hasArray) {
        adv.push({ axis, values: [intAt(fn, ix, n, axis)], shape: [] });
        advEntries.push(e);
      } else constant += intAt(fn, ix, n, axis) * strides[axis]!;
    } else if (ix === null || ix === undefined) {
      dims.push({ axis, at: globalThis.Array.from({ length: n }, (_, i) => i) });
    } else if (isTuple(ix)) {
      dims.push({ axis, at: slicePositions(fn, n, ix, axis) });
    } else {
      throw new InvalidArgumentError(`${fn}: unsupported index entry at position ${e}`);
    }
    if (typeof ix === "number" && hasArray) {
      // handled above
    }
    axis += 1;
  });
  for (; axis < shape.length; axis++) {
    dims.push({ axis, at: globalThis.Array.from({ length: shape[axis]! }, (_, i) => i) });
  }
  let advShape: number[] = [];
  if (adv.length > 0) {
    for (const a of adv) advShape = broadcastShapes(fn, advShape, a.shape);
    const contiguous = advEntries.every((e, i) => i === 0 || e === advEntries[i - 1]! + 1);
    // Where the block goes: at the first advanced entry if the entries are adjacent, else first.
    const firstAxis = contiguous ? adv[0]!.axis : -1;
    const pos = contiguous ? dims.filter((d) => d !== "adv" && d.axis < firstAxis).length : 0;
    dims.splice(pos, 0, "adv");
  }
  // Offsets of the advanced block (broadcast), row-major over advShape.
  const advSize = shapeSize(advShape);
  const advOffsets = new globalThis.Array<number>(advSize).fill(0);
  for (const a of adv) {
    const st = stridesOf(a.shape);
    const lead = advShape.length - a.shape.length;
    const outSt = stridesOf(advShape);
    for (let k = 0; k < advSize; k++) {
      let src = 0;
      a.shape.forEach((n, d) => {
        const coord = Math.floor(k / outSt[lead + d]!) % advShape[lead + d]!;
        src += (n === 1 ? 0 : coord) * st[d]!;
      });
      advOffsets[k]! += a.values[src]! * strides[a.axis]!;
    }
  }
  let offsets = [constant];
  const outShape: number[] = [];
  for (const d of dims) {
    const offs = d === "adv" ? advOffsets : d.at.map((p) => p * strides[d.axis]!);
    outShape.push(...(d === "adv" ? advShape : [d.at.length]));
    const next: number[] = [];
    for (const o of offsets) for (const q of offs) next.push(o + q);
    offsets = next;
  }
  return { outShape, offsets };
}

/** The single traced integer index entry, when the index has exactly one Array and it is traced. */
function tracedEntry(fn: string, index: readonly SliceIndex[]): number {
  const arrays = index.map((ix, e) => (ix instanceof Array ? e : -1)).filter((e) => e >= 0);
  const traced = arrays.filter((e) => concreteIndex(index[e] as Array) === undefined);
  if (traced.length === 0) return -1;
  const ix = index[traced[0]!] as Array;
  if (ix.dtype === "bool") {
    throw new ConcretizationError(
      `${fn}: a boolean mask must be concrete: the number of selected entries (the result's ` +
        `shape) is unknown for a traced mask of shape ${fmtShape(ix.shape)} (under jit or vmap); ` +
        `use np.where(mask, x, other) to keep the shape, or index outside the transformation`,
    );
  }
  if (arrays.length > 1) {
    throw new ConcretizationError(
      `${fn}: a traced integer index array can only be the single array in an index, got ` +
        `${arrays.length} arrays; pass concrete index arrays or index one axis at a time`,
    );
  }
  return traced[0]!;
}

/** Basic (slice-only) part of an index: x sliced, with the integer entries' axes dropped. */
function basicSlice(fn: string, a: Array, index: readonly SliceIndex[], skip = -1): Array {
  const start: number[] = [];
  const limit: number[] = [];
  const step: number[] = [];
  const flip: number[] = [];
  const keep: boolean[] = [];
  a.shape.forEach((n, d) => {
    const ix = d === skip ? null : index[d];
    if (ix === undefined || ix === null) {
      start.push(0);
      limit.push(n);
      step.push(1);
      keep.push(true);
    } else if (typeof ix === "number") {
      const i = intAt(fn, ix, n, d);
      start.push(i);
      limit.push(i + 1);
      step.push(1);
      keep.push(false);
    } else if (isTuple(ix)) {
      const pos = slicePositions(fn, n, ix, d);
      const st = Math.abs(ix[2] ?? 1);
      const lo = pos.length === 0 ? 0 : Math.min(pos[0]!, pos[pos.length - 1]!);
      start.push(lo);
      limit.push(pos.length === 0 ? 0 : lo + (pos.length - 1) * st + 1);
      step.push(st);
      keep.push(true);
      if ((ix[2] ?? 1) < 0 && pos.length > 1) flip.push(d);
    }
  });
  let out = mv.slice(a, start, limit, step);
  for (const d of flip) {
    const n = out.shape[d]!;
    out = gather(out, int32Vector(globalThis.Array.from({ length: n }, (_, i) => n - 1 - i)), d);
  }
  return mv.reshape(
    out,
    out.shape.filter((_, d) => keep[d]),
  );
}

/**
 * NumPy indexing x[index...]: integers, null (whole axis), [start, stop,
 * step] slices (negative steps allowed), integer Arrays and bool masks.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const x = np.arange(6);
 * const r = np.slice(x, [null, null, -1]); // [5, 4, 3, 2, 1, 0]
 * const m = np.slice(x, x.gt(3)); // [4, 5]
 * const t = np.slice(x, np.array([0, 2], { dtype: "int32" })); // [0, 2]
 * ```
 */
export function slice(x: ArrayLike, ...index: SliceIndex[]): Array {
  const fn = "np.slice";
  const a = arr(x, "slice");
  if (!index.some((ix) => ix instanceof Array)) {
    checkCount(fn, a.shape, index);
    return basicSlice(fn, a, index);
  }
  const t = tracedEntry(fn, index);
  if (t < 0) {
    const plan = flatPlan(fn, a.shape, index);
    return mv.reshape(gather(flatten(a), int32Vector(plan.offsets), 0), plan.outShape);
  }
  checkCount(fn, a.shape, index);
  // One traced integer array at entry t (axis t, as every other entry takes one axis).
  const idx = index[t] as Array;
  checkIndexDtype(fn, idx);
  const base = basicSlice(fn, a, index, t);
  const pos = index.slice(0, t).filter((ix) => typeof ix !== "number").length;
  const out = gather(base, idx.dtype === "int32" ? idx : ew.convert(idx, "int32"), pos);
  // NumPy counts integers as advanced indices too: separated from the array by a
  // slice, the advanced dimensions go first.
  const ints = index.map((ix, e) => (typeof ix === "number" ? e : -1)).filter((e) => e >= 0);
  const advanced = [...ints, t].sort((p, q) => p - q);
  const contiguous = advanced.every((e, i) => i === 0 || e === advanced[i - 1]! + 1);
  if (contiguous || pos === 0) return out;
  const perm = out.shape.map((_, d) => d);
  const block = perm.splice(pos, idx.ndim);
  return mv.transpose(out, [...block, ...perm]);
}

type UpdateOp = "set" | "add" | "mul" | "min" | "max";

/** Applies an indexed update with concrete positions on the flattened array. */
function updateFlat(fn: string, a: Array, plan: FlatPlan, v: Array, op: UpdateOp): Array {
  const size = a.size;
  const u = flatten(broadcastValues(fn, v, plan.outShape));
  let out = flatten(a);
  // Rounds of distinct positions: "add" sums duplicates in one scatter; "set"
  // keeps the last write; mul/min/max apply duplicates one round after another.
  const rounds: number[][] = [];
  if (op === "add") rounds.push(plan.offsets.map((_, k) => k));
  else if (op === "set") {
    const last = new Map<number, number>();
    plan.offsets.forEach((o, k) => last.set(o, k));
    rounds.push([...last.values()].sort((p, q) => p - q));
  } else {
    const seen = new Map<number, number>();
    plan.offsets.forEach((o, k) => {
      const r = seen.get(o) ?? 0;
      seen.set(o, r + 1);
      (rounds[r] ??= []).push(k);
    });
  }
  for (const ks of rounds) {
    const all = ks.length === plan.offsets.length;
    const vals = all ? u : gather(u, int32Vector(ks), 0);
    const where = int32Vector(ks.map((k) => plan.offsets[k]!));
    const scattered = scatterAdd(vals, where, 0, [size]);
    if (op === "add") {
      out = ew.add(out, scattered);
      continue;
    }
    const mask = new ConcreteArray([size], "bool", new Uint8Array(size));
    for (const k of ks) mask.buffer[plan.offsets[k]!] = 1;
    out = ew.select(mask, combine(op, out, scattered), out);
  }
  return mv.reshape(out, a.shape);
}

function combine(op: UpdateOp, old: Array, upd: Array): Array {
  if (op === "set") return upd;
  if (op === "add") return ew.add(old, upd);
  if (op === "mul") return ew.mul(old, upd);
  return op === "min" ? ew.min(old, upd) : ew.max(old, upd);
}

function broadcastValues(fn: string, v: Array, shape: readonly number[]): Array {
  const lead = shape.length - v.ndim;
  const fits = lead >= 0 && v.shape.every((n, d) => n === 1 || n === shape[lead + d]);
  if (!fits) {
    throw new ShapeError(
      `${fn}: values of shape ${fmtShape(v.shape)} cannot be broadcast to the indexed shape ` +
        `${fmtShape(shape)}; reshape them or index a matching selection`,
    );
  }
  return broadcastTo(v, shape);
}

/** An indexed update along one traced integer index array (other entries null). */
function updateTraced(
  fn: string,
  a: Array,
  index: readonly SliceIndex[],
  t: number,
  v: Array,
  op: UpdateOp,
) {
  if (index.some((ix, e) => e !== t && ix !== null && ix !== undefined)) {
    throw new ConcretizationError(
      `${fn}: with a traced index array, the other entries must be null (whole axes); got ` +
        `${index.length} entries. Slice first, or pass concrete indices`,
    );
  }
  const raw = index[t] as Array;
  checkIndexDtype(fn, raw);
  const idx = raw.dtype === "int32" ? raw : ew.convert(raw, "int32");
  const gshape = [...a.shape.slice(0, t), ...idx.shape, ...a.shape.slice(t + 1)];
  const u = broadcastValues(fn, v, gshape);
  const scattered = scatterAdd(u, idx, t, a.shape);
  if (op === "add") return ew.add(a, scattered);
  const ones = ConcreteArray.full(gshape, "int32", 1);
  const hit = ew.gt(scatterAdd(ones, idx, t, a.shape), ConcreteArray.zeros(a.shape, "int32"));
  return ew.select(hit, combine(op, a, scattered), a);
}

class IndexUpdate implements ArrayAt {
  constructor(
    private readonly x: Array,
    private readonly index: readonly SliceIndex[],
  ) {}
  get(): Array {
    return slice(this.x, ...this.index);
  }
  set(v: ArrayLike): Array {
    return this.update("set", v);
  }
  add(v: ArrayLike): Array {
    return this.update("add", v);
  }
  mul(v: ArrayLike): Array {
    return this.update("mul", v);
  }
  min(v: ArrayLike): Array {
    return this.update("min", v);
  }
  max(v: ArrayLike): Array {
    return this.update("max", v);
  }
  private update(op: UpdateOp, v: ArrayLike): Array {
    const fn = `at(...).${op}`;
    const [a, vals] = promotePair(this.x, v, fn);
    if (a.dtype !== this.x.dtype) {
      throw new InvalidArgumentError(
        `${fn}: values of dtype ${vals.dtype} would change the array's dtype ${this.x.dtype}; ` +
          `convert them with astype("${this.x.dtype}")`,
      );
    }
    const t = tracedEntry(fn, this.index);
    if (t >= 0) return updateTraced(fn, a, this.index, t, vals, op);
    return updateFlat(fn, a, flatPlan(fn, a.shape, this.index), vals, op);
  }
}

/**
 * Functional indexed updates (JAX's `x.at[...]`): `at(x, ...index)` then
 * `.set(v)`, `.add(v)`, `.mul(v)`, `.min(v)`, `.max(v)` or `.get()` returns
 * a new Array; x is unchanged. Repeated indices: add sums, set keeps the
 * last write, mul/min/max apply every update. The method form is `x.at(...)`.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const y = np.zeros([3]).at(1).set(5); // [0, 5, 0]
 * const z = np.at(np.ones([2, 2]), null, 0).add(1); // [[2, 1], [2, 1]]
 * ```
 */
export function at(x: ArrayLike, ...index: SliceIndex[]): ArrayAt {
  return new IndexUpdate(arr(x, "at"), index);
}
installAtMethod((x, index) => new IndexUpdate(x, index));

/**
 * The indices of the non-zero (true) entries, one int32 Array per axis
 * (NumPy's nonzero; np.where with one argument). Eager only: the count
 * depends on the values.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const [rows, cols] = np.nonzero([[0, 1], [2, 0]]); // [0, 1], [1, 0]
 * ```
 */
export function nonzero(x: ArrayLike, fn = "nonzero"): Array[] {
  const a = arr(x, fn);
  const c = concreteIndex(a);
  if (c === undefined) {
    throw new ConcretizationError(
      `np.${fn}: the number of non-zero entries (the result's shape) is unknown for a traced ` +
        `array of shape ${fmtShape(a.shape)} (under jit or vmap); use np.where(cond, x, y) ` +
        `with three arguments, which keeps the shape`,
    );
  }
  const shape = c.ndim === 0 ? [1] : c.shape;
  const st = stridesOf(shape);
  const coords: number[][] = shape.map(() => []);
  for (let i = 0; i < c.size; i++) {
    if (c.buffer[i] === 0) continue;
    st.forEach((s, d) => coords[d]!.push(Math.floor(i / s) % shape[d]!));
  }
  return coords.map((v) => new ConcreteArray([v.length], "int32", Int32Array.from(v)));
}
