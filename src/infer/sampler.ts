/**
 * The sampling driver shared by `infer.hmc` and `infer.nuts`: flattens the
 * parameter pytree, jits the log density's value and gradient, draws all
 * random numbers from the key up front, runs the Stan-style warm-up
 * (adapt.ts) and collects samples and statistics.
 *
 * HMC's transition is one jitted, vmapped program for all chains (the
 * leapfrog steps a `lax.scan`). NUTS's tree logic runs in JS (nuts.ts) as
 * one generator per chain; `lockstep` advances them together, evaluating
 * all chains' pending positions with one jitted, vmapped value-and-gradient
 * call per step over the chains still building (finished chains wait for
 * the longest trajectory; each batch size is one jit signature).
 */
import { type Array } from "../core/array.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import { uniformGenerator } from "../core/random.js";
import { jit } from "../jit/jit.js";
import * as lax from "../lax/index.js";
import * as np from "../numpy/index.js";
import { packing } from "../ode/pack.js";
import * as random from "../random/index.js";
import { valueAndGrad } from "../transforms/linearize.js";
import { vmap } from "../transforms/vmap.js";
import { type PyTree, unflatten } from "../tree/index.js";
import { DualAveraging, Welford, warmupWindows } from "./adapt.js";
import {
  type LogpGrad,
  Metric,
  type NeedsLogp,
  type Point,
  findReasonableStepSize,
  makeLogpGrad,
  nutsTransition,
} from "./nuts.js";

/** Options of `infer.hmc` and `infer.nuts`. */
export interface SamplerOptions {
  /** A random key (`random.key(seed)`); all randomness comes from it. */
  key: Array;
  /** Warm-up (adaptation) iterations per chain, discarded; default 500. */
  numWarmup?: number;
  /** Kept samples per chain; default 500. */
  numSamples?: number;
  /** Independent chains; default 1. */
  chains?: number;
  /** Initial step size (then adapted during warm-up); default: found by a heuristic. */
  stepSize?: number;
  /** HMC: leapfrog steps per transition; default 10. */
  numSteps?: number;
  /** Target acceptance statistic of the step-size adaptation; default 0.8. */
  targetAccept?: number;
  /** Adapt a dense mass matrix instead of a diagonal one (NUTS); default false. */
  dense?: boolean;
  /** NUTS: the largest tree depth (at most 2^maxTreeDepth steps); default 10. */
  maxTreeDepth?: number;
  /** Chains start at init + uniform(−initJitter, initJitter) per coordinate; default 0.5. */
  initJitter?: number;
  /**
   * NUTS: "sequential" (default) evaluates each chain's leapfrog steps with the
   * single-chain function; "vectorized" evaluates all chains' pending steps in one
   * vmapped call (measured slower in bench/infer.ts on both its models). The draws
   * agree in distribution, not bit for bit (batched and single evaluations may round
   * differently).
   */
  chainMethod?: "vectorized" | "sequential";
}

/** Per-sample statistics, each with leading axes [chains, numSamples] unless noted. */
export interface SamplerStats {
  /** The acceptance statistic (HMC: the Metropolis probability; NUTS: the trajectory mean). */
  acceptance: Array;
  /** True where the transition diverged (energy error above 1000). */
  divergences: Array;
  /** The number of divergent transitions in all chains (after warm-up). */
  numDivergences: number;
  /** Gradient evaluations (leapfrog steps) per transition. */
  numGradEvals: Array;
  /** NUTS: the tree depth of each transition. */
  treeDepth: Array | null;
  /** All gradient evaluations of all chains, warm-up and step-size search included. */
  totalGradEvals: number;
  /** The adapted step size per chain, shape [chains]. */
  stepSize: Array;
  /** The adapted inverse mass matrix per chain: [chains, d] (diagonal) or [chains, d, d]. */
  inverseMassMatrix: Array;
}

/** What `infer.hmc` and `infer.nuts` return: the samples and the sampler's statistics. */
export interface SampleResult {
  /** The samples: init's pytree with leading axes [chains, numSamples] on every leaf. */
  samples: PyTree;
  /** Acceptance, divergences, gradient counts and the adapted step size and mass matrix. */
  stats: SamplerStats;
}

function count(fnName: string, name: string, v: unknown, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new InvalidArgumentError(
      `${fnName}: opts.${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

type Kind = "hmc" | "nuts";

/** The jitted, vmapped HMC transition for all chains. */
function hmcKernel(logpFlat: (q: Array) => Array, numSteps: number) {
  const vg = valueAndGrad(logpFlat);
  const kernel = (
    q: Array,
    logp: Array,
    g: Array,
    eps: Array,
    invMass: Array,
    z: Array,
    u: Array,
  ): Array[] => {
    const p0 = np.divide(z, np.sqrt(invMass));
    type C = [Array, Array, Array, Array];
    const step = (c: C): [C, null] => {
      const pHalf = np.add(c[1], np.multiply(np.multiply(0.5, eps), c[3]));
      const qNew = np.add(c[0], np.multiply(eps, np.multiply(invMass, pHalf)));
      const [lp, gNew] = vg(qNew);
      const pNew = np.add(pHalf, np.multiply(np.multiply(0.5, eps), gNew));
      return [[qNew, pNew, lp, gNew], null];
    };
    const [[q1, p1, logp1, g1]] = lax.scan(step, [q, p0, logp, g], null, {
      length: numSteps,
    }) as [C, unknown];
    const kin = (p: Array) => np.multiply(0.5, np.sum(np.multiply(invMass, np.square(p))));
    const h0 = np.subtract(kin(p0), logp);
    const h1 = np.subtract(kin(p1), logp1);
    const delta = np.where(np.isnan(h1), -Infinity, np.subtract(h0, h1));
    const accept = np.less(np.log(u), delta);
    return [
      np.where(accept, q1, q),
      np.where(accept, logp1, logp),
      np.where(accept, g1, g),
      np.minimum(1, np.exp(delta)),
      np.less(delta, -1000),
    ];
  };
  return jit(vmap(kernel));
}

/**
 * Advances several NeedsLogp computations together: each round evaluates the
 * positions all unfinished ones asked for in one `evaluate` call.
 */
function lockstep<R>(
  gens: NeedsLogp<R>[],
  evaluate: (qs: (Float64Array | null)[]) => (Point | null)[],
): R[] {
  const results: (R | undefined)[] = gens.map(() => undefined);
  let requests = gens.map((g, c) => {
    const r = g.next();
    if (r.done === true) {
      results[c] = r.value;
      return null;
    }
    return r.value;
  });
  while (requests.some((q) => q !== null)) {
    const points = evaluate(requests);
    requests = requests.map((q, c) => {
      if (q === null) return null;
      const r = gens[c]!.next(points[c]!);
      if (r.done === true) {
        results[c] = r.value;
        return null;
      }
      return r.value;
    });
  }
  return results as R[];
}

export function runSampler(
  kind: Kind,
  logDensity: (params: never) => unknown,
  init: unknown,
  opts: SamplerOptions,
): SampleResult {
  const fnName = `infer.${kind}`;
  if (typeof logDensity !== "function") {
    throw new InvalidArgumentError(`${fnName}: logDensity must be a function of the parameters`);
  }
  if (opts === undefined || opts === null || opts.key === undefined) {
    throw new InvalidArgumentError(
      `${fnName}: opts.key is required (a random key, e.g. { key: random.key(0) })`,
    );
  }
  const numWarmup = count(fnName, "numWarmup", opts.numWarmup, 500, 0);
  const numSamples = count(fnName, "numSamples", opts.numSamples, 500, 1);
  const chains = count(fnName, "chains", opts.chains, 1, 1);
  const numSteps = count(fnName, "numSteps", opts.numSteps, 10, 1);
  const maxDepth = count(fnName, "maxTreeDepth", opts.maxTreeDepth, 10, 1);
  const target = opts.targetAccept ?? 0.8;
  if (!(target > 0 && target < 1)) {
    throw new InvalidArgumentError(
      `${fnName}: opts.targetAccept must be in (0, 1), got ${JSON.stringify(opts.targetAccept)}`,
    );
  }
  if (opts.stepSize !== undefined && !(opts.stepSize > 0 && Number.isFinite(opts.stepSize))) {
    throw new InvalidArgumentError(
      `${fnName}: opts.stepSize must be a positive number, got ${JSON.stringify(opts.stepSize)}`,
    );
  }
  const dense = opts.dense === true;
  if (dense && kind === "hmc") {
    throw new InvalidArgumentError(
      `${fnName}: a dense mass matrix is adapted by infer.nuts only; use infer.nuts or dense: false`,
    );
  }
  const jitter = opts.initJitter ?? 0.5;
  const pack = packing(fnName, init, "init");
  const d = pack.size;
  const logpFlat = (q: Array): Array => {
    const v = np.asarray(logDensity(pack.unravel(q) as never) as Array);
    if (v.ndim !== 0) {
      throw new ShapeError(
        `${fnName}: logDensity must return a scalar, got shape ${fmtShape(v.shape)}; ` +
          `sum the log densities (np.sum)`,
      );
    }
    return v;
  };
  const single = makeLogpGrad(jit(valueAndGrad(logpFlat)));
  let totalGradEvals = 0;
  const logpGrad: LogpGrad = (q) => {
    totalGradEvals += 1;
    return single(q);
  };
  // All chains' pending positions in one call (one chain: the unbatched function).
  const chainMethod = opts.chainMethod ?? "sequential";
  if (chainMethod !== "vectorized" && chainMethod !== "sequential") {
    throw new InvalidArgumentError(
      `${fnName}: opts.chainMethod must be "vectorized" or "sequential", got ${JSON.stringify(chainMethod)}`,
    );
  }
  const batched =
    chains > 1 && chainMethod === "vectorized" ? jit(vmap(valueAndGrad(logpFlat))) : null;
  const evaluate = (qs: (Float64Array | null)[]): (Point | null)[] => {
    const pending = qs.filter((q) => q !== null).length;
    totalGradEvals += pending;
    if (batched === null || pending === 1) {
      return qs.map((q) => (q === null ? null : single(q)));
    }
    // only the chains still building a trajectory (one jit signature per batch size)
    const buf = new Float64Array(pending * d);
    let filled = 0;
    for (const q of qs) if (q !== null) buf.set(q, d * filled++);
    const [v, g] = batched(np.array(buf, { shape: [pending, d] }));
    const vs = v.data() as Float64Array;
    const gs = g.data() as Float64Array;
    let k = 0;
    return qs.map((q) => {
      if (q === null) return null;
      const j = k++;
      return { q, logp: vs[j]!, grad: gs.slice(j * d, (j + 1) * d) };
    });
  };
  const total = numWarmup + numSamples;

  // Randomness: init jitter, momenta, and per-transition seeds for the tree's uniforms.
  const keys = random.split(opts.key, 4);
  const key = (i: number) => np.take(keys, i, 0);
  const jit0 = random.uniform(key(0), [chains, d], { minval: -jitter, maxval: jitter });
  const normals = random.normal(key(1), [total, chains, d]).data() as Float64Array;
  const seeds = random.uniform(key(2), [total, chains]).data() as Float64Array;
  const stepNormals = random.normal(key(3), [chains, d]).data() as Float64Array;
  const zAt = (t: number, c: number) =>
    normals.subarray((t * chains + c) * d, (t * chains + c + 1) * d);

  const q0 = pack.ravel(init, "init");
  const starts = np.add(np.reshape(q0, [1, d]), jit0).data() as Float64Array;
  const points: Point[] = [];
  for (let c = 0; c < chains; c++) {
    const pt = logpGrad(starts.slice(c * d, (c + 1) * d));
    if (!Number.isFinite(pt.logp)) {
      throw new InvalidArgumentError(
        `${fnName}: the log density at the initial point of chain ${c} is ${pt.logp}; choose ` +
          `init inside the support (use infer.transforms for constrained parameters) or lower initJitter`,
      );
    }
    points.push(pt);
  }
  const metrics = globalThis.Array.from({ length: chains }, () => Metric.identity(d, dense));
  const stepZ = (c: number) => stepNormals.subarray(c * d, (c + 1) * d);
  const eps = points.map(
    (pt, c) => opts.stepSize ?? findReasonableStepSize(logpGrad, metrics[c]!, pt, 1, stepZ(c)),
  );
  const averaging = eps.map((e) => new DualAveraging(e, target));
  const welford = globalThis.Array.from({ length: chains }, () => new Welford(d, dense));
  const windows = warmupWindows(numWarmup);

  const S = numSamples;
  const out = new Float64Array(chains * S * d);
  const acceptance = new Float64Array(chains * S);
  const divergent = new Uint8Array(chains * S);
  const gradEvals = new Float64Array(chains * S);
  const depths = new Float64Array(chains * S);
  const kernel = kind === "hmc" ? hmcKernel(logpFlat, numSteps) : null;

  for (let t = 0; t < total; t++) {
    const infos: { acceptStat: number; divergent: boolean; depth: number; numSteps: number }[] = [];
    if (kernel !== null) {
      const stack = (f: (c: number) => ArrayLike<number>, shape: number[]) => {
        const buf = new Float64Array(shape.reduce((a, b) => a * b, 1));
        const per = buf.length / chains;
        for (let c = 0; c < chains; c++) buf.set(f(c), c * per);
        return np.array(buf, { shape });
      };
      const res = kernel(
        stack((c) => points[c]!.q, [chains, d]),
        stack((c) => [points[c]!.logp], [chains]),
        stack((c) => points[c]!.grad, [chains, d]),
        stack((c) => [eps[c]!], [chains]),
        stack((c) => metrics[c]!.inv, [chains, d]),
        stack((c) => zAt(t, c), [chains, d]),
        stack((c) => [seeds[t * chains + c]!], [chains]),
      );
      const [qs, lps, gs, acc, div] = res.map((a) => a.data());
      totalGradEvals += chains * numSteps;
      for (let c = 0; c < chains; c++) {
        points[c] = {
          q: Float64Array.from(qs!.subarray(c * d, (c + 1) * d)),
          logp: lps![c]!,
          grad: Float64Array.from(gs!.subarray(c * d, (c + 1) * d)),
        };
        infos.push({ acceptStat: acc![c]!, divergent: div![c]! !== 0, depth: 0, numSteps });
      }
    } else {
      const transitions = points.map((pt, c) => {
        const gen = uniformGenerator(Math.floor(seeds[t * chains + c]! * 2 ** 32));
        const uniforms = new Float64Array(2 * maxDepth + 2 ** maxDepth);
        for (let k = 0; k < uniforms.length; k++) uniforms[k] = gen();
        return nutsTransition(metrics[c]!, pt, eps[c]!, maxDepth, zAt(t, c), uniforms);
      });
      for (const [c, info] of lockstep(transitions, evaluate).entries()) {
        points[c] = info.point;
        infos.push(info);
      }
    }
    if (t < numWarmup) {
      for (let c = 0; c < chains; c++) {
        eps[c] = averaging[c]!.update(infos[c]!.acceptStat);
        const w = windows.find(([a, b]) => t >= a && t < b);
        if (w !== undefined) {
          welford[c]!.add(points[c]!.q);
          if (t === w[1] - 1) {
            metrics[c] = new Metric(d, welford[c]!.regularized(), dense);
            welford[c]!.reset();
            eps[c] = findReasonableStepSize(logpGrad, metrics[c]!, points[c]!, eps[c]!, stepZ(c));
            averaging[c]!.restart(eps[c]!);
          }
        }
        if (t === numWarmup - 1) eps[c] = averaging[c]!.final();
      }
      continue;
    }
    const s = t - numWarmup;
    for (let c = 0; c < chains; c++) {
      const k = c * S + s;
      out.set(points[c]!.q, k * d);
      acceptance[k] = infos[c]!.acceptStat;
      divergent[k] = infos[c]!.divergent ? 1 : 0;
      gradEvals[k] = infos[c]!.numSteps;
      depths[k] = infos[c]!.depth;
    }
  }

  // samples: each leaf [chains, S, ...shape]
  let offset = 0;
  const leaves = pack.shapes.map((shape, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const buf = new Float64Array(chains * S * size);
    for (let k = 0; k < chains * S; k++)
      buf.set(out.subarray(k * d + offset, k * d + offset + size), k * size);
    offset += size;
    const a = np.array(buf, { shape: [chains, S, ...shape] });
    return pack.dtypes[i] === "float64" ? a : np.astype(a, pack.dtypes[i]!);
  });
  const invShape = dense ? [chains, d, d] : [chains, d];
  const inv = new Float64Array(metrics.reduce((n, m) => n + m.inv.length, 0));
  metrics.forEach((m, c) => inv.set(m.inv, c * m.inv.length));
  let numDivergences = 0;
  divergent.forEach((v) => (numDivergences += v));
  return {
    samples: unflatten(pack.def, leaves),
    stats: {
      acceptance: np.array(acceptance, { shape: [chains, S] }),
      divergences: np.array(divergent, { shape: [chains, S], dtype: "bool" }),
      numDivergences,
      totalGradEvals,
      numGradEvals: np.array(gradEvals, { shape: [chains, S] }),
      treeDepth: kind === "nuts" ? np.array(depths, { shape: [chains, S] }) : null,
      stepSize: np.array(Float64Array.from(eps)),
      inverseMassMatrix: np.array(inv, { shape: invShape }),
    },
  };
}
