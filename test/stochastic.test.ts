/**
 * stochastic.grad: the unbiased estimators (triple, score) agree with the
 * exact derivative of closed-form expectations within 4 standard errors,
 * the biased ones (straight-through, relaxed) show their known bias, and a
 * deliberately broken jump-rate rule is caught by the same test.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  InvalidArgumentError,
  jit,
  lax,
  np,
  random,
  stochastic,
  vmap,
} from "../src/index.js";
import { tripleRules } from "../src/stochastic/triple.js";

type Estimator = "triple" | "score" | "straightThrough" | "relaxed";
const A = (x: unknown) => x as NdArray;

/** Mean and standard error of `samples` estimates of d/dθ E[f(θ, key)], vmapped over keys. */
function estimate(
  f: (theta: NdArray, key: NdArray) => NdArray,
  theta: number,
  samples: number,
  estimator: Estimator,
  seed = 0,
  extra: { temperature?: number } = {},
): { mean: number; se: number } {
  const keys = random.split(random.key(seed), samples);
  const g = stochastic.grad(f, { estimator, ...extra });
  const values = A(vmap((k: NdArray) => g(np.array(theta), k))(keys));
  const data = Array.from(values.data() as Float64Array);
  const mean = data.reduce((a, b) => a + b, 0) / samples;
  const variance = data.reduce((a, b) => a + (b - mean) ** 2, 0) / (samples - 1);
  return { mean, se: Math.sqrt(variance / samples) };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

// f1: Σ_i w_i b_i, b_i ~ Bernoulli(σ(a_i θ)): E = Σ w_i σ(a_i θ), E' = Σ w_i a_i σ(1 - σ).
const a1 = [1, -2, 0.5];
const w1 = [2, 1, -3];
const f1 = (theta: NdArray, key: NdArray) => {
  const p = np.divide(1, np.add(1, np.exp(np.negative(np.multiply(theta, np.array(a1))))));
  const b = np.astype(random.bernoulli(key, p), "float64");
  return np.sum(np.multiply(np.array(w1), b));
};
const exact1 = (t: number) =>
  a1.reduce((s, a, i) => s + w1[i]! * a * sigmoid(a * t) * (1 - sigmoid(a * t)), 0);

// f2: X² with X ~ Binomial(n, θ): E = nθ(1-θ) + n²θ², E' = n(1 - 2θ) + 2n²θ.
const n2 = 8;
const f2 = (theta: NdArray, key: NdArray) => {
  const x = np.astype(random.binomial(key, n2, theta), "float64");
  return np.multiply(x, x);
};
const exact2 = (t: number) => n2 * (1 - 2 * t) + 2 * n2 * n2 * t;

// f3: g(X) = (X + 1)^2 for X ~ Categorical(softmax(θ c)), c = [1, 0, -1, 2]:
// E = Σ p_k g(k), E' = Σ_k p_k (c_k - c̄) g(k), c̄ = Σ p_j c_j.
const c3 = [1, 0, -1, 2];
const f3 = (theta: NdArray, key: NdArray) => {
  const x = np.astype(random.categorical(key, np.multiply(theta, np.array(c3))), "float64");
  return np.square(np.add(x, 1));
};
const exact3 = (t: number) => {
  const e = c3.map((c) => Math.exp(t * c));
  const z = e.reduce((a, b) => a + b, 0);
  const p = e.map((v) => v / z);
  const mean = p.reduce((s, pk, k) => s + pk * c3[k]!, 0);
  return p.reduce((s, pk, k) => s + pk * (c3[k]! - mean) * (k + 1) ** 2, 0);
};

// f4: a Poisson count through a branch, h(X) = X > 2 ? 10 - X : X²:
// E = Σ_k pmf(k) h(k), E' = Σ_k (pmf(k - 1) - pmf(k)) h(k).
const f4 = (theta: NdArray, key: NdArray) => {
  const x = np.astype(random.poisson(key, theta), "float64");
  return np.where(np.greater(x, 2), np.subtract(10, x), np.square(x));
};
const exact4 = (t: number) => {
  let pmfPrev = 0;
  let pmf = Math.exp(-t);
  let d = 0;
  for (let k = 0; k < 200; k++) {
    const h = k > 2 ? 10 - k : k * k;
    d += (pmfPrev - pmf) * h;
    pmfPrev = pmf;
    pmf = (pmf * t) / (k + 1);
  }
  return d;
};

// f5: two dependent draws, X1 ~ Bernoulli(θ), X2 ~ Bernoulli(X1 ? θ : θ/2), f = X1 + 2 X2:
// E = θ + 2(θ² + (1 - θ) θ/2) = 2θ + θ², E' = 2 + 2θ. The jump of X1 changes X2's
// probability, so the alternative path must be replayed, not patched.
const f5 = (theta: NdArray, key: NdArray) => {
  const keys = random.split(key, 2);
  const x1 = np.astype(random.bernoulli(np.take(keys, 0, 0), theta), "float64");
  const p2 = np.where(np.greater(x1, 0.5), theta, np.multiply(0.5, theta));
  const x2 = np.astype(random.bernoulli(np.take(keys, 1, 0), p2), "float64");
  return np.add(x1, np.multiply(2, x2));
};

// f6: twelve separate draws, b_d ~ Bernoulli(σ(a_d θ)), f = Σ c_d b_d: the pruned choice is
// made online over twelve offers (across the choice uniforms' chunks of 1, 2, 4, 8).
// E' = Σ c_d a_d σ(a_d θ)(1 - σ(a_d θ)).
const a6 = Array.from({ length: 12 }, (_, d) => Math.sin(d + 1) * 2);
const c6 = Array.from({ length: 12 }, (_, d) => (d % 3) - 1 + d / 10);
const f6 = (theta: NdArray, key: NdArray) => {
  const keys = random.split(key, 12);
  let total = np.array(0);
  for (let d = 0; d < 12; d++) {
    const p = np.divide(1, np.add(1, np.exp(np.multiply(-a6[d]!, theta))));
    const b = np.astype(random.bernoulli(np.take(keys, d, 0), p), "float64");
    total = np.add(total, np.multiply(c6[d]!, b));
  }
  return total;
};
const exact6 = (t: number) =>
  a6.reduce((s, a, d) => s + c6[d]! * a * sigmoid(a * t) * (1 - sigmoid(a * t)), 0);

const cases = [
  { name: "a weighted sum of Bernoullis", f: f1, theta: 0.3, exact: exact1(0.3) },
  { name: "the square of a binomial count", f: f2, theta: 0.35, exact: exact2(0.35) },
  { name: "a categorical choice feeding (X + 1)^2", f: f3, theta: 0.4, exact: exact3(0.4) },
  { name: "a Poisson count through a branch", f: f4, theta: 2.5, exact: exact4(2.5) },
  { name: "two dependent Bernoulli draws", f: f5, theta: 0.3, exact: 2 + 2 * 0.3 },
  { name: "twelve separate Bernoulli draws", f: f6, theta: 0.2, exact: exact6(0.2) },
];

describe("unbiased estimators agree with the exact derivative (4 standard errors)", () => {
  for (const estimator of ["triple", "score"] as const) {
    for (const c of cases) {
      it(`${estimator}: ${c.name}`, () => {
        const { mean, se } = estimate(c.f, c.theta, 10000, estimator, 1);
        expect(se).toBeGreaterThan(0);
        expect(Math.abs(mean - c.exact)).toBeLessThan(4 * se);
      });
    }
  }
  it("the triple estimator has a smaller standard error than the score estimator here", () => {
    for (const c of cases) {
      const triple = estimate(c.f, c.theta, 2000, "triple", 2);
      const score = estimate(c.f, c.theta, 2000, "score", 2);
      expect(triple.se).toBeLessThan(score.se);
    }
  });
});

describe("a broken jump-rate rule fails the same test", () => {
  const original = tripleRules.bernoulli;
  afterEach(() => {
    tripleRules.bernoulli = original;
  });
  it("Bernoulli weights without the 1 / (1 - p) factor are detected", () => {
    tripleRules.bernoulli = (draw) =>
      original(draw).map((c) => ({
        weight: np.multiply(c.weight, np.subtract(1, draw.param)),
        alternative: c.alternative,
      }));
    const { mean, se } = estimate(f1, 0.3, 10000, "triple", 1);
    expect(Math.abs(mean - exact1(0.3))).toBeGreaterThan(4 * se);
  });
});

describe("biased estimators show their known bias", () => {
  it("straight-through on X²: the derivative of (mean)², 2 n² θ, not n(1 - 2θ) + 2n²θ", () => {
    const theta = 0.35;
    const { mean, se } = estimate(f2, theta, 4000, "straightThrough", 3);
    // ST: d/dθ of X² with dX/dθ replaced by n: E[2 X n] = 2 n² θ.
    expect(Math.abs(mean - 2 * n2 * n2 * theta)).toBeLessThan(4 * se);
    expect(Math.abs(mean - exact2(theta))).toBeGreaterThan(4 * se);
  });
  it("relaxed (τ = 1) on b² for one Bernoulli: the derivative of the relaxed expectation", () => {
    // The relaxed value is r(u) = σ(logit p + L(u)); its expectation's derivative
    // d/dp ∫ r(u)² du, computed by quadrature, differs from the exact d/dp E[b²] = 1.
    const p = 0.3;
    const f = (theta: NdArray, key: NdArray) => {
      const b = random.bernoulli(key, theta);
      return np.square(np.astype(b, "float64"));
    };
    const relaxedMean = (q: number) => {
      const m = 200000;
      let s = 0;
      for (let i = 0; i < m; i++) {
        const u = (i + 0.5) / m;
        const r = sigmoid(Math.log(q / (1 - q)) + Math.log(u / (1 - u)));
        s += r * r;
      }
      return s / m;
    };
    const h = 1e-4;
    const relaxedDerivative = (relaxedMean(p + h) - relaxedMean(p - h)) / (2 * h);
    const { mean, se } = estimate(f, p, 4000, "relaxed", 4, { temperature: 1 });
    expect(Math.abs(mean - relaxedDerivative)).toBeLessThan(4 * se);
    expect(Math.abs(mean - 1)).toBeGreaterThan(4 * se);
  });
  it("relaxed: draws with probability 0 or 1 keep their value and add no derivative (no NaN)", () => {
    // b(θ)² + b(0) + b(1) for p = [θ, 0·θ, 1]: E = θ + 0 + 1, and the relaxation of the
    // first draw alone is what the estimate differentiates (the quadrature of the test above).
    const p = 0.3;
    const f = (theta: NdArray, key: NdArray) => {
      const probs = np.stack([theta, np.multiply(theta, 0), np.onesLike(theta)]);
      const b = np.astype(random.bernoulli(key, probs), "float64");
      return np.add(np.square(np.take(b, 0)), np.add(np.take(b, 1), np.take(b, 2)));
    };
    const single = (theta: NdArray, key: NdArray) =>
      np.square(
        np.astype(np.take(random.bernoulli(key, np.stack([theta, theta, theta])), 0), "float64"),
      );
    const both = estimate(f, p, 500, "relaxed", 9, { temperature: 1 });
    const reference = estimate(single, p, 500, "relaxed", 9, { temperature: 1 });
    expect(Number.isFinite(both.mean)).toBe(true);
    // Same keys, same first uniform: the estimates agree sample by sample, so their means do.
    expect(both.mean).toBeCloseTo(reference.mean, 10);
  });
});

describe("composition", () => {
  it("vmap over keys equals a loop; jit equals eager", () => {
    // One draw (f1), two dependent draws (f5) and twelve draws (f6): under vmap and jit the
    // chosen draw is traced, so the replay masks every draw; eagerly it touches one.
    const keys = random.split(random.key(5), 4);
    for (const f of [f1, f5, f6]) {
      const g = stochastic.grad(f, { estimator: "triple" });
      const batched = A(vmap((k: NdArray) => g(np.array(0.3), k))(keys));
      const jitted = jit((t: NdArray, k: NdArray) => g(t, k));
      for (let i = 0; i < 4; i++) {
        const k = A(np.take(keys, i, 0));
        const eager = A(g(np.array(0.3), k)).item();
        expect(A(np.take(batched, i)).item()).toBeCloseTo(eager, 12);
        expect(A(jitted(np.array(0.3), k)).item()).toBeCloseTo(eager, 12);
      }
    }
  });
  it("ordinary JS control flow on the drawn values (eager)", () => {
    // h(X) = X > 2 ? 10 - X : X² written with an if on X.item(): the same expectation as f4.
    const f = (theta: NdArray, key: NdArray) => {
      const x = A(random.poisson(key, theta)).item();
      return np.array(x > 2 ? 10 - x : x * x);
    };
    // A JS branch on .item() drops the link to θ: pathwise derivative 0, the jump term
    // carries everything, and the replay takes the other branch.
    const keys = random.split(random.key(6), 1500);
    const g = stochastic.grad(f, { estimator: "triple" });
    const data: number[] = [];
    for (let i = 0; i < 1500; i++) data.push(A(g(np.array(2.5), A(np.take(keys, i, 0)))).item());
    const mean = data.reduce((a, b) => a + b, 0) / data.length;
    const se = Math.sqrt(
      data.reduce((a, b) => a + (b - mean) ** 2, 0) / (data.length - 1) / data.length,
    );
    expect(Math.abs(mean - exact4(2.5))).toBeLessThan(4 * se);
  });
  it("pytree parameters: one derivative per element, with the structure of θ", () => {
    const f = (theta: { p: NdArray; q: NdArray }, key: NdArray) => {
      const [k1, k2] = [A(np.take(random.split(key), 0, 0)), A(np.take(random.split(key), 1, 0))];
      const b = np.astype(random.bernoulli(k1, theta.p), "float64");
      const c = np.astype(random.bernoulli(k2, theta.q), "float64");
      return np.add(np.sum(b), np.multiply(3, np.sum(c)));
    };
    const g = stochastic.grad(f, { estimator: "triple" });
    const keys = random.split(random.key(7), 3000);
    const theta = { p: np.array([0.2, 0.7]), q: np.array(0.5) };
    const out = vmap((k: NdArray) => g(theta, k))(keys);
    expect(out.p.shape).toEqual([3000, 2]);
    expect(out.q.shape).toEqual([3000]);
    const meanP = A(np.mean(out.p, 0)).toArray() as number[];
    const meanQ = A(np.mean(out.q)).item();
    // d/dp_i E = 1 (each Bernoulli counts once), d/dq E = 3.
    expect(Math.abs(meanP[0]! - 1)).toBeLessThan(0.15);
    expect(Math.abs(meanP[1]! - 1)).toBeLessThan(0.15);
    expect(Math.abs(meanQ - 3)).toBeLessThan(0.4);
  });
});

describe("gumbelSoftmax", () => {
  it("the hard sample's category frequencies match softmax(logits) (chi-square)", () => {
    const logits = np.array([0.5, -1, 1.5]);
    const keys = random.split(random.key(8), 6000);
    const y = A(vmap((k: NdArray) => stochastic.gumbelSoftmax(k, logits, { hard: true }))(keys));
    const counts = A(np.sum(y, 0)).toArray() as number[];
    const e = [0.5, -1, 1.5].map(Math.exp);
    const z = e.reduce((a, b) => a + b, 0);
    const chi2 = counts.reduce(
      (s, c, k) => s + (c - (6000 * e[k]!) / z) ** 2 / ((6000 * e[k]!) / z),
      0,
    );
    expect(chi2).toBeLessThan(13.8); // 2 degrees of freedom, p = 0.001
    for (const row of y.toArray() as number[][]) expect(row.reduce((a, b) => a + b, 0)).toBe(1);
  });
});

describe("errors", () => {
  it("name the problem and the fix", () => {
    const f = (t: NdArray, k: NdArray) => np.astype(random.bernoulli(k, t), "float64");
    expect(() => stochastic.grad(f, { estimator: "exact" as Estimator })).toThrow(
      /unknown estimator/,
    );
    expect(() => stochastic.grad(f, { estimator: "relaxed", temperature: 0 })).toThrow(
      /temperature/,
    );
    const vector = (t: NdArray, k: NdArray) => np.astype(random.bernoulli(k, t, [3]), "float64");
    expect(() => stochastic.grad(vector)(np.array(0.5), random.key(0))).toThrow(
      InvalidArgumentError,
    );
    expect(() => stochastic.grad(vector)(np.array(0.5), random.key(0))).toThrow(
      /scalar float Array/,
    );
    expect(() =>
      stochastic.grad(f3, { estimator: "relaxed" })(np.array(0.5), random.key(0)),
    ).toThrow(/gumbelSoftmax/);
    expect(() =>
      stochastic.grad(f3, { estimator: "straightThrough" })(np.array(0.5), random.key(0)),
    ).toThrow(/gumbelSoftmax/);
    expect(() => stochastic.gumbelSoftmax(random.key(0), np.array(1))).toThrow(/last axis/);
  });
  it("a draw inside a loop that jit stages is refused with advice; eagerly the same loop works", () => {
    const f = (p: NdArray, key: NdArray) => {
      const [total] = lax.scan(
        (acc: NdArray, k: NdArray) => [
          np.add(acc, np.astype(random.bernoulli(k, p), "float64")),
          null,
        ],
        np.array(0),
        random.split(key, 5),
      ) as [NdArray, unknown];
      return total;
    };
    for (const estimator of ["triple", "score"] as const) {
      const g = stochastic.grad(f, { estimator });
      expect(() => jit(g)(np.array(0.3), random.key(1))).toThrow(/JavaScript for loop/);
      expect(Number.isFinite(A(g(np.array(0.3), random.key(1))).item())).toBe(true);
    }
  });
});
