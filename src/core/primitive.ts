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
