/**
 * The backend interface: a small vocabulary of kernels on flat row-major
 * TypedArrays. Primitives are implemented on top of it (in `primitives/`),
 * so adding a primitive never touches a backend. The JS reference backend is
 * in `js.ts`; faster backends implement the same interface.
 */
import type { DType, TypedArray } from "../core/dtype.js";
import type { ElementwiseKernel } from "../core/primitive.js";
import type { Shape } from "../core/shape.js";

/**
 * An elementwise operation as a backend sees it: a primitive's declaration
 * (`ElementwiseRule` in core/primitive.ts) gives its meaning on one number,
 * which the JS backend loops over, and its Wasm vector form, which the Wasm
 * backend runs when it has a kernel for it. Backends know no primitive by
 * name, so a new elementwise primitive needs no backend change.
 */
export type { ElementwiseKernel };

export type ReduceOp = "sum" | "max" | "min" | "argmax" | "argmin";

export interface Backend {
  readonly name: string;
  /** out[i] = op(x[i]), stored as `dtype`. */
  unary(op: ElementwiseKernel, x: TypedArray, dtype: DType): TypedArray;
  /** out[i] = op(a[i], b[i]) for equal-length inputs, stored as `dtype`. */
  binary(op: ElementwiseKernel, a: TypedArray, b: TypedArray, dtype: DType): TypedArray;
  /** out[i] = pred[i] ? onTrue[i] : onFalse[i]. */
  select(pred: TypedArray, onTrue: TypedArray, onFalse: TypedArray, dtype: DType): TypedArray;
  /** Element-wise conversion to `dtype`. */
  convert(x: TypedArray, dtype: DType): TypedArray;
  /** Reduces the sorted `axes` of `x` (shape `shape`); the result has those axes removed. */
  reduce(
    op: ReduceOp,
    x: TypedArray,
    shape: Shape,
    axes: readonly number[],
    dtype: DType,
  ): TypedArray;
  /**
   * General strided read: out (shape `outShape`) at multi-index i is
   * x[offset + sum_d i_d * strides[d]]. Transpose, broadcast and slice are this.
   */
  stridedGather(
    x: TypedArray,
    outShape: Shape,
    strides: readonly number[],
    offset: number,
    dtype: DType,
  ): TypedArray;
  /**
   * General strided write into zeros of size `outSize`: for each multi-index i
   * of `shape`, out[offset + sum_d i_d * strides[d]] += x[i]. Pad and
   * concatenation are this.
   */
  stridedScatterAdd(
    x: TypedArray,
    shape: Shape,
    outSize: number,
    strides: readonly number[],
    offset: number,
    dtype: DType,
    into?: TypedArray,
  ): TypedArray;
  /**
   * Batched matrix product op(a) @ op(b) -> [batch, m, n], with op(a) [m, k]
   * and op(b) [k, n] per batch entry. op(a) is a itself, stored [batch, m, k],
   * or with `transposeA` its transpose, a stored [batch, k, m]; likewise
   * `transposeB` reads b stored [batch, n, k]. The flags let gradients
   * (ct B^T, A^T ct) skip materialising the transposes.
   */
  matmul(
    a: TypedArray,
    b: TypedArray,
    batch: number,
    m: number,
    k: number,
    n: number,
    dtype: DType,
    transposeA?: boolean,
    transposeB?: boolean,
  ): TypedArray;
  /** Cumulative sum along `axis` (from the end when `reverse`). */
  cumsum(x: TypedArray, shape: Shape, axis: number, reverse: boolean, dtype: DType): TypedArray;
}
