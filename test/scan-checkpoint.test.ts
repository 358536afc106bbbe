/**
 * lax.scan's binomial checkpointing and gradient horizon.
 *
 * The revolve schedule is checked against the checkpointing recursion solved
 * by dynamic programming and against Griewank's closed form; the gradients of
 * checkpointed scans against the unrolled JS-loop version, float64 finite
 * differences, forward mode, and (for the horizon) a plain loop that inserts
 * stopGradient by hand.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ConcretizationError,
  InvalidArgumentError,
  ShapeError,
  grad,
  jacfwd,
  jacrev,
  jit,
  jvp,
  lax,
  linearize,
  np,
  stopGradient,
  vjp,
  vmap,
} from "../src/index.js";
import { lastSweep } from "../src/lax/scanProgram.js";
import {
  beta,
  firstSweepPositions,
  optimalAdvances,
  optimalSplit,
  revolve,
} from "../src/lax/revolve.js";
import { expectAllClose, fdScalar } from "./helpers.js";

/** F(n, s) by dynamic programming over every split (the recursion the schedule implements). */
function advancesByDP(maxN: number, maxS: number): number[][] {
  const F: number[][] = [];
  for (let s = 1; s <= maxS; s++) {
    F[s] = [0, 0];
    for (let n = 2; n <= maxN; n++) {
      if (s === 1) {
        F[s]![n] = (n * (n - 1)) / 2;
        continue;
      }
      let best = Infinity;
      for (let m = 1; m < n; m++) best = Math.min(best, m + F[s - 1]![n - m]! + F[s]![m]!);
      F[s]![n] = best;
    }
  }
  return F;
}

describe("the revolve schedule", () => {
  it("reverses every step with its own state, with and without states stored by a forward sweep", () => {
    for (const T of [1, 2, 3, 7, 30]) {
      for (const snapshots of [1, 2, 3, 5, 40]) {
        for (const withStored of [false, true]) {
          // the state before step t is t (a counter), so a wrong state shows at once
          const stored = withStored
            ? new Map(firstSweepPositions(T, snapshots).map((t) => [t, t]))
            : undefined;
          const seen: [number, number][] = [];
          const stats = revolve(
            T,
            snapshots,
            0,
            (c, t) => {
              expect(c).toBe(t);
              return c + 1;
            },
            (c, t) => seen.push([t, c]),
            stored,
          );
          expect(seen).toEqual(Array.from({ length: T }, (_, k) => [T - 1 - k, T - 1 - k]));
          expect(stats.peakSnapshots).toBeLessThanOrEqual(Math.max(1, snapshots));
        }
      }
    }
  });
  it("the closed form and the chosen splits are optimal (against dynamic programming)", () => {
    const F = advancesByDP(60, 6);
    for (let s = 1; s <= 6; s++) {
      for (let n = 1; n <= 60; n++) {
        expect(optimalAdvances(n, s)).toBe(F[s]![n]!);
        if (n >= 2 && s >= 2) {
          const m = optimalSplit(n, s);
          expect(m + F[s - 1]![n - m]! + F[s]![m]!).toBe(F[s]![n]!);
        }
      }
    }
    // beta(s, r) = C(s + r, s), against Pascal's triangle
    const C = (n: number, k: number): number =>
      k === 0 || k === n ? 1 : C(n - 1, k - 1) + C(n - 1, k);
    for (let s = 0; s <= 6; s++) for (let r = 0; r <= 6; r++) expect(beta(s, r)).toBe(C(s + r, s));
  });

  it("reverses every step in order with the right state, within the snapshot budget", () => {
    for (const [T, s] of [
      [1, 1],
      [5, 1],
      [13, 2],
      [40, 3],
      [100, 7],
      [9, 20],
    ] as const) {
      for (const prestore of [false, true]) {
        // States are integers: the state before step t must be t.
        const visited: number[] = [];
        let evaluations = 0;
        const stored = new Map<number, number>();
        if (prestore) for (const p of firstSweepPositions(T, s)) stored.set(p, p);
        const stats = revolve(
          T,
          s,
          0,
          (c, t) => {
            expect(c).toBe(t);
            evaluations++;
            return c + 1;
          },
          (c, t) => {
            expect(c).toBe(t);
            visited.push(t);
          },
          stored,
        );
        expect(visited).toEqual(Array.from({ length: T }, (_, i) => T - 1 - i));
        expect(stats.advances).toBe(evaluations);
        const saved = prestore ? (firstSweepPositions(T, s).at(-1) ?? 0) : 0;
        expect(stats.advances).toBe(optimalAdvances(T, Math.min(s, T)) - saved);
        expect(stats.peakSnapshots).toBeLessThanOrEqual(s);
        expect(stored.size).toBe(0);
      }
    }
  });

  it("any length: 10^6 steps with 2 snapshots are O(T sqrt T), with 100 snapshots a few T", () => {
    let calls = 0;
    const stats = revolve(
      1_000_000,
      100,
      0,
      (c) => c + 1,
      () => calls++,
    );
    expect(calls).toBe(1_000_000);
    expect(stats.advances).toBe(optimalAdvances(1_000_000, 100));
    expect(stats.advances / 1_000_000).toBeLessThan(4);
    expect(optimalAdvances(1_000_000, 2) / 1_000_000).toBeLessThan(Math.sqrt(2 * 1_000_000));
  });
});

// A small nonlinear map with a pytree carry, an integer step counter, a
// closed-over parameter matrix, a pytree of xs and a pytree of ys.
type Carry = { p: NdArray; v: NdArray; n: NdArray };
const W = np.array([
  [0.3, -0.2, 0.1],
  [0.05, 0.4, -0.3],
  [-0.1, 0.2, 0.25],
]);
const makeStep =
  (w: NdArray, damping: NdArray) =>
  (c: Carry, x: { force: NdArray; gain: NdArray }): [Carry, { e: NdArray; p0: NdArray }] => {
    const acc = np.add(np.tanh(np.matmul(w, c.p)), np.multiply(x.force, x.gain));
    const v = np.subtract(np.add(c.v, np.multiply(acc, 0.1)), np.multiply(damping, c.v));
    const p = np.add(c.p, np.multiply(v, 0.1));
    return [
      { p, v, n: np.add(c.n, 1) },
      { e: np.sum(np.square(v)), p0: np.take(p, 0, 0) },
    ];
  };
const loss =
  (opts: lax.ScanOptions) =>
  (w: NdArray, damping: NdArray, p0: NdArray, forces: NdArray, gains: NdArray): NdArray => {
    const init: Carry = { p: p0, v: np.zeros([3]), n: np.array(0, { dtype: "int32" }) };
    const [c, ys] = lax.scan(makeStep(w, damping), init, { force: forces, gain: gains }, opts) as [
      Carry,
      { e: NdArray; p0: NdArray },
    ];
    return np.add(
      np.add(np.sum(ys.e), np.sum(np.sin(ys.p0))),
      np.add(np.sum(np.square(c.p)), np.multiply(c.n.astype("float64"), 0.01)),
    );
  };
const argsFor = (T: number) => {
  const forces = np.array(Array.from({ length: T }, (_, t) => [Math.sin(t), Math.cos(2 * t), 0.3]));
  const gains = np.array(Array.from({ length: T }, (_, t) => 1 + 0.1 * Math.cos(t)));
  return [
    W,
    np.array(0.05),
    np.array([0.5, -0.2, 0.1]),
    forces,
    np.reshape(gains, [T, 1]),
  ] as const;
};
const ALL = [0, 1, 2, 3, 4];

describe("checkpointed scan gradients", () => {
  it("equal the unrolled loop's for several lengths, snapshot counts and both directions", () => {
    for (const T of [1, 2, 7, 23]) {
      const args = argsFor(T);
      for (const reverse of [false, true]) {
        const expected = grad(loss({ reverse }), { argnums: ALL })(...args);
        for (const snapshots of [1, 2, 3, T, T + 5]) {
          const sweeps = lastSweep.sweeps;
          const got = grad(loss({ reverse, checkpoint: { snapshots } }), { argnums: ALL })(...args);
          expect(lastSweep.sweeps).toBe(sweeps + 1); // the checkpointed path ran
          expect(lastSweep.peakSnapshots).toBeLessThanOrEqual(snapshots);
          got.forEach((g, i) => expectAllClose(g, expected[i]!, 1e-12));
        }
      }
    }
  });

  it("match float64 finite differences, for closed-over parameters too", () => {
    const args = argsFor(9);
    const f = loss({ checkpoint: { snapshots: 3 } });
    const g = grad(f, { argnums: ALL })(...args);
    const damping = args[1].item();
    const fd = fdScalar((d) => f(args[0], np.array(d), args[2], args[3], args[4]).item(), damping);
    expect(g[1]!.item()).toBeCloseTo(fd, 7);
    const w01 = (v: number) => {
      const w = np.array(W.toArray());
      const rows = w.toArray() as number[][];
      rows[0]![1] = v;
      return f(np.array(rows), args[1], args[2], args[3], args[4]).item();
    };
    expect((g[0]!.toArray() as number[][])[0]![1]).toBeCloseTo(fdScalar(w01, -0.2), 7);
  });

  it("reverse mode of a 100,000-step scan: the same gradient with and without checkpointing", () => {
    const T = 100_000;
    // A contracting nonlinear map (so the gradient is well conditioned over 10^5 steps).
    const run = (opts: lax.ScanOptions) => (a: NdArray) => {
      const step = (c: NdArray) => [
        np.add(c, np.multiply(0.001, np.subtract(np.sin(np.multiply(a, c)), c))),
        null,
      ];
      return lax.scan(step as never, np.array(0.5), null, { length: T, ...opts })[0];
    };
    const plain = grad(run({}))(1.2);
    const snapshots = 100;
    const checkpointed = grad(run({ checkpoint: { snapshots } }))(1.2);
    expectAllClose(checkpointed, plain, 1e-12);
    // Recomputation as the binomial formula says (less what the forward sweep stored).
    const saved = firstSweepPositions(T, snapshots).at(-1)!;
    expect(lastSweep.advances).toBe(optimalAdvances(T, snapshots) - saved);
    expect(lastSweep.peakSnapshots).toBeLessThanOrEqual(snapshots);
  });

  it("compose with jit, vmap, jacrev, jacfwd-of-grad, vjp and linearize", () => {
    const args = argsFor(6);
    const cp = loss({ checkpoint: { snapshots: 2 } });
    const plain = loss({});
    const gOf = (f: typeof cp) => (w: NdArray) =>
      f(w, ...([...args.slice(1)] as [NdArray, NdArray, NdArray, NdArray]));
    // jit(grad): one scan equation whose reverse pass is the same revolve sweep as eagerly
    // (jit drops the unused primal scan, so the sweep rebuilds every state: F(T, s) advances)
    const before = lastSweep.sweeps;
    expectAllClose(jit(grad(gOf(cp)))(W), grad(gOf(plain))(W), 1e-12);
    expect(lastSweep.sweeps).toBe(before + 1);
    expect(lastSweep.advances).toBe(optimalAdvances(6, 2));
    expect(lastSweep.peakSnapshots).toBeLessThanOrEqual(2);
    // vmap(grad) over a batch of dampings
    const ds = np.array([0.01, 0.05, 0.2]);
    const byDamping = (f: typeof cp) => (d: NdArray) =>
      grad(f, { argnums: 1 })(args[0], d, args[2], args[3], args[4]);
    expectAllClose(vmap(byDamping(cp))(ds), vmap(byDamping(plain))(ds), 1e-12);
    // grad(vmap): scan of the vmapped step, checkpointed below the batch trace
    const batched = (f: typeof cp) => (d: NdArray) =>
      np.sum(vmap((di: NdArray) => f(args[0], di, args[2], args[3], args[4]))(d));
    const sweeps = lastSweep.sweeps;
    expectAllClose(grad(batched(cp))(ds), grad(batched(plain))(ds), 1e-12);
    expect(lastSweep.sweeps).toBe(sweeps + 1); // checkpointed one level below the vmap
    // grad(vmap) with batched xs and init, reversed, with a horizon
    const forcesB = np.stack([args[3], np.multiply(args[3], -0.5)]);
    const p0B = np.stack([args[2], np.multiply(args[2], 2)]);
    const overBatch = (opts: lax.ScanOptions) => (w: NdArray) =>
      np.sum(vmap((f: NdArray, p: NdArray) => loss(opts)(w, args[1], p, f, args[4]))(forcesB, p0B));
    const sweeps2 = lastSweep.sweeps;
    expectAllClose(
      grad(overBatch({ reverse: true, gradientHorizon: 4, checkpoint: { snapshots: 2 } }))(W),
      grad(overBatch({ reverse: true, gradientHorizon: 4 }))(W),
      1e-12,
    );
    expect(lastSweep.sweeps).toBe(sweeps2 + 1);
    // jacrev (a vmapped pullback) of a vector output: the final position
    const finalP = (opts: lax.ScanOptions) => (p0: NdArray) =>
      lax.scan(
        makeStep(W, np.array(0.05)),
        { p: p0, v: np.zeros([3]), n: np.array(0, { dtype: "int32" }) },
        { force: args[3], gain: args[4] },
        opts,
      )[0].p;
    const p0 = args[2];
    expectAllClose(
      jacrev(finalP({ checkpoint: { snapshots: 2 } }))(p0),
      jacfwd(finalP({}))(p0),
      1e-12,
    );
    // second derivatives: forward over reverse
    const scalarLoss = (opts: lax.ScanOptions) => (d: NdArray) =>
      loss(opts)(args[0], d, args[2], args[3], args[4]);
    expectAllClose(
      jacfwd(grad(scalarLoss({ checkpoint: { snapshots: 2 } })))(0.05),
      jacfwd(grad(scalarLoss({})))(0.05),
      1e-10,
    );
    // vjp with a cotangent on every output, twice (the stored snapshots are rebuilt)
    const both = (opts: lax.ScanOptions) => (p: NdArray) =>
      lax.scan(
        ((c: NdArray, x: NdArray) => [np.sin(np.add(np.multiply(c, p), x)), np.square(c)]) as never,
        np.array([0.3, -0.1]),
        np.array([
          [0.1, 0.2],
          [0.3, -0.4],
          [0.5, 0.1],
          [0.2, 0.2],
        ]),
        opts,
      );
    const ct = [
      np.array([1, -2]),
      np.array([
        [1, 0],
        [0, 1],
        [2, 3],
        [-1, 1],
      ]),
    ];
    const [, pullCp] = vjp(both({ checkpoint: { snapshots: 2 } }), np.array(0.7));
    const [, pullPlain] = vjp(both({}), np.array(0.7));
    expectAllClose(pullCp(ct)[0], pullPlain(ct)[0], 1e-12);
    expectAllClose(pullCp(ct)[0], pullPlain(ct)[0], 1e-12);
    // linearize's forward map equals jvp
    const [, lin] = linearize(scalarLoss({ checkpoint: { snapshots: 3 } }), np.array(0.05));
    expectAllClose(lin(np.array(1)), jvp(scalarLoss({}), [0.05], [1])[1], 1e-12);
  });
});

describe("forILoop of any length in reverse mode", () => {
  it("a forILoop body run as a checkpointed scan over the indices gives forILoop's gradient", () => {
    const body = (a: NdArray) => (i: NdArray, c: NdArray) =>
      np.add(c, np.multiply(0.01, np.sin(np.add(np.multiply(a, c), i.astype("float64")))));
    const viaForI = (a: NdArray) => lax.forILoop(3, 40, body(a), np.array(0.1));
    const viaScan = (a: NdArray) =>
      lax.scan(
        ((c: NdArray, i: NdArray) => [body(a)(i, c), null]) as never,
        np.array(0.1),
        np.arange(3, 40).astype("int32"),
        { checkpoint: { snapshots: 4 } },
      )[0];
    expectAllClose(grad(viaScan)(0.8), grad(viaForI)(0.8), 1e-13);
  });
});

describe("checkpointed scan: dtypes", () => {
  it("float32 carries and outputs, integer carries and outputs", () => {
    const f = (opts: lax.ScanOptions) => (a: NdArray) => {
      type C = { v: NdArray; i: NdArray };
      const step = (c: C, x: NdArray): [C, { f: NdArray; i: NdArray }] => {
        const v = np.sin(np.multiply(c.v, a.astype("float32")));
        return [
          { v, i: np.add(c.i, 1) },
          { f: np.multiply(v, x), i: c.i },
        ];
      };
      const init = {
        v: np.array([0.5, 0.2], { dtype: "float32" }),
        i: np.array(0, { dtype: "int32" }),
      };
      const xs = np.array(
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        { dtype: "float32" },
      );
      const [c, ys] = lax.scan(step, init, xs, opts) as [C, { f: NdArray; i: NdArray }];
      expect(ys.i.dtype).toBe("int32");
      return np.add(np.sum(ys.f).astype("float64"), np.sum(c.v).astype("float64"));
    };
    const sweeps = lastSweep.sweeps;
    expectAllClose(grad(f({ checkpoint: { snapshots: 2 } }))(1.1), grad(f({}))(1.1), 1e-6);
    expect(lastSweep.sweeps).toBe(sweeps + 1);
  });
});

describe("gradientHorizon", () => {
  // The reference: a plain JS loop that cuts the carry with stopGradient every H steps.
  const H = 4;
  const T = 11;
  const stepOf = (a: NdArray) => (c: NdArray, x: NdArray) => np.tanh(np.add(np.multiply(a, c), x));
  const xs = np.array(Array.from({ length: T }, (_, t) => 0.3 * Math.sin(t)));
  const reference = (reverse: boolean) => (a: NdArray) => {
    let c: NdArray = np.array(0.2);
    let s: NdArray = np.array(0);
    for (let k = 0; k < T; k++) {
      if (k > 0 && k % H === 0) c = stopGradient(c);
      const t = reverse ? T - 1 - k : k;
      c = stepOf(a)(c, np.take(xs, t, 0));
      s = np.add(s, np.multiply(c, t + 1));
    }
    return np.add(s, c);
  };
  const withScan = (opts: lax.ScanOptions) => (a: NdArray) => {
    const [c, ys] = lax.scan(
      (c: NdArray, x: NdArray) => {
        const c2 = stepOf(a)(c, x);
        return [c2, c2];
      },
      np.array(0.2),
      xs,
      opts,
    );
    return np.add(np.sum(np.multiply(ys, np.arange(1, T + 1))), c);
  };
  it("equals a JS loop with explicit stopGradient, unrolled and checkpointed, both directions", () => {
    for (const reverse of [false, true]) {
      const expected = grad(reference(reverse))(0.9);
      expectAllClose(grad(withScan({ reverse, gradientHorizon: H }))(0.9), expected, 1e-13);
      for (const snapshots of [1, 3, 20]) {
        expectAllClose(
          grad(withScan({ reverse, gradientHorizon: H, checkpoint: { snapshots } }))(0.9),
          expected,
          1e-13,
        );
      }
      // values are unchanged; a horizon >= T changes nothing
      expectAllClose(
        withScan({ reverse, gradientHorizon: H })(np.array(0.9)),
        withScan({ reverse })(np.array(0.9)),
        0,
      );
      expectAllClose(
        grad(withScan({ reverse, gradientHorizon: T }))(0.9),
        grad(withScan({ reverse }))(0.9),
        1e-14,
      );
    }
    // and it does cut: the truncated gradient differs from the full one
    expect(
      Math.abs(grad(withScan({ gradientHorizon: H }))(0.9).item() - grad(withScan({}))(0.9).item()),
    ).toBeGreaterThan(1e-6);
  });
});

describe("checkpointed scan: bad input", () => {
  const f = (c: NdArray, x: NdArray) => [np.add(c, x), c];
  it("rejects bad snapshot counts and horizons", () => {
    for (const snapshots of [0, -1, 1.5, Number.NaN]) {
      expect(() => lax.scan(f as never, 0, np.ones([3]), { checkpoint: { snapshots } })).toThrow(
        InvalidArgumentError,
      );
    }
    expect(() => lax.scan(f as never, 0, np.ones([3]), { checkpoint: { snapshots: 0 } })).toThrow(
      /lax\.scan: checkpoint\.snapshots must be a positive integer/,
    );
    expect(() => lax.scan(f as never, 0, np.ones([3]), { checkpoint: 5 as never })).toThrow(
      /lax\.scan: checkpoint must be an object \{ snapshots: number \}, got 5/,
    );
    expect(() => lax.scan(f as never, 0, np.ones([3]), { gradientHorizon: 0 })).toThrow(
      /lax\.scan: gradientHorizon must be a positive integer/,
    );
  });
  it("differentiates linearize's tangent map of a checkpointed scan (a linear map: its jvp is itself)", () => {
    const g = (a: NdArray) =>
      lax.scan(((c: NdArray) => [np.sin(np.multiply(c, a)), null]) as never, np.array(0.5), null, {
        length: 3,
        checkpoint: { snapshots: 2 },
      })[0];
    const [, lin] = linearize(g, np.array(1.1));
    const [value, tangent] = jvp(lin as never, [np.array(1)], [np.array(2)]);
    // central differences of g at 1.1
    const h = 1e-6;
    const fd = (g(np.array(1.1 + h)).item() - g(np.array(1.1 - h)).item()) / (2 * h);
    expect(value.item()).toBeCloseTo(fd, 8);
    expect(tangent.item()).toBeCloseTo(2 * fd, 8);
  });
  it("names the carry whose shape changes and JS branching inside a checkpointed step", () => {
    const growing = (a: NdArray) =>
      np.sum(
        lax.scan(((c: NdArray) => [np.concatenate([c, a]), null]) as never, np.ones([1]), null, {
          length: 2,
          checkpoint: { snapshots: 2 },
        })[0],
      );
    expect(() => grad(growing)(np.ones([1]))).toThrow(ShapeError);
    expect(() => grad(growing)(np.ones([1]))).toThrow(
      /lax\.scan: carry is float64\[2\] in f's new carry but float64\[1\] in the initial carry/,
    );
    const branching = (a: NdArray) =>
      lax.scan(
        ((c: NdArray) => [c.item() > 0 ? np.multiply(c, a) : c, null]) as never,
        np.array(1),
        null,
        { length: 2, checkpoint: { snapshots: 2 } },
      )[0];
    expect(() => grad(branching)(2)).toThrow(ConcretizationError);
    expect(() => grad(branching)(2)).toThrow(/traced once abstractly.*lax\.cond/);
  });
});
