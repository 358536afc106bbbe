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
 */
export { cond, switchCase, switchCase as switch } from "./cond.js";
export { forILoop, whileLoop, type ForILoopOptions } from "./loops.js";
export { scan, type ScanOptions } from "./scan.js";
