/**
 * Printed IR of representative transforms, pinned: the program grad, jvp,
 * vmap and the jit simplifier produce for small functions. A change in what
 * a rule emits (an extra equation, a lost simplification, a different
 * order) shows here as a diff to review, next to the numeric tests that
 * check the programs compute the right values.
 */
import { describe, expect, it } from "vitest";
import { type Array as NdArray, grad, jvp, lax, makeJaxpr, np, vmap } from "../src/index.js";
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
    const g = (x: NdArray, v: NdArray) => jvp(f, [x], [v])[1];
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
          d:f64[4,3] = reshape[shape=[4,3]] c
          e:f64[4,2] = matmul[transposeA=false transposeB=true] d a
          f:f64[4,2,1] = reshape[shape=[4,2,1]] e
          g:f64[4,2] = reshape[shape=[4,2]] f
        in ( g ) }"
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

  it("grad of a staged scan: one scan equation forwards, one scanVjp backwards", () => {
    const loss = (w: NdArray, xs: NdArray) => {
      const [c, ys] = lax.scan(
        (c: NdArray, x: NdArray) => [np.sin(np.multiply(c, w)), np.add(c, x)],
        np.array(0.5),
        xs,
      );
      return np.add(c, np.sum(ys));
    };
    // step programs are numbered globally: the numbers are masked
    const text = makeJaxpr(grad(loss))(0.7, np.ones([4]))
      .toString()
      .replace(/#\d+/g, "#N");
    expect(text).toMatchInlineSnapshot(`
      "{ lambda  ; a:f64[] b:f64[4] .
        let
          c:f64[] d:f64[4] = scan[source=lax.scan body={program #N: 3 eqns} types=(carry float64[]; xs float64[4]; y float64[]) length=4 reverse=false horizon=null zeroAtCut=null snapshots=null] a 0.5 b
          e:f64[] = reduceSum[axes=[0]] d
          f:f64[] = add c e
          g:f64[4] = broadcastInDim[shape=[4] dims=[]] 1.0
          h:f64[] i:f64[] = scanVjp[p=scan#N inIdx=[0,1]] a 0.5 b 1.0 g
        in ( h ) }"
    `);
  });
});
