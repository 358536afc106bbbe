/**
 * A first taste of chainrule: derivatives of ordinary code, forward and
 * reverse mode, Jacobians, vmap and the traced program.
 * Run with `npm run example`.
 */
import {
  grad,
  hessian,
  jacfwd,
  jacrev,
  jvp,
  makeJaxpr,
  np,
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
console.log("z(2,3) =", (value as Array).item(), " dz/dx =", (dz as Array).item());

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
