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
import {
  type Array as JaxArray,
  jit as jaxJit,
  nn as jnn,
  numpy as jnp,
  tree as jtree,
  valueAndGrad as jaxValueAndGrad,
} from "@jax-js/jax";
import { type Array, jit, nn, np, valueAndGrad } from "../src/index.js";
import { type BenchCase, fmt, printTable, runInterleaved } from "./harness.js";
import { chainruleBackends, tfWasmAvailable, useChainrule } from "./peers.js";

const batch = 128;
const nIn = 784;
const nHidden = 256;
const nOut = 10;
const learningRate = 0.01;

interface HostData {
  x: Float32Array;
  yOneHot: Float32Array;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

/** Deterministic inputs, labels and Glorot-scaled initial weights. */
function makeData(): HostData {
  const x = new Float32Array(batch * nIn).map((_, i) => Math.sin(i * 0.731) * 0.5 + 0.5);
  const yOneHot = new Float32Array(batch * nOut);
  for (let r = 0; r < batch; r++) yOneHot[r * nOut + ((r * 7) % nOut)] = 1;
  const s1 = Math.sqrt(6 / (nIn + nHidden));
  const s2 = Math.sqrt(6 / (nHidden + nOut));
  return {
    x,
    yOneHot,
    w1: new Float32Array(nIn * nHidden).map((_, i) => Math.sin(i * 1.37 + 0.1) * s1),
    b1: new Float32Array(nHidden).map((_, i) => Math.cos(i) * 0.01),
    w2: new Float32Array(nHidden * nOut).map((_, i) => Math.cos(i * 0.91 + 0.3) * s2),
    b2: new Float32Array(nOut),
  };
}

/** The loss in plain JS float64: mean over rows of -sum(y * logSoftmax(relu(x w1 + b1) w2 + b2)). */
function plainLoss(d: HostData): number {
  let total = 0;
  const h = new Float64Array(nHidden);
  const logits = new Float64Array(nOut);
  for (let r = 0; r < batch; r++) {
    h.set(d.b1);
    for (let k = 0; k < nIn; k++) {
      const xk = d.x[r * nIn + k]!;
      for (let j = 0; j < nHidden; j++) h[j]! += xk * d.w1[k * nHidden + j]!;
    }
    logits.set(d.b2);
    for (let k = 0; k < nHidden; k++) {
      const hk = Math.max(h[k]!, 0);
      for (let j = 0; j < nOut; j++) logits[j]! += hk * d.w2[k * nOut + j]!;
    }
    const m = Math.max(...logits);
    let s = 0;
    for (const l of logits) s += Math.exp(l - m);
    const lse = m + Math.log(s);
    for (let j = 0; j < nOut; j++) total -= d.yOneHot[r * nOut + j]! * (logits[j]! - lse);
  }
  return total / batch;
}

/** A training loop: step() trains once and returns the loss as a number. */
interface Trainer {
  step: () => number;
}

interface Params {
  w1: Array;
  b1: Array;
  w2: Array;
  b2: Array;
}

function chainruleLoss(p: Params, x: Array, y: Array): Array {
  const h = nn.relu(np.add(np.matmul(x, p.w1), p.b1));
  const logits = np.add(np.matmul(h, p.w2), p.b2);
  return np.negative(np.mean(np.sum(np.multiply(y, nn.logSoftmax(logits)), 1)));
}

function chainruleStep(p: Params, x: Array, y: Array): [Array, Params] {
  const [loss, g] = valueAndGrad(chainruleLoss)(p, x, y) as [Array, Params];
  const update = (w: Array, dw: Array) => np.subtract(w, np.multiply(dw, learningRate));
  return [
    loss,
    {
      w1: update(p.w1, g.w1),
      b1: update(p.b1, g.b1),
      w2: update(p.w2, g.w2),
      b2: update(p.b2, g.b2),
    },
  ];
}

function chainruleTrainer(d: HostData, compiled: boolean): Trainer {
  const f32 = (data: Float32Array, shape: number[]) => np.array(data, { shape });
  const x = f32(d.x, [batch, nIn]);
  const y = f32(d.yOneHot, [batch, nOut]);
  let p: Params = {
    w1: f32(d.w1, [nIn, nHidden]),
    b1: f32(d.b1, [nHidden]),
    w2: f32(d.w2, [nHidden, nOut]),
    b2: f32(d.b2, [nOut]),
  };
  const step = compiled ? (jit(chainruleStep) as unknown as typeof chainruleStep) : chainruleStep;
  return {
    step: () => {
      const [loss, next] = step(p, x, y);
      p = next;
      return loss.item();
    },
  };
}

interface JaxParams {
  w1: JaxArray;
  b1: JaxArray;
  w2: JaxArray;
  b2: JaxArray;
}

// jax-js arrays are reference counted: an array used twice needs `.ref` once.
function jaxLoss(p: JaxParams, x: JaxArray, y: JaxArray): JaxArray {
  const h = jnn.relu(jnp.matmul(x, p.w1).add(p.b1));
  const logits = jnp.matmul(h, p.w2).add(p.b2);
  return jnn
    .logSoftmax(logits)
    .mul(y)
    .sum()
    .mul(-1 / batch);
}

function jaxStep(p: JaxParams, x: JaxArray, y: JaxArray): [JaxArray, JaxParams] {
  const [loss, g] = jaxValueAndGrad(jaxLoss)(jtree.ref(p), x, y) as [JaxArray, JaxParams];
  const update = (w: JaxArray, dw: JaxArray) => w.sub(dw.mul(learningRate));
  return [
    loss,
    {
      w1: update(p.w1, g.w1),
      b1: update(p.b1, g.b1),
      w2: update(p.w2, g.w2),
      b2: update(p.b2, g.b2),
    },
  ];
}

function jaxTrainer(d: HostData, compiled: boolean): Trainer {
  const f32 = (data: Float32Array, shape: number[]) =>
    jnp.array(data, { dtype: jnp.float32 }).reshape(shape);
  const x = f32(d.x, [batch, nIn]);
  const y = f32(d.yOneHot, [batch, nOut]);
  let p: JaxParams = {
    w1: f32(d.w1, [nIn, nHidden]),
    b1: f32(d.b1, [nHidden]),
    w2: f32(d.w2, [nHidden, nOut]),
    b2: f32(d.b2, [nOut]),
  };
  const step = compiled
    ? (jaxJit(jaxStep as unknown as Parameters<typeof jaxJit>[0]) as unknown as typeof jaxStep)
    : jaxStep;
  return {
    step: () => {
      const [loss, next] = step(p, x.ref, y.ref);
      p = next;
      return loss.dataSync()[0]!;
    },
  };
}

function tfTrainer(d: HostData, backend: string): Trainer {
  const before = tf.getBackend();
  void tf.setBackend(backend);
  const x = tf.tensor2d(d.x, [batch, nIn]);
  const y = tf.tensor2d(d.yOneHot, [batch, nOut]);
  const params = [
    tf.variable(tf.tensor2d(d.w1, [nIn, nHidden])),
    tf.variable(tf.tensor1d(d.b1)),
    tf.variable(tf.tensor2d(d.w2, [nHidden, nOut])),
    tf.variable(tf.tensor1d(d.b2)),
  ] as const;
  const lossOf = (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) => {
    const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
    const logits = tf.add(tf.matMul(h, w2), b2);
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  };
  const valueAndGrads = tf.valueAndGrads((w1, b1, w2, b2) => lossOf(w1, b1, w2, b2));
  void tf.setBackend(before);
  return {
    step: () => {
      // Read the loss outside tidy: dataSync inside tidy is very slow in TF.js wasm.
      const loss = tf.tidy(() => {
        const { value, grads } = valueAndGrads([...params]);
        params.forEach((w, i) => w.assign(tf.sub(w, tf.mul(grads[i]!, learningRate))));
        return value;
      });
      const out = loss.dataSync()[0]!;
      loss.dispose();
      return out;
    },
  };
}

export async function benchW2(opts: { quick: boolean; backends?: string[] }): Promise<void> {
  const d = makeData();
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
  const reference = plainLoss(d);
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
