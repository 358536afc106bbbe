/**
 * The stochastic-triple estimator (Arya, Schauer, Schäfer, Rackauckas,
 * "Automatic differentiation of programs with discrete randomness",
 * NeurIPS 2022), in forward mode, with pruning to one perturbation.
 *
 * For a program y = f(θ, key) whose discrete draws are made by inversion
 * (draws.ts), moving θ by ε along a direction v changes each draw X only
 * where its uniform lies within O(ε) of a jump of the CDF. Draw by draw the
 * change is X -> X' (a neighbouring value) with a probability w·ε, and
 *
 *   d/dε E[y] = E[ dy + Σ_i w_i (y(alternative path i) - y) ],
 *
 * where dy is the ordinary forward-mode derivative along v (through the
 * continuous part, the discrete values held fixed) and alternative path i
 * is the program rerun with the same keys but draw i replaced by its
 * alternative value (later draws coupled: same uniforms, new parameters).
 *
 * Pruning: instead of rerunning the program once per candidate i, one
 * candidate is chosen with probability w_i / W (W = Σ w_i) and weighted by W,
 * an unbiased one-sample estimate of the sum:
 *
 *   estimate = dy + W · (y(chosen alternative) - y).
 *
 * So one estimate costs two runs of f: run 1 under jvp records every draw's
 * parameters and values (returned as extra outputs of the jvp'd function,
 * so their tangents come out of forward mode without inspecting any trace),
 * run 2 replays f with the chosen draw element replaced. Everything is
 * array operations (the choice is a cumulative-sum search), so estimates
 * compose with vmap (many keys at once) and jit.
 *
 * Jump rates (weights) per distribution, for a tangent dθ (the direction
 * of the jump follows the sign of dθ, so every weight is >= 0):
 *   Bernoulli(p):    dp > 0, X = 0 -> 1, w = dp / (1 - p);
 *                    dp < 0, X = 1 -> 0, w = -dp / p.
 *   Binomial(n, p):  dp > 0, X -> X + 1, w = dp (n - X) / (1 - p);
 *                    dp < 0, X -> X - 1, w = -dp X / p.
 *   Poisson(λ):      dλ > 0, X -> X + 1, w = dλ;
 *                    dλ < 0, X -> X - 1, w = -dλ X / λ.
 *   Categorical(p):  with c_k = p_0 + ... + p_k and X = k,
 *                    X -> k + 1 at rate max(-dc_k, 0) / p_k,
 *                    X -> k - 1 at rate max(dc_{k-1}, 0) / p_k.
 * (Each is -∂F/∂θ · dθ / pmf(X) for the CDF F, the rate at which the
 * inversion boundary crosses the uniform.)
 */
import type { Array } from "../core/array.js";
import * as np from "../numpy/index.js";
import { jvp } from "../transforms/jvp.js";
import {
  type DiscreteKind,
  type DrawHandler,
  type DrawRequest,
  drawByInversion,
  softmaxLast,
  withDrawHandler,
} from "./draws.js";

/** One direction of jumps of one draw: the rate per element and the value jumped to. */
export interface Candidates {
  weight: Array;
  alternative: Array;
}

/** What run 1 keeps of one draw: its kind, the values its rule needs, and the value drawn. */
interface RecordedDraw {
  kind: DiscreteKind;
  /** The differentiable parameter whose tangent drives the jumps (p, p, rate, probabilities). */
  param: Array;
  value: Array;
  /** Binomial only: the number of trials. */
  trials?: Array;
}

/** A jump-rate rule: the candidate jumps of a draw, given its parameter's tangent. */
export type TripleRule = (draw: {
  param: Array;
  tangent: Array;
  value: Array;
  trials?: Array;
}) => Candidates[];

/** x / y where mask holds, 0 elsewhere (y replaced by 1 off the mask so nothing is NaN). */
function safeRatio(mask: Array, x: Array, y: Array): Array {
  return np.where(mask, np.divide(x, np.where(mask, y, 1)), 0);
}

/** The jump rates of the header, by distribution. Exported for tests (a broken rule must fail them). */
export const tripleRules: Record<DiscreteKind, TripleRule> = {
  bernoulli: ({ param: p, tangent: dp, value }) => {
    const one = np.astype(value, "bool");
    const up = np.logicalAnd(np.greater(dp, 0), np.logicalNot(one));
    const down = np.logicalAnd(np.less(dp, 0), one);
    const weight = np.add(
      safeRatio(up, dp, np.subtract(1, p)),
      safeRatio(down, np.negative(dp), p),
    );
    return [{ weight, alternative: np.where(np.greater(dp, 0), 1, 0) }];
  },
  binomial: ({ param: p, tangent: dp, value, trials }) => {
    const x = np.astype(value, p.dtype);
    const n = trials!;
    const up = np.logicalAnd(np.greater(dp, 0), np.less(x, n));
    const down = np.logicalAnd(np.less(dp, 0), np.greater(x, 0));
    const weight = np.add(
      safeRatio(up, np.multiply(dp, np.subtract(n, x)), np.subtract(1, p)),
      safeRatio(down, np.multiply(np.negative(dp), x), p),
    );
    return [{ weight, alternative: np.add(x, np.where(np.greater(dp, 0), 1, -1)) }];
  },
  poisson: ({ param: rate, tangent: dRate, value }) => {
    const x = np.astype(value, rate.dtype);
    const up = np.greater(dRate, 0);
    const down = np.logicalAnd(np.less(dRate, 0), np.greater(x, 0));
    const weight = np.add(
      np.where(up, dRate, 0),
      safeRatio(down, np.multiply(np.negative(dRate), x), rate),
    );
    return [{ weight, alternative: np.add(x, np.where(up, 1, -1)) }];
  },
  categorical: ({ param: probs, tangent: dProbs, value }) => {
    const K = probs.shape[probs.ndim - 1]!;
    const x = np.astype(value, "int32");
    const categories = np.arange(K, undefined, 1, "int32");
    const at = (k: Array, a: Array) =>
      np.sum(np.where(np.equal(categories, np.expandDims(k, -1)), a, 0), -1);
    const dCdf = np.cumsum(dProbs, -1);
    const pX = at(x, probs);
    const hasUp = np.less(x, K - 1);
    const hasDown = np.greater(x, 0);
    const upRate = np.maximum(np.negative(at(x, dCdf)), 0);
    const downRate = np.maximum(at(np.subtract(x, 1), dCdf), 0);
    return [
      { weight: safeRatio(hasUp, upRate, pX), alternative: np.add(x, 1) },
      { weight: safeRatio(hasDown, downRate, pX), alternative: np.subtract(x, 1) },
    ];
  },
};

/** Run 1's handler: draws by inversion and records each draw for the rules. */
class TripleRecorder implements DrawHandler {
  draws: RecordedDraw[] = [];
  draw(request: DrawRequest): Array {
    const value = drawByInversion(request);
    switch (request.kind) {
      case "bernoulli":
        this.draws.push({ kind: "bernoulli", param: request.p, value });
        break;
      case "binomial":
        this.draws.push({ kind: "binomial", param: request.p, value, trials: request.n });
        break;
      case "poisson":
        this.draws.push({ kind: "poisson", param: request.rate, value });
        break;
      case "categorical":
        this.draws.push({ kind: "categorical", param: softmaxLast(request.logits), value });
        break;
    }
    return value;
  }
}

/** One block of candidates in the flat list: where it starts and how many elements it has. */
interface Block {
  offset: number;
  size: number;
}

/**
 * Run 2's handler: draws by inversion (the same uniforms, so the path is
 * run 1's until the chosen draw) and replaces the chosen element of the
 * chosen draw by its alternative value.
 */
class TripleReplay implements DrawHandler {
  private count = 0;
  constructor(
    private readonly blocks: readonly (readonly Block[])[],
    private readonly chosen: Array,
    private readonly alternative: Array,
  ) {}
  draw(request: DrawRequest): Array {
    let value = drawByInversion(request);
    const blocks = this.blocks[this.count++] ?? [];
    for (const block of blocks) {
      if (block.size !== value.size) continue; // a different draw on this path: not the chosen one
      const positions = np.reshape(np.arange(block.size, undefined, 1, "int32"), value.shape);
      const hit = np.equal(positions, np.subtract(this.chosen, block.offset));
      const replacement =
        value.dtype === "bool"
          ? np.greater(this.alternative, 0.5)
          : np.astype(this.alternative, value.dtype);
      value = np.where(hit, replacement, value);
    }
    return value;
  }
}

/**
 * One triple estimate of the derivative of E[f(θ, key)] along `direction`
 * (a pytree like θ): two runs of f, see the header. `choiceUniform` is a
 * uniform on [0, 1) independent of f's draws (it picks the perturbation).
 */
export function tripleDirectional(
  f: (theta: unknown, key: Array) => Array,
  theta: unknown,
  direction: unknown,
  key: Array,
  choiceUniform: Array,
  rules: Record<DiscreteKind, TripleRule> = tripleRules,
): { value: Array; derivative: Array } {
  let recorder = new TripleRecorder();
  const run = (t: unknown) => {
    recorder = new TripleRecorder();
    const y = withDrawHandler(recorder, () => f(t, key));
    const recorded = recorder.draws.map((d) => [d.param, d.value, d.trials ?? np.array(0)]);
    return [y, recorded];
  };
  const [primalOut, tangentOut] = jvp(run, [theta], [direction]) as [
    [Array, Array[][]],
    [Array, Array[][]],
  ];
  const [y, recorded] = primalOut;
  const [dy, dRecorded] = tangentOut;
  const kinds = recorder.draws.map((d) => d.kind);

  // Every candidate jump of every draw, flattened into one list.
  const weights: Array[] = [];
  const alternatives: Array[] = [];
  const blocks: Block[][] = [];
  let offset = 0;
  kinds.forEach((kind, i) => {
    const [param, value, trials] = recorded[i]!;
    const candidates = rules[kind]({
      param: param!,
      tangent: dRecorded[i]![0]!,
      value: value!,
      trials: kind === "binomial" ? trials : undefined,
    });
    const drawBlocks: Block[] = [];
    for (const c of candidates) {
      const w = np.ravel(np.broadcastTo(c.weight, value!.shape));
      weights.push(np.astype(w, "float64"));
      alternatives.push(
        np.ravel(np.astype(np.broadcastTo(c.alternative, value!.shape), "float64")),
      );
      drawBlocks.push({ offset, size: w.size });
      offset += w.size;
    }
    blocks.push(drawBlocks);
  });
  if (offset === 0) return { value: y, derivative: dy };

  // Choose one candidate with probability w_i / W: the first i whose cumulative weight exceeds u W.
  const allWeights = np.concatenate(weights);
  const total = np.sum(allWeights);
  const cumulative = np.cumsum(allWeights);
  const passed = np.sum(
    np.astype(np.lessEqual(cumulative, np.multiply(choiceUniform, total)), "int32"),
  );
  const chosen = np.minimum(passed, offset - 1);
  const alternative = np.take(np.concatenate(alternatives), chosen);

  const yAlternative = withDrawHandler(new TripleReplay(blocks, chosen, alternative), () =>
    f(theta, key),
  );
  const jumpTerm = np.multiply(total, np.subtract(yAlternative, y));
  // W = 0 (no draw can jump): the estimate is dy alone, whatever the replay gave.
  const derivative = np.add(dy, np.where(np.greater(total, 0), jumpTerm, 0));
  return { value: y, derivative };
}
