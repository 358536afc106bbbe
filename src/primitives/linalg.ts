/**
 * Matrix product. `matmul` multiplies stacks of matrices with identical
 * leading (batch) dimensions: [..., m, k] @ [..., k, n] -> [..., m, n].
 * The np layer handles vectors and broadcasting of batch dimensions.
 */
import { type Array, ConcreteArray } from "../core/array.js";
import { DTypeError, ShapeError, fmtShape } from "../core/errors.js";
import { definePrimitive, UndefPrimal } from "../core/primitive.js";
import { shapeSize, shapesEqual } from "../core/shape.js";
import { bind } from "../core/trace.js";
import { backend } from "../backends/index.js";
import { batchSize, batchToFront, tAdd } from "./helpers.js";
import { transpose } from "./movement.js";

type NoParams = Record<string, never>;
const NO_PARAMS: NoParams = {};

/** Swaps the last two axes. */
export function swapLast(x: Array): Array {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1]!, perm[n - 2]!];
  return transpose(x, perm);
}

const matmulPrim = definePrimitive<NoParams>({
  name: "matmul",
  linear: true, // in each operand separately
  abstractEval([a, b]) {
    const ok =
      a!.shape.length >= 2 &&
      a!.shape.length === b!.shape.length &&
      shapesEqual(a!.shape.slice(0, -2), b!.shape.slice(0, -2)) &&
      a!.shape[a!.shape.length - 1] === b!.shape[b!.shape.length - 2];
    if (!ok) {
      throw new ShapeError(
        `matmul: shapes ${fmtShape(a!.shape)} and ${fmtShape(b!.shape)} are not aligned: ` +
          `the last axis of the first (${a!.shape[a!.shape.length - 1]}) must equal the ` +
          `second-to-last axis of the second (${b!.shape[b!.shape.length - 2]})`,
      );
    }
    if (a!.dtype !== b!.dtype || a!.dtype === "bool") {
      throw new DTypeError(
        `matmul: operands must share a numeric dtype, got ${a!.dtype} and ${b!.dtype}`,
      );
    }
    return { shape: [...a!.shape.slice(0, -1), b!.shape[b!.shape.length - 1]!], dtype: a!.dtype };
  },
  impl([a, b]) {
    const m = a!.shape[a!.ndim - 2]!;
    const k = a!.shape[a!.ndim - 1]!;
    const n = b!.shape[b!.ndim - 1]!;
    const batch = shapeSize(a!.shape.slice(0, -2));
    const shape = [...a!.shape.slice(0, -1), n];
    return new ConcreteArray(
      shape,
      a!.dtype,
      backend().matmul(a!.buffer, b!.buffer, batch, m, k, n, a!.dtype),
    );
  },
  // d(A B) = dA B + A dB
  jvp: ([a, b], [da, db]) =>
    tAdd(da === null ? null : matmul(da!, b!), db === null ? null : matmul(a!, db!)),
  // ct_A = ct B^T, ct_B = A^T ct
  transpose(ct, [a, b]) {
    if (a instanceof UndefPrimal && !(b instanceof UndefPrimal))
      return [matmul(ct, swapLast(b!)), null];
    if (b instanceof UndefPrimal && !(a instanceof UndefPrimal))
      return [null, matmul(swapLast(a!), ct)];
    throw new Error("matmul: transpose needs exactly one linear operand");
  },
  batch(args, dims) {
    const size = batchSize(args, dims);
    const [a, b] = args.map((x, i) => batchToFront(x, dims[i] ?? null, size));
    return [matmul(a!, b!), 0];
  },
});
/** Batched matrix product with equal batch dimensions. */
export function matmul(a: Array, b: Array): Array {
  return bind(matmulPrim, [a, b], NO_PARAMS);
}
