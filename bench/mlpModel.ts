/**
 * W2's model in chainrule, shared by bench/w2.ts (Node) and the browser
 * page (bench/web/libs.ts): a 784-256-10 MLP with a relu hidden layer,
 * softmax cross-entropy over one-hot labels, and one SGD step
 * p <- p - lr * dL/dp computed by `valueAndGrad`.
 */
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

/** The inputs, one-hot labels and initial parameters of `d` as float32 chainrule arrays. */
export function mlpArrays(d: MlpData): { x: Array; y: Array; params: MlpParams } {
  const { batch, nIn, nHidden, nOut } = d.sizes;
  const f32 = (data: Float32Array, shape: number[]) => np.array(data, { shape });
  return {
    x: f32(d.x, [batch, nIn]),
    y: f32(d.yOneHot, [batch, nOut]),
    params: {
      w1: f32(d.w1, [nIn, nHidden]),
      b1: f32(d.b1, [nHidden]),
      w2: f32(d.w2, [nHidden, nOut]),
      b2: f32(d.b2, [nOut]),
    },
  };
}
