/**
 * customJvp and customVjp: user rules replace the derivative of f in every
 * transformation. Checked against analytic derivatives, finite differences
 * and the same computation without the custom rule.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ChainruleError,
  checkpoint,
  customJvp,
  customVjp,
  grad,
  hessian,
  jit,
  jvp,
  linearize,
  makeJaxpr,
  nn,
  np,
  vmap,
} from "../src/index.js";
import { expectAllClose, fdScalar } from "./helpers.js";

// log(1 + e^x): the naive derivative e^x / (1 + e^x) is inf/inf = NaN at x = 1000.
const log1pexpNaive = (x: NdArray) => np.log(np.add(1, np.exp(x)));
const log1pexp: (x: NdArray | number) => NdArray = customJvp(
  (x) => np.add(nn.relu(x), np.log1p(np.exp(np.negative(np.abs(x))))),
  ([x], [t]) => [log1pexp(x), np.multiply(t, nn.sigmoid(x))],
);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

describe("customJvp", () => {
  it("a numerically stable log1pexp: the rule gives finite derivatives where autodiff of f gives NaN", () => {
    expect(Number.isNaN(grad(log1pexpNaive)(1000).item())).toBe(true);
    expectAllClose(grad(log1pexp)(1000), 1, 0);
    for (const x of [-3, -0.5, 0, 2]) {
      expectAllClose(grad(log1pexp)(x), sigmoid(x), 1e-15);
      expectAllClose(jvp(log1pexp, [x], [2])[1], 2 * sigmoid(x), 1e-15);
      expect(grad(log1pexp)(x).item()).toBeCloseTo(
        fdScalar((v) => Math.log1p(Math.exp(v)), x),
        8,
      );
    }
  });
  it("serves second derivatives, vmap, and jit", () => {
    // d2/dx2 log(1 + e^x) = s(x) (1 - s(x))
    for (const x of [-1, 0.5])
      expectAllClose(grad(grad(log1pexp))(x), sigmoid(x) * (1 - sigmoid(x)), 1e-12);
    const xs = np.array([-2, 0, 3, 1000]);
    const expected = [-2, 0, 3, 1000].map(sigmoid);
    expectAllClose(vmap(grad(log1pexp))(xs), expected, 1e-15);
    expectAllClose(grad((v: NdArray) => np.sum(vmap(log1pexp)(v)))(xs), expected, 1e-15);
    expectAllClose(jit(grad((v: NdArray) => np.sum(log1pexp(v))))(xs), expected, 1e-15);
    expectAllClose(
      jit(log1pexp)(xs),
      [-2, 0, 3, 1000].map((v) => (v > 30 ? v : Math.log1p(Math.exp(v)))),
      1e-15,
    );
  });
  it("implicit differentiation of a fixed-point iteration (Newton's square root)", () => {
    // y = sqrt(a) as the fixed point of y = (y + a / y) / 2; the implicit function
    // theorem gives dy = da / (2 y) without differentiating through the iterations.
    const newtonSqrt = (a: NdArray) => {
      let y = np.onesLike(a);
      for (let i = 0; i < 30; i++) y = np.multiply(np.add(y, np.divide(a, y)), 0.5);
      return y;
    };
    const sqrtFixedPoint = customJvp(newtonSqrt, ([a], [ta]) => {
      const y = newtonSqrt(a);
      return [y, np.divide(ta, np.multiply(y, 2))];
    });
    for (const a of [0.5, 2, 9]) {
      expectAllClose(sqrtFixedPoint(a), Math.sqrt(a), 1e-15);
      expectAllClose(grad(sqrtFixedPoint)(a), 1 / (2 * Math.sqrt(a)), 1e-14);
    }
  });
  it("a rule whose tangent has the wrong shape is reported", () => {
    const bad = customJvp(
      (x) => np.sum(x),
      ([x], [t]) => [np.sum(x), t],
    );
    expect(() => jvp(bad, [np.ones([3])], [np.ones([3])])).toThrow(
      /customJvp: the rule returned a tangent of shape \[3\] \(float64\) for output of shape \[\]/,
    );
  });
});

describe("customVjp", () => {
  // The identity whose gradient is clipped to [-1, 1].
  const clipGradient = customVjp(
    (x) => x,
    (x) => [x, null],
    (_res, ct) => np.clip(ct, -1, 1),
  );
  it("a clipped gradient: values pass through, cotangents are clipped", () => {
    const loss = (x: NdArray) => np.sum(np.multiply(clipGradient(x), np.array([0.5, 3, -4])));
    const x = np.array([1, 2, 3]);
    expectAllClose(clipGradient(x), [1, 2, 3], 0);
    expectAllClose(grad(loss)(x), [0.5, 1, -1], 0);
    expectAllClose(jit(grad(loss))(x), [0.5, 1, -1], 0);
  });
  it("residuals from fwd reach bwd: x^3 with its hand-written VJP", () => {
    const cube = customVjp(
      (x) => np.power(x, 3),
      (x) => [np.power(x, 3), np.square(x)],
      (x2, ct) => np.multiply(np.multiply(ct, 3), x2 as NdArray),
    );
    for (const x of [-1.5, 0.2, 2]) expectAllClose(grad(cube)(x), 3 * x * x, 1e-15);
    // Differentiable bwd: grad of grad goes through the rule's operations.
    expectAllClose(grad(grad(cube))(2), 12, 1e-15);
  });
  it("works under vmap, in both orders with grad", () => {
    const scaled = customVjp(
      (x, w) => np.multiply(x, w),
      (x, w) => [np.multiply(x, w), [x, w]],
      (res, ct) => {
        const [x, w] = res as NdArray[];
        return [np.multiply(ct, w!), np.multiply(ct, x!)];
      },
    );
    const xs = np.array([1, 2, 3]);
    const loss = (x: NdArray, w: NdArray) => np.square(scaled(x, w));
    // d/dx (x w)^2 = 2 x w^2
    expectAllClose(
      vmap(grad(loss), { inAxes: [0, null] })(xs, 1.5),
      [1, 2, 3].map((x) => 2 * x * 2.25),
      1e-14,
    );
    expectAllClose(
      grad((w: NdArray) => np.sum(vmap((x: NdArray) => loss(x, w))(xs)))(1.5),
      [1, 2, 3].reduce((acc, x) => acc + 2 * x * x * 1.5, 0),
      1e-14,
    );
  });
  it("forward mode through customVjp fails with a clear message", () => {
    expect(() => jvp(clipGradient, [1], [1])).toThrow(ChainruleError);
    expect(() => jvp(clipGradient, [1], [1])).toThrow(
      /customVjp: forward mode \(jvp, jacfwd.* is not available .* Use customJvp/,
    );
  });
});

describe("checkpoint", () => {
  const step = (x: NdArray) => np.multiply(np.sin(x), np.cos(np.multiply(x, 1.3)));
  const stepCkpt = checkpoint(step);
  const run = (s: (x: NdArray) => NdArray) => (x: NdArray) => {
    for (let i = 0; i < 5; i++) x = s(x);
    return np.sum(x);
  };
  it("gives the same values and derivatives in every mode", () => {
    const x = np.array([0.3, -0.7, 1.1]);
    expectAllClose(run(stepCkpt)(x), run(step)(x), 0);
    expectAllClose(grad(run(stepCkpt))(x), grad(run(step))(x), 1e-15);
    expectAllClose(
      jvp(run(stepCkpt), [x], [np.ones([3])])[1],
      jvp(run(step), [x], [np.ones([3])])[1],
      1e-15,
    );
    expectAllClose(hessian(run(stepCkpt))(x), hessian(run(step))(x), 1e-14);
    const xs = np.array([
      [0.1, 0.2, 0.3],
      [1, 2, 3],
    ]);
    expectAllClose(vmap(grad(run(stepCkpt)))(xs), vmap(grad(run(step)))(xs), 1e-15);
    expectAllClose(jit(grad(run(stepCkpt)))(x), grad(run(step))(x), 1e-15);
    const [, fJvp] = linearize(run(stepCkpt), x);
    const v = np.array([0.5, -1, 2]);
    expectAllClose(fJvp(v), jvp(run(step), [x], [v])[1], 1e-15);
  });
  it("recomputes instead of storing: the gradient program evaluates f again in the backward pass", () => {
    const x = np.array([0.3, -0.7, 1.1]);
    const count = (text: string, op: string) =>
      text.match(new RegExp(` = ${op} `, "g"))?.length ?? 0;
    const plain = makeJaxpr(grad(run(step)))(x).toString();
    const ckpt = makeJaxpr(grad(run(stepCkpt)))(x).toString();
    // Without checkpoint: per step sin(x) and, for the derivative of cos(1.3x), sin(1.3x),
    // all kept for the backward pass.
    expect(count(plain, "sin")).toBe(10);
    expect(count(plain, "checkpointCall\\[call=checkpoint#\\d+\\]")).toBe(0);
    // With it: the forward pass is 5 opaque checkpoint calls (values only); the backward
    // pass recomputes each step from its stored input, with its derivative.
    expect(count(ckpt, "checkpointCall\\[call=checkpoint#\\d+\\]")).toBe(5);
    expect(count(ckpt, "sin")).toBe(10);
  });
});
