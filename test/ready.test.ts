/**
 * ready(), getBackend() and the asynchronous reads. Where the engine refuses
 * to compile WebAssembly (a page whose CSP lacks 'wasm-unsafe-eval', imitated
 * here by making WebAssembly.Module and WebAssembly.compile throw before the
 * library loads), getBackend() must say "js", warn once, and every result
 * must still be right.
 */
import { afterEach, describe, expect, it, vi } from "vitest";

describe("ready and getBackend", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.resetModules();
  });

  it("ready() resolves with the Wasm module compiled; arrays read asynchronously", async () => {
    const cr = await import("../src/index.js");
    await cr.ready();
    const wasm = await import("../src/backends/wasm/index.js");
    if (wasm.wasmAvailable()) {
      expect(cr.getBackend()).toBe("wasm");
      expect(wasm.tryRuntime()).toBeDefined();
    }
    const x = cr.np.array(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "float32" },
    );
    expect(await x.toArrayAsync()).toEqual(x.toArray());
    expect([...(await x.dataAsync())]).toEqual([1, 2, 3, 4]);
    expect(await x.sum().itemAsync()).toBe(10);
    await expect(x.itemAsync()).rejects.toThrow(/expected an array with one element/);
  });

  it("a refused Wasm compilation reports the JS backend, warns once, and computes right", async () => {
    const refuse = () => {
      throw new WebAssembly.CompileError("Wasm code generation disallowed by embedder");
    };
    vi.spyOn(WebAssembly, "Module").mockImplementation(refuse);
    vi.spyOn(WebAssembly, "compile").mockImplementation(() =>
      Promise.reject(new WebAssembly.CompileError("refused")),
    );
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const cr = await import("../src/index.js");
    const wasm = await import("../src/backends/wasm/index.js");
    if (!wasm.wasmAvailable()) return;
    // A kernel triggers the compilation; it runs in JS meanwhile.
    const a = cr.np.ones([40, 40]);
    expect(cr.np.matmul(a, a).sum().item()).toBe(40 * 40 * 40);
    await cr.ready();
    expect(cr.getBackend()).toBe("js");
    expect(cr.getBackend()).toBe("js");
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/wasm-unsafe-eval/);
    const g = cr.grad((x: InstanceType<typeof cr.Array>) => cr.np.sum(cr.np.sin(x)))(
      cr.np.array([0, 1]),
    );
    expect(g.toArray()).toEqual([1, Math.cos(1)]);
  });
});
