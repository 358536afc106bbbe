// Section 17, live: the Lotka-Volterra predator-prey model solved by ode.odeint, and the
// sensitivities dy(t)/dtheta of its solution by forward mode (jacfwd through the solver) and by
// reverse mode with both adjoints. Edit theta, y0, the times or the tolerances and press Run
// (np, ode, jacfwd, vjp, grid, ... are in scope; `quick` picks the shorter run, used by the page
// and the test). The reference (a plain-JS RK4 solver and its finite differences) uses theta and
// y0 from here, with its own copy of the vector field.

// dx/dt = alpha x - beta x y, dy/dt = delta x y - gamma y, theta = (alpha, beta, delta, gamma).
const theta0 = [1.0, 0.4, 0.2, 0.8];
const y0 = [2, 1];
const tol = { rtol: 1e-8, atol: 1e-8 };
const lotkaVolterra = (y, _t, theta) => {
  const x = np.take(y, 0);
  const z = np.take(y, 1);
  const [a, b, d, g] = [0, 1, 2, 3].map((i) => np.take(theta, i));
  const xz = np.multiply(x, z);
  return np.stack([
    np.subtract(np.multiply(a, x), np.multiply(b, xz)),
    np.subtract(np.multiply(d, xz), np.multiply(g, z)),
  ]);
};

const tEnd = quick ? 8 : 15;
const nt = quick ? 41 : 151;
const times = grid(0, tEnd, nt);
const solve = (theta, adjoint = "checkpoint", at = np.array(times)) =>
  ode.odeint(lotkaVolterra, np.array(y0), at, theta, { ...tol, adjoint });
const seconds = {};
const timed = (name, f) => {
  const t0 = performance.now();
  const r = f();
  seconds[name] = (performance.now() - t0) / 1000;
  return r;
};
const theta = np.array(theta0);
const solution = timed("solve", () => solve(theta).toArray());
// Forward mode: the whole Jacobian [nt, 2, 4] in one jacfwd (4 tangents through the solver).
const jac = timed("jacfwd", () => jacfwd(solve)(theta).toArray());

// Reverse mode, checkpoint adjoint: one vjp (a forward solve over all output times), then one
// pullback per output y_s(t_k), each giving dy_s(t_k)/dtheta for all four parameters.
const last = nt - 1;
const ks = (quick ? [0.5, 1] : [1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1]).map((f) =>
  Math.round(f * last),
);
const checkpointRows = timed("checkpoint", () => {
  const [, pullback] = vjp((th) => solve(th, "checkpoint"), theta);
  return ks.flatMap((k) =>
    [0, 1].map((s) => {
      const ct = times.map(() => [0, 0]);
      ct[k][s] = 1;
      return { k, s, g: pullback(np.array(ct))[0].toArray() };
    }),
  );
});
// Backsolve adjoint: its backward pass solves the adjoint ODE once per interval between output
// times, so each t_k gets its own solve with outputs [0, t_k] only (one vjp, two pullbacks).
const backsolveRows = timed("backsolve", () =>
  ks.flatMap((k) => {
    const [, pullback] = vjp((th) => solve(th, "backsolve", np.array([0, times[k]])), theta);
    return [0, 1].map((s) => {
      const ct = [
        [0, 0],
        [0, 0],
      ];
      ct[1][s] = 1;
      return { k, s, g: pullback(np.array(ct))[0].toArray() };
    });
  }),
);
