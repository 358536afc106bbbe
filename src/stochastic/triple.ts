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
 * So one estimate costs two runs of f. Run 1 is f under jvp: each draw's
 * parameter passes through a tangent tap (a customJvp function whose rule
 * sees the parameter's primal and tangent at the draw), and the rule offers
 * the draw's jumps to the choice at once, by weighted reservoir sampling
 * (see `offer`): nothing of a draw is kept after it, so run 1 holds only
 * f's own live values, whatever the number of draws (forward mode without
 * a tape). Run 2 replays f with the chosen element of the chosen draw
 * replaced. Everything is array operations, so estimates compose with vmap
 * (many keys at once) and jit; the per-draw work (rule, cumulative sum,
 * reservoir update) is one jitted program per shape, a fused loop eagerly.
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
import { type Array, ConcreteArray } from "../core/array.js";
import { InvalidArgumentError } from "../core/errors.js";
import { jit } from "../jit/jit.js";
import * as np from "../numpy/index.js";
import * as random from "../random/index.js";
import { customJvp } from "../transforms/customJvp.js";
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

/**
 * The pruned choice so far, as arrays (so it flows through vmap and jit):
 * the total weight W of the candidates offered, the index of the draw that
 * holds the chosen candidate (-1: none yet), the chosen element's position
 * in that draw, and its alternative value.
 */
interface Choice {
  total: Array;
  draw: Array;
  element: Array;
  alternative: Array;
}

/** The empty choice: nothing offered yet. */
function emptyChoice(): Choice {
  return {
    total: np.array(0, { dtype: "float64" }),
    draw: np.array(-1, { dtype: "int32" }),
    element: np.array(0, { dtype: "int32" }),
    alternative: np.array(0, { dtype: "float64" }),
  };
}

/**
 * Weighted reservoir sampling, one draw at a time: the candidates of a draw
 * (weights w_j, alternative values) are offered with one uniform v.
 * With W the total so far and W_d = Σ_j w_j, the draw's candidates replace
 * the current choice with probability W_d / (W + W_d), and then candidate j
 * is taken with probability w_j / W_d; one uniform does both, since
 * r = v (W + W_d) is uniform on [0, W_d) given r < W_d. After every draw the
 * choice is candidate i with probability w_i / W_total: the w_i / W_≤d of
 * its own offer times the Π W_<d' / W_≤d' of the later offers keeping it.
 * W_d is the cumulative sum's last entry, so r < W_d always finds a j with
 * w_j > 0 (never a zero-weight candidate by rounding).
 */
function offer(
  choice: Choice,
  weights: Array,
  alternatives: Array,
  drawSize: number,
  v: Array,
  drawIndex: Array,
): Choice {
  const size = weights.size;
  const cumulative = np.cumsum(weights);
  const drawTotal = np.reshape(np.slice(cumulative, [size - 1, size]), []);
  const total = np.add(choice.total, drawTotal);
  const r = np.multiply(v, total);
  const replace = np.less(r, drawTotal);
  const passed = np.sum(np.astype(np.lessEqual(cumulative, r), "int32"));
  const element = np.minimum(passed, size - 1);
  return {
    total,
    draw: np.where(replace, drawIndex, choice.draw),
    element: np.where(replace, np.remainder(element, drawSize), choice.element),
    alternative: np.where(replace, np.take(alternatives, element), choice.alternative),
  };
}

/**
 * One draw's jump candidates offered to the choice: the rule's weights and
 * alternatives for every element, all candidate lists of the draw (one per
 * direction of jump) flattened into one. Jitted (per rule, shapes and
 * dtypes), so the dozen elementwise operations run as one fused loop.
 */
const offerDraw = jit(
  (
    rule: TripleRule,
    binomial: boolean,
    param: Array,
    tangent: Array,
    value: Array,
    trials: Array,
    choice: Choice,
    v: Array,
    drawIndex: Array,
  ): Choice => {
    const candidates = rule({ param, tangent, value, trials: binomial ? trials : undefined });
    const weights = np.concatenate(
      candidates.map((c) => np.ravel(np.astype(np.broadcastTo(c.weight, value.shape), "float64"))),
    );
    const alternatives = np.concatenate(
      candidates.map((c) =>
        np.ravel(np.astype(np.broadcastTo(c.alternative, value.shape), "float64")),
      ),
    );
    return offer(choice, weights, alternatives, value.size, v, drawIndex);
  },
  { staticArgnums: [0, 1] },
);

/**
 * The replayed draw with the chosen element replaced by its alternative
 * where this is the chosen draw (array operations: under vmap or jit the
 * chosen draw is not known while tracing). Jitted per shape and dtype.
 */
const replaceChosen = jit((value: Array, choice: Choice, drawIndex: Array): Array => {
  const positions = np.reshape(np.arange(value.size, undefined, 1, "int32"), value.shape);
  const hit = np.logicalAnd(np.equal(choice.draw, drawIndex), np.equal(positions, choice.element));
  const replacement =
    value.dtype === "bool"
      ? np.greater(choice.alternative, 0.5)
      : np.astype(choice.alternative, value.dtype);
  return np.where(hit, replacement, value);
});

/**
 * Run 2's handler: draws by inversion (the same uniforms, so the path is
 * run 1's until the chosen draw) and replaces the chosen element of the
 * chosen draw by its alternative value. A draw whose size differs from run
 * 1's draw of the same index lies after the chosen draw (the paths agree
 * until it), so it is left alone. Eagerly the chosen draw's index is known,
 * and only that draw is touched.
 */
class TripleReplay implements DrawHandler {
  private count = 0;
  private readonly knownDraw: number | null;
  constructor(
    private readonly choice: Choice,
    private readonly sizes: readonly number[],
  ) {
    this.knownDraw = choice.draw instanceof ConcreteArray ? choice.draw.item() : null;
  }
  draw(request: DrawRequest): Array {
    const index = this.count++;
    const value = drawByInversion(request);
    if (this.sizes[index] !== value.size) return value;
    if (this.knownDraw !== null && this.knownDraw !== index) return value;
    return replaceChosen(value, this.choice, np.array(index, { dtype: "int32" }));
  }
}

/** The draw whose tangent the tap is about to see: set by run 1's handler around the tap. */
let pendingOffer: { online: TripleOnline; kind: DiscreteKind; index: number } | null = null;

/**
 * The tangent tap: a customJvp function of (param, value, trials) whose
 * value is an unused 0 and whose forward-mode rule sees the parameter's
 * primal and tangent at the draw, and offers the draw's jumps to run 1's
 * online choice (pendingOffer). If the parameter does not depend on θ, jvp
 * calls no rule: its jumps have weight 0 and nothing is offered.
 */
const tangentTap = customJvp(
  (param: Array, value: Array, trials: Array): Array => {
    void param;
    void value;
    void trials;
    return np.zeros([]);
  },
  ([param, value, trials], [tangent]) => {
    const pending = pendingOffer;
    if (pending === null) {
      // The rule runs after the draw: jvp of a loop body that jit traced once for all steps.
      throw new InvalidArgumentError(
        `stochastic.grad: a discrete draw was made inside a loop that jit stages ` +
          `(lax.scan, lax.whileLoop or lax.forILoop under jit), so the triple estimator cannot ` +
          `see each step's draw. Write that loop as a JavaScript for loop (jit unrolls it), run ` +
          `stochastic.grad outside jit, or use the "straightThrough" or "relaxed" estimator.`,
      );
    }
    pending.online.offer(pending.kind, pending.index, param, tangent, value, trials);
    return [np.zeros([]), null];
  },
);

/**
 * Run 1's handler (f runs under jvp): draws by inversion, counts the draws
 * (their sizes let run 2 recognise the chosen one), and passes each draw's
 * parameter through the tangent tap, whose rule offers the draw's jumps to
 * the pruned choice at once. Nothing of a draw is kept after it (memory
 * independent of the number of draws). The uniform of draw i's offer comes
 * from chunks of the choice key of sizes 1, 2, 4, ... (draws 2^c - 1 to
 * 2^(c+1) - 2 share chunk c), generated when first needed.
 */
class TripleOnline implements DrawHandler {
  choice: Choice = emptyChoice();
  readonly sizes: number[] = [];
  private chunk: Array | null = null;
  private chunkStart = 0;
  constructor(
    private readonly choiceKey: Array,
    private readonly rules: Record<DiscreteKind, TripleRule>,
  ) {}
  draw(request: DrawRequest): Array {
    const index = this.sizes.length;
    const value = drawByInversion(request);
    this.sizes.push(value.size);
    const param =
      request.kind === "bernoulli" || request.kind === "binomial"
        ? request.p
        : request.kind === "poisson"
          ? request.rate
          : softmaxLast(request.logits);
    const trials = request.kind === "binomial" ? request.n : np.zeros([]);
    const previous = pendingOffer;
    pendingOffer = { online: this, kind: request.kind, index };
    try {
      tangentTap(param, np.astype(value, param.dtype), trials);
    } finally {
      pendingOffer = previous;
    }
    return value;
  }
  /** The uniform that decides draw `index`'s offer. */
  private uniform(index: number): Array {
    if (this.chunk === null || index >= this.chunkStart + this.chunk.size) {
      const c = Math.floor(Math.log2(index + 1));
      this.chunkStart = 2 ** c - 1;
      this.chunk = random.uniform(random.foldIn(this.choiceKey, c), [2 ** c]);
    }
    return np.take(this.chunk, index - this.chunkStart);
  }
  /** Offers one draw's candidate jumps (called by the tap's rule, at the draw). */
  offer(
    kind: DiscreteKind,
    index: number,
    param: Array,
    tangent: Array,
    value: Array,
    trials: Array,
  ): void {
    this.choice = offerDraw(
      this.rules[kind],
      kind === "binomial",
      param,
      tangent,
      value,
      trials,
      this.choice,
      this.uniform(index),
      np.array(index, { dtype: "int32" }),
    );
  }
}

/**
 * One triple estimate of the derivative of E[f(θ, key)] along `direction`
 * (a pytree like θ): two runs of f, see the header. `choiceKey` is a key
 * independent of f's draws; it gives the uniform that decides each draw's
 * offer to the pruned choice.
 */
export function tripleDirectional(
  f: (theta: unknown, key: Array) => Array,
  theta: unknown,
  direction: unknown,
  key: Array,
  choiceKey: Array,
  rules: Record<DiscreteKind, TripleRule> = tripleRules,
): { value: Array; derivative: Array } {
  const online = new TripleOnline(choiceKey, rules);
  const [y, dy] = jvp<[unknown], Array>(
    (t: unknown) => withDrawHandler(online, () => f(t, key)),
    [theta],
    [direction],
  );
  const { choice, sizes } = online;
  if (sizes.length === 0) return { value: y, derivative: dy };

  const yAlternative = withDrawHandler(new TripleReplay(choice, sizes), () => f(theta, key));
  const jumpTerm = np.multiply(choice.total, np.subtract(yAlternative, y));
  // W = 0 (no draw can jump): the estimate is dy alone, whatever the replay gave.
  const derivative = np.add(dy, np.where(np.greater(choice.total, 0), jumpTerm, 0));
  return { value: y, derivative };
}
