/**
 * erf, the primitive added by following docs/design.md "Adding a primitive"
 * (its declaration in src/primitives/elementwise.ts, its conformance entry,
 * and np.erf). Checked against an independent reference: the alternating
 * Maclaurin series erf x = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1))
 * in 200-digit fixed-point BigInt arithmetic (the implementation uses a
 * positive-term series and a continued fraction in float64), itself checked
 * against published values. Then what the declaration gives for free: the
 * derivative, jit fusion, compiled scalar programs, emitSource, the Wasm
 * backend and its jit (a JS fallback: erf has no Wasm form).
 */
import { describe, expect, it } from "vitest";
import { type Array as NdArray, emitSource, grad, jit, makeJaxpr, np, vmap } from "../src/index.js";
import { optimize } from "../src/ir/passes.js";
import { compileJaxpr } from "../src/jit/codegen.js";
import { expectAllClose, ulps64, useBackendAtAllSizes } from "./helpers.js";

// ------------------------------------------------ high-precision reference --

const DIGITS = 200n;
const SCALE = 10n ** DIGITS;

/** floor(sqrt(n)) by Newton's iteration on BigInt. */
function isqrt(n: bigint): bigint {
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2) + 1);
  for (;;) {
    const y = (x + n / x) / 2n;
    if (y >= x) return x;
    x = y;
  }
}

/** pi by Machin's formula pi = 16 atan(1/5) - 4 atan(1/239), in fixed point. */
function piFixed(): bigint {
  const atanInv = (k: bigint): bigint => {
    let sum = 0n;
    let power = SCALE / k; // 1 / k^(2n+1), starting at n = 0
    for (let n = 0n; power !== 0n; n++) {
      const term = power / (2n * n + 1n);
      sum += n % 2n === 0n ? term : -term;
      power /= k * k;
    }
    return sum;
  };
  return 16n * atanInv(5n) - 4n * atanInv(239n);
}
const TWO_OVER_SQRT_PI = (2n * SCALE * SCALE) / isqrt(piFixed() * SCALE);

/** x (a double) exactly as a fixed-point BigInt (doubles in [-8, 8] have at most 1074 binary places; 200 decimal digits keep ~664 bits). */
function toFixed(x: number): bigint {
  // x = m * 2^e with integer m
  let e = 0;
  let m = x;
  while (!Number.isInteger(m)) {
    m *= 2;
    e--;
  }
  return (BigInt(m) * SCALE) / 2n ** BigInt(-e);
}

/** erf(x) in fixed point by the alternating series (valid for all x; used for |x| <= 6). */
function erfFixed(x: number): bigint {
  const xf = toFixed(x);
  const x2 = (xf * xf) / SCALE;
  let power = xf; // x^(2n+1) / n!
  let sum = 0n;
  for (let n = 0n; power !== 0n; n++) {
    const term = power / (2n * n + 1n);
    sum += n % 2n === 0n ? term : -term;
    power = (power * x2) / SCALE / (n + 1n);
  }
  return (sum * TWO_OVER_SQRT_PI) / SCALE;
}

/**
 * The reference rounded to a double: v * 2^k / SCALE as an integer of about
 * 70 bits (Number rounds it once), then divided by 2^k (exact).
 */
function erfReference(x: number): number {
  const v = erfFixed(x);
  const k = 70 + Math.max(0, Math.ceil(-Math.log2(Math.abs(x) || 1)));
  return Number((v << BigInt(k)) / SCALE) / 2 ** k;
}

describe("the erf reference", () => {
  it("reproduces published values of erf", () => {
    // Abramowitz & Stegun table 7.1 / standard tables (to 16+ digits)
    // (0.52049987781304653768, 0.84270079294971486934, 0.99532226501895273416)
    expect(ulps64(erfReference(0.5), 0.5204998778130465)).toBeLessThanOrEqual(1);
    expect(ulps64(erfReference(1), 0.8427007929497149)).toBeLessThanOrEqual(1);
    expect(ulps64(erfReference(2), 0.9953222650189527)).toBeLessThanOrEqual(1);
  });
});

// ------------------------------------------------------------- accuracy --

const grid = (lo: number, hi: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));

describe("np.erf", () => {
  it("float64: within 8 ulp of the reference on [-6, 6] and near 0", () => {
    const xs = [...grid(-6, 6, 601), 1e-12, -1e-10, 3e-5, 0.1, 2.999999, 3, 3.0000001, 5.9];
    const got = np.erf(np.array(xs)).data();
    let worst = 0;
    xs.forEach((x, i) => {
      const want = erfReference(x);
      // past |x| = 2.5, erf is within 1e-3 of ±1: an absolute error of 8 ulp of 1
      const err =
        Math.abs(x) < 2.5 ? ulps64(got[i]!, want) : Math.abs(got[i]! - want) / Number.EPSILON;
      worst = Math.max(worst, err);
      if (!(err <= 8)) expect.fail(`erf(${x}): got ${got[i]}, reference ${want} (${err} ulp)`);
    });
    expect(worst).toBeGreaterThan(0); // the check is not vacuous: the reference has more digits
  });

  it("float32: the float64 value rounded, within 1 float32 step of the rounded reference", () => {
    const xs = Float32Array.from(grid(-4, 4, 161));
    const got = np.erf(np.array(xs, { dtype: "float32" }));
    expect(got.dtype).toBe("float32");
    const data = got.data();
    xs.forEach((x, i) => {
      const want = Math.fround(erfReference(x));
      const step = Math.max(Math.abs(want), 2 ** -126) * 2 ** -23;
      if (!(Math.abs(data[i]! - want) <= step)) expect.fail(`erf(${x}) f32: ${data[i]} vs ${want}`);
    });
  });

  it("is odd, and exact at the special values", () => {
    expect(Object.is(np.erf(0).item(), 0)).toBe(true);
    expect(Object.is(np.erf(-0).item(), -0)).toBe(true);
    expect(np.erf(Infinity).item()).toBe(1);
    expect(np.erf(-Infinity).item()).toBe(-1);
    expect(Number.isNaN(np.erf(NaN).item())).toBe(true);
    const xs = grid(0.01, 5, 50);
    expect(np.erf(np.array(xs.map((x) => -x))).data()).toEqual(
      np.negative(np.erf(np.array(xs))).data(),
    );
  });

  it("promotes ints to float64", () => {
    const y = np.erf(np.array([1, 2], { dtype: "int32" }));
    expect(y.dtype).toBe("float64");
    expect(y.data()[0]).toBe(np.erf(1).item());
  });
});

// ------------------------------------------------------- what comes free --

describe("erf under the transformations", () => {
  it("grad is 2/sqrt(pi) exp(-x^2), and matches central differences of the reference", () => {
    for (const x of [-2.2, -0.7, 0, 0.3, 1.5, 2.9]) {
      const g = (grad((v: NdArray) => np.erf(v)) as (v: number) => NdArray)(x).item();
      expect(g).toBeCloseTo((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x), 14);
      const h = 1e-5;
      const fd = (erfReference(x + h) - erfReference(x - h)) / (2 * h);
      expect(Math.abs(g - fd)).toBeLessThan(1e-9);
    }
  });

  it("vmap of erf equals erf of the batch", () => {
    const x = np.array([
      [0.1, -0.4],
      [1.2, 2.5],
    ]);
    expect((vmap((r: NdArray) => np.erf(r)) as (v: NdArray) => NdArray)(x).data()).toEqual(
      np.erf(x).data(),
    );
  });

  it("fuses into a jit loop (the declared scalar, called as a helper) and matches eager bit for bit", () => {
    const f = (x: NdArray) => np.sum(np.multiply(np.erf(np.multiply(x, 0.5)), x));
    const x = np.array(grid(-7, 7, 1001));
    const program = compileJaxpr(optimize(makeJaxpr(f)(x)));
    // one fused loop: no kernel call for erf, the helper bound once
    expect(program.source).toContain("H_erf(");
    expect(program.source).not.toContain("K[");
    expect(program.source.match(/for \(let i = 0/g)?.length).toBe(1);
    expect(jit(f)(x).item()).toBe(f(x).item());
    // a 0-d program compiles to straight-line code calling the same helper
    for (const v of [-0, 0.25, -3.5, Infinity, NaN]) {
      const got = (jit((s: NdArray) => np.erf(np.multiply(s, 2))) as (s: number) => NdArray)(v);
      const want = np.erf(np.multiply(v, 2)).item();
      expect(Object.is(got.item(), want) || (Number.isNaN(want) && Number.isNaN(got.item()))).toBe(
        true,
      );
    }
  });

  it("emitSource prints erf's scalar function into standalone code", () => {
    const f = (x: NdArray) => np.add(np.erf(x), np.multiply(x, x));
    // the gradient program is exp-based: no helper; the value program calls erf's
    expect(emitSource(grad(f))(0.8)).not.toContain("H_erf");
    const valueSource = emitSource(f)(0.8);
    expect(valueSource).toContain("const H_erf = function erfScalar(");
    expect(valueSource).toContain("H_erf(x0)");
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the generated program under test
    const compute = new Function(`${valueSource}\nreturn compute;`)() as (x: number) => number[];
    for (const x of [0.8, -1.7, 2.4]) expect(compute(x)[0]).toBe(f(np.array(x)).item());
  });
});

describe.each(["js", "wasm"])("erf on the %s backend", (backendName) => {
  useBackendAtAllSizes(backendName);

  it("eager and jit (a fused JS loop: erf has no Wasm form) agree with the JS scalar", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const xs = grid(-4, 4, 257);
      const x = np.array(xs, { dtype });
      const eager = np.erf(np.multiply(x, 1.5)).data();
      const jitted = (jit((v: NdArray) => np.erf(np.multiply(v, 1.5))) as (v: NdArray) => NdArray)(
        x,
      ).data();
      expect(Array.from(jitted)).toEqual(Array.from(eager));
      const round = dtype === "float32" ? Math.fround : (v: number) => v;
      expectAllClose(
        Array.from(eager),
        xs.map((v) => round(erfReference(round(round(v) * 1.5)))),
        dtype === "float32" ? 2e-7 : 1e-15,
      );
    }
  });
});
