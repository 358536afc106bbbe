/**
 * Matrix product. `matmul` multiplies stacks of matrices with identical
 * leading (batch) dimensions: [..., m, k] @ [..., k, n] -> [..., m, n].
 * The np layer handles vectors and broadcasting of batch dimensions.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { DTypeError, InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { type BatchDim, definePrimitive, UndefPrimal } from "../core/primitive.js";
import { shapeSize, shapesEqual } from "../core/shape.js";
import { bind } from "../core/trace.js";
import { backend } from "../backends/index.js";
import { add, mul, neg, tAdd } from "./elementwise.js";
import {
  batchSize,
  batchToFront,
  broadcastInDim,
  moveAxis,
  reshape,
  transpose,
} from "./movement.js";
import { reduceSum } from "./reduce.js";

type NoParams = Record<string, never>;
const NO_PARAMS: NoParams = {};

/** Swaps the last two axes. */
export function swapLast(x: Array): Array {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1]!, perm[n - 2]!];
  return transpose(x, perm);
}

/**
 * Parameters of the matrix product op(A) op(B): `transposeA` makes op(A) the
 * transpose of A's last two axes (A stored [..., k, m]), `transposeB` that of
 * B (B stored [..., n, k]). Gradients use them (ct B^T, A^T ct) so that no
 * transpose is materialised; the backends pack the operands from any layout.
 */
interface MatmulParams {
  transposeA: boolean;
  transposeB: boolean;
}

/** One params object per flag combination (params are compared by identity and by text). */
const MATMUL_PARAMS: readonly MatmulParams[] = [
  { transposeA: false, transposeB: false },
  { transposeA: false, transposeB: true },
  { transposeA: true, transposeB: false },
  { transposeA: true, transposeB: true },
];
function matmulParams(transposeA: boolean, transposeB: boolean): MatmulParams {
  return MATMUL_PARAMS[(transposeA ? 2 : 0) + (transposeB ? 1 : 0)]!;
}

/** [m, k] of op(A) and [k, n] of op(B) from the stored shapes. */
function productDims(
  aShape: readonly number[],
  bShape: readonly number[],
  { transposeA, transposeB }: MatmulParams,
): { m: number; ka: number; kb: number; n: number } {
  const [a0, a1] = [aShape[aShape.length - 2]!, aShape[aShape.length - 1]!];
  const [b0, b1] = [bShape[bShape.length - 2]!, bShape[bShape.length - 1]!];
  return {
    m: transposeA ? a1 : a0,
    ka: transposeA ? a0 : a1,
    kb: transposeB ? b1 : b0,
    n: transposeB ? b0 : b1,
  };
}

/** Describes an operand for an error message: "shape [3, 4]" or "shape [3, 4] (transposed)". */
function operandText(shape: readonly number[], transposed: boolean): string {
  return `${fmtShape(shape)}${transposed ? " (transposed)" : ""}`;
}

const matmulPrim = definePrimitive<MatmulParams>({
  name: "matmul",
  device: (k, [a, b], { transposeA, transposeB }) => k.matmul(a!, b!, transposeA, transposeB),
  matrixProduct: (params) => params,
  linear: true, // in each operand separately
  abstractEval([a, b], params) {
    const ok =
      a!.shape.length >= 2 &&
      a!.shape.length === b!.shape.length &&
      shapesEqual(a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    const dims = ok ? productDims(a!.shape, b!.shape, params) : undefined;
    if (dims === undefined || dims.ka !== dims.kb) {
      throw new ShapeError(
        `matmul: shapes ${operandText(a!.shape, params.transposeA)} and ` +
          `${operandText(b!.shape, params.transposeB)} are not aligned: ` +
          (dims === undefined
            ? `both must have rank >= 2 and equal leading (batch) dimensions`
            : `the inner dimension of the first (${dims.ka}) must equal that of the second ` +
              `(${dims.kb})`),
      );
    }
    if (a!.dtype !== b!.dtype || a!.dtype === "bool") {
      throw new DTypeError(
        `matmul: operands must share a numeric dtype, got ${a!.dtype} and ${b!.dtype}`,
      );
    }
    return { shape: [...a!.shape.slice(0, -2), dims.m, dims.n], dtype: a!.dtype };
  },
  impl([a, b], params) {
    const { m, ka: k, n } = productDims(a!.shape, b!.shape, params);
    const batch = shapeSize(a!.shape.slice(0, -2));
    const shape = [...a!.shape.slice(0, -2), m, n];
    return new ConcreteArray(
      shape,
      a!.dtype,
      backend().matmul(
        a!.buffer,
        b!.buffer,
        batch,
        m,
        k,
        n,
        a!.dtype,
        params.transposeA,
        params.transposeB,
      ),
    );
  },
  // d(op(A) op(B)) = op(dA) op(B) + op(A) op(dB)
  jvp: ([a, b], [da, db], _out, { transposeA: ta, transposeB: tb }) =>
    tAdd(
      da === null ? null : matmulT(da!, b!, ta, tb),
      db === null ? null : matmulT(a!, db!, ta, tb),
    ),
  // C = op(A) op(B): ct_op(A) = ct op(B)^T and ct_op(B) = op(A)^T ct, each
  // transposed back when the operand enters transposed:
  //   ct_A = ct op(B)^T          (A plain)     = op(B) ct^T   (A transposed)
  //   ct_B = op(A)^T ct          (B plain)     = ct^T op(A)   (B transposed)
  transpose(ct, [a, b], { transposeA: ta, transposeB: tb }) {
    if (a instanceof UndefPrimal && !(b instanceof UndefPrimal))
      return [ta ? matmulT(b!, ct, tb, true) : matmulT(ct, b!, false, !tb), null];
    if (b instanceof UndefPrimal && !(a instanceof UndefPrimal))
      return [null, tb ? matmulT(ct, a!, true, ta) : matmulT(a!, ct, !ta, false)];
    throw new Error("matmul: transpose needs exactly one linear operand");
  },
  // The flags name the last two axes, which batching (to the front) leaves last.
  // With one operand a plain unbatched matrix, the batch folds into the other's
  // rows or columns: one product, instead of a copy of the matrix per element.
  batch(args, dims, params) {
    const size = batchSize(args, dims);
    const folded = matmulFoldedBatch(
      args[0]!,
      args[1]!,
      dims[0] ?? null,
      dims[1] ?? null,
      size,
      params,
    );
    if (folded !== null) return folded;
    const [a, b] = args.map((x, i) => batchToFront(x, dims[i] ?? null, size));
    return [matmulT(a!, b!, params.transposeA, params.transposeB), 0];
  },
});

/**
 * vmap of op(A) op(B) where one operand is an unbatched matrix (rank 2):
 * - A batched (stored [m, k] per element, not transposed), B unbatched:
 *   the elements' rows stack, [size·m, k] op(B) = [size·m, n], read as
 *   [size, m, n] (batch axis 0).
 * - B batched, A unbatched, op(B_i) a column (n = 1, B not transposed):
 *   (op(A) b_i)^T = b_i^T op(A)^T, so the rows b_i^T stack into
 *   [size, k] op(A)^T = [size, m], read as [size, m, 1].
 * - B batched with n > 1 (not transposed): the columns stack,
 *   op(A) [B_0 | B_1 | ...] = [m, size·n], read as [m, size, n] (batch axis 1).
 * Returns null in the other cases (the general rule broadcasts the unbatched operand).
 */
function matmulFoldedBatch(
  a: Array,
  b: Array,
  da: BatchDim,
  db: BatchDim,
  size: number,
  { transposeA: ta, transposeB: tb }: MatmulParams,
): [Array, BatchDim] | null {
  if (da !== null && db === null && a.ndim === 3 && b.ndim === 2 && !ta) {
    const front = moveAxis(a, da, 0); // [size, m, k]
    const [m, k] = [front.shape[1]!, front.shape[2]!];
    const c = matmulT(reshape(front, [size * m, k]), b, false, tb); // [size·m, n]
    return [reshape(c, [size, m, c.shape[1]!]), 0];
  }
  if (db !== null && da === null && a.ndim === 2 && b.ndim === 3 && !tb) {
    const m = ta ? a.shape[1]! : a.shape[0]!;
    const perElement = b.shape.filter((_, d) => d !== db); // [k, n]
    const [k, n] = [perElement[0]!, perElement[1]!];
    if (n === 1) {
      const rows = reshape(moveAxis(b, db, 0), [size, k]);
      const c = matmulT(rows, a, false, !ta); // [size, m]
      return [reshape(c, [size, m, 1]), 0];
    }
    const cols = reshape(moveAxis(b, db, 1), [k, size * n]); // [k, size, n] -> [k, size·n]
    const c = matmulT(a, cols, ta, false); // [m, size·n]
    return [reshape(c, [m, size, n]), 1];
  }
  return null;
}

/** Batched matrix product with equal batch dimensions. */
export function matmul(a: Array, b: Array): Array {
  return bind(matmulPrim, [a, b], matmulParams(false, false));
}

/**
 * Batched matrix product op(a) op(b), where op transposes the last two axes
 * of an operand whose flag is set (without materialising the transpose).
 */
export function matmulT(a: Array, b: Array, transposeA: boolean, transposeB: boolean): Array {
  return bind(matmulPrim, [a, b], matmulParams(transposeA, transposeB));
}

// ------------------------------------------------------ matrix functions --
//
// Stacks of square matrices [..., n, n] (right-hand sides [..., n, k] with
// the same leading dimensions; the np layer broadcasts them). The kernels
// loop over the stack in JS; a vmap batch axis moves to the front and joins
// the stack, so vmap costs one call, not one per matrix. Each rule's
// derivative is written above it.

/** LU factorisation with partial pivoting of the n x n matrix at `offset` (row-major copy). */
function luFactor(
  a: ArrayLike<number>,
  n: number,
  offset = 0,
): { lu: Float64Array; perm: Int32Array; sign: number } {
  const lu = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) lu[i] = a[offset + i]!;
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  let sign = 1;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(lu[i * n + k]!) > Math.abs(lu[p * n + k]!)) p = i;
    if (p !== k) {
      for (let j = 0; j < n; j++) [lu[k * n + j], lu[p * n + j]] = [lu[p * n + j]!, lu[k * n + j]!];
      [perm[k], perm[p]] = [perm[p]!, perm[k]!];
      sign = -sign;
    }
    const pivot = lu[k * n + k]!;
    if (pivot === 0) continue;
    for (let i = k + 1; i < n; i++) {
      const f = (lu[i * n + k]! /= pivot);
      for (let j = k + 1; j < n; j++) lu[i * n + j]! -= f * lu[k * n + j]!;
    }
  }
  return { lu, perm, sign };
}

/** Checks a stack of square float matrices [..., n, n]; returns n. */
export function checkSquare(fn: string, a: Aval): number {
  const r = a.shape.length;
  const n = a.shape[r - 1]!;
  if (r < 2 || a.shape[r - 2] !== n) {
    throw new ShapeError(
      `${fn}: expected a square matrix [n, n] or a stack of them [..., n, n], got shape ` +
        `${fmtShape(a.shape)}`,
    );
  }
  if (a.dtype !== "float64" && a.dtype !== "float32") {
    throw new DTypeError(
      `${fn}: expected a float matrix (float64 or float32), got dtype ${a.dtype} for shape ` +
        `${fmtShape(a.shape)}; convert it with astype("float64")`,
    );
  }
  return n;
}

/** Checks square float matrices [..., n, n] and right-hand sides [..., n, k] of a's dtype. */
function checkRightHandSide(fn: string, a: Aval, b: Aval): void {
  const n = checkSquare(fn, a);
  const batch = a.shape.slice(0, -2);
  if (
    b.shape.length !== a.shape.length ||
    !shapesEqual(b.shape.slice(0, -2), batch) ||
    b.shape[b.shape.length - 2] !== n ||
    b.dtype !== a.dtype
  ) {
    throw new ShapeError(
      `${fn}: the right-hand side must be [${[...batch, n].join(", ")}, k] of dtype ${a.dtype} ` +
        `to match the matrix ${fmtShape(a.shape)}, got ${fmtShape(b.shape)} ${b.dtype}`,
    );
  }
}

/** The number of matrices in a stack [..., r, c]. */
function stackCount(shape: readonly number[]): number {
  return shapeSize(shape.slice(0, -2));
}

/**
 * Batch rule of the natively batched matrix functions: the vmap axis of
 * every operand moves to the front (unbatched operands are broadcast) and
 * becomes one more stack dimension.
 */
function stackBatch<P>(apply: (args: Array[], params: P) => Array) {
  return (args: readonly Array[], dims: readonly BatchDim[], params: P): [Array, BatchDim] => {
    const size = batchSize(args, dims);
    return [
      apply(
        args.map((x, i) => batchToFront(x, dims[i] ?? null, size)),
        params,
      ),
      0,
    ];
  };
}

/**
 * A constant n x n matrix (given by its entry function) broadcast over the
 * stack dimensions of `shape` ([..., n, n]).
 */
export function stackedConstant(
  shape: readonly number[],
  dtype: Aval["dtype"],
  entry: (i: number, j: number) => number,
): Array {
  const r = shape.length;
  const rows = shape[r - 2]!;
  const cols = shape[r - 1]!;
  const m = ConcreteArray.zeros([rows, cols], dtype);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) m.buffer[i * cols + j] = entry(i, j);
  if (r === 2) return m;
  return broadcastInDim(m, shape, [r - 2, r - 1]);
}

/** Solves A x = b by LU with partial pivoting (A [..., n, n], b [..., n, k]). */
function solveImpl(a: ConcreteArray, b: ConcreteArray): ConcreteArray {
  const n = a.shape[a.shape.length - 1]!;
  const k = b.shape[b.shape.length - 1]!;
  const count = stackCount(a.shape);
  const out = ConcreteArray.zeros(b.shape, a.dtype);
  const x = new Float64Array(n * k);
  const B = b.buffer;
  for (let m = 0; m < count; m++) {
    const { lu, perm } = luFactor(a.buffer, n, m * n * n);
    for (let i = 0; i < n; i++) {
      if (lu[i * n + i] === 0) {
        throw new InvalidArgumentError(
          `np.linalg.solve: the matrix of shape ${fmtShape(a.shape.slice(-2))}` +
            `${count > 1 ? ` (number ${m} of the stack ${fmtShape(a.shape)})` : ""} is singular ` +
            `(zero pivot in row ${i}); there is no unique solution — check the matrix, or use ` +
            `np.linalg.lstsq or np.linalg.pinv`,
        );
      }
    }
    const bOff = m * n * k;
    for (let c = 0; c < k; c++) {
      // forward substitution with the permuted right-hand side (unit lower L)
      for (let i = 0; i < n; i++) {
        let s = B[bOff + perm[i]! * k + c]!;
        for (let j = 0; j < i; j++) s -= lu[i * n + j]! * x[j * k + c]!;
        x[i * k + c] = s;
      }
      for (let i = n - 1; i >= 0; i--) {
        let s = x[i * k + c]!;
        for (let j = i + 1; j < n; j++) s -= lu[i * n + j]! * x[j * k + c]!;
        x[i * k + c] = s / lu[i * n + i]!;
      }
    }
    out.buffer.set(x, bOff);
  }
  return out;
}

const solvePrim = definePrimitive<NoParams>({
  name: "solve",
  linear: true, // in b
  abstractEval([a, b]) {
    checkRightHandSide("np.linalg.solve", a!, b!);
    return b!;
  },
  impl: ([a, b]) => solveImpl(a!, b!),
  device: (k, [a, b], _p, out) => k.denseLinalg("solve", a!, b!, true, out.shape),
  // x = A^-1 b: dx = A^-1 (db - dA x)
  jvp([a], [da, db], x) {
    const rhs = tAdd(db!, da === null ? null : neg(matmul(da!, x)));
    return rhs === null ? null : solve(a!, rhs);
  },
  // ct_b = A^-T ct
  transpose(ct, [a, b]) {
    if (a instanceof UndefPrimal || !(b instanceof UndefPrimal)) {
      throw new Error("solve: transpose is linear in the right-hand side only");
    }
    return [null, solve(swapLast(a!), ct)];
  },
  batch: stackBatch(([a, b]) => solve(a!, b!)),
});
/** x with A x = b, A [..., n, n], b [..., n, k] (equal leading dimensions). */
export function solve(a: Array, b: Array): Array {
  return bind(solvePrim, [a, b], NO_PARAMS);
}

/** The identity broadcast to a's shape [..., n, n]. */
function eyeLike(a: Aval): Array {
  return stackedConstant(a.shape, a.dtype, (i, j) => (i === j ? 1 : 0));
}

/** tr(A^-1 dA) per matrix: the derivative of log|det A| along dA. */
function logDetTangent(a: Array, da: Array): Array {
  const r = a.shape.length;
  return reduceSum(mul(solve(a, da), eyeLike(a)), [r - 2, r - 1]);
}

/** The LU factorisation's [sign, log|det|, det] of each matrix of a stack. */
function determinants(a: ConcreteArray, what: "det" | "logAbs" | "sign"): ConcreteArray {
  const n = a.shape[a.shape.length - 1]!;
  const count = stackCount(a.shape);
  const out = ConcreteArray.zeros(a.shape.slice(0, -2), a.dtype);
  for (let m = 0; m < count; m++) {
    const { lu, sign } = luFactor(a.buffer, n, m * n * n);
    let v = what === "logAbs" ? 0 : sign;
    for (let i = 0; i < n; i++) {
      const d = lu[i * n + i]!;
      if (what === "det") v *= d;
      else if (what === "logAbs") v += Math.log(Math.abs(d));
      else v *= Math.sign(d);
    }
    out.buffer[m] = v;
  }
  return out;
}

const detPrim = definePrimitive<NoParams>({
  name: "det",
  linear: false,
  abstractEval([a]) {
    checkSquare("np.linalg.det", a!);
    return { shape: a!.shape.slice(0, -2), dtype: a!.dtype };
  },
  impl: ([a]) => determinants(a!, "det"),
  device: (k, [a], _p, out) => k.denseLinalg("det", a!, null, true, out.shape),
  // d det A = det A tr(A^-1 dA)
  jvp: ([a], [da], out) => mul(out, logDetTangent(a!, da!)),
  batch: stackBatch(([a]) => det(a!)),
});
/** Determinants of a stack of square matrices [..., n, n] -> [...]. */
export function det(a: Array): Array {
  return bind(detPrim, [a], NO_PARAMS);
}

const logAbsDetPrim = definePrimitive<NoParams>({
  name: "logAbsDet",
  linear: false,
  abstractEval([a]) {
    checkSquare("np.linalg.slogdet", a!);
    return { shape: a!.shape.slice(0, -2), dtype: a!.dtype };
  },
  impl: ([a]) => determinants(a!, "logAbs"),
  device: (k, [a], _p, out) => k.denseLinalg("logAbsDet", a!, null, true, out.shape),
  // d log|det A| = tr(A^-1 dA)
  jvp: ([a], [da]) => logDetTangent(a!, da!),
  batch: stackBatch(([a]) => logAbsDet(a!)),
});
/** log|det A| of a stack of square matrices [..., n, n] -> [...]. */
export function logAbsDet(a: Array): Array {
  return bind(logAbsDetPrim, [a], NO_PARAMS);
}

const detSignPrim = definePrimitive<NoParams>({
  name: "detSign",
  linear: false,
  abstractEval([a]) {
    checkSquare("np.linalg.slogdet", a!);
    return { shape: a!.shape.slice(0, -2), dtype: a!.dtype };
  },
  // The sign is the product of the pivots' signs (never under- or overflows).
  impl: ([a]) => determinants(a!, "sign"),
  device: (k, [a], _p, out) => k.denseLinalg("detSign", a!, null, true, out.shape),
  // Piecewise constant: derivative 0.
  jvp: () => null,
  batch: stackBatch(([a]) => detSign(a!)),
});
/** The sign (1, -1 or 0) of det A for a stack [..., n, n] -> [...]. */
export function detSign(a: Array): Array {
  return bind(detSignPrim, [a], NO_PARAMS);
}

interface TriangularParams {
  lower: boolean;
}
/** Solves A x = b with A triangular (only its lower or upper triangle is read). */
function triangularImpl(a: ConcreteArray, b: ConcreteArray, lower: boolean): ConcreteArray {
  const n = a.shape[a.shape.length - 1]!;
  const k = b.shape[b.shape.length - 1]!;
  const count = stackCount(a.shape);
  const out = ConcreteArray.zeros(b.shape, a.dtype);
  const x = out.buffer;
  const A = a.buffer;
  const B = b.buffer;
  for (let m = 0; m < count; m++) {
    const ao = m * n * n;
    const bo = m * n * k;
    for (let c = 0; c < k; c++) {
      for (let t = 0; t < n; t++) {
        const i = lower ? t : n - 1 - t;
        let s = B[bo + i * k + c]!;
        if (lower) for (let j = 0; j < i; j++) s -= A[ao + i * n + j]! * x[bo + j * k + c]!;
        else for (let j = i + 1; j < n; j++) s -= A[ao + i * n + j]! * x[bo + j * k + c]!;
        x[bo + i * k + c] = s / A[ao + i * n + i]!;
      }
    }
  }
  return out;
}

/** The lower (or upper) triangle of square matrices like a, as a multiplication mask. */
function triangleMask(a: Aval, lower: boolean): Array {
  return stackedConstant(a.shape, a.dtype, (i, j) => ((lower ? j <= i : j >= i) ? 1 : 0));
}

const triangularSolvePrim = definePrimitive<TriangularParams>({
  name: "triangularSolve",
  linear: true, // in b
  abstractEval([a, b]) {
    checkRightHandSide("np.linalg.triangularSolve", a!, b!);
    return b!;
  },
  impl: ([a, b], { lower }) => triangularImpl(a!, b!, lower),
  device: (k, [a, b], { lower }, out) => k.denseLinalg("triangularSolve", a!, b!, lower, out.shape),
  // x = T^-1 b with T the triangle of A: dx = T^-1 (db - dT x)
  jvp([a], [da, db], x, { lower }) {
    const dT = da === null ? null : mul(da!, triangleMask(a!, lower));
    const rhs = tAdd(db!, dT === null ? null : neg(matmul(dT, x)));
    return rhs === null ? null : triangularSolve(a!, rhs, lower);
  },
  // ct_b = T^-T ct: the transposed triangle is of the other kind
  transpose(ct, [a, b], { lower }) {
    if (a instanceof UndefPrimal || !(b instanceof UndefPrimal)) {
      throw new Error("triangularSolve: transpose is linear in the right-hand side only");
    }
    return [null, triangularSolve(swapLast(a!), ct, !lower)];
  },
  batch: stackBatch((args, p) => triangularSolve(args[0]!, args[1]!, p.lower)),
});
/** x with T x = b, T the lower or upper triangle of A [..., n, n], b [..., n, k]. */
export function triangularSolve(a: Array, b: Array, lower: boolean): Array {
  return bind(triangularSolvePrim, [a, b], { lower });
}

/** Cholesky factors of the symmetric parts of a stack of matrices. */
function choleskyImpl(a: ConcreteArray): ConcreteArray {
  const n = a.shape[a.shape.length - 1]!;
  const count = stackCount(a.shape);
  const out = ConcreteArray.zeros(a.shape, a.dtype);
  const L = out.buffer;
  const A = a.buffer;
  for (let m = 0; m < count; m++) {
    const o = m * n * n;
    // The symmetric part of A is factorised (so derivatives along any dA are consistent).
    const sym = (i: number, j: number) => 0.5 * (A[o + i * n + j]! + A[o + j * n + i]!);
    for (let j = 0; j < n; j++) {
      let d = sym(j, j);
      for (let k = 0; k < j; k++) d -= L[o + j * n + k]! * L[o + j * n + k]!;
      if (!(d > 0)) {
        throw new InvalidArgumentError(
          `np.linalg.cholesky: the matrix${count > 1 ? ` number ${m} of the stack ${fmtShape(a.shape)}` : ""} ` +
            `is not positive definite (pivot ${j} is ${d}); cholesky needs a symmetric positive ` +
            `definite matrix`,
        );
      }
      const ljj = Math.sqrt(d);
      L[o + j * n + j] = ljj;
      for (let i = j + 1; i < n; i++) {
        let s = sym(i, j);
        for (let k = 0; k < j; k++) s -= L[o + i * n + k]! * L[o + j * n + k]!;
        L[o + i * n + j] = s / ljj;
      }
    }
  }
  return out;
}

const choleskyPrim = definePrimitive<NoParams>({
  name: "cholesky",
  linear: false,
  abstractEval([a]) {
    checkSquare("np.linalg.cholesky", a!);
    return a!;
  },
  impl: ([a]) => choleskyImpl(a!),
  device: (k, [a], _p, out) => k.denseLinalg("cholesky", a!, null, true, out.shape),
  // A = L L^T (of the symmetric part of A): dL = L Φ(L^-1 sym(dA) L^-T),
  // Φ = lower triangle with the diagonal halved.
  jvp([a], [da], l) {
    const sym = mul(add(da!, swapLast(da!)), ConcreteArray.full(a!.shape, a!.dtype, 0.5));
    const left = triangularSolve(l, sym, true); // L^-1 dA
    const inner = swapLast(triangularSolve(l, swapLast(left), true)); // L^-1 dA L^-T
    const phi = stackedConstant(a!.shape, a!.dtype, (i, j) => (i === j ? 0.5 : j < i ? 1 : 0));
    return matmul(l, mul(inner, phi));
  },
  batch: stackBatch(([a]) => cholesky(a!)),
});
/** Lower Cholesky factors of a stack of symmetric positive definite matrices. */
export function cholesky(a: Array): Array {
  return bind(choleskyPrim, [a], NO_PARAMS);
}
