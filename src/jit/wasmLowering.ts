/**
 * jit lowering to WebAssembly: a fused group of elementwise equations (plus
 * full sums of its members), as found by the array code generator
 * (codegen.ts `planUnits`), becomes one Wasm SIMD function instead of a JS
 * loop, when the active backend is "wasm", every value of the group is
 * float32 (or every value float64), and every primitive declares a vector
 * form (`prim.elementwise.vector`: add, sub, mul, div, neg, abs, sqrt, exp,
 * log, sin, cos, max, min, same-dtype converts, identity for stopGradient),
 * or is a broadcast of a scalar or a full sum. A group with any other
 * primitive (erf, say) stays the fused JS loop: the Wasm path's JS fallback.
 * Bool values may sit next to the float ones: comparisons (lt, le, gt, ge,
 * eq, ne), and/or/not, select, and converts between bool and the float
 * dtype. Inside the function a bool is a lane mask of the float lane width
 * (all ones: true, all zeros: false); bool arrays coming in or going out are
 * uint8 0/1, widened to masks on load and narrowed (a byte shuffle) on store.
 *
 * The function walks the arrays one 16-byte vector at a time: loads the
 * group's array inputs, computes each equation into a v128 local (the
 * transcendentals are inlined from backends/wasm/mathKernels.ts), stores
 * the results needed outside the group, and accumulates the sums in float64
 * lanes. The last partial vector runs the same body with the sums masked to
 * the valid lanes; its loads and stores fall in the 16 bytes of slack the
 * arena leaves after every block. Scalar operands are splatted once. A group
 * with several transcendentals runs in stages (planStages): blocks of
 * vectors go through one loop per stage, the values crossing stages kept in
 * a per-thread scratch area.
 *
 * Modules are cached by the group's structure (dtype, operations, operand
 * wiring, which values leave the group), so all shapes and all jitted
 * functions with the same chain share one compiled module. Inputs are copied
 * into the Wasm arena and results copied out (backends/wasm/runtime.ts).
 * Large groups are split into chunks that the calling thread and the
 * workers take from a shared counter (backends/wasm/threads.ts).
 *
 * Returns null (the caller emits its JS loop) for any other case: the JS
 * backend, a dtype or primitive not covered, small arrays, a runtime still
 * compiling, or an engine that refuses to compile the module.
 */
import { getBackend } from "../backends/index.js";
import { F64, I32, type Code, ModuleBuilder, Op, Simd, V128 } from "../backends/wasm/emitter.js";
import {
  type FloatDType,
  type MathOp,
  emitMathOps,
  importMathFunctions,
  mathImportObject,
} from "../backends/wasm/mathKernels.js";
import {
  MAX_PAGES,
  type WasmRuntime,
  alloc,
  resetArena,
  tryRuntime,
} from "../backends/wasm/runtime.js";
import {
  type SharedGroupModule,
  parallelGroup,
  sharedGroupModule,
  usableWorkers,
  wasmThreadCount,
} from "../backends/wasm/threads.js";
import { wasmBackend } from "../backends/wasm/backend.js";
import { ThreadGate } from "../backends/wasm/threadGate.js";
import type { TypedArray } from "../core/dtype.js";
import type { MatrixProductLayout } from "../core/primitive.js";
import { shapeSize } from "../core/shape.js";
import type { JaxprEqn, Var } from "../ir/jaxpr.js";

type Value = number | TypedArray;

/** A group lowered to Wasm: the values it reads and returns, and the function to call. */
export interface WasmGroupKernel {
  /** Values from outside the group, in argument order (arrays of the group's shape, 0-d values). */
  inputs: Var[];
  /** Array results needed outside the group, then the sums. */
  outputs: Var[];
  /** Runs the group on the inputs' values; returns the outputs' values. */
  run: (...args: Value[]) => Value[];
  /**
   * Whether the group computes the matrix product passed to
   * `lowerGroupToWasm` itself (then `inputs` starts with the product's two
   * operands, and the product's result is no input).
   */
  fusedProduct: boolean;
}

let minElements = 1024;
/**
 * Elements per kernel call on the calling thread alone: 64 KiB of float64
 * per array, so a chunk stays in cache between copy in, kernel and copy
 * out. Also the smallest chunk of a group split across threads (smaller
 * ones would cost more in hand-offs than they save).
 */
let chunkElements = 8192;
/**
 * Groups whose work (elements x cost per element, see `costPerElement`) is
 * at least this are split across the worker threads: about 2 ms of work on
 * one thread. Cheaper groups are memory-bound, and splitting them measured
 * slower (the SGD update of a 784 x 256 weight: 2.68 against 2.42 ms per W2 step).
 */
let parallelMinWork = 1 << 21;

/**
 * Whether a group computes a matrix product it reads in place (see
 * `lowerGroupToWasm`); off, the product is copied out and in again
 * (benchmarks and tests compare the two).
 */
let fuseProducts = true;

/** Chunks per thread of a split group: enough to even out threads of unequal speed. */
const CHUNKS_PER_THREAD = 8;

/** Transcendentals cost about 20 arithmetic vector operations each. */
const TRANSCENDENTAL_COST = 20;

/** The work of one element of a group, in arithmetic operations. */
function costPerElement(plan: Plan): number {
  return plan.steps.reduce((sum, step) => sum + (MATH.has(step.op) ? TRANSCENDENTAL_COST : 1), 0);
}

/**
 * Sets the smallest group (in elements) lowered to Wasm (smaller ones stay JS
 * loops), the elements per kernel call on the calling thread (and the
 * smallest chunk of a split group), and the smallest work (elements x
 * operations) split across worker threads, and whether groups compute the
 * matrix products they read in place (`fuseProducts`).
 */
export function configureWasmJit(options: {
  minElements?: number;
  chunkElements?: number;
  parallelMinWork?: number;
  fuseProducts?: boolean;
}): void {
  minElements = options.minElements ?? minElements;
  fuseProducts = options.fuseProducts ?? fuseProducts;
  parallelMinWork = options.parallelMinWork ?? parallelMinWork;
  // a whole number of 16-byte vectors of either dtype
  chunkElements = Math.max(4, Math.ceil((options.chunkElements ?? chunkElements) / 4) * 4);
}

type BinaryName = "add" | "sub" | "mul" | "div";
type UnaryName = "neg" | "abs" | "sqrt";
const VECTOR_BINARY: Record<FloatDType, Record<BinaryName, number>> = {
  float32: { add: Simd.f32x4_add, sub: Simd.f32x4_sub, mul: Simd.f32x4_mul, div: Simd.f32x4_div },
  float64: { add: Simd.f64x2_add, sub: Simd.f64x2_sub, mul: Simd.f64x2_mul, div: Simd.f64x2_div },
};
const VECTOR_UNARY: Record<FloatDType, Record<UnaryName, number>> = {
  float32: { neg: Simd.f32x4_neg, abs: Simd.f32x4_abs, sqrt: Simd.f32x4_sqrt },
  float64: { neg: Simd.f64x2_neg, abs: Simd.f64x2_abs, sqrt: Simd.f64x2_sqrt },
};
/** Opcodes by the names this file uses for them (from the table in backends/wasm/opcodes.ts). */
const F64X2_PROMOTE_LOW_F32X4 = Simd.f64x2_promote_low_f32x4;
const F64X2_LT = Simd.f64x2_lt;
const V128_BITSELECT = Simd.v128_bitselect;
const F64_CONVERT_I32_S = Op.f64_convert_i32_s;
const MATH = new Set(["exp", "log", "sin", "cos"]);
const IDENTITY = new Set(["identity", "convert"]);

/**
 * The operation a step of the plan performs: the primitive's declared vector
 * form (`prim.elementwise.vector`), a broadcast of a scalar (the identity on
 * its splatted operand), a full sum, or undefined (no Wasm form: the group
 * stays a JS loop).
 */
function stepOp(e: JaxprEqn): string | undefined {
  if (e.prim.name === "broadcastInDim") return "identity";
  if (e.prim.name === "reduceSum") return "reduceSum";
  return e.outs !== undefined ? undefined : e.prim.elementwise?.vector;
}

type CompareName = "eq" | "ne" | "lt" | "gt" | "le" | "ge";
/** Lane-wise comparisons: a mask per lane, false for any NaN operand except ne. */
const VECTOR_COMPARE: Record<FloatDType, Record<CompareName, number>> = {
  float32: {
    eq: Simd.f32x4_eq,
    ne: Simd.f32x4_ne,
    lt: Simd.f32x4_lt,
    gt: Simd.f32x4_gt,
    le: Simd.f32x4_le,
    ge: Simd.f32x4_ge,
  },
  float64: {
    eq: Simd.f64x2_eq,
    ne: Simd.f64x2_ne,
    lt: Simd.f64x2_lt,
    gt: Simd.f64x2_gt,
    le: Simd.f64x2_le,
    ge: Simd.f64x2_ge,
  },
};
/** Bitwise operations on masks (bool values). */
const V128_NOT = Simd.v128_not;
const MASK_BINARY: Record<string, number> = { and: Simd.v128_and, or: Simd.v128_or };
/** Widening and narrowing of bool bytes (SIMD spec numbering). */
const V128_LOAD16_SPLAT = Simd.v128_load16_splat;
const V128_LOAD32_ZERO = Simd.v128_load32_zero;
const I16X8_EXTEND_LOW_I8X16_U = Simd.i16x8_extend_low_i8x16_u;
const I32X4_EXTEND_LOW_I16X8_U = Simd.i32x4_extend_low_i16x8_u;
const I64X2_EXTEND_LOW_I32X4_U = Simd.i64x2_extend_low_i32x4_u;
const I32X4_SPLAT = Simd.i32x4_splat;
const I32X4_NE = Simd.i32x4_ne;
const I64X2_NE = Simd.i64x2_ne;
const I32X4_EXTRACT_LANE = Simd.i32x4_extract_lane;
const I32_STORE = Op.i32_store;
const I32_STORE16 = Op.i32_store16;
const I32_AND = Op.i32_and;
const I32_SHR_U = Op.i32_shr_u;

/** Whether a value of the plan is a float of the group's dtype ("f") or a bool mask ("b"). */
type Kind = "f" | "b";

/**
 * The kind of an equation's result from its operands' kinds, or null when the
 * lowering has no form for that combination.
 */
function resultKind(name: string, args: readonly Kind[]): Kind | null {
  const all = (k: Kind) => args.every((a) => a === k);
  if (name in VECTOR_BINARY.float64 || name in VECTOR_UNARY.float64 || MATH.has(name))
    return all("f") ? "f" : null;
  if (name === "max" || name === "min" || name === "reduceSum") return all("f") ? "f" : null;
  if (name in VECTOR_COMPARE.float64) return all("f") ? "b" : null;
  if (name in MASK_BINARY || name === "not") return all("b") ? "b" : null;
  if (name === "select") return args[0] === "b" && args[1] === "f" && args[2] === "f" ? "f" : null;
  if (name === "identity") return args[0]!;
  return null;
}

/** One step of the plan: an operation on earlier value ids. */
interface Step {
  op: string;
  args: number[];
}

/** The group's structure; its JSON is the module cache key. */
interface Plan {
  dtype: FloatDType;
  /** Kinds of the input values ("a" array, "s" scalar, "b" bool array); ids 0..inputs-1. */
  inputs: ("a" | "s" | "b")[];
  /** Steps; step j defines value id inputs.length + j. */
  steps: Step[];
  /** Value ids stored as array results. */
  stores: number[];
  /** Value ids summed. */
  sums: number[];
  /** Value ids that are bool (lane masks; uint8 in memory). */
  bools: number[];
}

/** Builds the plan of a group, or null when some part has no Wasm form. */
function planGroup(
  eqns: readonly JaxprEqn[],
  escapes: (v: Var) => boolean,
): { plan: Plan; inputs: Var[]; outputs: Var[] } | null {
  // The group's float dtype: the first float value met; every other value is of it or bool.
  // An all-bool group works in 4 lanes of 32 bits, as float32.
  const dtype =
    eqns
      .flatMap((e) => [e.out, ...e.inputs])
      .map((v) => v.dtype)
      .find((d) => d !== "bool") ?? "float32";
  if (dtype !== "float32" && dtype !== "float64") return null;
  const kindOf = (v: Var): Kind | null =>
    v.dtype === "bool" ? "b" : v.dtype === dtype ? "f" : null;
  const defined = new Set<Var>();
  const inputs: Var[] = [];
  for (const e of eqns) {
    const name = stepOp(e);
    if (name === undefined) return null;
    const argKinds = e.inputs.map(kindOf);
    const outKind = kindOf(e.out);
    if (outKind === null || argKinds.includes(null)) return null;
    // convert: same dtype, or between bool and the float dtype (both ways)
    const kind = name === "convert" ? outKind : resultKind(name, argKinds as Kind[]);
    if (kind !== outKind) return null;
    for (const v of e.inputs) {
      if (defined.has(v) || inputs.includes(v)) continue;
      // bool scalars from outside have no Wasm form here
      if (v.dtype === "bool" && v.shape.length === 0) return null;
      inputs.push(v);
    }
    defined.add(e.out);
  }
  // Value ids: inputs 0..inputs.length-1 (also their parameter indices), then one per step.
  const ids = new Map<Var, number>(inputs.map((v, k) => [v, k]));
  const plan: Plan = {
    dtype,
    inputs: inputs.map((v) => (v.dtype === "bool" ? "b" : v.shape.length === 0 ? "s" : "a")),
    steps: [],
    stores: [],
    sums: [],
    bools: inputs.flatMap((v, id) => (v.dtype === "bool" ? [id] : [])),
  };
  const outputs: Var[] = [];
  const sumVars: Var[] = [];
  eqns.forEach((e, j) => {
    const id = inputs.length + j;
    const args = e.inputs.map((v) => ids.get(v)!);
    plan.steps.push({ op: stepOp(e)!, args });
    ids.set(e.out, id);
    if (e.out.dtype === "bool") plan.bools.push(id);
    if (e.prim.name === "reduceSum") {
      plan.sums.push(args[0]!);
      sumVars.push(e.out);
    } else if (escapes(e.out)) {
      plan.stores.push(id);
      outputs.push(e.out);
    }
  });
  outputs.push(...sumVars);
  return { plan, inputs, outputs };
}

/**
 * A run of consecutive steps [first, end) emitted as one loop body, with
 * the values it reads from earlier stages (`loads`) and writes for later
 * ones (`spills`), each by scratch slot; `owns(id)`: whether the stores and
 * sums of value id are emitted in this body.
 */
interface BodyScope {
  first: number;
  end: number;
  loads: ReadonlyMap<number, number>;
  spills: ReadonlyMap<number, number>;
  owns: (id: number) => boolean;
  /** The scratch parameter and the local with this vector's byte offset in it (staged bodies). */
  scratch?: { ptr: number; offset: number; slotBytes: number };
}

/** All steps in one body (no scratch). */
function wholeBody(plan: Plan): BodyScope {
  return {
    first: 0,
    end: plan.steps.length,
    loads: new Map(),
    spills: new Map(),
    owns: () => true,
  };
}

/** The array inputs a body reads: arguments of its steps, and its stores and sums. */
function usedInputs(plan: Plan, scope: BodyScope): Set<number> {
  const used = new Set<number>();
  const nIn = plan.inputs.length;
  for (let j = scope.first; j < scope.end; j++)
    for (const a of plan.steps[j]!.args) if (a < nIn) used.add(a);
  for (const id of [...plan.stores, ...plan.sums]) if (id < nIn && scope.owns(id)) used.add(id);
  return used;
}

/**
 * Splits the steps into stages of at most one transcendental each (sin and
 * cos of one argument, which share their range reduction, count once).
 * Each stage then runs as its own loop over a block of vectors, the values
 * that cross stages passing through a small scratch area that stays in the
 * L1 cache. Measured on 2^20 float64 elements (bench/math-fusion.ts),
 * exp(2 sin x + 1) took 9.8 ms as one loop body and 8.0 ms as two loops;
 * unrolling the fused body did not help. Returns the stage boundaries
 * (the first step of each stage).
 */
function planStages(plan: Plan): number[] {
  const starts = [0];
  let math: Step[] = [];
  plan.steps.forEach((step, j) => {
    if (!MATH.has(step.op)) return;
    const pairsWithOne = math.some(
      (t) =>
        t.args[0] === step.args[0] &&
        ((t.op === "sin" && step.op === "cos") || (t.op === "cos" && step.op === "sin")),
    );
    if (math.length > 0 && !(math.length === 1 && pairsWithOne)) {
      starts.push(j);
      math = [];
    }
    math.push(step);
  });
  return starts;
}

/** Vectors per block of a staged group: 4 KiB per value crossing stages. */
const STAGE_BLOCK_VECTORS = 256;

/**
 * Wasm function `group(arrayPtrs..., scalars..., outPtrs..., sumsPtr,
 * scratchPtr, nFull, rem)`. `scratchBytes` of scratch (per thread) are
 * needed at scratchPtr when the group has several stages (see planStages).
 */
function buildModule(plan: Plan, shared: boolean): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder();
  const imports = importMathFunctions(mb);
  mb.importMemory({ module: "env", field: "memory", initial: 1, maximum: MAX_PAGES, shared });
  const f32 = plan.dtype === "float32";
  const params: (typeof I32 | typeof F64)[] = [];
  for (const k of plan.inputs) params.push(k === "s" ? F64 : I32);
  for (let j = 0; j < plan.stores.length; j++) params.push(I32);
  params.push(I32, I32, I32, I32);
  const sumsPtr = params.length - 4;
  const scratchPtr = params.length - 3;
  const nFull = params.length - 2;
  const rem = params.length - 1;
  const stages = stagesOf(plan);

  mb.addFunction("group", params, [], (c) => {
    const off = c.local(I32);
    const i = c.local(I32);
    const acc = plan.sums.map(() => c.local(V128));
    const splats = new Map<number, number>();
    plan.inputs.forEach((k, id) => {
      if (k !== "s") return;
      const l = c.local(V128);
      c.get(id);
      if (f32) c.op(Op.f32_demote_f64).simd(Simd.f32x4_splat);
      else c.simd(Simd.f64x2_splat);
      c.set(l);
      splats.set(id, l);
    });
    for (const a of acc) {
      c.f64(0).simd(Simd.f64x2_splat).set(a);
    }
    const body = (masked: boolean, scope?: BodyScope) =>
      emitBody(c, plan, splats, acc, off, masked, rem, imports, scope);
    c.i32(0).set(off).i32(0).set(i);
    if (stages.length === 1) {
      c.forLoop(i, nFull, 1, () => body(false));
    } else {
      // Blocks of STAGE_BLOCK_VECTORS vectors; each stage loops over the block.
      const blockEnd = c.local(I32);
      const v = c.local(I32);
      const scratchOffset = c.local(I32);
      const blockOff = c.local(I32);
      c.forLoop(i, nFull, STAGE_BLOCK_VECTORS, () => {
        // blockEnd = min(i + STAGE_BLOCK_VECTORS, nFull)
        c.get(i).i32(STAGE_BLOCK_VECTORS).op(Op.i32_add).get(nFull);
        c.get(i).i32(STAGE_BLOCK_VECTORS).op(Op.i32_add).get(nFull).op(Op.i32_lt_s);
        c.op(Op.select).set(blockEnd);
        c.get(off).set(blockOff);
        for (const stage of stages) {
          c.get(blockOff).set(off).i32(0).set(scratchOffset);
          c.get(i).set(v);
          c.forLoop(v, blockEnd, 1, () =>
            body(false, {
              ...stage,
              scratch: {
                ptr: scratchPtr,
                offset: scratchOffset,
                slotBytes: 16 * STAGE_BLOCK_VECTORS,
              },
            }),
          );
        }
      });
    }
    c.get(rem).i32(0).op(Op.i32_gt_s).if();
    body(true);
    c.end();
    // Horizontal sums.
    acc.forEach((a, j) => {
      c.get(sumsPtr);
      c.get(a).simd(Simd.f64x2_extract_lane).bytes.push(0);
      c.get(a).simd(Simd.f64x2_extract_lane).bytes.push(1);
      c.op(Op.f64_add).mem(Op.f64_store, 3, 8 * j);
    });
  });
  return mb.finish();
}

/** The stages of a plan as body scopes (without their scratch place), in order. */
function stagesOf(plan: Plan): BodyScope[] {
  const starts = planStages(plan);
  if (starts.length === 1) return [wholeBody(plan)];
  const nIn = plan.inputs.length;
  const stageOf = (id: number): number => {
    if (id < nIn) return 0;
    let s = 0;
    while (s + 1 < starts.length && starts[s + 1]! <= id - nIn) s++;
    return s;
  };
  // Scratch slots: one per value read in a later stage than its own.
  const slots = new Map<number, number>();
  plan.steps.forEach((step, j) => {
    for (const a of step.args)
      if (a >= nIn && stageOf(a) < stageOf(nIn + j) && !slots.has(a)) slots.set(a, slots.size);
  });
  return starts.map((first, s) => {
    const end = s + 1 < starts.length ? starts[s + 1]! : plan.steps.length;
    const loads = new Map<number, number>();
    const spills = new Map<number, number>();
    for (const [id, slot] of slots) {
      if (stageOf(id) === s) spills.set(id, slot);
      else if (
        stageOf(id) < s &&
        plan.steps.slice(first, end).some((step) => step.args.includes(id))
      )
        loads.set(id, slot);
    }
    return { first, end, loads, spills, owns: (id: number) => stageOf(id) === s };
  });
}

/** Scratch bytes per thread for a plan's group function. */
function scratchBytesOf(plan: Plan): number {
  const stages = stagesOf(plan);
  const slots = stages.reduce((n, st) => n + st.spills.size, 0);
  return slots * 16 * STAGE_BLOCK_VECTORS;
}

/** One vector of the group: loads, steps, stores, sum updates; then off += 16. */
function emitBody(
  c: Code,
  plan: Plan,
  splats: ReadonlyMap<number, number>,
  acc: readonly number[],
  off: number,
  masked: boolean,
  rem: number,
  imports: ReturnType<typeof importMathFunctions>,
  scope: BodyScope = wholeBody(plan),
): void {
  const dtype = plan.dtype;
  const f32 = dtype === "float32";
  const local = new Map<number, number>(splats);
  /** Results computed ahead by a sin/cos pair, by step index. */
  const shared = new Map<number, number>();
  // Parameter index of each array input: inputs keep their ids as parameter indices.
  const bools = new Set(plan.bools);
  /** Byte offset of this vector's first element in a bool (uint8) array. */
  const boolOffset = () =>
    c
      .get(off)
      .i32(f32 ? 2 : 3)
      .op(I32_SHR_U);
  const used = usedInputs(plan, scope);
  plan.inputs.forEach((k, id) => {
    if (k === "s" || !used.has(id)) return;
    const l = c.local(V128);
    if (k === "a") {
      c.get(id).get(off).op(Op.i32_add).simdMem(Simd.v128_load, 0).set(l);
    } else {
      // uint8 0/1 bytes widened to the lane width, then compared with 0 into a mask
      c.get(id);
      boolOffset().op(Op.i32_add);
      c.simdMem(f32 ? V128_LOAD32_ZERO : V128_LOAD16_SPLAT, 0);
      c.simd(I16X8_EXTEND_LOW_I8X16_U).simd(I32X4_EXTEND_LOW_I16X8_U);
      if (!f32) c.simd(I64X2_EXTEND_LOW_I32X4_U);
      c.i32(0).simd(I32X4_SPLAT);
      c.simd(f32 ? I32X4_NE : I64X2_NE).set(l);
    }
    local.set(id, l);
  });
  /** A vector of `x` in every lane of the float dtype. */
  const splat = (x: number) => {
    if (f32) c.f32(x).simd(Simd.f32x4_splat);
    else c.f64(x).simd(Simd.f64x2_splat);
  };
  const compare = (name: CompareName) => c.simd(VECTOR_COMPARE[dtype][name]);
  // Values of earlier stages, from this thread's scratch.
  const scratch = scope.scratch;
  for (const [id, slot] of scope.loads) {
    const l = c.local(V128);
    c.get(scratch!.ptr).get(scratch!.offset).op(Op.i32_add);
    c.simdMem(Simd.v128_load, 0, slot * scratch!.slotBytes).set(l);
    local.set(id, l);
  }
  plan.steps.forEach((s, j) => {
    if (j < scope.first || j >= scope.end) return;
    const id = plan.inputs.length + j;
    const args = s.args.map((a) => local.get(a)!);
    const argBool = bools.has(s.args[0]!);
    if (s.op === "convert" && argBool !== bools.has(id)) {
      const out = c.local(V128);
      if (argBool) {
        // bool -> float: 1.0 where the mask is set (the mask's bits and 1.0's bits)
        c.get(args[0]!);
        splat(1);
        c.simd(MASK_BINARY.and!);
      } else {
        // float -> bool: x != 0 and not NaN, i.e. x < 0 or x > 0
        c.get(args[0]!);
        splat(0);
        compare("lt");
        c.get(args[0]!);
        splat(0);
        compare("gt");
        c.simd(MASK_BINARY.or!);
      }
      c.set(out);
      local.set(id, out);
      return;
    }
    if (IDENTITY.has(s.op) || s.op === "reduceSum") {
      local.set(id, args[0]!);
      return;
    }
    const simple = (emit: () => void) => {
      const out = c.local(V128);
      emit();
      c.set(out);
      local.set(id, out);
    };
    if (s.op in VECTOR_COMPARE[dtype]) {
      simple(() =>
        c
          .get(args[0]!)
          .get(args[1]!)
          .simd(VECTOR_COMPARE[dtype][s.op as CompareName]),
      );
      return;
    }
    if (s.op in MASK_BINARY) {
      simple(() => c.get(args[0]!).get(args[1]!).simd(MASK_BINARY[s.op]!));
      return;
    }
    if (s.op === "not") {
      simple(() => c.get(args[0]!).simd(V128_NOT));
      return;
    }
    if (s.op === "select") {
      // select(p, a, b) = p ? a : b: bitselect keeps a's bits where the mask is set
      simple(() => c.get(args[1]!).get(args[2]!).get(args[0]!).simd(V128_BITSELECT));
      return;
    }
    if (s.op === "max" || s.op === "min") {
      // As the JS loop: a if (a >= b for max, a <= b for min) or a is NaN, else b;
      // this keeps NaN and the sign of equal zeros as the JS backend does.
      simple(() => {
        c.get(args[0]!).get(args[1]!);
        c.get(args[0]!).get(args[1]!);
        compare(s.op === "max" ? "ge" : "le");
        c.get(args[0]!).get(args[0]!);
        compare("ne");
        c.simd(MASK_BINARY.or!).simd(V128_BITSELECT);
      });
      return;
    }
    if (s.op in VECTOR_BINARY[dtype] || s.op in VECTOR_UNARY[dtype]) {
      const out = c.local(V128);
      if (s.op in VECTOR_BINARY[dtype]) {
        c.get(args[0]!)
          .get(args[1]!)
          .simd(VECTOR_BINARY[dtype][s.op as BinaryName]);
      } else {
        c.get(args[0]!).simd(VECTOR_UNARY[dtype][s.op as UnaryName]);
      }
      c.set(out);
      local.set(id, out);
    } else {
      const early = shared.get(j);
      if (early !== undefined) {
        local.set(id, early);
        return;
      }
      // sin and cos of one argument share their range reduction.
      const other = s.op === "sin" ? "cos" : s.op === "cos" ? "sin" : undefined;
      const partner = plan.steps.findIndex(
        (t, k) => k > j && k < scope.end && t.op === other && t.args[0] === s.args[0],
      );
      const ops = (partner > j ? [s.op, other] : [s.op]) as MathOp[];
      const results = emitMathOps(c, ops, dtype, args[0]!, imports);
      if (partner > j) shared.set(partner, results[1]!);
      local.set(id, results[0]!);
    }
  });
  // Values later stages read, to this thread's scratch.
  for (const [id, slot] of scope.spills) {
    c.get(scratch!.ptr).get(scratch!.offset).op(Op.i32_add).get(local.get(id)!);
    c.simdMem(Simd.v128_store, 0, slot * scratch!.slotBytes);
  }
  const firstOut = plan.inputs.length;
  plan.stores.forEach((id, j) => {
    if (!scope.owns(id)) return;
    c.get(firstOut + j);
    if (!bools.has(id)) {
      c.get(off).op(Op.i32_add);
      c.get(local.get(id)!).simdMem(Simd.v128_store, 0);
      return;
    }
    // a mask to uint8 0/1: the first byte of each lane, gathered into lane 0, masked to bit 0
    boolOffset().op(Op.i32_add);
    const m = local.get(id)!;
    const first = f32 ? [0, 4, 8, 12] : [0, 8, 0, 0];
    c.get(m)
      .get(m)
      .shuffle([...first, ...new Array<number>(12).fill(0)]);
    c.simd(I32X4_EXTRACT_LANE).bytes.push(0);
    c.i32(f32 ? 0x01010101 : 0x0101).op(I32_AND);
    c.mem(f32 ? I32_STORE : I32_STORE16, 0);
  });
  // Sums in float64 lanes; in the masked tail only lanes < rem count.
  const halves = f32 ? [0, 2] : [0];
  plan.sums.forEach((id, j) => {
    if (!scope.owns(id)) return;
    const a = acc[j]!;
    for (const first of halves) {
      c.get(a);
      if (f32) {
        c.get(local.get(id)!);
        if (first === 2)
          c.get(local.get(id)!).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]);
        c.simd(F64X2_PROMOTE_LOW_F32X4);
      } else {
        c.get(local.get(id)!);
      }
      if (masked) {
        // keep lanes whose element index (first, first + 1) is < rem
        c.f64(0).simd(Simd.f64x2_splat);
        c.simd(Simd.v128_const);
        c.bytes.push(...new Uint8Array(new Float64Array([first, first + 1]).buffer));
        c.get(rem).op(F64_CONVERT_I32_S).simd(Simd.f64x2_splat);
        c.simd(F64X2_LT).simd(V128_BITSELECT);
      }
      c.simd(Simd.f64x2_add).set(a);
    }
  });
  c.inc(off, 16);
  if (scratch !== undefined) c.inc(scratch.offset, 16);
}

type GroupFn = (...args: number[]) => void;
/** A compiled group: its function here, and its bytes for worker threads. */
interface CompiledGroup {
  fn: GroupFn;
  shared: SharedGroupModule;
}
/** Compiled groups by plan (JSON), for the runtime's memory; null: refused. */
const moduleCache = new Map<string, CompiledGroup | null>();
let cachedFor: WasmRuntime | undefined;

function compiledGroup(plan: Plan, rt: WasmRuntime): CompiledGroup | null {
  if (cachedFor !== rt) {
    moduleCache.clear();
    cachedFor = rt;
  }
  const key = JSON.stringify(plan);
  let compiled = moduleCache.get(key);
  if (compiled === undefined) {
    try {
      const bytes = buildModule(plan, rt.shared);
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
        env: { memory: rt.memory },
        ...mathImportObject(),
      });
      compiled = { fn: instance.exports.group as GroupFn, shared: sharedGroupModule(bytes) };
    } catch {
      // e.g. a browser main thread refusing synchronous compilation
      compiled = null;
    }
    moduleCache.set(key, compiled);
  }
  return compiled;
}

/** Number of distinct group modules compiled so far (for tests of the cache). */
export function wasmGroupModuleCount(): number {
  return [...moduleCache.values()].filter((f) => f !== null).length;
}

/**
 * Lowers a fused group of `n`-element equations to a Wasm kernel, or returns
 * null for the JS loop. `escapes(v)`: whether v is read outside the group.
 */
export function lowerGroupToWasm(
  eqns: readonly JaxprEqn[],
  n: number,
  escapes: (v: Var) => boolean,
  product?: JaxprEqn,
): WasmGroupKernel | null {
  if (getBackend() !== "wasm" || n < minElements || n === 0) return null;
  const rt = tryRuntime();
  if (rt === undefined) return null;
  const planned = planGroup(eqns, escapes);
  if (planned === null) return null;
  const { plan, inputs, outputs } = planned;
  const compiled = compiledGroup(plan, rt);
  if (compiled === null) return null;
  // The product's result as an input of the group: read where the product
  // leaves it in the arena instead of being copied out and in again.
  const fused =
    product === undefined || !fuseProducts ? -1 : fusedProductInput(product, plan, inputs, n);
  const fn = compiled.fn;
  const f32 = plan.dtype === "float32";
  const bytes = f32 ? 4 : 8;
  const lanes = 16 / bytes;
  const boolValues = new Set(plan.bools);
  const view = (ptr: number, count: number, bool: boolean): TypedArray =>
    bool
      ? new Uint8Array(rt.memory.buffer, ptr, count)
      : f32
        ? new Float32Array(rt.memory.buffer, ptr, count)
        : new Float64Array(rt.memory.buffer, ptr, count);
  const storeBool = plan.stores.map((id) => boolValues.has(id));
  const nSums = plan.sums.length;
  const cost = costPerElement(plan);
  const scratchBytes = scratchBytesOf(plan);

  /** Arena blocks for `count` elements of every array input and output, and `sumSets` sets of sums. */
  interface Blocks {
    inPtrs: number[];
    outPtrs: number[];
    sumsPtr: number;
  }
  const allocBlocks = (count: number, sumSets: number): Blocks => ({
    inPtrs: plan.inputs.map((k) =>
      k === "a" ? alloc(rt, count * bytes) : k === "b" ? alloc(rt, count) : 0,
    ),
    outPtrs: plan.stores.map((_, j) => alloc(rt, storeBool[j] ? count : count * bytes)),
    sumsPtr: alloc(rt, 8 * nSums * sumSets),
  });
  /**
   * The group function's arguments: inputs (addresses or scalars), outputs,
   * sums, scratch, whole vectors, tail.
   */
  const callArgs = (blocks: Blocks, args: Value[], scratchPtr: number): number[] => [
    ...plan.inputs.map((k, j) => (k === "s" ? (args[j] as number) : blocks.inPtrs[j]!)),
    ...blocks.outPtrs,
    blocks.sumsPtr,
    scratchPtr,
    0,
    0,
  ];
  /** Copies elements [lo, lo + count) of the array inputs into `blocks` at element `to`. */
  const copyIn = (blocks: Blocks, args: Value[], lo: number, count: number, to = 0): void =>
    plan.inputs.forEach((k, j) => {
      if (k === "s" || typeof args[j] === "number") return;
      const ptr = blocks.inPtrs[j]! + to * (k === "b" ? 1 : bytes);
      view(ptr, count, k === "b").set((args[j] as TypedArray).subarray(lo, lo + count));
    });
  /** Copies `count` results from `blocks` at element `from` into the outputs at `lo`. */
  const copyOut = (
    blocks: Blocks,
    results: TypedArray[],
    from: number,
    lo: number,
    count: number,
  ): void =>
    results.forEach((out, j) => {
      const ptr = blocks.outPtrs[j]! + from * (storeBool[j] ? 1 : bytes);
      out.set(view(ptr, count, storeBool[j]!), lo);
    });
  /** Adds `sets` consecutive sets of partial sums at `sumsPtr` to `sums`, in order. */
  const addSums = (sums: Float64Array, sumsPtr: number, sets: number): void => {
    const partial = new Float64Array(rt.memory.buffer, sumsPtr, nSums * sets);
    for (let c = 0; c < sets; c++)
      for (let j = 0; j < nSums; j++) sums[j]! += partial[c * nSums + j]!;
  };

  /** The chunk size of a call split across the calling thread and `workers` workers. */
  const sharedChunk = (workers: number): number => {
    const perThread = Math.ceil(n / (CHUNKS_PER_THREAD * (workers + 1)) / lanes) * lanes;
    return Math.max(chunkElements, perThread);
  };

  /**
   * On the calling thread alone, chunk by chunk. With `chunk` equal to a
   * threaded call's chunk size, the partial sums (one per chunk, added in
   * chunk order) and so the results are the same bits as that call's.
   */
  const runHere = (
    args: Value[],
    results: TypedArray[],
    sums: Float64Array,
    chunk = Math.min(n, chunkElements),
  ): void => {
    const blocks = allocBlocks(chunk, 1);
    const argv = callArgs(blocks, args, alloc(rt, scratchBytes));
    for (let start = 0; start < n; start += chunk) {
      const count = Math.min(chunk, n - start);
      // an input already in the arena (a fused product) is read in place
      if (fused >= 0 && typeof args[fused] === "number") argv[fused] = args[fused] + start * bytes;
      copyIn(blocks, args, start, count);
      const nFull = Math.floor(count / lanes);
      argv[argv.length - 2] = nFull;
      argv[argv.length - 1] = count - nFull * lanes;
      fn(...argv);
      copyOut(blocks, results, 0, start, count);
      addSums(sums, blocks.sumsPtr, 1);
    }
  };

  /**
   * On the calling thread and `workers` workers: every thread takes chunks
   * (about 8 per thread, so that a thread slowed down by the host takes
   * fewer) from a shared counter. The caller first copies the inputs in,
   * chunk by chunk, while the workers start on the first ones, then copies
   * each finished chunk out between its own. Each chunk
   * keeps its own partial sums, added in chunk order: the result does not
   * depend on which thread ran which chunk.
   */
  const runShared = (
    args: Value[],
    results: TypedArray[],
    sums: Float64Array,
    workers: number,
    chunk: number,
  ): boolean => {
    const nChunks = Math.ceil(n / chunk);
    const blocks = allocBlocks(n, nChunks);
    // an input already in the arena (a fused product) is read in place
    if (fused >= 0 && typeof args[fused] === "number") blocks.inPtrs[fused] = args[fused];
    const scratchPtr = alloc(rt, (workers + 1) * scratchBytes);
    const count = (c: number): number => Math.min(chunk, n - c * chunk);
    // Per chunk, then per thread for the scratch.
    const strides = [
      ...plan.inputs.map((k) => (k === "s" ? 0 : k === "b" ? chunk : chunk * bytes)),
      ...storeBool.map((isBool) => (isBool ? chunk : chunk * bytes)),
      8 * nSums,
      scratchBytes,
      0,
      0,
    ];
    const compiling = parallelGroup(
      rt,
      compiled.shared,
      fn,
      workers,
      callArgs(blocks, args, scratchPtr),
      strides,
      n,
      chunk,
      lanes,
      (c) => copyIn(blocks, args, c * chunk, count(c), c * chunk),
      (c) => copyOut(blocks, results, c * chunk, c * chunk, count(c)),
    );
    addSums(sums, blocks.sumsPtr, nChunks);
    return compiling;
  };

  const gate = new ThreadGate(`jit group ${plan.dtype} x ${n}, ${plan.steps.length} steps`);
  /**
   * Runs the group; an array input given as a number is the arena address
   * of its elements (a fused product, computed just before: the arena is
   * then not reset).
   */
  const runGroup = (args: Value[], inArena: boolean): Value[] => {
    if (!inArena) resetArena(rt);
    const results = plan.stores.map((_, j) =>
      storeBool[j] ? new Uint8Array(n) : f32 ? new Float32Array(n) : new Float64Array(n),
    );
    const sums = new Float64Array(nSums);
    // Worker threads run only where the memory is shared, which never
    // detaches its buffer on growth: the views taken above stay valid.
    const splittable = n * cost >= parallelMinWork && n > chunkElements;
    const workers = splittable ? usableWorkers(rt) : 0;
    // A split call's chunks, set by the pool's size rather than by the workers
    // free now: a group with sums run on one thread (by the gate, or because no
    // worker is free this time) uses the same chunks and so gives the same bits
    // (its sums are added per chunk). Without sums the values do not depend on
    // the chunks, and the cache-sized ones are quicker on one thread.
    const poolSize = Math.max(workers, wasmThreadCount());
    const chunk = sharedChunk(poolSize);
    const hereChunk = splittable && nSums > 0 && poolSize > 0 ? chunk : Math.min(n, chunkElements);
    if (workers > 0) {
      // Threads or the calling thread alone, whichever this group ran faster with lately.
      const threads = gate.useThreads();
      const start = performance.now();
      // A worker that compiled the module in this call makes its time no measure.
      let compiling = false;
      if (threads) compiling = runShared(args, results, sums, workers, chunk);
      else runHere(args, results, sums, hereChunk);
      gate.record(threads, performance.now() - start, compiling);
    } else runHere(args, results, sums, hereChunk);
    const values: Value[] = results;
    for (const sum of sums) values.push(f32 ? Math.fround(sum) : sum);
    return values;
  };
  if (fused < 0)
    return { inputs, outputs, run: (...args) => runGroup(args, false), fusedProduct: false };
  const [aVar, bVar] = product!.inputs as [Var, Var];
  const { transposeA, transposeB } = productLayout(product!)!;
  const [m, k] = transposeA ? [aVar.shape[1]!, aVar.shape[0]!] : [aVar.shape[0]!, aVar.shape[1]!];
  const cols = n / m;
  const fusedRun = (a: Value, b: Value, ...rest: Value[]): Value[] => {
    const c = wasmBackend.matmulInArena(
      a as TypedArray,
      b as TypedArray,
      m,
      k,
      cols,
      plan.dtype,
      transposeA,
      transposeB,
    );
    const args = [...rest.slice(0, fused), c, ...rest.slice(fused)];
    return runGroup(args, typeof c === "number");
  };
  return {
    inputs: [aVar, bVar, ...inputs.filter((_, j) => j !== fused)],
    outputs,
    run: fusedRun,
    fusedProduct: true,
  };
}

/** The operand layout of equation e when it is a matrix product (its `matrixProduct` rule), else null. */
export function productLayout(e: JaxprEqn): MatrixProductLayout | null {
  if (e.outs !== undefined || e.prim.matrixProduct === undefined) return null;
  return e.prim.matrixProduct(e.params);
}

/**
 * The index among the group's inputs of the result of `product` (a matrix
 * product equation) when the group can read that product where the Wasm backend
 * leaves it (two float matrices of the group's dtype, the result an array
 * input of the group's shape), else -1.
 */
function fusedProductInput(
  product: JaxprEqn,
  plan: Plan,
  inputs: readonly Var[],
  n: number,
): number {
  if (productLayout(product) === null) return -1;
  const [a, b] = product.inputs;
  const out = product.out;
  const j = inputs.indexOf(out);
  if (j < 0 || plan.inputs[j] !== "a" || a === undefined || b === undefined) return -1;
  const matrices = [a, b, out].every((v) => v.shape.length === 2 && v.dtype === plan.dtype);
  return matrices && shapeSize(out.shape) === n ? j : -1;
}
