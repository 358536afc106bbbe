/**
 * Memory stays bounded on the Wasm backend: 10,000 training steps of a small
 * MLP (jit-compiled value-and-grad, Adam), every kernel forced into Wasm.
 * After a warm-up, the Wasm memory must not grow at all (its arena is reused
 * by every call) and the JS heap, measured after a full collection, must
 * stay within a few MB of its post-warm-up size. The loss must also fall,
 * so the steps are real training steps.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { getRuntime } from "../src/backends/wasm/index.js";
import { jit, nn, np, optim, valueAndGrad } from "../src/index.js";
import { useBackendAtAllSizes } from "./helpers.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe("Wasm backend memory", () => {
  useBackendAtAllSizes("wasm");

  it("10,000 MLP training steps keep the JS heap and the Wasm memory bounded", () => {
    const random = nn.uniformGenerator(11);
    const n = 32;
    const pts: number[][] = [];
    const targets: number[][] = [];
    for (let i = 0; i < n; i++) {
      const [a, b] = [2 * random() - 1, 2 * random() - 1];
      pts.push([a, b]);
      targets.push([Math.sin(2 * a) * b]);
    }
    const x = np.array(pts);
    const y = np.array(targets);
    let params = nn.mlp([2, 16, 1], { seed: 5 });
    const loss = (p: nn.DenseParams[]) => nn.mse(nn.mlpApply(p, x, np.tanh), y);
    const step = jit(valueAndGrad(loss));
    const opt = optim.adam(0.01);
    let state = opt.init(params);
    const train = (steps: number): number => {
      let value = NaN;
      for (let i = 0; i < steps; i++) {
        const [v, g] = step(params);
        [params, state] = opt.update(g, state, params);
        if (i === steps - 1) value = v.item();
      }
      return value;
    };

    const first = train(1);
    train(999); // warm-up: compile, grow the arena to its working size
    const wasmBytes = getRuntime().memory.buffer.byteLength;
    const heap = heapAfterGc();
    const last = train(9000);
    const heapGrowth = heapAfterGc() - heap;

    expect(getRuntime().memory.buffer.byteLength).toBe(wasmBytes);
    expect(heapGrowth).toBeLessThan(8 * 2 ** 20);
    expect(last).toBeLessThan(first / 4);
  });
});
