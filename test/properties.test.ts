/**
 * Property-based tests on randomly composed programs. fast-check generates
 * expression trees (depth <= 4) over 1-3 inputs, each a scalar or a length-3
 * vector, from smooth ops with bounded growth. Each program is evaluated
 * twice: with chainrule, and with an independent plain-JS float64
 * interpreter (used for values and central finite differences). Fixed seed,
 * so runs are deterministic.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NdArray, grad, jacfwd, jacrev, jit, np, vmap } from "../src/index.js";
import { numericGrad, toNumbers, worstMismatch } from "./util.js";

const N = 3; // vector length
const B = 3; // batch size for vmap
const SEED = 20240611;
const RUNS = 100;

type Unary = "sin" | "cos" | "tanh" | "expTanh" | "square" | "log1pSq" | "neg" | "sum" | "mean";
type Binary = "add" | "sub" | "mul" | "divq";
type Expr =
  | { k: "var"; i: number }
  | { k: "const"; c: number }
  | { k: "un"; op: Unary; a: Expr }
  | { k: "bin"; op: Binary; a: Expr; b: Expr };

const UNARY: Unary[] = ["sin", "cos", "tanh", "expTanh", "square", "log1pSq", "neg", "sum", "mean"];
const BINARY: Binary[] = ["add", "sub", "mul", "divq"];

function show(e: Expr): string {
  switch (e.k) {
    case "var":
      return `x${e.i}`;
    case "const":
      return `${e.c}`;
    case "un":
      return `${e.op}(${show(e.a)})`;
    case "bin":
      return `${e.op}(${show(e.a)}, ${show(e.b)})`;
  }
}

// ------------------------------------------------------ chainrule eval --

type V = NdArray | number;

function evalNp(e: Expr, xs: readonly NdArray[]): V {
  switch (e.k) {
    case "var":
      return xs[e.i % xs.length]!;
    case "const":
      return e.c; // a weakly typed JS number
    case "un": {
      const a = evalNp(e.a, xs);
      switch (e.op) {
        case "sin":
          return np.sin(a);
        case "cos":
          return np.cos(a);
        case "tanh":
          return np.tanh(a);
        case "expTanh":
          return np.exp(np.tanh(a));
        case "square":
          return np.square(a);
        case "log1pSq":
          return np.log(np.add(1, np.square(a)));
        case "neg":
          return np.negative(a);
        case "sum":
          return np.sum(a);
        case "mean":
          return np.mean(a);
      }
      break;
    }
    case "bin": {
      const a = evalNp(e.a, xs);
      const b = evalNp(e.b, xs);
      switch (e.op) {
        case "add":
          return np.add(a, b);
        case "sub":
          return np.subtract(a, b);
        case "mul":
          return np.multiply(a, b);
        case "divq":
          return np.divide(a, np.add(1, np.square(b)));
      }
    }
  }
  throw new Error("unreachable");
}

// ---------------------------------------------------- plain JS eval --

type J = number | number[];

function lift1(a: J, f: (x: number) => number): J {
  return typeof a === "number" ? f(a) : a.map(f);
}
function lift2(a: J, b: J, f: (x: number, y: number) => number): J {
  if (typeof a === "number" && typeof b === "number") return f(a, b);
  if (typeof a === "number") return (b as number[]).map((y) => f(a, y));
  if (typeof b === "number") return a.map((x) => f(x, b));
  return a.map((x, i) => f(x, b[i]!));
}

function evalJs(e: Expr, xs: readonly J[]): J {
  switch (e.k) {
    case "var":
      return xs[e.i % xs.length]!;
    case "const":
      return e.c;
    case "un": {
      const a = evalJs(e.a, xs);
      switch (e.op) {
        case "sin":
          return lift1(a, Math.sin);
        case "cos":
          return lift1(a, Math.cos);
        case "tanh":
          return lift1(a, Math.tanh);
        case "expTanh":
          return lift1(a, (x) => Math.exp(Math.tanh(x)));
        case "square":
          return lift1(a, (x) => x * x);
        case "log1pSq":
          return lift1(a, (x) => Math.log(1 + x * x));
        case "neg":
          return lift1(a, (x) => -x);
        case "sum":
          return typeof a === "number" ? a : a.reduce((s, v) => s + v, 0);
        case "mean":
          return typeof a === "number" ? a : a.reduce((s, v) => s + v, 0) / a.length;
      }
      break;
    }
    case "bin": {
      const a = evalJs(e.a, xs);
      const b = evalJs(e.b, xs);
      switch (e.op) {
        case "add":
          return lift2(a, b, (x, y) => x + y);
        case "sub":
          return lift2(a, b, (x, y) => x - y);
        case "mul":
          return lift2(a, b, (x, y) => x * y);
        case "divq":
          return lift2(a, b, (x, y) => x / (1 + y * y));
      }
    }
  }
  throw new Error("unreachable");
}

// ------------------------------------------------------------ programs --

interface Program {
  expr: Expr;
  nIn: number;
  isVec: boolean[]; // per input
  batched: boolean[]; // per input, for vmap
  data: number[]; // B * 3 * N values in [-1.5, 1.5]
}

const leafArb: fc.Arbitrary<Expr> = fc.oneof(
  {
    arbitrary: fc.record({ k: fc.constant("var" as const), i: fc.integer({ min: 0, max: 2 }) }),
    weight: 4,
  },
  {
    // moderate constants in [-2, 2] (k / 50), so no subnormal or huge literals
    arbitrary: fc.record({
      k: fc.constant("const" as const),
      c: fc.integer({ min: -100, max: 100 }).map((k) => k / 50),
    }),
    weight: 1,
  },
);

const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr; node: Expr }>((tie) => ({
  // With the root node, trees have depth <= 4 (leaves forced at the maximal depth).
  expr: fc.oneof(
    { maxDepth: 3, depthIdentifier: "expr", depthSize: "medium" },
    { arbitrary: leafArb, weight: 2 },
    { arbitrary: tie("node"), weight: 5 },
  ),
  node: fc.oneof(
    fc.record({ k: fc.constant("un" as const), op: fc.constantFrom(...UNARY), a: tie("expr") }),
    fc.record({
      k: fc.constant("bin" as const),
      op: fc.constantFrom(...BINARY),
      a: tie("expr"),
      b: tie("expr"),
    }),
  ),
})).node;

const programArb: fc.Arbitrary<Program> = fc.record({
  expr: exprArb,
  nIn: fc.integer({ min: 1, max: 3 }),
  isVec: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  batched: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  data: fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true, noDefaultInfinity: true }), {
    minLength: B * 3 * N,
    maxLength: B * 3 * N,
  }),
});

/** Input i of batch example b as JS data (number or number[]). */
function jsInput(p: Program, i: number, b = 0): J {
  const off = (b * 3 + i) * N;
  return p.isVec[i] ? p.data.slice(off, off + N) : p.data[off]!;
}
function npInput(p: Program, i: number, b = 0): NdArray {
  return np.array(jsInput(p, i, b));
}
function inputs(p: Program, b = 0): NdArray[] {
  return Array.from({ length: p.nIn }, (_, i) => npInput(p, i, b));
}
function jsInputs(p: Program, b = 0): J[] {
  return Array.from({ length: p.nIn }, (_, i) => jsInput(p, i, b));
}

/** The program as a chainrule function (full output, always an Array). */
const fullFn =
  (p: Program) =>
  (...xs: NdArray[]): NdArray => {
    const v = evalNp(p.expr, xs);
    return typeof v === "number" ? np.array(v) : v;
  };
/** The program reduced to a scalar (sum of the output). */
const scalarFn =
  (p: Program) =>
  (...xs: NdArray[]): NdArray =>
    np.sum(fullFn(p)(...xs));
/** The scalar program in plain JS on a flat vector of all inputs. */
const scalarJs =
  (p: Program) =>
  (flat: number[]): number => {
    let k = 0;
    const xs = Array.from({ length: p.nIn }, (_, i) => {
      if (p.isVec[i]) {
        const v = flat.slice(k, k + N);
        k += N;
        return v;
      }
      return flat[k++]!;
    });
    const out = evalJs(p.expr, xs);
    return typeof out === "number" ? out : out.reduce((s, v) => s + v, 0);
  };
const argnums = (p: Program) => Array.from({ length: p.nIn }, (_, i) => i);

function assertClose(
  p: Program,
  what: string,
  actual: number[],
  expected: number[],
  rtol: number,
  atol: number,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length} vs ${expected.length} for ${show(p.expr)}`);
  }
  const w = worstMismatch(actual, expected, rtol, atol);
  if (w !== null) {
    throw new Error(
      `${what}: element ${w.index}: got ${w.a}, expected ${w.b} (|diff| ${w.err.toExponential(2)}) ` +
        `for f = ${show(p.expr)}, nIn ${p.nIn}, isVec ${p.isVec.slice(0, p.nIn).join(",")}, ` +
        `inputs ${JSON.stringify(jsInputs(p))}`,
    );
  }
}

const maxAbs = (xs: number[]) => xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const params = { seed: SEED, numRuns: RUNS } as const;

// ---------------------------------------------------------------- tests --

describe("random programs (fast-check, fixed seed)", () => {
  it("forward values agree with a plain JS interpreter", () => {
    fc.assert(
      fc.property(programArb, (p) => {
        const got = toNumbers(fullFn(p)(...inputs(p)));
        const js = evalJs(p.expr, jsInputs(p));
        assertClose(p, "value", got, typeof js === "number" ? [js] : js, 1e-12, 1e-14);
      }),
      params,
    );
  });

  it("(a) reverse mode (grad, jacrev) equals forward mode (jacfwd) to 1e-9", () => {
    fc.assert(
      fc.property(programArb, (p) => {
        const xs = inputs(p);
        const an = argnums(p);
        const g = toNumbers(grad(scalarFn(p), { argnums: an })(...xs));
        const jf = toNumbers(jacfwd(scalarFn(p), { argnums: an })(...xs));
        const scale = 1 + maxAbs(jf);
        assertClose(p, "grad vs jacfwd", g, jf, 1e-9, 1e-12 * scale);
        // full (possibly vector) output: jacrev == jacfwd, JAX layout out ++ in
        const Jr = jacrev(fullFn(p), { argnums: an })(...xs);
        const Jf = jacfwd(fullFn(p), { argnums: an })(...xs);
        const outShape = fullFn(p)(...xs).shape;
        Jr.forEach((blk, i) => {
          expect(blk.shape).toEqual([...outShape, ...xs[i]!.shape]);
          expect(Jf[i]!.shape).toEqual([...outShape, ...xs[i]!.shape]);
        });
        const jfn = toNumbers(Jf);
        assertClose(p, "jacrev vs jacfwd", toNumbers(Jr), jfn, 1e-9, 1e-12 * (1 + maxAbs(jfn)));
      }),
      params,
    );
  });

  it("(b) grad and jacfwd agree with central finite differences of the JS program", () => {
    fc.assert(
      fc.property(programArb, (p) => {
        const xs = inputs(p);
        const an = argnums(p);
        const flat = toNumbers(jsInputs(p));
        const fdg = numericGrad(scalarJs(p), flat, 1e-6);
        const fval = Math.abs(scalarJs(p)(flat));
        const atol = 1e-6 * (1 + fval + maxAbs(fdg));
        const g = toNumbers(grad(scalarFn(p), { argnums: an })(...xs));
        assertClose(p, "grad vs FD", g, fdg, 1e-5, atol);
        const jf = toNumbers(jacfwd(scalarFn(p), { argnums: an })(...xs));
        assertClose(p, "jacfwd vs FD", jf, fdg, 1e-5, atol);
      }),
      params,
    );
  });

  it("(c) vmap over a batch equals a loop (mixed batched / unbatched inputs)", () => {
    fc.assert(
      fc.property(programArb, (p) => {
        const batched = p.batched.slice(0, p.nIn);
        if (!batched.some((b) => b)) batched[0] = true;
        const args = Array.from({ length: p.nIn }, (_, i) =>
          batched[i]
            ? np.stack(Array.from({ length: B }, (_, b) => npInput(p, i, b)))
            : npInput(p, i, 0),
        );
        const inAxes = batched.map((b) => (b ? 0 : null));
        const example = (b: number) =>
          Array.from({ length: p.nIn }, (_, i) => npInput(p, i, batched[i] ? b : 0));
        const out = vmap(fullFn(p), { inAxes })(...args);
        const outShape = fullFn(p)(...example(0)).shape;
        expect(out.shape).toEqual([B, ...outShape]);
        const loop = Array.from({ length: B }, (_, b) =>
          toNumbers(fullFn(p)(...example(b))),
        ).flat();
        assertClose(p, "vmap vs loop", toNumbers(out), loop, 1e-13, 1e-14);
        // vmap of grad equals a loop of grad (w.r.t. input 0)
        const vg = vmap(grad(scalarFn(p)), { inAxes })(...args);
        const gl = Array.from({ length: B }, (_, b) =>
          toNumbers(grad(scalarFn(p))(...example(b))),
        ).flat();
        const gShape = batched[0] ? [B, ...args[0]!.shape.slice(1)] : [B, ...args[0]!.shape];
        expect(vg.shape).toEqual(gShape);
        assertClose(p, "vmap(grad) vs loop", toNumbers(vg), gl, 1e-12, 1e-13 * (1 + maxAbs(gl)));
      }),
      params,
    );
  });

  it("(d1) jit(f) equals f", () => {
    fc.assert(
      fc.property(programArb, (p) => {
        const xs = inputs(p);
        const eager = toNumbers(fullFn(p)(...xs));
        const jitted = toNumbers(jit(fullFn(p))(...xs));
        assertClose(p, "jit vs eager", jitted, eager, 1e-12, 1e-14);
      }),
      params,
    );
  });

  it("(d2) jit(grad(f)) equals grad(f)", () => {
    fc.assert(
      fc.property(programArb, (p) => {
        const xs = inputs(p);
        const an = argnums(p);
        const g = toNumbers(grad(scalarFn(p), { argnums: an })(...xs));
        const jg = toNumbers(jit(grad(scalarFn(p), { argnums: an }))(...xs));
        assertClose(p, "jit(grad) vs grad", jg, g, 1e-12, 1e-13 * (1 + maxAbs(g)));
      }),
      params,
    );
  });
});
