// Section 2, live: expression swell. Each map is written once against a namespace `ops` of
// numpy names (add, subtract, multiply, square, power): the section runs it with ops = np for
// chainrule's grad and with ops = the tour's symbolic differentiator's constructors (the same
// five names, on formulas) for the symbolic derivative. Edit a map, add one, or change the
// number of iterations and press Run (np, grad, makeJaxpr, graphSize, ... are in scope).

const maps = [
  {
    name: "3x^2 - x + 1",
    f: (x, ops) => ops.add(ops.subtract(ops.multiply(3, ops.square(x)), x), 1),
  },
  {
    name: "quadmap x^2 + 3x + 4",
    f: (x, ops) => ops.add(ops.add(ops.square(x), ops.multiply(3, x)), 4),
  },
];
const maxIter = quick ? 6 : 8; // iterations of each map
const x0 = 0.3; // where grad and the symbolic derivative are compared

// Tree vs DAG: x = x*x repeated k times computes x^(2^k).
const repeatSquare = (k) => (x) => {
  for (let i = 0; i < k; i++) x = np.multiply(x, x);
  return x;
};
const kMax = quick ? 10 : 16;
