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
