/**
 * Property-based tests (fast-check): randomly composed programs over a
 * vector x and a scalar y. For each: reverse mode equals forward mode, both
 * equal central finite differences, and vmap equals a loop over a batch.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NdArray, jacfwd, jacrev, np, vmap } from "../src/index.js";
import { expectAllClose, flat } from "./helpers.js";

type Expr =
  | { kind: "x" }
  | { kind: "y" }
  | { kind: "const"; value: number }
  | { kind: "unary"; op: UnaryName; arg: Expr }
  | { kind: "binary"; op: BinaryName; left: Expr; right: Expr };

const UNARY = {
  sin: np.sin,
  cos: np.cos,
  tanh: np.tanh,
  expTanh: (a: NdArray) => np.exp(np.tanh(a)),
  square: np.square,
  log1pSquare: (a: NdArray) => np.log(np.add(1, np.square(a))),
  sum: (a: NdArray) => np.sum(a),
  mean: (a: NdArray) => np.mean(a),
  softplus: (a: NdArray) => np.log1p(np.exp(np.tanh(a))),
} as const;
type UnaryName = keyof typeof UNARY;

const BINARY = {
  add: np.add,
  sub: np.subtract,
  mul: np.multiply,
  // division by something bounded away from zero
  divSafe: (a: NdArray, b: NdArray) => np.divide(a, np.add(1, np.square(b))),
  max: (a: NdArray, b: NdArray) => np.maximum(a, np.add(b, 0.05)),
} as const;
type BinaryName = keyof typeof BINARY;

const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant<Expr>({ kind: "x" }),
    fc.constant<Expr>({ kind: "y" }),
    fc.double({ min: -2, max: 2, noNaN: true }).map((value): Expr => ({ kind: "const", value })),
    fc
      .record({ op: fc.constantFrom(...(Object.keys(UNARY) as UnaryName[])), arg: tie("expr") })
      .map((r): Expr => ({ kind: "unary", ...r })),
    fc
      .record({
        op: fc.constantFrom(...(Object.keys(BINARY) as BinaryName[])),
        left: tie("expr"),
        right: tie("expr"),
      })
      .map((r): Expr => ({ kind: "binary", ...r })),
  ),
})).expr;

function evaluate(e: Expr, x: NdArray, y: NdArray): NdArray {
  switch (e.kind) {
    case "x":
      return x;
    case "y":
      return y;
    case "const":
      return np.array(e.value);
    case "unary":
      return UNARY[e.op](evaluate(e.arg, x, y));
    case "binary":
      return BINARY[e.op](evaluate(e.left, x, y), evaluate(e.right, x, y));
  }
}

/** The program as a function of (x, y) that always returns a [3] vector. */
const program = (e: Expr) => (x: NdArray, y: NdArray) => np.add(evaluate(e, x, y), np.zeros([3]));

const vec = fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), {
  minLength: 3,
  maxLength: 3,
});
const scal = fc.double({ min: -1.5, max: 1.5, noNaN: true });

/** Central differences of f with respect to input `which` (0 = x, 1 = y). */
function fdJac(
  f: (x: NdArray, y: NdArray) => NdArray,
  x: number[],
  y: number,
  which: 0 | 1,
): number[][] {
  const eps = 1e-6;
  const n = which === 0 ? 3 : 1;
  const cols: number[][] = [];
  for (let j = 0; j < n; j++) {
    const shift = (s: number) => {
      const xs = x.slice();
      let ys = y;
      if (which === 0) xs[j]! += s;
      else ys += s;
      return flat(f(np.array(xs), np.array(ys)));
    };
    const p = shift(eps);
    const m = shift(-eps);
    cols.push(p.map((v, i) => (v - m[i]!) / (2 * eps)));
  }
  // rows: outputs; columns: inputs
  return cols[0]!.map((_, i) => cols.map((c) => c[i]!));
}

describe("random programs", () => {
  it("reverse mode equals forward mode and finite differences", () => {
    fc.assert(
      fc.property(exprArb, vec, scal, (e, x, y) => {
        const f = program(e);
        const argnums = [0, 1];
        const [rx, ry] = jacrev(f, { argnums })(np.array(x), y) as NdArray[];
        const [fx, fy] = jacfwd(f, { argnums })(np.array(x), y) as NdArray[];
        expectAllClose(rx!, fx!, 1e-9, 1e-12);
        expectAllClose(ry!, fy!, 1e-9, 1e-12);
        expectAllClose(flat(rx!), fdJac(f, x, y, 0).flat(), 1e-5, 1e-6);
        expectAllClose(flat(ry!), fdJac(f, x, y, 1).flat(), 1e-5, 1e-6);
      }),
      { seed: 20261122, numRuns: 100 },
    );
  });

  it("vmap equals a loop over the batch", () => {
    fc.assert(
      fc.property(exprArb, fc.array(vec, { minLength: 1, maxLength: 4 }), scal, (e, xs, y) => {
        const f = program(e);
        const batched = vmap(f, { inAxes: [0, null] })(np.array(xs), y) as NdArray;
        const loop = np.stack(xs.map((x) => f(np.array(x), np.array(y))));
        expect(batched.shape).toEqual(loop.shape);
        expectAllClose(batched, loop, 1e-14, 1e-15);
      }),
      { seed: 7, numRuns: 100 },
    );
  });
});
