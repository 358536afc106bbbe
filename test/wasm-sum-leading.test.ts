/**
 * Float sums over leading axes on the Wasm backend (backends/wasm/sumKernel.ts
 * and `leadingAxesSum` in backend.ts): the same bits as the JS reference's
 * pairwise summation, for one block of rows and for several (the pairwise
 * tree), odd widths, several leading axes, special values, both float dtypes;
 * and within rounding of a plain float64 loop. Other reductions keep the JS
 * reference (same values).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsBackend } from "../src/backends/js.js";
import { hasSimd } from "../src/backends/wasm/emitter.js";
import { wasmBackend } from "../src/backends/wasm/index.js";
import type { TypedArray } from "../src/core/dtype.js";
import { getBackend, np, setBackend } from "../src/index.js";
import { rng } from "./helpers.js";

function filled(dtype: "float32" | "float64", n: number, seed: number): TypedArray {
  const r = rng(seed);
  const x = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  // magnitudes over many binades, so that the order of additions shows in the bits
  for (let i = 0; i < n; i++) x[i] = (r() - 0.5) * 2 ** Math.floor(r() * 40 - 20);
  return x;
}

/** Whether two arrays hold the same values bit for bit (NaN equal to NaN, -0 apart from +0). */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe.skipIf(!hasSimd())("wasm backend: float sums over leading axes", () => {
  const before = getBackend();
  const options = wasmBackend.options();
  beforeAll(() => {
    setBackend("wasm");
    wasmBackend.configure({ minElements: 0 });
  });
  afterAll(() => {
    wasmBackend.configure(options);
    setBackend(before);
  });

  const cases: [number[], number[]][] = [
    [[128, 256], [0]], // W2's bias gradient: one block of rows
    [[129, 7], [0]], // two blocks, the second of one row; odd width
    [[1000, 5], [0]], // eight blocks: the pairwise tree
    [
      [3, 50, 9],
      [0, 1],
    ], // two leading axes: 150 rows of 9
    [[300, 1], [0]], // width 1: only the odd-column path
    [[2, 3, 4, 2], [0]],
    [[0, 4], [0]], // no rows: zeros
  ];
  for (const dtype of ["float32", "float64"] as const)
    it(`${dtype}: the JS reference's bits, and close to a plain float64 loop`, () => {
      cases.forEach(([shape, axes], k) => {
        const n = shape.reduce((p, q) => p * q, 1);
        const x = filled(dtype, n, 10 + k);
        const got = wasmBackend.reduce("sum", x, shape, axes, dtype);
        const want = jsBackend.reduce("sum", x, shape, axes, dtype);
        expect(sameBits(got, want)).toBe(true);
        const rows = shape.slice(0, axes.length).reduce((p, q) => p * q, 1);
        const width = n / Math.max(rows, 1);
        for (let o = 0; o < got.length; o++) {
          let s = 0;
          let scale = 0;
          for (let r = 0; r < rows; r++) {
            s += x[r * width + o]!;
            scale += Math.abs(x[r * width + o]!);
          }
          const tol = (dtype === "float32" ? 2 ** -23 : rows * 2 ** -52) * scale;
          expect(Math.abs(got[o]! - s)).toBeLessThanOrEqual(tol);
        }
      });
    });

  it("keeps NaN, infinities and the sign of zero as the reference does", () => {
    const x = new Float64Array([-0, NaN, Infinity, -0, 1, -Infinity, -0, 0, 2, -0, 3, 4]);
    const got = wasmBackend.reduce("sum", x, [4, 3], [0], "float64");
    expect(sameBits(got, jsBackend.reduce("sum", x, [4, 3], [0], "float64"))).toBe(true);
    // -0 + -0 + -0 + -0 from +0: +0; NaN; Infinity - Infinity: NaN
    expect(Object.is(got[0], 0)).toBe(true);
    expect(Number.isNaN(got[1])).toBe(true);
    const y = new Float32Array([1e30, Infinity, -5, 1e30, 1, -0]);
    expect(
      sameBits(
        wasmBackend.reduce("sum", y, [2, 3], [0], "float32"),
        jsBackend.reduce("sum", y, [2, 3], [0], "float32"),
      ),
    ).toBe(true);
  });

  it("np.sum over axis 0 of a jitted-size array equals the JS backend", () => {
    const data = filled("float32", 128 * 256, 3);
    const x = np.array(data, { shape: [128, 256], dtype: "float32" });
    const onWasm = np.sum(x, 0).data();
    setBackend("js");
    const onJs = np.sum(x, 0).data();
    setBackend("wasm");
    expect(sameBits(onWasm, onJs)).toBe(true);
  });
});
