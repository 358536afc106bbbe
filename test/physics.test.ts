/**
 * physics: accelerations from a Lagrangian against the textbook equations of
 * motion, forces against finite differences, Hamilton's equations against
 * hand-derived ones, and the symplectic integrators' long-run energy
 * behaviour against a (non-symplectic) RK4 written here.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  InvalidArgumentError,
  ShapeError,
  jit,
  lax,
  np,
  physics,
} from "../src/index.js";
import { expectAllClose, flat } from "./helpers.js";

type A = NdArray;

describe("physics.forces", () => {
  it("is minus the gradient, checked by central differences", () => {
    // Lennard-Jones-like pair energy between a particle at x and the origin, plus a field term
    const E = (x: A) => {
      const r2 = np.sum(np.square(x));
      return np.add(
        np.subtract(np.power(r2, -6), np.power(r2, -3)),
        np.multiply(0.3, np.take(x, 0)),
      );
    };
    const x = [1.1, -0.4, 0.7];
    const f = flat(physics.forces(E)(np.array(x)) as A);
    const e = (v: number[]) => np.sum(E(np.array(v))).item();
    const eps = 1e-6;
    const fd = x.map((_, i) => {
      const up = x.slice();
      const dn = x.slice();
      up[i] = x[i]! + eps;
      dn[i] = x[i]! - eps;
      return -(e(up) - e(dn)) / (2 * eps);
    });
    expectAllClose(f, fd, 1e-7, 1e-9);
  });
  it("works on pytrees of positions", () => {
    const E = (s: { a: A; b: A }) => np.multiply(np.sum(s.a), np.sum(np.square(s.b)));
    const f = physics.forces(E)({ a: np.array([1, 2]), b: np.array(3) }) as { a: A; b: A };
    expectAllClose(f.a, [-9, -9]); // -∂/∂a = -b²
    expectAllClose(f.b, [-18]); // -∂/∂b = -2 b Σa
  });
});

describe("physics.lagrangianAcceleration", () => {
  const [m1, m2, l1, l2, g] = [1.3, 0.7, 1.1, 0.8, 9.81];
  // The double pendulum, angles from the downward vertical.
  const L = (q: A, qd: A) => {
    const t1 = np.take(q, 0);
    const t2 = np.take(q, 1);
    const w1 = np.take(qd, 0);
    const w2 = np.take(qd, 1);
    const kinetic = np.add(
      np.add(
        np.multiply(0.5 * (m1 + m2) * l1 * l1, np.square(w1)),
        np.multiply(0.5 * m2 * l2 * l2, np.square(w2)),
      ),
      np.multiply(m2 * l1 * l2, np.multiply(np.multiply(w1, w2), np.cos(np.subtract(t1, t2)))),
    );
    const potential = np.negative(
      np.add(np.multiply((m1 + m2) * g * l1, np.cos(t1)), np.multiply(m2 * g * l2, np.cos(t2))),
    );
    return np.subtract(kinetic, potential);
  };
  // The textbook equations of motion (e.g. myphysicslab's double pendulum), in plain JS.
  const textbook = (t1: number, t2: number, w1: number, w2: number): [number, number] => {
    const d = t1 - t2;
    const den = 2 * m1 + m2 - m2 * Math.cos(2 * d);
    const a1 =
      (-g * (2 * m1 + m2) * Math.sin(t1) -
        m2 * g * Math.sin(t1 - 2 * t2) -
        2 * Math.sin(d) * m2 * (w2 * w2 * l2 + w1 * w1 * l1 * Math.cos(d))) /
      (l1 * den);
    const a2 =
      (2 *
        Math.sin(d) *
        (w1 * w1 * l1 * (m1 + m2) +
          g * (m1 + m2) * Math.cos(t1) +
          w2 * w2 * l2 * m2 * Math.cos(d))) /
      (l2 * den);
    return [a1, a2];
  };
  it("matches the double pendulum's textbook equations at several states", () => {
    const acc = physics.lagrangianAcceleration(L);
    const states: [number, number, number, number][] = [
      [0.3, -0.2, 0.1, 0.5],
      [2.0, 1.0, -1.5, 2.5],
      [-1.2, 2.9, 3.0, -0.7],
    ];
    for (const [t1, t2, w1, w2] of states) {
      const a = flat(acc(np.array([t1, t2]), np.array([w1, w2])));
      expectAllClose(a, textbook(t1, t2, w1, w2), 1e-10, 1e-10);
    }
  });
  it("works under jit", () => {
    const acc = jit(physics.lagrangianAcceleration(L));
    expectAllClose(acc(np.array([0.5, 0.1]), np.array([1, -1])), textbook(0.5, 0.1, 1, -1), 1e-10);
  });
  it("refuses coordinates of different shapes", () => {
    const acc = physics.lagrangianAcceleration(L);
    expect(() => acc(np.array([1, 2]), np.array([1, 2, 3]))).toThrow(ShapeError);
    expect(() => acc(np.array([1, 2]), np.array([1, 2, 3]))).toThrow(/shapes \[2\] and \[3\]/);
  });
});

describe("physics.hamiltonianFlow", () => {
  it("gives Hamilton's equations of a pendulum", () => {
    // H = p²/(2 m l²) − m g l cos q  →  q̇ = p/(m l²), ṗ = −m g l sin q
    const [m, l, g] = [2, 0.5, 9.81];
    const H = (q: A, p: A) =>
      np.subtract(np.divide(np.square(p), 2 * m * l * l), np.multiply(m * g * l, np.cos(q)));
    const [qd, pd] = physics.hamiltonianFlow(H)(np.array(0.7), np.array(1.3)) as [A, A];
    expectAllClose(qd, [1.3 / (m * l * l)]);
    expectAllClose(pd, [-m * g * l * Math.sin(0.7)]);
  });
});

describe("symplectic integrators", () => {
  // Kepler problem, unit masses and G: H = |p|²/2 − 1/|q|.
  const V = (q: A) => np.negative(np.divide(1, np.sqrt(np.sum(np.square(q)))));
  const energy = (q: A, p: A) => np.add(np.multiply(0.5, np.sum(np.square(p))), V(q));
  const q0 = [1, 0];
  const p0 = [0, 1.2]; // eccentricity 0.44, period ≈ 15
  const dt = 0.05;
  const blocks = 100;
  const perBlock = 1000; // 10^5 steps in all, ≈ 330 orbits

  // RK4 for (q̇, ṗ) = (p, −q/|q|³), written out here.
  const rk4Step = (q: A, p: A): [A, A] => {
    const acc = (x: A) => np.negative(np.divide(x, np.power(np.sum(np.square(x)), 1.5)));
    const k1q = p;
    const k1p = acc(q);
    const k2q = np.add(p, np.multiply(dt / 2, k1p));
    const k2p = acc(np.add(q, np.multiply(dt / 2, k1q)));
    const k3q = np.add(p, np.multiply(dt / 2, k2p));
    const k3p = acc(np.add(q, np.multiply(dt / 2, k2q)));
    const k4q = np.add(p, np.multiply(dt, k3p));
    const k4p = acc(np.add(q, np.multiply(dt, k3q)));
    const comb = (a: A, b: A, c: A, d: A) =>
      np.multiply(dt / 6, np.add(np.add(a, np.multiply(2, b)), np.add(np.multiply(2, c), d)));
    return [np.add(q, comb(k1q, k2q, k3q, k4q)), np.add(p, comb(k1p, k2p, k3p, k4p))];
  };

  /** Energies after each block of steps, by an outer scan over inner n-step runs. */
  const energies = (advance: (q: A, p: A) => [A, A]) =>
    jit((q: A, p: A) => {
      const [, es] = lax.scan(
        ((c: [A, A]) => {
          const next = advance(c[0], c[1]);
          return [next, energy(next[0], next[1])];
        }) as never,
        [q, p],
        null,
        { length: blocks },
      );
      return es as A;
    })(np.array(q0), np.array(p0));

  const e0 = 0.5 * 1.44 - 1;

  it("leapfrog's energy error stays bounded over 10^5 Kepler steps while RK4's grows", () => {
    const lf = physics.leapfrog(V, { stepSize: dt });
    const lfE = flat(energies((q, p) => lf.integrate(q, p, perBlock) as [A, A]));
    const rkE = flat(
      energies((q, p) => {
        const [out] = lax.scan(
          ((c: [A, A]) => [rk4Step(c[0], c[1]), null]) as never,
          [q, p],
          null,
          { length: perBlock },
        );
        return out;
      }),
    );
    const maxErr = (es: number[]) => Math.max(...es.map((e) => Math.abs(e - e0)));
    const firstLf = maxErr(lfE.slice(0, 10));
    const lastLf = maxErr(lfE.slice(90));
    // bounded: the last tenth's error is of the size of the first tenth's
    expect(lastLf).toBeLessThan(2 * firstLf);
    expect(maxErr(lfE)).toBeLessThan(5e-3);
    // RK4 drifts: its error grows steadily (about linearly) with time
    const rkErr = rkE.map((e) => Math.abs(e - e0));
    expect(rkErr[99]!).toBeGreaterThan(5 * rkErr[9]!);
    expect(rkE[99]!).toBeLessThan(rkE[49]!); // dissipative drift, monotone
  });

  it("leapfrog with a mass matrix and velocity Verlet agree (same scheme, two forms)", () => {
    const mass = 2.5;
    const lf = physics.leapfrog(V, {
      stepSize: 0.01,
      kinetic: (p: A) => np.divide(np.sum(np.square(p)), 2 * mass),
    });
    const vv = physics.verlet((x: A) => np.divide(physics.forces(V)(x) as A, mass), {
      stepSize: 0.01,
    });
    const [q1, p1] = lf.integrate(np.array(q0), np.multiply(mass, np.array(p0)), 200) as [A, A];
    const [x1, v1] = vv.integrate(np.array(q0), np.array(p0), 200) as [A, A];
    expectAllClose(q1, x1, 1e-12, 1e-12);
    expectAllClose(np.divide(p1, mass), v1, 1e-12, 1e-12);
  });

  it("trajectory stacks the states; leapfrog is time-reversible", () => {
    const lf = physics.leapfrog(V, { stepSize: 0.02 });
    const [qs, ps] = lf.trajectory(np.array(q0), np.array(p0), 50) as [A, A];
    expect(qs.shape).toEqual([50, 2]);
    const qEnd = np.take(qs, 49, 0);
    const pEnd = np.take(ps, 49, 0);
    const [qi] = lf.step(np.array(q0), np.array(p0)) as [A, A];
    expectAllClose(np.take(qs, 0, 0), qi);
    // run back with -p: returns to the start
    const [qb, pb] = lf.integrate(qEnd, np.negative(pEnd), 50) as [A, A];
    expectAllClose(qb, q0, 1e-10, 1e-12);
    expectAllClose(np.negative(pb), p0, 1e-10, 1e-12);
  });

  it("refuses a missing step size and a bad step count", () => {
    expect(() => physics.leapfrog(V, {} as never)).toThrow(InvalidArgumentError);
    expect(() => physics.leapfrog(V, {} as never)).toThrow(/stepSize/);
    const lf = physics.leapfrog(V, { stepSize: 0.1 });
    expect(() => lf.integrate(np.array(q0), np.array(p0), 2.5)).toThrow(/numSteps/);
  });
});
