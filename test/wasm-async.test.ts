/**
 * Where the engine refuses to compile a large Wasm module synchronously (a
 * browser's main thread), the Wasm backend compiles it asynchronously and
 * runs the JS reference kernels meanwhile; after `wasmReady()` the Wasm
 * kernels run. Simulated here by making `new WebAssembly.Module` throw for
 * modules over 4 KiB, as Chrome does on its main thread.
 */
import { afterAll, describe, expect, it } from "vitest";
import { jsBackend } from "../src/backends/js.js";
import { createWasmBackend, wasmReady } from "../src/backends/wasm/index.js";
import { tryRuntime } from "../src/backends/wasm/runtime.js";

const RealModule = WebAssembly.Module;
const wasm = WebAssembly as { Module: unknown };
wasm.Module = function SyncCompileRefused(bytes: BufferSource) {
  if (bytes.byteLength > 4096)
    throw new RangeError("WebAssembly.Compile is disallowed on the main thread for > 4KB");
  return new RealModule(bytes);
};

describe("asynchronous compilation fallback", () => {
  afterAll(() => {
    wasm.Module = RealModule;
  });

  it("computes with the JS reference until the module is ready, then with Wasm", async () => {
    const backend = createWasmBackend({ minMatmulWork: 0 });
    const a = Float64Array.from({ length: 12 * 9 }, (_, i) => Math.sin(i));
    const b = Float64Array.from({ length: 9 * 7 }, (_, i) => Math.cos(i));
    const want = jsBackend.matmul(a, b, 1, 12, 9, 7, "float64");
    expect(Array.from(backend.matmul(a, b, 1, 12, 9, 7, "float64"))).toEqual(Array.from(want));
    expect(tryRuntime()).toBeUndefined();
    await wasmReady();
    expect(tryRuntime()).toBeDefined();
    expect(Array.from(backend.matmul(a, b, 1, 12, 9, 7, "float64"))).toEqual(Array.from(want));
  });
});
