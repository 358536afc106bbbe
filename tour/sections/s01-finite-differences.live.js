// Section 1, live: finite differences against automatic differentiation. Edit and press Run
// (np, grad, vmap, grid, logGrid, ... are in scope; `quick` is the test's smaller run).

// The seed's polynomial: as chainrule code, as plain JS (for finite differences), and its
// derivative by hand.
const poly = (x) => np.add(np.add(np.power(x, 3), np.multiply(4, np.square(x))), -10);
const polyJs = (x) => x ** 3 + 4 * x ** 2 - 10;
const polyPrime = (x) => 3 * x ** 2 + 8 * x;
// The oscillating sin(1000x) (period 0.006) the same three ways.
const osc = (x) => np.sin(np.multiply(1000, x));
const oscJs = (x) => Math.sin(1000 * x);
const oscPrime = (x) => 1000 * Math.cos(1000 * x);

// The forward difference the seed uses: truncation error ~ eps f''/2, rounding ~ 1e-16 f/eps.
const forwardDifference = (f, x, eps) => (f(x + eps) - f(x)) / eps;

// f' at every grid point by vmap(grad(f)): no step to choose.
const adOnGrid = (f, xs) => Array.from(vmap(grad(f))(np.array(xs)).data());
const xsPoly = grid(-5, 5, 10);
const adPoly = adOnGrid(poly, xsPoly);
const xsOsc = grid(-0.5, 0.5, quick ? 50 : 200);
const adOsc = adOnGrid(osc, xsOsc);
// Three periods of sin(1000x), 40 points per period (the seed's grid aliases).
const xsZoom = grid(0, 0.019, 121);
const adZoom = adOnGrid(osc, xsZoom);

// The U-shaped curve: forward differences at one point per function as eps shrinks.
const epsList = logGrid(-15, -1, quick ? 29 : 57);
const at = { poly: 1.3, osc: 0.1 };
const adAtPoly = grad(poly)(at.poly).item();
const adAtOsc = grad(osc)(at.osc).item();
