/**
 * Regression tests for np and nn inputs that used to give silently wrong
 * answers: softmax at large inputs, out-of-range class labels, malformed
 * shape arguments, and matmul/dot errors that named the wrong function or
 * the wrong shapes. Expected values come from closed forms in float64 or
 * from finite differences.
 */
import { describe, expect, it } from "vitest";
import {
  InvalidArgumentError,
  ShapeError,
  grad,
  jacfwd,
  jacrev,
  jit,
  nn,
  np,
} from "../src/index.js";
import { expectAllClose, fdJacobian, flat } from "./helpers.js";

describe("softmax family at large inputs", () => {
  it("float32 logSoftmax and softmax of [1e6, 1e6] are log(1/2) and 1/2", () => {
    const x = np.array([1e6, 1e6], { dtype: "float32" });
    // float32 has about 7 significant digits: compare at float32 precision
    expectAllClose(nn.logSoftmax(x), [Math.log(0.5), Math.log(0.5)], 1e-6);
    expectAllClose(nn.softmax(x), [0.5, 0.5], 1e-6);
  });

  it("float32 logSoftmax of [1e6, 1e6 + 1] matches the float64 closed form", () => {
    // softmax is shift-invariant: the answer is that of [0, 1]
    const lse = Math.log(1 + Math.E);
    const out = nn.logSoftmax(np.array([1e6, 1e6 + 1], { dtype: "float32" }));
    expect(out.dtype).toBe("float32");
    expectAllClose(out, [-lse, 1 - lse], 1e-6);
  });

  it("rows far from 0 along an axis (float64) agree with the shifted rows", () => {
    const big = np.array([
      [1e300, 1e300],
      [-3, 2],
    ]);
    const expected = [Math.log(0.5), Math.log(0.5)];
    const row1 = [-3, 2].map((v) => v - 2 - Math.log(1 + Math.exp(-5)));
    expectAllClose(nn.logSoftmax(big, 1), [...expected, ...row1], 1e-14);
    expectAllClose(
      nn.softmax(big, 0),
      [1, 1, 0, 0],
      0,
      0, // exp(-1e300) underflows to exactly 0
    );
  });

  it("derivatives at large inputs match finite differences (forward and reverse)", () => {
    const x = np.array([1000, 1001.5, 999.25, 1000.75]);
    for (const f of [(v: np.ArrayLike) => nn.logSoftmax(v), (v: np.ArrayLike) => nn.softmax(v)]) {
      const fd = fdJacobian((v) => f(v), x, 1e-5);
      expectAllClose(jacrev(f)(x), fd, 1e-6, 1e-8);
      expectAllClose(jacfwd(f)(x), fd, 1e-6, 1e-8);
    }
  });

  it("the derivative of crossEntropy is softmax minus the one-hot labels", () => {
    const logits = np.array([[500, 501, 499]]);
    const g = grad((z: np.ArrayLike) => nn.crossEntropy(z, np.array([1], { dtype: "int32" })))(
      logits,
    );
    const e = [Math.exp(-1), 1, Math.exp(-2)];
    const s = e.reduce((a, b) => a + b, 0);
    expectAllClose(g, [e[0]! / s, e[1]! / s - 1, e[2]! / s], 1e-12, 1e-14);
  });
});

describe("nn.crossEntropy labels", () => {
  const logits = np.array([
    [1, 2, 3],
    [0, 0, 1],
  ]);
  it.each([
    [[0, 5], "label 5 at position 1", "int32"],
    [[-1, 0], "label -1 at position 0", "int32"],
    [[0, 1.5], "label 1.5 at position 1", "float64"],
  ] as const)("refuses labels %j (%s)", (labels, named, dtype) => {
    const y = np.array([...labels], { dtype });
    expect(() => nn.crossEntropy(logits, y)).toThrow(InvalidArgumentError);
    expect(() => nn.crossEntropy(logits, y)).toThrow(named);
    expect(() => nn.crossEntropy(logits, y)).toThrow(/3 classes.*integers 0\.\.2/);
  });

  it("under jit (traced labels, not checkable) in-range labels give the eager loss", () => {
    const labels = np.array([2, 0], { dtype: "int32" });
    const traced = jit((z: np.ArrayLike, y: np.ArrayLike) => nn.crossEntropy(z, y));
    expectAllClose(traced(logits, labels), nn.crossEntropy(logits, labels), 1e-15);
  });

  it("in-range labels still give the mean of -log softmax at the label", () => {
    const rows = [
      [1, 2, 3],
      [0, 0, 1],
    ];
    const labels = [2, 0];
    const expected =
      rows
        .map((r, i) => {
          const lse = Math.log(r.reduce((a, v) => a + Math.exp(v), 0));
          return lse - r[labels[i]!]!;
        })
        .reduce((a, b) => a + b, 0) / rows.length;
    expectAllClose(nn.crossEntropy(logits, np.array(labels, { dtype: "int32" })), expected, 1e-14);
  });
});

describe("shape arguments", () => {
  const x = np.arange(12);
  it.each([
    [[-1, -1], /more than one -1/],
    [[-2, -6], /negative size -2 at position 0/],
    [[2.5, 4], /size 2.5 at position 0 that is not an integer/],
    [[3, "4"], /non-number at position 1/],
    [[NaN, 12], /NaN at position 0/],
    [[5, -1], /cannot reshape.*\[5, -1\]/],
  ] as const)("np.reshape refuses %j", (shape, message) => {
    const bad = shape as unknown as number[];
    expect(() => np.reshape(x, bad)).toThrow(ShapeError);
    expect(() => np.reshape(x, bad)).toThrow(/^np\.reshape: /);
    expect(() => np.reshape(x, bad)).toThrow(message);
  });

  it("x.reshape(20, 6) takes separate sizes like NumPy, with -1 allowed", () => {
    const a = np.arange(120);
    const viaList = a.reshape([20, 6]);
    const viaSizes = a.reshape(20, 6);
    expect(viaSizes.shape).toEqual([20, 6]);
    expect(a.reshape(-1, 6).shape).toEqual([20, 6]);
    expect(np.reshape(a, 4, -1, 5).shape).toEqual([4, 6, 5]);
    // element (i, j) of a row-major [20, 6] view of 0..119 is 6 i + j
    const expected: number[] = [];
    for (let i = 0; i < 20; i++) for (let j = 0; j < 6; j++) expected.push(6 * i + j);
    expect(flat(viaSizes)).toEqual(expected);
    expect(flat(viaList)).toEqual(expected);
  });

  it("creation functions refuse bad shapes with a ShapeError naming them", () => {
    const bad = (fn: () => unknown, name: string, message: RegExp) => {
      expect(fn).toThrow(ShapeError);
      expect(fn).toThrow(new RegExp(`^np\\.${name}: shape`));
      expect(fn).toThrow(message);
    };
    bad(() => np.zeros([2, -3]), "zeros", /negative size -3/);
    bad(() => np.ones([1.5]), "ones", /not an integer/);
    bad(() => np.full(["2" as unknown as number], 1), "full", /non-number/);
    bad(() => np.eye(-2), "eye", /negative size -2/);
    bad(() => np.linspace(0, 1, 2.5), "linspace", /not an integer/);
    bad(() => np.broadcastTo(np.ones([2]), [3, -2]), "broadcastTo", /negative/);
    bad(() => np.array([1, 2], { shape: [-2] }), "array", /negative/);
    bad(() => np.zeros(NaN), "zeros", /NaN/);
  });

  it("np.zeros([1e6, 1e6]) is a ShapeError, not a raw RangeError", () => {
    expect(() => np.zeros([1e6, 1e6])).toThrow(ShapeError);
    expect(() => np.zeros([1e6, 1e6])).toThrow(/\[1000000, 1000000\].*1000000000000 elements/);
    expect(() => np.ones([2 ** 20, 2 ** 20], "float32")).toThrow(ShapeError);
  });

  it("np.arange refuses non-finite bounds instead of returning shape [NaN]", () => {
    expect(() => np.arange(NaN)).toThrow(InvalidArgumentError);
    expect(() => np.arange(NaN)).toThrow(/np\.arange: stop must be a finite number, got NaN/);
    expect(() => np.arange(0, Infinity)).toThrow(/stop must be a finite number/);
    expect(() => np.arange(0, 1, NaN)).toThrow(/step must be a finite number/);
    // still fine: the length is ceil((stop - start) / step)
    expect(np.arange(0, 1, 0.25).shape).toEqual([Math.ceil(1 / 0.25)]);
    expect(np.arange(5, 0).shape).toEqual([0]);
  });
});

describe("matrix product errors", () => {
  it("np.dot names np.dot", () => {
    expect(() => np.dot(np.ones([2, 3]), np.ones([4, 2]))).toThrow(ShapeError);
    expect(() => np.dot(np.ones([2, 3]), np.ones([4, 2]))).toThrow(
      /^np\.dot: inner dimensions do not match: shapes \[2, 3\] and \[4, 2\] \(3 vs 4\)/,
    );
  });

  it("a batch mismatch reports the full shapes and the disagreeing dimensions", () => {
    const f = () => np.matmul(np.ones([2, 3, 4]), np.ones([5, 4, 2]));
    expect(f).toThrow(ShapeError);
    expect(f).toThrow(/^np\.matmul: .*shapes \[2, 3, 4\] and \[5, 4, 2\]/);
    expect(f).toThrow(/is 2 in the first and 5 in the second/);
    // NumPy's dot contracts a's last axis with b's second-to-last: [2,3,4]·[5,4,2] is fine.
    expect(np.dot(np.ones([2, 3, 4]), np.ones([5, 4, 2])).shape).toEqual([2, 3, 5, 2]);
    expect(() => np.dot(np.ones([2, 3, 4]), np.ones([5, 3, 2]))).toThrow(/^np\.dot: /);
  });
});
