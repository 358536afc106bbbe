/**
 * lax.cond and lax.switch: choosing among branches by a scalar.
 *
 * A predicate (index) that is concrete (eager, grad, jvp) runs its branch
 * alone; one that is abstract (inside jit) or differs per batch element
 * (inside vmap) evaluates every branch and selects the results elementwise,
 * as JAX does for cond under vmap.
 *
 * Either way the branches must return the same type: the same structure,
 * and each leaf the same shape and dtype. The branches not taken are not
 * run: their output types come from abstract evaluation (each is traced to
 * a program on the operands' shapes and dtypes, and only the program's
 * output types are read), so eager code gets exactly the errors jit gives.
 * A branch that needs concrete values to be traced (x.item() on an operand)
 * cannot be evaluated abstractly; it is then not checked eagerly (under jit
 * it fails anyway).
 */
import { type Array, type ArrayLike } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { ConcretizationError, InvalidArgumentError, ShapeError } from "../core/errors.js";
import { traceToJaxpr } from "../ir/jaxpr.js";
import * as np from "../numpy/index.js";
import { flatten, map as treeMap, type PyTree } from "../tree/index.js";
import {
  type TreeType,
  type TypeCheckWording,
  checkTreeType,
  treeTypeFrom,
  treeTypeOf,
} from "./treeTypes.js";

type Branch = (...operands: unknown[]) => unknown;

/** The concrete JS value of a scalar predicate, or null when it is abstract or batched. */
export function concreteScalar(fnName: string, x: unknown): number | null {
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

/**
 * The output type of `branch(...operands)` by abstract evaluation (the
 * branch traced on the operands' shapes and dtypes, not run), or null when
 * tracing it needs concrete values.
 */
function abstractOutputType(fnName: string, branch: Branch, operands: unknown[]): TreeType | null {
  const [leaves, inDef] = flatten(operands);
  const avals = leaves.map((leaf, i) => {
    const a = asArray(leaf, `${fnName}: operand leaf ${i}`);
    return { shape: a.shape, dtype: a.dtype };
  });
  try {
    const { jaxpr, outDef } = traceToJaxpr(branch, inDef, avals);
    return treeTypeFrom(outDef, jaxpr.outVars);
  } catch (e) {
    if (e instanceof ConcretizationError) return null;
    throw e;
  }
}

/** Wording of the check that one branch returns the type another does. */
function branchWording(fnName: string, got: string, expected: string): TypeCheckWording {
  const both = `${got} and ${expected} must return the same`;
  return {
    fnName,
    root: "output",
    got: `${got}'s output`,
    expected: `${expected}'s`,
    advice: {
      structure: `${both} structure (the same nesting, keys and number of leaves)`,
      shape:
        `${both} shapes (broadcast with np.broadcastTo or reshape in the branch; jit ` +
        "compiles both branches into one program)",
      dtype:
        `${both} dtypes (convert with astype in the branch, e.g. x.astype("float64"); a JS ` +
        "number is a float64 scalar)",
    },
  };
}

/** Elementwise choice between two pytrees of the same type. */
function selectTree(pred: Array, onTrue: unknown, onFalse: unknown): PyTree {
  return treeMap((a, b) => np.where(pred, a as ArrayLike, b as ArrayLike), onTrue, onFalse);
}

/** cond(pred, trueFn, falseFn, ...operands): trueFn(...operands) if pred, else falseFn(...operands). */
export function cond(
  pred: ArrayLike,
  trueFn: (...operands: never[]) => unknown,
  falseFn: (...operands: never[]) => unknown,
  ...operands: unknown[]
): PyTree {
  const fnName = "lax.cond";
  const p = concreteScalar(fnName, pred);
  const t = trueFn as Branch;
  const f = falseFn as Branch;
  if (p !== null) {
    const out = p ? t(...operands) : f(...operands);
    const other = abstractOutputType(fnName, p ? f : t, operands);
    if (other !== null) {
      const [taken, skipped] = p ? ["trueFn", "falseFn"] : ["falseFn", "trueFn"];
      checkTreeType(other, treeTypeOf(fnName, taken, out), branchWording(fnName, skipped, taken));
    }
    return out;
  }
  const predArray = np.notEqual(np.reshape(asArray(pred, "lax.cond: predicate"), []), 0);
  const onTrue = t(...operands);
  const onFalse = f(...operands);
  checkTreeType(
    treeTypeOf(fnName, "falseFn", onFalse),
    treeTypeOf(fnName, "trueFn", onTrue),
    branchWording(fnName, "falseFn", "trueFn"),
  );
  return selectTree(predArray, onTrue, onFalse);
}

/** switch(index, branches, ...operands): branches[clamp(index)](...operands). */
export function switchCase(
  index: ArrayLike,
  branches: readonly ((...operands: never[]) => unknown)[],
  ...operands: unknown[]
): PyTree {
  const fnName = "lax.switch";
  if (!globalThis.Array.isArray(branches) || branches.length === 0) {
    throw new InvalidArgumentError(`${fnName}: needs a non-empty array of branch functions`);
  }
  const fns = branches as readonly Branch[];
  const name = (k: number) => `branch ${k}`;
  const i = concreteScalar(fnName, index);
  const clamp = (k: number) => Math.min(Math.max(Math.trunc(k), 0), fns.length - 1);
  if (i !== null) {
    const k = clamp(i);
    const out = fns[k]!(...operands);
    const takenType = treeTypeOf(fnName, name(k), out);
    fns.forEach((branch, j) => {
      if (j === k) return;
      const other = abstractOutputType(fnName, branch, operands);
      if (other !== null) checkTreeType(other, takenType, branchWording(fnName, name(j), name(k)));
    });
    return out;
  }
  const idx = np.clip(np.reshape(asArray(index, "lax.switch: index"), []), 0, fns.length - 1);
  const outs = fns.map((branch) => branch(...operands));
  const firstType = treeTypeOf(fnName, name(0), outs[0]);
  outs.forEach((o, j) => {
    if (j > 0)
      checkTreeType(
        treeTypeOf(fnName, name(j), o),
        firstType,
        branchWording(fnName, name(j), name(0)),
      );
  });
  let out: unknown = outs[outs.length - 1];
  for (let k = outs.length - 2; k >= 0; k--) out = selectTree(np.lessEqual(idx, k), outs[k], out);
  return out;
}
