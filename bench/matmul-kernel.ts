/**
 * Matrix-product GFLOP/s of the Wasm backend (one thread and all threads,
 * float32 and float64) next to the JS backend, TF.js (wasm and cpu) and
 * jax-js, interleaved in one process: `npx tsx bench/matmul-kernel.ts [N]`.
 * `--relaxed` turns on V8's relaxed-SIMD flag first (Node 20 ships it
 * behind a flag), so that the kernels use fused multiply-add.
 */
import { createRequire } from "node:module";
import path from "node:path";
import v8 from "node:v8";

if (process.argv.includes("--relaxed")) v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
const size = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 512);

// jax-js 0.1.25 tests `data instanceof Float16Array`, which Node 20 lacks.
const g = globalThis as { Float16Array?: unknown };
g.Float16Array ??= class Float16ArrayStandIn {};

const tf = await import("@tensorflow/tfjs");
const tfWasm = await import("@tensorflow/tfjs-backend-wasm");
const { numpy: jnp } = await import("@jax-js/jax");
const { np, setBackend } = await import("../src/index.js");
const { getRuntime, setWasmThreadLimit, startWasmThreads } =
  await import("../src/backends/wasm/index.js");
const { fmt, machineInfo, printTable, runInterleaved } = await import("./harness.js");
type BenchCase = import("./harness.js").BenchCase;

const require = createRequire(import.meta.url);
const dist = path.join(
  path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")),
  "dist",
);
tfWasm.setWasmPaths(`${dist}${path.sep}`);
const tfWasmOk = await tf.setBackend("wasm").catch(() => false);
const tfThreads = tfWasmOk ? tfWasm.getThreadsCount() : 0;

const threads = await startWasmThreads(getRuntime());
console.log(
  `matmul ${size}^3 on ${machineInfo()}; chainrule wasm: ${threads} worker thread(s), ` +
    `relaxed SIMD ${getRuntime().relaxed ? "on" : "off"}; TF.js wasm ${tfWasmOk ? `${tfThreads} thread(s)` : "unavailable"}`,
);

function random(n: number, Typed: Float32ArrayConstructor | Float64ArrayConstructor) {
  const x = new Typed(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.37) * 0.5;
  return x;
}

const flops = 2 * size ** 3;
for (const dtype of ["float32", "float64"] as const) {
  const Typed = dtype === "float32" ? Float32Array : Float64Array;
  const a = np.array(random(size * size, Typed), { shape: [size, size] });
  const b = np.array(random(size * size, Typed), { shape: [size, size] });
  const chainrule = (backend: string, workers: number) => () => {
    setBackend(backend);
    setWasmThreadLimit(workers);
    return np.matmul(a, b).data();
  };
  const cases: BenchCase[] = [
    { name: `chainrule wasm, 1 thread`, run: chainrule("wasm", 0) },
    { name: `chainrule wasm, ${threads + 1} threads`, run: chainrule("wasm", threads) },
    { name: "chainrule js", run: chainrule("js", 0) },
  ];
  if (dtype === "float32") {
    const ta = tf.tensor2d(Float32Array.from(a.data()), [size, size]);
    const tb = tf.tensor2d(Float32Array.from(b.data()), [size, size]);
    const tfRun = (backend: string) => async () => {
      await tf.setBackend(backend);
      const t = tf.matMul(ta, tb);
      const d = t.dataSync();
      t.dispose();
      return d;
    };
    if (tfWasmOk) cases.push({ name: `TF.js wasm (${tfThreads} threads)`, run: tfRun("wasm") });
    cases.push({ name: "TF.js cpu", run: tfRun("cpu") });
    const ja = jnp.array(Float32Array.from(a.data()), { dtype: jnp.float32 }).reshape([size, size]);
    const jb = jnp.array(Float32Array.from(b.data()), { dtype: jnp.float32 }).reshape([size, size]);
    cases.push({ name: "jax-js", run: () => jnp.matmul(ja.ref, jb.ref).dataSync() });
  }
  const results = await runInterleaved(cases, { rounds: 15, warmup: 3, capMs: 5000 });
  console.log(`\n${dtype}`);
  printTable(
    ["case", "ms", "GFLOP/s"],
    results.map((r) => [
      r.name,
      r.note ?? fmt(r.medianMs, 2),
      r.medianMs === null ? "-" : fmt(flops / (r.medianMs * 1e6), 1),
    ]),
  );
}
setBackend("js");
