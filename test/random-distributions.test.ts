/**
 * random, the samplers' distributions at fixed seeds: for each, the first
 * two moments against the analytic ones (within 5 standard errors) and a
 * Kolmogorov–Smirnov test (continuous) or a chi-square test (discrete)
 * against the CDF or probability mass function computed here independently
 * (closed forms, erf, recurrences). The thresholds are the 0.1% critical
 * values, and a deliberately wrong sampler (shifted, or of a nearby
 * parameter) is shown to be rejected by the same tests. (Gradients, jit
 * and vmap equality and errors: random-gradients.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { np, random, vmap, type Array as NdArray } from "../src/index.js";

const values = (x: NdArray): number[] => Array.from(x.data(), Number);
const meanOf = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
const varOf = (xs: number[]) => {
  const m = meanOf(xs);
  return xs.reduce((s, v) => s + (v - m) ** 2, 0) / (xs.length - 1);
};

/** erf by its Taylor series / continued fraction in plain JS (independent of np.erf's code). */
function erfRef(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    // erf x = 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let f = a;
    for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}
const normalCdf = (x: number) => 0.5 * (1 + erfRef(x / Math.SQRT2));

/** The Kolmogorov–Smirnov statistic of samples against a CDF. */
function ksStatistic(xs: number[], cdf: (x: number) => number): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  let d = 0;
  s.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs(f - i / n), Math.abs((i + 1) / n - f));
  });
  return d;
}
/** The KS critical value at level 0.001 (asymptotic: 1.949 / sqrt(n)). */
const ksCritical = (n: number) => 1.949 / Math.sqrt(n);

/** Expects the samples to pass the KS test, and a shifted copy of them (by `shift`) to fail it. */
function expectKs(xs: number[], cdf: (x: number) => number, shift: number): void {
  const d = ksStatistic(xs, cdf);
  expect(d, `KS statistic ${d} vs critical ${ksCritical(xs.length)}`).toBeLessThan(
    ksCritical(xs.length),
  );
  const wrong = ksStatistic(
    xs.map((x) => x + shift),
    cdf,
  );
  expect(wrong, "a shifted sampler must be rejected").toBeGreaterThan(ksCritical(xs.length));
}

/** The chi-square critical value at level 0.001 (Wilson–Hilferty). */
function chiSquareCritical(dof: number): number {
  const z = 3.0902;
  const c = 2 / (9 * dof);
  return dof * (1 - c + z * Math.sqrt(c)) ** 3;
}

/**
 * Pearson's chi-square statistic of integer samples against a pmf on
 * 0..maxK (all mass above maxK in the last bin), bins merged until each
 * expects at least 5; returns [statistic, critical value].
 */
function chiSquare(
  xs: number[],
  pmf: (k: number) => number,
  minK: number,
  maxK: number,
): [number, number] {
  const n = xs.length;
  const counts = new Map<number, number>();
  for (const x of xs) {
    const k = Math.min(Math.max(x, minK), maxK);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const bins: { observed: number; expected: number }[] = [];
  let cur = { observed: 0, expected: 0 };
  let below = 0;
  for (let k = minK; k <= maxK; k++) {
    let p = pmf(k);
    if (k === minK) {
      for (let j = 0; j < minK; j++) below += pmf(j);
      p += below;
    }
    if (k === maxK) {
      let total = 0;
      for (let j = 0; j < maxK; j++) total += pmf(j);
      p = 1 - total;
    }
    cur.observed += counts.get(k) ?? 0;
    cur.expected += n * p;
    if (cur.expected >= 5) {
      bins.push(cur);
      cur = { observed: 0, expected: 0 };
    }
  }
  if (cur.expected > 0) {
    const last = bins[bins.length - 1]!;
    last.observed += cur.observed;
    last.expected += cur.expected;
  }
  const stat = bins.reduce((s, b) => s + (b.observed - b.expected) ** 2 / b.expected, 0);
  return [stat, chiSquareCritical(bins.length - 1)];
}

/** Expects integer samples to pass the chi-square test against `pmf` and samples of `wrong` to fail it. */
function expectChiSquare(
  xs: number[],
  pmf: (k: number) => number,
  range: [number, number],
  wrongXs: number[],
): void {
  const [stat, crit] = chiSquare(xs, pmf, range[0], range[1]);
  expect(stat, `chi-square ${stat} vs critical ${crit}`).toBeLessThan(crit);
  const [bad, badCrit] = chiSquare(wrongXs, pmf, range[0], range[1]);
  expect(bad, "a wrong sampler must be rejected").toBeGreaterThan(badCrit);
}

/** Mean within 5 standard errors, variance within 5 standard errors (normal-theory SE of s^2 with excess kurtosis). */
function expectMoments(xs: number[], mean: number, variance: number, kurtosisExcess = 0): void {
  const n = xs.length;
  const m = meanOf(xs);
  const v = varOf(xs);
  expect(Math.abs(m - mean), `mean ${m} vs ${mean}`).toBeLessThan(5 * Math.sqrt(variance / n));
  const seVar = variance * Math.sqrt(2 / (n - 1) + kurtosisExcess / n);
  expect(Math.abs(v - variance), `variance ${v} vs ${variance}`).toBeLessThan(5 * seVar);
}

const N = 20000;

describe("continuous samplers", () => {
  it("uniform: moments and KS", () => {
    const xs = values(random.uniform(random.key(10), [N], { minval: 2, maxval: 5 }));
    expectMoments(xs, 3.5, 9 / 12, -1.2);
    expectKs(xs, (x) => Math.min(1, Math.max(0, (x - 2) / 3)), 0.05);
  });

  it("normal (float64 and float32): moments and KS", () => {
    for (const dtype of ["float64", "float32"] as const) {
      const xs = values(random.normal(random.key(11), [N], { dtype }));
      expectMoments(xs, 0, 1);
      expectKs(xs, normalCdf, 0.05);
    }
  });

  it("exponential: moments and KS", () => {
    const xs = values(random.exponential(random.key(12), [N]));
    expectMoments(xs, 1, 1, 6);
    expectKs(xs, (x) => (x < 0 ? 0 : 1 - Math.exp(-x)), 0.05);
  });

  it("gumbel: moments and KS", () => {
    const xs = values(random.gumbel(random.key(13), [N], { dtype: "float32" }));
    const eulerGamma = 0.5772156649015329;
    expectMoments(xs, eulerGamma, Math.PI ** 2 / 6, 2.4);
    expectKs(xs, (x) => Math.exp(-Math.exp(-x)), 0.05);
  });

  it("truncatedNormal: inside the bounds, moments and KS", () => {
    const [a, b] = [-0.5, 1.5];
    const xs = values(random.truncatedNormal(random.key(14), a, b, [N]));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(a);
    expect(Math.max(...xs)).toBeLessThanOrEqual(b);
    const phi = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
    const z = normalCdf(b) - normalCdf(a);
    const mean = (phi(a) - phi(b)) / z;
    const variance = 1 + (a * phi(a) - b * phi(b)) / z - mean ** 2;
    expectMoments(xs, mean, variance, -1.2);
    expectKs(xs, (x) => (normalCdf(x) - normalCdf(a)) / z, 0.05);
  });

  it("gamma (a < 1 and a >= 1): moments and KS against closed-form CDFs", () => {
    // a = 1/2: P(1/2, x) = erf(sqrt x); a = 3: 1 - e^-x (1 + x + x^2/2)
    const half = values(random.gamma(random.key(15), 0.5, [N]));
    expectMoments(half, 0.5, 0.5, 12);
    expectKs(half, (x) => (x <= 0 ? 0 : erfRef(Math.sqrt(x))), 0.05);
    const three = values(random.gamma(random.key(16), 3, [N]));
    expectMoments(three, 3, 3, 2);
    expectKs(three, (x) => (x <= 0 ? 0 : 1 - Math.exp(-x) * (1 + x + (x * x) / 2)), 0.1);
  });

  it("beta(2, 3) and the Dirichlet marginal Beta(2, 3): moments and KS", () => {
    // I_x(2, 3) = sum_{j=2..4} C(4, j) x^j (1 - x)^(4 - j)
    const cdf = (x: number) => {
      if (x <= 0) return 0;
      if (x >= 1) return 1;
      return 6 * x ** 2 * (1 - x) ** 2 + 4 * x ** 3 * (1 - x) + x ** 4;
    };
    const variance = (2 * 3) / (25 * 6);
    const xs = values(random.beta(random.key(17), 2, 3, [N]));
    expectMoments(xs, 0.4, variance, -0.12);
    expectKs(xs, cdf, 0.02);
    const d = random.dirichlet(random.key(18), [2, 1, 2], [N]);
    expect(d.shape).toEqual([N, 3]);
    const rows = d.toArray() as number[][];
    rows.slice(0, 50).forEach((r) => expect(r[0]! + r[1]! + r[2]!).toBeCloseTo(1, 12));
    const first = rows.map((r) => r[0]!);
    expectMoments(first, 0.4, variance, -0.12);
    expectKs(first, cdf, 0.02);
  });

  it("beta and dirichlet with tiny shapes (gamma draws underflowing to 0): no NaN, right mean", () => {
    // Beta(0.01, 0.01) in float32: about a fifth of the gamma draws are below the
    // smallest float32; x / (x + y) of two of them would be 0/0
    const xs = values(random.beta(random.key(35), 0.01, 0.01, [N / 4], { dtype: "float32" }));
    expect(xs.filter((x) => Number.isNaN(x))).toEqual([]);
    // excess kurtosis of Beta(a, a): -6 / (2a + 3)
    expectMoments(xs, 0.5, (0.01 * 0.01) / (0.02 ** 2 * 1.02), -6 / 3.02);
    const d = random.dirichlet(random.key(36), [0.001, 0.001, 0.001], [2000]);
    const rows = d.toArray() as number[][];
    rows.forEach((r) => expect(r[0]! + r[1]! + r[2]!).toBeCloseTo(1, 12));
  });

  it("multivariateNormal: mean, covariance and a KS test of a projection", () => {
    const mean = [1, -2];
    const cov = [
      [2, 0.6],
      [0.6, 1],
    ];
    const x = random.multivariateNormal(random.key(19), np.array(mean), np.array(cov), [N]);
    expect(x.shape).toEqual([N, 2]);
    const rows = x.toArray() as number[][];
    const c0 = rows.map((r) => r[0]!);
    const c1 = rows.map((r) => r[1]!);
    expectMoments(c0, 1, 2);
    expectMoments(c1, -2, 1);
    const m0 = meanOf(c0);
    const m1 = meanOf(c1);
    const cross = rows.reduce((s, r) => s + (r[0]! - m0) * (r[1]! - m1), 0) / (N - 1);
    // SE of the sample covariance: sqrt((s01^2 + s00 s11) / n)
    expect(Math.abs(cross - 0.6)).toBeLessThan(5 * Math.sqrt((0.36 + 2) / N));
    // w.x ~ N(w.mean, w^T cov w) with w = (1, 1): N(-1, 4.2)
    const proj = rows.map((r) => r[0]! + r[1]!);
    expectKs(proj, (v) => normalCdf((v + 1) / Math.sqrt(4.2)), 0.1);
    // batched means broadcast against the sample shape
    const batched = random.multivariateNormal(random.key(0), np.zeros([3, 2]), np.eye(2));
    expect(batched.shape).toEqual([3, 2]);
  });
});

/** Poisson pmf by the recurrence p(k) = p(k - 1) lam / k (log space for the start). */
const poissonPmf = (lam: number) => (k: number) => {
  let logp = -lam;
  for (let j = 1; j <= k; j++) logp += Math.log(lam / j);
  return Math.exp(logp);
};
/** Binomial pmf by the product formula in log space. */
const binomialPmf = (n: number, p: number) => (k: number) => {
  if (k < 0 || k > n) return 0;
  let logc = 0;
  for (let j = 1; j <= k; j++) logc += Math.log((n - k + j) / j);
  return Math.exp(logc + k * Math.log(p) + (n - k) * Math.log1p(-p));
};

describe("discrete samplers", () => {
  it("bernoulli: frequency and chi-square", () => {
    const xs = values(random.bernoulli(random.key(20), 0.3, [N]));
    const wrong = values(random.bernoulli(random.key(20), 0.33, [N]));
    expectChiSquare(xs, (k) => (k === 1 ? 0.3 : 0.7), [0, 1], wrong);
  });

  it("randint: uniform over [minval, maxval) (chi-square), int32", () => {
    const x = random.randint(random.key(21), [N], -3, 7);
    expect(x.dtype).toBe("int32");
    const xs = values(x);
    expect(Math.min(...xs)).toBe(-3);
    expect(Math.max(...xs)).toBe(6);
    const shifted = xs.map((v) => v + 3);
    // a sampler that never draws the top value must be rejected
    const wrong = values(random.randint(random.key(21), [N], 0, 9));
    expectChiSquare(shifted, () => 0.1, [0, 9], wrong);
    expectMoments(xs, 1.5, (10 * 10 - 1) / 12, -1.2);
  });

  it("categorical: frequencies match softmax(logits) (chi-square), along any axis", () => {
    const p = [0.1, 0.2, 0.3, 0.4];
    const xs = values(random.categorical(random.key(22), np.log(np.array(p)), [N]));
    const wrong = values(
      random.categorical(random.key(22), np.log(np.array([0.12, 0.2, 0.3, 0.38])), [N]),
    );
    expectChiSquare(xs, (k) => p[k]!, [0, 3], wrong);
    // the categories on axis 0 of a [4, 2] logits table: two independent columns
    const table = np.log(
      np.array([
        [0.1, 0.7],
        [0.2, 0.1],
        [0.3, 0.1],
        [0.4, 0.1],
      ]),
    );
    const cols = random
      .categorical(random.key(23), table, [N, 2], { axis: 0 })
      .toArray() as number[][];
    const second = cols.map((r) => r[1]!);
    expectChiSquare(
      second,
      (k) => [0.7, 0.1, 0.1, 0.1][k]!,
      [0, 3],
      cols.map((r) => r[0]!),
    );
  });

  it("poisson: Knuth (lam 3.5) and PTRS (lam 30, 400): moments and chi-square", () => {
    for (const [lam, seed] of [
      [3.5, 24],
      [30, 25],
      [400, 26],
    ] as const) {
      const x = random.poisson(random.key(seed), lam, [N / 2]);
      expect(x.dtype).toBe("int32");
      const xs = values(x);
      expectMoments(xs, lam, lam, 1 / lam);
      const sd = Math.sqrt(lam);
      const range: [number, number] = [
        Math.max(0, Math.floor(lam - 5 * sd)),
        Math.ceil(lam + 5 * sd),
      ];
      const wrong = values(random.poisson(random.key(seed), lam * 1.05, [N / 2]));
      expectChiSquare(xs, poissonPmf(lam), range, wrong);
    }
    // rate 0 gives 0
    expect(values(random.poisson(random.key(0), 0, [5]))).toEqual([0, 0, 0, 0, 0]);
  });

  it("binomial: waiting times (small n p), BTRS (large n p), p > 1/2 reflected: moments and chi-square", () => {
    for (const [n, p, seed] of [
      [20, 0.3, 27],
      [200, 0.4, 28],
      [50, 0.85, 29],
    ] as const) {
      const x = random.binomial(random.key(seed), n, p, [N]);
      expect(x.dtype).toBe("int32");
      const xs = values(x);
      const variance = n * p * (1 - p);
      expectMoments(xs, n * p, variance, (1 - 6 * p * (1 - p)) / variance);
      const sd = Math.sqrt(variance);
      const range: [number, number] = [
        Math.max(0, Math.floor(n * p - 5 * sd)),
        Math.min(n, Math.ceil(n * p + 5 * sd)),
      ];
      const wrong = values(random.binomial(random.key(seed), n, p * 1.05, [N]));
      expectChiSquare(xs, binomialPmf(n, p), range, wrong);
    }
    expect(
      values(random.binomial(random.key(0), np.array([0, 5, 7]), np.array([0.5, 0, 1]))),
    ).toEqual([0, 0, 7]);
  });

  it("permutation: each result a permutation, each position uniform (chi-square)", () => {
    const keys = random.split(random.key(30), 3000);
    const perms = vmap((k: NdArray) => random.permutation(k, 5))(keys);
    const rows = perms.toArray() as number[][];
    rows.forEach((r) => expect([...r].sort()).toEqual([0, 1, 2, 3, 4]));
    const firsts = rows.map((r) => r[0]!);
    // a biased shuffle: the identity's first entry half of the time
    const biased = rows.map((r, i) => (i % 2 === 0 ? 0 : r[0]!));
    expectChiSquare(firsts, () => 0.2, [0, 4], biased);
    // of an array, along an axis: the rows shuffled
    const x = np.array([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const shuffled = random.permutation(random.key(3), x).toArray() as number[][];
    expect(shuffled.map((r) => r[0]).sort()).toEqual([1, 3, 5]);
    shuffled.forEach((r) => expect(r[1]).toBe(r[0]! + 1));
  });

  it("choice: with replacement and p (chi-square), without replacement distinct", () => {
    const p = [0.5, 0.3, 0.2];
    const xs = values(random.choice(random.key(31), 3, [N], { p }));
    const wrong = values(random.choice(random.key(31), 3, [N], { p: [0.45, 0.35, 0.2] }));
    expectChiSquare(xs, (k) => p[k]!, [0, 2], wrong);
    const picks = values(random.choice(random.key(32), 10, [6], { replace: false }));
    expect(new Set(picks).size).toBe(6);
    const fromArray = values(random.choice(random.key(33), np.array([10, 20, 30]), [4, 2]));
    fromArray.forEach((v) => expect([10, 20, 30]).toContain(v));
    // uniform without replacement: the first pick is uniform
    const keys = random.split(random.key(34), 3000);
    const firsts = values(
      vmap((k: NdArray) => random.choice(k, 4, [2], { replace: false }).slice(0))(keys),
    );
    expectChiSquare(
      firsts,
      () => 0.25,
      [0, 3],
      firsts.map((v) => (v === 3 ? 0 : v)),
    );
  });
});
