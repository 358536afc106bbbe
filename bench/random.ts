/**
 * random.normal of 10^7 float32 samples: chainrule (threefry-2x32 and
 * Box–Muller, one fused jit loop, on each of its backends) next to TF.js
 * `tf.randomNormal` (cpu and wasm backends) and jax-js `random.normal`
 * (its default device), interleaved round robin in one process; medians,
 * Melem/s and ratios to chainrule. Every case reads its samples back.
 * Checks first: each library's samples have mean ~0 and variance ~1.
 *
 *   npx tsx bench/random.ts [--quick]
 */
import * as tf from "@tensorflow/tfjs";
import { defaultDevice, random as jaxRandom } from "@jax-js/jax";
import { random } from "../src/index.js";
import { type BenchCase, fmt, machineInfo, printTable, runInterleaved } from "./harness.js";
import { chainruleBackends, tfRead, tfWasmAvailable, tfWasmInfo, useChainrule } from "./peers.js";

const quick = process.argv.includes("--quick");
const n = quick ? 1_000_000 : 10_000_000;

function moments(xs: ArrayLike<number>): string {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < xs.length; i++) {
    s += xs[i]!;
    s2 += xs[i]! * xs[i]!;
  }
  const m = s / xs.length;
  return `mean ${m.toFixed(4)}, variance ${(s2 / xs.length - m * m).toFixed(4)}`;
}

let seed = 0;
const chainruleNormal = () => random.normal(random.key(seed++), [n], { dtype: "float32" }).data();
const tfNormal = () => tfRead(() => tf.randomNormal([n], 0, 1, "float32", seed++));
const jaxNormal = () => jaxRandom.normal(jaxRandom.key(seed++), [n]).dataSync();

async function main(): Promise<void> {
  console.log(machineInfo());
  console.log(await tfWasmInfo());
  console.log(`jax-js default device: ${defaultDevice()}`);
  const backends = await chainruleBackends();
  const hasTfWasm = await tfWasmAvailable();
  await tf.setBackend("cpu");
  for (const b of backends) {
    await useChainrule(b);
    console.log(`check chainrule (${b}): ${moments(chainruleNormal())}`);
  }
  console.log(`check TF.js (cpu): ${moments(tfNormal())}`);
  console.log(`check jax-js: ${moments(jaxNormal())}`);

  const cases: BenchCase[] = [
    ...backends.map((b) => ({
      name: `chainrule random.normal (${b})`,
      before: () => useChainrule(b),
      run: chainruleNormal,
    })),
    { name: "TF.js tf.randomNormal (cpu)", before: () => tf.setBackend("cpu"), run: tfNormal },
    ...(hasTfWasm
      ? [
          {
            name: "TF.js tf.randomNormal (wasm)",
            before: () => tf.setBackend("wasm"),
            run: tfNormal,
          },
        ]
      : []),
    { name: "jax-js random.normal", run: jaxNormal },
  ];
  const results = await runInterleaved(cases, {
    rounds: quick ? 5 : 9,
    warmup: 1,
    capMs: 60_000,
  });
  const ours = results[0]!.medianMs;
  console.log(
    `\nrandom.normal, ${n.toExponential(0)} float32 samples, medians of ${results[0]!.runs} interleaved rounds`,
  );
  printTable(
    ["case", "ms / call", "Melem/s", "time / chainrule's first row"],
    results.map((r) => [
      r.name,
      r.note ?? fmt(r.medianMs, 1),
      r.medianMs === null ? "-" : fmt(n / r.medianMs / 1000, 1),
      r.medianMs === null || ours === null ? "-" : `${fmt(r.medianMs / ours, 2)}x`,
    ]),
  );
}

await main();
