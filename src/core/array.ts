/**
 * The public `Array` type and its concrete implementation.
 *
 * `Array` is the abstract base shared by concrete arrays (data in memory) and
 * tracers (values seen by a transformation such as grad, vmap or jit). User
 * functions receive either, and the methods below work on both: they forward
 * to the `np` functions, which `numpy/` installs with `installArrayMethods`
 * (late binding keeps this module free of import cycles).
 */
import { type DType, type TypedArray, allocate, castScalar } from "./dtype.js";

const SCALAR_SHAPE: readonly number[] = Object.freeze([]);
import { ChainruleError, ShapeError, fmtShape } from "./errors.js";
import { type Shape, shapeSize } from "./shape.js";

/** The abstract value of an array: what a tracer knows without data. */
export interface Aval {
  /** The shape. */
  readonly shape: Shape;
  /** The element type. */
  readonly dtype: DType;
}

/** JS data accepted wherever an Array is: numbers, booleans, nested arrays, TypedArrays. */
export type NestedNumbers = number | boolean | readonly NestedNumbers[];
export type ArrayLike = Array | NestedNumbers | TypedArray;

type Axis = number | readonly number[] | null | undefined;

/** Signatures of the `np` functions the methods forward to. */
export interface ArrayMethodImpls {
  add(a: ArrayLike, b: ArrayLike): Array;
  subtract(a: ArrayLike, b: ArrayLike): Array;
  multiply(a: ArrayLike, b: ArrayLike): Array;
  divide(a: ArrayLike, b: ArrayLike): Array;
  power(a: ArrayLike, b: ArrayLike): Array;
  negative(a: ArrayLike): Array;
  matmul(a: ArrayLike, b: ArrayLike): Array;
  sum(a: ArrayLike, axis?: Axis, opts?: { keepdims?: boolean }): Array;
  mean(a: ArrayLike, axis?: Axis, opts?: { keepdims?: boolean }): Array;
  max(a: ArrayLike, axis?: Axis, opts?: { keepdims?: boolean }): Array;
  min(a: ArrayLike, axis?: Axis, opts?: { keepdims?: boolean }): Array;
  reshape(a: ArrayLike, shape: readonly number[] | number, ...moreSizes: number[]): Array;
  transpose(a: ArrayLike, axes?: readonly number[]): Array;
  astype(a: ArrayLike, dtype: DType): Array;
  exp(a: ArrayLike): Array;
  log(a: ArrayLike): Array;
  sin(a: ArrayLike): Array;
  cos(a: ArrayLike): Array;
  tanh(a: ArrayLike): Array;
  sqrt(a: ArrayLike): Array;
  square(a: ArrayLike): Array;
  abs(a: ArrayLike): Array;
  less(a: ArrayLike, b: ArrayLike): Array;
  lessEqual(a: ArrayLike, b: ArrayLike): Array;
  greater(a: ArrayLike, b: ArrayLike): Array;
  greaterEqual(a: ArrayLike, b: ArrayLike): Array;
  equal(a: ArrayLike, b: ArrayLike): Array;
  notEqual(a: ArrayLike, b: ArrayLike): Array;
  slice(a: ArrayLike, ...index: SliceIndex[]): Array;
  toString(a: Array): string;
}

/**
 * One index of `slice` / `at`: an integer (drops the axis), null (whole
 * axis), [start, stop?, step?] (a step may be negative), an integer Array
 * (picks entries) or a bool Array (a mask over as many axes as it has).
 */
export type SliceIndex =
  number | null | readonly [number | null, (number | null)?, (number | null)?] | Array;

/** Functional indexed updates, as JAX's `x.at[...]`: each returns a new Array. */
export interface ArrayAt {
  /** The indexed entries (x[index]). */
  get(): Array;
  /** x with the indexed entries replaced by v (broadcast). */
  set(v: ArrayLike): Array;
  /** x with v added to the indexed entries (repeated indices add up). */
  add(v: ArrayLike): Array;
  /** x with the indexed entries multiplied by v. */
  mul(v: ArrayLike): Array;
  /** x with the indexed entries replaced by their minimum with v. */
  min(v: ArrayLike): Array;
  /** x with the indexed entries replaced by their maximum with v. */
  max(v: ArrayLike): Array;
}

let impls: ArrayMethodImpls | undefined;
let atImpl: ((x: Array, index: SliceIndex[]) => ArrayAt) | undefined;

/** Called once by `numpy/indexing.ts` to connect `x.at(...)` to its implementation. */
export function installAtMethod(impl: (x: Array, index: SliceIndex[]) => ArrayAt): void {
  atImpl = impl;
}

/** Called once by `numpy/` to connect the methods to their implementations. */
export function installArrayMethods(methods: ArrayMethodImpls): void {
  impls = methods;
}

function np(): ArrayMethodImpls {
  if (impls === undefined) throw new ChainruleError("chainrule: numpy module not loaded");
  return impls;
}

/**
 * An n-dimensional array (or a tracer standing for one). Garbage-collected:
 * nothing needs to be freed. Made by `np.array`, `np.zeros`, ... and by every
 * operation; its methods mirror the `np` functions.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const x = np.array([[1, 2], [3, 4]]);
 * const y = x.mul(2).add(1).sum(0); // array([ 8., 14.])
 * console.log(x.shape, y.toArray()); // [2, 2] [8, 14]
 * ```
 */
export abstract class Array {
  /** The size of each axis: `[]` for a scalar, `[n]` for a vector, `[rows, cols]` for a matrix. */
  abstract get shape(): Shape;
  /** The element type: "float64" (the default), "float32", "int32" or "bool". */
  abstract get dtype(): DType;

  /** The number of axes (the rank): `shape.length`. */
  get ndim(): number {
    return this.shape.length;
  }
  /** The number of elements: the product of the shape (1 for a scalar). */
  get size(): number {
    return shapeSize(this.shape);
  }

  /** The concrete value behind this array, or throws if it is abstract (under jit). */
  abstract concrete(fnName: string): ConcreteArray;

  /** The single element as a JS number (booleans give 0/1). */
  item(): number {
    const c = this.concrete("item");
    if (c.size !== 1) {
      throw new ShapeError(
        `item: expected an array with one element, got shape ${fmtShape(c.shape)}; ` +
          `index or reduce it first (e.g. x.sum())`,
      );
    }
    return c.scalarValue;
  }
  /** A flat TypedArray copy of the elements in row-major order. */
  data(): TypedArray {
    return this.concrete("data").buffer.slice();
  }
  /** The elements as nested JS arrays (a number for a 0-d array). */
  toArray(): NestedNumbers {
    const c = this.concrete("toArray");
    const values = Array.fromBuffer(c.buffer, c.dtype);
    return nest(values, c.shape, 0, 0);
  }
  /**
   * The elements as a flat TypedArray copy, on every backend; the only way to
   * read an array that lives on the webgpu backend (on the CPU backends it
   * resolves to what `data()` returns).
   *
   * @example
   * ```ts
   * import { np } from "chainrule";
   * const values = await np.array([1, 2, 3]).mul(2).dataAsync(); // Float64Array [2, 4, 6]
   * ```
   */
  async dataAsync(): Promise<TypedArray> {
    const buf = await this.concrete("dataAsync").readAsync();
    return buf;
  }
  /**
   * The single element as a JS number (booleans give 0/1), on every backend
   * (the asynchronous `item()`).
   *
   * @example
   * ```ts
   * import { np } from "chainrule";
   * const total = await np.array([1, 2, 3]).sum().itemAsync(); // 6
   * ```
   */
  async itemAsync(): Promise<number> {
    const c = this.concrete("itemAsync");
    if (c.size !== 1) {
      throw new ShapeError(
        `itemAsync: expected an array with one element, got shape ${fmtShape(c.shape)}; ` +
          `index or reduce it first (e.g. x.sum())`,
      );
    }
    const buf = await c.readAsync();
    return buf[0]!;
  }
  /**
   * The elements as nested JS arrays (a number for a 0-d array), on every
   * backend (the asynchronous `toArray()`).
   *
   * @example
   * ```ts
   * import { np } from "chainrule";
   * const rows = await np.array([[1, 2], [3, 4]]).T.toArrayAsync(); // [[1, 3], [2, 4]]
   * ```
   */
  async toArrayAsync(): Promise<NestedNumbers> {
    const c = this.concrete("toArrayAsync");
    const values = Array.fromBuffer(await c.readAsync(), c.dtype);
    return nest(values, c.shape, 0, 0);
  }
  private static fromBuffer(buf: TypedArray, dtype: DType): (number | boolean)[] {
    const out = globalThis.Array.from(buf) as (number | boolean)[];
    if (dtype === "bool") for (let i = 0; i < out.length; i++) out[i] = out[i] !== 0;
    return out;
  }

  /** `this + other`, elementwise with NumPy broadcasting (np.add). */
  add(other: ArrayLike): Array {
    return np().add(this, other);
  }
  /** `this - other`, elementwise with broadcasting (np.subtract). */
  sub(other: ArrayLike): Array {
    return np().subtract(this, other);
  }
  /** `this * other`, elementwise with broadcasting (np.multiply). */
  mul(other: ArrayLike): Array {
    return np().multiply(this, other);
  }
  /** `this / other`, elementwise with broadcasting, true division (np.divide). */
  div(other: ArrayLike): Array {
    return np().divide(this, other);
  }
  /** `this ** other`, elementwise with broadcasting (np.power); d/dx x^y = y x^(y-1), d/dy = x^y ln x. */
  pow(other: ArrayLike): Array {
    return np().power(this, other);
  }
  /** `-this`, elementwise (np.negative). */
  neg(): Array {
    return np().negative(this);
  }
  /** The matrix product `this @ other` (np.matmul): batched over leading axes, vectors promoted as NumPy does. */
  matmul(other: ArrayLike): Array {
    return np().matmul(this, other);
  }
  /** The sum over `axis` (all axes when absent), optionally keeping reduced axes as size 1 (np.sum). */
  sum(axis?: Axis, opts?: { keepdims?: boolean }): Array {
    return np().sum(this, axis, opts);
  }
  /** The mean over `axis` (all axes when absent) (np.mean). */
  mean(axis?: Axis, opts?: { keepdims?: boolean }): Array {
    return np().mean(this, axis, opts);
  }
  /** The maximum over `axis` (all axes when absent) (np.max); the gradient goes to the maximal elements, split evenly between ties. */
  max(axis?: Axis, opts?: { keepdims?: boolean }): Array {
    return np().max(this, axis, opts);
  }
  /** The minimum over `axis` (all axes when absent) (np.min). */
  min(axis?: Axis, opts?: { keepdims?: boolean }): Array {
    return np().min(this, axis, opts);
  }
  /** Reshape to `shape`: a list, or separate sizes as in NumPy (`x.reshape(2, 3)`). */
  /** The same elements in row-major order with a new shape; one size may be -1 (inferred) (np.reshape). */
  reshape(shape: readonly number[] | number, ...moreSizes: number[]): Array {
    return np().reshape(this, shape, ...moreSizes);
  }
  /**
   * The axes permuted by `axes` (reversed when absent) (np.transpose); as
   * NumPy's method, the axes may also be listed one by one:
   * `x.transpose(2, 0, 1)` is `x.transpose([2, 0, 1])`.
   */
  transpose(axes?: readonly number[] | number, ...moreAxes: number[]): Array {
    return np().transpose(this, typeof axes === "number" ? [axes, ...moreAxes] : axes);
  }
  /** The transpose with the axes reversed (`x.transpose()`). */
  get T(): Array {
    return np().transpose(this);
  }
  /** The elements converted to `dtype` (float to int truncates toward zero; nonzero is true); differentiable between float dtypes. */
  astype(dtype: DType): Array {
    return np().astype(this, dtype);
  }
  /** e^x, elementwise (np.exp). */
  exp(): Array {
    return np().exp(this);
  }
  /** The natural logarithm, elementwise (np.log). */
  log(): Array {
    return np().log(this);
  }
  /** The sine, elementwise (np.sin). */
  sin(): Array {
    return np().sin(this);
  }
  /** The cosine, elementwise (np.cos). */
  cos(): Array {
    return np().cos(this);
  }
  /** The hyperbolic tangent, elementwise (np.tanh). */
  tanh(): Array {
    return np().tanh(this);
  }
  /** The square root, elementwise (np.sqrt). */
  sqrt(): Array {
    return np().sqrt(this);
  }
  /** x^2, elementwise (np.square). */
  square(): Array {
    return np().square(this);
  }
  /** |x|, elementwise (np.abs); its derivative at 0 is taken as 0. */
  abs(): Array {
    return np().abs(this);
  }
  /** `this < other`, elementwise, as a bool array (np.less). */
  lt(other: ArrayLike): Array {
    return np().less(this, other);
  }
  /** `this <= other`, elementwise, as a bool array (np.lessEqual). */
  le(other: ArrayLike): Array {
    return np().lessEqual(this, other);
  }
  /** `this > other`, elementwise, as a bool array (np.greater). */
  gt(other: ArrayLike): Array {
    return np().greater(this, other);
  }
  /** `this >= other`, elementwise, as a bool array (np.greaterEqual). */
  ge(other: ArrayLike): Array {
    return np().greaterEqual(this, other);
  }
  /** `this == other`, elementwise, as a bool array (np.equal). */
  eq(other: ArrayLike): Array {
    return np().equal(this, other);
  }
  /** `this != other`, elementwise, as a bool array (np.notEqual). */
  ne(other: ArrayLike): Array {
    return np().notEqual(this, other);
  }

  /**
   * Indexing: x.slice(1, null, [0, 4, 2]) is x[1, :, 0:4:2]; x.slice([null, null, -1])
   * reverses; integer and bool Arrays index as in NumPy.
   */
  slice(...index: SliceIndex[]): Array {
    return np().slice(this, ...index);
  }
  /** Functional updates, JAX's x.at[...]: x.at(1).set(5), x.at(null, idx).add(v), ... */
  at(...index: SliceIndex[]): ArrayAt {
    if (atImpl === undefined) throw new ChainruleError("chainrule: numpy module not loaded");
    return atImpl(this, index);
  }

  /**
   * NumPy's text for the values (`array([1., 2.])`), exactly as NumPy's
   * `repr` prints them; a tracer prints its shape and dtype,
   * `Traced<float64[3]>`.
   */
  toString(): string {
    return np().toString(this);
  }

  /**
   * Iterates over the first axis, as NumPy and JAX do: each step yields
   * `x.slice(i)` (one row of a matrix, one key of `random.split(key, n)`),
   * so destructuring and `for ... of` work on arrays and tracers alike. A
   * 0-d array has no axis to iterate over and is not iterable (a TypeError,
   * as in NumPy).
   *
   * @example
   * ```ts
   * import { np, random } from "chainrule";
   * const [key, subkey] = random.split(random.key(0));
   * const rows = [...np.array([[1, 2], [3, 4]])].map((row) => row.sum().item()); // [3, 7]
   * ```
   */
  [Symbol.iterator](): IterableIterator<Array> {
    // Replaced on the prototype by a getter (below the class) that hides it on 0-d arrays.
    return iterateRows.call(this);
  }

  /**
   * Node's `console.log` and `util.inspect` show {@link Array.toString}'s
   * text instead of the object's fields (a symbol Node looks up; no Node
   * module is imported here).
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ---- The imperative (PyTorch-style) interface. Plain arrays do not require
  // grad; arrays made with `np.array(data, { requiresGrad: true })` and
  // everything computed from them override these (src/imperative/tensor.ts).

  /**
   * True for arrays that record the operations applied to them so that
   * `backward()` can differentiate: leaves made with
   * `np.array(data, { requiresGrad: true })` and every float array computed
   * from one outside `noGrad`.
   * @example
   * ```ts
   * import { np } from "chainrule";
   * const x = np.array([1, 2], { requiresGrad: true });
   * const flags = [x.requiresGrad, x.mul(2).requiresGrad, np.array(1).requiresGrad]; // [true, true, false]
   * ```
   */
  get requiresGrad(): boolean {
    return false;
  }

  /**
   * The gradient accumulated into a leaf by `backward()` calls (null before
   * the first one or after `zeroGrad()`). Reading it on a non-leaf array
   * (one computed from a leaf) throws: only leaves accumulate.
   * @example
   * ```ts
   * import { np } from "chainrule";
   * const x = np.array(3, { requiresGrad: true });
   * x.mul(x).backward();
   * const g = x.grad?.item(); // 6
   * ```
   */
  get grad(): Array | null {
    return null;
  }

  /**
   * Reverse-mode differentiation of this array with respect to every leaf
   * with `requiresGrad` it was computed from: adds d(ct·this)/d(leaf) to
   * each leaf's `.grad`. `ct` (the cotangent, shaped like this array) may be
   * left out for a one-element array. `createGraph: true` records the
   * backward pass itself, so the `.grad` arrays can be differentiated again;
   * `retainGraph: true` (the default with createGraph) allows another
   * backward through the same operations.
   * @example
   * ```ts
   * import { np } from "chainrule";
   * const x = np.ones([2, 2], { requiresGrad: true });
   * const out = x.add(2).mul(x.add(2)).mul(3).mean();
   * out.backward();
   * const g = x.grad?.toArray(); // [[4.5, 4.5], [4.5, 4.5]]
   * ```
   */
  backward(ct?: ArrayLike, opts: BackwardOptions = {}): void {
    void ct;
    void opts;
    throw new ChainruleError(
      `backward: this array (shape ${fmtShape(this.shape)}, dtype ${this.dtype}) does not ` +
        `require grad: it was not computed from an array made with ` +
        `np.array(data, { requiresGrad: true }), or it was computed inside noGrad or detached. ` +
        `Create the inputs with requiresGrad: true, or use grad(f) for the functional style`,
    );
  }

  /**
   * Forgets the gradient accumulated in a leaf's `.grad` (PyTorch's
   * `zero_grad`): the next `backward()` starts from zero. A no-op on arrays
   * that do not require grad.
   * @example
   * ```ts
   * import { np } from "chainrule";
   * const x = np.array(2, { requiresGrad: true });
   * x.mul(x).backward();
   * x.zeroGrad();
   * const g = x.grad; // null
   * ```
   */
  zeroGrad(): void {}

  /**
   * The same values, cut from the recorded graph: an array that does not
   * require grad (this array itself when it does not).
   * @example
   * ```ts
   * import { np } from "chainrule";
   * const x = np.array([1, 2], { requiresGrad: true });
   * const d = x.mul(3).detach(); // requiresGrad false, values [3, 6]
   * ```
   */
  detach(): Array {
    return this;
  }
}

function iterateRows(this: Array): IterableIterator<Array> {
  return rowsOf(this, this.shape[0]!);
}

/*
 * A 0-d array has no iterator at all: `Symbol.iterator` is a getter that
 * gives the rows' iterator only when there is a first axis. Spreading or
 * destructuring a 0-d array is then JS's own TypeError ("not iterable", as
 * NumPy raises a TypeError), and test frameworks' deep equality (vitest and
 * jest `toEqual`), which takes the iterator's presence as its cue, keeps
 * comparing 0-d arrays, and the rows it reaches by iterating, by their
 * fields (shape, dtype, values); an iterator that threw would make every
 * such comparison throw.
 */
Object.defineProperty(Array.prototype, Symbol.iterator, {
  configurable: true,
  get(this: Array) {
    return this.shape.length === 0 ? undefined : iterateRows;
  },
});

/** Options of `Array.backward`. */
export interface BackwardOptions {
  /** Record the backward pass so that the resulting `.grad` can be differentiated again. */
  createGraph?: boolean;
  /** Keep the recorded operations for another backward (default: createGraph). */
  retainGraph?: boolean;
}

/** The rows `x.slice(0)`, ..., `x.slice(n - 1)`, made one at a time. */
function* rowsOf(x: Array, n: number): IterableIterator<Array> {
  for (let i = 0; i < n; i++) yield x.slice(i);
}

function nest(
  values: (number | boolean)[],
  shape: Shape,
  dim: number,
  offset: number,
): NestedNumbers {
  if (dim === shape.length) return values[offset]!;
  const n = shape[dim]!;
  let stride = 1;
  for (let i = dim + 1; i < shape.length; i++) stride *= shape[i]!;
  const out: NestedNumbers[] = [];
  for (let i = 0; i < n; i++) out.push(nest(values, shape, dim + 1, offset + i * stride));
  return out;
}

/**
 * An array whose elements are in memory (a TypedArray in row-major order).
 * A 0-d array keeps its value as a JS number and creates the TypedArray only
 * when asked: scalar programs then allocate no TypedArrays at all.
 */
export class ConcreteArray extends Array {
  private _buffer: TypedArray | undefined;
  private readonly _scalar: number;

  constructor(
    /** The size of each axis. */
    readonly shape: Shape,
    /** The element type. */
    readonly dtype: DType,
    buffer: TypedArray | undefined,
    scalarValue = 0,
  ) {
    super();
    this._buffer = buffer;
    this._scalar = scalarValue;
  }

  /** The first element (the value of a 0-d array), without creating a buffer. */
  get scalarValue(): number {
    return this._buffer === undefined ? this._scalar : this._buffer[0]!;
  }

  /** A 0-d array holding `value` (already rounded to `dtype`). */
  static scalar(value: number, dtype: DType): ConcreteArray {
    return new ConcreteArray(SCALAR_SHAPE, dtype, undefined, value);
  }

  /** The elements, row-major. */
  get buffer(): TypedArray {
    if (this._buffer === undefined) {
      this._buffer = allocate(this.dtype, 1);
      this._buffer[0] = this._scalar;
    }
    return this._buffer;
  }

  static zeros(shape: Shape, dtype: DType): ConcreteArray {
    return new ConcreteArray(shape, dtype, allocate(dtype, shapeSize(shape)));
  }

  static full(shape: Shape, dtype: DType, value: number): ConcreteArray {
    if (shape.length === 0) return ConcreteArray.scalar(castScalar(value, dtype), dtype);
    const buf = allocate(dtype, shapeSize(shape));
    if (value !== 0) buf.fill(value);
    return new ConcreteArray(shape, dtype, buf);
  }

  concrete(): ConcreteArray {
    return this;
  }

  /**
   * Whether `buffer` and `scalarValue` can be read synchronously: true for
   * host arrays; false for a device array (backends/webgpu), which code
   * that merely inspects values (mask simplification) then leaves alone.
   */
  get onHost(): boolean {
    return true;
  }

  /**
   * A copy of the elements, read asynchronously: the data itself here; a
   * device array (backends/webgpu) downloads it.
   */
  readAsync(): Promise<TypedArray> {
    return Promise.resolve(this.buffer.slice());
  }

  /** Implicit conversion (`+x`, `x < 2`) works for one-element concrete arrays. */
  [Symbol.toPrimitive](hint: string): number | string {
    if (hint === "string") return this.toString();
    return this.item();
  }
}
