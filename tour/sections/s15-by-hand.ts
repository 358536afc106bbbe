/**
 * Section 15 (seeds 002, 003 and 004): AD written by hand, and where it
 * stops. Seed 003's Var class (a dynamic graph of children with cached
 * adjoints) and seed 004's Dual class (+ - * /) are written here in ~30
 * lines each and checked against grad and jvp; np.exp on a Dual fails as in
 * the seed while jvp(np.exp) works; seed 002's finite differences of the
 * piecewise x^3 / x^2 on a coarse grid go wrong near x = 2 (worse for f'');
 * and the pyhf model's logpdf at (1, 1). Live: the experiment (both classes,
 * the piecewise function, the pyhf model written pyhf's way) is
 * s15-by-hand.live.js; this module adds np.gradient's finite differences, the
 * plain-JS pyhf reference, the checks and the figures.
 */
import { np } from "../../src/index.js";
import { logGammaNumber } from "../../src/stats/special.js";
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { METHOD_COLORS, Plot, colorScale, grid, plotSvg } from "../lib/plot.js";
import {
  check,
  checkRel,
  checkWorst,
  requireLiveSource,
  type Section,
  type SectionResult,
} from "../lib/types.js";

const live: LiveCode = {
  file: "s15-by-hand.live.js",
  caption:
    "Seed 003's Var class, seed 004's Dual class, np.exp(Dual) vs jvp, seed 002's piecewise function and the pyhf logpdf (live: edit and run)",
  outputs: {
    varGrad: "object",
    chainruleGrad: "object",
    xs: "object",
    dualEps: "object",
    jvpEps: "object",
    sq: "object",
    cb: "object",
    inverse: "object",
    polynomial: "object",
    expError: "string",
    e3: "number",
    de3: "number",
    piecewise: "function",
    d1: "function",
    d2: "function",
    logpdf: "number",
  },
};

/** A dual number as the live code's Dual class makes it. */
interface DualValue {
  value: number;
  eps: number;
}
/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  varGrad: [number, number];
  chainruleGrad: [number, number];
  xs: number[];
  dualEps: number[];
  jvpEps: number[];
  sq: DualValue;
  cb: DualValue;
  inverse: [number, number];
  polynomial: [number, number];
  expError: string;
  e3: number;
  de3: number;
  piecewise: (x: unknown) => { item(): number };
  d1: (x: number) => { item(): number };
  d2: (x: number) => { item(): number };
  logpdf: number;
}

/**
 * The pyhf model's log-likelihood in plain JS (seed 002's numbers): the reference for the live
 * code's chainrule logpdf. log Pois(15 | 5 mu + 10 gamma) + tau log(gamma tau) - gamma tau -
 * lgamma(tau + 1), tau = (10 / 3.5)².
 */
function pyhfLogpdfJs(mu: number, gamma: number): number {
  const tau = (10 / 3.5) ** 2;
  const rate = 5 * mu + 10 * gamma;
  let logFactorial = 0;
  for (let i = 2; i <= 15; i++) logFactorial += Math.log(i);
  const main = 15 * Math.log(rate) - rate - logFactorial;
  return main + tau * Math.log(gamma * tau) - gamma * tau - logGammaNumber(tau + 1);
}

/** NumPy's np.gradient: central differences inside, one-sided at the ends (spacing from xs, or 1). */
function npGradient(ys: number[], xs?: number[]): number[] {
  const at = (i: number) => (xs === undefined ? i : xs[i]!);
  return ys.map((_, i) => {
    if (i === 0) return (ys[1]! - ys[0]!) / (at(1) - at(0));
    const n = ys.length - 1;
    if (i === n) return (ys[n]! - ys[n - 1]!) / (at(n) - at(n - 1));
    return (ys[i + 1]! - ys[i - 1]!) / (at(i + 1) - at(i - 1));
  });
}

export const byHand: Section = {
  id: "by-hand",
  title: "15. AD by hand: Var graph, dual numbers, and finite differences at a kink",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const { varGrad, chainruleGrad, xs, dualEps, jvpEps, sq, cb, expError, e3, de3 } = v;
    const { piecewise, d1, d2, logpdf } = v;
    // The error plot of seed 004.
    const relErr = (d: number, x: number) => Math.abs(1 - d / (2 * x)); // NaN at x = 0 (0/0)
    const errRows = xs.flatMap((x, i) => [
      { x, err: relErr(dualEps[i]!, x), series: "Dual class" },
      { x, err: relErr(jvpEps[i]!, x), series: "chainrule jvp" },
    ]);
    // Finite differences of the piecewise function on the seed's coarse grid.
    const coarse = grid(-2, 5, 11);
    const yCoarse = coarse.map((x) => piecewise(np.array(x)).item());
    const fd1 = npGradient(yCoarse, coarse);
    const fd2Seed = npGradient(npGradient(yCoarse), coarse); // as the seed writes it
    const fd2 = npGradient(fd1, coarse);
    const fine = grid(-2, 5, opts.quick ? 71 : 141).filter((x) => Math.abs(x - 2) > 1e-9);
    const ad1 = fine.map((x) => d1(x).item());
    const ad2 = fine.map((x) => d2(x).item());
    const exact1 = (x: number) => (x > 2 ? 2 * x : 3 * x * x);
    const exact2 = (x: number) => (x > 2 ? 2 : 6 * x);
    const near = coarse.map((x, i) => ({ x, i })).filter(({ x }) => Math.abs(x - 2) < 0.8);
    const fdRows = (ad: number[], fd: number[], fdSeed: number[] | null, label: string) => [
      ...fine.map((x, i) => ({ x, y: ad[i]!, series: `${label} by grad` })),
      ...coarse.map((x, i) => ({ x, y: fd[i]!, series: `${label} by finite differences` })),
      ...(fdSeed === null
        ? []
        : coarse.map((x, i) => ({ x, y: fdSeed[i]!, series: `seed's ${label} FD formula` }))),
    ];

    const firstSeries = ["f' by grad", "f' by finite differences"];
    const secondSeries = ["f'' by grad", "f'' by finite differences", "seed's f'' FD formula"];
    return {
      id: this.id,
      title: this.title,
      seed:
        'seed 003 "An Introduction to Automatic Differentiation" (J. Hare), "Computing gradients" (class Var); ' +
        'seed 004 "Automatic differentiation" course notes, "Forward-mode (directional derivatives): Dual numbers" ' +
        'and "More general implementation"; seed 002 "IML 2022 -- Tutorial on Automatic Differentiation", ' +
        '"Control Flow" and "In HEP" (pyhf)',
      explanation:
        "Both modes fit in a page of code. Reverse mode: every Var remembers its children with the local " +
        "derivative as weight, and grad() sums weight × child's grad, cached so each node is visited once " +
        "(PyTorch works the same way, hence zero_grad). Forward mode: a Dual carries value and derivative " +
        "and overloads + − × ÷. The error |1 − ε/(2x)| of the dual derivative of x² is exactly 0 except at " +
        "x = 0, where it is 0/0 = NaN — the check's formula, not the derivative, breaks there. A hand-made " +
        "Dual only works for the operations it overloads: np.exp(Dual) fails, while chainrule's jvp " +
        "differentiates np.exp. Finite differences on a coarse grid smear the kink of the piecewise " +
        "function at x = 2, and the second derivative is worse.",
      notes: [
        `np.exp(new Dual(3, 1)) in chainrule: ${expError}`,
        `Finite differences near x = 2 (grid spacing 0.7): ` +
          near
            .map(
              ({ x, i }) =>
                `at x = ${x.toFixed(1)} f' FD ${fd1[i]!.toFixed(3)} vs exact ${exact1(x).toFixed(3)}, ` +
                `f'' FD ${fd2[i]!.toFixed(3)} vs exact ${exact2(x).toFixed(3)}`,
            )
            .join("; ") +
          ".",
        "The seed's second-derivative cell computes np.gradient(np.gradient(yi), xi): the inner call has " +
          "no spacing, so its points come out multiplied by the spacing 0.7 (the grey points); the " +
          "orange points use the spacing in both calls.",
      ],
      code: [{ caption: live.caption, source, live: true }],
      seedValues: [
        {
          what: "square(Dual(3.1, 1))",
          seed: "Dual(9.610000000000001, 6.2)",
          chainrule: `Dual(${sq.value}, ${sq.eps})`,
        },
        {
          what: "cube(Dual(2, 1))",
          seed: "Dual(8, 12)",
          chainrule: `Dual(${cb.value}, ${cb.eps})`,
        },
        {
          what: "print(np.abs(1 - yprime.eps/(2*x)))",
          seed: "[nan 0. 0. 0. ... 0.]",
          chainrule: `[${errRows
            .filter((r) => r.series === "Dual class")
            .slice(0, 4)
            .map((r) => (Number.isNaN(r.err) ? "nan" : `${r.err}.`))
            .join(" ")} ... ${relErr(dualEps.at(-1)!, xs.at(-1)!)}.]`,
        },
        {
          what: "myexp(Dual(3, 1))",
          seed: "TypeError: loop of ufunc does not support argument 0 of type Dual which has no callable exp method",
          chainrule: `${expError.slice(0, 110)}…; jvp(np.exp, [3], [1]) = (${e3}, ${de3})`,
        },
        {
          what: "m.logpdf(pars, data) at (1, 1)",
          seed: "DeviceArray([-4.25748227], dtype=float64)",
          chainrule: logpdf.toFixed(8),
        },
        {
          what: "da/dx, da/dy for a = x*y + sin(x) at (0.5, 4.2)",
          seed: "(printed by the slides' code, no value shown)",
          chainrule: `Var: ${varGrad[0]}, ${varGrad[1]}; grad: ${chainruleGrad[0]}, ${chainruleGrad[1]}`,
        },
      ],
      checks: [
        check("Var graph: da/dx", varGrad[0], chainruleGrad[0], "grad", 1e-15),
        check("Var graph: da/dy", varGrad[1], chainruleGrad[1], "grad", 0),
        check("Var graph: da/dx", varGrad[0], 4.2 + Math.cos(0.5), "analytic y + cos x", 1e-15),
        check("square(Dual(3.1, 1)).eps", sq.eps, 6.2, "seed's printout", 1e-15),
        check("cube(Dual(2, 1)).eps", cb.eps, 12, "seed's printout", 0),
        check("Dual division: d/dx 1/x at 2", v.inverse[0], v.inverse[1], "jvp", 1e-16),
        check(
          "Dual division: d/dx 1/x at 2, analytic",
          v.inverse[0],
          -1 / 4,
          "analytic -1/x²",
          1e-16,
        ),
        check(
          "Dual + − ×: d/dx (x² − 3x + 2) at 1.5",
          v.polynomial[0],
          v.polynomial[1],
          "jvp",
          1e-15,
        ),
        checkWorst("Dual eps of x² on [0, 10]", dualEps, jvpEps, "jvp", 0),
        check("jvp(np.exp) at 3", de3, Math.exp(3), "analytic e³", 1e-12),
        checkWorst(
          "f' of the piecewise function by grad",
          ad1,
          fine.map(exact1),
          "analytic",
          1e-15,
        ),
        checkWorst(
          "f'' of the piecewise function by grad",
          ad2,
          fine.map(exact2),
          "analytic",
          1e-15,
        ),
        checkRel("pyhf logpdf at (1, 1)", logpdf, -4.25748227, "seed's printout (pyhf)", 1e-8),
        checkRel("pyhf logpdf at (1, 1)", logpdf, pyhfLogpdfJs(1, 1), "plain-JS formula", 1e-14),
      ],
      figures: [
        {
          caption:
            "Seed 004's error plot: |1 − ε/(2x)| for x² by the Dual class and by jvp. Zero everywhere except x = 0, where 0/0 is NaN (red mark).",
          svg: plotSvg({
            width: 560,
            height: 280,
            marginLeft: 56,
            color: colorScale(
              ["Dual class", "chainrule jvp"],
              [METHOD_COLORS.dual, METHOD_COLORS.chainrule],
            ),
            x: { label: "x", labelAnchor: "right", labelArrow: "none" },
            y: { label: "relative error", domain: [-0.5, 1], grid: true, labelArrow: "none" },
            marks: [
              Plot.line(
                errRows.filter((r) => !Number.isNaN(r.err) && r.series === "Dual class"),
                { x: "x", y: "err", stroke: "series", strokeWidth: 4 },
              ),
              Plot.line(
                errRows.filter((r) => !Number.isNaN(r.err) && r.series !== "Dual class"),
                { x: "x", y: "err", stroke: "series", strokeWidth: 2, strokeDasharray: "6 4" },
              ),
              Plot.ruleX([0], { stroke: METHOD_COLORS.second, strokeWidth: 2 }),
              Plot.text([{ x: 0, y: 0.8 }], {
                x: "x",
                y: "y",
                text: () => "NaN at x = 0",
                textAnchor: "start",
                dx: 6,
                fill: METHOD_COLORS.second,
              }),
            ],
          }),
        },
        {
          caption:
            "f' of the piecewise function (x³ below 2, x² above): grad (line) and finite differences on the seed's 11-point grid (dots), off near x = 2.",
          svg: plotSvg({
            width: 560,
            height: 300,
            marginLeft: 50,
            color: colorScale(firstSeries, [
              METHOD_COLORS.chainrule,
              METHOD_COLORS.finiteDifferences,
            ]),
            x: { label: "x", labelAnchor: "right", labelArrow: "none" },
            y: { label: "f'(x)", grid: true, labelArrow: "none" },
            marks: [
              Plot.ruleX([2], { stroke: "#ccc" }),
              Plot.line(
                fdRows(ad1, fd1, null, "f'").filter((r) => r.series === firstSeries[0]),
                {
                  x: "x",
                  y: "y",
                  stroke: "series",
                  strokeWidth: 2,
                  z: (d: { x: number }) => d.x > 2,
                },
              ),
              Plot.dot(
                fdRows(ad1, fd1, null, "f'").filter((r) => r.series === firstSeries[1]),
                { x: "x", y: "y", stroke: "series", fill: "series", r: 3.5 },
              ),
            ],
          }),
        },
        {
          caption:
            "f'': grad (line) against finite differences of finite differences (dots); the seed's formula (grey) also misses the spacing.",
          svg: plotSvg({
            width: 560,
            height: 300,
            marginLeft: 50,
            color: colorScale(secondSeries, [
              METHOD_COLORS.chainrule,
              METHOD_COLORS.finiteDifferences,
              METHOD_COLORS.exact,
            ]),
            x: { label: "x", labelAnchor: "right", labelArrow: "none" },
            y: { label: "f''(x)", grid: true, labelArrow: "none" },
            marks: [
              Plot.ruleX([2], { stroke: "#ccc" }),
              Plot.line(
                fdRows(ad2, fd2, fd2Seed, "f''").filter((r) => r.series === secondSeries[0]),
                {
                  x: "x",
                  y: "y",
                  stroke: "series",
                  strokeWidth: 2,
                  z: (d: { x: number }) => d.x > 2,
                },
              ),
              Plot.dot(
                fdRows(ad2, fd2, fd2Seed, "f''").filter((r) => r.series !== secondSeries[0]),
                { x: "x", y: "y", stroke: "series", fill: "series", r: 3.5 },
              ),
            ],
          }),
        },
      ],
    };
  },
};
