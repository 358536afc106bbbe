/**
 * The reverse-mode tape (Wengert list) in columnar storage.
 *
 * Equation e applies a linear primitive to arguments that are tape nodes or
 * constants and defines node numInputs + e. On V8 the dominant cost of a long
 * eager tape is not recording but keeping objects alive: every surviving
 * object is copied by the young-generation collector. So the tape keeps no
 * object per equation: integers go into typed-array columns, 0-d float64
 * constants (the common case in scalar programs) are stored by value, and
 * only other constants and per-equation references (primitive, params,
 * shape) are object slots.
 *
 * A primitive with k outputs takes k consecutive equation slots: the first
 * holds the primitive, parameters and arguments and defines the first
 * output's node; the k - 1 slots after it are output slots (no primitive, no
 * arguments) that only define the nodes of the other outputs. Node numbers
 * thus stay numInputs + e, and single-output equations cost nothing more.
 *
 * Equations come from `LinearTrace.processPrimitive` (`record`), or, for
 * 0-d float64 tangents, straight from a primitive's `jvpScalar` rule through
 * the `ScalarTangentTape` methods, which make the same entries.
 *
 * Argument encoding (one Int32 per argument):
 *   a >= 0            tape node a
 *   a = -(2k + 1)     constant objects[k]
 *   a = -(2k + 2)     0-d float64 constant with value scalars[k]
 */
import { type Array, ConcreteArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import type {
  AnyPrimitive,
  MultiPrimitive,
  Primitive,
  ScalarTangentTape,
  ScalarTransposeRule,
} from "../core/primitive.js";
import { isRecording } from "../core/trace.js";

const DTYPE_CODES: readonly DType[] = ["float64", "float32", "int32", "bool"];
const DTYPE_CODE: Record<DType, number> = { float64: 0, float32: 1, int32: 2, bool: 3 };
const SCALAR_SHAPE: readonly number[] = Object.freeze([]);

/*
 * Append-only columns stored in fixed-size chunks: appending never copies
 * earlier entries (a doubling array would copy them, repeatedly, for a long
 * tape). One class per element kind (not one generic class) keeps each
 * element access monomorphic: a shared class made them megamorphic and the
 * tape 2x slower.
 */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

/**
 * Three object slots per entry, side by side in one chunk (an equation's
 * primitive, parameters and output shape): one call stores all three, where
 * three columns took three (a tape records one equation per traced tangent
 * operation, mostly in V8's unoptimised tiers on a program's first jit).
 */
class ObjectTriples {
  private readonly chunks: unknown[][] = [];
  set(i: number, a: unknown, b: unknown, c: unknown): void {
    const k = i >> CHUNK_BITS;
    if (k === this.chunks.length) this.chunks.push(new globalThis.Array<unknown>(3 * CHUNK));
    const chunk = this.chunks[k]!;
    const j = 3 * (i & MASK);
    chunk[j] = a;
    chunk[j + 1] = b;
    chunk[j + 2] = c;
  }
  /** Slot `slot` (0, 1 or 2) of entry i. */
  get(i: number, slot: number): unknown {
    return this.chunks[i >> CHUNK_BITS]![3 * (i & MASK) + slot];
  }
}

/** The slots of `Tape.rows`. */
const PRIM = 0;
const PARAMS = 1;
const SHAPE = 2;

class Int32Column {
  private readonly chunks: Int32Array[] = [];
  set(i: number, value: number): void {
    const k = i >> CHUNK_BITS;
    if (k === this.chunks.length) this.chunks.push(new Int32Array(CHUNK));
    this.chunks[k]![i & MASK] = value;
  }
  get(i: number): number {
    return this.chunks[i >> CHUNK_BITS]![i & MASK]!;
  }
}

class Float64Column {
  private readonly chunks: Float64Array[] = [];
  set(i: number, value: number): void {
    const k = i >> CHUNK_BITS;
    if (k === this.chunks.length) this.chunks.push(new Float64Array(CHUNK));
    this.chunks[k]![i & MASK] = value;
  }
  get(i: number): number {
    return this.chunks[i >> CHUNK_BITS]![i & MASK]!;
  }
}

export class Tape implements ScalarTangentTape {
  numInputs = 0;
  numEqns = 0;
  private readonly inputShape: (readonly number[])[] = [];
  private readonly inputDtype: DType[] = [];

  /**
   * Per equation: its primitive (null marks an output slot, an output after
   * the first of a multi-output equation), parameters and output shape
   * (slots PRIM, PARAMS, SHAPE).
   */
  private readonly rows = new ObjectTriples();
  private readonly dtypes = new Int32Column();
  /**
   * Arguments of equation e are args[argStart[e] .. argStart[e + 1]).
   * argStart[numEqns] is always numArgs (0 in a fresh chunk): each equation
   * stores only its end.
   */
  private readonly argStart = new Int32Column();
  private readonly args = new Int32Column();
  private numArgs = 0;

  private readonly objects: Array[] = [];
  /**
   * 0-d float64 constants are stored by value, unless a GradientTape was
   * recording when this tape was made: it follows arrays by identity, and a
   * nested tape's backward pass must reuse the recorded constant objects.
   */
  readonly scalarsByValue = !isRecording();
  private readonly scalars = new Float64Column();
  private numScalars = 0;

  /**
   * True while every node is 0-d float64, every constant is stored by value
   * and every primitive has a `transposeScalar` rule: the backward pass can
   * then run on plain numbers (transforms/scalarBackward.ts).
   */
  scalarOnly = true;

  get numNodes(): number {
    return this.numInputs + this.numEqns;
  }

  /** Adds an input node; all inputs precede the equations. Returns its index. */
  addInput(shape: readonly number[], dtype: DType): number {
    if (this.numEqns > 0) throw new Error("internal error: tape inputs must come first");
    if (shape.length !== 0 || dtype !== "float64") this.scalarOnly = false;
    this.inputShape.push(shape);
    this.inputDtype.push(dtype);
    return this.numInputs++;
  }

  private encodeConstant(value: Array): number {
    if (
      this.scalarsByValue &&
      value instanceof ConcreteArray &&
      value.shape.length === 0 &&
      value.dtype === "float64"
    ) {
      return this.scalarCode(value.scalarValue);
    }
    this.scalarOnly = false;
    this.objects.push(value);
    return -(2 * (this.objects.length - 1) + 1);
  }

  /** Stores a 0-d float64 constant by value; returns its argument code. */
  private scalarCode(value: number): number {
    this.scalars.set(this.numScalars, value);
    return -(2 * this.numScalars++ + 2);
  }

  /*
   * Recording 0-d float64 equations from `jvpScalar` rules (ScalarTangentTape):
   * the same entries `record` makes for the same equation, without the
   * argument list. Only used while `scalarOnly` holds and constants are
   * stored by value.
   */
  unary(prim: Primitive, params: unknown, a: number): number {
    return this.recordScalar(prim, params, 1, a, 0, false);
  }
  nodes(prim: Primitive, params: unknown, a: number, b: number): number {
    return this.recordScalar(prim, params, 2, a, b, false);
  }
  nodeConst(prim: Primitive, params: unknown, a: number, c: number): number {
    return this.recordScalar(prim, params, 2, a, c, true);
  }
  private recordScalar(
    prim: Primitive,
    params: unknown,
    numArgs: 1 | 2,
    a: number,
    b: number,
    bIsConstant: boolean,
  ): number {
    const e = this.numEqns++;
    if (!prim.linear || prim.transposeScalar === undefined) this.scalarOnly = false;
    this.rows.set(e, prim, params, SCALAR_SHAPE);
    this.dtypes.set(e, DTYPE_CODE.float64);
    this.args.set(this.numArgs++, a);
    if (numArgs === 2) this.args.set(this.numArgs++, bIsConstant ? this.scalarCode(b) : b);
    this.argStart.set(e + 1, this.numArgs);
    return this.numInputs + e;
  }

  /**
   * Records an equation whose arguments are nodes (numbers) or constants.
   * Returns the node it defines.
   */
  record(
    prim: AnyPrimitive,
    params: unknown,
    args: readonly (number | Array)[],
    shape: readonly number[],
    dtype: DType,
    /** How many leading entries of args are the arguments (args may be a longer scratch array). */
    numArgs = args.length,
  ): number {
    const e = this.numEqns++;
    if (
      this.scalarOnly &&
      (shape.length !== 0 ||
        dtype !== "float64" ||
        numArgs > 2 ||
        prim.multipleResults === true ||
        !prim.linear ||
        prim.transposeScalar === undefined)
    ) {
      this.scalarOnly = false;
    }
    this.rows.set(e, prim, params, shape);
    this.dtypes.set(e, DTYPE_CODE[dtype]);
    for (let i = 0; i < numArgs; i++) {
      const a = args[i]!;
      this.args.set(this.numArgs++, typeof a === "number" ? a : this.encodeConstant(a));
    }
    this.argStart.set(e + 1, this.numArgs);
    return this.numInputs + e;
  }

  /**
   * Records a multi-output equation: its first slot and one output slot per
   * further output. Returns the node of the first output (the others follow).
   */
  recordMulti(
    prim: MultiPrimitive,
    params: unknown,
    args: readonly (number | Array)[],
    outs: readonly { readonly shape: readonly number[]; readonly dtype: DType }[],
  ): number {
    const first = this.record(prim, params, args, outs[0]!.shape, outs[0]!.dtype);
    for (let j = 1; j < outs.length; j++) {
      const e = this.numEqns++;
      this.rows.set(e, null, null, outs[j]!.shape);
      this.dtypes.set(e, DTYPE_CODE[outs[j]!.dtype]);
      this.argStart.set(e + 1, this.numArgs);
    }
    return first;
  }

  /** The primitive of equation e, or null when slot e is an output slot of the equation before. */
  prim(e: number): AnyPrimitive | null {
    return this.rows.get(e, PRIM) as AnyPrimitive | null;
  }
  /** How many outputs the equation starting at slot e has (its slot and the output slots after it). */
  numOutputs(e: number): number {
    let k = 1;
    while (e + k < this.numEqns && this.prim(e + k) === null) k++;
    return k;
  }
  paramsOf(e: number): unknown {
    return this.rows.get(e, PARAMS);
  }
  nodeShape(n: number): readonly number[] {
    return n < this.numInputs
      ? this.inputShape[n]!
      : (this.rows.get(n - this.numInputs, SHAPE) as readonly number[]);
  }
  nodeDtype(n: number): DType {
    return n < this.numInputs
      ? this.inputDtype[n]!
      : DTYPE_CODES[this.dtypes.get(n - this.numInputs)]!;
  }
  /** The node index of argument i of equation e, or -1 when it is a constant. */
  argNode(e: number, i: number): number {
    const a = this.args.get(this.argStart.get(e) + i);
    return a >= 0 ? a : -1;
  }
  /** The `transposeScalar` rule of equation e's primitive (a `scalarOnly` tape has one for each). */
  scalarRule(e: number): ScalarTransposeRule {
    const prim = this.prim(e);
    if (prim === null || prim.multipleResults === true || !prim.linear) {
      throw new Error("internal error: no scalar transpose on this tape");
    }
    const rule = prim.transposeScalar;
    if (rule === undefined) throw new Error("internal error: no scalar transpose on this tape");
    return rule;
  }
  /** How many arguments equation e has. */
  numArgsOf(e: number): number {
    return this.argStart.get(e + 1) - this.argStart.get(e);
  }
  /**
   * Argument i of equation e in the tape's encoding: a node index (>= 0), or
   * a negative code for a constant (read it with `scalarConstant`).
   */
  argCode(e: number, i: number): number {
    return this.args.get(this.argStart.get(e) + i);
  }
  /** The value of a 0-d float64 constant stored by value (`code` from `argCode`, < 0). */
  scalarConstant(code: number): number {
    if ((-code & 1) === 1) throw new Error("internal error: not a by-value scalar constant");
    return this.scalars.get((-code - 2) >> 1);
  }
  /** Arguments of equation e, nodes mapped by `node`, constants as Arrays. */
  argsOf<T>(e: number, node: (n: number) => T): (T | Array)[] {
    const start = this.argStart.get(e);
    const n = this.argStart.get(e + 1) - start;
    const out = new globalThis.Array<T | Array>(n);
    for (let i = 0; i < n; i++) {
      const a = this.args.get(start + i);
      if (a >= 0) out[i] = node(a);
      else if ((-a & 1) === 1) out[i] = this.objects[(-a - 1) >> 1]!;
      else out[i] = ConcreteArray.scalar(this.scalars.get((-a - 2) >> 1), "float64");
    }
    return out;
  }
}
