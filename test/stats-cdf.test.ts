/**
 * stats cdfs, survival functions, quantiles and multivariate log-densities:
 * values against the mpmath / scipy fixture (scripts/special-fixtures.py);
 * derivatives against the existing log-densities (d cdf / dx = pdf, an
 * independent formula), analytic forms and finite differences, to order 2,
 * forward against reverse; vmap and jit; the error messages.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  grad,
  InvalidArgumentError,
  jit,
  jvp,
  np,
  ShapeError,
  stats,
  vmap,
} from "../src/index.js";
import { central, column, expectNear, FIXTURE } from "./special-helpers.js";

const F = FIXTURE;
const d = (f: (x: NdArray) => NdArray, x0: number): number => grad((x: NdArray) => f(x))(x0).item();

/** Compares f on the fixture columns with y, within rtol (relative) and atol. */
function expectTable(
  name: string,
  cols: string[],
  f: (...xs: NdArray[]) => NdArray,
  rtol: number,
  atol = 0,
): void {
  const t = F[name]!;
  const got = Array.from(f(...cols.map((c) => np.array(column(t, c)))).data());
  const y = column(t, "y");
  got.forEach((g, i) =>
    expectNear(g, y[i]!, rtol, atol, `${name}(${cols.map((c) => t[c]![i]).join(", ")})`),
  );
}

describe("stats cdfs: values", () => {
  it("normal cdf/sf/logcdf/ppf (the ndtr, logNdtr, ndtri fixtures, shifted and scaled)", () => {
    // x = mu + sigma z with exact arithmetic: mu = 1, sigma = 2 (z from the fixture)
    const z = column(F.ndtr!, "x");
    const x = np.add(1, np.multiply(2, np.array(z)));
    const cdf = Array.from(stats.normalCdf(x, 1, 2).data());
    const sf = Array.from(stats.normalSf(np.negative(x), -1, 2).data()); // P(X > -x), X ~ N(-1, 4): P(Z <= z)
    cdf.forEach((v, i) =>
      expectNear(v, column(F.ndtr!, "y")[i]!, 2e-15, 0, `normalCdf(z = ${z[i]})`),
    );
    sf.forEach((v, i) =>
      expectNear(v, column(F.ndtr!, "y")[i]!, 2e-15, 0, `normalSf(z = ${z[i]})`),
    );
    const lz = column(F.logNdtr!, "x");
    const lc = Array.from(stats.normalLogCdf(np.array(lz)).data());
    const ls = Array.from(stats.normalLogSf(np.negative(np.array(lz))).data());
    lc.forEach((v, i) =>
      expectNear(v, column(F.logNdtr!, "y")[i]!, 2e-15, 0, `normalLogCdf(${lz[i]})`),
    );
    ls.forEach((v, i) =>
      expectNear(v, column(F.logNdtr!, "y")[i]!, 2e-15, 0, `normalLogSf(${-lz[i]!})`),
    );
    const q = column(F.ndtri!, "x");
    const ppf = Array.from(stats.normalPpf(np.array(q), 3, 0.5).data());
    ppf.forEach((v, i) =>
      expectNear(v, 3 + 0.5 * column(F.ndtri!, "y")[i]!, 2e-15, 2e-15, `normalPpf(${q[i]})`),
    );
  });
  it("Student t, chi2, Poisson, binomial cdfs against mpmath", () => {
    expectTable("studentTCdf", ["a", "x"], (t, nu) => stats.studentTCdf(t, nu), 1e-13, 1e-300);
    expectTable("chi2Cdf", ["a", "x"], stats.chi2Cdf, 1e-13, 1e-300);
    expectTable("chi2Sf", ["a", "x"], stats.chi2Sf, 1e-13, 1e-300);
    expectTable("poissonCdf", ["a", "x"], stats.poissonCdf, 1e-13, 1e-300);
    expectTable("binomialCdf", ["k", "n", "p"], stats.binomialCdf, 1e-13, 1e-300);
  });
  it("sf = 1 - cdf, studentTSf by symmetry, gamma and beta against closed forms", () => {
    const x = np.array([0.3, 1, 4.5]);
    for (const [cdf, sf] of [
      [stats.studentTCdf(x, 3), stats.studentTSf(x, 3)],
      [stats.gammaCdf(x, 2.5, 1.5), stats.gammaSf(x, 2.5, 1.5)],
      [stats.chi2Cdf(x, 4), stats.chi2Sf(x, 4)],
      [stats.betaCdf(np.divide(x, 5), 2, 3), stats.betaSf(np.divide(x, 5), 2, 3)],
      [stats.poissonCdf(np.array([0, 2, 7]), 3), stats.poissonSf(np.array([0, 2, 7]), 3)],
      [
        stats.binomialCdf(np.array([0, 2, 7]), 9, 0.3),
        stats.binomialSf(np.array([0, 2, 7]), 9, 0.3),
      ],
    ] as [NdArray, NdArray][]) {
      Array.from(cdf.data()).forEach((c, i) =>
        expectNear(c + sf.data()[i]!, 1, 1e-15, 0, "cdf + sf"),
      );
    }
    // Gamma(1, rate) is exponential; Gamma(2, 1) cdf = 1 - (1 + x) e^-x; Beta(2, 1) cdf = x^2;
    // chi2 with 2 dof is exponential with rate 1/2; Student t with 1 dof is Cauchy
    for (const v of [0.2, 1.3, 6]) {
      expectNear(stats.gammaCdf(v, 1, 0.7).item(), -Math.expm1(-0.7 * v), 1e-15, 0, "exponential");
      expectNear(stats.gammaCdf(v, 2, 1).item(), 1 - (1 + v) * Math.exp(-v), 1e-14, 0, "Gamma(2)");
      expectNear(stats.betaCdf(v / 7, 2, 1).item(), (v / 7) ** 2, 1e-14, 0, "Beta(2, 1)");
      expectNear(stats.chi2Sf(v, 2).item(), Math.exp(-v / 2), 1e-14, 0, "chi2(2)");
      expectNear(stats.studentTCdf(v, 1).item(), 0.5 + Math.atan(v) / Math.PI, 1e-15, 0, "Cauchy");
      expectNear(
        stats.studentTCdf(-v, 1, 0.5, 2).item(),
        0.5 + Math.atan((-v - 0.5) / 2) / Math.PI,
        1e-15,
        0,
        "Cauchy loc/scale",
      );
    }
    // edges: below the support 0, beyond it 1
    expect(Array.from(stats.poissonCdf(np.array([-1, -0.5]), 2).data())).toEqual([0, 0]);
    expect(Array.from(stats.binomialCdf(np.array([-1, 9, 12]), 9, 0.3).data())).toEqual([0, 1, 1]);
    expect(stats.gammaCdf(-1, 2, 1).item()).toBe(0);
    expect(stats.studentTCdf(0, 4.5).item()).toBe(0.5);
  });
  it("multivariate normal and Dirichlet log-densities against scipy", () => {
    const m = F.mvn! as unknown as { mean: number[]; cov: number[][]; x: number[][]; y: number[] };
    const got = Array.from(stats.multivariateNormalLogPdf(m.x, m.mean, m.cov).data());
    got.forEach((g, i) => expectNear(g, m.y[i]!, 1e-13, 0, `mvn #${i}`));
    // one point: a 0-d result
    const one = stats.multivariateNormalLogPdf(m.x[1]!, m.mean, m.cov);
    expect(one.shape).toEqual([]);
    expectNear(one.item(), m.y[1]!, 1e-13, 0, "mvn one point");
    const dl = F.dirichlet! as unknown as { alpha: number[]; x: number[][]; y: number[] };
    const dg = Array.from(stats.dirichletLogPdf(dl.x, dl.alpha).data());
    dg.forEach((g, i) => expectNear(g, dl.y[i]!, 1e-13, 0, `dirichlet #${i}`));
  });
});

describe("stats cdfs: derivatives", () => {
  it("d cdf / dx is the density (the log-densities of stats), also at the centre of Student t", () => {
    const cases: [string, (x: NdArray) => NdArray, (x: number) => number, number[]][] = [
      [
        "normal",
        (x) => stats.normalCdf(x, 0.5, 2),
        (x) => stats.normalLogPdf(x, 0.5, 2).item(),
        [-30, 0.5, 3],
      ],
      [
        "studentT",
        (x) => stats.studentTCdf(x, 3.5, 1, 2),
        (x) => stats.studentTLogPdf(x, 3.5, 1, 2).item(),
        [-40, 1, 1.3, 9],
      ],
      [
        "gamma",
        (x) => stats.gammaCdf(x, 2.5, 1.5),
        (x) => stats.gammaLogPdf(x, 2.5, 1.5).item(),
        [0.2, 3],
      ],
      [
        "beta",
        (x) => stats.betaCdf(x, 2, 3.5),
        (x) => stats.betaLogPdf(x, 2, 3.5).item(),
        [0.1, 0.7],
      ],
      ["chi2", (x) => stats.chi2Cdf(x, 3), (x) => stats.chi2LogPdf(x, 3).item(), [0.5, 6]],
    ];
    for (const [name, cdf, logPdf, xs] of cases) {
      for (const x0 of xs) {
        const pdf = Math.exp(logPdf(x0));
        expectNear(d(cdf, x0), pdf, 1e-12, 1e-300, `${name} cdf' at ${x0}`);
        const [, t] = jvp((x: NdArray) => cdf(x), [np.array(x0)], [np.array(1)]);
        expectNear(t.item(), pdf, 1e-12, 1e-300, `${name} jvp at ${x0}`);
        // second derivative: the density's derivative, by finite differences of the density
        const dd = grad((x: NdArray) => grad((y: NdArray) => cdf(y))(x))(x0).item();
        const h = 1e-5 * Math.max(1, Math.abs(x0));
        expectNear(
          dd,
          central((v) => Math.exp(logPdf(v)), x0, h),
          1e-5,
          1e-9,
          `${name} cdf'' at ${x0}`,
        );
      }
    }
  });
  it("chi2LogPdf integrates: exp of it is the derivative of chi2Cdf (finite differences)", () => {
    for (const x0 of [0.7, 4]) {
      const fd = central((v) => stats.chi2Cdf(v, 5).item(), x0, 1e-5);
      expectNear(Math.exp(stats.chi2LogPdf(x0, 5).item()), fd, 1e-8, 0, "chi2 pdf");
    }
  });
  it("Poisson and binomial cdfs in their rate / probability: -pmf (analytic)", () => {
    for (const [k, rate] of [
      [0, 0.7],
      [3, 2.5],
      [10, 12],
    ] as const) {
      const g = d((r) => stats.poissonCdf(k, r), rate);
      expectNear(
        g,
        -Math.exp(stats.poissonLogPmf(k, rate).item()),
        1e-12,
        0,
        `poisson(${k}, ${rate})`,
      );
    }
    // d/dp P(K <= k) = -n Binom(k | n - 1, p)
    for (const [k, n, p] of [
      [0, 5, 0.3],
      [3, 10, 0.45],
      [8, 9, 0.8],
    ] as const) {
      const g = d((q) => stats.binomialCdf(k, n, q), p);
      const pmf = Math.exp(stats.binomialLogPmf(k, n - 1, p).item());
      expectNear(g, -n * pmf, 1e-12, 0, `binomial(${k}, ${n}, ${p})`);
    }
  });
  it("normalPpf: derivative 1 / pdf(ppf); in mu and sigma: 1 and ndtri(q)", () => {
    const q = 0.025;
    const x = stats.normalPpf(q, 1, 3).item();
    expectNear(
      d((v) => stats.normalPpf(v, 1, 3), q),
      1 / Math.exp(stats.normalLogPdf(x, 1, 3).item()),
      1e-13,
      0,
      "ppf'",
    );
    expectNear(
      d((s) => stats.normalPpf(q, 1, s), 3),
      (x - 1) / 3,
      1e-14,
      0,
      "d/dsigma",
    );
  });
  it("multivariate normal: gradient in x is -cov^-1 (x - mean); Dirichlet: (alpha - 1) / x", () => {
    const mean = [0.5, -1];
    const cov = [
      [2, 0.3],
      [0.3, 1],
    ];
    const x = np.array([1, 0.5]);
    const g = Array.from(
      grad((v: NdArray) => stats.multivariateNormalLogPdf(v, mean, cov))(x).data(),
    );
    const det = 2 * 1 - 0.3 * 0.3;
    const dx = [1 - 0.5, 0.5 + 1];
    const want = [-(1 * dx[0]! - 0.3 * dx[1]!) / det, -(-0.3 * dx[0]! + 2 * dx[1]!) / det];
    g.forEach((v, i) => expectNear(v, want[i]!, 1e-14, 1e-15, `mvn grad ${i}`));
    const alpha = [0.7, 2, 3.5];
    const p = np.array([0.2, 0.3, 0.5]);
    const gd = Array.from(grad((v: NdArray) => stats.dirichletLogPdf(v, alpha))(p).data());
    gd.forEach((v, i) =>
      expectNear(v, (alpha[i]! - 1) / [0.2, 0.3, 0.5][i]!, 1e-14, 0, `dirichlet grad ${i}`),
    );
  });
  it("derivatives in shape parameters that enter incomplete gamma/beta are clear errors", () => {
    expect(() => grad((df: NdArray) => stats.studentTCdf(1.5, df))(3)).toThrow(
      InvalidArgumentError,
    );
    expect(() => grad((df: NdArray) => stats.studentTCdf(1.5, df))(3)).toThrow(/special.betainc/);
    expect(() => grad((a: NdArray) => stats.gammaCdf(1.5, a))(3)).toThrow(/with respect to a/);
  });
});

describe("stats cdfs: transforms and errors", () => {
  it("vmap equals a loop; jit equals eager", () => {
    const f = (x: NdArray) =>
      np.add(stats.studentTCdf(x, 4), np.add(stats.gammaSf(np.abs(x), 2), stats.normalLogCdf(x)));
    const xs = np.array([
      [-2, 0.5],
      [0, 7],
    ]);
    const b = vmap(f)(xs);
    (xs.toArray() as number[][]).forEach((row, i) =>
      expect((b.toArray() as number[][])[i]).toEqual(f(np.array(row)).toArray()),
    );
    const x = np.array([-2, 0, 0.5, 7]);
    expect(Array.from(jit(f)(x).data())).toEqual(Array.from(f(x).data()));
    const gj = jit(grad((v: NdArray) => np.sum(f(v))))(x);
    const ge = grad((v: NdArray) => np.sum(f(v)))(x);
    // jit stages the backward pass from the traced equations: it may round
    // apart from eager's tape in the last bit.
    Array.from(gj.data()).forEach((g, i) => expect(g).toBeCloseTo(ge.data()[i]!, 14));
  });
  it("float32 in, float32 out", () => {
    const x = np.array([0.5, 2], { dtype: "float32" });
    for (const y of [
      stats.normalCdf(x),
      stats.studentTCdf(x, 3),
      stats.gammaCdf(x, 2),
      stats.chi2Sf(x, 3),
    ]) {
      expect(y.dtype).toBe("float32");
    }
  });
  it("shape errors name the function and the shapes", () => {
    expect(() =>
      stats.multivariateNormalLogPdf(
        [1, 2, 3],
        [0, 0],
        [
          [1, 0],
          [0, 1],
        ],
      ),
    ).toThrow(ShapeError);
    expect(() =>
      stats.multivariateNormalLogPdf(
        [1, 2],
        [0, 0],
        [
          [1, 0, 0],
          [0, 1, 0],
        ],
      ),
    ).toThrow(/multivariateNormalLogPdf: cov must be a square matrix/);
    expect(() =>
      stats.multivariateNormalLogPdf(
        [1, 2],
        [0, 0, 0],
        [
          [1, 0],
          [0, 1],
        ],
      ),
    ).toThrow(ShapeError);
    expect(() => stats.dirichletLogPdf([0.5, 0.5], [1, 1, 1])).toThrow(
      /dirichletLogPdf: x and alpha/,
    );
  });
});
