/**
 * Forward mode: each value carries a tangent (dual numbers, generalised to
 * arrays). A primitive's JVP rule maps input tangents to the output tangent
 * as the primal is computed, so nothing is stored: memory stays flat however
 * long the program runs. Symbolic zero tangents are `null`.
 *
 * Scalar tangents: under eager `grad` the tangents are nodes of the tape
 * that reverse mode records (transforms/linearize.ts). When every operand
 * is a 0-d float64 value, a primitive with a `jvpScalar` rule records its
 * tangent equations onto that tape directly, on JS numbers, instead of
 * running `jvp` through `bind` with an array and a tracer per intermediate
 * value. The rule records the same equations, so the tape is the same.
 */
import { Array, ConcreteArray } from "../core/array.js";
import { asArray, expectFunction } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { ShapeError, DTypeError, fmtShape, InvalidArgumentError } from "../core/errors.js";
import type {
  MultiPrimitive,
  Primitive,
  ScalarJvpRule,
  ScalarTangentTape,
  Tangent,
} from "../core/primitive.js";
import { shapesEqual } from "../core/shape.js";
import { type MainTrace, Trace, Tracer, bind, bindAll, withMainTrace } from "../core/trace.js";
import { flatten, treeDefString, unflatten } from "../tree/index.js";
import type { Arrays, LooseInput } from "../tree/types.js";

/** A value together with its tangent (a dual number). */
export class JVPTracer extends Tracer {
  constructor(
    trace: Trace,
    readonly primal: Array,
    readonly tangent: Tangent,
  ) {
    super(trace);
  }
  get shape() {
    return this.primal.shape;
  }
  get dtype() {
    return this.primal.dtype;
  }
  concrete(fnName: string): ConcreteArray {
    return this.primal.concrete(fnName);
  }
  /** A value with a zero tangent is just its primal. */
  fullLower(): Array {
    return this.tangent === null ? this.primal : this;
  }
}

/**
 * The tape behind a JVP trace's tangents, when they are nodes of one (see
 * "Scalar tangents" above; LinearTrace in linearize.ts implements it).
 */
export interface ScalarTangentSink {
  readonly tape: ScalarTangentTape;
  /** Whether `jvpScalar` rules may record now (a tape of scalars by value, nothing staged). */
  ready(): boolean;
  /** The node of tangent t: -1 for a zero (null) one, undefined when t is not a node of this tape. */
  nodeOf(t: Tangent): number | undefined;
  /** The tangent standing for node n (null for -1). */
  tangentOf(n: number): Tangent;
}

/**
 * Internal switch and counter (not exported by the package): tests turn the
 * scalar tangents off to compare both ways bit for bit, and read how many
 * equations took them.
 */
export const scalarJvp = { enabled: true, equations: 0 };

/** A 0-d float64 array whose value can be read now. */
export function isHostScalarFloat64(x: Array): x is ConcreteArray {
  return x instanceof ConcreteArray && x.onHost && x.shape.length === 0 && x.dtype === "float64";
}

/**
 * The tangent of operand a of `trace` (null for a value of another trace).
 * The trace's own values are its JVPTracers: `trace === ...` tells them
 * apart without an `instanceof` (slower in V8's unoptimised tiers, where a
 * program's first jit runs; concrete arrays have no `trace`).
 */
function tangentIn(a: Array, trace: JVPTrace): Tangent {
  return (a as { trace?: unknown }).trace === trace ? (a as JVPTracer).tangent : null;
}

/**
 * The output tangent by `rule` on the sink's tape, or undefined when an
 * operand is not a 0-d float64 value or a tangent is not a node of the tape.
 */
function scalarTangent(
  sink: ScalarTangentSink,
  rule: ScalarJvpRule,
  primals: readonly Array[],
  args: readonly Array[],
  trace: JVPTrace,
  out: Array,
): Tangent | undefined {
  const n = primals.length;
  if (n > 2 || !scalarJvp.enabled || !isHostScalarFloat64(out) || !sink.ready()) return undefined;
  const x = primals[0]!;
  const tx = sink.nodeOf(tangentIn(args[0]!, trace));
  if (!isHostScalarFloat64(x) || tx === undefined) return undefined;
  let y = 0;
  let ty = -1;
  if (n === 2) {
    const b = primals[1]!;
    const tb = sink.nodeOf(tangentIn(args[1]!, trace));
    if (!isHostScalarFloat64(b) || tb === undefined) return undefined;
    y = b.scalarValue;
    ty = tb;
  }
  scalarJvp.equations++;
  return sink.tangentOf(rule(sink.tape, x.scalarValue, y, tx, ty, out.scalarValue));
}

export class JVPTrace extends Trace {
  /** Set by linearize when the tangents are nodes of its tape. */
  scalarSink: ScalarTangentSink | null = null;
  pure(value: Array): Tracer {
    return new JVPTracer(this, value, null);
  }
  processPrimitive(prim: Primitive, args: readonly Array[], params: unknown): Array {
    // Inline (not via split) to keep the hot eager path free of a tuple allocation.
    const n = args.length;
    const primals = new globalThis.Array<Array>(n);
    let anyTangent = false;
    for (let i = 0; i < n; i++) {
      const a = args[i]!;
      // This trace's own values (JVPTracers), as in `tangentIn`.
      if ((a as { trace?: unknown }).trace === this) {
        const t = a as JVPTracer;
        primals[i] = t.primal;
        if (t.tangent !== null) anyTangent = true;
      } else {
        primals[i] = a;
      }
    }
    const out = bind(prim, primals, params);
    // Results in their simplest form (Trace.processPrimitive): a zero tangent gives the primal.
    if (!anyTangent) return out;
    const sink = this.scalarSink;
    const rule = prim.jvpScalar;
    if (sink !== null && rule !== undefined) {
      const viaTape = scalarTangent(sink, rule, primals, args, this, out);
      if (viaTape !== undefined) return viaTape === null ? out : new JVPTracer(this, out, viaTape);
    }
    const tangents = new globalThis.Array<Tangent>(n);
    for (let i = 0; i < n; i++) {
      // `tangentIn`, inline (no call per operand).
      const a = args[i]!;
      tangents[i] = (a as { trace?: unknown }).trace === this ? (a as JVPTracer).tangent : null;
    }
    const tangent = prim.jvp(primals, tangents, out, params);
    return tangent === null ? out : new JVPTracer(this, out, tangent);
  }
  processMultiPrimitive(prim: MultiPrimitive, args: readonly Array[], params: unknown): Array[] {
    const [primals, tangents, anyTangent] = this.split(args);
    const outs = bindAll(prim, primals, params);
    if (!anyTangent) return outs.map((out) => new JVPTracer(this, out, null));
    const tangentsOut = prim.jvp(primals, tangents, outs, params);
    return outs.map((out, i) => new JVPTracer(this, out, tangentsOut[i] ?? null));
  }
  /** Primals and tangents of the operands (null tangents for values of other traces). */
  private split(args: readonly Array[]): [Array[], Tangent[], boolean] {
    const n = args.length;
    const primals = new globalThis.Array<Array>(n);
    const tangents = new globalThis.Array<Tangent>(n);
    let anyTangent = false;
    for (let i = 0; i < n; i++) {
      const a = args[i]!;
      if (a instanceof JVPTracer && a.trace === this) {
        primals[i] = a.primal;
        tangents[i] = a.tangent;
        if (a.tangent !== null) anyTangent = true;
      } else {
        primals[i] = a;
        tangents[i] = null;
      }
    }
    return [primals, tangents, anyTangent];
  }
}

/** The primal and tangent of an output leaf seen by the JVP trace `main`. */
export function primalAndTangent(main: MainTrace, x: Array): [Array, Tangent] {
  if (x instanceof JVPTracer && x.trace.main === main) return [x.primal, x.tangent];
  return [x, null];
}

/**
 * A JS list given as the tangent of an Array primal (jvp(f, [x], [[1, 0]])):
 * the list is a pytree of separate numbers, as in JAX; say to wrap it.
 */
function listForArrayHint(primals: readonly unknown[], tangents: readonly unknown[]): string {
  const i = primals.findIndex(
    (p, k) => p instanceof Array && globalThis.Array.isArray(tangents[k]),
  );
  if (i < 0) return "";
  return (
    `; tangent ${i} is a JS list where its primal is one Array: pass it as one Array, ` +
    `np.array(list) (a JS list is a pytree of separate leaves, as in JAX)`
  );
}

/**
 * Forward-mode derivative: evaluates f at `primals` and its directional
 * derivative along `tangents`; both are lists (pytrees) matching f's arguments.
 * Returns [outputs, output tangents].
 */
export function jvp<Args extends unknown[] = Array[], R = Array>(
  f: (...args: Args) => R,
  primals: LooseInput<Args>,
  tangents: LooseInput<Args>,
): [Arrays<R>, Arrays<R>];
export function jvp(
  f: (...args: never[]) => unknown,
  primals: readonly unknown[],
  tangents: readonly unknown[],
): [unknown, unknown] {
  expectFunction("jvp", "f", f);
  if (!globalThis.Array.isArray(primals) || !globalThis.Array.isArray(tangents)) {
    throw new InvalidArgumentError(
      `jvp: primals and tangents must be lists with one entry per argument of f, ` +
        `e.g. jvp(f, [x], [dx])`,
    );
  }
  const [pLeaves, pDef] = flatten(primals);
  const [tLeaves, tDef] = flatten(tangents);
  if (treeDefString(pDef) !== treeDefString(tDef)) {
    throw new InvalidArgumentError(
      `jvp: primals and tangents must have the same structure, got ${treeDefString(pDef)} ` +
        `and ${treeDefString(tDef)}` +
        listForArrayHint(primals, tangents),
    );
  }
  return withMainTrace(
    (main) => new JVPTrace(main),
    (main) => {
      const inputs = pLeaves.map((leaf, i) => {
        const p = asArray(leaf, `jvp: primal ${i}`);
        const t = asArray(tLeaves[i], `jvp: tangent ${i}`);
        if (!shapesEqual(p.shape, t.shape)) {
          throw new ShapeError(
            `jvp: tangent ${i} has shape ${fmtShape(t.shape)} but its primal has shape ` +
              `${fmtShape(p.shape)}; tangents must match their primals`,
          );
        }
        // Integer and bool values have no derivative (JAX wants a float0 tangent for
        // them); ignoring the tangent would return a silent zero, so it is refused.
        if (!isFloat(p.dtype)) {
          throw new DTypeError(
            `jvp: primal ${i} has dtype ${p.dtype}${fmtShape(p.shape)}, which has no derivative, ` +
              `but a tangent (${t.dtype}${fmtShape(t.shape)}) was given for it; convert the primal ` +
              `with x.astype("float64") to differentiate it, or close over it ` +
              `(jvp((x) => f(x, n), [x], [dx])) to hold it fixed`,
          );
        }
        // A JS number tangent adopts its primal's dtype; an Array must match it.
        if (t.dtype !== p.dtype && typeof tLeaves[i] !== "number") {
          throw new DTypeError(
            `jvp: tangent ${i} has dtype ${t.dtype} but its primal has dtype ${p.dtype}; ` +
              `convert it with astype("${p.dtype}")`,
          );
        }
        return new JVPTracer(main.trace, p, t.dtype === p.dtype ? t : t.astype(p.dtype));
      });
      const out = f(...(unflatten(pDef, inputs) as never[]));
      const [outLeaves, outDef] = flatten(out);
      const primalsOut: Array[] = [];
      const tangentsOut: Array[] = [];
      outLeaves.forEach((leaf, i) => {
        const [p, t] = primalAndTangent(main, asArray(leaf, `jvp: output ${i} of f`));
        primalsOut.push(p);
        tangentsOut.push(t ?? ConcreteArray.zeros(p.shape, p.dtype));
      });
      return [unflatten(outDef, primalsOut), unflatten(outDef, tangentsOut)];
    },
  );
}
