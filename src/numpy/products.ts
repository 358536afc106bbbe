/**
 * np's tensor products and matrix-structure functions: tensordot, inner,
 * NumPy's dot for operands of any rank, kron, cross, diagonal, trace,
 * diag, tril, triu and vander. Each is a composition of movement, gather,
 * scatterAdd, select and matmul primitives, so derivatives (any order, both
 * modes), vmap and jit come from those primitives' rules.
 */
import { Array, type ArrayLike, ConcreteArray } from "../core/array.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { normalizeAxis } from "../core/shape.js";
import * as ew from "../primitives/elementwise.js";
import { gather, scatterAdd } from "../primitives/indexing.js";
import { matmul as matmulPrim } from "../primitives/linalg.js";
import * as mv from "../primitives/movement.js";
import { reduceSum } from "../primitives/movement.js";
import { checkInt, int32Vector } from "./arrays.js";
import { arr, broadcastAll, promotePair } from "./core.js";

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/**
 * Contracts axes `axesA` of a with `axesB` of b (pairwise, equal sizes): a's
 * free axes then b's free axes, in order, as one matrix product.
 */
export function contractAxes(
  fn: string,
  a: Array,
  b: Array,
  axesA: readonly number[],
  axesB: readonly number[],
): Array {
  axesA.forEach((ax, i) => {
    if (a.shape[ax] !== b.shape[axesB[i]!]) {
      throw new ShapeError(
        `np.${fn}: contracted axes differ in size: axis ${ax} of shape ${fmtShape(a.shape)} is ` +
          `${a.shape[ax]}, axis ${axesB[i]} of shape ${fmtShape(b.shape)} is ` +
          `${b.shape[axesB[i]!]}`,
      );
    }
  });
  const freeA = a.shape.map((_, d) => d).filter((d) => !axesA.includes(d));
  const freeB = b.shape.map((_, d) => d).filter((d) => !axesB.includes(d));
  const k = prod(axesA.map((d) => a.shape[d]!));
  const m = prod(freeA.map((d) => a.shape[d]!));
  const n = prod(freeB.map((d) => b.shape[d]!));
  const am = mv.reshape(mv.transpose(a, [...freeA, ...axesA]), [m, k]);
  const bm = mv.reshape(mv.transpose(b, [...axesB, ...freeB]), [k, n]);
  const toNum = (v: Array) => (v.dtype === "bool" ? ew.convert(v, "int32") : v);
  const out = mv.reshape(matmulPrim(toNum(am), toNum(bm)), [
    ...freeA.map((d) => a.shape[d]!),
    ...freeB.map((d) => b.shape[d]!),
  ]);
  // bool with bool is bool, as NumPy's and JAX's: whether any product is true.
  return a.dtype === "bool" && b.dtype === "bool"
    ? ew.ne(out, ConcreteArray.zeros(out.shape, out.dtype))
    : out;
}

/**
 * Sum of products over the given axes (NumPy's tensordot). `axes` is an
 * integer N (the last N axes of a with the first N of b) or a pair
 * `[axesOfA, axesOfB]` (lists, or single axes).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const c = np.tensordot(np.ones([2, 3, 4]), np.ones([3, 4, 5]), 2); // shape [2, 5], all 12
 * ```
 */
export function tensordot(
  a: ArrayLike,
  b: ArrayLike,
  axes: number | readonly [number | readonly number[], number | readonly number[]] = 2,
): Array {
  const [x, y] = promotePair(a, b, "tensordot");
  let axA: number[];
  let axB: number[];
  if (typeof axes === "number") {
    checkInt("tensordot", "axes", axes);
    if (axes < 0 || axes > x.ndim || axes > y.ndim) {
      throw new ShapeError(
        `np.tensordot: axes = ${axes} needs both operands of rank >= ${axes}, got shapes ` +
          `${fmtShape(x.shape)} and ${fmtShape(y.shape)}`,
      );
    }
    axA = x.shape.map((_, d) => d).slice(x.ndim - axes);
    axB = y.shape.map((_, d) => d).slice(0, axes);
  } else {
    const list = (v: number | readonly number[]) => (typeof v === "number" ? [v] : [...v]);
    axA = list(axes[0]).map((d) => normalizeAxis("np.tensordot", d, x.ndim));
    axB = list(axes[1]).map((d) => normalizeAxis("np.tensordot", d, y.ndim));
    if (axA.length !== axB.length) {
      throw new ShapeError(
        `np.tensordot: axes lists differ in length: [${axA.join(", ")}] of a and ` +
          `[${axB.join(", ")}] of b; pass one axis of b per axis of a`,
      );
    }
    if (new Set(axA).size !== axA.length || new Set(axB).size !== axB.length) {
      throw new ShapeError(
        `np.tensordot: an axis is repeated in axes [${axA.join(", ")}] / [${axB.join(", ")}]`,
      );
    }
  }
  return contractAxes("tensordot", x, y, axA, axB);
}

/**
 * Inner product over the last axis, NumPy's `inner`: for a scalar operand
 * the product; otherwise out[i..., j...] = sum_k a[i..., k] b[j..., k],
 * of shape a.shape[:-1] ++ b.shape[:-1].
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const v = np.inner(1.5, [1, 2, 3]); // [1.5, 3, 4.5]
 * const m = np.inner(np.ones([2, 3]), np.ones([4, 3])); // shape [2, 4], all 3
 * ```
 */
export function inner(a: ArrayLike, b: ArrayLike): Array {
  const [x, y] = promotePair(a, b, "inner");
  if (x.ndim === 0 || y.ndim === 0) {
    const [bx, by] = broadcastAll("inner", [x, y]);
    return ew.mul(bx!, by!);
  }
  if (x.shape[x.ndim - 1] !== y.shape[y.ndim - 1]) {
    throw new ShapeError(
      `np.inner: the last axes differ: shapes ${fmtShape(x.shape)} and ${fmtShape(y.shape)}; ` +
        `inner contracts the last axis of both operands`,
    );
  }
  return contractAxes("inner", x, y, [x.ndim - 1], [y.ndim - 1]);
}

/**
 * NumPy's dot for an operand of rank >= 3: the last axis of a with the
 * second-to-last of b (the only axis of a 1-D b), shape
 * a.shape[:-1] ++ b.shape[:-2] ++ b.shape[-1:].
 */
export function dotGeneral(a: Array, b: Array): Array {
  const axB = b.ndim === 1 ? 0 : b.ndim - 2;
  if (a.shape[a.ndim - 1] !== b.shape[axB]) {
    throw new ShapeError(
      `np.dot: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} are not aligned: the last ` +
        `axis of a (${a.shape[a.ndim - 1]}) must equal the ${b.ndim === 1 ? "only" : "second-to-last"} ` +
        `axis of b (${b.shape[axB]}); use np.matmul to broadcast stacks of matrices instead`,
    );
  }
  return contractAxes("dot", a, b, [a.ndim - 1], [axB]);
}

/**
 * Kronecker product: out[i0*m0 + j0, i1*m1 + j1, ...] = a[i0, i1, ...] b[j0, j1, ...]
 * (the operand of lower rank gets leading axes of size 1).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const k = np.kron(np.eye(2), np.array([[1, 2], [3, 4]])); // 4 x 4 block diagonal
 * ```
 */
export function kron(a: ArrayLike, b: ArrayLike): Array {
  let [x, y] = promotePair(a, b, "kron");
  const nd = Math.max(x.ndim, y.ndim);
  x = mv.reshape(x, [...new globalThis.Array<number>(nd - x.ndim).fill(1), ...x.shape]);
  y = mv.reshape(y, [...new globalThis.Array<number>(nd - y.ndim).fill(1), ...y.shape]);
  const inter: number[] = [];
  for (let d = 0; d < nd; d++) inter.push(x.shape[d]!, y.shape[d]!);
  const xs = mv.broadcastInDim(
    x,
    inter,
    x.shape.map((_, d) => 2 * d),
  );
  const ys = mv.broadcastInDim(
    y,
    inter,
    y.shape.map((_, d) => 2 * d + 1),
  );
  return mv.reshape(
    ew.mul(xs, ys),
    x.shape.map((n, d) => n * y.shape[d]!),
  );
}

/** Component `i` of the vectors along the last axis of x. */
function component(x: Array, i: number): Array {
  const start = x.shape.map((_, d) => (d === x.ndim - 1 ? i : 0));
  const limit = x.shape.map((n, d) => (d === x.ndim - 1 ? i + 1 : n));
  return mv.reshape(mv.slice(x, start, limit), x.shape.slice(0, -1));
}

/**
 * Cross product of 3-vectors (or 2-vectors, taken with z = 0) along `axis`
 * (default the last), broadcasting the other axes. Two 2-vectors give the
 * z component only (a scalar per pair), as NumPy.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const z = np.cross([1, 0, 0], [0, 1, 0]); // [0, 0, 1]
 * ```
 */
export function cross(a: ArrayLike, b: ArrayLike, opts: { axis?: number } = {}): Array {
  let [x, y] = promotePair(a, b, "cross");
  const axis = opts.axis ?? -1;
  if (x.ndim === 0 || y.ndim === 0) {
    throw new ShapeError(`np.cross: operands must be vectors, got a scalar`);
  }
  const ax = normalizeAxis("np.cross", axis, x.ndim);
  const ay = normalizeAxis("np.cross", axis, y.ndim);
  x = mv.moveAxis(x, ax, x.ndim - 1);
  y = mv.moveAxis(y, ay, y.ndim - 1);
  const nx = x.shape[x.ndim - 1]!;
  const ny = y.shape[y.ndim - 1]!;
  if ((nx !== 2 && nx !== 3) || (ny !== 2 && ny !== 3)) {
    throw new ShapeError(
      `np.cross: the vectors along axis ${axis} must have 2 or 3 components, got shapes ` +
        `${fmtShape(x.shape)} and ${fmtShape(y.shape)} (after moving that axis last)`,
    );
  }
  const [x0, x1] = [component(x, 0), component(x, 1)];
  const [y0, y1] = [component(y, 0), component(y, 1)];
  const mulB = (p: Array, q: Array): Array => {
    const [bp, bq] = broadcastAll("cross", [p, q]);
    return ew.mul(bp!, bq!);
  };
  const z = ew.sub(mulB(x0, y1), mulB(x1, y0));
  if (nx === 2 && ny === 2) return z;
  // Missing z components are 0: a × b = (a1 b2 - a2 b1, a2 b0 - a0 b2, z).
  const zero = ConcreteArray.scalar(0, x.dtype);
  const x2 = nx === 3 ? component(x, 2) : zero;
  const y2 = ny === 3 ? component(y, 2) : zero;
  const cx = ew.sub(mulB(x1, y2), mulB(x2, y1));
  const cy = ew.sub(mulB(x2, y0), mulB(x0, y2));
  const [px, py, pz] = broadcastAll("cross", [cx, cy, z]);
  const parts = [px!, py!, pz!].map((c) => mv.reshape(c, [...c.shape, 1]));
  const out = mv.concatenate(parts, pz!.ndim);
  return mv.moveAxis(out, out.ndim - 1, normalizeAxis("np.cross", axis, out.ndim));
}

/**
 * Diagonal entries x[..., i, i + offset] over axes `axis1`, `axis2`, which
 * are removed; the diagonal becomes the last axis (NumPy's diagonal).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const d = np.diagonal(np.array([[1, 2], [3, 4]])); // [1, 4]
 * ```
 */
export function diagonal(
  x: ArrayLike,
  opts: { offset?: number; axis1?: number; axis2?: number } = {},
): Array {
  const a = arr(x, "diagonal");
  if (a.ndim < 2) {
    throw new ShapeError(
      `np.diagonal: needs an array of rank >= 2, got shape ${fmtShape(a.shape)}; use np.diag ` +
        `to build a matrix from a vector`,
    );
  }
  const offset = checkInt("diagonal", "offset", opts.offset ?? 0);
  const ax1 = normalizeAxis("np.diagonal", opts.axis1 ?? 0, a.ndim);
  const ax2 = normalizeAxis("np.diagonal", opts.axis2 ?? 1, a.ndim);
  if (ax1 === ax2) {
    throw new ShapeError(`np.diagonal: axis1 and axis2 must differ, both are ${ax1}`);
  }
  const rest = a.shape.map((_, d) => d).filter((d) => d !== ax1 && d !== ax2);
  const t = mv.transpose(a, [...rest, ax1, ax2]);
  const n = a.shape[ax1]!;
  const m = a.shape[ax2]!;
  const row0 = offset >= 0 ? 0 : -offset;
  const col0 = offset >= 0 ? offset : 0;
  const len = Math.max(0, Math.min(n - row0, m - col0));
  const idx: number[] = [];
  for (let i = 0; i < len; i++) idx.push((row0 + i) * m + col0 + i);
  const lead = rest.map((d) => a.shape[d]!);
  return gather(mv.reshape(t, [...lead, n * m]), int32Vector(idx), lead.length);
}

/**
 * Sum of the diagonal x[..., i, i + offset] over axes `axis1`, `axis2`.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const t = np.trace(np.array([[1, 2], [3, 4]])); // 5
 * ```
 */
export function trace(
  x: ArrayLike,
  opts: { offset?: number; axis1?: number; axis2?: number } = {},
): Array {
  const d = diagonal(x, opts);
  const s = d.dtype === "bool" ? ew.convert(d, "int32") : d;
  return reduceSum(s, [s.ndim - 1]);
}

/**
 * A vector's entries on diagonal `k` of a square matrix (zeros elsewhere),
 * or a matrix's diagonal `k` as a vector.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const m = np.diag([1, 2]); // [[1, 0], [0, 2]]
 * const v = np.diag(m); // [1, 2]
 * ```
 */
export function diag(v: ArrayLike, k = 0): Array {
  const a = arr(v, "diag");
  checkInt("diag", "k", k);
  if (a.ndim === 2) return diagonal(a, { offset: k });
  if (a.ndim !== 1) {
    throw new ShapeError(
      `np.diag: needs a 1-D vector (to build a matrix) or a 2-D matrix (to read its ` +
        `diagonal), got shape ${fmtShape(a.shape)}; use np.diagonal for stacks of matrices`,
    );
  }
  const n = a.shape[0]! + Math.abs(k);
  const idx: number[] = [];
  for (let i = 0; i < a.shape[0]!; i++) idx.push(k >= 0 ? i * n + i + k : (i - k) * n + i);
  return mv.reshape(scatterAdd(a, int32Vector(idx), 0, [n * n]), [n, n]);
}

/** x with entries where keep(row, col) is false set to zero (last two axes). */
function triangle(fn: string, x: ArrayLike, keep: (i: number, j: number) => boolean): Array {
  const a = arr(x, fn);
  if (a.ndim < 2) {
    throw new ShapeError(
      `np.${fn}: needs an array of rank >= 2 (the last two axes are the matrix), got shape ` +
        `${fmtShape(a.shape)}`,
    );
  }
  const n = a.shape[a.ndim - 2]!;
  const m = a.shape[a.ndim - 1]!;
  const mask = new ConcreteArray([n, m], "bool", new Uint8Array(n * m));
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) mask.buffer[i * m + j] = keep(i, j) ? 1 : 0;
  const full = mv.broadcastInDim(mask, a.shape, [a.ndim - 2, a.ndim - 1]);
  return ew.select(full, a, ConcreteArray.zeros(a.shape, a.dtype));
}

/**
 * Lower triangle: entries with col <= row + k kept, the others zero (last two axes).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const l = np.tril(np.ones([3, 3])); // ones on and below the diagonal
 * ```
 */
export function tril(x: ArrayLike, k = 0): Array {
  checkInt("tril", "k", k);
  return triangle("tril", x, (i, j) => j <= i + k);
}
/**
 * Upper triangle: entries with col >= row + k kept, the others zero (last two axes).
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const u = np.triu(np.ones([3, 3]), 1); // ones strictly above the diagonal
 * ```
 */
export function triu(x: ArrayLike, k = 0): Array {
  checkInt("triu", "k", k);
  return triangle("triu", x, (i, j) => j >= i + k);
}

/**
 * The Vandermonde matrix of a vector: columns x^(N-1), ..., x, 1 (or
 * ascending powers with `increasing`). Built by repeated products, so the
 * derivative is exact at x = 0.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const v = np.vander([1, 2, 3], 3); // [[1, 1, 1], [4, 2, 1], [9, 3, 1]]
 * ```
 */
export function vander(x: ArrayLike, n?: number, opts: { increasing?: boolean } = {}): Array {
  const given = arr(x, "vander");
  // bool powers are integers (as NumPy's int result): x^0 = 1 and x^k = x.
  const a = given.dtype === "bool" ? ew.convert(given, "int32") : given;
  if (a.ndim !== 1) {
    throw new ShapeError(`np.vander: x must be a 1-D vector, got shape ${fmtShape(a.shape)}`);
  }
  const cols = n ?? a.shape[0]!;
  checkInt("vander", "N", cols);
  if (cols < 0) throw new InvalidArgumentError(`np.vander: N must be >= 0, got ${cols}`);
  const len = a.shape[0]!;
  const powers: Array[] = [];
  let p: Array = ConcreteArray.full([len], a.dtype, 1);
  for (let k = 0; k < cols; k++) {
    powers.push(mv.reshape(p, [len, 1]));
    p = ew.mul(p, a);
  }
  if (!opts.increasing) powers.reverse();
  if (cols === 0) return ConcreteArray.zeros([len, 0], a.dtype);
  return mv.concatenate(powers, 1);
}
