/**
 * The quantile functions: special.gammaincinv, gammainccinv, betaincinv,
 * betainccinv and stats.gammaPpf, chi2Ppf, betaPpf, studentTPpf. Values are
 * checked by round trips through the forward functions over wide grids (both
 * tails down to 1e-300), against closed forms (a = 1 gamma, a = 1 or b = 1
 * beta, Student t with 1 and 2 degrees of freedom), against a bisection on
 * the float64 forward functions in this file (a different method from the
 * Newton iteration) and against mpmath's roots (test/fixtures/special-inverse.json). Derivatives in p against central differences and the
 * other AD mode; vmap and jit against eager; edge cases and errors.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  emitSource,
  grad,
  InvalidArgumentError,
  jit,
  jvp,
  np,
  ShapeError,
  special,
  stats,
  vmap,
} from "../src/index.js";
import { central, expectNear } from "./special-helpers.js";

const num = (a: NdArray): number => a.item();
const P = (a: number, x: number): number => num(special.gammainc(a, x));
const Q = (a: number, x: number): number => num(special.gammaincc(a, x));
const I = (a: number, b: number, x: number): number => num(special.betainc(a, b, x));
const EPS = 2 ** -52;
/** mpmath roots at 40 digits (scripts/special-inverse-fixtures.py). */
const FIX = JSON.parse(
  readFileSync(new URL("./fixtures/special-inverse.json", import.meta.url), "utf8"),
) as Record<string, Record<string, (number | string)[]>>;
const nums = (v: (number | string)[] | undefined): number[] => (v ?? []).map(Number);
/** The forward functions' own bound (docs/design.md): 16 ulp x max(1, |log y|). */
const fwdTol = (y: number): number => 16 * EPS * Math.max(1, Math.abs(Math.log(y)));

/**
 * The round trip's error: |F(x) - t| / t in the tail F that t is the smaller
 * mass of, or 0 where the float64 neighbours of x bracket t (the root lies
 * within an ulp of x) or x underflowed/rounded to an end correctly.
 */
function gammaRoundTrip(a: number, x: number, p: number, upper: boolean): number {
  const lowerMass = upper ? 1 - p : p; // the P it should give, exact for p >= 1/2
  const tail = Math.min(p, 1 - p);
  const useP = upper ? p > 0.5 : p <= 0.5;
  if (x === 0) return P(a, Number.MIN_VALUE) >= lowerMass ? 0 : Infinity;
  const back = useP ? P(a, x) : Q(a, x);
  return Math.abs(back - tail) / tail;
}

function betaRoundTrip(a: number, b: number, x: number, p: number): number {
  const tail = Math.min(p, 1 - p);
  if (x === 0) return I(a, b, Number.MIN_VALUE) >= p ? 0 : Infinity;
  if (x === 1) return I(a, b, 1 - 2 ** -53) <= p ? 0 : Infinity;
  const up = Math.min(1, x + Math.max(x * EPS, Number.MIN_VALUE));
  const down = x - Math.max(x * EPS, Number.MIN_VALUE);
  if (I(a, b, down) <= p && p <= I(a, b, up)) return 0;
  // the mass below x, from whichever side keeps it accurate
  const below = x < 0.5 ? I(a, b, x) : 1 - I(b, a, 1 - x);
  const back = p <= 0.5 ? below : x < 0.5 ? 1 - I(a, b, x) : I(b, a, 1 - x);
  return Math.abs(back - tail) / tail;
}

/** x with F(x) = t by 200 bisection steps on [lo, hi] (geometric while the bracket is wide). */
function bisect(F: (x: number) => number, t: number, lo: number, hi: number): number {
  const increasing = F(hi) > F(lo);
  for (let i = 0; i < 400; i++) {
    const mid = lo > 0 && hi > 4 * lo ? Math.sqrt(lo) * Math.sqrt(hi) : lo + (hi - lo) / 2;
    if (mid === lo || mid === hi) break;
    if (F(mid) < t === increasing) lo = mid;
    else hi = mid;
  }
  return lo + (hi - lo) / 2;
}

const GAMMA_AS = [0.01, 0.03, 0.1, 0.3, 0.5, 1, 2, 3.7, 10, 31, 100, 300, 1000];
const PS = [
  1e-300,
  1e-200,
  1e-100,
  1e-50,
  1e-20,
  1e-10,
  1e-5,
  0.01,
  0.1,
  0.3,
  0.5,
  0.7,
  0.9,
  0.99,
  1 - 1e-5,
  1 - 1e-10,
  1 - 1e-16,
];
const BETA_AB = [0.01, 0.1, 0.5, 1, 2, 5, 20, 100, 1000];
const BETA_PS = [1e-300, 1e-100, 1e-20, 1e-5, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-5, 1 - 1e-12];

describe("special.gammaincinv / gammainccinv", () => {
  it("round trips P(a, gammaincinv(a, p)) = p and Q(a, gammainccinv(a, q)) = q on a wide grid", () => {
    let worst = 0;
    for (const a of GAMMA_AS) {
      const x = special.gammaincinv(a, PS).data() as Float64Array;
      const xq = special.gammainccinv(a, PS).data() as Float64Array;
      PS.forEach((p, i) => {
        worst = Math.max(worst, gammaRoundTrip(a, x[i]!, p, false));
        worst = Math.max(worst, gammaRoundTrip(a, xq[i]!, p, true));
      });
    }
    // measured 2.0e-13 (a = 1000, q = 1e-200: the forward function's own error grows with |log q|)
    expect(worst).toBeLessThan(1e-12);
  });
  it("matches closed forms: a = 1 (exponential) and a = 1/2 (erf)", () => {
    for (const p of [1e-300, 1e-10, 0.01, 0.5, 0.9, 1 - 1e-10]) {
      expectNear(num(special.gammaincinv(1, p)), -Math.log1p(-p), fwdTol(p), 0, `a=1 p=${p}`);
      expectNear(num(special.gammainccinv(1, p)), -Math.log(p), fwdTol(p), 0, `Q a=1 q=${p}`);
    }
    // P(1/2, x) = erf(sqrt x): x = erfinv(p)^2 (erfinv is checked against mpmath in special.test.ts)
    for (const p of [1e-6, 0.2, 0.5, 0.8]) {
      const e = num(special.erfinv(p));
      expectNear(num(special.gammaincinv(0.5, p)), e * e, 1e-13, 0, `a=1/2 p=${p}`);
    }
  });
  it("agrees with a bisection on the float64 forward function", () => {
    for (const [a, p] of [
      [0.05, 0.3],
      [0.7, 1e-40],
      [2.5, 0.95],
      [17, 1e-8],
      [250, 0.5],
    ] as const) {
      const ref = bisect((x) => P(a, x), p, 0, 1e4);
      expectNear(num(special.gammaincinv(a, p)), ref, 1e-12, 0, `a=${a} p=${p}`);
      const refQ = bisect((x) => Q(a, x), p, 0, 1e4);
      expectNear(num(special.gammainccinv(a, p)), refQ, 1e-12, 0, `Q a=${a} q=${p}`);
    }
  });
  it("edge cases: p = 0, 1; p outside [0, 1], NaN, a <= 0 give NaN", () => {
    expect(num(special.gammaincinv(2, 0))).toBe(0);
    expect(num(special.gammaincinv(2, 1))).toBe(Infinity);
    expect(num(special.gammainccinv(2, 0))).toBe(Infinity);
    expect(num(special.gammainccinv(2, 1))).toBe(0);
    for (const [a, p] of [
      [2, -0.1],
      [2, 1.1],
      [2, NaN],
      [NaN, 0.5],
      [0, 0.5],
      [-1, 0.5],
    ]) {
      expect(num(special.gammaincinv(a!, p!))).toBeNaN();
      expect(num(special.gammainccinv(a!, p!))).toBeNaN();
    }
  });
});

describe("special.betaincinv / betainccinv", () => {
  it("round trips I(a, b, betaincinv(a, b, p)) = p on a wide grid", () => {
    let worst = 0;
    for (const a of BETA_AB) {
      for (const b of BETA_AB) {
        const x = special.betaincinv(a, b, BETA_PS).data() as Float64Array;
        BETA_PS.forEach((p, i) => {
          worst = Math.max(worst, betaRoundTrip(a, b, x[i]!, p));
        });
      }
    }
    // measured 1.8e-13 (a = 5, b = 0.5, p = 1e-300)
    expect(worst).toBeLessThan(1e-12);
  });
  it("matches closed forms: I_x(a, 1) = x^a and I_x(1, b) = 1 - (1 - x)^b", () => {
    for (const p of [1e-300, 1e-10, 0.01, 0.5, 0.9]) {
      for (const c of [0.3, 2, 7]) {
        expectNear(
          num(special.betaincinv(c, 1, p)),
          p ** (1 / c),
          fwdTol(p),
          0,
          `b=1 a=${c} p=${p}`,
        );
        const x1 = -Math.expm1(Math.log1p(-p) / c);
        expectNear(num(special.betaincinv(1, c, p)), x1, fwdTol(p), 0, `a=1 b=${c} p=${p}`);
        // upper form: 1 - I_x(1, c) = (1 - x)^c = q
        const xq = -Math.expm1(Math.log(p) / c);
        expectNear(num(special.betainccinv(1, c, p)), xq, fwdTol(p), 0, `upper a=1 b=${c} q=${p}`);
      }
    }
  });
  it("agrees with a bisection on the float64 forward function", () => {
    for (const [a, b, p] of [
      [0.3, 0.7, 0.4],
      [2.5, 40, 1e-30],
      [12, 3, 0.95],
      [150, 150, 0.5],
    ] as const) {
      const ref = bisect((x) => I(a, b, x), p, 0, 1);
      expectNear(num(special.betaincinv(a, b, p)), ref, 1e-12, 1e-16, `a=${a} b=${b} p=${p}`);
    }
  });
  it("edge cases: p = 0, 1; bad p, a, b give NaN", () => {
    expect(num(special.betaincinv(2, 3, 0))).toBe(0);
    expect(num(special.betaincinv(2, 3, 1))).toBe(1);
    expect(num(special.betainccinv(2, 3, 0))).toBe(1);
    expect(num(special.betainccinv(2, 3, 1))).toBe(0);
    for (const [a, b, p] of [
      [2, 3, -0.1],
      [2, 3, 1.5],
      [2, 3, NaN],
      [0, 3, 0.5],
      [2, -1, 0.5],
    ]) {
      expect(num(special.betaincinv(a!, b!, p!))).toBeNaN();
    }
  });
});

describe("quantiles against the mpmath fixture", () => {
  it("gammaincinv and gammainccinv within 5e-13 relative", () => {
    for (const [name, pKey] of [
      ["gammaincinv", "p"],
      ["gammainccinv", "q"],
    ] as const) {
      const fix = FIX[name]!;
      const a = nums(fix.a);
      const ref = nums(fix.x);
      const fn = name === "gammaincinv" ? special.gammaincinv : special.gammainccinv;
      const got = fn(a, nums(fix[pKey])).data();
      let worst = 0;
      ref.forEach((r, i) => {
        if (r === 0 || !Number.isFinite(r)) expect(got[i]).toBe(r);
        else worst = Math.max(worst, Math.abs(got[i]! - r) / r);
      });
      // measured 7.9e-14 (gammaincinv), 8.8e-14 (gammainccinv)
      expect(worst, name).toBeLessThan(5e-13);
    }
  });
  it("betaincinv within 2e-11 of min(x, 1 - x)", () => {
    const fix = FIX.betaincinv!;
    const ref = nums(fix.x);
    const got = special.betaincinv(nums(fix.a), nums(fix.b), nums(fix.p)).data();
    let worst = 0;
    ref.forEach((r, i) => {
      if (r === 0 || r === 1) expect(got[i]).toBe(r);
      else worst = Math.max(worst, Math.abs(got[i]! - r) / Math.min(r, 1 - r));
    });
    // measured 6.9e-12, at a = 0.05, b = 300: betainc's own 3.5e-13 relative error there
    // (log B(a, b) from three lgammas near 1410), times 1 / a for the inverse
    expect(worst).toBeLessThan(2e-11);
  });
});

describe("stats quantiles", () => {
  it("studentTPpf matches the closed forms for 1 and 2 degrees of freedom, both tails", () => {
    for (const q of [
      1e-300,
      1e-100,
      1e-10,
      0.01,
      0.2,
      0.4,
      0.5 - 1e-12,
      0.5,
      0.6,
      0.9,
      1 - 1e-10,
    ]) {
      // nu = 1 (Cauchy): t = -1 / tan(pi q) (q <= 1/2), exact in the lower tail
      const m = Math.min(q, 1 - q);
      // (tan(pi (q - 1/2)) in the centre, where q - 1/2 is exact)
      const cauchy =
        m < 0.25 ? (q < 0.5 ? -1 : 1) / Math.tan(Math.PI * m) : Math.tan(Math.PI * (q - 0.5));
      expectNear(
        num(stats.studentTPpf(q, 1)),
        q === 0.5 ? 0 : cauchy,
        1e-13,
        1e-300,
        `nu=1 q=${q}`,
      );
      // nu = 2: t = (2q - 1) / sqrt(2 q (1 - q))
      const t2 = (2 * q - 1) / Math.sqrt(2 * q * (1 - q));
      expectNear(num(stats.studentTPpf(q, 2)), t2, 1e-13, 1e-300, `nu=2 q=${q}`);
    }
  });
  it("studentTPpf round trips through studentTCdf, with loc and scale", () => {
    for (const nu of [0.7, 3, 5, 30, 200]) {
      for (const q of [1e-20, 1e-5, 0.05, 0.3, 0.45, 0.55, 0.8, 0.999]) {
        const x = num(stats.studentTPpf(q, nu, 1.5, 2));
        const back =
          x < 1.5
            ? num(stats.studentTCdf(x, nu, 1.5, 2))
            : 1 - num(stats.studentTSf(x, nu, 1.5, 2));
        // studentTCdf's centre branch (1/2 - mass / 2) is accurate to 1e-16 absolute only
        expectNear(back, q, 1e-11, 1e-16, `nu=${nu} q=${q}`);
      }
    }
    // the deep lower tail for large nu, against a bisection on I_x(nu/2, 1/2) = 2q, x = nu / (nu + t^2)
    for (const [nu, q] of [
      [200, 1e-20],
      [50, 1e-100],
    ] as const) {
      const x = bisect((v) => I(nu / 2, 0.5, v), 2 * q, 0, 1);
      expectNear(
        num(stats.studentTPpf(q, nu)),
        -Math.sqrt((nu * (1 - x)) / x),
        1e-12,
        0,
        `nu=${nu} q=${q}`,
      );
    }
  });
  it("gammaPpf, chi2Ppf and betaPpf are the inverses of their cdfs", () => {
    // chi2 with 2 degrees of freedom is exponential with mean 2
    for (const q of [1e-10, 0.3, 0.95]) {
      expectNear(num(stats.chi2Ppf(q, 2)), -2 * Math.log1p(-q), fwdTol(q), 0, `chi2 q=${q}`);
      expectNear(num(stats.gammaPpf(q, 1, 4)), -Math.log1p(-q) / 4, fwdTol(q), 0, `gamma q=${q}`);
    }
    for (const [q, shape, rate] of [
      [0.2, 3, 0.5],
      [0.99, 0.4, 7],
    ]) {
      expectNear(
        num(stats.gammaCdf(stats.gammaPpf(q!, shape!, rate), shape!, rate)),
        q!,
        1e-13,
        0,
        "gamma",
      );
    }
    expectNear(num(stats.chi2Cdf(stats.chi2Ppf(0.9, 7), 7)), 0.9, 1e-13, 0, "chi2");
    expectNear(num(stats.betaCdf(stats.betaPpf(0.3, 2.5, 4), 2.5, 4)), 0.3, 1e-13, 0, "beta");
  });
});

describe("quantiles: derivatives, transforms and errors", () => {
  it("dx/dp = 1 / density, against central differences and the other AD mode", () => {
    const cases: [string, (p: NdArray | number) => NdArray, number][] = [
      ["gammaincinv", (p) => special.gammaincinv(2.5, p), 0.3],
      ["gammainccinv", (p) => special.gammainccinv(0.7, p), 0.2],
      ["betaincinv", (p) => special.betaincinv(2, 3.5, p), 0.6],
      ["betainccinv", (p) => special.betainccinv(0.8, 1.7, p), 0.4],
      ["studentTPpf tail", (p) => stats.studentTPpf(p, 3, 1, 2), 0.02],
      ["studentTPpf centre", (p) => stats.studentTPpf(p, 3), 0.45],
      ["studentTPpf at 1/2", (p) => stats.studentTPpf(p, 3), 0.5],
      ["chi2Ppf", (p) => stats.chi2Ppf(p, 5), 0.9],
    ];
    for (const [what, f, p] of cases) {
      const rev = num(grad(f)(p));
      const fwd = num(jvp(f, [p], [1])[1]);
      const fd = central((v) => num(f(v)), p, 1e-6);
      expectNear(rev, fd, 1e-7, 0, `${what}: grad vs central difference`);
      expectNear(fwd, rev, 1e-14, 0, `${what}: jvp vs grad`);
    }
    // analytic at the median of the t: 1 / f(0), f(0) = Gamma(2) / (Gamma(3/2) sqrt(3 pi)) for nu = 3
    const f0 = 1 / ((Math.sqrt(Math.PI) / 2) * Math.sqrt(3 * Math.PI));
    expectNear(
      num(grad((q: NdArray) => stats.studentTPpf(q, 3))(0.5)),
      1 / f0,
      1e-13,
      0,
      "t at 1/2",
    );
  });
  it("vmap and jit give eager's values", () => {
    const ps = np.asarray([1e-30, 0.1, 0.5, 0.93]);
    const eager = special.gammaincinv(3, ps).data();
    expect(jit((p: NdArray) => special.gammaincinv(3, p))(ps).data()).toEqual(eager);
    expect(vmap((p: NdArray) => special.gammaincinv(3, p))(ps).data()).toEqual(eager);
    const beager = special.betaincinv(2, 0.5, ps).data();
    expect(jit((p: NdArray) => special.betaincinv(2, 0.5, p))(ps).data()).toEqual(beager);
    const teager = stats.studentTPpf(ps, 4).data();
    expect(jit((p: NdArray) => stats.studentTPpf(p, 4))(ps).data()).toEqual(teager);
    const g = vmap(grad((p: NdArray) => special.betaincinv(2, 3, p)))(
      np.asarray([0.2, 0.7]),
    ).data();
    expect(g[0]).toBe(num(grad((p: NdArray) => special.betaincinv(2, 3, p))(0.2)));
  });
  it("derivatives in the shape parameters are clear errors naming the function", () => {
    expect(() => grad((a: NdArray) => special.gammaincinv(a, 0.3))(2)).toThrow(
      InvalidArgumentError,
    );
    expect(() => grad((a: NdArray) => special.gammainccinv(a, 0.3))(2)).toThrow(
      /gammaincinv.*with respect to a/,
    );
    expect(() => grad((b: NdArray) => special.betaincinv(2, b, 0.3))(2)).toThrow(
      /betaincinv.*a and b/,
    );
    expect(() => grad((df: NdArray) => stats.studentTPpf(0.3, df))(4)).toThrow(
      InvalidArgumentError,
    );
    expect(() => grad((df: NdArray) => stats.chi2Ppf(0.3, df))(4)).toThrow(/chi2Ppf/);
  });
  it("float32 operands give float32 results near the float64 ones", () => {
    const ps = [1e-20, 0.01, 0.5, 0.99];
    const f32 = special.gammaincinv(np.astype(3, "float32"), np.astype(ps, "float32"));
    const t32 = stats.studentTPpf(np.astype(ps, "float32"), 4);
    expect(f32.dtype).toBe("float32");
    expect(t32.dtype).toBe("float32");
    const ps32 = ps.map(Math.fround); // the float32 probabilities, evaluated in float64
    const f64 = special.gammaincinv(3, ps32).data();
    const t64 = stats.studentTPpf(ps32, 4).data();
    // lgamma(a) enters as a float32 operand: a few float32 ulps
    f32.data().forEach((v, i) => expectNear(v, f64[i]!, 4 * 2 ** -23, 0, `gamma f32 ${ps[i]}`));
    t32.data().forEach((v, i) => expectNear(v, t64[i]!, 4 * 2 ** -23, 0, `t f32 ${ps[i]}`));
  });
  it("shapes that do not broadcast are ShapeErrors; ints promote to float64", () => {
    expect(() => special.gammaincinv([1, 2], [0.1, 0.2, 0.3])).toThrow(ShapeError);
    expect(() => special.betaincinv([1, 2], 3, [0.1, 0.2, 0.3])).toThrow(/special\.betaincinv/);
    expect(() => stats.studentTPpf([0.1, 0.2, 0.3], [1, 2])).toThrow(ShapeError);
    const ints = special.gammaincinv(np.astype([2, 3], "int32"), 0.5);
    expect(ints.dtype).toBe("float64");
    expect(ints.data()).toEqual(special.gammaincinv([2, 3], 0.5).data());
  });
  it("jit runs them; emitSource refuses them by name (their kernels call the cdfs' kernels)", () => {
    const quantile = (p: NdArray): NdArray =>
      np.add(special.gammaincinv(2.5, p), special.betaincinv(2, 3, p));
    const ps = np.array([1e-12, 0.3, 0.999]);
    expect(jit(quantile)(ps).data()).toEqual(quantile(ps).data());
    expect(() => emitSource(quantile)(0.3)).toThrow(
      /^emitSource: the program uses incompleteGammaInv, whose elements are computed by library functions/,
    );
    expect(() => emitSource((p: NdArray) => special.betaincinv(2, 3, p))(0.3)).toThrow(
      /uses incompleteBetaInv.*run it with jit instead/,
    );
  });
});
