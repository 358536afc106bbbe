// Section 15, live: both modes of AD by hand (seed 003's Var graph, seed 004's Dual numbers),
// checked against chainrule; np.exp on a Dual; seed 002's piecewise function through JS control
// flow; the pyhf model's logpdf. Edit and press Run (np, grad, jvp, stats, grid, ... are in
// scope; `quick` is the test's smaller run).

// ---- Seed 003's Var: each node knows its children (weight dz/dself, child z), caches its adjoint.
class Var {
  constructor(value) {
    this.value = value;
    this.children = [];
    this.gradValue = null;
  }
  mul(other) {
    const z = new Var(this.value * other.value);
    this.children.push([other.value, z]); // dz/dself = other.value
    other.children.push([this.value, z]); // dz/dother = self.value
    return z;
  }
  add(other) {
    const z = new Var(this.value + other.value);
    this.children.push([1, z]);
    other.children.push([1, z]);
    return z;
  }
  sin() {
    const z = new Var(Math.sin(this.value));
    this.children.push([Math.cos(this.value), z]);
    return z;
  }
  // d(output)/d(this) by the chain rule over the children, computed once and cached.
  grad() {
    if (this.gradValue === null) {
      this.gradValue = this.children.reduce((s, [weight, v]) => s + weight * v.grad(), 0);
    }
    return this.gradValue;
  }
}
const vx = new Var(0.5);
const vy = new Var(4.2);
const va = vx.mul(vy).add(vx.sin()); // a = x*y + sin(x)
va.gradValue = 1.0;
const varGrad = [vx.grad(), vy.grad()];
// chainrule on the same function.
const a = (x, y) => x.mul(y).add(np.sin(x));
const chainruleGrad = grad(a, { argnums: [0, 1] })(0.5, 4.2).map((g) => g.item());

// ---- Seed 004's Dual: value + eps·ε with ε² = 0, and the four arithmetic rules.
class Dual {
  constructor(value, eps = 0) {
    this.value = value;
    this.eps = eps;
  }
  static of(o) {
    return o instanceof Dual ? o : new Dual(o);
  }
  add(o) {
    const b = Dual.of(o);
    return new Dual(this.value + b.value, this.eps + b.eps);
  }
  sub(o) {
    const b = Dual.of(o);
    return new Dual(this.value - b.value, this.eps - b.eps);
  }
  mul(o) {
    const b = Dual.of(o);
    return new Dual(this.value * b.value, this.eps * b.value + this.value * b.eps);
  }
  div(o) {
    const b = Dual.of(o);
    if (b.value === 0) throw new RangeError("Dual.div: division by zero");
    // 1/(x + aε) = 1/x - ε a/x²
    return new Dual(this.value / b.value, this.eps / b.value - (this.value / b.value ** 2) * b.eps);
  }
}
const square = (x) => x.mul(x);
const cube = (x) => x.mul(x).mul(x);

// The derivative of x² on [0, 10] by the Dual class and by jvp (the seed's error plot).
const xs = grid(0, 10, quick ? 41 : 100);
const dualEps = xs.map((x) => square(new Dual(x, 1)).eps);
const jvpEps = xs.map((x) => jvp((t) => t.mul(t), [x], [1])[1].item());
const sq = square(new Dual(3.1, 1));
const cb = cube(new Dual(2, 1));
const inverse = [
  new Dual(1).div(new Dual(2, 1)).eps,
  jvp((t) => np.divide(1, t), [2], [1])[1].item(),
];
const polynomial = [
  new Dual(1.5, 1).mul(new Dual(1.5, 1)).sub(new Dual(1.5, 1).mul(3)).add(2).eps,
  jvp((t) => t.mul(t).sub(t.mul(3)).add(2), [1.5], [1])[1].item(),
];

// np.exp on a Dual is refused (as numpy refuses it); jvp differentiates np.exp.
let expError = "";
try {
  np.exp(new Dual(3, 1));
} catch (e) {
  expError = `${e.name}: ${e.message}`;
}
const [e3, de3] = jvp(np.exp, [3], [1]).map((v) => v.item()); // (e^3, e^3)

// ---- Seed 002's control_flow_func: plain JS control flow on the value.
const piecewise = (x) => (x.item() > 2 ? x.pow(2) : x.pow(3));
const d1 = grad(piecewise);
const d2 = grad((x) => d1(x));

// ---- pyhf's uncorrelated_background([5], [10], [3.5]) at (mu, gamma) = (1, 1), written as pyhf
// does: the main Poisson of the data [15] times the Poisson constraint of the auxiliary count.
const tau = (10 / 3.5) ** 2;
const pyhfLogpdf = (mu, gamma) => {
  const main = stats.poissonLogPmf(15, np.add(np.multiply(5, mu), np.multiply(10, gamma)));
  const rateAux = np.multiply(gamma, tau);
  // Continuous Poisson of the non-integer auxiliary count tau: tau log r - r - lgamma(tau + 1).
  const aux = np.subtract(
    np.subtract(np.multiply(tau, np.log(rateAux)), rateAux),
    stats.logGamma(tau + 1),
  );
  return np.add(main, aux);
};
const logpdf = pyhfLogpdf(1, 1).item();
