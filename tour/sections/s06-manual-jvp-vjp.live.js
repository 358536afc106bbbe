// Section 6, live: the derivative of a small program by hand, forward and reverse, next to
// chainrule's jvp and vjp. Edit and press Run (np, jvp, vjp, ... are in scope).

// The program: y = x1 * x2; z = y + x2.
const program = (x1, x2) => np.add(np.multiply(x1, x2), x2);

// Forward mode by hand: each statement carries its tangent.
const manualJvp = (x1, x2, dx1, dx2) => {
  const y = x1 * x2;
  const dy = x1 * dx2 + x2 * dx1; // product rule
  const z = y + x2;
  const dz = dy + dx2; // sum rule
  return [z, dz];
};

// Reverse mode by hand: run forward, then accumulate adjoints statement by statement backwards.
const manualVjp = (x1, x2, dz) => {
  const y = x1 * x2;
  const z = y + x2;
  let gx1 = 0;
  let gx2 = 0;
  // z = y + x2: both operands receive dz
  const gy = dz;
  gx2 += dz;
  // y = x1 * x2: each factor receives gy times the other
  gx1 += gy * x2;
  gx2 += gy * x1;
  return [z, [gx1, gx2]];
};

// chainrule at the seed's point: one jvp per input direction, one vjp for both partials.
const at = [2, 4];
const jvpAlongE1 = jvp(program, at, [1, 0])[1].item();
const jvpAlongE2 = jvp(program, at, [0, 1])[1].item();
const [zByVjp, pullback] = vjp(program, ...at);
const vjpGrads = pullback(1).map((g) => g.item());
