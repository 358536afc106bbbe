/**
 * checkGrads(f, args, { order, modes }): compares f's derivatives by forward
 * mode, reverse mode and central finite differences along random directions
 * (as JAX's check_grads and PyTorch's gradcheck), up to `order`. Throws a
 * ChainruleError describing the first mismatch; returns the errors seen.
 *
 * The step is chosen from the dtype and the scale of the inputs:
 * eps = cbrt(machine epsilon) * max(1, |x|), which balances truncation and
 * rounding error for central differences.
 */
import { type Array, ConcreteArray } from "../core/array.js";
import { asArray, describe, expectFunction } from "../core/convert.js";
import { ChainruleError, InvalidArgumentError } from "../core/errors.js";
import { uniformGenerator } from "../core/random.js";
import * as np from "../numpy/index.js";
import { flatten, unflatten } from "../tree/index.js";
import { jvp } from "./jvp.js";
import { vjp } from "./linearize.js";

/** Options of {@link checkGrads}. */
export interface CheckGradsOptions {
  /** Highest derivative order to check (default 2). */
  order?: number;
  /** Which modes to check against finite differences (default both). */
  modes?: readonly ("fwd" | "rev")[];
  /** Tolerances of the comparison (default by dtype: 1e-5 for float64, 2e-2 for float32). */
  rtol?: number;
  /** Absolute tolerance of the comparison (default as rtol). */
  atol?: number;
  /** Seed of the random directions. */
  seed?: number;
}

/** What {@link checkGrads} returns when every check passes. */
export interface CheckGradsReport {
  /** Largest relative error seen per mode and order, e.g. { "fwd/1": 3e-10 }. */
  errors: Record<string, number>;
}

type Fn = (...leaves: Array[]) => Array;

function sumAll(xs: readonly Array[]): number {
  return xs.reduce((acc, x) => acc + np.sum(x).item(), 0);
}
function inner(a: readonly Array[], b: readonly Array[]): number {
  return sumAll(a.map((x, i) => np.multiply(x, b[i]!)));
}

/**
 * Checks f's derivatives: compares forward mode, reverse mode and central
 * finite differences (step chosen from the dtype and the inputs' scale)
 * along random directions, up to `order`, and throws a ChainruleError naming
 * the mode, order and error on a mismatch (like JAX's `check_grads`).
 * Returns the largest relative error seen per mode and order.
 *
 * @example
 * ```ts
 * import { checkGrads, np } from "chainrule";
 * const report = checkGrads((x) => np.sum(np.exp(np.sin(x))), [np.array([0.1, 0.7])]);
 * // report.errors["rev/1"] is about 1e-10
 * ```
 */
export function checkGrads(
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  opts: CheckGradsOptions = {},
): CheckGradsReport {
  expectFunction("checkGrads", "f", f);
  // args is the list of f's arguments; an Array here would be spread into its rows.
  if (!globalThis.Array.isArray(args)) {
    throw new InvalidArgumentError(
      `checkGrads: args must be the list of f's arguments, got ${describe(args)}; ` +
        `e.g. checkGrads(f, [x]) for f(x)`,
    );
  }
  const order = opts.order ?? 2;
  const modes = opts.modes ?? ["fwd", "rev"];
  const [leaves, def] = flatten(args);
  const xs = leaves.map((l, i) => asArray(l, `checkGrads: argument leaf ${i}`));
  const f32 = xs.some((x) => x.dtype === "float32");
  const rtol = opts.rtol ?? (f32 ? 2e-2 : 1e-5);
  const atol = opts.atol ?? (f32 ? 2e-2 : 1e-6);
  const epsFactor = Math.cbrt(f32 ? 1.2e-7 : 2.2e-16);
  const uniform = uniformGenerator(opts.seed ?? 0);
  const random = () => uniform() - 0.5;
  const direction = (like: readonly Array[]) =>
    like.map((x) => {
      const d = ConcreteArray.zeros(x.shape, x.dtype);
      for (let i = 0; i < d.size; i++) d.buffer[i] = random();
      return d;
    });
  const flatF: Fn = (...ls) =>
    asArray(
      (f as (...a: unknown[]) => unknown)(...(unflatten(def, ls) as unknown[])),
      "checkGrads: output of f",
    );
  const errors: Record<string, number> = {};
  const record = (key: string, got: number, want: number) => {
    const err = Math.abs(got - want) / Math.max(Math.abs(want), atol / rtol);
    errors[key] = Math.max(errors[key] ?? 0, err);
    if (!(Math.abs(got - want) <= atol + rtol * Math.abs(want))) {
      throw new ChainruleError(
        `checkGrads: ${key} mismatch: automatic differentiation gives ${got}, finite differences ` +
          `give ${want} (rtol ${rtol}, atol ${atol}); the derivative rule of some operation in f ` +
          `is wrong, or f is not differentiable at these arguments`,
      );
    }
  };

  /** Checks g's first derivatives at points ps; recurses into directional derivatives. */
  const check = (g: Fn, ps: Array[], k: number): void => {
    const v = direction(ps);
    const scale = Math.max(1, ...ps.map((p) => np.max(np.abs(p)).item()));
    const eps = epsFactor * scale;
    const plus = g(...ps.map((p, i) => np.add(p, np.multiply(v[i]!, eps)).astype(p.dtype)));
    const minus = g(...ps.map((p, i) => np.subtract(p, np.multiply(v[i]!, eps)).astype(p.dtype)));
    const fd = np.divide(np.subtract(plus, minus), 2 * eps);
    const u = direction([fd])[0]!;
    const want = inner([u], [fd]);
    if (modes.includes("fwd")) {
      const t = jvp(g, ps, v)[1];
      record(`fwd/${k}`, inner([u], [t]), want);
    }
    if (modes.includes("rev")) {
      const cts = vjp(g, ...ps)[1](u);
      record(`rev/${k}`, inner(cts, v), want);
    }
    if (k < order) {
      // The next order: derivatives of the directional derivative <u, J(p) v>.
      const dir: Fn = (...qs) => np.sum(np.multiply(u, jvp(g, qs, v)[1]));
      check(dir, ps, k + 1);
    }
  };
  check(flatF, xs, 1);
  return { errors };
}
