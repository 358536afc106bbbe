/**
 * special: values against the mpmath fixture (scripts/special-fixtures.py)
 * in float64 ulps; float32 against the float64 result rounded; derivatives of
 * the public functions against central finite differences and analytic
 * forms, forward against reverse mode, to order 2; vmap against a loop; jit
 * against eager; broadcasting; and the error messages.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  emitSource,
  grad,
  InvalidArgumentError,
  jit,
  jvp,
  np,
  special,
  vmap,
} from "../src/index.js";
import { central, column, expectNear, expectUlps, FIXTURE, ulps32 } from "./special-helpers.js";

const F = FIXTURE;
const s = (f: (x: NdArray) => NdArray) => (x: number) => f(np.array(x)).item();

describe("special: float64 values against mpmath", () => {
  // bounds: the worst measured ulps over the fixture, rounded up
  it("erf, erfc, erfinv", () => {
    expectUlps("erf", F.erf!, ["x"], special.erf, 4);
    expectUlps("erfc", F.erfc!, ["x"], special.erfc, 6);
    expectUlps("erfinv", F.erfinv!, ["x"], special.erfinv, 3);
  });
  it("ndtr, logNdtr, ndtri (tails included: ndtr(-38), logNdtr(-1e10), ndtri(1e-300))", () => {
    expectUlps("ndtr", F.ndtr!, ["x"], special.ndtr, 8);
    expectUlps("logNdtr", F.logNdtr!, ["x"], special.logNdtr, 5);
    expectUlps("ndtri", F.ndtri!, ["x"], special.ndtri, 4);
  });
  it("gammaln: a few ulps for x > 0; near its zeros on the negative axis an absolute 4e-15", () => {
    const t = F.gammaln!;
    const x = column(t, "x");
    const y = column(t, "y");
    const got = Array.from(special.gammaln(np.array(x)).data());
    got.forEach((g, i) => {
      if (x[i]! > 0) expectNear(g, y[i]!, 4 * 2 ** -52, 0, `gammaln(${x[i]})`);
      else expectNear(g, y[i]!, 4 * 2 ** -52, 4e-15, `gammaln(${x[i]})`);
    });
  });
  it("digamma: relative accuracy at its positive root; absolute 1e-15 near its negative roots", () => {
    const t = F.digamma!;
    const x = column(t, "x");
    const y = column(t, "y");
    const got = Array.from(special.digamma(np.array(x)).data());
    got.forEach((g, i) => {
      if (x[i]! > 0) expectNear(g, y[i]!, 8 * 2 ** -52, 0, `digamma(${x[i]})`);
      else expectNear(g, y[i]!, 8 * 2 ** -52, 1e-15, `digamma(${x[i]})`);
    });
  });
  it("polygamma(n, x) for n = 1..6, x > 0 and x < 0", () => {
    expectUlps("polygamma", F.polygamma!, ["a", "x"], special.polygamma, 8);
  });
  it("i0e, i1e on both sides of the series/asymptotic switch", () => {
    expectUlps("i0e", F.i0e!, ["x"], special.i0e, 8);
    expectUlps("i1e", F.i1e!, ["x"], special.i1e, 8);
  });
  it("expit, logit, softplus, xlogy, xlog1py, betaln", () => {
    expectUlps("expit", F.expit!, ["x"], special.expit, 4);
    expectUlps("logit", F.logit!, ["x"], special.logit, 4);
    expectUlps("softplus", F.softplus!, ["x"], special.softplus, 4);
    expectUlps("xlogy", F.xlogy!, ["a", "x"], special.xlogy, 2);
    expectUlps("xlog1py", F.xlog1py!, ["a", "x"], special.xlog1py, 2);
    // cancellation of the three log-gammas: relative 1e-13 at a + b = 300
    const t = F.betaln!;
    const got = Array.from(
      special.betaln(np.array(column(t, "a")), np.array(column(t, "x"))).data(),
    );
    got.forEach((g, i) => expectNear(g, column(t, "y")[i]!, 2e-13, 1e-15, `betaln #${i}`));
  });
  it("gammainc, gammaincc: within 16 ulps times max(1, |log y|) (the exponent's size sets the conditioning)", () => {
    for (const name of ["gammainc", "gammaincc"] as const) {
      const t = F[name]!;
      const y = column(t, "y");
      const got = Array.from(
        special[name](np.array(column(t, "a")), np.array(column(t, "x"))).data(),
      );
      got.forEach((g, i) => {
        // y = 0: underflow in the reference too
        const scale = y[i] === 0 ? 0 : Math.max(1, Math.abs(Math.log(y[i]!)));
        expectNear(g, y[i]!, 16 * 2 ** -52 * scale, 1e-300, `${name}(${t.a![i]}, ${t.x![i]})`);
      });
    }
  });
  it("betainc: within 2e-13 relative (a, b up to 40)", () => {
    const t = F.betainc!;
    const got = Array.from(
      special
        .betainc(np.array(column(t, "a")), np.array(column(t, "b")), np.array(column(t, "x")))
        .data(),
    );
    got.forEach((g, i) =>
      expectNear(
        g,
        column(t, "y")[i]!,
        2e-13,
        1e-300,
        `betainc(${t.a![i]}, ${t.b![i]}, ${t.x![i]})`,
      ),
    );
  });
});

describe("special: float32", () => {
  const unaries = {
    erfc: [-2, -0.3, 0.7, 3, 9],
    erfinv: [-0.999, -0.2, 0.5, 0.9],
    ndtr: [-20, -1, 0.3, 5],
    logNdtr: [-30, -1, 0.3, 5],
    ndtri: [1e-30, 0.1, 0.5, 0.97],
    gammaln: [-2.5, 0.1, 1.5, 30],
    digamma: [-2.5, 0.1, 1.46, 30],
    i0e: [-30, -1, 0.5, 21],
    i1e: [-30, -1, 0.5, 21],
    expit: [-30, 0.5, 3],
    logit: [0.01, 0.4, 0.9],
    softplus: [-30, 0.5, 40],
  } as const;
  it("stays float32, within 1 float32 ulp of the float64 result at the same input", () => {
    for (const [name, xs] of Object.entries(unaries)) {
      const f = special[name as keyof typeof unaries];
      const x32 = np.array([...xs], { dtype: "float32" });
      const got = f(x32);
      expect(got.dtype, name).toBe("float32");
      const ref = f(x32.astype("float64")).data();
      Array.from(got.data()).forEach((g, i) =>
        expect(ulps32(g, ref[i]!), `${name}(${xs[i]})`).toBeLessThanOrEqual(1),
      );
    }
    const a = np.array([0.5, 3, 12], { dtype: "float32" });
    const x = np.array([0.2, 2.5, 14], { dtype: "float32" });
    for (const f of [special.gammainc, special.gammaincc, special.polygamma]) {
      const n = f === special.polygamma ? np.array([1, 2, 3], { dtype: "float32" }) : a;
      const got = f(n, x);
      expect(got.dtype).toBe("float32");
      const ref = f(n.astype("float64"), x.astype("float64")).data();
      Array.from(got.data()).forEach((g, i) => expect(ulps32(g, ref[i]!)).toBeLessThanOrEqual(1));
    }
  });
});

describe("special: derivatives", () => {
  const cases: [string, (x: NdArray) => NdArray, number[]][] = [
    ["erfc", special.erfc, [-1.5, 0.2, 2.5]],
    ["erfinv", special.erfinv, [-0.9, 0.1, 0.6]],
    ["ndtr", special.ndtr, [-5, 0.3, 2]],
    ["logNdtr", special.logNdtr, [-20, -1, 3]],
    ["ndtri", special.ndtri, [0.001, 0.4, 0.8]],
    ["gammaln", special.gammaln, [-1.5, 0.3, 7]],
    ["digamma", special.digamma, [-0.5, 1.2, 15]],
    ["i0e", special.i0e, [-3, 0.7, 22]],
    ["i1e", special.i1e, [-3, 0.7, 22]],
    ["expit", special.expit, [-3, 0.4]],
    ["logit", special.logit, [0.1, 0.5, 0.8]],
    ["softplus", special.softplus, [-2, 3]],
    ["gammainc(2.5, .)", (x) => special.gammainc(2.5, x), [0.5, 3, 8]],
    ["gammaincc(0.7, .)", (x) => special.gammaincc(0.7, x), [0.5, 3]],
    ["betainc(2, 3.5, .)", (x) => special.betainc(2, 3.5, x), [0.1, 0.6]],
    ["polygamma(2, .)", (x) => special.polygamma(2, x), [0.4, 3]],
    ["xlogy(., 2.5)", (x) => special.xlogy(x, 2.5), [0, 1.5]],
    ["xlogy(1.5, .)", (y) => special.xlogy(1.5, y), [0.3, 4]],
    ["xlog1py(0.5, .)", (y) => special.xlog1py(0.5, y), [-0.4, 2]],
  ];
  it("first and second derivatives against finite differences; forward equals reverse", () => {
    for (const [name, f, xs] of cases) {
      const g = grad((x: NdArray) => f(x));
      const gg = grad((x: NdArray) => g(x));
      for (const x0 of xs) {
        const d1 = g(x0).item();
        expectNear(
          d1,
          central(s(f), x0, 1e-6 * Math.max(1, Math.abs(x0))),
          1e-6,
          1e-9,
          `${name}' at ${x0}`,
        );
        const [, tangent] = jvp((x: NdArray) => f(x), [np.array(x0)], [np.array(1)]);
        expectNear(tangent.item(), d1, 1e-12, 1e-15, `${name} jvp at ${x0}`);
        const d2 = gg(x0).item();
        const fd2 = central((v) => g(v).item(), x0, 1e-4 * Math.max(Math.abs(x0), 0.01));
        expectNear(d2, fd2, 1e-5, 1e-7, `${name}'' at ${x0}`);
      }
    }
  });
  it("analytic derivatives: erfinv' = sqrt(pi)/2 exp(erfinv^2), gammaln' = digamma, ndtri' = 1/phi(ndtri)", () => {
    const y = 0.37;
    const e = special.erfinv(y).item();
    expectNear(
      grad(special.erfinv)(y).item(),
      (Math.sqrt(Math.PI) / 2) * Math.exp(e * e),
      1e-14,
      0,
      "erfinv'",
    );
    expectNear(
      grad(special.gammaln)(4.2).item(),
      special.digamma(4.2).item(),
      1e-15,
      0,
      "gammaln'",
    );
    const q = special.ndtri(0.01).item();
    expectNear(
      grad(special.ndtri)(0.01).item(),
      Math.sqrt(2 * Math.PI) * Math.exp((q * q) / 2),
      1e-14,
      0,
      "ndtri'",
    );
    // the derivative of xlogy in x at x = 0 is log y
    expectNear(
      grad((x: NdArray) => special.xlogy(x, 3))(0).item(),
      Math.log(3),
      1e-15,
      0,
      "xlogy_x(0)",
    );
  });
  it("the derivative of gammainc in a, of betainc in b and of polygamma in n are clear errors", () => {
    expect(() => grad((a: NdArray) => special.gammainc(a, 2))(1.5)).toThrow(InvalidArgumentError);
    expect(() => grad((a: NdArray) => special.gammainc(a, 2))(1.5)).toThrow(/with respect to a/);
    expect(() => grad((b: NdArray) => special.betainc(2, b, 0.3))(1.5)).toThrow(/a and b/);
    expect(() => grad((n: NdArray) => special.polygamma(n, 2))(1)).toThrow(/order n/);
    expect(() => special.polygamma(1.5, 2)).toThrow(InvalidArgumentError);
    expect(() => special.polygamma(-1, 2)).toThrow(/non-negative integers/);
  });
});

describe("special: transforms and broadcasting", () => {
  it("vmap equals a loop, jit equals eager (bit for bit)", () => {
    const xs = np.array([
      [0.2, 1.7],
      [3.1, 0.9],
      [5.5, 2.2],
    ]);
    const f = (row: NdArray) =>
      np.add(special.gammaln(row), np.add(special.gammaincc(1.5, row), special.i1e(row)));
    const batched = vmap(f)(xs);
    for (let i = 0; i < 3; i++) {
      const row = np.array((xs.toArray() as number[][])[i]!);
      expect(Array.from((batched.toArray() as number[][])[i]!)).toEqual(Array.from(f(row).data()));
    }
    const g = (x: NdArray) =>
      np.add(
        special.erfinv(np.tanh(x)),
        np.add(special.logNdtr(x), special.polygamma(np.array([1, 2]), np.add(x, 3))),
      );
    const x = np.array([-0.7, 1.3]);
    expect(Array.from(jit(g)(x).data())).toEqual(Array.from(g(x).data()));
    const dj = jit(grad((v: NdArray) => np.sum(g(v))))(x);
    const de = grad((v: NdArray) => np.sum(g(v)))(x);
    expect(Array.from(dj.data())).toEqual(Array.from(de.data()));
  });
  it("broadcasts like NumPy and keeps worst-case accuracy in every element", () => {
    const a = np.array([[0.5], [2], [7]]);
    const x = np.array([0.1, 1, 4, 9]);
    const p = special.gammainc(a, x);
    expect(p.shape).toEqual([3, 4]);
    const q = special.gammaincc(a, x);
    // P + Q = 1
    Array.from(p.data()).forEach((v, i) => expectNear(v + q.data()[i]!, 1, 4e-16, 0, "P + Q"));
    expect(special.betainc(np.array([1, 2]), 2, np.array([[0.3], [0.6]])).shape).toEqual([2, 2]);
  });
  it("closed forms: gammainc(1, x) = 1 - e^-x, betainc(a, 1, x) = x^a, ndtri inverts ndtr, erfinv inverts erf", () => {
    for (const x of [0.01, 0.5, 3, 30]) {
      // relative error up to |log y| ulps: the rounding of the exponent a log x - x
      expectNear(
        special.gammaincc(1, x).item(),
        Math.exp(-x),
        4e-16 * Math.max(1, x),
        0,
        `Q(1, ${x})`,
      );
      // the prefactor exp(a log x + ...) costs about |a log x| = 20 ulps at the smallest x
      expectNear(
        special.betainc(2.5, 1, x / 31).item(),
        (x / 31) ** 2.5,
        1e-14,
        0,
        `I(2.5, 1, ${x / 31})`,
      );
    }
    for (const p of [1e-200, 1e-10, 0.3, 0.999]) {
      // an ulp of x = ndtri(p) moves ndtr(x) by about x^2 ulps (relative) in the tails
      const x = special.ndtri(p).item();
      expectNear(special.ndtr(x).item(), p, 4e-16 * Math.max(4, x * x), 0, `ndtr(ndtri(${p}))`);
    }
    for (const y of [-0.999999, 0.01, 0.7]) {
      // erf itself is within 4 ulps (test/erf.test.ts)
      expectNear(special.erf(special.erfinv(y)).item(), y, 1e-15, 0, `erf(erfinv(${y}))`);
    }
  });
});

describe("special: emitSource", () => {
  it("prints the scalar functions and the kernels they share (once each) into standalone code", () => {
    const f = (x: NdArray) =>
      np.add(
        np.add(special.ndtri(special.ndtr(x)), special.erfinv(np.tanh(x))),
        np.add(
          np.add(special.gammaln(x), special.gammaincc(2.5, x)),
          np.add(
            special.i1e(x),
            np.add(special.polygamma(2, x), special.betainc(2, 3, np.divide(x, 9))),
          ),
        ),
      );
    for (const g of [f, (x: NdArray) => grad(f)(x)]) {
      const source = emitSource(g)(1.3);
      expect(source).toContain("H_ndtri");
      // ndtr, ndtri and erfinv all call erfcx: one declaration
      expect(source.split("function erfcx(").length).toBe(2);
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the generated program under test
      const compute = new Function(`${source}\nreturn compute;`)() as (x: number) => number[];
      for (const x of [1.3, 0.4, 6.5]) {
        expectNear(compute(x)[0]!, g(np.array(x)).item(), 1e-15, 0, `emitted at ${x}`);
      }
    }
  });
});
