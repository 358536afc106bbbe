// Section 4, live: derivatives of derivatives. grad returns an ordinary function, so it can be
// differentiated again; vmap maps it over the grid. Edit and press Run.

const f = (x) => np.power(x, 3);
// Each derivative with the formula it should equal (worked out by hand).
const derivatives = [
  ["f = x^3", f, (v) => v ** 3],
  ["f' = grad f", grad(f), (v) => 3 * v * v],
  ["f'' = grad(grad f)", grad(grad(f)), (v) => 6 * v],
  ["f''' = grad(grad(grad f))", grad(grad(grad(f))), () => 6],
];

const xs = grid(-2, 2, quick ? 21 : 81);
// One row of values per function: vmap runs it on the whole grid at once.
const values = derivatives.map(([, fn]) => Array.from(vmap(fn)(np.array(xs)).data()));
const byHand = derivatives.map(([, , exact]) => xs.map(exact));
const names = derivatives.map(([name]) => name);
