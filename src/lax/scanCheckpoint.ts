/**
 * The checkpointed lax.scan (option `checkpoint: { snapshots }`, scan.ts).
 *
 * It applies when scan is reached by reverse mode: the innermost trace among
 * its inputs and the values f closes over is a JVP trace whose tangents are
 * tape nodes. Then scan does not unroll onto the tape:
 *   - f is traced once into a program whose closed-over values become explicit
 *     inputs (closure conversion, as in JAX), so that parameters f merely
 *     closes over are differentiated too;
 *   - the primal loop runs forward, keeping the initial carry and the few
 *     carries of the first revolve sweep (revolve.ts);
 *   - ONE linear equation is recorded on the tape, from the tangents of the
 *     inputs (closed-over values, init, xs) to the tangents of the outputs,
 *     packed into one float64 vector (the tape holds single-output equations;
 *     the pieces are sliced back out by ordinary linear operations);
 *   - its transpose is the backward sweep: for t = T-1 .. 0 it rebuilds the
 *     carry c_t by the revolve schedule and pulls the cotangents back through
 *     the vjp of step t, accumulating the cotangents of the closed-over values
 *     and of xs_t. Its forward application (linearize) runs the step JVPs.
 * When the innermost trace is vmap's (grad(vmap(f))), scan re-issues itself one
 * level down as a scan of the vmapped step. Otherwise (forward mode, or any
 * jit tracing, where scan is staged as one `while` by scanStaged.ts, whose
 * reverse pass is the while's) it returns null.
 */
import { Array, type Aval } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { ChainruleError, ConcretizationError } from "../core/errors.js";
import { type PrimitiveDef, UndefPrimal, makePrimitive } from "../core/primitive.js";
import { Tracer, bind, isTracingDynamically } from "../core/trace.js";
import { Jaxpr, evalJaxpr, traceToJaxpr } from "../ir/jaxpr.js";
import { jit } from "../jit/jit.js";
import * as np from "../numpy/index.js";
import { JVPTracer, jvp } from "../transforms/jvp.js";
import { BatchTracer, vmap } from "../transforms/vmap.js";
import { batchToFront, moveAxis } from "../primitives/helpers.js";
import { LinearTracer, vjp } from "../transforms/linearize.js";
import { flatten, unflatten, type PyTree, type TreeDef } from "../tree/index.js";
import { type RevolveStats, firstSweepPositions, revolve } from "./revolve.js";
import { type PackedLeaf, floatLeafLayout, packFloatLeaves, unpackFloatLeaf } from "./packing.js";
import { type ScanCall, type ScanFn, cutBefore, pairOf } from "./scanCall.js";
import { carryWording, checkTreeType, treeTypeFrom } from "./treeTypes.js";

/**
 * What the last backward sweep of a checkpointed scan did (for tests and
 * benchmarks): the revolve schedule's advances and peak snapshots.
 */
export const lastSweep: RevolveStats & { sweeps: number } = {
  advances: 0,
  peakSnapshots: 0,
  sweeps: 0,
};

/** Everything the backward sweep needs: stored in the tape equation's params. */
interface ScanRecord {
  /** The step as a program of (closed-over values, carry leaves, x leaves). */
  body: Jaxpr;
  numConsts: number;
  numCarry: number;
  /** Primal values of every input leaf: closed-over values, init, xs. */
  primals: Array[];
  /** Indices (into primals) of the inputs that have tangents: the linear arguments. */
  diff: number[];
  length: number;
  reverse: boolean;
  horizon: number | null;
  snapshots: number;
  /** Carries stored by the forward sweep (consumed by the first backward sweep). */
  stored: Map<number, Array[]>;
  carryAvals: Aval[];
  yAvals: Aval[];
  packed: PackedLeaf[];
  packedSize: number;
  /** The step and its vjp compiled with jit (built on first use). */
  compiled: { step?: (...args: Array[]) => unknown; vjp?: (...args: Array[]) => unknown };
}

/** Runs the step program: [carry leaves, y leaves]. */
function runBody(
  rec: ScanRecord,
  consts: readonly Array[],
  carry: readonly Array[],
  x: readonly Array[],
): [Array[], Array[]] {
  const out = evalJaxpr(rec.body, [...consts, ...carry, ...x]);
  return [out.slice(0, rec.numCarry), out.slice(rec.numCarry)];
}

/**
 * Tuning for benchmarks: `jitStep: false` runs the checkpointed scan's step
 * and reverse step eagerly (to separate the cost of recomputation from the
 * gain of compiling the step).
 */
export const scanTuning = { jitStep: true };

/**
 * The step compiled with jit, on flat arguments (closed-over values, carry,
 * x) -> (carry, y). Compiled once per scan call; under an outer transformation
 * jit traces inline, so this is also correct on tracers.
 */
function stepFn(
  rec: ScanRecord,
): (consts: Array[], carry: Array[], x: Array[]) => [Array[], Array[]] {
  const nC = rec.numConsts;
  const nCarry = rec.numCarry;
  const compile = scanTuning.jitStep ? jit : (g: (...a: Array[]) => unknown) => g;
  rec.compiled.step ??= compile((...flat: Array[]) => {
    const [c, y] = runBody(
      rec,
      flat.slice(0, nC),
      flat.slice(nC, nC + nCarry),
      flat.slice(nC + nCarry),
    );
    return [...c, ...y];
  });
  const f = rec.compiled.step;
  return (consts, carry, x) => {
    const out = f(...consts, ...carry, ...x) as Array[];
    return [out.slice(0, nCarry), out.slice(nCarry)];
  };
}

/**
 * The reverse step compiled with jit: (closed-over values, c_t, x_t, carry
 * cotangent, y_t cotangent) -> (cotangents of the differentiated closed-over
 * values, of c_t, and of x_t when xs are differentiated).
 */
function vjpFn(
  rec: ScanRecord,
  diffConsts: readonly number[],
  needX: boolean,
): (consts: Array[], carry: Array[], x: Array[], ctCarry: Array[], ctY: Array[]) => Array[][] {
  const nC = rec.numConsts;
  const nCarry = rec.numCarry;
  const nX = rec.primals.length - nC - nCarry;
  const nDc = diffConsts.length;
  const compile = scanTuning.jitStep ? jit : (g: (...a: Array[]) => unknown) => g;
  rec.compiled.vjp ??= compile((...flat: Array[]) => {
    let o = 0;
    const take = (n: number) => flat.slice(o, (o += n));
    const consts = take(nC);
    const carry = take(nCarry);
    const x = take(nX);
    const ctOut = [take(nCarry), take(rec.yAvals.length)];
    const withConsts = (dc: readonly Array[]): Array[] => {
      const all = consts.slice();
      diffConsts.forEach((i, k) => (all[i] = dc[k]!));
      return all;
    };
    const dc = diffConsts.map((i) => consts[i]!);
    const cts = needX
      ? vjp(
          (d: Array[], c: Array[], xt: Array[]) => runBody(rec, withConsts(d), c, xt),
          dc,
          carry,
          x,
        )[1](ctOut)
      : vjp((d: Array[], c: Array[]) => runBody(rec, withConsts(d), c, x), dc, carry)[1](ctOut);
    return cts.flat() as Array[];
  });
  const f = rec.compiled.vjp;
  return (consts, carry, x, ctCarry, ctY) => {
    const out = f(...consts, ...carry, ...x, ...ctCarry, ...ctY) as Array[];
    return [out.slice(0, nDc), out.slice(nDc, nDc + nCarry), out.slice(nDc + nCarry)];
  };
}

function xsAt(xs: readonly Array[], t: number): Array[] {
  return xs.map((x) => np.take(x, t, 0));
}

/** The loop on primal values with the closed-over values and inputs given; stacks ys. */
function runLoop(rec: ScanRecord, primals: readonly Array[]): [Array[], Array[]] {
  const consts = primals.slice(0, rec.numConsts);
  let carry = primals.slice(rec.numConsts, rec.numConsts + rec.numCarry);
  const xs = primals.slice(rec.numConsts + rec.numCarry);
  const T = rec.length;
  const ys: Array[][] = new globalThis.Array<Array[]>(T);
  for (let k = 0; k < T; k++) {
    const t = rec.reverse ? T - 1 - k : k;
    if (cutBefore(k, rec.horizon)) carry = carry.map((c) => np.stopGradient(c));
    const [c, y] = runBody(rec, consts, carry, xsAt(xs, t));
    carry = c;
    ys[t] = y;
  }
  const stacked = rec.yAvals.map((_, j) => np.stack(ys.map((y) => y[j]!)));
  return [carry, stacked];
}

/** Forward application of the tangent map (linearize): JVP of the whole loop. */
function tangentMap(rec: ScanRecord, tangents: readonly Array[]): Array {
  const f = (...diffValues: Array[]): Array => {
    const primals = rec.primals.slice();
    rec.diff.forEach((i, k) => (primals[i] = diffValues[k]!));
    const [carry, ys] = runLoop(rec, primals);
    return packFloatLeaves(rec.packed, carry, ys);
  };
  const diffPrimals = rec.diff.map((i) => rec.primals[i]!);
  return asArray(jvp(f, diffPrimals, [...tangents])[1], "lax.scan");
}

/** The backward sweep: cotangents of the linear arguments from the packed output cotangent. */
function backwardSweep(rec: ScanRecord, ct: Array): Array[] {
  const T = rec.length;
  const nC = rec.numConsts;
  const nCarry = rec.numCarry;
  const consts = rec.primals.slice(0, nC);
  const init = rec.primals.slice(nC, nC + nCarry);
  const xs = rec.primals.slice(nC + nCarry);
  const diffConsts = rec.diff.filter((i) => i < nC);
  const diffXs = rec.diff.filter((i) => i >= nC + nCarry).map((i) => i - nC - nCarry);
  const needX = diffXs.length > 0;

  // Output cotangents (zeros for integer leaves, which have none).
  let ctCarry: Array[] = rec.carryAvals.map((a) => np.zeros(a.shape, a.dtype));
  const ctYs: Array[] = rec.yAvals.map((a) => np.zeros([T, ...a.shape], a.dtype));
  for (const p of rec.packed) {
    if (p.carry) ctCarry[p.j] = unpackFloatLeaf(ct, p);
    else ctYs[p.j] = unpackFloatLeaf(ct, p);
  }
  const ctConsts: (Array | null)[] = diffConsts.map(() => null);
  const ctXs: Array[][] = needX ? new globalThis.Array<Array[]>(T) : [];

  const step = stepFn(rec);
  const pullStep = vjpFn(rec, diffConsts, needX);
  const advance = (carry: Array[], k: number): Array[] => {
    const t = rec.reverse ? T - 1 - k : k;
    return step(consts, carry, xsAt(xs, t))[0];
  };
  const reverseStep = (carry: Array[], k: number): void => {
    const t = rec.reverse ? T - 1 - k : k;
    const ctY = ctYs.map((y) => np.take(y, t, 0));
    const cts = pullStep(consts, carry, xsAt(xs, t), ctCarry, ctY);
    if (needX) ctXs[t] = cts[2]!;
    cts[0]!.forEach((g, k2) => {
      const prev = ctConsts[k2];
      ctConsts[k2] = prev === null || prev === undefined ? g : np.add(prev, g);
    });
    const dCarry = cts[1]!;
    // gradientHorizon: the carry entering step k was passed through stopGradient.
    ctCarry = cutBefore(k, rec.horizon) ? dCarry.map((d) => np.zerosLike(d)) : dCarry;
  };
  const stats = revolve(T, rec.snapshots, init, advance, reverseStep, rec.stored);
  lastSweep.advances = stats.advances;
  lastSweep.peakSnapshots = stats.peakSnapshots;
  lastSweep.sweeps++;

  return rec.diff.map((i) => {
    if (i < nC) return ctConsts[diffConsts.indexOf(i)]!;
    if (i < nC + nCarry) return ctCarry[i - nC]!;
    const j = i - nC - nCarry;
    return np.stack(ctXs.map((l) => l[j]!));
  });
}

const scanLinear: PrimitiveDef<ScanRecord> = makePrimitive<ScanRecord>({
  name: "scanCheckpointLinear",
  linear: true,
  abstractEval: (_avals, rec) => ({ shape: [rec.packedSize], dtype: "float64" }),
  impl: (tangents, rec) => tangentMap(rec, tangents).concrete("lax.scan"),
  jvp: () => {
    throw new ChainruleError(
      "lax.scan: differentiating the tangent map that linearize returns for a checkpointed " +
        "scan is not supported; differentiate the function itself (grad, jvp, hessian)",
    );
  },
  transpose(ct, args, rec) {
    const cts = backwardSweep(rec, ct);
    return args.map((a, i) => (a instanceof UndefPrimal ? cts[i]! : null));
  },
  batch: () => {
    throw new ChainruleError(
      "lax.scan: vmap of the tangent map of a checkpointed scan (linearize, then vmap of its " +
        "linear function) is not supported; vmap the differentiated function instead, or drop " +
        "the checkpoint option",
    );
  },
});

/** The innermost tracer among the leaves, or null when all are concrete. */
function topTracer(leaves: readonly Array[]): Tracer | null {
  let top: Tracer | null = null;
  for (const a of leaves) {
    if (a instanceof Tracer && (top === null || a.trace.main.level > top.trace.main.level)) top = a;
  }
  return top;
}

/**
 * The checkpointed scan under reverse mode, or null when scan is not reached
 * by reverse mode directly (then the unrolled loop is exact and no worse).
 */
export function scanCheckpointed(
  call: ScanCall,
  snapshots: number,
  rescan: ScanFn,
): [PyTree, PyTree] | null {
  const { step, xArrays, xDef, length: T, reverse, horizon } = call;
  // Under jit, scan is staged as one `while` (scanStaged.ts); its reverse pass is the
  // while's (stored carries, thinned to checkpoints past a memory budget), not revolve.
  if (isTracingDynamically()) return null;
  const [initRaw, carryDef] = flatten(call.init);
  const init = initRaw.map((l, i) => asArray(l, `lax.scan: init leaf ${i}`));
  const carryAvals: Aval[] = init.map((a) => ({ shape: a.shape, dtype: a.dtype }));
  const xAvals: Aval[] = xArrays.map((x) => ({ shape: x.shape.slice(1), dtype: x.dtype }));

  // Closure conversion: trace f once; the values it closes over become inputs.
  let carryOutDef: TreeDef | undefined;
  let yDef: TreeDef | undefined;
  let numY = 0;
  const [, inDef] = flatten([unflatten(carryDef, init), unflatten(xDef, xArrays)]);
  let traced;
  try {
    traced = traceToJaxpr(
      (c: unknown, x: unknown) => {
        const [c2, y] = pairOf(step(c, x));
        const [cl, cd] = flatten(c2);
        const [yl, yd] = flatten(y);
        carryOutDef = cd;
        yDef = yd;
        numY = yl.length;
        return [...cl, ...yl];
      },
      inDef,
      [...carryAvals, ...xAvals],
    );
  } catch (e) {
    if (e instanceof ConcretizationError) {
      throw new ConcretizationError(
        "lax.scan: with the checkpoint option, f is traced once abstractly, so it cannot " +
          "branch on values in JavaScript (x.item(), if on an array); use lax.cond or " +
          `np.where inside f, or drop the checkpoint option. (${e.message})`,
      );
    }
    throw e;
  }
  const { jaxpr } = traced;
  const outAvals: Aval[] = jaxpr.outVars.map((v) => ({ shape: v.shape, dtype: v.dtype }));
  const carryOutAvals = outAvals.slice(0, outAvals.length - numY);
  // The new carry's type must be the initial carry's (the same check as the unrolled loop's).
  checkTreeType(
    treeTypeFrom(carryOutDef!, carryOutAvals),
    treeTypeFrom(carryDef, carryAvals),
    carryWording("lax.scan", "f"),
  );
  const yAvals = outAvals.slice(outAvals.length - numY);
  const consts = [...jaxpr.consts];
  const leaves = [...consts, ...init, ...xArrays];

  // Is scan reached by reverse mode? (the innermost trace is a JVP whose tangents are tape nodes)
  const top = topTracer(leaves);
  if (top === null) return null;
  if (top instanceof BatchTracer) {
    return scanUnderVmap(call, snapshots, rescan, top, jaxpr, consts, init, carryDef, yDef!);
  }
  if (!(top instanceof JVPTracer)) return null;
  const jvpTrace = top.trace;
  const primals: Array[] = [];
  const tangents: Array[] = [];
  const diff: number[] = [];
  let reverseMode = false;
  leaves.forEach((leaf, i) => {
    if (leaf instanceof JVPTracer && leaf.trace === jvpTrace) {
      primals.push(leaf.primal);
      if (leaf.tangent !== null) {
        diff.push(i);
        tangents.push(leaf.tangent);
        if (leaf.tangent instanceof LinearTracer) reverseMode = true;
      }
    } else {
      primals.push(leaf);
    }
  });
  if (!reverseMode) return null;

  // The packed layout of the float outputs' tangents (packing.ts).
  const { packed, size: packedSize } = floatLeafLayout(carryAvals, yAvals, T);

  const body = new Jaxpr([], [], [...jaxpr.constVars, ...jaxpr.inVars], jaxpr.eqns, jaxpr.outVars);
  const rec: ScanRecord = {
    body,
    numConsts: consts.length,
    numCarry: init.length,
    primals,
    diff,
    length: T,
    reverse,
    horizon,
    snapshots,
    stored: new Map(),
    carryAvals,
    yAvals,
    packed,
    packedSize,
    compiled: {},
  };

  // Forward sweep on primal values, keeping the first revolve sweep's carries.
  const keep = new Set(firstSweepPositions(T, snapshots));
  const constPrimals = primals.slice(0, consts.length);
  const xPrimals = primals.slice(consts.length + init.length);
  let carry = primals.slice(consts.length, consts.length + init.length);
  const ys: Array[][] = new globalThis.Array<Array[]>(T);
  const stepC = stepFn(rec);
  for (let k = 0; k < T; k++) {
    const t = reverse ? T - 1 - k : k;
    const [c, y] = stepC(constPrimals, carry, xsAt(xPrimals, t));
    carry = c;
    ys[t] = y;
    if (keep.has(k + 1)) rec.stored.set(k + 1, carry);
  }
  const ysStacked = yAvals.map((_, j) => np.stack(ys.map((y) => y[j]!)));

  // One tape equation for the whole loop; its outputs' tangents are sliced back out.
  const carryOut: Array[] = carry.slice();
  const ysOut: Array[] = ysStacked.slice();
  if (packedSize > 0) {
    const packedTangent = bind(scanLinear, tangents, rec);
    for (const p of packed) {
      const t = unpackFloatLeaf(packedTangent, p);
      if (p.carry) carryOut[p.j] = new JVPTracer(jvpTrace, carry[p.j]!, t);
      else ysOut[p.j] = new JVPTracer(jvpTrace, ysStacked[p.j]!, t);
    }
  }
  return [unflatten(carryDef, carryOut), unflatten(yDef!, ysOut)];
}

/**
 * A checkpointed scan whose innermost transformation is vmap (for example
 * grad(vmap(f)) with a scan in f): the same scan one level down, of the
 * vmapped step, on the unbatched values (carries batched on axis 0, xs on
 * axis 1, closed-over values where they are). The inner scan then meets the
 * reverse-mode trace directly and checkpoints.
 */
function scanUnderVmap(
  call: ScanCall,
  snapshots: number,
  rescan: ScanFn,
  top: BatchTracer,
  jaxpr: Jaxpr,
  consts: readonly Array[],
  init: readonly Array[],
  carryDef: TreeDef,
  yDef: TreeDef,
): [PyTree, PyTree] | null {
  const trace = top.trace;
  const own = (a: Array): a is BatchTracer => a instanceof BatchTracer && a.trace === trace;
  const batched = [...consts, ...init, ...call.xArrays].find((a) => own(a) && a.bdim !== null);
  if (batched === undefined) return null; // nothing differs per batch element: unroll
  const size = (batched as BatchTracer).val.shape[(batched as BatchTracer).bdim!]!;
  const constVals = consts.map((c) => (own(c) ? c.val : c));
  const constDims = consts.map((c) => (own(c) ? c.bdim : null));
  const initVals = init.map((c) => batchToFront(own(c) ? c.val : c, own(c) ? c.bdim : null, size));
  const xVals = call.xArrays.map((x) =>
    own(x) && x.bdim !== null ? moveAxis(x.val, x.bdim, 1) : own(x) ? x.val : x,
  );
  const xDims = call.xArrays.map((x) => (own(x) && x.bdim !== null ? 0 : null));
  const body = new Jaxpr([], [], [...jaxpr.constVars, ...jaxpr.inVars], jaxpr.eqns, jaxpr.outVars);
  const numCarry = init.length;
  const batchedBody = vmap(
    (cs: Array[], c: Array[], x: Array[]) => {
      const out = evalJaxpr(body, [...cs, ...c, ...x]);
      return [out.slice(0, numCarry), out.slice(numCarry)];
    },
    { inAxes: [constDims, 0, xDims] },
  );
  const step = (c: Array[], x: Array[]) => batchedBody(constVals, c, x) as [Array[], Array[]];
  const [carry, ys] = rescan(step, initVals, xVals, {
    length: call.length,
    reverse: call.reverse,
    checkpoint: { snapshots },
    ...(call.horizon === null ? {} : { gradientHorizon: call.horizon }),
  }) as [Array[], Array[] | null];
  return [
    unflatten(
      carryDef,
      carry.map((c) => new BatchTracer(trace, c, 0)),
    ),
    unflatten(
      yDef,
      (ys ?? []).map((y) => new BatchTracer(trace, y, 1)),
    ),
  ];
}
