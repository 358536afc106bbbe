/**
 * Shared pieces of primitive rules, gathered for the code outside the
 * families (lax, transforms, tests): operand checks (operands.ts), tangent
 * arithmetic that keeps symbolic zeros (`null`) symbolic (elementwise.ts)
 * and the batch-axis plumbing of vmap rules (movement.ts). The families
 * themselves import from those files directly, so that no import cycle runs
 * through this one.
 */
export { fullLike, sameShapeDtype } from "./operands.js";
export { instantiate, tAdd, tMul, tNeg } from "./elementwise.js";
export { batchSize, batchToFront, elementwiseBatch, moveAxis } from "./movement.js";
