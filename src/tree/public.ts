/**
 * `tree`: the public pytree utilities (flatten, unflatten, map, leaves) and
 * the type-level pytree vocabulary the transformations' signatures use.
 *
 * @module
 */
export {
  flatten,
  isArray,
  isLeaf,
  leaves,
  map,
  numLeaves,
  treeDefString,
  unflatten,
  type TreeDef,
} from "./index.js";
export type {
  Argnums,
  Arrays,
  Grads,
  GradsAt,
  Inputs,
  JacobianOf,
  Leaf,
  LeavesOf,
  LooseInput,
  MapLeaves,
  NestedArrays,
  TreeInput,
} from "./types.js";
