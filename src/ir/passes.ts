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
import { Jaxpr, type JaxprEqn, type MultiEqn, type SingleEqn, Var, VarMap } from "./jaxpr.js";

/** Constants up to this many elements are produced by folding. */
const FOLD_LIMIT = 1 << 16;

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

  const constVars: Var[] = [...jaxpr.constVars];
  const consts: Array[] = [...jaxpr.consts];
  // ids of new constants follow nextId: room for some
  const idSpan = nextId + 1024;
  const known = new VarMap<ConcreteArray>(idSpan);
  jaxpr.constVars.forEach((v, i) => {
    const c = jaxpr.consts[i];
    // Device arrays (webgpu) are not read here: folding and the simplifier's
    // value checks work on host values only.
    if (c instanceof ConcreteArray && c.onHost) known.set(v, c);
  });
  const newConst = (value: ConcreteArray): Var => {
    const v = new Var(nextId++, value.shape, value.dtype);
    constVars.push(v);
    consts.push(value);
    known.set(v, value);
    return v;
  };

  /** Variables known to hold one value everywhere (constants, broadcasts of scalars). */
  const uniform = new VarMap<number>(idSpan);
  const uniformOf = (v: Var | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const u = uniform.get(v);
    if (u !== undefined) return u;
    const c = known.get(v);
    if (c === undefined) return undefined;
    const first = c.shape.length === 0 ? c.scalarValue : c.buffer[0];
    if (first === undefined || !allEqual(c, first)) return undefined;
    uniform.set(v, first);
    return first;
  };
  const subst = new VarMap<Var>(idSpan);
  const resolve = (v: Var): Var => subst.get(v) ?? v;
  const producer = new VarMap<SingleEqn>(idSpan);
  const query = new EquationQuery(producer, uniformOf);
  const cse = new CseTable(jaxpr.eqns.length);
  const eqns: JaxprEqn[] = [];
  const s = stats ?? { folded: 0, simplified: 0, cse: 0, dce: 0 };

  const seenMulti = new Map<MultiPrimitive, Map<string, readonly Var[]>>();
  /** Folding and CSE of a multi-output equation (the simplifier has no rules for them). */
  const multiEqn = (eqn: MultiEqn): void => {
    const inputs = eqn.inputs.map(resolve);
    const values = inputs.map((v) => known.get(v));
    const small = eqn.outs.every((v) => shapeSize(v.shape) <= FOLD_LIMIT);
    if (small && values.every((c) => c !== undefined)) {
      const results = withHostKernels(() => eqn.prim.impl(values, eqn.params));
      eqn.outs.forEach((v, j) => subst.set(v, newConst(results[j]!)));
      s.folded++;
      return;
    }
    let table = seenMulti.get(eqn.prim);
    if (table === undefined) seenMulti.set(eqn.prim, (table = new Map<string, readonly Var[]>()));
    const key = `${paramsKey(eqn.params)}|${inputs.map((v) => v.id).join(",")}`;
    const prev = table.get(key);
    if (prev !== undefined) {
      eqn.outs.forEach((v, j) => subst.set(v, prev[j]!));
      s.cse++;
      return;
    }
    table.set(key, eqn.outs);
    eqns.push({ prim: eqn.prim, params: eqn.params, inputs, out: eqn.out, outs: eqn.outs });
  };

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
      if (original.outs !== undefined) {
        multiEqn(original);
        continue;
      }
      let eqn: SingleEqn = original;
      const given = eqn.inputs;
      // The inputs after substitution: a new list only when one of them changes.
      let inputs: readonly Var[] = given;
      for (let i = 0; i < given.length; i++) {
        const r = subst.get(given[i]!);
        if (r === undefined) continue;
        if (inputs === given) inputs = given.slice();
        (inputs as Var[])[i] = r;
      }
      // transpose(broadcastInDim(x)) -> broadcastInDim(x) with the axes permuted: one pass, not two.
      // matmul(transpose(x), y) -> matmul with x read transposed (no copy of x).
      // broadcastInDim(broadcastInDim(x)) -> one broadcastInDim of x (a scalar stays a scalar).
      // (Each returns null at once for any other primitive.)
      const rewritten =
        transposeOfBroadcast(eqn, inputs, producer) ??
        broadcastOfBroadcast(eqn, inputs, producer) ??
        matmulOfTranspose(eqn, inputs, producer);
      if (rewritten !== null) {
        s.simplified++;
        eqn = rewritten;
        inputs = rewritten.inputs;
      }
      const prim = eqn.prim;
      let allKnown = true;
      for (let i = 0; i < inputs.length && allKnown; i++)
        if (known.get(inputs[i]!) === undefined) allKnown = false;

      // Constant folding (not of broadcasts: a broadcast scalar stays a scalar in compiled loops).
      if (allKnown && prim.name !== "broadcastInDim" && shapeSize(eqn.out.shape) <= FOLD_LIMIT) {
        const values = inputs.map((v) => known.get(v)!);
        subst.set(eqn.out, newConst(withHostKernels(() => prim.impl(values, eqn.params))));
        s.folded++;
        continue;
      }

      // Algebraic simplification.
      const simplified = prim.simplify === undefined ? null : simplify(eqn, inputs, query);
      if (simplified !== null) {
        s.simplified++;
        subst.set(eqn.out, simplified);
        continue;
      }

      // Common subexpressions: an earlier kept equation with the same primitive,
      // parameters and inputs (a commutative primitive's two inputs in either order).
      const prev = cse.find(prim, eqn.params, inputs);
      if (prev !== undefined) {
        subst.set(eqn.out, prev);
        s.cse++;
        continue;
      }
      if (prim.name === "broadcastInDim") {
        const u = uniformOf(inputs[0]);
        if (u !== undefined) uniform.set(eqn.out, u);
      }
      // An equation that nothing changed is kept as it is (no copy per equation).
      const out: SingleEqn =
        eqn === original && inputs === given
          ? original
          : { prim, params: eqn.params, inputs, out: eqn.out };
      producer.set(eqn.out, out);
      cse.add(out);
      eqns.push(out);
    }
  };
  sweep();

  const outVars = jaxpr.outVars.map(resolve);
  // Every id is below nextId: DCE need not scan the program for the largest.
  return deadCodeElimination(new Jaxpr(constVars, consts, jaxpr.inVars, eqns, outVars), s, nextId);
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
  /** The kept equations, in order; chains link them by index. */
  private readonly entries: SingleEqn[] = [];
  /** Per hash slot, the index of the last entry with that hash (-1: none). */
  private readonly heads: Int32Array;
  /** Per entry, the index of the previous entry in its chain (-1: none). */
  private next: Int32Array;
  private readonly mask: number;
  constructor(expected: number) {
    let size = 1024;
    while (size < 2 * expected) size *= 2;
    this.mask = size - 1;
    this.heads = new Int32Array(size).fill(-1);
    this.next = new Int32Array(Math.max(expected, 16));
  }
  /** A hash of the input ids that does not depend on their order. */
  private slot(inputs: readonly Var[]): number {
    let h = 0;
    for (let i = 0; i < inputs.length; i++) {
      const m = Math.imul(inputs[i]!.id + 1, 0x9e3779b1);
      h = (h + (m ^ (m >>> 16))) | 0;
    }
    return (h ^ (h >>> 13)) & this.mask;
  }
  add(eqn: SingleEqn): void {
    const k = this.slot(eqn.inputs);
    const index = this.entries.length;
    if (index === this.next.length) {
      const grown = new Int32Array(2 * index);
      grown.set(this.next);
      this.next = grown;
    }
    this.entries.push(eqn);
    this.next[index] = this.heads[k]!;
    this.heads[k] = index;
  }
  /** The result of an earlier equation equal to prim[params](inputs), if any. */
  find(prim: Primitive, params: unknown, inputs: readonly Var[]): Var | undefined {
    const commutative = inputs.length === 2 && prim.elementwise?.commutative === true;
    for (let k = this.heads[this.slot(inputs)]!; k >= 0; k = this.next[k]!) {
      const e = this.entries[k]!;
      if (e.prim !== prim || e.inputs.length !== inputs.length) continue;
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
  eqn: SingleEqn,
  inputs: readonly Var[],
  producer: VarMap<SingleEqn>,
): SingleEqn | null {
  if (eqn.prim.name !== "transpose") return null;
  const p = producer.get(inputs[0]!);
  if (p === undefined || p.prim.name !== "broadcastInDim") return null;
  const perm = (eqn.params as { perm: readonly number[] }).perm;
  const dims = (p.params as { dims: readonly number[] }).dims;
  const newDims = dims.map((d) => perm.indexOf(d));
  if (!newDims.every((d, i) => d >= 0 && (i === 0 || d > newDims[i - 1]!))) return null;
  return {
    prim: p.prim,
    params: { shape: eqn.out.shape, dims: newDims },
    inputs: [p.inputs[0]!],
    out: eqn.out,
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
  eqn: SingleEqn,
  inputs: readonly Var[],
  producer: VarMap<SingleEqn>,
): SingleEqn | null {
  if (eqn.prim.name !== "broadcastInDim") return null;
  const p = producer.get(inputs[0]!);
  if (p === undefined || p.prim.name !== "broadcastInDim") return null;
  const outer = (eqn.params as { dims: readonly number[] }).dims;
  const inner = (p.params as { dims: readonly number[] }).dims;
  return {
    prim: p.prim,
    params: { shape: eqn.out.shape, dims: inner.map((d) => outer[d]!) },
    inputs: [p.inputs[0]!],
    out: eqn.out,
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
  eqn: SingleEqn,
  inputs: readonly Var[],
  producer: VarMap<SingleEqn>,
): SingleEqn | null {
  if (eqn.prim.name !== "matmul") return null;
  const params = eqn.params as { transposeA: boolean; transposeB: boolean };
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
    prim: eqn.prim,
    params: { transposeA: flags[0]!, transposeB: flags[1]! },
    inputs: operands,
    out: eqn.out,
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
  constructor(
    private readonly producers: VarMap<JaxprEqn>,
    private readonly uniformOf: (v: Var | undefined) => number | undefined,
  ) {}
  at(eqn: SingleEqn, inputs: readonly Var[]): this {
    this.inputs = inputs;
    this.params = eqn.params;
    this.outDtype = eqn.out.dtype;
    this.out = eqn.out;
    return this;
  }
  uniform(i: number): number | undefined {
    return this.uniformOf(this.inputs[i]);
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
 * An existing variable equal to the equation's result (bit for bit), by the
 * primitive's declared `simplify` rule; null when it has none or it does
 * not apply.
 */
function simplify(eqn: SingleEqn, inputs: readonly Var[], query: EquationQuery): Var | null {
  const rule = eqn.prim.simplify;
  if (rule === undefined) return null;
  return rule<Var>(query.at(eqn, inputs));
}

/**
 * A multi-output equation narrowed to its used outputs by the primitive's
 * `pruneOutputs` rule, or null when all are used or the rule declines.
 */
function pruneUnusedOutputs(e: MultiEqn, live: VarMap<true>): MultiEqn | null {
  const used = e.outs.map((v) => live.has(v));
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
  const live = new VarMap<true>(idBound ?? maxVarId(jaxpr) + 1);
  for (const v of jaxpr.outVars) live.set(v, true);
  const kept = liveEquations(jaxpr.eqns, live, stats);
  kept.reverse();
  const constVars: Var[] = [];
  const consts: Array[] = [];
  jaxpr.constVars.forEach((v, i) => {
    if (live.has(v)) {
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
  live: VarMap<true>,
  stats: PassStats | undefined,
): JaxprEqn[] {
  const kept: JaxprEqn[] = [];
  for (let i = eqns.length - 1; i >= 0; i--) {
    let e = eqns[i]!;
    // A multi-output equation stays while any of its outputs is used.
    if (e.outs === undefined ? !live.has(e.out) : !e.outs.some((v) => live.has(v))) {
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
    for (let k = 0; k < inputs.length; k++) live.set(inputs[k]!, true);
  }
  return kept;
}
