/**
 * Misuse gives a clear error: the right Error subclass, a message naming the
 * function and the shapes/dtypes involved, and advice on what to do instead.
 * Never a NaN or undefined where an error is due.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ConcretizationError,
  DTypeError,
  InvalidArgumentError,
  ShapeError,
  grad,
  jacrev,
  jit,
  jvp,
  np,
  vjp,
  vmap,
} from "../src/index.js";

describe("shapes", () => {
  it("broadcasting mismatch names both shapes", () => {
    const a = np.ones([2, 3]);
    const b = np.ones([4]);
    expect(() => np.add(a, b)).toThrow(ShapeError);
    expect(() => np.add(a, b)).toThrow(/np\.add.*\[2, 3\].*\[4\].*broadcast/);
    expect(() => a.mul(b)).toThrow(/np\.multiply.*\[2, 3\].*\[4\]/);
  });
  it("matmul inner-dimension mismatch names shapes and the rule", () => {
    const a = np.ones([2, 3]);
    const b = np.ones([4, 5]);
    expect(() => np.matmul(a, b)).toThrow(ShapeError);
    expect(() => np.matmul(a, b)).toThrow(/np\.matmul.*\[2, 3\].*\[4, 5\].*3 vs 4/);
    expect(() => a.matmul(b)).toThrow(/matmul/);
    expect(() => np.matmul(2, a)).toThrow(/at least 1-D/);
  });
  it("reshape to a different size", () => {
    expect(() => np.reshape(np.ones([2, 3]), [4, 2])).toThrow(ShapeError);
    expect(() => np.ones([2, 3]).reshape([4, 2])).toThrow(
      /\[2, 3\].*6 elements.*\[4, 2\].*8 elements/,
    );
  });
  it("axis out of range", () => {
    expect(() => np.sum(np.ones([2, 3]), 2)).toThrow(/axis 2 is out of range.*rank 2/);
  });
  it("take with an out-of-range index", () => {
    expect(() => np.take(np.arange(3), [0, 5])).toThrow(/index 5 is out of bounds.*length 3/);
  });
});

describe("transformations", () => {
  it("grad of a non-scalar output suggests jacrev or vjp", () => {
    const f = (x: NdArray) => np.sin(x);
    expect(() => grad(f)(np.ones([3]))).toThrow(ShapeError);
    expect(() => grad(f)(np.ones([3]))).toThrow(
      /grad requires a scalar output, got shape \[3\]; use jacrev or vjp/,
    );
    // jacrev is the working alternative
    expect((jacrev(f)(np.ones([3])) as NdArray).shape).toEqual([3, 3]);
  });
  it("grad with respect to an int32 or bool input names the dtype", () => {
    const f = (x: NdArray) => np.sum(np.multiply(x, 2));
    expect(() => grad(f)(np.array([1, 2], { dtype: "int32" }))).toThrow(DTypeError);
    expect(() => grad(f)(np.array([1, 2], { dtype: "int32" }))).toThrow(
      /argument 0.*dtype int32.*astype/,
    );
    expect(() => grad(f)(np.array([true, false]))).toThrow(/dtype bool/);
  });
  it("argnums out of range names the count", () => {
    const f = (x: NdArray, y: NdArray) => np.multiply(x, y);
    expect(() => grad(f, { argnums: 2 })(1, 2)).toThrow(InvalidArgumentError);
    expect(() => grad(f, { argnums: 2 })(1, 2)).toThrow(/argnums 2 is out of range.*2 arguments/);
  });
  it("vmap with disagreeing axis sizes names both sizes", () => {
    const f = (a: NdArray, b: NdArray) => np.add(a, b);
    expect(() => vmap(f)(np.ones([3, 2]), np.ones([4, 2]))).toThrow(ShapeError);
    expect(() => vmap(f)(np.ones([3, 2]), np.ones([4, 2]))).toThrow(/size 3.*size 4/);
  });
  it("if/else on a batched value inside vmap is refused clearly", () => {
    const f = (x: NdArray) => (x.item() > 0 ? x : np.negative(x));
    expect(() => vmap(f)(np.array([1, -2]))).toThrow(ConcretizationError);
    expect(() => vmap(f)(np.array([1, -2]))).toThrow(/differs per batch element.*np\.where/);
  });
  it("jit of value-dependent control flow suggests lax.cond or staticArgnums", () => {
    const f = (x: NdArray) => (x.item() > 0 ? x : np.negative(x));
    expect(() => jit(f)(1)).toThrow(ConcretizationError);
    expect(() => jit(f)(1)).toThrow(/lax\.cond.*staticArgnums/);
  });
  it("implicit conversion of a traced value is refused instead of losing its derivative", () => {
    // `+x` would turn the tracer into a number and silently give a zero gradient.
    const f = (x: NdArray) => np.array(+x * 2);
    expect(() => grad(f)(3)).toThrow(ConcretizationError);
    expect(() => grad(f)(3)).toThrow(/lose its derivative/);
  });
  it("jvp with a tangent of the wrong shape names both shapes", () => {
    expect(() => jvp(np.sin, [np.ones([2])], [np.ones([3])])).toThrow(
      /tangent 0 has shape \[3\].*\[2\]/,
    );
  });
  it("a vjp cotangent of the wrong shape names both shapes", () => {
    const [, pullback] = vjp((x: NdArray) => np.sin(x), np.ones([2]));
    expect(() => pullback(np.ones([3]))).toThrow(/cotangent 0 has shape \[3\].*\[2\]/);
  });
});

describe("values that are not arrays", () => {
  it("ragged nested arrays", () => {
    expect(() => np.array([[1, 2], [3]])).toThrow(InvalidArgumentError);
    expect(() => np.array([[1, 2], [3]])).toThrow(/ragged.*element \[1\].*length 1.*length 2/);
  });
  it("undefined, strings, objects and functions", () => {
    expect(() => np.add(undefined as never, 1)).toThrow(/np\.add: argument x1.*got undefined/);
    expect(() => np.sin("abc" as never)).toThrow(/np\.sin.*the string "abc"/);
    expect(() => np.array({ a: 1 } as never)).toThrow(/np\.array.*an object/);
    expect(() => np.exp((() => 1) as never)).toThrow(/a function/);
    expect(() => np.array([1, "x"] as never)).toThrow(/element \[1\] is the string "x"/);
    expect(() => grad((x: NdArray) => x)("abc")).toThrow(InvalidArgumentError);
  });
  it("unknown dtype", () => {
    expect(() => np.zeros([2], "float16" as never)).toThrow(/unknown dtype.*float64/);
  });
});
