/**
 * Test setup for suites that run the Wasm backend with one worker thread
 * and the measured thread choice off (so that every product or group large
 * enough is split), restoring every switch afterwards.
 */
import { afterAll, beforeAll, expect } from "vitest";
import {
  getRuntime,
  setWasmThreadLimit,
  startWasmThreads,
  stopWasmThreads,
} from "../src/backends/wasm/index.js";
import { holdWasmWorkers, setGemmChunkPanels } from "../src/backends/wasm/threads.js";
import { setAdaptiveThreads } from "../src/backends/wasm/threadGate.js";
import { getBackend, setBackend } from "../src/index.js";

/** Registers the suite's beforeAll/afterAll: wasm backend, one worker, no thread gate. */
export function useOneWasmWorker(): void {
  const before = getBackend();
  beforeAll(async () => {
    setAdaptiveThreads(false);
    expect(await startWasmThreads(getRuntime(), 1)).toBeGreaterThan(0);
    setBackend("wasm");
  });
  afterAll(async () => {
    setGemmChunkPanels(undefined);
    holdWasmWorkers("none");
    setAdaptiveThreads(true);
    setWasmThreadLimit(Infinity);
    setBackend(before);
    await stopWasmThreads();
  });
}
