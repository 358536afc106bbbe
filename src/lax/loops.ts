/**
 * lax.forILoop and lax.whileLoop: loops with a carry.
 *
 * While a loop's condition (bounds) is concrete, it runs in JavaScript:
 * exact under every transformation, reverse mode included (every step on
 * the tape; a forILoop with the checkpoint option runs as a checkpointed
 * lax.scan). A whileLoop whose condition is traced, and a forILoop whose
 * bounds are traced, become one staged `while` primitive (while.ts).
 *
 * Every step's new carry must have the initial carry's type (structure, and
 * each leaf's shape and dtype): the JS loop checks each step (shapes and
 * dtypes only, cheap), the staged loop checks its traced body, with the same
 * messages (treeTypes.ts).
 */
import { type Array, type ArrayLike } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { DTypeError, InvalidArgumentError } from "../core/errors.js";
import * as np from "../numpy/index.js";
import { flatten, unflatten, type PyTree } from "../tree/index.js";
import { concreteScalar } from "./cond.js";
import { scan } from "./scan.js";
import {
  type TreeType,
  carryWording,
  checkTreeType,
  hasTreeType,
  treeTypeOf,
} from "./treeTypes.js";
import { stagedWhile } from "./while.js";

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

/** Options of lax.forILoop. */
export interface ForILoopOptions {
  /**
   * With concrete bounds: run the loop as lax.scan over the indices with
   * this checkpoint option, so reverse mode keeps at most `snapshots`
   * carries and recomputes the rest (binomial checkpointing, revolve).
   * Ignored when a bound is traced (the staged while has its own reverse
   * pass).
   */
  checkpoint?: {
    /** The most carries stored at once (at least 1). */
    snapshots: number;
  };
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
  const fnName = "lax.forILoop";
  const step = body as (i: Array, c: unknown) => unknown;
  const lo = concreteBound(fnName, "lower", lower);
  const hi = concreteBound(fnName, "upper", upper);
  const initType = treeTypeOf(fnName, "init", init);
  /** The body's new carry, checked against the initial carry's type. */
  const checkedStep = (i: Array, c: unknown): unknown => {
    const next = step(i, c);
    if (!hasTreeType(next, initType)) checkedCarryLeaves(fnName, next, initType);
    return next;
  };
  if (lo !== null && hi !== null && opts.checkpoint !== undefined && hi > lo) {
    // The checkpointed scan over xs = [lo, lo + 1, ..., hi - 1] (int32).
    const indices = np.arange(lo, hi).astype("int32");
    const scanned: [PyTree, PyTree] = scan(
      (c: never, i: never) => [checkedStep(i, c), null],
      init,
      indices,
      { checkpoint: opts.checkpoint },
    );
    return scanned[0];
  }
  if (lo !== null && hi !== null) {
    let carry = init;
    for (let i = lo; i < hi; i++) carry = checkedStep(np.array(i, { dtype: "int32" }), carry);
    return carry;
  }
  const loArr = lo !== null ? np.array(lo, { dtype: "int32" }) : int32Bound(fnName, "lower", lower);
  const hiArr = hi !== null ? np.array(hi, { dtype: "int32" }) : int32Bound(fnName, "upper", upper);
  const [leaves, def] = flatten(init);
  const initLeaves = leaves.map((l, k) => asArray(l, `${fnName}: init leaf ${k}`));
  const one = np.array(1, { dtype: "int32" });
  const out = stagedWhile(
    fnName,
    ([i]) => np.less(i!, hiArr),
    ([i, ...carry]) => {
      const next = step(i!, unflatten(def, carry));
      return [np.add(i!, one), ...checkedCarryLeaves(fnName, next, initType)];
    },
    [loArr, ...initLeaves],
  );
  return unflatten(def, out.slice(1));
}

/**
 * The leaves of the body's new carry (arrays), after checking that its type
 * is the initial carry's: every step, in the JS loop and in the staged body.
 */
function checkedCarryLeaves(fnName: string, next: unknown, initType: TreeType): Array[] {
  const [leaves, def] = flatten(next);
  const arrays = leaves.map((l, k) => asArray(l, `${fnName}: the body's carry leaf ${k}`));
  checkTreeType({ def, avals: arrays }, initType, carryWording(fnName, "the body"));
  return arrays;
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
  const fnName = "lax.whileLoop";
  const condition = condFn as (c: unknown) => ArrayLike;
  const step = bodyFn as (c: unknown) => unknown;
  const initType = treeTypeOf(fnName, "init", init);
  let carry = init;
  for (;;) {
    const v = concreteScalar(fnName, condition(carry));
    if (v === null) break;
    if (v === 0) return carry;
    carry = step(carry);
    if (!hasTreeType(carry, initType)) checkedCarryLeaves(fnName, carry, initType);
  }
  const [leaves, def] = flatten(carry);
  const initLeaves = leaves.map((l, k) => asArray(l, `${fnName}: init leaf ${k}`));
  const out = stagedWhile(
    fnName,
    (c) => asArray(condition(unflatten(def, c)), `${fnName}: condition`),
    (c) => checkedCarryLeaves(fnName, step(unflatten(def, c)), initType),
    initLeaves,
  );
  return unflatten(def, out);
}
