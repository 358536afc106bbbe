// Section 13, live: a matrix-free linear map still has a matrix; jvp recovers it column by
// column and vjp row by row. Edit and press Run (np, jvp, vjp, jacfwd, ... are in scope).

// The seed's matrix_vector_product: z1 = 2 x1, z2 = x2 + 3 x3 (no matrix stored anywhere).
const mvp = (x) => np.stack([x.slice(0).mul(2), x.slice(1).add(x.slice(2).mul(3))]);
const basis = (n, i) => np.array(np.eye(n).slice(i));

// Column by column: one jvp per input basis vector (forward mode).
const columns = [0, 1, 2].map((i) => jvp(mvp, [np.zeros([3])], [basis(3, i)])[1]);
const byColumns = np.stack(columns, 1);
// Row by row: one vjp per output basis vector (reverse mode).
const [, pullback] = vjp(mvp, np.zeros([3]));
const byRows = np.stack([0, 1].map((i) => pullback(basis(2, i))[0]));

// graph_like reaches "over" y1 to x3; matrix_like adds a dummy y2 = x3. Same matrix.
const graphLike = (x) => {
  const y1 = x.slice(0).mul(2).add(x.slice(1));
  return np.stack([y1.add(x.slice(2).mul(2)), x.slice(2).sub(y1)]);
};
const matrixLike = (x) => {
  const y1 = x.slice(0).mul(2).add(x.slice(1));
  const y2 = x.slice(2);
  return np.stack([y1.add(x.slice(2).mul(2)), y2.sub(y1)]);
};
const graphM = jacfwd(graphLike)(np.zeros([3]));
const matrixM = jacfwd(matrixLike)(np.zeros([3]));

// The seed's function z = mul(x1, x2) + x2 at (2, 4), differentiated by chainrule.
const fn = (x1, x2) => x1.mul(x2).add(x2);
const [z, dz1] = jvp(fn, [2, 4], [1, 0]);
const [, dz2] = jvp(fn, [2, 4], [0, 1]);
const [, back] = vjp(fn, 2, 4);
const [g1, g2] = back(1);
