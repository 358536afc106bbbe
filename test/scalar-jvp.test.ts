/**
 * Scalar tangents (src/transforms/jvp.ts): under eager grad, a primitive
 * with a `jvpScalar` rule records its tangent equations onto the tape on JS
 * numbers instead of running `jvp`. The tape must be the same either way, so
 * every such rule is checked against its primitive's `jvp` bit for bit
 * (gradients and forward replays, -0 and +0 apart), on random scalar
 * programs and primitive by primitive from the registry; and the fast path
 * must stay out of every case where `jvp` does something else (staging under
 * jit, a GradientTape, vectors, float32).
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  GradientTape,
  grad,
  jit,
  linearize,
  np,
  vjp,
} from "../src/index.js";
import { type Primitive, registeredPrimitives } from "../src/core/primitive.js";
import { bind } from "../src/core/trace.js";
import { scalarJvp } from "../src/transforms/jvp.js";
import {
  gradOf,
  growthIn,
  programArb,
  withSwitch,
  w1DualDerivative,
  w1Function,
} from "./scalarPrograms.js";

const SEED = 20261207;

/** Runs `body` with scalar tangents on or off, restoring the switch. */
function withScalarJvp<T>(enabled: boolean, body: () => T): T {
  return withSwitch(scalarJvp, enabled, body);
}

/** How many equations `body` recorded through `jvpScalar` rules. */
function scalarEquationsIn(body: () => unknown): number {
  return growthIn(() => scalarJvp.equations, body);
}

/** Same bits, -0 and +0 apart (NaN equals NaN). */
function expectSameBits(a: readonly number[], b: readonly number[]): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Object.is(a[i], b[i]), `${a[i]} vs ${b[i]}`).toBe(true);
}

afterEach(() => {
  scalarJvp.enabled = true;
});

/** Arguments inside each primitive's domain (acosh needs x > 1; the others take (0, 1)). */
function argumentsFor(prim: Primitive, u: number, v: number): number[] {
  const arity = prim.elementwise!.scalar.length;
  const x = prim.name === "acosh" ? 1 + 2 * u : u;
  return arity === 1 ? [x] : [x, v];
}

describe("scalar tangents", () => {
  const withRule = registeredPrimitives().filter((p) => p.jvpScalar !== undefined);

  it("are declared by the arithmetic and the smooth unary functions", () => {
    const names = withRule.map((p) => p.name);
    for (const name of ["add", "sub", "mul", "div", "neg", "sin", "cos", "exp", "log", "sqrt"])
      expect(names).toContain(name);
    for (const p of withRule) expect(p.elementwise, p.name).toBeDefined();
  });

  it("record what each primitive's jvp records: same gradients and forward replays", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        (u, v, ct) => {
          for (const prim of withRule) {
            const xs = argumentsFor(prim, u, v);
            // Each operand a node defined by an equation (a product), both
            // operands with tangents, then one operand at a time.
            const patterns =
              xs.length === 1
                ? [[true]]
                : [
                    [true, true],
                    [true, false],
                    [false, true],
                  ];
            for (const active of patterns) {
              const f = (...args: NdArray[]): NdArray =>
                bind(
                  prim,
                  args.map((a, i) => (active[i] ? np.multiply(a, 1.25) : np.array(xs[i]! * 1.25))),
                  {},
                );
              const pullbackBits = (): number[] => {
                const [, pullback] = vjp(f, ...xs.map((x) => np.array(x)));
                return pullback(np.array(ct)).map((g) => g.item());
              };
              const replayBits = (): number[] => {
                const [, push] = linearize(f, ...xs.map((x) => np.array(x)));
                return [push(...xs.map((_, i) => np.array(0.5 + i))).item()];
              };
              let fast: number[] = [];
              let fastReplay: number[] = [];
              const used = scalarEquationsIn(() => {
                fast = pullbackBits();
                fastReplay = replayBits();
              });
              expect(used, prim.name).toBeGreaterThan(0);
              const generic = withScalarJvp(false, pullbackBits);
              const genericReplay = withScalarJvp(false, replayBits);
              expectSameBits(fast, generic);
              expectSameBits(fastReplay, genericReplay);
            }
          }
        },
      ),
      { seed: SEED, numRuns: 25 },
    );
  });

  it("give the bits of jvp on random scalar programs, and are taken there", () => {
    fc.assert(
      fc.property(
        programArb,
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (p, x3) => {
          const xs = x3.slice(0, p.numInputs);
          let fast: number[] = [];
          expect(scalarEquationsIn(() => (fast = gradOf(p, xs)))).toBeGreaterThan(0);
          let generic: number[] = [];
          expect(
            scalarEquationsIn(() => (generic = withScalarJvp(false, () => gradOf(p, xs)))),
          ).toBe(0);
          expectSameBits(fast, generic);
        },
      ),
      { seed: SEED + 1, numRuns: 150 },
    );
  });

  it("take every operation of W1's loop, and give the dual-number derivative", () => {
    const n = 30;
    const f = w1Function(n);
    const dx = w1DualDerivative(0.3, n);
    let g = 0;
    // sin, two products, cos and the sum: five equations per application.
    expect(scalarEquationsIn(() => (g = grad(f)(0.3).item()))).toBe(5 * n);
    expect(Math.abs(g - dx)).toBeLessThan(1e-13 * Math.abs(dx));
  });

  it("serve higher derivatives with the bits of jvp", () => {
    // f = sin(x) x / (1 + x^2): compare on and off, and f'' against central differences of f'.
    const f = (x: NdArray): NdArray =>
      np.divide(np.multiply(np.sin(x), x), np.add(np.multiply(x, x), 1));
    const x = 0.7;
    const second = (): number => grad(grad(f))(x).item();
    let fast = 0;
    expect(scalarEquationsIn(() => (fast = second()))).toBeGreaterThan(0);
    expectSameBits([fast], [withScalarJvp(false, second)]);
    const d1 = (t: number): number => grad(f)(t).item();
    const h = 1e-5;
    expect(Math.abs(fast - (d1(x + h) - d1(x - h)) / (2 * h))).toBeLessThan(1e-8);
  });

  it("stay out of jit, GradientTape recordings, vectors and float32", () => {
    const f = (x: NdArray): NdArray => np.multiply(np.sin(x), x);
    const df = (x: number): number => Math.cos(x) * x + Math.sin(x);
    // jit stages the rules' arithmetic on primals instead of computing it.
    let gj = 0;
    expect(scalarEquationsIn(() => (gj = jit(grad(f))(0.6).item()))).toBe(0);
    expect(Math.abs(gj - df(0.6))).toBeLessThan(1e-15);
    // grad inside a function jit traces, at a closed-over concrete point.
    const closed = jit((y: NdArray) => np.multiply(grad(f)(0.6), y));
    let gc = 0;
    expect(scalarEquationsIn(() => (gc = closed(2).item()))).toBe(0);
    expect(Math.abs(gc - 2 * df(0.6))).toBeLessThan(1e-15);
    // A GradientTape follows constants by identity: its tapes keep jvp.
    const x = np.array(0.4);
    const tape = new GradientTape();
    let y: NdArray = x;
    expect(
      scalarEquationsIn(() => {
        y = tape.record(() => {
          tape.watch(x);
          return grad(f)(x);
        });
      }),
    ).toBe(0);
    // d/dx (cos x x + sin x) = 2 cos x - x sin x
    const g2 = (tape.gradient(y, x) as NdArray).item();
    expect(Math.abs(g2 - (2 * Math.cos(0.4) - 0.4 * Math.sin(0.4)))).toBeLessThan(1e-14);
    // Vectors and float32 are not 0-d float64 values.
    let gv: number[] = [];
    expect(
      scalarEquationsIn(
        () => (gv = grad((v: NdArray) => np.sum(f(v)))(np.array([0.1, 0.2])).toArray() as number[]),
      ),
    ).toBe(0);
    expect(Math.abs(gv[0]! - df(0.1))).toBeLessThan(1e-15);
    let g32 = 0;
    expect(
      scalarEquationsIn(() => (g32 = grad(f)(np.array(0.5, { dtype: "float32" })).item())),
    ).toBe(0);
    expect(Math.abs(g32 - df(0.5))).toBeLessThan(1e-6);
  });
});
