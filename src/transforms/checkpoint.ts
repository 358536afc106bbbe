/**
 * checkpoint(f, { policy }): f whose intermediate values reverse mode does
 * not store (or only those the policy names); the backward pass recomputes
 * them (Griewank's checkpointing). Two registered multi-output primitives:
 *
 *   checkpointCall    impl: f. jvp: captures the values the policy stores
 *                     (one more evaluation of f's program, only when it
 *                     stores any), then binds checkpointLinear on the
 *                     tangents; "everythingSaveable" is plain f's JVP.
 *                     batch: the same primitive for vmap(f).
 *   checkpointLinear  the tangent map of f at stored inputs, linear in its
 *                     tangent operands. Operands: the stored values, f's
 *                     primal inputs (both only read), then one tangent per
 *                     input leaf. impl: f's JVP at the stored inputs,
 *                     recomputed (with the stored values in place of their
 *                     equations). transpose: f's VJP at the stored inputs,
 *                     recomputed the same way.
 *
 * Forward mode evaluates checkpointLinear at once (f's JVP); reverse mode
 * records it on the tape, which then holds f's inputs and the stored values
 * only, and transposes it in the backward pass. No rule asks which mode runs.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { expectFunction, expectOptions } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { InvalidArgumentError } from "../core/errors.js";
import { UndefPrimal, defineMultiPrimitive } from "../core/primitive.js";
import { bind, bindAll } from "../core/trace.js";
import type { Jaxpr, SingleEqn, Var } from "../ir/jaxpr.js";
import { instantiate } from "../primitives/helpers.js";
import { flatten } from "../tree/index.js";
import {
  type CallParams,
  CallCache,
  type CustomCall,
  type CustomRules,
  type UserFunction,
  applyCustom,
  batchedToFront,
  runCall,
} from "./customCall.js";
import { customJvp } from "./customJvp.js";
import { jvp } from "./jvp.js";
import { vjp } from "./linearize.js";
import { vmap } from "./vmap.js";
import type { Arrays, Inputs } from "../tree/types.js";

/**
 * Which intermediate values of a checkpointed function reverse mode stores
 * (JAX's checkpoint policies); the others are recomputed in the backward pass.
 *   "nothingSaveable"     store only the inputs, recompute everything (default)
 *   "everythingSaveable"  store everything, recompute nothing (plain reverse mode)
 *   "dotsSaveable"        store the outputs of matrix products (matmul), recompute the rest
 *   (name) => boolean     store the outputs of the primitives whose name it accepts
 */
export type CheckpointPolicy =
  "nothingSaveable" | "everythingSaveable" | "dotsSaveable" | ((primitiveName: string) => boolean);

/** Options of `checkpoint`. */
export interface CheckpointOptions {
  /** Which intermediates to store rather than recompute (default: none, all recomputed). */
  policy?: CheckpointPolicy;
}

/**
 * What checkpointed functions did in backward passes so far (for tests and
 * benchmarks): primitive applications recomputed, and intermediate values
 * stored by a policy.
 */
export const checkpointStats = { recomputed: 0, saved: 0 };

const MATMUL_NAMES = new Set(["matmul"]);

/** The policy as "store everything" or a predicate on primitive names. */
function policyPredicate(policy: unknown): "all" | ((name: string) => boolean) {
  if (policy === undefined || policy === "nothingSaveable") return () => false;
  if (policy === "everythingSaveable") return "all";
  if (policy === "dotsSaveable") return (name) => MATMUL_NAMES.has(name);
  if (typeof policy === "function") return policy as (name: string) => boolean;
  throw new InvalidArgumentError(
    `checkpoint: unknown policy ${typeof policy === "string" ? `"${policy}"` : typeof policy}; use ` +
      `"nothingSaveable", "everythingSaveable", "dotsSaveable" or a function ` +
      `(primitiveName) => boolean that says which primitives' outputs to store`,
  );
}

type StoredOutputFn = (...args: Array[]) => Array;

/** f with its policy (and, made on first use, the rules of vmap(f)). */
class CheckpointRules implements CustomRules {
  readonly kind = "checkpoint";
  readonly calls: CallCache<CheckpointRules> = new CallCache<CheckpointRules>(this);
  readonly policy: "all" | ((name: string) => boolean);
  /** Per traced program: the storedOutput functions of its stored equations. */
  readonly storedFns = new WeakMap<Jaxpr, Map<number, StoredOutputFn>>();
  private batchedRules: CheckpointRules | undefined;
  constructor(
    readonly f: UserFunction,
    readonly opts: CheckpointOptions,
  ) {
    this.policy = policyPredicate(opts.policy);
  }
  batched(): CheckpointRules {
    this.batchedRules ??= new CheckpointRules(vmap(this.f), this.opts);
    return this.batchedRules;
  }
}

/**
 * An equation whose output was stored: a function of its inputs and the
 * stored value that returns the stored value (no recomputation) while its
 * derivative is the primitive's own JVP rule at those inputs.
 */
function storedOutput(eqn: SingleEqn): StoredOutputFn {
  return customJvp<Array[], Array>(
    (...a: Array[]) => a[a.length - 1]!,
    (ps, ts) => {
      const out = ps[ps.length - 1]!;
      const n = ps.length - 1;
      const t = eqn.prim.jvp(ps.slice(0, n), ts.slice(0, n), out, eqn.params);
      return [out, t];
    },
  );
}

/**
 * f's program evaluated on xs (its input leaves), with the equations in
 * `saved` replaced by their stored outputs (through storedOutput) and the
 * others recomputed. Returns the output leaves.
 */
function evalWithSaved(
  call: CustomCall<CheckpointRules>,
  xs: readonly Array[],
  saved: ReadonlyMap<number, Array>,
): Array[] {
  const { jaxpr } = call;
  let stored = call.rules.storedFns.get(jaxpr);
  if (stored === undefined)
    call.rules.storedFns.set(jaxpr, (stored = new Map<number, StoredOutputFn>()));
  const env = new Map<Var, Array>();
  jaxpr.constVars.forEach((v, i) => env.set(v, jaxpr.consts[i]!));
  jaxpr.inVars.forEach((v, i) => env.set(v, xs[i]!));
  jaxpr.eqns.forEach((eqn, i) => {
    const args = eqn.inputs.map((v) => env.get(v)!);
    const kept = saved.get(i);
    if (eqn.outs !== undefined) {
      // Multi-output equations are never stored (see captureSaved): recomputed.
      checkpointStats.recomputed++;
      const outs = bindAll(eqn.prim, args, eqn.params);
      eqn.outs.forEach((v, j) => env.set(v, outs[j]!));
    } else if (kept === undefined) {
      checkpointStats.recomputed++;
      env.set(eqn.out, bind(eqn.prim, args, eqn.params));
    } else {
      let g = stored.get(i);
      if (g === undefined) stored.set(i, (g = storedOutput(eqn)));
      env.set(eqn.out, g(...args, kept));
    }
  });
  return jaxpr.outVars.map((v) => env.get(v)!);
}

/**
 * Evaluates f's program once more at the primals to capture the outputs of
 * the single-output equations the policy stores (by equation index).
 */
function captureSaved(
  call: CustomCall<CheckpointRules>,
  policy: (name: string) => boolean,
  primals: readonly Array[],
): Map<number, Array> {
  const saved = new Map<number, Array>();
  const { jaxpr } = call;
  if (!jaxpr.eqns.some((e) => e.outs === undefined && policy(e.prim.name))) return saved;
  const env = new Map<Var, Array>();
  jaxpr.constVars.forEach((v, i) => env.set(v, jaxpr.consts[i]!));
  jaxpr.inVars.forEach((v, i) => env.set(v, primals[i]!));
  jaxpr.eqns.forEach((eqn, i) => {
    const args = eqn.inputs.map((v) => env.get(v)!);
    if (eqn.outs !== undefined) {
      const outs = bindAll(eqn.prim, args, eqn.params);
      eqn.outs.forEach((v, j) => env.set(v, outs[j]!));
      return;
    }
    const value = bind(eqn.prim, args, eqn.params);
    env.set(eqn.out, value);
    if (policy(eqn.prim.name)) saved.set(i, value);
  });
  checkpointStats.saved += saved.size;
  return saved;
}

let nextStoreId = 0;

/** What one application of checkpointLinear keeps: which equations' outputs are stored. */
class StoredValues {
  readonly id = nextStoreId++;
  constructor(
    readonly call: CustomCall<CheckpointRules>,
    /** Equation indices of the stored values, in operand order. */
    readonly eqnIndices: readonly number[],
  ) {}
  /** Printed (and compared by jit's CSE) by identity. */
  toJSON(): string {
    return `${this.call.toJSON()} stored#${this.id}`;
  }
}

interface LinearParams {
  readonly stored: StoredValues;
}

/** Operands of checkpointLinear split into stored values (by equation), primals and tangents. */
function splitOperands(
  stored: StoredValues,
  ops: readonly Array[],
): { saved: Map<number, Array>; primals: Array[]; tangents: Array[] } {
  const ns = stored.eqnIndices.length;
  const np = stored.call.inAvals.length;
  const saved = new Map<number, Array>();
  stored.eqnIndices.forEach((e, k) => saved.set(e, ops[k]!));
  return { saved, primals: ops.slice(ns, ns + np), tangents: ops.slice(ns + np) };
}

/** checkpointLinear as a function of all its operands: f's JVP at the stored inputs. */
function linearApply(stored: StoredValues, ops: readonly Array[]): Array[] {
  const { saved, primals, tangents } = splitOperands(stored, ops);
  const g = (...xs: Array[]) => evalWithSaved(stored.call, xs, saved);
  return jvp(g, primals, tangents)[1];
}

const checkpointLinear = defineMultiPrimitive<LinearParams>({
  name: "checkpointLinear",
  multipleResults: true,
  linear: true,
  abstractEval(avals, { stored }) {
    const np = stored.call.inAvals.length;
    const ns = stored.eqnIndices.length;
    stored.call.checkOperands(avals.slice(ns, ns + np));
    stored.call.checkOperands(avals.slice(ns + np));
    return stored.call.outAvals.map((a) => ({ shape: a.shape, dtype: a.dtype }));
  },
  impl: (args, { stored }) => linearApply(stored, args).map((t) => t.concrete("checkpoint")),
  // Linear in the tangents, not in the stored inputs: differentiate the recomputation.
  jvp: (primals, tangents, _outs, { stored }) =>
    jvp(
      (...ops: Array[]) => linearApply(stored, ops),
      primals,
      tangents.map((t, i) => instantiate(t, primals[i]!)),
    )[1],
  batch(args, dims, { stored }) {
    const outs = vmap((...ops: Array[]) => linearApply(stored, ops))(...batchedToFront(args, dims));
    return [outs, outs.map(() => 0)];
  },
  // Recompute f (all but the stored values) at the inputs and pull the cotangents back.
  transpose(cts, args, { stored }) {
    const known = args.slice(0, stored.eqnIndices.length + stored.call.inAvals.length);
    const { saved, primals } = splitOperands(stored, known as Array[]);
    const outAvals: readonly Aval[] = stored.call.outAvals;
    const g = (...xs: Array[]) => evalWithSaved(stored.call, xs, saved);
    const ctLeaves = cts.map(
      (c, j) => c ?? ConcreteArray.zeros(outAvals[j]!.shape, outAvals[j]!.dtype),
    );
    const inCts = vjp(g, ...primals)[1](ctLeaves);
    return [
      ...known.map(() => null),
      ...inCts.map((c, i) => (args[known.length + i] instanceof UndefPrimal ? c : null)),
    ];
  },
});

const checkpointCall = defineMultiPrimitive<CallParams<CheckpointRules>>({
  name: "checkpointCall",
  multipleResults: true,
  linear: false,
  abstractEval: (avals, { call }) => call.checkOperands(avals),
  impl: (args, { call }) => runCall(call, args),
  jvp(primals, tangents, outs, { call }) {
    const ts = tangents.map((t, i) => instantiate(t, primals[i]!));
    const { policy } = call.rules;
    let outTangents: Array[];
    if (policy === "all") {
      // Everything stored: plain f, whose JVP (and its tape) keeps every intermediate.
      const g = (...xs: Array[]) => flatten(call.rules.f(...call.arguments(xs)))[0];
      outTangents = jvp(g, primals, ts)[1];
    } else {
      const saved = captureSaved(call, policy, primals);
      const stored = new StoredValues(call, [...saved.keys()]);
      outTangents = bindAll(checkpointLinear, [...saved.values(), ...primals, ...ts], { stored });
    }
    return outTangents.map((t, j) => (isFloat(outs[j]!.dtype) ? t : null));
  },
  batch(args, dims, { call }) {
    const front = batchedToFront(args, dims);
    const batched = call.rules.batched().calls.at(call.inTree, front);
    const outs = bindAll(checkpointCall, front, batched.params);
    return [outs, outs.map(() => 0)];
  },
});

/**
 * checkpoint(f, { policy }): f whose intermediate values are not stored for
 * reverse mode (or only those the policy names). The tape keeps f's inputs
 * (and the stored values); the backward pass recomputes the rest of f (its
 * vjp) when it reaches it: less memory for a second forward evaluation.
 * Arguments and output are pytrees. Forward mode and vmap give f's values.
 */
export function checkpoint<A extends unknown[] = Array[], R = Array>(
  f: (...args: A) => R,
  opts: CheckpointOptions = {},
): (...args: Inputs<A>) => Arrays<R> {
  expectFunction("checkpoint", "f", f);
  expectOptions("checkpoint", opts, ["policy"], 'checkpoint(f, { policy: "dotsSaveable" })');
  const rules = new CheckpointRules(f, opts);
  return (...args: unknown[]) =>
    applyCustom(checkpointCall, rules.calls, "checkpoint", args) as Arrays<R>;
}
