/**
 * Pytrees: nested JS arrays and plain objects whose leaves are Arrays,
 * numbers, booleans or TypedArrays. `null`/`undefined` are empty subtrees.
 * Transformations flatten their arguments to leaves, work on the leaves, and
 * rebuild the same structure.
 */
import { Array as NdArray } from "../core/array.js";
import { InvalidArgumentError } from "../core/errors.js";
import type { LeavesOf, MapLeaves } from "./types.js";

/**
 * A loosely typed pytree, for the library's internals only (not exported from
 * the package: the public API uses the precise types of ./types.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type PyTree = any;

/** The structure of a pytree without its leaves, as {@link flatten} returns it. */
export type TreeDef =
  | {
      /** A leaf. */
      readonly kind: "leaf";
    }
  | {
      /** An empty subtree. */
      readonly kind: "none";
      /** Which empty value it was. */
      readonly value: null | undefined;
    }
  | {
      /** A JS array. */
      readonly kind: "list";
      /** The elements' structures. */
      readonly children: readonly TreeDef[];
    }
  | {
      /** A plain object. */
      readonly kind: "dict";
      /** Its own keys, in order. */
      readonly keys: readonly string[];
      /** The values' structures, one per key. */
      readonly children: readonly TreeDef[];
    };

const LEAF: TreeDef = { kind: "leaf" };

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== "object") return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

/** True for values that are leaves (not containers). */
export function isLeaf(x: unknown): boolean {
  return !(globalThis.Array.isArray(x) || isPlainObject(x) || x === null || x === undefined);
}

/** Splits a tree into its leaves (depth-first, left to right) and its structure. */
export function flatten<T>(tree: T): [LeavesOf<T>[], TreeDef];
export function flatten(tree: unknown): [unknown[], TreeDef] {
  const leaves: unknown[] = [];
  const def = flattenInto(tree, leaves);
  return [leaves, def];
}

function flattenInto(tree: unknown, leaves: unknown[]): TreeDef {
  if (tree === null || tree === undefined) return { kind: "none", value: tree };
  if (globalThis.Array.isArray(tree)) {
    return { kind: "list", children: tree.map((c) => flattenInto(c, leaves)) };
  }
  if (isPlainObject(tree)) {
    const keys = Object.keys(tree);
    return { kind: "dict", keys, children: keys.map((k) => flattenInto(tree[k], leaves)) };
  }
  leaves.push(tree);
  return LEAF;
}

/** Rebuilds a tree of structure `def` from its leaves. */
export function unflatten(def: TreeDef, leaves: readonly unknown[]): unknown {
  let i = 0;
  const build = (d: TreeDef): unknown => {
    switch (d.kind) {
      case "leaf":
        return leaves[i++];
      case "none":
        return d.value;
      case "list":
        return d.children.map(build);
      case "dict": {
        // Own-property definition, not `out[key] = ...`: assigning a key such as
        // "__proto__" would swap the prototype and drop the key instead of storing it.
        const out: Record<string, unknown> = {};
        d.children.forEach((c, k) => {
          Object.defineProperty(out, d.keys[k]!, {
            value: build(c),
            writable: true,
            enumerable: true,
            configurable: true,
          });
        });
        return out;
      }
    }
  };
  const out = build(def);
  if (i !== leaves.length) {
    throw new InvalidArgumentError(
      `tree.unflatten: structure has ${i} leaves but ${leaves.length} were given`,
    );
  }
  return out;
}

/** Number of leaves of a structure. */
export function numLeaves(def: TreeDef): number {
  switch (def.kind) {
    case "leaf":
      return 1;
    case "none":
      return 0;
    default:
      return def.children.reduce((acc, c) => acc + numLeaves(c), 0);
  }
}

/** A canonical string of a structure (for cache keys and comparisons). */
export function treeDefString(def: TreeDef): string {
  switch (def.kind) {
    case "leaf":
      return "*";
    case "none":
      return String(def.value);
    case "list":
      return `[${def.children.map(treeDefString).join(",")}]`;
    case "dict":
      return `{${def.keys.map((k, i) => `${JSON.stringify(k)}:${treeDefString(def.children[i]!)}`).join(",")}}`;
  }
}

/**
 * Applies `f` to every leaf (and the matching leaves of `rest`, which share
 * the structure) and returns a tree of the same structure holding f's results.
 */
export function map<T, R, const Rest extends unknown[] = []>(
  f: (
    leaf: NoInfer<LeavesOf<T>>,
    ...restLeaves: { [K in keyof Rest]: NoInfer<LeavesOf<Rest[K]>> }
  ) => R,
  tree: T,
  ...rest: Rest
): MapLeaves<T, R>;
export function map(
  f: (...leaves: unknown[]) => unknown,
  tree: unknown,
  ...rest: unknown[]
): unknown {
  const [leaves, def] = flatten(tree);
  const others = rest.map((r) => {
    const [l, d] = flatten(r);
    if (treeDefString(d) !== treeDefString(def)) {
      throw new InvalidArgumentError(
        `tree.map: trees have different structures: ${treeDefString(def)} vs ${treeDefString(d)}`,
      );
    }
    return l;
  });
  return unflatten(
    def,
    leaves.map((leaf, i) => f(leaf, ...others.map((o) => o[i]))),
  );
}

/** The leaves of a tree. */
export function leaves<T>(tree: T): LeavesOf<T>[];
export function leaves(tree: unknown): unknown[] {
  return flatten(tree)[0];
}

/** True when x is a chainrule Array. */
export function isArray(x: unknown): x is NdArray {
  return x instanceof NdArray;
}
