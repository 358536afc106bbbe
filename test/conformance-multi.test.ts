/**
 * The registry-driven conformance suite for multi-output primitives. For
 * every primitive in `registeredMultiPrimitives()` (sort, the user-rule
 * primitives and their linear helpers), on random float64 operands:
 *   - JVP against central finite differences (every float output),
 *   - the transposition identity <u, J v> = <J^T u, v> (VJP against JVP),
 *   - vmap against a loop over the batch (batch axis in front or absent),
 *   - jit against eager evaluation.
 * An entry says how to apply its primitive (`apply`, a function of the
 * operands whose program contains the primitive, which is checked); the
 * user-rule primitives are applied through sample user functions. Where a
 * primitive refuses forward evaluation (customVjpLinear, and customVjpCall's
 * JVP), the suite checks the refusal, and the transposition identity uses
 * finite differences for J v. A registered multi-output primitive without
 * an entry fails the suite.
 */
import { describe, expect, it } from "vitest";
import { type Array as NdArray, ConcreteArray } from "../src/core/array.js";
import { registeredMultiPrimitives } from "../src/core/primitive.js";
import {
  eigh as eighPrimitive,
  eigBasis as eigBasisPrimitive,
  eigvals as eigvalsPrimitive,
  qr as qrPrimitive,
  svd as svdPrimitive,
} from "../src/primitives/decomp.js";
import { sort as sortPrimitive } from "../src/primitives/sort.js";
import {
  checkpoint,
  customJvp,
  customVjp,
  jit,
  jvp,
  lax,
  makeJaxpr,
  np,
  vjp,
  vmap,
} from "../src/index.js";
import { stagedWhile } from "../src/lax/while.js";
import { rng } from "./helpers.js";

type Fn = (...xs: NdArray[]) => NdArray[];

interface MultiSpec {
  /** Fresh float64 sample operands. */
  args: (r: () => number) => ConcreteArray[];
  /** Applies the primitive (its program must contain it); returns every output. */
  apply: Fn;
  /**
   * Forward evaluation is refused with this message (customVjpLinear):
   * eager, jvp, vmap and jit must all throw it.
   */
  refusesForward?: RegExp;
  /** Only the JVP is refused (customVjpCall): J v comes from finite differences. */
  refusesJvp?: RegExp;
  /**
   * Its derivative is refused with this message (whileVjp: the reverse pass
   * of a loop whose trip count is known only at run time; eigBasis: the
   * eigenvectors behind eigvals' first derivative): jvp and vjp must throw
   * it; vmap and jit are checked as usual.
   */
  refusesDerivatives?: RegExp;
  /**
   * For a primitive that only transposes (customVjpLinear): a function whose
   * vjp runs its transpose; checked against finite differences of it.
   */
  transposedBy?: { fn: Fn; args: (r: () => number) => ConcreteArray[] };
}

function sample(shape: number[], r: () => number, lo = -1.5, hi = 1.5): ConcreteArray {
  const x = ConcreteArray.zeros(shape, "float64");
  for (let i = 0; i < x.size; i++) x.buffer[i] = lo + (hi - lo) * r();
  return x;
}
const nums = (x: NdArray): number[] => Array.from(x.data());
const isFloatOut = (x: NdArray) => x.dtype === "float64" || x.dtype === "float32";
function dotAll(a: readonly NdArray[], b: readonly NdArray[]): number {
  let s = 0;
  a.forEach((x, i) => {
    const ys = nums(b[i]!);
    nums(x).forEach((v, k) => (s += v * ys[k]!));
  });
  return s;
}
function expectClose(actual: number[], expected: number[], tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol + tol * Math.abs(e))) {
      expect.fail(`${what}: element ${i}: got ${a}, expected ${e} (tol ${tol})`);
    }
  });
}
const shifted = (xs: NdArray[], vs: NdArray[], eps: number) =>
  xs.map((x, i) => np.add(x, np.multiply(vs[i]!, eps)));
/** Central differences of every output of f at xs along vs. */
function fdTangents(f: Fn, xs: NdArray[], vs: NdArray[], eps = 1e-6): NdArray[] {
  const plus = f(...shifted(xs, vs, eps));
  const minus = f(...shifted(xs, vs, -eps));
  // (integer and bool outputs have no derivative: zeros)
  return plus.map((p, j) =>
    isFloatOut(p) ? np.divide(np.subtract(p, minus[j]!), 2 * eps) : np.zeros(p.shape),
  );
}

// --------------------------------------------------- sample user functions --

// customJvp: [sin(x) y, sum(x y)] with its derivative written by hand.
const jvpPair = customJvp(
  (x: NdArray, y: NdArray) => [np.multiply(np.sin(x), y), { s: np.sum(np.multiply(x, y)) }],
  ([x, y], [tx, ty]) => [
    [np.multiply(np.sin(x), y), { s: np.sum(np.multiply(x, y)) }],
    [
      np.add(np.multiply(np.multiply(np.cos(x), y), tx), np.multiply(np.sin(x), ty)),
      { s: np.sum(np.add(np.multiply(tx, y), np.multiply(x, ty))) },
    ],
  ],
);
const jvpPairFlat: Fn = (x, y) => {
  const [a, b] = jvpPair(x, y) as [NdArray, { s: NdArray }];
  return [a, b.s];
};

// customVjp: [exp(x) y, sum(y^2)] with its VJP written by hand.
const vjpPair = customVjp(
  (x: NdArray, y: NdArray) => [np.multiply(np.exp(x), y), np.sum(np.square(y))],
  (x, y) => [
    [np.multiply(np.exp(x), y), np.sum(np.square(y))],
    [np.exp(x), y],
  ],
  (res, ct: NdArray[]) => {
    const [ex, y] = res as NdArray[];
    const [c0, c1] = ct;
    return [
      np.multiply(np.multiply(ex!, y!), c0!),
      np.add(np.multiply(ex!, c0!), np.multiply(np.multiply(y!, 2), c1!)),
    ];
  },
);
const vjpPairFlat: Fn = (x, y) => vjpPair(x, y);

// checkpoint storing its matrix product: [tanh(W x), sum(x^2)].
const ckptPair = checkpoint(
  (x: NdArray, w: NdArray) => [np.tanh(np.matmul(w, x)), np.sum(np.square(x))],
  { policy: "dotsSaveable" },
);
const ckptPairFlat: Fn = (x, w) => ckptPair(x, w);

// A staged while (bound eagerly too): three steps of x <- sin(x) w + x / 2, the
// int32 counter and float32 leaf kept in the carry as they are (mixed dtypes).
const whileLoopFn: Fn = (x, w) => {
  const [xOut, , yOut] = stagedWhile(
    "conformance while",
    ([, i]) => np.less(i!, 3),
    ([c, i, y]) => [
      np.add(np.multiply(np.sin(c!), w), np.multiply(c!, 0.5)),
      np.add(i!, np.array(1, { dtype: "int32" })),
      np.multiply(y!, np.array(1.5, { dtype: "float32" })),
    ],
    [x, np.array(0, { dtype: "int32" }), np.array([1, 2], { dtype: "float32" })],
  );
  return [xOut!, np.multiply(np.sum(xOut!), yOut!.astype("float64"))];
};

// A checkpointed scan (one `scan` equation eagerly too): carry (float64, int32
// counter, float32 leaf), ys (float64 rows and a bool per step), a closed-over
// parameter w; the float32 leaf is returned as float64.
const scanFn: Fn = (c0, xs, w) => {
  const step = ([c, n, f]: NdArray[], x: NdArray) => {
    const next = np.add(np.multiply(np.sin(c!), w), np.multiply(x, 0.5));
    return [
      [next, np.add(n!, np.array(1, { dtype: "int32" })), np.add(np.multiply(f!, 1.5), 1)],
      { y: np.multiply(next, c!), b: np.greater(np.sum(next), 0) },
    ];
  };
  const init = [c0, np.array(0, { dtype: "int32" }), np.array([1, 2], { dtype: "float32" })];
  const [carry, ys] = lax.scan(step as never, init, xs, { checkpoint: { snapshots: 2 } }) as [
    NdArray[],
    { y: NdArray; b: NdArray },
  ];
  return [carry[0]!, carry[1]!, carry[2]!.astype("float64"), ys.y, ys.b];
};
const scanFloat: Fn = (c0, xs, w) => {
  const outs = scanFn(c0, xs, w);
  return [outs[0]!, outs[2]!, outs[3]!];
};

const VJP_REFUSED =
  /customVjp: forward mode \(jvp, jacfwd, linearize's tangent map\) is not available/;

/** A stack [k, n, n] of random symmetric matrices with well separated eigenvalues (diag + noise). */
function symmetricStack(k: number, n: number, r: () => number): ConcreteArray {
  const a = sample([k, n, n], r, -0.3, 0.3);
  for (let b = 0; b < k; b++)
    for (let i = 0; i < n; i++) {
      a.buffer[b * n * n + i * n + i]! += 2 * i;
      for (let j = 0; j < i; j++)
        a.buffer[b * n * n + i * n + j] = a.buffer[b * n * n + j * n + i]!;
    }
  return a;
}

const SPECS: Record<string, MultiSpec> = {
  sort: {
    args: (r) => [sample([2, 5], r)],
    apply: (x) => sortPrimitive(x),
  },
  // Decompositions on stacks [2, m, n] (the native batching), random
  // matrices (distinct eigen/singular values with probability 1).
  eigh: {
    args: (r) => [symmetricStack(2, 4, r)],
    apply: (a) => eighPrimitive(a),
  },
  qr: {
    args: (r) => [sample([2, 4, 3], r)],
    apply: (a) => qrPrimitive(a, false),
  },
  svd: {
    args: (r) => [sample([2, 4, 3], r)],
    apply: (a) => svdPrimitive(a, false),
  },
  eigvals: {
    args: (r) => [sample([2, 4, 4], r)],
    apply: (a) => eigvalsPrimitive(a),
  },
  // The eigenvector basis eigvals' JVP uses: values only (eigvals is first order only).
  eigBasis: {
    args: (r) => {
      const a = sample([2, 4, 4], r);
      const [re, im] = eigvalsPrimitive(a) as [ConcreteArray, ConcreteArray];
      return [a, re, im];
    },
    apply: (a, re, im) => eigBasisPrimitive(a, re, im),
    refusesDerivatives: /only the first derivative of the eigenvalues of non-symmetric matrices/,
  },
  customJvpCall: {
    args: (r) => [sample([3], r), sample([3], r)],
    apply: jvpPairFlat,
  },
  customVjpCall: {
    args: (r) => [sample([3], r), sample([3], r)],
    apply: vjpPairFlat,
    refusesJvp: VJP_REFUSED,
  },
  // The tangent map of a customVjp function: bound by its JVP rule, transposed by bwd.
  customVjpLinear: {
    args: (r) => [sample([3], r), sample([3], r), sample([3], r), sample([3], r)],
    apply: (x, y, tx, ty) => jvp(vjpPairFlat, [x, y], [tx, ty])[1],
    refusesForward: VJP_REFUSED,
    transposedBy: { fn: vjpPairFlat, args: (r) => [sample([3], r), sample([3], r)] },
  },
  checkpointCall: {
    args: (r) => [sample([3], r), sample([2, 3], r)],
    apply: ckptPairFlat,
  },
  // The tangent map of a checkpointed function: f's JVP at stored inputs.
  checkpointLinear: {
    args: (r) => [sample([3], r), sample([2, 3], r), sample([3], r), sample([2, 3], r)],
    apply: (x, w, tx, tw) => jvp(ckptPairFlat, [x, w], [tx, tw])[1],
  },
  while: {
    args: (r) => [sample([3], r), sample([3], r)],
    apply: whileLoopFn,
  },
  // The loop's tangent map: the joint (primal, tangent) loop forwards, whileVjp backwards.
  whileLinear: {
    args: (r) => [sample([3], r), sample([3], r), sample([3], r), sample([3], r)],
    apply: (x, w, tx, tw) => jvp(whileLoopFn, [x, w], [tx, tw])[1],
  },
  // The loop's reverse pass, run at run time; its own derivative is refused.
  whileVjp: {
    args: (r) => [sample([3], r), sample([3], r), sample([3], r), sample([2], r)],
    apply: (x, w, u, v) => vjp(whileLoopFn, x, w)[1]([u, v]),
    refusesDerivatives: /differentiating the reverse pass again .* not supported/,
  },
  scan: {
    args: (r) => [sample([3], r), sample([4, 3], r), sample([3], r)],
    apply: scanFn,
  },
  // The scan's tangent map: the joint (primal, tangent) scan forwards, scanVjp backwards.
  scanLinear: {
    args: (r) => [3, 4, 3, 3, 4, 3].map((n, i) => sample(i % 3 === 1 ? [n, 3] : [n], r)),
    apply: (c0, xs, w, tc, txs, tw) => jvp(scanFn, [c0, xs, w], [tc, txs, tw])[1],
  },
  // The scan's reverse pass (revolve); differentiated through its staged form.
  scanVjp: {
    args: (r) => [
      sample([3], r),
      sample([4, 3], r),
      sample([3], r),
      sample([3], r),
      sample([2], r),
      sample([4, 3], r),
    ],
    apply: (c0, xs, w, uc, uf, uy) => vjp(scanFloat, c0, xs, w)[1]([uc, uf, uy]),
  },
};

// --------------------------------------------------------------- checks --

describe("conformance of every registered multi-output primitive", () => {
  it("has a conformance entry for each one", () => {
    const missing = registeredMultiPrimitives()
      .map((p) => p.name)
      .filter((n) => !(n in SPECS));
    expect(missing).toEqual([]);
  });

  for (const prim of registeredMultiPrimitives()) {
    const spec = SPECS[prim.name];
    if (spec === undefined) continue;
    describe(prim.name, () => {
      const r = rng(prim.name.split("").reduce((h, c) => h * 31 + c.charCodeAt(0), 7) >>> 0);
      const xs = spec.args(r);
      const vs = xs.map((x) => sample([...x.shape], r, -1, 1));

      it("its entry applies it", () => {
        const eqns = makeJaxpr(spec.apply)(...xs).eqns;
        expect(eqns.map((e) => e.prim.name)).toContain(prim.name);
      });

      if (spec.refusesForward !== undefined) {
        const refused = spec.refusesForward;
        it("refuses forward evaluation eagerly, in jvp, vmap and jit", () => {
          expect(() => spec.apply(...xs)).toThrow(refused);
          expect(() => jvp(spec.apply, xs, vs)).toThrow(refused);
          const batched = xs.map((x) => np.stack([x, x]));
          expect(() => vmap(spec.apply)(...batched)).toThrow(refused);
          expect(() => jit(spec.apply)(...xs)).toThrow(refused);
        });
        const by = spec.transposedBy;
        if (by !== undefined) {
          it("satisfies <u, J v> = <J^T u, v> through its transpose (J v by finite differences)", () => {
            const ps = by.args(r);
            const ws = ps.map((p) => sample([...p.shape], r, -1, 1));
            const outs = by.fn(...ps);
            const us = outs.map((o) => sample([...o.shape], r, -1, 1));
            const cts = vjp(by.fn, ...ps)[1](us);
            const lhs = dotAll(us, fdTangents(by.fn, ps, ws));
            expectClose([dotAll(cts, ws)], [lhs], 1e-7, `${prim.name} transposition`);
          });
        }
        return;
      }

      const outs = spec.apply(...xs);
      const us = outs.map((o) => sample([...o.shape], r, -1, 1));
      const floatOuts = outs.map(isFloatOut);

      const refused = spec.refusesDerivatives;
      if (refused !== undefined) {
        it("refuses its derivative in jvp and vjp", () => {
          expect(() => jvp(spec.apply, xs, vs)).toThrow(refused);
          expect(() => vjp(spec.apply, ...xs)[1](us)).toThrow(refused);
        });
      } else
        it("JVP matches central finite differences", () => {
          const fd = fdTangents(spec.apply, xs, vs);
          if (spec.refusesJvp !== undefined) {
            expect(() => jvp(spec.apply, xs, vs)).toThrow(spec.refusesJvp);
            return;
          }
          const ts = jvp(spec.apply, xs, vs)[1];
          ts.forEach((t, j) => {
            if (floatOuts[j]) expectClose(nums(t), nums(fd[j]!), 1e-6, `${prim.name} jvp ${j}`);
          });
        });

      if (refused === undefined)
        it("satisfies <u, J v> = <J^T u, v> (VJP against JVP)", () => {
          const jv =
            spec.refusesJvp !== undefined
              ? fdTangents(spec.apply, xs, vs)
              : jvp(spec.apply, xs, vs)[1];
          const floatU = us.map((u, j) => (floatOuts[j] ? u : np.zerosLike(u)));
          const cts = vjp(spec.apply, ...xs)[1](floatU);
          const keep = (a: NdArray[]) => a.filter((_, j) => floatOuts[j]);
          const lhs = dotAll(keep(floatU), keep(jv));
          const tol = spec.refusesJvp !== undefined ? 1e-7 : 1e-12;
          expectClose([dotAll(cts, vs)], [lhs], tol, `${prim.name} transposition`);
        });

      it("vmap matches a loop over the batch", () => {
        const B = 3;
        const batches = Array.from({ length: B }, () => spec.args(r));
        for (const layout of ["front", "mixed"] as const) {
          const axes = xs.map((_, i) => (layout === "mixed" && i % 2 === 1 ? null : 0));
          const batched = xs.map((_, i) =>
            axes[i] === null ? batches[0]![i]! : np.stack(batches.map((b) => b[i]!)),
          );
          const got = vmap(spec.apply, { inAxes: axes })(...batched);
          const loop = batches.map((b) =>
            spec.apply(...b.map((x, i) => (axes[i] === null ? batches[0]![i]! : x))),
          );
          got.forEach((g, j) => {
            const expected = np.stack(loop.map((o) => o[j]!));
            expect(g.shape, `${prim.name} vmap ${layout} ${j}`).toEqual(expected.shape);
            expectClose(nums(g), nums(expected), 1e-12, `${prim.name} vmap ${layout} ${j}`);
          });
        }
      });

      it("jit matches eager evaluation", () => {
        const got = jit(spec.apply)(...xs);
        got.forEach((g, j) => expectClose(nums(g), nums(outs[j]!), 1e-15, `${prim.name} jit ${j}`));
      });
    });
  }
});
