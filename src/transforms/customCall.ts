/**
 * What the user-rule primitives (customJvpCall, customVjpCall,
 * checkpointCall) share: applying a user function f to a pytree of
 * arguments as ONE multi-output equation.
 *
 *   operands  the leaves of the argument list (flattened)
 *   outputs   the leaves of f's result (flattened)
 *   params    { call }: a `CustomCall`, which holds the user's functions and
 *             rules, both tree structures, the leaves' avals and f's traced
 *             program at this signature; printed as "customJvp#3" and
 *             compared by identity (jit's CSE)
 *
 * f is traced abstractly once per signature (argument structure, shapes and
 * dtypes) to learn its output structure and avals; `impl` runs f itself on
 * concrete leaves.
 */
import { Array, type Aval, type ConcreteArray } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { DTypeError, InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import type { AnyPrimitive, BatchDim } from "../core/primitive.js";
import { shapesEqual } from "../core/shape.js";
import { Tracer, bindAll } from "../core/trace.js";
import { type Jaxpr, traceToJaxpr } from "../ir/jaxpr.js";
import { batchSize, batchToFront } from "../primitives/helpers.js";
import {
  type TreeDef,
  flatten,
  isLeaf,
  numLeaves,
  treeDefString,
  unflatten,
} from "../tree/index.js";

/** The public names of the user-rule transformations (they prefix every message). */
export type CustomKind = "customJvp" | "customVjp" | "checkpoint";

/** A user function on pytrees (its leaves are Arrays or numbers). */
export type UserFunction = (...args: never[]) => unknown;

/** What every rules object (one per customJvp/customVjp/checkpoint function) has. */
export interface CustomRules {
  readonly kind: CustomKind;
  readonly f: UserFunction;
}

let nextCallId = 0;

/** The parameters of a user-rule equation. */
export interface CallParams<R extends CustomRules> {
  readonly call: CustomCall<R>;
}

/** f (with its rules R) at one signature: argument structure and leaf avals. */
export class CustomCall<R extends CustomRules> {
  readonly id = nextCallId++;
  /** The equation parameters, one object per signature (stable across calls). */
  readonly params: CallParams<R>;
  constructor(
    readonly rules: R,
    /** Structure of the argument list (a list, one child per argument). */
    readonly inTree: TreeDef,
    readonly inAvals: readonly Aval[],
    readonly outTree: TreeDef,
    readonly outAvals: readonly Aval[],
    /** f traced at these avals (its inputs are the argument leaves). */
    readonly jaxpr: Jaxpr,
  ) {
    this.params = { call: this };
    this.flatArguments = inTree.kind === "list" && inTree.children.every((c) => c.kind === "leaf");
    this.singleOutput = outTree.kind === "leaf";
  }
  /** Printed (and compared by jit's CSE) by identity. */
  toJSON(): string {
    return `${this.rules.kind}#${this.id}`;
  }
  /** Every argument is one leaf (the common case: no unflattening needed). */
  readonly flatArguments: boolean;
  /** f's output is one leaf. */
  readonly singleOutput: boolean;
  /** The arguments as f takes them, from their leaves. */
  arguments(leaves: readonly unknown[]): never[] {
    if (this.flatArguments) return leaves as never[];
    return unflatten(this.inTree, leaves) as never[];
  }
  /** f's output leaves (checked against this signature's count). */
  outputLeaves(out: unknown): unknown[] {
    const leaves = this.singleOutput && out instanceof Array ? [out] : flatten(out)[0];
    if (leaves.length !== this.outAvals.length) {
      throw new InvalidArgumentError(
        `${this.rules.kind}: f returned ${leaves.length} arrays but ${this.outAvals.length} when ` +
          `traced at the same argument shapes; f must return the same structure every time`,
      );
    }
    return leaves;
  }
  /** The operands' avals must be this signature's (they are, unless a rule is misused). */
  checkOperands(avals: readonly Aval[]): Aval[] {
    if (!sameAvals(avals, this.inAvals)) {
      throw new InvalidArgumentError(
        `${this.rules.kind}: internal error: operands ${fmtAvals(avals)} do not match the ` +
          `signature ${fmtAvals(this.inAvals)} the call was traced at`,
      );
    }
    return this.outAvals as Aval[];
  }
}

function sameAvals(a: readonly Aval[], b: readonly Aval[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.dtype !== b[i]!.dtype || !shapesEqual(a[i]!.shape, b[i]!.shape)) return false;
  }
  return true;
}

function fmtAvals(avals: readonly Aval[]): string {
  return `(${avals.map((a) => `${a.dtype}${fmtShape(a.shape)}`).join(", ")})`;
}

/** The signatures of one rules object, each traced once. */
export class CallCache<R extends CustomRules> {
  private readonly calls = new Map<string, CustomCall<R>>();
  constructor(private readonly rules: R) {}
  /** The call of f at arguments of structure `inTree` whose leaves have these avals. */
  at(inTree: TreeDef, avals: readonly Aval[]): CustomCall<R> {
    return this.lookup(treeDefString(inTree), () => inTree, avals);
  }
  /** The call at arguments that are all leaves (no tree to build or print). */
  atLeaves(avals: readonly Aval[]): CustomCall<R> {
    // A loop calls f at one signature again and again: try the last one first.
    const last = this.lastLeaves;
    if (last !== undefined && sameAvals(last.inAvals, avals)) return last;
    const call = this.lookup(`leaves${avals.length}`, () => flatten(avals.map(() => 0))[1], avals);
    this.lastLeaves = call;
    return call;
  }
  private lastLeaves: CustomCall<R> | undefined;
  private lookup(treeKey: string, tree: () => TreeDef, avals: readonly Aval[]): CustomCall<R> {
    let key = treeKey;
    for (const a of avals) key += `;${a.dtype}[${a.shape.join(",")}]`;
    let call = this.calls.get(key);
    if (call === undefined) {
      call = traceCall(this.rules, tree(), avals);
      this.calls.set(key, call);
    }
    return call;
  }
}

function traceCall<R extends CustomRules>(
  rules: R,
  inTree: TreeDef,
  avals: readonly Aval[],
): CustomCall<R> {
  const inAvals = avals.map((a) => ({ shape: a.shape, dtype: a.dtype }));
  const { jaxpr, outDef } = traceToJaxpr(
    (...args: unknown[]) => (rules.f as (...a: unknown[]) => unknown)(...args),
    inTree,
    inAvals,
  );
  if (jaxpr.outVars.length === 0) {
    throw new InvalidArgumentError(
      `${rules.kind}: f returned no arrays (structure ${treeDefString(outDef)}); return at ` +
        `least one array`,
    );
  }
  const outAvals = jaxpr.outVars.map((v) => ({ shape: v.shape, dtype: v.dtype }));
  return new CustomCall(rules, inTree, inAvals, outDef, outAvals, jaxpr);
}

/**
 * The user-facing call: flattens the arguments, binds `prim` with the call
 * at their signature, and rebuilds f's output structure.
 */
export function applyCustom<R extends CustomRules>(
  prim: AnyPrimitive,
  cache: CallCache<R>,
  kind: CustomKind,
  args: readonly unknown[],
): unknown {
  let arrays: Array[];
  let call: CustomCall<R>;
  if (args.every((a) => a instanceof Array || typeof a === "number")) {
    arrays = args.map((a, i) => asArray(a, `${kind}: argument ${i}`));
    call = cache.atLeaves(arrays);
  } else {
    const [leaves, inTree] = flatten(args);
    arrays = leaves.map((leaf, i) => asArray(leaf, `${kind}: argument leaf ${i}`));
    call = cache.at(inTree, arrays);
  }
  const outs = bindAll(prim, arrays, call.params);
  return call.singleOutput ? outs[0] : unflatten(call.outTree, outs);
}

/** f run eagerly on concrete argument leaves: its output leaves. */
export function runCall<R extends CustomRules>(
  call: CustomCall<R>,
  leaves: readonly ConcreteArray[],
): ConcreteArray[] {
  const kind = call.rules.kind;
  const outLeaves = call.outputLeaves(call.rules.f(...call.arguments(leaves)));
  return outLeaves.map((leaf, i) => {
    // Every argument is concrete here, so a tracer can only come from a closed-over value.
    if (leaf instanceof Tracer) {
      throw new InvalidArgumentError(
        `${kind}: f uses a value traced by an enclosing transformation (grad, jvp, vmap, ...) ` +
          `that it closes over, so that value's derivative or batch axis would be lost; pass ` +
          `it to the ${kind} function as an argument instead`,
      );
    }
    return asArray(leaf, `${kind}: output leaf ${i} of f`).concrete(kind);
  });
}

/** Moves every operand's batch axis to the front (broadcasting unbatched ones). */
export function batchedToFront(args: readonly Array[], dims: readonly BatchDim[]): Array[] {
  const size = batchSize(args, dims);
  return args.map((a, i) => batchToFront(a, dims[i] ?? null, size));
}

/** A path into an argument or output tree, for messages: `argument 1.w[0]`. */
function childPath(path: string, def: TreeDef, i: number): string {
  return def.kind === "dict" ? `${path}.${def.keys[i]!}` : `${path}[${i}]`;
}

/** One leaf of a user's tree matched against a structure: its value (null = zero) and path. */
export interface MatchedLeaf {
  readonly value: unknown;
  readonly path: string;
}

/**
 * Matches a tree the user's rule returned (tangents or cotangents) against
 * the structure `def` it must have. `null`/`undefined` stands for zeros of a
 * whole subtree. Returns one entry per leaf of `def`.
 */
export function matchTree(
  what: string,
  value: unknown,
  def: TreeDef,
  path: string,
  out: MatchedLeaf[] = [],
): MatchedLeaf[] {
  if (value === null || value === undefined) {
    for (let i = numLeaves(def); i > 0; i--) out.push({ value: null, path });
    return out;
  }
  const mismatch = (): never => {
    const got = isLeaf(value) ? "a leaf" : treeDefString(flatten(value)[1]);
    throw new InvalidArgumentError(
      `${what} for ${path} has structure ${got}, but ${path} has structure ` +
        `${treeDefString(def)}; return a tree shaped like it (null for zeros)`,
    );
  };
  switch (def.kind) {
    case "leaf":
      if (!isLeaf(value)) mismatch();
      out.push({ value, path });
      return out;
    case "none":
      return mismatch();
    case "list":
      if (!globalThis.Array.isArray(value) || value.length !== def.children.length) mismatch();
      def.children.forEach((c, i) =>
        matchTree(what, (value as unknown[])[i], c, childPath(path, def, i), out),
      );
      return out;
    case "dict": {
      if (isLeaf(value) || globalThis.Array.isArray(value)) mismatch();
      const rec = value as Record<string, unknown>;
      const keys = Object.keys(rec);
      if (keys.length !== def.keys.length || !def.keys.every((k) => Object.hasOwn(rec, k))) {
        mismatch();
      }
      def.children.forEach((c, i) =>
        matchTree(what, rec[def.keys[i]!], c, childPath(path, def, i), out),
      );
      return out;
    }
  }
}

/**
 * A user-given tangent or cotangent leaf checked against the primal it
 * belongs to: null stays null (zero); a JS number takes the primal's dtype;
 * otherwise shape and dtype must match. Non-float primals have no
 * derivative: their entries become null.
 */
export function checkDerivativeLeaf(
  kind: CustomKind,
  what: string,
  leaf: MatchedLeaf,
  primal: Aval,
): Array | null {
  if (leaf.value === null) return null;
  const value = asArray(leaf.value, `${kind}: ${what} for ${leaf.path}`);
  if (!shapesEqual(value.shape, primal.shape)) {
    throw new ShapeError(
      `${kind}: ${what} of shape ${fmtShape(value.shape)} (${value.dtype}) for ${leaf.path} ` +
        `of shape ${fmtShape(primal.shape)} (${primal.dtype}); they must match: give it ` +
        `the shape and dtype of ${leaf.path} (null for zero)`,
    );
  }
  if (!isFloat(primal.dtype)) return null;
  if (value.dtype === primal.dtype) return value;
  if (typeof leaf.value === "number") return value.astype(primal.dtype);
  throw new DTypeError(
    `${kind}: ${what} of dtype ${value.dtype} (shape ${fmtShape(value.shape)}) for ` +
      `${leaf.path} of dtype ${primal.dtype} (shape ${fmtShape(primal.shape)}); they must ` +
      `match: convert it with .astype("${primal.dtype}")`,
  );
}
