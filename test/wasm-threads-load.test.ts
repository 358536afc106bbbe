/**
 * Wasm worker threads on a busy machine: a parallel call must never wait
 * for a worker that has not started. The workers are held (a test hook
 * makes a woken worker wait before it looks at its job, as a worker the
 * host has not scheduled would), and split matrix products and jit groups
 * must still return the values the JS backend computes, in about the time
 * the calling thread alone takes (measured in the same test). Released
 * workers then take chunks again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasSimd } from "../src/backends/wasm/emitter.js";
import {
  getRuntime,
  setWasmThreadLimit,
  startWasmThreads,
  stopWasmThreads,
} from "../src/backends/wasm/index.js";
import {
  groupChunksRunByWorkers,
  holdWasmWorkers,
  parallelGemm,
  parallelGroup,
  sharedGroupModule,
  usableWorkers,
  wasmJobsCancelled,
  wasmThreadStats,
  wasmWorkerHolds,
} from "../src/backends/wasm/threads.js";
import { CONTROL_BYTES, alloc, resetArena } from "../src/backends/wasm/runtime.js";
import { setAdaptiveThreads } from "../src/backends/wasm/threadGate.js";
import { type Array as NdArray, getBackend, jit, np, setBackend } from "../src/index.js";
import { addOneFunction } from "./wasmGroupFixture.js";

/** Smallest wall time of `reps` calls of `f`, in ms (the least disturbed by other jobs). */
function fastest(f: () => unknown, reps: number): number {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Waits (up to 5 s, blocking) until `done()`; returns whether it came true. */
function until(done: () => boolean): boolean {
  const t0 = performance.now();
  while (!done() && performance.now() - t0 < 5000);
  return done();
}

function data(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.37 + seed) * 3;
  return out;
}

describe.skipIf(!hasSimd())("wasm threads with workers that do not wake", () => {
  const before = getBackend();
  beforeAll(async () => {
    // These tests exercise the thread protocol: every large call must use the workers
    // (the measured choice between threads and one thread is tested in thread-gate.test.ts).
    setAdaptiveThreads(false);
    expect(await startWasmThreads(getRuntime(), 1)).toBeGreaterThan(0);
  });
  afterAll(async () => {
    setAdaptiveThreads(true);
    holdWasmWorkers("none");
    setWasmThreadLimit(Infinity);
    setBackend(before);
    await stopWasmThreads();
  });

  // 4e5 float64 elements of exp(sin(x)) * 2: above the work from which a
  // jit group is split across threads.
  const n = 400_000;
  const x = data(n, 0);
  const f = jit((v: NdArray) => np.multiply(np.exp(np.sin(v)), 2));

  it("a split jit group returns the JS backend's values in about one-thread time", () => {
    setBackend("js");
    const expected = f(np.array(x)).data();
    setBackend("wasm");
    const xs = np.array(x);
    const run = () => f(xs).data();
    run(); // compiled, and the workers have the group module
    setWasmThreadLimit(0);
    const oneThread = fastest(run, 5);
    setWasmThreadLimit(Infinity);
    const cancelledBefore = wasmJobsCancelled();
    holdWasmWorkers("beforeJob");
    const held = fastest(run, 7);
    const got = run();
    holdWasmWorkers("none");
    // Every call cancelled its worker's job instead of waiting for it.
    expect(wasmJobsCancelled() - cancelledBefore).toBe(8);
    let worst = 0;
    for (let i = 0; i < n; i++)
      worst = Math.max(worst, Math.abs(got[i]! - expected[i]!) / Math.abs(expected[i]!));
    expect(worst).toBeLessThan(1e-14);
    // A call that waited for a held worker would never return. The bound is
    // generous: the split layout on one thread copies all 3.2 MB of input in
    // before computing and all the output out after, where the one-thread
    // loop works in cache-sized chunks (1.5-2.5x its time on a loaded host,
    // 4.3x once with the whole suite running on two cores).
    expect(held).toBeLessThan(6 * oneThread + 10);
  });

  it("a split matrix product returns the JS backend's values with the workers held", () => {
    const [m, k, p] = [160, 130, 150];
    const a = np.array(data(m * k, 1), { shape: [m, k] });
    const b = np.array(data(k * p, 2), { shape: [k, p] });
    setBackend("js");
    const expected = np.matmul(a, b).data();
    setBackend("wasm");
    const cancelledBefore = wasmJobsCancelled();
    holdWasmWorkers("beforeJob");
    const got = np.matmul(a, b).data();
    holdWasmWorkers("none");
    expect(wasmJobsCancelled() - cancelledBefore).toBe(1);
    let worst = 0;
    for (let i = 0; i < m * p; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-11);
  });

  it("a worker stalled in the middle of a jit group chunk does not stall the call", () => {
    const rt = getRuntime();
    const { bytes, fn } = addOneFunction(rt.memory);
    const module = sharedGroupModule(bytes);
    const [chunk, nChunks] = [512, 8];
    const n = chunk * nChunks;
    resetArena(rt);
    const inPtr = alloc(rt, 8 * n);
    const outPtr = alloc(rt, 8 * n);
    const input = new Float64Array(rt.memory.buffer, inPtr, n);
    const output = new Float64Array(rt.memory.buffer, outPtr, n).fill(0);
    const stats = wasmThreadStats();
    const holds = wasmWorkerHolds();
    holdWasmWorkers("midChunk");
    let tookChunk = false;
    parallelGroup(
      rt,
      module,
      fn,
      1,
      [inPtr, outPtr, 0, 0, 0, 0],
      [8 * chunk, 8 * chunk, 0, 0, 0, 0],
      n,
      chunk,
      2,
      (c) => {
        // The inputs of chunk 0 go in once the worker holds a chunk it took
        // (the first: the caller takes its own after all inputs are in).
        if (c === 0) tookChunk = until(() => wasmWorkerHolds() > holds);
        for (let i = c * chunk; i < (c + 1) * chunk; i++) input[i] = i * 0.5;
      },
      () => {},
    );
    expect(tookChunk).toBe(true);
    // The calling thread computed the held chunk again itself.
    expect(wasmThreadStats().recomputed - stats.recomputed).toBe(1);
    output.forEach((v, i) => {
      if (v !== i * 0.5 + 1) expect([i, v]).toEqual([i, i * 0.5 + 1]);
    });
    // The late worker is not given new jobs, and its blocks stay out of the
    // way of later calls until it is done.
    expect(usableWorkers(rt)).toBe(0);
    resetArena(rt);
    expect(alloc(rt, 16)).toBeGreaterThanOrEqual(outPtr + 8 * n);
    holdWasmWorkers("none");
    expect(until(() => usableWorkers(rt) === 1)).toBe(true);
    resetArena(rt);
    expect(rt.top).toBe(CONTROL_BYTES);
    // It wrote the same values.
    output.forEach((v, i) => {
      if (v !== i * 0.5 + 1) expect([i, v]).toEqual([i, i * 0.5 + 1]);
    });
  });

  it("a worker stalled in the middle of a matrix product chunk does not stall the call", () => {
    const rt = getRuntime();
    // A [64, 5] @ B [5, 8] float64: 16 row panels of 4 rows, 1 column panel of 4 (2 vectors).
    const [m, k, n] = [64, 5, 8];
    const a = data(m * k, 3);
    const b = data(k * n, 4);
    const expected = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let q = 0; q < k; q++) sum += a[i * k + q]! * b[q * n + j]!;
        expected[i * n + j] = sum;
      }
    resetArena(rt);
    const aRaw = alloc(rt, 8 * m * k);
    const aPack = alloc(rt, 8 * m * k);
    const bRaw = alloc(rt, 8 * k * n);
    const bPack = alloc(rt, 8 * k * n);
    const cPtr = alloc(rt, 8 * m * n);
    const stats = wasmThreadStats();
    const holds = wasmWorkerHolds();
    holdWasmWorkers("midChunk");
    let tookChunk = false;
    const got = new Float64Array(m * n).fill(NaN);
    parallelGemm(
      rt,
      "float64",
      {
        raw: aRaw,
        pack: aPack,
        m,
        transposed: false,
        prepare: () => {
          // A goes in once the worker holds the chunk it took.
          tookChunk = until(() => wasmWorkerHolds() > holds);
          new Float64Array(rt.memory.buffer, aRaw, m * k).set(a);
        },
      },
      {
        pack: bPack,
        prepare: () => {
          new Float64Array(rt.memory.buffer, bRaw, k * n).set(b);
          rt.kernels.packB_float64!(bRaw, bPack, k, n, 2);
        },
      },
      cPtr,
      k,
      2,
      m / 4,
      1 << 30,
      (p0, p1, rows) => {
        // 2 column panels of 4: C rows are 8 wide, as the result
        got.set(new Float64Array(rt.memory.buffer, rows, (p1 - p0) * 4 * n), p0 * 4 * n);
      },
    );
    expect(tookChunk).toBe(true);
    expect(wasmThreadStats().recomputed - stats.recomputed).toBe(1);
    let worst = 0;
    for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-12);
    expect(usableWorkers(rt)).toBe(0);
    holdWasmWorkers("none");
    expect(until(() => usableWorkers(rt) === 1)).toBe(true);
  });

  it("released workers take chunks again", () => {
    setBackend("wasm");
    const xs = np.array(x);
    const chunksBefore = groupChunksRunByWorkers();
    // The worker wakes for a cancelled job, leaves it, and takes part in the
    // next ones (a few calls at most, should the host wake it late).
    const t0 = performance.now();
    while (groupChunksRunByWorkers() === chunksBefore && performance.now() - t0 < 10_000) f(xs);
    expect(groupChunksRunByWorkers()).toBeGreaterThan(chunksBefore);
  });
});
