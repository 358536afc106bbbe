/**
 * chainrule.random: JAX-style counter-based random numbers. A key is an
 * int32 array of shape [2] (the two 32-bit words of a Threefry-2x32 key);
 * samplers are pure functions of a key, so the same key gives the same
 * numbers eagerly, under jit, under vmap and on every backend.
 */
export { key, split, foldIn, type ShapeArg } from "./keys.js";
export { uniform, normal, type UniformOptions, type DtypeOptions } from "./continuous.js";
export { bernoulli } from "./discrete.js";
