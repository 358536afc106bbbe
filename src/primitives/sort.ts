/**
 * Sorting: the `sort` primitive, the first primitive with several outputs.
 *
 * sort(x) sorts along the last axis and returns [values, indices]: values
 * are x's entries in ascending order, indices (int32) say where each came
 * from, so values[..., j] = x[..., indices[..., j]]. The sort is stable
 * (equal entries keep their order) and puts NaN last, as NumPy does.
 *
 * Derivative: sorting is a permutation P that is locally constant in x
 * (away from ties), so d values = P dx: the tangent gathered at the same
 * indices; the indices are integers and have no tangent. The gather is
 * linear, so reverse mode transposes it into a scatter-add of the cotangent.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { allocate } from "../core/dtype.js";
import { ShapeError } from "../core/errors.js";
import { defineMultiPrimitive } from "../core/primitive.js";
import { shapeSize } from "../core/shape.js";
import { bindAll } from "../core/trace.js";
import { add } from "./elementwise.js";
import { batchSize, batchToFront } from "./helpers.js";
import { gather } from "./indexing.js";
import { broadcastInDim, reshape } from "./movement.js";

function checkSortable(aval: Aval): void {
  if (aval.shape.length === 0) {
    throw new ShapeError(
      `sort: cannot sort a 0-d array (shape []) along its last axis; reshape it to [1] first`,
    );
  }
}

/** Ascending order with NaN after every number; ties compare equal (the sort is stable). */
function compareNumbers(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  if (aNaN === bNaN) return 0;
  return aNaN ? 1 : -1;
}

/** Sorts each row of length `n` of x's buffer; returns [values, indices]. */
function sortRows(x: ConcreteArray): ConcreteArray[] {
  const n = x.shape[x.shape.length - 1]!;
  const rows = n === 0 ? 0 : x.size / n;
  const src = x.buffer;
  const values = allocate(x.dtype, x.size);
  const indices = new Int32Array(x.size);
  const order = new globalThis.Array<number>(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    for (let j = 0; j < n; j++) order[j] = j;
    // Array.prototype.sort is stable (ES2019), so equal entries keep their order.
    order.sort((i, j) => compareNumbers(src[base + i]!, src[base + j]!));
    for (let j = 0; j < n; j++) {
      indices[base + j] = order[j]!;
      values[base + j] = src[base + order[j]!]!;
    }
  }
  return [
    new ConcreteArray(x.shape, x.dtype, values),
    new ConcreteArray(x.shape, "int32", indices),
  ];
}

/**
 * x[..., idx[..., j]] for idx shaped like x (NumPy's take_along_axis on the
 * last axis), as one gather of the flattened x at row * n + idx.
 */
export function takeAlongLastAxis(x: Array, idx: Array): Array {
  const n = x.shape[x.ndim - 1]!;
  const size = shapeSize(x.shape);
  const rows = n === 0 ? 0 : size / n;
  const offsets = new Int32Array(rows);
  for (let r = 0; r < rows; r++) offsets[r] = r * n;
  const rowOffset = broadcastInDim(new ConcreteArray([rows], "int32", offsets), [rows, n], [0]);
  const flatIdx = reshape(add(reshape(idx, [rows, n]), rowOffset), [size]);
  return reshape(gather(reshape(x, [size]), flatIdx, 0), x.shape);
}

const sortPrim = defineMultiPrimitive<Record<string, never>>({
  name: "sort",
  multipleResults: true,
  linear: false,
  abstractEval([x]) {
    checkSortable(x!);
    return [
      { shape: x!.shape, dtype: x!.dtype },
      { shape: x!.shape, dtype: "int32" },
    ];
  },
  impl: ([x]) => sortRows(x!),
  jvp: (_primals, [dx], [, indices]) => [
    dx === null ? null : takeAlongLastAxis(dx!, indices!),
    null,
  ],
  batch([x], [d]) {
    // With the batch axis in front, the last axis is still the one sorted.
    const front = batchToFront(x!, d ?? null, batchSize([x!], [d ?? null]));
    return [sortAll(front), [0, 0]];
  },
});

function sortAll(x: Array): Array[] {
  return bindAll(sortPrim, [x], {});
}

/**
 * Sorts x along its last axis (stable, NaN last). Returns [values, indices]:
 * the sorted values and the int32 positions they came from.
 */
export function sort(x: Array): [Array, Array] {
  const [values, indices] = sortAll(x);
  return [values!, indices!];
}
