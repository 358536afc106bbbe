/**
 * What the ways of running a lax.scan share: its options, one call's
 * validated inputs, and the helpers every path applies the same way.
 *
 * scan.ts validates a call into a ScanCall and picks a path: the unrolled
 * loop (scan.ts) or one `scan` equation (scanPrimitive.ts, with the
 * checkpoint option or under jit). The paths import this module, never
 * scan.ts, so the dependencies point one way.
 */
import { type Array } from "../core/array.js";
import { InvalidArgumentError } from "../core/errors.js";
import { type TreeDef } from "../tree/index.js";

/** Options of lax.scan. */
export interface ScanOptions {
  /** Number of steps (required when xs is null). */
  length?: number;
  /** Scan from the last element to the first. */
  reverse?: boolean;
  /**
   * Binomial checkpointing under reverse mode: keep at most `snapshots`
   * carries (the initial one included) and recompute the others in the
   * backward pass by Griewank's revolve schedule: for T steps and s snapshots
   * about r T extra step evaluations, where r is the smallest integer with
   * C(s + r, s) >= T. The scan is then one `scan` equation, eagerly and
   * under jit alike (the same schedule), so f must be traceable abstractly.
   */
  checkpoint?: {
    /** The most carries stored at once (at least 1). */
    snapshots: number;
  };
  /**
   * Truncated backpropagation through time with window H: the carry entering
   * step k (in the order the steps run) is passed through stopGradient
   * whenever k > 0 and k % H == 0. So every derivative flows back through at
   * most H steps of the carry: the loss's dependence on states older than the
   * current block is ignored (useful for chaotic simulations, whose exact
   * long-range gradients explode). Values are unchanged. Default: no horizon.
   */
  gradientHorizon?: number;
}

/** The step function f(carry, x) -> [carry, y], untyped. */
export type ScanStep = (c: unknown, x: unknown) => unknown;

/** The validated inputs of one scan call. */
export interface ScanCall {
  step: ScanStep;
  init: unknown;
  xArrays: Array[];
  xDef: TreeDef;
  length: number;
  reverse: boolean;
  horizon: number | null;
}

/** The step's output as a checked pair. */
export function pairOf(out: unknown): [unknown, unknown] {
  if (!globalThis.Array.isArray(out) || out.length !== 2) {
    throw new InvalidArgumentError("lax.scan: f must return a pair [carry, y]");
  }
  return [out[0], out[1]];
}

/** True when the carry entering step k is cut from the gradient. */
export function cutBefore(k: number, horizon: number | null): boolean {
  return horizon !== null && k > 0 && k % horizon === 0;
}
