/**
 * np.linalg on stacks of matrices: values against NumPy (LAPACK) and mpmath
 * fixtures made offline by scripts/linalg-fixtures.py, reconstructions
 * (A = Q R, A = U S Vt, A V = V diag(w)) and orthogonality, derivatives of
 * order 2 against float64 finite differences in both modes (checkGrads),
 * vmap against a loop, jit against eager, float32, and error messages.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DTypeError, InvalidArgumentError, ShapeError } from "../src/core/errors.js";
import { type Array as NdArray, checkGrads, grad, jit, jvp, np, vmap } from "../src/index.js";
import * as dc from "../src/primitives/decomp.js";
import { expectAllClose, randomArray, rng } from "./helpers.js";

type Nested = number | Nested[];
const fx = JSON.parse(
  readFileSync(new URL("./fixtures/linalg.json", import.meta.url), "utf8"),
) as Record<string, Record<string, Nested>>;
const A = (x: Nested): NdArray => np.array(x);
const f64 = (x: NdArray): number[] => Array.from(x.data());

/** The largest |x - y| entry. */
const maxDiff = (x: NdArray, y: NdArray): number =>
  f64(np.abs(np.subtract(x, y))).reduce((m, v) => Math.max(m, v), 0);
const T = (x: NdArray): NdArray => np.swapaxes(x, -1, -2);
const eyeStack = (shape: readonly number[]): NdArray =>
  np.broadcastTo(np.eye(shape[shape.length - 1]!), shape);

/** 0/1 masks of the lower (j <= i) and upper (j >= i) triangles of an r x c matrix. */
const lowerTriangle = (r: number, c: number): NdArray =>
  np.array(
    Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => (j <= i ? 1 : 0))),
  );
const upperTriangle = (r: number, c: number): NdArray =>
  np.array(
    Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => (j >= i ? 1 : 0))),
  );

/** Symmetric stack [k, n, n] with well separated eigenvalues (0, 2, 4, ... plus noise). */
function symmetric(r: () => number, k: number, n: number): NdArray {
  const m = randomArray(r, [k, n, n], -0.4, 0.4);
  const d = np.multiply(np.eye(n), np.reshape(np.multiply(np.arange(n), 2), [n, 1]));
  return np.add(np.add(m, T(m)), d);
}

describe("batched solve, inv, det, slogdet, cholesky, triangularSolve", () => {
  const sq = fx.square!;
  const a = A(sq.a!);
  it("match NumPy on a stack of 3 matrices", () => {
    expectAllClose(np.linalg.det(a), A(sq.det!), 1e-13, 1e-14);
    const [sign, logAbs] = np.linalg.slogdet(a);
    expectAllClose(sign, A(sq.sign!), 0, 0);
    expectAllClose(logAbs, A(sq.logabsdet!), 1e-13, 1e-14);
    expectAllClose(np.linalg.inv(a), A(sq.inv!), 1e-12, 1e-13);
  });
  it("solve broadcasts leading dimensions and takes a 1-d b as one vector", () => {
    const r = rng(1);
    const b = randomArray(r, [4, 2]); // one matrix of right-hand sides for the whole stack
    const x = np.linalg.solve(a, b);
    expect(x.shape).toEqual([3, 4, 2]);
    expect(maxDiff(np.matmul(a, x), np.broadcastTo(b, [3, 4, 2]))).toBeLessThan(1e-14);
    const v = randomArray(r, [4]);
    const xv = np.linalg.solve(a, v);
    expect(xv.shape).toEqual([3, 4]);
    for (let i = 0; i < 3; i++) {
      const single = np.linalg.solve(np.take(a, i, 0), v);
      expectAllClose(np.take(xv, i, 0), single, 1e-15, 1e-15);
    }
    // [2, 1, 4, 4] against [3, 4, 1]: batch dimensions broadcast to [2, 3]
    const a2 = np.stack([np.expandDims(np.take(a, 0, 0), 0), np.expandDims(np.take(a, 1, 0), 0)]);
    const b3 = randomArray(r, [3, 4, 1]);
    const x23 = np.linalg.solve(a2, b3);
    expect(x23.shape).toEqual([2, 3, 4, 1]);
    expect(maxDiff(np.matmul(a2, x23), np.broadcastTo(b3, [2, 3, 4, 1]))).toBeLessThan(1e-14);
  });
  it("cholesky and triangularSolve on stacks", () => {
    const spd = np.add(np.matmul(a, T(a)), eyeStack([3, 4, 4]));
    const l = np.linalg.cholesky(spd);
    expect(maxDiff(np.matmul(l, T(l)), spd)).toBeLessThan(1e-13);
    expect(maxDiff(l, np.multiply(l, lowerTriangle(4, 4)))).toBe(0);
    const b = randomArray(rng(2), [3, 4, 2]);
    const x = np.linalg.triangularSolve(l, b);
    expect(maxDiff(np.matmul(l, x), b)).toBeLessThan(1e-14);
    expectAllClose(np.linalg.cholesky(spd, { upper: true }), T(l), 0, 0);
    const xu = np.linalg.triangularSolve(T(l), b, { lower: false });
    expect(maxDiff(np.matmul(T(l), xu), b)).toBeLessThan(1e-14);
  });
  it("derivatives of order 2 in both modes against finite differences", () => {
    const r = rng(3);
    const b = randomArray(r, [3, 4, 2]);
    checkGrads((m: NdArray) => np.linalg.solve(m, b), [a]);
    checkGrads((m: NdArray, c: NdArray) => np.linalg.solve(m, c), [a, b]);
    checkGrads((m: NdArray) => np.linalg.inv(m), [a]);
    checkGrads((m: NdArray) => np.linalg.det(m), [a]);
    checkGrads((m: NdArray) => np.linalg.slogdet(m)[1], [a]);
    checkGrads(
      (m: NdArray) => np.linalg.cholesky(np.add(np.matmul(m, T(m)), eyeStack(m.shape))),
      [a],
    );
    checkGrads((m: NdArray) => np.linalg.triangularSolve(np.add(m, eyeStack(m.shape)), b), [a]);
  });
  it("vmap over a stack equals the native stack; jit equals eager", () => {
    const b = randomArray(rng(4), [3, 4]);
    expectAllClose(vmap(np.linalg.det)(a), np.linalg.det(a), 0, 0);
    expectAllClose(
      vmap(np.linalg.solve)(a, b),
      np.linalg.solve(a, np.expandDims(b, -1)).reshape(3, 4),
      0,
      0,
    );
    expectAllClose(jit(np.linalg.inv)(a), np.linalg.inv(a), 0, 0);
    // vmap of a stack function: the vmap axis joins the stack (batch axis 1 here)
    const a4 = np.stack([a, np.multiply(a, 2)], 1); // [3, 2, 4, 4]
    const perRow = vmap((m: NdArray) => np.linalg.slogdet(m)[1], { inAxes: 1 })(a4);
    expectAllClose(perRow, np.moveaxis(np.linalg.slogdet(a4)[1], 1, 0), 1e-15, 1e-15);
  });
  it("float32 stacks stay float32", () => {
    const a32 = a.astype("float32");
    const x = np.linalg.inv(a32);
    expect(x.dtype).toBe("float32");
    expectAllClose(x, A(sq.inv!), 1e-4, 1e-5);
    expect(np.linalg.det(a32).dtype).toBe("float32");
  });
});

describe("norm", () => {
  const nf = fx.norm!;
  const x = A(nf.x!);
  it("vector norms along an axis match NumPy", () => {
    for (const [name, ord] of [
      ["2", 2],
      ["1", 1],
      ["inf", Infinity],
      ["-inf", -Infinity],
      ["0", 0],
      ["3", 3],
      ["0.5", 0.5],
    ] as const) {
      expectAllClose(np.linalg.norm(x, ord, { axis: 1 }), A(nf[`vec_axis1_${name}`]!), 1e-14, 0);
    }
  });
  it("matrix norms match NumPy", () => {
    for (const [name, ord] of [
      ["fro", "fro"],
      ["nuc", "nuc"],
      ["1", 1],
      ["-1", -1],
      ["2", 2],
      ["-2", -2],
      ["inf", Infinity],
      ["-inf", -Infinity],
    ] as const) {
      expectAllClose(np.linalg.norm(x, ord), nf[`mat_${name}`] as number, 1e-14, 0);
    }
    const x3 = A(nf.x3!);
    const nuc = np.linalg.norm(x3, "nuc", { axis: [2, 0], keepdims: true });
    expect(nuc.shape).toEqual([1, 3, 1]);
    expectAllClose(nuc, A(nf.x3_axes_2_0_nuc_keepdims!), 1e-14, 0);
    expectAllClose(np.linalg.norm(x3), nf.x3_default as number, 1e-14, 0);
  });
  it("derivatives: order 2 against finite differences; 0 at a zero vector", () => {
    checkGrads((v: NdArray) => np.linalg.norm(v, null, { axis: 1 }), [x]);
    checkGrads((v: NdArray) => np.linalg.norm(v, 3, { axis: 0 }), [x]);
    checkGrads((v: NdArray) => np.linalg.norm(v, 1, { axis: 1 }), [x]);
    checkGrads((m: NdArray) => np.linalg.norm(m, "fro"), [x]);
    checkGrads((m: NdArray) => np.linalg.norm(m, "nuc"), [x]);
    checkGrads((m: NdArray) => np.linalg.norm(m, 2), [x]);
    checkGrads((m: NdArray) => np.linalg.norm(m, Infinity), [x]);
    const zero = np.zeros([3]);
    expect(f64(grad((v: NdArray) => np.linalg.norm(v))(zero))).toEqual([0, 0, 0]);
    expect(f64(grad((v: NdArray) => np.linalg.norm(v, 4))(zero))).toEqual([0, 0, 0]);
    const hess = grad((v: NdArray) => np.sum(grad((w: NdArray) => np.linalg.norm(w))(v)))(zero);
    expect(f64(hess).every(Number.isFinite)).toBe(true);
    // Away from zero the 2-norm's gradient is x / |x|.
    const v = np.array([3, -4]);
    expectAllClose(grad((w: NdArray) => np.linalg.norm(w))(v), [0.6, -0.8], 1e-15, 0);
  });
  it("rejects bad ord and axes", () => {
    expect(() => np.linalg.norm(x, "nuc", { axis: 1 })).toThrow(/ord nuc is not a vector norm/);
    expect(() => np.linalg.norm(x, 3)).toThrow(/ord 3 is not a matrix norm/);
    expect(() => np.linalg.norm(np.ones([2, 2, 2]), 2)).toThrow(
      /x must be 1-d or 2-d, got shape \[2, 2, 2\].*pass axis/,
    );
    expect(() => np.linalg.norm(x, null, { axis: [1, 1] })).toThrow(
      /two different axes, got \[1, 1\] for shape \[3, 4\]/,
    );
  });
});

describe("eigh", () => {
  const e = fx.eigh!;
  const a = A(e.a!);
  it("eigenvalues match LAPACK; A V = V diag(w) and V^T V = I to 1e-14", () => {
    const [w, v] = np.linalg.eigh(a);
    expectAllClose(w, A(e.w!), 1e-14, 1e-14);
    expect(maxDiff(np.matmul(a, v), np.multiply(v, np.expandDims(w, -2)))).toBeLessThan(1e-14);
    expect(maxDiff(np.matmul(T(v), v), eyeStack(v.shape))).toBeLessThan(1e-14);
    expectAllClose(np.linalg.eigvalsh(a), A(e.w!), 1e-14, 1e-14);
  });
  it("a 2x2 closed form", () => {
    // [[a, b], [b, c]]: (a + c)/2 ± sqrt(((a - c)/2)^2 + b^2)
    const [p, q, c] = [1.5, 0.7, -0.25];
    const rad = Math.hypot((p - c) / 2, q);
    expectAllClose(
      np.linalg.eigvalsh([
        [p, q],
        [q, c],
      ]),
      [(p + c) / 2 - rad, (p + c) / 2 + rad],
      1e-15,
      1e-15,
    );
  });
  it("derivatives of order 2 against finite differences", () => {
    const s = symmetric(rng(5), 2, 3);
    checkGrads((m: NdArray) => np.linalg.eigh(m)[0], [s]);
    checkGrads((m: NdArray) => np.linalg.eigh(m)[1], [s]);
    // the analytic gradient of the largest eigenvalue: v v^T
    const [, v] = np.linalg.eigh(s);
    const top = np.take(v, 2, 2); // [2, 3]
    const g = grad((m: NdArray) => np.sum(np.take(np.linalg.eigh(m)[0], 2, 1)))(s);
    expectAllClose(g, np.multiply(np.expandDims(top, 2), np.expandDims(top, 1)), 1e-13, 1e-14);
  });
  it("degenerate eigenvalues: dw finite, dV not (as documented)", () => {
    const [dw, dv] = jvp(
      (m: NdArray) => np.linalg.eigh(m),
      [np.eye(3)],
      [
        np.array([
          [1, 2, 0],
          [2, 0, 1],
          [0, 1, 3],
        ]),
      ],
    )[1] as NdArray[];
    expect(f64(dw!).every(Number.isFinite)).toBe(true);
    expect(f64(dv!).some((x) => !Number.isFinite(x))).toBe(true);
  });
  it("vmap matches a loop, jit matches eager, float32 works", () => {
    const s = symmetric(rng(6), 3, 4);
    const loop = [0, 1, 2].map((i) => np.linalg.eigh(np.take(s, i, 0)));
    const [bw, bv] = vmap((m: NdArray) => np.linalg.eigh(m))(s) as NdArray[];
    expectAllClose(bw!, np.stack(loop.map((l) => l[0])), 0, 0);
    expectAllClose(bv!, np.stack(loop.map((l) => l[1])), 0, 0);
    // a vmap axis in the middle (inAxes 1) moves to the front and joins the stack
    const [mw] = vmap((m: NdArray) => np.linalg.eigh(m), { inAxes: 1 })(
      np.moveaxis(s, 0, 1),
    ) as NdArray[];
    expectAllClose(mw!, bw!, 0, 0);
    const [jw, jv] = jit((m: NdArray) => np.linalg.eigh(m))(s) as NdArray[];
    expectAllClose(jw!, bw!, 0, 0);
    expectAllClose(jv!, bv!, 0, 0);
    const [w32, v32] = np.linalg.eigh(s.astype("float32"));
    expect([w32.dtype, v32.dtype]).toEqual(["float32", "float32"]);
    expectAllClose(w32, bw!, 1e-6, 1e-6);
  });
});

describe("qr", () => {
  const r = rng(7);
  for (const shape of [
    [2, 5, 3],
    [2, 3, 5],
    [4, 4],
  ]) {
    it(`reconstructs ${JSON.stringify(shape)} in both modes with orthonormal Q and triangular R`, () => {
      const a = randomArray(r, shape);
      for (const mode of ["reduced", "complete"] as const) {
        const [q, rr] = np.linalg.qr(a, { mode });
        const m = shape[shape.length - 2]!;
        const n = shape[shape.length - 1]!;
        const k = mode === "complete" ? m : Math.min(m, n);
        expect(q.shape).toEqual([...shape.slice(0, -2), m, k]);
        expect(rr.shape).toEqual([...shape.slice(0, -2), k, n]);
        expect(maxDiff(np.matmul(q, rr), a)).toBeLessThan(1e-14);
        expect(maxDiff(np.matmul(T(q), q), eyeStack([...shape.slice(0, -2), k, k]))).toBeLessThan(
          1e-14,
        );
        const lowerMask = np.subtract(1, upperTriangle(k, n));
        expect(maxDiff(np.multiply(rr, lowerMask), np.zerosLike(rr))).toBe(0);
      }
      expect(np.linalg.qr(a, { mode: "r" }).shape).toEqual(np.linalg.qr(a)[1].shape);
    });
  }
  it("|R| matches the Cholesky factor of A^T A (an independent route)", () => {
    const a = randomArray(r, [5, 3]);
    const [, rr] = np.linalg.qr(a);
    const l = np.linalg.cholesky(np.matmul(T(a), a));
    expectAllClose(np.abs(rr), np.abs(T(l)), 1e-12, 1e-13);
  });
  it("derivatives of order 2 (tall and square) against finite differences", () => {
    const tall = randomArray(r, [2, 4, 3]);
    checkGrads((m: NdArray) => np.linalg.qr(m)[0], [tall]);
    checkGrads((m: NdArray) => np.linalg.qr(m)[1], [tall]);
    const sq = randomArray(r, [3, 3]);
    checkGrads((m: NdArray) => np.linalg.qr(m, { mode: "complete" })[0], [sq]);
  });
  it("refuses to differentiate wide matrices, naming the shape", () => {
    const wide = randomArray(r, [2, 4]);
    expect(() => grad((m: NdArray) => np.sum(np.linalg.qr(m)[0]))(wide)).toThrow(
      /qr: the derivative is implemented for matrices with at least as many rows.*\[2, 4\]/,
    );
  });
  it("vmap matches a loop, jit matches eager", () => {
    const a = randomArray(r, [3, 4, 3]);
    const [bq, br] = vmap((m: NdArray) => np.linalg.qr(m))(a) as NdArray[];
    [0, 1, 2].forEach((i) => {
      const [q, rr] = np.linalg.qr(np.take(a, i, 0));
      expectAllClose(np.take(bq!, i, 0), q, 0, 0);
      expectAllClose(np.take(br!, i, 0), rr, 0, 0);
    });
    const [jq] = jit((m: NdArray) => np.linalg.qr(m))(a) as NdArray[];
    expectAllClose(jq!, bq!, 0, 0);
  });
});

describe("svd", () => {
  const s = fx.svd!;
  it("singular values match LAPACK (tall, wide, and graded down to 1e-12 relatively)", () => {
    expectAllClose(np.linalg.svdvals(A(s.tall!)), A(s.tall_s!), 1e-14, 1e-15);
    expectAllClose(np.linalg.svd(A(s.wide!), { computeUv: false }), A(s.wide_s!), 1e-14, 1e-15);
    // Graded singular values 1 .. 1e-12: each within a few eps of the largest (what
    // backward-stable methods give; through eigh(A^T A) those below 1e-8 would be lost).
    expectAllClose(np.linalg.svdvals(A(s.graded!)), A(s.graded_s!), 1e-13, 1e-15);
    expectAllClose(np.linalg.svdvals(A(s.graded10!)), A(s.graded10_s!), 1e-13, 1e-15);
    expectAllClose(np.linalg.svdvals(T(A(s.graded10!))), A(s.graded10_s!), 1e-13, 1e-15);
  });
  for (const key of ["tall", "wide"] as const) {
    it(`reconstructs the ${key} stack, reduced and full, with orthonormal U and V`, () => {
      const a = A(s[key]!);
      const [m, n] = a.shape.slice(-2) as [number, number];
      for (const fullMatrices of [false, true]) {
        const [u, sv, vt] = np.linalg.svd(a, { fullMatrices });
        const k = Math.min(m, n);
        expect(u.shape).toEqual([2, m, fullMatrices ? m : k]);
        expect(vt.shape).toEqual([2, fullMatrices ? n : k, n]);
        const uk = fullMatrices ? np.slice(u, null, null, [0, k]) : u;
        const vk = fullMatrices ? np.slice(vt, null, [0, k], null) : vt;
        expect(maxDiff(np.matmul(np.multiply(uk, np.expandDims(sv, -2)), vk), a)).toBeLessThan(
          1e-14,
        );
        expect(maxDiff(np.matmul(T(u), u), eyeStack([2, u.shape[2]!, u.shape[2]!]))).toBeLessThan(
          1e-14,
        );
        expect(
          maxDiff(np.matmul(vt, T(vt)), eyeStack([2, vt.shape[1]!, vt.shape[1]!])),
        ).toBeLessThan(1e-14);
      }
    });
  }
  it("rank-deficient matrices get a completed orthonormal U", () => {
    const a = np.array([
      [1, 2, 0],
      [2, 4, 0],
      [0, 0, 0],
    ]);
    const [u, sv, vt] = np.linalg.svd(a);
    expectAllClose(sv, [5, 0, 0], 1e-15, 1e-15);
    expect(maxDiff(np.matmul(T(u), u), np.eye(3))).toBeLessThan(1e-15);
    expect(maxDiff(np.matmul(np.multiply(u, sv), vt), a)).toBeLessThan(1e-15);
  });
  it("derivatives of order 2 against finite differences (tall, wide, square)", () => {
    const r = rng(8);
    const flatSvd = (opts: { fullMatrices: boolean }) => (m: NdArray) => {
      const [u, sv, vt] = np.linalg.svd(m, opts);
      return np.concatenate([np.ravel(u), np.ravel(sv), np.ravel(vt)]);
    };
    for (const shape of [
      [2, 4, 3],
      [3, 4],
      [3, 3],
    ]) {
      const a = randomArray(r, shape);
      checkGrads((m: NdArray) => np.linalg.svdvals(m), [a]);
      checkGrads(flatSvd({ fullMatrices: false }), [a]);
    }
    checkGrads(flatSvd({ fullMatrices: true }), [randomArray(r, [3, 3])], { order: 1 });
  });
  it("singular values of repeated value matrices still have a finite derivative", () => {
    const g = grad((m: NdArray) => np.linalg.norm(m, 2))(np.eye(3));
    expect(f64(g).every(Number.isFinite)).toBe(true);
    const gn = grad((m: NdArray) => np.linalg.norm(m, "nuc"))(np.eye(3));
    expectAllClose(gn, np.eye(3), 1e-15, 1e-15); // d tr(sqrt(A^T A)) at I = I
  });
  it("refuses to differentiate full non-square U, V, naming the shape", () => {
    expect(() => grad((m: NdArray) => np.sum(np.linalg.svd(m)[0]))(np.ones([3, 2]))).toThrow(
      /fullMatrices: true is only defined for square matrices.*\[3, 2\].*fullMatrices: false/,
    );
  });
  it("vmap matches a loop, jit matches eager, float32 works", () => {
    const a = randomArray(rng(9), [3, 4, 3]);
    const [bu, bs, bv] = vmap((m: NdArray) => np.linalg.svd(m, { fullMatrices: false }))(
      a,
    ) as NdArray[];
    [0, 1, 2].forEach((i) => {
      const [u, sv, vt] = np.linalg.svd(np.take(a, i, 0), { fullMatrices: false });
      expectAllClose(np.take(bu!, i, 0), u, 0, 0);
      expectAllClose(np.take(bs!, i, 0), sv, 0, 0);
      expectAllClose(np.take(bv!, i, 0), vt, 0, 0);
    });
    const [, js] = jit((m: NdArray) => np.linalg.svd(m))(a) as NdArray[];
    expectAllClose(js!, bs!, 0, 0);
    const s32 = np.linalg.svdvals(a.astype("float32"));
    expect(s32.dtype).toBe("float32");
    expectAllClose(s32, bs!, 1e-6, 1e-6);
  });
});

describe("pinv, lstsq, matrixRank, matrixPower, expm, cond", () => {
  const sq = fx.square!;
  const a = A(sq.a!);
  it("match NumPy/SciPy", () => {
    expectAllClose(np.linalg.pinv(A(fx.svd!.tall!)), A(fx.pinv!.tall!), 1e-13, 1e-14);
    expectAllClose(np.linalg.pinv(A(fx.svd!.wide!)), A(fx.pinv!.wide!), 1e-13, 1e-14);
    expect(f64(np.linalg.matrixRank(A(fx.rank!.a!)))).toEqual(f64(A(fx.rank!.rank!)));
    expectAllClose(np.linalg.matrixPower(a, 5), A(sq.power_5!), 1e-13, 1e-13);
    expectAllClose(np.linalg.matrixPower(a, -3), A(sq.power_m3!), 1e-12, 1e-13);
    expectAllClose(np.linalg.matrixPower(a, 0), eyeStack([3, 4, 4]), 0, 0);
    expectAllClose(np.linalg.expm(a), A(sq.expm!), 1e-14, 1e-14);
    expectAllClose(np.linalg.expm(A(sq.expm_big_a!)), A(sq.expm_big!), 1e-12, 0);
    expectAllClose(np.linalg.cond(a), A(sq.cond!), 1e-13, 0);
    expectAllClose(np.linalg.cond(a, 1), A(sq.cond_1!), 1e-13, 0);
    expectAllClose(np.linalg.cond(a, "fro"), A(sq.cond_fro!), 1e-13, 0);
    const l = fx.lstsq!;
    const [x, res, rank, sv] = np.linalg.lstsq(A(l.a!), A(l.b!));
    expectAllClose(x, A(l.x!), 1e-13, 1e-14);
    expectAllClose(res, A(l.residuals!), 1e-13, 1e-14);
    expect(rank.item()).toBe(l.rank);
    expectAllClose(sv, A(l.s!), 1e-14, 0);
  });
  it("expm: closed forms (a rotation generator and a nilpotent matrix)", () => {
    const t = 2.5;
    expectAllClose(
      np.linalg.expm([
        [0, t],
        [-t, 0],
      ]),
      [Math.cos(t), Math.sin(t), -Math.sin(t), Math.cos(t)],
      1e-15,
      1e-15,
    );
    expectAllClose(
      np.linalg.expm([
        [0, 1, 2],
        [0, 0, 3],
        [0, 0, 0],
      ]),
      [1, 1, 2 + 1.5, 0, 1, 3, 0, 0, 1],
      1e-15,
      1e-15,
    );
  });
  it("expm under jit (guarded squarings) equals eager, and too large a norm gives NaN there", () => {
    const big = A(sq.expm_big_a!);
    expectAllClose(jit((m: NdArray) => np.linalg.expm(m))(big), np.linalg.expm(big), 1e-15, 0);
    const huge = np.multiply(big, 1e6);
    const traced = jit((m: NdArray) => np.linalg.expm(m, { maxSquarings: 4 }))(huge);
    expect(f64(traced).every(Number.isNaN)).toBe(true);
    // an infinite entry: NaN eagerly too (no endless squaring)
    const withInf = np.linalg.expm([
      [Infinity, 0],
      [0, 1],
    ]);
    expect(f64(withInf).every(Number.isNaN)).toBe(true);
  });
  it("derivatives of order 2 against finite differences", () => {
    const r = rng(10);
    const m0 = np.take(a, 0, 0);
    checkGrads((m: NdArray) => np.linalg.pinv(m), [randomArray(r, [4, 3])]);
    // repeated singular values (identity, orthonormal columns): pinv's own rule stays finite
    checkGrads((m: NdArray) => np.linalg.pinv(m), [np.eye(3)]);
    checkGrads((m: NdArray) => np.linalg.pinv(m), [np.linalg.qr(randomArray(r, [4, 2]))[0]]);
    // rank 1 kept by the perturbation direction: d pinv(a) along a itself is -pinv(a)
    const rank1 = np.outer(np.array([1, 2, 0]), np.array([0, 1, 1]));
    const along = jvp((m: NdArray) => np.linalg.pinv(m), [rank1], [rank1])[1];
    expectAllClose(along, np.negative(np.linalg.pinv(rank1)), 1e-13, 1e-14);
    checkGrads((m: NdArray) => np.linalg.matrixPower(m, 3), [m0]);
    checkGrads((m: NdArray) => np.linalg.matrixPower(m, -2), [m0]);
    checkGrads((m: NdArray) => np.linalg.expm(m), [np.multiply(a, 0.5)]);
    checkGrads((m: NdArray) => np.linalg.expm(m), [np.multiply(m0, 4)], { order: 1 });
    checkGrads((m: NdArray) => np.linalg.cond(m), [m0]);
    const b = randomArray(r, [5, 2]);
    checkGrads((m: NdArray) => np.linalg.lstsq(m, b)[0], [randomArray(r, [5, 3])]);
    // d expm(A)[E] = the upper-right block of expm([[A, E], [0, A]]) (an independent route)
    const e = randomArray(r, [4, 4]);
    const block = np.concatenate(
      [np.concatenate([m0, e], 1), np.concatenate([np.zeros([4, 4]), m0], 1)],
      0,
    );
    const viaBlock = np.slice(np.linalg.expm(block), [0, 4], [4, 8]);
    const viaJvp = jvp((m: NdArray) => np.linalg.expm(m), [m0], [e])[1];
    expectAllClose(viaJvp, viaBlock, 1e-12, 1e-13);
  });
});

describe("errors name the function, the shapes and dtypes", () => {
  it("non-square, wrong rank, bad arguments", () => {
    expect(() => np.linalg.eigh(np.ones([2, 3]))).toThrow(
      /np\.linalg\.eigh: expected a square matrix.*got shape \[2, 3\]/,
    );
    expect(() => np.linalg.svd(np.ones([3]))).toThrow(
      /np\.linalg\.svd: expected a matrix \[m, n\].*got shape \[3\]/,
    );
    expect(() => np.linalg.qr(np.ones([3]))).toThrow(ShapeError);
    expect(() => np.linalg.inv(np.ones([2, 3, 3, 2]))).toThrow(/got shape \[2, 3, 3, 2\]/);
    expect(() => np.linalg.solve(np.ones([2, 3, 3]), np.ones([4, 3, 1]))).toThrow(
      /np\.linalg\.solve.*\[2\].*\[4\]/,
    );
    expect(() => np.linalg.matrixPower(np.eye(2), 1.5)).toThrow(InvalidArgumentError);
    expect(() => np.linalg.matrixPower(np.eye(2), 1.5)).toThrow(/must be an integer, got 1.5/);
    expect(() => np.linalg.lstsq(np.ones([3, 2]), np.ones([4]))).toThrow(
      /b must be \[3\] or \[3, k\] to match a of shape \[3, 2\], got shape \[4\]/,
    );
    expect(() => np.linalg.lstsq(np.ones([2, 3, 2]), np.ones([3]))).toThrow(
      /a must be one matrix.*\[2, 3, 2\]/,
    );
    expect(() => np.linalg.qr(np.ones([2, 2]), { mode: "bad" as "r" })).toThrow(
      /mode must be "reduced", "complete" or "r", got bad/,
    );
  });
  it("integer dtypes are refused by the primitives (np.linalg converts them, as NumPy)", () => {
    const ints = np
      .array([
        [1, 2],
        [3, 4],
      ])
      .astype("int32");
    expect(() => dc.eigh(ints)).toThrow(DTypeError);
    expect(() => dc.svd(ints, false)).toThrow(
      /expected a float matrix.*got dtype int32 for shape \[2, 2\]/,
    );
    expect(() => dc.qr(ints, false)).toThrow(DTypeError);
    expectAllClose(np.linalg.det(ints), -2, 1e-15, 0);
  });
});

describe("eigvals (real non-symmetric input)", () => {
  const ev = fx.eigvals!;
  it("match LAPACK for sizes 1 to 7, real and complex pairs", () => {
    for (let n = 1; n <= 7; n++) {
      const c = ev[String(n)] as unknown as { a: Nested; re: number[]; im: number[] };
      const [re, im] = np.linalg.eigvals(A(c.a));
      expectAllClose(re, c.re, 1e-12, 1e-13);
      expectAllClose(im, c.im, 1e-12, 1e-13);
    }
  });
  it("a Jordan block and a rotation (closed forms), as one stack", () => {
    const [re, im] = np.linalg.eigvals(A((ev.special as unknown as { a: Nested }).a));
    // triple eigenvalue 2 of a Jordan block: perturbed at eps^(1/3)
    expectAllClose(np.take(re, 0, 0), [2, 2, 2], 1e-4, 0);
    expectAllClose(np.take(re, 1, 0), [0, 0, 1], 0, 1e-15);
    expectAllClose(np.take(im, 1, 0), [-3, 3, 0], 1e-15, 1e-15);
  });
  it("vmap matches a loop; jit matches eager; first derivatives; second order refused", () => {
    const a = randomArray(rng(11), [3, 5, 5]);
    const [bre, bim] = vmap((m: NdArray) => np.linalg.eigvals(m))(a) as NdArray[];
    [0, 1, 2].forEach((i) => {
      const [re, im] = np.linalg.eigvals(np.take(a, i, 0));
      expectAllClose(np.take(bre!, i, 0), re, 0, 0);
      expectAllClose(np.take(bim!, i, 0), im, 0, 0);
    });
    const [jre] = jit((m: NdArray) => np.linalg.eigvals(m))(a) as NdArray[];
    expectAllClose(jre!, bre!, 0, 0);
    // first derivatives (real and complex eigenvalues) against finite differences
    const m5 = np.take(a, 0, 0);
    checkGrads((m: NdArray) => np.linalg.eigvals(m)[0], [m5], { order: 1 });
    checkGrads((m: NdArray) => np.linalg.eigvals(m)[1], [m5], { order: 1 });
    expect(f64(np.linalg.eigvals(m5)[1]).some((v) => v !== 0)).toBe(true); // a complex pair is there
    // on a symmetric matrix the gradient of each eigenvalue is the one of eigvalsh: v v^T
    const sym = symmetric(rng(14), 1, 4);
    expectAllClose(
      grad((m: NdArray) => np.sum(np.multiply(np.linalg.eigvals(m)[0], np.array([1, 2, 3, 4]))))(
        sym,
      ),
      grad((m: NdArray) => np.sum(np.multiply(np.linalg.eigvalsh(m), np.array([1, 2, 3, 4]))))(sym),
      1e-8,
      1e-9,
    );
    // second order is refused with a clear message
    expect(() =>
      grad((m: NdArray) => np.sum(grad((x: NdArray) => np.sum(np.linalg.eigvals(x)[0]))(m)))(
        np.array([
          [1, 2],
          [0, 3],
        ]),
      ),
    ).toThrow(/only the first derivative of the eigenvalues of non-symmetric matrices.*eigvalsh/);
    // the sum of the eigenvalues is the trace, their product the determinant
    const [re, im] = np.linalg.eigvals(np.take(a, 0, 0));
    const trace = f64(np.take(a, 0, 0)).reduce((s, v, k) => (k % 6 === 0 ? s + v : s), 0);
    expectAllClose(np.sum(re), trace, 1e-13, 1e-14);
    expectAllClose(np.sum(im), 0, 0, 1e-14);
  });
});

describe("float32 derivatives", () => {
  it("eigh, svd and qr differentiate in float32 (checkGrads at float32 tolerances)", () => {
    const r = rng(12);
    const s32 = symmetric(r, 2, 3).astype("float32");
    checkGrads((m: NdArray) => np.linalg.eigvalsh(m), [s32], { order: 1 });
    const a32 = randomArray(r, [4, 3]).astype("float32");
    checkGrads((m: NdArray) => np.linalg.svdvals(m), [a32], { order: 1 });
    checkGrads((m: NdArray) => np.linalg.qr(m)[1], [a32], { order: 1 });
    const g = grad((m: NdArray) => np.sum(np.linalg.eigvalsh(m)))(s32);
    expect(g.dtype).toBe("float32");
    // d tr(A) / dA = I (the sum of the eigenvalues is the trace)
    expectAllClose(g, eyeStack([2, 3, 3]), 1e-6, 1e-6);
  });
});

describe("vectorNorm, matrixNorm, multiDot; compositions under vmap and jit", () => {
  const r = rng(13);
  it("vectorNorm and matrixNorm agree with norm; multiDot with left-to-right products", () => {
    const x = randomArray(r, [2, 3, 4]);
    expectAllClose(np.linalg.vectorNorm(x), np.linalg.norm(np.ravel(x)), 1e-15, 0);
    expectAllClose(
      np.linalg.vectorNorm(x, { ord: 1, axis: -1, keepdims: true }),
      np.sum(np.abs(x), -1, { keepdims: true }),
      1e-15,
      0,
    );
    expectAllClose(
      np.linalg.matrixNorm(x, { ord: "nuc" }),
      np.sum(np.linalg.svdvals(x), -1),
      1e-15,
      0,
    );
    expectAllClose(np.linalg.matrixNorm(x), np.sqrt(np.sum(np.square(x), [1, 2])), 1e-15, 0);
    const a = randomArray(r, [10, 2]);
    const b = randomArray(r, [2, 30]);
    const c = randomArray(r, [30, 3]);
    const v = randomArray(r, [3]);
    expectAllClose(
      np.linalg.multiDot([a, b, c, v]),
      np.matmul(np.matmul(np.matmul(a, b), c), v),
      1e-13,
      1e-14,
    );
    checkGrads((m: NdArray) => np.linalg.multiDot([m, b, c]), [a]);
    expect(() => np.linalg.multiDot([a, c])).toThrow(
      /multiDot: operand 1 has shape \[30, 3\], which does not chain.*\[10, 2\]/,
    );
  });
  it("vmap of norm, pinv, expm and matrixPower equals the native stack", () => {
    const s = randomArray(r, [3, 4, 4]);
    const cases: [string, (m: NdArray) => NdArray][] = [
      ["norm 2", (m) => np.linalg.norm(m, 2)],
      ["norm inf", (m) => np.linalg.norm(m, -Infinity)],
      ["pinv", (m) => np.linalg.pinv(m)],
      ["expm", (m) => np.linalg.expm(m)],
      ["matrixPower", (m) => np.linalg.matrixPower(m, -2)],
      ["cond", (m) => np.linalg.cond(m, 1)],
    ];
    for (const [, f] of cases) {
      const stacked = np.stack([0, 1, 2].map((i) => f(np.take(s, i, 0))));
      expectAllClose(vmap(f)(s), stacked, 1e-14, 1e-15);
    }
  });
  it("jit(grad) equals grad through svd, eigh and qr compositions", () => {
    const m = randomArray(r, [4, 4]);
    const f = (x: NdArray) =>
      np.add(
        np.add(np.linalg.norm(x, "nuc"), np.sum(np.linalg.eigvalsh(np.matmul(x, T(x))))),
        np.sum(np.linalg.qr(x)[1]),
      );
    expectAllClose(jit(grad(f))(m), grad(f)(m), 1e-13, 1e-14);
  });
});

describe("non-finite input", () => {
  it("gives NaN (no error, no endless iteration) in eigh, eigvals and svd", () => {
    const bad = np.array([
      [1, Number.NaN],
      [Number.NaN, 2],
    ]);
    const [w, v] = np.linalg.eigh(bad);
    expect([...f64(w), ...f64(v)].every(Number.isNaN)).toBe(true);
    const [re] = np.linalg.eigvals(
      np.array([
        [1, Infinity],
        [0, 2],
      ]),
    );
    expect(f64(re).every(Number.isNaN)).toBe(true);
    expect(f64(np.linalg.svdvals(bad)).some(Number.isNaN)).toBe(true);
  });
});

describe("eig (real input, complex results as real and imaginary parts)", () => {
  it("A V = V diag(w) in complex arithmetic; real eigenvalues get real unit vectors", () => {
    const a = randomArray(rng(15), [2, 5, 5]);
    const [wr, wi, vr, vi] = np.linalg.eig(a);
    const [er, ei] = np.linalg.eigvals(a);
    expectAllClose(wr, er, 0, 0);
    expectAllClose(wi, ei, 0, 0);
    // (A V - V diag(w)): real part A Vr - (Vr wr - Vi wi), imaginary A Vi - (Vr wi + Vi wr)
    const row = (x: NdArray) => np.expandDims(x, -2);
    const resRe = np.subtract(
      np.matmul(a, vr),
      np.subtract(np.multiply(vr, row(wr)), np.multiply(vi, row(wi))),
    );
    const resIm = np.subtract(
      np.matmul(a, vi),
      np.add(np.multiply(vr, row(wi)), np.multiply(vi, row(wr))),
    );
    expect(maxDiff(resRe, np.zerosLike(resRe))).toBeLessThan(1e-12);
    expect(maxDiff(resIm, np.zerosLike(resIm))).toBeLessThan(1e-12);
    const norms = np.sum(np.add(np.square(vr), np.square(vi)), -2);
    expectAllClose(norms, np.onesLike(norms), 1e-13, 0);
    // columns with a real eigenvalue are real
    f64(wi).forEach((w, k) => {
      if (w === 0) {
        const col = np.take(np.reshape(np.swapaxes(vi, -1, -2), [10, 5]), k, 0);
        expect(maxDiff(col, np.zerosLike(col))).toBe(0);
      }
    });
    expect(() => grad((m: NdArray) => np.sum(np.linalg.eig(m)[2]))(np.take(a, 0, 0))).toThrow(
      /only the first derivative of the eigenvalues/,
    );
  });
});
