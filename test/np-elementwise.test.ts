/**
 * np elementwise additions: values against the mpmath fixture (logaddexp,
 * logaddexp2, inverse hyperbolics, exp2, log2, log10, hypot, sinc) and
 * against NumPy's definitions worked out by hand or by an independent plain
 * loop (mod/remainder, floorDivide, fmod in exact integer arithmetic with
 * BigInt; round half to even; fmax/fmin/nanToNum/heaviside/copysign on IEEE
 * specials); derivatives against finite differences to order 2 and forward
 * against reverse; float32 kept; broadcasting; vmap and jit; errors.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  grad,
  InvalidArgumentError,
  jit,
  jvp,
  np,
  ShapeError,
  vmap,
} from "../src/index.js";
import { central, expectNear, expectUlps, FIXTURE, ulps32 } from "./special-helpers.js";

const F = FIXTURE;
const values = (x: NdArray): number[] => Array.from(x.data());

describe("np elementwise: values", () => {
  it("against mpmath, in float64 ulps", () => {
    expectUlps("logaddexp", F.logaddexp!, ["a", "x"], np.logaddexp, 2);
    expectUlps("logaddexp2", F.logaddexp2!, ["a", "x"], np.logaddexp2, 2);
    expectUlps("arcsinh", F.arcsinh!, ["x"], np.arcsinh, 2);
    expectUlps("arccosh", F.arccosh!, ["x"], np.arccosh, 2);
    expectUlps("arctanh", F.arctanh!, ["x"], np.arctanh, 2);
    expectUlps("exp2", F.exp2!, ["x"], np.exp2, 1);
    expectUlps("log2", F.log2!, ["x"], np.log2, 1);
    expectUlps("log10", F.log10!, ["x"], np.log10, 1);
    expectUlps("hypot", F.hypot!, ["a", "x"], np.hypot, 1);
    expectUlps("sinc", F.sinc!, ["x"], np.sinc, 4);
  });
  it("exact cases: log2 of powers of two, exp2 of integers, logaddexp of equal infinities", () => {
    expect(values(np.log2([1, 8, 0.125, 2 ** 60]))).toEqual([0, 3, -3, 60]);
    expect(values(np.exp2([0, 10, -3]))).toEqual([1, 1024, 0.125]);
    expect(values(np.logaddexp([-Infinity, Infinity], [-Infinity, Infinity]))).toEqual([
      -Infinity,
      Infinity,
    ]);
    expect(np.logaddexp(NaN, 1).item()).toBeNaN();
  });
  it("mod/remainder, floorDivide and fmod follow NumPy (checked in exact integer arithmetic)", () => {
    // floats holding integers: the exact results from BigInt division
    const as = [-7, 7, -7, 7, 0, -6, 6, 123456789, -987654321];
    const bs = [3, 3, -3, -3, 5, 3, -3, 1000, 977];
    const a = np.array(as);
    const b = np.array(bs);
    const mod = values(np.mod(a, b));
    const rem = values(np.remainder(a, b));
    const fdiv = values(np.floorDivide(a, b));
    const fmod = values(np.fmod(a, b));
    as.forEach((ai, i) => {
      const A = BigInt(ai);
      const B = BigInt(bs[i]!);
      const t = A / B; // truncating
      const r = A % B; // sign of A
      const floorQ = r !== 0n && r < 0n !== B < 0n ? t - 1n : t;
      expect(fdiv[i]).toBe(Number(floorQ));
      expect(mod[i]! + 0).toBe(Number(A - floorQ * B)); // + 0: the zero's sign is checked below
      expect(rem[i]).toBe(mod[i]);
      expect(fmod[i]! + 0).toBe(Number(r)); // + 0: fmod(-6, 3) is -0, as in C and NumPy
    });
    // NumPy: a zero remainder takes the divisor's sign; division by zero
    expect(Object.is(np.mod(6, -3).item(), -0)).toBe(true);
    expect(np.mod(1, 0).item()).toBeNaN();
    expect(np.floorDivide(1, 0).item()).toBe(Infinity);
    // ints stay int32; x // 0 and x % 0 are 0 for ints, as in NumPy
    const ia = np.array([7, -7, 5], { dtype: "int32" });
    const ib = np.array([2, 2, 0], { dtype: "int32" });
    expect(np.floorDivide(ia, ib).dtype).toBe("int32");
    expect(values(np.floorDivide(ia, ib))).toEqual([3, -4, 0]);
    expect(values(np.mod(ia, ib))).toEqual([1, 1, 0]);
    // exact where a - floor(a/b) b is not: 1e17 mod 3 (1e17 = 3 * 33333333333333333 + 1)
    expect(np.mod(1e17, 3).item()).toBe(Number(BigInt(1e17) % 3n));
    // floats: 0.5 // 0.1 rounds like NumPy (4, the divmod rule), 5.5 mod 2 = 1.5
    expect(np.floorDivide(0.5, 0.1).item()).toBe(4);
    expect(np.mod(5.5, 2).item()).toBe(1.5);
    expect(np.fmod(-5.5, 2).item()).toBe(-1.5);
  });
  it("round: half to even, decimals as NumPy (x * 10^d rounded, / 10^d)", () => {
    expect(values(np.round([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6]))).toEqual([
      0, 2, 2, -0, -2, 2, -3,
    ]);
    expect(values(np.round([1.2345, -2.5e-3, 0.125], 2))).toEqual([
      Math.round(123.45) / 100, // 123.45 is below the half in binary: 1.23
      -0,
      0.12,
    ]);
    expect(values(np.round([1234.5, 1250, 1350, -1550], -2))).toEqual([1200, 1200, 1400, -1600]);
    expect(() => np.round(1.5, 0.5)).toThrow(InvalidArgumentError);
    expect(() => np.round(1.5, 0.5)).toThrow(/decimals must be an integer/);
  });
  it("trunc, fmax/fmin, nanToNum, heaviside, copysign, deg2rad, rad2deg", () => {
    expect(values(np.trunc([-1.7, -0.2, 0.2, 1.7, Infinity]))).toEqual([-1, -0, 0, 1, Infinity]);
    expect(values(np.fmax([NaN, 1, NaN, -0], [2, NaN, NaN, 3]))).toEqual([2, 1, NaN, 3]);
    expect(values(np.fmin([NaN, 1, NaN], [2, NaN, NaN]))).toEqual([2, 1, NaN]);
    expect(values(np.nanToNum([NaN, Infinity, -Infinity, 2]))).toEqual([
      0,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      2,
    ]);
    expect(
      values(np.nanToNum(np.array([NaN, Infinity], { dtype: "float32" }), { nan: 7 })),
    ).toEqual([7, 3.4028234663852886e38]);
    expect(values(np.nanToNum([Infinity, -Infinity], { posinf: 1, neginf: -1 }))).toEqual([1, -1]);
    expect(values(np.heaviside([-2, 0, 3, NaN], 0.5))).toEqual([0, 0.5, 1, NaN]);
    const c = values(np.copysign([3, 3, -3, 3], [-1, -0, 0, NaN]));
    expect(c).toEqual([-3, -3, 3, 3]);
    expect(np.deg2rad(180).item()).toBe(Math.PI);
    expect(np.rad2deg(Math.PI).item()).toBe(180);
  });
  it("keeps float32, promotes ints to float64, broadcasts", () => {
    const x = np.array([0.3, 1.7], { dtype: "float32" });
    for (const f of [np.arcsinh, np.log2, np.log10, np.exp2, np.sinc, np.trunc]) {
      const y = f(x);
      expect(y.dtype).toBe("float32");
      const ref = values(f(x.astype("float64")));
      // composites (sinc, exp2) round each float32 step: up to 2 float32 ulps
      values(y).forEach((v, i) => expect(ulps32(v, ref[i]!), f.name).toBeLessThanOrEqual(2));
    }
    expect(np.logaddexp(x, 1).dtype).toBe("float32");
    expect(np.hypot(np.array([3], { dtype: "int32" }), 4).dtype).toBe("float64");
    expect(np.hypot(np.array([[3], [5]]), np.array([4, 12])).shape).toEqual([2, 2]);
    expect(values(np.hypot(np.array([[3], [5]]), np.array([4, 12])))).toEqual([
      5,
      Math.hypot(3, 12),
      Math.hypot(5, 4),
      13,
    ]);
    expect(() => np.hypot(np.array([1, 2]), np.array([1, 2, 3]))).toThrow(ShapeError);
    expect(() => np.hypot(np.array([1, 2]), np.array([1, 2, 3]))).toThrow(/np.hypot/);
  });
});

describe("np elementwise: derivatives and transforms", () => {
  const unary: [string, (x: NdArray) => NdArray, number[]][] = [
    ["arcsinh", np.arcsinh, [-2, 0.3]],
    ["arccosh", np.arccosh, [1.5, 4]],
    ["arctanh", np.arctanh, [-0.6, 0.2]],
    ["exp2", np.exp2, [-1.5, 2.2]],
    ["log2", np.log2, [0.3, 5]],
    ["log10", np.log10, [0.3, 5]],
    ["sinc", np.sinc, [-1.3, 0.4, 2.7]],
    ["logaddexp(., 0.7)", (x) => np.logaddexp(x, 0.7), [-3, 0.5, 4]],
    ["logaddexp2(-1, .)", (x) => np.logaddexp2(-1, x), [-3, 0.5]],
    ["hypot(., 2)", (x) => np.hypot(x, 2), [-1.5, 3]],
    ["copysign(., -2)", (x) => np.copysign(x, -2), [-1.5, 3]],
    ["fmod(., 1.3)", (x) => np.fmod(x, 1.3), [-2, 0.4, 3]],
    ["mod(2.9, .)", (b) => np.mod(2.9, b), [1.2, -1.7]],
    ["fmax(., 0.5)", (x) => np.fmax(x, 0.5), [-1, 2]],
    ["deg2rad", np.deg2rad, [30]],
    ["nanToNum", (x) => np.nanToNum(np.multiply(x, x)), [1.5]],
  ];
  it("first and second derivatives against finite differences; forward equals reverse", () => {
    for (const [name, f, xs] of unary) {
      const g = grad((x: NdArray) => f(x));
      const gg = grad((x: NdArray) => g(x));
      for (const x0 of xs) {
        const d1 = g(x0).item();
        const fx = (v: number) => f(np.array(v)).item();
        expectNear(d1, central(fx, x0, 1e-6), 1e-7, 1e-9, `${name}' at ${x0}`);
        const [, t] = jvp((x: NdArray) => f(x), [np.array(x0)], [np.array(1)]);
        expectNear(t.item(), d1, 1e-13, 1e-15, `${name} jvp at ${x0}`);
        const fd2 = central((v) => g(v).item(), x0, 1e-4);
        expectNear(gg(x0).item(), fd2, 1e-5, 1e-7, `${name}'' at ${x0}`);
      }
    }
  });
  it("sinc at 0: value 1, derivative 0, second derivative -pi^2/3 (the Taylor branch)", () => {
    expect(np.sinc(0).item()).toBe(1);
    const g = grad((x: NdArray) => np.sinc(x));
    expect(g(0).item()).toBe(-0);
    const gg = grad((x: NdArray) => g(x));
    expectNear(gg(0).item(), -(Math.PI ** 2) / 3, 1e-12, 0, "sinc''(0)");
  });
  it("logaddexp derivative is the softmax weight, also for equal arguments", () => {
    const [ga, gb] = grad((a: NdArray, b: NdArray) => np.logaddexp(a, b), { argnums: [0, 1] })(
      1.2,
      -0.3,
    ) as NdArray[];
    expectNear(ga!.item(), 1 / (1 + Math.exp(-1.5)), 1e-15, 0, "d/da");
    expectNear(gb!.item(), 1 / (1 + Math.exp(1.5)), 1e-15, 0, "d/db");
    const [ea, eb] = grad((a: NdArray, b: NdArray) => np.logaddexp(a, b), { argnums: [0, 1] })(
      2,
      2,
    ) as NdArray[];
    expect([ea!.item(), eb!.item()]).toEqual([0.5, 0.5]);
  });
  it("floor, ceil, round, trunc, floorDivide and heaviside have zero derivative", () => {
    for (const f of [np.floor, np.ceil, np.trunc, (x: NdArray) => np.round(x, 1)]) {
      expect(grad((x: NdArray) => f(x))(1.37).item()).toBe(0);
    }
    expect(grad((x: NdArray) => np.floorDivide(x, 0.7))(1.37).item()).toBe(0);
    expect(grad((x: NdArray) => np.heaviside(x, 0.5))(1.37).item()).toBe(0);
  });
  it("vmap equals a loop; jit equals eager bit for bit", () => {
    const f = (x: NdArray) =>
      np.add(np.logaddexp(x, np.flip(x)), np.add(np.sinc(x), np.mod(np.hypot(x, 1.5), 0.7)));
    const xs = np.array([
      [0.1, -1.2, 3.3],
      [2.5, 0, -0.4],
    ]);
    const batched = vmap(f)(xs);
    const rows = xs.toArray() as number[][];
    rows.forEach((row, i) =>
      expect((batched.toArray() as number[][])[i]).toEqual(f(np.array(row)).toArray()),
    );
    const x = np.array([0.1, -1.2, 3.3, 0, -0, Infinity, NaN]);
    const h = (v: NdArray) =>
      np.add(np.fmax(np.copysign(np.round(v, 1), -1), np.trunc(v)), np.floorDivide(v, 0.3));
    expect(values(jit(h)(x))).toEqual(values(h(x)));
  });
});
