/**
 * A split matrix product's values do not depend on how its chunks fall:
 * whichever thread computes a chunk, however many row panels a chunk holds,
 * and whether the calling thread computes a late worker's chunk again in a
 * spare block, each element of C is computed by the same code with the same
 * k order, so the result is bit for bit the product computed on the calling
 * thread alone in one piece (and within rounding of a plain float64 loop).
 * Also checks the chunk sizes: many small chunks for large products (so a
 * descheduled worker costs at most one), at least 8 per thread for small ones.
 */
import { describe, expect, it } from "vitest";
import { hasSimd } from "../src/backends/wasm/emitter.js";
import { useOneWasmWorker } from "./wasmWorkers.js";
import { getRuntime, setWasmThreadLimit } from "../src/backends/wasm/index.js";
import {
  gemmChunkPanels,
  holdWasmWorkers,
  setGemmChunkPanels,
  usableWorkers,
  wasmThreadStats,
  wasmWorkerHolds,
} from "../src/backends/wasm/threads.js";
import { np } from "../src/index.js";

function data(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.61 + seed) * 2;
  return out;
}

/** Waits (up to 5 s, blocking) until `done()`; returns whether it came true. */
function until(done: () => boolean): boolean {
  const t0 = performance.now();
  while (!done() && performance.now() - t0 < 5000);
  return done();
}

/** Indices where two arrays differ in their bits (NaN payloads aside). */
function bitDifferences(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let n = x.length === y.length ? 0 : 1;
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (!Object.is(x[i], y[i])) n++;
  return n;
}

describe.skipIf(!hasSimd())("split matrix products: values independent of the chunks", () => {
  // every product large enough uses the workers (the measured choice is off)
  useOneWasmWorker();

  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: every chunk size, worker or caller, gives the one-thread bits`, () => {
      // 150 x 70 @ 70 x 110: 1.16e6 multiply-adds (split from 2^20), 38 row panels
      const [m, k, n] = [150, 70, 110];
      const aData = data(m * k, 1);
      const bData = data(k * n, 2);
      const a = np.array(aData, { shape: [m, k], dtype });
      const b = np.array(bData, { shape: [k, n], dtype });
      setWasmThreadLimit(0);
      const one = np.matmul(a, b).data();
      setWasmThreadLimit(Infinity);
      // a plain float64 loop over the rounded inputs: the one-thread result is a product
      const aR = a.data();
      const bR = b.data();
      let worst = 0;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let q = 0; q < k; q++) s += aR[i * k + q]! * bR[q * n + j]!;
          worst = Math.max(worst, Math.abs(one[i * n + j]! - s));
        }
      expect(worst).toBeLessThan(dtype === "float32" ? 2e-4 : 1e-12);

      const workerChunks0 = wasmThreadStats().gemmWorkerChunks;
      for (const panels of [1, 2, 3, 5, 13, 38, undefined]) {
        setGemmChunkPanels(panels);
        // several calls: the chunks fall differently between the threads each time
        for (let rep = 0; rep < 4; rep++)
          expect(bitDifferences(np.matmul(a, b).data(), one)).toBe(0);
      }
      // the workers took part (a few more calls should the host wake the worker late)
      setGemmChunkPanels(1);
      const t0 = performance.now();
      while (
        wasmThreadStats().gemmWorkerChunks === workerChunks0 &&
        performance.now() - t0 < 10_000
      )
        expect(bitDifferences(np.matmul(a, b).data(), one)).toBe(0);
      expect(wasmThreadStats().gemmWorkerChunks).toBeGreaterThan(workerChunks0);

      // A worker stalled in the middle of a chunk: the caller computes that
      // chunk again in a spare block, and the values are still the same.
      const rt = getRuntime();
      for (const panels of [1, 3]) {
        setGemmChunkPanels(panels);
        // (the worker may wake only once the caller has taken every chunk: try again)
        let stalls = 0;
        for (let attempt = 0; attempt < 50 && stalls === 0; attempt++) {
          const recomputed = wasmThreadStats().recomputed;
          const holds = wasmWorkerHolds();
          holdWasmWorkers("midChunk");
          const got = np.matmul(a, b).data();
          const redone = wasmThreadStats().recomputed - recomputed;
          // A chunk is redone here exactly when the worker took one (and so
          // stalls, held, until released below); else it never stalls.
          const stalled =
            redone > 0 ? until(() => wasmWorkerHolds() > holds) : wasmWorkerHolds() > holds;
          holdWasmWorkers("none");
          expect(bitDifferences(got, one)).toBe(0);
          expect(redone).toBe(stalled ? 1 : 0);
          expect(until(() => usableWorkers(rt) === 1)).toBe(true);
          if (stalled) stalls++;
        }
        expect(stalls).toBe(1);
      }
      setGemmChunkPanels(undefined);
    });
  }

  it("chunks: about 2^20 multiply-adds (4 panels at least with a large B), at least 8 per thread", () => {
    // 512^3 float32: 128 row panels of 4 x 512 x 512 multiply-adds
    const panelWork = 4 * 512 * 512;
    expect(gemmChunkPanels(128, panelWork, 2, 512 * 512 * 4)).toBe(1);
    // 512^3 float64: 2 MiB of packed B, beyond L2, so several panels per chunk
    expect(gemmChunkPanels(128, panelWork, 2, 512 * 512 * 8)).toBe(4);
    for (const mPanels of [2, 16, 32, 128, 1000])
      for (const panelWork of [100, 5000, 1 << 16, 1 << 19, 1 << 21])
        for (const threads of [2, 4]) {
          const chunk = gemmChunkPanels(mPanels, panelWork, threads);
          const chunks = Math.ceil(mPanels / chunk);
          expect(chunk).toBeGreaterThanOrEqual(1);
          // never fewer chunks than 8 per thread, where there are panels enough
          expect(chunks).toBeGreaterThanOrEqual(Math.min(mPanels, 8 * threads) / 2);
          // a chunk of more than one panel stays near 2^20 multiply-adds
          if (chunk > 1) expect((chunk - 1) * panelWork).toBeLessThan(1 << 20);
        }
  });
});
