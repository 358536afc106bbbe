/**
 * The parameters of the `scan` primitive (scanPrimitive.ts) and the loops
 * it runs on concrete values: the forward loop (its impl) and the reverse
 * sweep (scanVjp's impl) by the revolve schedule (revolve.ts).
 *
 * A scan's step is one traced program (a LoopProgram, whileProgram.ts) of
 * (closed-over traced values, carry leaves, x row leaves) returning (new
 * carry leaves, y row leaves). The closed-over values are "lifted" into
 * operands, so every transformation of `scan` sees them as ordinary inputs.
 * Leaves keep their shapes and dtypes (float64, float32, int32, bool): no
 * packing anywhere.
 *
 * This module binds no primitive: scanPrimitive.ts declares `scan`,
 * `scanLinear` and `scanVjp` on top of it.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { fmtShape } from "../core/errors.js";
import { shapeSize } from "../core/shape.js";
import { evalJaxpr } from "../ir/jaxpr.js";
import { vjp } from "../transforms/linearize.js";
import { type RevolveStats, firstSweepPositions, revolve } from "./revolve.js";
import { cutBefore } from "./scanCall.js";
import { checkpointBudget } from "./whileReverse.js";
import { type LoopProgram, traceProgram } from "./whileProgram.js";
import { entriesFor } from "./keyedCache.js";

/** Shapes and dtypes of a scan's leaves (printed compactly in programs). */
export class ScanTypes {
  constructor(
    /** The carry leaves. */
    readonly carry: readonly Aval[],
    /** The scanned inputs, stacked ([T, ...row]). */
    readonly xs: readonly Aval[],
    /** One step's y leaves (a row: the outputs are stacked to [T, ...row]). */
    readonly ys: readonly Aval[],
  ) {}
  toJSON(): string {
    const f = (as: readonly Aval[]) => as.map((a) => `${a.dtype}${fmtShape(a.shape)}`).join(",");
    return `(carry ${f(this.carry)}; xs ${f(this.xs)}; y ${f(this.ys)})`;
  }
}

/**
 * Parameters of `scan`. Operands: the lifted values (body.numLifted), the
 * initial carry leaves, the xs leaves. Outputs: the final carry leaves, the
 * stacked ys leaves.
 */
export interface ScanParams {
  /** The lax function that staged the loop (for messages). */
  readonly source: string;
  readonly body: LoopProgram;
  readonly types: ScanTypes;
  readonly length: number;
  readonly reverse: boolean;
  /** gradientHorizon: derivatives do not flow through the carry entering step k when cutBefore(k). */
  readonly horizon: number | null;
  /**
   * Carry leaves whose VALUE restarts at zero where the horizon cuts (the
   * tangent leaves of a joint primal/tangent scan), or null for none.
   */
  readonly zeroAtCut: readonly boolean[] | null;
  /** Revolve snapshots for the reverse pass; null: store carries up to the memory budget. */
  readonly snapshots: number | null;
}

/**
 * Benchmark and test switches: `jitStep: false` evaluates the step programs
 * one primitive at a time instead of compiling them (bench/scanMemory.ts).
 */
export const scanTuning = { jitStep: true };

/**
 * What the last reverse sweep of a scan did (for tests and benchmarks): the
 * revolve schedule's advances and peak snapshots, and the number of sweeps.
 */
export const lastSweep: RevolveStats & { sweeps: number } = {
  advances: 0,
  peakSnapshots: 0,
  sweeps: 0,
};

/** Runs a program on concrete inputs (compiled, or interpreted when scanTuning says so). */
function runProgram(program: LoopProgram, inputs: readonly ConcreteArray[]): ConcreteArray[] {
  if (scanTuning.jitStep) return program.run(inputs);
  return evalJaxpr(program.jaxpr, inputs).map((a) => a.concrete("lax.scan"));
}

/** Row t of a concrete stacked array (a view, not a copy). */
export function rowOf(x: ConcreteArray, t: number): ConcreteArray {
  const shape = x.shape.slice(1);
  if (shape.length === 0) return ConcreteArray.scalar(x.buffer[t]!, x.dtype);
  const n = shapeSize(shape);
  return new ConcreteArray(shape, x.dtype, x.buffer.subarray(t * n, (t + 1) * n));
}

/** Writes `row` into row t of the concrete stacked array `out`. */
export function writeRow(out: ConcreteArray, t: number, row: ConcreteArray): void {
  if (row.shape.length === 0) out.buffer[t] = row.scalarValue;
  else out.buffer.set(row.buffer, t * row.buffer.length);
}

/** a + b elementwise (same shape and dtype), concretely. */
function addConcrete(a: ConcreteArray, b: ConcreteArray): ConcreteArray {
  if (a.shape.length === 0) return ConcreteArray.scalar(a.scalarValue + b.scalarValue, a.dtype);
  const out = a.buffer.slice();
  const bb = b.buffer;
  for (let j = 0; j < out.length; j++) out[j] = (out[j] as number) + (bb[j] as number);
  return new ConcreteArray(a.shape, a.dtype, out);
}

/** The execution-order step k's index into xs and ys. */
export function stepIndex(p: ScanParams, k: number): number {
  return p.reverse ? p.length - 1 - k : k;
}

/** The carry entering step k, with the zeroAtCut leaves restarted where the horizon cuts. */
function enterStep(p: ScanParams, carry: ConcreteArray[], k: number): ConcreteArray[] {
  const z = p.zeroAtCut;
  if (z === null || !cutBefore(k, p.horizon)) return carry;
  return carry.map((c, i) => (z[i] ? ConcreteArray.zeros(c.shape, c.dtype) : c));
}

/**
 * The carries a checkpointed scan's forward loop kept for the reverse sweep:
 * the states at revolve's first-sweep positions (at most snapshots - 1),
 * with the operands they were computed from: the last forward run of each
 * scan, checked operand by operand (the same objects, or equal 0-d values,
 * which the tape stores as numbers) and consumed by the reverse sweep. A
 * pure cache (arrays are immutable, so the same operands give the same
 * carries) that saves the sweep one forward pass. Only with the checkpoint
 * option (at most snapshots - 1 carries are kept).
 */
interface ForwardCarries {
  readonly operands: readonly ConcreteArray[];
  readonly stored: Map<number, ConcreteArray[]>;
}

const forwardCarries = new WeakMap<ScanParams, ForwardCarries>();

function sameOperand(a: ConcreteArray, b: ConcreteArray): boolean {
  if (a === b) return true;
  return (
    a.shape.length === 0 &&
    b.shape.length === 0 &&
    a.dtype === b.dtype &&
    Object.is(a.scalarValue, b.scalarValue)
  );
}

/** The forward loop on concrete operands (scan's impl): [final carry, stacked ys]. */
export function runScan(p: ScanParams, args: readonly ConcreteArray[]): ConcreteArray[] {
  const nl = p.body.numLifted;
  const nC = p.types.carry.length;
  const T = p.length;
  const lifted = args.slice(0, nl);
  let carry = args.slice(nl, nl + nC);
  const xs = args.slice(nl + nC);
  const ys = p.types.ys.map((a) => ConcreteArray.zeros([T, ...a.shape], a.dtype));
  const keep = p.snapshots === null ? null : new Set(firstSweepPositions(T, p.snapshots));
  const stored = new Map<number, ConcreteArray[]>();
  for (let k = 0; k < T; k++) {
    const t = stepIndex(p, k);
    carry = enterStep(p, carry, k);
    const out = runProgram(p.body, [...lifted, ...carry, ...xs.map((x) => rowOf(x, t))]);
    carry = out.slice(0, nC);
    for (let j = 0; j < ys.length; j++) writeRow(ys[j]!, t, out[nC + j]!);
    if (keep?.has(k + 1) === true) stored.set(k + 1, carry);
  }
  if (keep !== null) forwardCarries.set(p, { operands: args.slice(), stored });
  return [...carry, ...ys];
}

/** The carries kept by the forward loop on these very operands, if any (consumed). */
function takeForwardCarries(
  p: ScanParams,
  operands: readonly ConcreteArray[],
): Map<number, ConcreteArray[]> | undefined {
  const rec = forwardCarries.get(p);
  if (rec === undefined || rec.operands.length !== operands.length) return undefined;
  if (!rec.operands.every((a, i) => sameOperand(a, operands[i]!))) return undefined;
  forwardCarries.delete(p);
  return rec.stored;
}

// ------------------------------------------------------- reverse mode --

/**
 * Which operands a scan's derivative is taken for: lifted values and xs
 * leaves that are float and have a tangent, and every float carry leaf (the
 * carry's cotangent flows through the steps). Positions among the operands.
 */
export function differentiableScanOperands(
  p: ScanParams,
  primals: readonly Aval[],
  hasTangent: (i: number) => boolean,
): number[] {
  const nl = p.body.numLifted;
  const nC = p.types.carry.length;
  const out: number[] = [];
  primals.forEach((a, i) => {
    const isCarry = i >= nl && i < nl + nC;
    if (isFloat(a.dtype) && (isCarry || hasTangent(i))) out.push(i);
  });
  return out;
}

/** Positions of the float leaves in a list of avals. */
export function floatPositions(avals: readonly Aval[]): number[] {
  return avals.flatMap((a, i) => (isFloat(a.dtype) ? [i] : []));
}

/** Where the differentiated operands inIdx sit: lifted values, carry leaves, xs leaves. */
export interface DiffLayout {
  /** Positions among the lifted values. */
  readonly lifted: number[];
  /** Positions among the carry leaves (every float one). */
  readonly carry: number[];
  /** Positions among the xs leaves. */
  readonly xs: number[];
  /** Positions among the ys leaves that are float (the ones with cotangents). */
  readonly ys: number[];
}

export function diffLayout(p: ScanParams, inIdx: readonly number[]): DiffLayout {
  const nl = p.body.numLifted;
  const nC = p.types.carry.length;
  return {
    lifted: inIdx.filter((i) => i < nl),
    carry: floatPositions(p.types.carry),
    xs: inIdx.filter((i) => i >= nl + nC).map((i) => i - nl - nC),
    ys: floatPositions(p.types.ys),
  };
}

/**
 * The step restricted to its differentiated parts: a function of (the
 * differentiated lifted values, the float carry leaves, the differentiated
 * x rows), the others held at the given values, returning the float carry
 * leaves and the float y leaves.
 */
export function diffStep(
  p: ScanParams,
  d: DiffLayout,
  lifted: readonly Array[],
  carry: readonly Array[],
  x: readonly Array[],
): (dl: Array[], dc: Array[], dx: Array[]) => Array[] {
  const nC = p.types.carry.length;
  return (dl, dc, dx) => {
    const l = lifted.slice();
    d.lifted.forEach((i, k) => (l[i] = dl[k]!));
    const c = carry.slice();
    d.carry.forEach((i, k) => (c[i] = dc[k]!));
    const xr = x.slice();
    d.xs.forEach((i, k) => (xr[i] = dx[k]!));
    const out = p.body.call(l, [...c, ...xr]);
    return [...d.carry.map((i) => out[i]!), ...d.ys.map((j) => out[nC + j]!)];
  };
}

const vjpPrograms = new WeakMap<ScanParams, Map<string, LoopProgram>>();

/**
 * The step's VJP as one program: lifted values (all), then (carry leaves, x
 * rows, cotangents of the float carry leaves and of the float y rows) ->
 * (cotangents of the differentiated lifted values, of the float carry
 * leaves, of the differentiated x rows). Traced once per scan and inIdx.
 */
export function vjpProgram(p: ScanParams, inIdx: readonly number[]): LoopProgram {
  const key = inIdx.join(",");
  const byKey = entriesFor(vjpPrograms, p);
  const known = byKey.get(key);
  if (known !== undefined) return known;
  const d = diffLayout(p, inIdx);
  const nC = p.types.carry.length;
  const nx = p.types.xs.length;
  const liftedAvals = p.body.jaxpr.inVars.slice(0, p.body.numLifted);
  const rowAvals = p.types.xs.map((a) => ({ shape: a.shape.slice(1), dtype: a.dtype }));
  const argAvals = [
    ...p.types.carry,
    ...rowAvals,
    ...d.carry.map((i) => p.types.carry[i]!),
    ...d.ys.map((j) => p.types.ys[j]!),
  ];
  const program = traceProgram(
    (lifted, args) => {
      const carry = args.slice(0, nC);
      const x = args.slice(nC, nC + nx);
      const cts = args.slice(nC + nx);
      const f = diffStep(p, d, lifted, carry, x);
      const [, pullback] = vjp(
        f,
        d.lifted.map((i) => lifted[i]!),
        d.carry.map((i) => carry[i]!),
        d.xs.map((i) => x[i]!),
      );
      return (pullback(cts) as Array[][]).flat();
    },
    liftedAvals,
    argAvals,
  );
  byKey.set(key, program);
  return program;
}

/** How many snapshots the reverse sweep keeps: the option, or as many carries as the budget holds. */
export function sweepSnapshots(p: ScanParams): number {
  if (p.snapshots !== null) return p.snapshots;
  const bytes = p.types.carry.reduce((s, a) => s + 8 * Math.max(1, shapeSize(a.shape)), 0);
  return Math.max(2, Math.min(p.length, Math.floor(checkpointBudget() / Math.max(1, bytes))));
}

/**
 * scanVjp's impl: the reverse sweep on concrete values. Operands: the scan's
 * operands, then the cotangents of the float carry leaves and of the float
 * stacked ys. Returns the cotangents of the operands inIdx. Carries are
 * rebuilt by the revolve schedule from at most sweepSnapshots(p) stored ones
 * (all of them when they fit the budget: no recomputation).
 */
export function runReverseSweep(
  p: ScanParams,
  inIdx: readonly number[],
  args: readonly ConcreteArray[],
): ConcreteArray[] {
  const nl = p.body.numLifted;
  const nC = p.types.carry.length;
  const nx = p.types.xs.length;
  const T = p.length;
  const d = diffLayout(p, inIdx);
  const nOps = nl + nC + nx;
  const lifted = args.slice(0, nl);
  const init = args.slice(nl, nl + nC);
  const xs = args.slice(nl + nC, nOps);
  let ctCarry = args.slice(nOps, nOps + d.carry.length);
  const ctYs = args.slice(nOps + d.carry.length);
  let ctLifted = d.lifted.map((i) => ConcreteArray.zeros(lifted[i]!.shape, lifted[i]!.dtype));
  const ctXs = d.xs.map((i) => ConcreteArray.zeros(xs[i]!.shape, xs[i]!.dtype));
  const pull = vjpProgram(p, inIdx);
  const nl2 = d.lifted.length;
  const advance = (carry: ConcreteArray[], k: number): ConcreteArray[] => {
    const t = stepIndex(p, k);
    const c = enterStep(p, carry, k);
    return runProgram(p.body, [...lifted, ...c, ...xs.map((x) => rowOf(x, t))]).slice(0, nC);
  };
  const reverseStep = (carry: ConcreteArray[], k: number): void => {
    const t = stepIndex(p, k);
    const c = enterStep(p, carry, k);
    const outs = runProgram(pull, [
      ...lifted,
      ...c,
      ...xs.map((x) => rowOf(x, t)),
      ...ctCarry,
      ...ctYs.map((y) => rowOf(y, t)),
    ]);
    ctLifted = ctLifted.map((g, j) => addConcrete(g, outs[j]!));
    const next = outs.slice(nl2, nl2 + d.carry.length);
    outs.slice(nl2 + d.carry.length).forEach((g, j) => writeRow(ctXs[j]!, t, g));
    // gradientHorizon: the carry entering step k was passed through stopGradient.
    ctCarry = cutBefore(k, p.horizon)
      ? next.map((g) => ConcreteArray.zeros(g.shape, g.dtype))
      : next;
  };
  const stored = takeForwardCarries(p, args.slice(0, nOps));
  const stats = revolve(T, sweepSnapshots(p), init, advance, reverseStep, stored);
  lastSweep.advances = stats.advances;
  lastSweep.peakSnapshots = stats.peakSnapshots;
  lastSweep.sweeps++;
  const byOperand = new Map<number, ConcreteArray>();
  d.lifted.forEach((i, k) => byOperand.set(i, ctLifted[k]!));
  d.carry.forEach((i, k) => byOperand.set(nl + i, ctCarry[k]!));
  d.xs.forEach((i, k) => byOperand.set(nl + nC + i, ctXs[k]!));
  return inIdx.map((i) => byOperand.get(i)!);
}
