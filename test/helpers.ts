/**
 * Shared test helpers: a seeded PRNG, tolerant comparisons, and central
 * finite differences in float64 for checking derivatives independently of AD.
 */
import { afterAll, beforeAll, expect } from "vitest";
import { type WasmBackendOptions, wasmBackend } from "../src/backends/wasm/index.js";
import { type Array as NdArray, getBackend, np, setBackend } from "../src/index.js";
import { type ElementwiseKernel, registeredPrimitives } from "../src/core/primitive.js";

/** Deterministic PRNG in [0, 1) (mulberry32, from util.ts). */
export { mulberry32 as rng } from "./util.js";

/** Random float64 array of `shape` with entries in [lo, hi). */
export function randomArray(r: () => number, shape: number[], lo = -1, hi = 1): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float64Array.from({ length: n }, () => lo + (hi - lo) * r());
  return np.array(data, { shape });
}

/** The elements of an Array (or a number) as a flat list. */
export function flat(x: NdArray | number): number[] {
  return typeof x === "number" ? [x] : Array.from(x.data());
}

/** Asserts |a - e| <= atol + rtol |e| elementwise, with a message naming the element. */
export function expectAllClose(
  actual: NdArray | number | number[],
  expected: NdArray | number | number[],
  rtol = 1e-9,
  atol = 1e-12,
): void {
  const a = Array.isArray(actual) ? actual : flat(actual);
  const e = Array.isArray(expected) ? expected : flat(expected);
  expect(a.length).toBe(e.length);
  a.forEach((v, i) => {
    const w = e[i]!;
    if (!(Math.abs(v - w) <= atol + rtol * Math.abs(w))) {
      expect.fail(`element ${i}: got ${v}, expected ${w} (rtol ${rtol}, atol ${atol})`);
    }
  });
}

/**
 * Central finite-difference Jacobian of f at x (float64), shaped
 * out.shape ++ x.shape like jacfwd/jacrev.
 */
export function fdJacobian(f: (x: NdArray) => NdArray, x: NdArray, eps = 1e-6): NdArray {
  const base = Array.from(x.data());
  const cols: number[][] = [];
  let outShape: readonly number[] = [];
  for (let j = 0; j < base.length; j++) {
    const plus = base.slice();
    const minus = base.slice();
    plus[j]! += eps;
    minus[j]! -= eps;
    const fp = f(np.array(Float64Array.from(plus), { shape: [...x.shape] }));
    const fm = f(np.array(Float64Array.from(minus), { shape: [...x.shape] }));
    outShape = fp.shape;
    const a = flat(fp);
    const b = flat(fm);
    cols.push(a.map((v, i) => (v - b[i]!) / (2 * eps)));
  }
  const m = cols[0]?.length ?? 0;
  const data = new Float64Array(m * base.length);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < base.length; j++) data[i * base.length + j] = cols[j]![i]!;
  return np.array(data, { shape: [...outShape, ...x.shape] });
}

/** Central finite-difference derivative of a scalar JS function. */
export function fdScalar(f: (x: number) => number, x: number, eps = 1e-6): number {
  return (f(x + eps) - f(x - eps)) / (2 * eps);
}

/**
 * Runs the enclosing describe block on backend `name`. The Wasm backend's
 * size thresholds drop to 0, so even tiny inputs go through its kernels
 * (float64 elementwise included). The previous backend and thresholds come
 * back afterwards.
 */
export function useBackendAtAllSizes(name: string): void {
  let previous = "js";
  let previousOptions: Required<WasmBackendOptions> | undefined;
  beforeAll(() => {
    previous = getBackend();
    previousOptions = wasmBackend.options();
    setBackend(name);
    wasmBackend.configure({
      minElements: 0,
      minMatmulWork: 0,
      elementwiseDTypes: ["float32", "float64"],
    });
  });
  afterAll(() => {
    setBackend(previous);
    if (previousOptions !== undefined) wasmBackend.configure(previousOptions);
  });
}

/** Distance in units in the last place of `expected` (float64); 0 when both are NaN or equal. */
export function ulps64(actual: number, expected: number): number {
  if (Object.is(actual, expected) || (Number.isNaN(actual) && Number.isNaN(expected))) return 0;
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) return Infinity;
  const mag = Math.max(Math.abs(expected), 2 ** -1022);
  return Math.abs(actual - expected) / 2 ** (Math.floor(Math.log2(mag)) - 52);
}

/** The elementwise kernel (declared rule) of the registered primitive `name`, for backend tests. */
export function elementKernel(name: string): ElementwiseKernel {
  const rule = registeredPrimitives().find((p) => p.name === name)?.elementwise;
  if (rule === undefined) throw new Error(`no elementwise primitive named ${name}`);
  return rule;
}
