/**
 * np.linalg against direct checks (A x = b, A A^-1 = I, L L^T = A, the 3x3
 * determinant formula) and analytic derivatives (d log|det A| / dA = A^-T).
 */
import { describe, expect, it } from "vitest";
import { ShapeError } from "../src/core/errors.js";
import { type Array as NdArray, grad, jacrev, jit, np, vmap } from "../src/index.js";
import { matmulT, swapLast } from "../src/primitives/linalg.js";
import { expectAllClose, fdJacobian } from "./helpers.js";

const A = np.array([
  [4, 1, -2],
  [1, 5, 0.5],
  [-2, 0.5, 6],
]);
const det3 = (m: number[][]) =>
  m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) -
  m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) +
  m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);

describe("np.linalg", () => {
  it("solve, inv, det, slogdet, cholesky, triangularSolve compute what they should", () => {
    const b = np.array([1, -2, 3]);
    const x = np.linalg.solve(A, b);
    expectAllClose(np.matmul(A, x), b, 1e-14, 1e-14);
    expectAllClose(np.matmul(A, np.linalg.inv(A)), np.eye(3), 1e-14, 1e-15);
    const d = det3(A.toArray() as number[][]);
    expectAllClose(np.linalg.det(A), d, 1e-14);
    const [s, logAbs] = np.linalg.slogdet(A);
    expectAllClose([s.item(), logAbs.item()], [Math.sign(d), Math.log(Math.abs(d))], 1e-14);
    const L = np.linalg.cholesky(A);
    expectAllClose(np.matmul(L, L.T), A, 1e-14, 1e-14);
    expectAllClose(
      np.linalg.triangularSolve(L, b),
      np.linalg.solve(np.multiply(L, 1), b),
      1e-14,
      1e-14,
    );
  });
  it("derivatives: d log|det A| / dA = A^-T, and solve's gradient against finite differences", () => {
    expectAllClose(
      grad((m: NdArray) => np.linalg.slogdet(m)[1])(A),
      np.linalg.inv(A).T,
      1e-13,
      1e-15,
    );
    expectAllClose(
      grad((m: NdArray) => np.linalg.det(m))(A),
      np.multiply(np.linalg.det(A), np.linalg.inv(A).T),
      1e-12,
      1e-13,
    );
    const f = (m: NdArray) => np.linalg.solve(m, np.array([1, 2, 3]));
    expectAllClose(jacrev(f)(A), fdJacobian(f, A), 1e-7, 1e-9);
    const g = (m: NdArray) => np.sum(np.linalg.cholesky(m));
    expectAllClose(grad(g)(A), fdJacobian(g, A), 1e-6, 1e-8);
    expectAllClose(jit(grad(g))(A), grad(g)(A), 1e-14, 1e-15);
  });
  it("batches of matrices through vmap", () => {
    const batch = np.stack([A, np.multiply(A, 2)]);
    expectAllClose(
      vmap(np.linalg.det)(batch),
      [det3(A.toArray() as number[][]), 8 * det3(A.toArray() as number[][])],
      1e-13,
    );
  });
  it("reports non-square and non-positive-definite matrices", () => {
    expect(() => np.linalg.det(np.ones([2, 3]))).toThrow(
      /np\.linalg\.det: expected a square matrix \[n, n\] or a stack of them \[\.\.\., n, n\], got shape \[2, 3\]/,
    );
    expect(() =>
      np.linalg.cholesky(
        np.array([
          [1, 2],
          [2, 1],
        ]),
      ),
    ).toThrow(/not positive definite/);
    expect(() => np.linalg.solve(A, np.ones([2]))).toThrow(
      /b must be a vector \[3\] or a stack of matrices \[\.\.\., 3, k\].*\[3, 3\].*\[2\]/,
    );
    expect(() =>
      np.linalg.solve(
        np.array([
          [1, 2],
          [2, 4],
        ]),
        np.ones([2]),
      ),
    ).toThrow(/singular/);
    expect(() => np.linalg.inv(np.zeros([2, 2]))).toThrow(/singular/);
  });
});

describe("matmul with transposed operands", () => {
  // Stored operands for op(A) [2, 3, 5] and op(B) [2, 5, 4]; the reference
  // materialises each transpose with swapLast (a strided copy) first.
  const a = np.reshape(np.arange(30), [2, 3, 5]);
  const b = np.reshape(np.cos(np.arange(40)), [2, 5, 4]);
  for (const ta of [false, true])
    for (const tb of [false, true])
      it(`op(A) op(B) for transposeA=${ta}, transposeB=${tb} equals the product of the copies`, () => {
        const aStored = ta ? swapLast(a) : a;
        const bStored = tb ? swapLast(b) : b;
        const got = matmulT(aStored, bStored, ta, tb);
        expect(got.shape).toEqual([2, 3, 4]);
        expect(Array.from(got.data())).toEqual(Array.from(np.matmul(a, b).data()));
        // The gradient of sum(op(A) op(B) * W) by the flagged rules equals the
        // one through the explicit copies (transposes of the plain rules).
        const w = np.reshape(np.sin(np.arange(24)), [2, 3, 4]);
        const viaFlags = grad(
          (x: NdArray, y: NdArray) => np.sum(np.multiply(matmulT(x, y, ta, tb), w)),
          { argnums: [0, 1] },
        )(aStored, bStored) as NdArray[];
        const viaCopies = grad(
          (x: NdArray, y: NdArray) =>
            np.sum(np.multiply(np.matmul(ta ? swapLast(x) : x, tb ? swapLast(y) : y), w)),
          { argnums: [0, 1] },
        )(aStored, bStored) as NdArray[];
        expectAllClose(viaFlags[0]!, viaCopies[0]!, 1e-14, 1e-14);
        expectAllClose(viaFlags[1]!, viaCopies[1]!, 1e-14, 1e-14);
      });

  it("names the shapes and the transposed operand when they do not align", () => {
    const a = np.zeros([3, 4]);
    const b = np.zeros([4, 5]);
    expect(() => matmulT(a, b, true, false)).toThrow(ShapeError);
    expect(() => matmulT(a, b, true, false)).toThrow(
      /matmul: shapes \[3, 4\] \(transposed\) and \[4, 5\].*\(3\).*\(4\)/,
    );
  });
});
