/**
 * The webgpu backend in Node through the optional `webgpu` npm package
 * (Dawn's Node bindings), which provides `navigator.gpu` when installed as
 * below. Not a dependency: the test is skipped, with the reason printed,
 * where the package is not installed or Dawn finds no adapter. To run it on
 * a machine without a GPU, give Dawn Chromium's SwiftShader Vulkan driver:
 *
 *   npm install --no-save webgpu
 *   LD_LIBRARY_PATH=/usr/lib/chromium \
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
 *   npx vitest run test/webgpu-node.test.ts
 *
 * Each case is computed on the js backend and on webgpu, and the two must
 * agree within float32 roundoff; the W2 loss is checked against the plain-JS
 * float64 loss of bench/web/workloads.ts.
 */
import { afterAll, describe, expect, it } from "vitest";
import { type Array as NdArray, getBackend, grad, jit, nn, np, setBackend } from "../src/index.js";
import { makeMlpData, plainMlpLoss } from "../bench/web/workloads.js";
import { f32 } from "./gpuInputs.js";

interface DawnModule {
  create: (flags: string[]) => { requestAdapter: () => Promise<unknown> };
  globals: Record<string, unknown>;
}

/** Loads the optional package and finds an adapter; null and the reason where it cannot. */
async function nodeGpu(): Promise<{ gpu: unknown; reason: null } | { gpu: null; reason: string }> {
  // a variable specifier: the package is optional and has no types here
  const name = "webgpu";
  let dawn: DawnModule;
  try {
    dawn = (await import(name)) as DawnModule;
  } catch {
    return { gpu: null, reason: "the optional `webgpu` package is not installed" };
  }
  const gpu = dawn.create([]);
  if ((await gpu.requestAdapter()) === null) {
    return {
      gpu: null,
      reason:
        "Dawn found no WebGPU adapter (no Vulkan driver; see the comment at the top of this file)",
    };
  }
  Object.assign(globalThis, dawn.globals);
  return { gpu, reason: null };
}

const found = await nodeGpu();
if (found.gpu === null) console.log(`webgpu-node.test.ts skipped: ${found.reason}`);

describe.skipIf(found.gpu === null)("webgpu in Node through the `webgpu` package (Dawn)", () => {
  const g = globalThis as { navigator?: object };
  const hadNavigator = "navigator" in g;
  const before = getBackend();

  afterAll(() => {
    setBackend(before);
  });

  it("setBackend('webgpu') finds navigator.gpu and computes on the GPU", async () => {
    if (hadNavigator) Object.defineProperty(g.navigator, "gpu", { value: found.gpu });
    else Object.defineProperty(g, "navigator", { value: { gpu: found.gpu }, configurable: true });
    await setBackend("webgpu");
    expect(getBackend()).toBe("webgpu");
    const onGpu = np.add(f32([3], 1), 1);
    // a GPU array has no synchronous read: proof that it lives on the device
    expect(() => onGpu.data()).toThrow(/dataAsync/);
  });

  const a = f32([37, 53], 2);
  const b = f32([53, 29], 3);
  const big = f32([300, 1000], 4);
  const cases: Record<string, () => NdArray> = {
    matmul: () => np.matmul(a, b),
    sumRows: () => np.sum(big, 1),
    tanhExp: () => np.tanh(np.multiply(np.exp(a), 0.5)),
    gradMatmul: () => grad((w: NdArray) => np.sum(np.tanh(np.matmul(a, w))))(b),
    jitted: () => jit((p: NdArray, q: NdArray) => np.sum(np.square(np.matmul(p, q)), 0))(a, b),
  };

  for (const [name, fn] of Object.entries(cases)) {
    it(`${name} agrees with the js backend`, async () => {
      setBackend("js");
      const ref = fn().data();
      await setBackend("webgpu");
      const gpu = await fn().dataAsync();
      expect(gpu.length).toBe(ref.length);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) {
        worst = Math.max(worst, Math.abs(gpu[i]! - ref[i]!) / Math.max(1, Math.abs(ref[i]!)));
      }
      expect(worst).toBeLessThan(2e-4);
    });
  }

  it("the W2 loss on webgpu equals the plain-JS float64 loss", async () => {
    await setBackend("webgpu");
    const d = makeMlpData({ batch: 16, nIn: 40, nHidden: 24, nOut: 6 });
    const { batch, nIn, nHidden, nOut } = d.sizes;
    const arr = (data: Float32Array, shape: number[]) => np.array(data, { shape });
    const h = nn.relu(
      np.add(np.matmul(arr(d.x, [batch, nIn]), arr(d.w1, [nIn, nHidden])), arr(d.b1, [nHidden])),
    );
    const logits = np.add(np.matmul(h, arr(d.w2, [nHidden, nOut])), arr(d.b2, [nOut]));
    const y = arr(d.yOneHot, [batch, nOut]);
    const loss = np.negative(np.mean(np.sum(np.multiply(y, nn.logSoftmax(logits)), 1)));
    const reference = plainMlpLoss(d);
    expect(Math.abs((await loss.itemAsync()) - reference) / reference).toBeLessThan(1e-5);
  });
});
