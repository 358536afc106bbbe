// Section 12, live: PyTorch's and TensorFlow's imperative idioms with chainrule's imperative
// interface (the same tape as grad). Edit and press Run (np, grad, GradientTape, ... in scope).

// PyTorch: x = torch.ones(2, 2, requires_grad=True); y = x + 2; z = y * y * 3; out = z.mean()
const x = np.ones([2, 2], { requiresGrad: true });
const y = x.add(2);
const z = y.mul(y).mul(3);
const out = z.mean();
out.backward(); // x.grad = d(out)/dx = 6 (x + 2) / 4
const xGrad = x.grad;

// torch.autograd.grad(y, x, torch.ones_like(y), create_graph=True)
const n = quick ? 25 : 100;
const t = np.linspace(0, 1, n, { requiresGrad: true });
const e = np.exp(t.mul(2));
e.backward(np.onesLike(e), { createGraph: true });
const dedt = t.grad; // 2 exp(2t), recorded: it can be differentiated again
t.zeroGrad(); // PyTorch's zero_grad: forget the accumulated gradient
dedt.sum().backward();
const d2edt2 = t.grad; // 4 exp(2t)

// x = tf.Variable(3.0): a variable is watched automatically (requiresGrad here)
const v = np.array(3, { requiresGrad: true });
const tape1 = new GradientTape();
const yv = tape1.record(() => v.pow(2));
const dyv = tape1.gradient(yv, v).item(); // 6

// x = tf.linspace(0.0, 10.0, 100): a constant must be watched explicitly
const xs = np.linspace(0, 10, n);
const tape2 = new GradientTape();
const ys = tape2.record(() => {
  tape2.watch(xs);
  return xs.pow(2);
});
const dys = tape2.gradient(ys, xs); // 2x

const us = np.linspace(0, 1.23, n);
const tape3 = new GradientTape();
const eu = tape3.record(() => {
  tape3.watch(us);
  return np.exp(us.mul(2));
});
const deu = tape3.gradient(eu, us); // 2 exp(2x)

// x^3 and its derivatives at 4, by backward with createGraph and by nested grad
const w = np.array(4, { requiresGrad: true });
let d = w.pow(3);
const byBackward = [];
for (let k = 0; k < 4; k++) {
  w.zeroGrad();
  d.backward(undefined, { createGraph: true });
  d = w.grad;
  byBackward.push(d.item());
}
let g = (s) => s.pow(3);
const byGrad = [];
for (let k = 0; k < 4; k++) {
  const prev = g;
  g = (s) => grad(prev)(s);
  byGrad.push(g(np.array(4)).item());
}
