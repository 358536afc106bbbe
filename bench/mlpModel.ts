/**
 * W2's model in chainrule, jax-js and TF.js, shared by bench/w2.ts (Node) and
 * the browser page (bench/web/libs.ts): a 784-256-10 MLP with a relu hidden
 * layer, softmax cross-entropy over one-hot labels, and one SGD step
 * p <- p - lr * dL/dp computed by each library's `valueAndGrad`.
 */
import {
  type Array as JaxArray,
  nn as jnn,
  numpy as jnp,
  tree as jtree,
  valueAndGrad as jaxValueAndGrad,
} from "@jax-js/jax";
import * as tf from "@tensorflow/tfjs";
import { type Array, nn, np, valueAndGrad } from "../src/index.js";
import { LEARNING_RATE, type MlpData } from "./web/workloads.js";

export interface MlpParams {
  w1: Array;
  b1: Array;
  w2: Array;
  b2: Array;
}

/** L = mean over rows of -sum_j y_j log softmax(relu(x w1 + b1) w2 + b2)_j. */
export function mlpLoss(p: MlpParams, x: Array, y: Array): Array {
  const h = nn.relu(np.add(np.matmul(x, p.w1), p.b1));
  const logits = np.add(np.matmul(h, p.w2), p.b2);
  return np.negative(np.mean(np.sum(np.multiply(y, nn.logSoftmax(logits)), 1)));
}

/** One SGD step: the loss at p and the updated parameters. */
export function mlpStep(p: MlpParams, x: Array, y: Array): [Array, MlpParams] {
  const [loss, g] = valueAndGrad(mlpLoss)(p, x, y);
  const update = (w: Array, dw: Array) => np.subtract(w, np.multiply(dw, LEARNING_RATE));
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

/**
 * The inputs, one-hot labels and initial parameters of `d`, each made into
 * an array of its shape by `make` (one library's float32 array constructor).
 */
function shapedMlp<T>(
  d: MlpData,
  make: (data: Float32Array, shape: number[]) => T,
): { x: T; y: T; params: { w1: T; b1: T; w2: T; b2: T } } {
  const { batch, nIn, nHidden, nOut } = d.sizes;
  return {
    x: make(d.x, [batch, nIn]),
    y: make(d.yOneHot, [batch, nOut]),
    params: {
      w1: make(d.w1, [nIn, nHidden]),
      b1: make(d.b1, [nHidden]),
      w2: make(d.w2, [nHidden, nOut]),
      b2: make(d.b2, [nOut]),
    },
  };
}

/** The inputs, one-hot labels and initial parameters of `d` as float32 chainrule arrays. */
export function mlpArrays(d: MlpData): { x: Array; y: Array; params: MlpParams } {
  return shapedMlp(d, (data, shape) => np.array(data, { shape }));
}

export interface JaxMlpParams {
  w1: JaxArray;
  b1: JaxArray;
  w2: JaxArray;
  b2: JaxArray;
}

/** The loss in jax-js (reference counted: an array used twice needs `.ref` once). */
export function jaxMlpLoss(p: JaxMlpParams, x: JaxArray, y: JaxArray): JaxArray {
  const batch = y.shape[0]!;
  const h = jnn.relu(jnp.matmul(x, p.w1).add(p.b1));
  const logits = jnp.matmul(h, p.w2).add(p.b2);
  return jnn
    .logSoftmax(logits)
    .mul(y)
    .sum()
    .mul(-1 / batch);
}

/** One SGD step in jax-js: the loss at p and the updated parameters. */
export function jaxMlpStep(p: JaxMlpParams, x: JaxArray, y: JaxArray): [JaxArray, JaxMlpParams] {
  const [loss, g] = jaxValueAndGrad(jaxMlpLoss)(jtree.ref(p), x, y) as [JaxArray, JaxMlpParams];
  const update = (w: JaxArray, dw: JaxArray) => w.sub(dw.mul(LEARNING_RATE));
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

/** The inputs, labels and initial parameters of `d` as float32 jax-js arrays (on `device` if given). */
export function jaxMlpArrays(
  d: MlpData,
  device?: "webgpu",
): { x: JaxArray; y: JaxArray; params: JaxMlpParams } {
  return shapedMlp(d, (data, shape) =>
    jnp
      .array(data, device === undefined ? { dtype: jnp.float32 } : { dtype: jnp.float32, device })
      .reshape(shape),
  );
}

/**
 * W2's model in TF.js on the current TF.js backend: `step()` runs one SGD
 * step on the variables (inside tf.tidy) and returns the loss tensor at the
 * parameters before it, which the caller reads (outside tidy: a read inside
 * is very slow on TF.js wasm) and disposes; `dispose()` frees the data and
 * the variables.
 */
export function tfMlp(d: MlpData): { step: () => tf.Scalar; dispose: () => void } {
  const { batch, nIn, nHidden, nOut } = d.sizes;
  const x = tf.tensor2d(d.x, [batch, nIn]);
  const y = tf.tensor2d(d.yOneHot, [batch, nOut]);
  const params = [
    tf.variable(tf.tensor2d(d.w1, [nIn, nHidden])),
    tf.variable(tf.tensor1d(d.b1)),
    tf.variable(tf.tensor2d(d.w2, [nHidden, nOut])),
    tf.variable(tf.tensor1d(d.b2)),
  ];
  const valueAndGrads = tf.valueAndGrads(
    (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) => {
      const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
      const logits = tf.add(tf.matMul(h, w2), b2);
      return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    },
  );
  return {
    step: () =>
      tf.tidy(() => {
        const { value, grads } = valueAndGrads(params);
        params.forEach((w, i) => w.assign(tf.sub(w, tf.mul(grads[i]!, LEARNING_RATE))));
        return value;
      }),
    dispose: () => {
      x.dispose();
      y.dispose();
      params.forEach((w) => w.dispose());
    },
  };
}
