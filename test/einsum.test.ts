/**
 * np.einsum and the tensor products (tensordot, kron, cross, diagonal,
 * trace, diag, tril, triu, vander): values against brute-force loops
 * written here, the contraction order against exhaustive search, and
 * derivatives (order 2, both modes), jit, vmap and float32 through
 * test/npcheck.ts; error messages.
 */
import { describe, expect, it } from "vitest";
import { type Array as NdArray, InvalidArgumentError, ShapeError, np } from "../src/index.js";
import { expectAllClose, rng } from "./helpers.js";
import { build, checkTransforms, ref } from "./npcheck.js";
import { randArray } from "./util.js";

const r = rng(7);

/**
 * Brute-force einsum with an explicit output (letters only): every
 * assignment of the labels, the product of the operands' entries, summed
 * into the output entry.
 */
function bruteEinsum(spec: string, ...xs: NdArray[]): NdArray {
  const [lhs, out] = spec.split("->") as [string, string];
  const terms = lhs.split(",");
  const sizes = new Map<string, number>();
  terms.forEach((t, i) => [...t].forEach((l, d) => sizes.set(l, xs[i]!.shape[d]!)));
  const labels = [...sizes.keys()];
  const refs = xs.map(ref);
  const outShape = [...out].map((l) => sizes.get(l)!);
  const acc = new Float64Array(outShape.reduce((a, b) => a * b, 1));
  const val = new Map<string, number>();
  const loop = (k: number): void => {
    if (k === labels.length) {
      let p = 1;
      terms.forEach((t, i) => (p *= refs[i]!.at(...[...t].map((l) => val.get(l)!))));
      let off = 0;
      [...out].forEach((l) => (off = off * sizes.get(l)! + val.get(l)!));
      acc[off]! += p;
      return;
    }
    for (let v = 0; v < sizes.get(labels[k]!)!; v++) {
      val.set(labels[k]!, v);
      loop(k + 1);
    }
  };
  loop(0);
  return np.array(acc, { shape: outShape });
}

describe("np.einsum", () => {
  const A = randArray(r, [2, 3]);
  const B = randArray(r, [3, 4]);
  const C = randArray(r, [4, 2]);
  const S = randArray(r, [3, 3]);
  const T = randArray(r, [2, 3, 3]);
  it("explicit outputs against brute force: products, traces, diagonals, transposes, outer", () => {
    const cases: [string, NdArray[]][] = [
      ["ij,jk->ik", [A, B]],
      ["ij,jk,kl->il", [A, B, C]],
      ["ij,jk,kl->", [A, B, C]],
      ["ij,jk,kl->li", [A, B, C]],
      ["ii->", [S]],
      ["ii->i", [S]],
      ["bii->b", [T]],
      ["bij->jib", [T]],
      ["ij,kl->ijkl", [A, C]],
      ["bij,bjk->bik", [T, T]],
      ["bij,bjk->ik", [T, T]],
      ["ij,ij->i", [A, A]],
      ["ij->j", [A]],
      ["ij,jk,kl,lm->im", [A, B, C, A]],
      ["iij,jk->ik", [randArray(r, [2, 2, 3]), B]],
    ];
    for (const [spec, xs] of cases) {
      expectAllClose(np.einsum(spec, ...xs), bruteEinsum(spec, ...xs), 1e-13, 1e-14);
    }
  });
  it("implicit outputs, ellipsis and size-1 broadcasting follow NumPy", () => {
    // Implicit: the labels used once, sorted.
    expectAllClose(np.einsum("ij,jk", A, B), np.matmul(A, B), 1e-14, 1e-15);
    expectAllClose(np.einsum("ba", A), A.T);
    expectAllClose(np.einsum("ii", S), bruteEinsum("ii->", S), 1e-14);
    expectAllClose(np.einsum("i,i", [1, 2, 3], [4, 5, 6]), 32);
    // Ellipsis: batch axes, broadcast from the right.
    const P = randArray(r, [5, 2, 3]);
    const Q = randArray(r, [1, 3, 4]);
    const got = np.einsum("...ij,...jk->...ik", P, Q);
    expect(got.shape).toEqual([5, 2, 4]);
    const q0 = np.reshape(Q, [3, 4]);
    expectAllClose(got, bruteEinsum("bij,jk->bik", P, q0), 1e-13, 1e-14);
    expectAllClose(np.einsum("...ij,...jk", P, Q), got, 1e-15);
    expectAllClose(np.einsum("i...->...", P), bruteEinsum("ijk->jk", P), 1e-14);
    expectAllClose(np.einsum("...->", P), np.sum(P), 1e-14);
  });
  it("the contraction order is the cheapest (against exhaustive search)", () => {
    // For a chain of three matrices, compare both orders' multiply-adds.
    const shapes: [number[], number[], number[]][] = [
      [
        [100, 2],
        [2, 100],
        [100, 2],
      ],
      [
        [2, 100],
        [100, 2],
        [2, 100],
      ],
      [
        [10, 30],
        [30, 5],
        [5, 60],
      ],
    ];
    for (const [sa, sb, sc] of shapes) {
      const [m, k] = sa as [number, number];
      const n = sb[1]!;
      const p = sc[1]!;
      const left = m * k * n + m * n * p; // (ab)c
      const right = k * n * p + m * k * p; // a(bc)
      const { path, cost } = np.einsumPath("ij,jk,kl->il", np.ones(sa), np.ones(sb), np.ones(sc));
      expect(cost).toBe(Math.min(left, right));
      expect(path[0]).toEqual(left <= right ? [0, 1] : [1, 2]);
    }
    // More than 8 operands use the greedy order: still the right value.
    const vs = Array.from({ length: 9 }, () => randArray(r, [2, 2]));
    const chain = "ab,bc,cd,de,ef,fg,gh,hi,ij->aj";
    let want = vs[0]!;
    for (const v of vs.slice(1)) want = np.matmul(want, v);
    expectAllClose(np.einsum(chain, ...vs), want, 1e-12, 1e-13);
  });
  it("derivatives, jit, vmap and float32", () => {
    checkTransforms((a, b, c) => np.einsum("ij,jk,kl->il", a, b, c), [A, B, C]);
    checkTransforms((s) => np.einsum("ii->i", s), [S]);
    checkTransforms(
      (t, a) => np.einsum("bij,bj->bi", t, np.einsum("bi->bi", a)),
      [T, randArray(r, [2, 3])],
    );
    checkTransforms((a, b) => np.einsum("...ij,...jk", a, b), [T, randArray(r, [3, 2])]);
  });
  it("errors name einsum and the problem", () => {
    expect(() => np.einsum("ij,jk->ik", A)).toThrow(/names 2 operands but 1 were given/);
    expect(() => np.einsum("ij,jk->ik", A, C)).toThrow(/label "j" has size 3 in one operand and 4/);
    expect(() => np.einsum("ijk->i", A)).toThrow(
      /operand 0 has subscripts "ijk" \(3 axes\) but shape \[2, 3\]/,
    );
    expect(() => np.einsum("ij->iz", A)).toThrow(/output label "z" does not appear/);
    expect(() => np.einsum("ij->ii", A)).toThrow(/output label "i" is repeated/);
    expect(() => np.einsum("i1", A)).toThrow(InvalidArgumentError);
    expect(() => np.einsum("ii", A)).toThrow(/label "i" has size 2 in one operand and 3/);
  });
});

describe("tensor products and matrix structure", () => {
  const A = randArray(r, [2, 3, 4]);
  const B = randArray(r, [4, 3, 5]);
  it("tensordot with an integer and with axis lists", () => {
    const M = randArray(r, [3, 4, 2]);
    expectAllClose(np.tensordot(A, M, 2), bruteEinsum("ijk,jkl->il", A, M), 1e-13, 1e-14);
    expectAllClose(
      np.tensordot(A, B, [
        [1, 2],
        [1, 0],
      ]),
      bruteEinsum("ijk,kjl->il", A, B),
      1e-13,
    );
    expectAllClose(np.tensordot(A, B, [2, 0]), bruteEinsum("ijk,kml->ijml", A, B), 1e-13);
    expectAllClose(np.tensordot(A, B, 0), bruteEinsum("ijk,lmn->ijklmn", A, B), 1e-14);
    checkTransforms(
      (a, b) =>
        np.tensordot(a, b, [
          [1, 2],
          [1, 0],
        ]),
      [A, B],
    );
    expect(() => np.tensordot(A, B, 2)).toThrow(/np\.tensordot: contracted axes differ in size/);
    expect(() => np.tensordot(A, B, [[0, 1], [0]])).toThrow(/axes lists differ in length/);
  });
  it("kron against its definition", () => {
    const a = randArray(r, [2, 3]);
    const b = randArray(r, [3, 2]);
    const x = ref(a);
    const y = ref(b);
    expectAllClose(
      np.kron(a, b),
      build([6, 6], (i, j) => x.at(Math.floor(i / 3), Math.floor(j / 2)) * y.at(i % 3, j % 2)),
      1e-15,
    );
    expectAllClose(
      np.kron([1, 2], b),
      build([3, 4], (i, j) => [1, 2][Math.floor(j / 2)]! * y.at(i, j % 2)),
      1e-15,
    );
    checkTransforms((p, q) => np.kron(p, q), [a, b]);
  });
  it("cross for 3- and 2-vectors, along an axis, broadcast", () => {
    const u = randArray(r, [4, 3]);
    const v = randArray(r, [3]);
    const x = ref(u);
    const y = ref(v).data;
    const c = (a: number[], b: number[]) => [
      a[1]! * b[2]! - a[2]! * b[1]!,
      a[2]! * b[0]! - a[0]! * b[2]!,
      a[0]! * b[1]! - a[1]! * b[0]!,
    ];
    expectAllClose(
      np.cross(u, v),
      build(
        [4, 3],
        (i, k) =>
          c(
            [0, 1, 2].map((j) => x.at(i, j)),
            y,
          )[k]!,
      ),
      1e-15,
    );
    expectAllClose(np.cross(u.T, v, { axis: 0 }), np.cross(u, v).T, 1e-15);
    expectAllClose(np.cross([1, 2], [3, 4]), -2);
    expectAllClose(np.cross([1, 2], [3, 4, 5]), c([1, 2, 0], [3, 4, 5]));
    checkTransforms((p, q) => np.cross(p, q), [u, randArray(r, [4, 3])]);
    expect(() => np.cross([1, 2, 3, 4], [1, 2, 3])).toThrow(
      /np\.cross: the vectors along axis -1 must have 2 or 3 components/,
    );
  });
  it("diagonal, trace and diag with offsets and axes", () => {
    const M = randArray(r, [3, 5]);
    const m = ref(M);
    for (const k of [-2, -1, 0, 1, 3, 5]) {
      const want: number[] = [];
      for (let i = 0; i < 3; i++) if (i + k >= 0 && i + k < 5) want.push(m.at(i, i + k));
      expectAllClose(np.diagonal(M, { offset: k }), want);
      expectAllClose(
        np.trace(M, { offset: k }),
        want.reduce((s, v) => s + v, 0),
        1e-14,
        1e-15,
      );
      expectAllClose(np.diag(M, k), want);
    }
    const a = ref(A);
    expectAllClose(
      np.diagonal(A, { axis1: 0, axis2: 2, offset: 1 }),
      build([3, 2], (j, i) => a.at(i, j, i + 1)),
    );
    expectAllClose(
      np.trace(A, { axis1: 1, axis2: 2 }),
      build([2], (i) => [0, 1, 2].reduce((s, j) => s + a.at(i, j, j), 0)),
      1e-14,
    );
    const v = randArray(r, [3]);
    expectAllClose(
      np.diag(v, -1),
      build([4, 4], (i, j) => (i === j + 1 ? ref(v).at(j) : 0)),
    );
    checkTransforms((p) => np.diagonal(p, { offset: 1, axis1: 2, axis2: 0 }), [A]);
    checkTransforms((p) => np.trace(p, { axis1: 1, axis2: 2 }), [A]);
    checkTransforms((p) => np.diag(p, 2), [v]);
    expect(() => np.diag(A)).toThrow(/np\.diag: needs a 1-D vector .* or a 2-D matrix/);
    expect(() => np.diagonal(v)).toThrow(/np\.diagonal: needs an array of rank >= 2/);
  });
  it("tril, triu and vander against loops", () => {
    const a = ref(A);
    for (const k of [-1, 0, 2]) {
      expectAllClose(
        np.tril(A, k),
        build([2, 3, 4], (b, i, j) => (j <= i + k ? a.at(b, i, j) : 0)),
      );
      expectAllClose(
        np.triu(A, k),
        build([2, 3, 4], (b, i, j) => (j >= i + k ? a.at(b, i, j) : 0)),
      );
    }
    const x = [0, 1.5, -2];
    expectAllClose(
      np.vander(x, 4),
      build([3, 4], (i, j) => x[i]! ** (3 - j)),
      1e-15,
    );
    expectAllClose(
      np.vander(x, 3, { increasing: true }),
      build([3, 3], (i, j) => x[i]! ** j),
      1e-15,
    );
    checkTransforms((p) => np.tril(p, -1), [A]);
    checkTransforms((p) => np.vander(p), [np.array(x)]);
    expect(() => np.triu([1, 2])).toThrow(/np\.triu: needs an array of rank >= 2/);
    expect(() => np.vander(A)).toThrow(ShapeError);
  });
});
