/**
 * W1: g(x) = sin(x) * x * 0.5 + cos(x) applied N times to a scalar
 * (5 primitive operations per application), differentiated end to end.
 * Plain JS evaluation of the same function is the baseline; chainrule's
 * eager grad runs next to TensorFlow.js's tf.grad (cpu backend) and jax-js's
 * eager grad, interleaved in one process.
 */
import * as tf from "@tensorflow/tfjs";
import { grad as jaxGrad, numpy as jnp } from "@jax-js/jax";
import { type Array, grad, np } from "../src/index.js";
import { type BenchCase, fmt, printTable, runInterleaved } from "./harness.js";
import { tfRead } from "./peers.js";

type JaxArray = ReturnType<typeof jnp.array>;

/** Plain JS: the function itself, and its derivative by a hand-written dual-number loop. */
function plainValue(x: number, n: number): number {
  for (let i = 0; i < n; i++) x = Math.sin(x) * x * 0.5 + Math.cos(x);
  return x;
}
function plainDerivative(x: number, n: number): number {
  let dx = 1;
  for (let i = 0; i < n; i++) {
    // d/dx [sin(x) x / 2 + cos(x)] = (cos(x) x + sin(x)) / 2 - sin(x)
    dx *= (Math.cos(x) * x + Math.sin(x)) * 0.5 - Math.sin(x);
    x = Math.sin(x) * x * 0.5 + Math.cos(x);
  }
  return dx;
}

function chainruleF(n: number) {
  return (x: Array): Array => {
    for (let i = 0; i < n; i++) x = np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x));
    return x;
  };
}
function tfF(n: number) {
  return (x: tf.Tensor): tf.Tensor => {
    for (let i = 0; i < n; i++) x = tf.add(tf.mul(tf.mul(tf.sin(x), x), 0.5), tf.cos(x));
    return x;
  };
}
function jaxF(n: number) {
  // jax-js arrays are reference counted: every reuse of x needs x.ref.
  return (x: JaxArray): JaxArray => {
    for (let i = 0; i < n; i++) x = jnp.sin(x.ref).mul(x.ref).mul(0.5).add(jnp.cos(x));
    return x;
  };
}

function chainruleGrad(n: number, x0: number): number {
  return grad(chainruleF(n))(x0).item();
}
function tfGrad(n: number, x0: number): number {
  return tfRead(() => tf.grad(tfF(n))(tf.scalar(x0)))[0]!;
}
function jaxGradValue(n: number, x0: number): number {
  const g = jaxGrad(jaxF(n))(jnp.array(x0, { dtype: jnp.float64 }));
  return g.dataSync()[0]!;
}

export async function benchW1(opts: { quick: boolean }): Promise<void> {
  await tf.setBackend("cpu");
  // Correctness first: all derivatives agree with the dual-number loop (N = 20).
  const x0 = 0.3;
  const check = 20;
  const expected = plainDerivative(x0, check);
  const got = {
    chainrule: chainruleGrad(check, x0),
    tfjs: tfGrad(check, x0),
    jaxjs: jaxGradValue(check, x0),
  };
  console.log(`W1 check at N = ${check}: plain-JS dual numbers ${expected.toExponential(10)}`);
  for (const [k, v] of Object.entries(got)) {
    console.log(
      `  ${k.padEnd(9)} ${v.toExponential(10)}  (relative error ${fmt(Math.abs(v / expected - 1) * 1e6, 3)}e-6)`,
    );
  }
  const sizes = opts.quick ? [1000] : [1000, 10000];
  for (const n of sizes) {
    const ops = 5 * n;
    const cases: BenchCase[] = [
      { name: "plain JS f(x)", run: () => plainValue(x0, n) },
      { name: "chainrule grad (eager)", run: () => chainruleGrad(n, x0) },
      { name: "TF.js tf.grad (cpu)", run: () => tfGrad(n, x0) },
      { name: "jax-js grad (eager)", run: () => jaxGradValue(n, x0) },
    ];
    const results = await runInterleaved(cases, {
      rounds: opts.quick ? 9 : 21,
      warmup: 2,
      capMs: opts.quick ? 3000 : 8000,
    });
    const plain = results[0]!.medianMs!;
    const ours = results[1]!.medianMs;
    console.log(
      `\nW1, N = ${n} (${ops} primitive ops per call), medians of ${results[1]!.runs} interleaved rounds`,
    );
    printTable(
      ["case", "ms / call", "ns / op", "x plain JS", "chainrule speed-up"],
      results.map((r) => [
        r.name,
        r.note ?? fmt(r.medianMs, 3),
        r.medianMs === null ? "-" : fmt((r.medianMs * 1e6) / ops),
        r.medianMs === null ? "-" : fmt(r.medianMs / plain, 1),
        r.medianMs === null || ours === null || r.name.startsWith("plain")
          ? ""
          : `${fmt(r.medianMs / ours, 1)}x`,
      ]),
    );
  }
}
