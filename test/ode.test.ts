/**
 * ode.odeint: solutions against analytic ones and SciPy references
 * (test/fixtures/ode-reference.json from scripts/ode-reference.py),
 * tableaus against the Runge–Kutta order conditions, derivatives against
 * float64 finite differences and the modes and adjoints against each other.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  InvalidArgumentError,
  ShapeError,
  grad,
  jit,
  jvp,
  np,
  ode,
  vmap,
} from "../src/index.js";
import { tableaus, trbdf2Coefficients } from "../src/ode/methods.js";
import { expectAllClose, flat } from "./helpers.js";

type A = NdArray;

const reference = JSON.parse(
  readFileSync(new URL("./fixtures/ode-reference.json", import.meta.url), "utf8"),
) as {
  robertson: { ts: number[]; y0: number[]; ys: number[][] };
  lotkaVolterra: { ts: number[]; y0: number[]; args: number[]; ys: number[][] };
};

describe("Runge–Kutta tableaus satisfy the order conditions", () => {
  // Butcher's conditions up to order p for weights w, matrix A (full, lower), nodes c.
  function orderResiduals(w: number[], A: number[][], c: number[], p: number): number[] {
    const s = w.length;
    const dot = (u: number[], v: number[]) => u.reduce((acc, x, i) => acc + x * v[i]!, 0);
    const Av = (v: number[]) => A.map((row) => dot(row, v));
    const pow = (k: number) => c.map((x) => x ** k);
    const mul = (u: number[], v: number[]) => u.map((x, i) => x * v[i]!);
    const res: number[] = [];
    res.push(dot(w, Array(s).fill(1)) - 1);
    if (p >= 2) res.push(dot(w, c) - 1 / 2);
    if (p >= 3) res.push(dot(w, pow(2)) - 1 / 3, dot(w, Av(c)) - 1 / 6);
    if (p >= 4) {
      res.push(dot(w, pow(3)) - 1 / 4, dot(w, mul(c, Av(c))) - 1 / 8);
      res.push(dot(w, Av(pow(2))) - 1 / 12, dot(w, Av(Av(c))) - 1 / 24);
    }
    if (p >= 5) {
      res.push(dot(w, pow(4)) - 1 / 5, dot(w, mul(pow(2), Av(c))) - 1 / 10);
      res.push(dot(w, mul(c, Av(pow(2)))) - 1 / 15, dot(w, mul(c, Av(Av(c)))) - 1 / 30);
      res.push(dot(w, mul(Av(c), Av(c))) - 1 / 20, dot(w, Av(pow(3))) - 1 / 20);
      res.push(dot(w, Av(mul(c, Av(c)))) - 1 / 40, dot(w, Av(Av(pow(2)))) - 1 / 60);
      res.push(dot(w, Av(Av(Av(c)))) - 1 / 120);
    }
    return res;
  }
  for (const [name, tab] of Object.entries(tableaus)) {
    it(`${name}: order 5, embedded order 4, rows sum to c`, () => {
      const s = tab.c.length;
      const A = Array.from({ length: s }, (_, i) =>
        Array.from({ length: s }, (_, j) => (i > 0 && j < i ? tab.a[i - 1]![j]! : 0)),
      );
      A.forEach((row, i) => expect(row.reduce((x, y) => x + y, 0)).toBeCloseTo(tab.c[i]!, 12));
      const b = A[s - 1]!; // FSAL: the last row is b
      const bHat = b.map((x, i) => x - tab.e[i]!);
      for (const r of orderResiduals(b, A, tab.c.slice(), 5))
        expect(Math.abs(r)).toBeLessThan(1e-12);
      for (const r of orderResiduals(bHat, A, tab.c.slice(), 4))
        expect(Math.abs(r)).toBeLessThan(1e-12);
      // the estimate is not order 5 (else it would estimate nothing)
      const r5 = orderResiduals(bHat, A, tab.c.slice(), 5).slice(8);
      expect(Math.max(...r5.map(Math.abs))).toBeGreaterThan(1e-6);
    });
  }
  it("trbdf2: order 2, embedded order 3", () => {
    const { gamma, d, w, e } = trbdf2Coefficients;
    const A = [
      [0, 0, 0],
      [d, d, 0],
      [w, w, d],
    ];
    const c = [0, gamma, 1];
    const b = [w, w, d];
    const bHat = b.map((x, i) => x - e[i]!);
    for (const r of orderResiduals(b, A, c, 2)) expect(Math.abs(r)).toBeLessThan(1e-14);
    for (const r of orderResiduals(bHat, A, c, 3)) expect(Math.abs(r)).toBeLessThan(1e-14);
  });
});

const decay = (y: A, _t: A, k: A) => np.multiply(np.negative(k), y);

describe("odeint solutions", () => {
  const ts = [0, 0.3, 1, 2.5];
  for (const method of ["dopri5", "tsit5", "trbdf2", "rk4"] as const) {
    it(`${method}: exponential decay against exp(-kt)`, () => {
      const ys = ode.odeint(decay, 2, np.array(ts), 0.7, {
        method,
        rtol: 1e-8,
        atol: 1e-10,
        dt: 0.01,
      }) as A;
      expect(ys.shape).toEqual([4]);
      const tol = method === "trbdf2" ? 1e-5 : 1e-8; // 2nd order: global error ≫ rtol
      expectAllClose(
        ys,
        ts.map((t) => 2 * Math.exp(-0.7 * t)),
        tol,
        1e-12,
      );
    });
  }

  it("harmonic oscillator with a pytree state: dense output at 201 times", () => {
    const f = (y: { x: A; v: A }) => ({ x: y.v, v: np.negative(y.x) });
    const ts = np.linspace(0, 20, 201);
    for (const method of ["dopri5", "tsit5"] as const) {
      const out = ode.odeint(f, { x: np.array(1), v: np.array(0) }, ts, {
        method,
        rtol: 1e-9,
        atol: 1e-12,
      }) as { x: A; v: A };
      const t = flat(ts);
      expectAllClose(out.x, t.map(Math.cos), 0, 5e-8);
      expectAllClose(
        out.v,
        t.map((s) => -Math.sin(s)),
        0,
        5e-8,
      );
    }
  });

  it("Lotka–Volterra against SciPy's Radau/LSODA at rtol 1e-12", () => {
    const { ts, y0, args, ys } = reference.lotkaVolterra;
    const lv = (y: A, _t: A, a: A, b: A, c: A, d: A) => {
      const [u, v] = [np.take(y, 0), np.take(y, 1)];
      const uv = np.multiply(u, v);
      return np.stack([
        np.subtract(np.multiply(a, u), np.multiply(b, uv)),
        np.subtract(np.multiply(d, uv), np.multiply(c, v)),
      ]);
    };
    for (const method of ["dopri5", "tsit5"] as const) {
      const out = ode.odeint(lv, np.array(y0), np.array(ts), ...args, {
        method,
        rtol: 1e-10,
        atol: 1e-12,
      }) as A;
      expectAllClose(out, ys.flat(), 1e-7, 1e-9);
    }
  });

  it("Robertson's stiff problem: trbdf2 within 1000 steps matches SciPy; dopri5 cannot", () => {
    const { ts, y0, ys } = reference.robertson;
    const rob = (y: A) => {
      const [a, b, c] = [np.take(y, 0), np.take(y, 1), np.take(y, 2)];
      const r1 = np.multiply(0.04, a);
      const r2 = np.multiply(1e4, np.multiply(b, c));
      const r3 = np.multiply(3e7, np.square(b));
      return np.stack([np.add(np.negative(r1), r2), np.subtract(np.subtract(r1, r2), r3), r3]);
    };
    const opts = { rtol: 1e-6, atol: 1e-10, maxSteps: 1000 };
    const out = ode.odeint(rob, np.array(y0), np.array(ts), { ...opts, method: "trbdf2" }) as A;
    const got = flat(out);
    ys.flat().forEach((v, i) =>
      expect(Math.abs(got[i]! - v)).toBeLessThanOrEqual(2e-4 * v + 1e-12),
    );
    // mass is conserved
    for (let r = 0; r < ts.length; r++) {
      expect(Math.abs(got[3 * r]! + got[3 * r + 1]! + got[3 * r + 2]! - 1)).toBeLessThan(1e-8);
    }
    expect(() =>
      ode.odeint(rob, np.array(y0), np.array(ts), { ...opts, method: "dopri5" }),
    ).toThrow(/maxSteps = 1000/);
  });

  it("jit and vmap (the staged loop) take the same steps as the eager solve", () => {
    const ts = np.array([0, 0.5, 1.5, 3]);
    const f = (y: A, t: A) => np.multiply(np.sin(np.multiply(t, y)), np.cos(y));
    const solveOne = (y0: A) => ode.odeint(f, y0, ts, { rtol: 1e-7 }) as A;
    const eager = [0.3, 1.1, -0.8].map((v) => flat(solveOne(np.array(v))));
    const jitted = flat(jit(solveOne)(np.array(1.1)));
    expectAllClose(jitted, eager[1]!, 1e-12, 1e-14);
    const batched = vmap(solveOne)(np.array([0.3, 1.1, -0.8]));
    expectAllClose(batched, eager.flat(), 1e-12, 1e-14);
  });
});

describe("odeint derivatives", () => {
  // Lotka–Volterra with parameters as args; loss = Σ weights · y(ts)
  const lv = (y: A, _t: A, p: A) => {
    const [u, v] = [np.take(y, 0), np.take(y, 1)];
    const uv = np.multiply(u, v);
    return np.stack([
      np.subtract(np.multiply(np.take(p, 0), u), np.multiply(np.take(p, 1), uv)),
      np.subtract(np.multiply(np.take(p, 3), uv), np.multiply(np.take(p, 2), v)),
    ]);
  };
  const weights = np.array([
    [0.2, -0.4],
    [0.9, 0.3],
    [-0.5, 1.1],
    [0.7, 0.6],
  ]);
  const y0 = [1.2, 0.8];
  const ts = [0, 0.7, 1.6, 2.5];
  const p = [1.5, 1.0, 3.0, 1.0];
  const lossWith =
    (opts: Record<string, unknown>) =>
    (y0a: A, tsa: A, pa: A): A =>
      np.sum(np.multiply(weights, ode.odeint(lv, y0a, tsa, pa, opts) as A));
  const tight = { rtol: 1e-11, atol: 1e-13 };

  // central differences of the float64 solve (no AD)
  function fd(argIndex: number, eps = 1e-6): number[] {
    const args = [y0, ts, p];
    const f = lossWith(tight);
    return args[argIndex]!.map((_, k) => {
      const up = args.map((a) => a.slice());
      const dn = args.map((a) => a.slice());
      up[argIndex]![k]! += eps;
      dn[argIndex]![k]! -= eps;
      const e = (xs: number[][]) => f(np.array(xs[0]!), np.array(xs[1]!), np.array(xs[2]!)).item();
      return (e(up) - e(dn)) / (2 * eps);
    });
  }
  let fdCache: number[][] | null = null;
  const fds = (): number[][] => (fdCache ??= [0, 1, 2].map((i) => fd(i)));

  it("checkpoint adjoint (reverse mode through the solver) matches finite differences", () => {
    const g = grad(lossWith(tight), { argnums: [0, 1, 2] })(
      np.array(y0),
      np.array(ts),
      np.array(p),
    ) as A[];
    g.forEach((gi, i) => expectAllClose(gi, fds()[i]!, 1e-6, 1e-7));
  });

  it("backsolve adjoint matches finite differences; forward mode matches reverse", () => {
    const args = [np.array(y0), np.array(ts), np.array(p)] as const;
    const gb = grad(lossWith({ ...tight, adjoint: "backsolve" }), { argnums: [0, 1, 2] })(
      ...args,
    ) as A[];
    gb.forEach((gi, i) => expectAllClose(gi, fds()[i]!, 1e-6, 1e-7));
    // jvp along a random direction against the FD gradient's projection
    const dir = [
      [0.3, -0.2],
      [0, 0.1, -0.3, 0.2],
      [0.5, 0.1, -0.2, 0.4],
    ];
    const [, tangent] = jvp(
      lossWith(tight),
      [...args],
      dir.map((d) => np.array(d)),
    );
    const expected = dir.reduce(
      (s, d, i) => s + d.reduce((u, v, k) => u + v * fds()[i]![k]!, 0),
      0,
    );
    expectAllClose(tangent, [expected], 1e-6, 1e-8);
  });

  it("jit(grad) through the staged loop and checkpoint snapshots give the same gradient", () => {
    const args = [np.array(y0), np.array(ts), np.array(p)] as const;
    const opts = { rtol: 1e-8, atol: 1e-10 };
    const eager = grad(lossWith(opts), { argnums: [0, 1, 2] })(...args) as A[];
    const staged = jit(grad(lossWith(opts), { argnums: [0, 1, 2] }))(...args) as A[];
    const twoSnapshots = grad(lossWith({ ...opts, snapshots: 2 }), { argnums: [0, 1, 2] })(
      ...args,
    ) as A[];
    eager.forEach((gi, i) => {
      expectAllClose(staged[i]!, gi, 1e-10, 1e-12);
      expectAllClose(twoSnapshots[i]!, gi, 1e-12, 1e-14);
    });
  });

  it("derivative of a closed-over parameter and of the decay rate (analytic)", () => {
    // y = y0 e^{-k t}: d/dk Σ y(t_i) = -Σ t_i y0 e^{-k t_i}
    const tsd = [0, 0.5, 1, 2];
    const g = grad((k: A) =>
      np.sum(ode.odeint((y: A) => np.multiply(np.negative(k), y), 1.5, np.array(tsd)) as A),
    )(0.4);
    expectAllClose(g, [tsd.reduce((s, t) => s - t * 1.5 * Math.exp(-0.4 * t), 0)], 1e-7);
  });
});

describe("odeint errors", () => {
  const ts = np.array([0, 1]);
  it("refuses bad times, options and state", () => {
    expect(() => ode.odeint(decay, 1, np.array([0, 2, 1]), 0.5)).toThrow(InvalidArgumentError);
    expect(() => ode.odeint(decay, 1, np.array([0, 2, 1]), 0.5)).toThrow(/strictly increasing/);
    expect(() => ode.odeint(decay, 1, np.array([[0, 1]]), 0.5)).toThrow(ShapeError);
    expect(() => ode.odeint(decay, 1, ts, 0.5, { method: "rk4" })).toThrow(/opts.dt/);
    expect(() => ode.odeint(decay, 1, ts, 0.5, { method: "euler" as never })).toThrow(
      /unknown method "euler"/,
    );
    expect(() => ode.odeint(decay, 1, ts, 0.5, { rtol: -1 })).toThrow(/rtol must be a positive/);
    expect(() => ode.odeint(decay, 1, ts, 0.5, { adjoint: "forward" as never })).toThrow(
      /unknown adjoint "forward"/,
    );
    expect(() => ode.odeint(decay, 1, ts, 0.5, { snapshots: 0 })).toThrow(
      /snapshots must be a positive integer/,
    );
    expect(() => ode.odeint(decay, np.array(1, { dtype: "int32" }), ts, 0.5)).toThrow(
      /dtype int32/,
    );
    expect(() => ode.odeint(() => np.array([1, 2]), np.array(1), ts)).toThrow(ShapeError);
    expect(() => ode.odeint(decay, 1, np.array([0, 1e6]), 1, { maxSteps: 10 })).toThrow(
      /maxSteps = 10/,
    );
    expect(() => ode.odeint(decay, 1, ts, 0.5, { maxSteps: 2.5 })).toThrow(/integer/);
    expect(() => ode.odeint(42 as never, 1, ts)).toThrow(/f must be a function/);
    expect(() => ode.odeint(decay, {}, ts, 0.5, { rtol: 1e-6 })).toThrow(/no array leaves/);
    expect(() =>
      ode.odeint((y: { a: A }) => [y.a], { a: np.array(1) }, ts, { rtol: 1e-6 }),
    ).toThrow(/structure/);
    // f is NaN everywhere: every step is rejected until the step size vanishes
    expect(() => ode.odeint((y: A) => np.multiply(NaN, y), 1, ts)).toThrow(/step size became/);
  });
});
