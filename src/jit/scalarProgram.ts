/**
 * Compilation of scalar programs (every value 0-d, every operation
 * elementwise) with loop rerolling.
 *
 * Tracing a JS loop unrolls it: W1's grad is a block of equations repeated
 * N times forwards, then another block repeated N times backwards. Emitted as
 * straight-line code that is N copies of the same statements, which costs
 * instruction-cache misses and compile time. This pass finds runs of
 * repeated blocks and emits them as loops again.
 *
 * Values live in one Float64Array `s` (slot i for input i, slot nIn + e for
 * equation e), so a block can address its operands by index. Equation
 * s0 + k P + j of a run repeats equation s0 + j when it applies the same
 * primitive with the same parameters and every operand's slot is affine in
 * k: slot(k) = slot(0) + k d (d = P for the previous block's values, -P when
 * a backward pass walks the forward values in reverse, 0 for a fixed value).
 * Operands computed earlier in the same iteration are read from locals.
 *
 * Like codegen.ts, the source holds only generated identifiers, numeric
 * literals and fixed library names.
 */
import { ConcreteArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import type { AnyPrimitive } from "../core/primitive.js";
import type { Jaxpr, JaxprEqn, Var } from "../ir/jaxpr.js";
import { paramsKey } from "../ir/passes.js";
import type { CompiledProgram } from "./codegen.js";
import {
  elementExpr,
  helperBindings,
  helpersOf,
  isElementwise,
  numberLiteral,
} from "./lowering.js";

/** Straight-line statements per chunk function (V8 limits function size). */
const CHUNK_STATEMENTS = 2000;
/** Longest block looked for, and the fewest repetitions worth a loop. */
const MAX_PERIOD = 64;
const MIN_REPEATS = 3;

/** True when every value of the program is 0-d and every equation elementwise. */
export function isScalarProgram(jaxpr: Jaxpr): boolean {
  const scalar = (v: Var) => v.shape.length === 0;
  return jaxpr.inVars.every(scalar) && jaxpr.constVars.every(scalar) && scalarEqns(jaxpr.eqns);
}

/** Whether every equation is elementwise with a 0-d result (an index loop: no closure per equation). */
function scalarEqns(eqns: readonly JaxprEqn[]): boolean {
  for (let e = 0; e < eqns.length; e++) {
    const eqn = eqns[e]!;
    if (eqn.out.shape.length !== 0 || !isElementwise(eqn.prim)) return false;
  }
  return true;
}

/*
 * The loops over every equation below are functions of their own that return
 * right after the loop. In a fresh process V8 compiles a long-running loop by
 * on-stack replacement, which compiles the whole enclosing function; code
 * after the loop that has never run then deoptimises it, and a function with
 * several loops was compiled again for each. Small functions are compiled
 * once, and cheaply.
 */

/**
 * Where each equation's operands start in the flat operand list (n + 1
 * entries, into argStart), and more than every equation's output id (returned).
 */
function argStartsAndBound(eqns: readonly JaxprEqn[], argStart: Int32Array): number {
  let bound = 0;
  for (let e = 0; e < eqns.length; e++) {
    const eqn = eqns[e]!;
    argStart[e + 1] = argStart[e]! + eqn.inputs.length;
    if (eqn.out.id >= bound) bound = eqn.out.id + 1;
  }
  return bound;
}

/**
 * One sweep in program order: every equation's operands as integers (see
 * compileScalarJaxpr) into argRef, the first and last equation reading each
 * equation's output (firstUse n and lastUse -1 when none does), and each
 * equation's own slot into slotOf (operands are defined before they are read).
 */
function fillArgRefsAndUses(
  eqns: readonly JaxprEqn[],
  nIn: number,
  argStart: Int32Array,
  argRef: Int32Array,
  slotOf: Int32Array,
  literalOf: Int32Array,
  firstUse: Int32Array,
  lastUse: Int32Array,
): void {
  for (let e = 0; e < eqns.length; e++) {
    const eqn = eqns[e]!;
    const inputs = eqn.inputs;
    const start = argStart[e]!;
    for (let m = 0; m < inputs.length; m++) {
      const id = inputs[m]!.id;
      const lit = literalOf[id]!;
      const r = lit >= 0 ? -(lit + 1) : slotOf[id]!;
      argRef[start + m] = r;
      if (r >= nIn) {
        if (e > lastUse[r - nIn]!) lastUse[r - nIn] = e;
        if (e < firstUse[r - nIn]!) firstUse[r - nIn] = e;
      }
    }
    slotOf[eqn.out.id] = nIn + e;
  }
}

/**
 * Per equation, an integer that is equal for two equations exactly when they
 * apply the same primitive with the same parameters to give the same dtype.
 * Parameter objects are looked up by identity first (equations of one traced
 * primitive usually share theirs), so the parameter string is built once
 * per distinct object, not once per equation.
 */
function signatureIds(eqns: readonly JaxprEqn[]): Int32Array {
  const sig = new Int32Array(eqns.length);
  const byKey = new Map<string, number>();
  const byIdentity = new Map<AnyPrimitive, Map<unknown, Map<DType, number>>>();
  for (let k = 0; k < eqns.length; k++) {
    const e = eqns[k]!;
    let byParams = byIdentity.get(e.prim);
    if (byParams === undefined) {
      byParams = new Map<unknown, Map<DType, number>>();
      byIdentity.set(e.prim, byParams);
    }
    // The dtype is part of the identity key: one parameter object may serve several dtypes.
    let byDtype = byParams.get(e.params);
    if (byDtype === undefined) {
      byDtype = new Map<DType, number>();
      byParams.set(e.params, byDtype);
    }
    let id = byDtype.get(e.out.dtype);
    if (id === undefined) {
      const key = `${e.prim.name}|${paramsKey(e.params)}|${e.out.dtype}`;
      id = byKey.get(key);
      if (id === undefined) byKey.set(key, (id = byKey.size));
      byDtype.set(e.out.dtype, id);
    }
    sig[k] = id;
  }
  return sig;
}

export function compileScalarJaxpr(jaxpr: Jaxpr): CompiledProgram {
  const eqns = jaxpr.eqns;
  const n = eqns.length;
  const nIn = jaxpr.inVars.length;
  // Slots and literals by variable id, in typed arrays (-1: none).
  const argStart = new Int32Array(n + 1);
  let bound = argStartsAndBound(eqns, argStart);
  for (const v of jaxpr.inVars) bound = Math.max(bound, v.id + 1);
  for (const v of jaxpr.constVars) bound = Math.max(bound, v.id + 1);
  const slotOf = new Int32Array(bound).fill(-1);
  jaxpr.inVars.forEach((v, i) => (slotOf[v.id] = i));

  // Operands as integers: r >= 0 is slot r of `s`, r < 0 is literal -(r + 1).
  const literals: string[] = [];
  const literalId = new Map<string, number>();
  const literalOf = new Int32Array(bound).fill(-1);
  jaxpr.constVars.forEach((v, i) => {
    const text = numberLiteral(jaxpr.consts[i]!.concrete("jit").scalarValue);
    let id = literalId.get(text);
    if (id === undefined) {
      id = literals.length;
      literals.push(text);
      literalId.set(text, id);
    }
    literalOf[v.id] = id;
  });
  const refOf = (v: Var): number => {
    const lit = literalOf[v.id]!;
    return lit >= 0 ? -(lit + 1) : slotOf[v.id]!;
  };
  // Index loops, no closures per equation: this runs once per program, mostly
  // before V8 has optimised it (a program's first jit in a process).
  const argRef = new Int32Array(argStart[n]!);
  // Users of each equation's output, to skip stores of values only used inside their iteration.
  const lastUse = new Int32Array(n).fill(-1);
  const firstUse = new Int32Array(n).fill(n);
  fillArgRefsAndUses(eqns, nIn, argStart, argRef, slotOf, literalOf, firstUse, lastUse);
  // Equations repeat each other only with the same signature (interned to an integer).
  const sig = signatureIds(eqns);

  /**
   * Does equation b repeat equation a? Operand m's slot delta goes to (or is
   * checked against, when `check`) deltas[offset + m]. Literals must be equal.
   */
  const matches = (
    a: number,
    b: number,
    deltas: Int32Array,
    offset: number,
    check: boolean,
  ): boolean => {
    if (sig[a] !== sig[b]) return false;
    const count = argStart[a + 1]! - argStart[a]!;
    for (let m = 0; m < count; m++) {
      const x = argRef[argStart[a]! + m]!;
      const y = argRef[argStart[b]! + m]!;
      // Literals match only themselves (delta 0); slots by their difference.
      let d = 0;
      if (x < 0 || y < 0) {
        if (x !== y) return false;
      } else d = y - x;
      if (!check) deltas[offset + m] = d;
      else if (deltas[offset + m] !== d) return false;
    }
    return true;
  };

  /** The longest run of a repeated block starting at i, with its operand deltas. */
  const findRun = (i: number): { period: number; repeats: number; deltas: Int32Array } | null => {
    let best: { period: number; repeats: number; deltas: Int32Array } | null = null;
    for (let p = 1; p <= MAX_PERIOD && i + 2 * p <= n; p++) {
      if (sig[i] !== sig[i + p]) continue;
      // A multiple of the best period found repeats the same block (a loop over
      // two iterations at a time) and covers no more: checking it would
      // re-read the whole run once per multiple.
      if (best !== null && p % best.period === 0) continue;
      const deltas = new Int32Array(argStart[i + p]! - argStart[i]!);
      let ok = true;
      for (let j = 0; j < p && ok; j++) {
        ok = matches(i + j, i + p + j, deltas, argStart[i + j]! - argStart[i]!, false);
      }
      if (!ok) continue;
      let repeats = 2;
      while (i + (repeats + 1) * p <= n) {
        const base = i + repeats * p;
        let all = true;
        for (let j = 0; j < p && all; j++) {
          all = matches(base - p + j, base + j, deltas, argStart[i + j]! - argStart[i]!, true);
        }
        if (!all) break;
        repeats++;
      }
      if (repeats >= MIN_REPEATS && (best === null || repeats * p > best.repeats * best.period)) {
        best = { period: p, repeats, deltas };
      }
    }
    return best;
  };

  const isOutput = new Uint8Array(n);
  for (const v of jaxpr.outVars) {
    const slot = slotOf[v.id]!;
    if (slot >= nIn) isOutput[slot - nIn] = 1;
  }

  const element = (e: number, operands: string[]): string => {
    const eqn = eqns[e]!;
    return elementExpr(eqn, operands);
  };
  const plain = (r: number): string => (r < 0 ? literals[-r - 1]! : `s[${r}]`);
  const operandsOf = (e: number): number[] =>
    globalThis.Array.from(argRef.subarray(argStart[e], argStart[e + 1]));

  const statements: string[] = [];
  // A function that returns right after its loop (see the note above argStarts).
  const emit = (): void => {
    for (let i = 0; i < n;) {
      const run = findRun(i);
      if (run === null) {
        statements.push(`  s[${nIn + i}] = ${element(i, operandsOf(i).map(plain))};\n`);
        i++;
        continue;
      }
      const { period: p, repeats, deltas } = run;
      let body = "";
      // Values carried from one iteration to the next stay in locals c<j>:
      // initialised before the loop, updated at the end of each iteration.
      const carried = new Map<number, number>();
      for (let j = 0; j < p; j++) {
        const e = i + j;
        const offset = argStart[e]! - argStart[i]!;
        const operands = operandsOf(e).map((r, m) => {
          if (r < 0) return literals[-r - 1]!;
          const d = deltas[offset + m]!;
          if (d === p) {
            const producer = r - nIn - i;
            // Computed earlier in the same iteration: a local.
            if (producer >= 0 && producer < j) return `t${producer}`;
            // Computed by the previous iteration (or, for k = 0, just before the loop): a carry.
            const prev = producer + p;
            if (prev >= 0 && prev < p) {
              carried.set(prev, r);
              return `c${prev}`;
            }
          }
          if (d === 0) return `s[${r}]`;
          return `s[${r} + k * ${numberLiteral(d)}]`;
        });
        body += `    const t${j} = ${element(e, operands)};\n`;
        // Store unless every use of every instance is later in the same iteration.
        const last = i + (repeats - 1) * p + j;
        const onlyLocal =
          !isOutput[e] &&
          !isOutput[last] &&
          firstUse[e]! > e &&
          lastUse[e]! < i + p &&
          lastUse[last]! < i + repeats * p &&
          lastUse[last]! - last === lastUse[e]! - e;
        if (!onlyLocal) body += `    s[${nIn + e} + k * ${p}] = t${j};\n`;
      }
      let init = "";
      for (const [j, slot] of carried) {
        init += `  let c${j} = s[${slot}];\n`;
        body += `    c${j} = t${j};\n`;
      }
      const loop = `  for (let k = 0; k < ${repeats}; k++) {\n${body}  }\n`;
      // One statement (a block when there are carries), so chunking never splits it.
      statements.push(init === "" ? loop : `  {\n${init}${loop}  }\n`);
      i += p * repeats;
    }
  };
  emit();

  const helpers = helpersOf(eqns);
  let source = `"use strict";\n${helperBindings(helpers)}`;
  const numChunks = Math.ceil(statements.length / CHUNK_STATEMENTS);
  for (let c = 0; c < numChunks; c++) {
    source += `function chunk${c}(s) {\n${statements.slice(c * CHUNK_STATEMENTS, (c + 1) * CHUNK_STATEMENTS).join("")}}\n`;
  }
  const results = jaxpr.outVars.map((v) => plain(refOf(v)));
  source +=
    `return function program(s) {\n` +
    globalThis.Array.from({ length: numChunks }, (_, c) => `  chunk${c}(s);\n`).join("") +
    `  return [${results.join(", ")}];\n};\n`;

  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated code, see the header
  const factory = new Function("H", source) as (
    helpers: ReadonlyMap<string, (...args: number[]) => number>,
  ) => (s: Float64Array) => number[];
  const program = factory(helpers);
  const s = new Float64Array(nIn + eqns.length);
  const outAvals = jaxpr.outVars;
  return {
    source,
    run(inputs) {
      for (let i = 0; i < nIn; i++) s[i] = inputs[i]!.scalarValue;
      const values = program(s);
      return values.map((v, i) => ConcreteArray.scalar(v, outAvals[i]!.dtype));
    },
  };
}
