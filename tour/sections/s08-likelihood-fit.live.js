// Section 8, live: the pyhf counting model (signal 5 scaled by mu, background 10 scaled by
// gamma, background uncertainty 3.5, 15 observed), its log-likelihood on a grid by vmap, the
// gradient field by vmap(valueAndGrad), and the fit by stats.fit. Edit and press Run (np,
// stats, vmap, valueAndGrad, grid, ... are in scope; `quick` is the test's smaller run).

const SIGNAL = 5;
const BACKGROUND = 10;
const SIGMA_B = 3.5;
const OBSERVED = 15;
const TAU = (BACKGROUND / SIGMA_B) ** 2; // the auxiliary count of the background constraint
const model = { signal: SIGNAL, background: BACKGROUND, sigmaB: SIGMA_B, observed: OBSERVED };
const logGammaAux = stats.logGamma(TAU + 1).item();

// log L(mu, gamma) = log Pois(15 | 5 mu + 10 gamma) + log Pois_c(tau | gamma tau), p = [mu, gamma].
const logLikelihood = (p) => {
  const mu = np.take(p, 0);
  const gamma = np.take(p, 1);
  const rate = np.add(np.multiply(SIGNAL, mu), np.multiply(BACKGROUND, gamma));
  const main = stats.poissonLogPmf(OBSERVED, rate);
  const constraint = np.subtract(
    np.subtract(np.multiply(TAU, np.log(np.multiply(gamma, TAU))), np.multiply(gamma, TAU)),
    logGammaAux,
  );
  return np.add(main, constraint);
};
// The same formula in plain JS (the finite differences use it).
const logLikelihoodJs = (mu, gamma) => {
  const rate = SIGNAL * mu + BACKGROUND * gamma;
  let logFactorial = 0;
  for (let i = 2; i <= OBSERVED; i++) logFactorial += Math.log(i);
  const main = OBSERVED * Math.log(rate) - rate - logFactorial;
  return main + TAU * Math.log(gamma * TAU) - gamma * TAU - logGammaAux;
};

// log L on an n x n grid over [0.5, 1.5]^2, all points in one vmap call.
const n = quick ? 41 : 101;
const points = [];
for (const gamma of grid(0.5, 1.5, n)) for (const mu of grid(0.5, 1.5, n)) points.push([mu, gamma]);
const values = Array.from(vmap(logLikelihood)(np.array(points)).data());

// The gradient field on a coarse 11 x 11 grid by vmap(valueAndGrad).
const arrows = [];
for (const gamma of grid(0.5, 1.5, 11))
  for (const mu of grid(0.5, 1.5, 11)) arrows.push([mu, gamma]);
const [, grads] = vmap(valueAndGrad(logLikelihood))(np.array(arrows));
const field = arrows.map(([mu, gamma], i) => {
  const [gMu, gGamma] = grads.toArray()[i];
  return { mu, gamma, gMu, gGamma };
});

// The fit: minimise -log L from (0.8, 1.2); uncertainties from the inverse Hessian.
const result = stats.fit((p) => np.negative(logLikelihood(p)), np.array([0.8, 1.2]));
const best = result.params.toArray();
const errors = result.stdErrors.toArray();
const iterations = result.optimization.iterations;
const maxLogL = -result.nll;
