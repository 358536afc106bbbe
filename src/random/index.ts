/**
 * chainrule.random: JAX-style counter-based random numbers. A key is an
 * int32 array of shape [2] (the two 32-bit words of a Threefry-2x32 key);
 * samplers are pure functions of a key, so the same key gives the same
 * numbers eagerly, under jit, under vmap and on every backend.
 *
 * @module
 */
export { key, split, foldIn, type ShapeArg } from "./keys.js";
export {
  uniform,
  normal,
  exponential,
  gumbel,
  truncatedNormal,
  multivariateNormal,
  type UniformOptions,
  type DtypeOptions,
  type MultivariateNormalOptions,
} from "./continuous.js";
export { gamma, beta, dirichlet } from "./gamma.js";
export {
  bernoulli,
  randint,
  categorical,
  permutation,
  choice,
  poisson,
  binomial,
  type IntOptions,
  type CategoricalOptions,
  type PermutationOptions,
  type ChoiceOptions,
} from "./discrete.js";
