/**
 * lax.scan as registered multi-output primitives: one `scan` equation, the
 * same eagerly (with the checkpoint option) and under jit, whatever the
 * length. Parameters and the concrete loops are in scanProgram.ts.
 *
 *   scan        operands: the step's lifted (closed-over traced) values, the
 *               initial carry leaves, the xs leaves; outputs: the final
 *               carry leaves and the stacked ys, each in its own shape and
 *               dtype. impl: the loop, one compiled step program per step,
 *               rows written in place. jvp: binds scanLinear on the
 *               tangents. batch: a scan of the vmapped step (carry batched
 *               on axis 0, xs and ys on axis 1).
 *   scanLinear  the scan's tangent map at given primals: linear in its
 *               tangent operands; its other operands (the scan's primal
 *               operands) are residuals, only read. impl: the joint scan
 *               over (primal carry, tangent carry) whose step is the step's
 *               JVP (forward mode, memory independent of T). jvp, batch:
 *               the jvp and vmap of that joint scan. transpose: binds
 *               scanVjp.
 *   scanVjp     the reverse pass. impl (on concrete values): the backward
 *               sweep by the revolve schedule with the `checkpoint`
 *               option's snapshots, or storing every carry up to the memory
 *               budget (then revolve with as many snapshots as fit). Its
 *               jvp and batch go through `scanVjpStaged`: the same reverse
 *               pass written as two scans (forward storing the carries as
 *               ys, then backward through the step's VJP), so grad of grad
 *               works, eagerly and under jit, staged, at any order.
 *
 * Forward mode evaluates scanLinear at once; reverse mode records ONE
 * scanLinear equation on the tape and transposes it in the backward pass.
 * No rule asks which transformation is above it.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { ConcretizationError } from "../core/errors.js";
import {
  type BatchDim,
  type Tangent,
  UndefPrimal,
  defineMultiPrimitive,
} from "../core/primitive.js";
import { bindAll } from "../core/trace.js";
import * as np from "../numpy/index.js";
import { batchSize, batchToFront, instantiate, moveAxis } from "../primitives/helpers.js";
import { vjp } from "../transforms/linearize.js";
import { vmap } from "../transforms/vmap.js";
import { flatten, unflatten, type PyTree, type TreeDef } from "../tree/index.js";
import { type ScanCall, cutBefore, pairOf } from "./scanCall.js";
import {
  type ScanParams,
  ScanTypes,
  diffLayout,
  diffStep,
  differentiableScanOperands,
  floatPositions,
  runReverseSweep,
  runScan,
  stepIndex,
} from "./scanProgram.js";
import { carryWording, checkTreeType, treeTypeFrom } from "./treeTypes.js";
import {
  type LoopProgram,
  jvpOfOperands,
  namedParams,
  stageProgram,
  traceProgram,
} from "./whileProgram.js";
import { entriesFor } from "./keyedCache.js";

// ---------------------------------------------------------------- scan --

const scanPrim = defineMultiPrimitive<ScanParams>({
  name: "scan",
  multipleResults: true,
  linear: false,
  abstractEval(avals, p) {
    const expected = [...liftedAvals(p.body), ...p.types.carry, ...p.types.xs];
    if (avals.length !== expected.length) {
      throw new Error(
        `internal error: ${p.source}: scan expects ${expected.length} operands, got ${avals.length}`,
      );
    }
    return outputAvals(p);
  },
  impl: (args, p) => runScan(p, args),
  jvp: scanJvp,
  batch: scanBatch,
});

function liftedAvals(program: LoopProgram): Aval[] {
  return program.jaxpr.inVars
    .slice(0, program.numLifted)
    .map((v) => ({ shape: v.shape, dtype: v.dtype }));
}

function outputAvals(p: ScanParams): Aval[] {
  return [
    ...p.types.carry.map((a) => ({ shape: a.shape, dtype: a.dtype })),
    ...p.types.ys.map((a) => ({ shape: [p.length, ...a.shape], dtype: a.dtype })),
  ];
}

/** The avals of x rows (one step's slice of each xs leaf). */
function rowAvals(xs: readonly Aval[]): Aval[] {
  return xs.map((a) => ({ shape: a.shape.slice(1), dtype: a.dtype }));
}

/** Parameters of scanLinear and scanVjp: the scan and the operands differentiated. */
interface ScanDiffParams {
  readonly p: ScanParams;
  /** Operand positions (of the scan) whose derivatives are taken. */
  readonly inIdx: readonly number[];
}

/** JVP rule: the float outputs' tangents are scanLinear of the differentiated operands' tangents. */
function scanJvp(
  primals: readonly Array[],
  tangents: readonly Tangent[],
  _outs: readonly Array[],
  p: ScanParams,
): Tangent[] {
  const inIdx = differentiableScanOperands(p, primals, (i) => (tangents[i] ?? null) !== null);
  const nC = p.types.carry.length;
  const result: Tangent[] = outputAvals(p).map(() => null);
  // no tangent reaches a float output (or there is none): all zero
  if (inIdx.every((i) => (tangents[i] ?? null) === null) || tangentAvals(p).length === 0) {
    return result;
  }
  const ts = inIdx.map((i) => instantiate(tangents[i] ?? null, primals[i]!));
  const outT = bindAll(scanLinear, [...primals, ...ts], { p, inIdx });
  const fc = floatPositions(p.types.carry);
  const fy = floatPositions(p.types.ys);
  fc.forEach((i, k) => (result[i] = outT[k]!));
  fy.forEach((j, k) => (result[nC + j] = outT[fc.length + k]!));
  return result;
}

// ------------------------------------------------------------ batching --

const batchedScans = new WeakMap<ScanParams, Map<string, ScanParams>>();

/**
 * The scan of the vmapped step: lifted values batched on axis 0 where
 * `liftedBatched`, the carry always on axis 0, xs on axis 1 where
 * `xsBatched` (so a row is batched on axis 0), ys on axis 1.
 */
function batchedParams(
  p: ScanParams,
  liftedBatched: readonly boolean[],
  xsBatched: readonly boolean[],
  size: number,
): ScanParams {
  const key = `${size}:${liftedBatched.map(Number).join("")}:${xsBatched.map(Number).join("")}`;
  const byKey = entriesFor(batchedScans, p);
  const known = byKey.get(key);
  if (known !== undefined) return known;
  const nC = p.types.carry.length;
  const front = (a: Aval, batched: boolean): Aval => ({
    shape: batched ? [size, ...a.shape] : a.shape,
    dtype: a.dtype,
  });
  const lAvals = liftedAvals(p.body).map((a, i) => front(a, liftedBatched[i]!));
  const carry = p.types.carry.map((a) => front(a, true));
  const rows = rowAvals(p.types.xs).map((a, i) => front(a, xsBatched[i]!));
  const step = vmap((l: Array[], c: Array[], x: Array[]) => p.body.call(l, [...c, ...x]), {
    inAxes: [liftedBatched.map((b) => (b ? 0 : null)), 0, xsBatched.map((b) => (b ? 0 : null))],
  });
  const body = traceProgram(
    (lifted, args) => step(lifted, args.slice(0, nC), args.slice(nC)),
    lAvals,
    [...carry, ...rows],
  );
  const xs = rows.map((r) => ({ shape: [p.length, ...r.shape], dtype: r.dtype }));
  const ys = p.types.ys.map((a) => front(a, true));
  const params: ScanParams = namedParams("scan", {
    ...p,
    body,
    types: new ScanTypes(carry, xs, ys),
  });
  byKey.set(key, params);
  return params;
}

/** Moves a batched stacked leaf's batch axis to 1 (broadcasting an unbatched one). */
function batchToAxis1(x: Array, d: BatchDim, size: number): Array {
  if (d === null) return moveAxis(batchToFront(x, null, size), 0, 1);
  return moveAxis(x, d, 1);
}

function scanBatch(
  args: readonly Array[],
  dims: readonly BatchDim[],
  p: ScanParams,
): [Array[], BatchDim[]] {
  const size = batchSize(args, dims);
  const nl = p.body.numLifted;
  const nC = p.types.carry.length;
  const liftedBatched = args.slice(0, nl).map((_, i) => (dims[i] ?? null) !== null);
  const xsBatched = args.slice(nl + nC).map((_, i) => (dims[nl + nC + i] ?? null) !== null);
  const ops = args.map((a, i) => {
    const d = dims[i] ?? null;
    if (i < nl) return d === null ? a : batchToFront(a, d, size);
    if (i < nl + nC) return batchToFront(a, d, size);
    return d === null ? a : moveAxis(a, d, 1);
  });
  const outs = bindAll(scanPrim, ops, batchedParams(p, liftedBatched, xsBatched, size));
  return [outs, outs.map((_, j) => (j < nC ? 0 : 1))];
}

// ------------------------------------------------------- forward mode --

const jointScans = new WeakMap<ScanParams, Map<string, ScanParams>>();

/**
 * The joint scan of one scan and set of differentiated operands: lifted
 * values (all, then the tangents of the differentiated ones), carry (all
 * leaves, then the tangents of the float ones), xs (all, then the tangents
 * of the differentiated ones); outputs (carry, carry tangents, ys, float ys'
 * tangents). Its step is the step's JVP; the tangent leaves restart at zero
 * where a gradient horizon cuts (stopGradient's derivative).
 */
function jointParams(p: ScanParams, inIdx: readonly number[]): ScanParams {
  const key = inIdx.join(",");
  const byKey = entriesFor(jointScans, p);
  const known = byKey.get(key);
  if (known !== undefined) return known;
  const d = diffLayout(p, inIdx);
  const nl = p.body.numLifted;
  const nC = p.types.carry.length;
  const nx = p.types.xs.length;
  const lAvals = liftedAvals(p.body);
  const rows = rowAvals(p.types.xs);
  const carry = [...p.types.carry, ...d.carry.map((i) => p.types.carry[i]!)];
  const xRows = [...rows, ...d.xs.map((i) => rows[i]!)];
  const body = traceProgram(
    (lifted, args) => {
      const l = lifted.slice(0, nl);
      const lT = lifted.slice(nl);
      const c = args.slice(0, nC);
      const cT = args.slice(nC, nC + d.carry.length);
      const x = args.slice(nC + d.carry.length, nC + d.carry.length + nx);
      const xT = args.slice(nC + d.carry.length + nx);
      // all outputs at the primals, then the float ones' tangents
      const outs = p.body.call(l, [...c, ...x]);
      const f = diffStep(p, d, l, c, x);
      const primalsIn = [
        d.lifted.map((i) => l[i]!),
        d.carry.map((i) => c[i]!),
        d.xs.map((i) => x[i]!),
      ];
      const tangentsOut = jvpOfOperands(
        (ops) =>
          f(
            ops.slice(0, d.lifted.length),
            ops.slice(d.lifted.length, d.lifted.length + d.carry.length),
            ops.slice(d.lifted.length + d.carry.length),
          ),
        primalsIn.flat(),
        [...lT, ...cT, ...xT],
      );
      return [
        ...outs.slice(0, nC),
        ...tangentsOut.slice(0, d.carry.length),
        ...outs.slice(nC),
        ...tangentsOut.slice(d.carry.length),
      ];
    },
    [...lAvals, ...d.lifted.map((i) => lAvals[i]!)],
    [...carry, ...xRows],
  );
  const zero = p.zeroAtCut ?? p.types.carry.map(() => false);
  const params: ScanParams = namedParams("scan", {
    ...p,
    body,
    types: new ScanTypes(
      carry,
      xRows.map((r) => ({ shape: [p.length, ...r.shape], dtype: r.dtype })),
      [...p.types.ys, ...d.ys.map((j) => p.types.ys[j]!)],
    ),
    zeroAtCut: [...zero, ...d.carry.map(() => true)],
  });
  byKey.set(key, params);
  return params;
}

/**
 * scanLinear as a function of all its operands (the scan's operands, then
 * the tangents of the operands inIdx): the joint scan's tangent outputs
 * (float carry leaves, then float stacked ys).
 */
function linearApply(p: ScanParams, inIdx: readonly number[], ops: readonly Array[]): Array[] {
  const nl = p.body.numLifted;
  const nC = p.types.carry.length;
  const nOps = nl + nC + p.types.xs.length;
  const d = diffLayout(p, inIdx);
  const primals = ops.slice(0, nOps);
  const ts = ops.slice(nOps);
  const nLT = d.lifted.length;
  const nCT = d.carry.length;
  const joint = jointParams(p, inIdx);
  const outs = bindAll(
    scanPrim,
    [
      ...primals.slice(0, nl),
      ...ts.slice(0, nLT),
      ...primals.slice(nl, nl + nC),
      ...ts.slice(nLT, nLT + nCT),
      ...primals.slice(nl + nC),
      ...ts.slice(nLT + nCT),
    ],
    joint,
  );
  const nY = p.types.ys.length;
  return [...outs.slice(nC, nC + nCT), ...outs.slice(nC + nCT + nY)];
}

/** The avals of scanLinear's outputs: float carry leaves, then float stacked ys. */
function tangentAvals(p: ScanParams): Aval[] {
  const out = outputAvals(p);
  const nC = p.types.carry.length;
  return [
    ...floatPositions(p.types.carry).map((i) => out[i]!),
    ...floatPositions(p.types.ys).map((j) => out[nC + j]!),
  ];
}

const scanLinear = defineMultiPrimitive<ScanDiffParams>({
  name: "scanLinear",
  multipleResults: true,
  linear: true,
  abstractEval: (_avals, { p }) => tangentAvals(p),
  impl: (args, { p, inIdx }) => linearApply(p, inIdx, args).map((t) => t.concrete(p.source)),
  // Linear in the tangents, not in the residuals: differentiate the joint scan.
  jvp: (primals, tangents, _outs, { p, inIdx }) =>
    jvpOfOperands((ops) => linearApply(p, inIdx, ops), primals, tangents),
  batch(args, dims, { p, inIdx }) {
    const outs = vmap((...ops: Array[]) => linearApply(p, inIdx, ops), {
      inAxes: dims.map((d) => d),
    })(...args);
    return [outs, outs.map(() => 0)];
  },
  // Reverse mode: the reverse sweep (scanVjp) on the residuals and the output cotangents.
  transpose(cts, args, { p, inIdx }) {
    const nOps = p.body.numLifted + p.types.carry.length + p.types.xs.length;
    const primals = args.slice(0, nOps).map((a) => {
      if (a instanceof UndefPrimal) {
        throw new Error(`internal error: ${p.source}: a residual of scanLinear is undefined`);
      }
      return a;
    });
    const ctLeaves = tangentAvals(p).map(
      (a, k) => cts[k] ?? (ConcreteArray.zeros(a.shape, a.dtype) as Array),
    );
    const inCts = bindAll(scanVjp, [...primals, ...ctLeaves], { p, inIdx });
    return [...primals.map(() => null), ...inCts];
  },
});

// -------------------------------------------------------- reverse mode --

const storingScans = new WeakMap<ScanParams, ScanParams>();

/** The scan that also returns, as ys, the carry entering each step. */
function storingParams(p: ScanParams): ScanParams {
  let known = storingScans.get(p);
  if (known !== undefined) return known;
  const nC = p.types.carry.length;
  const body = traceProgram(
    (lifted, args) => {
      const out = p.body.call(lifted, args);
      return [...out.slice(0, nC), ...args.slice(0, nC)];
    },
    liftedAvals(p.body),
    [...p.types.carry, ...rowAvals(p.types.xs)],
  );
  known = namedParams("scan", {
    ...p,
    body,
    types: new ScanTypes(p.types.carry, p.types.xs, p.types.carry),
  });
  storingScans.set(p, known);
  return known;
}

const backwardScans = new WeakMap<ScanParams, Map<string, ScanParams>>();

/**
 * The backward scan of the reverse pass, in the opposite direction: lifted
 * values (all); carry (cotangents of the float carry leaves, accumulated
 * cotangents of the differentiated lifted values); xs (the stored carries,
 * the xs, the cotangents of the float ys, and, with a horizon, a bool per
 * step: cut); ys: the cotangents of the differentiated x rows.
 */
function backwardParams(p: ScanParams, inIdx: readonly number[]): ScanParams {
  const key = inIdx.join(",");
  const byKey = entriesFor(backwardScans, p);
  const known = byKey.get(key);
  if (known !== undefined) return known;
  const d = diffLayout(p, inIdx);
  const nC = p.types.carry.length;
  const nx = p.types.xs.length;
  const lAvals = liftedAvals(p.body);
  const rows = rowAvals(p.types.xs);
  const ctCarry = d.carry.map((i) => p.types.carry[i]!);
  const acc = d.lifted.map((i) => lAvals[i]!);
  const cut: Aval[] = p.horizon === null ? [] : [{ shape: [], dtype: "bool" }];
  const xRows = [...p.types.carry, ...rows, ...d.ys.map((j) => p.types.ys[j]!), ...cut];
  const body = traceProgram(
    (lifted, args) => {
      let o = 0;
      const take = (n: number) => args.slice(o, (o += n));
      const ctC = take(ctCarry.length);
      const accs = take(acc.length);
      const c = take(nC);
      const x = take(nx);
      const ctY = take(d.ys.length);
      const isCut = take(cut.length)[0];
      const f = diffStep(p, d, lifted, c, x);
      const [, pullback] = vjp(
        f,
        d.lifted.map((i) => lifted[i]!),
        d.carry.map((i) => c[i]!),
        d.xs.map((i) => x[i]!),
      );
      const [gl, gc, gx] = pullback([...ctC, ...ctY]);
      const nextCt = isCut === undefined ? gc : gc.map((g) => np.where(isCut, np.zerosLike(g), g));
      return [...nextCt, ...accs.map((a, k) => np.add(a, gl[k]!)), ...gx];
    },
    lAvals,
    [...ctCarry, ...acc, ...xRows],
  );
  const params: ScanParams = namedParams("scan", {
    source: p.source,
    body,
    types: new ScanTypes(
      [...ctCarry, ...acc],
      xRows.map((r) => ({ shape: [p.length, ...r.shape], dtype: r.dtype })),
      d.xs.map((i) => rows[i]!),
    ),
    length: p.length,
    reverse: !p.reverse,
    horizon: null,
    zeroAtCut: null,
    snapshots: p.snapshots,
  });
  byKey.set(key, params);
  return params;
}

/**
 * The reverse pass written with scans (differentiable and batchable like
 * any scan): a forward scan storing the carry entering each step, then a
 * backward scan through the step's VJP. Operands and results as scanVjp's.
 */
function scanVjpStaged(p: ScanParams, inIdx: readonly number[], ops: readonly Array[]): Array[] {
  const nl = p.body.numLifted;
  const nC = p.types.carry.length;
  const nx = p.types.xs.length;
  const nOps = nl + nC + nx;
  const d = diffLayout(p, inIdx);
  const lifted = ops.slice(0, nl);
  const xs = ops.slice(nl + nC, nOps);
  const ctCarry = ops.slice(nOps, nOps + d.carry.length);
  const ctYs = ops.slice(nOps + d.carry.length);
  const stored = bindAll(scanPrim, ops.slice(0, nOps), storingParams(p)).slice(nC);
  const cut: Array[] = [];
  if (p.horizon !== null) {
    const mask = new Uint8Array(p.length);
    for (let k = 0; k < p.length; k++) mask[stepIndex(p, k)] = cutBefore(k, p.horizon) ? 1 : 0;
    cut.push(new ConcreteArray([p.length], "bool", mask));
  }
  const acc = d.lifted.map((i) => ConcreteArray.zeros(lifted[i]!.shape, lifted[i]!.dtype) as Array);
  const outs = bindAll(
    scanPrim,
    [...lifted, ...ctCarry, ...acc, ...stored, ...xs, ...ctYs, ...cut],
    backwardParams(p, inIdx),
  );
  const nCT = d.carry.length;
  const byOperand = new Map<number, Array>();
  d.carry.forEach((i, k) => byOperand.set(nl + i, outs[k]!));
  d.lifted.forEach((i, k) => byOperand.set(i, outs[nCT + k]!));
  d.xs.forEach((i, k) => byOperand.set(nl + nC + i, outs[nCT + d.lifted.length + k]!));
  return inIdx.map((i) => byOperand.get(i)!);
}

const scanVjp = defineMultiPrimitive<ScanDiffParams>({
  name: "scanVjp",
  multipleResults: true,
  linear: false,
  abstractEval: (avals, { inIdx }) =>
    inIdx.map((i) => ({ shape: avals[i]!.shape, dtype: avals[i]!.dtype })),
  impl: (args, { p, inIdx }) => runReverseSweep(p, inIdx, args),
  // Differentiating the reverse pass (grad of grad): through the staged form.
  jvp: (primals, tangents, _outs, { p, inIdx }) =>
    jvpOfOperands((ops) => scanVjpStaged(p, inIdx, ops), primals, tangents),
  batch(args, dims, { p, inIdx }) {
    // Every operand batched (each element has its own cotangents), the step vmapped.
    const size = batchSize(args, dims);
    const nl = p.body.numLifted;
    const nC = p.types.carry.length;
    const nx = p.types.xs.length;
    const nOps = nl + nC + nx;
    const nCT = floatPositions(p.types.carry).length;
    const onAxis1 = (i: number) => (i >= nl + nC && i < nOps) || i >= nOps + nCT;
    const ops = args.map((a, i) =>
      onAxis1(i) ? batchToAxis1(a, dims[i] ?? null, size) : batchToFront(a, dims[i] ?? null, size),
    );
    const bp = batchedParams(
      p,
      liftedAvals(p.body).map(() => true),
      p.types.xs.map(() => true),
      size,
    );
    const outs = bindAll(scanVjp, ops, { p: bp, inIdx });
    return [outs, inIdx.map((i) => (onAxis1(i) ? 1 : 0))];
  },
});

// --------------------------------------------------------------- entry --

/**
 * lax.scan as one `scan` equation: f traced once abstractly at the carry's
 * and one x row's avals (closed-over traced values become operands). Returns
 * null when f needs concrete values and `snapshots` is null (the caller then
 * unrolls); with the checkpoint option that is an error.
 */
export function stagedScan(call: ScanCall, snapshots: number | null): [PyTree, PyTree] | null {
  const { step, xArrays, xDef, length: T, reverse, horizon } = call;
  const [initRaw, carryDef] = flatten(call.init);
  const init = initRaw.map((l, i) => asArray(l, `lax.scan: init leaf ${i}`));
  const carryAvals: Aval[] = init.map((a) => ({ shape: a.shape, dtype: a.dtype }));
  const xAvals: Aval[] = xArrays.map((x) => ({ shape: x.shape, dtype: x.dtype }));
  const nC = init.length;
  let carryOutDef: TreeDef | undefined;
  let yDef: TreeDef | undefined;
  let numCarryOut = 0;
  let staged;
  try {
    staged = stageProgram(
      (leaves) => {
        const [c, y] = pairOf(
          step(unflatten(carryDef, leaves.slice(0, nC)), unflatten(xDef, leaves.slice(nC))),
        );
        const [cl, cd] = flatten(c);
        const [yl, yd] = flatten(y);
        carryOutDef = cd;
        yDef = yd;
        numCarryOut = cl.length;
        return [
          ...cl.map((l, k) => asArray(l, `lax.scan: the step's carry leaf ${k}`)),
          ...yl.map((l, k) => asArray(l, `lax.scan: the step's y leaf ${k}`)),
        ];
      },
      [...carryAvals, ...rowAvals(xAvals)],
    );
  } catch (e) {
    if (!(e instanceof ConcretizationError)) throw e;
    if (snapshots === null) return null;
    throw new ConcretizationError(
      "lax.scan: with the checkpoint option, f is traced once abstractly, so it cannot " +
        "branch on values in JavaScript (x.item(), if on an array); use lax.cond or " +
        `np.where inside f, or drop the checkpoint option. (${e.message})`,
    );
  }
  // The new carry's type must be the initial carry's (the same check as the unrolled loop's).
  checkTreeType(
    treeTypeFrom(carryOutDef!, staged.outAvals.slice(0, numCarryOut)),
    treeTypeFrom(carryDef, carryAvals),
    carryWording("lax.scan", "f"),
  );
  const params: ScanParams = namedParams("scan", {
    source: "lax.scan",
    body: staged.program,
    types: new ScanTypes(carryAvals, xAvals, staged.outAvals.slice(nC)),
    length: T,
    reverse,
    horizon,
    zeroAtCut: null,
    snapshots,
  });
  const outs = bindAll(scanPrim, [...staged.lifted, ...init, ...xArrays], params);
  return [unflatten(carryDef, outs.slice(0, nC)), unflatten(yDef!, outs.slice(nC))];
}
