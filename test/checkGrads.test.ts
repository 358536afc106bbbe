/**
 * checkGrads accepts correct derivatives and catches wrong ones.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ChainruleError,
  checkGrads,
  customJvp,
  nn,
  np,
} from "../src/index.js";

describe("checkGrads", () => {
  it("accepts correct derivatives to second order, both modes, pytrees and float32", () => {
    const f = (p: { w: NdArray; b: NdArray }, x: NdArray) =>
      nn.softmax(np.add(np.matmul(x, p.w), p.b));
    const params = {
      w: np.array([
        [0.3, -0.2],
        [0.1, 0.5],
        [-0.4, 0.2],
      ]),
      b: np.array([0.1, -0.1]),
    };
    const report = checkGrads(f, [params, np.array([[1, 2, 3]])]);
    expect(Object.keys(report.errors).sort()).toEqual(["fwd/1", "fwd/2", "rev/1", "rev/2"]);
    for (const e of Object.values(report.errors)) expect(e).toBeLessThan(1e-6);
    const r32 = checkGrads(
      (x: NdArray) => np.tanh(np.multiply(x, x)),
      [np.array([0.5, -1], { dtype: "float32" })],
      { order: 1 },
    );
    expect(r32.errors["rev/1"]).toBeLessThan(2e-2);
  });
  it("catches a wrong derivative rule", () => {
    // sin with the derivative of cos: wrong by construction
    const badSin = customJvp(
      (x) => np.sin(x),
      ([x], [t]) => [np.sin(x), np.multiply(t, np.negative(np.sin(x)))],
    );
    expect(() => checkGrads(badSin, [np.array([0.3, 1.2])], { order: 1 })).toThrow(ChainruleError);
    expect(() => checkGrads(badSin, [np.array([0.3, 1.2])], { order: 1, modes: ["rev"] })).toThrow(
      /rev\/1 mismatch/,
    );
  });
});
