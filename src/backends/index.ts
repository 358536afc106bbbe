/**
 * Backend selection: `setBackend("js")`, `getBackend()`. The JS reference
 * backend is the default; faster backends register themselves here.
 */
import { ChainruleError } from "../core/errors.js";
import type { Backend } from "./backend.js";
import { jsBackend } from "./js.js";

const backends = new Map<string, Backend>([["js", jsBackend]]);
let current: Backend = jsBackend;

/** The backend that runs kernels now. */
export function backend(): Backend {
  return current;
}

/** Name of the active backend. */
export function getBackend(): string {
  return current.name;
}

/** Selects a backend by name ("js"). */
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
