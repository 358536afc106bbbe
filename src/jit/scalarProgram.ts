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
import { roundHalfEven } from "../backends/scalar.js";
import { type Jaxpr, type Var, VarMap } from "../ir/jaxpr.js";
import { paramsKey } from "../ir/passes.js";
import type { CompiledProgram } from "./codegen.js";
import { ELEMENTWISE, castExpr, numberLiteral } from "./lowering.js";

/** Straight-line statements per chunk function (V8 limits function size). */
const CHUNK_STATEMENTS = 2000;
/** Longest block looked for, and the fewest repetitions worth a loop. */
const MAX_PERIOD = 64;
const MIN_REPEATS = 3;

/** True when every value of the program is 0-d and every equation elementwise. */
export function isScalarProgram(jaxpr: Jaxpr): boolean {
  const scalar = (v: Var) => v.shape.length === 0;
  return (
    jaxpr.inVars.every(scalar) &&
    jaxpr.constVars.every(scalar) &&
    jaxpr.eqns.every((e) => ELEMENTWISE[e.prim.name] !== undefined && scalar(e.out))
  );
}

/** An operand: a slot of `s`, or a literal. */
type Ref = { slot: number } | { literal: string };

export function compileScalarJaxpr(jaxpr: Jaxpr): CompiledProgram {
  const eqns = jaxpr.eqns;
  const nIn = jaxpr.inVars.length;
  const slotOf = new VarMap<number>();
  jaxpr.inVars.forEach((v, i) => slotOf.set(v, i));
  eqns.forEach((e, i) => slotOf.set(e.out, nIn + i));
  const literalOf = new VarMap<string>();
  jaxpr.constVars.forEach((v, i) => {
    const c = jaxpr.consts[i]!.concrete("jit");
    literalOf.set(v, numberLiteral(c.scalarValue));
  });
  const refOf = (v: Var): Ref => {
    const lit = literalOf.get(v);
    return lit !== undefined ? { literal: lit } : { slot: slotOf.get(v)! };
  };
  const refs: Ref[][] = eqns.map((e) => e.inputs.map(refOf));
  const sig: string[] = eqns.map(
    (e) => `${e.prim.name}|${paramsKey(e.params)}|${e.out.dtype}|${e.inputs.length}`,
  );

  /** Do equations a and b (b = a + P) match, with operand slot deltas `deltas` (filled if null)? */
  const matches = (
    a: number,
    b: number,
    deltas: (number | null)[] | null,
  ): (number | null)[] | null => {
    if (sig[a] !== sig[b]) return null;
    const ra = refs[a]!;
    const rb = refs[b]!;
    const out: (number | null)[] = [];
    for (let m = 0; m < ra.length; m++) {
      const x = ra[m]!;
      const y = rb[m]!;
      if ("literal" in x || "literal" in y) {
        if (!("literal" in x && "literal" in y && x.literal === y.literal)) return null;
        out.push(null);
        continue;
      }
      const d = y.slot - x.slot;
      if (deltas !== null && deltas[m] !== d) return null;
      out.push(d);
    }
    return out;
  };

  /** The longest run of a repeated block starting at i: [period, repeats, deltas per block eqn]. */
  const findRun = (
    i: number,
  ): { period: number; repeats: number; deltas: (number | null)[][] } | null => {
    let best: { period: number; repeats: number; deltas: (number | null)[][] } | null = null;
    for (let p = 1; p <= MAX_PERIOD && i + 2 * p <= eqns.length; p++) {
      if (sig[i] !== sig[i + p]) continue;
      const deltas: (number | null)[][] = [];
      let ok = true;
      for (let j = 0; j < p && ok; j++) {
        const d = matches(i + j, i + p + j, null);
        if (d === null) ok = false;
        else deltas.push(d);
      }
      if (!ok) continue;
      let repeats = 2;
      while (i + (repeats + 1) * p <= eqns.length) {
        const base = i + repeats * p;
        let all = true;
        for (let j = 0; j < p && all; j++) {
          if (matches(base - p + j, base + j, deltas[j]!) === null) all = false;
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

  // Users of each equation's output, to skip stores of values only used inside their iteration.
  const lastUse = new Int32Array(eqns.length).fill(-1);
  const firstUse = new Int32Array(eqns.length).fill(eqns.length);
  refs.forEach((rs, e) =>
    rs.forEach((r) => {
      if ("slot" in r && r.slot >= nIn) {
        const d = r.slot - nIn;
        lastUse[d] = Math.max(lastUse[d]!, e);
        firstUse[d] = Math.min(firstUse[d]!, e);
      }
    }),
  );
  const isOutput = new Uint8Array(eqns.length);
  for (const v of jaxpr.outVars) {
    const s = slotOf.get(v);
    if (s !== undefined && s >= nIn) isOutput[s - nIn] = 1;
  }

  const element = (e: number, operands: string[]): string => {
    const eqn = eqns[e]!;
    return castExpr(ELEMENTWISE[eqn.prim.name]!(operands, eqn.params), eqn.out.dtype);
  };
  const plain = (r: Ref): string => ("literal" in r ? r.literal : `s[${r.slot}]`);

  const statements: string[] = [];
  for (let i = 0; i < eqns.length;) {
    const run = findRun(i);
    if (run === null) {
      statements.push(`  s[${nIn + i}] = ${element(i, refs[i]!.map(plain))};\n`);
      i++;
      continue;
    }
    const { period: p, repeats, deltas } = run;
    let body = "";
    for (let j = 0; j < p; j++) {
      const e = i + j;
      const operands = refs[e]!.map((r, m) => {
        if ("literal" in r) return r.literal;
        const d = deltas[j]![m]!;
        // Computed earlier in the same iteration: a local.
        const producer = r.slot - nIn - i;
        if (d === p && producer >= 0 && producer < j) return `t${producer}`;
        if (d === 0) return `s[${r.slot}]`;
        return `s[${r.slot} + k * ${numberLiteral(d)}]`;
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
    statements.push(`  for (let k = 0; k < ${repeats}; k++) {\n${body}  }\n`);
    i += p * repeats;
  }

  let source = '"use strict";\n';
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
  const factory = new Function("roundHalfEven", source) as (
    round: (x: number) => number,
  ) => (s: Float64Array) => number[];
  const program = factory(roundHalfEven);
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
