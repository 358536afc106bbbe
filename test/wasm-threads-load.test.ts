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
  wasmJobsCancelled,
} from "../src/backends/wasm/threads.js";
import { type Array as NdArray, getBackend, jit, np, setBackend } from "../src/index.js";

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

function data(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.37 + seed) * 3;
  return out;
}

describe.skipIf(!hasSimd())("wasm threads with workers that do not wake", () => {
  const before = getBackend();
  beforeAll(async () => {
    expect(await startWasmThreads(getRuntime(), 1)).toBeGreaterThan(0);
  });
  afterAll(async () => {
    holdWasmWorkers(false);
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
    const expected = (f(np.array(x)) as NdArray).data();
    setBackend("wasm");
    const xs = np.array(x);
    const run = () => (f(xs) as NdArray).data();
    run(); // compiled, and the workers have the group module
    setWasmThreadLimit(0);
    const oneThread = fastest(run, 5);
    setWasmThreadLimit(Infinity);
    const cancelledBefore = wasmJobsCancelled();
    holdWasmWorkers(true);
    const held = fastest(run, 5);
    const got = run();
    holdWasmWorkers(false);
    // Every call cancelled its worker's job instead of waiting for it.
    expect(wasmJobsCancelled() - cancelledBefore).toBe(6);
    let worst = 0;
    for (let i = 0; i < n; i++)
      worst = Math.max(worst, Math.abs(got[i]! - expected[i]!) / Math.abs(expected[i]!));
    expect(worst).toBeLessThan(1e-14);
    // A call that waited for a held worker would never return; one that
    // spins on it would take far longer than this.
    expect(held).toBeLessThan(2 * oneThread + 2);
  });

  it("a split matrix product returns the JS backend's values with the workers held", () => {
    const [m, k, p] = [160, 130, 150];
    const a = np.array(data(m * k, 1), { shape: [m, k] });
    const b = np.array(data(k * p, 2), { shape: [k, p] });
    setBackend("js");
    const expected = np.matmul(a, b).data();
    setBackend("wasm");
    const cancelledBefore = wasmJobsCancelled();
    holdWasmWorkers(true);
    const got = np.matmul(a, b).data();
    holdWasmWorkers(false);
    expect(wasmJobsCancelled() - cancelledBefore).toBe(1);
    let worst = 0;
    for (let i = 0; i < m * p; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-11);
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
