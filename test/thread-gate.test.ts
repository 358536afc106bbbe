/**
 * The measured choice between the worker threads and the calling thread
 * alone (src/backends/wasm/threadGate.ts), driven with given times: the
 * threads warm up on their first call, then each choice is measured, the
 * faster is kept, and the slower is retried often enough to notice a change.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ThreadGate, setAdaptiveThreads } from "../src/backends/wasm/threadGate.js";

/** Runs `calls` calls through the gate, timing each with `time(threads)`; returns the choices. */
function drive(gate: ThreadGate, calls: number, time: (threads: boolean) => number): boolean[] {
  const choices: boolean[] = [];
  for (let i = 0; i < calls; i++) {
    const threads = gate.useThreads();
    choices.push(threads);
    gate.record(threads, time(threads));
  }
  return choices;
}

describe("ThreadGate", () => {
  afterEach(() => setAdaptiveThreads(true));

  it("keeps the threads where they are faster, retrying one thread now and then", () => {
    const gate = new ThreadGate();
    // The first threaded call is slow (workers compile the kernel) and is not held against them.
    let first = true;
    const choices = drive(gate, 64, (threads) => {
      if (threads && first) {
        first = false;
        return 100;
      }
      return threads ? 5 : 8;
    });
    expect(choices.slice(0, 3)).toEqual([true, true, false]);
    const later = choices.slice(3);
    const oneThread = later.filter((t) => !t).length;
    // One call in 16 tries the other choice.
    expect(oneThread).toBeGreaterThanOrEqual(3);
    expect(oneThread).toBeLessThanOrEqual(5);
  });

  it("moves to one thread when a busy core makes the threads slower, and back when it is free", () => {
    const gate = new ThreadGate();
    let busy = false;
    const time = (threads: boolean) => (threads ? (busy ? 24 : 10) : 14);
    drive(gate, 40, time);
    expect(drive(gate, 8, time).filter((t) => t).length).toBeGreaterThanOrEqual(7);
    busy = true;
    // Within the kept window of recent times (4) the threads' estimate turns slow.
    const underLoad = drive(gate, 40, time);
    expect(underLoad.slice(8).filter((t) => !t).length).toBeGreaterThanOrEqual(29);
    busy = false;
    // A retry of the threads (one call in 16) finds them fast again; then only the
    // retries of one thread are not threaded.
    const freed = drive(gate, 40, time);
    expect(freed.slice(20).filter((t) => !t).length).toBeLessThanOrEqual(2);
  });

  it("always chooses the threads when the measured choice is off", () => {
    setAdaptiveThreads(false);
    const gate = new ThreadGate();
    expect(drive(gate, 20, (threads) => (threads ? 50 : 1)).every((t) => t)).toBe(true);
  });
});
