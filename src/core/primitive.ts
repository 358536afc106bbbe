/**
 * Primitive declarations and the registry.
 *
 * A primitive is declared once, with everything a transformation needs:
 *   abstractEval  shape/dtype rule (and input validation)
 *   impl          evaluation on concrete arrays (through the backend)
 *   jvp           forward-mode rule: output tangent from input tangents
 *   batch         vmap rule
 *   transpose     for linear primitives only: cotangents of the linear inputs
 *   transposeScalar  optionally, the same on 0-d float64 JS numbers (the
 *                 eager tape's scalar backward pass, transforms/scalarBackward.ts)
 * and, optionally, what the compilers and optimisers need to know about it
 * (so no other module keeps a table keyed by primitive name):
 *   elementwise   the meaning on plain numbers (0-d evaluation, the JS
 *                 backend's loop), the JS expression the jit fuses, the Wasm
 *                 vector form if one exists, commutativity (CSE)
 *   maskRule      how its transpose treats a structurally-zero cotangent
 *                 (structuralZeros.ts: what keeps `where` NaN-safe)
 *   simplify      an exact algebraic rewrite the simplifier (ir/passes.ts) tries
 * The `PrimitiveDef` type makes `transpose` mandatory exactly when
 * `linear: true`, so a missing rule is a compile error. Reverse mode is
 * derived: linearize (jvp with recorded tangent operations) then transpose.
 * docs/design.md "Adding a primitive" walks through a new declaration.
 */
import type { Array, Aval, ConcreteArray } from "./array.js";
import type { DType } from "./dtype.js";
import type { Shape } from "./shape.js";
import { InvalidArgumentError } from "./errors.js";

/** Marks a linear input of a transpose rule: its value is unknown, only its shape and dtype. */
export class UndefPrimal implements Aval {
  constructor(
    readonly shape: Aval["shape"],
    readonly dtype: Aval["dtype"],
  ) {}
  get aval(): Aval {
    return this;
  }
}

export type LinearArg = Array | UndefPrimal;

/** Tangents are `null` when symbolically zero. */
export type Tangent = Array | null;

/** A batched operand's batch axis, or null when it is not batched. */
export type BatchDim = number | null;

/**
 * The Wasm SIMD forms the Wasm backend and the jit's Wasm lowering can emit
 * (a literal union: a misspelt form fails tsc). "identity" passes its
 * operand through; "convert" changes dtype between bool and the float
 * dtype. A primitive without one runs in JS (eagerly: the JS loop over
 * `scalar`; under jit: its group is a fused JS loop).
 */
export type VectorOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "neg"
  | "abs"
  | "sqrt"
  | "exp"
  | "log"
  | "sin"
  | "cos"
  | "max"
  | "min"
  | "eq"
  | "ne"
  | "lt"
  | "gt"
  | "le"
  | "ge"
  | "and"
  | "or"
  | "not"
  | "select"
  | "convert"
  | "identity";

/**
 * The part of an elementwise rule the backends use: the meaning on plain
 * numbers (with its int32 override) and the Wasm vector form.
 */
export interface ElementwiseKernel {
  readonly scalar: (...args: number[]) => number;
  readonly int32?: { readonly scalar: (...args: number[]) => number };
  readonly vector?: VectorOp;
}

/**
 * What an elementwise primitive is on one element. Declaring it gives the
 * primitive jit fusion (fused loops, compiled scalar programs), emitSource,
 * the backends' elementwise loops and, with `vector`, the Wasm paths.
 */
export interface ElementwiseRule<P = unknown> extends ElementwiseKernel {
  /**
   * The result on plain numbers (operands as stored, a bool as 0 or 1); the
   * caller rounds it to the output dtype. It refers to no module variable
   * but the functions listed in `uses`: emitSource embeds its source text in
   * generated code when `js` is absent.
   */
  readonly scalar: (...args: number[]) => number;
  /**
   * The functions of its own module that `scalar` calls (kernels shared by
   * several scalars, such as erfcx), with every function those call in
   * turn, callees first. Each is a named `function` declaration referring
   * to nothing of its module but the functions before it in the list.
   * emitSource prints them under their own names ahead of the scalar, so
   * standalone code stays standalone; compiled code calls `scalar` as a
   * function object and needs nothing. (Functions of other modules cannot
   * be listed: bundlers and loaders rewrite the references to imports in a
   * function's source; see `standalone`.) Absent: `scalar` is self-contained.
   */
  readonly uses?: readonly ((...args: number[]) => number)[];
  /**
   * False when `scalar` calls functions imported from other modules (a
   * quantile built on its cdf's kernel): compiled code calls it as a
   * function object as usual, but emitSource cannot print its source and
   * refuses programs that use it, naming the primitive. Absent: printable.
   */
  readonly standalone?: false;
  /**
   * A JS expression of one element from the operands' expressions (generated
   * identifiers and numeric literals only). Absent: a call of `scalar`.
   */
  readonly js?: (args: readonly string[], params: P) => string;
  /**
   * int32 semantics where they differ from rounding `scalar`'s result
   * (wrap-around products and powers, as NumPy's int32): its own scalar and
   * optional expression, used for int32 outputs everywhere `scalar`/`js` are.
   */
  readonly int32?: {
    readonly scalar: (...args: number[]) => number;
    readonly js?: (args: readonly string[], params: P) => string;
  };
  /** The Wasm SIMD form, when the Wasm code generators have one. */
  readonly vector?: VectorOp;
  /**
   * A WGSL expression of one float32 element from the operands' expressions
   * (WGSL builtins, or the helper functions of the webgpu kernel library,
   * backends/webgpu/kernels.ts `WGSL_LIBRARY`, such as `jsPow`), for the
   * webgpu backend when there is no `vector` form (whose WGSL the backend
   * knows). Absent: not run on webgpu yet.
   */
  readonly wgsl?: (args: readonly string[]) => string;
  /**
   * A WGSL expression of one int32 element from int32 operands (i32
   * expressions), for the webgpu backend where int32 semantics need more
   * than the vector form (int32 division, powers, bit operations). It may
   * call the helper functions of the webgpu kernel library
   * (backends/webgpu/kernels.ts, `WGSL_LIBRARY`), as `wgsl` may.
   */
  readonly wgslInt32?: (args: readonly string[]) => string;
  /** f(a, b) = f(b, a): common-subexpression elimination matches either order. */
  readonly commutative?: boolean;
}

/** The scalar function of `rule` for results of `dtype` (its int32 override for int32). */
export function elementScalar(
  rule: ElementwiseKernel,
  dtype: DType,
): (...args: number[]) => number {
  return dtype === "int32" && rule.int32 !== undefined ? rule.int32.scalar : rule.scalar;
}

/**
 * The kernel vocabulary a device backend (webgpu) offers the declarations of
 * structural primitives, on its own array type `A` (arrays in device
 * memory; core does not know the class). A primitive's `device` rule says
 * which of these kernels computes it, so the backend keeps no table of
 * primitive names, and a new structural primitive runs on the device as soon
 * as its declaration says how.
 */
export interface DeviceKernels<A extends Aval> {
  /** out (of `shape`)[j] = x[offset + sum_d j_d strides[d]]: broadcast, transpose, slice. */
  stridedGather(x: A, shape: Shape, strides: readonly number[], offset: number): A;
  /** Zeros of `shape` with x[j] written at offset + sum_d j_d strides[d] (distinct positions). */
  stridedScatter(x: A, shape: Shape, strides: readonly number[], offset: number): A;
  /** The operands side by side along `axis` (the result has `shape`). */
  concatenate(xs: readonly A[], shape: Shape, axis: number): A;
  /** The same elements seen with another shape (no copy). */
  reshape(x: A, shape: Shape): A;
  /** Sums, maxima or minima over the sorted `axes`, which are removed. */
  reduce(op: "sum" | "max" | "min", x: A, axes: readonly number[]): A;
  /** int32 positions of the first maximum or minimum along `axis` (removed: the result has `shape`). */
  argReduce(op: "argmax" | "argmin", x: A, axis: number, shape: Shape): A;
  /** The batched matrix product of op(a) and op(b), op transposing the last two axes when asked. */
  matmul(a: A, b: A, transposeA: boolean, transposeB: boolean): A;
  /** Entries of x at int32 `indices` along `axis` (the result has `shape`). */
  take(x: A, indices: A, axis: number, shape: Shape): A;
  /** Zeros of `shape` with `updates` added at int32 `indices` along `axis` (repeats sum). */
  scatterAdd(updates: A, indices: A, axis: number, shape: Shape): A;
  /** Running sums along `axis` (from the end when `reverse`). */
  cumsum(x: A, axis: number, reverse: boolean): A;
  /**
   * A dense solver on a stack of square matrices `a` [..., n, n] (and
   * right-hand sides `b` [..., n, k] for the solves; `lower` picks the
   * triangle of a triangular solve); the result has `shape`.
   */
  denseLinalg(op: DenseLinalgOp, a: A, b: A | null, lower: boolean, shape: Shape): A;
}

/** The dense solvers of the device kernel vocabulary (`DeviceKernels.denseLinalg`), by primitive. */
export type DenseLinalgOp =
  "solve" | "triangularSolve" | "cholesky" | "det" | "logAbsDet" | "detSign";

/**
 * A structural primitive's evaluation on a device backend, in terms of the
 * device kernel vocabulary: operands in device memory, its parameters, and
 * its output's aval (already validated by `abstractEval`).
 */
export type DeviceRule<P> = <A extends Aval>(
  kernels: DeviceKernels<A>,
  args: readonly A[],
  params: P,
  out: Aval,
) => A;

/**
 * How a linear primitive's transpose treats a masked (structurally zero)
 * cotangent, see transforms/structuralZeros.ts: "pass" keeps masked entries
 * zero by itself (copies, negates, converts); "rezero" scales by a residual
 * that could turn 0 into NaN, so its result is re-zeroed; "select" is
 * select's own rule; "route" moves or sums entries (the mask is routed by
 * the same transpose). Absent: the mask is dropped (conservative).
 */
export type MaskRule = "pass" | "rezero" | "select" | "route";

/**
 * A `selectedCotangent` rule: operand `i`'s cotangent and its structural-zero
 * mask (true where structurally zero) from the output cotangent `ct` and
 * its mask (null: none).
 */
export type SelectedCotangentRule = (
  primals: readonly Array[],
  i: number,
  ct: Array,
  mask: Array | null,
) => [Array, Array];

/**
 * The view of one equation the simplifier gives a `simplify` rule. `V` is
 * the IR's variable type (kept abstract here so core does not depend on ir).
 */
export interface SimplifyQuery<V, P> {
  readonly inputs: readonly V[];
  readonly params: P;
  /** The one value every element of input i holds, when known (constants, broadcasts). */
  uniform(i: number): number | undefined;
  /** The equation that produced v, when it is in the program. */
  producer(v: V): { prim: Primitive; params: unknown; inputs: readonly V[] } | undefined;
  /** Whether v has the equation's output shape and dtype (so it can stand for it). */
  fits(v: V | undefined): v is V;
  /** The output's dtype. */
  readonly outDtype: DType;
}

/**
 * An algebraic rewrite: an existing variable equal to the equation's output
 * bit for bit (IEEE signed zeros, infinities and NaN included), or null.
 */
export type SimplifyRule<P> = <V>(q: SimplifyQuery<V, P>) => V | null;

// Rules are function-valued properties (not methods): they never use `this`.
interface PrimitiveRules<P> {
  readonly name: string;
  /** Absent or false: one output (see `MultiPrimitiveDef` for several). */
  readonly multipleResults?: false;
  readonly abstractEval: (avals: readonly Aval[], params: P) => Aval;
  readonly impl: (args: readonly ConcreteArray[], params: P) => ConcreteArray;
  /**
   * Output tangent given the primals, their tangents (at least one non-null)
   * and the primal output already computed.
   */
  readonly jvp: (
    primals: readonly Array[],
    tangents: readonly Tangent[],
    out: Array,
    params: P,
  ) => Tangent;
  /**
   * Optional: `jvp` on 0-d float64 values held as JS numbers, for eager
   * reverse mode over scalar programs (the tangents are nodes of the tape
   * that `grad` records; see transforms/jvp.ts, "scalar tangents"). It must
   * record exactly the equations `jvp` records there, in the same order and
   * with the same constants, so that the tape, and so the gradient, has the
   * same bits either way (test/scalar-jvp.test.ts).
   */
  readonly jvpScalar?: ScalarJvpRule;
  readonly batch: (
    args: readonly Array[],
    dims: readonly BatchDim[],
    params: P,
  ) => [Array, BatchDim];
  readonly elementwise?: ElementwiseRule<P>;
  /**
   * Evaluation on a device backend (webgpu) for a primitive that is not
   * elementwise: which kernels of the device vocabulary compute it. Absent
   * (and not elementwise): refused on the device with an error naming it.
   */
  readonly device?: DeviceRule<P>;
  readonly maskRule?: MaskRule;
  /**
   * Set when the JVP rule routes tangents through `select` (min and max
   * pick one operand's tangent). Such a select's structural zeros belong to
   * the tape's backward pass, so reverse mode staged inside jit
   * (transforms/stagedReverse.ts) leaves functions using the primitive to
   * that general path, unless `selectedCotangent` stages them.
   */
  readonly selectsTangents?: boolean;
  /**
   * With `selectsTangents`, for an elementwise primitive whose operands are
   * shaped like its result: the cotangent of operand `i` from the output
   * cotangent `ct` (structurally zero where `mask` is true; null: nowhere),
   * and that cotangent's own structural-zero mask: what the tape's backward
   * pass gives by transposing the rule's selects (max: ct where operand i
   * is the larger, half of it at ties, and a structural zero where the
   * other operand is larger). Lets reverse mode staged inside jit keep
   * functions using the primitive on its staged path.
   */
  readonly selectedCotangent?: SelectedCotangentRule;
  readonly simplify?: SimplifyRule<P>;
  /**
   * Set by a matrix product C = op(A) op(B): whether A and B enter
   * transposed, for a jit lowering that computes the product inside the
   * fused kernel reading it (jit/wasmLowering.ts).
   */
  readonly matrixProduct?: (params: P) => MatrixProductLayout;
}

/** The operand layout of a matrix product (see `matrixProduct`). */
export interface MatrixProductLayout {
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

interface LinearRules<P> {
  readonly linear: true;
  /** Cotangents of each input (null for non-linear inputs or zero). */
  readonly transpose: (ct: Array, args: readonly LinearArg[], params: P) => Tangent[];
  /**
   * Optional: `transpose` on 0-d float64 values held as JS numbers, for the
   * eager tape's scalar backward pass (transforms/scalarBackward.ts). Given
   * the output cotangent `ct`, it returns the cotangent of linear input `i`;
   * `other` is the value of the other operand of a binary primitive when that
   * operand is a constant, and null when it is linear too (or there is none).
   * It must do the same float64 operations as `transpose`, so that both
   * backward passes give the same bits (test/scalar-backward.test.ts).
   */
  readonly transposeScalar?: ScalarTransposeRule;
}

/** See `transposeScalar` of a linear primitive's declaration. */
export type ScalarTransposeRule = (ct: number, i: number, other: number | null) => number;

/**
 * The tape a `jvpScalar` rule records onto: tangents are node numbers, and
 * -1 stands for a zero tangent (`null` in `jvp`). Each method records one
 * equation of a linear primitive (with the parameters given) and returns
 * the node it defines.
 */
export interface ScalarTangentTape {
  /** `prim(a)` of one node. */
  unary(prim: Primitive, params: unknown, a: number): number;
  /** `prim(a, b)` of two nodes. */
  nodes(prim: Primitive, params: unknown, a: number, b: number): number;
  /** `prim(a, c)` of a node and a 0-d float64 constant `c`. */
  nodeConst(prim: Primitive, params: unknown, a: number, c: number): number;
}

/**
 * See `jvpScalar` of a primitive's declaration: given the tape, the primal
 * operands `x` and `y` (y is 0 for a unary primitive), their tangent nodes
 * `tx` and `ty` (-1 for zero; at least one is not), and the primal output,
 * records the output tangent and returns its node (-1 for zero).
 */
export type ScalarJvpRule = (
  tape: ScalarTangentTape,
  x: number,
  y: number,
  tx: number,
  ty: number,
  out: number,
) => number;

interface NonLinearRules {
  readonly linear: false;
}

export type PrimitiveDef<P> = PrimitiveRules<P> & (LinearRules<P> | NonLinearRules);

// The registry holds primitives of every parameter type; `any` erases P there.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Primitive = PrimitiveDef<any>;

const registry = new Map<string, Primitive>();

/**
 * Builds a primitive object. The object always has the same fields in the
 * same order, so that V8 sees one shape for all primitives and `prim.impl`,
 * `prim.jvp`, ... stay fast property loads.
 */
export function makePrimitive<P>(def: PrimitiveDef<P>): PrimitiveDef<P> {
  return {
    name: def.name,
    multipleResults: false,
    linear: def.linear,
    abstractEval: def.abstractEval,
    impl: def.impl,
    jvp: def.jvp,
    jvpScalar: def.jvpScalar,
    batch: def.batch,
    transpose: def.linear ? def.transpose : undefined,
    transposeScalar: def.linear ? def.transposeScalar : undefined,
    elementwise: def.elementwise,
    device: def.device,
    maskRule: def.maskRule,
    selectsTangents: def.selectsTangents,
    selectedCotangent: def.selectedCotangent,
    simplify: def.simplify,
    matrixProduct: def.matrixProduct,
  } as PrimitiveDef<P>;
}

/** Declares and registers a primitive (names are unique); the conformance suite covers it. */
export function definePrimitive<P>(def: PrimitiveDef<P>): PrimitiveDef<P> {
  if (registry.has(def.name)) throw new Error(`primitive ${def.name} is already defined`);
  // Names appear in generated code (helper identifiers): plain identifiers only.
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(def.name)) {
    throw new InvalidArgumentError(
      `definePrimitive: the name ${JSON.stringify(def.name)} is not a plain identifier ` +
        `(letters and digits, starting with a letter; it names helpers in generated code), ` +
        `e.g. "logGamma" instead of "log-gamma"`,
    );
  }
  const prim = makePrimitive(def);
  registry.set(def.name, prim);
  return prim;
}

/** All registered primitives (the conformance suite iterates this). */
export function registeredPrimitives(): Primitive[] {
  return [...registry.values()];
}

/*
 * Multi-output primitives (JAX's `multiple_results`). The same rules as above,
 * with lists where a single-output primitive has one value: k outputs have k
 * avals, k concrete results, k tangents, k batch dims and k cotangents. A
 * primitive returning [values, indices], or a loop with N carry leaves of
 * mixed dtypes, is one equation with k outputs; `bindAll` returns them all.
 */
interface MultiPrimitiveRules<P> {
  readonly name: string;
  readonly multipleResults: true;
  /** One aval per output (also validates the operands); at least one output. */
  readonly abstractEval: (avals: readonly Aval[], params: P) => Aval[];
  readonly impl: (args: readonly ConcreteArray[], params: P) => ConcreteArray[];
  /**
   * Output tangents (null = zero) given the primals, their tangents (at least
   * one non-null) and the primal outputs already computed.
   */
  readonly jvp: (
    primals: readonly Array[],
    tangents: readonly Tangent[],
    outs: readonly Array[],
    params: P,
  ) => Tangent[];
  /** Batched outputs and the batch axis of each (null where an output is unbatched). */
  readonly batch: (
    args: readonly Array[],
    dims: readonly BatchDim[],
    params: P,
  ) => [Array[], BatchDim[]];
  /**
   * Optional, for dead-code elimination: parameters under which the
   * primitive computes only the outputs marked in `used` (some, not all),
   * in the same order, and which of its inputs it then still reads; null
   * when these outputs cannot be pruned. Without it an equation stays whole
   * while any output is used.
   */
  readonly pruneOutputs?: (used: readonly boolean[], params: P) => PrunedOutputs<P> | null;
}

/** What `pruneOutputs` returns: the narrower equation's parameters and the inputs it reads. */
export interface PrunedOutputs<P> {
  readonly params: P;
  readonly usedInputs: readonly boolean[];
}

interface MultiLinearRules<P> {
  readonly linear: true;
  /**
   * Cotangents of each input given one cotangent per output (null where an
   * output has none, i.e. a zero cotangent; at least one is non-null).
   */
  readonly transpose: (
    cts: readonly (Array | null)[],
    args: readonly LinearArg[],
    params: P,
  ) => Tangent[];
}

/** The declaration of a primitive with several outputs. */
export type MultiPrimitiveDef<P> = MultiPrimitiveRules<P> & (MultiLinearRules<P> | NonLinearRules);

// As for `Primitive`: `any` erases the parameter type in the registry.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MultiPrimitive = MultiPrimitiveDef<any>;

/** A primitive of either kind; `prim.multipleResults === true` tells them apart. */
export type AnyPrimitive = Primitive | MultiPrimitive;

const multiRegistry = new Map<string, MultiPrimitive>();

/** Builds a multi-output primitive object (one field order for all, as `makePrimitive`). */
export function makeMultiPrimitive<P>(def: MultiPrimitiveDef<P>): MultiPrimitiveDef<P> {
  return {
    name: def.name,
    multipleResults: true,
    linear: def.linear,
    abstractEval: def.abstractEval,
    impl: def.impl,
    jvp: def.jvp,
    batch: def.batch,
    pruneOutputs: def.pruneOutputs,
    transpose: def.linear ? def.transpose : undefined,
  } as MultiPrimitiveDef<P>;
}

/** Declares and registers a multi-output primitive (names are unique across both kinds). */
export function defineMultiPrimitive<P>(def: MultiPrimitiveDef<P>): MultiPrimitiveDef<P> {
  if (registry.has(def.name) || multiRegistry.has(def.name)) {
    throw new Error(`primitive ${def.name} is already defined`);
  }
  const prim = makeMultiPrimitive(def);
  multiRegistry.set(def.name, prim);
  return prim;
}

/** All registered multi-output primitives. */
export function registeredMultiPrimitives(): MultiPrimitive[] {
  return [...multiRegistry.values()];
}
