/**
 * W3: dense matrix product C = A @ B, 512 x 512 by 512 x 512, float32 and
 * float64, in GFLOP/s (2 n^3 floating-point operations per product).
 * chainrule eager `np.matmul` on every chainrule backend available (the wasm
 * backend also limited to the calling thread, for its thread scaling), TF.js
 * (cpu and wasm backends, float32 only), jax-js (eager `numpy.matmul`, its
 * default device) and a plain JS triple loop as the baseline. Every case
 * reads its result back. All results are first checked against a float64
 * plain-JS product.
 */
import * as tf from "@tensorflow/tfjs";
import { numpy as jnp } from "@jax-js/jax";
import { setWasmThreadLimit } from "../src/backends/wasm/index.js";
import { np } from "../src/index.js";
import { type BenchCase, fmt, printTable, runInterleaved } from "./harness.js";
import { chainruleBackends, tfRead, tfWasmAvailable, tfWasmInfo, useChainrule } from "./peers.js";

/** Plain JS C = A B in i-k-j order over row-major TypedArrays. */
function plainMatmul(a: Float64Array | Float32Array, b: Float64Array | Float32Array, n: number) {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      const orow = i * n;
      const brow = k * n;
      for (let j = 0; j < n; j++) out[orow + j] = out[orow + j]! + aik * b[brow + j]!;
    }
  }
  return out;
}

/** Largest |x - ref| relative to the largest |ref|. */
function maxRelDiff(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(x[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return err / scale;
}

export async function benchW3(opts: { quick: boolean; backends?: string[] }): Promise<void> {
  const n = 512;
  const flops = 2 * n ** 3;
  const ours = opts.backends ?? (await chainruleBackends());
  const tfWasm = await tfWasmAvailable();
  console.log(`\nW3: ${n} x ${n} @ ${n} x ${n}; ${await tfWasmInfo()}`);
  for (const dtype of ["float32", "float64"] as const) {
    const Typed = dtype === "float32" ? Float32Array : Float64Array;
    const aData = new Typed(n * n);
    const bData = new Typed(n * n);
    for (let i = 0; i < n * n; i++) {
      aData[i] = Math.sin(i * 0.37);
      bData[i] = Math.cos(i * 0.11);
    }
    const reference = plainMatmul(aData, bData, n);
    const a = np.array(aData, { shape: [n, n] });
    const b = np.array(bData, { shape: [n, n] });
    const cases: BenchCase[] = [];
    const checks: [string, () => ArrayLike<number>][] = [];
    cases.push({ name: "plain JS triple loop (i-k-j)", run: () => plainMatmul(aData, bData, n) });
    for (const name of ours) {
      const run = () => np.matmul(a, b).data();
      const before = async () => {
        setWasmThreadLimit(Infinity);
        await useChainrule(name);
      };
      if (name === "wasm") {
        // the same on the calling thread alone: the thread scaling in this run
        const oneThread = async () => {
          setWasmThreadLimit(0);
          await useChainrule(name);
        };
        cases.push({ name: "chainrule np.matmul (wasm, 1 thread)", before: oneThread, run });
      }
      cases.push({ name: `chainrule np.matmul (${name})`, before, run });
      checks.push([`chainrule ${name}`, run]);
    }
    await useChainrule("js");
    if (dtype === "float32") {
      for (const backend of tfWasm ? ["cpu", "wasm"] : ["cpu"]) {
        await tf.setBackend(backend);
        const ta = tf.tensor2d(Float32Array.from(aData), [n, n]);
        const tb = tf.tensor2d(Float32Array.from(bData), [n, n]);
        const run = () => tfRead(() => tf.matMul(ta, tb));
        cases.push({
          name: `TF.js tf.matMul (${backend})`,
          before: () => tf.setBackend(backend),
          run,
        });
        checks.push([`TF.js ${backend}`, run]);
      }
      await tf.setBackend("cpu");
    }
    const ja = jnp
      .array(aData, { dtype: dtype === "float32" ? jnp.float32 : jnp.float64 })
      .reshape([n, n]);
    const jb = jnp
      .array(bData, { dtype: dtype === "float32" ? jnp.float32 : jnp.float64 })
      .reshape([n, n]);
    const jaxRun = () => jnp.matmul(ja.ref, jb.ref).dataSync();
    cases.push({ name: "jax-js numpy.matmul", run: jaxRun });
    checks.push(["jax-js", jaxRun]);

    const line: string[] = [];
    for (const [name, run] of checks) {
      await useChainrule(name.startsWith("chainrule ") ? name.slice(10) : "js");
      if (name.startsWith("TF.js ")) await tf.setBackend(name.slice(6));
      line.push(`${name} ${maxRelDiff(run(), reference).toExponential(1)}`);
    }
    await useChainrule("js");
    await tf.setBackend("cpu");
    console.log(
      `W3 ${dtype} check, max |C - C_ref| / max |C_ref| against float64 plain JS: ${line.join(", ")}`,
    );

    const results = await runInterleaved(cases, {
      rounds: opts.quick ? 5 : 15,
      warmup: 2,
      capMs: 20000,
    });
    setWasmThreadLimit(Infinity);
    await useChainrule("js");
    await tf.setBackend("cpu");
    const wasmTf = results.find((r) => r.name === "TF.js tf.matMul (wasm)")?.medianMs ?? null;
    console.log(`\nW3, ${dtype}, ${n}^3, medians of ${opts.quick ? 5 : 15} interleaved rounds`);
    printTable(
      ["case", "ms", "GFLOP/s", "x TF.js wasm speed"],
      results.map((r) => [
        r.name,
        r.note ?? fmt(r.medianMs, 2),
        r.medianMs === null ? "-" : fmt(flops / (r.medianMs * 1e6), 1),
        r.medianMs === null || wasmTf === null ? "" : fmt(wasmTf / r.medianMs, 2),
      ]),
    );
  }
}
