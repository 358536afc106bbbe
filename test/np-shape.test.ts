/**
 * np shape, indexing and order functions, and the NumPy fixes of dot,
 * inner, var and linspace: values against plain loops written here (NumPy
 * semantics, edge cases included), derivatives at order 2 in both modes,
 * jit = eager, vmap = a loop, float32 = float64 (test/npcheck.ts), and the
 * error messages.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ConcretizationError,
  InvalidArgumentError,
  ShapeError,
  grad,
  jacfwd,
  jit,
  np,
  vmap,
} from "../src/index.js";
import { expectAllClose, fdJacobian, rng } from "./helpers.js";
import { build, checkTransforms, expectCloseNaN, ref } from "./npcheck.js";
import { randArray } from "./util.js";

const r = rng(13);
const X = randArray(r, [3, 4]);
const V = randArray(r, [5]);
const i32 = (v: number[]) => np.array(v, { dtype: "int32" });

describe("NumPy fixes: inner, dot, var, linspace", () => {
  it("inner contracts the last axes (scalar operands multiply)", () => {
    expectAllClose(np.inner(1.5, [1, 2, 3]), [1.5, 3, 4.5]);
    const A = randArray(r, [2, 3]);
    const B = randArray(r, [4, 3]);
    const a = ref(A);
    const b = ref(B);
    const want = build([2, 4], (i, j) =>
      [0, 1, 2].reduce((s, k) => s + a.at(i, k) * b.at(j, k), 0),
    );
    const got = np.inner(A, B);
    expect(got.shape).toEqual([2, 4]);
    expectAllClose(got, want, 1e-14, 1e-15);
    checkTransforms((p, q) => np.inner(p, q), [A, B]);
    expect(() => np.inner(A, randArray(r, [3, 2]))).toThrow(/np\.inner: the last axes differ/);
  });
  it("dot with a rank >= 3 operand contracts a's last axis with b's second-to-last", () => {
    const A = randArray(r, [2, 3, 4]);
    const B = randArray(r, [5, 4, 2]);
    const a = ref(A);
    const b = ref(B);
    const want = build([2, 3, 5, 2], (i, j, k, l) =>
      [0, 1, 2, 3].reduce((s, m) => s + a.at(i, j, m) * b.at(k, m, l), 0),
    );
    const got = np.dot(A, B);
    expect(got.shape).toEqual([2, 3, 5, 2]);
    expectAllClose(got, want, 1e-14, 1e-15);
    // b 1-D: the last axis of a with b's only axis.
    const v = randArray(r, [4]);
    expectAllClose(
      np.dot(A, v),
      build([2, 3], (i, j) => [0, 1, 2, 3].reduce((s, m) => s + a.at(i, j, m) * ref(v).at(m), 0)),
      1e-14,
      1e-15,
    );
    checkTransforms((p, q) => np.dot(p, q), [A, B]);
    expect(() => np.dot(A, randArray(r, [3, 3, 2]))).toThrow(
      /np\.dot: shapes \[2, 3, 4\] and \[3, 3, 2\] are not aligned/,
    );
  });
  it("var is the variance (ddof as in NumPy)", () => {
    const x = ref(V).data;
    const m = x.reduce((s, v) => s + v, 0) / x.length;
    const ss = x.reduce((s, v) => s + (v - m) ** 2, 0);
    expectAllClose(np.var(V), ss / 5, 1e-14);
    expectAllClose(np.var(V, null, { ddof: 1 }), ss / 4, 1e-14);
  });
  it("linspace with traced endpoints: values, gradient, jit and vmap", () => {
    const f = (s: NdArray, e: NdArray) => np.linspace(s, e, 5);
    const s = np.array([0.5, -1]);
    const e = np.array([2, 3]);
    const want = build(
      [5, 2],
      (i, j) => ref(s).data[j]! + (i / 4) * (ref(e).data[j]! - ref(s).data[j]!),
    );
    expectAllClose(f(s, e), want, 1e-15, 1e-15);
    expectAllClose(np.linspace(np.array(0), 1, 5), np.linspace(0, 1, 5), 1e-15, 1e-16);
    // d/ds sum(linspace(s, e, n)) = sum_i (1 - i/(n-1)) = n/2
    expectAllClose(grad((t: NdArray) => np.sum(np.linspace(t, 4, 6)))(1), 3, 1e-14);
    checkTransforms(f, [s, e]);
  });
});

describe("stacking and splitting", () => {
  it("vstack, hstack, dstack, columnStack, append against loops", () => {
    const a = np.array([1, 2, 3]);
    const b = np.array([4, 5, 6]);
    expectAllClose(
      np.vstack([a, b]),
      build([2, 3], (i, j) => 1 + 3 * i + j),
    );
    expectAllClose(np.hstack([a, b]), [1, 2, 3, 4, 5, 6]);
    expectAllClose(
      np.columnStack([a, b]),
      build([3, 2], (i, j) => 1 + i + 3 * j),
    );
    const d = np.dstack([a, b]);
    expect(d.shape).toEqual([1, 3, 2]);
    expectAllClose(
      d,
      build([1, 3, 2], (_, j, k) => 1 + j + 3 * k),
    );
    const m = np.hstack([np.ones([2, 1]), np.zeros([2, 2])]);
    expectAllClose(
      m,
      build([2, 3], (_, j) => (j === 0 ? 1 : 0)),
    );
    expectAllClose(np.append([1, 2], [[3], [4]]), [1, 2, 3, 4]);
    expectAllClose(np.append([[1, 2]], [[3, 4]], 0), [1, 2, 3, 4]);
    checkTransforms((p, q) => np.vstack([p, q]), [X, randArray(r, [2, 4])]);
    checkTransforms((p, q) => np.hstack([p, q]), [X, randArray(r, [3, 2])]);
    checkTransforms((p, q) => np.dstack([p, q]), [X, X]);
    expect(() => np.vstack([X, randArray(r, [2, 3])])).toThrow(
      /np\.vstack: the arrays must agree except along axis 0/,
    );
    // rank >= 3 joins along axis 1, as NumPy (np.column_stack of a (2, 2, 2) array is itself)
    expect(np.columnStack([np.ones([2, 2, 2])]).shape).toEqual([2, 2, 2]);
    expect(() => np.columnStack([np.ones([2, 2, 2]), np.ones([3, 2, 2])])).toThrow(
      /np\.columnStack/,
    );
  });
  it("split, arraySplit, hsplit, vsplit: the sections NumPy gives", () => {
    const x = np.arange(7);
    const parts = np.arraySplit(x, 3).map((p) => ref(p).data);
    expect(parts).toEqual([
      [0, 1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(np.split(x, [2, 5]).map((p) => ref(p).data)).toEqual([
      [0, 1],
      [2, 3, 4],
      [5, 6],
    ]);
    expect(np.split(x, [-2, 10]).map((p) => ref(p).data)).toEqual([[0, 1, 2, 3, 4], [5, 6], []]);
    const [left, right] = np.hsplit(X, 2);
    expectAllClose(
      left!,
      build([3, 2], (i, j) => ref(X).at(i, j)),
    );
    expectAllClose(
      right!,
      build([3, 2], (i, j) => ref(X).at(i, j + 2)),
    );
    expect(np.vsplit(X, 3).map((p) => p.shape)).toEqual([
      [1, 4],
      [1, 4],
      [1, 4],
    ]);
    expect(() => np.split(x, 3)).toThrow(
      /does not split into 3 equal sections; use np\.arraySplit/,
    );
    expect(() => np.vsplit(x, 7)).toThrow(/np\.vsplit: needs an array of rank >= 2/);
    checkTransforms(
      (p) =>
        np.concatenate(
          np.split(p, [1, 3], 1).map((q) => np.multiply(q, q)),
          1,
        ),
      [X],
    );
  });
  it("concatenate of many blocks along any axis equals a plain loop (short and long runs, every dtype)", () => {
    // Blocks of widths 1..7 along axis 1 of [2, w, inner]: rows of a block are runs of
    // w * inner elements (short runs for inner 1, runs past 32 for inner 40).
    for (const inner of [1, 40]) {
      for (const dtype of ["float64", "float32", "int32", "bool"] as const) {
        const widths = [3, 1, 7, 2, 5];
        const value = (b: number, i: number, j: number, k: number) =>
          dtype === "bool" ? (b + i + j + k) % 3 === 0 : 1000 * b + 100 * i + 10 * j + k;
        const blocks = widths.map((w, b) =>
          np.array(
            Array.from({ length: 2 }, (_, i) =>
              Array.from({ length: w }, (_, j) =>
                Array.from({ length: inner }, (_, k) => value(b, i, j, k)),
              ),
            ),
            { dtype },
          ),
        );
        const out = np.concatenate(blocks, 1);
        const expected: (number | boolean)[] = [];
        for (let i = 0; i < 2; i++)
          widths.forEach((w, b) => {
            for (let j = 0; j < w; j++)
              for (let k = 0; k < inner; k++) expected.push(value(b, i, j, k));
          });
        expect(out.shape).toEqual([2, 18, inner]);
        expect(out.dtype).toBe(dtype);
        expect(globalThis.Array.from(out.data(), (v) => (dtype === "bool" ? v === 1 : v))).toEqual(
          expected,
        );
      }
    }
  });
  it("np.array stacks Arrays and traced values (grad, jit, vmap)", () => {
    const a = np.array([np.array([1, 2]), [3, 4]]);
    expectAllClose(a, [1, 2, 3, 4]);
    expect(a.shape).toEqual([2, 2]);
    expect(np.array([np.array(1, { dtype: "float32" }), 2.5]).dtype).toBe("float32");
    const f = (x: NdArray) =>
      np.array([
        [x, np.multiply(x, x)],
        [1, np.sin(x)],
      ]);
    const x0 = 0.7;
    expectAllClose(f(np.array(x0)), [x0, x0 * x0, 1, Math.sin(x0)], 1e-15);
    expectAllClose(jacfwd(f)(np.array(x0)), [1, 2 * x0, 0, Math.cos(x0)], 1e-14);
    checkTransforms((v) => np.array([v, np.multiply(v, 2), np.exp(v)]), [V]);
    expect(() => np.array([np.ones([2]), np.ones([3])])).toThrow(
      /np\.array: the entries of data have different shapes/,
    );
  });
});

describe("reshape with separate sizes", () => {
  it("x.reshape(20, 6) and np.reshape(x, 20, -1) as NumPy's method form", () => {
    const x = np.arange(120);
    const y = x.reshape(20, 6);
    expect(y.shape).toEqual([20, 6]);
    expectAllClose(y, ref(x).data);
    expect(np.reshape(x, 20, -1).shape).toEqual([20, 6]);
    checkTransforms((q) => q.reshape(4, 3).T, [X]);
    expect(() => x.reshape(7, 6)).toThrow(/np\.reshape: cannot reshape an array of shape \[120\]/);
  });
});

describe("rearranging", () => {
  it("roll, repeat, tile against loops", () => {
    const x = ref(X);
    expectAllClose(
      np.roll(X, 1, 1),
      build([3, 4], (i, j) => x.at(i, (j + 3) % 4)),
    );
    expectAllClose(
      np.roll(X, [-1, 5], [0, 1]),
      build([3, 4], (i, j) => x.at((i + 1) % 3, (j + 3) % 4)),
    );
    expectAllClose(
      np.roll(X, 2),
      build([3, 4], (i, j) => x.data[(i * 4 + j + 10) % 12]!),
    );
    expectAllClose(
      np.repeat(X, [1, 0, 2], 0),
      build([3, 4], (i, j) => x.at([0, 2, 2][i]!, j)),
    );
    expectAllClose(np.repeat([1, 2], 2), [1, 1, 2, 2]);
    expectAllClose(
      np.tile(X, [2, 1, 2]),
      build([2, 3, 8], (_, i, j) => x.at(i, j % 4)),
    );
    checkTransforms((p) => np.roll(p, [1, -2], [0, 1]), [X]);
    checkTransforms((p) => np.repeat(p, 2, 1), [X]);
    checkTransforms((p) => np.tile(p, [2, 3]), [X]);
    expect(() => np.repeat(X, [1, 2], 0)).toThrow(
      /np\.repeat: 2 repeat counts for an axis of length 3/,
    );
    expect(() => np.roll(X, [1, 2], 0)).toThrow(/np\.roll: 2 shifts for 1 axes/);
  });
  it("pad in every mode against NumPy's definitions", () => {
    const v = [1, 2, 3, 4];
    // Reference: index i of the padded vector (before = 5) taken from the source.
    const refPad = (mode: string, before: number, after: number) => {
      const n = v.length;
      const out: number[] = [];
      for (let i = -before; i < n + after; i++) {
        let k = i;
        if (mode === "edge") k = Math.min(Math.max(i, 0), n - 1);
        if (mode === "wrap") k = ((i % n) + n) % n;
        if (mode === "reflect" || mode === "symmetric") {
          // One period of the mirrored sequence, e.g. reflect: 0 1 2 3 2 1, symmetric: 0 1 2 3 3 2 1 0.
          const fwd = [...Array(n).keys()];
          const back = mode === "reflect" ? fwd.slice(1, -1).reverse() : fwd.slice().reverse();
          const period = [...fwd, ...back];
          k = period[((i % period.length) + period.length) % period.length]!;
        }
        out.push(mode === "constant" ? (i < 0 || i >= n ? 7 : v[i]!) : v[k]!);
      }
      return out;
    };
    for (const mode of ["edge", "wrap", "reflect", "symmetric"] as const) {
      expectAllClose(np.pad(v, [5, 7], { mode }), refPad(mode, 5, 7));
    }
    expectAllClose(np.pad(v, [2, 1], { constantValues: 7 }), refPad("constant", 2, 1));
    const p2 = np.pad(
      X,
      [
        [1, 0],
        [0, 2],
      ],
      { mode: "edge" },
    );
    expectAllClose(
      p2,
      build([4, 6], (i, j) => ref(X).at(Math.max(i - 1, 0), Math.min(j, 3))),
    );
    checkTransforms((p) => np.pad(p, 2, { mode: "reflect" }), [X]);
    checkTransforms((p) => np.pad(p, [1, 2], { constantValues: 3 }), [X]);
    expect(() =>
      np.pad(X, [
        [1, 1],
        [1, 1],
        [1, 1],
      ]),
    ).toThrow(/np\.pad: 3 \[before, after\] pairs for an array of rank 2/);
    expect(() => np.pad(X, -1)).toThrow(/non-negative integers/);
  });
  it("atleast, flipud, fliplr, rot90 against loops", () => {
    expect(np.atleast1d(3).shape).toEqual([1]);
    expect(np.atleast2d([1, 2]).shape).toEqual([1, 2]);
    expect(np.atleast3d([1, 2]).shape).toEqual([1, 2, 1]);
    expect(np.atleast3d(X).shape).toEqual([3, 4, 1]);
    const x = ref(X);
    expectAllClose(
      np.flipud(X),
      build([3, 4], (i, j) => x.at(2 - i, j)),
    );
    expectAllClose(
      np.fliplr(X),
      build([3, 4], (i, j) => x.at(i, 3 - j)),
    );
    // rot90 once: out[i, j] = x[j, n - 1 - i] (counterclockwise)
    expectAllClose(
      np.rot90(X),
      build([4, 3], (i, j) => x.at(j, 3 - i)),
    );
    expectAllClose(
      np.rot90(X, 2),
      build([3, 4], (i, j) => x.at(2 - i, 3 - j)),
    );
    expectAllClose(
      np.rot90(X, -1),
      build([4, 3], (i, j) => x.at(2 - j, i)),
    );
    checkTransforms((p) => np.rot90(p, 3), [X]);
    expect(() => np.fliplr([1, 2])).toThrow(/np\.fliplr: needs an array of rank >= 2/);
  });
  it("diff and gradient against loops", () => {
    const x = ref(X);
    expectAllClose(
      np.diff(X),
      build([3, 3], (i, j) => x.at(i, j + 1) - x.at(i, j)),
      1e-14,
    );
    expectAllClose(
      np.diff(X, 2, 0),
      build([1, 4], (_, j) => x.at(2, j) - 2 * x.at(1, j) + x.at(0, j)),
      1e-14,
    );
    const f = [1, 4, 9, 16, 25];
    expectAllClose(np.gradient(f) as NdArray, [3, 4, 6, 8, 9]);
    expectAllClose(np.gradient(f, { spacing: 2, edgeOrder: 2 }) as NdArray, [1, 2, 3, 4, 5]);
    const [g0, g1] = np.gradient(X) as NdArray[];
    expectAllClose(
      g0!,
      build([3, 4], (i, j) =>
        i === 0
          ? x.at(1, j) - x.at(0, j)
          : i === 2
            ? x.at(2, j) - x.at(1, j)
            : (x.at(2, j) - x.at(0, j)) / 2,
      ),
      1e-14,
    );
    expectAllClose(g1!, np.gradient(X, { axis: 1 }) as NdArray);
    // Coordinates (uneven spacing): exact for a quadratic with edgeOrder 2 (analytic 2x + 1).
    const xs = [0, 0.5, 1.5, 3, 3.2];
    const fq = xs.map((t) => t * t + t);
    expectAllClose(
      np.gradient(fq, { spacing: [xs], edgeOrder: 2 }) as NdArray,
      xs.map((t) => 2 * t + 1),
      1e-13,
      1e-13,
    );
    const e1 = ref(np.gradient(fq, { spacing: [xs] }) as NdArray).data;
    expectAllClose([e1[0]!, e1[4]!], [(fq[1]! - fq[0]!) / 0.5, (fq[4]! - fq[3]!) / 0.2], 1e-14);
    const cols = [0, 1, 3, 4];
    checkTransforms(
      (p) => np.gradient(p, { axis: 1, spacing: [cols], edgeOrder: 2 }) as NdArray,
      [X],
    );
    expect(() => np.gradient(fq, { spacing: [[0, 1]] })).toThrow(
      /np\.gradient: 2 coordinates for axis 0 of length 5/,
    );
    checkTransforms((p) => np.diff(p, 2), [X]);
    checkTransforms((p) => np.gradient(p, { axis: 0, edgeOrder: 2 }) as NdArray, [X]);
    expect(() => np.gradient([1, 2], { edgeOrder: 2 })).toThrow(
      /np\.gradient: axis 0 has 2 points; edgeOrder 2 needs at least 3/,
    );
  });
});

describe("order: sort, argsort, partition, searchsorted, unique, cumprod, nan reductions", () => {
  it("sort/argsort along an axis and flattened, partition, gradients through sort", () => {
    const x = ref(X);
    const cols = [0, 1, 2, 3].map((j) => [0, 1, 2].map((i) => x.at(i, j)).sort((a, b) => a - b));
    expectAllClose(
      np.sort(X, 0),
      build([3, 4], (i, j) => cols[j]![i]!),
    );
    expectAllClose(
      np.sort(X, null),
      x.data.slice().sort((a, b) => a - b),
    );
    const idx = ref(np.argsort(X, 0));
    expectAllClose(
      build([3, 4], (i, j) => x.at(idx.at(i, j), j)),
      np.sort(X, 0),
    );
    const p = ref(np.partition(V, 2));
    const sorted = ref(V)
      .data.slice()
      .sort((a, b) => a - b);
    expect(p.data[2]).toBe(sorted[2]);
    expect(
      p.data.slice(0, 2).every((v) => v <= sorted[2]!) &&
        p.data.slice(3).every((v) => v >= sorted[2]!),
    ).toBe(true);
    expect(ref(np.argpartition(V, 1)).data.map((i) => ref(V).data[i])[1]).toBe(sorted[1]);
    checkTransforms((q) => np.sort(q, 0), [X]);
    checkTransforms((q) => np.partition(q, 1, 1), [X]);
    expect(() => np.partition(V, 5)).toThrow(/np\.partition: kth = 5 is out of bounds/);
  });
  it("searchsorted: both sides, NaN last, under jit and vmap", () => {
    const a = [1, 2, 2, 3, NaN];
    const v = [0, 2, 2.5, 3, 9, NaN];
    const count = (pred: (x: number) => boolean) => a.filter(pred).length;
    const lt = (p: number, q: number) => p < q || (Number.isNaN(q) && !Number.isNaN(p));
    expectAllClose(
      np.searchsorted(a, v),
      v.map((q) => count((p) => lt(p, q))),
    );
    expectAllClose(
      np.searchsorted(a, v, { side: "right" }),
      v.map((q) => count((p) => !lt(q, p))),
    );
    const f = (q: NdArray) => np.searchsorted([1, 2, 3], q);
    expectAllClose(jit(f)(np.array([1.5, 3])), [1, 2]);
    expectAllClose(
      vmap(f)(
        np.array([
          [0, 4],
          [2, 2],
        ]),
      ),
      [0, 3, 1, 1],
    );
    expect(() => np.searchsorted([[1]], 1)).toThrow(
      /np\.searchsorted: a must be a sorted 1-D array/,
    );
  });
  it("unique with indices, inverse and counts; refused under a transformation", () => {
    const data = [3, 1, 3, NaN, 2, 1, NaN];
    const u = np.unique(data, { returnIndex: true, returnInverse: true, returnCounts: true });
    const distinct = [1, 2, 3, NaN];
    expectCloseNaN(u.values, distinct);
    const same = (p: number, q: number) => p === q || (Number.isNaN(p) && Number.isNaN(q));
    expectAllClose(
      u.indices!,
      distinct.map((d) => data.findIndex((x) => same(x, d))),
    );
    expectAllClose(
      u.counts!,
      distinct.map((d) => data.filter((x) => same(x, d)).length),
    );
    expectAllClose(
      u.inverse!,
      data.map((x) => distinct.findIndex((d) => same(x, d))),
    );
    expectAllClose(
      np.unique([
        [2, 2],
        [1, 5],
      ]),
      [1, 2, 5],
    );
    expect(() => jit((x: NdArray) => np.unique(x))(V)).toThrow(ConcretizationError);
    expect(() => grad((x: NdArray) => np.sum(np.unique(x)))(V)).toThrow(
      /np\.unique: the number of distinct values depends on the data/,
    );
  });
  it("cumprod against a loop, with derivatives exact at zeros", () => {
    const x = ref(X);
    expectAllClose(
      np.cumprod(X, 1),
      build([3, 4], (i, j) => [0, 1, 2, 3].slice(0, j + 1).reduce((s, k) => s * x.at(i, k), 1)),
      1e-14,
    );
    const z = np.array([1.5, 0, 2, 0, 3]);
    const f = (q: NdArray) => np.cumprod(q);
    expectAllClose(jacfwd(f)(z), fdJacobian(f, z), 1e-8, 1e-8);
    checkTransforms((q) => np.cumprod(q, 0), [X]);
    checkTransforms(f, [z]);
  });
  it("nanSum and nanMean skip NaN (with gradients zero there)", () => {
    const x = np.array([
      [1, NaN, 2],
      [NaN, NaN, 4],
    ]);
    expectAllClose(np.nanSum(x), 7);
    expectAllClose(np.nanSum(x, 1), [3, 4]);
    expectCloseNaN(np.nanMean(x, 0), [1, NaN, 3]);
    expectAllClose(grad((q: NdArray) => np.nanMean(q))(x), [1 / 3, 0, 1 / 3, 0, 0, 1 / 3], 1e-15);
    checkTransforms((q) => np.nanMean(q, 1, { keepdims: true }), [X]);
  });
});

describe("indexing: negative steps, integer arrays, masks, at(), where(cond)", () => {
  it("slices with negative steps match Python's slice semantics", () => {
    const n = 7;
    const x = np.arange(n);
    const py = (s: number | null, e: number | null, st: number) => {
      // Python's slice.indices, then the range.
      const norm = (v: number | null, dflt: number, lo: number, hi: number) =>
        v === null ? dflt : Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
      const out: number[] = [];
      if (st > 0) for (let i = norm(s, 0, 0, n); i < norm(e, n, 0, n); i += st) out.push(i);
      else for (let i = norm(s, n - 1, -1, n - 1); i > norm(e, -1, -1, n - 1); i += st) out.push(i);
      return out;
    };
    const cases: [number | null, number | null, number][] = [
      [null, null, -1],
      [null, null, -2],
      [5, 1, -1],
      [5, 1, -3],
      [-2, null, -1],
      [1, 5, -1],
      [100, -100, -2],
      [null, -8, -1],
      [2, 6, 3],
      [-3, null, 1],
    ];
    for (const [s, e, st] of cases) expectAllClose(x.slice([s, e, st]), py(s, e, st));
    const y = ref(X);
    expectAllClose(
      X.slice([null, null, -1], [3, 0, -2]),
      build([3, 2], (i, j) => y.at(2 - i, 3 - 2 * j)),
    );
    checkTransforms((q) => q.slice([null, null, -1], [3, null, -2]), [X]);
    expect(() => x.slice([null, null, 0])).toThrow(/step 0 on axis 0 must be a non-zero integer/);
  });
  it("integer-array and boolean-mask indexing follow NumPy's rules", () => {
    const A = randArray(r, [3, 4, 5]);
    const a = ref(A);
    const i = [2, 0, 2];
    const j = [1, 3, 0];
    // Adjacent advanced indices: in place.
    expectAllClose(
      A.slice(null, i32(j), i32([4, 0, 1])),
      build([3, 3], (p, q) => a.at(p, j[q]!, [4, 0, 1][q]!)),
    );
    // Separated by a slice: the broadcast block goes first.
    expectAllClose(
      A.slice(i32(i), null, i32([4, 0, 1])),
      build([3, 4], (q, p) => a.at(i[q]!, p, [4, 0, 1][q]!)),
    );
    // An integer counts as an advanced index too.
    expect(A.slice(1, null, i32([0, 1])).shape).toEqual([2, 4]);
    // 2-D index array.
    expectAllClose(
      A.slice(i32([0, 2]).reshape(2, 1), 1, [0, 2]),
      build([2, 1, 2], (p, _, q) => a.at([0, 2][p]!, 1, q)),
    );
    const mask = np.greater(X, 0);
    const want = ref(X).data.filter((v) => v > 0);
    expectAllClose(X.slice(mask), want);
    expectAllClose(
      np.slice(A, np.array([true, false, true])),
      build([2, 4, 5], (p, q, s) => a.at([0, 2][p]!, q, s)),
    );
    checkTransforms((q) => q.slice(i32([2, 0, 2]), [1, 3]), [X]);
    checkTransforms(
      (q) =>
        q.slice(
          np.array([
            [true, false, true, true],
            [false, false, true, false],
            [true, true, true, true],
          ]),
        ),
      [X],
    );
    // A traced integer index (vmap over indices, jit with indices as an argument).
    const take = (k: NdArray) => X.slice(null, k);
    expectAllClose(vmap(take)(i32([3, 0])), np.stack([X.slice(null, 3), X.slice(null, 0)]));
    expectAllClose(jit(take)(i32([1, 1])), X.slice(null, i32([1, 1])));
    expect(() => jit((m: NdArray) => X.slice(m))(mask)).toThrow(/a boolean mask must be concrete/);
    expect(() => X.slice(np.array([1.5]))).toThrow(
      /index arrays must be int32 or bool, got dtype float64/,
    );
    expect(() => X.slice(np.array([true, false]))).toThrow(
      /a boolean mask of shape \[2\] does not match axes/,
    );
    expect(() => X.slice(i32([5]))).toThrow(/index 5 is out of bounds for axis 0 of size 3/);
  });
  it("x.at(...).set/add/mul/min/max/get against loops, duplicates included", () => {
    const x = ref(X);
    const v = randArray(r, [3]);
    const vv = ref(v).data;
    const rows = [2, 0, 2];
    const upd = (op: (old: number, u: number) => number, once: boolean) => {
      const out = x.data.slice();
      const done = new Set<number>();
      rows.forEach((row, k) => {
        const o = row * 4 + 1;
        if (once && done.has(o)) return;
        done.add(o);
        out[o] = op(out[o]!, vv[k]!);
      });
      return out;
    };
    const idx = i32(rows);
    // set keeps the last write: apply in reverse and keep the first.
    const setWant = x.data.slice();
    rows.forEach((row, k) => (setWant[row * 4 + 1] = vv[k]!));
    expectAllClose(X.at(idx, 1).set(v), setWant);
    expectAllClose(
      X.at(idx, 1).add(v),
      upd((o, u) => o + u, false),
      1e-15,
    );
    expectAllClose(
      X.at(idx, 1).mul(v),
      upd((o, u) => o * u, false),
      1e-15,
    );
    expectAllClose(X.at(idx, 1).min(v), upd(Math.min, false));
    expectAllClose(X.at(idx, 1).max(v), upd(Math.max, false));
    expectAllClose(
      X.at(idx, 1).get(),
      rows.map((row) => x.at(row, 1)),
    );
    expectAllClose(
      X.at([null, null, -1], 0).set(9),
      build([3, 4], (i, j) => (j === 0 ? 9 : x.at(i, j))),
    );
    expectAllClose(
      X.at(X.lt(0)).set(0),
      x.data.map((q) => (q < 0 ? 0 : q)),
    );
    for (const op of ["set", "add", "mul", "min", "max"] as const) {
      checkTransforms((p, q) => p.at(i32([2, 0, 1]), [1, 3])[op](q), [X, randArray(r, [3, 2])]);
      checkTransforms((p, q) => p.at(i32([2, 0, 2]), 1)[op](q), [X, v]);
    }
    // A traced index: vmap over rows; jit with the index as an argument.
    const setRow = (k: NdArray) => X.at(k).set(0);
    expectAllClose(vmap(setRow)(i32([0, 2])), np.stack([X.at(0).set(0), X.at(2).set(0)]));
    expectAllClose(
      jit((k: NdArray, u: NdArray) => X.at(null, k).add(u))(i32([3, 3]), np.ones([3, 2])),
      X.at(null, i32([3, 3])).add(1),
    );
    expect(() => X.at(0).set(np.ones([5]))).toThrow(
      /values of shape \[5\] cannot be broadcast to the indexed shape \[4\]/,
    );
    expect(() => X.astype("int32").at(0).set(0.5)).toThrow(/would change the array's dtype int32/);
  });
  it("np.where(cond) and np.nonzero return index arrays eagerly, refuse tracing", () => {
    const m = [
      [0, 3, 0],
      [2, 0, 1],
    ];
    const [p, q] = np.where(np.array(m));
    const coords: [number, number][] = [];
    m.forEach((row, i) => row.forEach((v, j) => v !== 0 && coords.push([i, j])));
    expectAllClose(
      p!,
      coords.map((c) => c[0]),
    );
    expectAllClose(
      q!,
      coords.map((c) => c[1]),
    );
    expect(() => jit((c: NdArray) => np.where(c)[0]!)(np.array([1, 0]))).toThrow(
      /np\.where: the number of non-zero entries/,
    );
    expect(() => (np.where as unknown as (c: number, x: number) => NdArray)(1, 2)).toThrow(
      InvalidArgumentError,
    );
    const [r, c] = np.nonzero(np.array(m));
    expectAllClose(
      r!,
      coords.map((x) => x[0]),
    );
    expectAllClose(
      c!,
      coords.map((x) => x[1]),
    );
  });
});

describe("bad input", () => {
  it("names the function and says what to do", () => {
    expect(() => np.tile(X, -1)).toThrow(/np\.tile: repetition counts must be >= 0/);
    expect(() => np.diff(X, -1)).toThrow(/np\.diff: order n must be >= 0/);
    expect(() => np.pad(X, 1, { mode: "mirror" as "edge" })).toThrow(
      /np\.pad: unknown mode "mirror"/,
    );
    expect(() => np.pad(np.zeros([0]), 1, { mode: "wrap" })).toThrow(ShapeError);
    expect(() => np.arraySplit(X, 0)).toThrow(/the number of sections must be > 0/);
    expect(() => np.rot90(X, 1, [0, 0])).toThrow(/np\.rot90: axes must be two different axes/);
    expect(() => np.searchsorted([1, 2], 1, { side: "middle" as "left" })).toThrow(
      /side must be "left" or "right"/,
    );
  });
});
