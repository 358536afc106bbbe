/**
 * A jitted matrix product read only by the elementwise group after it is
 * computed by that group's Wasm kernel, which reads it where the product
 * leaves it in the arena (jit/wasmLowering.ts, `matmulInArena` in
 * backends/wasm/backend.ts). The values must be the bits of the unfused
 * program (the product copied out, then the group: `fuseProducts: false`),
 * which the other tests check against the JS backend, and within rounding of
 * a plain float64 loop; for every operand layout, both float dtypes, products
 * the backend keeps in JS or cannot keep in place, on worker threads, and
 * with a worker stalled in the middle of a chunk.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasSimd } from "../src/backends/wasm/emitter.js";
import { useOneWasmWorker } from "./wasmWorkers.js";
import { getRuntime, setWasmThreadLimit } from "../src/backends/wasm/index.js";
import {
  holdWasmWorkers,
  setGemmChunkPanels,
  usableWorkers,
  wasmThreadStats,
  wasmWorkerHolds,
} from "../src/backends/wasm/threads.js";
import { configureWasmJit } from "../src/jit/wasmLowering.js";
import { type Array as NdArray, getBackend, jit, nn, np, setBackend } from "../src/index.js";
import { mlpArrays, mlpStep } from "../bench/mlpModel.js";
import { makeMlpData } from "../bench/web/workloads.js";

type DT = "float32" | "float64";

function data(shape: number[], seed: number, dtype: DT): NdArray {
  const n = shape.reduce((p, q) => p * q, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.37 + seed) * 1.5 + 0.1 * Math.cos(i * seed);
  return np.array(out, { shape, dtype });
}

/** The outputs of `f` as plain number lists, fused (the default) or not. */
function run(f: (...xs: NdArray[]) => NdArray, xs: NdArray[], fuse: boolean): number[] {
  configureWasmJit({ fuseProducts: fuse });
  try {
    return Array.from(jit(f)(...xs).data());
  } finally {
    configureWasmJit({ fuseProducts: true });
  }
}

/** How many kernel calls the compiled program makes. */
function kernelCalls(f: (...xs: NdArray[]) => NdArray, xs: NdArray[]): number {
  return (
    jit(f)
      .lower(...xs)
      .compiled.source.match(/K\[\d+\]\(/g) ?? []
  ).length;
}

/** A plain float64 loop: op(A) op(B) from the stored arrays. */
function plainProduct(a: NdArray, b: NdArray, tA: boolean, tB: boolean): number[][] {
  const A = a.data();
  const B = b.data();
  const [m, k] = tA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const n = tB ? b.shape[0]! : b.shape[1]!;
  const out: number[][] = [];
  for (let i = 0; i < m; i++) {
    const row: number[] = [];
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++)
        s += A[tA ? q * m + i : i * k + q]! * B[tB ? j * k + q : q * n + j]!;
      row.push(s);
    }
    out.push(row);
  }
  return out;
}

function worstError(got: number[], want: number[]): number {
  expect(got.length).toBe(want.length);
  return got.reduce((w, g, i) => Math.max(w, Math.abs(g - want[i]!)), 0);
}

describe.skipIf(!hasSimd())("jit: a matrix product computed by the group that reads it", () => {
  const before = getBackend();
  beforeAll(() => setBackend("wasm"));
  afterAll(() => setBackend(before));

  const layouts = [
    { tA: false, tB: false },
    { tA: true, tB: false },
    { tA: false, tB: true },
    { tA: true, tB: true },
  ];
  for (const dtype of ["float32", "float64"] as const)
    for (const { tA, tB } of layouts)
      it(`${dtype}, ${tA ? "A^T" : "A"} ${tB ? "B^T" : "B"}: w - 0.01 relu(op(A) op(B) + c), the unfused bits`, () => {
        // m = 37: a partial last row panel; n = 64 fills whole kernel panels
        const [m, k, n] = [37, 50, 64];
        const a = data(tA ? [k, m] : [m, k], 1, dtype);
        const b = data(tB ? [n, k] : [k, n], 2, dtype);
        const w = data([m, n], 3, dtype);
        const c = data([m, n], 4, dtype);
        const opA = (x: NdArray) => (tA ? np.transpose(x) : x);
        const opB = (x: NdArray) => (tB ? np.transpose(x) : x);
        const f = (x: NdArray, y: NdArray, v: NdArray, z: NdArray) =>
          np.subtract(v, np.multiply(nn.relu(np.add(np.matmul(opA(x), opB(y)), z)), 0.01));
        const xs = [a, b, w, c];
        // fused: one call computes the product and the group; unfused: two
        expect(kernelCalls(f, xs)).toBe(1);
        configureWasmJit({ fuseProducts: false });
        expect(kernelCalls(f, xs)).toBe(2);
        configureWasmJit({ fuseProducts: true });
        const fused = run(f, xs, true);
        expect(fused).toEqual(run(f, xs, false));
        const p = plainProduct(a, b, tA, tB);
        const W = w.data();
        const C = c.data();
        const want = p.flatMap((row, i) =>
          row.map((s, j) => W[i * n + j]! - 0.01 * Math.max(s + C[i * n + j]!, 0)),
        );
        expect(worstError(fused, want)).toBeLessThan(dtype === "float32" ? 1e-5 : 1e-14);
      });

  it("a product the backend cannot keep in place (n not whole panels, a small product in JS) gives the unfused bits", () => {
    for (const [m, k, n] of [
      [40, 30, 10], // n = 10: rows of C are 16 apart in the arena
      [5, 6, 7], // 210 multiply-adds: the backend's JS product
    ] as const) {
      const a = data([m, k], 5, "float32");
      const b = data([k, n], 6, "float32");
      const z = data([m, n], 7, "float32");
      const f = (x: NdArray, y: NdArray, v: NdArray) => np.multiply(np.add(np.matmul(x, y), v), 3);
      configureWasmJit({ minElements: 0 });
      try {
        const fused = run(f, [a, b, z], true);
        expect(fused).toEqual(run(f, [a, b, z], false));
        const want = plainProduct(a, b, false, false).flatMap((row, i) =>
          row.map((s, j) => 3 * (s + z.data()[i * n + j]!)),
        );
        expect(worstError(fused, want)).toBeLessThan(1e-4);
      } finally {
        configureWasmJit({ minElements: 1024 });
      }
    }
  });

  it("a product also read elsewhere (or returned) is not fused, and the values agree", () => {
    const a = data([40, 30], 8, "float64");
    const b = data([30, 48], 9, "float64");
    const f = (x: NdArray, y: NdArray) => {
      const p = np.matmul(x, y);
      return np.add(np.exp(np.multiply(p, 0.1)), np.sum(p));
    };
    expect(kernelCalls(f, [a, b])).toBeGreaterThan(1);
    const g = (x: NdArray, y: NdArray) => np.exp(np.multiply(np.matmul(x, y), 0.1));
    expect(run(f, [a, b], true)).toEqual(run(f, [a, b], false));
    expect(run(g, [a, b], true)).toEqual(run(g, [a, b], false));
  });

  it("W2's training step: the same losses and parameters, bit for bit, fused or not", () => {
    const d = makeMlpData({ batch: 16, nIn: 40, nHidden: 64, nOut: 10 });
    const steps = (fuse: boolean): number[][] => {
      configureWasmJit({ fuseProducts: fuse, minElements: 0 });
      try {
        const { x, y, params } = mlpArrays(d);
        const step = jit(mlpStep);
        let p = params;
        const losses: number[] = [];
        for (let i = 0; i < 3; i++) {
          const [loss, next] = step(p, x, y);
          losses.push(loss.item());
          p = next;
        }
        return [losses, ...[p.w1, p.b1, p.w2, p.b2].map((v) => Array.from(v.data()))];
      } finally {
        configureWasmJit({ fuseProducts: true, minElements: 1024 });
      }
    };
    const fused = steps(true);
    expect(fused).toEqual(steps(false));
    // and the loss decreases, as gradient descent must on this convex-at-start problem
    expect(fused[0]![2]!).toBeLessThan(fused[0]![0]!);
  });
});

describe.skipIf(!hasSimd())("jit: a fused product split across worker threads", () => {
  useOneWasmWorker();

  it("threads, one thread, and a stalled worker's chunk redone: the unfused one-thread bits", () => {
    // 150 x 70 @ 70 x 112: 1.18e6 multiply-adds, split across the threads
    const a = data([150, 70], 10, "float32");
    const b = data([70, 112], 11, "float32");
    const z = data([150, 112], 12, "float32");
    const f = (x: NdArray, y: NdArray, v: NdArray) => np.subtract(v, np.matmul(x, y));
    setWasmThreadLimit(0);
    const one = run(f, [a, b, z], false);
    setWasmThreadLimit(Infinity);
    setGemmChunkPanels(1);
    for (let rep = 0; rep < 4; rep++) expect(run(f, [a, b, z], true)).toEqual(one);
    // a worker stalled mid-chunk: its chunk is redone in a spare block, so the
    // product cannot be read in place; the values must not change
    const rt = getRuntime();
    const other = data([150, 70], 13, "float32");
    let stalls = 0;
    for (let attempt = 0; attempt < 50 && stalls === 0; attempt++) {
      // another product first, so that the arena does not hold this one's values
      run(f, [other, b, z], true);
      const recomputed = wasmThreadStats().recomputed;
      const holds = wasmWorkerHolds();
      holdWasmWorkers("midChunk");
      const got = run(f, [a, b, z], true);
      const redone = wasmThreadStats().recomputed - recomputed;
      const t0 = performance.now();
      while (redone > 0 && wasmWorkerHolds() === holds && performance.now() - t0 < 5000);
      holdWasmWorkers("none");
      expect(got).toEqual(one);
      const t1 = performance.now();
      while (usableWorkers(rt) !== 1 && performance.now() - t1 < 5000);
      if (redone > 0) stalls++;
    }
    expect(stalls).toBe(1);
    // and the call after it, with the late worker done
    expect(run(f, [a, b, z], true)).toEqual(one);
  });
});
