/**
 * Backend selection: `setBackend("js" | "wasm" | "webgpu")`, `getBackend()`.
 * The Wasm backend (SIMD kernels, worker threads) is registered and is the
 * default where the engine supports WebAssembly SIMD; otherwise the JS
 * reference is. "webgpu" (asynchronous: it acquires a device) keeps arrays in
 * GPU buffers and evaluates primitives there (backends/webgpu).
 */
import { ChainruleError } from "../core/errors.js";
import { setEagerEvaluator } from "../core/trace.js";
import type { Backend } from "./backend.js";
import { jsBackend } from "./js.js";
import { wasmAvailable, wasmBackend } from "./wasm/index.js";
import { acquireDevice, evaluateOnGpu, webgpuHostKernels } from "./webgpu/index.js";

const backends = new Map<string, Backend>([["js", jsBackend]]);
if (wasmAvailable()) backends.set("wasm", wasmBackend);
/** The fastest available backend is the default: Wasm where the engine has SIMD. */
let current: Backend = backends.get("wasm") ?? jsBackend;

/** The backend that runs kernels now. */
export function backend(): Backend {
  return current;
}

/** Name of the active backend. */
export function getBackend(): string {
  return current.name;
}

/**
 * Selects a backend by name: "js", "wasm" (where WebAssembly SIMD is
 * available) or "webgpu". "webgpu" returns a Promise that resolves once a
 * GPU device is acquired (and rejects, naming "wasm" and "js", where WebGPU
 * is not available, e.g. Node without a WebGPU implementation); its arrays
 * are read with `dataAsync()`, `itemAsync()` or `toArrayAsync()`.
 *
 * @example
 * ```ts
 * import { getBackend, setBackend } from "chainrule";
 * const before = getBackend();
 * setBackend("js");
 * const name = getBackend(); // "js"
 * setBackend(before);
 * ```
 */
export function setBackend(name: "webgpu"): Promise<void>;
export function setBackend(name: string): void;
export function setBackend(name: string): void | Promise<void> {
  if (name === "webgpu") {
    return acquireDevice().then(() => {
      current = webgpuHostKernels;
      setEagerEvaluator(evaluateOnGpu);
    });
  }
  const b = backends.get(name);
  if (b === undefined) {
    throw new ChainruleError(
      `setBackend: unknown backend "${name}"; available: ${[...backends.keys(), "webgpu"].join(", ")}`,
    );
  }
  current = b;
  setEagerEvaluator(null);
}

export type { Backend } from "./backend.js";
