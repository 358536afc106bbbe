/**
 * nn layers, initialisations and losses against direct formulas, and an MLP
 * trained on generated data.
 */
import { describe, expect, it } from "vitest";
import { jit, nn, np, optim, valueAndGrad } from "../src/index.js";
import { expectAllClose } from "./helpers.js";

describe("losses", () => {
  it("mse and crossEntropy equal their formulas", () => {
    expectAllClose(nn.mse(np.array([1, 2, 4]), np.array([1, 0, 1])), (0 + 4 + 9) / 3, 1e-15);
    const logits = [
      [2, 1, 0.1],
      [0.5, 2.5, -1],
    ];
    const labels = [0, 1];
    const manual =
      logits.reduce((acc, row, i) => {
        const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
        return acc + (lse - row[labels[i]!]!);
      }, 0) / logits.length;
    expectAllClose(
      nn.crossEntropy(np.array(logits), np.array(labels, { dtype: "int32" })),
      manual,
      1e-14,
    );
    expectAllClose(
      nn.crossEntropy(
        np.array(logits),
        np.array([
          [1, 0, 0],
          [0, 1, 0],
        ]),
      ),
      manual,
      1e-14,
    );
    expect(() =>
      nn.crossEntropy(np.array(logits), np.array([0, 1, 2], { dtype: "int32" })),
    ).toThrow(/3 labels for 2 rows/);
  });
});

describe("initialisation", () => {
  it("glorotUniform stays within its limit and heNormal has variance 2 / fanIn", () => {
    const g = nn.initWeights("glorotUniform", 300, 200, nn.uniformGenerator(1));
    const limit = Math.sqrt(6 / 500);
    const gv = Array.from(g.data());
    expect(Math.max(...gv.map(Math.abs))).toBeLessThanOrEqual(limit);
    // uniform variance l^2 / 3
    const varG = gv.reduce((s, v) => s + v * v, 0) / gv.length;
    expect(Math.abs(varG / ((limit * limit) / 3) - 1)).toBeLessThan(0.02);
    const h = Array.from(nn.initWeights("heNormal", 400, 250, nn.uniformGenerator(2)).data());
    const varH = h.reduce((s, v) => s + v * v, 0) / h.length;
    expect(Math.abs(varH / (2 / 400) - 1)).toBeLessThan(0.02);
  });
});

describe("training", () => {
  it("an MLP learns a two-class problem (points inside vs outside a circle)", () => {
    const random = nn.uniformGenerator(7);
    const n = 200;
    const pts: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const [a, b] = [2 * random() - 1, 2 * random() - 1];
      pts.push([a, b]);
      labels.push(a * a + b * b < 0.45 ? 1 : 0);
    }
    const x = np.array(pts);
    const y = np.array(labels, { dtype: "int32" });
    let params = nn.mlp([2, 16, 16, 2], { seed: 3 });
    const loss = (p: nn.DenseParams[]) => nn.crossEntropy(nn.mlpApply(p, x, np.tanh), y);
    const step = jit(valueAndGrad(loss));
    const opt = optim.adam(0.03);
    let state = opt.init(params);
    const first = step(params)[0].item();
    let last = first;
    for (let i = 0; i < 300; i++) {
      const [value, g] = step(params);
      last = value.item();
      [params, state] = opt.update(g, state, params);
    }
    expect(last).toBeLessThan(first / 4);
    const predicted = np.argmax(nn.mlpApply(params, x, np.tanh), 1).data();
    const accuracy = labels.filter((l, i) => predicted[i] === l).length / n;
    expect(accuracy).toBeGreaterThan(0.95);
  });
});
