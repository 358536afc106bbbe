/**
 * Packing of several leaves into ONE float64 value, the single place where
 * lax's loops work around primitives having one output.
 *
 * The staged `while` (while.ts), its reverse pass (whileReverse.ts) and the
 * checkpointed scan's tape equation (scanCheckpoint.ts) each return several
 * leaves of mixed shapes and dtypes. Until primitives have several outputs
 * they return them packed:
 *
 *   - a lone float64 leaf as itself (the "identity layout");
 *   - otherwise every leaf raveled and converted to float64, concatenated
 *     into one vector (int32, bool and float32 convert to float64 exactly),
 *     and cut back into leaves by slice, reshape and convert afterwards.
 *
 * With multi-output primitives this module goes away: the callers then bind
 * and return their leaves as they are.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { shapeSize } from "../core/shape.js";
import * as np from "../numpy/index.js";
import { convert } from "../primitives/elementwise.js";
import { concatenate, reshape, slice } from "../primitives/movement.js";

// ------------------------------------------------ the while's carry --

/** True when the carry is one float64 leaf, packed as itself. */
function isIdentityLayout(carry: readonly Aval[]): boolean {
  return carry.length === 1 && carry[0]!.dtype === "float64";
}

/** The packed aval: a lone float64 leaf as is, otherwise all elements as one float64 vector. */
export function packedAval(carry: readonly Aval[], batch: readonly number[] = []): Aval {
  if (isIdentityLayout(carry)) return { shape: [...batch, ...carry[0]!.shape], dtype: "float64" };
  const total = carry.reduce((n, a) => n + shapeSize(a.shape), 0);
  return { shape: [...batch, total], dtype: "float64" };
}

/** All elements of concrete leaves, in order, as one float64 vector. */
export function concatConcrete(leaves: readonly ConcreteArray[]): ConcreteArray {
  const total = leaves.reduce((n, l) => n + shapeSize(l.shape), 0);
  const out = new Float64Array(total);
  let offset = 0;
  for (const leaf of leaves) {
    if (leaf.shape.length === 0) out[offset++] = leaf.scalarValue;
    else {
      out.set(leaf.buffer, offset);
      offset += leaf.buffer.length;
    }
  }
  return new ConcreteArray([total], "float64", out);
}

/** Packs concrete carry leaves (the while's impl). */
export function packConcrete(
  leaves: readonly ConcreteArray[],
  carry: readonly Aval[],
): ConcreteArray {
  return isIdentityLayout(carry) ? leaves[0]! : concatConcrete(leaves);
}

/** Cuts a concrete packed value back into carry leaves. */
export function unpackConcrete(out: ConcreteArray, carry: readonly Aval[]): ConcreteArray[] {
  if (isIdentityLayout(carry)) return [out];
  const buf = out.buffer;
  let offset = 0;
  return carry.map((a) => {
    const n = shapeSize(a.shape);
    const part = buf.subarray(offset, offset + n);
    offset += n;
    if (a.shape.length === 0) return ConcreteArray.scalar(part[0]!, a.dtype);
    const leaf = ConcreteArray.zeros(a.shape, a.dtype);
    const dst = leaf.buffer;
    for (let j = 0; j < n; j++) dst[j] = part[j]!;
    return leaf;
  });
}

/** Packs (traced) carry leaves with `batch` leading axes, by primitives. */
export function pack(
  leaves: readonly Array[],
  carry: readonly Aval[],
  batch: readonly number[],
): Array {
  if (isIdentityLayout(carry)) return leaves[0]!;
  const aval = packedAval(carry, batch);
  if (aval.shape[batch.length] === 0) return ConcreteArray.zeros(aval.shape, "float64");
  const parts = leaves.map((leaf, i) =>
    reshape(convert(leaf, "float64"), [...batch, shapeSize(carry[i]!.shape)]),
  );
  return concatenate(parts, batch.length);
}

/**
 * Cuts a float64 vector (with `batch` leading axes) of all the leaves'
 * elements back into leaves of the given shapes and dtypes, by primitives.
 */
export function splitVector(
  vector: Array,
  avals: readonly Aval[],
  batch: readonly number[] = [],
): Array[] {
  let offset = 0;
  return avals.map((a) => {
    const n = shapeSize(a.shape);
    const part = slice(vector, [...batch.map(() => 0), offset], [...batch, offset + n]);
    offset += n;
    return convert(reshape(part, [...batch, ...a.shape]), a.dtype);
  });
}

/** Cuts the packed output (with `batch` leading axes) back into carry leaves. */
export function unpack(out: Array, carry: readonly Aval[], batch: readonly number[]): Array[] {
  return isIdentityLayout(carry) ? [out] : splitVector(out, carry, batch);
}

// ------------------------------- the checkpointed scan's tangents --

/** One float output leaf's place in the checkpointed scan's packed tangent vector. */
export interface PackedLeaf {
  /** Index among the carry leaves (carry: true) or the y leaves. */
  j: number;
  carry: boolean;
  shape: readonly number[];
  dtype: Aval["dtype"];
  offset: number;
  size: number;
}

/**
 * The packed layout of the float leaves among the carry (shapes as given)
 * and the stacked ys (shape [T, ...row]); integer leaves have no tangent.
 */
export function floatLeafLayout(
  carryAvals: readonly Aval[],
  yAvals: readonly Aval[],
  length: number,
): { packed: PackedLeaf[]; size: number } {
  const packed: PackedLeaf[] = [];
  let offset = 0;
  const addLeaf = (j: number, carry: boolean, shape: readonly number[], dtype: Aval["dtype"]) => {
    if (!isFloat(dtype)) return;
    const size = shapeSize(shape);
    packed.push({ j, carry, shape, dtype, offset, size });
    offset += size;
  };
  carryAvals.forEach((a, j) => addLeaf(j, true, a.shape, a.dtype));
  yAvals.forEach((a, j) => addLeaf(j, false, [length, ...a.shape], a.dtype));
  return { packed, size: offset };
}

/** The float output leaves raveled into one float64 vector (by the layout). */
export function packFloatLeaves(
  layout: readonly PackedLeaf[],
  carry: readonly Array[],
  ys: readonly Array[],
): Array {
  const parts = layout.map((p) => {
    const leaf = p.carry ? carry[p.j]! : ys[p.j]!;
    const flat = np.reshape(leaf, [p.size]);
    return flat.dtype === "float64" ? flat : flat.astype("float64");
  });
  return parts.length === 1 ? parts[0]! : np.concatenate(parts);
}

/** The inverse of packFloatLeaves for one entry: the leaf in its shape and dtype. */
export function unpackFloatLeaf(packed: Array, p: PackedLeaf): Array {
  const flat = slice(packed, [p.offset], [p.offset + p.size]);
  const leaf = np.reshape(flat, [...p.shape]);
  return p.dtype === "float64" ? leaf : leaf.astype(p.dtype);
}
