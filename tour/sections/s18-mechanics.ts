/**
 * Section 18 (seed 004, physical modelling): mechanics from a Lagrangian and
 * forces from a potential.
 *
 * The double pendulum (unit masses and lengths, g = 9.81), angles q = (θ₁, θ₂):
 *
 *   L = θ̇₁² + θ̇₂²/2 + θ̇₁θ̇₂ cos(θ₁ − θ₂) + 2g cos θ₁ + g cos θ₂
 *
 * physics.lagrangianAcceleration(L) gives q̈ by solving the Euler–Lagrange
 * equations with chainrule's Hessians; checked against the textbook
 * equations of motion. Its Hamiltonian (the Legendre transform, written out)
 * drives physics.hamiltonianFlow, checked against the same equations. A
 * chaotic trajectory is solved with ode.odeint; the energy over a long run
 * is compared for the symplectic implicit midpoint rule (on the Hamiltonian
 * flow) and the non-symplectic classical RK4 (odeint's "rk4"). Forces
 * (physics.forces) of the Hénon–Heiles potential and of a Lennard-Jones
 * cluster are checked against the analytic forces. Live: the energies and
 * the runs' settings are s18-mechanics.live.js (the page reruns it with the
 * shorter `quick` runs); this module runs physics and ode on them and checks
 * them against the plain-JS textbook equations and analytic forces.
 */
import { jacfwd, jit, np, ode, physics, type Array as NdArray } from "../../src/index.js";
import { Plot, grid, maxAbsDiff, numbers, plotSvg } from "../lib/plot.js";
import { liveCodeBlock, runLiveCode, type LiveCode } from "../lib/live.js";
import {
  check,
  checkWorst,
  requireLiveSource,
  type Check,
  type Section,
  type SectionResult,
} from "../lib/types.js";

const live: LiveCode = {
  file: "s18-mechanics.live.js",
  caption:
    "The energies (Lagrangian, Hamiltonian, potentials) and the runs' settings (live: edit and run)",
  outputs: {
    g: "number",
    lagrangian: "function",
    hamiltonian: "function",
    chaos: "object",
    long: "object",
    henonHeiles: "function",
    lennardJones: "function",
  },
  quickInPage: true,
};

/** A Lennard-Jones cluster's positions as a pytree of three [n] arrays. */
type Positions = { x: NdArray; y: NdArray; z: NdArray };
/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  g: number;
  lagrangian: (q: NdArray, qDot: NdArray) => NdArray;
  hamiltonian: (q: NdArray, p: NdArray) => NdArray;
  chaos: {
    start: number[];
    nudged: number[];
    tEnd: number;
    nOut: number;
    tol: { rtol: number; atol: number };
  };
  long: { h: number; calm: number[]; tEnd: number; iterations: number; every: number };
  henonHeiles: (r: NdArray) => NdArray;
  lennardJones: (pos: Positions) => NdArray;
}

const MIDPOINT = "implicit midpoint (symplectic)";
const RK4 = "RK4 (odeint, not symplectic)";
const Q = np.array([0, 1]);
const QDOT = np.array([2, 3]);

/** The textbook equations of motion (e.g. Neumann's derivation), for equal unit masses and lengths. */
function textbookAcceleration([t1, t2, w1, w2]: number[], G: number): number[] {
  const [m1, m2, l1, l2] = [1, 1, 1, 1];
  const d = t1! - t2!;
  const den = 2 * m1 + m2 - m2 * Math.cos(2 * d);
  const a1 =
    (-G * (2 * m1 + m2) * Math.sin(t1!) -
      m2 * G * Math.sin(t1! - 2 * t2!) -
      2 * Math.sin(d) * m2 * (w2! * w2! * l2 + w1! * w1! * l1 * Math.cos(d))) /
    (l1 * den);
  const a2 =
    (2 *
      Math.sin(d) *
      (w1! * w1! * l1 * (m1 + m2) +
        G * (m1 + m2) * Math.cos(t1!) +
        w2! * w2! * l2 * m2 * Math.cos(d))) /
    (l2 * den);
  return [a1, a2];
}

/** Momenta p = M(q) q̇ and the energy T + V in plain JS. */
function momentaJs([t1, t2, w1, w2]: number[]): number[] {
  const c = Math.cos(t1! - t2!);
  return [2 * w1! + c * w2!, c * w1! + w2!];
}
function energyJs([t1, t2, w1, w2]: number[], G: number): number {
  const kinetic = w1! * w1! + 0.5 * w2! * w2! + w1! * w2! * Math.cos(t1! - t2!);
  return kinetic - 2 * G * Math.cos(t1!) - G * Math.cos(t2!);
}

/** Plain-JS classical RK4 of the textbook equations; the state after time T. */
function textbookRk4(s0: number[], T: number, dt: number, G: number): number[] {
  const f = (s: number[]) => [s[2]!, s[3]!, ...textbookAcceleration(s, G)];
  let s = s0.slice();
  const n = Math.round(T / dt);
  for (let i = 0; i < n; i++) {
    const k1 = f(s);
    const k2 = f(s.map((v, j) => v + (dt / 2) * k1[j]!));
    const k3 = f(s.map((v, j) => v + (dt / 2) * k2[j]!));
    const k4 = f(s.map((v, j) => v + dt * k3[j]!));
    s = s.map((v, j) => v + (dt / 6) * (k1[j]! + 2 * k2[j]! + 2 * k3[j]! + k4[j]!));
  }
  return s;
}

/** Hénon–Heiles V = (x² + y²)/2 + x²y − y³/3 and its analytic force −∇V, in plain JS. */
const henonHeilesJs = (x: number, y: number) => 0.5 * (x * x + y * y) + x * x * y - (y * y * y) / 3;
const henonHeilesForceJs = (x: number, y: number) => [-(x + 2 * x * y), -(y + x * x - y * y)];

function lennardJonesForcesJs(p: number[][]): number[][] {
  const f = p.map(() => [0, 0, 0]);
  for (let i = 0; i < p.length; i++) {
    for (let j = i + 1; j < p.length; j++) {
      const d = [0, 1, 2].map((k) => p[i]![k]! - p[j]![k]!);
      const r2 = d[0]! ** 2 + d[1]! ** 2 + d[2]! ** 2;
      // -dV/dr / r for V = 4(r^-12 - r^-6): (48 r^-14 - 24 r^-8)
      const s = 48 / r2 ** 7 - 24 / r2 ** 4;
      for (let k = 0; k < 3; k++) {
        f[i]![k]! += s * d[k]!;
        f[j]![k]! -= s * d[k]!;
      }
    }
  }
  return f;
}

export const mechanics: Section = {
  id: "mechanics",
  title: "18. Mechanics from a Lagrangian: the double pendulum, symplectic integration, forces",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const { lagrangian, hamiltonian, henonHeiles, lennardJones, chaos, long } = v;
    const energy = (s: number[]) => energyJs(s, v.g);
    const checks: Check[] = [];
    const acceleration = physics.lagrangianAcceleration(lagrangian);
    const flow = physics.hamiltonianFlow(hamiltonian);

    // 1. Accelerations and Hamilton's equations at a few states against the textbook equations.
    const states = [
      [0.3, -0.2, 0, 0],
      [2.2, 2.6, 0, 0],
      [1.0, -1.5, 2.0, -3.0],
      [-2.5, 0.7, -1.2, 4.1],
      [Math.PI - 0.1, 0.2, 5.0, 0.5],
    ];
    const ad: number[] = [];
    const ref: number[] = [];
    const flowAd: number[] = [];
    const flowRef: number[] = [];
    for (const s of states) {
      const q = np.array(s.slice(0, 2));
      const qDot = np.array(s.slice(2));
      ad.push(...numbers(acceleration(q, qDot)));
      const [a1, a2] = textbookAcceleration(s, v.g);
      ref.push(a1!, a2!);
      // Hamilton: q̇ = ∂H/∂p must return the velocities; ṗ = d(M q̇)/dt = Ṁ q̇ + M q̈.
      const [qd, pd] = flow(q, np.array(momentaJs(s))) as [NdArray, NdArray];
      flowAd.push(...numbers(qd), ...numbers(pd));
      const [, , w1, w2] = s as [number, number, number, number];
      const c = Math.cos(s[0]! - s[1]!);
      const mDot = -Math.sin(s[0]! - s[1]!) * (w1 - w2); // d/dt cos(θ₁ − θ₂)
      flowRef.push(w1, w2, mDot * w2 + 2 * a1! + c * a2!, mDot * w1 + c * a1! + a2!);
    }
    checks.push(
      checkWorst(
        `q̈ by physics.lagrangianAcceleration at ${states.length} states`,
        ad,
        ref,
        "textbook equations of motion",
        1e-12,
      ),
      checkWorst(
        `(q̇, ṗ) by physics.hamiltonianFlow at ${states.length} states`,
        flowAd,
        flowRef,
        "velocities; Ṁq̇ + Mq̈ with the textbook q̈",
        1e-12,
      ),
    );

    // 2. A chaotic trajectory: odeint (Dormand–Prince, tight tolerances) on y = (q, q̇),
    // twice, from initial angles 1e-6 apart.
    const rhs = jit((y: NdArray) =>
      np.concatenate([np.take(y, QDOT), acceleration(np.take(y, Q), np.take(y, QDOT))]),
    );
    const { tEnd, nOut, start, nudged, tol } = chaos;
    const times = grid(0, tEnd, nOut);
    const t0 = performance.now();
    const traj = (
      ode.odeint((y: NdArray) => rhs(y), np.array(start), np.array(times), tol) as NdArray
    ).toArray() as number[][];
    const trajSeconds = (performance.now() - t0) / 1000;
    const traj2 = (
      ode.odeint((y: NdArray) => rhs(y), np.array(nudged), np.array(times), tol) as NdArray
    ).toArray() as number[][];
    const e0 = energy(start);
    checks.push(
      check(
        `odeint (dopri5, rtol ${tol.rtol}) energy error max |E(t) − E(0)| on [0, ${tEnd}]`,
        Math.max(...traj.map((s) => Math.abs(energy(s) - e0))),
        0,
        "exact motion conserves E",
        1e-6,
      ),
    );
    // Before chaos amplifies the differences: compare at t = 2 with plain-JS RK4 of the textbook equations.
    const k2 = times.findIndex((t) => t >= 2 - 1e-12);
    checks.push(
      check(
        `odeint state (θ₁, θ₂, θ̇₁, θ̇₂) at t = ${times[k2]!.toFixed(2)}: max |difference|`,
        maxAbsDiff(traj[k2]!, textbookRk4(start, times[k2]!, 1e-3, v.g)),
        0,
        "plain-JS RK4 of the textbook equations, step 1e-3",
        1e-7,
      ),
    );

    // 3. Energy over a long run with step h from a regular (low-energy) start: implicit
    // midpoint (symplectic) on the Hamiltonian flow, z' = z + h F((z + z')/2) solved by
    // Newton's method, vs odeint's classical RK4 (not symplectic) with the same step.
    const { h, calm, iterations, every } = long;
    const eCalm = energy(calm);
    const longEnd = long.tEnd;
    const nSteps = Math.round(longEnd / h);
    const F = (z: NdArray): NdArray => {
      const [qd, pd] = flow(np.take(z, Q), np.take(z, QDOT)) as [NdArray, NdArray];
      return np.concatenate([qd, pd]);
    };
    // Newton's method on R(z') = z' − z − h F((z + z')/2), whose Jacobian is I − (h/2) F'(mid)
    // (F' by jacfwd), from the explicit Euler guess.
    const dF = jacfwd(F) as (z: NdArray) => NdArray;
    const eye = np.eye(4);
    const midpointStep = jit((z: NdArray): NdArray[] => {
      const residualAt = (next: NdArray) =>
        np.subtract(next, np.add(z, np.multiply(h, F(np.multiply(0.5, np.add(z, next))))));
      let next = np.add(z, np.multiply(h, F(z)));
      for (let i = 0; i < iterations; i++) {
        const jac = np.subtract(eye, np.multiply(h / 2, dF(np.multiply(0.5, np.add(z, next)))));
        next = np.subtract(next, np.linalg.solve(jac, residualAt(next)));
      }
      return [next, np.max(np.abs(residualAt(next)))];
    });
    const longTimes = grid(0, longEnd, nSteps / every + 1);
    let z = np.array([...calm.slice(0, 2), ...momentaJs(calm)]);
    const midEnergy = [0];
    let maxResidual = 0;
    const t1 = performance.now();
    for (let i = 1; i <= nSteps; i++) {
      const [next, residual] = midpointStep(z) as [NdArray, NdArray];
      z = next;
      maxResidual = Math.max(maxResidual, residual.item());
      if (i % every === 0) {
        const [q1, q2, p1, p2] = numbers(z);
        // Back to velocities: q̇ = M⁻¹ p.
        const c = Math.cos(q1! - q2!);
        const w1 = (p1! - c * p2!) / (2 - c * c);
        const w2 = (2 * p2! - c * p1!) / (2 - c * c);
        midEnergy.push(energy([q1!, q2!, w1, w2]) - eCalm);
      }
    }
    const midSeconds = (performance.now() - t1) / 1000;
    const t2 = performance.now();
    const rk4 = (
      ode.odeint((y: NdArray) => rhs(y), np.array(calm), np.array(longTimes), {
        method: "rk4",
        dt: h,
      }) as NdArray
    ).toArray() as number[][];
    const rk4Seconds = (performance.now() - t2) / 1000;
    const rk4Energy = rk4.map((s) => energy(s) - eCalm);
    checks.push(
      check(
        `odeint "rk4" (dt = ${h}) state at t = ${longEnd}: max |difference|`,
        maxAbsDiff(rk4.at(-1)!, textbookRk4(calm, longEnd, h, v.g)),
        0,
        "plain-JS RK4 of the textbook equations, same step",
        1e-8,
      ),
    );
    const maxMid = Math.max(...midEnergy.map(Math.abs));
    checks.push(
      check(
        `implicit midpoint (symplectic, h = ${h}): max |E(t) − E(0)| over ${nSteps} steps`,
        maxMid,
        0,
        "exact motion conserves E; a symplectic method's error stays O(h²), bounded",
        0.2,
      ),
      check(
        `implicit midpoint: largest residual of z' = z + hF((z + z')/2) after ${iterations} Newton iterations`,
        maxResidual,
        0,
        "the exact solution of the implicit equation",
        1e-12,
      ),
    );

    // 4. Forces from potentials.
    const field = grid(-0.9, 0.9, 10).flatMap((y) => grid(-0.9, 0.9, 10).map((x) => [x, y]));
    const force = physics.forces(henonHeiles);
    const fAd = field.map(([x, y]) => numbers(force(np.array([x!, y!])) as NdArray));
    const fRef = field.map(([x, y]) => henonHeilesForceJs(x!, y!));
    checks.push(
      checkWorst(
        "Hénon–Heiles forces by physics.forces on a 10 x 10 grid",
        fAd.flat(),
        fRef.flat(),
        "analytic −∇V = −(x + 2xy, y + x² − y²)",
        1e-12,
      ),
    );
    // A 7-atom Lennard-Jones cluster (a distorted hexagon around a centre), positions as a pytree.
    const atoms = [[0, 0, 0]].concat(
      Array.from({ length: 6 }, (_, k) => {
        const a = (k * Math.PI) / 3;
        const r = 1.12 + 0.05 * Math.sin(3 * k);
        return [r * Math.cos(a), r * Math.sin(a), 0.1 * Math.cos(2 * k)];
      }),
    );
    const ljForces = physics.forces(lennardJones)({
      x: np.array(atoms.map((p) => p[0]!)),
      y: np.array(atoms.map((p) => p[1]!)),
      z: np.array(atoms.map((p) => p[2]!)),
    }) as { x: NdArray; y: NdArray; z: NdArray };
    const ljRef = lennardJonesForcesJs(atoms);
    checks.push(
      checkWorst(
        "Lennard-Jones forces on 7 atoms (pytree {x, y, z}) by physics.forces",
        atoms.flatMap((_, i) => [ljForces.x, ljForces.y, ljForces.z].map((a) => numbers(a)[i]!)),
        ljRef.flat(),
        "analytic pairwise (48 r⁻¹⁴ − 24 r⁻⁸) r",
        1e-10,
      ),
    );

    // Figures.
    const bob = (s: number[]) => ({
      x: Math.sin(s[0]!) + Math.sin(s[1]!),
      y: -Math.cos(s[0]!) - Math.cos(s[1]!),
    });
    const pathRows = traj.map((s, k) => ({ ...bob(s), t: times[k]! }));
    const angleRuns = ["θ₂, start (2.2, 2.6)", "θ₂, start (2.2, 2.6 + 10⁻⁶)"];
    const angleRows = times.flatMap((t, k) => [
      { t, angle: traj[k]![1]!, run: angleRuns[0]! },
      { t, angle: traj2[k]![1]!, run: angleRuns[1]! },
    ]);
    const energyRows = [
      ...longTimes.map((t, k) => ({
        t,
        dE: midEnergy[k]!,
        method: "implicit midpoint (symplectic)",
      })),
      ...longTimes.map((t, k) => ({
        t,
        dE: rk4Energy[k]!,
        method: "RK4 (odeint, not symplectic)",
      })),
    ];
    const hhGrid = grid(-1.3, 1.3, 105);
    const hhValues = hhGrid.flatMap((y) => hhGrid.map((x) => henonHeilesJs(x, y)));
    const arrows = field.map(([x, y], i) => ({
      x: x!,
      y: y!,
      fx: fAd[i]![0]!,
      fy: fAd[i]![1]!,
      norm: Math.hypot(fAd[i]![0]!, fAd[i]![1]!),
    }));
    const divergeAt = times.findIndex((_, k) => Math.abs(traj[k]![1]! - traj2[k]![1]!) > 0.1);
    return {
      id: this.id,
      title: this.title,
      explanation:
        "Seed 004's physical modelling: forces are minus the gradient of a potential, and the " +
        "equations of motion follow from a Lagrangian L(q, q̇) by the Euler–Lagrange equations " +
        "d/dt ∂L/∂q̇ = ∂L/∂q, i.e. q̈ = (∇_q̇∇_q̇ᵀL)⁻¹[∇_qL − (∇_q∇_q̇ᵀL)q̇]. With AD one writes only the " +
        "energy: physics.lagrangianAcceleration builds those Hessians with jacfwd over grad. For the " +
        "double pendulum the result matches the textbook equations, whose derivation by hand takes a " +
        "page. The motion is chaotic: two starts 10⁻⁶ apart separate within seconds. Over long runs a " +
        "symplectic integrator (here the implicit midpoint rule on physics.hamiltonianFlow; the " +
        "leapfrog of section 16 needs a separable H) keeps the energy error bounded, while RK4, of " +
        "higher order and more accurate per step, lets it drift steadily. (In the chaotic regime the " +
        "fast flips make both methods' energy errors spiky at this step size, so the comparison uses " +
        "a regular, low-energy motion.)",
      notes: [
        `Trajectory: ode.odeint (dopri5, rtol = atol = ${tol.rtol}) on [0, ${tEnd}] with the ` +
          `jitted right-hand side, ${trajSeconds.toFixed(2)} s; E(0) = ${e0.toFixed(4)}. ` +
          (divergeAt >= 0
            ? `The nudged run's θ₂ differs by more than 0.1 rad from t = ${times[divergeAt]!.toFixed(1)}.`
            : "The nudged run stays within 0.1 rad of the first."),
        `Energy run, h = ${h}, ${nSteps} steps: implicit midpoint (${iterations} Newton ` +
          `iterations per step, jitted step) ${midSeconds.toFixed(2)} s, max |ΔE| = ` +
          `${maxMid.toExponential(2)}; RK4 ${rk4Seconds.toFixed(2)} s, ΔE at t = ${longEnd}: ` +
          `${rk4Energy.at(-1)!.toExponential(2)}.`,
      ],
      code: [liveCodeBlock(live, source)],
      checks,
      figures: [
        {
          caption:
            `Path of the second bob, (sin θ₁ + sin θ₂, −cos θ₁ − cos θ₂), over t ∈ [0, ${tEnd}] ` +
            "(colour: time); released at rest (red dot) from θ = (2.2, 2.6).",
          svg: plotSvg({
            width: 520,
            height: 520,
            marginBottom: 40,
            x: { label: "x", labelAnchor: "center", domain: [-2.1, 2.1], grid: true },
            y: { label: "y", domain: [-2.1, 2.1], grid: true },
            color: { type: "quantize", n: 8, legend: true, label: "time t", scheme: "viridis" },
            marks: [
              Plot.line(pathRows, { x: "x", y: "y", z: null, stroke: "t", strokeWidth: 1 }),
              Plot.dot([pathRows[0]!], { x: "x", y: "y", fill: "red", r: 5 }),
            ],
          }),
        },
        {
          caption:
            "Chaos: θ₂(t) from two starts 10⁻⁶ rad apart (odeint, tight tolerances) coincide at " +
            "first, then separate.",
          svg: plotSvg({
            width: 640,
            height: 300,
            marginBottom: 40,
            color: { legend: true, domain: angleRuns },
            x: { label: "time t", labelAnchor: "center", grid: true },
            y: { label: "θ₂ (rad)", grid: true },
            marks: [Plot.line(angleRows, { x: "t", y: "angle", stroke: "run", strokeWidth: 1.2 })],
          }),
        },
        {
          caption:
            `Energy error E(t) − E(0) of a regular motion released at rest from θ = (1, 0.5), both ` +
            `methods with step h = ${h}: the symplectic implicit midpoint rule oscillates without ` +
            "trend; RK4 drifts.",
          svg: plotSvg({
            width: 640,
            height: 320,
            marginBottom: 40,
            color: { legend: true, domain: [MIDPOINT, RK4] },
            x: { label: "time t", labelAnchor: "center", grid: true },
            y: { label: "E(t) − E(0)", grid: true },
            marks: [
              Plot.ruleY([0], { stroke: "#bbb" }),
              Plot.line(energyRows, { x: "t", y: "dE", stroke: "method", strokeWidth: 1.2 }),
            ],
          }),
        },
        {
          caption:
            "Forces of the Hénon–Heiles potential by physics.forces (arrows, length ∝ |F|) over its " +
            "contours (V = 1/24, 1/12, 1/8, 1/6: the last is the escape energy).",
          svg: plotSvg({
            width: 520,
            height: 520,
            marginTop: 30,
            marginBottom: 40,
            x: { label: "x", labelAnchor: "center", domain: [-1, 1] },
            y: { label: "y", domain: [-1, 1] },
            length: { range: [0, 22] },
            marks: [
              Plot.contour(hhValues, {
                x1: -1.3,
                x2: 1.3,
                y1: -1.3,
                y2: 1.3,
                clip: true,
                width: hhGrid.length,
                height: hhGrid.length,
                thresholds: [1 / 24, 1 / 12, 1 / 8, 1 / 6],
                stroke: "#888",
              }),
              Plot.vector(arrows, {
                x: "x",
                y: "y",
                rotate: (a: { fx: number; fy: number }) => (Math.atan2(a.fx, a.fy) * 180) / Math.PI,
                length: "norm",
                stroke: "#1f77b4",
                strokeWidth: 1.2,
              }),
            ],
          }),
        },
      ],
    };
  },
};
