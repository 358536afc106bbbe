/**
 * The simplifications that make Jacobian programs cheap (found by the W4
 * benchmark): a slice of the whole array is the array itself (no copy), and
 * under jit a transpose of a broadcast is folded into one broadcast. Values
 * are checked against plain JS loops and the other AD mode; the programs
 * against the equations they should (and should not) contain.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  jacfwd,
  jacrev,
  jacobian,
  jit,
  makeJaxpr,
  np,
} from "../src/index.js";
import { optimize } from "../src/ir/passes.js";
import { compileJaxpr } from "../src/jit/codegen.js";
import { expectAllClose, randomArray, rng } from "./helpers.js";

const r = rng(11);

/** The primitive names of a program's equations, sorted. */
function primNames(jaxpr: ReturnType<ReturnType<typeof makeJaxpr>>): string[] {
  return jaxpr.eqns.map((e) => e.prim.name).sort();
}

describe("transpose of a broadcast", () => {
  it("folds into one broadcast when the axes keep their order, with the same values", () => {
    // x [2,3] broadcast to [5,2,3], then axes (1,2,0): out[j][k][i] = x[j][k].
    const f = (x: NdArray) => np.transpose(np.broadcastTo(x, [5, 2, 3]), [1, 2, 0]);
    const x = randomArray(r, [2, 3]);
    const jaxpr = makeJaxpr(f)(x);
    expect(primNames(jaxpr)).toEqual(["broadcastInDim", "transpose"]);
    const stats = { folded: 0, simplified: 0, cse: 0, dce: 0 };
    const opt = optimize(jaxpr, stats);
    expect(primNames(opt)).toEqual(["broadcastInDim"]);
    expect(stats.simplified).toBe(1);
    const xs = x.toArray() as number[][];
    const expected: number[] = [];
    for (let j = 0; j < 2; j++)
      for (let k = 0; k < 3; k++) for (let i = 0; i < 5; i++) expected.push(xs[j]![k]!);
    const out = compileJaxpr(opt).run([x as never])[0]!;
    expect(out.shape).toEqual([2, 3, 5]);
    expectAllClose(out, expected, 0, 0);
    expectAllClose(jit(f)(x), expected, 0, 0);
  });

  it("stays a transpose when the input's axes would be reordered", () => {
    // axes (2,1,0): out[k][j][i] = x[j][k]; a broadcast cannot swap x's axes.
    const f = (x: NdArray) => np.transpose(np.broadcastTo(x, [5, 2, 3]), [2, 1, 0]);
    const x = randomArray(r, [2, 3]);
    const opt = optimize(makeJaxpr(f)(x));
    expect(primNames(opt)).toEqual(["broadcastInDim", "transpose"]);
    const xs = x.toArray() as number[][];
    const expected: number[] = [];
    for (let k = 0; k < 3; k++)
      for (let j = 0; j < 2; j++) for (let i = 0; i < 5; i++) expected.push(xs[j]![k]!);
    expectAllClose(jit(f)(x), expected, 0, 0);
  });
});

describe("compiled broadcasts of arrays", () => {
  it("are loops in the generated code that match eager broadcasting and a plain loop", () => {
    const cases: {
      from: number[];
      to: number[];
      dtype: "float64" | "float32" | "int32" | "bool";
    }[] = [
      { from: [3], to: [2, 3], dtype: "float64" },
      { from: [2, 1], to: [2, 4], dtype: "float32" },
      { from: [2, 3], to: [4, 2, 3], dtype: "int32" },
      { from: [3, 1, 2], to: [2, 3, 5, 2], dtype: "bool" },
      { from: [1], to: [0, 1], dtype: "float64" },
    ];
    for (const { from, to, dtype } of cases) {
      const size = from.reduce((a, b) => a * b, 1);
      const x = np
        .array(
          Float64Array.from({ length: size }, (_, i) => (dtype === "bool" ? i % 2 : i * 1.5 - 2)),
          { shape: from },
        )
        .astype(dtype);
      const f = (v: NdArray) => np.broadcastTo(v, to);
      const g = jit(f);
      expect(g.lower(x).compiled.source).not.toContain("K[");
      const out = g(x);
      expect(out.shape).toEqual(to);
      expect(out.dtype).toBe(dtype);
      expectAllClose(out, f(x), 0, 0);
      // plain loop: output index -> input index, right-aligned, size-1 axes repeat
      const xs = Array.from(x.data());
      const expected: number[] = [];
      const total = to.reduce((a, b) => a * b, 1);
      for (let flatIndex = 0; flatIndex < total; flatIndex++) {
        let rest = flatIndex;
        let src = 0;
        let inStride = 1;
        for (let d = to.length - 1; d >= 0; d--) {
          const j = rest % to[d]!;
          rest = Math.floor(rest / to[d]!);
          const k = d - (to.length - from.length);
          if (k >= 0) {
            if (from[k] !== 1) src += j * inStride;
            inStride *= from[k]!;
          }
        }
        expected.push(xs[src]!);
      }
      expectAllClose(out, expected, 0, 0);
    }
  });
});

describe("Jacobian programs", () => {
  const m = 4;
  const n = 6;
  const f = (x: NdArray) => np.multiply(np.sum(np.sin(x)), np.arange(1, n + 1));
  // J[i][j] = (i + 1) cos(x_j)
  const analytic = (x: NdArray) => {
    const xs = x.toArray() as number[];
    const out: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out.push((i + 1) * Math.cos(xs[j]!));
    return out;
  };

  it("slice the whole array nowhere, eagerly or traced", () => {
    const x = randomArray(r, [m]);
    for (const t of [jacfwd, jacrev, jacobian]) {
      expect(primNames(makeJaxpr(t(f))(x))).not.toContain("slice");
    }
    const whole = np.arange(6).reshape([2, 3]);
    expect(whole.slice(null, null)).toBe(whole);
  });

  it("compute the same Jacobian eagerly, jitted, forward and reverse", () => {
    const x = randomArray(r, [m]);
    const expected = analytic(x);
    for (const t of [jacfwd, jacrev, jacobian]) {
      const eager = t(f)(x);
      expect(eager.shape).toEqual([n, m]);
      expectAllClose(eager, expected, 1e-14, 1e-14);
      expectAllClose(jit(t(f))(x), expected, 1e-14, 1e-14);
    }
  });

  it("jit(jacfwd) of sum(x) * ones(n) is a single broadcast", () => {
    const g = (x: NdArray) => np.multiply(np.sum(x), np.ones([n]));
    const x = randomArray(r, [m]);
    const lowered = jit(jacfwd(g)).lower(x);
    expect(primNames(lowered.jaxpr)).toEqual(["broadcastInDim"]);
    expectAllClose(jit(jacfwd(g))(x), new Array<number>(n * m).fill(1), 0, 0);
  });
});
