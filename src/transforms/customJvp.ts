/**
 * customJvp(f, rule): f with a user-given forward-mode rule, as the
 * registered multi-output primitive `customJvpCall` (see customCall.ts for
 * operands and params).
 *
 *   impl   f itself
 *   jvp    the user's rule(primals, tangents) -> [out, tangentOut]; its
 *          tangent computation is linear in the tangents, so reverse mode
 *          records it on the tape and transposes it like any JVP rule
 *   batch  the same primitive for vmap(f) and the vmapped rule
 *
 * No rule needs to know which transformation is applying it.
 */
import { Array as ArrayBase } from "../core/array.js";
import { expectFunction } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { InvalidArgumentError } from "../core/errors.js";
import { defineMultiPrimitive } from "../core/primitive.js";
import { bindAll } from "../core/trace.js";
import { instantiate } from "../primitives/helpers.js";
import {
  type CallParams,
  CallCache,
  type CustomRules,
  type UserFunction,
  applyCustom,
  batchedToFront,
  checkDerivativeLeaf,
  matchTree,
  runCall,
} from "./customCall.js";
import { vmap } from "./vmap.js";
import type { Arrays, Inputs } from "../tree/types.js";

type JvpRule = (primals: unknown[], tangents: unknown[]) => unknown;

/** f and its rule (and, made on first use, the batched versions of both). */
class JvpRules implements CustomRules {
  readonly kind = "customJvp";
  readonly calls: CallCache<JvpRules> = new CallCache<JvpRules>(this);
  private batchedRules: JvpRules | undefined;
  constructor(
    readonly f: UserFunction,
    readonly rule: JvpRule,
  ) {}
  /** vmap(f) with the vmapped rule (every leaf batched along axis 0). */
  batched(): JvpRules {
    const { f, rule } = this;
    this.batchedRules ??= new JvpRules(vmap(f), (ps, ts) =>
      vmap((p: unknown[], t: unknown[]) => rule(p, t))(ps, ts),
    );
    return this.batchedRules;
  }
}

const customJvpCall = defineMultiPrimitive<CallParams<JvpRules>>({
  name: "customJvpCall",
  multipleResults: true,
  linear: false,
  abstractEval: (avals, { call }) => call.checkOperands(avals),
  impl: (args, { call }) => runCall(call, args),
  jvp(primals, tangents, outs, { call }) {
    const ts = tangents.map((t, i) => instantiate(t, primals[i]!));
    const result = call.rules.rule(call.arguments(primals), call.arguments(ts));
    if (!globalThis.Array.isArray(result) || result.length !== 2) {
      throw new InvalidArgumentError(
        "customJvp: the rule must return a pair [output, tangentOut], got " +
          (globalThis.Array.isArray(result) ? `a list of ${result.length}` : typeof result),
      );
    }
    const tangentOut: unknown = result[1];
    const leaves =
      call.singleOutput && tangentOut instanceof ArrayBase
        ? [{ value: tangentOut, path: "output" }]
        : matchTree("customJvp: the rule's tangent", tangentOut, call.outTree, "output");
    return leaves.map((leaf, j) => {
      const out = outs[j]!;
      const t = checkDerivativeLeaf("customJvp", "the rule returned a tangent", leaf, out);
      return t === null || !isFloat(out.dtype) ? null : t;
    });
  },
  batch(args, dims, { call }) {
    const front = batchedToFront(args, dims);
    const batched = call.rules.batched().calls.at(call.inTree, front);
    const outs = bindAll(customJvpCall, front, batched.params);
    return [outs, outs.map(() => 0)];
  },
});

/**
 * f with a custom forward-mode (JVP) rule: `rule(primals, tangents)` gets
 * the argument list and a tangent list of the same structure and returns
 * `[out, tangentOut]`, both shaped like f's output (a pytree; null in
 * tangentOut stands for zeros). Reverse mode linearises and transposes the
 * rule, vmap batches it, jit stages one equation.
 */
export function customJvp<A extends unknown[] = ArrayBase[], R = ArrayBase>(
  f: (...args: A) => R,
  rule: (primals: A, tangents: A) => readonly [unknown, unknown],
): (...args: Inputs<A>) => Arrays<R> {
  expectFunction("customJvp", "f", f);
  expectFunction("customJvp", "rule (the JVP rule, the second argument)", rule);
  const rules = new JvpRules(f, rule as unknown as JvpRule);
  return (...args: unknown[]) =>
    applyCustom(customJvpCall, rules.calls, "customJvp", args) as Arrays<R>;
}
