// Section 10, live: a small neural network trained by adam under jit, and Lennard-Jones forces
// as minus the gradient of the energy. Edit and press Run (np, nn, optim, tree, grad, jit, ...
// are in scope; `quick` is the test's smaller run).

// ---- Neural network: fit y = sin(x) on [-3, 3] with a 1-16-16-1 tanh MLP.
const xsTrain = grid(-3, 3, 64);
const xTrain = np.reshape(np.array(xsTrain), [64, 1]);
const yTrain = np.reshape(np.sin(np.array(xsTrain)), [64, 1]);
const target = Math.sin;
const loss = (params) => nn.mse(nn.mlpApply(params, xTrain, np.tanh), yTrain);

const initialParams = nn.mlp([1, 16, 16, 1], { seed: 1 });
const [, gradAtStart] = valueAndGrad(loss)(initialParams);

const steps = quick ? 150 : 600;
const step = jit(valueAndGrad(loss));
const adam = optim.adam(0.01);
let params = initialParams;
let state = adam.init(params);
const curve = [];
for (let s = 0; s < steps; s++) {
  const [value, grads] = step(params);
  if (s % 5 === 0 || s === steps - 1) curve.push({ step: s, loss: value.item() });
  [params, state] = adam.update(grads, state, params);
}
const finalLoss = loss(params).item();
const jitFinal = step(params)[0].item();
const predict = (x) => nn.mlpApply(params, [[x]], np.tanh).item();
const parameterCount = tree.leaves(params).reduce((n, leaf) => n + leaf.size, 0);

// ---- Lennard-Jones: U = sum_{i<j} 4 (r^-12 - r^-6) (epsilon = sigma = 1), positions [n, 3].
const ljEnergy = (pos) => {
  const n = pos.shape[0];
  const diff = np.subtract(np.expandDims(pos, 1), np.expandDims(pos, 0)); // [n, n, 3]
  const eye = np.eye(n);
  // r^2 with 1 on the diagonal (masked out below) so that no 1/0 appears.
  const r2 = np.add(np.sum(np.square(diff), -1), eye);
  const inv6 = np.power(r2, -3);
  const pair = np.multiply(4, np.subtract(np.square(inv6), inv6));
  return np.multiply(0.5, np.sum(np.multiply(pair, np.subtract(1, eye))));
};
// The same energy in plain JS (the finite differences use it).
const ljEnergyJs = (p) => {
  let u = 0;
  for (let i = 0; i < p.length; i++)
    for (let j = i + 1; j < p.length; j++) {
      const r2 = p[i].reduce((s, v, k) => s + (v - p[j][k]) ** 2, 0);
      u += 4 * (r2 ** -6 - r2 ** -3);
    }
  return u;
};
// A 7-atom cluster: a slightly distorted hexagon with one atom in the centre.
const atoms = [[0, 0, 0.05]];
for (let k = 0; k < 6; k++) {
  const r = 1.12 + 0.06 * Math.sin(3 * k + 1);
  const a = (k * Math.PI) / 3 + 0.04 * Math.sin(2 * k + 1);
  atoms.push([r * Math.cos(a), r * Math.sin(a), 0.1 * Math.cos(2 * k)]);
}
// All 21 force components in one reverse pass.
const forces = np.negative(grad(ljEnergy)(np.array(atoms))).toArray();
const energy = ljEnergy(np.array(atoms)).item();
