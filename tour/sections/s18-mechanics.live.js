// Section 18, live: the models of this section, written as energies (the double pendulum's
// Lagrangian and Hamiltonian, the Henon-Heiles and Lennard-Jones potentials), and the runs'
// settings. physics.lagrangianAcceleration, hamiltonianFlow and forces turn them into equations
// of motion and forces. Edit and press Run (np, physics, ode, grid, ... are in scope; `quick`
// picks the shorter runs, used by the page and the test). The references (the textbook equations
// of motion, the analytic forces) use g from here.

// The double pendulum (unit masses and lengths), angles q = (theta1, theta2).
const g = 9.81;
// L = T - V = w1² + w2²/2 + w1 w2 cos(theta1 - theta2) + 2 g cos theta1 + g cos theta2.
const lagrangian = (q, qDot) => {
  const [t1, t2] = [np.take(q, 0), np.take(q, 1)];
  const [w1, w2] = [np.take(qDot, 0), np.take(qDot, 1)];
  const kinetic = np.add(
    np.add(np.square(w1), np.multiply(0.5, np.square(w2))),
    np.multiply(np.multiply(w1, w2), np.cos(np.subtract(t1, t2))),
  );
  return np.add(kinetic, np.add(np.multiply(2 * g, np.cos(t1)), np.multiply(g, np.cos(t2))));
};
// H(q, p) = p^T M(q)^-1 p / 2 + V(q), M = [[2, c], [c, 1]], M^-1 = [[1, -c], [-c, 2]] / (2 - c²),
// c = cos(theta1 - theta2) (the Legendre transform of L, written out).
const hamiltonian = (q, p) => {
  const c = np.cos(np.subtract(np.take(q, 0), np.take(q, 1)));
  const [p1, p2] = [np.take(p, 0), np.take(p, 1)];
  const quad = np.add(
    np.subtract(np.square(p1), np.multiply(np.multiply(2, c), np.multiply(p1, p2))),
    np.multiply(2, np.square(p2)),
  );
  const kinetic = np.divide(quad, np.multiply(2, np.subtract(2, np.square(c))));
  const potential = np.negative(
    np.add(np.multiply(2 * g, np.cos(np.take(q, 0))), np.multiply(g, np.cos(np.take(q, 1)))),
  );
  return np.add(kinetic, potential);
};

// The chaotic run: odeint from (2.2, 2.6) at rest, and from a start 1e-6 away.
const chaos = {
  start: [2.2, 2.6, 0, 0],
  nudged: [2.2, 2.6 + 1e-6, 0, 0],
  tEnd: quick ? 10 : 20,
  nOut: quick ? 401 : 1001,
  tol: { rtol: 1e-10, atol: 1e-10 },
};
// The long run: implicit midpoint (Newton iterations per step) vs RK4, step h, from a calm start.
const long = {
  h: 0.1,
  calm: [1.0, 0.5, 0, 0],
  tEnd: quick ? 100 : 200,
  iterations: 3,
  every: quick ? 5 : 10, // record the energy every this many steps
};

// Henon-Heiles: V = (x² + y²)/2 + x² y - y³/3.
const henonHeiles = (r) => {
  const [x, y] = [np.take(r, 0), np.take(r, 1)];
  return np.add(
    np.multiply(0.5, np.add(np.square(x), np.square(y))),
    np.subtract(np.multiply(np.square(x), y), np.divide(np.power(y, 3), 3)),
  );
};
// Lennard-Jones: sum_{i<j} 4 (r^-12 - r^-6) of atoms at pos = {x, y, z} (a pytree of three [n] arrays).
const lennardJones = (pos) => {
  const n = pos.x.shape[0];
  const diff = (a) => np.subtract(np.expandDims(a, 1), np.expandDims(a, 0));
  const r2 = np.add(np.add(np.square(diff(pos.x)), np.square(diff(pos.y))), np.square(diff(pos.z)));
  // Only the pairs i < j (an upper-triangular mask; the diagonal gets r² = 1 to stay finite).
  const mask = np.array(
    Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (j > i ? 1 : 0))),
  );
  const safe = np.where(np.greater(mask, 0), r2, 1);
  const inv6 = np.power(np.reciprocal(safe), 3);
  return np.sum(np.multiply(mask, np.multiply(4, np.subtract(np.square(inv6), inv6))));
};
