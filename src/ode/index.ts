/**
 * `ode`: ordinary differential equations with derivatives, as
 * `jax.experimental.ode.odeint`.
 *
 *   odeint(f, y0, ts, ...args, opts?)  y(ts) for dy/dt = f(y, t, ...args)
 *
 * y0 is any pytree of float arrays (solved as one flat float64 vector);
 * outputs have y0's structure with a leading axis of length ts.length.
 * Methods: methods.ts; the loop and its three forms: solver.ts; the
 * continuous adjoint ("backsolve"): adjoint.ts.
 *
 * @module
 */
import { type Array } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import * as np from "../numpy/index.js";
import { type PyTree } from "../tree/index.js";
import { backsolve } from "./adjoint.js";
import { packing } from "./pack.js";
import { type Method, methods } from "./methods.js";
import { type SolverConfig, solve } from "./solver.js";

/** Options of `odeint` (pass them as the last argument). */
export interface OdeintOptions {
  /** Relative tolerance (default 1.4e-8, as JAX). */
  rtol?: number;
  /** Absolute tolerance (default 1.4e-8). */
  atol?: number;
  /** "dopri5" (default), "tsit5", "rk4" (fixed step `dt`), "trbdf2" (implicit, for stiff problems). */
  method?: "dopri5" | "tsit5" | "rk4" | "trbdf2";
  /**
   * Reverse mode: "checkpoint" (default) differentiates the solver's own
   * steps, replayed with binomial checkpointing; "backsolve" integrates the
   * adjoint ODE backwards (a customVjp; reverse mode only).
   */
  adjoint?: "checkpoint" | "backsolve";
  /** Most step attempts (accepted and rejected) in one solve (default 100,000). */
  maxSteps?: number;
  /** The step of method "rk4" (required there). */
  dt?: number;
  /** Checkpoints kept by the "checkpoint" adjoint (default about √steps). */
  snapshots?: number;
}

const OPTION_KEYS = new Set(["rtol", "atol", "method", "adjoint", "maxSteps", "dt", "snapshots"]);

/** A trailing plain object whose keys are all option names is the options. */
function isOptions(x: unknown): x is OdeintOptions {
  if (x === null || typeof x !== "object" || globalThis.Array.isArray(x)) return false;
  if (Object.getPrototypeOf(x) !== Object.prototype) return false;
  return Object.keys(x).every((k) => OPTION_KEYS.has(k));
}

function positive(fnName: string, name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
    throw new InvalidArgumentError(
      `${fnName}: ${name} must be a positive finite number, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function resolveOptions(fnName: string, opts: OdeintOptions): SolverConfig & { adjoint: string } {
  const methodName = opts.method ?? "dopri5";
  const method: Method | undefined = methods[methodName];
  if (method === undefined) {
    throw new InvalidArgumentError(
      `${fnName}: unknown method "${String(methodName)}"; use one of ` +
        `${Object.keys(methods).join(", ")}`,
    );
  }
  const adjoint = opts.adjoint ?? "checkpoint";
  if (adjoint !== "checkpoint" && adjoint !== "backsolve") {
    throw new InvalidArgumentError(
      `${fnName}: unknown adjoint "${String(adjoint)}"; use "checkpoint" or "backsolve"`,
    );
  }
  if (!method.adaptive && opts.dt === undefined) {
    throw new InvalidArgumentError(
      `${fnName}: method "${method.name}" takes fixed steps: pass opts.dt (e.g. { dt: 0.01 }), ` +
        `or use an adaptive method ("dopri5")`,
    );
  }
  const maxSteps = positive(fnName, "maxSteps", opts.maxSteps, 100_000);
  if (!Number.isInteger(maxSteps)) {
    throw new InvalidArgumentError(`${fnName}: maxSteps must be an integer, got ${maxSteps}`);
  }
  if (opts.snapshots !== undefined && !(Number.isInteger(opts.snapshots) && opts.snapshots >= 1)) {
    throw new InvalidArgumentError(
      `${fnName}: snapshots must be a positive integer, got ${String(opts.snapshots)}`,
    );
  }
  return {
    fnName,
    method,
    rtol: positive(fnName, "rtol", opts.rtol, 1.4e-8),
    atol: positive(fnName, "atol", opts.atol, 1.4e-8),
    maxSteps,
    dt: method.adaptive ? undefined : positive(fnName, "dt", opts.dt, 0),
    snapshots: opts.snapshots,
    adjoint,
  };
}

/**
 * Solves dy/dt = f(y, t, ...args) from y(ts[0]) = y0 and returns y at every
 * time in `ts` (strictly increasing), as `jax.experimental.ode.odeint`: the
 * result has y0's pytree structure with a new leading axis of length
 * `ts.length`. Adaptive Dormand–Prince 5(4) by default (`method`: "tsit5",
 * fixed-step "rk4" with `dt`, implicit "trbdf2" for stiff problems); error
 * control by `rtol` and `atol` (default 1.4e-8).
 *
 * Differentiable with respect to y0, ts and args (and values f closes over,
 * except with "backsolve"), in forward mode (jvp, jacfwd) and reverse mode.
 * Reverse mode by `adjoint`:
 * - "checkpoint" (default): the derivative of the computed solution itself
 *   (the accepted steps replayed with binomial checkpointing, memory
 *   O(snapshots)); as accurate as the solution, for any problem. Forward
 *   mode always works this way.
 * - "backsolve": the continuous adjoint, y and the adjoint integrated
 *   backwards together (a customVjp, memory O(1) in the steps; reverse mode
 *   only; parameters must be passed as `args`). Accurate to the tolerances
 *   when the backward integration of y is stable; inaccurate for dissipative
 *   or chaotic systems, whose backward dynamics amplify errors.
 *
 * Inside jit (or vmap with per-element step sizes) the loop is one staged
 * `lax.whileLoop` taking the same steps; there, more than `maxSteps`
 * attempts leave the unreached outputs NaN instead of throwing.
 *
 * @example
 * ```ts
 * import { np, ode, grad } from "chainrule";
 * const decay = (y, t, k) => np.multiply(np.negative(k), y);
 * const ys = ode.odeint(decay, 1, np.array([0, 1]), 0.5); // [1, e^-0.5]
 * const dk = grad((k) => np.take(ode.odeint(decay, 1, np.array([0, 1]), k), 1))(0.5); // -e^-0.5
 * ```
 */
export function odeint(
  f: (y: never, t: Array, ...args: never[]) => unknown,
  y0: unknown,
  ts: unknown,
  ...rest: unknown[]
): PyTree {
  const fnName = "ode.odeint";
  if (typeof f !== "function") {
    throw new InvalidArgumentError(`${fnName}: f must be a function f(y, t, ...args)`);
  }
  const last = rest.length > 0 ? rest[rest.length - 1] : undefined;
  const opts = isOptions(last) ? last : {};
  const args = isOptions(last) ? rest.slice(0, -1) : rest;
  const cfg = resolveOptions(fnName, opts);
  const pack = packing(fnName, y0, "y0");
  let tsArr = asArray(ts, `${fnName}: ts`);
  if (tsArr.ndim !== 1 || tsArr.shape[0] === 0) {
    throw new ShapeError(
      `${fnName}: ts must be a 1-d array of output times (at least the start time), got shape ` +
        `${fmtShape(tsArr.shape)}`,
    );
  }
  if (tsArr.dtype !== "float64") tsArr = np.astype(tsArr, "float64");
  const user = f as (y: unknown, t: Array, ...a: unknown[]) => unknown;
  const y0v = pack.ravel(y0, "y0");
  if (cfg.adjoint === "backsolve") {
    return pack.unravelRows(backsolve(user, pack, cfg, y0v, tsArr, args));
  }
  const F = (y: Array, t: Array): Array => pack.ravel(user(pack.unravel(y), t, ...args), "f(y, t)");
  return pack.unravelRows(solve(F, cfg, y0v, tsArr));
}
