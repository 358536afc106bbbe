/**
 * Section 15 (seeds 002, 003 and 004): AD written by hand, and where it
 * stops. Seed 003's Var class (a dynamic graph of children with cached
 * adjoints) and seed 004's Dual class (+ - * /) are written here in ~30
 * lines each and checked against grad and jvp; np.exp on a Dual fails as in
 * the seed while jvp(np.exp) works; seed 002's finite differences of the
 * piecewise x^3 / x^2 on a coarse grid go wrong near x = 2 (worse for f'');
 * and the pyhf model's logpdf at (1, 1).
 */
import { grad, jvp, np, type Array } from "../../src/index.js";
import { codeRegion } from "../lib/code.js";
import { METHOD_COLORS, Plot, colorScale, grid, plotSvg } from "../lib/plot.js";
import { check, checkRel, checkWorst, type Section, type SectionResult } from "../lib/types.js";
import { logLikelihood, logLikelihoodJs } from "./s08-likelihood-fit.js";

// #region var
/** Seed 003's Var: each node knows its children (weight dz/dself, child z) and caches its adjoint. */
class Var {
  children: [number, Var][] = [];
  gradValue: number | null = null;
  constructor(readonly value: number) {}
  mul(other: Var): Var {
    const z = new Var(this.value * other.value);
    this.children.push([other.value, z]); // dz/dself = other.value
    other.children.push([this.value, z]); // dz/dother = self.value
    return z;
  }
  add(other: Var): Var {
    const z = new Var(this.value + other.value);
    this.children.push([1, z]);
    other.children.push([1, z]);
    return z;
  }
  sin(): Var {
    const z = new Var(Math.sin(this.value));
    this.children.push([Math.cos(this.value), z]);
    return z;
  }
  /** d(output)/d(this) by the chain rule over the children, computed once and cached. */
  grad(): number {
    if (this.gradValue === null) {
      this.gradValue = this.children.reduce((s, [weight, v]) => s + weight * v.grad(), 0);
    }
    return this.gradValue;
  }
}
const vx = new Var(0.5);
const vy = new Var(4.2);
const va = vx.mul(vy).add(vx.sin()); // a = x*y + sin(x)
va.gradValue = 1.0;
// #endregion

// #region dual
/** Seed 004's Dual: value + eps·ε with ε² = 0, and the four arithmetic rules. */
class Dual {
  constructor(
    readonly value: number,
    readonly eps: number = 0,
  ) {}
  static of(o: Dual | number): Dual {
    return o instanceof Dual ? o : new Dual(o);
  }
  add(o: Dual | number) {
    const b = Dual.of(o);
    return new Dual(this.value + b.value, this.eps + b.eps);
  }
  sub(o: Dual | number) {
    const b = Dual.of(o);
    return new Dual(this.value - b.value, this.eps - b.eps);
  }
  mul(o: Dual | number) {
    const b = Dual.of(o);
    return new Dual(this.value * b.value, this.eps * b.value + this.value * b.eps);
  }
  div(o: Dual | number) {
    const b = Dual.of(o);
    if (b.value === 0) throw new RangeError("Dual.div: division by zero");
    // 1/(x + aε) = 1/x - ε a/x²
    return new Dual(this.value / b.value, this.eps / b.value - (this.value / b.value ** 2) * b.eps);
  }
}
const square = (x: Dual) => x.mul(x);
const cube = (x: Dual) => x.mul(x).mul(x);
// #endregion

// #region piecewise
// Seed 002's control_flow_func: plain JS control flow on the value.
const piecewise = (x: Array): Array => (x.item() > 2 ? x.pow(2) : x.pow(3));
const d1 = grad(piecewise);
const d2 = grad((x: Array) => d1(x));
// #endregion

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
  run(opts): SectionResult {
    // Var graph vs grad.
    const z = (x: Array, y: Array) => x.mul(y).add(np.sin(x));
    const [gx, gy] = grad(z, { argnums: [0, 1] })(0.5, 4.2);

    // Dual numbers vs jvp, and the error plot of seed 004.
    const xs = grid(0, 10, opts.quick ? 41 : 100);
    const dualEps = xs.map((x) => square(new Dual(x, 1)).eps);
    const jvpEps = xs.map((x) => jvp((t: Array) => t.mul(t), [x], [1])[1].item());
    const relErr = (d: number, x: number) => Math.abs(1 - d / (2 * x)); // NaN at x = 0 (0/0)
    const errRows = xs.flatMap((x, i) => [
      { x, err: relErr(dualEps[i]!, x), series: "Dual class" },
      { x, err: relErr(jvpEps[i]!, x), series: "chainrule jvp" },
    ]);
    const sq = square(new Dual(3.1, 1));
    const cb = cube(new Dual(2, 1));
    const inv = new Dual(1).div(new Dual(2, 1)); // d/dx 1/x at 2 = -1/4
    const [, invJvp] = jvp((t: Array) => np.divide(1, t), [2], [1]);
    const poly = new Dual(1.5, 1).mul(new Dual(1.5, 1)).sub(new Dual(1.5, 1).mul(3)).add(2);
    const [, polyJvp] = jvp((t: Array) => t.mul(t).sub(t.mul(3)).add(2), [1.5], [1]);

    // np.exp on a Dual: refused (as numpy refuses), while jvp(np.exp) works.
    let expError = "";
    try {
      np.exp(new Dual(3, 1) as never);
    } catch (e) {
      expError = `${(e as Error).name}: ${(e as Error).message}`;
    }
    // #region exp
    const [e3, de3] = jvp(np.exp, [3], [1]); // (e^3, e^3)
    // #endregion

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

    // pyhf's uncorrelated_background([5], [10], [3.5]) at (mu, gamma) = (1, 1), data [15] + auxdata.
    const logpdf = logLikelihood(np.array([1, 1])).item();

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
      code: [
        { caption: "Seed 003's Var class", source: codeRegion(import.meta.url, "var") },
        { caption: "Seed 004's Dual class", source: codeRegion(import.meta.url, "dual") },
        {
          caption: "What np.exp(Dual(3, 1)) needed: jvp",
          source: codeRegion(import.meta.url, "exp"),
        },
        {
          caption: "Seed 002's piecewise function, differentiated through JS control flow",
          source: codeRegion(import.meta.url, "piecewise"),
        },
      ],
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
          chainrule: `${expError.slice(0, 110)}…; jvp(np.exp, [3], [1]) = (${e3.item()}, ${de3.item()})`,
        },
        {
          what: "m.logpdf(pars, data) at (1, 1)",
          seed: "DeviceArray([-4.25748227], dtype=float64)",
          chainrule: logpdf.toFixed(8),
        },
        {
          what: "da/dx, da/dy for a = x*y + sin(x) at (0.5, 4.2)",
          seed: "(printed by the slides' code, no value shown)",
          chainrule: `Var: ${vx.grad()}, ${vy.grad()}; grad: ${gx.item()}, ${gy.item()}`,
        },
      ],
      checks: [
        check("Var graph: da/dx", vx.grad(), gx.item(), "grad", 1e-15),
        check("Var graph: da/dy", vy.grad(), gy.item(), "grad", 0),
        check("Var graph: da/dx", vx.grad(), 4.2 + Math.cos(0.5), "analytic y + cos x", 1e-15),
        check("square(Dual(3.1, 1)).eps", sq.eps, 6.2, "seed's printout", 1e-15),
        check("cube(Dual(2, 1)).eps", cb.eps, 12, "seed's printout", 0),
        check("Dual division: d/dx 1/x at 2", inv.eps, invJvp.item(), "jvp", 1e-16),
        check("Dual + − ×: d/dx (x² − 3x + 2) at 1.5", poly.eps, polyJvp.item(), "jvp", 1e-15),
        checkWorst("Dual eps of x² on [0, 10]", dualEps, jvpEps, "jvp", 0),
        check("jvp(np.exp) at 3", de3.item(), Math.exp(3), "analytic e³", 1e-12),
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
        checkRel("pyhf logpdf at (1, 1)", logpdf, logLikelihoodJs(1, 1), "plain-JS formula", 1e-14),
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
