/**
 * Deterministic inputs for the WebGPU tests (the browser page
 * test/webgpu-page.ts and the optional Node test test/webgpu-node.test.ts):
 * the same seeds give the same arrays in both places.
 */
import { type Array as NdArray, np } from "../src/index.js";

/** n values in [-1, 1) from a linear congruential generator. */
export function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(s / 2 ** 31 - 1);
  }
  return out;
}

/** A float32 array of `shape` filled from `values`. */
export function f32(shape: number[], seed: number): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(values(n, seed), { dtype: "float32" }).reshape(shape);
}
