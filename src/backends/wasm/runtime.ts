/**
 * The Wasm runtime: one WebAssembly memory owned by the library, the kernel
 * module built by the emitter and instantiated on it, and a scratch arena.
 *
 * Every kernel call copies its inputs into the arena, runs, and copies the
 * result out into a fresh TypedArray, so callers never see Wasm memory and
 * never free anything. The arena is reset at the start of each call (calls
 * are synchronous and do not nest). The memory is shared (SharedArrayBuffer)
 * where the runtime allows it, so that worker threads can run parts of a
 * kernel on it (see threads.ts); growth never detaches a shared buffer.
 */
import { ModuleBuilder, hasRelaxedSimd, hasSimd } from "./emitter.js";
import { addElementwiseKernels } from "./elementwiseKernel.js";
import { MATMUL_TILE, addMatmulKernels } from "./matmulKernel.js";
import { addMathKernels, importMathFunctions, mathImportObject } from "./mathKernels.js";
import { addStridedKernels } from "./stridedKernel.js";
import { addSumKernels } from "./sumKernel.js";

/** Bytes reserved at address 0 for thread control words. */
export const CONTROL_BYTES = 256;
const PAGE = 65536;
/** 2 GiB: a shared memory needs a maximum; only address space is reserved. */
export const MAX_PAGES = 32768;

export type KernelFn = (...args: number[]) => void;

export interface WasmRuntime {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  kernels: Record<string, KernelFn>;
  shared: boolean;
  relaxed: boolean;
  /** Bump pointer of the scratch arena (bytes). */
  top: number;
  /** Largest arena (bytes); calls that need more run in JS. */
  maxBytes: number;
  /**
   * Where `resetArena` starts the arena while a worker thread still works
   * on an earlier call's blocks (set by threads.ts; null: at the bottom).
   */
  arenaFloor: ((rt: WasmRuntime) => number) | null;
}

let runtime: WasmRuntime | undefined;

/** Whether this JS engine can run the Wasm backend (WebAssembly with 128-bit SIMD). */
export function wasmAvailable(): boolean {
  return typeof WebAssembly === "object" && hasSimd();
}

/** Builds the kernel module's bytes for this runtime's features. */
export function buildKernelModule(shared: boolean, relaxed: boolean): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder();
  const mathImports = importMathFunctions(mb);
  mb.importMemory({ module: "env", field: "memory", initial: 1, maximum: MAX_PAGES, shared });
  for (const dtype of ["float32", "float64"] as const) {
    addMatmulKernels(mb, dtype, MATMUL_TILE[dtype], relaxed);
    addElementwiseKernels(mb, dtype);
    addMathKernels(mb, dtype, mathImports);
    addSumKernels(mb, dtype);
  }
  addStridedKernels(mb);
  return mb.finish();
}

/** The asynchronous compilation; resolves to undefined if the engine refuses it (CSP). */
let compiling: Promise<WasmRuntime | undefined> | undefined;
/** Set when the engine refused to compile the module (a CSP without 'wasm-unsafe-eval'). */
let refused = false;

/** Whether the engine refused to compile the kernel module, so that the JS kernels run. */
export function wasmRefused(): boolean {
  return refused;
}

function instantiate(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  shared: boolean,
  relaxed: boolean,
): WasmRuntime {
  const instance = new WebAssembly.Instance(module, { env: { memory }, ...mathImportObject() });
  runtime = {
    memory,
    module,
    kernels: instance.exports as unknown as Record<string, KernelFn>,
    shared,
    relaxed,
    top: CONTROL_BYTES,
    maxBytes: MAX_PAGES * PAGE,
    arenaFloor: null,
  };
  return runtime;
}

/**
 * The runtime, created on first use, or undefined while it is still being
 * compiled. Compilation is synchronous where the engine allows it (Node,
 * workers); browsers refuse synchronous compilation of large modules on the
 * main thread, and there it runs asynchronously while the kernels fall back
 * to the JS reference (`wasmReady()` resolves when it is done).
 */
export function tryRuntime(): WasmRuntime | undefined {
  if (runtime !== undefined) return runtime;
  if (compiling !== undefined) return undefined;
  const shared = typeof SharedArrayBuffer === "function";
  const relaxed = hasRelaxedSimd();
  const memory = new WebAssembly.Memory(
    shared
      ? { initial: 16, maximum: MAX_PAGES, shared: true }
      : { initial: 16, maximum: MAX_PAGES },
  );
  const bytes = buildKernelModule(shared, relaxed);
  try {
    return instantiate(new WebAssembly.Module(bytes), memory, shared, relaxed);
  } catch {
    compiling = WebAssembly.compile(bytes).then(
      (m) => instantiate(m, memory, shared, relaxed),
      () => {
        refused = true; // compilation refused: the kernels stay in JS
        return undefined;
      },
    );
    return undefined;
  }
}

/**
 * Resolves once the kernel module is compiled and instantiated (or once the
 * engine has refused to compile it, in which case the JS kernels stay in use).
 */
export async function wasmReady(): Promise<void> {
  if (tryRuntime() === undefined) await compiling;
}

/** The runtime; throws while it is still compiling (see `wasmReady`). */
export function getRuntime(): WasmRuntime {
  const rt = tryRuntime();
  if (rt === undefined)
    throw new Error("wasm backend: the kernel module is still compiling; await wasmReady() first");
  return rt;
}

/**
 * Starts a kernel call: frees the whole arena (all of it above the blocks
 * that a late worker thread still uses, see threads.ts).
 */
export function resetArena(rt: WasmRuntime): void {
  rt.top = rt.arenaFloor === null ? CONTROL_BYTES : rt.arenaFloor(rt);
}

/**
 * Thrown by `alloc` when a kernel's working set does not fit the memory
 * (`maxBytes`, at most 2 GiB, or the engine refuses to grow it); the backend
 * catches it and runs that call in the JS reference instead.
 */
export class ArenaFullError extends Error {}

/** Reserves `bytes` (16-byte aligned) in the arena, growing the memory if needed. */
export function alloc(rt: WasmRuntime, bytes: number): number {
  const ptr = rt.top;
  // 16 bytes of slack after every block: vector loads may read past a tail.
  const top = Math.ceil((ptr + bytes + 16) / 16) * 16;
  const have = rt.memory.buffer.byteLength;
  if (top > have) {
    if (top > rt.maxBytes) throw new ArenaFullError(`wasm arena: ${top} bytes needed`);
    try {
      rt.memory.grow(Math.ceil((top - have) / PAGE));
    } catch {
      throw new ArenaFullError(`wasm arena: could not grow the memory to ${top} bytes`);
    }
  }
  rt.top = top;
  return ptr;
}
