/**
 * The measured choice between the worker threads and the calling thread
 * alone (src/backends/wasm/threadGate.ts), driven with given times: the
 * threads warm up on their first call, the gate alternates until each
 * choice has two times, keeps the one with the lower median of its recent
 * times, and retries the other often enough (less often when it is far
 * slower) to notice a change of load, repeating a retry that beats the kept
 * choice.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  ThreadGate,
  type ThreadGateEvent,
  setAdaptiveThreads,
  setThreadGateTrace,
} from "../src/backends/wasm/threadGate.js";

/** Runs `calls` calls through the gate, timing each with `time(threads, i)`; returns the choices. */
function drive(
  gate: ThreadGate,
  calls: number,
  time: (threads: boolean, i: number) => number,
): boolean[] {
  const choices: boolean[] = [];
  for (let i = 0; i < calls; i++) {
    const threads = gate.useThreads();
    choices.push(threads);
    gate.record(threads, time(threads, i));
  }
  return choices;
}

const count = (choices: boolean[], threads: boolean) => choices.filter((t) => t === threads).length;

describe("ThreadGate", () => {
  afterEach(() => {
    setAdaptiveThreads(true);
    setThreadGateTrace(undefined);
  });

  it("settles within five calls: threads (warm-up), then both choices twice", () => {
    const gate = new ThreadGate();
    // The first threaded call is slow (workers compile the kernel) and is not held against them.
    const choices = drive(gate, 8, (threads, i) => (i === 0 ? 100 : threads ? 5 : 6));
    expect(choices).toEqual([true, true, false, true, false, true, true, true]);
  });

  it("retries one thread every 16 calls when the gap is small, every 64 when it is large", () => {
    const near = new ThreadGate();
    const nearChoices = drive(near, 5 + 128, (threads) => (threads ? 5 : 6.5)).slice(5);
    expect(count(nearChoices, false)).toBe(128 / 16);
    // large: every 16 calls until one thread has 5 times (3 retries after its
    // first 2), then every 64: at calls 16, 32, 48 and 112 of the 128
    const far = new ThreadGate();
    const farChoices = drive(far, 5 + 128, (threads) => (threads ? 5 : 10)).slice(5);
    expect(count(farChoices, false)).toBe(4);
    const later = drive(far, 256, (threads) => (threads ? 5 : 10));
    expect(count(later, false)).toBe(256 / 64);
  });

  it("two inflated times of the faster choice do not keep it off for 64 calls", () => {
    // one thread really takes 1.5 against 2.1 threaded (a busy core), but its
    // first two calls were descheduled (4.8): the gap looks large on two times
    const gate = new ThreadGate();
    let oneThreadCalls = 0;
    const choices = drive(gate, 60, (threads) =>
      threads ? 2.1 : oneThreadCalls++ < 2 ? 4.8 : 1.5,
    );
    // retried within 16 calls of settling, the retry beats the threads and is repeated
    const firstRetry = choices.indexOf(false, 5);
    expect(firstRetry).toBeGreaterThan(5);
    expect(firstRetry).toBeLessThanOrEqual(5 + 16);
    expect(count(choices.slice(firstRetry + 3), true)).toBeLessThanOrEqual(3);
  });

  it("keeps one thread when the threads are fast only now and then (a best-of-few would not)", () => {
    const gate = new ThreadGate();
    // A worker on a busy core: one threaded call in three runs at full speed.
    let threadedCalls = 0;
    const choices = drive(gate, 100, (threads) =>
      threads ? (threadedCalls++ % 3 === 1 ? 8 : 24) : 14,
    );
    // The best of the threads' recent times (8) beats one thread (14); their median does not.
    expect(count(choices.slice(10), false)).toBeGreaterThanOrEqual(85);
  });

  it("one slow call (a collection pause) does not move the choice", () => {
    const gate = new ThreadGate();
    // one thread is the faster choice; its first time is inflated by a pause
    let oneThreadCalls = 0;
    const choices = drive(gate, 40, (threads) => {
      if (threads) return 14;
      return oneThreadCalls++ === 0 ? 60 : 10;
    });
    // (one threaded retry in 16 calls: the gap is small)
    expect(count(choices.slice(5), true)).toBeLessThanOrEqual(3);
    // and an inflated threaded time among fast ones does not either
    const g2 = new ThreadGate();
    let threadedCalls = 0;
    const c2 = drive(g2, 40, (threads) => (threads ? (threadedCalls++ === 3 ? 80 : 8) : 12));
    expect(c2.slice(5).filter((t) => !t).length).toBeLessThanOrEqual(2);
  });

  it("follows a core getting busy and getting free again within a few calls after a retry", () => {
    const gate = new ThreadGate();
    let busy = false;
    const time = (threads: boolean) => (threads ? (busy ? 24 : 10) : 14);
    drive(gate, 40, time);
    expect(count(drive(gate, 8, time), true)).toBeGreaterThanOrEqual(7);
    busy = true;
    // The median of the 5 kept threaded times turns slow after 3 slow calls.
    const underLoad = drive(gate, 40, time);
    expect(underLoad.slice(0, 3).every((t) => t)).toBe(true);
    expect(count(underLoad.slice(3), false)).toBeGreaterThanOrEqual(36);
    busy = false;
    // The gap is large (24 against 14): the threads are retried within 64 calls; that
    // retry beats one thread, so it is repeated until the estimates swap.
    const freed = drive(gate, 80, time);
    const back = freed.indexOf(true);
    expect(back).toBeGreaterThanOrEqual(0);
    expect(back).toBeLessThan(64);
    // then one thread only on its retries, one call in 16 (the gap is small again)
    expect(count(freed.slice(back), false)).toBeLessThanOrEqual(Math.ceil((80 - back) / 16));
  });

  it("leaves out calls flagged as warm-up (a worker compiling), three in a row at most", () => {
    const events: ThreadGateEvent[] = [];
    setThreadGateTrace((e) => events.push(e));
    const gate = new ThreadGate("test kernel");
    for (let i = 0; i < 6; i++) {
      const threads = gate.useThreads();
      gate.record(threads, threads ? 50 : 14, true);
    }
    // the first threaded call, then three flagged ones, are not counted; the fifth is,
    // and the sixth (one thread: nothing to compile) too
    expect(events.map((e) => e.recorded)).toEqual([false, false, false, false, true, true]);
    expect(events.every((e) => e.label === "test kernel")).toBe(true);
    expect(events[5]!.threadsMs).toBe(50);
    expect(events[5]!.oneThreadMs).toBe(14);
  });

  it("always chooses the threads, and records nothing, when the measured choice is off", () => {
    setAdaptiveThreads(false);
    const gate = new ThreadGate();
    expect(drive(gate, 20, (threads) => (threads ? 50 : 1)).every((t) => t)).toBe(true);
    // turned on again, it starts from nothing: threads first
    setAdaptiveThreads(true);
    expect(drive(gate, 3, (threads) => (threads ? 50 : 1))).toEqual([true, true, false]);
  });
});
