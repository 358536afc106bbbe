/**
 * The webgpu backend: `setBackend("webgpu")` acquires a device and routes
 * eager evaluation to `evaluateOnGpu`; jit lowers programs to WGSL
 * (jitLowering.ts). The TypedArray kernel vocabulary (`Backend`) has no GPU
 * meaning, so the backend registered under the name "webgpu" only refuses
 * its kernels: code that calls them directly (the CPU backends' compiled
 * code) gets an error naming the alternatives.
 */
import { ChainruleError } from "../../core/errors.js";
import type { Backend } from "../backend.js";

export { acquireDevice, gpuBufferStats, gpuContext, gpuSubmitCount, GpuArray } from "./runtime.js";
export { evaluateOnGpu } from "./evaluate.js";

function refuse(kernel: string): never {
  throw new ChainruleError(
    `not supported on webgpu yet: ${kernel} (these host kernels serve the CPU backends ` +
      `and their compiled code); use setBackend("wasm") (or "js") for it`,
  );
}

/** The "webgpu" entry of the backend table: its host kernels refuse to run. */
export const webgpuHostKernels: Backend = {
  name: "webgpu",
  unary: () => refuse("unary kernels on host arrays"),
  binary: () => refuse("binary kernels on host arrays"),
  select: () => refuse("select on host arrays"),
  convert: () => refuse("convert on host arrays"),
  reduce: () => refuse("reductions on host arrays"),
  stridedGather: () => refuse("strided gathers on host arrays"),
  stridedScatterAdd: () => refuse("strided scatter-adds on host arrays"),
  matmul: () => refuse("matmul on host arrays"),
  cumsum: () => refuse("cumsum on host arrays"),
};
