/**
 * W2: one MLP training step, float32: batch 128, 784 -> 256 (relu) -> 10,
 * softmax cross-entropy against one-hot labels, gradients of all four
 * weight arrays, an SGD update (learning rate 0.01), and the loss read back.
 * Each library keeps its own parameters and trains them call after call.
 * chainrule eager and `jit` (on every chainrule backend available), jax-js
 * eager and `jit`, TF.js cpu and wasm. Before timing, every library runs
 * three steps from the same initial weights and data and the losses are
 * compared with each other and the first with a plain-JS float64 forward pass.
 */
import * as tf from "@tensorflow/tfjs";
import { jit as jaxJit } from "@jax-js/jax";
import { jit } from "../src/index.js";
import {
  type JaxMlpParams,
  type MlpParams,
  jaxMlpArrays,
  jaxMlpStep,
  mlpArrays,
  mlpStep,
  tfMlp,
} from "./mlpModel.js";
import { type MlpData, W2_SIZES, makeMlpData, plainMlpLoss } from "./web/workloads.js";
import { type BenchCase, fmt, printTable, runInterleaved } from "./harness.js";
import { chainruleBackends, tfWasmAvailable, useChainrule } from "./peers.js";

const { batch, nIn, nHidden, nOut } = W2_SIZES;

/** A training loop: step() trains once and returns the loss as a number. */
interface Trainer {
  step: () => number;
}

function chainruleTrainer(d: MlpData, compiled: boolean): Trainer {
  const { x, y, params } = mlpArrays(d);
  let p: MlpParams = params;
  const step = compiled ? (jit(mlpStep) as unknown as typeof mlpStep) : mlpStep;
  return {
    step: () => {
      const [loss, next] = step(p, x, y);
      p = next;
      return loss.item();
    },
  };
}

function jaxTrainer(d: MlpData, compiled: boolean): Trainer {
  const { x, y, params } = jaxMlpArrays(d);
  let p: JaxMlpParams = params;
  const step = compiled
    ? (jaxJit(
        jaxMlpStep as unknown as Parameters<typeof jaxJit>[0],
      ) as unknown as typeof jaxMlpStep)
    : jaxMlpStep;
  return {
    step: () => {
      const [loss, next] = step(p, x.ref, y.ref);
      p = next;
      return loss.dataSync()[0]!;
    },
  };
}

function tfTrainer(d: MlpData, backend: string): Trainer {
  const before = tf.getBackend();
  void tf.setBackend(backend);
  const model = tfMlp(d);
  void tf.setBackend(before);
  return {
    step: () => {
      // Read the loss outside tidy: dataSync inside tidy is very slow in TF.js wasm.
      const loss = model.step();
      const out = loss.dataSync()[0]!;
      loss.dispose();
      return out;
    },
  };
}

export async function benchW2(opts: { quick: boolean; backends?: string[] }): Promise<void> {
  const d = makeMlpData(W2_SIZES);
  const ours = opts.backends ?? (await chainruleBackends());
  const tfBackends = (await tfWasmAvailable()) ? ["cpu", "wasm"] : ["cpu"];
  const entries: { name: string; make: () => Trainer; before: () => unknown }[] = [];
  for (const b of ours) {
    entries.push({
      name: `chainrule eager (${b})`,
      make: () => chainruleTrainer(d, false),
      before: () => useChainrule(b),
    });
    entries.push({
      name: `chainrule jit (${b})`,
      make: () => chainruleTrainer(d, true),
      before: () => useChainrule(b),
    });
  }
  entries.push({ name: "jax-js eager", make: () => jaxTrainer(d, false), before: () => {} });
  entries.push({ name: "jax-js jit", make: () => jaxTrainer(d, true), before: () => {} });
  for (const b of tfBackends) {
    entries.push({
      name: `TF.js (${b})`,
      make: () => tfTrainer(d, b),
      before: () => tf.setBackend(b),
    });
  }

  // Correctness: three steps from the same start in every library.
  const reference = plainMlpLoss(d);
  console.log(
    `\nW2 check: losses of three SGD steps from the same weights (plain JS float64 first loss ${reference.toFixed(6)})`,
  );
  let worst = 0;
  const first: number[][] = [];
  for (const e of entries) {
    await e.before();
    const t = e.make();
    await e.before();
    const losses = [t.step(), t.step(), t.step()];
    first.push(losses);
    worst = Math.max(worst, Math.abs(losses[0]! - reference) / reference);
    console.log(`  ${e.name.padEnd(24)} ${losses.map((l) => l.toFixed(6)).join("  ")}`);
  }
  for (let s = 1; s < 3; s++) {
    const col = first.map((ls) => ls[s]!);
    worst = Math.max(worst, (Math.max(...col) - Math.min(...col)) / Math.min(...col));
  }
  console.log(`  largest relative disagreement: ${worst.toExponential(1)}`);
  if (worst > 1e-3) throw new Error(`W2: the libraries' losses disagree (${worst})`);

  const cases: BenchCase[] = [];
  for (const e of entries) {
    await e.before();
    const t = e.make();
    cases.push({ name: e.name, before: e.before, run: () => t.step() });
  }
  const rounds = opts.quick ? 7 : 25;
  const results = await runInterleaved(cases, { rounds, warmup: 3, capMs: 10000 });
  await useChainrule("js");
  await tf.setBackend("cpu");
  const jaxJitMs = results.find((r) => r.name === "jax-js jit")?.medianMs ?? null;
  const jaxEagerMs = results.find((r) => r.name === "jax-js eager")?.medianMs ?? null;
  console.log(
    `\nW2, MLP training step (batch ${batch}, ${nIn}-${nHidden}-${nOut}, float32), medians of ${rounds} interleaved rounds`,
  );
  printTable(
    ["case", "ms / step", "x jax-js jit", "x jax-js eager"],
    results.map((r) => [
      r.name,
      r.note ?? fmt(r.medianMs, 2),
      r.medianMs === null || jaxJitMs === null ? "" : fmt(r.medianMs / jaxJitMs, 2),
      r.medianMs === null || jaxEagerMs === null ? "" : fmt(r.medianMs / jaxEagerMs, 2),
    ]),
  );
}
