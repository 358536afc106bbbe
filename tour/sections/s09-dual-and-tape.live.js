// Section 9, live: forward mode by dual numbers and by jvp; reverse mode by grad.
// Edit and press Run: np, grad, jvp, grid, ... are in scope; `quick` is the test's smaller run.

// A dual number a + b·eps with eps² = 0: the value and the derivative travel together.
class Dual {
  constructor(value, deriv) {
    this.value = value;
    this.deriv = deriv;
  }
  mul(o) {
    // (a + b eps)(c + d eps) = ac + (ad + bc) eps
    return new Dual(this.value * o.value, this.value * o.deriv + this.deriv * o.value);
  }
}
const variable = (x) => new Dual(x, 1);

// chainrule's forward mode: jvp with tangent 1 gives [f(x), f'(x)].
const jvpAt = (f, x) => {
  const [y, dy] = jvp(f, [x], [1]);
  return [y.item(), dy.item()];
};
const square = (x) => np.multiply(x, x);
const cube = (x) => np.multiply(np.multiply(x, x), x);

// The seeds' cells: x² at 3.1 and x³ at 2, by jvp and by dual numbers.
const squareJvp = jvpAt(square, 3.1);
const squareDual = variable(3.1).mul(variable(3.1));
const cubeJvp = jvpAt(cube, 2);
const cubeDual = variable(2).mul(variable(2)).mul(variable(2));

// The sweep plotted below: [f(x), f'(x)] by jvp, and f'(x) by dual numbers.
const xs = grid(-2, 2, quick ? 17 : 41);
const sweep = xs.map((x) => jvpAt(cube, x));
const dualSweep = xs.map((x) => variable(x).mul(variable(x)).mul(variable(x)).deriv);

// Reverse mode on the slides' z = x·y + sin(x): one backward pass gives both partials.
const z = (x, y) => np.add(np.multiply(x, y), np.sin(x));
const at = [0.5, 4.2];
const [dzdx, dzdy] = grad(z, { argnums: [0, 1] })(...at).map((g) => g.item());
