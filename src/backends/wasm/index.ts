/**
 * The Wasm backend's public surface: the backend object, its factory with
 * thresholds, thread control, and feature detection.
 */
export {
  createWasmBackend,
  wasmBackend,
  type WasmBackend,
  type WasmBackendOptions,
} from "./backend.js";
export { getRuntime, tryRuntime, wasmAvailable, wasmReady, wasmRefused } from "./runtime.js";
export {
  setWasmThreadLimit,
  startWasmThreads,
  stopWasmThreads,
  wasmThreadCount,
} from "./threads.js";
