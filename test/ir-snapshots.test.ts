/**
 * Printed IR of representative transforms, pinned: the program grad, jvp,
 * vmap and the jit simplifier produce for small functions. A change in what
 * a rule emits (an extra equation, a lost simplification, a different
 * order) shows here as a diff to review, next to the numeric tests that
 * check the programs compute the right values.
 */
import { describe, expect, it } from "vitest";
import { type Array as NdArray, grad, jvp, makeJaxpr, np, vmap } from "../src/index.js";
import { optimize } from "../src/ir/passes.js";

const f = (x: NdArray) => np.multiply(np.sin(x), x);

describe("printed IR", () => {
  it("grad of sin(x) * x", () => {
    expect(makeJaxpr(grad(f))(1.5).toString()).toMatchInlineSnapshot(`
      "{ lambda  ; a:f64[] .
        let
          b:f64[] = sin a
          c:f64[] = cos a
          d:f64[] = mul b a
          e:f64[] = mul 1.0 b
          f:f64[] = mul 1.0 a
          g:f64[] = mul f c
          h:f64[] = add e g
        in ( h ) }"
    `);
  });

  it("jvp of sin(x) * x", () => {
    const g = (x: NdArray, v: NdArray) => jvp(f, [x], [v])[1] as NdArray;
    expect(makeJaxpr(g)(1.5, 1).toString()).toMatchInlineSnapshot(`
      "{ lambda  ; a:f64[] b:f64[] .
        let
          c:f64[] = sin a
          d:f64[] = cos a
          e:f64[] = mul b d
          f:f64[] = mul c a
          g:f64[] = mul e a
          h:f64[] = mul b c
          i:f64[] = add g h
        in ( i ) }"
    `);
  });

  it("vmap of a matrix-vector product", () => {
    const mv = (m: NdArray, v: NdArray) => np.matmul(m, v);
    const batched = vmap(mv, { inAxes: [null, 0] });
    expect(makeJaxpr(batched)(np.ones([2, 3]), np.ones([4, 3])).toString()).toMatchInlineSnapshot(`
      "{ lambda  ; a:f64[2,3] b:f64[4,3] .
        let
          c:f64[4,3,1] = reshape[shape=[4,3,1]] b
          d:f64[4,2,3] = broadcastInDim[shape=[4,2,3] dims=[1,2]] a
          e:f64[4,2,1] = matmul[transposeA=false transposeB=false] d c
          f:f64[4,2] = reshape[shape=[4,2]] e
        in ( f ) }"
    `);
  });

  it("jit-simplified: exact rewrites folded (x * 1, x - 0), x * 0 kept", () => {
    const h = (x: NdArray) => np.add(np.subtract(np.multiply(x, 1), 0), np.multiply(x, 0));
    expect(optimize(makeJaxpr(h)(np.ones([3]))).toString()).toMatchInlineSnapshot(`
      "{ lambda  ; a:f64[3] .
        let
          b:f64[3] = broadcastInDim[shape=[3] dims=[]] 0.0
          c:f64[3] = mul a b
          d:f64[3] = add a c
        in ( d ) }"
    `);
  });
});
