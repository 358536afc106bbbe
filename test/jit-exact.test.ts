/**
 * jit gives what eager evaluation gives, bit for bit: the simplifier only
 * applies rewrites that are exact in IEEE arithmetic (x * 0 is not one:
 * inf * 0 and NaN * 0 are NaN, -1 * 0 is -0; nor is x + 0: -0 + 0 = +0),
 * and int32 arithmetic wraps around as NumPy's int32 does, eagerly, under
 * jit and on 0-d values, on both backends. References: IEEE results of
 * plain JS arithmetic on the inputs, and BigInt arithmetic for int32.
 */
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../src/core/errors.js";
import { type Array as NdArray, jit, makeJaxpr, np } from "../src/index.js";
import { optimize } from "../src/ir/passes.js";
import { useBackendAtAllSizes } from "./helpers.js";

const SPECIALS = [Infinity, -Infinity, NaN, -1, 1, 0, -0, 2.5];

/** Object.is per element, any NaN matching any NaN. */
function sameBits(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

function expectSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!sameBits(actual[i]!, expected[i]!)) {
      expect.fail(`${what}: element ${i}: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** Cases with a constant operand: the program, and its meaning on one number. */
const CASES: [string, (x: NdArray) => NdArray, (x: number) => number][] = [
  ["x * 0", (x) => x.mul(0), (x) => x * 0],
  ["0 * x", (x) => np.multiply(0, x), (x) => 0 * x],
  ["x * -0", (x) => x.mul(-0), (x) => x * -0],
  ["x + 0", (x) => x.add(0), (x) => x + 0],
  ["0 + x", (x) => np.add(0, x), (x) => 0 + x],
  ["x - -0", (x) => x.sub(-0), (x) => x - -0],
  ["x + -0 (exact: folded)", (x) => x.add(-0), (x) => x + -0],
  ["x - 0 (exact: folded)", (x) => x.sub(0), (x) => x - 0],
  ["x * 1 (exact: folded)", (x) => x.mul(1), (x) => x * 1],
  ["x / 1 (exact: folded)", (x) => x.div(1), (x) => x / 1],
];

describe.each(["js", "wasm"])("jit agrees with eager bit for bit on %s", (backendName) => {
  useBackendAtAllSizes(backendName);

  for (const [what, f, meaning] of CASES) {
    it(`${what} at ±0, ±inf, NaN (0-d and arrays)`, () => {
      const jf = jit(f) as (x: unknown) => NdArray;
      for (const v of SPECIALS) {
        const want = meaning(v);
        expect(sameBits(f(np.array(v)).item(), want), `${what} eager at ${v}`).toBe(true);
        expect(sameBits(jf(v).item(), want), `${what} jit at ${v}`).toBe(true);
      }
      const xs = np.array(SPECIALS);
      const want = SPECIALS.map(meaning);
      expectSameBits(f(xs).data(), want, `${what} eager array`);
      expectSameBits(jf(xs).data(), want, `${what} jit array`);
    });
  }
});

describe("the simplifier's folds", () => {
  it("keeps x * 0 and x + 0 as equations, folds only the exact rewrites", () => {
    const names = (f: (x: NdArray) => NdArray) =>
      optimize(makeJaxpr(f)(np.ones([3])))
        .eqns.map((e) => e.prim.name)
        .filter((n) => n !== "broadcastInDim");
    expect(names((x) => x.mul(0))).toEqual(["mul"]);
    expect(names((x) => x.add(0))).toEqual(["add"]);
    expect(names((x) => x.sub(-0))).toEqual(["sub"]);
    expect(names((x) => x.mul(1).add(-0).sub(0).div(1))).toEqual([]);
  });
});

// --------------------------------------------------------------- int32 --

/** a op b wrapped to int32, by BigInt. */
const wrap = (v: bigint): number => Number(BigInt.asIntN(32, v));

const INT_PAIRS: [number, number][] = [
  [2 ** 30 + 1, 2 ** 30 + 1],
  [2 ** 31 - 1, 2 ** 31 - 1],
  [-(2 ** 31), -1],
  [-(2 ** 31), -(2 ** 31)],
  [123456789, 987654321],
  [-7, 3],
  [46341, 46341],
];

describe.each(["js", "wasm"])("int32 arithmetic wraps around on %s", (backendName) => {
  useBackendAtAllSizes(backendName);
  const i32 = (xs: number[]) => np.array(xs, { dtype: "int32" });

  it("multiply: eager, jit, 0-d and arrays equal the BigInt product mod 2^32", () => {
    const as = INT_PAIRS.map(([a]) => a);
    const bs = INT_PAIRS.map(([, b]) => b);
    const want = INT_PAIRS.map(([a, b]) => wrap(BigInt(a) * BigInt(b)));
    const f = (a: NdArray, b: NdArray) => np.multiply(a, b);
    const jf = jit(f) as (a: NdArray, b: NdArray) => NdArray;
    expect(Array.from(f(i32(as), i32(bs)).data())).toEqual(want);
    expect(Array.from(jf(i32(as), i32(bs)).data())).toEqual(want);
    // a fused chain: (a * b) * b
    const chain = jit((a: NdArray, b: NdArray) => np.multiply(np.multiply(a, b), b)) as (
      a: NdArray,
      b: NdArray,
    ) => NdArray;
    expect(Array.from(chain(i32(as), i32(bs)).data())).toEqual(
      INT_PAIRS.map(([a, b]) => wrap(BigInt(wrap(BigInt(a) * BigInt(b))) * BigInt(b))),
    );
    INT_PAIRS.forEach(([a, b], i) => {
      const x = np.array(a, { dtype: "int32" });
      const y = np.array(b, { dtype: "int32" });
      expect(f(x, y).item()).toBe(want[i]);
      expect(jf(x, y).item()).toBe(want[i]);
      expect(f(x, y).dtype).toBe("int32");
    });
  });

  it("power: int32 ** int32 is int32, the BigInt power mod 2^32", () => {
    const cases: [number, number][] = [
      [3, 40],
      [2 ** 15 + 1, 2],
      [-3, 21],
      [7, 0],
      [0, 0],
      [-1, 2 ** 31 - 1],
      [2, 31],
      [2, 32],
    ];
    const want = cases.map(([a, b]) => wrap(BigInt(a) ** BigInt(b)));
    const bases = i32(cases.map(([a]) => a));
    const exps = i32(cases.map(([, b]) => b));
    const p = np.power(bases, exps);
    expect(p.dtype).toBe("int32");
    expect(Array.from(p.data())).toEqual(want);
    const jp = jit((a: NdArray, b: NdArray) => np.power(a, b)) as (
      a: NdArray,
      b: NdArray,
    ) => NdArray;
    expect(Array.from(jp(bases, exps).data())).toEqual(want);
    cases.forEach(([a, b], i) => {
      const x = np.array(a, { dtype: "int32" });
      const y = np.array(b, { dtype: "int32" });
      expect(np.power(x, y).item()).toBe(want[i]);
      expect(jp(x, y).item()).toBe(want[i]);
    });
  });

  it("power refuses negative int32 exponents eagerly, as NumPy does", () => {
    const run = () => np.power(i32([2, 3]), i32([1, -2]));
    expect(run).toThrow(InvalidArgumentError);
    expect(run).toThrow(/power: integers to negative integer powers are not allowed/);
    expect(() =>
      np.power(np.array(2, { dtype: "int32" }), np.array(-1, { dtype: "int32" })),
    ).toThrow(/astype\("float64"\)/);
  });
});
