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
import {
  startWasmThreads,
  tryRuntime,
  wasmAvailable,
  wasmBackend,
  wasmReady,
  wasmRefused,
} from "./wasm/index.js";
import { acquireDevice, evaluateOnGpu, webgpuHostKernels } from "./webgpu/index.js";

const backends = new Map<string, Backend>([["js", jsBackend]]);
if (wasmAvailable()) backends.set("wasm", wasmBackend);
/** The fastest available backend is the default: Wasm where the engine has SIMD. */
let current: Backend = backends.get("wasm") ?? jsBackend;

/** The backend that runs kernels now. */
export function backend(): Backend {
  return current;
}

let warnedFallback = false;

/**
 * The name of the backend that runs the kernels: `"wasm"` or `"js"`. Where
 * the Wasm backend is selected but the page's Content-Security-Policy
 * refused to compile its module (no `'wasm-unsafe-eval'`), everything runs
 * in the JS reference, and this says `"js"` (with one console warning).
 * While the module is still compiling (the first moments in a browser) it
 * says `"wasm"`: await {@link ready} to be sure.
 *
 * @example
 * ```ts
 * import { getBackend, ready } from "chainrule";
 * await ready();
 * console.log(getBackend()); // "wasm" where WebAssembly SIMD runs, else "js"
 * ```
 */
export function getBackend(): string {
  if (current === wasmBackend && wasmRefused()) {
    if (!warnedFallback) {
      warnedFallback = true;
      console.warn(
        "chainrule: this page's Content-Security-Policy refused to compile WebAssembly, so the " +
          "JS backend runs (20-30x slower); allow 'wasm-unsafe-eval' in script-src to use Wasm",
      );
    }
    return "js";
  }
  return current.name;
}

/**
 * Runs `fn` with host kernels: on the webgpu backend (whose host kernels
 * refuse to run) the CPU backend (Wasm where available, else JS) evaluates
 * primitives on host arrays for the duration of `fn`; on the CPU backends
 * it just runs `fn`. Used where the library computes on host values itself,
 * e.g. the optimiser folding an expression of closed-over host constants
 * while jit compiles for webgpu.
 */
export function withHostKernels<T>(fn: () => T): T {
  if (current !== webgpuHostKernels) return fn();
  const saved = current;
  current = backends.get("wasm") ?? jsBackend;
  try {
    return fn();
  } finally {
    current = saved;
  }
}

/**
 * Resolves when the default backend is fully up: the Wasm kernel module
 * compiled and instantiated, and its worker threads started where
 * SharedArrayBuffer exists (Node, cross-origin-isolated pages). Everything
 * works before it resolves, only slower (kernels run in JS while the module
 * compiles, on one thread until the workers run). In a browser, workers
 * start only after the page's event loop turns, so a synchronous loop run
 * before awaiting `ready()` gets no threads. Never rejects: where Wasm is
 * refused, it resolves with the JS backend in use (see {@link getBackend});
 * where the page's CSP blocks the workers (no `worker-src blob:`), it
 * resolves as soon as they fail to start, with one console warning.
 *
 * @example
 * ```ts
 * import { np, ready } from "chainrule";
 * await ready();
 * const y = np.matmul(np.ones([64, 64]), np.ones([64, 64])); // Wasm kernels, threads started
 * ```
 */
export async function ready(): Promise<void> {
  if (current !== wasmBackend) return;
  await wasmReady();
  const rt = tryRuntime();
  if (rt === undefined) {
    getBackend(); // warns once when the module was refused
    return;
  }
  if (rt.shared) await startWasmThreads(rt);
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
