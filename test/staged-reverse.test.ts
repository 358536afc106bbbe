/**
 * Reverse mode inside jit staged from the traced equations
 * (src/transforms/stagedReverse.ts), against the general path (the JVP
 * trace and the tape, with staging switched off), eager grad, and
 * derivatives known in closed form: random programs, perturbation
 * confusion, nested derivatives, the equations that send a function to
 * the general path, and what the finished program contains.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  checkpoint,
  customJvp,
  customVjp,
  grad,
  hessian,
  jacfwd,
  jacrev,
  jit,
  lax,
  np,
  valueAndGrad,
  vjp,
  vmap,
} from "../src/index.js";
import type { Aval } from "../src/core/array.js";
import { definePrimitive } from "../src/core/primitive.js";
import { bind } from "../src/core/trace.js";
import { stagedReverse } from "../src/transforms/stagedReverse.js";
import { gradCase, gradCaseArb, growthIn, withSwitch } from "./scalarPrograms.js";

const values = (x: unknown): number[] =>
  (globalThis.Array.isArray(x) ? (x as NdArray[]) : [x as NdArray]).flatMap((a) =>
    globalThis.Array.from(a.data() as ArrayLike<number>),
  );

/** The same jitted computation with staging on and off: [staged, general]. */
function bothPaths<T>(make: () => (...args: never[]) => T, ...args: unknown[]): [T, T] {
  const call = (): T => (make() as (...a: unknown[]) => T)(...args);
  return [withSwitch(stagedReverse, true, call), withSwitch(stagedReverse, false, call)];
}

const staged = (): number => stagedReverse.staged;
const general = (): number => stagedReverse.general;

describe("reverse mode staged inside jit", () => {
  it("random scalar programs: staged, general path and eager grad agree", () => {
    fc.assert(
      fc.property(gradCaseArb, ([p, xs, single]) => {
        const { args, g, tol } = gradCase(p, xs, single);
        let fast: NdArray[] = [];
        expect(growthIn(staged, () => (fast = jit(g)(...args)))).toBe(1);
        const general = withSwitch(stagedReverse, false, () => jit(g)(...args));
        const eager = g(...args);
        values(fast).forEach((v, i) => {
          for (const want of [values(general)[i]!, values(eager)[i]!]) {
            if (Number.isNaN(want)) expect(v).toBeNaN();
            else expect(Math.abs(v - want)).toBeLessThanOrEqual(tol * (1 + Math.abs(want)));
          }
        });
      }),
      { numRuns: 60, seed: 6 },
    );
  });

  it("random array programs with where, min/max, stopGradient and sums: equal to both other paths", () => {
    // Each step applies one operation to earlier values (x, y or a result);
    // the staged path takes every program (min and max by their own rule).
    const opArb = fc.record({
      k: fc.nat(12),
      a: fc.nat(30),
      b: fc.nat(30),
      c: fc.double({ min: -2, max: 2, noNaN: true }),
    });
    type Step = { k: number; a: number; b: number; c: number };
    const step = ({ k, c }: Step, a: NdArray, b: NdArray): NdArray => {
      switch (k) {
        case 0:
          return np.sin(a);
        case 1:
          return np.multiply(a, b);
        case 2:
          return np.add(a, np.sum(b));
        case 3:
          return np.maximum(a, c);
        case 4:
          return np.where(np.greater(a, c), np.sqrt(np.abs(a)), b);
        case 5:
          return np.stopGradient(a);
        case 6:
          return np.multiply(a, np.stopGradient(b));
        case 7:
          return np.tanh(np.subtract(a, b));
        case 8:
          return np.exp(np.multiply(a, 0.3));
        case 9:
          return np.divide(a, np.add(np.square(b), 1));
        case 10:
          return np.minimum(a, b);
        case 11:
          return np.log(np.abs(a));
        default:
          return np.negative(a);
      }
    };
    const program = (steps: Step[]) => (x: NdArray, y: NdArray) => {
      const vals = [x, y];
      for (const s of steps) vals.push(step(s, vals[s.a % vals.length]!, vals[s.b % vals.length]!));
      return np.sum(vals[vals.length - 1]!);
    };
    const before = [stagedReverse.staged, stagedReverse.general];
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 12 }),
        // A grid with the singular points (0 for sqrt and log). Not tiny
        // values: at x = 5e-324, c / x overflows, and the two paths, which
        // sum equal terms before or after dividing, give 0 and inf - inf.
        fc.array(
          fc.integer({ min: -20, max: 20 }).map((k) => k / 10),
          { minLength: 6, maxLength: 6 },
        ),
        (steps, xs) => {
          const x = np.array(xs.slice(0, 3));
          const y = np.array(xs.slice(3));
          const g = grad(program(steps), { argnums: [0, 1] });
          const fast = values(jit(g)(x, y));
          const others = [
            withSwitch(stagedReverse, false, () => values(jit(g)(x, y))),
            values(g(x, y)),
          ];
          fast.forEach((v, i) => {
            for (const other of others) {
              const want = other[i]!;
              if (Number.isNaN(want) || !Number.isFinite(want)) expect(v).toBe(want);
              else expect(Math.abs(v - want)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(want)));
            }
          });
        },
      ),
      { numRuns: 300, seed: 7 },
    );
    // Every program was staged (the comparison ran with staging off).
    expect(stagedReverse.staged - before[0]!).toBeGreaterThanOrEqual(300);
    expect(stagedReverse.general - before[1]!).toBe(0);
  });

  it("W1 (1,000 steps): the staged gradient equals the dual-number derivative and the general path", () => {
    const f = (x: NdArray): NdArray => {
      for (let i = 0; i < 1000; i++)
        x = np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x));
      return x;
    };
    // Dual numbers by hand: x' = (x sin x / 2 + cos x)' = (sin x / 2 + x cos x / 2 - sin x) x'.
    let x = 0.3;
    let dx = 1;
    for (let i = 0; i < 1000; i++) {
      dx *= Math.sin(x) / 2 + (x * Math.cos(x)) / 2 - Math.sin(x);
      x = (x * Math.sin(x)) / 2 + Math.cos(x);
    }
    const [fast, general] = bothPaths(() => jit(grad(f)), 0.3);
    expect(Math.abs(fast.item() - dx)).toBeLessThanOrEqual(1e-12 * Math.abs(dx) + 1e-300);
    expect(Math.abs(fast.item() - general.item())).toBeLessThanOrEqual(1e-14 * Math.abs(dx));
  });

  it("keeps an argument apart from the same value captured from outside (no perturbation confusion)", () => {
    // d/dy (y x) at y = x is x, not 2x.
    const h = (x: NdArray): NdArray => grad((y: NdArray) => np.multiply(y, x))(x);
    expect(jit(h)(3).item()).toBe(3);
    // d/dy [y * d/dz (z^2 x) at z = x] = 2 x^2 (the inner derivative is a constant in y).
    const h2 = (x: NdArray): NdArray =>
      grad((y: NdArray) =>
        np.multiply(y, grad((z: NdArray) => np.multiply(z, np.multiply(z, x)))(x)),
      )(x);
    expect(jit(h2)(3).item()).toBe(18);
    // The inner argument read through the outer one: d/dy [d/dz (z y)](y) = 1.
    const h3 = (x: NdArray): NdArray =>
      grad((y: NdArray) => grad((z: NdArray) => np.multiply(z, y))(y))(x);
    expect(jit(h3)(3).item()).toBe(1);
  });

  it("second and third derivatives staged through staged gradients", () => {
    const f = (x: NdArray): NdArray => np.multiply(np.sin(x), np.exp(np.multiply(x, 0.5)));
    const x = 0.8;
    // f = sin x e^{x/2}: f'' = e^{x/2} (-3/4 sin x + cos x), f''' = e^{x/2} (-11/8 sin x - 1/4 cos x)... checked by eager.
    const second = jit(grad(grad(f)))(x).item();
    const third = jit(grad(grad(grad(f))))(x).item();
    const e = Math.exp(x / 2);
    expect(second).toBeCloseTo(e * (-0.75 * Math.sin(x) + Math.cos(x)), 13);
    expect(third).toBeCloseTo(grad(grad(grad(f)))(x).item(), 13);
  });

  it("arrays: broadcasts, sums and matrix products are staged, equal to the general path", () => {
    const loss = (W: NdArray, b: NdArray, X: NdArray): NdArray =>
      np.mean(np.square(np.tanh(np.add(np.matmul(X, W), b))));
    const W = np.array([
      [0.3, -1.2, 0.5],
      [0.8, 0.1, -0.4],
    ]);
    const b = np.array([0.1, -0.2, 0.3]);
    const X = np.array([
      [1, 2],
      [-0.5, 0.25],
      [2, -1],
      [0, 3],
    ]);
    const g = grad(loss, { argnums: [0, 1, 2] });
    let fast: NdArray[] = [];
    expect(growthIn(staged, () => (fast = jit(g)(W, b, X)))).toBe(1);
    const general = withSwitch(stagedReverse, false, () => jit(g)(W, b, X));
    const eager = g(W, b, X);
    for (let i = 0; i < 3; i++) {
      values(fast[i]).forEach((v, k) => {
        expect(v).toBeCloseTo(values(general[i])[k]!, 14);
        expect(v).toBeCloseTo(values(eager[i])[k]!, 14);
      });
    }
  });

  it("select is staged with structural-zero masks: where's gradient stays NaN-free", () => {
    const f = (x: NdArray): NdArray => np.sum(np.where(np.greater(x, 0), np.sqrt(x), 0));
    const x = np.array([0, 1, 4]);
    let g: NdArray = np.array(0);
    expect(growthIn(staged, () => (g = jit(grad(f))(x)))).toBe(1);
    expect(g.toArray()).toEqual([0, 0.5, 0.25]);
    expect(g.toArray()).toEqual(grad(f)(x).toArray());
  });

  it("control flow inside the function goes to the general path, equal to it bit for bit", () => {
    // A loop whose trip count is known only when it runs: one while equation.
    const f = (x: NdArray): NdArray =>
      lax.whileLoop(
        ([, c]) => np.less(c, 2),
        ([i, c]) => [np.add(i, 1), np.add(np.sin(c), np.multiply(c, x))],
        [np.array(0), x],
      )[1];
    let fast: NdArray = np.array(0);
    expect(growthIn(general, () => (fast = jit(grad(f))(0.9)))).toBe(1);
    const off = withSwitch(stagedReverse, false, () => jit(grad(f))(0.9));
    expect(fast.item()).toBe(off.item());
    expect(fast.item()).toBeCloseTo(grad(f)(0.9).item(), 13);
  });

  it("valueAndGrad with aux, vjp with several outputs, integer and constant arguments", () => {
    const f = (x: NdArray, n: NdArray): [NdArray, NdArray] => {
      const y = np.multiply(np.cos(x), n.astype("float64"));
      return [np.sum(y), x];
    };
    const x = np.array([0.5, -1]);
    const n = np.array([2, 3], { dtype: "int32" });
    const [[value, aux], gx] = jit(valueAndGrad(f, { hasAux: true }))(x, n);
    expect(value.item()).toBeCloseTo(2 * Math.cos(0.5) + 3 * Math.cos(-1), 14);
    expect(aux.toArray()).toEqual([0.5, -1]); // the argument itself as aux: its alias is gone
    expect(gx.toArray()).toEqual([-2 * Math.sin(0.5), -3 * Math.sin(-1)]);

    const two = (a: NdArray, b: NdArray): NdArray[] => [np.multiply(a, b), np.sin(a)];
    const pulled = jit((a: NdArray, b: NdArray) => {
      const [, back] = vjp(two, a, b);
      return back([np.array(1), np.array(2)]);
    })(0.5, 3);
    expect(values(pulled)).toEqual([3 + 2 * Math.cos(0.5), 0.5]);

    // The differentiated argument a constant of the program.
    const atConstant = jit(() => grad((y: NdArray) => np.multiply(y, y))(np.array(2.5)))();
    expect(atConstant.item()).toBe(5);
    // hasAux with no pair: the same error as outside jit.
    // @ts-expect-error -- rejected by the types too; the run-time check covers JS callers
    expect(() => jit(grad((y: NdArray) => np.sin(y), { hasAux: true }))(0.5)).toThrow(
      /grad: with hasAux, f must return a pair \[output, aux\]/,
    );
    // The identity: the cotangent comes straight back.
    expect(jit(grad((y: NdArray) => y))(1.5).item()).toBe(1);
  });

  it("composes: jacrev, hessian, vmap of jit(grad), jacfwd of grad, jit inside grad inside jit", () => {
    const f = (x: NdArray): NdArray => np.sum(np.multiply(np.sin(x), np.exp(np.multiply(x, x))));
    const h = (x: NdArray): NdArray => np.multiply(np.sin(x), x);
    const x = np.array([0.1, -0.4, 0.7]);
    const close = (got: NdArray, want: NdArray): void =>
      values(got).forEach((v, i) => expect(v).toBeCloseTo(values(want)[i]!, 13));
    close(jit(jacrev(h))(x), jacrev(h)(x));
    close(jit(hessian(f))(x), hessian(f)(x));
    close(vmap(jit(grad(h)))(x), vmap(grad(h))(x));
    close(jit(jacfwd(grad(f)))(x), jacfwd(grad(f))(x));
    const inner = (x: NdArray): NdArray =>
      np.sum(jit(grad((y: NdArray) => np.sum(np.multiply(np.sin(y), x))))(x));
    close(
      jit(grad(inner))(x),
      grad((x: NdArray) => np.sum(grad((y: NdArray) => np.sum(np.multiply(np.sin(y), x)))(x)))(x),
    );
  });

  it("stopGradient stays a barrier though jit's optimizer removes it for values", () => {
    const f = (x: NdArray): NdArray => np.multiply(x, np.stopGradient(x));
    expect(jit(grad(f))(3).item()).toBe(3); // d/dx [x c] = c, with c = x held
    const g = (x: NdArray): NdArray => np.sum(np.multiply(np.sin(x), np.stopGradient(np.exp(x))));
    const x = np.array([0.2, -0.7]);
    expect(values(jit(grad(g))(x))).toEqual(values(grad(g)(x)));
    // The barrier goes when nothing differentiates: jit(f) keeps no stopGradient.
    expect(String(jit(f).lower(3).jaxpr)).not.toContain("stopGradient");
  });

  it("min and max, whose rules select tangents, are staged by their own rule: NaN-free as the tape is", () => {
    // max(log x, 0) at x = 0 picks 0: log's infinite slope gets a structural zero, not 0 * inf.
    const f = (x: NdArray): NdArray => np.sum(np.maximum(np.log(x), 0));
    const x = np.array([0, 2]);
    let g: NdArray = np.array(0);
    expect(growthIn(staged, () => (g = jit(grad(f))(x)))).toBe(1);
    expect(values(g)).toEqual([0, 0.5]);
    expect(values(g)).toEqual(values(grad(f)(x)));
    // min of two differentiated operands, ties split evenly, as eager grad splits them.
    const h = (a: NdArray, b: NdArray): NdArray => np.sum(np.multiply(np.minimum(a, b), a));
    const [a, b] = [np.array([1, 2, 3]), np.array([3, 2, 1])];
    const hg = grad(h, { argnums: [0, 1] });
    let both: NdArray[] = [];
    expect(growthIn(staged, () => (both = jit(hg)(a, b)))).toBe(1);
    // d/da (min(a, b) a) = [2a, 1.5a, b] where a < b, a = b, a > b; d/db = [0, a/2, a].
    expect(values(both)).toEqual([2, 3, 1, 0, 1, 3]);
    expect(values(both)).toEqual(values(hg(a, b)));
    // Masks from max and from where meet: structural where either says so.
    // At x = 0 neither log term is picked, and their infinite slope must not show.
    const k = (x: NdArray): NdArray =>
      np.sum(np.where(np.greater(x, 1), np.log(x), np.maximum(np.log(x), np.negative(x))));
    const xs = np.array([0, 0.5, 2, 3]);
    const [fast, slow] = bothPaths(() => jit(grad(k)), xs);
    expect(values(fast)).toEqual(values(slow));
    expect(values(fast)).toEqual(values(grad(k)(xs)));
    expect(values(fast)).toEqual([-1, -1, 0.5, 1 / 3]);
    // A masked cotangent reaching min stays masked through the operand min
    // picks: at x = 0, where takes x, and min's pick, log x, must not show.
    const m = (x: NdArray): NdArray =>
      np.sum(np.where(np.less(x, 0.5), x, np.minimum(np.log(x), 5)));
    const ms = np.array([0, 1, 2]);
    const [mFast, mSlow] = bothPaths(() => jit(grad(m)), ms);
    expect(values(mFast)).toEqual(values(mSlow));
    expect(values(mFast)).toEqual(values(grad(m)(ms)));
    expect(values(mFast)).toEqual([1, 1, 0.5]);
  });

  it("a rule that selects tangents without saying so goes on a tape of its own, NaN-free", () => {
    // relu with the derivative's select in its JVP rule, not declared `selectsTangents`.
    const relu = definePrimitive<Record<string, never>>({
      name: "testUndeclaredRelu",
      linear: false,
      abstractEval: ([a]): Aval => ({ shape: a!.shape, dtype: a!.dtype }),
      impl: ([a]) => np.maximum(a!, 0).concrete("test"),
      jvp: ([a], [da]) => np.where(np.greater(a!, 0), da!, np.zerosLike(da!)),
      batch: ([a], [d]) => [np.maximum(a!, 0), d ?? null],
      elementwise: { scalar: (v) => (v > 0 ? v : 0) },
    });
    // relu(log x) at x = 0: log's infinite slope meets a structural zero.
    const f = (x: NdArray): NdArray => np.sum(bind(relu, [np.log(x)], {}));
    const x = np.array([0, 2, 0.5]);
    let g: NdArray = np.array(0);
    expect(growthIn(staged, () => (g = jit(grad(f))(x)))).toBe(1);
    expect(values(g)).toEqual([0, 0.5, 0]);
    expect(values(g)).toEqual(values(grad(f)(x)));
  });

  it("reductions by max and other single-output primitives go on a tape of their own", () => {
    // log-sum-exp with its max shift, as a softmax cross-entropy computes it.
    const lse = (x: NdArray): NdArray => {
      const m = np.max(x, 1, { keepdims: true });
      return np.sum(np.add(np.log(np.sum(np.exp(np.subtract(x, m)), 1, { keepdims: true })), m));
    };
    const x = np.array([
      [0.5, 2, -1],
      [3, 3, 0.25],
    ]);
    let g: NdArray = np.array(0);
    expect(growthIn(staged, () => (g = jit(grad(lse))(x)))).toBe(1);
    values(g).forEach((v, i) => expect(v).toBeCloseTo(values(grad(lse)(x))[i]!, 14));
    // Multi-output primitives (a sort) still take the general path.
    const sorted = (x: NdArray): NdArray => np.sum(np.multiply(np.sort(x), np.array([1, 2, 3])));
    const y = np.array([0.3, -1, 2]);
    let s: NdArray = np.array(0);
    expect(growthIn(general, () => (s = jit(grad(sorted))(y)))).toBe(1);
    expect(values(s)).toEqual(values(grad(sorted)(y)));
  });

  it("custom rules and checkpoint keep their meaning inside jit(grad)", () => {
    // A rule that is not the function's derivative: grad must follow the rule.
    const f = customJvp(
      (x: NdArray) => np.sin(x),
      ([x], [t]) => [np.sin(x), np.multiply(t, 3)],
    );
    expect(jit(grad(f))(0.5).item()).toBe(3);
    const h = customVjp(
      (x: NdArray) => np.exp(x),
      (x: NdArray) => [np.exp(x), x],
      (_res, ct: NdArray) => [np.multiply(ct, 5)],
    );
    expect(jit(grad(h))(0.5).item()).toBe(5);
    const k = checkpoint((x: NdArray) => np.sin(np.multiply(np.cos(x), x)));
    expect(jit(grad(k))(0.5).item()).toBeCloseTo(grad(k)(0.5).item(), 14);
  });

  it("the finished program has no aliases, and jit's program equals the general path's in value", () => {
    const f = (x: NdArray): NdArray => np.multiply(np.sin(x), x);
    const text = String(jit(grad(f)).lower(0.7).jaxpr);
    expect(text).not.toContain("alias");
    expect(text).toContain("cos");
  });
});
