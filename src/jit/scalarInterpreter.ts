/**
 * The first tier of a jitted scalar program (every value 0-d, every equation
 * elementwise: what `isScalarProgram` accepts): the program run by a small
 * interpreter, with no code generation.
 *
 * Why: a program jitted and called once (the first call in a process, a
 * jit made inside a function) paid for code generation that never paid
 * back. For W1's jit(grad(f)) at N = 1,000 (12,998 equations) generating
 * and compiling the JavaScript took about 11 ms of a first call of about
 * 88 ms, and the generated code then ran once, in V8's interpreter. Like
 * V8's own tiers, jit now interprets a scalar program on its first eager
 * call (`runScalarJaxprOnce`: one pass over the equations, no plan) and
 * compiles it (scalarProgram.ts) on its second. The first call went from
 * 88–98 to 78–89 ms wall (medians of 9 fresh processes, alternated, on
 * this project's shared 2-core machine), 69–75 to 59–68 ms under
 * `node --no-opt` (docs/design.md, "The first jit call, round 6: tiers";
 * every number in docs/benchmarks.md). The interpreter is also the
 * fallback for scalar programs where generating code is forbidden (a
 * Content-Security-Policy without 'unsafe-eval'): W1's gradient in 217 µs
 * a call, against 27 µs compiled and 3,449 µs through evalJaxpr.
 *
 * For programs run many times without code generation,
 * `interpretScalarJaxpr` builds a plan first, in typed arrays: per
 * equation its element function (the one compiled code calls,
 * `elementFunction` in lowering.ts: the rule's `scalar`, or its int32
 * part), its operand slots, and its rounding (`ROUNDING`, castExpr's as a
 * code). Values live in one Float64Array: inputs, then constants, then one
 * slot per equation, in program order.
 * The interpreter knows nothing of any primitive, so both tiers give the
 * same bits: each equation applies the same function and the same rounding
 * as the compiled statement.
 */
import { ConcreteArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import type { Jaxpr, JaxprEqn } from "../ir/jaxpr.js";
import type { CompiledProgram } from "./codegen.js";
import { ROUNDING, elementFunction, elementFunctionIfAny, isElementwise } from "./lowering.js";

type ElementFunction = (...args: number[]) => number;

/*
 * As in scalarProgram.ts, each loop over every equation is a function of its
 * own that returns right after the loop (V8's on-stack replacement compiles
 * the whole enclosing function).
 */

/**
 * Where each equation's operands start in the operand list (n + 1 entries,
 * into argStart), and more than every equation's result id (returned); -1
 * when an equation is not 0-d and elementwise (not a scalar program).
 */
function scanEquations(eqns: readonly JaxprEqn[], argStart: Int32Array): number {
  let bound = 0;
  for (let e = 0; e < eqns.length; e++) {
    const eqn = eqns[e]!;
    if (eqn.out.shape.length !== 0 || !isElementwise(eqn.prim)) return -1;
    if (eqn.out.id >= bound) bound = eqn.out.id + 1;
    argStart[e + 1] = argStart[e]! + eqn.inputs.length;
  }
  return bound;
}

/**
 * Fills the plan in program order: operand slots from argStart's offsets
 * on (slotOf maps a variable id to its slot; operands are defined before
 * they are read), element functions and roundings; equation e's result
 * goes to slot base + e.
 */
function planEquations(
  eqns: readonly JaxprEqn[],
  base: number,
  slotOf: Int32Array,
  argStart: Int32Array,
  args: Int32Array,
  fns: ElementFunction[],
  rounding: Uint8Array,
): void {
  for (let e = 0; e < eqns.length; e++) {
    const eqn = eqns[e]!;
    const inputs = eqn.inputs;
    const start = argStart[e]!;
    for (let m = 0; m < inputs.length; m++) args[start + m] = slotOf[inputs[m]!.id]!;
    fns[e] = elementFunction(eqn);
    rounding[e] = ROUNDING[eqn.out.dtype];
    slotOf[eqn.out.id] = base + e;
  }
}

/** Runs the plan over the slots `s` (inputs and constants already in place). */
function runEquations(
  s: Float64Array,
  base: number,
  argStart: Int32Array,
  args: Int32Array,
  fns: readonly ElementFunction[],
  rounding: Uint8Array,
): void {
  for (let e = 0; e < fns.length; e++) {
    const f = fns[e]!;
    const a = argStart[e]!;
    let v: number;
    switch (argStart[e + 1]! - a) {
      case 1:
        v = f(s[args[a]!]!);
        break;
      case 2:
        v = f(s[args[a]!]!, s[args[a + 1]!]!);
        break;
      case 3:
        v = f(s[args[a]!]!, s[args[a + 1]!]!, s[args[a + 2]!]!);
        break;
      default: {
        const operands: number[] = [];
        for (let k = a; k < argStart[e + 1]!; k++) operands.push(s[args[k]!]!);
        v = f(...operands);
      }
    }
    s[base + e] = rounded(v, rounding[e]!);
  }
}

/**
 * One run of the scalar program `jaxpr` on `inputs`, straight from its
 * equations: no plan is built (the first tier runs a program once, so a plan
 * would be read once). Values live in a Float64Array indexed by variable id
 * (a trace numbers its variables densely from 0; the array grows when an id
 * is past its end). Each equation applies the same element function and the
 * same rounding as the plan and the compiled statement, so the bits are the
 * same. Undefined, before anything is computed that matters, when `jaxpr` is
 * not a scalar program (some value not 0-d, some equation not elementwise).
 */
export function runScalarJaxprOnce(
  jaxpr: Jaxpr,
  inputs: readonly ConcreteArray[],
  idBound: number,
): ConcreteArray[] | undefined {
  const { inVars, constVars, outVars } = jaxpr;
  let bound = idBound;
  for (let i = 0; i < inVars.length; i++) {
    if (inVars[i]!.shape.length !== 0) return undefined;
    if (inVars[i]!.id >= bound) bound = inVars[i]!.id + 1;
  }
  for (let c = 0; c < constVars.length; c++) {
    if (constVars[c]!.shape.length !== 0) return undefined;
    if (constVars[c]!.id >= bound) bound = constVars[c]!.id + 1;
  }
  const vals = new Float64Array(bound);
  for (let i = 0; i < inVars.length; i++) vals[inVars[i]!.id] = inputs[i]!.scalarValue;
  for (let c = 0; c < constVars.length; c++) {
    vals[constVars[c]!.id] = jaxpr.consts[c]!.concrete("jit").scalarValue;
  }
  const values = walkEquations(jaxpr.eqns, vals);
  if (values === undefined) return undefined;
  const outs: ConcreteArray[] = [];
  for (let k = 0; k < outVars.length; k++) {
    outs.push(ConcreteArray.scalar(values[outVars[k]!.id]!, outVars[k]!.dtype));
  }
  return outs;
}

/**
 * Applies each equation in program order to the values by id in `vals`;
 * returns the values (a larger copy if an id was past the end), or
 * undefined at the first equation that is not 0-d and elementwise.
 */
function walkEquations(eqns: readonly JaxprEqn[], vals: Float64Array): Float64Array | undefined {
  let s = vals;
  for (let e = 0; e < eqns.length; e++) {
    const eqn = eqns[e]!;
    const out = eqn.out;
    const f = out.shape.length === 0 ? elementFunctionIfAny(eqn) : undefined;
    if (f === undefined) return undefined;
    const inputs = eqn.inputs;
    let v: number;
    switch (inputs.length) {
      case 1:
        v = f(s[inputs[0]!.id]!);
        break;
      case 2:
        v = f(s[inputs[0]!.id]!, s[inputs[1]!.id]!);
        break;
      case 3:
        v = f(s[inputs[0]!.id]!, s[inputs[1]!.id]!, s[inputs[2]!.id]!);
        break;
      default: {
        const operands: number[] = [];
        for (let k = 0; k < inputs.length; k++) operands.push(s[inputs[k]!.id]!);
        v = f(...operands);
      }
    }
    if (out.id >= s.length) {
      const larger = new Float64Array(Math.max(2 * s.length, out.id + 1));
      larger.set(s);
      s = larger;
    }
    // float64 (code 0) needs no rounding: no call for it.
    const code = ROUNDING[out.dtype];
    s[out.id] = code === 0 ? v : rounded(v, code);
  }
  return s;
}

/** castExpr's rounding (lowering.ts) as `ROUNDING` codes it, applied to a value. */
function rounded(v: number, code: number): number {
  switch (code) {
    case 1:
      return Math.fround(v);
    case 2:
      return v | 0;
    case 3:
      return v ? 1 : 0;
    default:
      return v;
  }
}

/**
 * The scalar program `jaxpr` as an interpreted program (its `source` is
 * empty: no code is generated), or undefined when it is not a scalar program
 * (some value not 0-d, some equation not elementwise).
 */
export function interpretScalarJaxpr(jaxpr: Jaxpr): CompiledProgram | undefined {
  const { inVars, constVars, eqns, outVars } = jaxpr;
  const nIn = inVars.length;
  const base = nIn + constVars.length;
  const argStart = new Int32Array(eqns.length + 1);
  let bound = scanEquations(eqns, argStart);
  if (bound < 0) return undefined;
  for (const v of [...inVars, ...constVars]) {
    if (v.shape.length !== 0) return undefined;
    bound = Math.max(bound, v.id + 1);
  }

  // Slots: inputs, constants (written once, here), then one per equation.
  const s = new Float64Array(base + eqns.length);
  const slotOf = new Int32Array(bound).fill(-1);
  inVars.forEach((v, i) => (slotOf[v.id] = i));
  constVars.forEach((v, c) => {
    slotOf[v.id] = nIn + c;
    s[nIn + c] = jaxpr.consts[c]!.concrete("jit").scalarValue;
  });
  const args = new Int32Array(argStart[eqns.length]!);
  const fns = new globalThis.Array<ElementFunction>(eqns.length);
  const rounding = new Uint8Array(eqns.length);
  planEquations(eqns, base, slotOf, argStart, args, fns, rounding);

  const outSlots = Int32Array.from(outVars, (v) => slotOf[v.id]!);
  const outDtypes: DType[] = outVars.map((v) => v.dtype);
  return {
    source: "",
    run(inputs) {
      for (let i = 0; i < nIn; i++) s[i] = inputs[i]!.scalarValue;
      runEquations(s, base, argStart, args, fns, rounding);
      const outs: ConcreteArray[] = [];
      for (let k = 0; k < outSlots.length; k++) {
        outs.push(ConcreteArray.scalar(s[outSlots[k]!]!, outDtypes[k]!));
      }
      return outs;
    },
  };
}
