/**
 * Optimisation passes on traced programs. All are single forward or backward
 * sweeps over the equation list (no recursion), so programs of any length
 * are handled in linear time.
 *
 *   constant folding   equations whose inputs are all concrete constants are
 *                      evaluated at compile time
 *   simplification     each primitive's declared `simplify` rule (exact
 *                      rewrites only: x*1, x+(-0), x-(+0), x/1 -> x;
 *                      -(-x) -> x; transpose of transpose, reshape of
 *                      reshape; select with a constant condition -> the
 *                      chosen branch), plus two rewrites across equations
 *                      here: a transpose of a broadcast becomes one
 *                      broadcast; a matmul of a transpose (last two axes)
 *                      reads the operand with its transpose flag toggled
 *   CSE                an equation identical to an earlier one (same
 *                      primitive, parameters and inputs; inputs of a
 *                      primitive declared commutative in any order)
 *                      reuses its result
 *   DCE                equations whose results are never used are dropped
 *
 * Multi-output equations are folded, CSE'd (all outputs at once) and dropped
 * by DCE when none of their outputs is used; DCE narrows one to its used
 * outputs where the primitive declares `pruneOutputs`. The simplifier skips
 * them.
 *
 * Simplification never changes a value, bit for bit: a jitted program gives
 * what eager evaluation gives, signed zeros, infinities and NaN included.
 * So x * 0 is not folded (inf * 0 and NaN * 0 are NaN, -1 * 0 is -0), nor
 * x + (+0) (-0 + 0 = +0). AD's symbolic zero tangents (null) are not numbers
 * and never reach these equations.
 */
import { withHostKernels } from "../backends/index.js";
import { type Array, ConcreteArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import type { MultiPrimitive, Primitive, SimplifyQuery } from "../core/primitive.js";
import { shapeSize, shapesEqual } from "../core/shape.js";
import { outsideDynamicTrace } from "../core/trace.js";
import {
  Jaxpr,
  type JaxprEqn,
  type MultiEqn,
  type SingleEqn,
  type TraceOptimizer,
  Var,
  VarMap,
} from "./jaxpr.js";

/** Constants up to this many elements are produced by folding. */
const FOLD_LIMIT = 1 << 16;

/**
 * Runs a primitive's impl for folding: on host kernels, as eager code even
 * in the middle of jit's trace (see EquationOptimizer).
 */
function evaluate<T>(impl: () => T): T {
  return outsideDynamicTrace(() => withHostKernels(impl));
}

/** Whether every element of c is `value`, bit for bit (+0 and -0 differ, NaN matches NaN). */
function allEqual(c: ConcreteArray, value: number): boolean {
  if (c.shape.length === 0) return Object.is(c.scalarValue, value);
  const b = c.buffer;
  for (let i = 0; i < b.length; i++) if (!Object.is(b[i], value)) return false;
  return true;
}

const paramsKeys = new WeakMap<object, string>();
/** A string identifying a parameter object's contents (cached per object). */
export function paramsKey(params: unknown): string {
  if (params === null || typeof params !== "object") return String(params);
  let key = paramsKeys.get(params);
  if (key === undefined) {
    key = JSON.stringify(params) ?? "";
    paramsKeys.set(params, key);
  }
  return key;
}

/** Counts of what a run of the passes changed. */
export interface PassStats {
  folded: number;
  simplified: number;
  cse: number;
  dce: number;
}

/** Runs folding, simplification and CSE in one sweep, then DCE. */
export function optimize(jaxpr: Jaxpr, stats?: PassStats): Jaxpr {
  let nextId = maxVarId(jaxpr) + 1;
  const s = stats ?? { folded: 0, simplified: 0, cse: 0, dce: 0 };
  // ids of new constants follow nextId: room for some
  const idSpan = nextId + 1024;
  const opt = new EquationOptimizer(
    (shape, dtype) => new Var(nextId++, shape, dtype),
    [...jaxpr.constVars],
    [...jaxpr.consts],
    { expectedEqns: jaxpr.eqns.length, idSpan },
  );
  jaxpr.constVars.forEach((v, i) => opt.noteConst(v, jaxpr.consts[i]!));
  const subst = new VarMap<Var>(idSpan);
  const resolve = (v: Var): Var => subst.get(v) ?? v;

  // The sweep over the equations is a function of its own that returns right
  // after its loop: V8 compiles the hot loop by on-stack replacement before
  // the code after it has run, and code it has never seen run deoptimises
  // (here, then compiled again, about 40 ms of background compile in a
  // fresh process).
  const sweep = (): void => {
    // Index loops and no per-equation closures below: this runs once per
    // program, mostly before V8 has optimised it.
    const all = jaxpr.eqns;
    for (let e = 0; e < all.length; e++) {
      const original = all[e]!;
      const given = original.inputs;
      // The inputs after substitution: a new list only when one of them changes.
      let inputs: readonly Var[] = given;
      for (let i = 0; i < given.length; i++) {
        const r = subst.get(given[i]!);
        if (r === undefined) continue;
        if (inputs === given) inputs = given.slice();
        (inputs as Var[])[i] = r;
      }
      if (original.outs !== undefined) {
        const outs = opt.multi(original.prim, original.params, inputs, original.outs);
        if (outs !== original.outs) {
          for (let j = 0; j < outs.length; j++) subst.set(original.outs[j]!, outs[j]!);
        }
        continue;
      }
      const r = opt.single(original, original.prim, original.params, inputs, original.out);
      if (r !== original.out) subst.set(original.out, r);
    }
  };
  sweep();

  opt.addStats(s);
  const outVars = jaxpr.outVars.map(resolve);
  // Every id is below nextId: DCE need not scan the program for the largest.
  return deadCodeElimination(
    new Jaxpr(opt.constVars, opt.consts, jaxpr.inVars, opt.eqns, outVars),
    s,
    nextId,
  );
}

/** Indices of EquationOptimizer's counts. */
const FOLDED = 0;
const SIMPLIFIED = 1;
const CSE = 2;

/** What {@link EquationOptimizer} is built with. */
export interface EquationOptimizerOptions {
  /** About how many equations will come (sizes the CSE table; it grows past it). */
  expectedEqns: number;
  /** More than the largest variable id expected, when known (the maps grow past it). */
  idSpan: number;
}

/**
 * Folding, simplification and CSE of one equation at a time, in program
 * order, keeping the equations that remain (`eqns`). Each decision reads
 * only earlier equations, so the same object serves `optimize` (a sweep
 * over a traced program) and jit's trace, which hands it each equation as
 * it is recorded (`JaxprTrace`'s `TraceOptimizer`): the program then comes
 * out of the trace already optimised, and jit runs only DCE on it, instead
 * of a second pass over every equation.
 */
export class EquationOptimizer implements TraceOptimizer {
  /** The kept equations, in order. */
  readonly eqns: JaxprEqn[] = [];
  /** The largest variable id seen (outputs and constants). */
  maxId = -1;
  private readonly known: VarMap<ConcreteArray>;
  /** Variables known to hold one value everywhere (constants, broadcasts of scalars). */
  private readonly uniform: VarMap<number>;
  /**
   * 1 by id for the variables in `known` or `uniform` (few: constants and
   * broadcasts): most lookups are of neither, and a byte read answers them
   * without a call (a program's first trace runs this mostly unoptimised).
   */
  private special = new Uint8Array(1024);
  private readonly producer: VarMap<SingleEqn>;
  private readonly query: EquationQuery;
  private readonly cse: CseTable;
  private readonly seenMulti = new Map<MultiPrimitive, Map<string, readonly Var[]>>();
  /**
   * How many equations were folded, simplified and CSE'd (indices FOLDED,
   * SIMPLIFIED, CSE): counted in a typed array, so that the first
   * simplification after V8 optimised this code (W1's backward pass starts
   * with one) does not meet a property access it has never run, which
   * deoptimises it.
   */
  private readonly counts = new Int32Array(3);

  constructor(
    private readonly newVar: (shape: readonly number[], dtype: DType) => Var,
    /** The program's constants (new folded ones are appended). */
    readonly constVars: Var[],
    readonly consts: Array[],
    options: EquationOptimizerOptions,
  ) {
    this.known = new VarMap<ConcreteArray>(options.idSpan);
    this.uniform = new VarMap<number>(options.idSpan);
    this.producer = new VarMap<SingleEqn>(options.idSpan);
    this.query = new EquationQuery(this.producer, this);
    this.cse = new CseTable(this.eqns, options.expectedEqns);
  }

  /** Adds the counts of folded, simplified and CSE'd equations to `stats`. */
  addStats(stats: PassStats): void {
    stats.folded += this.counts[FOLDED]!;
    stats.simplified += this.counts[SIMPLIFIED]!;
    stats.cse += this.counts[CSE]!;
  }

  /** Registers a constant of the program (host values are then known to the rules). */
  noteConst(v: Var, value: Array): void {
    if (v.id > this.maxId) this.maxId = v.id;
    // Device arrays (webgpu) are not read here: folding and the simplifier's
    // value checks work on host values only.
    if (value instanceof ConcreteArray && value.onHost) {
      this.known.set(v, value);
      this.markSpecial(v);
    }
  }

  private markSpecial(v: Var): void {
    if (v.id >= this.special.length) {
      const grown = new Uint8Array(Math.max(2 * this.special.length, v.id + 1));
      grown.set(this.special);
      this.special = grown;
    }
    this.special[v.id] = 1;
  }

  private newConst(value: ConcreteArray): Var {
    const v = this.newVar(value.shape, value.dtype);
    this.constVars.push(v);
    this.consts.push(value);
    this.noteConst(v, value);
    return v;
  }

  /** The one value v holds everywhere, if it is known to (simplification rules ask). */
  uniformOf(v: Var | undefined): number | undefined {
    // Not special (most variables): in neither map.
    if (v === undefined || v.id >= this.special.length || this.special[v.id] !== 1) {
      return undefined;
    }
    const u = this.uniform.get(v);
    if (u !== undefined) return u;
    const c = this.known.get(v);
    if (c === undefined) return undefined;
    const first = c.shape.length === 0 ? c.scalarValue : c.buffer[0];
    if (first === undefined || !allEqual(c, first)) return undefined;
    this.uniform.set(v, first);
    return first;
  }

  /**
   * Folding and CSE of a multi-output equation (the simplifier has no rules
   * for them): the variables standing for its outputs (`outs` itself when it
   * is kept).
   */
  multi(
    prim: MultiPrimitive,
    params: unknown,
    inputs: readonly Var[],
    outs: readonly Var[],
  ): readonly Var[] {
    for (let j = 0; j < outs.length; j++) if (outs[j]!.id > this.maxId) this.maxId = outs[j]!.id;
    const values = inputs.map((v) => this.known.get(v));
    const small = outs.every((v) => shapeSize(v.shape) <= FOLD_LIMIT);
    if (small && values.every((c) => c !== undefined)) {
      const results = evaluate(() => prim.impl(values, params));
      this.counts[FOLDED] = this.counts[FOLDED]! + 1;
      return outs.map((_, j) => this.newConst(results[j]!));
    }
    let table = this.seenMulti.get(prim);
    if (table === undefined) this.seenMulti.set(prim, (table = new Map<string, readonly Var[]>()));
    const key = `${paramsKey(params)}|${inputs.map((v) => v.id).join(",")}`;
    const prev = table.get(key);
    if (prev !== undefined) {
      this.counts[CSE] = this.counts[CSE]! + 1;
      return prev;
    }
    table.set(key, outs);
    this.eqns.push({ prim, params, inputs, out: outs[0]!, outs });
    return outs;
  }

  /**
   * The constant standing for `prim[params](inputs)` of known inputs. (A
   * function of its own: its closures, inside `single`, would make V8
   * allocate a context for every call of `single`, folded or not.)
   */
  private fold(prim: Primitive, params: unknown, inputs: readonly Var[]): Var {
    const values = inputs.map((v) => this.known.get(v)!);
    const folded = this.newConst(evaluate(() => prim.impl(values, params)));
    this.counts[FOLDED] = this.counts[FOLDED]! + 1;
    return folded;
  }

  /**
   * Keeps an equation as it is, with no folding, simplification or CSE
   * (`TraceOptimizer.keep`). It takes a slot of the CSE table like any kept
   * equation, which no lookup matches: its primitive reaches this
   * optimizer only here.
   */
  keep(eqn: SingleEqn): void {
    if (eqn.out.id > this.maxId) this.maxId = eqn.out.id;
    this.eqns.push(eqn);
    this.cse.add();
  }

  /**
   * Folding, simplification and CSE of a single-output equation
   * `out = prim[params](inputs)` (inputs already substituted): the variable
   * standing for its result, `out` itself when the equation is kept.
   * `original`, when given, is kept as it is if nothing changed (no copy).
   */
  single(
    original: SingleEqn | null,
    prim0: Primitive,
    params0: unknown,
    inputs0: readonly Var[],
    out: Var,
  ): Var {
    if (out.id > this.maxId) this.maxId = out.id;
    let prim = prim0;
    let params = params0;
    let inputs = inputs0;
    const producer = this.producer;
    // transpose(broadcastInDim(x)) -> broadcastInDim(x) with the axes permuted: one pass, not two.
    // matmul(transpose(x), y) -> matmul with x read transposed (no copy of x).
    // broadcastInDim(broadcastInDim(x)) -> one broadcastInDim of x (a scalar stays a scalar).
    // (Only these three primitives have rewrites across equations.)
    const name = prim.name;
    if (name === "transpose" || name === "broadcastInDim" || name === "matmul") {
      const rewritten =
        transposeOfBroadcast(prim, params, inputs, out, producer) ??
        broadcastOfBroadcast(prim, params, inputs, out, producer) ??
        matmulOfTranspose(prim, params, inputs, out, producer);
      if (rewritten !== null) {
        this.counts[SIMPLIFIED] = this.counts[SIMPLIFIED]! + 1;
        prim = rewritten.prim;
        params = rewritten.params;
        inputs = rewritten.inputs;
        original = null;
      }
    }
    // Whether every input is a known constant, and whether any may be
    // uniform or known (most equations have none: the simplifier's
    // `uniform` then answers without a lookup).
    let allKnown = true;
    let anySpecial = false;
    const special = this.special;
    for (let i = 0; i < inputs.length; i++) {
      const id = inputs[i]!.id;
      if (id >= special.length || special[id] !== 1) allKnown = false;
      else {
        anySpecial = true;
        if (allKnown && this.known.get(inputs[i]!) === undefined) allKnown = false;
      }
    }

    // Constant folding (not of broadcasts: a broadcast scalar stays a scalar in compiled loops).
    if (allKnown && prim.name !== "broadcastInDim" && shapeSize(out.shape) <= FOLD_LIMIT) {
      return this.fold(prim, params, inputs);
    }

    // Algebraic simplification, else common subexpressions: an earlier kept
    // equation with the same primitive, parameters and inputs (a commutative
    // primitive's two inputs in either order). One exit for both.
    const simplified =
      prim.simplify === undefined
        ? null
        : prim.simplify<Var>(this.query.at(params, inputs, out, anySpecial));
    const same = simplified !== null ? simplified : this.cse.find(prim, params, inputs);
    if (same !== undefined) {
      const kind = simplified !== null ? SIMPLIFIED : CSE;
      this.counts[kind] = this.counts[kind]! + 1;
      return same;
    }
    if (prim.name === "broadcastInDim") {
      const u = this.uniformOf(inputs[0]);
      if (u !== undefined) {
        this.uniform.set(out, u);
        this.markSpecial(out);
      }
    }
    // An equation that nothing changed is kept as it is (no copy per equation).
    const eqn: SingleEqn =
      original !== null && inputs === original.inputs ? original : { prim, params, inputs, out };
    producer.set(out, eqn);
    this.eqns.push(eqn);
    this.cse.add();
    return out;
  }
}

/**
 * The kept single-output equations, for common-subexpression elimination:
 * a hash table (chains of indices in typed arrays) on the set of input ids, so a
 * lookup scans only equations that read the same variables (or collide).
 * The hash ignores the order of the inputs, which lets a commutative
 * primitive's swapped inputs meet; lookups compare the order exactly
 * otherwise. No key object or string is built per equation (this runs
 * mostly before V8 has optimised it).
 */
class CseTable {
  /** How many equations the table holds (the single-output ones of `eqns`). */
  private size = 0;
  /** Per hash slot, the index in `eqns` of the last entry with that hash (-1: none). */
  private heads: Int32Array;
  /** Per index in `eqns`, the index of the previous entry in its chain (-1: none). */
  private next: Int32Array;
  /** Per index in `eqns`, its entry's full hash (its slot is hash & mask): growing need not hash again. */
  private hashes: Int32Array;
  private mask: number;
  /**
   * The table's entries are the optimizer's kept equations, by their index
   * in `eqns` (the list it keeps anyway: no second list of the same
   * equations). Multi-output equations there are not entries.
   */
  constructor(
    private readonly eqns: readonly JaxprEqn[],
    expected: number,
  ) {
    let size = 1024;
    while (size < 2 * expected) size *= 2;
    this.mask = size - 1;
    this.heads = new Int32Array(size).fill(-1);
    // Start small, so that the growing path runs early (before V8 optimises
    // `add`), not first in optimised code, which would deoptimise it.
    this.next = new Int32Array(16);
    this.hashes = new Int32Array(16);
  }
  /**
   * Doubles the slots once the entries fill half of them (a table made
   * while tracing does not know the program's length), relinking the
   * chains in entry order, as adding them again would.
   */
  private grow(): void {
    const size = 2 * this.heads.length;
    const mask = size - 1;
    const heads = new Int32Array(size).fill(-1);
    const next = this.next;
    const hashes = this.hashes;
    const eqns = this.eqns;
    for (let index = 0; index < eqns.length; index++) {
      if (eqns[index]!.outs !== undefined) continue;
      const k = hashes[index]! & mask;
      next[index] = heads[k]!;
      heads[k] = index;
    }
    this.mask = mask;
    this.heads = heads;
  }
  /** A hash of the input ids that does not depend on their order. */
  private hash(inputs: readonly Var[]): number {
    let h = 0;
    for (let i = 0; i < inputs.length; i++) {
      const m = Math.imul(inputs[i]!.id + 1, 0x9e3779b1);
      h = (h + (m ^ (m >>> 16))) | 0;
    }
    return h ^ (h >>> 13);
  }
  /**
   * The hash of the last `find`'s inputs, and those inputs: `add` of an
   * equation with the same inputs list (the usual find-then-add) reuses it.
   */
  private lastHash = 0;
  private lastInputs: readonly Var[] | null = null;
  /** Adds the single-output equation just appended to `eqns` (its last). */
  add(): void {
    const index = this.eqns.length - 1;
    const inputs = this.eqns[index]!.inputs;
    const h = inputs === this.lastInputs ? this.lastHash : this.hash(inputs);
    this.lastInputs = null;
    if (index >= this.next.length) {
      const length = Math.max(2 * this.next.length, index + 1);
      const next = new Int32Array(length);
      next.set(this.next);
      this.next = next;
      const hashes = new Int32Array(length);
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    const k = h & this.mask;
    this.hashes[index] = h;
    this.next[index] = this.heads[k]!;
    this.heads[k] = index;
    this.size++;
    if (2 * this.size > this.heads.length) this.grow();
  }
  /** The result of an earlier equation equal to prim[params](inputs), if any. */
  find(prim: Primitive, params: unknown, inputs: readonly Var[]): Var | undefined {
    const h = this.hash(inputs);
    this.lastHash = h;
    this.lastInputs = inputs;
    for (let k = this.heads[h & this.mask]!; k >= 0; k = this.next[k]!) {
      const e = this.eqns[k]!;
      if (e.prim !== prim || e.inputs.length !== inputs.length) continue;
      // Commutativity is looked up only for a candidate (most lookups find none).
      const commutative = inputs.length === 2 && prim.elementwise?.commutative === true;
      if (!sameInputs(e.inputs, inputs, commutative)) continue;
      if (e.params === params || paramsKey(e.params) === paramsKey(params)) return e.out;
    }
    return undefined;
  }
}

/** Whether two input lists are the same variables (for two commutative inputs, in either order). */
function sameInputs(a: readonly Var[], b: readonly Var[], commutative: boolean): boolean {
  let same = true;
  for (let i = 0; i < a.length && same; i++) same = a[i] === b[i];
  return same || (commutative && a[0] === b[1] && a[1] === b[0]);
}

/**
 * transpose(broadcastInDim(x, shape, dims), perm) as one broadcastInDim of x:
 * output axis j of the transpose is axis perm[j] of the broadcast, so input
 * axis i (broadcast axis dims[i]) lands on the axis j with perm[j] = dims[i].
 * Applies when those new axes are still increasing (broadcastInDim cannot
 * reorder its input's axes); otherwise null.
 */
function transposeOfBroadcast(
  prim: Primitive,
  params: unknown,
  inputs: readonly Var[],
  out: Var,
  producer: VarMap<SingleEqn>,
): SingleEqn | null {
  if (prim.name !== "transpose") return null;
  const p = producer.get(inputs[0]!);
  if (p === undefined || p.prim.name !== "broadcastInDim") return null;
  const perm = (params as { perm: readonly number[] }).perm;
  const dims = (p.params as { dims: readonly number[] }).dims;
  const newDims = dims.map((d) => perm.indexOf(d));
  if (!newDims.every((d, i) => d >= 0 && (i === 0 || d > newDims[i - 1]!))) return null;
  return {
    prim: p.prim,
    params: { shape: out.shape, dims: newDims },
    inputs: [p.inputs[0]!],
    out,
  };
}

/**
 * broadcastInDim(broadcastInDim(x, s1, d1), s2, d2) as one broadcastInDim of
 * x: axis i of x lands on axis d1[i] of the inner result, which lands on
 * axis d2[d1[i]] of the outer one (still increasing, as both maps are). Under
 * vmap a scalar broadcast to the per-example shape is broadcast again to the
 * batched shape; composed, the compiled loops read the scalar instead of a
 * materialised array.
 */
function broadcastOfBroadcast(
  prim: Primitive,
  params: unknown,
  inputs: readonly Var[],
  out: Var,
  producer: VarMap<SingleEqn>,
): SingleEqn | null {
  if (prim.name !== "broadcastInDim") return null;
  const p = producer.get(inputs[0]!);
  if (p === undefined || p.prim.name !== "broadcastInDim") return null;
  const outer = (params as { dims: readonly number[] }).dims;
  const inner = (p.params as { dims: readonly number[] }).dims;
  return {
    prim: p.prim,
    params: { shape: out.shape, dims: inner.map((d) => outer[d]!) },
    inputs: [p.inputs[0]!],
    out,
  };
}

/** Whether `perm` swaps the last two axes and keeps the others in place. */
function swapsLastTwo(perm: readonly number[]): boolean {
  const n = perm.length;
  return (
    n >= 2 &&
    perm[n - 2] === n - 1 &&
    perm[n - 1] === n - 2 &&
    perm.every((q, i) => i >= n - 2 || q === i)
  );
}

/**
 * matmul(op(transpose(x)), ...) with a transpose of the last two axes as one
 * matmul that reads x with its transpose flag toggled (op(x^T) read as
 * x^T^T = x or x^T): the backends pack operands from either layout, so the
 * strided copy disappears. The transpose stays if something else uses it.
 */
function matmulOfTranspose(
  prim: Primitive,
  params0: unknown,
  inputs: readonly Var[],
  out: Var,
  producer: VarMap<SingleEqn>,
): SingleEqn | null {
  if (prim.name !== "matmul") return null;
  const params = params0 as { transposeA: boolean; transposeB: boolean };
  const operands = [...inputs];
  const flags = [params.transposeA, params.transposeB];
  let changed = false;
  for (let i = 0; i < 2; i++) {
    const p = producer.get(operands[i]!);
    if (p === undefined || p.prim.name !== "transpose") continue;
    if (!swapsLastTwo((p.params as { perm: readonly number[] }).perm)) continue;
    operands[i] = p.inputs[0]!;
    flags[i] = !flags[i];
    changed = true;
  }
  if (!changed) return null;
  return {
    prim,
    params: { transposeA: flags[0]!, transposeB: flags[1]! },
    inputs: operands,
    out,
  };
}

/**
 * The view of one equation that a primitive's `simplify` rule gets. One
 * object serves a whole run of the passes, pointed at each equation in
 * turn (`at`): long programs then create no closures per equation, which
 * matters most before V8 has optimised this code (a program's first jit).
 */
class EquationQuery implements SimplifyQuery<Var, unknown> {
  inputs: readonly Var[] = [];
  params: unknown = undefined;
  outDtype: DType = "float64";
  private out: Var | undefined = undefined;
  /** Whether an input may be uniform (else `uniform` answers undefined at once). */
  private anySpecial = true;
  constructor(
    private readonly producers: VarMap<JaxprEqn>,
    private readonly values: { uniformOf(v: Var | undefined): number | undefined },
  ) {}
  at(params: unknown, inputs: readonly Var[], out: Var, anySpecial: boolean): this {
    this.inputs = inputs;
    this.params = params;
    this.outDtype = out.dtype;
    this.out = out;
    this.anySpecial = anySpecial;
    return this;
  }
  uniform(i: number): number | undefined {
    return this.anySpecial ? this.values.uniformOf(this.inputs[i]) : undefined;
  }
  producer(v: Var): SingleEqn | undefined {
    const p = this.producers.get(v);
    return p === undefined || p.outs !== undefined ? undefined : p;
  }
  fits(v: Var | undefined): v is Var {
    const out = this.out!;
    return v !== undefined && shapesEqual(v.shape, out.shape) && v.dtype === out.dtype;
  }
}

/**
 * A multi-output equation narrowed to its used outputs by the primitive's
 * `pruneOutputs` rule, or null when all are used or the rule declines.
 */
function pruneUnusedOutputs(e: MultiEqn, live: Uint8Array): MultiEqn | null {
  const used = e.outs.map((v) => live[v.id] === 1);
  if (used.every((u) => u) || e.prim.pruneOutputs === undefined) return null;
  const pruned = e.prim.pruneOutputs(used, e.params);
  if (pruned === null) return null;
  const outs = e.outs.filter((_, j) => used[j]);
  const inputs = e.inputs.filter((_, k) => pruned.usedInputs[k] === true);
  return { prim: e.prim, params: pruned.params, inputs, out: outs[0]!, outs };
}

/** The largest variable id in a program (-1 if it has none). */
function maxVarId(jaxpr: Jaxpr): number {
  let top = -1;
  for (let i = 0; i < jaxpr.constVars.length; i++) top = Math.max(top, jaxpr.constVars[i]!.id);
  for (let i = 0; i < jaxpr.inVars.length; i++) top = Math.max(top, jaxpr.inVars[i]!.id);
  const eqns = jaxpr.eqns;
  for (let i = 0; i < eqns.length; i++) {
    const e = eqns[i]!;
    if (e.outs === undefined) top = Math.max(top, e.out.id);
    else for (let j = 0; j < e.outs.length; j++) top = Math.max(top, e.outs[j]!.id);
  }
  return top;
}

/**
 * Drops equations whose results are not used (a backward sweep from the
 * outputs), and unused outputs of multi-output primitives that can prune them.
 * `idBound`, when given, is more than every variable id in the program.
 */
export function deadCodeElimination(jaxpr: Jaxpr, stats?: PassStats, idBound?: number): Jaxpr {
  // Liveness by variable id in a byte array: no object per variable, and cheap to allocate.
  const live = new Uint8Array(idBound ?? maxVarId(jaxpr) + 1);
  for (const v of jaxpr.outVars) live[v.id] = 1;
  const kept = liveEquations(jaxpr.eqns, live, stats);
  kept.reverse();
  const constVars: Var[] = [];
  const consts: Array[] = [];
  jaxpr.constVars.forEach((v, i) => {
    if (live[v.id] === 1) {
      constVars.push(v);
      consts.push(jaxpr.consts[i]!);
    }
  });
  return new Jaxpr(constVars, consts, jaxpr.inVars, kept, jaxpr.outVars);
}

/**
 * The backward sweep of DCE: the equations that define a live variable, last
 * first, marking their inputs live in `live`. (A function that returns right
 * after its loop, like optimize's sweep: V8 compiles it once.)
 */
function liveEquations(
  eqns: readonly JaxprEqn[],
  live: Uint8Array,
  stats: PassStats | undefined,
): JaxprEqn[] {
  const kept: JaxprEqn[] = [];
  for (let i = eqns.length - 1; i >= 0; i--) {
    let e = eqns[i]!;
    // A multi-output equation stays while any of its outputs is used.
    if (e.outs === undefined ? live[e.out.id] !== 1 : !e.outs.some((v) => live[v.id] === 1)) {
      if (stats !== undefined) stats.dce++;
      continue;
    }
    if (e.outs !== undefined) {
      const pruned = pruneUnusedOutputs(e, live);
      if (pruned !== null) {
        e = pruned;
        if (stats !== undefined) stats.dce++;
      }
    }
    kept.push(e);
    const inputs = e.inputs;
    for (let k = 0; k < inputs.length; k++) live[inputs[k]!.id] = 1;
  }
  return kept;
}
