/**
 * W5: y = exp(sin(x) * 2 + 1) over 1e6 elements, forward and grad(sum(y)),
 * float32 and float64, jit on the JS backend. Reports Melem/s next to plain
 * JS loops over TypedArrays, TF.js (cpu backend, tf.grad) and jax-js jit.
 */
import * as tf from "@tensorflow/tfjs";
import { grad as jaxGrad, jit as jaxJit, numpy as jnp } from "@jax-js/jax";
import { type Array, grad, jit, np, setBackend } from "../src/index.js";
import { type BenchCase, fmt, printTable, runInterleaved } from "./harness.js";
import { tfRead } from "./peers.js";

type JaxArray = ReturnType<typeof jnp.array>;

const f = (x: Array) => np.exp(np.add(np.multiply(np.sin(x), 2), 1));

export async function benchW5(opts: { quick: boolean; backends?: string[] }): Promise<void> {
  const backends = opts.backends ?? ["js"];
  await tf.setBackend("cpu");
  const n = opts.quick ? 200_000 : 1_000_000;
  for (const dtype of ["float32", "float64"] as const) {
    const Typed = dtype === "float32" ? Float32Array : Float64Array;
    const data = new Typed(n);
    for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.001);
    const x = np.array(data);
    const fwd = jit(f);
    const bwd = jit(grad((v: Array) => np.sum(f(v))));
    const plainFwd = () => {
      const out = new Typed(n);
      for (let i = 0; i < n; i++) out[i] = Math.exp(Math.sin(data[i]!) * 2 + 1);
      return out;
    };
    const plainBwd = () => {
      // d/dx exp(2 sin x + 1) = exp(2 sin x + 1) * 2 cos x
      const out = new Typed(n);
      for (let i = 0; i < n; i++)
        out[i] = Math.exp(Math.sin(data[i]!) * 2 + 1) * 2 * Math.cos(data[i]!);
      return out;
    };
    // Correctness: compiled gradient against the plain loop, on every backend.
    const ref = plainBwd();
    let maxRel = 0;
    for (const b of backends) {
      setBackend(b);
      const ours = bwd(x).data();
      for (let i = 0; i < n; i += 997) maxRel = Math.max(maxRel, Math.abs(ours[i]! / ref[i]! - 1));
    }
    // TF.js computes in float32 only.
    const tfX = tf.tensor1d(Float32Array.from(data));
    const tfF = (t: tf.Tensor) => tf.exp(tf.add(tf.mul(tf.sin(t), 2), 1));
    const tfG = tf.grad((t: tf.Tensor) => tf.sum(tfF(t)));
    const jaxDtype = dtype === "float32" ? jnp.float32 : jnp.float64;
    const jaxX = jnp.array(data, { dtype: jaxDtype });
    const jaxFwd = jaxJit((v: JaxArray) => jnp.exp(jnp.sin(v).mul(2).add(1)));
    const jaxBwd = jaxJit(jaxGrad((v: JaxArray) => jnp.exp(jnp.sin(v).mul(2).add(1)).sum()));
    const cases: BenchCase[] = [
      { name: "plain JS loop, forward", run: plainFwd },
      ...backends.map((b) => ({
        name: `chainrule jit (${b}), forward`,
        run: () => {
          setBackend(b);
          return fwd(x).data();
        },
      })),
      { name: "TF.js cpu, forward (f32)", run: () => tfRead(() => tfF(tfX)) },
      { name: "jax-js jit, forward", run: () => jaxFwd(jaxX.ref).dataSync() },
      { name: "plain JS loop, gradient", run: plainBwd },
      ...backends.map((b) => ({
        name: `chainrule jit (${b}), grad`,
        run: () => {
          setBackend(b);
          return bwd(x).data();
        },
      })),
      { name: "TF.js cpu, grad (f32)", run: () => tfRead(() => tfG(tfX)) },
      { name: "jax-js jit, grad", run: () => jaxBwd(jaxX.ref).dataSync() },
    ];
    const results = await runInterleaved(cases, {
      rounds: opts.quick ? 5 : 11,
      warmup: 2,
      capMs: 20000,
    });
    console.log(
      `\nW5, ${dtype}, n = ${n}: y = exp(sin(x) * 2 + 1); chainrule grad vs plain loop max relative difference ${maxRel.toExponential(1)}`,
    );
    printTable(
      ["case", "ms", "Melem/s"],
      results.map((r) => [
        r.name,
        r.note ?? fmt(r.medianMs, 2),
        r.medianMs === null ? "-" : fmt(n / (r.medianMs * 1000), 0),
      ]),
    );
  }
}
