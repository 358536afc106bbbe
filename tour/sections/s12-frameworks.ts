/**
 * Section 12 (seeds 003 and 004): the frameworks' idioms. PyTorch's
 * requires_grad / backward / zero_grad / create_graph and TensorFlow's
 * GradientTape, written with chainrule's imperative interface (which runs on
 * the same tape as grad), next to grad and the analytic derivatives. Live:
 * the cells are s12-frameworks.live.js (editable in the live page); this
 * module checks their values and draws them.
 */
import { grad, np, type Array } from "../../src/index.js";
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { METHOD_COLORS, Plot, colorScale, numbers, plotSvg } from "../lib/plot.js";
import {
  check,
  checkWorst,
  requireLiveSource,
  type Section,
  type SectionResult,
} from "../lib/types.js";

const fmt = (v: number) => String(Number(v.toPrecision(10)));

const live: LiveCode = {
  file: "s12-frameworks.live.js",
  caption:
    "PyTorch's autograd cell, exp(2x) with create_graph, TensorFlow's GradientTape cells and x³ differentiated four times (live: edit and run)",
  outputs: {
    xGrad: "object",
    t: "object",
    dedt: "object",
    d2edt2: "object",
    dyv: "number",
    xs: "object",
    dys: "object",
    us: "object",
    deu: "object",
    byBackward: "object",
    byGrad: "object",
  },
};

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  xGrad: Array;
  t: Array;
  dedt: Array;
  d2edt2: Array;
  dyv: number;
  xs: Array;
  dys: Array;
  us: Array;
  deu: Array;
  byBackward: number[];
  byGrad: number[];
}

export const frameworks: Section = {
  id: "frameworks",
  title: "12. PyTorch and TensorFlow idioms: backward, zeroGrad, createGraph, GradientTape",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const { xGrad, dyv, xs, dys, us, deu, byBackward, byGrad } = v;
    const torchGrad = numbers(xGrad);
    const ts = numbers(v.t.detach());
    const e1 = numbers(v.dedt.detach());
    const e2 = numbers(v.d2edt2);
    const gradRef = numbers(
      grad((a: Array) => a.add(2).mul(a.add(2)).mul(3).mean())(np.ones([2, 2])),
    );
    const xsN = numbers(xs);
    const usN = numbers(us);
    const exactHigher = [3 * 16, 6 * 4, 6, 0];
    const series = ["exp(2x)", "first derivative", "second derivative"];
    const rows = ts.flatMap((tv, i) => [
      { x: tv, y: Math.exp(2 * tv), series: series[0]! },
      { x: tv, y: e1[i]!, series: series[1]! },
      { x: tv, y: e2[i]!, series: series[2]! },
    ]);
    const tapeRows = usN.flatMap((u, i) => [
      { x: u, y: Math.exp(2 * u), series: "y = exp(2x)" },
      { x: u, y: numbers(deu)[i]!, series: "dy/dx by GradientTape" },
    ]);
    return {
      id: this.id,
      title: this.title,
      seed:
        'seed 004 "Automatic differentiation" course notes, "Using pytorch" and "Using tensorflow"; ' +
        'seed 003 "An Introduction to Automatic Differentiation" (J. Hare), "AD in the PyTorch autograd package"; ' +
        'seed 002 "IML 2022 -- Tutorial on Automatic Differentiation" (grad of x**3 four times)',
      explanation:
        "The seeds teach PyTorch's and TensorFlow's imperative style: mark inputs, compute, call " +
        "backward() (or tape.gradient) and read the gradients. chainrule offers the same on the tape " +
        "that grad uses: an array made with requiresGrad records the operations applied to it, and " +
        "backward() replays them as a function of the leaves and differentiates it with vjp, so the " +
        "numbers are grad's. Arrays are immutable, so the PyTorch errors about in-place operations " +
        "(modifying a value that the backward pass still needs) cannot happen: x.add(1) makes a new " +
        "array and the recorded one is untouched. The one mutable thing is a leaf's .grad, which " +
        "accumulates over backward() calls exactly as in PyTorch, hence zeroGrad() between steps.",
      notes: [
        "backward() without retainGraph releases the recorded operations (a second backward " +
          "through them is a clear error, as in PyTorch); createGraph keeps them and records the " +
          "backward pass itself, so x.grad can be differentiated again.",
        "noGrad(fn) switches recording off (torch.no_grad()); x.detach() gives the plain values.",
        "Mixing with jit: a jitted function called on requiresGrad arrays runs inline and records; " +
          "a requiresGrad array captured as a constant inside jit is refused with an error.",
      ],
      code: [{ caption: live.caption, source, live: true }],
      seedValues: [
        {
          what: "print(x.grad) after out.backward()",
          seed: "(not printed in seed 004; PyTorch's tutorial shows tensor([[4.5, 4.5], [4.5, 4.5]]))",
          chainrule: JSON.stringify(xGrad.toArray()),
        },
        {
          what: "dy_dx.numpy() for x = tf.Variable(3.0), y = x**2",
          seed: "(6.0 in TensorFlow's guide)",
          chainrule: fmt(dyv),
        },
        {
          what: "print(f(4.0)); grad applied 1..4 times at 4.0",
          seed: "64.0 48.0 24.0 6.0 0.0",
          chainrule: [64, ...byBackward].map((v) => v.toFixed(1)).join(" "),
        },
      ],
      checks: [
        checkWorst(
          "x.grad after out.backward()",
          torchGrad,
          [4.5, 4.5, 4.5, 4.5],
          "analytic 6(x+2)/4",
          0,
        ),
        checkWorst("x.grad vs grad of the same function", torchGrad, gradRef, "grad", 0),
        checkWorst(
          "d/dx exp(2x) with createGraph",
          e1,
          ts.map((tv) => 2 * Math.exp(2 * tv)),
          "analytic 2e^{2x}",
          1e-15,
        ),
        checkWorst(
          "second derivative by backward of x.grad",
          e2,
          ts.map((tv) => 4 * Math.exp(2 * tv)),
          "analytic 4e^{2x}",
          1e-15,
        ),
        check("GradientTape: d(x²)/dx at x = 3", dyv, 6, "analytic 2x", 0),
        checkWorst(
          "GradientTape: d(x²)/dx on [0, 10]",
          numbers(dys),
          xsN.map((xv) => 2 * xv),
          "analytic 2x",
          1e-15,
        ),
        checkWorst(
          "GradientTape: d exp(2x)/dx on [0, 1.23]",
          numbers(deu),
          usN.map((u) => 2 * Math.exp(2 * u)),
          "analytic 2e^{2x}",
          1e-15,
        ),
        ...byBackward.map((b, k) =>
          check(
            `d^${k + 1}/dx^${k + 1} x³ at 4 by backward(createGraph)`,
            b,
            exactHigher[k]!,
            "analytic",
            0,
          ),
        ),
        ...byGrad.map((b, k) =>
          check(`d^${k + 1}/dx^${k + 1} x³ at 4 by nested grad`, b, exactHigher[k]!, "analytic", 0),
        ),
      ],
      figures: [
        {
          caption:
            "exp(2x) on [0, 1] and its first two derivatives by backward() with createGraph (log axis: the three curves differ by factors 2).",
          svg: plotSvg({
            width: 560,
            height: 340,
            marginLeft: 50,
            color: colorScale(series, [
              METHOD_COLORS.function,
              METHOD_COLORS.chainrule,
              METHOD_COLORS.second,
            ]),
            x: { label: "x", labelAnchor: "right", labelArrow: "none" },
            y: { type: "log", grid: true, label: "value (log scale)", ticks: [1, 2, 5, 10, 20] },
            marks: [Plot.line(rows, { x: "x", y: "y", stroke: "series", strokeWidth: 2 })],
          }),
        },
        {
          caption:
            "TensorFlow's exponential example: y = exp(2x) on [0, 1.23] and dy/dx from tape.gradient.",
          svg: plotSvg({
            width: 560,
            height: 340,
            marginLeft: 50,
            color: colorScale(
              ["y = exp(2x)", "dy/dx by GradientTape"],
              [METHOD_COLORS.function, METHOD_COLORS.chainrule],
            ),
            x: { label: "x", labelAnchor: "right", labelArrow: "none" },
            y: { grid: true, label: "value", labelArrow: "none" },
            marks: [Plot.line(tapeRows, { x: "x", y: "y", stroke: "series", strokeWidth: 2 })],
          }),
        },
      ],
    };
  },
};
