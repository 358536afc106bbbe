/**
 * The adaptive integration loop of `ode.odeint` on a flat float64 state, in
 * three forms that take the same steps:
 *
 *  - `findMesh`: on concrete values (the primal values of tracers), a JS
 *    loop that accepts or rejects steps (PI step-size control) and records
 *    the accepted step sizes and which step each output time falls in. When
 *    nothing is traced this is the whole solve.
 *  - `solveOnMesh`: replays the accepted steps with the transformations'
 *    tracers as a `lax.scan` over the recorded step sizes, checkpointed
 *    (revolve) under reverse mode. The step sizes are constants of the
 *    solution (their derivative is not taken; the mesh moves with t0).
 *    This is the "discretise, then differentiate" derivative: exact for the
 *    numerical solution on that mesh.
 *  - `solveStaged`: when values are abstract (jit, or vmap whose elements
 *    take different steps), one `lax.whileLoop` whose body does an attempt,
 *    the accept/reject selection with `np.where`, and writes every output
 *    time the accepted step covers (all output times are interpolated each
 *    step and masked). Reverse mode through it is the while's (its stored
 *    carries). More than `maxSteps` attempts leave the unreached outputs NaN.
 */
import { type Array } from "../core/array.js";
import { ConcretizationError, InvalidArgumentError } from "../core/errors.js";
import { Tracer } from "../core/trace.js";
import { jit } from "../jit/jit.js";
import * as lax from "../lax/index.js";
import * as np from "../numpy/index.js";
import { type Method, type Rhs, type Tolerances } from "./methods.js";

export interface SolverConfig extends Tolerances {
  method: Method;
  maxSteps: number;
  /** The fixed step of a non-adaptive method. */
  dt: number | undefined;
  /** Snapshots for the checkpointed replay; undefined: about √(steps). */
  snapshots: number | undefined;
  /** The name in error messages. */
  fnName: string;
}

/** RMS norm of v / (atol + rtol max(|y0|, |y1|)). */
function errorRatio(err: Array, y0: Array, y1: Array, tol: Tolerances): Array {
  const scale = np.add(tol.atol, np.multiply(tol.rtol, np.maximum(np.abs(y0), np.abs(y1))));
  return np.sqrt(np.mean(np.square(np.divide(err, scale))));
}

interface Control {
  accept: Array;
  hNext: Array;
  prevNext: Array;
}

/**
 * PI step-size control (Gustafsson; as Hairer's DOPRI5 with β = 0.4/q):
 * after an accepted step h ← h · clip(0.9 r^(−0.7/q) r_prev^(0.4/q), 0.2, 10),
 * after a rejection h ← h · clip(0.9 r^(−1/q), 0.2, 1), with r the error
 * ratio and q the order of the estimate. A NaN ratio rejects with factor
 * 0.2. The new h carries no derivative.
 */
function control(method: Method, ratioIn: Array, prev: Array, h: Array): Control {
  if (!method.adaptive) return { accept: np.array(true), hNext: h, prevNext: prev };
  const q = method.errorOrder;
  const ratio = np.stopGradient(np.where(np.isnan(ratioIn), Infinity, ratioIn));
  const accept = np.lessEqual(ratio, 1);
  const facAccept = np.clip(
    np.multiply(np.multiply(0.9, np.power(ratio, -0.7 / q)), np.power(prev, 0.4 / q)),
    0.2,
    10,
  );
  const facReject = np.clip(np.multiply(0.9, np.power(ratio, -1 / q)), 0.2, 1);
  const hNext = np.stopGradient(np.multiply(h, np.where(accept, facAccept, facReject)));
  const prevNext = np.where(accept, np.maximum(ratio, 1e-4), prev);
  return { accept, hNext, prevNext };
}

const rms = (v: Array): Array => np.sqrt(np.mean(np.square(v)));

/**
 * The first step (Hairer, Nørsett & Wanner, II.4): from the sizes of y0, f0
 * and an estimate of the second derivative, clipped to the interval.
 */
function initialStep(
  F: Rhs,
  method: Method,
  t0: Array,
  y0: Array,
  f0: Array,
  span: Array,
  tol: Tolerances,
): Array {
  const y = np.stopGradient(y0);
  const f = np.stopGradient(f0);
  const scale = np.add(tol.atol, np.multiply(tol.rtol, np.abs(y)));
  const d0 = rms(np.divide(y, scale));
  const d1 = rms(np.divide(f, scale));
  const tiny = np.logicalOr(np.less(d0, 1e-5), np.less(d1, 1e-5));
  const h0 = np.where(tiny, 1e-6, np.multiply(0.01, np.divide(d0, np.maximum(d1, 1e-300))));
  const f1 = np.stopGradient(F(np.add(y, np.multiply(h0, f)), np.add(np.stopGradient(t0), h0)));
  const d2 = np.divide(rms(np.divide(np.subtract(f1, f), scale)), h0);
  const dMax = np.maximum(d1, d2);
  const h1 = np.where(
    np.lessEqual(dMax, 1e-15),
    np.maximum(1e-6, np.multiply(h0, 1e-3)),
    np.power(np.divide(0.01, np.maximum(dMax, 1e-300)), 1 / (method.order + 1)),
  );
  return np.stopGradient(np.minimum(np.minimum(np.multiply(100, h0), h1), span));
}

/** The first h: the method's fixed dt, or the estimate above. */
function firstStep(F: Rhs, cfg: SolverConfig, t0: Array, y0: Array, f0: Array, tEnd: Array): Array {
  if (!cfg.method.adaptive) return np.array(cfg.dt!);
  return initialStep(F, cfg.method, t0, y0, f0, np.subtract(tEnd, t0), cfg);
}

/** What `findMesh` learned: accepted steps and where each output lies. */
export interface Mesh {
  /** Accepted step sizes, in order. */
  hs: number[];
  /** For output i ≥ 1: the accepted step containing ts[i]. */
  stepOf: number[];
  /** For output i ≥ 1: its slot among that step's outputs. */
  slotOf: number[];
  /** The most outputs in one step. */
  perStep: number;
  /** The outputs [n, d], when every value was concrete (nothing traced). */
  outputs: Array | null;
}

/** The concrete value of a (possibly traced) array; ConcretizationError when abstract. */
function concreteOf(x: Array, fnName: string): Array {
  return x instanceof Tracer ? x.concrete(fnName) : x;
}

/**
 * Runs the adaptive loop on concrete values. Throws ConcretizationError when
 * a value is abstract (jit, vmap), and InvalidArgumentError past maxSteps.
 */
export function findMesh(F: Rhs, cfg: SolverConfig, y0In: Array, tsIn: Array): Mesh {
  const { method, fnName } = cfg;
  let traced = y0In instanceof Tracer || tsIn instanceof Tracer;
  const Fc: Rhs = (y, t) => {
    const out = F(y, t);
    if (out instanceof Tracer) traced = true;
    return concreteOf(out, fnName);
  };
  const y0 = concreteOf(y0In, fnName);
  const tsArr = concreteOf(tsIn, fnName);
  const ts = globalThis.Array.from(tsArr.data() as Float64Array);
  const n = ts.length;
  const d = y0.shape[0]!;
  for (let i = 1; i < n; i++) {
    if (!(ts[i]! > ts[i - 1]!)) {
      throw new InvalidArgumentError(
        `${fnName}: ts must be strictly increasing, got ts[${i - 1}] = ${ts[i - 1]} and ` +
          `ts[${i}] = ${ts[i]}; sort the output times (integrate backwards by negating time in f)`,
      );
    }
  }
  let t = ts[0]!;
  let y = y0;
  let f = Fc(y0, np.array(t));
  let h = firstStep(Fc, cfg, np.array(t), y0, f, np.array(ts[n - 1]!));
  let prev: Array = np.array(1e-4);
  const hs: number[] = [];
  const stepOf: number[] = [];
  const slotOf: number[] = [];
  const rows: Array[] = [np.reshape(y0, [1, d])];
  let perStep = 1;
  let next = 1;
  let attempts = 0;
  // Nothing traced so far: f closes over no tracer (its first value was concrete), so
  // each attempt can run as one compiled program.
  const attemptFn = (tA: Array, yA: Array, fA: Array, hA: Array, prevA: Array) => {
    const r = method.step(traced ? Fc : F, tA, yA, fA, hA, cfg);
    let ratio: Array = np.array(0);
    if (r.err !== null) ratio = errorRatio(r.err, yA, r.y1, cfg);
    if (r.ratioFloor !== null) ratio = np.maximum(ratio, r.ratioFloor);
    const ctl = control(method, ratio, prevA, hA);
    return { y1: r.y1, f1: r.f1, ks: r.ks, ...ctl };
  };
  const attempt = traced ? attemptFn : jit(attemptFn);
  while (next < n) {
    if (attempts >= cfg.maxSteps) {
      throw new InvalidArgumentError(
        `${fnName}: reached maxSteps = ${cfg.maxSteps} step attempts at t = ${t} before the ` +
          `last output time ${ts[n - 1]}; raise maxSteps, loosen rtol/atol, or use ` +
          `method "trbdf2" if the problem is stiff`,
      );
    }
    attempts++;
    const c = attempt(np.array(t), y, f, h, prev);
    const hNum = h.item();
    if (c.accept.item()) {
      const tNew = t + hNum;
      const inStep: number[] = [];
      while (next < n && ts[next]! <= tNew) inStep.push(next++);
      if (inStep.length > 0) {
        const theta = np.array(inStep.map((i) => (ts[i]! - t) / hNum));
        rows.push(method.interp(y, c.y1, f, c.f1, c.ks, h, theta));
        inStep.forEach((_, k) => {
          stepOf.push(hs.length);
          slotOf.push(k);
        });
        perStep = Math.max(perStep, inStep.length);
      }
      hs.push(hNum);
      t = tNew;
      y = c.y1;
      f = c.f1;
    }
    if (!Number.isFinite(c.hNext.item()) || c.hNext.item() <= 0) {
      throw new InvalidArgumentError(
        `${fnName}: the step size became ${c.hNext.item()} at t = ${t} (the solution or f is ` +
          `not finite there); check f, or the output times`,
      );
    }
    h = c.hNext;
    prev = c.prevNext;
  }
  const outputs = traced ? null : np.concatenate(rows, 0);
  return { hs, stepOf, slotOf, perStep, outputs };
}

/** Default snapshots for N steps: about √N (revolve then recomputes about 2N steps). */
function defaultSnapshots(steps: number): number {
  return Math.max(2, Math.ceil(Math.sqrt(steps)));
}

/**
 * Replays the accepted steps of `mesh` with the (possibly traced) y0, ts and
 * f, as a checkpointed `lax.scan`; returns the outputs [n, d].
 */
export function solveOnMesh(F: Rhs, cfg: SolverConfig, y0: Array, ts: Array, mesh: Mesh): Array {
  const { method } = cfg;
  const n = ts.shape[0]!;
  const d = y0.shape[0]!;
  const N = mesh.hs.length;
  if (n === 1 || N === 0) return np.reshape(y0, [1, d]);
  const M = mesh.perStep;
  // Output indices per step (padding points at output 0, whose value is discarded).
  const idx = new Int32Array(N * M);
  mesh.stepOf.forEach((k, j) => (idx[k * M + mesh.slotOf[j]!] = j + 1));
  const xs = {
    h: np.array(Float64Array.from(mesh.hs)),
    idx: np.array(idx, { dtype: "int32", shape: [N, M] }),
  };
  const t0 = np.take(ts, 0);
  const f0 = F(y0, t0);
  type Carry = [Array, Array, Array];
  const body = (carry: Carry, x: { h: Array; idx: Array }): [Carry, Array] => {
    const [t, y, f] = carry;
    const r = method.step(F, t, y, f, x.h, cfg);
    const theta = np.divide(np.subtract(np.take(ts, x.idx), t), x.h);
    const out = method.interp(y, r.y1, f, r.f1, r.ks, x.h, theta);
    return [[np.add(t, x.h), r.y1, r.f1], out];
  };
  const snapshots = Math.min(N, cfg.snapshots ?? defaultSnapshots(N));
  const [, ys] = lax.scan(body, [t0, y0, f0], xs, {
    checkpoint: snapshots >= 1 && snapshots < N ? { snapshots } : undefined,
  }) as [unknown, Array];
  const flatRows = np.reshape(ys, [N * M, d]);
  const positions = mesh.stepOf.map((k, j) => k * M + mesh.slotOf[j]!);
  const picked = np.take(flatRows, np.array(positions, { dtype: "int32" }), 0);
  return np.concatenate([np.reshape(y0, [1, d]), picked], 0);
}

interface StagedCarry {
  t: Array;
  y: Array;
  f: Array;
  h: Array;
  prev: Array;
  outs: Array;
  attempts: Array;
}

/**
 * The whole adaptive loop as one `lax.whileLoop` (for abstract values); the
 * same steps as findMesh. Outputs past maxSteps attempts stay NaN.
 */
export function solveStaged(F: Rhs, cfg: SolverConfig, y0: Array, ts: Array): Array {
  const { method } = cfg;
  const n = ts.shape[0]!;
  const d = y0.shape[0]!;
  const t0 = np.take(ts, 0);
  const tEnd = np.take(ts, n - 1);
  const f0 = F(y0, t0);
  const h0 = firstStep(F, cfg, t0, y0, f0, tEnd);
  const outs0 = np.concatenate([np.reshape(y0, [1, d]), np.full([n - 1, d], NaN)], 0);
  const init: StagedCarry = {
    t: t0,
    y: y0,
    f: f0,
    h: h0,
    prev: np.array(1e-4),
    outs: outs0,
    attempts: np.array(0),
  };
  const cond = (c: StagedCarry) =>
    np.logicalAnd(np.less(c.t, tEnd), np.less(c.attempts, cfg.maxSteps));
  const body = (c: StagedCarry): StagedCarry => {
    const r = method.step(F, c.t, c.y, c.f, c.h, cfg);
    let ratio: Array = np.array(0);
    if (r.err !== null) ratio = errorRatio(r.err, c.y, r.y1, cfg);
    if (r.ratioFloor !== null) ratio = np.maximum(ratio, r.ratioFloor);
    const ctl = control(method, ratio, c.prev, c.h);
    const tNew = np.add(c.t, c.h);
    const theta = np.divide(np.subtract(ts, c.t), c.h);
    const inStep = np.logicalAnd(
      ctl.accept,
      np.logicalAnd(np.greater(ts, c.t), np.lessEqual(ts, tNew)),
    );
    const vals = method.interp(c.y, r.y1, c.f, r.f1, r.ks, c.h, theta);
    return {
      t: np.where(ctl.accept, tNew, c.t),
      y: np.where(ctl.accept, r.y1, c.y),
      f: np.where(ctl.accept, r.f1, c.f),
      h: ctl.hNext,
      prev: ctl.prevNext,
      outs: np.where(np.reshape(inStep, [n, 1]), vals, c.outs),
      attempts: np.add(c.attempts, 1),
    };
  };
  const out = lax.whileLoop(cond, body, init);
  return out.outs;
}

/**
 * Solves on concrete values when it can (findMesh, then solveOnMesh when
 * something is traced), otherwise staged. Returns the outputs [n, d].
 */
export function solve(F: Rhs, cfg: SolverConfig, y0: Array, ts: Array): Array {
  let mesh: Mesh;
  try {
    mesh = findMesh(F, cfg, y0, ts);
  } catch (e) {
    if (e instanceof ConcretizationError) return solveStaged(F, cfg, y0, ts);
    throw e;
  }
  return mesh.outputs ?? solveOnMesh(F, cfg, y0, ts, mesh);
}
