/**
 * The Wasm backend: the emitter (LEB128 against the spec's worked examples,
 * tiny modules validated and run against plain JS), and every kernel of the
 * backend against the JS reference backend on random inputs — bit-exact
 * where IEEE 754 rounds exactly (add/sub/mul/div/neg/abs/sqrt, float64
 * matmul without FMA), within a float32 tolerance otherwise — on odd sizes
 * that are not multiples of the register tile, batched, and split across
 * worker threads.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DType, TypedArray } from "../src/core/dtype.js";
import { jsBackend } from "../src/backends/js.js";
import {
  Code,
  F64,
  I32,
  ModuleBuilder,
  Op,
  Simd,
  V128,
  hasSimd,
  signedLeb,
  unsignedLeb,
} from "../src/backends/wasm/emitter.js";
import {
  createWasmBackend,
  getRuntime,
  startWasmThreads,
  stopWasmThreads,
  wasmThreadCount,
} from "../src/backends/wasm/index.js";
import { getBackend, np, setBackend } from "../src/index.js";
import {
  groupBytesFor,
  holdWasmWorkers,
  parallelGemm,
  parallelGroup,
  sharedGroupModule,
  usableWorkers,
} from "../src/backends/wasm/threads.js";
import { alloc, resetArena } from "../src/backends/wasm/runtime.js";
import { setAdaptiveThreads } from "../src/backends/wasm/threadGate.js";
import { elementKernel, rng } from "./helpers.js";
import { addOneFunction } from "./wasmGroupFixture.js";

type Exports = Record<string, (...args: number[]) => number>;
function instantiate(mb: ModuleBuilder): Exports {
  const bytes = mb.finish();
  expect(WebAssembly.validate(bytes)).toBe(true);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  return inst.exports as unknown as Exports;
}

describe("emitter", () => {
  it("encodes LEB128 as in the DWARF/Wasm specification examples", () => {
    const u: number[] = [];
    unsignedLeb(u, 624485);
    expect(u).toEqual([0xe5, 0x8e, 0x26]);
    const s: number[] = [];
    signedLeb(s, -123456);
    expect(s).toEqual([0xc0, 0xbb, 0x78]);
    const small: number[] = [];
    signedLeb(small, -1);
    signedLeb(small, 63);
    signedLeb(small, 64);
    expect(small).toEqual([0x7f, 0x3f, 0xc0, 0x00]);
  });

  it("builds a module whose i32 function computes what JS computes", () => {
    const mb = new ModuleBuilder();
    mb.addFunction("affine", [I32, I32], [I32], (c) => {
      c.get(0).i32(-7).op(Op.i32_mul).get(1).op(Op.i32_add);
    });
    const ex = instantiate(mb);
    for (const [a, b] of [
      [3, 4],
      [-100000, 99],
      [2 ** 30, 5],
    ])
      expect(ex.affine!(a!, b!)).toBe((Math.imul(a!, -7) + b!) | 0);
  });

  it("runs a loop with imported functions and memory (sum of sin over a vector)", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const mb = new ModuleBuilder();
    const sin = mb.importFunction("env", "sin", [F64], [F64]);
    mb.importMemory({ module: "env", field: "memory", initial: 1 });
    mb.addFunction("sumSin", [I32, I32], [F64], (c: Code) => {
      const [ptr, n] = [0, 1];
      const i = c.local(I32);
      const acc = c.local(F64);
      c.f64(0).set(acc).i32(0).set(i);
      c.forLoop(i, n, 1, () => {
        c.get(acc).get(ptr).mem(0x2b, 3).call(sin).op(Op.f64_add).set(acc);
        c.inc(ptr, 8);
      });
      c.get(acc);
    });
    const bytes = mb.finish();
    const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      env: { memory, sin: Math.sin },
    }).exports as unknown as Exports;
    const xs = new Float64Array(memory.buffer, 0, 37);
    const r = rng(5);
    for (let i = 0; i < xs.length; i++) xs[i] = 10 * r() - 5;
    let expected = 0;
    for (const x of xs) expected += Math.sin(x);
    expect(ex.sumSin!(0, xs.length)).toBe(expected);
  });

  it("emits SIMD instructions (f32x4 multiply-add, lane extraction)", () => {
    expect(hasSimd()).toBe(true);
    const mb = new ModuleBuilder();
    mb.addFunction("dotLane", [F64, F64], [F64], (c) => {
      const v = c.local(V128);
      c.get(0).simd(Simd.f64x2_splat).get(1).simd(Simd.f64x2_splat).simd(Simd.f64x2_mul).set(v);
      c.get(v).get(v).simd(Simd.f64x2_add).simd(Simd.f64x2_extract_lane);
      c.op(1); // lane index immediate
    });
    const ex = instantiate(mb);
    expect(ex.dotLane!(1.5, -3.25)).toBe(2 * (1.5 * -3.25));
  });

  it("produces modules the engine rejects when the code is ill-typed", () => {
    const mb = new ModuleBuilder();
    mb.addFunction("bad", [], [I32], (c) => {
      c.f64(1); // an f64 where an i32 result is declared
    });
    expect(WebAssembly.validate(mb.finish())).toBe(false);
  });
});

// ------------------------------------------------------ backend kernels --

const wasm = createWasmBackend({
  minElements: 0,
  minMatmulWork: 0,
  elementwiseDTypes: ["float32", "float64"],
});

function randomArray(dtype: "float32" | "float64", n: number, r: () => number): TypedArray {
  const x = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = 4 * r() - 2;
  return x;
}

function expectSame(actual: TypedArray, expected: TypedArray): void {
  expect(actual.constructor).toBe(expected.constructor);
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]))
      expect.fail(`element ${i}: wasm ${actual[i]}, js ${expected[i]}`);
  }
}

function expectClose(actual: TypedArray, expected: TypedArray, rtol: number): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (const e of expected) scale = Math.max(scale, Math.abs(e));
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= rtol * (scale + 1)))
      expect.fail(`element ${i}: wasm ${actual[i]}, js ${expected[i]} (rtol ${rtol})`);
  }
}

const SIZES = [0, 1, 3, 4, 17, 1000];
const FLOATS = ["float32", "float64"] as const;

describe("wasm backend kernels against the JS reference", () => {
  const r = rng(11);
  for (const dtype of FLOATS) {
    it(`elementwise binary ops on ${dtype} are bit-exact`, () => {
      for (const name of ["add", "sub", "mul", "div", "max", "pow", "lt"])
        for (const n of SIZES) {
          const a = randomArray(dtype, n, r);
          const b = randomArray(dtype, n, r);
          const op = elementKernel(name);
          const outDType: DType = name === "lt" ? "bool" : dtype;
          expectSame(wasm.binary(op, a, b, outDType), jsBackend.binary(op, a, b, outDType));
        }
    });

    it(`elementwise unary ops on ${dtype}: arithmetic bit-exact, exp/log/sin/cos within 2 ulp`, () => {
      const ulp = dtype === "float32" ? 2 ** -23 : 2 ** -52;
      for (const op of ["neg", "abs", "sqrt", "tanh", "sin", "cos", "exp", "log"])
        for (const n of SIZES) {
          const x = randomArray(dtype, n, r);
          if (op === "sqrt" || op === "log") x.forEach((v, i) => (x[i] = Math.abs(v)));
          const got = wasm.unary(elementKernel(op), x, dtype);
          const want = jsBackend.unary(elementKernel(op), x, dtype);
          if (["sin", "cos", "exp", "log"].includes(op)) {
            expect(got.length).toBe(want.length);
            // |error| <= 2 ulp of the result (the Wasm kernels' accuracy, wasm-math.test.ts)
            got.forEach((g, i) => {
              const w = want[i]!;
              const unit = 2 ** Math.floor(Math.log2(Math.max(Math.abs(w), 1e-300))) * ulp;
              if (!(Math.abs(g - w) <= 2 * unit)) expect.fail(`${op}(${x[i]}): wasm ${g}, js ${w}`);
            });
          } else expectSame(got, want);
        }
    });

    it(`matmul on ${dtype} matches for sizes off the register tile`, () => {
      const shapes = [
        [1, 1, 1, 1],
        [1, 3, 17, 5],
        [2, 17, 3, 65],
        [1, 65, 65, 17],
        [3, 5, 1, 9],
        [1, 33, 300, 7],
        [1, 4, 8, 8],
      ];
      for (const [batch, m, k, n] of shapes) {
        const a = randomArray(dtype, batch! * m! * k!, r);
        const b = randomArray(dtype, batch! * k! * n!, r);
        const got = wasm.matmul(a, b, batch!, m!, k!, n!, dtype);
        const want = jsBackend.matmul(a, b, batch!, m!, k!, n!, dtype);
        // float64: the same products summed in the same order (no FMA) -> exact.
        // float32: rounding of relaxed FMA where available; |error| <~ k * eps * |a||b|.
        if (dtype === "float64" && !getRuntime().relaxed) expectSame(got, want);
        else expectClose(got, want, dtype === "float32" ? 1e-5 * Math.sqrt(k!) : 1e-13);
      }
    });

    it(`matmul on ${dtype} with transposeA / transposeB equals the product of the transposes`, () => {
      // A plain-loop transpose of one [batch, rows, cols] stack.
      const transposed = (x: TypedArray, batch: number, rows: number, cols: number) => {
        const out = dtype === "float32" ? new Float32Array(x.length) : new Float64Array(x.length);
        for (let p = 0; p < batch; p++)
          for (let i = 0; i < rows; i++)
            for (let j = 0; j < cols; j++)
              out[p * rows * cols + j * rows + i] = x[p * rows * cols + i * cols + j]!;
        return out;
      };
      const shapes = [
        [1, 1, 1, 1],
        [1, 3, 17, 5],
        [2, 17, 3, 65],
        [1, 65, 66, 17],
        [2, 5, 1, 9],
        [1, 33, 130, 7],
      ];
      for (const [batch, m, k, n] of shapes)
        for (const transposeA of [false, true])
          for (const transposeB of [false, true]) {
            // Stored layouts: A [m, k] or [k, m]; B [k, n] or [n, k].
            const aStored = randomArray(dtype, batch! * m! * k!, r);
            const bStored = randomArray(dtype, batch! * k! * n!, r);
            const a = transposeA ? transposed(aStored, batch!, k!, m!) : aStored;
            const b = transposeB ? transposed(bStored, batch!, n!, k!) : bStored;
            const args = [batch!, m!, k!, n!, dtype] as const;
            // Packing from the stored layout gives the same panels: same bits.
            expectSame(
              wasm.matmul(aStored, bStored, ...args, transposeA, transposeB),
              wasm.matmul(a, b, ...args),
            );
            // The JS reference with flags sums like the JS reference on the transposes.
            expectSame(
              jsBackend.matmul(aStored, bStored, ...args, transposeA, transposeB),
              jsBackend.matmul(a, b, ...args),
            );
          }
    });
  }

  const ALL = ["float64", "float32", "int32", "bool"] as const;
  function anyArray(dtype: DType, n: number): TypedArray {
    if (dtype === "float32" || dtype === "float64") return randomArray(dtype, n, r);
    const x = dtype === "int32" ? new Int32Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++)
      x[i] = dtype === "int32" ? Math.floor(200 * r()) - 100 : +(r() < 0.5);
    return x;
  }

  it("stridedGather (transpose, broadcast, slice, flip) is bit-exact for every dtype", () => {
    for (const dtype of ALL) {
      const x = anyArray(dtype, 60); // viewed as [3, 4, 5]
      const cases: [number[], number[], number][] = [
        [[5, 4, 3], [1, 5, 20], 0], // transpose
        [[3, 4, 5], [20, 5, 1], 0], // copy
        [[2, 3, 4, 5], [0, 20, 5, 1], 0], // broadcast a new leading axis
        [[3, 2, 2], [20, 10, 2], 6], // slice with steps
        [[3, 4], [-20, -5], 59], // flip
        [[7], [0], 13], // broadcast one element
        [[1, 1, 60], [0, 0, 1], 0],
      ];
      for (const [shape, strides, offset] of cases)
        expectSame(
          wasm.stridedGather(x, shape, strides, offset, dtype),
          jsBackend.stridedGather(x, shape, strides, offset, dtype),
        );
    }
  });

  it("stridedScatterAdd (pad, overlapping adds, into) is bit-exact", () => {
    for (const dtype of ["float64", "float32", "int32"] as const) {
      const x = anyArray(dtype, 12); // [3, 4]
      const cases: [number[], number, number[], number][] = [
        [[3, 4], 30, [6, 1], 7], // pad [3, 4] into [5, 6]
        [[3, 4], 4, [0, 1], 0], // sum over axis 0 (overlapping adds)
        [[3, 4], 12, [1, 3], 0], // transposed write
      ];
      for (const [shape, outSize, strides, offset] of cases) {
        expectSame(
          wasm.stridedScatterAdd(x, shape, outSize, strides, offset, dtype),
          jsBackend.stridedScatterAdd(x, shape, outSize, strides, offset, dtype),
        );
        const into1 = anyArray(dtype, outSize);
        const into2 = into1.slice();
        const got = wasm.stridedScatterAdd(x, shape, outSize, strides, offset, dtype, into1);
        expect(got).toBe(into1);
        expectSame(
          got,
          jsBackend.stridedScatterAdd(x, shape, outSize, strides, offset, dtype, into2),
        );
      }
    }
  });

  it("sum reductions over any axes are bit-exact (same order as the JS reference)", () => {
    for (const dtype of ["float64", "float32", "int32"] as const) {
      const shape = [4, 3, 5, 2];
      const x = anyArray(dtype, 120);
      for (const axes of [[0], [1], [3], [0, 2], [1, 2, 3], [0, 1, 2, 3]])
        expectSame(
          wasm.reduce("sum", x, shape, axes, dtype),
          jsBackend.reduce("sum", x, shape, axes, dtype),
        );
    }
    const x = randomArray("float64", 24, r);
    expectSame(
      wasm.reduce("max", x, [2, 3, 4], [1], "float64"),
      jsBackend.reduce("max", x, [2, 3, 4], [1], "float64"),
    );
  });

  it("delegates integer matmul and cumsum to the JS reference unchanged", () => {
    const i = new Int32Array([1, 2, 3, 4, 5, 6]);
    expectSame(wasm.matmul(i, i, 1, 2, 3, 2, "int32"), jsBackend.matmul(i, i, 1, 2, 3, 2, "int32"));
    const x = randomArray("float64", 24, r);
    expectSame(
      wasm.cumsum(x, [4, 6], 1, true, "float64"),
      jsBackend.cumsum(x, [4, 6], 1, true, "float64"),
    );
  });
});

describe("wasm worker threads", () => {
  // These test the thread protocol: every product large enough uses the workers.
  beforeAll(() => setAdaptiveThreads(false));
  afterAll(async () => {
    setAdaptiveThreads(true);
    await stopWasmThreads();
  });

  it("reports a trap in a share as an error after all shares are done", async () => {
    const rt = getRuntime();
    expect(await startWasmThreads(rt, 1)).toBeGreaterThan(0);
    // Two row panels of a 4 x 8 float32 tile (128 bytes each), C placed so
    // that the first panel fits in memory and the second runs past its end;
    // whichever thread takes the second panel traps. The worker is held
    // before its job, so that the calling thread takes it: a worker that
    // took it and trapped late would not be waited for (the caller redoes a
    // late worker's chunk in a spare block, where it does not trap).
    holdWasmWorkers("beforeJob");
    const end = rt.memory.buffer.byteLength;
    const aOperand = { raw: 3072, pack: 1024, m: 8, transposed: false, prepare: () => {} };
    const call = () =>
      parallelGemm(
        rt,
        "float32",
        aOperand,
        { pack: 2048, prepare: () => {} },
        end - 192,
        1,
        1,
        2,
        1 << 30,
      );
    expect(call).toThrow(/the calling thread trapped in its share of a float32 matmul/);
    holdWasmWorkers("none");
    // The pool still works afterwards.
    const r = rng(4);
    const a = randomArray("float32", 100 * 110, r);
    const b = randomArray("float32", 110 * 100, r);
    expectClose(
      wasm.matmul(a, b, 1, 100, 110, 100, "float32"),
      jsBackend.matmul(a, b, 1, 100, 110, 100, "float32"),
      1e-5 * Math.sqrt(110),
    );
  });

  it.skipIf(typeof process.getBuiltinModule !== "function")(
    "a synchronous loop gets the workers (no await needed to start them)",
    async () => {
      await stopWasmThreads();
      const rt = getRuntime();
      expect(usableWorkers(rt)).toBe(0);
      // The first large kernel creates the pool; the workers get ready on
      // their own threads while this loop never yields to the event loop.
      const r = rng(5);
      const [m, k, n] = [128, 128, 128];
      const a = randomArray("float32", m * k, r);
      const b = randomArray("float32", k * n, r);
      const want = jsBackend.matmul(a, b, 1, m, k, n, "float32");
      const t0 = performance.now();
      let ready = 0;
      while (ready === 0 && performance.now() - t0 < 10000) {
        expectClose(wasm.matmul(a, b, 1, m, k, n, "float32"), want, 1e-5 * Math.sqrt(k));
        ready = usableWorkers(rt);
      }
      expect(ready).toBeGreaterThan(0);
      expectClose(wasm.matmul(a, b, 1, m, k, n, "float32"), want, 1e-5 * Math.sqrt(k));
    },
  );

  it("workers wait for A and B, which the caller puts in place after starting them", async () => {
    const rt = getRuntime();
    expect(await startWasmThreads(rt, 1)).toBeGreaterThan(0);
    await untilWorkersFree(rt, 1);
    // A [16, 3] @ B [3, 8] float32: 4 row panels of 4 (one chunk each), 1 column panel of 8.
    const [m, k, n] = [16, 3, 8];
    const r = rng(8);
    const a = randomArray("float32", m * k, r);
    const b = randomArray("float32", k * n, r);
    resetArena(rt);
    const aRaw = alloc(rt, 4 * m * k);
    const aPack = alloc(rt, 4 * m * k);
    const bRaw = alloc(rt, 4 * k * n);
    const bPack = alloc(rt, 4 * k * n);
    const cPtr = alloc(rt, 4 * m * n);
    const slowB = {
      pack: bPack,
      prepare: () => {
        // A worker that did not wait would multiply by the NaNs left here.
        new Float32Array(rt.memory.buffer, bPack, k * n).fill(NaN);
        for (const t0 = performance.now(); performance.now() - t0 < 3;);
        new Float32Array(rt.memory.buffer, bRaw, k * n).set(b);
        rt.kernels.packB_float32!(bRaw, bPack, k, n, 1);
      },
    };
    const slowA = {
      raw: aRaw,
      pack: aPack,
      m,
      transposed: false,
      prepare: () => {
        // A worker that did not wait would pack the NaNs left here.
        new Float32Array(rt.memory.buffer, aRaw, m * k).fill(NaN);
        for (const t0 = performance.now(); performance.now() - t0 < 3;);
        new Float32Array(rt.memory.buffer, aRaw, m * k).set(a);
      },
    };
    // Rows arrive through the callback (in C, or where the caller redid a late worker's chunk).
    const got = new Float32Array(m * n);
    parallelGemm(rt, "float32", slowA, slowB, cPtr, k, 1, m / 4, 1 << 30, (p0, p1, rows) =>
      got.set(new Float32Array(rt.memory.buffer, rows, (p1 - p0) * 4 * n), p0 * 4 * n),
    );
    expectClose(got, jsBackend.matmul(a, b, 1, m, k, n, "float32"), 1e-6);
  });

  /** Waits (up to 30 s) until `count` workers can take a job; fails if they cannot. */
  async function untilWorkersFree(rt: ReturnType<typeof getRuntime>, count: number) {
    const t0 = performance.now();
    while (usableWorkers(rt) < count && performance.now() - t0 < 30000)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(usableWorkers(rt)).toBeGreaterThanOrEqual(count);
  }

  /**
   * A group whose function adds 1 to nFull float64 vectors (group(in, out,
   * sums, scratch, nFull, rem)) over 8 chunks of 512 elements in a fresh
   * arena; `run(prepare)` runs it on the caller and one worker, `prepare(c)`
   * putting chunk c's inputs in place.
   */
  function addOneGroup(rt: ReturnType<typeof getRuntime>) {
    const { bytes, fn } = addOneFunction(rt.memory);
    resetArena(rt);
    const [chunk, nChunks] = [512, 8];
    const n = chunk * nChunks;
    const inPtr = alloc(rt, 8 * n);
    const outPtr = alloc(rt, 8 * n);
    const module = sharedGroupModule(bytes);
    const argv = [inPtr, outPtr, 0, 0, 0, 0];
    const strides = [8 * chunk, 8 * chunk, 0, 0, 0, 0];
    return {
      chunk,
      input: new Float64Array(rt.memory.buffer, inPtr, n).fill(-7),
      output: new Float64Array(rt.memory.buffer, outPtr, n).fill(0),
      run: (prepare: (c: number) => void) =>
        parallelGroup(rt, module, fn, 1, argv, strides, n, chunk, 2, prepare, () => {}),
    };
  }

  it("a worker waits for the inputs of the jit group chunk it takes", async () => {
    const rt = getRuntime();
    expect(await startWasmThreads(rt, 1)).toBeGreaterThan(0);
    await untilWorkersFree(rt, 1);
    const { chunk, input, output, run } = addOneGroup(rt);
    run((c) => {
      // Chunks after the first are put in place slowly: a worker that did
      // not wait for them would read the -7 left here.
      if (c > 0) for (const t0 = performance.now(); performance.now() - t0 < 3;);
      for (let i = c * chunk; i < (c + 1) * chunk; i++) input[i] = i;
    });
    output.forEach((v, i) => {
      if (v !== i + 1) expect([i, v]).toEqual([i, i + 1]);
    });
  });

  it("a failure while the inputs go in is reported, and no worker is left waiting", async () => {
    const rt = getRuntime();
    expect(await startWasmThreads(rt, 1)).toBeGreaterThan(0);
    const failing = addOneGroup(rt);
    const call = () =>
      failing.run((c) => {
        if (c === 3) throw new Error("no input for chunk 3");
      });
    expect(call).toThrow(/the calling thread trapped .* jit group kernel \(no input for chunk 3\)/);
    // The worker is free again: the next group runs, with correct results.
    const { chunk, input, output, run } = addOneGroup(rt);
    run((c) => {
      for (let i = c * chunk; i < (c + 1) * chunk; i++) input[i] = 2 * i;
    });
    output.forEach((v, i) => {
      if (v !== 2 * i + 1) expect([i, v]).toEqual([i, 2 * i + 1]);
    });
  });

  it("reports a jit group module that a worker cannot run as an error", async () => {
    const rt = getRuntime();
    expect(await startWasmThreads(rt, 1)).toBeGreaterThan(0);
    // A worker still late in the previous test's last group (a straggler,
    // on a loaded machine) is handed no job: wait until it is free.
    await untilWorkersFree(rt, 1);
    // Bytes that are no Wasm module: the worker's compile throws.
    const broken = sharedGroupModule(new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]));
    // Two chunks of 4 elements, and a plain function for the calling thread
    // that returns once the worker has run its share to the end (word 1 of
    // its control slot, the job state, back to idle from posted, 1, and
    // running, 2): a worker that never started, or that is still late once
    // the caller has computed every chunk, is not waited for, nor reports.
    const control = new Int32Array(rt.memory.buffer, 0, 64);
    const untilWorkerDone = () => {
      const t0 = performance.now();
      while (Atomics.load(control, 16 + 1) !== 0 && performance.now() - t0 < 30000);
    };
    expect(() =>
      parallelGroup(
        rt,
        broken,
        untilWorkerDone,
        1,
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        8,
        4,
        2,
        () => {},
        () => {},
      ),
    ).toThrow(/worker 1 trapped in its share of a jit group kernel/);
    // Sent once per worker: the second time there are no bytes to copy.
    expect(groupBytesFor(rt, 1, broken)).toBe(0);
  });

  it("splits a large product across threads with the same result", async () => {
    const started = await startWasmThreads(getRuntime(), 1);
    expect(started).toBe(wasmThreadCount());
    expect(started).toBeGreaterThan(0);
    const r = rng(3);
    for (const dtype of FLOATS) {
      // Above the 2^20 multiply-adds from which products are split; odd sizes.
      const [m, k, n] = [130, 97, 90];
      const a = randomArray(dtype, m * k, r);
      const b = randomArray(dtype, k * n, r);
      const got = wasm.matmul(a, b, 1, m, k, n, dtype);
      const want = jsBackend.matmul(a, b, 1, m, k, n, dtype);
      expectClose(got, want, dtype === "float32" ? 1e-5 * Math.sqrt(k) : 1e-13);
      // Transposed operands (A stored [k, m], B stored [n, k]) on the threads too.
      expectClose(
        wasm.matmul(a, b, 1, m, k, n, dtype, true, true),
        jsBackend.matmul(a, b, 1, m, k, n, dtype, true, true),
        dtype === "float32" ? 1e-5 * Math.sqrt(k) : 1e-13,
      );
    }
  });
});

describe("setBackend('wasm')", () => {
  it("is the default where WebAssembly SIMD is available", () => {
    expect(getBackend()).toBe(hasSimd() ? "wasm" : "js");
  });

  it("runs public API calls on the Wasm backend", () => {
    const previous = getBackend();
    setBackend("wasm");
    try {
      expect(getBackend()).toBe("wasm");
      const r = rng(8);
      const a = np.array(randomArray("float32", 64 * 80, r), { shape: [64, 80] });
      const b = np.array(randomArray("float32", 80 * 48, r), { shape: [80, 48] });
      const got = np.matmul(a, b).data();
      setBackend("js");
      const want = np.matmul(a, b).data();
      expectClose(got, want, 1e-5 * Math.sqrt(80));
    } finally {
      setBackend(previous);
    }
  });
});

describe("wasm memory limit", () => {
  it("runs a call whose working set exceeds the arena limit in the JS reference", () => {
    const rt = getRuntime();
    const saved = rt.maxBytes;
    rt.maxBytes = rt.memory.buffer.byteLength;
    try {
      const r = rng(21);
      const need = rt.maxBytes / 8 + 1024; // more float64 elements than the memory holds
      const x = randomArray("float64", need, r);
      const y = randomArray("float64", need, r);
      const add = elementKernel("add");
      expectSame(wasm.binary(add, x, y, "float64"), jsBackend.binary(add, x, y, "float64"));
      const before = rt.memory.buffer.byteLength;
      expectSame(
        wasm.stridedGather(x, [need], [1], 0, "float64"),
        jsBackend.stridedGather(x, [need], [1], 0, "float64"),
      );
      expect(rt.memory.buffer.byteLength).toBe(before);
    } finally {
      rt.maxBytes = saved;
    }
  });
});
