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
  EscapedTracerError,
  InvalidArgumentError,
  ShapeError,
  grad,
  jacrev,
  jit,
  jvp,
  np,
  setBackend,
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
    expect(jacrev(f)(np.ones([3])).shape).toEqual([3, 3]);
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
    // @ts-expect-error -- rejected by the types too; the run-time check covers JS callers
    expect(() => grad((x: NdArray) => x)("abc")).toThrow(InvalidArgumentError);
  });
  it("unknown dtype", () => {
    expect(() => np.zeros([2], "float16" as never)).toThrow(/unknown dtype.*float64/);
    expect(() => np.ones([2], { dtype: "half" as never })).toThrow(/np\.ones: unknown dtype half/);
  });
  it("creation functions take the dtype positionally or as { dtype }", () => {
    // Both spellings give the same array as np.array with that dtype.
    const cases: [string, NdArray, NdArray][] = [
      ["zeros", np.zeros([2, 3], { dtype: "float32" }), np.zeros([2, 3], "float32")],
      ["ones", np.ones(3, { dtype: "int32" }), np.array([1, 1, 1], { dtype: "int32" })],
      ["full", np.full([2], 7, { dtype: "int32" }), np.array([7, 7], { dtype: "int32" })],
      [
        "arange",
        np.arange(0, 3, 1, { dtype: "float32" }),
        np.array([0, 1, 2], { dtype: "float32" }),
      ],
      ["onesLike", np.onesLike(np.zeros([2], "int32"), {}), np.array([1, 1], { dtype: "int32" })],
    ];
    for (const [name, got, want] of cases) {
      expect([name, got.dtype, got.shape, got.toArray()]).toEqual([
        name,
        want.dtype,
        want.shape,
        want.toArray(),
      ]);
    }
  });
});

describe("more misuse, each with a message that says what to do", () => {
  it("a tracer that escapes its transformation", () => {
    let leaked: NdArray | undefined;
    grad((x: NdArray) => {
      leaked = x;
      return np.sin(x);
    })(1);
    expect(() => np.sin(leaked!)).toThrow(EscapedTracerError);
    expect(() => np.sin(leaked!)).toThrow(/used outside the transformation.*Return it/);
  });
  it("shape functions name the shapes", () => {
    const x = np.ones([2, 3]);
    expect(() => np.transpose(x, [0, 0])).toThrow(/not a permutation.*\[2, 3\]/);
    expect(() => np.concatenate([x, np.ones([3, 3])], 1)).toThrow(
      /agree except along axis 1.*\[2, 3\], \[3, 3\]/,
    );
    expect(() => np.stack([x, np.ones([3, 2])])).toThrow(/same shape.*\[2, 3\], \[3, 2\]/);
    expect(() => np.squeeze(x, 0)).toThrow(/axis 0 of shape \[2, 3\] has size 2, not 1/);
    expect(() => np.broadcastTo(x, [3])).toThrow(/cannot broadcast shape \[2, 3\] to \[3\]/);
    expect(() => np.slice(x, 5)).toThrow(/index 5 is out of bounds for axis 0 of size 2/);
    expect(() => np.slice(x, [0, 2, 0])).toThrow(/step 0 on axis 0 must be a non-zero integer/);
    expect(() => np.array([1, 2, 3], { shape: [2, 2] })).toThrow(
      /shape \[2, 2\] needs 4 elements but the data has 3/,
    );
    expect(() => np.arange(0, 3, 0)).toThrow(/step must not be 0/);
    expect(() => np.max(np.ones([0]))).toThrow(/cannot reduce an empty axis/);
  });
  it("dtypes name the dtype", () => {
    expect(() => np.add(np.array([true]), np.array([false]))).toThrow(DTypeError);
    expect(() => np.add(np.array([true]), np.array([false]))).toThrow(
      /bool arrays.*astype\("int32"\)/,
    );
    expect(() => np.take(np.arange(3), np.array([0.5]))).toThrow(
      /indices must be integers, got dtype float64/,
    );
    expect(() => np.ones([3]).item()).toThrow(
      /expected an array with one element, got shape \[3\]/,
    );
  });
  it("transformation options", () => {
    // @ts-expect-error -- rejected by the types too; the run-time check covers JS callers
    expect(() => vmap((x: NdArray) => x)(np.array(1), 2)).toThrow(
      /is a scalar \(shape \[\]\) but inAxes asks/,
    );
    expect(() => vmap((x: NdArray) => x, { inAxes: null })(np.ones([2]))).toThrow(
      /no argument is mapped/,
    );
    expect(() => vmap((x: NdArray) => x, { outAxes: null })(np.ones([2]))).toThrow(
      /batched but outAxes says null/,
    );
    // @ts-expect-error -- rejected by the types too; the run-time check covers JS callers
    expect(() => grad((x: NdArray) => np.sin(x), { hasAux: true })(1)).toThrow(
      /hasAux, f must return a pair/,
    );
    expect(() => jit((x: NdArray) => x, { staticArgnums: 3 })(1)).toThrow(
      /staticArgnums 3 is out of range/,
    );
    const [, pullback] = vjp((x: NdArray) => [np.sin(x), x], 1);
    // @ts-expect-error -- rejected by the types too; the run-time check covers JS callers
    expect(() => pullback(1)).toThrow(/cotangent's structure .* differs from the output's/);
  });
  it("backend names", () => {
    expect(() => setBackend("gpu")).toThrow(/unknown backend "gpu"; available: js/);
    // The message lists the Wasm backend too, where the engine has WebAssembly SIMD, and
    // webgpu (which is asynchronous: test/webgpu.test.ts checks its rejection in Node).
    expect(() => setBackend("cuda")).toThrow(/available: js, wasm, webgpu$/);
  });
});
