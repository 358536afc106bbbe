/**
 * Primitive declarations and the registry.
 *
 * A primitive is declared once, with everything a transformation needs:
 *   abstractEval  shape/dtype rule (and input validation)
 *   impl          evaluation on concrete arrays (through the backend)
 *   jvp           forward-mode rule: output tangent from input tangents
 *   batch         vmap rule
 *   transpose     for linear primitives only: cotangents of the linear inputs
 * The `PrimitiveDef` type makes `transpose` mandatory exactly when
 * `linear: true`, so a missing rule is a compile error. Reverse mode is
 * derived: linearize (jvp with recorded tangent operations) then transpose.
 */
import type { Array, Aval, ConcreteArray } from "./array.js";

/** Marks a linear input of a transpose rule: its value is unknown, only its shape and dtype. */
export class UndefPrimal implements Aval {
  constructor(
    readonly shape: Aval["shape"],
    readonly dtype: Aval["dtype"],
  ) {}
  get aval(): Aval {
    return this;
  }
}

export type LinearArg = Array | UndefPrimal;

/** Tangents are `null` when symbolically zero. */
export type Tangent = Array | null;

/** A batched operand's batch axis, or null when it is not batched. */
export type BatchDim = number | null;

// Rules are function-valued properties (not methods): they never use `this`.
interface PrimitiveRules<P> {
  readonly name: string;
  /** Absent or false: one output (see `MultiPrimitiveDef` for several). */
  readonly multipleResults?: false;
  readonly abstractEval: (avals: readonly Aval[], params: P) => Aval;
  readonly impl: (args: readonly ConcreteArray[], params: P) => ConcreteArray;
  /**
   * Output tangent given the primals, their tangents (at least one non-null)
   * and the primal output already computed.
   */
  readonly jvp: (
    primals: readonly Array[],
    tangents: readonly Tangent[],
    out: Array,
    params: P,
  ) => Tangent;
  readonly batch: (
    args: readonly Array[],
    dims: readonly BatchDim[],
    params: P,
  ) => [Array, BatchDim];
}

interface LinearRules<P> {
  readonly linear: true;
  /** Cotangents of each input (null for non-linear inputs or zero). */
  readonly transpose: (ct: Array, args: readonly LinearArg[], params: P) => Tangent[];
}

interface NonLinearRules {
  readonly linear: false;
}

export type PrimitiveDef<P> = PrimitiveRules<P> & (LinearRules<P> | NonLinearRules);

// The registry holds primitives of every parameter type; `any` erases P there.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Primitive = PrimitiveDef<any>;

const registry = new Map<string, Primitive>();

/**
 * Builds a primitive object. The object always has the same fields in the
 * same order, so that V8 sees one shape for all primitives and `prim.impl`,
 * `prim.jvp`, ... stay fast property loads.
 */
export function makePrimitive<P>(def: PrimitiveDef<P>): PrimitiveDef<P> {
  return {
    name: def.name,
    multipleResults: false,
    linear: def.linear,
    abstractEval: def.abstractEval,
    impl: def.impl,
    jvp: def.jvp,
    batch: def.batch,
    transpose: def.linear ? def.transpose : undefined,
  } as PrimitiveDef<P>;
}

/** Declares and registers a primitive (names are unique); the conformance suite covers it. */
export function definePrimitive<P>(def: PrimitiveDef<P>): PrimitiveDef<P> {
  if (registry.has(def.name)) throw new Error(`primitive ${def.name} is already defined`);
  const prim = makePrimitive(def);
  registry.set(def.name, prim);
  return prim;
}

/** All registered primitives (the conformance suite iterates this). */
export function registeredPrimitives(): Primitive[] {
  return [...registry.values()];
}

/*
 * Multi-output primitives (JAX's `multiple_results`). The same rules as above,
 * with lists where a single-output primitive has one value: k outputs have k
 * avals, k concrete results, k tangents, k batch dims and k cotangents. A
 * primitive returning [values, indices], or a loop with N carry leaves of
 * mixed dtypes, is one equation with k outputs; `bindAll` returns them all.
 */
interface MultiPrimitiveRules<P> {
  readonly name: string;
  readonly multipleResults: true;
  /** One aval per output (also validates the operands); at least one output. */
  readonly abstractEval: (avals: readonly Aval[], params: P) => Aval[];
  readonly impl: (args: readonly ConcreteArray[], params: P) => ConcreteArray[];
  /**
   * Output tangents (null = zero) given the primals, their tangents (at least
   * one non-null) and the primal outputs already computed.
   */
  readonly jvp: (
    primals: readonly Array[],
    tangents: readonly Tangent[],
    outs: readonly Array[],
    params: P,
  ) => Tangent[];
  /** Batched outputs and the batch axis of each (null where an output is unbatched). */
  readonly batch: (
    args: readonly Array[],
    dims: readonly BatchDim[],
    params: P,
  ) => [Array[], BatchDim[]];
  /**
   * Optional, for dead-code elimination: parameters under which the
   * primitive computes only the outputs marked in `used` (some, not all),
   * in the same order, and which of its inputs it then still reads; null
   * when these outputs cannot be pruned. Without it an equation stays whole
   * while any output is used.
   */
  readonly pruneOutputs?: (used: readonly boolean[], params: P) => PrunedOutputs<P> | null;
}

/** What `pruneOutputs` returns: the narrower equation's parameters and the inputs it reads. */
export interface PrunedOutputs<P> {
  readonly params: P;
  readonly usedInputs: readonly boolean[];
}

interface MultiLinearRules<P> {
  readonly linear: true;
  /**
   * Cotangents of each input given one cotangent per output (null where an
   * output has none, i.e. a zero cotangent; at least one is non-null).
   */
  readonly transpose: (
    cts: readonly (Array | null)[],
    args: readonly LinearArg[],
    params: P,
  ) => Tangent[];
}

/** The declaration of a primitive with several outputs. */
export type MultiPrimitiveDef<P> = MultiPrimitiveRules<P> & (MultiLinearRules<P> | NonLinearRules);

// As for `Primitive`: `any` erases the parameter type in the registry.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MultiPrimitive = MultiPrimitiveDef<any>;

/** A primitive of either kind; `prim.multipleResults === true` tells them apart. */
export type AnyPrimitive = Primitive | MultiPrimitive;

const multiRegistry = new Map<string, MultiPrimitive>();

/** Builds a multi-output primitive object (one field order for all, as `makePrimitive`). */
export function makeMultiPrimitive<P>(def: MultiPrimitiveDef<P>): MultiPrimitiveDef<P> {
  return {
    name: def.name,
    multipleResults: true,
    linear: def.linear,
    abstractEval: def.abstractEval,
    impl: def.impl,
    jvp: def.jvp,
    batch: def.batch,
    pruneOutputs: def.pruneOutputs,
    transpose: def.linear ? def.transpose : undefined,
  } as MultiPrimitiveDef<P>;
}

/** Declares and registers a multi-output primitive (names are unique across both kinds). */
export function defineMultiPrimitive<P>(def: MultiPrimitiveDef<P>): MultiPrimitiveDef<P> {
  if (registry.has(def.name) || multiRegistry.has(def.name)) {
    throw new Error(`primitive ${def.name} is already defined`);
  }
  const prim = makeMultiPrimitive(def);
  multiRegistry.set(def.name, prim);
  return prim;
}

/** All registered multi-output primitives. */
export function registeredMultiPrimitives(): MultiPrimitive[] {
  return [...multiRegistry.values()];
}
