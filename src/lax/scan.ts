/**
 * lax.scan: a loop with a carry, stacked per-step outputs, and two options
 * for long loops under reverse mode.
 *
 *   scan(f, init, xs)             [carry, ys]: carry, y_t = f(carry, x_t)
 *   { checkpoint: { snapshots } } binomial checkpointing (revolve) in the
 *                                 backward pass: O(snapshots) stored states
 *                                 instead of every step's intermediates
 *   { gradientHorizon: H }        truncated backpropagation: gradients flow
 *                                 back at most H steps
 *
 * Without checkpointing the loop runs in JavaScript (unrolled): exact under
 * every transformation, and reverse mode stores every step on the tape.
 *
 * With checkpointing, when scan is reached by reverse mode, it does not
 * unroll onto the tape: scanCheckpoint.ts traces f once (closure conversion,
 * so closed-over parameters are differentiated too), records one linear
 * equation for the whole loop, and runs the backward sweep by the revolve
 * schedule (revolve.ts). Forward mode sees the unrolled loop, which gives the
 * same values.
 *
 * Under jit (or makeJaxpr) tracing, scan is staged as ONE `while` equation
 * (scanStaged.ts): the program does not grow with the length, and jvp, vmap
 * and reverse mode go through the while machinery (while.ts,
 * whileReverse.ts). There the checkpoint option is not the revolve schedule:
 * the while's reverse pass stores every carry up to a memory budget, then
 * thins them to checkpoints. gradientHorizon still unrolls under jit.
 */
import { type Array, type ArrayLike } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { InvalidArgumentError, ShapeError } from "../core/errors.js";
import * as np from "../numpy/index.js";
import { flatten, unflatten, type PyTree, type TreeDef } from "../tree/index.js";
import { isTracingDynamically } from "../core/trace.js";
import { scanCheckpointed } from "./scanCheckpoint.js";
import { scanStaged } from "./scanStaged.js";

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
   * C(s + r, s) >= T.
   */
  checkpoint?: { snapshots: number };
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

type Step = (c: unknown, x: unknown) => unknown;

/** The validated inputs of one scan call. */
export interface ScanCall {
  step: Step;
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

/** Stacks per-step output trees (ys[t] for t = 0..T-1) along a new leading axis. */
function stackOutputs(ys: readonly unknown[]): PyTree {
  if (ys.length === 0) return null;
  const [firstLeaves, yDef] = flatten(ys[0]);
  const stacked = firstLeaves.map((_, j) => np.stack(ys.map((y) => flatten(y)[0][j] as ArrayLike)));
  return unflatten(yDef, stacked);
}

/** The plain loop (unrolled): exact under every transformation. */
function scanUnrolled(call: ScanCall): [PyTree, PyTree] {
  const { step, xArrays, xDef, length, reverse, horizon } = call;
  let carry = call.init;
  const ys: unknown[] = new globalThis.Array(length);
  for (let k = 0; k < length; k++) {
    const t = reverse ? length - 1 - k : k;
    if (cutBefore(k, horizon)) carry = cutCarry(carry);
    const xt = unflatten(
      xDef,
      xArrays.map((x) => np.take(x, t, 0)),
    );
    const [c, y] = pairOf(step(carry, xt));
    carry = c;
    ys[t] = y;
  }
  if (length === 0) return [carry, null];
  return [carry, stackOutputs(ys)];
}

function cutCarry(carry: unknown): unknown {
  const [leaves, def] = flatten(carry);
  return unflatten(
    def,
    leaves.map((l, i) => np.stopGradient(asArray(l, `lax.scan: carry leaf ${i}`))),
  );
}

function checkPositiveInt(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new InvalidArgumentError(
      `lax.scan: ${name} must be a positive integer (a JS number), got ${String(v)}`,
    );
  }
  return v;
}

/**
 * scan(f, init, xs, opts) -> [carry, ys]: for each step t, [carry, y_t] =
 * f(carry, x_t) with x_t the t-th slice (leading axis) of every leaf of xs;
 * ys stacks the y_t along a new leading axis.
 */
export function scan(
  f: (carry: never, x: never) => [unknown, unknown],
  init: unknown,
  xs: unknown,
  opts: ScanOptions = {},
): [PyTree, PyTree] {
  const [xLeaves, xDef] = flatten(xs);
  const xArrays = xLeaves.map((l, i) => asArray(l, `lax.scan: xs leaf ${i}`));
  let length = opts.length;
  for (const [i, x] of xArrays.entries()) {
    if (x.ndim === 0)
      throw new ShapeError(
        `lax.scan: xs leaf ${i} is a scalar; scanned arrays need a leading axis`,
      );
    const n = x.shape[0]!;
    if (length !== undefined && n !== length) {
      throw new ShapeError(
        `lax.scan: xs leaf ${i} has leading size ${n} but the scan length is ${length}`,
      );
    }
    length = n;
  }
  if (length === undefined)
    throw new InvalidArgumentError("lax.scan: give xs or the length option");
  const horizon =
    opts.gradientHorizon === undefined
      ? null
      : checkPositiveInt("gradientHorizon", opts.gradientHorizon);
  const call: ScanCall = {
    step: f as Step,
    init,
    xArrays,
    xDef,
    length,
    reverse: opts.reverse === true,
    horizon,
  };
  if (opts.checkpoint !== undefined) {
    const cp = opts.checkpoint as unknown;
    if (cp === null || typeof cp !== "object") {
      throw new InvalidArgumentError(
        `lax.scan: checkpoint must be an object { snapshots: number }, got ${String(cp)}`,
      );
    }
    const snapshots = checkPositiveInt(
      "checkpoint.snapshots",
      (cp as { snapshots?: unknown }).snapshots,
    );
    const out = length > 0 ? scanCheckpointed(call, snapshots, scan) : null;
    if (out !== null) return out;
  }
  if (isTracingDynamically()) {
    // Under jit/makeJaxpr: one staged `while` equation, whatever the length.
    const staged = scanStaged(call);
    if (staged !== null) return staged;
  }
  return scanUnrolled(call);
}
