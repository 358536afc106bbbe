/**
 * `nn`: activation functions and losses, composed from np functions (their
 * derivatives come from the primitives'). This module only gathers the
 * public names: activations.ts holds the nonlinearities, layers.ts the dense
 * layers, initialisers and losses.
 *
 * @module
 */
export { logSoftmax, logsumexp, relu, sigmoid, silu, softmax, softplus } from "./activations.js";
export {
  crossEntropy,
  dense,
  denseApply,
  initWeights,
  mlp,
  mlpApply,
  mse,
  uniformGenerator,
  type DenseParams,
  type Initializer,
} from "./layers.js";
