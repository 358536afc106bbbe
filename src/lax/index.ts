/**
 * `lax`: structured control flow with JAX's signatures.
 *
 * Control flow on concrete values runs in JavaScript, so it is exact under
 * every transformation: a branch whose predicate is concrete (eager, grad,
 * jvp) runs alone; a predicate that is abstract (inside jit) or differs per
 * batch element (inside vmap) evaluates every branch and selects the results
 * elementwise, as JAX does for cond under vmap (cond.ts). Loops with
 * concrete bounds or conditions unroll: reverse mode through them stores
 * every step (use checkpoint on the body to trade memory for recomputation),
 * and under jit the compiler re-rolls them into loops. A whileLoop whose
 * condition is traced, and a forILoop whose bounds are traced, become one
 * staged `while` primitive (loops.ts, while.ts): jit, vmap (per-element trip
 * counts) and forward mode go through it, and reverse mode too (the loop
 * runs forwards storing its carries, then backwards, when its values are
 * concrete; see whileReverse.ts). lax.scan is in scan.ts.
 *
 * Branches must agree in type, and loop carries keep their type from step
 * to step, checked the same way eagerly and under jit (treeTypes.ts).
 *
 * @module
 */
import { Array, type ArrayLike } from "../core/array.js";
import { asArray, expectOptions } from "../core/convert.js";
import { map as treeMap } from "../tree/index.js";
import type { Arrays, Inputs, LooseInput } from "../tree/types.js";
import { cond as condImpl, switchCase as switchImpl } from "./cond.js";
import {
  forILoop as forILoopImpl,
  whileLoop as whileLoopImpl,
  type ForILoopOptions,
} from "./loops.js";
import { scan as scanImpl, type ScanOptions } from "./scan.js";

export type { ForILoopOptions, ScanOptions };

/**
 * The tree with its number, boolean and TypedArray leaves made Arrays (as JAX
 * converts operands and carries), so that branches and loop bodies see
 * Arrays, as their types say; other leaves are left for the checks in the
 * implementations.
 */
function arrayLeaves(fnName: string, tree: unknown): unknown {
  return treeMap(
    (leaf) =>
      leaf instanceof Array ||
      !(typeof leaf === "number" || typeof leaf === "boolean" || ArrayBuffer.isView(leaf))
        ? leaf
        : asArray(leaf, fnName),
    tree,
  );
}

/**
 * `trueFn(...operands)` when `pred` is true, else `falseFn(...operands)`.
 * Both branches must return the same type (structure, shapes, dtypes). With a
 * concrete predicate only the chosen branch runs; with a traced one (inside
 * jit) or a batched one (inside vmap) both run and the results are selected
 * elementwise, so both must be safe to evaluate.
 *
 * @example
 * ```ts
 * import { lax, np } from "chainrule";
 * const y = lax.cond(np.array(1).gt(0), (x) => x.mul(2), (x) => x.neg(), np.array(3));
 * // y is 6
 * ```
 */
export function cond<Ops extends unknown[] = Array[], R1 = Array, R2 = R1>(
  pred: ArrayLike,
  trueFn: (...operands: Ops) => R1,
  falseFn: (...operands: Ops) => R2,
  ...operands: Inputs<Ops>
): Arrays<R1 | R2> {
  const ops = arrayLeaves("lax.cond: operand", operands) as never[];
  return condImpl(pred, trueFn, falseFn, ...ops) as Arrays<R1 | R2>;
}

/**
 * `branches[index](...operands)`, with `index` clamped to the valid range
 * (as JAX does). Every branch must return the same type. A traced or batched
 * index evaluates every branch and selects elementwise.
 *
 * @example
 * ```ts
 * import { lax, np } from "chainrule";
 * const y = lax.switch(1, [(x) => x.add(1), (x) => x.mul(10)], np.array(2));
 * // y is 20
 * ```
 */
export function switchCase<Ops extends unknown[] = Array[], R = Array>(
  index: ArrayLike,
  branches: readonly ((...operands: Ops) => R)[],
  ...operands: Inputs<Ops>
): Arrays<R> {
  const ops = arrayLeaves("lax.switch: operand", operands) as never[];
  return switchImpl(index, branches, ...ops) as Arrays<R>;
}
export { switchCase as switch };

/**
 * `carry = body(i, carry)` for `i` in `[lower, upper)`, returning the final
 * carry (any pytree; numbers in `init` become Arrays). Concrete bounds run
 * the loop in JavaScript, exact under every transformation; traced bounds
 * (arguments of a jitted function) give one staged loop whose program does
 * not grow with the trip count.
 *
 * @example
 * ```ts
 * import { lax, np } from "chainrule";
 * const sum = lax.forILoop(0, 4, (i, acc) => acc.add(i), np.array(0)); // 0+1+2+3 = 6
 * ```
 */
export function forILoop<const C>(
  lower: ArrayLike,
  upper: ArrayLike,
  body: (i: Array, carry: NoInfer<Arrays<C>>) => NoInfer<LooseInput<C>>,
  init: C,
  opts?: ForILoopOptions,
): Arrays<C> {
  expectOptions(
    "lax.forILoop",
    opts,
    ["checkpoint"],
    "lax.forILoop(0, n, body, init, { checkpoint: { snapshots: 10 } })",
  );
  const carry = arrayLeaves("lax.forILoop: init", init);
  return forILoopImpl(lower, upper, body, carry, opts) as Arrays<C>;
}

/**
 * `carry = bodyFn(carry)` while `condFn(carry)` is true, returning the final
 * carry. A concrete condition runs the loop in JavaScript; from the first
 * traced condition (inside jit, or batched inside vmap) the rest is one
 * staged loop, which forward mode, vmap and reverse mode go through.
 *
 * @example
 * ```ts
 * import { lax, np } from "chainrule";
 * const x = lax.whileLoop((c) => c.lt(100), (c) => c.mul(2), np.array(1)); // 128
 * ```
 */
export function whileLoop<const C>(
  condFn: (carry: NoInfer<Arrays<C>>) => ArrayLike,
  bodyFn: (carry: NoInfer<Arrays<C>>) => NoInfer<LooseInput<C>>,
  init: C,
): Arrays<C> {
  const carry = arrayLeaves("lax.whileLoop: init", init);
  return whileLoopImpl(condFn, bodyFn, carry) as Arrays<C>;
}

/**
 * A loop with a carry and stacked per-step outputs:
 * `carry, y_t = f(carry, x_t)` for each slice `x_t` of `xs` along its leading
 * axis (or `length` steps when `xs` is null); returns `[carry, ys]` with the
 * `y_t` stacked along a new leading axis. `checkpoint: { snapshots }` stores
 * only that many carries in reverse mode (binomial checkpointing).
 *
 * @example
 * ```ts
 * import { lax, np } from "chainrule";
 * const [total, partial] = lax.scan((c, x) => [c.add(x), c.add(x)], np.array(0), np.array([1, 2, 3]));
 * // total is 6, partial is [1, 3, 6]
 * ```
 */
export function scan<const C, const X, Y>(
  f: (carry: NoInfer<Arrays<C>>, x: NoInfer<Arrays<X>>) => readonly [NoInfer<LooseInput<C>>, Y],
  init: C,
  xs: X,
  opts?: ScanOptions,
): [Arrays<C>, Arrays<Y>] {
  // jax.lax.scan(f, init, xs, length, reverse) takes them positionally.
  expectOptions(
    "lax.scan",
    opts,
    ["length", "reverse", "checkpoint", "gradientHorizon"],
    "lax.scan(f, init, null, { length: 10, reverse: true })",
  );
  const carry = arrayLeaves("lax.scan: init", init);
  return scanImpl(f as never, carry, xs, opts) as [Arrays<C>, Arrays<Y>];
}
