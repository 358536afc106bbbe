/**
 * Result arrays of the Wasm kernels (backend.ts and the jit lowering of
 * jit/wasmLowering.ts): fresh TypedArrays that the caller overwrites
 * entirely, so they need not be zero-filled first.
 *
 * `new Float32Array(n)` asks the engine for zeroed memory; for a large
 * array that is memory fresh from the system, zeroed once and then faulted
 * in page by page when the kernel's result is copied over it (about 100 us
 * for the 800 KB weight gradient of W2, more than the copy itself). In Node,
 * `Buffer.allocUnsafeSlow` returns a buffer of its own (not a slice of
 * Node's shared pool) without the zero fill, which the allocator can serve
 * from memory it has just freed. Elsewhere (browsers) and for small arrays
 * the ordinary constructor is used. Every caller writes every element before
 * the array is returned, so no stale byte is ever visible.
 */
import type { TypedArray } from "../../core/dtype.js";

/** Arrays of at least this many bytes skip the zero fill (smaller ones gain nothing). */
const UNZEROED_MIN_BYTES = 1 << 16;

type FloatDType = "float32" | "float64";

/** Node's `Buffer.allocUnsafeSlow`, where this runtime has it. */
const allocUnsafeSlow: ((bytes: number) => Uint8Array) | undefined = (() => {
  const host = globalThis as { Buffer?: { allocUnsafeSlow?: unknown } };
  const f = host.Buffer?.allocUnsafeSlow;
  return typeof f === "function"
    ? (f.bind(host.Buffer) as (bytes: number) => Uint8Array)
    : undefined;
})();

/** Whether results skip the zero fill (test hook; true where Node's Buffer exists). */
let unzeroed = allocUnsafeSlow !== undefined;

/**
 * Turns the unzeroed allocation on or off (tests and benchmarks compare the
 * two); it stays off where the runtime has no `Buffer.allocUnsafeSlow`.
 */
export function setUnzeroedResults(on: boolean): void {
  unzeroed = on && allocUnsafeSlow !== undefined;
}

/**
 * A fresh array of `count` elements of `dtype` (or bytes, for a bool result)
 * whose contents are unspecified: the caller must write every element.
 */
export function resultArray(dtype: FloatDType | "bool", count: number): TypedArray {
  const bytesPer = dtype === "float64" ? 8 : dtype === "float32" ? 4 : 1;
  if (unzeroed && count * bytesPer >= UNZEROED_MIN_BYTES) {
    // its own ArrayBuffer at offset 0, so `.buffer` covers exactly this array
    const buffer = allocUnsafeSlow!(count * bytesPer).buffer as ArrayBuffer;
    if (dtype === "float64") return new Float64Array(buffer, 0, count);
    if (dtype === "float32") return new Float32Array(buffer, 0, count);
    return new Uint8Array(buffer, 0, count);
  }
  if (dtype === "float64") return new Float64Array(count);
  if (dtype === "float32") return new Float32Array(count);
  return new Uint8Array(count);
}
