// Section 16, live: Hamiltonian Monte Carlo on a correlated 2-D Gaussian. Leapfrog trajectories
// (physics.leapfrog on U = -log p) from three starts, then NUTS (infer.nuts) with several chains.
// Edit the target, the step, the starts or the run lengths and press Run (np, infer, physics,
// random, ... are in scope; `quick` picks the shorter run, used by the page and the test). The
// section's references (the analytic gradient, a plain-JS leapfrog, the mean and covariance)
// follow mu, sd and rho as defined here.

// The target N(mu, Sigma), Sigma = [[sd1², rho sd1 sd2], [rho sd1 sd2, sd2²]].
const mu = [1, -0.5];
const sd = [1, 2];
const rho = 0.8;
const covariance = [
  [sd[0] ** 2, rho * sd[0] * sd[1]],
  [rho * sd[0] * sd[1], sd[1] ** 2],
];
const det = covariance[0][0] * covariance[1][1] - covariance[0][1] ** 2;
const precision = np.array([
  [covariance[1][1] / det, -covariance[0][1] / det],
  [-covariance[1][0] / det, covariance[0][0] / det],
]); // Sigma^-1, the 2 x 2 inverse written out
// log p(x) = -(x - mu)^T Sigma^-1 (x - mu) / 2 (unnormalised).
const logDensity = (x) => {
  const d = np.subtract(x, np.array(mu));
  return np.multiply(-0.5, np.sum(np.multiply(d, np.matmul(precision, d))));
};

// 1. Leapfrog trajectories of H(q, p) = U(q) + |p|² / 2, U = -log p.
const stepSize = 0.1;
const trajSteps = 60;
const starts = [
  { q: [-1, -3], p: [1.2, 0.4] },
  { q: [2.5, 3], p: [-0.5, -1.5] },
  { q: [0, 1], p: [1.5, -1] },
];
const integrator = physics.leapfrog((q) => np.negative(logDensity(q)), { stepSize });
const trajectories = starts.map((s) => {
  const [qs, ps] = integrator.trajectory(np.array(s.q), np.array(s.p), trajSteps);
  return { q: qs.toArray(), p: ps.toArray() };
});

// 2. NUTS: several chains in one call.
const seed = 16;
const chains = 4;
const numWarmup = quick ? 200 : 500;
const numSamples = quick ? 250 : 1500;
const t0 = performance.now();
const result = infer.nuts(logDensity, np.zeros([2]), {
  key: random.key(seed),
  numWarmup,
  numSamples,
  chains,
});
const samplerSeconds = (performance.now() - t0) / 1000;
