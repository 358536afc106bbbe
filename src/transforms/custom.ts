/**
 * User-defined derivative rules.
 *
 *   customJvp(f, rule)       f with the forward rule
 *                            rule(primals, tangents) -> [out, tangentOut];
 *                            reverse mode uses the same rule (linearised and
 *                            transposed like any JVP rule), and so does vmap.
 *   customVjp(f, fwd, bwd)   f with the reverse rule fwd(...args) ->
 *                            [out, residuals], bwd(residuals, ct) -> input
 *                            cotangents. Forward mode through it is refused
 *                            with a clear error (the rule gives only
 *                            vector-Jacobian products).
 *
 * Each custom function becomes a primitive of its own (not registered): its
 * impl calls f, its JVP rule is the user's rule (or, for customVjp, a linear
 * primitive whose transpose is bwd), and its batch rule is the same custom
 * function of the vmapped f and rules. So every transformation, jit
 * included, sees one operation and applies the user's rule.
 *
 *   checkpoint(f, {policy})  f recomputed in the backward pass instead of
 *                            storing its intermediates (all of them, or
 *                            those the policy does not store)
 *
 * f takes arrays (or numbers) and returns one array.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { ChainruleError, InvalidArgumentError, fmtShape } from "../core/errors.js";
import { type BatchDim, type PrimitiveDef, UndefPrimal, makePrimitive } from "../core/primitive.js";
import { shapesEqual } from "../core/shape.js";
import { bind, bindAll } from "../core/trace.js";
import { type Jaxpr, type SingleEqn, type Var, traceToJaxpr } from "../ir/jaxpr.js";
import { zerosLike } from "../numpy/index.js";
import { batchSize, batchToFront, instantiate } from "../primitives/helpers.js";
import { flatten } from "../tree/index.js";
import { jvp } from "./jvp.js";
import { LinearTracer, vjp } from "./linearize.js";
import { vmap } from "./vmap.js";

type ArrayFn = (...args: Array[]) => Array;
type NoParams = Record<string, never>;
const NO_PARAMS: NoParams = {};

/** The output aval of f at these input avals (f traced abstractly once per signature). */
function outputAval(
  fnName: string,
  f: ArrayFn,
  cache: Map<string, Aval>,
  avals: readonly Aval[],
): Aval {
  const key = avals.map((a) => `${a.dtype}[${a.shape.join(",")}]`).join(";");
  let aval = cache.get(key);
  if (aval === undefined) {
    const [, inDef] = flatten(avals.map(() => 0));
    const { jaxpr } = traceToJaxpr((...xs: unknown[]) => f(...(xs as Array[])), inDef, avals);
    if (jaxpr.outVars.length !== 1) {
      throw new InvalidArgumentError(
        `${fnName}: f must return a single array, got ${jaxpr.outVars.length} outputs`,
      );
    }
    const v = jaxpr.outVars[0]!;
    aval = { shape: v.shape, dtype: v.dtype };
    cache.set(key, aval);
  }
  return aval;
}

function runConcrete(f: ArrayFn, args: readonly ConcreteArray[]): ConcreteArray {
  return asArray(f(...args), "custom function output").concrete("custom function");
}

/** Moves every operand's batch axis to the front (broadcasting unbatched ones). */
function toFront(args: readonly Array[], dims: readonly BatchDim[]): Array[] {
  const size = batchSize(args, dims);
  return args.map((a, i) => batchToFront(a, dims[i] ?? null, size));
}

/** f with a custom forward-mode (JVP) rule. */
export function customJvp(
  f: ArrayFn,
  rule: (primals: Array[], tangents: Array[]) => [Array, Array],
): (...args: unknown[]) => Array {
  const cache = new Map<string, Aval>();
  let batched: ((...args: unknown[]) => Array) | undefined;
  const prim: PrimitiveDef<NoParams> = makePrimitive<NoParams>({
    name: "customJvp",
    linear: false,
    abstractEval: (avals) => outputAval("customJvp", f, cache, avals),
    impl: (args) => runConcrete(f, args),
    jvp(primals, tangents, out) {
      const ts = tangents.map((t, i) => instantiate(t, primals[i]!));
      const [, tangentOut] = rule([...primals], ts);
      const t = asArray(tangentOut, "customJvp rule: tangent output");
      if (!shapesEqual(t.shape, out.shape)) {
        throw new InvalidArgumentError(
          `customJvp: the rule returned a tangent of shape ${fmtShape(t.shape)} for an output of ` +
            `shape ${fmtShape(out.shape)}; they must match`,
        );
      }
      return t;
    },
    batch(args, dims) {
      // The same custom function, of the vmapped f and rule.
      batched ??= customJvp(
        (...xs) => vmap(f)(...xs) as Array,
        (ps, ts) => {
          const n = ps.length;
          const both = (...xs: Array[]) => rule(xs.slice(0, n), xs.slice(n));
          return vmap(both)(...ps, ...ts) as [Array, Array];
        },
      );
      return [batched(...toFront(args, dims)), 0];
    },
  });
  return (...args: unknown[]) =>
    bind(
      prim,
      args.map((a, i) => asArray(a, `customJvp: argument ${i}`)),
      NO_PARAMS,
    );
}

interface LinParams {
  residuals: unknown;
  out: Aval;
}

/** f with a custom reverse-mode (VJP) rule. */
export function customVjp(
  f: ArrayFn,
  fwd: (...args: Array[]) => [Array, unknown],
  bwd: (residuals: unknown, ct: Array) => Array | Array[],
): (...args: unknown[]) => Array {
  const cache = new Map<string, Aval>();
  let batched: ((...args: unknown[]) => Array) | undefined;
  const forwardRefused = (): never => {
    throw new ChainruleError(
      "customVjp: forward-mode differentiation (jvp, jacfwd, hessian, linearize's forward map) " +
        "through a customVjp function is not possible: its rule gives vector-Jacobian products " +
        "only. Use customJvp, whose rule serves both modes.",
    );
  };
  /** The tangent map of f at some primals: linear, transposed by bwd. */
  const lin: PrimitiveDef<LinParams> = makePrimitive<LinParams>({
    name: "customVjpLinear",
    linear: true,
    abstractEval: (_avals, { out }) => out,
    impl: forwardRefused,
    jvp: forwardRefused,
    transpose(ct, args, { residuals }) {
      const cts = bwd(residuals, ct);
      const list = globalThis.Array.isArray(cts) ? cts : [cts];
      if (list.length !== args.length) {
        throw new InvalidArgumentError(
          `customVjp: bwd returned ${list.length} cotangents for ${args.length} arguments; ` +
            `return one per argument (an array of them)`,
        );
      }
      return list.map((c, i) =>
        args[i] instanceof UndefPrimal ? asArray(c, `customVjp: cotangent ${i}`) : null,
      );
    },
    batch: () => {
      throw new ChainruleError(
        "internal error: customVjp's linear map is batched through its call",
      );
    },
  });
  const prim: PrimitiveDef<NoParams> = makePrimitive<NoParams>({
    name: "customVjp",
    linear: false,
    abstractEval: (avals) => outputAval("customVjp", f, cache, avals),
    impl: (args) => runConcrete(f, args),
    jvp(primals, tangents, out) {
      const [, residuals] = fwd(...primals);
      const ts = tangents.map((t, i) => instantiate(t, primals[i]!));
      return bind(lin, ts, { residuals, out: { shape: out.shape, dtype: out.dtype } });
    },
    batch(args, dims) {
      batched ??= customVjp(
        (...xs) => vmap(f)(...xs) as Array,
        (...xs) => vmap((...ys: Array[]) => fwd(...ys))(...xs) as [Array, unknown],
        (residuals, ct) => vmap((r: unknown, c: Array) => bwd(r, c))(residuals, ct) as Array[],
      );
      return [batched(...toFront(args, dims)), 0];
    },
  });
  return (...args: unknown[]) =>
    bind(
      prim,
      args.map((a, i) => asArray(a, `customVjp: argument ${i}`)),
      NO_PARAMS,
    );
}

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

export interface CheckpointOptions {
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

interface SavedResiduals {
  primals: Array[];
  /** Stored outputs, by equation index in f's program. */
  saved: Map<number, Array>;
}

/**
 * An equation whose output was stored: a function of its inputs and the
 * stored value that returns the stored value (no recomputation) while its
 * derivative is the primitive's own JVP rule at those inputs.
 */
function storedOutput(eqn: SingleEqn): (...args: unknown[]) => Array {
  return customJvp(
    (...a) => a[a.length - 1]!,
    (ps, ts) => {
      const out = ps[ps.length - 1]!;
      const n = ps.length - 1;
      const t = eqn.prim.jvp(ps.slice(0, n), ts.slice(0, n), out, eqn.params);
      return [out, t ?? zerosLike(out)];
    },
  );
}

/**
 * f's program evaluated on xs, with the equations in `saved` replaced by their
 * stored outputs (through storedOutput) and the others recomputed.
 */
function evalWithSaved(
  jaxpr: Jaxpr,
  xs: readonly Array[],
  saved: ReadonlyMap<number, Array>,
  stored: Map<number, (...args: unknown[]) => Array>,
): Array {
  const env = new Map<Var, Array>();
  jaxpr.constVars.forEach((v, i) => env.set(v, jaxpr.consts[i]!));
  jaxpr.inVars.forEach((v, i) => env.set(v, xs[i]!));
  jaxpr.eqns.forEach((eqn, i) => {
    const args = eqn.inputs.map((v) => env.get(v)!);
    const kept = saved.get(i);
    if (eqn.outs !== undefined) {
      // Multi-output equations are never stored (see the capture below): recomputed.
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
  return env.get(jaxpr.outVars[0]!)!;
}

/**
 * checkpoint(f, { policy }): f whose intermediate values are not stored for
 * reverse mode (or only those the policy names). The tape keeps f's inputs
 * (and the stored values); the backward pass recomputes the rest of f (its
 * vjp) when it reaches it: less memory for a second forward evaluation
 * (Griewank's checkpointing). Forward mode and vmap see plain f.
 */
export function checkpoint(
  f: ArrayFn,
  opts: CheckpointOptions = {},
): (...args: unknown[]) => Array {
  const policy = policyPredicate(opts.policy);
  const cache = new Map<string, Aval>();
  const programs = new Map<string, Jaxpr>();
  /** Per program: the storedOutput functions of its stored equations. */
  const storedFns = new WeakMap<Jaxpr, Map<number, (...args: unknown[]) => Array>>();
  let batched: ((...args: unknown[]) => Array) | undefined;
  /** f's program at these input avals (traced once per signature). */
  const programOf = (avals: readonly Aval[]): Jaxpr => {
    const key = avals.map((a) => `${a.dtype}[${a.shape.join(",")}]`).join(";");
    let jaxpr = programs.get(key);
    if (jaxpr === undefined) {
      const [, inDef] = flatten(avals.map(() => 0));
      jaxpr = traceToJaxpr((...xs: unknown[]) => f(...(xs as Array[])), inDef, avals).jaxpr;
      programs.set(key, jaxpr);
      storedFns.set(jaxpr, new Map());
    }
    return jaxpr;
  };
  const lin: PrimitiveDef<LinParams> = makePrimitive<LinParams>({
    name: "checkpointLinear",
    linear: true,
    abstractEval: (_avals, { out }) => out,
    // Applied to concrete tangents (linearize's forward map): recompute f's JVP.
    impl: (tangents, { residuals }) =>
      asArray(
        jvp((...xs: unknown[]) => f(...(xs as Array[])), (residuals as SavedResiduals).primals, [
          ...tangents,
        ])[1],
        "checkpoint",
      ).concrete("checkpoint"),
    jvp: () => {
      throw new ChainruleError(
        "checkpoint: differentiating the tangent map that linearize returns for a checkpointed " +
          "function is not supported; differentiate the function itself (jvp, grad, hessian)",
      );
    },
    // Recompute f (all but the stored values) at the inputs and pull the cotangent back.
    transpose(ct, args, { residuals }) {
      const { primals, saved } = residuals as SavedResiduals;
      const jaxpr = programOf(primals);
      const fns = storedFns.get(jaxpr)!;
      const g = (...xs: unknown[]) => evalWithSaved(jaxpr, xs as Array[], saved, fns);
      const cts = vjp(g, ...primals)[1](ct) as Array[];
      return cts.map((c, i) => (args[i] instanceof UndefPrimal ? c : null));
    },
    batch: () => {
      throw new ChainruleError(
        "internal error: checkpoint's linear map is batched through its call",
      );
    },
  });
  const prim: PrimitiveDef<NoParams> = makePrimitive<NoParams>({
    name: "checkpoint",
    linear: false,
    abstractEval: (avals) => outputAval("checkpoint", f, cache, avals),
    impl: (args) => runConcrete(f, args),
    jvp(primals, tangents, out) {
      const ts = tangents.map((t, i) => instantiate(t, primals[i]!));
      // Reverse mode (tangents are tape nodes): record only the inputs and what the policy keeps.
      if (policy !== "all" && tangents.some((t) => t instanceof LinearTracer)) {
        const saved = new Map<number, Array>();
        const jaxpr = programOf(primals);
        if (jaxpr.eqns.some((e) => policy(e.prim.name))) {
          // Evaluate f's program once more to capture the values the policy stores.
          const env = new Map<Var, Array>();
          jaxpr.constVars.forEach((v, i) => env.set(v, jaxpr.consts[i]!));
          jaxpr.inVars.forEach((v, i) => env.set(v, primals[i]!));
          jaxpr.eqns.forEach((eqn, i) => {
            if (eqn.outs !== undefined) {
              const outs = bindAll(
                eqn.prim,
                eqn.inputs.map((v) => env.get(v)!),
                eqn.params,
              );
              eqn.outs.forEach((v, j) => env.set(v, outs[j]!));
              return;
            }
            const value = bind(
              eqn.prim,
              eqn.inputs.map((v) => env.get(v)!),
              eqn.params,
            );
            env.set(eqn.out, value);
            if (policy(eqn.prim.name)) saved.set(i, value);
          });
          checkpointStats.saved += saved.size;
        }
        const residuals: SavedResiduals = { primals: [...primals], saved };
        return bind(lin, ts, { residuals, out: { shape: out.shape, dtype: out.dtype } });
      }
      return asArray(
        jvp((...xs: unknown[]) => f(...(xs as Array[])), [...primals], ts)[1],
        "checkpoint",
      );
    },
    batch(args, dims) {
      batched ??= checkpoint((...xs) => vmap(f)(...xs) as Array, opts);
      return [batched(...toFront(args, dims)), 0];
    },
  });
  return (...args: unknown[]) =>
    bind(
      prim,
      args.map((a, i) => asArray(a, `checkpoint: argument ${i}`)),
      NO_PARAMS,
    );
}
