/**
 * Optimisers and minimize, on problems with known minima.
 */
import { describe, expect, it } from "vitest";
import { type Array as NdArray, grad, np, optim } from "../src/index.js";
import { expectAllClose } from "./helpers.js";

// Rosenbrock: minimum 0 at (1, 1).
const rosenbrock = (p: NdArray) => {
  const x = np.take(p, 0);
  const y = np.take(p, 1);
  return np.add(
    np.square(np.subtract(1, x)),
    np.multiply(100, np.square(np.subtract(y, np.square(x)))),
  );
};

describe("minimize", () => {
  for (const method of ["lbfgs", "newton"] as const) {
    it(`${method} finds the Rosenbrock minimum and reports convergence`, () => {
      const r = optim.minimize(rosenbrock, np.array([-1.2, 1]), {
        method,
        tol: 1e-8,
        maxIter: 500,
      });
      expect(r.status).toBe("converged");
      expect(r.gradNorm).toBeLessThanOrEqual(1e-8);
      expectAllClose(r.x, [1, 1], 1e-6, 1e-6);
      expect(r.value).toBeLessThan(1e-12);
    });
  }
  it("works on pytrees of parameters (a least-squares line fit against the normal equations)", () => {
    const xs = [0, 1, 2, 3, 4];
    const ys = [1.1, 2.9, 5.2, 7.1, 8.8];
    const loss = (p: { a: NdArray; b: NdArray }) =>
      np.sum(np.square(np.subtract(np.add(np.multiply(p.a, np.array(xs)), p.b), np.array(ys))));
    const r = optim.minimize(loss, { a: 0, b: 0 }, { tol: 1e-10 });
    // normal equations for y = a x + b
    const n = xs.length;
    const sx = xs.reduce((s, v) => s + v, 0);
    const sy = ys.reduce((s, v) => s + v, 0);
    const sxx = xs.reduce((s, v) => s + v * v, 0);
    const sxy = xs.reduce((s, v, i) => s + v * ys[i]!, 0);
    const a = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    const b = (sy - a * sx) / n;
    expect(r.status).toBe("converged");
    expectAllClose([r.x.a.item(), r.x.b.item()], [a, b], 1e-8, 1e-8);
  });
  it("stops on NaN, at maxIter, and when onStep says so", () => {
    const nanAfter = (p: NdArray) => np.log(np.subtract(0.5, np.sum(np.square(p))));
    const r1 = optim.minimize((p: NdArray) => np.negative(nanAfter(p)), np.array([0.7]), {
      method: "gd",
      learningRate: 0.1,
    });
    expect(r1.status).toBe("nan");
    const r2 = optim.minimize(rosenbrock, np.array([-1.2, 1]), {
      method: "gd",
      learningRate: 1e-4,
      maxIter: 5,
    });
    expect(r2.status).toBe("maxIter");
    expect(r2.iterations).toBe(5);
    let calls = 0;
    const r3 = optim.minimize(rosenbrock, np.array([-1.2, 1]), { onStep: () => ++calls < 3 });
    expect(r3.status).toBe("stopped");
    expect(calls).toBe(3);
    expect(() => optim.minimize(rosenbrock, np.array([0, 0]), { method: "cg" as never })).toThrow(
      /unknown method "cg"/,
    );
  });
});

describe("optimisers on pytrees", () => {
  // f(w, b) = (w - 3)^2 + 2 (b + 1)^2: minimum at w = 3, b = -1
  const loss = (p: { w: NdArray; b: NdArray }) =>
    np.add(np.square(np.subtract(p.w, 3)), np.multiply(2, np.square(np.add(p.b, 1))));
  for (const [name, opt, steps] of [
    ["sgd", optim.sgd(0.1), 200],
    ["momentum", optim.momentum(0.05, 0.9), 300],
    ["adam", optim.adam(0.1), 500],
  ] as const) {
    it(`${name} converges to the minimum`, () => {
      let params: { w: NdArray; b: NdArray } = { w: np.array(0), b: np.array(0) };
      let state = (opt as optim.Optimizer<unknown>).init(params);
      for (let i = 0; i < steps; i++) {
        const g = grad(loss)(params);
        [params, state] = (opt as optim.Optimizer<unknown>).update(g, state, params);
      }
      expectAllClose([params.w.item(), params.b.item()], [3, -1], 1e-4, 1e-4);
    });
  }
  it("one sgd step is p - lr g", () => {
    const p = { w: np.array(1), b: np.array(2) };
    const g = grad(loss)(p);
    const [next] = optim.sgd(0.5).update(g, null, p);
    expectAllClose(
      [next.w.item(), next.b.item()],
      [1 - 0.5 * 2 * (1 - 3), 2 - 0.5 * 4 * (2 + 1)],
      0,
    );
  });
});
