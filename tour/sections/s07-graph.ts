/**
 * Section 7 (seed 000): the computational graph of
 * f(x, y) = x^2 + 4y + cos(x)^2 at (2, 1.5) (the seed's torchviz picture),
 * drawn with toDot + forward alone and with the backward pass. Live: the
 * function is s07-graph.live.js (editable in the live page).
 */
import { graphSize, toDot, type Array } from "../../src/index.js";
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { graphSvg } from "../lib/plot.js";
import { check, requireLiveSource, type Section, type SectionResult } from "../lib/types.js";

const live: LiveCode = {
  file: "s07-graph.live.js",
  caption: "The function, its derivatives by hand and by grad (live: edit and run)",
  outputs: {
    f: "function",
    dfdxByHand: "function",
    dfdyByHand: "function",
    at: "object",
    dfdx: "number",
    dfdy: "number",
  },
};

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  f: (x: Array, y: Array) => Array;
  dfdxByHand: (x: number, y: number) => number;
  dfdyByHand: (x: number, y: number) => number;
  at: [number, number];
  dfdx: number;
  dfdy: number;
}

export const graph: Section = {
  id: "graph",
  title: "7. The computational graph of x^2 + 4y + cos(x)^2",
  live,
  async run(opts, liveSource): Promise<SectionResult> {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const [x, y] = v.at;
    const point = `(${x}, ${y})`;
    const forward = await graphSvg(toDot(v.f)(x, y));
    const backward = await graphSvg(toDot(v.f, { backward: true })(x, y));
    const size = graphSize(v.f)(x, y);
    return {
      id: this.id,
      title: this.title,
      explanation:
        "The graph is a property of the program, not of the function: chainrule records the " +
        "operations that ran (as torchviz draws PyTorch's autograd graph). Reverse mode walks it " +
        "backwards; the second picture is the traced program of valueAndGrad, whose violet nodes " +
        "are the backward pass.",
      notes: [
        `The program has ${size.dagOperations} operations (its expression tree has ${size.treeOperations}).`,
      ],
      code: [{ caption: live.caption, source, live: true }],
      checks: [
        check(`df/dx at ${point}`, v.dfdx, v.dfdxByHand(x, y), "by hand", 1e-14),
        check(`df/dy at ${point}`, v.dfdy, v.dfdyByHand(x, y), "by hand", 0),
      ],
      figures: [
        { caption: `f(x, y) traced at ${point}.`, svg: forward },
        { caption: "The same with the backward pass (valueAndGrad).", svg: backward },
      ],
    };
  },
};
