// Section 7, live: the computational graph of a function, as chainrule records it. Edit f
// (and the derivatives by hand below it) and press Run: the graphs are redrawn.

const f = (x, y) => np.add(np.add(np.square(x), np.multiply(4, y)), np.square(np.cos(x)));
// Its partial derivatives worked out by hand: d/dx cos(x)^2 = -2 cos x sin x = -sin 2x.
const dfdxByHand = (x, y) => 2 * x - Math.sin(2 * x);
const dfdyByHand = (x, y) => 4;

const at = [2, 1.5];
const [dfdx, dfdy] = grad(f, { argnums: [0, 1] })(...at).map((g) => g.item());
