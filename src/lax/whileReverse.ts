/**
 * Reverse mode through the staged `while` (while.ts), by running the loop
 * when its values are concrete.
 *
 * A traced loop's trip count is unknown while the program is traced (inside
 * jit), so its steps cannot be put on the tape one by one. Instead the tape
 * gets ONE linear equation, `whileLinear`, standing for the whole loop's
 * tangent map (inputs: tangents of the body's lifted values and of the
 * initial carry; residuals: the loop's primal operands). Its transpose binds
 * `whileVjp`, a primitive whose impl, given concrete operands and the output
 * cotangent, runs the loop forwards storing every carry, then walks the steps
 * backwards applying the body's VJP (compiled once per loop) and sums the
 * cotangents of the lifted values. Memory: one carry per step, as the
 * unrolled reverse mode stores, up to a budget (256 MiB by default); past it
 * only every 2^k-th carry is kept and the backward pass recomputes each
 * segment from its checkpoint (at most one extra forward pass). The
 * condition only decides the trip count, which is piecewise constant: it
 * contributes no derivative.
 *
 * whileVjp batches by running each batch element's loop separately (per
 * element trip counts); its forward-mode derivative (forward over reverse,
 * e.g. hessian) is refused with a clear error. The forward application of
 * whileLinear (linearize) is the loop's JVP, which while.ts hands to
 * whileReverseTangent, so this module does not import while.ts.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { ChainruleError } from "../core/errors.js";
import { type PrimitiveDef, type Tangent, makePrimitive } from "../core/primitive.js";
import { shapeSize } from "../core/shape.js";
import { bind } from "../core/trace.js";
import { traceToJaxpr } from "../ir/jaxpr.js";
import { optimize } from "../ir/passes.js";
import type { CompiledProgram } from "../jit/codegen.js";
import { compileOrInterpret } from "../jit/jit.js";
import { instantiate } from "../primitives/helpers.js";
import { concatenate, reshape, slice } from "../primitives/movement.js";
import { vjp } from "../transforms/linearize.js";
import { flatten } from "../tree/index.js";
import { concatConcrete, packedAval, splitVector, unpackConcrete } from "./packing.js";
import type { WhileParams } from "./whileProgram.js";

/**
 * The forward application of a staged loop's tangent map (the while's JVP
 * rule, from while.ts): tangents of the operands (null = zero) to the packed
 * tangent of the carry.
 */
export type WhileTangentMap = (
  primals: readonly Array[],
  tangents: readonly Tangent[],
  p: WhileParams,
) => Array;

/** Memory the stored carries of one loop's reverse pass may take (bytes) before thinning. */
let checkpointBudgetBytes = 256 * 2 ** 20;

/** Sets that budget (tests use a tiny one); returns the previous value. */
export function setCheckpointBudget(bytes: number): number {
  const previous = checkpointBudgetBytes;
  checkpointBudgetBytes = bytes;
  return previous;
}

interface ReverseParams {
  readonly p: WhileParams;
  /** Operand positions (of the while) whose derivatives are taken: float body values and carry leaves. */
  readonly inIdx: readonly number[];
}

interface LinearParams extends ReverseParams {
  /** The while's primal operands. */
  readonly primals: readonly Array[];
  /** The loop's JVP, for applying the tangent map forwards (linearize). */
  readonly tangentMap: WhileTangentMap;
}

/**
 * Float operands that carry a derivative: the body's lifted values that have
 * a tangent (a lifted value without one, e.g. a large array the body only
 * reads, gets no cotangent: accumulating one would cost its size per step),
 * and every float carry leaf (the carry's cotangent flows through the steps).
 */
function differentiable(
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

/**
 * The JVP rule's answer when the tangents are tape nodes (reverse mode): one
 * linear equation for the whole loop. `tangentMap` is the loop's forward-mode
 * rule, used when the linear map is applied forwards (linearize).
 */
export function whileReverseTangent(
  primals: readonly Array[],
  tangents: readonly Tangent[],
  p: WhileParams,
  tangentMap: WhileTangentMap,
): Array {
  const inIdx = differentiable(p, primals, tangents);
  const ts = inIdx.map((i) => instantiate(tangents[i] ?? null, primals[i]!));
  return bind(whileLinear, ts, { p, inIdx, primals: [...primals], tangentMap });
}

const whileLinear: PrimitiveDef<LinearParams> = makePrimitive<LinearParams>({
  name: "whileLinear",
  linear: true,
  abstractEval: (_avals, { p }) => packedAval(p.carry),
  // Applied to concrete tangents (linearize's forward map): the loop's JVP.
  impl(ts, { p, inIdx, primals, tangentMap }) {
    const tangents: Tangent[] = primals.map(() => null);
    inIdx.forEach((i, k) => (tangents[i] = ts[k]!));
    return tangentMap(primals, tangents, p).concrete(p.source);
  },
  jvp: (_primals, _tangents, _out, { p }) => {
    throw new ChainruleError(
      `${p.source}: differentiating the tangent map of a staged loop again (linearize, then ` +
        "jvp of its linear function) is not supported; differentiate the function itself",
    );
  },
  transpose(ct, _args, { p, inIdx, primals }) {
    const packed = bind(whileVjp, [...primals, ct], { p, inIdx });
    return splitVector(
      packed,
      inIdx.map((i) => primals[i]!),
    );
  },
  batch: () => {
    throw new ChainruleError("internal error: whileLinear is batched through its transpose");
  },
});

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
  let byKey = bodyVjps.get(p);
  if (byKey === undefined) bodyVjps.set(p, (byKey = new Map<string, CompiledProgram>()));
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
      const [ctLifted, ctCarry] = pullback(ct) as [Array[], Array[]];
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
function runVjp(args: readonly ConcreteArray[], { p, inIdx }: ReverseParams): ConcreteArray {
  const nc = p.cond.numLifted;
  const nb = p.body.numLifted;
  const ct = args[args.length - 1]!;
  const primals = args.slice(0, args.length - 1);
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
  const ctLeaves = unpackConcrete(ct, p.carry);
  let ctCarry = floatCarry.map((i) => ctLeaves[i]!);
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
  // Pack the cotangents of the operands inIdx, in order, as float64.
  const byOperand = new Map<number, ConcreteArray>();
  floatLifted.forEach((i, k) => byOperand.set(nc + i, ctLifted[k]!));
  floatCarry.forEach((i, k) => byOperand.set(nc + nb + i, ctCarry[k]!));
  return concatConcrete(inIdx.map((i) => byOperand.get(i)!));
}

const whileVjp: PrimitiveDef<ReverseParams> = makePrimitive<ReverseParams>({
  name: "whileVjp",
  linear: false,
  abstractEval(avals, { inIdx }) {
    const total = inIdx.reduce((s, i) => s + shapeSize(avals[i]!.shape), 0);
    return { shape: [total], dtype: "float64" };
  },
  impl: runVjp,
  jvp: (_primals, _tangents, _out, { p }) => {
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
    let size = 0;
    dims.forEach((d, i) => {
      if (d !== null) size = args[i]!.shape[d]!;
    });
    const rows: Array[] = [];
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
      const r = bind(whileVjp, element, params);
      rows.push(reshape(r, [1, ...r.shape]));
    }
    if (size === 0) {
      const elementSize = (i: number) =>
        shapeSize(args[i]!.shape.filter((_, k) => k !== (dims[i] ?? null)));
      const total = params.inIdx.reduce((t, i) => t + elementSize(i), 0);
      return [ConcreteArray.zeros([0, total], "float64"), 0];
    }
    return [concatenate(rows, 0), 0];
  },
});
