/**
 * lax.scan staged as ONE equation under jit (or makeJaxpr) tracing.
 *
 * Unrolled, a scan over T steps would put T copies of its step into the
 * traced program, so compile time would grow with T. Staged, scan becomes
 * the staged `while` primitive (while.ts) over the loop state
 *
 *   (i, carry leaves..., ys accumulators...)
 *
 *   while i < T:
 *     t      = reverse ? T - 1 - i : i
 *     x_t    = take(xs, t, axis 0)             (gather with a traced index)
 *     c, y_t = f(c, x_t)
 *     ys     = ys + scatterAdd(y_t, t, axis 0)  (ys starts at zeros; each
 *                                                row is written once, so the
 *                                                sum is exact)
 *     i      = i + 1
 *
 * whose program does not depend on T (T is a constant in the condition).
 * xs are closed over by the body, so while.ts lifts traced xs into operands:
 * every transformation of `while` applies unchanged. jvp, vmap and reverse
 * mode (jit(grad): whileReverse.ts stores the loop state per step, thinning
 * it to checkpoints past its memory budget) come from the while machinery.
 *
 * Cost: the ys accumulators are part of the loop state, so each step copies
 * them (O(T * |y|) work per step), and reverse mode with respect to xs adds
 * a [T, ...] cotangent per step; so scans with T * (|y| + |x| when xs are
 * differentiated) above maxStagedRowElements unroll as before, as do
 * gradientHorizon, zero-length scans, steps that need concrete values
 * (a ConcretizationError while tracing the step abstractly), and reverse
 * mode nested with another differentiation (hessian, grad of grad: the
 * while's reverse pass cannot be differentiated again). Scans whose
 * steps return y = null (or small y) are the ones staging makes cheap.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { ConcretizationError } from "../core/errors.js";
import { traceToJaxpr } from "../ir/jaxpr.js";
import * as np from "../numpy/index.js";
import { scatterAdd } from "../primitives/indexing.js";
import { JVPTracer } from "../transforms/jvp.js";
import { LinearTracer } from "../transforms/linearize.js";
import { BatchTracer } from "../transforms/vmap.js";
import { flatten, unflatten, type PyTree, type TreeDef } from "../tree/index.js";
import { type ScanCall, pairOf } from "./scanCall.js";
import { carryWording, checkTreeType, treeTypeFrom } from "./treeTypes.js";
import { stagedWhile } from "./while.js";

/**
 * Benchmark switch: `enabled: false` restores the unrolled staging under jit
 * (bench/scanJit.ts measures both in one process).
 */
export const scanStaging = { enabled: true };

/**
 * Largest T * (elements of one step's ys, or of one differentiated xs row)
 * that is staged. Staged, every step copies the [T, ...] accumulators (and,
 * in reverse mode with respect to xs, adds a [T, ...] cotangent), about
 * 5-30 ns per element and step; unrolled, each step costs 0.1-1.5 ms once
 * to compile and microseconds per call. bench/scanJit.ts --ys at T * |y| =
 * 16,000 found the first call on par but later calls 15-40 times slower
 * staged, so the bound is kept low: past it scans unroll as before.
 */
export const maxStagedRowElements = 2048;

/**
 * The differentiation levels (JVP traces) found in x's nesting of tracers,
 * and whether any of them is reverse mode (tape tangents).
 */
function collectDiffLevels(x: Array, levels: Set<number>, reverse: { any: boolean }): void {
  if (x instanceof JVPTracer) {
    levels.add(x.trace.main.level);
    if (x.tangent instanceof LinearTracer) reverse.any = true;
    collectDiffLevels(x.primal, levels, reverse);
    if (x.tangent !== null && !(x.tangent instanceof LinearTracer)) {
      collectDiffLevels(x.tangent, levels, reverse);
    }
  } else if (x instanceof BatchTracer) {
    collectDiffLevels(x.val, levels, reverse);
  }
}

/**
 * True when reverse mode is nested with another differentiation (hessian,
 * grad of grad): the staged while's reverse pass cannot be differentiated
 * again, so such scans unroll as before.
 */
function nestedReverse(values: readonly Array[]): boolean {
  const levels = new Set<number>();
  const reverse = { any: false };
  for (const v of values) collectDiffLevels(v, levels, reverse);
  return reverse.any && levels.size >= 2;
}

/** True when x's derivative is taken by reverse mode at the innermost level. */
function reverseDifferentiated(x: Array): boolean {
  return x instanceof JVPTracer && x.tangent instanceof LinearTracer;
}

/** What one step returns, found by tracing it once on abstract values. */
interface StepShape {
  /** Values the step closes over (traced ones among them are the loop's lifted inputs). */
  closedOver: Array[];
  carryDef: TreeDef;
  yDef: TreeDef;
  yAvals: Aval[];
}

/**
 * Traces the step abstractly to learn its output structure, or null if it
 * needs concrete values; a new carry whose type is not the initial carry's
 * is reported here, with the unrolled loop's message.
 */
function probeStep(call: ScanCall, carryAvals: Aval[], carryDef: TreeDef): StepShape | null {
  const xAvals = call.xArrays.map((x) => ({ shape: x.shape.slice(1), dtype: x.dtype }));
  const [, inDef] = flatten([carryAvals.map(() => 0), xAvals.map(() => 0)]);
  let yDef: TreeDef | undefined;
  let outCarryDef: TreeDef | undefined;
  try {
    const { jaxpr } = traceToJaxpr(
      (c: unknown, x: unknown) => {
        const [cNew, y] = pairOf(
          call.step(unflatten(carryDef, c as Array[]), unflatten(call.xDef, x as Array[])),
        );
        const [cLeaves, cd] = flatten(cNew);
        const [yLeaves, yd] = flatten(y);
        outCarryDef = cd;
        yDef = yd;
        return [cLeaves, yLeaves];
      },
      inDef,
      [...carryAvals, ...xAvals],
    );
    const nCarry = carryAvals.length;
    const outAvals = jaxpr.outVars.map((v) => ({ shape: v.shape, dtype: v.dtype }));
    // The new carry's type must be the initial carry's (the same check as the unrolled loop's).
    checkTreeType(
      treeTypeFrom(outCarryDef!, outAvals.slice(0, nCarry)),
      treeTypeFrom(carryDef, carryAvals),
      carryWording("lax.scan", "f"),
    );
    const yAvals = outAvals.slice(nCarry);
    return { closedOver: [...jaxpr.consts], carryDef, yDef: yDef!, yAvals };
  } catch (e) {
    if (e instanceof ConcretizationError) return null;
    throw e;
  }
}

/**
 * The scan as one staged `while`, or null when it should unroll (see the
 * header). Called only while a dynamic (jit/makeJaxpr) trace is active.
 */
export function scanStaged(call: ScanCall): [PyTree, PyTree] | null {
  const { length: T, reverse, xArrays, xDef } = call;
  if (!scanStaging.enabled || T === 0 || call.horizon !== null) return null;
  const [initRaw, carryDef] = flatten(call.init);
  const init = initRaw.map((l, i) => asArray(l, `lax.scan: init leaf ${i}`));
  const carryAvals: Aval[] = init.map((a) => ({ shape: a.shape, dtype: a.dtype }));
  const shape = probeStep(call, carryAvals, carryDef);
  if (shape === null) return null;
  const { yDef, yAvals } = shape;
  if (nestedReverse([...init, ...xArrays, ...shape.closedOver])) return null;
  const rowElements = (a: Aval) => a.shape.reduce((n, d) => n * d, 1);
  const ysElements = yAvals.reduce((n, a) => n + rowElements(a), 0);
  const xsElements = xArrays
    .filter(reverseDifferentiated)
    .reduce((n, x) => n + rowElements({ shape: x.shape.slice(1), dtype: x.dtype }), 0);
  if (T * (ysElements + xsElements) > maxStagedRowElements) return null;
  const nC = init.length;
  const accShapes = yAvals.map((a) => [T, ...a.shape]);
  // bool rows accumulate as int32 (0/1; sums are not defined on bool) and convert back after
  const accDtypes = yAvals.map((a) => (a.dtype === "bool" ? "int32" : a.dtype));
  const accInit = yAvals.map((_, j) => ConcreteArray.zeros(accShapes[j]!, accDtypes[j]!) as Array);
  const one = np.array(1, { dtype: "int32" });
  const last = np.array(T - 1, { dtype: "int32" });
  const out = stagedWhile(
    "lax.scan",
    ([i]) => np.less(i!, T),
    ([i, ...state]) => {
      const t = reverse ? np.subtract(last, i!) : i!;
      const carry = unflatten(carryDef, state.slice(0, nC));
      const xt = unflatten(
        xDef,
        xArrays.map((x) => np.take(x, t, 0)),
      );
      const [cNew, y] = pairOf(call.step(carry, xt));
      const cLeaves = flatten(cNew)[0].map((l, k) =>
        asArray(l, `lax.scan: the step's carry leaf ${k}`),
      );
      const yLeaves = flatten(y)[0].map((l, k) => asArray(l, `lax.scan: the step's y leaf ${k}`));
      const accs = state.slice(nC).map((acc, j) => {
        const row = yLeaves[j]!.dtype === acc.dtype ? yLeaves[j]! : yLeaves[j]!.astype(acc.dtype);
        return np.add(acc, scatterAdd(row, t, 0, accShapes[j]!));
      });
      return [np.add(i!, one), ...cLeaves, ...accs];
    },
    [np.array(0, { dtype: "int32" }), ...init, ...accInit],
  );
  const carryOut = unflatten(carryDef, out.slice(1, 1 + nC));
  const ys = out
    .slice(1 + nC)
    .map((acc, j) => (yAvals[j]!.dtype === "bool" ? acc.astype("bool") : acc));
  return [carryOut, unflatten(yDef, ys)];
}
