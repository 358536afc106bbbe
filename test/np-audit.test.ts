/**
 * Regression tests for the differences a differential audit of `np` against
 * NumPy 2.4 found (calls run in both, values, shapes and dtypes compared).
 * Each expected value is computed another way: a plain JS loop, BigInt
 * arithmetic, an analytic value, or a NumPy value named by the call that
 * produced it; errors are checked by their messages.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  getBackend,
  InvalidArgumentError,
  jit,
  np,
  setBackend,
} from "../src/index.js";

const values = (x: NdArray): number[] => Array.from(x.data(), Number);
const i32 = (v: number[]) => np.array(v, { dtype: "int32" });

describe("weakly typed JS numbers beyond int32's range", () => {
  it("integer arithmetic with an int32 or bool array refuses them (NumPy's OverflowError)", () => {
    const x = i32([1, 2]);
    expect(() => np.add(x, 2 ** 40)).toThrow(InvalidArgumentError);
    expect(() => np.add(x, 2 ** 40)).toThrow(
      /np\.add: the number 1099511627776 does not fit in int32, the dtype it takes next to the int32 operand of shape \[2\]; convert that operand first, e.g\. x\.astype\("float64"\)/,
    );
    expect(() => np.multiply(2 ** 31, np.array([true, false]))).toThrow(
      /np\.multiply: the number 2147483648 does not fit in int32.*bool operand/,
    );
    expect(() => np.maximum(x, -(2 ** 31) - 1)).toThrow(/np\.maximum: the number -2147483649/);
    // The edges of int32 still go through, wrapping as NumPy's int32 does.
    const wrapped = np.add(i32([1, -1]), 2147483647);
    expect(wrapped.dtype).toBe("int32");
    expect(values(wrapped)).toEqual([(1 + 2147483647) | 0, 2147483646]);
    expect(values(np.subtract(i32([0]), -2147483648))).toEqual([(0 + 2147483648) | 0]);
  });

  it("float functions compute them in float64 (they used to wrap to an int32 first)", () => {
    const a = [1, -4, 0];
    const q = np.divide(i32(a), 1e10);
    expect(q.dtype).toBe("float64");
    expect(values(q)).toEqual(a.map((v) => v / 1e10));
    expect(values(np.divide(1e10, i32([4, -8])))).toEqual([1e10 / 4, 1e10 / -8]);
    expect(values(np.hypot(i32([3, -2]), 1e10))).toEqual([
      Math.hypot(3, 1e10),
      Math.hypot(-2, 1e10),
    ]);
    expect(values(np.arctan2(2 ** 40, i32([5, -5])))).toEqual([
      Math.atan2(2 ** 40, 5),
      Math.atan2(2 ** 40, -5),
    ]);
    expect(values(np.logaddexp(i32([0]), 2 ** 40))).toEqual([2 ** 40]);
  });

  it("comparisons and logical functions see their true value", () => {
    // 2^32 wrapped to 0 before: equal(0, 2^32) was true.
    expect(values(np.equal(i32([0, 5]), 2 ** 32))).toEqual([0, 0]);
    expect(values(np.less(i32([5, -5]), 2 ** 40))).toEqual([1, 1]);
    expect(values(np.greaterEqual(-(2 ** 40), i32([-2147483648])))).toEqual([0]);
    expect(values(np.notEqual(np.array([true]), 2 ** 33))).toEqual([1]);
    expect(values(np.logicalAnd(i32([0, 3]), 2 ** 32))).toEqual([0, 1]);
  });

  it("-0 keeps its sign in float functions of an int32 array (as NumPy's float -0.0)", () => {
    // atan2(y, -0) is pi for y = +0 and +-pi/2 otherwise (C99 Annex F).
    expect(values(np.arctan2(i32([-2, 2, 0]), -0))).toEqual([-Math.PI / 2, Math.PI / 2, Math.PI]);
    expect(values(np.copysign(i32([5, -3]), -0))).toEqual([-5, -3]);
    expect(Object.is(np.divide(-0, i32([3])).item(), -0)).toBe(true);
  });
});

describe("np.power at 1 and -1", () => {
  // C99 Annex F (pow): pow(+1, y) = 1 for any y, even NaN; pow(-1, +-inf) = 1.
  // NumPy agrees: np.power(1.0, np.nan) -> 1.0, np.power(-1.0, np.inf) -> 1.0.
  // JS's Math.pow gives NaN for all of these.
  const base = [1, 1, 1, -1, -1, -1, 2, 1];
  const exponent = [NaN, Infinity, -Infinity, Infinity, -Infinity, NaN, NaN, 0.5];
  const expected = [1, 1, 1, 1, 1, NaN, NaN, 1];

  it("eagerly, in float64 and float32", () => {
    expect(values(np.power(base, exponent))).toEqual(expected);
    const f32 = np.power(
      np.array(base, { dtype: "float32" }),
      np.array(exponent, { dtype: "float32" }),
    );
    expect(f32.dtype).toBe("float32");
    expect(values(f32)).toEqual(expected);
    expect(np.power(1, NaN).item()).toBe(1);
  });

  it("under jit (the generated code) and on the js backend", () => {
    const f = jit((a: NdArray, b: NdArray) => np.power(a, b));
    expect(values(f(np.array(base), np.array(exponent)))).toEqual(expected);
    const before = getBackend();
    setBackend("js");
    try {
      expect(values(np.power(base, exponent))).toEqual(expected);
      expect(values(f(np.array(base), np.array(exponent)))).toEqual(expected);
    } finally {
      setBackend(before);
    }
  });
});

describe("nanSum and nanMean take { axis, keepdims } as the other reductions do", () => {
  const rows = [
    [1, NaN, 2],
    [NaN, NaN, 3],
  ];
  const x = np.array(rows);
  // plain loops over the rows / columns, skipping NaN
  const rowSums = rows.map((r) => r.filter((v) => !Number.isNaN(v)).reduce((s, v) => s + v, 0));
  const colMeans = [0, 1, 2].map((j) => {
    const kept = rows.map((r) => r[j]!).filter((v) => !Number.isNaN(v));
    return kept.length === 0 ? NaN : kept.reduce((s, v) => s + v, 0) / kept.length;
  });

  it("matches a plain loop", () => {
    const s = np.nanSum(x, { axis: 1, keepdims: true });
    expect(s.shape).toEqual([2, 1]);
    expect(values(s)).toEqual(rowSums);
    expect(values(np.nanMean(x, { axis: 0 }))).toEqual(colMeans);
    expect(values(np.nanSum(x, { axis: -1 }))).toEqual(values(np.nanSum(x, -1)));
    expect(np.nanMean(x, { keepdims: true }).shape).toEqual([1, 1]);
  });

  it("an axis that is neither a number, a list nor null is a clear error", () => {
    const bad = { axes: 1 } as unknown as number;
    expect(() => np.flip(x, bad)).toThrow(InvalidArgumentError);
    expect(() => np.flip(x, bad)).toThrow(
      /np\.flip: an axis must be an integer, got object \{"axes":1\}/,
    );
  });
});

describe("variance and std with ddof >= n", () => {
  it("divide by max(n - ddof, 0), as NumPy (never a negative variance)", () => {
    // np.var([1, 2, 3, 4], ddof=5) -> inf; np.var([2, 2, 2], ddof=3) -> nan
    expect(np.variance([1, 2, 3, 4], null, { ddof: 5 }).item()).toBe(Infinity);
    expect(np.std([1, 2, 3, 4], null, { ddof: 4 }).item()).toBe(Infinity);
    expect(np.variance([2, 2, 2], null, { ddof: 3 }).item()).toBeNaN();
    // ddof < n is unchanged: sum of squared deviations / (n - ddof) by hand
    expect(np.variance([1, 2, 3, 4], null, { ddof: 1 }).item()).toBeCloseTo(5 / 3, 14);
  });
});

describe("floor, ceil, trunc and round of integers keep the integer dtype", () => {
  it("int32 and bool come back unchanged (NumPy 2 and JAX)", () => {
    const x = i32([-3, 0, 7]);
    for (const f of [np.floor, np.ceil, np.trunc, (v: NdArray) => np.round(v, 2)]) {
      const y = f(x);
      expect(y.dtype).toBe("int32");
      expect(values(y)).toEqual([-3, 0, 7]);
    }
    const b = np.floor(np.array([true, false]));
    expect(b.dtype).toBe("bool");
    expect(values(np.round(np.array([true, false])))).toEqual([1, 0]);
  });

  it("round with negative decimals rounds integers half to even, in int32", () => {
    // np.round(np.array([15, 25, -35, 1234], np.int32), -1) -> [20, 20, -40, 1230]
    const y = np.round(i32([15, 25, -35, 1234]), -1);
    expect(y.dtype).toBe("int32");
    expect(values(y)).toEqual([20, 20, -40, 1230]);
  });

  it("floats are unchanged", () => {
    expect(values(np.floor([-1.5, 1.5]))).toEqual([-2, 1]);
    expect(values(np.trunc(np.array([-1.7, 1.7], { dtype: "float32" })))).toEqual([-1, 1]);
  });
});

describe("dot and outer keep a JS number weakly typed", () => {
  it("int32 stays int32, float32 stays float32 (as np.multiply)", () => {
    const d = np.dot(i32([1, 2, 3]), 2);
    expect(d.dtype).toBe("int32");
    expect(values(d)).toEqual([2, 4, 6]);
    const o = np.outer(i32([1, 2]), 3);
    expect(o.dtype).toBe("int32");
    expect(o.shape).toEqual([2, 1]);
    expect(values(o)).toEqual([3, 6]);
    expect(np.outer(np.array([1, 2], { dtype: "float32" }), 0.5).dtype).toBe("float32");
  });
});

describe("np.vander of a bool vector", () => {
  it("is the int32 matrix of powers (it raised a multiply error)", () => {
    const x = [false, true, true];
    const v = np.vander(np.array(x), 3);
    expect(v.dtype).toBe("int32");
    // x^(N-1-j) by a plain loop, with 0^0 = 1
    const expected = x.flatMap((b) => [2, 1, 0].map((p) => (p === 0 ? 1 : b ? 1 : 0)));
    expect(values(v)).toEqual(expected);
  });
});

describe("int32 matrix products wrap around as NumPy's int32", () => {
  const bigintDot = (a: number[], b: number[]) => {
    let s = 0n;
    a.forEach((v, i) => (s += BigInt(v) * BigInt(b[i]!)));
    return Number(BigInt.asIntN(32, s));
  };
  const rowA = [2147483647, 2147483647, 3];
  const rowB = [5, -2147483648, 7];

  const initial = getBackend();
  afterEach(() => {
    setBackend(initial);
  });

  for (const backend of ["js", "wasm"] as const) {
    it(`on ${backend}: products past 2^53 keep their low bits`, () => {
      setBackend(backend);
      const a = i32([...rowA, ...rowB]).reshape([2, 3]);
      const p = np.matmul(a, a.T);
      expect(p.dtype).toBe("int32");
      expect(values(p)).toEqual([
        bigintDot(rowA, rowA),
        bigintDot(rowA, rowB),
        bigintDot(rowB, rowA),
        bigintDot(rowB, rowB),
      ]);
      expect(np.matmul(i32(rowA), i32(rowA)).item()).toBe(bigintDot(rowA, rowA));
    });
  }
});

describe("np.gradient with coordinates given as an Array", () => {
  // f = x^2 at uneven points: the second-order formulas are exact for a
  // quadratic, so the gradient is 2x (edgeOrder 2 also at the ends).
  const xs = [0, 1, 3, 4];
  const f = xs.map((v) => v * v);

  it("a concrete Array works as the list of numbers does", () => {
    const expected = xs.map((v) => 2 * v);
    const viaArray = np.gradient(f, { spacing: [np.array(xs)], edgeOrder: 2 }) as NdArray;
    expect(values(viaArray).map((v) => Math.round(v * 1e12) / 1e12)).toEqual(expected);
    const alone = np.gradient(f, { spacing: np.array(xs), edgeOrder: 2 }) as NdArray;
    expect(values(alone)).toEqual(values(viaArray));
    // a 0-d Array is a uniform step, as a number is
    expect(values(np.gradient(f, { spacing: np.array(0.5) }) as NdArray)).toEqual(
      values(np.gradient(f, { spacing: 0.5 }) as NdArray),
    );
  });

  it("a traced Array is a clear error", () => {
    const g = jit((c: NdArray) => np.gradient(f, { spacing: [c] }) as NdArray);
    expect(() => g(np.array(xs))).toThrow(InvalidArgumentError);
    expect(() => g(np.array(xs))).toThrow(
      /np\.gradient: spacing must be numbers or concrete 1-D coordinates, got a traced Array; pass the coordinates as a list of numbers/,
    );
  });
});

describe("np.columnStack of arrays of rank >= 3", () => {
  it("joins them along axis 1, as NumPy", () => {
    const a = np.arange(24).reshape([2, 3, 4]);
    const b = np.arange(8).reshape([2, 1, 4]);
    const c = np.columnStack([a, b]);
    expect(c.shape).toEqual([2, 4, 4]);
    expect(values(c)).toEqual(values(np.concatenate([a, b], 1)));
  });
});

describe("contractions of bool arrays are bool, as NumPy's and JAX's", () => {
  // any_k a[i, k] && b[k, j] by a plain loop
  const A = [
    [true, false, true],
    [false, false, false],
  ];
  const B = [
    [false, true],
    [false, true],
    [true, false],
  ];
  const expected = A.flatMap((row) =>
    [0, 1].map((j) => (row.some((v, k) => v && B[k]![j]!) ? 1 : 0)),
  );
  const a = np.array(A);
  const b = np.array(B);

  it("matmul, dot, tensordot, inner and einsum", () => {
    for (const out of [
      np.matmul(a, b),
      np.dot(a, b),
      np.tensordot(a, b, 1),
      np.inner(a, np.transpose(b)),
      np.einsum("ik,kj->ij", a, b),
    ]) {
      expect(out.dtype).toBe("bool");
      expect(out.shape).toEqual([2, 2]);
      expect(values(out)).toEqual(expected);
    }
    // the rank-3 dot (sum over the last axis of a and the second-to-last of b)
    const d3 = np.dot(np.reshape(a, [1, 2, 3]), b);
    expect(d3.dtype).toBe("bool");
    expect(values(d3)).toEqual(expected);
    // under jit as well
    expect(values(jit((p: NdArray, q: NdArray) => np.matmul(p, q))(a, b))).toEqual(expected);
  });
});

describe("np.diff of a bool array", () => {
  it("is x[i + 1] != x[i], applied n times (NumPy's and JAX's not_equal)", () => {
    const x = [true, true, false, true, false, false];
    const step = (v: boolean[]) => v.slice(1).map((b, i) => b !== v[i]);
    const once = np.diff(np.array(x));
    expect(once.dtype).toBe("bool");
    expect(values(once)).toEqual(step(x).map(Number));
    expect(values(np.diff(np.array(x), 2))).toEqual(step(step(x)).map(Number));
    const m = np.diff(np.array([x, x.map((b) => !b)]), 1, 0);
    expect(values(m)).toEqual(x.map(() => 1));
  });
});

describe("np.clip of an int32 array with a bound beyond int32", () => {
  it("ignores a bound on the far side, as NumPy (np.clip(a, 0, 10**10) -> [1, 0, 7])", () => {
    const a = [1, -5, 7];
    const byLoop = (lo: number, hi: number) => a.map((v) => Math.min(Math.max(v, lo), hi));
    const up = np.clip(i32(a), 0, 1e10);
    expect(up.dtype).toBe("int32");
    expect(values(up)).toEqual(byLoop(0, 1e10));
    expect(values(np.clip(i32(a), -1e10, 3))).toEqual(byLoop(-1e10, 3));
  });
  it("a bound on the near side is the weak-integer error", () => {
    expect(() => np.clip(i32([1]), 1e10, null)).toThrow(
      /np\.maximum: the number 10000000000 does not fit in int32/,
    );
  });
});
