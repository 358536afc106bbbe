/**
 * The per-operation trace path (docs/design.md, "The first jit call,
 * round 6"): the tape's rows and argument offsets across its 4,096-entry
 * chunks, the backward pass's shared stand-ins for linear operands, results
 * returned in their simplest form by every trace, and jit's trace without
 * the scalar tangent sink. Each gradient is checked against forward mode
 * (jvp, which records no tape) or an analytic derivative.
 */
import { describe, expect, it } from "vitest";
import { type Array as NdArray, grad, jit, jvp, np, vmap } from "../src/index.js";

/** A long program on vectors: about 5 tape equations per step, so several chunks. */
function longProgram(steps: number) {
  return (x: NdArray): NdArray => {
    let y = x;
    for (let i = 0; i < steps; i++) {
      y = np.add(np.multiply(y, 0.999), np.multiply(np.sin(y), 0.001));
    }
    return np.sum(np.multiply(y, y));
  };
}

/** d f(x) / d x_i by forward mode, one basis vector at a time. */
function gradByJvp(f: (x: NdArray) => NdArray, x: number[]): number[] {
  return x.map((_, i) => {
    const e = x.map((_, j) => (j === i ? 1 : 0));
    return jvp(f, [np.array(x)], [np.array(e)])[1].item();
  });
}

function expectClose(actual: number[], expected: number[], rtol: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(Math.abs(a - expected[i]!)).toBeLessThanOrEqual(rtol * Math.abs(expected[i]!));
  });
}

describe("trace path", () => {
  const x = [0.3, -1.2, 2.5];
  // 2,500 steps: over 10,000 tape equations (three chunks), arrays of shape [3].
  const f = longProgram(2500);
  const reference = gradByJvp(f, x);

  it("eager grad over a tape of several chunks matches forward mode", () => {
    const g = grad(f)(np.array(x)).toArray() as number[];
    expectClose(g, reference, 1e-12);
  });

  it("jit(grad) over several chunks matches forward mode", () => {
    const g = jit(grad(f))(np.array(x)).toArray() as number[];
    expectClose(g, reference, 1e-12);
  });

  it("two linear operands of one equation (a shared stand-in) each get the cotangent", () => {
    // d/dx [sin x + sin x] = 2 cos x; d/dx [x * x - x] = 2x - 1: add and sub
    // with both operands linear, of one shape and dtype.
    const h = (v: NdArray) => np.add(np.sin(v), np.sin(v));
    const k = (v: NdArray) => np.subtract(np.multiply(v, v), v);
    for (const v of [0.7, -2.1]) {
      expect(grad(h)(v).item()).toBeCloseTo(2 * Math.cos(v), 14);
      expect(jit(grad(h))(v).item()).toBeCloseTo(2 * Math.cos(v), 14);
      expect(grad(k)(v).item()).toBeCloseTo(2 * v - 1, 14);
      expect(jit(grad(k))(v).item()).toBeCloseTo(2 * v - 1, 14);
    }
  });

  it("a value a trace adds nothing to comes back as the value itself", () => {
    // Under jvp, an operation on constants only has a zero tangent: the
    // result is the plain array, not a tracer of the jvp trace.
    const c = np.array([1, 2]);
    let inner: NdArray | null = null;
    jvp(
      (v: NdArray) => {
        inner = np.multiply(c, 3);
        return np.multiply(v, inner);
      },
      [np.array([1, 1])],
      [np.array([1, 0])],
    );
    expect(inner).not.toBeNull();
    expect((inner as unknown as { trace?: unknown }).trace).toBeUndefined();
    expect((inner as unknown as NdArray).toArray()).toEqual([3, 6]);
    // Under vmap, a result of unbatched operands stays unbatched (a plain array).
    const out = vmap((v: NdArray) => np.add(v, np.sum(c)))(np.array([1, 2, 3]));
    expect(out.toArray()).toEqual([4, 5, 6]);
  });
});
