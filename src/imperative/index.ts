/**
 * The imperative (PyTorch / TensorFlow) style of reverse mode on chainrule's
 * tape machinery: arrays with requiresGrad and `backward()`, `noGrad`, and
 * TensorFlow's `GradientTape`. Importing this module installs `backward`.
 */
import "./backward.js";

export { GradTracer, noGrad, makeLeaf } from "./tensor.js";
export { GradientTape, type GradientTapeOptions } from "./gradientTape.js";
