/**
 * The types of pytrees of arrays (structure, and each leaf's shape and
 * dtype), compared with errors that name the lax function, the offending
 * leaf's path, both types and what to do.
 *
 * lax's loops check every step's new carry against the initial carry, and
 * lax.cond/lax.switch check that their branches agree, by these functions,
 * with the same messages eagerly and under jit (there, on the avals of the
 * traced values). A check compares structures and shapes/dtypes only, never
 * values, and its fast path (hasTreeType) walks the tree without allocating,
 * so it is cheap enough for every step of a loop.
 */
import { Array, type Aval } from "../core/array.js";
import { fromData } from "../core/convert.js";
import { DTypeError, InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { shapesEqual } from "../core/shape.js";
import { flatten, treeDefString, type TreeDef } from "../tree/index.js";

/** A pytree's type: its structure and each leaf's shape and dtype. */
export interface TreeType {
  readonly def: TreeDef;
  readonly avals: readonly Aval[];
}

/**
 * The type of a pytree whose leaves are arrays or JS data (a JS number is a
 * float64 scalar, a boolean a bool scalar, as np.array makes them).
 */
export function treeTypeOf(fnName: string, what: string, tree: unknown): TreeType {
  const [leaves, def] = flatten(tree);
  const avals = leaves.map((leaf, i) =>
    leaf instanceof Array ? leaf : fromData(leaf, `${fnName}: ${what} leaf ${i}`),
  );
  return { def, avals };
}

/** True for the plain objects that tree.flatten treats as dicts. */
function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== "object") return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Whether `tree` has the type `type`, found without flattening or allocating
 * (the per-step fast path of the loops). False also for leaves that are JS
 * data other than numbers and booleans: then the caller takes the full check.
 */
export function hasTreeType(tree: unknown, type: TreeType): boolean {
  return matchFrom(tree, type.def, type.avals, 0) === type.avals.length;
}

/**
 * Matches `x` against the structure `d` whose first leaf has the aval
 * avals[next]: the index of the aval after its last leaf, or -1 on a mismatch.
 * (A plain recursive function, no closure: this runs every loop step.)
 */
function matchFrom(x: unknown, d: TreeDef, avals: readonly Aval[], next: number): number {
  switch (d.kind) {
    case "leaf": {
      const a = avals[next];
      if (a === undefined) return -1;
      let same = false;
      if (x instanceof Array) same = x.dtype === a.dtype && shapesEqual(x.shape, a.shape);
      else if (typeof x === "number") same = a.dtype === "float64" && a.shape.length === 0;
      else if (typeof x === "boolean") same = a.dtype === "bool" && a.shape.length === 0;
      return same ? next + 1 : -1;
    }
    case "none":
      return x === d.value ? next : -1;
    case "list": {
      if (!globalThis.Array.isArray(x) || x.length !== d.children.length) return -1;
      let at = next;
      for (let k = 0; k < d.children.length && at >= 0; k++) {
        at = matchFrom(x[k], d.children[k]!, avals, at);
      }
      return at;
    }
    case "dict": {
      if (!isPlainObject(x)) return -1;
      const keys = Object.keys(x);
      if (keys.length !== d.keys.length) return -1;
      let at = next;
      for (let k = 0; k < d.keys.length && at >= 0; k++) {
        const key = d.keys[k]!;
        at = keys[k] === key ? matchFrom(x[key], d.children[k]!, avals, at) : -1;
      }
      return at;
    }
  }
}

/** The type of a tree of structure `def` whose leaves have the avals `avals`. */
export function treeTypeFrom(def: TreeDef, avals: readonly Aval[]): TreeType {
  return { def, avals: avals.map((a) => ({ shape: a.shape, dtype: a.dtype })) };
}

/** True when two structures are the same (same nesting, keys, and empty subtrees). */
export function sameStructure(a: TreeDef, b: TreeDef): boolean {
  if (a === b) return true;
  switch (a.kind) {
    case "leaf":
      return b.kind === "leaf";
    case "none":
      return b.kind === "none" && b.value === a.value;
    case "list":
      return (
        b.kind === "list" &&
        a.children.length === b.children.length &&
        a.children.every((c, i) => sameStructure(c, b.children[i]!))
      );
    case "dict":
      return (
        b.kind === "dict" &&
        a.keys.length === b.keys.length &&
        a.keys.every((k, i) => k === b.keys[i]) &&
        a.children.every((c, i) => sameStructure(c, b.children[i]!))
      );
  }
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The path of every leaf of `def` below `root`, e.g. `carry[1].w` (depth first, as flatten). */
export function leafPaths(def: TreeDef, root: string): string[] {
  const out: string[] = [];
  const walk = (d: TreeDef, path: string): void => {
    if (d.kind === "leaf") out.push(path);
    else if (d.kind === "list") d.children.forEach((c, i) => walk(c, `${path}[${i}]`));
    else if (d.kind === "dict") {
      d.children.forEach((c, i) => {
        const key = d.keys[i]!;
        walk(c, identifier.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);
      });
    }
  };
  walk(def, root);
  return out;
}

/** An aval as `float64[2, 3]`. */
export function fmtAval(a: Aval): string {
  return `${a.dtype}${fmtShape(a.shape)}`;
}

/** How to word a comparison of two tree types in an error message. */
export interface TypeCheckWording {
  /** The lax function, e.g. "lax.scan". */
  readonly fnName: string;
  /** The root of the leaf paths, e.g. "carry" (giving `carry[0].w`). */
  readonly root: string;
  /** Where the checked type comes from, e.g. "the body's new carry". */
  readonly got: string;
  /** Where the expected type comes from, e.g. "the initial carry". */
  readonly expected: string;
  /** Advice for a structure, shape or dtype mismatch. */
  readonly advice: { readonly structure: string; readonly shape: string; readonly dtype: string };
}

/**
 * Throws unless `got` has the structure of `expected` and every leaf the
 * same shape and dtype: InvalidArgumentError for the structure, ShapeError
 * for a shape, DTypeError for a dtype (the first offending leaf is named).
 */
export function checkTreeType(got: TreeType, expected: TreeType, w: TypeCheckWording): void {
  if (!sameStructure(got.def, expected.def)) {
    throw new InvalidArgumentError(
      `${w.fnName}: ${w.got} has the structure ${treeDefString(got.def)} but ${w.expected} ` +
        `has ${treeDefString(expected.def)}; ${w.advice.structure}`,
    );
  }
  const n = expected.avals.length;
  for (let i = 0; i < n; i++) {
    const g = got.avals[i]!;
    const e = expected.avals[i]!;
    const shapeDiffers = !shapesEqual(g.shape, e.shape);
    if (shapeDiffers || g.dtype !== e.dtype) {
      const path = leafPaths(expected.def, w.root)[i]!;
      const text =
        `${w.fnName}: ${path} is ${fmtAval(g)} in ${w.got} but ${fmtAval(e)} in ` +
        `${w.expected}; `;
      if (shapeDiffers) throw new ShapeError(text + w.advice.shape);
      throw new DTypeError(text + w.advice.dtype);
    }
  }
}

/** Wording of the per-step carry check of lax.scan, lax.whileLoop and lax.forILoop. */
export function carryWording(fnName: string, body: string): TypeCheckWording {
  return {
    fnName,
    root: "carry",
    got: `${body}'s new carry`,
    expected: "the initial carry",
    advice: {
      structure:
        `${body} must return a carry of the initial carry's structure (the same nesting, ` +
        "keys and number of leaves)",
      shape:
        `every step must keep the carry's shapes (under jit the loop is one program for all ` +
        `steps): give the initial carry its final shape (e.g. np.zeros of the full size), ` +
        "or keep a growing result in a fixed-size array",
      dtype:
        `every step must keep the carry's dtypes: give the initial value the dtype it will ` +
        `have (e.g. np.array(0, { dtype: "int32" }) for a counter, np.array(0.0) for a ` +
        "float), or convert with astype in the body",
    },
  };
}
