/**
 * The page run by test/webgpu.test.ts in headless Chromium (bundled with
 * esbuild). Each case computes the same function of the same float32/int32
 * inputs on the js backend (synchronous reads) and on webgpu (asynchronous
 * reads); the test compares the two. Errors expected on webgpu (synchronous
 * reads, unsupported primitives, float64) are caught and returned as text.
 */
import { gpuBufferStats, gpuSubmitCount } from "../src/backends/webgpu/index.js";
import { ConcreteArray } from "../src/core/array.js";
import { makePrimitive, registeredPrimitives } from "../src/core/primitive.js";
import { stridesOf } from "../src/core/shape.js";
import { bind } from "../src/core/trace.js";
import { uniformGenerator } from "../src/core/random.js";
import {
  type Array as NdArray,
  getBackend,
  grad,
  jit,
  np,
  setBackend,
  special,
  vjp,
} from "../src/index.js";
import { div as divPrimitive } from "../src/primitives/elementwise.js";
import { portableExp } from "../src/primitives/portableMath.js";
import { SPEC_OF, type Spec, sample, uniform } from "./conformance-specs.js";
import { f32, values } from "./gpuInputs.js";

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

/** JS's Math.pow rules: negative bases (integer and non-integer exponents), zeros, signed zeros. */
const powBase = np.array([-2, -2, -0.5, 0, 0, -0, -0, 2, -8, 1, 0, -3], { dtype: "float32" });
const powExp = np.array([3, 2, 0.5, -1, 2, -3, 2, 0.5, 1 / 3, 7.5, 0, 0], { dtype: "float32" });
/** Small arguments of log1p/expm1, where log(1 + x) and exp(x) - 1 lose digits. */
const tiny = np.array(
  values(64, 14).map((v, i) => v * 10 ** -(1 + (i % 7))),
  { dtype: "float32" },
);
/** An embedding table and token ids with repeats (its gradient sums rows). */
const table = f32([10, 6], 15);
const tokens = np.array([3, 1, 3, -1, 0, 3, 9, 1], { dtype: "int32" });
/** Ties and a NaN for argmax/argmin (the first extreme wins; NaN wins). */
const tied = np.array(
  [
    [1, 5, 5, 0],
    [2, 2, 2, 2],
    [0, NaN, 7, NaN],
  ],
  { dtype: "float32" },
);

/** A chain of seven elementwise operations (one fused WGSL shader under jit). */
const chain = (p: NdArray, q: NdArray): NdArray =>
  np.multiply(np.tanh(np.subtract(np.exp(np.add(np.multiply(p, 0.5), q)), np.sin(p))), 2);
const jitChain = jit(chain);
/** The chain and its full sum (fused: one dispatch up to 65,536 elements, two beyond). */
const chainSum = (p: NdArray, q: NdArray): NdArray => np.sum(chain(p, q));
const jitChainSum = jit(chainSum);
/** z and sum(z) go from one fused shader to the next through the program's arena. */
const rescale = (p: NdArray): NdArray => {
  const z = np.multiply(p, 2);
  return np.multiply(z, np.sum(z));
};
const jitRescale = jit(rescale);
/** Ten operands in one group: more storage buffers than one shader may bind (split in two). */
const manyOperands = (...ps: NdArray[]): NdArray =>
  ps.reduce((acc, p, k) => np.add(acc, np.multiply(p, k + 1)));
const jitManyOperands = jit(manyOperands);
const tenOperands = Array.from({ length: 10 }, (_, k) => f32([3, 70], 20 + k));
const bigY = f32([1000, 300], 17);

/**
 * A structural primitive declared here (not registered), reversing the last
 * axis: on the host by a loop, on webgpu by its declared `device` rule (a
 * strided gather with a negative stride). webgpu knows nothing of it by name.
 */
const flipLast = makePrimitive<Record<string, never>>({
  name: "flipLast",
  linear: false,
  abstractEval: ([v]) => v!,
  impl([v]) {
    const n = v!.shape[v!.shape.length - 1]!;
    const out = ConcreteArray.zeros([...v!.shape], v!.dtype);
    for (let i = 0; i < out.size; i++) out.buffer[i] = v!.buffer[i - (i % n) + (n - 1 - (i % n))]!;
    return out;
  },
  jvp: () => null,
  batch: () => {
    throw new Error("not batched");
  },
  device(k, [v], _p, out) {
    const strides = stridesOf(v!.shape);
    const last = strides.length - 1;
    const n = v!.shape[last]!;
    return k.stridedGather(
      v!,
      out.shape,
      strides.map((st, d) => (d === last ? -st : st)),
      n - 1,
    );
  },
});

/** An unregistered elementwise primitive with only a float32 WGSL form (refused on int32). */
const floatOnlyForm = makePrimitive<Record<string, never>>({
  name: "floatOnlyForm",
  linear: false,
  abstractEval: ([v]) => v!,
  impl: ([v]) => v!,
  jvp: () => null,
  batch: () => {
    throw new Error("not batched");
  },
  elementwise: { scalar: (v) => v, wgsl: ([v]) => v! },
});

/** A bias row and a column scale broadcast into a [37, 53] product: one fused shader. */
const biasRelu = (h: NdArray, bias: NdArray, scale: NdArray): NdArray =>
  np.maximum(np.multiply(np.add(h, bias), scale), 0);
const jitBiasRelu = jit(biasRelu);
const biasRow = f32([53], 40);
const scaleColumn = f32([37, 1], 41);

/** A chain of seven 0-d operations: one fused shader of one element under jit. */
const scalarChain = (v: NdArray): NdArray =>
  np.divide(np.add(np.multiply(np.sin(v), 2), np.exp(v)), np.add(np.abs(v), 1));
const jitScalarChain = jit(scalarChain);
const scalarIn = np.array(0.7, { dtype: "float32" });

/**
 * jit of functions that close over arrays: an expression of host constants
 * (made before setBackend) is folded on the host while compiling for webgpu;
 * one of arrays already on the device is computed in the shader.
 */
const closedHost = (v: NdArray): NdArray => np.add(v, np.multiply(np.exp(row), 2));
const jitClosedHost = jit(closedHost);
const jitClosedDevice = (v: NdArray): NdArray => {
  const onBackend = np.exp(np.multiply(row, 0.5)); // a GPU array on webgpu
  return jit((w: NdArray) => np.add(w, np.multiply(onBackend, 2)))(v);
};

const jitted = jit((p: NdArray, q: NdArray) =>
  np.sum(np.exp(np.multiply(np.matmul(p, q), 0.5)), 0),
);
const jittedGrad = jit(
  grad((w: NdArray) => np.sum(np.multiply(np.matmul(a, w), np.exp(np.mean(w))))),
);

/**
 * A stack of `count` n x n float32 matrices, each a row permutation of a
 * diagonally dominant one (well conditioned): the dominant entries at
 * (i, (i + shift) mod n), so elimination must pivot unless shift = 0.
 */
function wellConditioned(count: number, n: number, seed: number, shift = 0): NdArray {
  const v = values(count * n * n, seed);
  for (let m = 0; m < count; m++) {
    for (let i = 0; i < n; i++) v[m * n * n + i * n + ((i + shift) % n)]! += n;
  }
  return np.array(v, { dtype: "float32" }).reshape([count, n, n]);
}
/** A stack of symmetric positive definite matrices B B^T / n + I (float32, on the host). */
function positiveDefinite(count: number, n: number, seed: number): NdArray {
  const v = values(count * n * n, seed);
  const out: number[] = [];
  for (let m = 0; m < count; m++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = i === j ? 1 : 0;
        for (let c = 0; c < n; c++)
          s += (v[m * n * n + i * n + c]! * v[m * n * n + j * n + c]!) / n;
        out.push(s);
      }
    }
  }
  return np.array(out, { dtype: "float32" }).reshape([count, n, n]);
}
const spd = positiveDefinite(3, 20, 50);
const wc16 = wellConditioned(4, 16, 51);
const pivoting16 = wellConditioned(4, 16, 58, 5);
const rhs16 = f32([4, 16, 3], 52);
const wc64 = wellConditioned(1, 64, 53, 17);

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
  gradSlice: () => grad((v: NdArray) => np.sum(np.square(v.slice([1, 3], [2, 50, 4]))))(x),
  astype: () => np.add(x, 1).astype("int32"),
  sumAll: () => np.sum(x),
  sumAxis0: () => np.sum(x, 0),
  sumAxis1: () => np.sum(x, 1),
  sumBig: () => np.sum(big),
  sumBigRows: () => np.sum(big, 1),
  // Few long rows: each row folded by several workgroups, then their partials.
  sumTwoLongRows: () => np.sum(np.reshape(big, [2, 150000]), 1),
  maxBigAll: () => np.max(big),
  minBigAll: () => np.min(np.reshape(big, [3, 100000]), 1),
  maxAxis0: () => np.max(big, 0),
  minAll: () => np.min(x),
  mean: () => np.mean(big, 0),
  matmul: () => np.matmul(a, b),
  matmulBatched: () => np.matmul(ba, bb),
  matmulTransposed: () => np.matmul(np.transpose(b), np.transpose(a)),
  // vec4 loads of both operands (k and n multiples of 4), batched too; several blocks with edges
  matmulVec4: () => np.matmul(f32([70, 64], 30), f32([64, 36], 31)),
  matmulVec4Batched: () => np.matmul(f32([2, 33, 8], 32), f32([2, 8, 12], 33)),
  matmulLarge: () => np.matmul(f32([130, 96], 34), f32([96, 132], 35)),
  matmulLargeTransposed: () =>
    np.matmul(np.transpose(f32([96, 130], 36)), np.transpose(f32([132, 96], 37))),
  int32Add: () => np.add(ia, ic),
  int32Mul: () => np.multiply(ia, ic),
  int32Matmul: () => np.matmul(ia, ib),
  int32Sum: () => np.sum(ia, 1),
  loopValue: () => np.sum(np.tanh(np.add(np.matmul(f32([64, 64], 12), f32([64], 13)), 0.5))),
  gradMatmul: () => grad((w: NdArray) => np.sum(np.square(np.matmul(a, w))))(b),
  jitted: () => jitted(a, b),
  jittedGrad: () => jittedGrad(b),
  powRules: () => np.power(powBase, powExp),
  powSample: () => np.power(np.add(np.abs(x), 0.1), np.multiply(y, 3)),
  int32Pow: () => np.power(ia, np.abs(np.remainder(ic, 4))),
  log1pTiny: () => np.log1p(tiny),
  expm1Tiny: () => np.expm1(tiny),
  erfWide: () => np.erf(np.multiply(x, 4)),
  int32Div: () => divPrimitive(ia, ic),
  int32Sign: () => np.sign(ia),
  int32FloorDivide: () => np.floorDivide(ia, ic),
  int32Mod: () => np.mod(ia, ic),
  int32Fmod: () => np.fmod(ia, ic),
  floatMod: () => np.mod(np.multiply(x, 7), y),
  floatFmod: () => np.fmod(np.multiply(x, 7), y),
  take: () => np.take(table, tokens, 0),
  takeAxis1: () => np.take(x, np.array([69, 0, 5, 5], { dtype: "int32" }), 1),
  embeddingGrad: () =>
    grad((w: NdArray) => np.sum(np.multiply(np.take(w, tokens, 0), f32([8, 6], 16))))(table),
  argmaxTies: () => np.argmax(tied, 1),
  argminTies: () => np.argmin(tied, 1),
  argmaxBig: () => np.argmax(big, 0),
  cumsumRows: () => np.cumsum(big, 1),
  cumsumAxis0: () => np.cumsum(x, 0),
  declaredDeviceRule: () => bind(flipLast, [x], {}),
  jitBiasRelu: () => jitBiasRelu(a, biasRow, scaleColumn),
  jitBiasReluEager: () => biasRelu(a, biasRow, scaleColumn),
  jitScalarChain: () => jitScalarChain(scalarIn),
  jitClosedHost: () => jitClosedHost(x),
  jitClosedDevice: () => jitClosedDevice(x),
  jitChain: () => jitChain(x, y),
  jitChainEager: () => chain(x, y),
  jitChainSum: () => jitChainSum(x, y),
  jitChainSumBig: () => jitChainSum(big, bigY),
  jitChainSumBigEager: () => chainSum(big, bigY),
  jitRescale: () => jitRescale(x),
  jitRescaleAgain: () => jitRescale(y),
  jitRescaleThird: () => jitRescale(np.negative(x)),
  jitManyOperands: () => jitManyOperands(...tenOperands),
  jitInt32: () =>
    jit((p: NdArray, q: NdArray) => np.add(np.multiply(p, q), np.floorDivide(p, 3)))(ia, ic),
  gradSin: () => grad((v: NdArray) => np.sum(np.multiply(np.sin(v), v)))(x),
  // The small dense solvers: one matrix per GPU thread.
  linalgSolve: () => np.linalg.solve(pivoting16, rhs16),
  linalgSolve64: () => np.linalg.solve(wc64, f32([1, 64, 2], 54)),
  linalgDet: () => np.linalg.det(wellConditioned(5, 6, 55, 1)),
  linalgSlogdet: () => np.concatenate(np.linalg.slogdet(pivoting16)),
  linalgCholesky: () => np.linalg.cholesky(spd),
  linalgTriangularLower: () => np.linalg.triangularSolve(wc16, rhs16),
  linalgTriangularUpper: () => np.linalg.triangularSolve(wc16, rhs16, { lower: false }),
  linalgGradLogdet: () => grad((m: NdArray) => np.sum(np.linalg.slogdet(m)[1]))(pivoting16),
  linalgGradCholesky: () => grad((m: NdArray) => np.sum(np.linalg.cholesky(m)))(spd),
  linalgJitSolve: () =>
    jit((m: NdArray, r: NdArray) => np.sum(np.square(np.linalg.solve(m, r)), 1))(pivoting16, rhs16),
};

export interface CaseResult {
  name: string;
  dtype: string;
  shape: number[];
  ref: number[];
  gpu: number[] | null;
  error: string | null;
}

/** A result with its reference values and nothing computed on webgpu yet. */
function pendingResult(
  name: string,
  x: number[],
  n: number[] | null,
  ref: number[],
): SpecialResult {
  return { name, x, n, ref, gpu: null, jit: null, jitDispatches: -1, error: null };
}

/** One registry entry evaluated on js and on webgpu: its value, and its VJP where differentiable. */
export interface ConformanceResult {
  name: string;
  /** Output dtype on js. */
  dtype: string;
  ref: number[];
  gpu: number[] | null;
  error: string | null;
  /** The cotangents of the differentiated operands (all concatenated), or null when not checked. */
  vjp: { ref: number[]; gpu: number[] | null; error: string | null } | null;
}

export interface PageResults {
  backend: string;
  cases: CaseResult[];
  conformance: ConformanceResult[];
  /** What np.sort (a multi-output primitive) says on webgpu. */
  multiOutput: string;
  /** A solver on a 65 x 65 matrix (beyond the webgpu kernels' n <= 64). */
  linalgTooLarge: string;
  syncData: string;
  syncItem: string;
  syncToString: string;
  unsupported: string;
  /** An elementwise primitive whose only WGSL form is float32, on int32. */
  wrongDtype: string;
  /** A jitted program with a refused primitive, and one on float64 operands. */
  jitUnsupported: string;
  jitFloat64: string;
  float64: string;
  astypeFloat32: number[];
  itemAsync: number;
  toArrayAsync: unknown;
  /** Compute dispatches of one call (after a first, compiling call), by case. */
  dispatches: Record<string, number>;
  /** Dispatches and submissions of a call of jit(grad(...)) (several steps, eager kernels included). */
  jittedGradCost: { dispatches: number; submits: number };
  /** The same gradient eagerly. */
  eagerGradCost: { dispatches: number; submits: number };
  /** The special functions on dense grids (specialGrids). */
  special: SpecialResult[];
  /** Gradients through them (specialGrads). */
  specialGrads: SpecialResult[];
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

/** float64 operands become float32 (WebGPU has no float64); others are kept. */
function toFloat32(x: ConcreteArray): ConcreteArray {
  if (x.dtype !== "float64") return x;
  return new ConcreteArray([...x.shape], "float32", Float32Array.from(x.buffer));
}

/** The registry suite's parameters, with float64 targets (convert) made int32 for webgpu. */
function paramsOf(spec: Spec): unknown {
  const params = (spec.params ?? {}) as { dtype?: string };
  return params.dtype === "float64" ? { ...params, dtype: "int32" } : params;
}

async function readAll(xs: readonly NdArray[]): Promise<number[]> {
  const out: number[] = [];
  for (const x of xs) out.push(...(await x.dataAsync()));
  return out;
}

/**
 * Every registered primitive on its conformance entry's operands (float32):
 * the value, and the VJP of the differentiated operands against a random
 * cotangent, on js (reference) and on webgpu.
 */
async function conformance(): Promise<ConformanceResult[]> {
  const results: ConformanceResult[] = [];
  for (const prim of registeredPrimitives()) {
    const spec = SPEC_OF.get(prim.name);
    if (spec === undefined) continue;
    const r = uniformGenerator(prim.name.split("").reduce((h, c) => h * 31 + c.charCodeAt(0), 7));
    setBackend("js");
    const args = spec.args(r).map(toFloat32);
    const params = paramsOf(spec);
    const isFloat = (a: ConcreteArray) => a.dtype === "float32";
    const diff = spec.diff ?? args.map((a, i) => (isFloat(a) ? i : -1)).filter((i) => i >= 0);
    const f = (...d: NdArray[]): NdArray => {
      const full: NdArray[] = args.slice();
      diff.forEach((k, i) => (full[k] = d[i]!));
      return bind(prim, full, params);
    };
    const refOut = bind(prim, args, params);
    const checkVjp =
      spec.nonDiff !== true &&
      spec.zeroDerivative !== true &&
      refOut.dtype === "float32" &&
      diff.length > 0;
    const u = checkVjp ? toFloat32(sample([...refOut.shape], uniform(-1, 1), r)) : null;
    const pullback = (): NdArray[] => vjp(f, ...diff.map((k) => args[k]!))[1](u!);
    const entry: ConformanceResult = {
      name: prim.name,
      dtype: refOut.dtype,
      ref: Array.from(refOut.data()),
      gpu: null,
      error: null,
      vjp: checkVjp
        ? { ref: pullback().flatMap((c) => Array.from(c.data())), gpu: null, error: null }
        : null,
    };
    await setBackend("webgpu");
    try {
      entry.gpu = Array.from(await bind(prim, args, params).dataAsync());
    } catch (e) {
      entry.error = String(e);
    }
    if (entry.vjp !== null) {
      try {
        entry.vjp.gpu = await readAll(pullback());
      } catch (e) {
        entry.vjp.error = String(e);
      }
    }
    results.push(entry);
  }
  return results;
}

/** A special function's grid: values and gradients on webgpu, eagerly and under jit. */
export interface SpecialResult {
  name: string;
  /** The float32 inputs x. */
  x: number[];
  /** The first other operand (polygamma's orders n, gammainc's and betainc's a), or null. */
  n: number[] | null;
  /** float64 on the js backend at the same (float32) inputs. */
  ref: number[];
  gpu: number[] | null;
  /** jit(v => f(v * 0.5)) at 2x: the fused WGSL lowering. */
  jit: number[] | null;
  /** Compute dispatches of that jitted call (after a first call). */
  jitDispatches: number;
  error: string | null;
}

function linspace(a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}
/** Points of a step between a and b, half a step off the ends (no integers for integer a, b). */
const between = (a: number, b: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => a + ((b - a) * (i + 0.5)) / n);
const powers = (from: number, to: number, step: number): number[] =>
  linspace(from, to, Math.round((to - from) / step) + 1).map((k) => 10 ** k);
const mirrored = (v: number[]): number[] => [...v, ...v.map((u) => -u)];
const nearOne = (k0: number, k1: number): number[] =>
  linspace(k0, k1, k1 - k0 + 1).flatMap((k) => [1 - 2 ** -k, 2 ** -k]);
const around = (c: number, k0: number, k1: number): number[] =>
  linspace(k0, k1, k1 - k0 + 1).flatMap((k) => [c + 2 ** -k, c - 2 ** -k]);

/**
 * Dense grids with their tails: where a float32 result underflows, poles
 * and zeros nearby, the far asymptotic ranges.
 */
const SPECIAL_GRIDS: [string, (v: NdArray) => NdArray, number[]][] = [
  ["erfc", special.erfc, linspace(-6, 10, 3201)],
  ["ndtr", special.ndtr, linspace(-14, 8, 2201)],
  ["logNdtr", special.logNdtr, [...linspace(-40, 12, 2601), -1e3, -1e5, -1e10, -1e18, -1e20, 1e3]],
  [
    "erfinv",
    special.erfinv,
    [
      ...linspace(-0.999, 0.999, 1999),
      ...mirrored(nearOne(1, 24)),
      ...mirrored(powers(-30, -1, 1)),
    ],
  ],
  [
    "ndtri",
    special.ndtri,
    [
      ...powers(-37, -0.3, 0.25),
      ...linspace(0.001, 0.999, 999),
      ...nearOne(2, 24).filter((p) => p > 0.5),
    ],
  ],
  [
    "lgamma",
    special.gammaln,
    [...linspace(0.01, 30, 3000), ...powers(-30, 35, 1), ...around(1, 2, 20), ...around(2, 2, 20)],
  ],
  ["lgammaNegative", special.gammaln, between(-20, 0, 4000)],
  [
    "digamma",
    special.digamma,
    [...linspace(0.01, 30, 3000), ...powers(-30, 30, 1), ...around(1.4616321449683622, 2, 22)],
  ],
  ["digammaNegative", special.digamma, between(-20, 0, 4000)],
  ["i0e", special.i0e, [...linspace(-60, 60, 2401), ...mirrored([1e3, 1e6, 1e-20])]],
  ["i1e", special.i1e, [...linspace(-60, 60, 2401), ...mirrored([1e3, 1e6, 1e-20])]],
];

/** Shapes a of the incomplete gamma grids, each at x = a t for t from 1e-2 to 4 and fixed x. */
const GAMMA_A = [0.05, 0.3, 0.9, 1, 2.5, 7, 15];
const GAMMA_LARGE_A = [60, 300, 5000];
const GAMMA_X = (a: number): number[] => [
  ...linspace(-2, 0.6, 40).map((e) => a * 10 ** e),
  ...[1e-3, 0.1, 1, 1.4, 2, 10, 50],
];

/** Orders 1..4 at x on (0.05, 40] and on (-5, 0) between the poles. */
const POLYGAMMA_X = [...linspace(0.05, 40, 800), ...between(-5, 0, 200)];

/** Pairs (a, b) of the incomplete beta grids (both >= 10: the Stirling prefactor), at x in (0, 1). */
const BETA_AB: [number, number][] = [
  [0.3, 0.5],
  [0.5, 3],
  [1, 1],
  [2, 5],
  [5, 2],
  [8, 0.7],
  [1.5, 40],
];
const BETA_LARGE_AB: [number, number][] = [
  [20, 30],
  [100, 40],
  [500, 800],
];
const BETA_X = [...linspace(0.002, 0.998, 250), 1e-6, 1e-4, 1 - 2 ** -20, 1 - 1e-4];

async function specialGrids(): Promise<SpecialResult[]> {
  const out: SpecialResult[] = [];
  // name, f(x, other operands), x, the other operands' values
  const entries: [string, (v: NdArray, ms: NdArray[]) => NdArray, number[], number[][]][] =
    SPECIAL_GRIDS.map(([name, f, xs]) => [name, (v: NdArray) => f(v), xs, []]);
  for (const [suffix, shapes] of [
    ["", GAMMA_A],
    ["LargeA", GAMMA_LARGE_A],
  ] as const) {
    const gammaA = shapes.flatMap((a) => GAMMA_X(a).map(() => a));
    const gammaX = shapes.flatMap(GAMMA_X);
    entries.push([`gammainc${suffix}`, (v, [a]) => special.gammainc(a!, v), gammaX, [gammaA]]);
    entries.push([`gammaincc${suffix}`, (v, [a]) => special.gammaincc(a!, v), gammaX, [gammaA]]);
  }
  for (const [suffix, pairs] of [
    ["", BETA_AB],
    ["LargeAB", BETA_LARGE_AB],
  ] as const) {
    entries.push([
      `betainc${suffix}`,
      (v, [a, b]) => special.betainc(a!, b!, v),
      pairs.flatMap(() => BETA_X),
      [pairs.flatMap(([a]) => BETA_X.map(() => a)), pairs.flatMap(([, b]) => BETA_X.map(() => b))],
    ]);
  }
  entries.push([
    "polygamma",
    (v, [n]) => special.polygamma(n!, v),
    [1, 2, 3, 4].flatMap(() => POLYGAMMA_X),
    [[1, 2, 3, 4].flatMap((n) => POLYGAMMA_X.map(() => n))],
  ]);
  for (const [name, f, raw, others] of entries) {
    const xs = Array.from(Float32Array.from(raw));
    setBackend("js");
    const operands = (dtype: "float32" | "float64") =>
      others.map((values) => np.array(values, { dtype }));
    const ref = Array.from(f(np.array(xs, { dtype: "float64" }), operands("float64")).data());
    await setBackend("webgpu");
    const result = pendingResult(name, xs, others[0] ?? null, ref);
    try {
      const v = np.array(xs, { dtype: "float32" });
      const ms = operands("float32");
      result.gpu = Array.from(await f(v, ms).dataAsync());
      // The other operands travel as arguments (constants closed over would be folded on the host).
      const jitted = jit((u: NdArray, ...rest: NdArray[]) => f(np.multiply(u, 0.5), rest));
      const doubled = np.multiply(v, 2);
      result.jit = Array.from(await jitted(doubled, ...ms).dataAsync());
      result.jitDispatches = await dispatchesOf(() => jitted(doubled, ...ms));
    } catch (e) {
      result.error = String(e);
    }
    out.push(result);
  }
  return out;
}

/**
 * Gradients through the special functions, whose derivative rules call
 * other special functions (lgamma' = digamma, digamma' = polygamma(1, .),
 * i0e' uses i1e, ...): grad of the sum on webgpu, eagerly and jitted,
 * against grad on js in float64 at the same float32 points.
 */
const SPECIAL_GRADS: [string, (v: NdArray) => NdArray, number[]][] = [
  ["gammaln", special.gammaln, linspace(0.05, 20, 400)],
  ["digamma", special.digamma, linspace(0.05, 20, 400)],
  ["erfc", special.erfc, linspace(-5, 5, 401)],
  ["logNdtr", special.logNdtr, linspace(-10, 6, 401)],
  ["erfinv", special.erfinv, linspace(-0.99, 0.99, 397)],
  ["ndtri", special.ndtri, linspace(0.01, 0.99, 99)],
  ["i0e", special.i0e, linspace(-30, 30, 401)],
  ["i1e", special.i1e, linspace(-30, 30, 401)],
];

async function specialGrads(): Promise<SpecialResult[]> {
  const out: SpecialResult[] = [];
  for (const [name, f, raw] of SPECIAL_GRADS) {
    const xs = Array.from(Float32Array.from(raw));
    const g = grad((v: NdArray) => np.sum(f(v)));
    setBackend("js");
    const ref = Array.from(g(np.array(xs, { dtype: "float64" })).data());
    await setBackend("webgpu");
    const result = pendingResult(name, xs, null, ref);
    try {
      const v = np.array(xs, { dtype: "float32" });
      result.gpu = Array.from(await g(v).dataAsync());
      const jitted = jit(g);
      result.jit = Array.from(await jitted(v).dataAsync());
      result.jitDispatches = await dispatchesOf(() => jitted(v));
    } catch (e) {
      result.error = String(e);
    }
    out.push(result);
  }
  return out;
}

function message(fn: () => unknown): string {
  try {
    fn();
    return "no error";
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** Dispatches encoded by one call of fn (after a first call that compiles and uploads). */
async function dispatchesOf(fn: () => NdArray): Promise<number> {
  return (await costOf(fn)).dispatches;
}

/** Dispatches and command-buffer submissions of one call of fn (after a first call). */
async function costOf(fn: () => NdArray): Promise<{ dispatches: number; submits: number }> {
  await fn().dataAsync();
  const before = gpuBufferStats().dispatches;
  const submitsBefore = gpuSubmitCount();
  const out = fn();
  const dispatches = gpuBufferStats().dispatches - before;
  const submits = gpuSubmitCount() - submitsBefore;
  await out.dataAsync();
  return { dispatches, submits };
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
  const results: Omit<PageResults, "loop" | "special" | "specialGrads"> & Partial<PageResults> = {
    backend: getBackend(),
    cases,
    conformance: [],
    multiOutput: message(() => np.sort(x)),
    linalgTooLarge: message(() => np.linalg.solve(wellConditioned(2, 65, 56), f32([2, 65, 1], 57))),
    jittedGradCost: await costOf(() => jittedGrad(b)),
    eagerGradCost: await costOf(() =>
      grad((w: NdArray) => np.sum(np.multiply(np.matmul(a, w), np.exp(np.mean(w)))))(b),
    ),
    dispatches: {
      jitChain: await dispatchesOf(() => jitChain(x, y)),
      jitScalarChain: await dispatchesOf(() => jitScalarChain(scalarIn)),
      eagerScalarChain: await dispatchesOf(() => scalarChain(scalarIn)),
      jitBiasRelu: await dispatchesOf(() => jitBiasRelu(a, biasRow, scaleColumn)),
      eagerChain: await dispatchesOf(() => chain(x, y)),
      jitChainSum: await dispatchesOf(() => jitChainSum(x, y)),
      jitChainSumBig: await dispatchesOf(() => jitChainSum(big, bigY)),
      jitRescale: await dispatchesOf(() => jitRescale(x)),
      jitManyOperands: await dispatchesOf(() => jitManyOperands(...tenOperands)),
    },
    syncData: message(() => onGpu.data()),
    syncItem: message(() => total.item()),
    syncToString: message(() => String(onGpu)),
    unsupported: message(() => portableExp(x)),
    wrongDtype: message(() => bind(floatOnlyForm, [ia], {})),
    jitUnsupported: message(() => jit((p: NdArray) => portableExp(np.multiply(p, 2)))(x)),
    jitFloat64: message(() => jit((p: NdArray) => np.sin(p))(np.array([1, 2]))),
    float64: message(() => np.add(np.array([1, 2]), 1)),
    astypeFloat32: Array.from(await np.add(np.array([1.5, 2]).astype("float32"), 1).dataAsync()),
    itemAsync: await total.itemAsync(),
    toArrayAsync: await np
      .transpose(np.reshape(np.arange(6).astype("float32"), [2, 3]))
      .toArrayAsync(),
  };
  // The loop first, while the pool holds few buffers; then the registry table.
  const withLoop: PageResults = {
    ...results,
    loop: await loop(),
    special: await specialGrids(),
    specialGrads: await specialGrads(),
  };
  withLoop.conformance = await conformance();
  setBackend("js");
  return withLoop;
}

(globalThis as { chainruleWebgpuChecks?: () => Promise<PageResults> }).chainruleWebgpuChecks = run;
