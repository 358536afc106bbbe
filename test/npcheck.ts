/**
 * Shared checks for the np shape, indexing and contraction tests: one call
 * verifies a function's derivatives (checkGrads: forward and reverse mode
 * against finite differences, to order 2), jit against eager, vmap against a
 * loop, and float32 against float64; plus a small row-major view of an
 * Array for the plain-loop references the tests write.
 */
import { expect } from "vitest";
import { type Array as NdArray, checkGrads, jit, np, vmap } from "../src/index.js";
import { expectAllClose } from "./helpers.js";

/** A plain view of an Array: shape, flat data, and element access by coordinates. */
export interface Ref {
  shape: number[];
  data: number[];
  at(...idx: number[]): number;
}
export function ref(x: NdArray): Ref {
  const shape = [...x.shape];
  const data = Array.from(x.data() as ArrayLike<number>, Number);
  return {
    shape,
    data,
    at: (...idx: number[]) => {
      let off = 0;
      idx.forEach((i, d) => (off = off * shape[d]! + i));
      return data[off]!;
    },
  };
}
/** An Array from a shape and a function of coordinates (row-major). */
export function build(shape: readonly number[], f: (...idx: number[]) => number): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  const idx = shape.map(() => 0);
  for (let k = 0; k < n; k++) {
    out[k] = f(...idx);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return np.array(out, { shape });
}

type Fn = (...args: NdArray[]) => NdArray;

/**
 * f's derivatives at order 2 in both modes (checkGrads), jit = eager, vmap =
 * a loop over 3 perturbed copies of the arguments, and float32 = float64.
 */
export function checkTransforms(
  f: Fn,
  args: NdArray[],
  opts: { grads?: boolean; f32?: boolean } = {},
): void {
  const want = f(...args);
  if (opts.grads ?? true) checkGrads(f, args, { order: 2 });
  expectAllClose(jit(f)(...args), want, 1e-12, 1e-12);
  const copies = [0, 1, 2].map((k) =>
    args.map((a) => np.add(np.multiply(a, 1 + 0.1 * k), 0.01 * k)),
  );
  const batched = args.map((_, i) => np.stack(copies.map((c) => c[i]!)));
  const looped = np.stack(copies.map((c) => f(...c)));
  expectAllClose(vmap(f)(...batched), looped, 1e-12, 1e-12);
  // One argument batched, the others shared.
  if (args.length > 1) {
    const mixed = vmap((a: NdArray) => f(a, ...args.slice(1)))(batched[0]!);
    expectAllClose(mixed, np.stack(copies.map((c) => f(c[0]!, ...args.slice(1)))), 1e-12, 1e-12);
  }
  if (opts.f32 ?? true) {
    const out32 = f(...args.map((a) => a.astype("float32")));
    expect(out32.dtype).toBe("float32");
    expectAllClose(out32, want, 1e-5, 1e-5);
  }
}

/** expectAllClose where NaN must meet NaN at the same positions. */
export function expectCloseNaN(actual: NdArray, expected: readonly number[], rtol = 1e-14): void {
  const a = ref(actual).data;
  expect(a.map(Number.isNaN)).toEqual(expected.map(Number.isNaN));
  expectAllClose(
    a.filter((v) => !Number.isNaN(v)),
    expected.filter((v) => !Number.isNaN(v)),
    rtol,
    1e-15,
  );
}
