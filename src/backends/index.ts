/**
 * Backend selection: `setBackend("js" | "wasm")`, `getBackend()`. The Wasm
 * backend (SIMD kernels, worker threads) is registered and is the default
 * where the engine supports WebAssembly SIMD; otherwise the JS reference is.
 */
import { ChainruleError } from "../core/errors.js";
import type { Backend } from "./backend.js";
import { jsBackend } from "./js.js";
import { wasmAvailable, wasmBackend } from "./wasm/index.js";

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

/** Selects a backend by name ("js", or "wasm" where WebAssembly SIMD is available). */
export function setBackend(name: string): void {
  const b = backends.get(name);
  if (b === undefined) {
    throw new ChainruleError(
      `setBackend: unknown backend "${name}"; available: ${[...backends.keys()].join(", ")}`,
    );
  }
  current = b;
}

export type { Backend } from "./backend.js";
