/**
 * Section 10 (seed 004 applications): a small neural network trained with
 * adam under jit, and physics: forces as the negative gradient of a
 * Lennard-Jones potential for a small cluster, against finite differences.
 * Live: the experiment is s10-nn-physics.live.js (editable in the live
 * page); this module adds the finite-difference references, the checks and
 * the figures.
 */
import { np, type Array } from "../../src/index.js";
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { METHOD_COLORS, Plot, colorScale, grid, plotSvg, powerOfTen } from "../lib/plot.js";
import {
  check,
  checkWorst,
  requireLiveSource,
  type Section,
  type SectionResult,
} from "../lib/types.js";

const live: LiveCode = {
  file: "s10-nn-physics.live.js",
  caption:
    "The network and its training, the Lennard-Jones cluster and its forces (live: edit and run)",
  outputs: {
    xsTrain: "object",
    target: "function",
    loss: "function",
    initialParams: "object",
    gradAtStart: "object",
    steps: "number",
    curve: "object",
    finalLoss: "number",
    jitFinal: "number",
    predict: "function",
    parameterCount: "number",
    ljEnergyJs: "function",
    atoms: "object",
    forces: "object",
    energy: "number",
  },
};

/** An MLP's parameters as nn.mlp makes them. */
type Layer = { w: Array; b: Array };

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  xsTrain: number[];
  target: (x: number) => number;
  loss: (params: Layer[]) => Array;
  initialParams: Layer[];
  gradAtStart: Layer[];
  steps: number;
  curve: { step: number; loss: number }[];
  finalLoss: number;
  jitFinal: number;
  predict: (x: number) => number;
  parameterCount: number;
  ljEnergyJs: (p: number[][]) => number;
  atoms: number[][];
  forces: number[][];
  energy: number;
}

export const nnPhysics: Section = {
  id: "nn-physics",
  title: "10. A neural network and Lennard-Jones forces",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const { xsTrain, loss, initialParams: params0, curve, steps, finalLoss, jitFinal } = v;
    const { ljEnergyJs, atoms, forces } = v;
    // Gradient check at the initial parameters: reverse mode vs central FD on a few weights.
    const w0 = params0[0]!.w.toArray() as number[][];
    const adW: number[] = [];
    const fdW: number[] = [];
    for (let j = 0; j < Math.min(4, w0[0]!.length); j++) {
      const bump = (delta: number) => {
        const w = w0.map((row) => [...row]);
        w[0]![j] = w[0]![j]! + delta;
        const p = [{ w: np.array(w), b: params0[0]!.b }, ...params0.slice(1)];
        return loss(p).item();
      };
      fdW.push((bump(1e-6) - bump(-1e-6)) / 2e-6);
      adW.push((v.gradAtStart[0]!.w.toArray() as number[][])[0]![j]!);
    }
    const fitRows = grid(-3, 3, 61).flatMap((x) => [
      { x, y: v.target(x), series: "sin(x)" },
      { x, y: v.predict(x), series: "network" },
    ]);

    // Physics: finite differences of the plain-JS energy as the reference.
    const h = 1e-6;
    const fdForces = atoms.map((_, i) =>
      [0, 1, 2].map((k) => {
        const plus = atoms.map((a) => [...a]);
        const minus = atoms.map((a) => [...a]);
        plus[i]![k] = plus[i]![k]! + h;
        minus[i]![k] = minus[i]![k]! - h;
        return -(ljEnergyJs(plus) - ljEnergyJs(minus)) / (2 * h);
      }),
    );
    const atomRows = atoms.map((a, i) => ({
      x: a[0]!,
      y: a[1]!,
      fx: forces[i]![0]!,
      fy: forces[i]![1]!,
      norm: Math.hypot(forces[i]![0]!, forces[i]![1]!),
      atom: i,
    }));
    const scatter = forces.flatMap((f, i) =>
      f.map((value, k) => ({ ad: value, fd: fdForces[i]![k]!, component: "xyz"[k]! })),
    );
    const fMax = Math.max(...scatter.map((r) => Math.abs(r.ad)));
    return {
      id: this.id,
      title: this.title,
      explanation:
        `A 1-16-16-1 tanh network (${v.parameterCount} parameters) fitted to sin(x) on 64 points by adam, each step ` +
        "a jit-compiled valueAndGrad of the mean squared error. Then physics: the forces on the atoms " +
        "of a 7-atom Lennard-Jones cluster are the negative gradient of the potential energy, one " +
        "reverse pass for all 21 components; finite differences need 42 energy evaluations.",
      notes: [
        `Loss: ${curve[0]!.loss.toExponential(3)} at step 0, ${finalLoss.toExponential(3)} after ${steps} steps.`,
        `Lennard-Jones energy of the cluster: ${v.energy.toFixed(6)} (plain JS: ${ljEnergyJs(atoms).toFixed(6)}).`,
      ],
      code: [{ caption: live.caption, source, live: true }],
      checks: [
        checkWorst(
          "d loss / d w (first layer) at initialisation by grad",
          adW,
          fdW,
          "central FD",
          1e-6,
        ),
        check(
          "final loss: jit(valueAndGrad) vs eager",
          jitFinal,
          finalLoss,
          "eager evaluation",
          1e-12,
        ),
        checkWorst(
          "Lennard-Jones forces -grad U (21 components)",
          forces.flat(),
          fdForces.flat(),
          "central FD of plain-JS energy",
          1e-6,
        ),
      ],
      figures: [
        {
          caption: `Training loss (mean squared error, log scale) over ${steps} adam steps.`,
          svg: plotSvg({
            height: 320,
            y: { type: "log", grid: true, label: "loss", tickFormat: powerOfTen },
            x: { label: "step" },
            marks: [Plot.line(curve, { x: "step", y: "loss", stroke: "#4269d0", strokeWidth: 2 })],
          }),
        },
        {
          caption: "The trained network against sin(x).",
          svg: plotSvg({
            height: 320,
            color: colorScale(
              ["sin(x)", "network"],
              [METHOD_COLORS.exact, METHOD_COLORS.chainrule],
            ),
            y: { grid: true },
            marks: [
              Plot.dot(
                xsTrain.map((x) => ({ x, y: v.target(x) })),
                { x: "x", y: "y", r: 2, fill: "#999" },
              ),
              Plot.line(fitRows, { x: "x", y: "y", stroke: "series", strokeWidth: 2 }),
            ],
          }),
        },
        {
          caption: "The cluster seen from above, with the in-plane forces -grad U (arrows).",
          svg: plotSvg({
            width: 420,
            height: 420,
            x: { domain: [-1.8, 1.8], label: "x" },
            y: { domain: [-1.8, 1.8], label: "y" },
            length: {
              type: "sqrt",
              range: [0, 40],
              domain: [0, Math.max(...atomRows.map((a) => a.norm))],
            },
            marks: [
              Plot.dot(atomRows, { x: "x", y: "y", r: 14, fill: "#9ecae9", stroke: "#2b6cb0" }),
              Plot.vector(atomRows, {
                x: "x",
                y: "y",
                rotate: (a: { fx: number; fy: number }) => (Math.atan2(a.fx, a.fy) * 180) / Math.PI,
                length: "norm",
                stroke: "#c0262d",
                strokeWidth: 2,
              }),
            ],
          }),
        },
        {
          caption:
            "Force components: chainrule (-grad U) against finite differences; all on the diagonal.",
          svg: plotSvg({
            width: 420,
            height: 420,
            color: { legend: true },
            x: { label: "finite differences", domain: [-fMax * 1.1, fMax * 1.1] },
            y: { label: "chainrule", domain: [-fMax * 1.1, fMax * 1.1] },
            marks: [
              Plot.line(
                [
                  [-fMax * 1.1, -fMax * 1.1],
                  [fMax * 1.1, fMax * 1.1],
                ],
                { stroke: "#ccc" },
              ),
              Plot.dot(scatter, { x: "fd", y: "ad", fill: "component", r: 4 }),
            ],
          }),
        },
      ],
    };
  },
};
