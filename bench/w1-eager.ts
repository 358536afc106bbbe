/**
 * W1 eager `grad` alone in its process (see w1.ts for the function): the
 * steady state and where it goes, for the eager tape's before/after
 * comparisons (docs/benchmarks.md, "Eager tape deoptimisations").
 *
 *   npx tsx bench/w1-eager.ts [--lib PATH] [--peers] [--style grad|backward|tape]
 *
 * Prints, for N = 1,000 (5,000 primitive operations per call): the median,
 * fastest and CPU ns per operation of 200 calls after 100 warm-up calls; the
 * bytes allocated per operation (V8's sampling heap profiler, collected
 * objects included); and the time of each of the first 12 calls (V8's
 * warm-up). With `--peers`, instead: 31 calls, each followed by one TF.js
 * (cpu) and one jax-js grad of the same function as in `bench/run.ts`, and
 * the mean ns/op of calls 11–31 with the part of it spent in GC pauses.
 * `--lib` loads another build of the library (e.g. a baseline's
 * `dist/index.js`); by default this checkout's `src/`. `--style` times the
 * same derivative taken in the imperative idioms instead of `grad`:
 * `backward` (PyTorch's `x = np.array(0.3, { requiresGrad: true })`,
 * `f(x).backward()`, `x.grad`) or `tape` (TensorFlow's `GradientTape`).
 */
import { Session } from "node:inspector/promises";
import { PerformanceObserver } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { grad as jaxGrad, numpy as jnp } from "@jax-js/jax";
import type * as Chainrule from "../src/index.js";

type JaxArray = ReturnType<typeof jnp.array>;

const N = 1000;
const OPS = 5 * N;

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const libPath = argValue("--lib");
const lib = (await import(
  libPath === undefined ? "../src/index.js" : pathToFileURL(libPath).href
)) as typeof Chainrule;
const { grad, np, GradientTape } = lib;

const f = (x: Chainrule.Array): Chainrule.Array => {
  for (let i = 0; i < N; i++) x = np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x));
  return x;
};
const style = argValue("--style") ?? "grad";
const styles: Record<string, () => number> = {
  grad: () => grad(f)(0.3).item(),
  backward: () => {
    const x = np.array(0.3, { requiresGrad: true });
    f(x).backward();
    return x.grad!.item();
  },
  tape: () => {
    const tape = new GradientTape();
    const x = np.array(0.3);
    const y = tape.record(() => {
      tape.watch(x);
      return f(x);
    });
    return tape.gradient(y, x).item();
  },
};
const ours = styles[style];
if (ours === undefined) throw new Error(`--style must be one of ${Object.keys(styles).join(", ")}`);
const nsPerOp = (ms: number, calls = 1): number => Math.round((ms * 1e6) / (calls * OPS));

if (process.argv.includes("--peers")) {
  await tf.setBackend("cpu");
  const tfF = (x: tf.Tensor): tf.Tensor => {
    for (let i = 0; i < N; i++) x = tf.add(tf.mul(tf.mul(tf.sin(x), x), 0.5), tf.cos(x));
    return x;
  };
  const jaxF = (x: JaxArray): JaxArray => {
    for (let i = 0; i < N; i++) x = jnp.sin(x.ref).mul(x.ref).mul(0.5).add(jnp.cos(x));
    return x;
  };
  const gcs: { startTime: number; duration: number }[] = [];
  new PerformanceObserver((list) => gcs.push(...list.getEntries())).observe({
    entryTypes: ["gc"],
  });
  const windows: [number, number][] = [];
  for (let r = 0; r < 31; r++) {
    const t0 = performance.now();
    ours();
    if (r >= 10) windows.push([t0, performance.now()]);
    tf.tidy(() => tf.grad(tfF)(tf.scalar(0.3)).dataSync());
    jaxGrad(jaxF)(jnp.array(0.3, { dtype: jnp.float64 })).dataSync();
  }
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the GC observer report
  let callMs = 0;
  let gcMs = 0;
  for (const [a, b] of windows) {
    callMs += b - a;
    for (const g of gcs) if (g.startTime >= a && g.startTime < b) gcMs += g.duration;
  }
  console.log(
    `W1 eager grad between TF.js and jax-js calls, calls 11-31: ` +
      `${nsPerOp(callMs, windows.length)} ns/op, of which GC pauses ${nsPerOp(gcMs, windows.length)} ns/op`,
  );
} else {
  const first: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t0 = performance.now();
    ours();
    if (i < 12) first.push(nsPerOp(performance.now() - t0));
  }
  const times: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    ours();
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(c0);
  times.sort((a, b) => a - b);
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (let i = 0; i < 50; i++) ours();
  const { profile } = await session.post("HeapProfiler.stopSampling");
  let bytes = 0;
  const walk = (node: { selfSize: number; children: unknown[] }): void => {
    bytes += node.selfSize;
    for (const c of node.children) walk(c as typeof node);
  };
  walk(profile.head);
  console.log(
    `W1 eager ${style}, 200 calls after 100: median ${nsPerOp(times[100]!)} ns/op, ` +
      `fastest ${nsPerOp(times[0]!)}, CPU ${nsPerOp((cpu.user + cpu.system) / 1000, 200)} ns/op; ` +
      `allocated ${Math.round(bytes / (50 * OPS))} bytes/op`,
  );
  console.log(`first 12 calls, ns/op: ${first.join(" ")}`);
}
