/**
 * chainrule: exact derivatives of ordinary TypeScript programs.
 * The public surface (see shared/API.md); re-exports only.
 */
export {
  Array,
  type ConcreteArray,
  type ArrayLike,
  type Aval,
  type NestedNumbers,
  type SliceIndex,
  type ArrayAt,
} from "./core/array.js";
export type { DType, TypedArray } from "./core/dtype.js";
export type { Shape } from "./core/shape.js";
export type { Axis, AxisArg, ReduceOpts } from "./numpy/index.js";
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
} from "./tree/types.js";
export type { TreeDef } from "./tree/index.js";
export type { Optimizer, AdamState, MinimizeOptions, MinimizeResult } from "./optim/index.js";
export type { ForILoopOptions, ScanOptions } from "./lax/index.js";
export {
  ChainruleError,
  ConcretizationError,
  DTypeError,
  EscapedTracerError,
  InvalidArgumentError,
  ShapeError,
} from "./core/errors.js";
export * as np from "./numpy/index.js";
export * as nn from "./nn/index.js";
export * as tree from "./tree/public.js";
export * as lax from "./lax/index.js";
export * as optim from "./optim/index.js";
export * as stats from "./stats/index.js";
export * as special from "./special/index.js";
export * as random from "./random/index.js";
export * as stochastic from "./stochastic/index.js";
export * as physics from "./physics/index.js";
export * as ode from "./ode/index.js";
export * as infer from "./infer/index.js";
export { jvp } from "./transforms/jvp.js";
export { grad, valueAndGrad, vjp, linearize, type GradOptions } from "./transforms/linearize.js";
export {
  jacfwd,
  jacrev,
  jacobian,
  hessian,
  type JacobianFunction,
  type JacobianOptions,
} from "./transforms/jacobian.js";
export { vmap, type Axes, type VmapOptions } from "./transforms/vmap.js";
export {
  checkpoint,
  customJvp,
  customVjp,
  type CheckpointOptions,
  type CheckpointPolicy,
} from "./transforms/custom.js";
export {
  checkGrads,
  type CheckGradsOptions,
  type CheckGradsReport,
} from "./transforms/checkGrads.js";
export { makeJaxpr, Jaxpr, type MakeJaxprOptions, type TracedProgram } from "./ir/jaxpr.js";
export { jit, type JitOptions, type JittedFunction, type LoweredProgram } from "./jit/jit.js";
export { emitSource } from "./jit/emitSource.js";
export { toDot, renderSvg, graphSize, type DotOptions, type GraphSize } from "./ir/graph.js";
export { stopGradient } from "./numpy/index.js";
export { noGrad, GradientTape, type GradientTapeOptions } from "./imperative/index.js";
export type { BackwardOptions } from "./core/array.js";
export { getBackend, ready, setBackend } from "./backends/index.js";
