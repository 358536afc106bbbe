/**
 * The page run by test/webgpu.test.ts in headless Chromium (bundled with
 * esbuild). Each case computes the same function of the same float32/int32
 * inputs on the js backend (synchronous reads) and on webgpu (asynchronous
 * reads); the test compares the two. Errors expected on webgpu (synchronous
 * reads, unsupported primitives, float64) are caught and returned as text.
 */
import { gpuBufferStats } from "../src/backends/webgpu/index.js";
import { type Array as NdArray, getBackend, grad, jit, np, setBackend } from "../src/index.js";

/** Deterministic inputs: a linear congruential generator in [-1, 1). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(s / 2 ** 31 - 1);
  }
  return out;
}

function f32(shape: number[], seed: number): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(values(n, seed), { dtype: "float32" }).reshape(shape);
}

function i32(shape: number[], seed: number): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return np
    .array(
      values(n, seed).map((v) => Math.round(v * 50)),
      { dtype: "int32" },
    )
    .reshape(shape);
}

const x = f32([3, 70], 1);
const y = f32([3, 70], 2);
const row = f32([70], 3);
const big = f32([1000, 300], 4);
const a = f32([37, 53], 5);
const b = f32([53, 29], 6);
const ba = f32([3, 17, 20], 7);
const bb = f32([3, 20, 9], 8);
/** Ties of round (halves to even) and signed zeros of sign. */
const halves = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0, -0, 3.5], { dtype: "float32" });
const ia = i32([5, 6], 9);
const ib = i32([6, 4], 10);
const ic = i32([5, 6], 11);

const jitted = jit((p: NdArray, q: NdArray) =>
  np.sum(np.exp(np.multiply(np.matmul(p, q), 0.5)), 0),
);
const jittedGrad = jit(
  grad((w: NdArray) => np.sum(np.multiply(np.matmul(a, w), np.exp(np.mean(w))))),
);

/** name -> the function both backends evaluate. */
const CASES: Record<string, () => NdArray> = {
  add: () => np.add(x, y),
  sub: () => np.subtract(x, y),
  mul: () => np.multiply(x, y),
  div: () => np.divide(x, np.add(np.abs(y), 0.5)),
  neg: () => np.negative(x),
  abs: () => np.abs(x),
  sqrt: () => np.sqrt(np.abs(x)),
  exp: () => np.exp(x),
  log: () => np.log(np.add(np.abs(x), 0.1)),
  sin: () => np.sin(np.multiply(x, 3)),
  cos: () => np.cos(np.multiply(x, 3)),
  tan: () => np.tan(np.multiply(x, 1.4)),
  arcsin: () => np.arcsin(np.multiply(x, 0.99)),
  arccos: () => np.arccos(np.multiply(x, 0.99)),
  arctan: () => np.arctan(np.multiply(x, 10)),
  sinh: () => np.sinh(np.multiply(x, 3)),
  cosh: () => np.cosh(np.multiply(x, 3)),
  tanh: () => np.tanh(np.multiply(x, 20)),
  floor: () => np.floor(np.multiply(x, 5)),
  ceil: () => np.ceil(np.multiply(x, 5)),
  round: () => np.round(np.concatenate([np.multiply(x.reshape([-1]), 5), halves])),
  sign: () => np.sign(np.concatenate([x.reshape([-1]), halves])),
  arctan2: () => np.arctan2(x, y),
  maximum: () => np.maximum(x, y),
  minimum: () => np.minimum(x, y),
  less: () => np.less(x, y),
  equal: () => np.equal(np.multiply(x, 2).astype("int32"), 0),
  where: () => np.where(np.greater(x, 0), x, np.multiply(y, 10)),
  logicalAnd: () => np.logicalAnd(np.greater(x, 0), np.less(y, 0)),
  broadcast: () => np.add(np.multiply(x, row), 2),
  transpose: () => np.transpose(x),
  slice: () => x.slice(null, [1, 60, 3]),
  concatenate: () => np.concatenate([x, y, x.slice(null, [0, 5])], 1),
  // The transpose of a strided slice is a pad with interior zeros.
  gradSlice: () =>
    grad((v: NdArray) => np.sum(np.square(v.slice([1, 3], [2, 50, 4]))))(x) as NdArray,
  astype: () => np.add(x, 1).astype("int32"),
  sumAll: () => np.sum(x),
  sumAxis0: () => np.sum(x, 0),
  sumAxis1: () => np.sum(x, 1),
  sumBig: () => np.sum(big),
  sumBigRows: () => np.sum(big, 1),
  maxAxis0: () => np.max(big, 0),
  minAll: () => np.min(x),
  mean: () => np.mean(big, 0),
  matmul: () => np.matmul(a, b),
  matmulBatched: () => np.matmul(ba, bb),
  matmulTransposed: () => np.matmul(np.transpose(b), np.transpose(a)),
  int32Add: () => np.add(ia, ic),
  int32Mul: () => np.multiply(ia, ic),
  int32Matmul: () => np.matmul(ia, ib),
  int32Sum: () => np.sum(ia, 1),
  loopValue: () => np.sum(np.tanh(np.add(np.matmul(f32([64, 64], 12), f32([64], 13)), 0.5))),
  gradMatmul: () => grad((w: NdArray) => np.sum(np.square(np.matmul(a, w))))(b) as NdArray,
  jitted: () => jitted(a, b),
  jittedGrad: () => jittedGrad(b) as NdArray,
  gradSin: () => grad((v: NdArray) => np.sum(np.multiply(np.sin(v), v)))(x) as NdArray,
};

export interface CaseResult {
  name: string;
  dtype: string;
  shape: number[];
  ref: number[];
  gpu: number[] | null;
  error: string | null;
}

export interface PageResults {
  backend: string;
  cases: CaseResult[];
  syncData: string;
  syncItem: string;
  syncToString: string;
  unsupported: string;
  float64: string;
  astypeFloat32: number[];
  itemAsync: number;
  toArrayAsync: unknown;
  /** A loop of STEPS steps of about 6 new buffers each, with reads, collections and task breaks. */
  loop: { steps: number; value: number; createdBefore: number; createdAfter: number };
}

const STEPS = 200;

/**
 * Buffers are recycled: each step needs about 6 (the product, the uploaded
 * and the broadcast constant, the sum, tanh, the total); once the collector
 * has run and the finalizers (separate tasks) have returned them to the
 * pool, later steps reuse them, so far fewer than 6 * STEPS are created.
 */
async function loop(): Promise<PageResults["loop"]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const w = f32([64, 64], 12);
  const v = f32([64], 13);
  const createdBefore = gpuBufferStats().created;
  let value = 0;
  for (let step = 0; step < STEPS; step++) {
    value = await np.sum(np.tanh(np.add(np.matmul(w, v), 0.5))).itemAsync();
    if (step % 20 === 19) {
      gc?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  return { steps: STEPS, value, createdBefore, createdAfter: gpuBufferStats().created };
}

function message(fn: () => unknown): string {
  try {
    fn();
    return "no error";
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

async function run(): Promise<PageResults> {
  const cases: CaseResult[] = [];
  for (const [name, fn] of Object.entries(CASES)) {
    setBackend("js");
    const refArray = fn();
    const ref = Array.from(refArray.data());
    await setBackend("webgpu");
    let gpu: number[] | null = null;
    let error: string | null = null;
    try {
      gpu = Array.from(await fn().dataAsync());
    } catch (e) {
      error = String(e);
    }
    cases.push({ name, dtype: refArray.dtype, shape: [...refArray.shape], ref, gpu, error });
  }
  await setBackend("webgpu");
  const onGpu = np.add(x, y);
  const total = np.sum(onGpu);
  const results: Omit<PageResults, "loop"> & Partial<PageResults> = {
    backend: getBackend(),
    cases,
    syncData: message(() => onGpu.data()),
    syncItem: message(() => total.item()),
    syncToString: message(() => String(onGpu)),
    unsupported: message(() => np.erf(x)),
    float64: message(() => np.add(np.array([1, 2]), 1)),
    astypeFloat32: Array.from(await np.add(np.array([1.5, 2]).astype("float32"), 1).dataAsync()),
    itemAsync: await total.itemAsync(),
    toArrayAsync: await np
      .transpose(np.reshape(np.arange(6).astype("float32"), [2, 3]))
      .toArrayAsync(),
  };
  const withLoop: PageResults = { ...results, loop: await loop() };
  setBackend("js");
  return withLoop;
}

(globalThis as { chainruleWebgpuChecks?: () => Promise<PageResults> }).chainruleWebgpuChecks = run;
