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
 * Two ways to run, chosen by the call alone (never by which transformation
 * is above):
 *   - one `scan` equation (scanPrimitive.ts) with the checkpoint option
 *     (eagerly and under jit: the same revolve schedule, the same values),
 *     and under jit or makeJaxpr tracing without it (the program does not
 *     grow with the length; the reverse pass stores carries up to a memory
 *     budget, then recomputes by revolve);
 *   - otherwise the loop runs in JavaScript (unrolled): exact under every
 *     transformation, f may branch on concrete values, and reverse mode
 *     stores every step on the tape. Also the fallback under jit when f
 *     needs concrete values, and for zero-length scans.
 */
import { type ArrayLike } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { InvalidArgumentError, ShapeError } from "../core/errors.js";
import { isTracingDynamically } from "../core/trace.js";
import * as np from "../numpy/index.js";
import { flatten, unflatten, type PyTree } from "../tree/index.js";
import { type ScanCall, type ScanOptions, type ScanStep, cutBefore, pairOf } from "./scanCall.js";
import { stagedScan } from "./scanPrimitive.js";
import {
  type TreeType,
  type TypeCheckWording,
  carryWording,
  checkTreeType,
  hasTreeType,
  treeTypeOf,
} from "./treeTypes.js";

export type { ScanOptions } from "./scanCall.js";

/**
 * Benchmark switch: `enabled: false` unrolls scans without the checkpoint
 * option under jit too (bench/scanJit.ts measures both in one process).
 */
export const scanStaging = { enabled: true };

/** Stacks per-step output trees (ys[t] for t = 0..T-1) along a new leading axis. */
function stackOutputs(ys: readonly unknown[]): PyTree {
  if (ys.length === 0) return null;
  const [firstLeaves, yDef] = flatten(ys[0]);
  const stacked = firstLeaves.map((_, j) => np.stack(ys.map((y) => flatten(y)[0][j] as ArrayLike)));
  return unflatten(yDef, stacked);
}

/** Wording of the check that every step's y has the first step's type. */
function yWording(step: number, firstStep: number): TypeCheckWording {
  return {
    fnName: "lax.scan",
    root: "y",
    got: `the y of step ${step}`,
    expected: `the y of step ${firstStep}`,
    advice: {
      structure: "every step must return y of the same structure (the ys are stacked)",
      shape: "every step must return y of the same shapes (the ys are stacked on a new axis)",
      dtype: "every step must return y of the same dtypes (convert with astype in f)",
    },
  };
}

/**
 * The plain loop (unrolled): exact under every transformation. Every step's
 * new carry is checked against the initial carry's type, and its y against
 * the first step's (shapes and dtypes only: cheap), as the staged loop under
 * jit checks them.
 */
function scanUnrolled(call: ScanCall): [PyTree, PyTree] {
  const { step, xArrays, xDef, length, reverse, horizon } = call;
  let carry = call.init;
  const carryType = treeTypeOf("lax.scan", "init", carry);
  const wording = carryWording("lax.scan", "f");
  let firstY: TreeType | null = null;
  const ys: unknown[] = new globalThis.Array(length);
  for (let k = 0; k < length; k++) {
    const t = reverse ? length - 1 - k : k;
    if (cutBefore(k, horizon)) carry = cutCarry(carry);
    const xt = unflatten(
      xDef,
      xArrays.map((x) => np.take(x, t, 0)),
    );
    const [c, y] = pairOf(step(carry, xt));
    if (!hasTreeType(c, carryType)) {
      checkTreeType(treeTypeOf("lax.scan", "the new carry", c), carryType, wording);
    }
    if (firstY === null) firstY = treeTypeOf("lax.scan", "y", y);
    else if (!hasTreeType(y, firstY)) {
      checkTreeType(treeTypeOf("lax.scan", "y", y), firstY, yWording(t, reverse ? length - 1 : 0));
    }
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
        `lax.scan: xs leaf ${i} is a scalar; scanned arrays need a leading axis` +
          (typeof xLeaves[i] === "number" || typeof xLeaves[i] === "boolean"
            ? ` (it is the JS number ${String(xLeaves[i])}: a JS list is a pytree whose leaves ` +
              `are its numbers, as in JAX; to scan over a list's entries pass np.array(list))`
            : ""),
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
    step: f as ScanStep,
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
    if (length > 0) return stagedScan(call, snapshots)!;
  }
  if (length > 0 && scanStaging.enabled && isTracingDynamically()) {
    // Under jit/makeJaxpr: one `scan` equation, whatever the length.
    const staged = stagedScan(call, null);
    if (staged !== null) return staged;
  }
  return scanUnrolled(call);
}
