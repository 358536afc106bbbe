/**
 * Browser benchmark page, the workloads' data and their independent
 * references: W2 (one MLP training step, as bench/w2.ts, with its sizes as
 * parameters) and W3 (float32 C = A B, as bench/w3.ts, at several sizes).
 * The references are plain JS in float64: W2's first loss, and W3's product
 * at a sample of entries (a full float64 product at 4096 would take
 * minutes), so every library is checked against arithmetic done another way
 * as well as against the others.
 */

export interface MlpSizes {
  batch: number;
  nIn: number;
  nHidden: number;
  nOut: number;
}

/** bench/w2.ts's sizes. */
export const W2_SIZES: MlpSizes = { batch: 128, nIn: 784, nHidden: 256, nOut: 10 };

export const LEARNING_RATE = 0.01;

export interface MlpData {
  sizes: MlpSizes;
  x: Float32Array;
  yOneHot: Float32Array;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

/** Deterministic inputs, labels and Glorot-scaled initial weights (bench/w2.ts's formulas). */
export function makeMlpData(sizes: MlpSizes): MlpData {
  const { batch, nIn, nHidden, nOut } = sizes;
  const x = new Float32Array(batch * nIn).map((_, i) => Math.sin(i * 0.731) * 0.5 + 0.5);
  const yOneHot = new Float32Array(batch * nOut);
  for (let r = 0; r < batch; r++) yOneHot[r * nOut + ((r * 7) % nOut)] = 1;
  const s1 = Math.sqrt(6 / (nIn + nHidden));
  const s2 = Math.sqrt(6 / (nHidden + nOut));
  return {
    sizes,
    x,
    yOneHot,
    w1: new Float32Array(nIn * nHidden).map((_, i) => Math.sin(i * 1.37 + 0.1) * s1),
    b1: new Float32Array(nHidden).map((_, i) => Math.cos(i) * 0.01),
    w2: new Float32Array(nHidden * nOut).map((_, i) => Math.cos(i * 0.91 + 0.3) * s2),
    b2: new Float32Array(nOut),
  };
}

/**
 * The loss at the initial weights in plain JS float64: the mean over rows
 * of -sum_j y_j log softmax(relu(x w1 + b1) w2 + b2)_j.
 */
export function plainMlpLoss(d: MlpData): number {
  const { batch, nIn, nHidden, nOut } = d.sizes;
  let total = 0;
  const h = new Float64Array(nHidden);
  const logits = new Float64Array(nOut);
  for (let r = 0; r < batch; r++) {
    h.set(d.b1);
    for (let k = 0; k < nIn; k++) {
      const xk = d.x[r * nIn + k]!;
      for (let j = 0; j < nHidden; j++) h[j]! += xk * d.w1[k * nHidden + j]!;
    }
    logits.set(d.b2);
    for (let k = 0; k < nHidden; k++) {
      const hk = Math.max(h[k]!, 0);
      for (let j = 0; j < nOut; j++) logits[j]! += hk * d.w2[k * nOut + j]!;
    }
    let m = -Infinity;
    for (const l of logits) m = Math.max(m, l);
    let s = 0;
    for (const l of logits) s += Math.exp(l - m);
    const lse = m + Math.log(s);
    for (let j = 0; j < nOut; j++) total -= d.yOneHot[r * nOut + j]! * (logits[j]! - lse);
  }
  return total / batch;
}

/** W3's operands at size n (bench/w3.ts's formulas), row-major n x n float32. */
export function makeMatmulData(n: number): { a: Float32Array; b: Float32Array } {
  const a = new Float32Array(n * n);
  const b = new Float32Array(n * n);
  for (let i = 0; i < n * n; i++) {
    a[i] = Math.sin(i * 0.37);
    b[i] = Math.cos(i * 0.11);
  }
  return { a, b };
}

/**
 * Entries of C = A B to check: the four corners and a deterministic spread
 * of rows and columns (a linear congruential walk), `count` in all.
 */
export function sampleEntries(n: number, count: number): [number, number][] {
  const out: [number, number][] = [
    [0, 0],
    [0, n - 1],
    [n - 1, 0],
    [n - 1, n - 1],
  ];
  let s = 12345;
  while (out.length < count) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const i = s % n;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push([i, s % n]);
  }
  return out;
}

/**
 * The float64 dot products at the sampled entries, and the scale each is
 * judged against: sum_k |a_ik b_kj|, the size of the terms rounding acts on.
 */
export function referenceEntries(
  a: Float32Array,
  b: Float32Array,
  n: number,
  entries: readonly [number, number][],
): { value: number; scale: number }[] {
  return entries.map(([i, j]) => {
    let value = 0;
    let scale = 0;
    for (let k = 0; k < n; k++) {
      const t = a[i * n + k]! * b[k * n + j]!;
      value += t;
      scale += Math.abs(t);
    }
    return { value, scale };
  });
}

/**
 * The largest error of a product at the sampled entries, each relative to
 * its sum of |terms| (float32 rounding gives about 1e-7 to 1e-5 here; a
 * wrong kernel gives errors of order 1).
 */
export function sampledError(
  c: ArrayLike<number>,
  n: number,
  entries: readonly [number, number][],
  refs: readonly { value: number; scale: number }[],
): number {
  let worst = 0;
  entries.forEach(([i, j], e) => {
    const r = refs[e]!;
    const err = Math.abs(c[i * n + j]! - r.value) / Math.max(r.scale, 1e-30);
    // NaN (an unwritten or garbage entry) counts as the worst possible
    worst = Number.isNaN(err) ? Infinity : Math.max(worst, err);
  });
  return worst;
}

/** max |x - y| / max |y| over all entries (NaN anywhere gives Infinity). */
export function maxRelDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) return Infinity;
  let err = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    const d = Math.abs(x[i]! - y[i]!);
    if (Number.isNaN(d)) return Infinity;
    err = Math.max(err, d);
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return err / Math.max(scale, 1e-30);
}
