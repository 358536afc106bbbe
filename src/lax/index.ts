/**
 * `lax`: structured control flow with JAX's signatures.
 *
 * Control flow on concrete values runs in JavaScript, so it is exact under
 * every transformation: a branch whose predicate is concrete (eager, grad,
 * jvp) runs alone; a predicate that is abstract (inside jit) or differs per
 * batch element (inside vmap) evaluates every branch and selects the results
 * elementwise, as JAX does for cond under vmap. Loops with concrete bounds or
 * conditions unroll: reverse mode through them stores every step (use
 * checkpoint on the body to trade memory for recomputation), and under jit
 * the compiler re-rolls them into loops. A whileLoop whose condition is
 * traced, and a forILoop whose bounds are traced, become one staged `while`
 * primitive (while.ts): jit, vmap (per-element trip counts) and forward mode
 * go through it, and reverse mode too (the loop runs forwards storing its
 * carries, then backwards, when its values are concrete; see whileReverse.ts).
 */
import { Array, type ArrayLike } from "../core/array.js";
import { asArray } from "../core/convert.js";
import {
  ConcretizationError,
  DTypeError,
  InvalidArgumentError,
  ShapeError,
} from "../core/errors.js";
import * as np from "../numpy/index.js";
import {
  flatten,
  map as treeMap,
  treeDefString,
  unflatten,
  type PyTree,
  type TreeDef,
} from "../tree/index.js";
import { scan } from "./scan.js";
import { stagedWhile } from "./while.js";

/** The concrete JS value of a scalar predicate, or null when it is abstract or batched. */
function concreteScalar(fnName: string, x: unknown): number | null {
  const a = asArray(x, `${fnName}: predicate`);
  if (a.size !== 1) {
    throw new ShapeError(
      `${fnName}: the predicate must be a scalar, got shape [${a.shape.join(", ")}]`,
    );
  }
  try {
    return a.item();
  } catch (e) {
    if (e instanceof ConcretizationError) return null;
    throw e;
  }
}

/** Elementwise choice between two pytrees of the same structure. */
function selectTree(fnName: string, pred: Array, onTrue: unknown, onFalse: unknown): PyTree {
  const [, dt] = flatten(onTrue);
  const [, df] = flatten(onFalse);
  if (treeDefString(dt) !== treeDefString(df)) {
    throw new InvalidArgumentError(
      `${fnName}: the branches return different structures: ${treeDefString(dt)} vs ${treeDefString(df)}`,
    );
  }
  return treeMap((a, b) => np.where(pred, a as ArrayLike, b as ArrayLike), onTrue, onFalse);
}

/** cond(pred, trueFn, falseFn, ...operands): trueFn(...operands) if pred, else falseFn(...operands). */
export function cond(
  pred: ArrayLike,
  trueFn: (...operands: never[]) => unknown,
  falseFn: (...operands: never[]) => unknown,
  ...operands: unknown[]
): PyTree {
  const p = concreteScalar("lax.cond", pred);
  const t = trueFn as (...o: unknown[]) => unknown;
  const f = falseFn as (...o: unknown[]) => unknown;
  if (p !== null) return p ? t(...operands) : f(...operands);
  const predArray = np.notEqual(np.reshape(asArray(pred, "lax.cond: predicate"), []), 0);
  return selectTree("lax.cond", predArray, t(...operands), f(...operands));
}

/** switch(index, branches, ...operands): branches[clamp(index)](...operands). */
export function switchCase(
  index: ArrayLike,
  branches: readonly ((...operands: never[]) => unknown)[],
  ...operands: unknown[]
): PyTree {
  if (branches.length === 0)
    throw new InvalidArgumentError("lax.switch: needs at least one branch");
  const call = (k: number) => (branches[k] as (...o: unknown[]) => unknown)(...operands);
  const i = concreteScalar("lax.switch", index);
  const clamp = (k: number) => Math.min(Math.max(Math.trunc(k), 0), branches.length - 1);
  if (i !== null) return call(clamp(i));
  const idx = np.clip(np.reshape(asArray(index, "lax.switch: index"), []), 0, branches.length - 1);
  let out: unknown = call(branches.length - 1);
  for (let k = branches.length - 2; k >= 0; k--) {
    out = selectTree("lax.switch", np.lessEqual(idx, k), call(k), out);
  }
  return out;
}

/** The concrete integer value of a loop bound, or null when it is traced. */
function concreteBound(fnName: string, name: string, x: ArrayLike): number | null {
  const v = concreteScalar(fnName, x);
  if (v !== null && !Number.isInteger(v)) {
    throw new InvalidArgumentError(`${fnName}: ${name} must be an integer, got ${v}`);
  }
  return v;
}

/** A loop bound as a 0-d int32 array (a traced float bound is truncated, as astype does). */
function int32Bound(fnName: string, name: string, x: ArrayLike): Array {
  const a = np.reshape(asArray(x, `${fnName}: ${name}`), []);
  if (a.dtype === "bool") {
    throw new DTypeError(`${fnName}: ${name} must be an integer, got a bool array`);
  }
  return a.dtype === "int32" ? a : a.astype("int32");
}

export interface ForILoopOptions {
  /**
   * With concrete bounds: run the loop as lax.scan over the indices with
   * this checkpoint option, so reverse mode keeps at most `snapshots`
   * carries and recomputes the rest (binomial checkpointing, revolve).
   * Ignored when a bound is traced (the staged while has its own reverse
   * pass).
   */
  checkpoint?: { snapshots: number };
}

/**
 * forILoop(lower, upper, body, init, opts?): carry = body(i, carry) for i in
 * [lower, upper). With concrete bounds the loop runs in JavaScript (reverse
 * mode of any length works), or with `checkpoint` as a checkpointed scan over
 * the indices; with traced bounds (e.g. arguments of a jitted function) it is
 * one staged `while` primitive, whose program does not grow with the trip
 * count.
 */
export function forILoop(
  lower: ArrayLike,
  upper: ArrayLike,
  body: (i: Array, carry: never) => unknown,
  init: unknown,
  opts: ForILoopOptions = {},
): PyTree {
  const step = body as (i: Array, c: unknown) => unknown;
  const lo = concreteBound("lax.forILoop", "lower", lower);
  const hi = concreteBound("lax.forILoop", "upper", upper);
  if (lo !== null && hi !== null && opts.checkpoint !== undefined && hi > lo) {
    // The checkpointed scan over xs = [lo, lo + 1, ..., hi - 1] (int32).
    const indices = np.arange(lo, hi).astype("int32");
    const scanned: [PyTree, PyTree] = scan(
      (c: never, i: never) => [step(i, c), null],
      init,
      indices,
      { checkpoint: opts.checkpoint },
    );
    return scanned[0];
  }
  if (lo !== null && hi !== null) {
    let carry = init;
    for (let i = lo; i < hi; i++) carry = step(np.array(i, { dtype: "int32" }), carry);
    return carry;
  }
  const loArr =
    lo !== null ? np.array(lo, { dtype: "int32" }) : int32Bound("lax.forILoop", "lower", lower);
  const hiArr =
    hi !== null ? np.array(hi, { dtype: "int32" }) : int32Bound("lax.forILoop", "upper", upper);
  const [leaves, def] = flatten(init);
  const initLeaves = leaves.map((l, k) => asArray(l, `lax.forILoop: init leaf ${k}`));
  const one = np.array(1, { dtype: "int32" });
  const out = stagedWhile(
    "lax.forILoop",
    ([i]) => np.less(i!, hiArr),
    ([i, ...carry]) => {
      const next = step(i!, unflatten(def, carry));
      return [np.add(i!, one), ...carryLeaves("lax.forILoop", def, next)];
    },
    [loArr, ...initLeaves],
  );
  return unflatten(def, out.slice(1));
}

/** The leaves of the body's new carry, checked against the carry's structure. */
function carryLeaves(fnName: string, def: TreeDef, next: unknown): Array[] {
  const [leaves, nextDef] = flatten(next);
  if (treeDefString(nextDef) !== treeDefString(def)) {
    throw new InvalidArgumentError(
      `${fnName}: the body returned the structure ${treeDefString(nextDef)} for a carry of ` +
        `structure ${treeDefString(def)}; it must return the carry's structure`,
    );
  }
  return leaves.map((l, k) => asArray(l, `${fnName}: the body's output leaf ${k}`));
}

/**
 * whileLoop(condFn, bodyFn, init): carry = bodyFn(carry) while condFn(carry).
 * While the condition is concrete the loop runs in JavaScript (exact under
 * every transformation); from the first traced condition (inside jit, or one
 * that differs per batch element inside vmap) the rest of the loop is one
 * staged `while` primitive (see while.ts; forward mode and vmap go through
 * it, and so does reverse mode, storing one carry per step).
 */
export function whileLoop(
  condFn: (carry: never) => ArrayLike,
  bodyFn: (carry: never) => unknown,
  init: unknown,
): PyTree {
  const condition = condFn as (c: unknown) => ArrayLike;
  const step = bodyFn as (c: unknown) => unknown;
  let carry = init;
  for (;;) {
    const v = concreteScalar("lax.whileLoop", condition(carry));
    if (v === null) break;
    if (v === 0) return carry;
    carry = step(carry);
  }
  const [leaves, def] = flatten(carry);
  const initLeaves = leaves.map((l, k) => asArray(l, `lax.whileLoop: init leaf ${k}`));
  const out = stagedWhile(
    "lax.whileLoop",
    (c) => asArray(condition(unflatten(def, c)), "lax.whileLoop: condition"),
    (c) => carryLeaves("lax.whileLoop", def, step(unflatten(def, c))),
    initLeaves,
  );
  return unflatten(def, out);
}

export { scan, type ScanOptions } from "./scan.js";
export { switchCase as switch };
