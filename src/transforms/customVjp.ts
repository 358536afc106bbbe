/**
 * customVjp(f, fwd, bwd): f with a user-given reverse-mode rule, as two
 * registered multi-output primitives.
 *
 *   customVjpCall    impl: f. jvp: runs fwd(...args) -> [out, residuals]
 *                    and binds customVjpLinear on the tangents. batch: the
 *                    same primitive for the vmapped f, fwd and bwd.
 *   customVjpLinear  the tangent map of f at those primals, linear in its
 *                    tangent operands. Operands: the residuals' array
 *                    leaves (non-linear, only read), then one tangent per
 *                    argument leaf. transpose: bwd(residuals, cotangents),
 *                    checked against the primal inputs (structure, shape,
 *                    dtype). Its forward evaluation (jvp, jacfwd,
 *                    linearize's tangent map) is refused: bwd gives only
 *                    vector-Jacobian products.
 *
 * Reverse mode needs no special case: linearize records customVjpLinear on
 * its tape like any linear operation on tangents, and the backward pass
 * calls its transpose.
 */
import { Array, ConcreteArray } from "../core/array.js";
import { expectFunction } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { ChainruleError, InvalidArgumentError } from "../core/errors.js";
import { UndefPrimal, defineMultiPrimitive } from "../core/primitive.js";
import { bindAll } from "../core/trace.js";
import { instantiate } from "../primitives/helpers.js";
import { type TreeDef, flatten, unflatten } from "../tree/index.js";
import {
  type CallParams,
  CallCache,
  type CustomCall,
  type CustomRules,
  type MatchedLeaf,
  type UserFunction,
  applyCustom,
  batchedToFront,
  checkDerivativeLeaf,
  matchTree,
  runCall,
} from "./customCall.js";
import { vmap } from "./vmap.js";
import type { Arrays, Inputs } from "../tree/types.js";

type Fwd = (...args: never[]) => unknown;
type Bwd = (residuals: unknown, ct: unknown) => unknown;

/** f, fwd and bwd (and, made on first use, their batched versions). */
class VjpRules implements CustomRules {
  readonly kind = "customVjp";
  readonly calls: CallCache<VjpRules> = new CallCache<VjpRules>(this);
  private batchedRules: VjpRules | undefined;
  constructor(
    readonly f: UserFunction,
    readonly fwd: Fwd,
    readonly bwd: Bwd,
  ) {}
  /** The rules of vmap(f): vmapped f, fwd and bwd (every leaf batched along axis 0). */
  batched(): VjpRules {
    const { f, fwd, bwd } = this;
    this.batchedRules ??= new VjpRules(vmap(f), vmap(fwd), (res, ct) =>
      vmap((r: unknown, c: unknown) => bwd(r, c))(res, ct),
    );
    return this.batchedRules;
  }
}

let nextResidualsId = 0;

/**
 * The residuals of one application of fwd: its Array leaves become operands
 * of customVjpLinear, every other leaf (numbers, strings...) is kept here.
 */
class Residuals {
  readonly id = nextResidualsId++;
  /** Positions of the Array leaves among all leaves. */
  readonly arrayPositions: number[] = [];
  readonly arrays: Array[] = [];
  private readonly leaves: unknown[];
  private readonly tree: TreeDef;
  constructor(
    readonly call: CustomCall<VjpRules>,
    residuals: unknown,
  ) {
    const [leaves, tree] = flatten(residuals);
    this.tree = tree;
    this.leaves = leaves;
    leaves.forEach((leaf, i) => {
      if (leaf instanceof Array) {
        this.arrayPositions.push(i);
        this.arrays.push(leaf);
      }
    });
  }
  /** The residuals as fwd returned them, with these values for the Array leaves. */
  rebuild(arrays: readonly Array[]): unknown {
    const leaves = this.leaves.slice();
    this.arrayPositions.forEach((p, k) => (leaves[p] = arrays[k]));
    return unflatten(this.tree, leaves);
  }
  /** Printed (and compared by jit's CSE) by identity. */
  toJSON(): string {
    return `${this.call.toJSON()} residuals#${this.id}`;
  }
}

interface LinearParams {
  readonly residuals: Residuals;
}

function forwardRefused(): never {
  throw new ChainruleError(
    "customVjp: forward mode (jvp, jacfwd, linearize's tangent map) is not available through " +
      "a customVjp function: its rule gives vector-Jacobian products only (bwd). Use customJvp, " +
      "whose rule serves both modes, or reverse mode (grad, vjp, jacrev)",
  );
}

const customVjpLinear = defineMultiPrimitive<LinearParams>({
  name: "customVjpLinear",
  multipleResults: true,
  linear: true,
  abstractEval(avals, { residuals }) {
    const { call } = residuals;
    call.checkOperands(avals.slice(residuals.arrays.length));
    return call.outAvals.map((a) => ({ shape: a.shape, dtype: a.dtype }));
  },
  impl: forwardRefused,
  jvp: forwardRefused,
  batch: forwardRefused,
  transpose(cts, args, { residuals }) {
    const { call } = residuals;
    const numRes = residuals.arrays.length;
    const resValues = args.slice(0, numRes).map((a) => {
      if (a instanceof UndefPrimal) {
        throw new ChainruleError("internal error: customVjp residuals must be known in transpose");
      }
      return a;
    });
    const ctLeaves = cts.map(
      (c, j) => c ?? ConcreteArray.zeros(call.outAvals[j]!.shape, call.outAvals[j]!.dtype),
    );
    const raw = call.rules.bwd(residuals.rebuild(resValues), unflatten(call.outTree, ctLeaves));
    const inCts = checkedCotangents(call, raw);
    return [
      ...resValues.map(() => null),
      ...inCts.map((c, i) => (args[numRes + i] instanceof UndefPrimal ? c : null)),
    ];
  },
});

/**
 * The cotangent bwd returned for each argument leaf, checked: one entry per
 * argument (a bare value when f has one argument), each shaped like its
 * argument's tree, each leaf with the argument's shape and dtype; null for
 * zero (a whole argument or any subtree).
 */
function checkedCotangents(call: CustomCall<VjpRules>, raw: unknown): (Array | null)[] {
  const argDefs = (call.inTree as { children: readonly TreeDef[] }).children;
  let perArg: readonly unknown[];
  if (argDefs.length === 1) {
    const single = globalThis.Array.isArray(raw) && raw.length === 1 && fits(raw[0], argDefs[0]!);
    perArg = single ? (raw as unknown[]) : [raw];
  } else if (globalThis.Array.isArray(raw) && raw.length === argDefs.length) {
    perArg = raw;
  } else {
    const got = globalThis.Array.isArray(raw) ? `${raw.length} cotangents` : "one value";
    throw new InvalidArgumentError(
      `customVjp: bwd returned ${got} for ${argDefs.length} arguments; return a list with one ` +
        `cotangent per argument of f, each shaped like that argument (null for zero)`,
    );
  }
  const leaves: MatchedLeaf[] = [];
  argDefs.forEach((def, k) =>
    matchTree("customVjp: bwd's cotangent", perArg[k], def, `argument ${k}`, leaves),
  );
  return leaves.map((leaf, i) =>
    checkDerivativeLeaf("customVjp", "bwd returned a cotangent", leaf, call.inAvals[i]!),
  );
}

/** Whether `value` has the structure `def` (null fits anything). */
function fits(value: unknown, def: TreeDef): boolean {
  try {
    matchTree("", value, def, "");
    return true;
  } catch {
    return false;
  }
}

const customVjpCall = defineMultiPrimitive<CallParams<VjpRules>>({
  name: "customVjpCall",
  multipleResults: true,
  linear: false,
  abstractEval: (avals, { call }) => call.checkOperands(avals),
  impl: (args, { call }) => runCall(call, args),
  jvp(primals, tangents, outs, { call }) {
    const result = call.rules.fwd(...call.arguments(primals));
    if (!globalThis.Array.isArray(result) || result.length !== 2) {
      throw new InvalidArgumentError(
        "customVjp: fwd must return a pair [output, residuals], got " +
          (globalThis.Array.isArray(result) ? `a list of ${result.length}` : typeof result),
      );
    }
    const residuals = new Residuals(call, result[1]);
    const ts = tangents.map((t, i) => instantiate(t, primals[i]!));
    const outTangents = bindAll(customVjpLinear, [...residuals.arrays, ...ts], { residuals });
    return outTangents.map((t, j) => (isFloat(outs[j]!.dtype) ? t : null));
  },
  batch(args, dims, { call }) {
    const front = batchedToFront(args, dims);
    const batched = call.rules.batched().calls.at(call.inTree, front);
    const outs = bindAll(customVjpCall, front, batched.params);
    return [outs, outs.map(() => 0)];
  },
});

/**
 * f with a custom reverse-mode (VJP) rule: `fwd(...args)` returns
 * `[out, residuals]` (residuals: any pytree), `bwd(residuals, ct)` returns
 * the cotangents of the arguments (a list, one per argument, each shaped
 * like that argument; a bare value when f has one argument; null for zero),
 * given `ct` shaped like f's output. Forward mode through it is refused.
 */
export function customVjp<A extends unknown[] = Array[], R = Array, C = Array>(
  f: (...args: A) => R,
  fwd: (...args: A) => readonly [unknown, unknown],
  bwd: (residuals: unknown, ct: C) => unknown,
): (...args: Inputs<A>) => Arrays<R> {
  expectFunction("customVjp", "f", f);
  expectFunction("customVjp", "fwd (the second argument)", fwd);
  expectFunction("customVjp", "bwd (the third argument)", bwd);
  const rules = new VjpRules(f, fwd, bwd as unknown as Bwd);
  return (...args: unknown[]) =>
    applyCustom(customVjpCall, rules.calls, "customVjp", args) as Arrays<R>;
}
