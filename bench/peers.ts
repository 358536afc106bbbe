/**
 * Shared set-up for the benchmarks: which chainrule backends exist in this
 * build (today "js"; "wasm" once it lands — found by trying `setBackend`),
 * TF.js backends (cpu, and wasm loaded offline from the npm package's own
 * .wasm files), and jax-js's Node quirk.
 */
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { getBackend, setBackend } from "../src/index.js";

// jax-js 0.1.25 tests `data instanceof Float16Array`, which Node 20 lacks, before it
// accepts a Float64Array. An empty stand-in class makes that test false, as it should be.
const g = globalThis as { Float16Array?: unknown };
g.Float16Array ??= class Float16ArrayStandIn {};

/** chainrule backends to benchmark: every name in `wanted` whose `setBackend` succeeds. */
export async function chainruleBackends(
  wanted: readonly string[] = ["js", "wasm"],
): Promise<string[]> {
  const before = getBackend();
  const found: string[] = [];
  for (const name of wanted) {
    try {
      await selectBackend(name);
      found.push(name);
    } catch {
      // not built into this version of chainrule
    }
  }
  await selectBackend(before);
  return found;
}

/** setBackend, awaited when a backend's initialisation returns a Promise. */
async function selectBackend(name: string): Promise<void> {
  await Promise.resolve(setBackend(name) as unknown);
}

/** Selects a chainrule backend (setBackend may return a Promise). */
export async function useChainrule(name: string): Promise<void> {
  await selectBackend(name);
}

let tfWasmReady: Promise<boolean> | null = null;

/**
 * Registers TF.js's wasm backend from the files inside node_modules (no
 * network): setWasmPaths takes the package's dist folder as a file path.
 */
export function tfWasmAvailable(): Promise<boolean> {
  tfWasmReady ??= (async () => {
    const require = createRequire(import.meta.url);
    const dist = path.join(
      path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")),
      "dist",
    );
    setWasmPaths(`${dist}${path.sep}`);
    try {
      const ok = await tf.setBackend("wasm");
      await tf.setBackend("cpu");
      return ok;
    } catch {
      return false;
    }
  })();
  return tfWasmReady;
}

/** What TF.js wasm runs with here: SIMD and thread flags, thread count. */
export async function tfWasmInfo(): Promise<string> {
  if (!(await tfWasmAvailable())) return "TF.js wasm unavailable";
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  await tf.setBackend("wasm");
  const count = getThreadsCount();
  await tf.setBackend("cpu");
  return `TF.js wasm: SIMD ${simd ? "yes" : "no"}, multithreading ${threads ? "yes" : "no"} (${count} thread${count === 1 ? "" : "s"})`;
}

/**
 * Runs a TF.js computation and reads its result back. The result is read
 * outside `tf.tidy`: calling dataSync inside tidy made TF.js wasm's 512^3
 * matmul about 25x slower in Node (tfjs 4.22), so read after the scope.
 */
export function tfRead(compute: () => tf.Tensor): Float32Array | Int32Array | Uint8Array {
  const t = tf.tidy(compute);
  const data = t.dataSync();
  t.dispose();
  return data;
}
