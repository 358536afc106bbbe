/**
 * Type-level pytrees: the static types that the transformations (grad, vmap,
 * jit, lax.scan, ...) compute from the types of the functions they transform.
 * Nothing here exists at run time.
 *
 * A pytree type is a leaf type (Array, number, boolean, TypedArray), null or
 * undefined, a tuple or array of pytree types, or a plain object type whose
 * properties are pytree types. Transformations keep the structure (tuple
 * lengths, property names) and turn every leaf into an Array.
 */
import type { Array, NestedNumbers } from "../core/array.js";
import type { TypedArray } from "../core/dtype.js";

/** A pytree leaf: the values that transformations convert to (and return as) Arrays. */
export type Leaf = Array | number | boolean | TypedArray;

/**
 * Arrays nested in JS arrays: the gradient type of an argument typed only as
 * nested numbers (`NestedNumbers`), whose depth TypeScript cannot know.
 */
export type NestedArrays = Array | readonly NestedArrays[];

/** True when T is `any` (which would otherwise match every branch below). */
type IsAny<T> = 0 extends 1 & T ? true : false;

/**
 * The pytree type T with every leaf replaced by Array and its structure kept:
 * `Arrays<{ w: number[]; b: Array }>` is `{ w: Array[]; b: Array }`. It is the
 * type of what a transformation returns where JAX returns arrays: outputs of
 * jit and vmap, gradients, tangents, cotangents.
 */
export type Arrays<T> =
  IsAny<T> extends true
    ? T
    : T extends Leaf
      ? Array
      : T extends null | undefined
        ? T
        : T extends (...args: never[]) => unknown
          ? T
          : T extends readonly unknown[]
            ? readonly NestedNumbers[] extends T
              ? NestedArrays
              : { -readonly [K in keyof T]: Arrays<T[K]> }
            : T extends object
              ? { -readonly [K in keyof T]: Arrays<T[K]> }
              : T;

/**
 * The type of a gradient (or cotangent, or tangent) with respect to a value
 * of type T: the same structure with an Array at every leaf.
 */
export type Grads<T> = Arrays<T>;

/**
 * What a caller may pass where a transformed function expects T: the same
 * structure, with any leaf value (Array, number, boolean, TypedArray) at each
 * leaf. Non-pytree values (strings, functions) pass through as they are.
 */
export type TreeInput<T> =
  IsAny<T> extends true
    ? T
    : T extends Leaf
      ? Leaf
      : T extends null | undefined
        ? T
        : T extends (...args: never[]) => unknown
          ? T
          : T extends readonly unknown[]
            ? T extends readonly NestedNumbers[]
              ? T
              : { [K in keyof T]: TreeInput<T[K]> }
            : T extends object
              ? { [K in keyof T]: TreeInput<T[K]> }
              : T;

/** The argument list accepted by a transformed function whose original takes `Args`. */
export type Inputs<Args extends readonly unknown[]> = { [K in keyof Args]: TreeInput<Args[K]> };

/** Which positional arguments to differentiate: an index or a list of indices. */
export type Argnums = number | readonly number[];

/** Args[I], or any argument's type when I is not a known index of the tuple. */
type ArgAt<Args extends readonly unknown[], I> = I extends keyof Args ? Args[I] : Args[number];

/**
 * The gradient type for arguments `A` of a function taking `Args`: one
 * gradient for a single index, a tuple of gradients for a list.
 */
export type GradsAt<Args extends readonly unknown[], A> = A extends number
  ? Grads<ArgAt<Args, A>>
  : A extends readonly unknown[]
    ? GradsList<Args, A>
    : never;

/** One gradient type per entry of the argnums list L (a tuple when L is one). */
type GradsList<Args extends readonly unknown[], L extends readonly unknown[]> = L extends readonly [
  infer Head,
  ...infer Rest,
]
  ? [Grads<ArgAt<Args, Head>>, ...GradsList<Args, Rest>]
  : L extends readonly []
    ? []
    : Grads<ArgAt<Args, L[number]>>[];

/**
 * A tree input of T's structure; where T is a tuple, also an array of its
 * element types (the length is checked at run time). Accepted for
 * cotangents, tangent lists and loop carries, which programs often build as
 * arrays of unknown length.
 */
export type LooseInput<T> =
  | TreeInput<T>
  | (IsAny<T> extends true
      ? never
      : T extends readonly unknown[]
        ? readonly TreeInput<T[number]>[]
        : never);

/**
 * The type of a Jacobian of an output of type R with respect to inputs whose
 * gradient type is G: R's structure with G at every leaf (JAX's layout: the
 * output tree outside, the input tree inside).
 */
export type JacobianOf<R, G> =
  IsAny<R> extends true
    ? R
    : R extends Leaf
      ? G
      : R extends null | undefined
        ? R
        : R extends readonly unknown[]
          ? { -readonly [K in keyof R]: JacobianOf<R[K], G> }
          : R extends object
            ? { -readonly [K in keyof R]: JacobianOf<R[K], G> }
            : R;

/**
 * The union of the leaf types of a pytree type T (for tree.map's callback);
 * any leaf type when T is unknown.
 */
export type LeavesOf<T> =
  IsAny<T> extends true
    ? T
    : unknown extends T
      ? Leaf
      : T extends Leaf
        ? T
        : T extends null | undefined
          ? never
          : T extends readonly unknown[]
            ? readonly NestedNumbers[] extends T
              ? number | boolean
              : LeavesOf<T[number]>
            : T extends object
              ? { [K in keyof T]-?: LeavesOf<T[K]> }[keyof T]
              : T;

/**
 * T's structure with every leaf replaced by L: the result type of
 * `tree.map(f, tree)` where f returns L.
 */
export type MapLeaves<T, L> =
  IsAny<T> extends true
    ? T
    : T extends Leaf
      ? L
      : T extends null | undefined
        ? T
        : T extends readonly unknown[]
          ? readonly NestedNumbers[] extends T
            ? L | readonly unknown[]
            : { -readonly [K in keyof T]: MapLeaves<T[K], L> }
          : T extends object
            ? { -readonly [K in keyof T]: MapLeaves<T[K], L> }
            : T;
