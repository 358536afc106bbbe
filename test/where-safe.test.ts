/**
 * NaN-safe where: the unselected side of a where contributes a structural
 * zero to the gradient, even where its own derivative is infinite (jax#1052).
 * Expected values are analytic derivatives or float64 finite differences;
 * the regression guards check that genuine overflow still gives NaN and that
 * where with both sides in use is unchanged.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  grad,
  hessian,
  jacfwd,
  jacrev,
  jit,
  jvp,
  np,
  vjp,
  vmap,
} from "../src/index.js";
import { expectAllClose, fdJacobian, fdScalar } from "./helpers.js";

const safeSqrt = (x: NdArray) => np.where(np.greater(x, 0), np.sqrt(x), 0);
const safeLog = (x: NdArray) => np.where(np.greater(x, 0), np.log(x), 0);
// d/dx sqrt(x) = 1 / (2 sqrt x) for x > 0, and 0 on the constant side.
const dSafeSqrt = (x: number) => (x > 0 ? 0.5 / Math.sqrt(x) : 0);
// d2/dx2 sqrt(x) = -1 / (4 x^1.5)
const d2SafeSqrt = (x: number) => (x > 0 ? -0.25 / Math.pow(x, 1.5) : 0);

describe("where with a branch that is singular where it is not selected", () => {
  const xs = [0, -1, -0.25, 0.5, 4];
  it("grad and jit(grad) of where(x > 0, sqrt(x), 0) match the analytic derivative", () => {
    for (const x of xs) {
      expectAllClose(grad(safeSqrt)(x), dSafeSqrt(x), 1e-14);
      expectAllClose(jit(grad(safeSqrt))(x), dSafeSqrt(x), 1e-14);
    }
    // the positive side also against finite differences
    expectAllClose(
      grad(safeSqrt)(2),
      fdScalar((x) => Math.sqrt(x), 2),
      1e-8,
    );
  });
  it("where(x > 0, log(x), 0): gradient 1/x on the log side, 0 elsewhere", () => {
    for (const x of xs) {
      const expected = x > 0 ? 1 / x : 0;
      expectAllClose(grad(safeLog)(x), expected, 1e-14);
      expectAllClose(jit(grad(safeLog))(x), expected, 1e-14);
    }
  });
  it("vmap(grad), jacrev, vjp and jacfwd over a vector containing 0 and negatives", () => {
    const v = np.array(xs);
    const expected = xs.map(dSafeSqrt);
    expectAllClose(vmap(grad(safeSqrt))(v), expected, 1e-14);
    expectAllClose(jit(vmap(grad(safeSqrt)))(v), expected, 1e-14);
    // elementwise: the Jacobian is diagonal
    const diag = (d: number[]) => d.flatMap((di, i) => d.map((_, j) => (i === j ? di : 0)));
    expectAllClose(jacrev(safeSqrt)(v), diag(expected), 1e-14);
    expectAllClose(jit(jacrev(safeSqrt))(v), diag(expected), 1e-14);
    expectAllClose(jacfwd(safeSqrt)(v), diag(expected), 1e-14);
    const [, pullback] = vjp(safeSqrt, v);
    const ct = np.array([1, 2, 3, 4, 5]);
    expectAllClose(
      pullback(ct)[0],
      expected.map((d, i) => d * (i + 1)),
      1e-14,
    );
    // the sum of the branch through a reduction
    const total = (x: NdArray) => np.sum(safeSqrt(x));
    expectAllClose(grad(total)(v), expected, 1e-14);
    expectAllClose(jit(grad(total))(v), expected, 1e-14);
  });
  it("forward mode: the tangent of the unselected infinite-slope branch is not picked", () => {
    for (const x of xs) {
      expectAllClose(jvp(safeSqrt, [x], [1])[1], dSafeSqrt(x), 1e-14);
      expectAllClose(jit((t: NdArray) => jvp(safeSqrt, [x], [t])[1])(1), dSafeSqrt(x), 1e-14);
    }
  });
  it("second derivatives: grad of grad, jit(grad(grad)), hessian", () => {
    for (const x of xs) {
      expectAllClose(grad(grad(safeSqrt))(x), d2SafeSqrt(x), 1e-13);
      expectAllClose(jit(grad(grad(safeSqrt)))(x), d2SafeSqrt(x), 1e-13);
    }
    const v = np.array(xs);
    const h = hessian((x: NdArray) => np.sum(safeSqrt(x)))(v);
    const expected = xs.flatMap((xi, i) => xs.map((_, j) => (i === j ? d2SafeSqrt(xi) : 0)));
    expectAllClose(h, expected, 1e-13);
  });
  it("a structural zero survives scaling, negation and fan-out before the singular op", () => {
    // f(x) = where(x > 0, 3 * sqrt(x) - sqrt(x) / 2 + sqrt(x), -x): d = 3.5 / (2 sqrt x) or -1
    const f = (x: NdArray) => {
      const s = np.sqrt(x);
      return np.where(
        np.greater(x, 0),
        np.add(np.subtract(np.multiply(3, s), np.divide(s, 2)), s),
        np.negative(x),
      );
    };
    const d = (x: number) => (x > 0 ? (3.5 * 0.5) / Math.sqrt(x) : -1);
    for (const x of xs) {
      expectAllClose(grad(f)(x), d(x), 1e-14);
      expectAllClose(jit(grad(f))(x), d(x), 1e-14);
    }
    expectAllClose(vmap(grad(f))(np.array(xs)), xs.map(d), 1e-14);
  });
});

describe("structural zeros through movement, broadcasting and sums", () => {
  it("a scalar branch broadcast against a vector predicate (jit: traced masks)", () => {
    // f(s) = sum(where(v > 0, sqrt(s), 0)) = (number of v > 0) sqrt(s)
    const f = (s: NdArray, v: NdArray) => np.sum(np.where(np.greater(v, 0), np.sqrt(s), 0));
    const none = np.array([-1, 0, -2]);
    const some = np.array([-1, 3, 2]);
    expectAllClose(grad(f)(0, none), 0, 0);
    expectAllClose(jit(grad(f))(0, none), 0, 0);
    expectAllClose(jit(grad(f))(4, some), 2 * 0.25, 1e-14);
    // and where some entries are selected, the derivative at 0 is genuinely infinite
    expect(jit(grad(f))(0, some).item()).toBe(Infinity);
  });
  it("reshape, transpose and slices between the singular op and the where", () => {
    const f = (x: NdArray) => {
      const r = np.transpose(np.reshape(np.sqrt(x), [2, 3]));
      const xr = np.transpose(np.reshape(x, [2, 3]));
      return np.sum(np.where(np.greater(xr, 0), r, 0));
    };
    const g = (x: NdArray) => {
      const tail = np.slice(x, [1, null]);
      return np.sum(np.where(np.greater(tail, 0), np.log(tail), 0));
    };
    const xs = [0, 4, -1, 0, 1, 9];
    const v = np.array(xs);
    const df = xs.map(dSafeSqrt);
    const dg = xs.map((x, i) => (i > 0 && x > 0 ? 1 / x : 0));
    expectAllClose(grad(f)(v), df, 1e-14);
    expectAllClose(jit(grad(f))(v), df, 1e-14);
    // batched: two copies of the vector
    const both = np.stack([v, v]);
    expectAllClose(jit(vmap(grad(f)))(both), [...df, ...df], 1e-14);
    expectAllClose(grad(g)(v), dg, 1e-14);
    expectAllClose(jit(grad(g))(v), dg, 1e-14);
  });
});

describe("regression guards: numeric zeros are not structural", () => {
  it("grad of the naive log(1 + exp(x)) at x = 1000 stays NaN (overflow is not hidden)", () => {
    const naive = (x: NdArray) => np.log(np.add(1, np.exp(x)));
    expect(Number.isNaN(grad(naive)(1000).item())).toBe(true);
    expect(Number.isNaN(jit(grad(naive))(1000).item())).toBe(true);
    expect(Number.isNaN(vmap(grad(naive))(np.array([1000, 1])).data()[0])).toBe(true);
    // ...and is the logistic function where it does not overflow
    expectAllClose(grad(naive)(1), 1 / (1 + Math.exp(-1)), 1e-14);
  });
  it("a NaN on the selected side still propagates", () => {
    // sqrt(x) for x <= 0 is selected here: its derivative at 0 is inf, at -1 NaN
    const f = (x: NdArray) => np.where(np.less(x, 1), np.sqrt(x), 0);
    expect(grad(f)(0).item()).toBe(Infinity);
    expect(jit(grad(f))(0).item()).toBe(Infinity);
    expect(Number.isNaN(grad(f)(-1).item())).toBe(true);
  });
  it("where with both sides in use is unchanged (finite differences, eager, jit, vmap)", () => {
    const f = (x: NdArray) =>
      np.where(np.greater(x, 0.3), np.multiply(np.sin(x), x), np.exp(np.multiply(2, x)));
    const v = np.array([-1.3, 0.1, 0.29, 0.31, 2.5]);
    const fd = fdJacobian(f, v);
    expectAllClose(jacrev(f)(v), fd, 1e-7, 1e-9);
    expectAllClose(jit(jacrev(f))(v), fd, 1e-7, 1e-9);
    expectAllClose(jacfwd(f)(v), fd, 1e-7, 1e-9);
    const g = (x: NdArray) => np.sum(f(x));
    expectAllClose(vmap(grad(g))(np.reshape(v, [5, 1])), np.reshape(grad(g)(v), [5, 1]), 1e-14);
  });
});
