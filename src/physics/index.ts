/**
 * `physics`: mechanics from energies, Lagrangians and Hamiltonians.
 *
 *   forces(energy)                 F = -∇E, on pytrees of positions
 *   lagrangianAcceleration(L)      q̈ from the Euler–Lagrange equations
 *   hamiltonianFlow(H)             (q, p) ↦ (∂H/∂p, −∂H/∂q)
 *   leapfrog(potential, opts)      kick–drift–kick on (q, p) for H = K(p) + V(q)
 *   verlet(acceleration, opts)     velocity Verlet on (x, v) for ẍ = a(x)
 *
 * The integrators are symplectic (they conserve a shadow Hamiltonian, so the
 * energy error stays bounded over long runs instead of drifting) and their
 * n-step forms are `lax.scan`s, so `jit` stages them as one loop.
 *
 * @module
 */
import { type Array } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import * as lax from "../lax/index.js";
import * as np from "../numpy/index.js";
import { type JacobianOptions, jacfwd as jacfwdTyped } from "../transforms/jacobian.js";
import { type GradOptions, grad as gradTyped } from "../transforms/linearize.js";

/** grad and jacfwd on the loosely typed functions this module takes and builds. */
const grad = gradTyped as (
  f: (...a: never[]) => unknown,
  opts?: GradOptions,
) => (...a: unknown[]) => unknown;
const jacfwd = jacfwdTyped as (
  f: (...a: never[]) => unknown,
  opts?: JacobianOptions,
) => (...a: unknown[]) => unknown;
import { map as treeMap, type PyTree } from "../tree/index.js";

/** A scalar-valued function of a pytree (and further arguments). */
export type ScalarFn = (x: never, ...args: never[]) => unknown;

const leafArray = (x: unknown, what: string): Array => asArray(x, what);

/** a + s·b leaf by leaf over two pytrees of one structure. */
function axpy(a: unknown, s: number, b: unknown): unknown {
  return treeMap(
    (ai: unknown, bi: unknown) =>
      np.add(leafArray(ai, "physics"), np.multiply(s, leafArray(bi, "physics"))),
    a,
    b,
  );
}

function checkStepSize(fnName: string, stepSize: unknown): number {
  if (typeof stepSize !== "number" || !Number.isFinite(stepSize) || stepSize === 0) {
    throw new InvalidArgumentError(
      `${fnName}: stepSize must be a finite non-zero JS number, got ${String(stepSize)}; ` +
        `pass e.g. { stepSize: 0.01 }`,
    );
  }
  return stepSize;
}

function checkNumSteps(fnName: string, numSteps: unknown): number {
  if (typeof numSteps !== "number" || !Number.isInteger(numSteps) || numSteps < 0) {
    throw new InvalidArgumentError(
      `${fnName}: numSteps must be a non-negative integer JS number, got ${String(numSteps)}`,
    );
  }
  return numSteps;
}

/**
 * The force field of a potential energy: `forces(E)(x, ...args) = -∇ₓE(x, ...args)`,
 * with x any pytree of float arrays (the result has its structure).
 *
 * @example
 * ```ts
 * import { np, physics } from "chainrule";
 * const spring = (x) => np.multiply(0.5, np.sum(np.square(x))); // E = |x|²/2
 * const f = physics.forces(spring)(np.array([1, -2])); // [-1, 2]
 * ```
 */
export function forces(energy: ScalarFn): (x: unknown, ...args: unknown[]) => PyTree {
  const g = grad(energy);
  return (x, ...args) =>
    treeMap((gi: unknown) => np.negative(leafArray(gi, "physics.forces")), g(x, ...args));
}

/**
 * Accelerations from a Lagrangian L(q, q̇, ...args) by the Euler–Lagrange
 * equations d/dt ∂L/∂q̇ = ∂L/∂q, solved for q̈:
 *
 *   q̈ = (∇_q̇ ∇_q̇ᵀ L)⁻¹ [∇_q L − (∇_q ∇_q̇ᵀ L) q̇]
 *
 * where the mixed matrix has entries ∂²L/∂q̇ᵢ∂qⱼ. q and q̇ are 1-d float
 * arrays of the same length n (the generalised coordinates); the mass
 * matrix ∇_q̇∇_q̇ᵀL must be invertible (a regular Lagrangian).
 *
 * @example
 * ```ts
 * import { np, physics } from "chainrule";
 * // a particle of mass 2 in a uniform field: L = m q̇²/2 − m g q
 * const L = (q, qd) => np.subtract(np.sum(np.square(qd)), np.multiply(19.6, np.sum(q)));
 * const a = physics.lagrangianAcceleration(L)(np.array([0]), np.array([1])); // [-9.8]
 * ```
 */
export function lagrangianAcceleration(
  lagrangian: (q: never, qDot: never, ...args: never[]) => unknown,
): (q: unknown, qDot: unknown, ...args: unknown[]) => Array {
  const fnName = "physics.lagrangianAcceleration";
  const dLdq = grad(lagrangian, { argnums: 0 });
  const dLdqd = grad(lagrangian, { argnums: 1 });
  // ∂/∂q̇ and ∂/∂q of the vector ∂L/∂q̇: the mass matrix and the mixed block.
  const mass = jacfwd(dLdqd, { argnums: 1 });
  const mixed = jacfwd(dLdqd, { argnums: 0 });
  return (qIn, qDotIn, ...args) => {
    const q = asArray(qIn, `${fnName}: q`);
    const qDot = asArray(qDotIn, `${fnName}: qDot`);
    if (q.ndim !== 1 || qDot.ndim !== 1 || q.shape[0] !== qDot.shape[0]) {
      throw new ShapeError(
        `${fnName}: q and qDot must be 1-d arrays of one length (the generalised ` +
          `coordinates and velocities), got shapes ${fmtShape(q.shape)} and ${fmtShape(qDot.shape)}; ` +
          `flatten them with np.reshape(x, [-1])`,
      );
    }
    const gq = asArray(dLdq(q, qDot, ...args), fnName);
    const m = asArray(mass(q, qDot, ...args), fnName);
    const c = asArray(mixed(q, qDot, ...args), fnName);
    const rhs = np.subtract(gq, np.matmul(c, qDot));
    return np.linalg.solve(m, rhs);
  };
}

/**
 * Hamilton's equations as a vector field: `hamiltonianFlow(H)(q, p, ...args)`
 * returns `[q̇, ṗ] = [∂H/∂p, −∂H/∂q]`, with q and p pytrees of one structure.
 *
 * @example
 * ```ts
 * import { np, physics } from "chainrule";
 * const H = (q, p) => np.multiply(0.5, np.add(np.sum(np.square(q)), np.sum(np.square(p))));
 * const [qDot, pDot] = physics.hamiltonianFlow(H)(np.array([1]), np.array([0])); // [0], [-1]
 * ```
 */
export function hamiltonianFlow(
  hamiltonian: (q: never, p: never, ...args: never[]) => unknown,
): (q: unknown, p: unknown, ...args: unknown[]) => [PyTree, PyTree] {
  const g = grad(hamiltonian, { argnums: [0, 1] });
  return (q, p, ...args) => {
    const [dq, dp] = g(q, p, ...args) as [unknown, unknown];
    return [dp, treeMap((x: unknown) => np.negative(leafArray(x, "physics.hamiltonianFlow")), dq)];
  };
}

/** A symplectic integrator: one step, n steps, or the whole trajectory. */
export interface SymplecticIntegrator {
  /** One step of size `stepSize` from (a, b) (positions and momenta, or velocities). */
  step(a: unknown, b: unknown, ...args: unknown[]): [PyTree, PyTree];
  /** `numSteps` steps (a `lax.scan`: jit stages it as one loop); the final state. */
  integrate(a: unknown, b: unknown, numSteps: number, ...args: unknown[]): [PyTree, PyTree];
  /** `numSteps` steps; the states after each step, stacked on a new leading axis. */
  trajectory(a: unknown, b: unknown, numSteps: number, ...args: unknown[]): [PyTree, PyTree];
}

/** Options of `leapfrog`: the step size h and, optionally, the kinetic energy K. */
export interface LeapfrogOptions {
  /** The time step (a JS number, may be negative to integrate backwards). */
  stepSize: number;
  /**
   * The kinetic energy K(p); default ½ Σ p² (unit masses). Its gradient
   * gives the drift q̇ = ∂K/∂p.
   */
  kinetic?: (p: never) => unknown;
}

function makeIntegrator(
  fnName: string,
  step: (a: unknown, b: unknown, args: unknown[]) => [unknown, unknown],
): SymplecticIntegrator {
  const scanned = (a: unknown, b: unknown, numSteps: number, args: unknown[], keep: boolean) => {
    const n = checkNumSteps(fnName, numSteps);
    const body = (carry: [unknown, unknown]): [[unknown, unknown], unknown] => {
      const next = step(carry[0], carry[1], args);
      return [next, keep ? next : null];
    };
    return lax.scan(body, [a, b], null, { length: n });
  };
  return {
    step: (a, b, ...args) => step(a, b, args) as [PyTree, PyTree],
    integrate: (a, b, numSteps, ...args) =>
      scanned(a, b, numSteps, args, false)[0] as [PyTree, PyTree],
    trajectory: (a, b, numSteps, ...args) =>
      scanned(a, b, numSteps, args, true)[1] as [PyTree, PyTree],
  };
}

/**
 * The leapfrog (Störmer–Verlet, kick–drift–kick) integrator for a separable
 * Hamiltonian H(q, p) = K(p) + V(q, ...args), on pytrees q and p:
 *
 *   p½ = p − (h/2) ∇V(q);  q' = q + h ∇K(p½);  p' = p½ − (h/2) ∇V(q')
 *
 * Second order, time-reversible and symplectic. `potential` is V.
 *
 * @example
 * ```ts
 * import { np, physics } from "chainrule";
 * const V = (q) => np.multiply(0.5, np.sum(np.square(q)));
 * const lf = physics.leapfrog(V, { stepSize: 0.1 });
 * const [q, p] = lf.integrate(np.array([1]), np.array([0]), 63); // about a period 2π: q ≈ 1
 * ```
 */
export function leapfrog(potential: ScalarFn, opts: LeapfrogOptions): SymplecticIntegrator {
  const fnName = "physics.leapfrog";
  const h = checkStepSize(fnName, opts?.stepSize);
  const gradV = grad(potential);
  const kinetic = opts.kinetic;
  const gradK: (p: unknown) => unknown = kinetic === undefined ? (p) => p : grad(kinetic);
  return makeIntegrator(fnName, (q, p, args): [unknown, unknown] => {
    const pHalf = axpy(p, -h / 2, gradV(q, ...args));
    const qNew = axpy(q, h, gradK(pHalf));
    const pNew = axpy(pHalf, -h / 2, gradV(qNew, ...args));
    return [qNew, pNew];
  });
}

/** Options of `verlet`: the step size h. */
export interface VerletOptions {
  /** The time step (a JS number). */
  stepSize: number;
}

/**
 * Velocity Verlet for ẍ = a(x, ...args), on pytrees x (positions) and v
 * (velocities):
 *
 *   x' = x + h v + (h²/2) a(x);  v' = v + (h/2) (a(x) + a(x'))
 *
 * Algebraically the leapfrog of H = ½|v|² + V with a = −∇V; use it with
 * accelerations computed any way (e.g. `forces(E)` divided by masses).
 *
 * @example
 * ```ts
 * import { np, physics } from "chainrule";
 * const vv = physics.verlet((x) => np.negative(x), { stepSize: 0.1 }); // ẍ = −x
 * const [x, v] = vv.step(np.array([1]), np.array([0])); // x = 0.995, v = −0.09975
 * ```
 */
export function verlet(
  acceleration: (x: never, ...args: never[]) => unknown,
  opts: VerletOptions,
): SymplecticIntegrator {
  const fnName = "physics.verlet";
  const h = checkStepSize(fnName, opts?.stepSize);
  const acc = acceleration as (x: unknown, ...args: unknown[]) => unknown;
  return makeIntegrator(fnName, (x, v, args): [unknown, unknown] => {
    const a0 = acc(x, ...args);
    const xNew = axpy(axpy(x, h, v), (h * h) / 2, a0);
    const a1 = acc(xNew, ...args);
    const vNew = axpy(axpy(v, h / 2, a0), h / 2, a1);
    return [xNew, vNew];
  });
}
