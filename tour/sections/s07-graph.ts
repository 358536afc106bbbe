/**
 * Section 7 (seed 000): the computational graph of
 * f(x, y) = x^2 + 4y + cos(x)^2 at (2, 1.5) (the seed's torchviz picture),
 * drawn with toDot + forward alone and with the backward pass.
 */
import { grad, graphSize, np, toDot, type Array } from "../../src/index.js";
import { graphSvg } from "../lib/plot.js";
import { check, type Section, type SectionResult } from "../lib/types.js";

const f = (x: Array, y: Array) =>
  np.add(np.add(np.square(x), np.multiply(4, y)), np.square(np.cos(x)));

export const graph: Section = {
  id: "graph",
  title: "7. The computational graph of x^2 + 4y + cos(x)^2",
  async run(): Promise<SectionResult> {
    const [x, y] = [2, 1.5];
    const forward = await graphSvg(toDot(f)(x, y));
    const backward = await graphSvg(toDot(f, { backward: true })(x, y));
    const [gx, gy] = grad(f, { argnums: [0, 1] })(x, y);
    const size = graphSize(f)(x, y);
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
      checks: [
        check(
          "df/dx at (2, 1.5)",
          gx.item(),
          2 * x - Math.sin(2 * x),
          "analytic 2x - sin(2x)",
          1e-14,
        ),
        check("df/dy at (2, 1.5)", gy.item(), 4, "analytic", 0),
      ],
      figures: [
        { caption: "f(x, y) = x^2 + 4y + cos(x)^2 traced at (2, 1.5).", svg: forward },
        { caption: "The same with the backward pass (valueAndGrad).", svg: backward },
      ],
    };
  },
};
