/**
 * Dense layers, multilayer perceptrons, standard initialisations and losses.
 * Parameters are plain pytrees ({ w, b } per layer), so grad, vmap, jit and
 * optim apply to them directly.
 */
import { type Array, type ArrayLike, ConcreteArray } from "../core/array.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import * as np from "../numpy/index.js";
import { uniformGenerator } from "../core/random.js";
import { logSoftmax, relu } from "./activations.js";

export { uniformGenerator } from "../core/random.js";

/** How dense layers' weights start: Glorot (Xavier) uniform, He normal, or zeros. */
export type Initializer = "glorotUniform" | "heNormal" | "zeros";

/** Weights of shape [fanIn, fanOut] drawn by the named scheme. */
export function initWeights(
  init: Initializer,
  fanIn: number,
  fanOut: number,
  random: () => number,
): Array {
  const w = ConcreteArray.zeros([fanIn, fanOut], "float64");
  const n = fanIn * fanOut;
  if (init === "glorotUniform") {
    // U(-l, l) with l = sqrt(6 / (fanIn + fanOut)) (Glorot and Bengio)
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < n; i++) w.buffer[i] = (2 * random() - 1) * limit;
  } else if (init === "heNormal") {
    // N(0, 2 / fanIn) (He et al.), by Box-Muller
    const std = Math.sqrt(2 / fanIn);
    for (let i = 0; i < n; i++) {
      const u = 1 - random();
      w.buffer[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    }
  } else if (init !== "zeros") {
    throw new InvalidArgumentError(`nn.initWeights: unknown initializer "${String(init)}"`);
  }
  return w;
}

/** The parameters of one dense layer, y = x w + b. */
export interface DenseParams {
  /** Weights, [inputs, outputs]. */
  w: Array;
  /** Biases, [outputs]. */
  b: Array;
}

/** A dense layer's parameters: w [inDim, outDim], b [outDim] (zeros). */
export function dense(
  inDim: number,
  outDim: number,
  opts: { init?: Initializer; seed?: number } = {},
): DenseParams {
  const random = uniformGenerator(opts.seed ?? 0);
  return {
    w: initWeights(opts.init ?? "glorotUniform", inDim, outDim, random),
    b: np.zeros([outDim]),
  };
}

/** x @ w + b for x [batch, inDim] (or [inDim]). */
export function denseApply(params: DenseParams, x: ArrayLike): Array {
  return np.add(np.matmul(x, params.w), params.b);
}

/** Parameters of an MLP with layer sizes [in, hidden..., out]. */
export function mlp(
  sizes: readonly number[],
  opts: { init?: Initializer; seed?: number } = {},
): DenseParams[] {
  if (sizes.length < 2)
    throw new InvalidArgumentError(
      `nn.mlp: needs at least an input and an output size, got [${sizes.join(", ")}]`,
    );
  return sizes.slice(1).map((out, i) =>
    dense(sizes[i]!, out, {
      init: opts.init ?? "glorotUniform",
      seed: (opts.seed ?? 0) * 1000 + i,
    }),
  );
}

/** Applies an MLP: activation after every layer but the last (logits out). */
export function mlpApply(
  params: readonly DenseParams[],
  x: ArrayLike,
  activation: (x: Array) => Array = relu,
): Array {
  let h = np.asarray(x);
  params.forEach((layer, i) => {
    h = denseApply(layer, h);
    if (i < params.length - 1) h = activation(h);
  });
  return h;
}

/** Mean squared error. */
export function mse(pred: ArrayLike, target: ArrayLike): Array {
  return np.mean(np.square(np.subtract(pred, target)));
}

/**
 * Checks concrete class-index labels: each must be an integer in
 * [0, classes). A label outside that range would match no class and add 0
 * to the loss without any sign. Traced labels (under jit or vmap) have no
 * values to check here.
 */
function checkLabels(labels: Array, classes: number): void {
  if (!(labels instanceof ConcreteArray)) return;
  const values = labels.buffer;
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new InvalidArgumentError(
        `nn.crossEntropy: label ${v} at position ${i} is not a class index: with ${classes} ` +
          `classes (logits' last axis) labels must be integers 0..${classes - 1}; pass ` +
          `probability rows [batch, ${classes}] for soft labels`,
      );
    }
  }
}

/**
 * Mean cross-entropy of logits [batch, classes] against labels: int32 class
 * indices [batch], or one-hot / probability rows [batch, classes].
 *
 * Class indices are checked when they are concrete values: an index that is
 * not an integer in [0, classes) throws an InvalidArgumentError. Under jit
 * or vmap, where the labels are traced, they cannot be checked; there a
 * label outside the range matches no class and its row adds 0 to the loss
 * (check the labels before tracing, or pass one-hot rows).
 */
export function crossEntropy(logits: ArrayLike, labels: ArrayLike): Array {
  const z = np.asarray(logits);
  const y = np.asarray(labels);
  if (z.ndim !== 2)
    throw new ShapeError(
      `nn.crossEntropy: logits must be [batch, classes], got ${fmtShape(z.shape)}`,
    );
  const logp = logSoftmax(z, -1);
  if (y.ndim === 1) {
    if (y.shape[0] !== z.shape[0]) {
      throw new ShapeError(
        `nn.crossEntropy: ${y.shape[0]} labels for ${z.shape[0]} rows of logits ${fmtShape(z.shape)}`,
      );
    }
    checkLabels(y, z.shape[1]!);
    const oneHot = np.equal(
      np.reshape(y.astype("int32"), [y.size, 1]),
      np.arange(z.shape[1]!, undefined, 1, "int32"),
    );
    return np.negative(np.mean(np.sum(np.multiply(logp, oneHot.astype(z.dtype)), 1)));
  }
  if (y.ndim !== 2 || y.shape[0] !== z.shape[0] || y.shape[1] !== z.shape[1]) {
    throw new ShapeError(
      `nn.crossEntropy: labels ${fmtShape(y.shape)} do not match logits ${fmtShape(z.shape)}`,
    );
  }
  return np.negative(np.mean(np.sum(np.multiply(logp, y), 1)));
}
