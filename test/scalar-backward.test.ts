/**
 * The eager tape's scalar backward pass (src/transforms/scalarBackward.ts):
 * on random scalar programs it must give the same bits as the generic pass
 * (the switch turns it off), agree with float64 finite differences, be taken
 * exactly when every node is a host 0-d float64 value, and leave every other
 * tape (vectors, float32, select, higher order, GradientTape) to the generic
 * pass with correct results.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { type Array as NdArray, GradientTape, grad, np, vjp } from "../src/index.js";
import { scalarBackward } from "../src/transforms/scalarBackward.js";
import {
  gradOf,
  growthIn,
  numberOps,
  programArb,
  run,
  withSwitch,
  w1DualDerivative,
  w1Function,
} from "./scalarPrograms.js";
import { numericGrad } from "./util.js";

const SEED = 20261206;

/** Runs `body` with the scalar pass on or off, restoring the switch. */
function withScalarPass<T>(enabled: boolean, body: () => T): T {
  return withSwitch(scalarBackward, enabled, body);
}

/** How many backward passes `body` ran on the scalar path. */
function scalarPassesIn(body: () => unknown): number {
  return growthIn(() => scalarBackward.passes, body);
}

afterEach(() => {
  scalarBackward.enabled = true;
});

describe("scalar backward pass", () => {
  it("gives the generic pass's bits on random scalar programs, and is taken for them", () => {
    fc.assert(
      fc.property(
        programArb,
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (p, x3) => {
          const xs = x3.slice(0, p.numInputs);
          let fast: number[] = [];
          expect(scalarPassesIn(() => (fast = gradOf(p, xs)))).toBe(1);
          const generic = withScalarPass(false, () => gradOf(p, xs));
          for (let i = 0; i < xs.length; i++) {
            // Same bits, -0 and +0 apart.
            expect(Object.is(fast[i], generic[i]), `${fast[i]} vs ${generic[i]}`).toBe(true);
          }
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });

  it("agrees with float64 central differences on random scalar programs", () => {
    fc.assert(
      fc.property(
        programArb,
        fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (p, x3) => {
          const xs = x3.slice(0, p.numInputs);
          const ad = gradOf(p, xs);
          const fd = numericGrad((v) => run(p, v, numberOps), xs, 1e-6);
          for (let i = 0; i < xs.length; i++) {
            expect(Math.abs(ad[i]! - fd[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(fd[i]!)));
          }
        },
      ),
      { seed: SEED + 1, numRuns: 60 },
    );
  });

  it("differentiates a long loop (W1's function) as a hand-written dual-number loop does", () => {
    // At 30 applications the derivative is about 4e-28: small, but far from
    // underflow (at 1,000, W1's benchmark size, it underflows to 0).
    const n = 30;
    const f = w1Function(n);
    const dx = w1DualDerivative(0.3, n);
    expect(Math.abs(dx)).toBeGreaterThan(1e-30);
    let g = 0;
    expect(scalarPassesIn(() => (g = grad(f)(0.3).item()))).toBe(1);
    // The two products of 30 factors round differently: a few ulp per factor.
    expect(Math.abs(g - dx)).toBeLessThan(1e-13 * Math.abs(dx));
    const generic = withScalarPass(false, () => grad(f)(0.3).item());
    expect(Object.is(g, generic)).toBe(true);
  });

  it("keeps an unused input's gradient zero and counts an input used twice", () => {
    const f = (x: NdArray, _y: NdArray): NdArray => np.add(np.multiply(x, 3), np.multiply(x, x));
    let g: NdArray[] = [];
    expect(scalarPassesIn(() => (g = grad(f, { argnums: [0, 1] })(2, 5)))).toBe(1);
    expect(g[0]!.item()).toBe(3 + 2 * 2);
    expect(g[1]!.item()).toBe(0);
    expect(g[1]!.shape).toEqual([]);
    expect(g[1]!.dtype).toBe("float64");
  });

  it("takes a vjp cotangent other than 1, and returns the cotangent of an output that is an input", () => {
    const [y, pullback] = vjp((x: NdArray) => np.sin(x), np.array(0.7));
    let cts: NdArray[] = [];
    expect(scalarPassesIn(() => (cts = pullback(np.array(2.5)) as NdArray[]))).toBe(1);
    expect(y.item()).toBe(Math.sin(0.7));
    expect(cts[0]!.item()).toBe(2.5 * Math.cos(0.7));
    const identity = grad((x: NdArray) => x)(4);
    expect(identity.item()).toBe(1);
  });

  it("serves the imperative backward() of a scalar program", () => {
    // y = sin(x) x + x / 3: dy/dx = cos(x) x + sin(x) + 1/3
    const x = np.array(0.8, { requiresGrad: true });
    const passes = scalarPassesIn(() =>
      np.add(np.multiply(np.sin(x), x), np.divide(x, 3)).backward(),
    );
    expect(passes).toBe(1);
    const expected = Math.cos(0.8) * 0.8 + Math.sin(0.8) + 1 / 3;
    expect(Math.abs(x.grad!.item() - expected)).toBeLessThan(1e-15);
  });

  it("leaves vector, float32 and select tapes to the generic pass, with correct gradients", () => {
    const vector = (x: NdArray): NdArray => np.sum(np.sin(x));
    let gv: NdArray = np.array(0);
    expect(scalarPassesIn(() => (gv = grad(vector)(np.array([0.1, 0.2]))))).toBe(0);
    expect(gv.toArray()).toEqual([Math.cos(0.1), Math.cos(0.2)]);

    const f32 = (x: NdArray): NdArray => np.multiply(np.sin(x), x);
    let g32 = 0;
    expect(
      scalarPassesIn(() => (g32 = grad(f32)(np.array(0.5, { dtype: "float32" })).item())),
    ).toBe(0);
    expect(Math.abs(g32 - (Math.cos(0.5) * 0.5 + Math.sin(0.5)))).toBeLessThan(1e-6);

    // maximum's derivative goes through select, which has no scalar rule.
    const relu = (x: NdArray): NdArray => np.multiply(np.maximum(x, 0), x);
    let gr = 0;
    expect(scalarPassesIn(() => (gr = grad(relu)(1.5).item()))).toBe(0);
    expect(gr).toBe(3);
    expect(grad(relu)(-1.5).item()).toBe(0);
  });

  it("gives second derivatives through the generic inner pass (constants are tracers)", () => {
    // f = sin(x) x: f'' = 2 cos x - x sin x
    const f = (x: NdArray): NdArray => np.multiply(np.sin(x), x);
    const x = 0.9;
    const g2 = grad(grad(f))(x).item();
    expect(Math.abs(g2 - (2 * Math.cos(x) - x * Math.sin(x)))).toBeLessThan(1e-14);
    // f''' = -3 sin x - x cos x
    const g3 = grad(grad(grad(f)))(x).item();
    expect(Math.abs(g3 - (-3 * Math.sin(x) - x * Math.cos(x)))).toBeLessThan(1e-14);
  });

  it("leaves tapes made while a GradientTape records to the generic pass", () => {
    const x = np.array(0.4);
    const tape = new GradientTape();
    const y = tape.record(() => {
      tape.watch(x);
      return grad((v: NdArray) => np.multiply(np.sin(v), v))(x);
    });
    // d/dx (cos x x + sin x) = 2 cos x - x sin x
    const g = tape.gradient(y, x) as NdArray;
    expect(Math.abs(g.item() - (2 * Math.cos(0.4) - 0.4 * Math.sin(0.4)))).toBeLessThan(1e-14);
  });
});
