/**
 * The no-U-turn sampler's transition (multinomial NUTS with the generalised
 * U-turn criterion, as Stan's base_nuts and NumPyro; Betancourt 2017,
 * "A Conceptual Introduction to Hamiltonian Monte Carlo", appendix A).
 *
 * The tree logic runs in JS on Float64Arrays, as a generator that yields
 * each position whose log density and gradient it needs (the only array
 * program): the sampler advances all chains' trajectories in lockstep and
 * evaluates their pending positions with one jitted, vmapped call per step,
 * so a step costs one compiled call for all chains whatever the trees' shapes. The tree is
 * built by repeated doubling in a random direction; within a new subtree the
 * proposal is drawn uniformly by weight (multinomial), and the subtree
 * replaces the current proposal with probability min(1, W_new / W_old)
 * (biased progressive sampling). Doubling stops at a U-turn anywhere in the
 * tree (the generalised criterion p♯·ρ > 0 at both ends, checked for each
 * merged pair of subtrees and across their joins), at a divergence
 * (H − H₀ > 1000) or at the maximum depth.
 */
import { type Array } from "../core/array.js";
import * as np from "../numpy/index.js";

/** Position, log density and its gradient at one point. */
export interface Point {
  q: Float64Array;
  logp: number;
  grad: Float64Array;
}

/** log p and ∇ log p at a flat position (a jitted function). */
export type LogpGrad = (q: Float64Array) => Point;

export function makeLogpGrad(vg: (q: Array) => unknown): LogpGrad {
  return (q) => {
    const [v, g] = vg(np.array(q)) as [Array, Array];
    const logp = v.item();
    return { q, logp, grad: g.data() as Float64Array };
  };
}

/** The (inverse) mass matrix: diagonal [d] or dense [d, d] row-major. */
export class Metric {
  /** Lower Cholesky factor of the dense inverse mass matrix. */
  private readonly chol: Float64Array | null;
  constructor(
    readonly d: number,
    readonly inv: Float64Array,
    readonly dense: boolean,
  ) {
    this.chol = dense ? cholesky(inv, d) : null;
  }
  static identity(d: number, dense: boolean): Metric {
    const inv = new Float64Array(dense ? d * d : d);
    for (let i = 0; i < d; i++) inv[dense ? i * d + i : i] = 1;
    return new Metric(d, inv, dense);
  }
  /** p♯ = M⁻¹ p (the velocity). */
  sharp(p: Float64Array): Float64Array {
    const { d, inv } = this;
    const out = new Float64Array(d);
    if (!this.dense) {
      for (let i = 0; i < d; i++) out[i] = inv[i]! * p[i]!;
    } else {
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += inv[i * d + j]! * p[j]!;
        out[i] = s;
      }
    }
    return out;
  }
  kinetic(p: Float64Array): number {
    return 0.5 * dot(p, this.sharp(p));
  }
  /** A momentum p ~ N(0, M) from standard normals z: z/√inv, or L⁻ᵀ z with M⁻¹ = L Lᵀ. */
  momentum(z: Float64Array): Float64Array {
    const { d } = this;
    const p = new Float64Array(d);
    if (this.chol === null) {
      for (let i = 0; i < d; i++) p[i] = z[i]! / Math.sqrt(this.inv[i]!);
      return p;
    }
    const L = this.chol;
    // back substitution: Lᵀ p = z
    for (let i = d - 1; i >= 0; i--) {
      let s = z[i]!;
      for (let j = i + 1; j < d; j++) s -= L[j * d + i]! * p[j]!;
      p[i] = s / L[i * d + i]!;
    }
    return p;
  }
}

function cholesky(a: Float64Array, d: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= L[i * d + k]! * L[j * d + k]!;
      L[i * d + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / L[j * d + j]!;
    }
  }
  return L;
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** A state on a trajectory: a point and its momentum. */
interface State extends Point {
  p: Float64Array;
}

/**
 * A computation that needs log-density evaluations: it yields each position
 * it needs and is resumed with that position's Point. Written this way, the
 * transitions of several chains can be advanced in lockstep with one batched
 * (vmapped) evaluation per step; `runWith` drives one alone.
 */
export type NeedsLogp<R> = Generator<Float64Array, R, Point>;

/** Runs a NeedsLogp computation with a single-position evaluator. */
export function runWith<R>(logpGrad: LogpGrad, gen: NeedsLogp<R>): R {
  let next = gen.next();
  while (next.done !== true) next = gen.next(logpGrad(next.value));
  return next.value;
}

/** One leapfrog step of size eps (negative: backwards in time) for U = −log p. */
export function* leapfrogStep(metric: Metric, s: State, eps: number): NeedsLogp<State> {
  const d = s.q.length;
  const p = new Float64Array(d);
  for (let i = 0; i < d; i++) p[i] = s.p[i]! + 0.5 * eps * s.grad[i]!;
  const v = metric.sharp(p);
  const q = new Float64Array(d);
  for (let i = 0; i < d; i++) q[i] = s.q[i]! + eps * v[i]!;
  const next = yield q;
  for (let i = 0; i < d; i++) p[i] = p[i]! + 0.5 * eps * next.grad[i]!;
  return { ...next, p };
}

const MAX_DELTA_H = 1000;

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/** p♯ᵀρ > 0 at both ends: the trajectory has not turned back. */
function noUTurn(pSharpA: Float64Array, pSharpB: Float64Array, rho: Float64Array): boolean {
  return dot(pSharpA, rho) > 0 && dot(pSharpB, rho) > 0;
}

const addVec = (a: Float64Array, b: Float64Array): Float64Array => {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return out;
};

/** A built subtree; `beg` is its first-built end (next to the rest), `end` its outer end. */
interface Tree {
  beg: State;
  end: State;
  begSharp: Float64Array;
  endSharp: Float64Array;
  rho: Float64Array;
  logW: number;
  proposal: State;
}

/** What a transition did (for stats and adaptation). */
export interface TransitionInfo {
  point: Point;
  acceptStat: number;
  divergent: boolean;
  depth: number;
  numSteps: number;
}

/** Counters and random numbers shared by one transition's tree building. */
class Builder {
  numSteps = 0;
  sumAccept = 0;
  divergent = false;
  private u = 0;
  constructor(
    readonly metric: Metric,
    readonly eps: number,
    readonly h0: number,
    private readonly uniforms: Float64Array,
  ) {}
  uniform(): number {
    return this.uniforms[this.u++ % this.uniforms.length]!;
  }
  /** Builds 2^depth steps from `from` in direction `dir`; null when invalid (U-turn, divergence). */
  *build(from: State, depth: number, dir: number): NeedsLogp<Tree | null> {
    if (depth === 0) {
      const s = yield* leapfrogStep(this.metric, from, dir * this.eps);
      this.numSteps += 1;
      let h = -s.logp + this.metric.kinetic(s.p);
      if (Number.isNaN(h)) h = Infinity;
      const delta = this.h0 - h;
      if (-delta > MAX_DELTA_H) {
        this.divergent = true;
        return null;
      }
      this.sumAccept += delta > 0 ? 1 : Math.exp(delta);
      const sharp = this.metric.sharp(s.p);
      return {
        beg: s,
        end: s,
        begSharp: sharp,
        endSharp: sharp,
        rho: s.p,
        logW: delta,
        proposal: s,
      };
    }
    const first = yield* this.build(from, depth - 1, dir);
    if (first === null) return null;
    const second = yield* this.build(first.end, depth - 1, dir);
    if (second === null) return null;
    const logW = logAddExp(first.logW, second.logW);
    const proposal =
      this.uniform() < Math.exp(second.logW - logW) ? second.proposal : first.proposal;
    const rho = addVec(first.rho, second.rho);
    const ok =
      noUTurn(first.begSharp, second.endSharp, rho) &&
      noUTurn(first.begSharp, second.begSharp, addVec(first.rho, second.beg.p)) &&
      noUTurn(first.endSharp, second.endSharp, addVec(second.rho, first.end.p));
    if (!ok) return null;
    return {
      beg: first.beg,
      end: second.end,
      begSharp: first.begSharp,
      endSharp: second.endSharp,
      rho,
      logW,
      proposal,
    };
  }
}

/**
 * One NUTS transition from `point` with momentum from standard normals `z`
 * and the uniforms `uniforms` (directions and multinomial draws).
 */
export function* nutsTransition(
  metric: Metric,
  point: Point,
  eps: number,
  maxDepth: number,
  z: Float64Array,
  uniforms: Float64Array,
): NeedsLogp<TransitionInfo> {
  const p0 = metric.momentum(z);
  const start: State = { ...point, p: p0 };
  const h0 = -point.logp + metric.kinetic(p0);
  const b = new Builder(metric, eps, h0, uniforms);
  const sharp0 = metric.sharp(p0);
  // the whole trajectory: left and right ends (in time), their p♯, ρ, log weight
  let left = start;
  let right = start;
  let leftSharp = sharp0;
  let rightSharp = sharp0;
  let rho = p0;
  let logW = 0;
  let sample: State = start;
  let depth = 0;
  while (depth < maxDepth) {
    const forward = b.uniform() < 0.5;
    const tree = yield* b.build(forward ? right : left, depth, forward ? 1 : -1);
    if (tree === null) break;
    depth += 1;
    // biased progressive sampling: prefer the new subtree by its weight
    if (b.uniform() < Math.exp(tree.logW - logW)) sample = tree.proposal;
    logW = logAddExp(logW, tree.logW);
    const [near, nearSharp, farSharp] = forward
      ? [right, rightSharp, leftSharp]
      : [left, leftSharp, rightSharp];
    const rhoOld = rho;
    rho = addVec(rhoOld, tree.rho);
    if (forward) {
      right = tree.end;
      rightSharp = tree.endSharp;
    } else {
      left = tree.end;
      leftSharp = tree.endSharp;
    }
    const ok =
      noUTurn(farSharp, tree.endSharp, rho) &&
      noUTurn(farSharp, tree.begSharp, addVec(rhoOld, tree.beg.p)) &&
      noUTurn(nearSharp, tree.endSharp, addVec(tree.rho, near.p));
    if (!ok) break;
  }
  return {
    point: { q: sample.q, logp: sample.logp, grad: sample.grad },
    acceptStat: b.numSteps > 0 ? b.sumAccept / b.numSteps : 0,
    divergent: b.divergent,
    depth,
    numSteps: b.numSteps,
  };
}

/**
 * A step size that makes one leapfrog step's acceptance cross 1/2 (Hoffman
 * & Gelman 2014, Algorithm 4): doubled or halved from `eps` until it does.
 */
export function findReasonableStepSize(
  logpGrad: LogpGrad,
  metric: Metric,
  point: Point,
  eps0: number,
  z: Float64Array,
): number {
  const p = metric.momentum(z);
  const h0 = -point.logp + metric.kinetic(p);
  const logAccept = (eps: number) => {
    const s = runWith(logpGrad, leapfrogStep(metric, { ...point, p }, eps));
    const h = -s.logp + metric.kinetic(s.p);
    return Number.isNaN(h) ? -Infinity : h0 - h;
  };
  let eps = eps0;
  const up = logAccept(eps) > Math.log(0.5);
  for (let k = 0; k < 100; k++) {
    const next = up ? eps * 2 : eps / 2;
    const la = logAccept(next);
    if (up ? la < Math.log(0.5) : la > Math.log(0.5)) return up ? eps : next;
    eps = next;
  }
  return eps;
}
