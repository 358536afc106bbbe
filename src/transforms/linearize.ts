/**
 * Reverse mode, derived from forward mode: run f under the JVP trace with
 * tangents that are symbolic nodes of a `LinearTrace`. Every operation the
 * JVP rules apply to tangents is linear and gets recorded on the tape (a
 * Wengert list) together with the primal values it needs. The pullback
 * replays the tape backwards, applying each linear primitive's transpose
 * rule to the cotangents: that is vjp, and grad is vjp with cotangent 1.
 * `linearize` replays the same tape forwards instead.
 */
import { Array, ConcreteArray } from "../core/array.js";
import { asArray, expectFunction, expectOptions } from "../core/convert.js";
import { type DType, isFloat } from "../core/dtype.js";
import {
  ChainruleError,
  ConcretizationError,
  DTypeError,
  ShapeError,
  fmtShape,
  InvalidArgumentError,
} from "../core/errors.js";
import {
  type LinearArg,
  type MultiPrimitive,
  type Primitive,
  type Tangent,
  UndefPrimal,
} from "../core/primitive.js";
import { shapesEqual } from "../core/shape.js";
import {
  type MainTrace,
  Trace,
  Tracer,
  bind,
  bindAll,
  isActive,
  isRecording,
  isTracingDynamically,
  withMainTrace,
} from "../core/trace.js";
import { add } from "../primitives/elementwise.js";
import { flatten, treeDefString, unflatten, type TreeDef } from "../tree/index.js";
import type { Argnums, Arrays, LooseInput, GradsAt, Inputs } from "../tree/types.js";
import {
  JVPTrace,
  JVPTracer,
  type ScalarTangentSink,
  isHostScalarFloat64,
  primalAndTangent,
} from "./jvp.js";
import { type Mask, combineMasks, propagateMask } from "./structuralZeros.js";
import { scalarBackward, scalarBackwardPass } from "./scalarBackward.js";
import {
  type EquationVjp,
  type Linearization,
  outputAndAux,
  stageForward,
} from "./stagedReverse.js";
import { Tape } from "./tape.js";

const SCALAR_SHAPE: readonly number[] = Object.freeze([]);

/** A tangent that is a node of the tape (or a constant raised into the trace). */
export class LinearTracer extends Tracer {
  constructor(
    trace: Trace,
    readonly shape: readonly number[],
    readonly dtype: DType,
    /** Node index in the tape, or -1 for a constant. */
    readonly node: number,
    readonly constant: Array | null,
  ) {
    super(trace);
  }
  concrete(fnName: string): ConcreteArray {
    throw new ConcretizationError(
      `${fnName}: a tangent inside reverse-mode differentiation has no concrete value`,
    );
  }
}

/**
 * The trace that records linear operations on tangents onto a `Tape`.
 * Nodes 0 .. numInputs-1 are the input tangents.
 */
export class LinearTrace extends Trace implements ScalarTangentSink {
  readonly tape = new Tape();
  private readonly scratchRefs: (number | Array)[] = [];

  /*
   * The scalar tangent sink of the JVP trace above (see jvp.ts): rules record
   * here only while the tape holds 0-d float64 nodes with constants stored
   * by value, and nothing is being staged or recorded by a GradientTape
   * (there, `jvp` itself stages the rules' arithmetic on primals).
   */
  ready(): boolean {
    return (
      this.tape.scalarOnly &&
      this.tape.scalarsByValue &&
      !isTracingDynamically() &&
      !isRecording() &&
      isActive(this.main)
    );
  }
  nodeOf(t: Tangent): number | undefined {
    if (t === null) return -1;
    return t instanceof LinearTracer && t.trace === this && t.node >= 0 ? t.node : undefined;
  }
  tangentOf(n: number): Tangent {
    return n < 0 ? null : new LinearTracer(this, SCALAR_SHAPE, "float64", n, null);
  }

  pure(value: Array): Tracer {
    return new LinearTracer(this, value.shape, value.dtype, -1, value);
  }

  /** A fresh input node (the tangent of a differentiated argument); all come before equations. */
  newInput(like: Array): LinearTracer {
    const node = this.tape.addInput(like.shape, like.dtype);
    return new LinearTracer(this, like.shape, like.dtype, node, null);
  }

  processPrimitive(prim: Primitive, args: readonly Array[], params: unknown): Array {
    if (!prim.linear) {
      throw new ChainruleError(
        `internal error: the non-linear primitive ${prim.name} was applied to a tangent; ` +
          `a JVP rule must be linear in the tangents`,
      );
    }
    const aval = prim.abstractEval(args, params);
    // The tape copies the references into its columns at once, so one scratch
    // array serves every equation: a fresh array (and closure) per equation
    // from args.map was a sixth of the eager tape's allocation. Its length is
    // never set (a length store is a slow runtime call): it keeps the largest
    // arity seen and the tape reads the first args.length entries.
    const refs = this.scratchRefs;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      // This trace's own values are its LinearTracers (a field read, no instanceof, as in jvp.ts).
      refs[i] = (a as { trace?: unknown }).trace === this ? (a as LinearTracer).node : a;
    }
    const node = this.tape.record(prim, params, refs, aval.shape, aval.dtype, args.length);
    return new LinearTracer(this, aval.shape, aval.dtype, node, null);
  }

  processMultiPrimitive(prim: MultiPrimitive, args: readonly Array[], params: unknown): Array[] {
    if (!prim.linear) {
      throw new ChainruleError(
        `internal error: the non-linear primitive ${prim.name} was applied to a tangent; ` +
          `a JVP rule must be linear in the tangents`,
      );
    }
    const avals = prim.abstractEval(args, params);
    const refs = args.map((a) => (a instanceof LinearTracer && a.trace === this ? a.node : a));
    const first = this.tape.recordMulti(prim, params, refs, avals);
    return avals.map((aval, j) => new LinearTracer(this, aval.shape, aval.dtype, first + j, null));
  }
}

/**
 * Backward pass: cotangents of the input nodes given cotangents of the
 * output nodes (null = zero). Equations whose output has no cotangent are
 * skipped; cotangents are released as soon as they are consumed.
 */
function backwardPass(
  tape: Tape,
  outNodes: readonly number[],
  outCts: readonly Array[],
  inputNodes: readonly number[],
): (Array | null)[] {
  if (tape.scalarOnly && scalarBackward.enabled && outCts.every(isHostScalarFloat64)) {
    const cts = outCts.map((c) => c.scalarValue);
    return scalarBackwardPass(tape, outNodes, cts, inputNodes).map((g) =>
      g === null ? null : ConcreteArray.scalar(g, "float64"),
    );
  }
  return maskedBackwardPass(tape, outNodes, outCts, null, inputNodes)[0];
}

/**
 * The backward pass with structural-zero masks: `outMasks` (null: none)
 * for the output cotangents, and the input cotangents' masks returned with
 * them (null where none).
 */
function maskedBackwardPass(
  tape: Tape,
  outNodes: readonly number[],
  outCts: readonly Array[],
  outMasks: readonly Mask[] | null,
  inputNodes: readonly number[],
): [(Array | null)[], Mask[]] {
  const ct = new globalThis.Array<Array | null>(tape.numNodes).fill(null);
  // Structural-zero masks of the cotangents (see structuralZeros.ts), made on first use.
  let masks = null as Mask[] | null;
  const accumulate = (node: number, value: Array, mask: Mask = null): void => {
    const prev = ct[node];
    if (prev === null || prev === undefined) {
      ct[node] = value;
      if (mask !== null)
        (masks ??= new globalThis.Array<Mask>(tape.numNodes).fill(null))[node] = mask;
      return;
    }
    ct[node] = add(prev, value);
    if (masks !== null) masks[node] = combineMasks(masks[node] ?? null, mask);
  };
  outNodes.forEach((node, i) => {
    if (node >= 0) accumulate(node, outCts[i]!, outMasks?.[i] ?? null);
  });
  // A linear operand's stand-in. Transpose rules only test for one and read
  // its shape and dtype, so consecutive operands of the same shape (object)
  // and dtype share one: most of a program's nodes do (no object per operand).
  let lastUndef: UndefPrimal | null = null;
  const undef = (n: number): UndefPrimal => {
    const shape = tape.nodeShape(n);
    const dtype = tape.nodeDtype(n);
    if (lastUndef === null || lastUndef.shape !== shape || lastUndef.dtype !== dtype) {
      lastUndef = new UndefPrimal(shape, dtype);
    }
    return lastUndef;
  };
  const numInputs = tape.numInputs;
  for (let e = tape.numEqns - 1; e >= 0; e--) {
    const prim = tape.prim(e);
    // An output slot: its cotangent waits for the equation's first slot.
    if (prim === null) continue;
    const outNode = numInputs + e;
    if (prim.multipleResults === true) {
      const inCts = transposeMulti(tape, e, ct, masks, undef);
      if (inCts === null) continue;
      for (let i = 0; i < inCts.length; i++) {
        const node = tape.argNode(e, i);
        const g = inCts[i];
        if (node >= 0 && g !== null && g !== undefined) accumulate(node, g);
      }
      continue;
    }
    const c = ct[outNode];
    if (c === null || c === undefined) continue;
    ct[outNode] = null;
    const mask = masks === null ? null : (masks[outNode] ?? null);
    if (masks !== null) masks[outNode] = null;
    if (!prim.linear) throw new ChainruleError(`internal error: ${prim.name} is not linear`);
    const args = tape.argsOf(e, undef);
    const params = tape.paramsOf(e);
    let inCts = prim.transpose(c, args, params);
    let inMasks: Mask[] | null = null;
    if (mask !== null || prim.name === "select") {
      [inCts, inMasks] = propagateMask(prim, c, mask, args, params, inCts);
    }
    for (let i = 0; i < inCts.length; i++) {
      const g = inCts[i];
      // The operand's node only for a cotangent (a product's constant operand gets none).
      if (g === null || g === undefined) continue;
      const node = tape.argNode(e, i);
      if (node >= 0) accumulate(node, g, inMasks?.[i] ?? null);
    }
  }
  const inMasks = masks;
  return [
    inputNodes.map((n) => (n >= 0 ? (ct[n] ?? null) : null)),
    inputNodes.map((n) => (n >= 0 && inMasks !== null ? (inMasks[n] ?? null) : null)),
  ];
}

/**
 * One equation's input cotangents (and their structural-zero masks) by the
 * general path: its JVP rule on a tape of its own, transposed with the
 * output cotangent `ct` (masked by `mask`). Staged reverse mode uses it
 * for the equations it has no direct rule for (stagedReverse.ts); `active`
 * says which inputs are differentiated.
 */
const equationVjpOnTape: EquationVjp = (prim, primals, active, out, params, ct, mask) =>
  withMainTrace(
    (main) => new LinearTrace(main),
    (linMain) => {
      const lin = linMain.trace as LinearTrace;
      const inputNodes: number[] = [];
      const tangents = primals.map((p, i) => {
        if (!active[i]) {
          inputNodes.push(-1);
          return null;
        }
        const t = lin.newInput(p);
        inputNodes.push(t.node);
        return t;
      });
      const node = nodeOf(linMain, prim.jvp(primals, tangents, out, params));
      if (node < 0) return [primals.map(() => null), primals.map(() => null)];
      return maskedBackwardPass(lin.tape, [node], [ct], [mask], inputNodes);
    },
  );

/**
 * The transpose of the multi-output equation starting at slot e: takes (and
 * releases) the cotangents of its output nodes and returns its inputs'
 * cotangents, or null when no output has one. Structural-zero masks of the
 * outputs are dropped (conservative, as for any primitive without a mask rule).
 */
function transposeMulti(
  tape: Tape,
  e: number,
  ct: (Array | null)[],
  masks: Mask[] | null,
  undef: (n: number) => UndefPrimal,
): Tangent[] | null {
  const prim = tape.prim(e) as MultiPrimitive;
  const first = tape.numInputs + e;
  const k = tape.numOutputs(e);
  const cts = new globalThis.Array<Array | null>(k);
  let any = false;
  for (let j = 0; j < k; j++) {
    const c = ct[first + j] ?? null;
    cts[j] = c;
    if (c !== null) any = true;
    ct[first + j] = null;
    if (masks !== null) masks[first + j] = null;
  }
  if (!any) return null;
  if (!prim.linear) throw new ChainruleError(`internal error: ${prim.name} is not linear`);
  const args: LinearArg[] = tape.argsOf(e, undef);
  return prim.transpose(cts, args, tape.paramsOf(e));
}

/** Forward replay of the tape: output tangents from input tangents (linearize). */
function forwardReplay(
  tape: Tape,
  inputNodes: readonly number[],
  inTangents: readonly Array[],
  outNodes: readonly number[],
): (Array | null)[] {
  const val = new globalThis.Array<Array | null>(tape.numNodes).fill(null);
  inputNodes.forEach((n, i) => {
    if (n >= 0) val[n] = inTangents[i]!;
  });
  const valueOf = (n: number): Array =>
    val[n] ?? ConcreteArray.zeros(tape.nodeShape(n), tape.nodeDtype(n));
  for (let e = 0; e < tape.numEqns; e++) {
    const prim = tape.prim(e);
    if (prim === null) continue; // an output slot, filled with its equation's first slot
    const args = tape.argsOf(e, valueOf);
    if (prim.multipleResults === true) {
      const outs = bindAll(prim, args, tape.paramsOf(e));
      outs.forEach((out, j) => (val[tape.numInputs + e + j] = out));
    } else {
      val[tape.numInputs + e] = bind(prim, args, tape.paramsOf(e));
    }
  }
  return outNodes.map((n) => (n >= 0 ? (val[n] ?? null) : null));
}

/** What a linearization of f at some primals records. */
interface Linearized {
  trace: LinearTrace;
  inDef: TreeDef;
  inputs: Array[];
  inputNodes: number[];
  outDef: TreeDef;
  outPrimals: Array[];
  outNodes: number[];
  aux: unknown;
}

/**
 * Runs f on `args` (a list of arguments) recording the tangent tape. Only
 * float leaves get tangent nodes; others are treated as constants.
 */
function linearizeFlat(
  fnName: string,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  hasAux: boolean,
): Linearized {
  const [leaves, inDef] = flatten(args);
  const inputs = leaves.map((leaf, i) => asArray(leaf, `${fnName}: input ${i}`));
  return withMainTrace(
    (main) => new LinearTrace(main),
    (linMain) => {
      const lin = linMain.trace as LinearTrace;
      return withMainTrace(
        (main) => {
          const trace = new JVPTrace(main);
          // Under jit or makeJaxpr (a dynamic trace below, active until this
          // trace ends) every primal is staged, never a host scalar, so the
          // scalar tangents could never apply: no sink, and no check of it
          // per operation.
          trace.scalarSink = isTracingDynamically() ? null : lin;
          return trace;
        },
        (jvpMain) => {
          const inputNodes: number[] = [];
          const tracers = inputs.map((x) => {
            if (!isFloat(x.dtype)) {
              inputNodes.push(-1);
              return x;
            }
            const t = lin.newInput(x);
            inputNodes.push(t.node);
            return new JVPTracer(jvpMain.trace, x, t);
          });
          let out = f(...(unflatten(inDef, tracers) as never[]));
          let aux: unknown = undefined;
          if (hasAux) {
            const [output, rawAux] = outputAndAux(fnName, out);
            aux = stripTracers(jvpMain, rawAux);
            out = output;
          }
          const [outLeaves, outDef] = flatten(out);
          const outPrimals: Array[] = [];
          const outNodes: number[] = [];
          outLeaves.forEach((leaf, i) => {
            const [p, t] = primalAndTangent(jvpMain, asArray(leaf, `${fnName}: output ${i} of f`));
            outPrimals.push(p);
            outNodes.push(nodeOf(linMain, t));
          });
          return { trace: lin, inDef, inputs, inputNodes, outDef, outPrimals, outNodes, aux };
        },
      );
    },
  );
}

/**
 * Linearizes f at `args` for reverse mode: inside jit, from the equations f
 * records (stagedReverse.ts); elsewhere, or where an equation has no staged
 * rule there, on the tape (`linearizeFlat`, then `backwardPass`).
 */
function linearizeForReverse(
  fnName: string,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  hasAux: boolean,
): Linearization {
  return (
    stageForward(fnName, f, args, hasAux, equationVjpOnTape) ?? onTape(fnName, f, args, hasAux)
  );
}

/** f linearized on the tape (the general path), with its pullback. */
function onTape(
  fnName: string,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  hasAux: boolean,
): Linearization {
  const lin = linearizeFlat(fnName, f, args, hasAux);
  return {
    inDef: lin.inDef,
    inputs: lin.inputs,
    outDef: lin.outDef,
    outPrimals: lin.outPrimals,
    aux: lin.aux,
    pullback: (cts) => backwardPass(lin.trace.tape, lin.outNodes, cts, lin.inputNodes),
  };
}

function nodeOf(linMain: MainTrace, t: Tangent): number {
  if (t instanceof LinearTracer && t.trace.main === linMain) return t.node;
  return -1;
}

/** Replaces JVP tracers of `main` in a tree by their primal values. */
function stripTracers(main: MainTrace, tree: unknown): unknown {
  const [leaves, def] = flatten(tree);
  return unflatten(
    def,
    leaves.map((l) => (l instanceof Array ? primalAndTangent(main, l)[0] : l)),
  );
}

/**
 * Checks a cotangent given to vjp's pullback against its output (or a tangent
 * given to linearize's map against its input): the same shape, and a float
 * dtype when the primal is float. Another float dtype is converted (a JS
 * number is float64); a bool or integer one is refused, since it would make
 * bool or integer gradients.
 */
function checkCotangent(
  fnName: string,
  kind: "cotangent" | "tangent",
  i: number,
  primal: Array,
  ct: Array,
): Array {
  const against = kind === "cotangent" ? "output" : "input";
  if (!shapesEqual(primal.shape, ct.shape)) {
    throw new ShapeError(
      `${fnName}: ${kind} ${i} has shape ${fmtShape(ct.shape)} but the ${against} has shape ` +
        `${fmtShape(primal.shape)}; pass a ${kind} shaped like the ${against}`,
    );
  }
  if (isFloat(primal.dtype) && !isFloat(ct.dtype)) {
    throw new DTypeError(
      `${fnName}: ${kind} ${i} has dtype ${ct.dtype} but the ${against} is ${primal.dtype}` +
        `${fmtShape(primal.shape)}; pass a float ${kind} (for example x.astype("${primal.dtype}"))`,
    );
  }
  return ct.dtype === primal.dtype ? ct : ct.astype(primal.dtype);
}

/**
 * vjp(f, ...primals) -> [out, pullback]: evaluates f and returns a function
 * mapping an output cotangent (shaped like out) to the list of input
 * cotangents, one per argument.
 */
export function vjp<Args extends unknown[] = Array[], R = Array>(
  f: (...args: Args) => R,
  ...primals: Inputs<Args>
): [Arrays<R>, (cotangent: LooseInput<R>) => Arrays<Args>];
export function vjp(
  f: (...args: never[]) => unknown,
  ...primals: unknown[]
): [unknown, (ct: unknown) => unknown[]] {
  expectFunction("vjp", "f", f);
  const lin = linearizeForReverse("vjp", f, primals, false);
  const pullback = (cotangent: unknown): unknown[] => {
    const [ctLeaves, ctDef] = flatten(cotangent);
    if (treeDefString(ctDef) !== treeDefString(lin.outDef)) {
      throw new InvalidArgumentError(
        `vjp pullback: the cotangent's structure ${treeDefString(ctDef)} differs from the ` +
          `output's ${treeDefString(lin.outDef)}` +
          (treeDefString(lin.outDef) === "*" && globalThis.Array.isArray(cotangent)
            ? `; the output is one Array, so pass its cotangent as one Array: ` +
              `np.array(list) (a JS list is a pytree of separate leaves, as in JAX)`
            : ""),
      );
    }
    const cts = ctLeaves.map((c, i) =>
      checkCotangent(
        "vjp pullback",
        "cotangent",
        i,
        lin.outPrimals[i]!,
        asArray(c, `vjp pullback: cotangent ${i}`),
      ),
    );
    const inCts = lin.pullback(cts);
    const grads = inCts.map(
      (g, i) => g ?? ConcreteArray.zeros(lin.inputs[i]!.shape, lin.inputs[i]!.dtype),
    );
    return unflatten(lin.inDef, grads) as unknown[];
  };
  return [unflatten(lin.outDef, lin.outPrimals), pullback];
}

/**
 * linearize(f, ...primals) -> [out, fJvp]: evaluates f once and returns its
 * linear map, which can be applied to many tangents without re-running f.
 */
export function linearize<Args extends unknown[] = Array[], R = Array>(
  f: (...args: Args) => R,
  ...primals: Inputs<Args>
): [Arrays<R>, (...tangents: Inputs<Args>) => Arrays<R>];
export function linearize(
  f: (...args: never[]) => unknown,
  ...primals: unknown[]
): [unknown, (...tangents: unknown[]) => unknown] {
  expectFunction("linearize", "f", f);
  const lin = linearizeFlat("linearize", f, primals, false);
  const fJvp = (...tangents: unknown[]): unknown => {
    const [tLeaves, tDef] = flatten(tangents);
    if (treeDefString(tDef) !== treeDefString(lin.inDef)) {
      throw new InvalidArgumentError(
        `linearize: tangents must match the primals' structure ${treeDefString(lin.inDef)}, ` +
          `got ${treeDefString(tDef)}`,
      );
    }
    const ts = tLeaves.map((t, i) =>
      checkCotangent(
        "linearize",
        "tangent",
        i,
        lin.inputs[i]!,
        asArray(t, `linearize: tangent ${i}`),
      ),
    );
    const outs = forwardReplay(lin.trace.tape, lin.inputNodes, ts, lin.outNodes);
    return unflatten(
      lin.outDef,
      outs.map(
        (t, i) => t ?? ConcreteArray.zeros(lin.outPrimals[i]!.shape, lin.outPrimals[i]!.dtype),
      ),
    );
  };
  return [unflatten(lin.outDef, lin.outPrimals), fJvp];
}

/**
 * Options of {@link grad} and {@link valueAndGrad}. The type parameters carry
 * the literal `argnums` and `hasAux` given, so that the result types follow them.
 */
export interface GradOptions<A extends Argnums = Argnums, H extends boolean = boolean> {
  /**
   * Which positional arguments to differentiate (default 0). A number gives
   * one gradient; an array gives a tuple of gradients, one per entry (even
   * for a one-entry array). Negative entries count from the end.
   */
  argnums?: A;
  /** f returns [output, aux]; aux is passed through undifferentiated. */
  hasAux?: H;
}

/**
 * Validates argnums against the call's arguments; returns them as a list of
 * non-negative indices. argnums is an integer or an array of distinct
 * integers, each in -nargs..nargs-1 (negative counts from the end).
 */
export function resolveArgnums(
  fnName: string,
  argnums: number | readonly number[] | undefined,
  nargs: number,
): number[] {
  const given: unknown = argnums;
  const describeGiven = (v: unknown): string => {
    if (typeof v === "object" || typeof v === "string") return safeJson(v);
    if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
    return `(a ${typeof v})`;
  };
  let list: unknown[];
  if (given === undefined) list = [0];
  else if (typeof given === "number") list = [given];
  else if (globalThis.Array.isArray(given)) list = [...(given as unknown[])];
  else {
    throw new InvalidArgumentError(
      `${fnName}: argnums must be an integer or an array of integers, got ${typeof given} ` +
        `${describeGiven(given)}; for example argnums: 0 or argnums: [0, 1]`,
    );
  }
  const range = nargs === 0 ? "none (f was called without arguments)" : `0..${nargs - 1}`;
  const seen = new Set<number>();
  for (const a of list) {
    if (typeof a !== "number" || !Number.isInteger(a)) {
      throw new InvalidArgumentError(
        `${fnName}: argnums entries must be integers, got ${typeof a} ${describeGiven(a)}; ` +
          `valid argnums for this call are ${range}`,
      );
    }
    if (a < -nargs || a >= nargs) {
      throw new InvalidArgumentError(
        `${fnName}: argnums ${a} is out of range: f was called with ${nargs} argument` +
          `${nargs === 1 ? "" : "s"} (valid argnums are ${range}, or negative from the end)`,
      );
    }
    const index = a < 0 ? a + nargs : a;
    if (seen.has(index)) {
      throw new InvalidArgumentError(
        `${fnName}: argnums ${describeGiven(given)} names argument ${index} twice; ` +
          `list each argument once`,
      );
    }
    seen.add(index);
  }
  return [...seen];
}

/** JSON text of a value for an error message (a placeholder where it has none). */
function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? "(no JSON form)";
  } catch {
    return "(no JSON form)";
  }
}

/**
 * The shared core of grad and valueAndGrad: returns [value, grads, aux].
 */
function valueAndGradImpl(
  fnName: string,
  f: (...args: never[]) => unknown,
  opts: GradOptions,
  args: unknown[],
): [Array, unknown, unknown] {
  const argnums = resolveArgnums(fnName, opts.argnums, args.length);
  const diffArgs = argnums.map((a) => args[a]);
  // Check float inputs up front with a clear message.
  diffArgs.forEach((arg, k) => {
    flatten(arg)[0].forEach((leaf) => {
      const x = asArray(leaf, `${fnName}: argument ${argnums[k]}`);
      if (!isFloat(x.dtype)) {
        throw new DTypeError(
          `${fnName}: cannot differentiate with respect to argument ${argnums[k]}, which has ` +
            `dtype ${x.dtype} (shape ${fmtShape(x.shape)}); derivatives need float inputs: ` +
            `convert with x.astype("float64"), or leave it out of argnums`,
        );
      }
    });
  });
  const g = (...diff: unknown[]): unknown => {
    const full = args.slice();
    argnums.forEach((a, k) => (full[a] = diff[k]));
    return (f as (...a: unknown[]) => unknown)(...full);
  };
  const lin = linearizeForReverse(fnName, g, diffArgs, opts.hasAux === true);
  if (lin.outPrimals.length !== 1 || lin.outDef.kind !== "leaf") {
    throw new ShapeError(
      `${fnName} requires f to return a single scalar array, got a ` +
        `${lin.outDef.kind === "leaf" ? "value" : `tree with ${lin.outPrimals.length} leaves`}; ` +
        `use jacrev or vjp for several outputs${opts.hasAux === true ? "" : ", or hasAux: true to return [loss, aux]"}`,
    );
  }
  const out = lin.outPrimals[0]!;
  if (out.ndim !== 0) {
    throw new ShapeError(
      `${fnName} requires a scalar output, got shape ${fmtShape(out.shape)}; use jacrev or vjp ` +
        `for non-scalar outputs, or reduce it first (e.g. np.sum)`,
    );
  }
  if (!isFloat(out.dtype)) {
    throw new DTypeError(`${fnName} requires a float output, got dtype ${out.dtype}`);
  }
  const one = ConcreteArray.full([], out.dtype, 1);
  const inCts = lin.pullback([one]);
  const grads = inCts.map(
    (c, i) => c ?? ConcreteArray.zeros(lin.inputs[i]!.shape, lin.inputs[i]!.dtype),
  );
  const gradTree = unflatten(lin.inDef, grads) as unknown[];
  const result =
    typeof opts.argnums === "number" || opts.argnums === undefined ? gradTree[0] : gradTree;
  return [out, result, lin.aux];
}

/**
 * grad(f) returns a function computing the gradient of scalar-valued f with
 * respect to argument 0 (or `argnums`), shaped like those arguments.
 */
export function grad<Args extends unknown[] = Array[], Aux = unknown, const A extends Argnums = 0>(
  f: (...args: Args) => readonly [unknown, Aux],
  opts: GradOptions<A, true>,
): <const In extends Inputs<Args>>(...args: In) => [GradsAt<In, NoInfer<A>>, Aux];
export function grad<Args extends unknown[] = Array[], const A extends Argnums = 0>(
  f: (...args: Args) => readonly unknown[],
  opts: GradOptions<A, true>,
): <const In extends Inputs<Args>>(...args: In) => [GradsAt<In, NoInfer<A>>, unknown];
export function grad<Args extends unknown[] = Array[], const A extends Argnums = 0>(
  f: (...args: Args) => unknown,
  opts?: GradOptions<A, false>,
): <const In extends Inputs<Args>>(...args: In) => GradsAt<In, NoInfer<A>>;
export function grad(
  f: (...args: never[]) => unknown,
  opts: GradOptions = {},
): (...args: unknown[]) => unknown {
  expectFunction("grad", "f", f);
  expectOptions("grad", opts, ["argnums", "hasAux"], "grad(f, { argnums: 1 })");
  return (...args: unknown[]): unknown => {
    const [, g, aux] = valueAndGradImpl("grad", f, opts, args);
    return opts.hasAux === true ? [g, aux] : g;
  };
}

/** valueAndGrad(f) returns [f(x), grad f(x)] (with hasAux: [[f(x), aux], grad]). */
export function valueAndGrad<
  Args extends unknown[] = Array[],
  Aux = unknown,
  const A extends Argnums = 0,
>(
  f: (...args: Args) => readonly [unknown, Aux],
  opts: GradOptions<A, true>,
): <const In extends Inputs<Args>>(...args: In) => [[Array, Aux], GradsAt<In, NoInfer<A>>];
export function valueAndGrad<Args extends unknown[] = Array[], const A extends Argnums = 0>(
  f: (...args: Args) => readonly unknown[],
  opts: GradOptions<A, true>,
): <const In extends Inputs<Args>>(...args: In) => [[Array, unknown], GradsAt<In, NoInfer<A>>];
export function valueAndGrad<Args extends unknown[] = Array[], const A extends Argnums = 0>(
  f: (...args: Args) => unknown,
  opts?: GradOptions<A, false>,
): <const In extends Inputs<Args>>(...args: In) => [Array, GradsAt<In, NoInfer<A>>];
export function valueAndGrad(
  f: (...args: never[]) => unknown,
  opts: GradOptions = {},
): (...args: unknown[]) => unknown {
  expectFunction("valueAndGrad", "f", f);
  expectOptions("valueAndGrad", opts, ["argnums", "hasAux"], "valueAndGrad(f, { argnums: 1 })");
  return (...args: unknown[]): unknown => {
    const [value, g, aux] = valueAndGradImpl("valueAndGrad", f, opts, args);
    return opts.hasAux === true ? [[value, aux], g] : [value, g];
  };
}
