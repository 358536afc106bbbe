/**
 * jit lowering to Wasm (src/jit/wasmLowering.ts): random elementwise chains
 * (fast-check) over one or two arrays and scalar constants, with and
 * without a trailing full sum, jitted on the wasm backend, against the same
 * functions run eagerly on the JS backend; odd sizes exercise the partial
 * last vector, and small chunks make arrays span several kernel calls.
 * Also: the generated program really calls the Wasm kernel (and the JS
 * backend keeps its loop), modules are cached by structure, and unsupported
 * groups fall back to the JS loop.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { hasSimd } from "../src/backends/wasm/emitter.js";
import {
  getRuntime,
  setWasmThreadLimit,
  startWasmThreads,
  stopWasmThreads,
} from "../src/backends/wasm/index.js";
import { groupChunksRunByWorkers } from "../src/backends/wasm/threads.js";
import { setAdaptiveThreads } from "../src/backends/wasm/threadGate.js";
import { configureWasmJit, wasmGroupModuleCount } from "../src/jit/wasmLowering.js";
import { type Array as NdArray, getBackend, grad, jit, np, setBackend } from "../src/index.js";
import { rng } from "./helpers.js";

type DT = "float32" | "float64";

/** A chain: a tree of unary/binary steps over the inputs x, y and constants. */
type Expr =
  | { k: "x" }
  | { k: "y" }
  | { k: "c"; v: number }
  | { k: "un"; op: (typeof UNARY)[number]; a: Expr }
  | { k: "bin"; op: (typeof BINARY)[number]; a: Expr; b: Expr }
  | { k: "where"; m: Mask; a: Expr; b: Expr }
  | { k: "fromMask"; m: Mask };

/** A bool chain: comparisons of float chains, logic, the bool input z, float -> bool converts. */
type Mask =
  | { k: "z" }
  | { k: "cmp"; op: (typeof COMPARE)[number]; a: Expr; b: Expr }
  | { k: "and" | "or"; a: Mask; b: Mask }
  | { k: "not"; a: Mask }
  | { k: "toBool"; a: Expr };

const COMPARE = ["less", "lessEqual", "greater", "greaterEqual", "equal", "notEqual"] as const;

const UNARY = ["sin", "cos", "neg", "abs", "sqrtAbs", "logAbs1", "expCos"] as const;
const BINARY = ["add", "sub", "mul", "divSafe", "max", "min"] as const;

function buildMask(m: Mask, x: NdArray, y: NdArray, z: NdArray): NdArray {
  const asArray = (e: Expr) => {
    const v = build(e, x, y, z);
    return typeof v === "number" ? np.add(np.multiply(x, 0), v) : v;
  };
  switch (m.k) {
    case "z":
      return z;
    case "cmp":
      return np[m.op](asArray(m.a), build(m.b, x, y, z));
    case "and":
      return np.logicalAnd(buildMask(m.a, x, y, z), buildMask(m.b, x, y, z));
    case "or":
      return np.logicalOr(buildMask(m.a, x, y, z), buildMask(m.b, x, y, z));
    case "not":
      return np.logicalNot(buildMask(m.a, x, y, z));
    case "toBool":
      // max(., 0) makes some zeros, so both results of the convert occur
      return np.astype(np.maximum(asArray(m.a), 0), "bool");
  }
}

function build(e: Expr, x: NdArray, y: NdArray, z?: NdArray): NdArray | number {
  switch (e.k) {
    case "where": {
      // an array branch keeps x's dtype (two number branches would give float64)
      const a = build(e.a, x, y, z);
      const aa = typeof a === "number" ? np.add(np.multiply(x, 0), a) : a;
      return np.where(buildMask(e.m, x, y, z!), aa, build(e.b, x, y, z));
    }
    case "fromMask":
      return np.astype(buildMask(e.m, x, y, z!), x.dtype);
    case "x":
      return x;
    case "y":
      return y;
    case "c":
      return e.v;
    case "un": {
      const a = build(e.a, x, y, z);
      const arr = typeof a === "number" ? np.multiply(x, 0).add(a) : a;
      switch (e.op) {
        case "sin":
          return np.sin(arr);
        case "cos":
          return np.cos(arr);
        case "neg":
          return np.negative(arr);
        case "abs":
          return np.abs(arr);
        case "sqrtAbs":
          return np.sqrt(np.abs(arr));
        case "logAbs1":
          return np.log(np.add(np.abs(arr), 1));
        case "expCos":
          return np.exp(np.cos(arr));
      }
      break;
    }
    case "bin": {
      const a = build(e.a, x, y, z);
      const b = build(e.b, x, y, z);
      const aa = typeof a === "number" ? np.add(np.multiply(x, 0), a) : a;
      switch (e.op) {
        case "add":
          return np.add(aa, b);
        case "sub":
          return np.subtract(aa, b);
        case "mul":
          return np.multiply(aa, b);
        case "divSafe":
          // denominator in [1, 3]
          return np.divide(aa, np.add(np.cos(typeof b === "number" ? np.add(aa, b) : b), 2));
        case "max":
          return np.maximum(aa, b);
        case "min":
          return np.minimum(aa, b);
      }
    }
  }
}

const leaf: fc.Arbitrary<Expr> = fc.oneof(
  fc.constant<Expr>({ k: "x" }),
  fc.constant<Expr>({ k: "y" }),
  fc.integer({ min: -40, max: 40 }).map((i): Expr => ({ k: "c", v: i / 8 })),
);
/** A leaf, or a unary or binary operation on expressions drawn from `tie("e")`. */
function arithmetic(tie: (key: "e") => fc.Arbitrary<unknown>): fc.Arbitrary<Expr>[] {
  const sub = tie("e") as fc.Arbitrary<Expr>;
  return [
    leaf,
    fc.record({ k: fc.constant("un" as const), op: fc.constantFrom(...UNARY), a: sub }),
    fc.record({ k: fc.constant("bin" as const), op: fc.constantFrom(...BINARY), a: sub, b: sub }),
  ];
}
const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof({ depthSize: "small", withCrossShrink: true }, ...arithmetic(tie)),
})).e;

/** Chains that also use masks: comparisons, logic, where, bool <-> float converts. */
const masked = fc.letrec<{ e: Expr; m: Mask }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    ...arithmetic(tie),
    fc.record({ k: fc.constant("where" as const), m: tie("m"), a: tie("e"), b: tie("e") }),
    fc.record({ k: fc.constant("fromMask" as const), m: tie("m") }),
  ),
  m: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant<Mask>({ k: "z" }),
    fc.record({
      k: fc.constant("cmp" as const),
      op: fc.constantFrom(...COMPARE),
      a: tie("e"),
      b: tie("e"),
    }),
    fc.record({ k: fc.constantFrom("and" as const, "or" as const), a: tie("m"), b: tie("m") }),
    fc.record({ k: fc.constant("not" as const), a: tie("m") }),
    fc.record({ k: fc.constant("toBool" as const), a: tie("e") }),
  ),
}));

function randomData(dtype: DT, n: number, seed: number): NdArray {
  const r = rng(seed);
  const values = Array.from({ length: n }, () => 6 * r() - 3);
  return np.array(dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values));
}

/** Worst |a - b| / (atol + rtol |b|) over the elements. */
function worst(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number): number {
  let w = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(a[i]!) && Number.isNaN(b[i]!)) continue;
    w = Math.max(w, Number.isNaN(d) ? Infinity : d / (atol + rtol * Math.abs(b[i]!)));
  }
  return w;
}

/**
 * Random chains (+ sum), with and without masks, jitted on the wasm backend
 * against the same functions run eagerly on the JS backend.
 */
function defineChainProperties(seedOffset: number, numRuns = 60): void {
  for (const dtype of ["float64", "float32"] as const) {
    it(`random ${dtype} chains (+ sum) equal eager JS-backend values`, () => {
      const tol = dtype === "float64" ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 2e-5, atol: 2e-5 };
      fc.assert(
        fc.property(exprArb, fc.constantFrom(1, 3, 4, 7, 33, 130, 1100), (e, n) => {
          const f = (x: NdArray, y: NdArray) => {
            const out = build(e, x, y);
            const arr = typeof out === "number" ? np.add(np.multiply(x, 0), out) : out;
            return [arr, np.sum(arr)];
          };
          const x = randomData(dtype, n, n * 31 + 1);
          const y = randomData(dtype, n, n * 17 + 5);
          setBackend("js");
          const [refArr, refSum] = f(x, y) as [NdArray, NdArray];
          setBackend("wasm");
          const [arr, sum] = jit(f)(x, y) as [NdArray, NdArray];
          expect(arr.dtype).toBe(dtype);
          expect(worst(arr.data(), refArr.data(), tol.rtol, tol.atol)).toBeLessThanOrEqual(1);
          // The sum is accumulated in another order (and in float64 lanes).
          const scale = Array.from(refArr.data()).reduce((s, v) => s + Math.abs(v), 0);
          expect(
            worst(
              sum.data(),
              refSum.data(),
              0,
              tol.atol + tol.rtol * scale * (dtype === "float32" ? 4 : 1),
            ),
          ).toBeLessThanOrEqual(1);
        }),
        { numRuns, seed: seedOffset + (dtype === "float64" ? 11 : 12) },
      );
    });
  }

  for (const dtype of ["float64", "float32"] as const) {
    it(`random ${dtype} chains with masks (where, comparisons, max/min, logic) equal eager JS`, () => {
      const tol = dtype === "float64" ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 2e-5, atol: 2e-5 };
      fc.assert(
        fc.property(masked.e, masked.m, fc.constantFrom(1, 3, 4, 7, 33, 130, 1100), (e, m, n) => {
          // returns a float chain, its sum, and a bool chain (a bool result leaving the group)
          const f = (x: NdArray, y: NdArray, z: NdArray) => {
            const out = build(e, x, y, z);
            const arr = typeof out === "number" ? np.add(np.multiply(x, 0), out) : out;
            return [arr, np.sum(arr), buildMask(m, x, y, z)];
          };
          const x = randomData(dtype, n, n * 31 + 1);
          const y = randomData(dtype, n, n * 17 + 5);
          const z = np.greater(randomData(dtype, n, n * 7 + 3), 0);
          setBackend("js");
          const [refArr, refSum, refMask] = f(x, y, z);
          setBackend("wasm");
          const [arr, sum, mask] = jit(f)(x, y, z);
          // every elementwise group became a Wasm kernel
          expect(jit(f).lower(x, y, z).compiled.source).not.toContain("for (let i");
          expect(arr!.dtype).toBe(dtype);
          expect(mask!.dtype).toBe("bool");
          expect(Array.from(mask!.data())).toEqual(Array.from(refMask!.data()));
          expect(worst(arr!.data(), refArr!.data(), tol.rtol, tol.atol)).toBeLessThanOrEqual(1);
          const scale = Array.from(refArr!.data()).reduce((s, v) => s + Math.abs(v), 0);
          const sumTol = tol.atol + tol.rtol * scale * (dtype === "float32" ? 4 : 1);
          expect(worst(sum!.data(), refSum!.data(), 0, sumTol)).toBeLessThanOrEqual(1);
        }),
        { numRuns, seed: seedOffset + (dtype === "float64" ? 21 : 22) },
      );
    });
  }
}

describe.skipIf(!hasSimd())("jit lowering to Wasm", () => {
  const before = getBackend();
  // Small chunks: the arrays below span several kernel calls (sums carried across).
  beforeAll(() => configureWasmJit({ minElements: 0, chunkElements: 24 }));
  afterAll(() => {
    configureWasmJit({ minElements: 1024, chunkElements: 8192 });
    setBackend(before);
  });

  defineChainProperties(0);

  it("max/min keep NaN and the JS backend's choice between equal zeros", () => {
    for (const dtype of ["float64", "float32"] as const) {
      const a = [NaN, 1, -0, 0, 2, -3, NaN, 0];
      const b = [1, NaN, 0, -0, 2, -4, NaN, -0];
      const x = np.array(dtype === "float32" ? Float32Array.from(a) : Float64Array.from(a));
      const y = np.array(dtype === "float32" ? Float32Array.from(b) : Float64Array.from(b));
      const f = (u: NdArray, v: NdArray) => [np.maximum(u, v), np.minimum(u, v)];
      setBackend("js");
      const ref = f(x, y).map((r) => Array.from(r.data()));
      setBackend("wasm");
      const src = jit(f).lower(x, y).compiled.source;
      expect(src).not.toContain("for (let i");
      const got = jit(f)(x, y).map((r) => Array.from(r.data()));
      // Object.is tells -0 from 0 and NaN equals NaN
      got.forEach((g, j) => g.forEach((v, i) => expect(Object.is(v, ref[j]![i])).toBe(true)));
    }
  });

  it("the relu forward and backward groups of an MLP step lower to Wasm", () => {
    setBackend("wasm");
    const x = randomData("float32", 64, 8);
    const loss = (v: NdArray) => np.sum(np.multiply(np.maximum(np.multiply(v, 2), 0), v));
    const src = jit(grad(loss)).lower(x).compiled.source;
    expect(src).not.toContain("for (let i");
    const g = jit(grad(loss))(x);
    // d/dv (max(2v, 0) v) = 4v for v > 0, 0 for v < 0
    const expected = Array.from(x.data(), (v) => (v > 0 ? 4 * v : 0));
    expect(worst(g.data(), expected, 1e-6, 1e-6)).toBeLessThanOrEqual(1);
  });

  it("the compiled program calls the Wasm kernel on the wasm backend, a JS loop on js", () => {
    const f = (x: NdArray) => np.exp(np.add(np.multiply(np.sin(x), 2), 1));
    const x = randomData("float64", 50, 3);
    setBackend("wasm");
    const onWasm = jit(f).lower(x).compiled.source;
    expect(onWasm).not.toContain("for (let i");
    expect(onWasm).toContain("K[0]");
    setBackend("js");
    const onJs = jit(f).lower(x).compiled.source;
    expect(onJs).toContain("for (let i");
    expect(onJs).toContain("Math.exp");
  });

  it("one jitted function recompiles when the backend changes, and gives the same values", () => {
    const f = jit((x: NdArray) => np.sum(np.cos(np.multiply(x, x))));
    const x = randomData("float64", 101, 9);
    setBackend("js");
    const a = f(x).item();
    setBackend("wasm");
    const b = f(x).item();
    expect(f.cacheSize).toBe(2);
    expect(Math.abs(a - b)).toBeLessThan(1e-12 * 101);
  });

  it("caches modules by structure across shapes and functions", () => {
    setBackend("wasm");
    const g = (x: NdArray) => np.log(np.add(np.exp(np.sin(x)), 0.25));
    const before = wasmGroupModuleCount();
    jit(g)(randomData("float64", 10, 1));
    const afterFirst = wasmGroupModuleCount();
    jit(g)(randomData("float64", 1000, 2));
    jit((x: NdArray) => np.log(np.add(np.exp(np.sin(x)), 0.25)))(randomData("float64", 77, 3));
    expect(afterFirst).toBe(before + 1);
    expect(wasmGroupModuleCount()).toBe(afterFirst);
  });

  it("W5 gradient in Wasm matches the analytic derivative", () => {
    setBackend("wasm");
    for (const dtype of ["float32", "float64"] as const) {
      const x = randomData(dtype, 1001, 4);
      const f = (v: NdArray) => np.sum(np.exp(np.add(np.multiply(np.sin(v), 2), 1)));
      const g = jit(grad(f))(x);
      const xs = x.data();
      const expected = Array.from(xs, (v) => Math.exp(2 * Math.sin(v) + 1) * 2 * Math.cos(v));
      const tol = dtype === "float64" ? 1e-13 : 3e-6;
      expect(worst(g.data(), expected, tol, tol)).toBeLessThanOrEqual(1);
    }
  });

  it("a bool scalar from outside the group keeps the JS loop, with the same values", () => {
    setBackend("wasm");
    const x = randomData("float32", 40, 6);
    const f = (v: NdArray, flag: NdArray) => np.where(flag, np.multiply(v, 2), np.negative(v));
    for (const flag of [true, false]) {
      const p = np.array(flag);
      expect(jit(f).lower(x, p).compiled.source).toContain("for (let i");
      const got = Array.from(jit(f)(x, p).data());
      const expected = Array.from(x.data(), (v) => Math.fround(flag ? 2 * v : -v));
      expect(got).toEqual(expected);
    }
  });

  it("groups with uncovered primitives keep the JS loop", () => {
    setBackend("wasm");
    const x = randomData("float64", 40, 5);
    const src = jit((v: NdArray) => np.tanh(np.multiply(v, 2))).lower(x).compiled.source;
    expect(src).toContain("Math.tanh");
    const y = jit((v: NdArray) => np.tanh(np.multiply(v, 2)))(x);
    setBackend("js");
    const ref = np.tanh(np.multiply(x, 2));
    expect(worst(y.data(), ref.data(), 1e-15, 0)).toBeLessThanOrEqual(1);
  });
});

describe.skipIf(!hasSimd())("jit lowering to Wasm, split across worker threads", () => {
  const before = getBackend();
  // Every group is split (worker shares, then the caller's share in chunks of 24).
  beforeAll(async () => {
    expect(await startWasmThreads(getRuntime(), 1)).toBeGreaterThan(0);
    configureWasmJit({ minElements: 0, chunkElements: 24, parallelMinWork: 0 });
  });
  afterAll(async () => {
    configureWasmJit({ minElements: 1024, chunkElements: 8192, parallelMinWork: 1 << 21 });
    setBackend(before);
    await stopWasmThreads();
  });

  defineChainProperties(100, 30);

  it("threads or one thread (the measured choice), a group's values and sums are the same bits", () => {
    setBackend("wasm");
    // A fresh group's gate runs its first two calls on the threads and its third on
    // the calling thread alone (threadGate.ts): the three must agree bit for bit,
    // the full sum included (its partial sums follow the chunks).
    const n = 200_003;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.61) * 3 + 1e-3 * Math.cos(i * 1.7);
    const x = np.array(data);
    const f = jit((v: NdArray) => [
      np.exp(np.multiply(np.sin(v), 1.7)),
      np.sum(np.multiply(np.multiply(v, v), 1.3)),
    ]);
    const calls = [f(x), f(x), f(x)].map(([y, s]) => [globalThis.Array.from(y!.data()), s!.item()]);
    expect(calls[1]).toEqual(calls[0]);
    expect(calls[2]).toEqual(calls[0]);
  });

  it("a call with no free worker sums in the threaded call's chunks: the same bits", () => {
    setBackend("wasm");
    setAdaptiveThreads(false);
    onTestFinished(() => {
      setAdaptiveThreads(true);
      setWasmThreadLimit(Infinity);
    });
    // A worker still busy with an earlier job (or a thread limit of 0) leaves
    // the call to the calling thread; its partial sums must follow the chunks
    // of a split call, not the one-thread default (24 elements here).
    const n = 200_003;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.cos(i * 0.37) * 5 + 1e-3 * Math.sin(i * 2.3);
    const x = np.array(data);
    const f = jit((v: NdArray) => np.sum(np.exp(np.multiply(np.sin(v), 0.9))));
    const threaded = f(x).item();
    setWasmThreadLimit(0);
    const alone = f(x).item();
    expect(alone).toBe(threaded);
    // and both are the sum itself (in another order: within n eps of sum |y|)
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.exp(Math.sin(data[i]!) * 0.9);
    expect(Math.abs(alone - sum)).toBeLessThan(n * 2 ** -52 * sum);
  });

  it("a worker reads and writes arena blocks placed after the memory grew", () => {
    setBackend("wasm");
    // Every call uses the worker (the measured choice could settle on one thread under load).
    setAdaptiveThreads(false);
    onTestFinished(() => setAdaptiveThreads(true));
    // 3e6 float64 values per array: the arena outgrows the memory the
    // workers saw when they started, and the worker share lies past it.
    const grownBefore = getRuntime().memory.buffer.byteLength;
    const chunksBefore = groupChunksRunByWorkers();
    const n = 3_000_000;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37) * 4;
    const f = jit((v: NdArray) => [np.exp(np.sin(v)), np.sum(np.cos(v))]);
    const x = np.array(data);
    // 16 chunks of 187,500 elements: the worker takes some while the caller
    // computes (a few calls at most, should the host wake it late).
    let [y, s] = f(x);
    for (let call = 0; call < 10 && groupChunksRunByWorkers() === chunksBefore; call++)
      [y, s] = f(x);
    expect(getRuntime().memory.buffer.byteLength).toBeGreaterThan(grownBefore);
    expect(groupChunksRunByWorkers()).toBeGreaterThan(chunksBefore);
    const got = y!.data();
    let worstUlps = 0;
    let sum = 0;
    let sumAbs = 0;
    for (let i = 0; i < n; i++) {
      const want = Math.exp(Math.sin(data[i]!));
      worstUlps = Math.max(worstUlps, Math.abs(got[i]! - want) / (want * 2 ** -52));
      sum += Math.cos(data[i]!);
      sumAbs += Math.abs(Math.cos(data[i]!));
    }
    expect(worstUlps).toBeLessThanOrEqual(4);
    // summed in another order: rounding differences of order n eps, relative to sum |cos|
    expect(Math.abs(s!.item() - sum)).toBeLessThan(1e-12 * sumAbs);
  });

  it("a restarted pool compiles the group modules again", async () => {
    setBackend("wasm");
    const f = jit((v: NdArray) => [np.exp(np.sin(v)), np.sum(np.cos(v))]);
    const x = randomData("float64", 1001, 5);
    const expected = Array.from(x.data(), (v) => Math.exp(Math.sin(v)));
    const expectedSum = Array.from(x.data()).reduce((s, v) => s + Math.cos(v), 0);
    for (let round = 0; round < 2; round++) {
      const [y, s] = f(x);
      expect(worst(y!.data(), expected, 1e-15, 0)).toBeLessThanOrEqual(2);
      expect(Math.abs(s!.item() - expectedSum)).toBeLessThan(1e-12);
      await stopWasmThreads();
      expect(await startWasmThreads(getRuntime(), 1)).toBeGreaterThan(0);
    }
  });
});
