/**
 * Reverse mode through the staged `while` (while.ts): the transpose of
 * whileLinear binds `whileVjp`, a registered multi-output primitive.
 *
 * A traced loop's trip count is unknown while the program is traced (inside
 * jit), so its steps cannot be put on the tape one by one: the tape holds
 * ONE whileLinear equation, and its transpose binds whileVjp (operands: the
 * loop's primal operands, then the cotangents of the float carry leaves;
 * outputs: the cotangents of the differentiated operands, each in its own
 * shape and dtype). Its impl, on concrete values, runs the loop forwards
 * storing every carry, then walks the steps backwards applying the body's
 * VJP (compiled once per loop) and sums the cotangents of the lifted values.
 * Memory: one carry per step, as the unrolled reverse mode stores, up to a
 * budget (256 MiB by default); past it only every 2^k-th carry is kept and
 * the backward pass recomputes each segment from its checkpoint (at most one
 * extra forward pass). The condition only decides the trip count, which is
 * piecewise constant: it contributes no derivative.
 *
 * whileVjp batches by running each batch element's loop separately (per
 * element trip counts); its own derivative (forward over reverse, e.g.
 * hessian or grad of grad) is refused with a clear error: the reverse pass
 * of a loop whose trip count is known only at run time is one run-time step.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { ChainruleError } from "../core/errors.js";
import { type Tangent, defineMultiPrimitive } from "../core/primitive.js";
import { shapeSize } from "../core/shape.js";
import { bindAll } from "../core/trace.js";
import { traceToJaxpr } from "../ir/jaxpr.js";
import { optimize } from "../ir/passes.js";
import type { CompiledProgram } from "../jit/codegen.js";
import { compileOrInterpret } from "../jit/jit.js";
import { batchSize } from "../primitives/helpers.js";
import { concatenate, reshape, slice } from "../primitives/movement.js";
import { vjp } from "../transforms/linearize.js";
import { flatten } from "../tree/index.js";
import type { WhileParams } from "./whileProgram.js";
import { entriesFor } from "./keyedCache.js";

/** Memory the stored carries of one loop's reverse pass may take (bytes) before thinning. */
let checkpointBudgetBytes = 256 * 2 ** 20;

/** Sets that budget (tests use a tiny one); returns the previous value. */
export function setCheckpointBudget(bytes: number): number {
  const previous = checkpointBudgetBytes;
  checkpointBudgetBytes = bytes;
  return previous;
}

/** The budget in bytes (scan's reverse pass shares it). */
export function checkpointBudget(): number {
  return checkpointBudgetBytes;
}

/** Parameters of whileLinear (while.ts) and whileVjp. */
export interface WhileReverseParams {
  readonly p: WhileParams;
  /** Operand positions (of the while) whose derivatives are taken: float body values and carry leaves. */
  readonly inIdx: readonly number[];
}

/**
 * Float operands that carry a derivative: the body's lifted values that have
 * a tangent (a lifted value without one, e.g. a large array the body only
 * reads, gets no cotangent: accumulating one would cost its size per step),
 * and every float carry leaf (the carry's cotangent flows through the steps).
 */
export function differentiableOperands(
  p: WhileParams,
  primals: readonly Aval[],
  tangents: readonly Tangent[],
): number[] {
  const out: number[] = [];
  const firstCarry = p.cond.numLifted + p.body.numLifted;
  for (let i = p.cond.numLifted; i < primals.length; i++) {
    const wanted = i >= firstCarry || (tangents[i] ?? null) !== null;
    if (wanted && isFloat(primals[i]!.dtype)) out.push(i);
  }
  return out;
}

const bodyVjps = new WeakMap<WhileParams, Map<string, CompiledProgram>>();

/**
 * The body's VJP as one compiled program: (body values, carry, carry
 * cotangent's float leaves) -> (cotangents of the float body values, of the
 * float carry leaves).
 */
function compiledBodyVjp(
  p: WhileParams,
  bodyLifted: readonly Aval[],
  floatLifted: readonly number[],
): CompiledProgram {
  const key = floatLifted.join(",");
  const byKey = entriesFor(bodyVjps, p);
  let program = byKey.get(key);
  if (program !== undefined) return program;
  const nb = bodyLifted.length;
  const n = p.carry.length;
  const floatCarry = p.carry.flatMap((a, i) => (isFloat(a.dtype) ? [i] : []));
  const avals = [...bodyLifted, ...p.carry, ...floatCarry.map((i) => p.carry[i]!)].map((a) => ({
    shape: a.shape,
    dtype: a.dtype,
  }));
  const [, inDef] = flatten(avals.map(() => 0));
  const { jaxpr } = traceToJaxpr(
    (...xs: unknown[]) => {
      const all = xs as Array[];
      const lifted = all.slice(0, nb);
      const carry = all.slice(nb, nb + n);
      const ctFloat = all.slice(nb + n);
      const [, pullback] = vjp((l: Array[], c: Array[]) => p.body.call(l, c), lifted, carry);
      const ct = p.carry.map((a) => ConcreteArray.zeros(a.shape, a.dtype) as Array);
      floatCarry.forEach((i, k) => (ct[i] = ctFloat[k]!));
      const [ctLifted, ctCarry] = pullback(ct);
      return [...floatLifted.map((i) => ctLifted[i]!), ...floatCarry.map((i) => ctCarry[i]!)];
    },
    inDef,
    avals,
  );
  program = compileOrInterpret(optimize(jaxpr));
  byKey.set(key, program);
  return program;
}

/** Adds b into a (same shape and dtype), concretely. */
function addConcrete(a: ConcreteArray, b: ConcreteArray): ConcreteArray {
  if (a.shape.length === 0) return ConcreteArray.scalar(a.scalarValue + b.scalarValue, a.dtype);
  const out = a.buffer.slice();
  const bb = b.buffer;
  for (let j = 0; j < out.length; j++) out[j] = (out[j] as number) + (bb[j] as number);
  return new ConcreteArray(a.shape, a.dtype, out);
}

/** The loop's VJP on concrete values: forward storing the carries, then backward. */
function runVjp(args: readonly ConcreteArray[], { p, inIdx }: WhileReverseParams): ConcreteArray[] {
  const nc = p.cond.numLifted;
  const nb = p.body.numLifted;
  const nOps = nc + nb + p.carry.length;
  const primals = args.slice(0, nOps);
  const condLifted = primals.slice(0, nc);
  const bodyLifted = primals.slice(nc, nc + nb);
  let carry = primals.slice(nc + nb);
  const runBody = (c: readonly ConcreteArray[]) => p.body.run([...bodyLifted, ...c]);

  // Forward: checkpoints[j] is the carry before step j * stride. While they
  // fit the memory budget every step is kept (stride 1); past it, every
  // other checkpoint is dropped and the stride doubles, so memory stays
  // within the budget and the backward pass recomputes at most one more
  // forward pass, one segment at a time.
  const carryBytes = p.carry.reduce((s, a) => s + 8 * Math.max(1, shapeSize(a.shape)), 0);
  const maxKept = Math.max(2, Math.floor(checkpointBudgetBytes / carryBytes));
  const checkpoints: ConcreteArray[][] = [];
  let stride = 1;
  let steps = 0;
  while (p.cond.run([...condLifted, ...carry])[0]!.scalarValue !== 0) {
    if (steps % stride === 0) {
      checkpoints.push(carry);
      if (checkpoints.length > maxKept) {
        const thinned = checkpoints.filter((_, j) => j % 2 === 0);
        checkpoints.length = 0;
        checkpoints.push(...thinned);
        stride *= 2;
      }
    }
    carry = runBody(carry);
    steps++;
  }
  const floatCarry = p.carry.flatMap((a, i) => (isFloat(a.dtype) ? [i] : []));
  // the lifted values whose cotangents are wanted (inIdx), as positions among the body's
  const floatLifted = inIdx.filter((i) => i < nc + nb).map((i) => i - nc);
  let ctCarry = args.slice(nOps);
  let ctLifted = floatLifted.map((i) =>
    ConcreteArray.zeros(bodyLifted[i]!.shape, bodyLifted[i]!.dtype),
  );
  if (steps > 0) {
    const vjpStep = compiledBodyVjp(p, bodyLifted, floatLifted);
    // Backward, one segment [j * stride, min((j + 1) * stride, steps)) at a time.
    for (let j = checkpoints.length - 1; j >= 0; j--) {
      const length = Math.min(stride, steps - j * stride);
      const segment = [checkpoints[j]!];
      for (let t = 1; t < length; t++) segment.push(runBody(segment[t - 1]!));
      for (let t = length - 1; t >= 0; t--) {
        const outs = vjpStep.run([...bodyLifted, ...segment[t]!, ...ctCarry]);
        ctLifted = ctLifted.map((c, k) => addConcrete(c, outs[k]!));
        ctCarry = outs.slice(floatLifted.length);
      }
    }
  }
  // The cotangents of the operands inIdx, in order.
  const byOperand = new Map<number, ConcreteArray>();
  floatLifted.forEach((i, k) => byOperand.set(nc + i, ctLifted[k]!));
  floatCarry.forEach((i, k) => byOperand.set(nc + nb + i, ctCarry[k]!));
  return inIdx.map((i) => byOperand.get(i)!);
}

/** whileLinear's transpose: the loop's VJP, run on concrete values. */
export const whileVjp = defineMultiPrimitive<WhileReverseParams>({
  name: "whileVjp",
  multipleResults: true,
  linear: false,
  abstractEval: (avals, { inIdx }) =>
    inIdx.map((i) => ({ shape: avals[i]!.shape, dtype: avals[i]!.dtype })),
  impl: runVjp,
  jvp: (_primals, _tangents, _outs, { p }) => {
    throw new ChainruleError(
      `${p.source}: differentiating the reverse pass again (hessian, grad of grad, jacfwd of ` +
        "grad) through a loop with a traced condition (or traced forILoop bounds) is not " +
        "supported: the trip count is known only when the loop runs, so the reverse pass is " +
        "one run-time step with no derivative of its own. Use jacfwd(jacfwd(f)) (forward mode " +
        "goes through the loop), give lax.forILoop/lax.scan bounds that are JS numbers " +
        "(under jit: staticArgnums), or take the outer derivatives outside jit " +
        "(grad(grad(jit(f))) runs the loop on concrete values)",
    );
  },
  // Each batch element runs its own loop (its own trip count).
  batch(args, dims, params) {
    const size = batchSize(args, dims);
    const perElement: Array[][] = [];
    for (let b = 0; b < size; b++) {
      const element = args.map((a, i) => {
        const d = dims[i] ?? null;
        if (d === null) return a;
        const start = a.shape.map((_, k) => (k === d ? b : 0));
        const limit = a.shape.map((s, k) => (k === d ? b + 1 : s));
        return reshape(
          slice(a, start, limit),
          a.shape.filter((_, k) => k !== d),
        );
      });
      perElement.push(bindAll(whileVjp, element, params));
    }
    const outs = params.inIdx.map((i, k) => {
      if (size === 0) {
        const d = dims[i] ?? null;
        const shape = args[i]!.shape.filter((_, j) => j !== d);
        return ConcreteArray.zeros([0, ...shape], args[i]!.dtype);
      }
      return concatenate(
        perElement.map((o) => reshape(o[k]!, [1, ...o[k]!.shape])),
        0,
      );
    });
    return [outs, outs.map(() => 0)];
  },
});
