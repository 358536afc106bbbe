/**
 * Forward mode: each value carries a tangent (dual numbers, generalised to
 * arrays). A primitive's JVP rule maps input tangents to the output tangent
 * as the primal is computed, so nothing is stored: memory stays flat however
 * long the program runs. Symbolic zero tangents are `null`.
 */
import { Array, ConcreteArray } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { ShapeError, DTypeError, fmtShape, InvalidArgumentError } from "../core/errors.js";
import type { MultiPrimitive, Primitive, Tangent } from "../core/primitive.js";
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

export class JVPTrace extends Trace {
  pure(value: Array): Tracer {
    return new JVPTracer(this, value, null);
  }
  processPrimitive(prim: Primitive, args: readonly Array[], params: unknown): Array {
    // Inline (not via split) to keep the hot eager path free of a tuple allocation.
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
    const out = bind(prim, primals, params);
    const tangentOut = anyTangent ? prim.jvp(primals, tangents, out, params) : null;
    return new JVPTracer(this, out, tangentOut);
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
        `and ${treeDefString(tDef)}`,
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
