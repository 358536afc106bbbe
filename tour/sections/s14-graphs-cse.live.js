// Section 14, live: the programs drawn in this section (seed 000's x = x*x three times, f1 and
// f2, and the derivative programs forward and reverse mode run on them) and seed 002's iterated
// quadratic map with chainrule's derivative program. Edit and press Run (np, jvp, vjp, grad,
// emitSource, ... are in scope). The symbolic derivative and its CSE (the tour's own helper)
// follow quadmap only as x² + 3x + 4: edit it and their checks show the difference.

// Seed 000: x = x*x three times (x^8), and f1, f2.
const power8 = (x) => {
  x = x.mul(x);
  x = x.mul(x);
  x = x.mul(x);
  return x;
};
const f1 = (x1) => {
  x1 = x1.mul(x1);
  x1 = x1.mul(x1);
  return [x1, x1, x1];
};
const f2 = (x1, x2, x3) => {
  x1 = x1.mul(x2).mul(x3);
  x1 = x1.mul(x1);
  return x1;
};
// Forward mode: one jvp gives all of f1's outputs; reverse mode needs one pullback per output.
const unit = (i) => [0, 1, 2].map((j) => (i === j ? 1 : 0));
const f1Forward = (x) => jvp(f1, [x], [1])[1];
const f1Reverse = (x) => {
  const [, pullback] = vjp(f1, x);
  return [0, 1, 2].map((i) => pullback(unit(i))[0]);
};
// For f2 it is the other way round: three jvps, or one pullback.
const f2Forward = (a, b, c) => [0, 1, 2].map((i) => jvp(f2, [a, b, c], unit(i))[1]);
const f2Reverse = (a, b, c) => vjp(f2, a, b, c)[1](1);

// Seed 002: the quadratic map applied n times, and chainrule's optimised derivative program.
const quadmap = (x) => x.mul(x).add(x.mul(3)).add(4);
const iterated = (n) => (x) => {
  for (let i = 0; i < n; i++) x = quadmap(x);
  return x;
};
const derivativeSource = (n) => emitSource(grad(iterated(n)))(0.3);
