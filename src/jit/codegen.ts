/**
 * Compiles a traced program to JavaScript source: one specialised function
 * per program. 0-d values live in locals as JS numbers (straight-line code,
 * what the seeds call "generating the adjoint program"); chains of
 * elementwise array operations become one fused loop over TypedArrays,
 * including a full sum that follows them; other primitives call their own
 * `impl` from the compiled code (a multi-output primitive's kernel returns
 * a list, unpacked into one local per output).
 *
 * Long programs are split into chunk functions of at most CHUNK_EQNS
 * equations (V8 rejects functions with a very large number of locals); values
 * that cross chunks go through slot arrays. Everything here is iterative.
 *
 * Security: the source contains only generated identifiers (v12, t3, c0),
 * numeric literals and fixed library names (Math.sin). Shapes, parameters and
 * user data reach compiled code only as values passed in arrays.
 */
import { type Array, ConcreteArray } from "../core/array.js";
import { type TypedArray, isFloat } from "../core/dtype.js";
import { shapeSize, shapesEqual } from "../core/shape.js";
import { type Jaxpr, type JaxprEqn, type Var, eqnOutputs } from "../ir/jaxpr.js";
import {
  TYPED_ARRAY_NAME,
  castExpr,
  elementExpr,
  helperBindings,
  helpersOf,
  isElementwise,
  numberLiteral,
} from "./lowering.js";
import { PAIRWISE_BLOCK, PairwiseAccumulator } from "../backends/pairwiseSum.js";
import { lowerGroupToWasm, productLayout } from "./wasmLowering.js";

const CHUNK_EQNS = 1000;
/**
 * At most this many array-level units (fused loops, kernel calls) per chunk:
 * V8 optimises a hot loop by on-stack replacement, which compiles the whole
 * enclosing function, so a function holding hundreds of loops is compiled
 * again and again (a 300-step program took seconds per call). Small chunks
 * keep each compilation small; scalar code still packs 1,000 equations.
 */
const CHUNK_ARRAY_UNITS = 8;

/** A compiled value: a JS number for 0-d arrays, a TypedArray otherwise. */
type Value = number | TypedArray;
type Kernel = (...args: Value[]) => Value | Value[];

export interface CompiledProgram {
  /** Runs the program on concrete inputs (one per input variable). */
  run(inputs: readonly ConcreteArray[]): ConcreteArray[];
  /** The generated JavaScript source. */
  readonly source: string;
}

/** A unit of generated code: one equation, or a fused group of them. */
export type Unit =
  | { kind: "scalar"; eqn: number }
  | { kind: "kernel"; eqn: number }
  | { kind: "alias"; eqn: number }
  | { kind: "group"; eqns: number[]; shape: readonly number[] };

function isScalar(v: Var): boolean {
  return v.shape.length === 0;
}

/** A broadcast of a non-scalar array (scalar ones are fused into loops instead). */
function isArrayBroadcast(e: JaxprEqn): boolean {
  return e.prim.name === "broadcastInDim" && !isScalar(e.inputs[0]!);
}

/**
 * A broadcast as nested loops over the output, reading the input at
 * sum_d j_d * stride_d, where output axis d has the stride of the input axis
 * it comes from (0 for new axes and for size-1 axes being repeated). Only
 * numbers (sizes, strides) and generated names enter the source.
 */
function emitBroadcast(e: JaxprEqn, input: string, output: string, id: number): string {
  const { shape, dims } = e.params as { shape: readonly number[]; dims: readonly number[] };
  const inShape = e.inputs[0]!.shape;
  const strides = shape.map(() => 0);
  let stride = 1;
  for (let i = inShape.length - 1; i >= 0; i--) {
    if (inShape[i] !== 1) strides[dims[i]!] = stride;
    stride *= inShape[i]!;
  }
  const n = shapeSize(shape);
  let code = `  const ${output} = new ${TYPED_ARRAY_NAME[e.out.dtype]}(${n});\n  {\n    let o = 0;\n`;
  let base = "0";
  let indent = "    ";
  shape.forEach((size, d) => {
    const j = `j${id}_${d}`;
    const b = `b${id}_${d}`;
    code += `${indent}for (let ${j} = 0; ${j} < ${size}; ${j}++) {\n`;
    indent += "  ";
    code += `${indent}const ${b} = ${base} + ${j} * ${strides[d]};\n`;
    base = b;
  });
  code += `${indent}${output}[o++] = ${input}[${base}];\n`;
  for (let d = shape.length; d > 0; d--) {
    indent = indent.slice(2);
    code += `${indent}}\n`;
  }
  return `${code}  }\n`;
}

function toValue(x: Array): Value {
  const c = x.concrete("jit");
  return c.shape.length === 0 ? c.scalarValue : c.buffer;
}

function toConcrete(v: Value, aval: Var): ConcreteArray {
  return typeof v === "number"
    ? ConcreteArray.scalar(v, aval.dtype)
    : new ConcreteArray(aval.shape, aval.dtype, v);
}

/**
 * Partitions the equations into code units, fusing runs of elementwise array
 * equations of one shape (and full sums of them) into groups. A group is
 * emitted where it closes, so an equation that reads a group's result
 * closes the group first. The webgpu backend's jit lowering
 * (backends/webgpu/jitLowering.ts) fuses the same groups into WGSL shaders.
 */
export function planUnits(jaxpr: Jaxpr, opts: { arrayBroadcasts?: boolean } = {}): Unit[] {
  const eqns = jaxpr.eqns;
  const units: Unit[] = [];
  /** The open group: its equations, shape, results, and the running sums it accumulates. */
  type Group = { eqns: number[]; shape: readonly number[]; defined: Set<Var>; sums: Set<Var> };
  let group: Group | null = null;
  const open = (): Group | null => group;
  const close = () => {
    if (group !== null) units.push({ kind: "group", eqns: group.eqns, shape: group.shape });
    group = null;
  };
  for (let i = 0; i < eqns.length; i++) {
    const e = eqns[i]!;
    const name = e.prim.name;
    const elementwise = isElementwise(e.prim);
    // Broadcasts of arrays join groups only where the caller reads operands
    // by computed index (the webgpu lowering); the JS loops read them flat.
    const fusedBroadcast =
      name === "broadcastInDim" && (isScalar(e.inputs[0]!) || opts.arrayBroadcasts === true);
    const fitsShape = (shape: readonly number[]) =>
      fusedBroadcast || e.inputs.every((v) => isScalar(v) || shapesEqual(v.shape, shape));
    // A sum is complete only after its loop: an equation reading it closes the group.
    if (e.inputs.some((v) => open()?.sums.has(v) === true)) close();
    const g = open();
    if ((elementwise || fusedBroadcast) && !isScalar(e.out)) {
      if (g !== null && shapesEqual(g.shape, e.out.shape) && fitsShape(g.shape)) {
        g.eqns.push(i);
        g.defined.add(e.out);
        continue;
      }
      if (fitsShape(e.out.shape)) {
        close();
        group = { eqns: [i], shape: e.out.shape, defined: new Set([e.out]), sums: new Set() };
        continue;
      }
    }
    // A full sum of a group member joins the group as an accumulator.
    if (name === "reduceSum" && g !== null && isScalar(e.out) && g.defined.has(e.inputs[0]!)) {
      g.eqns.push(i);
      g.defined.add(e.out);
      g.sums.add(e.out);
      continue;
    }
    if (g !== null && e.inputs.some((v) => g.defined.has(v))) close();
    if (elementwise && isScalar(e.out) && e.inputs.every(isScalar)) {
      units.push({ kind: "scalar", eqn: i });
    } else if (name === "reshape" && !isScalar(e.out) && !isScalar(e.inputs[0]!)) {
      units.push({ kind: "alias", eqn: i });
    } else {
      close();
      units.push({ kind: "kernel", eqn: i });
    }
  }
  close();
  return units;
}

export function compileJaxpr(jaxpr: Jaxpr): CompiledProgram {
  const eqns = jaxpr.eqns;
  // Compact names for every variable.
  const index = new Map<Var, number>();
  const name = (v: Var): string => {
    let k = index.get(v);
    if (k === undefined) {
      k = index.size;
      index.set(v, k);
    }
    return `v${k}`;
  };
  const users = new Map<Var, number[]>();
  eqns.forEach((e, i) =>
    e.inputs.forEach((v) => {
      const list = users.get(v);
      if (list === undefined) users.set(v, [i]);
      else list.push(i);
    }),
  );
  const outputs = new Set(jaxpr.outVars);

  // Constants: 0-d ones become literals, others are passed in C.
  const literal = new Map<Var, string>();
  const constSlot = new Map<Var, number>();
  const constValues: Value[] = [];
  jaxpr.constVars.forEach((v, i) => {
    const c = jaxpr.consts[i]!;
    if (c instanceof ConcreteArray && c.shape.length === 0) {
      literal.set(v, numberLiteral(c.scalarValue));
    } else {
      constSlot.set(v, constValues.length);
      constValues.push(toValue(c));
    }
  });
  const inputSlot = new Map<Var, number>();
  jaxpr.inVars.forEach((v, i) => inputSlot.set(v, i));

  const units = planUnits(jaxpr);
  const unitOf = new Int32Array(eqns.length);
  units.forEach((u, k) => {
    if (u.kind === "group") for (const e of u.eqns) unitOf[e] = k;
    else unitOf[u.eqn] = k;
  });

  // Chunks of units.
  const chunkOfUnit = new Int32Array(units.length);
  let chunk = 0;
  let count = 0;
  let arrayUnits = 0;
  units.forEach((u, k) => {
    const size = u.kind === "group" ? u.eqns.length : 1;
    const isArrayUnit = u.kind === "group" || u.kind === "kernel";
    if (
      count > 0 &&
      (count + size > CHUNK_EQNS || (isArrayUnit && arrayUnits >= CHUNK_ARRAY_UNITS))
    ) {
      chunk++;
      count = 0;
      arrayUnits = 0;
    }
    chunkOfUnit[k] = chunk;
    count += size;
    if (isArrayUnit) arrayUnits++;
  });
  const numChunks = units.length === 0 ? 0 : chunk + 1;
  const definingEqn = new Map<Var, number>();
  eqns.forEach((e, i) => eqnOutputs(e).forEach((v) => definingEqn.set(v, i)));
  const chunkOfVar = (v: Var): number => {
    const e = definingEqn.get(v);
    return e === undefined ? -1 : chunkOfUnit[unitOf[e]!]!;
  };

  // A matrix product read only by one later group is handed to that group:
  // the Wasm lowering may compute it in place (wasmLowering.ts). It then
  // counts as part of the group's unit, so that its operands are passed to
  // the group's chunk (and its result to no other).
  const productOfGroup = new Map<number, number>();
  units.forEach((u, k) => {
    if (u.kind !== "kernel" || productLayout(eqns[u.eqn]!) === null) return;
    const v = eqns[u.eqn]!.out;
    const readers = new Set((users.get(v) ?? []).map((i) => unitOf[i]!));
    const [g] = readers;
    if (outputs.has(v) || readers.size !== 1 || g === undefined || g <= k) return;
    if (units[g]!.kind === "group") productOfGroup.set(g, u.eqn);
  });
  const deferred = new Set(productOfGroup.values());
  for (const [g, e] of productOfGroup) unitOf[e] = g;

  // Slots for values that cross chunks or are outputs.
  const scalarSlot = new Map<Var, number>();
  const objectSlot = new Map<Var, number>();
  const needsSlot = (v: Var): boolean => {
    if (!definingEqn.has(v)) return false;
    if (outputs.has(v)) return true;
    const c = chunkOfVar(v);
    return (users.get(v) ?? []).some((i) => chunkOfUnit[unitOf[i]!] !== c);
  };
  for (const e of eqns) {
    for (const v of eqnOutputs(e)) {
      if (!needsSlot(v)) continue;
      if (isScalar(v)) scalarSlot.set(v, scalarSlot.size);
      else objectSlot.set(v, objectSlot.size);
    }
  }
  const store = (v: Var): string => {
    const s = isScalar(v) ? scalarSlot.get(v) : objectSlot.get(v);
    if (s === undefined) return "";
    return isScalar(v) ? `  S[${s}] = ${name(v)};\n` : `  O[${s}] = ${name(v)};\n`;
  };

  const kernels: Kernel[] = [];
  const kernelFor = (e: JaxprEqn): number => {
    const prim = e.prim;
    const params = e.params;
    const avals = e.inputs;
    const fromConcrete = (out: ConcreteArray): Value =>
      out.shape.length === 0 ? out.scalarValue : out.buffer;
    kernels.push((...args: Value[]) => {
      const concrete = args.map((a, j) => toConcrete(a, avals[j]!));
      // The kernel of a multi-output primitive returns one value per output.
      if (prim.multipleResults === true) return prim.impl(concrete, params).map(fromConcrete);
      return fromConcrete(prim.impl(concrete, params));
    });
    return kernels.length - 1;
  };

  // Code of each chunk.
  const chunkBodies: string[][] = globalThis.Array.from({ length: numChunks }, () => []);
  const chunkLoads: Set<Var>[] = globalThis.Array.from({ length: numChunks }, () => new Set());
  /** A reference to v from code in chunk c (recording loads of outside values). */
  const ref = (v: Var, c: number): string => {
    const lit = literal.get(v);
    if (lit !== undefined) return lit;
    if (chunkOfVar(v) !== c) chunkLoads[c]!.add(v);
    return name(v);
  };

  units.forEach((u, k) => {
    const c = chunkOfUnit[k]!;
    const out = chunkBodies[c]!;
    if (u.kind === "scalar") {
      const e = eqns[u.eqn]!;
      const expr = elementExpr(
        e,
        e.inputs.map((v) => ref(v, c)),
      );
      out.push(`  const ${name(e.out)} = ${expr};\n${store(e.out)}`);
    } else if (u.kind === "alias") {
      const e = eqns[u.eqn]!;
      out.push(`  const ${name(e.out)} = ${ref(e.inputs[0]!, c)};\n${store(e.out)}`);
    } else if (u.kind === "kernel" && isArrayBroadcast(eqns[u.eqn]!)) {
      const e = eqns[u.eqn]!;
      out.push(emitBroadcast(e, ref(e.inputs[0]!, c), name(e.out), u.eqn) + store(e.out));
    } else if (u.kind === "kernel") {
      // a deferred product is emitted with the group that reads it
      if (!deferred.has(u.eqn)) out.push(emitKernel(u.eqn, c));
    } else {
      out.push(emitGroup(u, c, productOfGroup.get(k)));
    }
  });

  /** A call of equation i's kernel. */
  function emitKernel(i: number, c: number): string {
    const e = eqns[i]!;
    const kIdx = kernelFor(e);
    const call = `K[${kIdx}](${e.inputs.map((v) => ref(v, c)).join(", ")})`;
    if (e.outs === undefined) return `  const ${name(e.out)} = ${call};\n${store(e.out)}`;
    const list = `r${i}`;
    let code = `  const ${list} = ${call};\n`;
    e.outs.forEach((v, j) => (code += `  const ${name(v)} = ${list}[${j}];\n${store(v)}`));
    return code;
  }

  /**
   * A fused loop over the group's shape, after the call of `product` (a
   * deferred matrix product it reads) unless the Wasm kernel computes it.
   */
  function emitGroup(u: Extract<Unit, { kind: "group" }>, c: number, product?: number): string {
    const n = shapeSize(u.shape);
    const inGroup = new Set(u.eqns);
    const escapes = (v: Var) => outputs.has(v) || (users.get(v) ?? []).some((j) => !inGroup.has(j));
    // On the Wasm backend, one SIMD kernel (see wasmLowering.ts) where it covers the group.
    const wasm = lowerGroupToWasm(
      u.eqns.map((i) => eqns[i]!),
      n,
      escapes,
      product === undefined ? undefined : eqns[product],
    );
    const productCode =
      product === undefined || wasm?.fusedProduct === true ? "" : emitKernel(product, c);
    if (wasm !== null) {
      kernels.push(wasm.run);
      const g = `g${u.eqns[0]!}`;
      let code = `${productCode}  const ${g} = K[${kernels.length - 1}](${wasm.inputs.map((v) => ref(v, c)).join(", ")});\n`;
      wasm.outputs.forEach((v, j) => (code += `  const ${name(v)} = ${g}[${j}];\n${store(v)}`));
      return code;
    }
    const elem = new Map<Var, string>();
    let pre = "";
    let body = "";
    let post = "";
    const operand = (v: Var): string => {
      const local = elem.get(v);
      if (local !== undefined) return local;
      if (isScalar(v)) return ref(v, c);
      return `${ref(v, c)}[i]`;
    };
    for (const i of u.eqns) {
      const e = eqns[i]!;
      const t = `t${i}`;
      if (e.prim.name === "reduceSum") {
        const acc = `${name(e.out)}`;
        if (isFloat(e.out.dtype)) {
          // Pairwise in float64 (pairwiseSum.ts): blocks of PAIRWISE_BLOCK terms summed
          // in a local, full blocks merged by a PairwiseAccumulator, rounded once.
          const mask = PAIRWISE_BLOCK - 1;
          pre += `  let ${acc}b = 0;\n  const ${acc}p = new PairwiseAccumulator();\n`;
          body += `    ${acc}b += ${operand(e.inputs[0]!)};\n`;
          body += `    if ((i & ${mask}) === ${mask}) { ${acc}p.pushBlock(${acc}b); ${acc}b = 0; }\n`;
          post += `  const ${acc} = ${castExpr(`${acc}p.total(${acc}b)`, e.out.dtype)};\n`;
        } else {
          pre += `  let ${acc} = 0;\n`;
          body += `    ${acc} = ${castExpr(`${acc} + ${operand(e.inputs[0]!)}`, e.out.dtype)};\n`;
        }
        post += store(e.out);
        continue;
      }
      const expr =
        e.prim.name === "broadcastInDim"
          ? castExpr(operand(e.inputs[0]!), e.out.dtype)
          : elementExpr(e, e.inputs.map(operand));
      body += `    const ${t} = ${expr};\n`;
      elem.set(e.out, t);
      const usedOutside =
        outputs.has(e.out) || (users.get(e.out) ?? []).some((j) => !inGroup.has(j));
      if (usedOutside) {
        pre += `  const ${name(e.out)} = new ${TYPED_ARRAY_NAME[e.out.dtype]}(${n});\n`;
        body += `    ${name(e.out)}[i] = ${t};\n`;
        post += store(e.out);
      }
    }
    return `${productCode}${pre}  for (let i = 0; i < ${n}; i++) {\n${body}  }\n${post}`;
  }

  // Assemble: loads at the top of each chunk, then its body.
  const loadOf = (v: Var): string => {
    const s = inputSlot.get(v);
    if (s !== undefined) return `I[${s}]`;
    const cs = constSlot.get(v);
    if (cs !== undefined) return `C[${cs}]`;
    if (isScalar(v)) return `S[${scalarSlot.get(v)!}]`;
    return `O[${objectSlot.get(v)!}]`;
  };
  const helpers = helpersOf(eqns);
  let source = `"use strict";\n${helperBindings(helpers)}`;
  // An array slot is released after the last chunk that reads it (outputs are
  // read at the end), so a long program does not keep every intermediate alive.
  const releases: string[][] = globalThis.Array.from({ length: numChunks }, () => []);
  for (const [v, slot] of objectSlot) {
    if (outputs.has(v)) continue;
    let last = chunkOfVar(v);
    for (const i of users.get(v) ?? []) last = Math.max(last, chunkOfUnit[unitOf[i]!]!);
    releases[last]!.push(`  O[${slot}] = undefined;\n`);
  }
  for (let c = 0; c < numChunks; c++) {
    const loads = [...chunkLoads[c]!].map((v) => `  const ${name(v)} = ${loadOf(v)};\n`).join("");
    source += `function chunk${c}(I, C, K, S, O) {\n${loads}${chunkBodies[c]!.join("")}${releases[c]!.join("")}}\n`;
  }
  const results = jaxpr.outVars.map((v) => {
    const lit = literal.get(v);
    if (lit !== undefined) return lit;
    return loadOf(v);
  });
  source +=
    `return function program(I, C, K, S, O) {\n` +
    globalThis.Array.from({ length: numChunks }, (_, c) => `  chunk${c}(I, C, K, S, O);\n`).join(
      "",
    ) +
    `  return [${results.join(", ")}];\n};\n`;

  // Compiling generated code is the point of jit; the source holds only generated
  // identifiers and numeric literals (see the header).
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function("H", "PairwiseAccumulator", source) as (
    helpers: ReadonlyMap<string, (...args: number[]) => number>,
    pairwise: typeof PairwiseAccumulator,
  ) => (I: Value[], C: Value[], K: Kernel[], S: Float64Array, O: (Value | undefined)[]) => Value[];
  const program = factory(helpers, PairwiseAccumulator);
  const S = new Float64Array(scalarSlot.size);
  const O = new globalThis.Array<Value | undefined>(objectSlot.size);
  const outAvals = jaxpr.outVars;

  return {
    source,
    run(inputs) {
      const values = program(inputs.map(toValue), constValues, kernels, S, O);
      O.fill(undefined); // the outputs' slots: nothing stays alive between calls
      return values.map((v, i) => toConcrete(v, outAvals[i]!));
    },
  };
}
