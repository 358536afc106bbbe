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
 *
 * Primitives here have one output, so the carry leaves come back packed
 * (packing.ts): a single float64 leaf as itself, anything else as one
 * float64 vector of all leaves' elements, cut back into leaves after the
 * loop. The programs and parameters are in whileProgram.ts.
 *
 * Rules:
 *   impl       runs the loop: one compiled program per iteration (the body,
 *              then the condition on the new carry), built by jit's code
 *              generator on first use and cached per loop.
 *   jvp        a while over (primal carry, tangent carry): the body's JVP,
 *              the condition reads primals only. (The primal loop runs once
 *              more for the output the trace already holds: primitives have
 *              one output here, so the rule cannot return both.)
 *   batch      a batched predicate runs the loop while ANY element's
 *              predicate holds, and updates only the elements whose own
 *              predicate still holds (select), as JAX does.
 *   reverse    (whileReverse.ts) with tape tangents the JVP rule records
 *              one linear equation for the whole loop; its transpose runs
 *              the loop at run time storing every carry, then the body's
 *              VJP backwards over the steps. whileReverse.ts does not import
 *              this module: the rule is handed whileJvp (the tangent map's
 *              forward application), so the dependency points one way.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { DTypeError, InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import {
  type BatchDim,
  type PrimitiveDef,
  type Tangent,
  makePrimitive,
} from "../core/primitive.js";
import { shapesEqual } from "../core/shape.js";
import { bind, withMainTrace } from "../core/trace.js";
import { traceToJaxpr } from "../ir/jaxpr.js";
import { optimize } from "../ir/passes.js";
import type { CompiledProgram } from "../jit/codegen.js";
import { compileOrInterpret } from "../jit/jit.js";
import { convert, gt, ne, select } from "../primitives/elementwise.js";
import { batchSize, batchToFront, fullLike, instantiate } from "../primitives/helpers.js";
import { broadcastInDim, reshape } from "../primitives/movement.js";
import { reduceMax } from "../primitives/reduce.js";
import { JVPTrace, JVPTracer, primalAndTangent } from "../transforms/jvp.js";
import { LinearTracer } from "../transforms/linearize.js";
import { vmap } from "../transforms/vmap.js";
import { flatten } from "../tree/index.js";
import { pack, packConcrete, packedAval, unpack } from "./packing.js";
import { type LoopProgram, type WhileParams, stageProgram } from "./whileProgram.js";
import { whileReverseTangent } from "./whileReverse.js";

// ----------------------------------------------------------- primitive --

const whilePrim: PrimitiveDef<WhileParams> = makePrimitive<WhileParams>({
  name: "while",
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
    return packedAval(p.carry);
  },
  impl(args, p) {
    const nLifted = p.cond.numLifted + p.body.numLifted;
    const n = p.carry.length;
    const lifted = args.slice(0, nLifted);
    let carry = args.slice(nLifted);
    if (p.cond.run([...lifted.slice(0, p.cond.numLifted), ...carry])[0]!.scalarValue === 0) {
      return packConcrete(carry, p.carry);
    }
    // One compiled call per iteration: the body, then the condition on its result.
    const step = compiledStep(p, args);
    for (;;) {
      const outs = step.run([...lifted, ...carry]);
      carry = outs.slice(0, n);
      if (outs[n]!.scalarValue === 0) return packConcrete(carry, p.carry);
    }
  },
  jvp(primals, tangents, _out, p) {
    // Reverse mode: one linear equation for the whole loop (whileReverse.ts).
    if (tangents.some((t) => t instanceof LinearTracer))
      return whileReverseTangent(primals, tangents, p, whileJvp);
    return whileJvp(primals, tangents, p);
  },
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
  const params: WhileParams = { source: fnName, cond: cond.program, body: body.program, carry };
  const out = bind(whilePrim, [...cond.lifted, ...body.lifted, ...init], params);
  return unpack(out, carry, []);
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

/**
 * Forward mode of `f(lifted, carry)` with tangents for some of them (null =
 * zero): [primal outputs, output tangents (null = zero)].
 */
function jvpCall(
  program: LoopProgram,
  lifted: readonly Array[],
  liftedT: readonly Tangent[],
  carry: readonly Array[],
  carryT: readonly Tangent[],
): [Array[], Tangent[]] {
  return withMainTrace(
    (main) => new JVPTrace(main),
    (main) => {
      const wrap = (x: Array, t: Tangent): Array =>
        t === null || !isFloat(x.dtype) ? x : new JVPTracer(main.trace, x, t);
      const outs = program.call(
        lifted.map((x, i) => wrap(x, liftedT[i] ?? null)),
        carry.map((x, i) => wrap(x, carryT[i] ?? null)),
      );
      const pairs = outs.map((o) => primalAndTangent(main, o));
      return [pairs.map((pt) => pt[0]), pairs.map((pt) => pt[1])];
    },
  );
}

/** JVP rule: a while over the primal carry and the tangents of its float leaves. */
export function whileJvp(
  primals: readonly Array[],
  tangents: readonly Tangent[],
  p: WhileParams,
): Array {
  const nc = p.cond.numLifted;
  const nb = p.body.numLifted;
  const condLifted = primals.slice(0, nc);
  const bodyLifted = primals.slice(nc, nc + nb);
  const bodyLiftedT = tangents.slice(nc, nc + nb);
  const carry = primals.slice(nc + nb);
  const carryT = tangents.slice(nc + nb);
  const floatIdx = p.carry.flatMap((a, i) => (isFloat(a.dtype) ? [i] : []));
  const n = carry.length;
  const init = [...carry, ...floatIdx.map((i) => instantiate(carryT[i] ?? null, carry[i]!))];
  const result = stagedWhile(
    p.source,
    (leaves) => p.cond.call(condLifted, leaves.slice(0, n))[0]!,
    (leaves) => {
      const primal = leaves.slice(0, n);
      const tangent: Tangent[] = carry.map(() => null);
      floatIdx.forEach((i, k) => (tangent[i] = leaves[n + k]!));
      const [outP, outT] = jvpCall(p.body, bodyLifted, bodyLiftedT, primal, tangent);
      return [...outP, ...floatIdx.map((i) => instantiate(outT[i] ?? null, outP[i]!))];
    },
    init,
  );
  const tangentLeaves = p.carry.map((a) => ConcreteArray.zeros(a.shape, "float64") as Array);
  floatIdx.forEach((i, k) => (tangentLeaves[i] = result[n + k]!));
  return pack(tangentLeaves, p.carry, []);
}

/**
 * Batch rule. Every carry leaf gets the batch axis in front; the loop runs
 * while any element's predicate holds, and an element whose predicate is
 * false keeps its carry (select), so each element stops at its own count.
 */
function whileBatch(
  args: readonly Array[],
  dims: readonly BatchDim[],
  p: WhileParams,
): [Array, BatchDim] {
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
    })(condLifted, leaves) as Array;

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
      })(bodyLifted, leaves) as Array[];
      return next.map((x, i) => {
        const mask = broadcastInDim(pred, x.shape, [0]);
        return select(mask, x, leaves[i]!);
      });
    },
    carry,
  );
  return [pack(result, p.carry, [size]), 0];
}
