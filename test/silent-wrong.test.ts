/**
 * Inputs that used to give a wrong answer without an error (issue 12, second
 * half): each case now gives the right value or a clear error, checked here
 * against a value obtained another way (analytic, a plain loop, an exact sum).
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ConcretizationError,
  DTypeError,
  InvalidArgumentError,
  ShapeError,
  customVjp,
  getBackend,
  grad,
  jacfwd,
  jit,
  jvp,
  linearize,
  np,
  optim,
  setBackend,
  tree,
  vjp,
  vmap,
} from "../src/index.js";

const A = (x: unknown) => x as NdArray;

describe("pytree keys that are Object.prototype names", () => {
  // f({ __proto__: x, constructor: y }) = sum(x^2) + sum(3y): d/dx = 2x, d/dy = 3.
  const makeTree = (x: number[], y: number[]) => {
    const t: Record<string, NdArray> = {};
    Object.defineProperty(t, "__proto__", {
      value: np.array(x),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    t["constructor"] = np.array(y);
    return t;
  };
  const loss = (t: Record<string, NdArray>) =>
    np.add(
      np.sum(np.multiply(t["__proto__"]!, t["__proto__"]!)),
      np.sum(np.multiply(t["constructor"]!, 3)),
    );
  const xs = [1, -2];
  const ys = [0.5, 4];

  const expectTreeOf = (out: unknown, px: number[], py: number[]) => {
    const rec = out as Record<string, NdArray>;
    expect(Object.getPrototypeOf(rec)).toBe(Object.prototype);
    expect(Object.keys(rec)).toEqual(["__proto__", "constructor"]);
    expect(
      Array.from(A(Object.getOwnPropertyDescriptor(rec, "__proto__")!.value).toArray() as number[]),
    ).toEqual(px);
    expect(Array.from(A(rec["constructor"]).toArray() as number[])).toEqual(py);
  };

  it("tree.map and unflatten keep both keys as own properties", () => {
    const doubled = tree.map((v) => np.multiply(A(v), 2), makeTree(xs, ys));
    expectTreeOf(
      doubled,
      xs.map((v) => 2 * v),
      ys.map((v) => 2 * v),
    );
  });
  it("grad, jit(grad), vjp, jvp, vmap and jacfwd through such keys", () => {
    const gx = xs.map((v) => 2 * v);
    const gy = ys.map(() => 3);
    expectTreeOf(grad(loss)(makeTree(xs, ys)), gx, gy);
    expectTreeOf(jit(grad(loss))(makeTree(xs, ys)), gx, gy);
    const [, pullback] = vjp(loss, makeTree(xs, ys));
    expectTreeOf((pullback(np.array(1)) as unknown[])[0], gx, gy);
    // jvp along a tangent tree of the same structure: the directional derivative.
    const [, tangentOut] = jvp(loss, [makeTree(xs, ys)], [makeTree([1, 1], [1, 1])]);
    expect(A(tangentOut).item()).toBeCloseTo(gx[0]! + gx[1]! + gy[0]! + gy[1]!, 12);
    // vmap over the leading axis of each leaf: identity map keeps the structure.
    const batched = vmap((t: Record<string, NdArray>) => tree.map((v) => np.multiply(A(v), 1), t))(
      makeTree(xs, ys),
    );
    expectTreeOf(batched, xs, ys);
    const jac = jacfwd(loss)(makeTree(xs, ys));
    expectTreeOf(jac, gx, gy);
  });
});

describe("customVjp checks bwd's cotangents against the primals", () => {
  const withRule = (bwd: (res: unknown, ct: NdArray) => unknown) =>
    customVjp(
      (x) => np.multiply(x, 2),
      (x) => [np.multiply(x, 2), null],
      bwd as (res: unknown, ct: NdArray) => NdArray,
    );
  const loss = (g: (x: NdArray) => NdArray) => (x: NdArray) => np.sum(g(x));
  it("a cotangent of another shape is refused, naming both shapes", () => {
    const wrongShape = withRule(() => np.ones([3]));
    expect(() => grad(loss(wrongShape))(np.ones([2]))).toThrow(ShapeError);
    expect(() => grad(loss(wrongShape))(np.ones([2]))).toThrow(
      /customVjp: .*shape \[3\].*argument 0 of shape \[2\].*must match/,
    );
  });
  it("an int32 or float32 cotangent for a float64 input is refused", () => {
    const intCt = withRule((_r, ct) => ct.astype("int32"));
    expect(() => grad(loss(intCt))(np.ones([2]))).toThrow(DTypeError);
    expect(() => grad(loss(intCt))(np.ones([2]))).toThrow(
      /customVjp: .*dtype int32.*argument 0 of dtype float64.*astype\("float64"\)/,
    );
    const f32Ct = withRule((_r, ct) => ct.astype("float32"));
    expect(() => grad(loss(f32Ct))(np.ones([2]))).toThrow(/dtype float32.*float64/);
  });
  it("the wrong number of cotangents is refused", () => {
    const two = withRule((_r, ct) => [ct, ct]);
    expect(() => grad(loss(two))(np.ones([2]))).toThrow(
      /customVjp: .*argument 0 has structure \[\*,\*\].*structure \*/,
    );
  });
  it("a right cotangent is the gradient; a JS number works for a scalar float32 input", () => {
    // bwd gives 2 ct: d/dx sum(2x) = 2 per element.
    const right = withRule((_r, ct) => np.multiply(ct, 2));
    expect(Array.from(A(grad(loss(right))(np.ones([2]))).toArray() as number[])).toEqual([2, 2]);
    const numberCt = withRule(() => 5);
    const g = A(grad(loss(numberCt))(np.array(1, { dtype: "float32" })));
    expect(g.dtype).toBe("float32");
    expect(g.item()).toBe(5);
  });
});

describe("jit static arguments are hashable and never collide", () => {
  it("strings that used to share a key ('a|s' joins) get their own programs", () => {
    let traces = 0;
    const f = jit(
      (x: NdArray, a: string, b: string) => {
        traces++;
        return np.add(x, a.length * 10 + b.length);
      },
      { staticArgnums: [1, 2] },
    );
    // Unescaped "|" joining made ("x|string:y", "z") and ("x", "y|string:z") equal keys.
    const first = A(f(np.array(0), "x|string:y", "z")).item();
    const second = A(f(np.array(0), "x", "y|string:z")).item();
    expect(first).toBe("x|string:y".length * 10 + 1);
    expect(second).toBe(10 + "y|string:z".length);
    expect(traces).toBe(2);
    // 0 and -0 differ (1 / -0 = -Infinity), and so do a number and its string.
    const g = jit((x: NdArray, s: unknown) => np.add(x, typeof s === "number" ? 1 / s : 7), {
      staticArgnums: 1,
    });
    expect(A(g(np.array(0), 0)).item()).toBe(Infinity);
    expect(A(g(np.array(0), -0)).item()).toBe(-Infinity);
    expect(A(g(np.array(0), "0")).item()).toBe(7);
  });
  it("mutable objects and arrays are refused with advice; frozen tuples are keys", () => {
    const f = jit((x: NdArray, cfg: unknown) => np.multiply(x, (cfg as number[])[0]!), {
      staticArgnums: 1,
    });
    expect(() => f(np.array(1), [2])).toThrow(InvalidArgumentError);
    expect(() => f(np.array(1), [2])).toThrow(
      /jit: static argument 1 is a mutable array.*hashable.*Object\.freeze/,
    );
    expect(() => f(np.array(1), { scale: 2 })).toThrow(/static argument 1 is an object \(Object\)/);
    expect(A(f(np.array(1.5), Object.freeze([2]))).item()).toBe(3);
    expect(A(f(np.array(1.5), Object.freeze([4]))).item()).toBe(6);
    expect(f.cacheSize).toBe(2);
  });
});

describe("jvp, vjp and linearize refuse tangents that cannot be right", () => {
  it("jvp with an int32 primal refuses the tangent instead of a zero int32 tangent", () => {
    const f = (n: NdArray) => np.multiply(n, 2.5);
    expect(() => jvp(f, [np.array([1, 2], { dtype: "int32" })], [np.ones([2])])).toThrow(
      DTypeError,
    );
    expect(() => jvp(f, [np.array([1, 2], { dtype: "int32" })], [np.ones([2])])).toThrow(
      /jvp: primal 0 has dtype int32\[2\].*no derivative.*astype\("float64"\)/,
    );
  });
  it("jvp with a tangent of another shape or dtype is refused", () => {
    const f = (x: NdArray) => np.sin(x);
    expect(() => jvp(f, [np.ones([2])], [np.ones([3])])).toThrow(ShapeError);
    expect(() => jvp(f, [np.ones([2])], [np.ones([2], "float32")])).toThrow(DTypeError);
  });
  it("a bool or int32 cotangent is refused by vjp's pullback", () => {
    const [, pullback] = vjp((x: NdArray) => np.sin(x), np.ones([2]));
    expect(() => pullback(np.array([true, false]))).toThrow(DTypeError);
    expect(() => pullback(np.array([true, false]))).toThrow(
      /vjp pullback: cotangent 0 has dtype bool but the output is float64\[2\]/,
    );
    expect(() => pullback(np.array([1, 0], { dtype: "int32" }))).toThrow(/dtype int32/);
    // A float cotangent still works: d sin = cos.
    expect(A((pullback(np.ones([2])) as unknown[])[0]).toArray()).toEqual([
      Math.cos(1),
      Math.cos(1),
    ]);
  });
  it("linearize's tangent errors say 'tangent' and 'input'", () => {
    const [, fJvp] = linearize((x: NdArray) => np.sin(x), np.ones([2]));
    expect(() => fJvp(np.ones([3]))).toThrow(ShapeError);
    expect(() => fJvp(np.ones([3]))).toThrow(
      /linearize: tangent 0 has shape \[3\] but the input has shape \[2\]/,
    );
    expect(() => fJvp(np.ones([3]))).not.toThrow(/cotangent/);
  });
});

describe("argnums is validated and the messages say what was given", () => {
  const f = (x: NdArray, y: NdArray) => np.sum(np.multiply(x, y));
  const opts = (argnums: unknown) => ({ argnums }) as { argnums: number };
  it("a string, an object, a fraction, a duplicate", () => {
    expect(() => grad(f, opts("0"))(1, 2)).toThrow(InvalidArgumentError);
    expect(() => grad(f, opts("0"))(1, 2)).toThrow(
      /grad: argnums must be an integer or an array of integers, got string "0"/,
    );
    expect(() => grad(f, opts({ a: 0 }))(1, 2)).toThrow(/got object \{"a":0\}/);
    expect(() => grad(f, opts([0.5]))(1, 2)).toThrow(
      /argnums entries must be integers, got number 0\.5.*0\.\.1/,
    );
    expect(() => grad(f, opts(["1"]))(1, 2)).toThrow(/entries must be integers, got string "1"/);
    expect(() => grad(f, opts([0, -2]))(1, 2)).toThrow(/names argument 0 twice/);
    expect(() => grad(f, opts(2))(1, 2)).toThrow(/argnums 2 is out of range.*2 arguments.*0\.\.1/);
    expect(() => jacfwd(f, opts("1"))(1, 2)).toThrow(/jacfwd: argnums must be an integer/);
  });
  it("valid argnums, negative included, give the partial derivatives", () => {
    // d/dy (x y) = x, d/dx = y.
    expect(A(grad(f, { argnums: -1 })(3, 5)).item()).toBe(3);
    const both = grad(f, { argnums: [1, 0] })(3, 5) as NdArray[];
    expect([A(both[0]).item(), A(both[1]).item()]).toEqual([3, 5]);
  });
});

describe("float sums are pairwise on every backend and under jit", () => {
  /** Neumaier's compensated sum in float64: the reference, accurate to about 1 ulp. */
  const compensatedSum = (values: ArrayLike<number>): number => {
    let sum = 0;
    let carry = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const t = sum + v;
      carry += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
      sum = t;
    }
    return sum + carry;
  };
  const naiveSum = (values: ArrayLike<number>, round: (x: number) => number): number => {
    let acc = 0;
    for (let i = 0; i < values.length; i++) acc = round(acc + values[i]!);
    return acc;
  };
  const relErr = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);
  const F32_ULP = 2 ** -23;

  const runOn = <T>(backend: "js" | "wasm", body: () => T): T => {
    const before = getBackend();
    setBackend(backend);
    try {
      return body();
    } finally {
      setBackend(before);
    }
  };

  it("the sum of 2e7 float32 ones is 2e7 (a float32 running sum stalls at 2^24)", () => {
    const ones = new Float32Array(2e7).fill(1);
    expect(naiveSum(ones, Math.fround)).toBe(2 ** 24); // what the naive loop gave
    expect(np.sum(np.array(ones)).item()).toBe(2e7);
  });

  for (const backend of ["js", "wasm"] as const) {
    it(`${backend}: float32 sum and mean of 1e6 x 0.1, eager and jit (fused or not)`, () => {
      const n = 1e6;
      const data = new Float32Array(n).fill(0.1);
      const exact = compensatedSum(data); // n * fround(0.1), exactly
      expect(relErr(naiveSum(data, Math.fround), exact)).toBeGreaterThan(1e-3);
      runOn(backend, () => {
        const x = np.array(data);
        const cases: [string, number, number][] = [
          ["np.sum", np.sum(x).item(), exact],
          ["np.mean", np.mean(x).item(), exact / n],
          ["jit(np.sum)", A(jit((a: NdArray) => np.sum(a))(x)).item(), exact],
          [
            "jit(sum of 2x)",
            A(jit((a: NdArray) => np.sum(np.multiply(a, 2)))(x)).item(),
            2 * exact,
          ],
          ["jit(np.mean)", A(jit((a: NdArray) => np.mean(a))(x)).item(), exact / n],
        ];
        for (const [what, got, want] of cases) {
          expect(relErr(got, want), what).toBeLessThanOrEqual(F32_ULP);
        }
        // Along a leading axis (the terms of each output are strided, gathered first).
        const cols = np.sum(np.reshape(x, [n / 2, 2]), 0).toArray() as number[];
        for (const c of cols) expect(relErr(c, exact / 2)).toBeLessThanOrEqual(F32_ULP);
      });
    });
  }

  it("float64 sums: far closer than a running sum (js backend, eager and jit)", () => {
    const n = 1e6;
    const data = new Float64Array(n).map((_, i) => 0.1 + (i % 7) * 1e-3);
    const exact = compensatedSum(data);
    const naiveError = relErr(
      naiveSum(data, (v) => v),
      exact,
    );
    expect(naiveError).toBeGreaterThan(1e-12);
    runOn("js", () => {
      const x = np.array(data);
      expect(relErr(np.sum(x).item(), exact)).toBeLessThan(naiveError / 100);
      const fused = A(jit((a: NdArray) => np.sum(np.multiply(a, 1)))(x)).item();
      expect(relErr(fused, exact)).toBeLessThan(naiveError / 100);
    });
  });

  it("every axis layout (trailing, leading, middle, several) against a plain loop", () => {
    // [3, 400, 2] float32 0.1 + small integers: each sum has 400 or more terms.
    const shape = [3, 400, 2];
    const data = new Float32Array(2400).map((_, i) => 0.1 + (i % 5));
    const x = np.array(data).reshape(shape);
    const at = (i: number, j: number, k: number) => data[(i * 400 + j) * 2 + k]!;
    const loop = (keep: (i: number, j: number, k: number) => number, size: number) => {
      const acc: number[][] = Array.from({ length: size }, () => []);
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 400; j++)
          for (let k = 0; k < 2; k++) acc[keep(i, j, k)]!.push(at(i, j, k));
      return acc.map(compensatedSum);
    };
    const cases: [number | number[], number[]][] = [
      [1, loop((i, _j, k) => i * 2 + k, 6)],
      [0, loop((_i, j, k) => j * 2 + k, 800)],
      [[1, 2], loop((i) => i, 3)],
      [[0, 1], loop((_i, _j, k) => k, 2)],
      [[0, 2], loop((_i, j) => j, 400)],
    ];
    for (const backend of ["js", "wasm"] as const) {
      runOn(backend, () => {
        for (const [axis, want] of cases) {
          const got = np.sum(x, axis).toArray() as number[] | number[][];
          got.flat().forEach((v, o) => expect(relErr(v, want[o]!)).toBeLessThanOrEqual(F32_ULP));
        }
      });
    }
  });

  it("integer sums stay exact and keep their dtype", () => {
    const data = Int32Array.from({ length: 1000 }, (_, i) => i - 300);
    const want = data.reduce((acc, v) => acc + v, 0);
    const x = np.array(data);
    expect(np.sum(x).dtype).toBe("int32");
    expect(np.sum(x).item()).toBe(want);
    expect(A(jit((a: NdArray) => np.sum(np.multiply(a, 2)))(x)).item()).toBe(2 * want);
  });
});

describe("derivatives that were NaN", () => {
  it("d/dx x^0 is 0, at 0 too; d/dx x^b elsewhere is unchanged", () => {
    expect(A(grad((x: NdArray) => np.power(x, 0))(0)).item()).toBe(0);
    expect(A(grad((x: NdArray) => np.power(x, 0))(2.5)).item()).toBe(0);
    expect(A(jit(grad((x: NdArray) => np.power(x, 0)))(0)).item()).toBe(0);
    // b x^(b-1), analytic
    expect(A(grad((x: NdArray) => np.power(x, 3))(2)).item()).toBeCloseTo(12, 12);
    expect(A(grad((x: NdArray) => np.power(x, 0.5))(4)).item()).toBeCloseTo(0.25, 12);
    // Second derivative of x^2 at 0 is 2 (its first-derivative exponent is 1, not 0).
    expect(A(grad(grad((x: NdArray) => np.power(x, 2)))(0)).item()).toBeCloseTo(2, 12);
    // Reverse over x^0 at 0 twice stays finite.
    expect(A(grad(grad((x: NdArray) => np.power(x, 0)))(0)).item()).toBe(0);
  });
  it("grad of std over one element (or equal elements) is 0; elsewhere (x - m) / (n std)", () => {
    expect(
      Array.from(A(grad((x: NdArray) => np.std(x))(np.array([3]))).toArray() as number[]),
    ).toEqual([0]);
    expect(
      Array.from(A(grad((x: NdArray) => np.std(x))(np.array([2, 2, 2]))).toArray() as number[]),
    ).toEqual([0, 0, 0]);
    const xs = [1, 2, 4];
    const m = (1 + 2 + 4) / 3;
    const sd = Math.sqrt(xs.reduce((acc, v) => acc + (v - m) ** 2, 0) / 3);
    const g = A(grad((x: NdArray) => np.std(x))(np.array(xs))).toArray() as number[];
    g.forEach((v, i) => expect(v).toBeCloseTo((xs[i]! - m) / (3 * sd), 12));
    expect(np.std(np.array(xs)).item()).toBeCloseTo(sd, 14);
    expect(np.std(np.array([1, 5], { dtype: "float32" })).dtype).toBe("float32");
  });
});

describe("int32 conversion refuses values that would wrap", () => {
  it("out-of-range, NaN and infinite values are refused; fractions truncate as in NumPy", () => {
    expect(() => np.array(2 ** 31, { dtype: "int32" })).toThrow(InvalidArgumentError);
    expect(() => np.array(2 ** 31, { dtype: "int32" })).toThrow(
      /value 2147483648 does not fit in int32/,
    );
    expect(() => np.array([1, -(2 ** 31) - 1], { dtype: "int32" })).toThrow(/at element \[1\]/);
    expect(() => np.array(new Float64Array([NaN]), { dtype: "int32" })).toThrow(/NaN.*int32/);
    expect(() => np.array([Infinity], { dtype: "int32" })).toThrow(/Infinity/);
    expect(np.array(2 ** 31 - 1, { dtype: "int32" }).item()).toBe(2147483647);
    expect(np.array(-(2 ** 31), { dtype: "int32" }).item()).toBe(-2147483648);
    expect(np.array([2.7, -2.7], { dtype: "int32" }).toArray()).toEqual([
      Math.trunc(2.7),
      Math.trunc(-2.7),
    ]);
  });
});

describe("minimize validates its options", () => {
  const f = (x: NdArray) => np.sum(np.square(np.subtract(x, 1)));
  it("maxIter, tol and learningRate must be sensible numbers", () => {
    expect(() => optim.minimize(f, np.zeros([2]), { maxIter: -1 })).toThrow(InvalidArgumentError);
    expect(() => optim.minimize(f, np.zeros([2]), { maxIter: -1 })).toThrow(
      /minimize: option maxIter must be a non-negative integer, got -1/,
    );
    expect(() => optim.minimize(f, np.zeros([2]), { maxIter: 2.5 })).toThrow(/maxIter.*2\.5/);
    expect(() => optim.minimize(f, np.zeros([2]), { tol: NaN })).toThrow(
      /tol must be a number >= 0, got NaN/,
    );
    expect(() => optim.minimize(f, np.zeros([2]), { method: "gd", learningRate: 0 })).toThrow(
      /learningRate must be a number > 0/,
    );
  });
  it("maxIter 0 reports 0 iterations at x0", () => {
    const r = optim.minimize(f, np.zeros([2]), { maxIter: 0 });
    expect(r.iterations).toBe(0);
    expect(r.value).toBe(2); // f(0) = 2 (1 + 1)
  });
});

describe("tracers print and advise", () => {
  it("String(tracer) and template literals describe the tracer; arithmetic still throws", () => {
    const seen: string[] = [];
    grad((x: NdArray) => {
      // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- the case under test
      seen.push(String(x), `${x}`);
      return np.sum(x);
    })(np.ones([3]));
    expect(seen).toEqual(["Traced<float64[3]>", "Traced<float64[3]>"]);
    expect(() => grad((x: NdArray) => (x as unknown as number) * 2)(1)).toThrow(
      ConcretizationError,
    );
  });
  it("inside jit the advice is lax.cond / np.where, not x.item()", () => {
    const f = jit((x: NdArray) => ((x as unknown as number) > 0 ? x : np.negative(x)));
    expect(() => f(1)).toThrow(/lax\.cond, lax\.select or np\.where.*lax\.whileLoop/);
    expect(() => f(1)).not.toThrow(/x\.item\(\) for control flow/);
    expect(() =>
      grad((x: NdArray) => ((x as unknown as number) > 0 ? x : np.negative(x)))(1),
    ).toThrow(/x\.item\(\) for control flow/);
  });
});
