/**
 * The Wasm worker program is TypeScript serialised with toString(): its text
 * must evaluate on its own, in a context with nothing but the standard
 * globals (as in a fresh worker), to a one-argument function.
 */
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { runKernelWorker, workerSource } from "../src/backends/wasm/workerProgram.js";

describe("wasm worker source", () => {
  it("evaluates in an empty context to the worker function", () => {
    const fn: unknown = runInNewContext(workerSource(), {});
    expect(typeof fn).toBe("function");
    expect((fn as (start: unknown) => void).length).toBe(runKernelWorker.length);
    expect(String(fn)).toBe(runKernelWorker.toString());
  });
});
