/**
 * `lax`: structured control flow with JAX's signatures.
 *
 * This first implementation runs the control flow in JavaScript, so it is
 * exact under every transformation: a branch whose predicate is concrete
 * (eager, grad, jvp) runs alone; a predicate that is abstract (inside jit) or
 * differs per batch element (inside vmap) evaluates every branch and selects
 * the results elementwise, as JAX does for cond under vmap. Loops are
 * unrolled: reverse mode through them stores every step (use checkpoint on
 * the body to trade memory for recomputation), and under jit the compiler
 * re-rolls them into loops. whileLoop needs a concrete condition. scan (in
 * scan.ts) adds binomial checkpointing and a gradient horizon.
 */
import { Array, type ArrayLike } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { ConcretizationError, InvalidArgumentError, ShapeError } from "../core/errors.js";
import * as np from "../numpy/index.js";
import { flatten, map as treeMap, treeDefString, type PyTree } from "../tree/index.js";

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

function concreteBound(fnName: string, name: string, x: ArrayLike): number {
  const v = concreteScalar(fnName, x);
  if (v === null || !Number.isInteger(v)) {
    throw new ConcretizationError(
      `${fnName}: ${name} must be a concrete integer (a JS number), got a traced or non-integer value`,
    );
  }
  return v;
}

/** forILoop(lower, upper, body, init): carry = body(i, carry) for i in [lower, upper). */
export function forILoop(
  lower: ArrayLike,
  upper: ArrayLike,
  body: (i: Array, carry: never) => unknown,
  init: unknown,
): PyTree {
  const lo = concreteBound("lax.forILoop", "lower", lower);
  const hi = concreteBound("lax.forILoop", "upper", upper);
  let carry = init;
  for (let i = lo; i < hi; i++)
    carry = (body as (i: Array, c: unknown) => unknown)(np.array(i, { dtype: "int32" }), carry);
  return carry;
}

/** whileLoop(condFn, bodyFn, init): carry = bodyFn(carry) while condFn(carry). */
export function whileLoop(
  condFn: (carry: never) => ArrayLike,
  bodyFn: (carry: never) => unknown,
  init: unknown,
): PyTree {
  let carry = init;
  const test = () => {
    const v = concreteScalar("lax.whileLoop", (condFn as (c: unknown) => ArrayLike)(carry));
    if (v === null) {
      throw new ConcretizationError(
        "lax.whileLoop: the condition is traced (inside jit, or differs per batch element in vmap); " +
          "this implementation needs a concrete condition: use lax.forILoop with a fixed trip " +
          "count, or call the loop outside jit",
      );
    }
    return v !== 0;
  };
  while (test()) carry = (bodyFn as (c: unknown) => unknown)(carry);
  return carry;
}

export { scan, type ScanOptions } from "./scan.js";
export { switchCase as switch };
