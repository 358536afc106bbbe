// Section 3, live: derivatives through an ordinary `if`. Edit and press Run
// (np, grad, grid, ... are in scope; `quick` is the test's smaller run).

// The seed's piecewise function, written with an `if` on the value of x ...
const piecewise = (x) => (x.item() < 2 ? np.power(x, 3) : np.multiply(3, x));
// ... the same function on plain numbers (the finite differences below use it) ...
const piecewiseJs = (x) => (x < 2 ? x ** 3 : 3 * x);
// ... and its second derivative worked out by hand (6x, then 0).
const secondByHand = (x) => (x < 2 ? 6 * x : 0);
// Where the branches meet: no derivative there, so the grid and the checks avoid it.
const kink = 2;

// f' and f'' by grad and grad of grad, on a grid of [0, 5].
const xs = grid(0, 5, quick ? 41 : 101).filter((x) => Math.abs(x - kink) > 1e-3);
const d1 = grad(piecewise);
const d2 = grad(grad(piecewise));
const ad1 = xs.map((x) => d1(x).item());
const ad2 = xs.map((x) => d2(x).item());
