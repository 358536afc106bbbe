// Section 11, live: an array of damped nonlinear (Duffing) oscillators stepped T times with
// lax.scan; the section differentiates the final loss with respect to (k, c, a) by plain reverse
// mode, by revolve checkpointing and by jacfwd, and times each. Edit the model or the sizes and
// press Run (np, lax, grid, ... are in scope; `quick` picks the smaller sizes, used by the page
// and the test). The memory each method keeps is measured with Node's garbage collector: in
// Node only (the report), not in the page.

const DT = 0.01;
const PARAMS = [1.0, 0.05, 0.5]; // stiffness k, damping c, cubic coefficient a
const n = quick ? 50 : 100; // oscillators
const Ts = quick ? [100, 200, 400] : [250, 500, 1000, 2000]; // numbers of steps
const snapshotCounts = [4, 16]; // revolve's snapshots
const reps = quick ? 1 : 3; // timing repetitions (the median is shown)

// Per-oscillator stiffness factors s_i and initial positions x0_i (same in chainrule and in JS).
const setup = (n) => ({
  stiff: Array.from({ length: n }, (_, i) => 0.5 + (1.5 * i) / (n - 1)),
  x0: Array.from({ length: n }, (_, i) => Math.sin((6 * i) / (n - 1))),
});

// The loss L(k, c, a) = mean(x_T²) after T semi-implicit Euler steps of
//   acc = -k s x - c v - a x³,  v' = v + dt acc,  x' = x + dt v'.
// scanOptions selects revolve ({ checkpoint: { snapshots } }); onLastStep, if given, is called
// inside the last step (the section's memory probe for jacfwd, in Node).
const simulation = (T, n, scanOptions, onLastStep) => {
  const { stiff, x0 } = setup(n);
  const s = np.array(stiff);
  const xInit = np.array(x0);
  return (params) => {
    const [k, c, a] = [0, 1, 2].map((i) => np.take(params, i, 0));
    const ks = np.multiply(k, s);
    let t = 0;
    const step = ([x, v]) => {
      if (++t === T && onLastStep) onLastStep();
      const acc = np.subtract(
        np.negative(np.add(np.multiply(ks, x), np.multiply(c, v))),
        np.multiply(a, np.multiply(x, np.square(x))),
      );
      const v2 = np.add(v, np.multiply(DT, acc));
      return [[np.add(x, np.multiply(DT, v2)), v2], null];
    };
    const [[xT]] = lax.scan(step, [xInit, np.zeros([n])], null, { length: T, ...scanOptions });
    return np.mean(np.square(xT));
  };
};

// The same simulation in plain float64 JavaScript (the finite differences use it).
const simulationJs = (T, n, [k, c, a]) => {
  const { stiff, x0 } = setup(n);
  const x = x0.slice();
  const v = x0.map(() => 0);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      const acc = -k * stiff[i] * x[i] - c * v[i] - a * x[i] ** 3;
      v[i] = v[i] + DT * acc;
      x[i] = x[i] + DT * v[i];
    }
  }
  return x.reduce((sum, xi) => sum + xi * xi, 0) / n;
};
