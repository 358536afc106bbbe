/**
 * The continuous adjoint ("backsolve") of `ode.odeint`, as a customVjp.
 *
 * For outputs y_i = y(t_i) and a scalar loss with cotangents g_i, the
 * adjoint a(t) = ∂L/∂y(t) obeys da/dt = −aᵀ ∂f/∂y between output times and
 * jumps by g_i at t_i; the parameters' cotangent is ∫ aᵀ ∂f/∂θ dt. Going
 * backwards from t_{n−1}, each interval [t_{i−1}, t_i] integrates the
 * augmented state (y, a, a_θ) in reversed time τ = −t:
 *
 *   dy/dτ = −f(y, t),   da/dτ = aᵀ ∂f/∂y,   da_θ/dτ = aᵀ ∂f/∂θ
 *
 * (one vjp of f per evaluation), starting from the forward solution y_i.
 * Output times: ∂L/∂t_i = g_iᵀ f(y_i, t_i) for i ≥ 1 and, since moving the
 * start time shifts the whole solution, ∂L/∂t_0 = −a(t_0)ᵀ f(y_0, t_0) with
 * a(t_0) before adding g_0. ∂L/∂y_0 = a(t_0) + g_0.
 */
import { type Array } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import * as np from "../numpy/index.js";
import { customVjp } from "../transforms/customVjp.js";
import { vjp } from "../transforms/linearize.js";
import { flatten, unflatten } from "../tree/index.js";
import { type Packing } from "./pack.js";
import { type SolverConfig, solve } from "./solver.js";

type UserRhs = (y: unknown, t: Array, ...args: unknown[]) => unknown;

export function backsolve(
  f: UserRhs,
  pack: Packing,
  cfg: SolverConfig,
  y0: Array,
  ts: Array,
  args: unknown[],
): Array {
  const [argLeavesRaw, argDef] = flatten(args);
  const argLeaves = argLeavesRaw.map((l, i) => asArray(l, `${cfg.fnName}: args leaf ${i}`));
  const diff = argLeaves.map((a) => isFloat(a.dtype));
  const d = y0.shape[0]!;
  const rhs =
    (leaves: readonly Array[]) =>
    (y: Array, t: Array): Array =>
      pack.ravel(f(pack.unravel(y), t, ...(unflatten(argDef, leaves) as unknown[])), "f(y, t)");
  const primal = (y: Array, t: Array, ...leaves: Array[]): Array => solve(rhs(leaves), cfg, y, t);
  const fwd = (y: Array, t: Array, ...leaves: Array[]): [Array, unknown] => {
    const outs = primal(y, t, ...leaves);
    return [outs, { outs, ts: t, leaves }];
  };
  const bwd = (res: unknown, g: Array): unknown => {
    const { outs, ts: times, leaves } = res as { outs: Array; ts: Array; leaves: Array[] };
    const n = times.shape[0]!;
    const F = rhs(leaves);
    const row = (x: Array, i: number) => np.take(x, i, 0);
    const sizes = leaves.map((l, k) => (diff[k] ? l.size : 0));
    const p = sizes.reduce((s, v) => s + v, 0);
    // The augmented dynamics in reversed time, on z = (y, a, a_θ) flat.
    const aug = (z: Array, tau: Array): Array => {
      const y = np.slice(z, [0, d]);
      const a = np.slice(z, [d, 2 * d]);
      const t = np.negative(tau);
      const diffLeaves = leaves.filter((_, k) => diff[k]);
      const [fy, pull] = vjp(
        (yy: Array, ...ls: Array[]) => {
          let j = 0;
          const full = leaves.map((l, k) => (diff[k] ? ls[j++]! : l));
          return rhs(full)(yy, t);
        },
        y,
        ...diffLeaves,
      ) as [Array, (ct: Array) => (Array | null)[]];
      const cts = pull(a);
      const ay = cts[0] ?? np.zerosLike(y);
      const parts = [np.negative(fy), ay];
      diffLeaves.forEach((l, k) => {
        const c = cts[k + 1];
        parts.push(np.reshape(c ?? np.zerosLike(l), [l.size]));
      });
      return np.concatenate(parts, 0);
    };
    let a = n > 1 ? row(g, n - 1) : np.zeros([d]);
    let aTheta = np.zeros([p]);
    const tsBar: Array[] = new globalThis.Array<Array>(n);
    for (let i = n - 1; i >= 1; i--) {
      const yi = row(outs, i);
      const ti = row(times, i);
      tsBar[i] = np.sum(np.multiply(row(g, i), F(yi, ti)));
      const z0 = np.concatenate([yi, a, aTheta], 0);
      const span = np.stack([np.negative(ti), np.negative(row(times, i - 1))]);
      const z1 = row(solve(aug, cfg, z0, span), 1);
      a = np.slice(z1, [d, 2 * d]);
      aTheta = np.slice(z1, [2 * d, 2 * d + p]);
      if (i > 1) a = np.add(a, row(g, i - 1));
    }
    tsBar[0] = np.negative(np.sum(np.multiply(a, F(row(outs, 0), row(times, 0)))));
    const yBar = np.add(a, row(g, 0));
    let offset = 0;
    const leafBars = leaves.map((l, k) => {
      if (!diff[k]) return null;
      const piece = np.reshape(np.slice(aTheta, [offset, offset + l.size]), l.shape);
      offset += l.size;
      return l.dtype === "float64" ? piece : np.astype(piece, l.dtype);
    });
    return [yBar, np.stack(tsBar), ...leafBars];
  };
  const solveFn = customVjp(primal, fwd as never, bwd);
  return solveFn(y0, ts, ...argLeaves);
}
