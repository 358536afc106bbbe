/**
 * The seed tutorials' examples, each checked against its analytic answer
 * (or a plain-JS computation of it).
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  grad,
  hessian,
  jacfwd,
  jacobian,
  jacrev,
  jvp,
  np,
  vmap,
} from "../src/index.js";
import { expectAllClose, flat } from "./helpers.js";

describe("finite differences vs AD (seed 000)", () => {
  // f(x) = x^3 + 4x^2 - 10, f'(x) = 3x^2 + 8x
  const f = (x: NdArray) => np.add(np.add(np.power(x, 3), np.multiply(4, np.square(x))), -10);
  const df = (x: number) => 3 * x * x + 8 * x;

  it("grad matches 3x^2 + 8x at many points, by reverse, forward and vmap", () => {
    const xs = flat(np.linspace(-5, 5, 10));
    for (const x of xs) {
      expect(grad(f)(x).item()).toBeCloseTo(df(x), 12);
      expect(jvp(f, [x], [1])[1].item()).toBeCloseTo(df(x), 12);
    }
    expectAllClose(vmap(grad(f))(np.linspace(-5, 5, 10)), xs.map(df), 1e-12);
  });

  it("sin(1000x): FD with eps 1e-2 is far off, AD is exact", () => {
    const g = (x: NdArray) => np.sin(np.multiply(1000, x));
    const xs = flat(np.linspace(-0.5, 0.5, 50));
    let worstFd = 0;
    for (const x of xs) {
      const exact = 1000 * Math.cos(1000 * x);
      const ad = grad(g)(x).item();
      expect(Math.abs(ad - exact)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(exact)));
      const fd = (Math.sin(1000 * (x + 1e-2)) - Math.sin(1000 * x)) / 1e-2;
      worstFd = Math.max(worstFd, Math.abs(fd - exact));
    }
    expect(worstFd).toBeGreaterThan(100);
  });
});

describe("symbolic vs AD: 3x^2 - x + 1 iterated 4 times", () => {
  const step = (x: NdArray) => np.add(np.subtract(np.multiply(3, np.square(x)), x), 1);
  const f4 = (x: NdArray) => {
    for (let i = 0; i < 4; i++) x = step(x);
    return x;
  };
  it("grad equals the chain rule carried through a plain JS loop", () => {
    for (const x0 of [-0.7, 0.1, 0.5, 1.3]) {
      let x = x0;
      let dx = 1;
      for (let i = 0; i < 4; i++) {
        dx *= 6 * x - 1;
        x = 3 * x * x - x + 1;
      }
      expectAllClose(grad(f4)(x0), dx, 1e-12);
      expectAllClose(f4(np.array(x0)), x, 1e-14);
    }
  });
});

describe("control flow", () => {
  // f(x) = x^3 for x < 2, 3x otherwise
  const piecewise = (x: NdArray) => (x.item() < 2 ? np.power(x, 3) : np.multiply(3, x));
  it("first and second derivatives on both sides of the branch", () => {
    for (const x of [-1.5, 0.3, 1.9]) {
      expectAllClose(grad(piecewise)(x), 3 * x * x, 1e-12);
      expectAllClose(grad(grad(piecewise))(x), 6 * x, 1e-12);
    }
    for (const x of [2, 2.5, 4]) {
      expectAllClose(grad(piecewise)(x), 3, 1e-12);
      expectAllClose(grad(grad(piecewise))(x), 0, 0);
    }
  });
  it("the physics tutorial's branch x > 2 ? x^2 : x^3, forward and reverse", () => {
    const cflow = (x: NdArray) => (x.item() > 2 ? np.power(x, 2) : np.power(x, 3));
    for (const x of [-2, 0.5, 1.99, 2.01, 5]) {
      const expected = x > 2 ? 2 * x : 3 * x * x;
      expectAllClose(grad(cflow)(x), expected, 1e-12);
      expectAllClose(jvp(cflow, [x], [1])[1], expected, 1e-12);
    }
  });
});

describe("forward and reverse mode on z = x*y + sin(x)", () => {
  const z = (x: NdArray, y: NdArray) => np.add(np.multiply(x, y), np.sin(x));
  it("dz/dx = y + cos x and dz/dy = x both ways", () => {
    for (const [x, y] of [
      [2, 3],
      [-0.5, 1.25],
    ] as const) {
      const dxF = jvp(z, [x, y], [1, 0])[1].item();
      const dyF = jvp(z, [x, y], [0, 1])[1].item();
      const [dxR, dyR] = grad(z, { argnums: [0, 1] })(x, y) as NdArray[];
      expectAllClose([dxF, dxR!.item()], [y + Math.cos(x), y + Math.cos(x)], 1e-14);
      expectAllClose([dyF, dyR!.item()], [x, x], 1e-14);
    }
  });
});

describe("Jacobians of f1 and f2 (seed 000)", () => {
  const f1 = (x: NdArray) => {
    let x1 = np.multiply(x, x);
    x1 = np.multiply(x1, x1);
    return np.stack([x1, x1, x1]);
  };
  const f2 = (x1: NdArray, x2: NdArray, x3: NdArray) => {
    const p = np.multiply(np.multiply(x1, x2), x3);
    return np.multiply(p, p);
  };
  it("f1(x) = [x^4, x^4, x^4]: d/dx = 4x^3 in each component", () => {
    const x = 1.7;
    for (const jac of [jacfwd(f1)(x), jacrev(f1)(x), jacobian(f1)(x)] as NdArray[]) {
      expect(jac.shape).toEqual([3]);
      expectAllClose(jac, [4 * x ** 3, 4 * x ** 3, 4 * x ** 3], 1e-13);
    }
  });
  it("f2 = (x1 x2 x3)^2: gradient 2 p (x2 x3, x1 x3, x1 x2)", () => {
    const [a, b, c] = [0.5, -1.5, 2];
    const p = a * b * c;
    const expected = [2 * p * b * c, 2 * p * a * c, 2 * p * a * b];
    const argnums = [0, 1, 2];
    for (const jac of [
      jacfwd(f2, { argnums })(a, b, c),
      jacrev(f2, { argnums })(a, b, c),
    ] as NdArray[][]) {
      expectAllClose(
        jac.map((j) => j.item()),
        expected,
        1e-13,
      );
    }
  });
});

describe("Jacobian of sum(x) * ones(n)", () => {
  for (const [m, n] of [
    [10, 1],
    [10, 100],
    [3, 7],
    [100, 10],
  ] as const) {
    it(`m = ${m} inputs, n = ${n} outputs: every entry is 1`, () => {
      const f = (x: NdArray) => np.multiply(np.sum(x), np.ones([n]));
      const x = np.arange(m);
      for (const jac of [jacfwd(f)(x), jacrev(f)(x), jacobian(f)(x)] as NdArray[]) {
        expect(jac.shape).toEqual([n, m]);
        expect(flat(jac).every((v) => v === 1)).toBe(true);
      }
    });
  }
});

describe("higher derivatives of x^3", () => {
  const cube = (x: NdArray) => np.power(x, 3);
  it("orders 1 to 4 at x = 4 are 3x^2, 6x, 6, 0", () => {
    const x = 4;
    const analytic = [3 * x * x, 6 * x, 6, 0];
    let d: (x: number) => NdArray = (v) => cube(np.array(v));
    const got: number[] = [];
    for (let k = 0; k < 4; k++) {
      d = grad(d);
      got.push(d(x).item());
    }
    expectAllClose(got, analytic, 1e-12, 1e-12);
  });
  it("jvp of grad and the Hessian agree with 6x", () => {
    expectAllClose(jvp(grad(cube), [1.5], [1])[1], 9, 1e-12);
    expectAllClose(hessian(cube)(1.5), 9, 1e-12);
  });
  it("f, f', f'', f''' on a grid via vmap of nested grad", () => {
    const xs = np.linspace(-2, 2, 9);
    const vals = flat(xs);
    expectAllClose(
      vmap(grad(cube))(xs),
      vals.map((v) => 3 * v * v),
      1e-12,
    );
    expectAllClose(
      vmap(grad(grad(cube)))(xs),
      vals.map((v) => 6 * v),
      1e-12,
    );
    expectAllClose(
      vmap(grad(grad(grad(cube))))(xs),
      vals.map(() => 6),
      1e-12,
    );
  });
});

describe("maximum-likelihood gradient of the one-bin counting model (seed 002)", () => {
  // Poisson(n | mu s + gamma b) * Normal-constraint on gamma; gradient against the hand derivation.
  const s = 5;
  const b = 10;
  const sigma = 3.5 / 10;
  const n = 15;
  const nll = (mu: NdArray, gamma: NdArray) => {
    const lam = np.add(np.multiply(mu, s), np.multiply(gamma, b));
    const pois = np.subtract(lam, np.multiply(n, np.log(lam)));
    const cons = np.divide(np.square(np.subtract(gamma, 1)), 2 * sigma * sigma);
    return np.add(pois, cons);
  };
  it("d nll / d(mu, gamma) matches the analytic gradient", () => {
    const [mu, gamma] = [1.2, 0.9];
    const lam = mu * s + gamma * b;
    const dmu = s - (n * s) / lam;
    const dgamma = b - (n * b) / lam + (gamma - 1) / (sigma * sigma);
    const g = grad(nll, { argnums: [0, 1] })(mu, gamma) as NdArray[];
    expectAllClose(
      g.map((v) => v.item()),
      [dmu, dgamma],
      1e-12,
    );
  });
});
