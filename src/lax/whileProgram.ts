/**
 * The traced programs of a staged `while` loop and the loop's parameters.
 *
 * A staged loop holds its condition and its body as jaxprs of (lifted
 * values, carry leaves): values the functions close over that are traced
 * (tracers of an outer transformation) are "lifted" out of the programs into
 * explicit inputs, so that every transformation of the `while` primitive
 * sees them as ordinary operands; closed-over concrete arrays stay inside
 * the programs as constants. while.ts (the primitive and its forward rules)
 * and whileReverse.ts (its reverse pass) both build on this module.
 */
import { type Array, type Aval, type ConcreteArray } from "../core/array.js";
import { Tracer } from "../core/trace.js";
import { Jaxpr, type Var, evalJaxpr, traceToJaxpr } from "../ir/jaxpr.js";
import { optimize } from "../ir/passes.js";
import type { CompiledProgram } from "../jit/codegen.js";
import { compileOrInterpret } from "../jit/jit.js";
import { isFloat } from "../core/dtype.js";
import type { Tangent } from "../core/primitive.js";
import { jvp } from "../transforms/jvp.js";
import { flatten } from "../tree/index.js";

let nextProgramId = 0;

/**
 * A traced function of (lifted values, arguments): evaluated through bind
 * (so transformations apply to it) or compiled for concrete inputs.
 */
export class LoopProgram {
  readonly id = nextProgramId++;
  private compiled: CompiledProgram | undefined;
  constructor(
    readonly jaxpr: Jaxpr,
    readonly numLifted: number,
  ) {}
  /** The program applied to traced or concrete values, one primitive at a time. */
  call(lifted: readonly Array[], args: readonly Array[]): Array[] {
    return evalJaxpr(this.jaxpr, [...lifted, ...args]);
  }
  /** The compiled program on concrete inputs (compiled on first use). */
  run(inputs: readonly ConcreteArray[]): ConcreteArray[] {
    this.compiled ??= compileOrInterpret(optimize(this.jaxpr));
    return this.compiled.run(inputs);
  }
  /** Printed (and compared by jit's CSE) by identity. */
  toJSON(): string {
    return `{program #${this.id}: ${this.jaxpr.eqns.length} eqns}`;
  }
}

/** Traces f (leaves -> leaves) at `avals`; closed-over traced values become lifted inputs. */
export function stageProgram(
  f: (leaves: Array[]) => Array[],
  avals: readonly Aval[],
): { program: LoopProgram; lifted: Array[]; outAvals: Aval[] } {
  const [, inDef] = flatten(avals.map(() => 0));
  const { jaxpr } = traceToJaxpr((...xs: unknown[]) => f(xs as Array[]), inDef, avals);
  const keptVars: Var[] = [];
  const kept: Array[] = [];
  const liftedVars: Var[] = [];
  const lifted: Array[] = [];
  jaxpr.constVars.forEach((v, i) => {
    const c = jaxpr.consts[i]!;
    if (c instanceof Tracer) {
      liftedVars.push(v);
      lifted.push(c);
    } else {
      keptVars.push(v);
      kept.push(c);
    }
  });
  const closed = new Jaxpr(
    keptVars,
    kept,
    [...liftedVars, ...jaxpr.inVars],
    jaxpr.eqns,
    jaxpr.outVars,
  );
  const outAvals = jaxpr.outVars.map((v) => ({ shape: v.shape, dtype: v.dtype }));
  return { program: new LoopProgram(closed, lifted.length), lifted, outAvals };
}

/**
 * Traces f (lifted values, arguments -> leaves) at the given avals into a
 * LoopProgram whose first `liftedAvals.length` inputs are lifted values. f
 * must close over concrete values only (they stay inside as constants): the
 * loops' derived programs (joint primal and tangent steps, VJP steps) are
 * built this way once per loop and reused.
 */
export function traceProgram(
  f: (lifted: Array[], args: Array[]) => Array[],
  liftedAvals: readonly Aval[],
  argAvals: readonly Aval[],
): LoopProgram {
  const avals = [...liftedAvals, ...argAvals].map((a) => ({ shape: a.shape, dtype: a.dtype }));
  const nl = liftedAvals.length;
  const [, inDef] = flatten(avals.map(() => 0));
  const { jaxpr } = traceToJaxpr(
    (...xs: unknown[]) => f((xs as Array[]).slice(0, nl), (xs as Array[]).slice(nl)),
    inDef,
    avals,
  );
  if (jaxpr.consts.some((c) => c instanceof Tracer)) {
    throw new Error("internal error: a derived loop program closes over a traced value");
  }
  return new LoopProgram(jaxpr, nl);
}

/**
 * The output tangents of f at `primals` along `tangents` (null = zero):
 * forward mode through f, differentiating only the float operands that have
 * a tangent (the others held fixed). The JVP rules of the loops' linear
 * primitives, whose operands mix residuals of every dtype and tangents.
 */
export function jvpOfOperands(
  f: (ops: Array[]) => Array[],
  primals: readonly Array[],
  tangents: readonly Tangent[],
): Array[] {
  const idx = primals.flatMap((p, i) =>
    (tangents[i] ?? null) !== null && isFloat(p.dtype) ? [i] : [],
  );
  const g = (...d: Array[]): Array[] => {
    const ops = primals.slice();
    idx.forEach((i, k) => (ops[i] = d[k]!));
    return f(ops);
  };
  return jvp(
    g,
    idx.map((i) => primals[i]!),
    idx.map((i) => tangents[i]!),
  )[1];
}

let nextParamsId = 0;

/**
 * Gives loop parameters a short printed name (`scan#4`) where they appear
 * inside another equation's parameters (whileVjp's and scanVjp's `p`): a
 * non-enumerable toJSON, so the loop's own equation still prints its fields.
 */
export function namedParams<T extends object>(kind: string, params: T): T {
  const name = `${kind}#${nextParamsId++}`;
  Object.defineProperty(params, "toJSON", { value: () => name, enumerable: false });
  return params;
}

/** The output avals of a program. */
export function outAvalsOf(program: LoopProgram): Aval[] {
  return program.jaxpr.outVars.map((v) => ({ shape: v.shape, dtype: v.dtype }));
}

/**
 * Parameters of the `while` primitive. Its operands are the condition's
 * lifted values, the body's lifted values, then the carry leaves.
 */
export interface WhileParams {
  /** The lax function that staged the loop (for error messages). */
  readonly source: string;
  readonly cond: LoopProgram;
  readonly body: LoopProgram;
  /** Shapes and dtypes of the carry leaves. */
  readonly carry: readonly Aval[];
}
