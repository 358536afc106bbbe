/**
 * Random straight-line scalar programs for the eager tape's tests
 * (scalar-backward, scalar-jvp): a fast-check arbitrary, one runner that
 * evaluates a program on chainrule arrays or on plain numbers, and the
 * handling of the internal switches and counters those tests read.
 */
import fc from "fast-check";
import { type Array as NdArray, grad, np } from "../src/index.js";

export type Op =
  | { k: "un"; f: "sin" | "cos" | "exp" | "tanh" | "square" | "neg" | "log1p2" | "sqrt1p2" }
  | { k: "bin"; f: "add" | "sub" | "mul" | "div" | "pow2"; a: number; b: number }
  | { k: "const"; f: "addc" | "mulc" | "cdiv" | "divc" | "csub"; c: number };

/** A straight-line program: each step reads the last value (and for binaries two earlier ones). */
export interface Program {
  numInputs: number;
  ops: Op[];
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant("un" as const),
    f: fc.constantFrom(
      "sin" as const,
      "cos" as const,
      "exp" as const,
      "tanh" as const,
      "square" as const,
      "neg" as const,
      "log1p2" as const,
      "sqrt1p2" as const,
    ),
  }),
  fc.record({
    k: fc.constant("bin" as const),
    f: fc.constantFrom(
      "add" as const,
      "sub" as const,
      "mul" as const,
      "div" as const,
      "pow2" as const,
    ),
    a: fc.nat(20),
    b: fc.nat(20),
  }),
  fc.record({
    k: fc.constant("const" as const),
    f: fc.constantFrom(
      "addc" as const,
      "mulc" as const,
      "cdiv" as const,
      "divc" as const,
      "csub" as const,
    ),
    c: fc.double({ min: 0.25, max: 2, noNaN: true }),
  }),
);

export const programArb: fc.Arbitrary<Program> = fc.record({
  numInputs: fc.integer({ min: 1, max: 3 }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 25 }),
});

/**
 * Runs the program on chainrule arrays and on plain numbers with one code:
 * `lib` supplies the operations. Values stay bounded (tanh squashes products
 * and exponentials every few steps is not needed: divisions are by 1 + x^2).
 */
export interface Ops<T> {
  sin(x: T): T;
  cos(x: T): T;
  exp(x: T): T;
  tanh(x: T): T;
  add(a: T, b: T | number): T;
  sub(a: T | number, b: T | number): T;
  mul(a: T, b: T | number): T;
  div(a: T | number, b: T | number): T;
  log(x: T): T;
  sqrt(x: T): T;
}

export function run<T>(p: Program, xs: readonly T[], o: Ops<T>): T {
  const values: T[] = [...xs];
  const last = (): T => values[values.length - 1]!;
  const pick = (i: number): T => values[i % values.length]!;
  // Keep magnitudes moderate: squash with tanh before anything that can grow.
  for (const op of p.ops) {
    const x = last();
    let y: T;
    if (op.k === "un") {
      switch (op.f) {
        case "sin":
          y = o.sin(x);
          break;
        case "cos":
          y = o.cos(x);
          break;
        case "exp":
          y = o.exp(o.tanh(x));
          break;
        case "tanh":
          y = o.tanh(x);
          break;
        case "square":
          y = o.mul(o.tanh(x), o.tanh(x));
          break;
        case "neg":
          y = o.sub(0, x);
          break;
        case "log1p2":
          y = o.log(o.add(o.mul(x, x), 1));
          break;
        case "sqrt1p2":
          y = o.sqrt(o.add(o.mul(x, x), 1));
          break;
      }
    } else if (op.k === "bin") {
      const a = o.tanh(pick(op.a));
      const b = o.tanh(pick(op.b));
      switch (op.f) {
        case "add":
          y = o.add(a, b);
          break;
        case "sub":
          y = o.sub(a, b);
          break;
        case "mul":
          y = o.mul(a, b);
          break;
        case "div":
          y = o.div(a, o.add(o.mul(b, b), 1));
          break;
        case "pow2":
          y = o.mul(o.mul(a, a), b);
          break;
      }
    } else {
      const t = o.tanh(x);
      switch (op.f) {
        case "addc":
          y = o.add(t, op.c);
          break;
        case "mulc":
          y = o.mul(t, op.c);
          break;
        case "cdiv":
          y = o.div(op.c, o.add(o.mul(t, t), 1));
          break;
        case "divc":
          y = o.div(t, op.c);
          break;
        case "csub":
          y = o.sub(op.c, t);
          break;
      }
    }
    values.push(y);
  }
  return last();
}

export const arrayOps: Ops<NdArray> = {
  sin: (x) => np.sin(x),
  cos: (x) => np.cos(x),
  exp: (x) => np.exp(x),
  tanh: (x) => np.tanh(x),
  add: (a, b) => np.add(a, b),
  sub: (a, b) => np.subtract(a, b),
  mul: (a, b) => np.multiply(a, b),
  div: (a, b) => np.divide(a, b),
  log: (x) => np.log(x),
  sqrt: (x) => np.sqrt(x),
};

export const numberOps: Ops<number> = {
  sin: Math.sin,
  cos: Math.cos,
  exp: Math.exp,
  tanh: Math.tanh,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  log: Math.log,
  sqrt: Math.sqrt,
};

/** The gradient of the program at xs with respect to every input, as numbers. */
/**
 * A differentiated case for the jit(grad) property tests: a program, up to
 * three inputs in [-2, 2], and whether they are float32.
 */
export const gradCaseArb = fc.tuple(
  programArb,
  fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }),
  fc.boolean(),
);

/**
 * A case's arguments, the gradient of the program in all of them (not
 * jitted), and the relative tolerance of its dtype (jit may sum in another
 * order than eager grad).
 */
export function gradCase(
  p: Program,
  xs: readonly number[],
  single: boolean,
): { args: NdArray[]; g: (...a: NdArray[]) => NdArray[]; tol: number } {
  const dtype = single ? "float32" : "float64";
  const args = xs.slice(0, p.numInputs).map((x) => np.array(x, { dtype }));
  const argnums = args.map((_, i) => i);
  const g = grad((...a: NdArray[]) => run(p, a, arrayOps), { argnums });
  return { args, g, tol: single ? 1e-5 : 1e-12 };
}

export function gradOf(p: Program, xs: readonly number[]): number[] {
  const argnums = xs.map((_, i) => i);
  const g = grad((...args: NdArray[]) => run(p, args, arrayOps), { argnums })(...xs);
  return g.map((a) => a.item());
}

/** Runs `body` with an internal switch (`{ enabled }`) set, restoring it afterwards. */
export function withSwitch<T>(sw: { enabled: boolean }, enabled: boolean, body: () => T): T {
  const saved = sw.enabled;
  sw.enabled = enabled;
  try {
    return body();
  } finally {
    sw.enabled = saved;
  }
}

/** How much `counter()` grew while `body` ran. */
export function growthIn(counter: () => number, body: () => unknown): number {
  const before = counter();
  body();
  return counter() - before;
}

/** W1's function: x -> sin(x) x / 2 + cos(x), applied n times. */
export function w1Function(n: number): (x: NdArray) => NdArray {
  return (x) => {
    for (let i = 0; i < n; i++) x = np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x));
    return x;
  };
}

/** The derivative of `w1Function(n)` at x0 by a hand-written dual-number loop. */
export function w1DualDerivative(x0: number, n: number): number {
  let x = x0;
  let dx = 1;
  for (let i = 0; i < n; i++) {
    // d/dx [sin(x) x / 2 + cos(x)] = (cos(x) x + sin(x)) / 2 - sin(x)
    dx *= (Math.cos(x) * x + Math.sin(x)) * 0.5 - Math.sin(x);
    x = Math.sin(x) * x * 0.5 + Math.cos(x);
  }
  return dx;
}
