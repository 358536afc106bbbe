/**
 * checkpoint(f, { policy }): every policy gives the gradient of f without
 * checkpointing (and finite differences), while what is stored and what is
 * recomputed in the backward pass differs as the policy says (counted against
 * the number of operations in f's own program).
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  InvalidArgumentError,
  checkpoint,
  grad,
  jit,
  makeJaxpr,
  np,
  vmap,
} from "../src/index.js";
import { type CheckpointPolicy, checkpointStats } from "../src/transforms/custom.js";
import { expectAllClose, fdScalar } from "./helpers.js";

// One layer pair of an MLP: two matrix products, two tanh, one add.
const block = (x: NdArray, w1: NdArray, w2: NdArray) =>
  np.add(x, np.tanh(np.matmul(w2, np.tanh(np.matmul(w1, x)))));
const W1 = np.array([
  [0.5, -0.3, 0.2],
  [0.1, 0.4, -0.6],
]);
const W2 = np.array([
  [0.3, 0.7],
  [-0.2, 0.5],
  [0.6, -0.1],
]);
const x0 = np.array([0.4, -0.8, 0.3]);
const DEPTH = 3;
const lossWith =
  (b: (x: NdArray, w1: NdArray, w2: NdArray) => NdArray) =>
  (x: NdArray, w1: NdArray, w2: NdArray) => {
    for (let i = 0; i < DEPTH; i++) x = b(x, w1, w2);
    return np.sum(np.square(x));
  };
const policies: CheckpointPolicy[] = [
  "nothingSaveable",
  "everythingSaveable",
  "dotsSaveable",
  (name) => name === "tanh",
];

describe("checkpoint policies", () => {
  it("leave the gradient unchanged (against no checkpoint and finite differences)", () => {
    const plain = grad(lossWith(block), { argnums: [0, 1, 2] })(x0, W1, W2) as NdArray[];
    const w = (W1.toArray() as number[][]).map((r) => r.slice());
    const fd = fdScalar((v) => {
      w[1]![2] = v;
      return lossWith(block)(x0, np.array(w), W2).item();
    }, -0.6);
    expect((plain[1]!.toArray() as number[][])[1]![2]).toBeCloseTo(fd, 8);
    for (const policy of policies) {
      const loss = lossWith(checkpoint(block, { policy }));
      const g = grad(loss, { argnums: [0, 1, 2] })(x0, W1, W2) as NdArray[];
      g.forEach((gi, i) => expectAllClose(gi, plain[i]!, 1e-14));
      // under jit, and vmapped over a batch of inputs
      expectAllClose(jit(grad(loss))(x0, W1, W2), plain[0]!, 1e-14);
      const xs = np.stack([x0, np.multiply(x0, -0.5)]);
      expectAllClose(
        vmap((x: NdArray) => grad(loss)(x, W1, W2))(xs),
        vmap((x: NdArray) => grad(lossWith(block))(x, W1, W2))(xs),
        1e-14,
      );
    }
  });

  it("store and recompute what the policy says", () => {
    // The operations of one block, counted from its own program.
    const eqns = makeJaxpr(block)(x0, W1, W2).eqns;
    const total = eqns.length;
    const count = (pred: (name: string) => boolean) => eqns.filter((e) => pred(e.prim.name)).length;
    const measured = (policy: CheckpointPolicy) => {
      checkpointStats.recomputed = 0;
      checkpointStats.saved = 0;
      grad(lossWith(checkpoint(block, { policy })), { argnums: [0, 1, 2] })(x0, W1, W2);
      return { ...checkpointStats };
    };
    expect(measured("nothingSaveable")).toEqual({ recomputed: DEPTH * total, saved: 0 });
    expect(measured("everythingSaveable")).toEqual({ recomputed: 0, saved: 0 });
    const dots = count((n) => n === "matmul");
    expect(dots).toBe(2);
    expect(measured("dotsSaveable")).toEqual({
      recomputed: DEPTH * (total - dots),
      saved: DEPTH * dots,
    });
    const tanhs = count((n) => n === "tanh");
    expect(measured((n) => n === "tanh")).toEqual({
      recomputed: DEPTH * (total - tanhs),
      saved: DEPTH * tanhs,
    });
  });

  it("rejects an unknown policy", () => {
    expect(() => checkpoint(block as never, { policy: "dots" as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => checkpoint(block as never, { policy: "dots" as never })).toThrow(
      /checkpoint: unknown policy "dots"; use "nothingSaveable", "everythingSaveable", "dotsSaveable"/,
    );
  });
});
