/**
 * `optim`: gradient-based optimisers on pytrees of parameters, and
 * `minimize` with convergence reporting.
 *
 *   sgd(lr), momentum(lr, beta), adam(lr, b1, b2, eps): { init, update }
 *   minimize(f, x0, { method, tol, maxIter, learningRate, onStep })
 *     methods "lbfgs" (default), "newton" (uses hessian), "gd", "adam";
 *     stops on a small gradient norm, at maxIter, or on a non-finite value
 *     (status "nan"), never looping forever.
 *
 * @module
 */
import { type Array, ConcreteArray } from "../core/array.js";
import { asArray, describe, expectFunction, expectOptions } from "../core/convert.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import * as np from "../numpy/index.js";
import { hessian } from "../transforms/jacobian.js";
import { valueAndGrad } from "../transforms/linearize.js";
import { flatten, map as treeMap, treeDefString, unflatten, type TreeDef } from "../tree/index.js";
import type { Arrays, LooseInput } from "../tree/types.js";

/**
 * A gradient-based optimiser: `init` makes its state for a pytree of
 * parameters, `update` takes one step and returns the new parameters (the
 * structure of `params`, with Arrays at the leaves) and the new state.
 * `S` is the state's type.
 */
export interface Optimizer<S> {
  /** Optimiser state for these parameters. */
  init(params: unknown): S;
  /** One step: new parameters and state from the gradients (shaped like params). */
  update<P>(grads: NoInfer<LooseInput<P>>, state: S, params: P): [Arrays<P>, S];
}

const leafMap = (f: (...xs: Array[]) => Array, ...trees: unknown[]): unknown =>
  treeMap(
    (...xs) => f(...xs.map((x, i) => asArray(x, `optim: leaf of tree ${i}`))),
    trees[0],
    ...trees.slice(1),
  );

/**
 * A hyperparameter of an optimiser must be a finite number in its range: a
 * string ("0.1") or NaN would otherwise only show later, as NaN parameters
 * or an error from inside the update.
 */
function checkHyper(
  opt: string,
  name: string,
  value: unknown,
  valid: (v: number) => boolean,
  expected: string,
): void {
  if (typeof value === "number" && Number.isFinite(value) && valid(value)) return;
  const shown = typeof value === "number" ? String(value) : describe(value);
  throw new InvalidArgumentError(`optim.${opt}: ${name} must be ${expected}, got ${shown}`);
}

/**
 * `update(grads, state, params)` needs the gradients shaped like the
 * parameters. Arguments in another order (optax's `update(grads, state)`
 * then `apply_updates`, or params first) or gradients of other parameters
 * are named here rather than failing inside an elementwise operation.
 */
function checkGradsLikeParams(opt: string, grads: unknown, params: unknown): void {
  const [gLeaves, gDef] = flatten(grads);
  const [pLeaves, pDef] = flatten(params);
  const order =
    `call update(grads, state, params): the gradients of the loss with respect to params ` +
    `(grad(loss)(params, ...)), the state from init(params) or the previous update, then params`;
  if (treeDefString(gDef) !== treeDefString(pDef)) {
    throw new InvalidArgumentError(
      `optim.${opt}.update: grads has structure ${treeDefString(gDef)} but params has ` +
        `${treeDefString(pDef)}; ${order}`,
    );
  }
  gLeaves.forEach((g, i) => {
    const ga = asArray(g, `optim.${opt}.update: grads leaf ${i}`);
    const pa = asArray(pLeaves[i], `optim.${opt}.update: params leaf ${i}`);
    if (ga.shape.length !== pa.shape.length || ga.shape.some((n, k) => n !== pa.shape[k])) {
      throw new ShapeError(
        `optim.${opt}.update: grads leaf ${i} has shape ${fmtShape(ga.shape)} but its ` +
          `parameter has shape ${fmtShape(pa.shape)}; ${order}`,
      );
    }
  });
}

const nonNegative = (v: number) => v >= 0;
const inUnitInterval = (v: number) => v >= 0 && v < 1;

/** Plain gradient descent: p <- p - lr g. */
export function sgd(learningRate: number): Optimizer<null> {
  checkHyper("sgd", "learningRate", learningRate, nonNegative, "a finite number >= 0");
  return {
    init: () => null,
    update: <P>(grads: unknown, state: null, params: P): [Arrays<P>, null] => {
      checkGradsLikeParams("sgd", grads, params);
      return [
        leafMap((p, g) => np.subtract(p, np.multiply(g, learningRate)), params, grads) as Arrays<P>,
        state,
      ];
    },
  };
}

/** Heavy-ball momentum: v <- beta v + g; p <- p - lr v. */
export function momentum(learningRate: number, beta = 0.9): Optimizer<unknown> {
  checkHyper("momentum", "learningRate", learningRate, nonNegative, "a finite number >= 0");
  checkHyper("momentum", "beta", beta, inUnitInterval, "a number in [0, 1)");
  return {
    init: (params) => leafMap((p) => np.zerosLike(p), params),
    update<P>(grads: unknown, velocity: unknown, params: P): [Arrays<P>, unknown] {
      checkGradsLikeParams("momentum", grads, params);
      checkGradsLikeParams("momentum", velocity, params);
      const v = leafMap((vi, g) => np.add(np.multiply(vi, beta), g), velocity, grads);
      const next = leafMap((p, vi) => np.subtract(p, np.multiply(vi, learningRate)), params, v);
      return [next as Arrays<P>, v];
    },
  };
}

/** The state of {@link adam}: the step count and the moment estimates (pytrees shaped like the parameters). */
export interface AdamState {
  /** Steps taken so far (for the bias correction 1 - b^t). */
  step: number;
  /** First-moment estimate (running mean of the gradients), shaped like the parameters. */
  m: unknown;
  /** Second-moment estimate (running mean of the squared gradients), shaped like the parameters. */
  v: unknown;
}

/** Adam (Kingma and Ba) with bias correction. */
export function adam(learningRate: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): Optimizer<AdamState> {
  checkHyper("adam", "learningRate", learningRate, nonNegative, "a finite number >= 0");
  checkHyper("adam", "b1", b1, inUnitInterval, "a number in [0, 1)");
  checkHyper("adam", "b2", b2, inUnitInterval, "a number in [0, 1)");
  checkHyper("adam", "eps", eps, nonNegative, "a finite number >= 0");
  return {
    init: (params) => ({
      step: 0,
      m: leafMap((p) => np.zerosLike(p), params),
      v: leafMap((p) => np.zerosLike(p), params),
    }),
    update<P>(grads: unknown, state: AdamState, params: P): [Arrays<P>, AdamState] {
      const given = state as Partial<AdamState> | null | undefined;
      if (typeof given !== "object" || given === null || typeof given.step !== "number") {
        throw new InvalidArgumentError(
          `optim.adam.update: the second argument must be the state from init(params) or the ` +
            `previous update (an object with step, m and v), got ${describe(state)}; call ` +
            `update(grads, state, params)`,
        );
      }
      checkGradsLikeParams("adam", grads, params);
      const step = state.step + 1;
      const m = leafMap(
        (mi, g) => np.add(np.multiply(mi, b1), np.multiply(g, 1 - b1)),
        state.m,
        grads,
      );
      const v = leafMap(
        (vi, g) => np.add(np.multiply(vi, b2), np.multiply(np.square(g), 1 - b2)),
        state.v,
        grads,
      );
      const c1 = 1 - b1 ** step;
      const c2 = 1 - b2 ** step;
      const next = leafMap(
        (p, mi, vi) =>
          np.subtract(
            p,
            np.divide(
              np.multiply(np.divide(mi, c1), learningRate),
              np.add(np.sqrt(np.divide(vi, c2)), eps),
            ),
          ),
        params,
        m,
        v,
      );
      return [next as Arrays<P>, { step, m, v }];
    },
  };
}

/** The algorithms of {@link minimize}: L-BFGS (default), Newton (with the exact Hessian), gradient descent, Adam. */
export type MinimizeMethod = "lbfgs" | "newton" | "gd" | "adam";

/** Options of {@link minimize}. */
export interface MinimizeOptions {
  /** The algorithm (default "lbfgs"). */
  method?: MinimizeMethod;
  /** Stop when the gradient's Euclidean norm is at most tol (default 1e-8). */
  tol?: number;
  /** Most iterations (default 1000); the result says "maxIter" when reached. */
  maxIter?: number;
  /** Step size for "gd" and "adam" (default 1e-2). */
  learningRate?: number;
  /** Called after every iteration; return false to stop. */
  onStep?: (info: { iteration: number; value: number; gradNorm: number }) => boolean | void;
}

/** What {@link minimize} returns; `X` is the type of the minimiser (x0's structure with Arrays). */
export interface MinimizeResult<X = unknown> {
  /** The minimiser, shaped like x0. */
  x: X;
  /** f at the minimiser. */
  value: number;
  /** The gradient's Euclidean norm there. */
  gradNorm: number;
  /** Iterations taken. */
  iterations: number;
  /** Why it stopped. */
  status: "converged" | "maxIter" | "nan" | "stopped" | "lineSearchFailed";
  /** The reason in words. */
  message: string;
}

/** Flattens a pytree of arrays into one float64 vector and back. */
function raveler(x0: unknown): { vector: Float64Array; unravel: (v: Float64Array) => unknown } {
  const [leaves, def]: [unknown[], TreeDef] = flatten(x0);
  const arrays = leaves.map((l, i) => asArray(l, `minimize: x0 leaf ${i}`));
  const sizes = arrays.map((a) => a.size);
  const vector = new Float64Array(sizes.reduce((a, b) => a + b, 0));
  let o = 0;
  for (const a of arrays) {
    vector.set(a.data(), o);
    o += a.size;
  }
  const unravel = (v: Float64Array): unknown => {
    let k = 0;
    return unflatten(
      def,
      arrays.map((a) => {
        const part = v.slice(k, k + a.size);
        k += a.size;
        return new ConcreteArray(a.shape, "float64", part);
      }),
    );
  };
  return { vector, unravel };
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const norm = (a: Float64Array) => Math.sqrt(dot(a, a));
const axpy = (x: Float64Array, alpha: number, d: Float64Array) =>
  x.map((v, i) => v + alpha * d[i]!);

/** A numeric option of minimize: its default when absent, else checked (finite, and `valid`). */
function checkedOption(
  name: string,
  value: unknown,
  fallback: number,
  valid: (v: number) => boolean,
  expected: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || !valid(value)) {
    const shown = typeof value === "number" ? String(value) : `a ${typeof value}`;
    throw new InvalidArgumentError(
      `minimize: option ${name} must be ${expected}, got ${shown}; leave it out for the ` +
        `default (${fallback})`,
    );
  }
  return value;
}

/**
 * Minimises a scalar function of a pytree of arrays. Reports why it stopped:
 * "converged" (gradient norm <= tol), "maxIter", "nan" (a non-finite value
 * or gradient), "stopped" (onStep returned false), or "lineSearchFailed".
 */
export function minimize<X>(
  f: (x: Arrays<NoInfer<X>>) => unknown,
  x0: X,
  opts?: MinimizeOptions,
): MinimizeResult<Arrays<X>>;
export function minimize(
  f: (x: never) => unknown,
  x0: unknown,
  opts: MinimizeOptions = {},
): MinimizeResult {
  expectFunction("minimize", "f", f);
  expectOptions(
    "minimize",
    opts,
    ["method", "tol", "maxIter", "learningRate", "onStep"],
    'optim.minimize(f, x0, { method: "lbfgs", maxIter: 100 })',
  );
  const method = opts.method ?? "lbfgs";
  if (!["lbfgs", "newton", "gd", "adam"].includes(method)) {
    throw new InvalidArgumentError(
      `minimize: unknown method "${method}"; use "lbfgs", "newton", "gd" or "adam"`,
    );
  }
  const tol = checkedOption("tol", opts.tol, 1e-8, (v) => v >= 0, "a number >= 0");
  const maxIter = checkedOption(
    "maxIter",
    opts.maxIter,
    1000,
    (v) => Number.isInteger(v) && v >= 0,
    "a non-negative integer",
  );
  const lr = checkedOption("learningRate", opts.learningRate, 1e-2, (v) => v > 0, "a number > 0");
  if (opts.onStep !== undefined && typeof opts.onStep !== "function") {
    throw new InvalidArgumentError(
      `minimize: onStep must be a function (info) => boolean | void, got ${typeof opts.onStep}`,
    );
  }
  const { vector, unravel } = raveler(x0);
  // The function of the flat vector as an Array, so that grad and hessian apply to it.
  const unravelArray = (u: Array): unknown => {
    const [leaves, def] = flatten(unravel(vector));
    let k = 0;
    return unflatten(
      def,
      (leaves as Array[]).map((l) => {
        const part = np.reshape(np.slice(u, [k, k + l.size]), l.shape);
        k += l.size;
        return part;
      }),
    );
  };
  const flatF = (u: Array) =>
    asArray((f as (x: unknown) => unknown)(unravelArray(u)), "minimize: f(x)");
  const valueGrad = (v: Float64Array): [number, Float64Array] => {
    const result = valueAndGrad(flatF)(np.array(v));
    return [result[0].item(), Float64Array.from(result[1].data())];
  };

  let x: Float64Array = vector;
  let [value, g] = valueGrad(x);
  const finish = (
    status: MinimizeResult["status"],
    iterations: number,
    message: string,
  ): MinimizeResult => ({
    x: unravel(x),
    value,
    gradNorm: norm(g),
    iterations,
    status,
    message,
  });
  const history: { s: Float64Array; y: Float64Array }[] = [];
  let adamM = new Float64Array(x.length);
  let adamV = new Float64Array(x.length);
  for (let it = 0; it < maxIter; it++) {
    if (!Number.isFinite(value) || !g.every(Number.isFinite)) {
      return finish(
        "nan",
        it,
        `minimize: stopped at iteration ${it}: the value or gradient is not finite`,
      );
    }
    if (norm(g) <= tol)
      return finish("converged", it, `minimize: gradient norm ${norm(g)} <= ${tol}`);
    let direction: Float64Array;
    if (method === "gd" || method === "adam") {
      if (method === "adam") {
        adamM = adamM.map((m, i) => 0.9 * m + 0.1 * g[i]!);
        adamV = adamV.map((v, i) => 0.999 * v + 0.001 * g[i]! * g[i]!);
        const c1 = 1 - 0.9 ** (it + 1);
        const c2 = 1 - 0.999 ** (it + 1);
        x = x.map((xi, i) => xi - (lr * adamM[i]!) / c1 / (Math.sqrt(adamV[i]! / c2) + 1e-8));
      } else {
        x = axpy(x, -lr, g);
      }
      [value, g] = valueGrad(x);
    } else {
      if (method === "newton") {
        const h = hessian(flatF)(np.array(x));
        let d: Float64Array | null = null;
        try {
          d = Float64Array.from(np.linalg.solve(h, np.array(g)).data()).map((v) => -v);
        } catch {
          d = null;
        }
        direction = d !== null && dot(d, g) < 0 ? d : g.map((v) => -v);
      } else {
        // L-BFGS two-loop recursion
        const q = Float64Array.from(g);
        const alphas: number[] = [];
        for (let k = history.length - 1; k >= 0; k--) {
          const { s, y } = history[k]!;
          const a = dot(s, q) / dot(y, s);
          alphas.push(a);
          for (let i = 0; i < q.length; i++) q[i]! -= a * y[i]!;
        }
        const last = history[history.length - 1];
        const gamma = last === undefined ? 1 : dot(last.s, last.y) / dot(last.y, last.y);
        for (let i = 0; i < q.length; i++) q[i]! *= gamma;
        for (let k = 0; k < history.length; k++) {
          const { s, y } = history[k]!;
          const b = dot(y, q) / dot(y, s);
          const a = alphas[history.length - 1 - k]!;
          for (let i = 0; i < q.length; i++) q[i]! += (a - b) * s[i]!;
        }
        direction = q.map((v) => -v);
        if (dot(direction, g) >= 0) direction = g.map((v) => -v);
      }
      // Backtracking line search (Armijo condition).
      let step = 1;
      let accepted = false;
      const slope = dot(direction, g);
      let xNew = x;
      let vNew = value;
      let gNew = g;
      for (let ls = 0; ls < 50; ls++) {
        xNew = axpy(x, step, direction);
        [vNew, gNew] = valueGrad(xNew);
        if (Number.isFinite(vNew) && vNew <= value + 1e-4 * step * slope) {
          accepted = true;
          break;
        }
        step *= 0.5;
      }
      if (!accepted) {
        return finish(
          "lineSearchFailed",
          it,
          `minimize: no step along the search direction decreases f at iteration ${it}`,
        );
      }
      // A direction that is too short (a poor curvature estimate) is stretched while f keeps
      // decreasing sufficiently, so that the next curvature pair is informative.
      for (let grow = 0; step === 1 && grow < 30; grow++) {
        const xTry = axpy(x, 2 ** (grow + 1), direction);
        const [vTry, gTry] = valueGrad(xTry);
        if (!(
          Number.isFinite(vTry) &&
          vTry < vNew &&
          vTry <= value + 1e-4 * 2 ** (grow + 1) * slope
        ))
          break;
        [xNew, vNew, gNew] = [xTry, vTry, gTry];
      }
      const s = xNew.map((v, i) => v - x[i]!);
      const y = gNew.map((v, i) => v - g[i]!);
      if (dot(s, y) > 1e-10 * norm(s) * norm(y)) {
        history.push({ s, y });
        if (history.length > 10) history.shift();
      }
      x = xNew;
      value = vNew;
      g = gNew;
    }
    if (opts.onStep?.({ iteration: it + 1, value, gradNorm: norm(g) }) === false) {
      return finish("stopped", it + 1, "minimize: stopped by onStep");
    }
  }
  if (!Number.isFinite(value) || !g.every(Number.isFinite)) {
    return finish(
      "nan",
      maxIter,
      `minimize: the value or gradient is not finite after ${maxIter} iterations`,
    );
  }
  if (norm(g) <= tol)
    return finish("converged", maxIter, `minimize: gradient norm ${norm(g)} <= ${tol}`);
  return finish(
    "maxIter",
    maxIter,
    `minimize: reached maxIter = ${maxIter} with gradient norm ${norm(g)}`,
  );
}
