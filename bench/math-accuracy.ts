/**
 * Accuracy report (not a test) for the float64 Wasm math kernels
 * (src/backends/wasm/mathKernels.ts): max and mean ulp distance from JS Math
 * (the unit of test/wasm-math.test.ts) and a count of results 0, 1 and 2 or
 * more representable float64 values away from Math, for exp, log, sin, cos on the argument sets of test/wasm-math.test.ts
 * (same seeds) and on 1e6 uniform arguments in each kernel's core range.
 *
 * Usage: npx tsx bench/math-accuracy.ts
 */
import { createWasmBackend } from "../src/backends/wasm/index.js";
import { MATH_OPS, type MathOp } from "../src/backends/wasm/mathKernels.js";
import { uniformGenerator as mulberry32 } from "../src/core/random.js";

/** Every kernel in Wasm: its unary exp/log/sin/cos are the math kernels. */
const wasm = createWasmBackend({ minElements: 0 });
const reference =
  (op: MathOp) =>
  (x: number): number =>
    Math[op](x);

/** The backend kernel of a Math function with a Wasm form. */
const kernel = (op: MathOp) => ({ scalar: (x: number) => Math[op](x), vector: op });

function run64(op: MathOp, xs: readonly number[]): Float64Array {
  return wasm.unary(kernel(op), Float64Array.from(xs), "float64") as Float64Array;
}

/** ulp distance as in test/wasm-math.test.ts. */
function ulps64(actual: number, expected: number): number {
  if (Object.is(actual, expected) || (Number.isNaN(actual) && Number.isNaN(expected))) return 0;
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) return Infinity;
  const mag = Math.max(Math.abs(expected), 2 ** -1022);
  return Math.abs(actual - expected) / 2 ** (Math.floor(Math.log2(mag)) - 52);
}

/** The random arguments of test/wasm-math.test.ts (same generator and seed). */
function testSamples(op: MathOp): number[] {
  const r = mulberry32(op.length * 7919);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * r();
  const logUniform = (lo: number, hi: number) =>
    Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * r());
  const xs: number[] = [];
  for (let i = 0; i < 20000; i++) {
    const sign = r() < 0.5 ? -1 : 1;
    if (op === "exp") xs.push(i % 2 === 0 ? uniform(-745, 710) : sign * logUniform(1e-20, 30));
    else if (op === "log") xs.push(i % 2 === 0 ? logUniform(1e-320, 1e308) : uniform(0.5, 2));
    else xs.push(i % 3 === 0 ? uniform(-10, 10) : sign * logUniform(1e-12, 1e12));
  }
  return xs;
}

/** 1e6 uniform arguments where the polynomial does all the work. */
function coreSamples(op: MathOp): number[] {
  const r = mulberry32(12345 + op.length);
  const [lo, hi] = op === "exp" ? [-20, 20] : op === "log" ? [0.25, 4] : [-10, 10];
  return Array.from({ length: 1_000_000 }, () => lo + (hi - lo) * r());
}

/** Number of float64 values between a and b (both finite): distance of their bit patterns. */
function steps64(a: number, b: number): number {
  const bits = new BigInt64Array(new Float64Array([a, b]).buffer);
  // Map the sign-magnitude patterns onto a monotonic integer line.
  const line = (v: bigint) => (v < 0n ? -(v & 0x7fffffffffffffffn) : v);
  const d = line(bits[0]!) - line(bits[1]!);
  return Number(d < 0n ? -d : d);
}

function report(op: MathOp, set: string, xs: readonly number[]): void {
  const got = run64(op, xs);
  let worst = 0;
  let sum = 0;
  const stepCounts = [0, 0, 0]; // 0, 1, >= 2 float64 steps from Math
  xs.forEach((x, i) => {
    const expected = reference(op)(x);
    const u = ulps64(got[i]!, expected);
    worst = Math.max(worst, u);
    sum += u;
    if (Number.isFinite(expected) && Number.isFinite(got[i]!))
      stepCounts[Math.min(steps64(got[i]!, expected), 2)]!++;
  });
  console.log(
    `${op.padEnd(4)} ${set.padEnd(18)} max ${worst.toFixed(3)} ulp, mean ${(sum / xs.length).toFixed(4)} ulp;` +
      ` float64 steps from Math: 0: ${stepCounts[0]}, 1: ${stepCounts[1]}, >=2: ${stepCounts[2]}`,
  );
}

for (const op of MATH_OPS) {
  report(op, "test set (20k)", testSamples(op));
  report(op, "core range (1e6)", coreSamples(op));
}

/**
 * float32 results through the widened float64 polynomials: log always, and
 * sin/cos on arguments beyond the native float32 range (|x| in [600, 1e5]).
 * Counts results 0, 1, >= 2 float32 steps from fround(Math.op(x)).
 */
function report32(op: MathOp, xs: Float32Array): void {
  const got = wasm.unary(kernel(op), xs, "float32") as Float32Array;
  const bits = new Int32Array(got.buffer, got.byteOffset, got.length);
  const ref = new Int32Array(Float32Array.from(xs, reference(op)).buffer);
  const stepCounts = [0, 0, 0];
  const line = (v: number) => (v < 0 ? -(v & 0x7fffffff) : v);
  for (let i = 0; i < xs.length; i++)
    stepCounts[Math.min(Math.abs(line(bits[i]!) - line(ref[i]!)), 2)]!++;
  console.log(
    `${op.padEnd(4)} float32 (widened)  float32 steps from fround(Math): 0: ${stepCounts[0]}, 1: ${stepCounts[1]}, >=2: ${stepCounts[2]}`,
  );
}
const r32 = mulberry32(777);
report32(
  "log",
  Float32Array.from({ length: 1_000_000 }, () => Math.exp(-80 + 160 * r32())),
);
for (const op of ["sin", "cos"] as const)
  report32(
    op,
    Float32Array.from({ length: 1_000_000 }, () => (r32() < 0.5 ? -1 : 1) * (600 + 1e5 * r32())),
  );
