/**
 * Section 10 (seed 004 applications): a small neural network trained with
 * adam under jit, and physics: forces as the negative gradient of a
 * Lennard-Jones potential for a small cluster, against finite differences.
 */
import { jit, nn, np, optim, tree, valueAndGrad, grad, type Array } from "../../src/index.js";
import { METHOD_COLORS, Plot, colorScale, grid, plotSvg, powerOfTen } from "../lib/plot.js";
import { check, checkWorst, type Section, type SectionResult } from "../lib/types.js";

// ---- Neural network: fit y = sin(x) on [-3, 3] with a 1-16-16-1 tanh MLP.
type Params = ReturnType<typeof nn.mlp>;
const xsTrain = grid(-3, 3, 64);
const xTrain = np.reshape(np.array(xsTrain), [64, 1]);
const yTrain = np.reshape(np.sin(np.array(xsTrain)), [64, 1]);
const loss = (params: Params) => nn.mse(nn.mlpApply(params, xTrain, np.tanh), yTrain);

// ---- Lennard-Jones: U = sum_{i<j} 4 (r^-12 - r^-6) (epsilon = sigma = 1).
/** Potential energy of positions [n, 3]. */
function ljEnergy(pos: Array): Array {
  const n = pos.shape[0]!;
  const diff = np.subtract(np.expandDims(pos, 1), np.expandDims(pos, 0)); // [n, n, 3]
  const eye = np.eye(n);
  // r^2 with 1 on the diagonal (masked out below) so that no 1/0 appears.
  const r2 = np.add(np.sum(np.square(diff), -1), eye);
  const inv6 = np.power(r2, -3);
  const pair = np.multiply(4, np.subtract(np.square(inv6), inv6));
  return np.multiply(0.5, np.sum(np.multiply(pair, np.subtract(1, eye))));
}
function ljEnergyJs(p: number[][]): number {
  let u = 0;
  for (let i = 0; i < p.length; i++)
    for (let j = i + 1; j < p.length; j++) {
      const r2 = p[i]!.reduce((s, v, k) => s + (v - p[j]![k]!) ** 2, 0);
      u += 4 * (r2 ** -6 - r2 ** -3);
    }
  return u;
}
/** A 7-atom cluster: a slightly distorted hexagon with one atom in the centre. */
function cluster(): number[][] {
  const atoms = [[0, 0, 0.05]];
  for (let k = 0; k < 6; k++) {
    const r = 1.12 + 0.06 * Math.sin(3 * k + 1);
    const a = (k * Math.PI) / 3 + 0.04 * Math.sin(2 * k + 1);
    atoms.push([r * Math.cos(a), r * Math.sin(a), 0.1 * Math.cos(2 * k)]);
  }
  return atoms;
}

export const nnPhysics: Section = {
  id: "nn-physics",
  title: "10. A neural network and Lennard-Jones forces",
  run(opts): SectionResult {
    // Training.
    let params: Params = nn.mlp([1, 16, 16, 1], { seed: 1 });
    const step = jit(valueAndGrad(loss));
    const adam = optim.adam(0.01);
    let state = adam.init(params);
    const steps = opts.quick ? 150 : 600;
    const curve: { step: number; loss: number }[] = [];
    // Gradient check at the initial parameters: reverse mode vs central FD on a few weights.
    const [, g0] = valueAndGrad(loss)(params) as [Array, Params];
    const w0 = params[0]!.w.toArray() as number[][];
    const adW: number[] = [];
    const fdW: number[] = [];
    for (let j = 0; j < 4; j++) {
      const bump = (delta: number) => {
        const w = w0.map((row) => [...row]);
        w[0]![j] = w[0]![j]! + delta;
        const p = [{ w: np.array(w), b: params[0]!.b }, ...params.slice(1)];
        return loss(p).item();
      };
      fdW.push((bump(1e-6) - bump(-1e-6)) / 2e-6);
      adW.push((g0[0]!.w.toArray() as number[][])[0]![j]!);
    }
    for (let s = 0; s < steps; s++) {
      const [value, grads] = step(params) as [Array, Params];
      if (s % 5 === 0 || s === steps - 1) curve.push({ step: s, loss: value.item() });
      [params, state] = adam.update(grads, state, params);
    }
    const finalLoss = loss(params).item();
    const jitFinal = (step(params) as [Array, Params])[0].item();
    const fitRows = grid(-3, 3, 61).flatMap((x) => [
      { x, y: Math.sin(x), series: "sin(x)" },
      { x, y: nn.mlpApply(params, [[x]], np.tanh).item(), series: "network" },
    ]);

    // Physics.
    const atoms = cluster();
    const forces = np.negative(grad(ljEnergy)(np.array(atoms))).toArray() as number[][];
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
      f.map((v, k) => ({ ad: v, fd: fdForces[i]![k]!, component: "xyz"[k]! })),
    );
    const fMax = Math.max(...scatter.map((r) => Math.abs(r.ad)));
    const nParams = tree.leaves(params).reduce((n: number, l) => n + l.size, 0);
    return {
      id: this.id,
      title: this.title,
      explanation:
        `A 1-16-16-1 tanh network (${nParams} parameters) fitted to sin(x) on 64 points by adam, each step ` +
        "a jit-compiled valueAndGrad of the mean squared error. Then physics: the forces on the atoms " +
        "of a 7-atom Lennard-Jones cluster are the negative gradient of the potential energy, one " +
        "reverse pass for all 21 components; finite differences need 42 energy evaluations.",
      notes: [
        `Loss: ${curve[0]!.loss.toExponential(3)} at step 0, ${finalLoss.toExponential(3)} after ${steps} steps.`,
        `Lennard-Jones energy of the cluster: ${ljEnergy(np.array(atoms)).item().toFixed(6)} (plain JS: ${ljEnergyJs(atoms).toFixed(6)}).`,
      ],
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
                xsTrain.map((x) => ({ x, y: Math.sin(x) })),
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
