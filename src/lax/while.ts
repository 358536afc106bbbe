/**
 * The staged while loop: a `while` primitive whose parameters hold the
 * condition and the body as traced programs (jaxprs). lax.whileLoop uses it
 * when its condition is traced (inside jit, or differing per batch element
 * inside vmap), and lax.forILoop when its bounds are traced; with concrete
 * conditions they keep running the loop in JavaScript (exact under every
 * transformation, reverse mode included).
 *
 * Operands of `while`: the condition's closed-over traced values, the
 * body's closed-over traced values (both "lifted" out of the programs, so
 * that every transformation sees them as ordinary operands), then the carry
 * leaves. Closed-over concrete arrays stay inside the programs as constants.
 * Outputs: the final carry leaves, each in its own shape and dtype (a
 * multi-output primitive). The programs and parameters are in
 * whileProgram.ts.
 *
 * Two registered primitives here, and whileVjp in whileReverse.ts:
 *   while        impl: the loop, one compiled program per iteration (the
 *                body, then the condition on the new carry), built by jit's
 *                code generator on first use and cached per loop.
 *                jvp: binds whileLinear on the tangents (below).
 *                batch: a batched predicate runs the loop while ANY element's
 *                predicate holds and updates only the elements whose own
 *                predicate still holds (select), as JAX does.
 *   whileLinear  the loop's tangent map at given primals: linear in its
 *                tangent operands, whose other operands (the while's primal
 *                operands) are residuals, only read. impl: the joint loop
 *                over (primal carry, tangent carry), a `while` of the body's
 *                JVP (forward mode, memory independent of the trip count).
 *                jvp and batch: the jvp and vmap of that joint loop.
 *                transpose: binds whileVjp (whileReverse.ts), which runs the
 *                loop forwards storing carries, then the body's VJP
 *                backwards.
 * Forward mode evaluates whileLinear at once; reverse mode records it on the
 * tape and transposes it in the backward pass. No rule asks which
 * transformation is above it.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { DTypeError, InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import {
  type BatchDim,
  type Tangent,
  UndefPrimal,
  defineMultiPrimitive,
} from "../core/primitive.js";
import { shapesEqual } from "../core/shape.js";
import { bindAll } from "../core/trace.js";
import { traceToJaxpr } from "../ir/jaxpr.js";
import { optimize } from "../ir/passes.js";
import type { CompiledProgram } from "../jit/codegen.js";
import { compileOrInterpret } from "../jit/jit.js";
import { convert, gt, ne, select } from "../primitives/elementwise.js";
import { batchSize, batchToFront, fullLike, instantiate } from "../primitives/helpers.js";
import { broadcastInDim, reshape } from "../primitives/movement.js";
import { reduceMax } from "../primitives/reduce.js";
import { jvp } from "../transforms/jvp.js";
import { vmap } from "../transforms/vmap.js";
import { flatten } from "../tree/index.js";
import {
  type WhileParams,
  jvpOfOperands,
  namedParams,
  stageProgram,
  traceProgram,
} from "./whileProgram.js";
import { type WhileReverseParams, differentiableOperands, whileVjp } from "./whileReverse.js";
import { entriesFor } from "./keyedCache.js";

// ----------------------------------------------------------- primitive --

const whilePrim = defineMultiPrimitive<WhileParams>({
  name: "while",
  multipleResults: true,
  linear: false,
  abstractEval(avals, p) {
    const nLifted = p.cond.numLifted + p.body.numLifted;
    const carry = avals.slice(nLifted);
    if (carry.length !== p.carry.length) {
      throw new InvalidArgumentError(
        `while: expected ${p.carry.length} carry operands, got ${carry.length}`,
      );
    }
    carry.forEach((a, i) => checkAval("while", `carry leaf ${i}`, a, p.carry[i]!));
    return p.carry.map((a) => ({ shape: a.shape, dtype: a.dtype }));
  },
  impl(args, p) {
    const nLifted = p.cond.numLifted + p.body.numLifted;
    const n = p.carry.length;
    const lifted = args.slice(0, nLifted);
    let carry = args.slice(nLifted);
    if (p.cond.run([...lifted.slice(0, p.cond.numLifted), ...carry])[0]!.scalarValue === 0) {
      return carry;
    }
    // One compiled call per iteration: the body, then the condition on its result.
    const step = compiledStep(p, args);
    for (;;) {
      const outs = step.run([...lifted, ...carry]);
      carry = outs.slice(0, n);
      if (outs[n]!.scalarValue === 0) return carry;
    }
  },
  jvp: whileJvp,
  batch: whileBatch,
});

const compiledSteps = new WeakMap<WhileParams, CompiledProgram>();

/**
 * The loop step as one compiled program of (lifted values, carry): the new
 * carry followed by the condition evaluated on it. Cached per loop.
 */
function compiledStep(p: WhileParams, args: readonly Aval[]): CompiledProgram {
  let step = compiledSteps.get(p);
  if (step === undefined) {
    const nc = p.cond.numLifted;
    const nb = p.body.numLifted;
    const avals = args.map((a) => ({ shape: a.shape, dtype: a.dtype }));
    const [, inDef] = flatten(avals.map(() => 0));
    const { jaxpr } = traceToJaxpr(
      (...xs: unknown[]) => {
        const all = xs as Array[];
        const next = p.body.call(all.slice(nc, nc + nb), all.slice(nc + nb));
        return [...next, p.cond.call(all.slice(0, nc), next)[0]!];
      },
      inDef,
      avals,
    );
    step = compileOrInterpret(optimize(jaxpr));
    compiledSteps.set(p, step);
  }
  return step;
}

function checkAval(fnName: string, what: string, got: Aval, want: Aval): void {
  if (!shapesEqual(got.shape, want.shape)) {
    throw new ShapeError(
      `${fnName}: ${what} has shape ${fmtShape(got.shape)} but the loop carry has shape ` +
        `${fmtShape(want.shape)}; the body must return a carry shaped like its input`,
    );
  }
  if (got.dtype !== want.dtype) {
    throw new DTypeError(
      `${fnName}: ${what} has dtype ${got.dtype} but the loop carry has dtype ${want.dtype}; ` +
        `the body must keep the carry's dtypes (give the initial value the dtype it will ` +
        `have, e.g. np.array(0, { dtype: "int32" }), or convert with astype in the body)`,
    );
  }
}

/**
 * Stages `while cond(carry): carry = body(carry)` on the carry leaves `init`
 * and binds the `while` primitive; returns the final carry leaves.
 */
export function stagedWhile(
  fnName: string,
  condFn: (leaves: Array[]) => Array,
  bodyFn: (leaves: Array[]) => Array[],
  init: readonly Array[],
): Array[] {
  const carry = init.map((x) => ({ shape: x.shape, dtype: x.dtype }));
  const cond = stageProgram((leaves) => [predicate(fnName, condFn(leaves))], carry);
  const body = stageProgram(bodyFn, carry);
  if (body.outAvals.length !== carry.length) {
    throw new InvalidArgumentError(
      `${fnName}: the body returned ${body.outAvals.length} leaves for a carry of ` +
        `${carry.length}; it must return the carry's structure`,
    );
  }
  body.outAvals.forEach((a, i) => checkAval(fnName, `the body's output leaf ${i}`, a, carry[i]!));
  const params: WhileParams = namedParams("while", {
    source: fnName,
    cond: cond.program,
    body: body.program,
    carry,
  });
  return bindAll(whilePrim, [...cond.lifted, ...body.lifted, ...init], params);
}

/** The condition's value as a 0-d bool (nonzero is true). */
function predicate(fnName: string, value: unknown): Array {
  const c = asArray(value, `${fnName}: condition`);
  if (c.size !== 1) {
    throw new ShapeError(
      `${fnName}: the condition must return a scalar, got shape ${fmtShape(c.shape)}`,
    );
  }
  const s = c.ndim === 0 ? c : reshape(c, []);
  return s.dtype === "bool" ? s : ne(s, fullLike(s, 0));
}

// ------------------------------------------------------ forward mode --

/** Positions of the float carry leaves (the ones with tangents). */
function floatCarry(p: WhileParams): number[] {
  return p.carry.flatMap((a, i) => (isFloat(a.dtype) ? [i] : []));
}

/**
 * JVP rule: the tangents of the float carry leaves are whileLinear applied
 * to the tangents of the differentiable operands (float body values that
 * have a tangent, every float carry leaf); integer leaves have none.
 */
function whileJvp(
  primals: readonly Array[],
  tangents: readonly Tangent[],
  _outs: readonly Array[],
  p: WhileParams,
): Tangent[] {
  const inIdx = differentiableOperands(p, primals, tangents);
  const none = inIdx.every((i) => (tangents[i] ?? null) === null);
  if (none || floatCarry(p).length === 0) return p.carry.map(() => null);
  const ts = inIdx.map((i) => instantiate(tangents[i] ?? null, primals[i]!));
  const outT = bindAll(whileLinear, [...primals, ...ts], { p, inIdx });
  const result: Tangent[] = p.carry.map(() => null);
  floatCarry(p).forEach((i, k) => (result[i] = outT[k]!));
  return result;
}

/** The joint (primal, tangent) loop of one while and set of differentiated operands. */
interface JointLoop {
  readonly params: WhileParams;
}

const jointLoops = new WeakMap<WhileParams, Map<string, JointLoop>>();

/**
 * The `while` over (primal carry, tangents of the float carry leaves) whose
 * body is the body's JVP: condition lifted values as before; body lifted
 * values = (body values, tangents of the body values in inIdx). Built once
 * per loop and set of differentiated operands.
 */
function jointLoop(p: WhileParams, inIdx: readonly number[]): JointLoop {
  const key = inIdx.join(",");
  const byKey = entriesFor(jointLoops, p);
  const known = byKey.get(key);
  if (known !== undefined) return known;
  const nc = p.cond.numLifted;
  const nb = p.body.numLifted;
  const n = p.carry.length;
  const bodyAvals = liftedAvals(p.body);
  const condAvals = liftedAvals(p.cond);
  const liftedT = inIdx.filter((i) => i < nc + nb).map((i) => i - nc);
  const fc = floatCarry(p);
  const carryAvals = [...p.carry, ...fc.map((i) => p.carry[i]!)];
  const cond = traceProgram(
    (lifted, leaves) => p.cond.call(lifted, leaves.slice(0, n)),
    condAvals,
    carryAvals,
  );
  const body = traceProgram(
    (lifted, leaves) => {
      const values = lifted.slice(0, nb);
      const carry = leaves.slice(0, n);
      // differentiated: the body values in liftedT and the float carry leaves
      const f = (dv: Array[], dc: Array[]): Array[] => {
        const v = values.slice();
        liftedT.forEach((j, k) => (v[j] = dv[k]!));
        const c = carry.slice();
        fc.forEach((i, k) => (c[i] = dc[k]!));
        return p.body.call(v, c);
      };
      const [outs, outT] = jvp(
        f,
        [liftedT.map((j) => values[j]!), fc.map((i) => carry[i]!)],
        [lifted.slice(nb), leaves.slice(n)],
      );
      return [...outs, ...fc.map((i) => outT[i]!)];
    },
    [...bodyAvals, ...liftedT.map((j) => bodyAvals[j]!)],
    carryAvals,
  );
  const joint: JointLoop = {
    params: namedParams("while", { source: p.source, cond, body, carry: carryAvals }),
  };
  byKey.set(key, joint);
  return joint;
}

/** The avals of a program's lifted inputs. */
function liftedAvals(program: WhileParams["body"]): Aval[] {
  return program.jaxpr.inVars
    .slice(0, program.numLifted)
    .map((v) => ({ shape: v.shape, dtype: v.dtype }));
}

/**
 * whileLinear as a function of all its operands (the while's primal
 * operands, then the tangents of the operands inIdx): the joint loop's
 * tangent outputs.
 */
function linearApply(p: WhileParams, inIdx: readonly number[], ops: readonly Array[]): Array[] {
  const nc = p.cond.numLifted;
  const nb = p.body.numLifted;
  const nOps = nc + nb + p.carry.length;
  const primals = ops.slice(0, nOps);
  const ts = ops.slice(nOps);
  const liftedT = ts.slice(0, inIdx.filter((i) => i < nc + nb).length);
  const tangentOf = new Map<number, Array>();
  inIdx.forEach((i, k) => tangentOf.set(i, ts[k]!));
  const carryT = floatCarry(p).map((i) => {
    const t = tangentOf.get(nc + nb + i);
    return t ?? ConcreteArray.zeros(p.carry[i]!.shape, p.carry[i]!.dtype);
  });
  const { params } = jointLoop(p, inIdx);
  const outs = bindAll(
    whilePrim,
    [
      ...primals.slice(0, nc),
      ...primals.slice(nc, nc + nb),
      ...liftedT,
      ...primals.slice(nc + nb),
      ...carryT,
    ],
    params,
  );
  return outs.slice(p.carry.length);
}

const whileLinear = defineMultiPrimitive<WhileReverseParams>({
  name: "whileLinear",
  multipleResults: true,
  linear: true,
  abstractEval: (_avals, { p }) =>
    floatCarry(p).map((i) => ({ shape: p.carry[i]!.shape, dtype: p.carry[i]!.dtype })),
  impl: (args, { p, inIdx }) => linearApply(p, inIdx, args).map((t) => t.concrete(p.source)),
  // Linear in the tangents, not in the residuals: differentiate the joint loop.
  jvp: (primals, tangents, _outs, { p, inIdx }) =>
    jvpOfOperands((ops) => linearApply(p, inIdx, ops), primals, tangents),
  batch(args, dims, { p, inIdx }) {
    const outs = vmap((...ops: Array[]) => linearApply(p, inIdx, ops), {
      inAxes: dims.map((d) => d),
    })(...args);
    return [outs, outs.map(() => 0)];
  },
  // Reverse mode: the loop forwards storing carries, then the body's VJP backwards.
  transpose(cts, args, { p, inIdx }) {
    const nOps = p.cond.numLifted + p.body.numLifted + p.carry.length;
    const primals = args.slice(0, nOps).map((a) => {
      if (a instanceof UndefPrimal) {
        throw new Error(`internal error: ${p.source}: a residual of whileLinear is undefined`);
      }
      return a;
    });
    const fc = floatCarry(p);
    const ctLeaves = fc.map(
      (i, k) => cts[k] ?? (ConcreteArray.zeros(p.carry[i]!.shape, p.carry[i]!.dtype) as Array),
    );
    const inCts = bindAll(whileVjp, [...primals, ...ctLeaves], { p, inIdx });
    return [...primals.map(() => null), ...inCts];
  },
});

// ------------------------------------------------------------ batching --

/**
 * Batch rule. Every carry leaf gets the batch axis in front; the loop runs
 * while any element's predicate holds, and an element whose predicate is
 * false keeps its carry (select), so each element stops at its own count.
 */
function whileBatch(
  args: readonly Array[],
  dims: readonly BatchDim[],
  p: WhileParams,
): [Array[], BatchDim[]] {
  const size = batchSize(args, dims);
  const nc = p.cond.numLifted;
  const nb = p.body.numLifted;
  const front = args.map((a, i) => {
    const d = dims[i] ?? null;
    if (i >= nc + nb) return batchToFront(a, d, size);
    return d === null ? a : batchToFront(a, d, size);
  });
  const axes = dims.map((d) => (d === null ? null : 0));
  const condLifted = front.slice(0, nc);
  const bodyLifted = front.slice(nc, nc + nb);
  const carry = front.slice(nc + nb);
  const condAxes = axes.slice(0, nc);
  const bodyAxes = axes.slice(nc, nc + nb);
  const carryAxes = carry.map(() => 0);

  /** Each element's predicate, shape [size]. */
  const predicates = (leaves: Array[]): Array =>
    vmap((l: Array[], c: Array[]) => p.cond.call(l, c)[0]!, {
      inAxes: [condAxes, carryAxes],
    })(condLifted, leaves);

  const result = stagedWhile(
    p.source,
    (leaves) => {
      // any(pred): the max over the batch of pred as 0/1
      const asNumber = convert(predicates(leaves), "float64");
      return gt(reduceMax(asNumber, [0]), fullLike({ shape: [], dtype: "float64" }, 0));
    },
    (leaves) => {
      const pred = predicates(leaves);
      const next = vmap((l: Array[], c: Array[]) => p.body.call(l, c), {
        inAxes: [bodyAxes, carryAxes],
      })(bodyLifted, leaves);
      return next.map((x, i) => {
        const mask = broadcastInDim(pred, x.shape, [0]);
        return select(mask, x, leaves[i]!);
      });
    },
    carry,
  );
  return [result, result.map(() => 0)];
}
