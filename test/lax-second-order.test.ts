/**
 * Second derivatives through lax loops under jit (where loops are staged):
 * jit(grad(grad(f))), grad(grad(jit(f))), grad(jit(grad(f))) and
 * jit(hessian(f)) for lax.scan (with and without checkpointing) and
 * lax.forILoop with static bounds, against second derivatives from the
 * chain rule written out by hand and against finite differences of the
 * analytic first derivative; and the clear refusal, with its advice, for
 * reverse-over-reverse through a loop whose trip count is traced.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ChainruleError,
  grad,
  hessian,
  jacfwd,
  jit,
  lax,
  np,
} from "../src/index.js";
import { expectAllClose, fdScalar } from "./helpers.js";

/**
 * Value, first and second derivative of c_T for c_{t+1} = sin(u_t) with
 * u_t = a_t c_t + b_t, c_0 = x (a_t, b_t constants):
 *   c'_{t+1}  = cos(u_t) a_t c'_t
 *   c''_{t+1} = -sin(u_t) (a_t c'_t)^2 + cos(u_t) a_t c''_t
 */
function sineChain(
  x: number,
  a: readonly number[],
  b: readonly number[],
): [number, number, number] {
  let [c, d1, d2] = [x, 1, 0];
  for (let t = 0; t < a.length; t++) {
    const u = a[t]! * c + b[t]!;
    const next = Math.sin(u);
    const nextD1 = Math.cos(u) * a[t]! * d1;
    const nextD2 = -Math.sin(u) * (a[t]! * d1) ** 2 + Math.cos(u) * a[t]! * d2;
    [c, d1, d2] = [next, nextD1, nextD2];
  }
  return [c, d1, d2];
}

const A = [1.1, 0.7, 1.3, 0.9, 1.2];
const B = [0, 0.1, 0.2, 0.3, 0.4];

/** c_T by lax.scan over xs = (a_t, b_t). */
const scanChain =
  (opts: { checkpoint?: { snapshots: number } } = {}) =>
  (x: NdArray) =>
    lax.scan(
      ((c: NdArray, ab: NdArray[]) => [
        np.sin(np.add(np.multiply(ab[0]!, c), ab[1]!)),
        null,
      ]) as never,
      x,
      [np.array(A), np.array(B)],
      opts,
    )[0];

/** c_T by lax.forILoop with static bounds: u_i = a_i c + b_i with a_i = A[i] read by take. */
const forChain = (x: NdArray) =>
  lax.forILoop(
    0,
    A.length,
    (i: NdArray, c: NdArray) =>
      np.sin(np.add(np.multiply(np.take(np.array(A), i), c), np.take(np.array(B), i))),
    x,
  );

describe("second derivatives through loops under jit", () => {
  const cases: [string, (x: NdArray) => NdArray][] = [
    ["lax.scan", scanChain()],
    ["lax.scan with checkpointing", scanChain({ checkpoint: { snapshots: 2 } })],
    ["lax.forILoop with static bounds", forChain],
  ];
  for (const [name, f] of cases) {
    it(`${name}: jit(grad(grad)), grad(grad(jit)), grad(jit(grad)), jit(hessian)`, () => {
      for (const x of [0.4, -1.3]) {
        const [value, d1, d2] = sineChain(x, A, B);
        // the hand-written chain rule agrees with finite differences of its first derivative
        expect(d2).toBeCloseTo(
          fdScalar((y) => sineChain(y, A, B)[1], x),
          7,
        );
        expectAllClose(jit(f)(np.array(x)), value, 1e-14);
        expectAllClose(jit(grad(f))(x), d1, 1e-13);
        expectAllClose(jit(grad(grad(f)))(x), d2, 1e-12);
        expectAllClose(grad(grad(jit(f)))(x), d2, 1e-12);
        expectAllClose(grad(jit(grad(f)))(x), d2, 1e-12);
        expectAllClose(jit(hessian(f))(np.array(x)), d2, 1e-12);
      }
    });
  }
});

describe("reverse over reverse through a loop with a traced trip count", () => {
  /** The same chain with a traced number of steps n (a jit argument). */
  const tracedFor = (x: NdArray, n: NdArray) =>
    lax.forILoop(
      0,
      n,
      (i: NdArray, c: NdArray) =>
        np.sin(np.add(np.multiply(np.take(np.array(A), i), c), np.take(np.array(B), i))),
      x,
    );
  /** A whileLoop counting its steps in the carry: under jit the condition is traced. */
  const tracedWhile = (x: NdArray) =>
    (
      lax.whileLoop(
        (c: NdArray[]) => np.less(c[1]!, A.length),
        (c: NdArray[]) => [
          np.sin(
            np.add(np.multiply(np.take(np.array(A), c[1]!), c[0]!), np.take(np.array(B), c[1]!)),
          ),
          np.add(c[1]!, np.array(1, { dtype: "int32" })),
        ],
        [x, np.array(0, { dtype: "int32" })],
      ) as NdArray[]
    )[0]!;
  const n = np.array(A.length, { dtype: "int32" });
  const why = "the trip count is known only when the loop runs";

  it("is refused with the reason and the alternatives; the alternatives give the analytic value", () => {
    const [, d1, d2] = sineChain(0.4, A, B);
    const forMsg = new RegExp(
      `lax\\.forILoop: differentiating the reverse pass again .*${why}.*jacfwd\\(jacfwd\\(f\\)\\).*` +
        `lax\\.forILoop/lax\\.scan bounds that are JS numbers.*grad\\(grad\\(jit\\(f\\)\\)\\)`,
    );
    expect(() => jit(grad(grad(tracedFor)))(0.4, n)).toThrow(ChainruleError);
    expect(() => jit(grad(grad(tracedFor)))(0.4, n)).toThrow(forMsg);
    expect(() => jit(jacfwd(grad(tracedFor)))(0.4, n)).toThrow(forMsg);
    expect(() => jit(grad(grad(tracedWhile)))(0.4)).toThrow(
      new RegExp(`lax\\.whileLoop: differentiating the reverse pass again .*${why}`),
    );
    expect(() => jit(hessian(tracedWhile))(0.4)).toThrow(ChainruleError);
    // first order under jit is fine
    expectAllClose(jit(grad(tracedFor))(0.4, n), d1, 1e-13);
    expectAllClose(jit(grad(tracedWhile))(0.4), d1, 1e-13);
    // the advised alternatives: forward over forward, static bounds, derivatives outside jit
    expectAllClose(jit(jacfwd(jacfwd(tracedFor)))(0.4, n), d2, 1e-12);
    expectAllClose(jit(grad(grad(forChain)))(0.4), d2, 1e-12);
    expectAllClose(grad(grad(jit(tracedFor)))(0.4, n), d2, 1e-12);
    expectAllClose(grad(grad(jit(tracedWhile)))(0.4), d2, 1e-12);
  });
});
