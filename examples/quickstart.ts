/**
 * A first taste of chainrule: derivatives of ordinary code, forward and
 * reverse mode, Jacobians, vmap, the traced program, jit, derivative source
 * code and the computational graph.
 * Run with `npm run example`.
 */
import {
  emitSource,
  grad,
  graphSize,
  hessian,
  jacfwd,
  jacrev,
  jit,
  jvp,
  makeJaxpr,
  np,
  toDot,
  valueAndGrad,
  vmap,
  type Array,
} from "../src/index.js";

// f(x) = x^3 + 4x^2 - 10, and its exact derivative 3x^2 + 8x.
const f = (x: Array) => np.add(np.add(np.power(x, 3), np.multiply(4, np.square(x))), -10);
const df = grad(f);
console.log("f'(2)           =", df(2).item(), "(analytic:", 3 * 4 + 8 * 2, ")");

// Derivatives of derivatives: d^2/dx^2 x^3 = 6x.
const cube = (x: Array) => np.power(x, 3);
console.log("d2/dx2 x^3 at 4 =", grad(grad(cube))(4).item());

// Ordinary control flow on concrete values works under grad.
const piecewise = (x: Array) => (x.item() < 2 ? np.power(x, 3) : np.multiply(3, x));
console.log(
  "piecewise'(1.5) =",
  grad(piecewise)(1.5).item(),
  " piecewise'(3) =",
  grad(piecewise)(3).item(),
);

// Forward mode: z = x*y + sin(x), dz along (1, 0).
const z = (x: Array, y: Array) => np.add(np.multiply(x, y), np.sin(x));
const [value, dz] = jvp(z, [2, 3], [1, 0]);
console.log("z(2,3) =", value.item(), " dz/dx =", dz.item());

// Jacobians both ways (shape out.shape ++ in.shape), and a Hessian.
const g = (x: Array) => np.multiply(np.sum(x), np.ones([2]));
console.log("jacfwd:", jacfwd(g)(np.array([1, 2, 3])).toString());
console.log("jacrev:", jacrev(g)(np.array([1, 2, 3])).toString());
console.log(
  "hessian of sum(x^3):",
  hessian((x: Array) => np.sum(np.power(x, 3)))(np.array([1, 2])).toString(),
);

// vmap: per-example gradients without a loop.
const perExample = vmap(grad((x: Array) => np.sum(np.sin(x))));
console.log(
  "vmap(grad):",
  perExample(
    np.array([
      [0, 1],
      [2, 3],
    ]),
  ).toString(),
);

// The traced program of the gradient.
console.log(makeJaxpr(grad((x: Array) => np.multiply(np.sin(x), x)))(0.5).toString());

// jit: trace once, optimise, compile to JavaScript. The traced loop comes back as a loop.
const w1 = (x: Array) => {
  for (let i = 0; i < 20; i++) x = np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x));
  return x;
};
const fastGrad = jit(grad(w1));
console.log("jit(grad(w1))(0.3) =", fastGrad(0.3).item(), " eager:", grad(w1)(0.3).item());

// The derivative as standalone source code, and the graph as Graphviz DOT.
const torchvizExample = (x: Array, y: Array) =>
  np.add(np.add(np.square(x), np.multiply(4, y)), np.square(np.cos(x)));
console.log(emitSource(valueAndGrad(torchvizExample, { argnums: [0, 1] }))(2, 1.5));
console.log(
  toDot(torchvizExample)(2, 1.5).split("\n").length,
  "lines of DOT (render with renderSvg)",
);
const squareThrice = (x: Array) => {
  x = np.multiply(x, x);
  x = np.multiply(x, x);
  x = np.multiply(x, x);
  return x;
};
console.log("x = x*x three times, DAG vs expression tree:", graphSize(squareThrice)(2));
