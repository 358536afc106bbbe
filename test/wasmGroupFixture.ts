/**
 * A hand-built Wasm function shaped like a lowered jit group, for the tests
 * of the thread protocol (test/wasm.test.ts, test/wasm-threads-load.test.ts):
 * its values are known without the jit, so a chunk computed twice, late or
 * not at all shows in the output.
 */
import { I32, ModuleBuilder, Op, Simd } from "../src/backends/wasm/emitter.js";
import { MAX_PAGES } from "../src/backends/wasm/runtime.js";

/**
 * group(in, out, sums, scratch, nFull, rem): out = in + 1 for `nFull`
 * float64 vectors, on the shared `memory`; returns the module's bytes (for
 * the workers) and the function instantiated on this thread.
 */
export function addOneFunction(memory: WebAssembly.Memory): {
  bytes: Uint8Array;
  fn: (...args: number[]) => void;
} {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: "env", field: "memory", initial: 1, maximum: MAX_PAGES, shared: true });
  mb.addFunction("group", [I32, I32, I32, I32, I32, I32], [], (c) => {
    const i = c.local(I32);
    const off = c.local(I32);
    c.forLoop(i, 4, 1, () => {
      c.get(1).get(off).op(Op.i32_add);
      c.get(0).get(off).op(Op.i32_add).simdMem(Simd.v128_load, 0);
      c.f64(1).simd(Simd.f64x2_splat).simd(Simd.f64x2_add).simdMem(Simd.v128_store, 0);
      c.inc(off, 16);
    });
  });
  const bytes = mb.finish();
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return { bytes, fn: instance.exports.group as (...args: number[]) => void };
}
