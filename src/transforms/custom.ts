/**
 * User-defined derivative rules and checkpointing, each a registered
 * multi-output primitive (see customCall.ts for what they share):
 *
 *   customJvp(f, rule)       customJvp.ts   (customJvpCall)
 *   customVjp(f, fwd, bwd)   customVjp.ts   (customVjpCall, customVjpLinear)
 *   checkpoint(f, {policy})  checkpoint.ts  (checkpointCall, checkpointLinear)
 *
 * This module gathers the public names.
 */
export { customJvp } from "./customJvp.js";
export { customVjp } from "./customVjp.js";
export {
  type CheckpointOptions,
  type CheckpointPolicy,
  checkpoint,
  checkpointStats,
} from "./checkpoint.js";
