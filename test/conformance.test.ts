/**
 * The registry-driven conformance suite. For every registered primitive,
 * on random float64 inputs inside its domain:
 *   - JVP against central finite differences (order 1),
 *   - second-order directional derivatives (forward-over-forward and
 *     reverse-over-forward) against finite differences of the JVP,
 *   - the transposition identity <u, J v> = <J^T u, v> (VJP against JVP),
 *   - vmap against a loop over the batch, with the batch axis in front, at
 *     the back, or absent for some operands,
 *   - jacfwd equals jacrev,
 *   - jit equals eager evaluation,
 *   - jit equals eager bit for bit (Object.is; any NaN matches any NaN) on
 *     ±0, ±inf, NaN and a few finite values: for elementwise primitives on
 *     every combination across operands, as arrays (fused loops, Wasm
 *     groups) and as 0-d values (compiled scalar programs); for the others
 *     (movement, reductions, matmul) on operands filled with those values;
 *     linear algebra, whose domain is nonsingular matrices, is left out.
 * SPECS is typed by primitive name (PrimName): an entry missing or misspelt
 * fails tsc, and a registered primitive whose name is not in PrimName fails
 * the suite.
 * The whole suite runs once per backend ("js", and "wasm" with its size
 * thresholds at 0 so that even these small inputs run the Wasm kernels).
 */
import { describe, expect, it } from "vitest";
import { ConcreteArray, type Array as NdArray } from "../src/core/array.js";
import type { DType } from "../src/core/dtype.js";
import { InvalidArgumentError } from "../src/core/errors.js";
import { definePrimitive, type Primitive, registeredPrimitives } from "../src/core/primitive.js";
import { bind } from "../src/core/trace.js";
import { grad, jacfwd, jacrev, jit, jvp, np, vjp, vmap } from "../src/index.js";
import { lgamma } from "../src/primitives/special.js";
import { rng, useBackendAtAllSizes } from "./helpers.js";

// ------------------------------------------------------------- helpers --

type Sampler = (rand: () => number) => number;
const uniform =
  (lo: number, hi: number): Sampler =>
  (r) =>
    lo + (hi - lo) * r();
/** Values at distance >= 0.2 from zero, either sign. */
const awayFromZero: Sampler = (r) => (r() < 0.5 ? -1 : 1) * (0.2 + 1.3 * r());
/** k + 0.25..0.75: away from integer jumps. */
const awayFromIntegers: Sampler = (r) => Math.floor(-3 + 6 * r()) + 0.25 + 0.5 * r();

function sample(
  shape: number[],
  sampler: Sampler,
  r: () => number,
  dtype: DType = "float64",
): ConcreteArray {
  const x = ConcreteArray.zeros(shape, dtype);
  for (let i = 0; i < x.size; i++) x.buffer[i] = sampler(r);
  return x;
}
/** Distinct values (no ties), shuffled: for max/min. */
function distinct(shape: number[], r: () => number): ConcreteArray {
  const x = ConcreteArray.zeros(shape, "float64");
  const n = x.size;
  const vals = Array.from({ length: n }, (_, i) => i * 0.37 - n * 0.15 + 0.05 * r());
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [vals[i], vals[j]] = [vals[j]!, vals[i]!];
  }
  vals.forEach((v, i) => (x.buffer[i] = v));
  return x;
}
/** k sample matrices stacked into [k, ...shape]. */
function stackOf(k: number, make: () => ConcreteArray): ConcreteArray {
  const parts = Array.from({ length: k }, make);
  const out = ConcreteArray.zeros([k, ...parts[0]!.shape], "float64");
  parts.forEach((p, i) => out.buffer.set(p.buffer, i * p.size));
  return out;
}
/** A random n x n matrix plus n I (diagonally dominant, far from singular). */
function wellConditioned(n: number, r: () => number): ConcreteArray {
  const a = sample([n, n], uniform(-1, 1), r);
  for (let i = 0; i < n; i++) a.buffer[i * n + i]! += n;
  return a;
}
/** M M^T + n I: symmetric positive definite. */
function symmetricPositiveDefinite(n: number, r: () => number): ConcreteArray {
  const m = sample([n, n], uniform(-1, 1), r);
  const a = ConcreteArray.zeros([n, n], "float64");
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? n : 0;
      for (let k = 0; k < n; k++) s += m.buffer[i * n + k]! * m.buffer[j * n + k]!;
      a.buffer[i * n + j] = s;
    }
  return a;
}
function ints(shape: number[], lo: number, hi: number, r: () => number): ConcreteArray {
  const x = ConcreteArray.zeros(shape, "int32");
  for (let i = 0; i < x.size; i++) x.buffer[i] = lo + Math.floor(r() * (hi - lo));
  return x;
}
/** Random int32 words (all 32 bits random, either sign). */
function words(shape: number[], r: () => number): ConcreteArray {
  const x = ConcreteArray.zeros(shape, "int32");
  for (let i = 0; i < x.size; i++) x.buffer[i] = Math.floor(r() * 2 ** 32) | 0;
  return x;
}
function bools(shape: number[], r: () => number): ConcreteArray {
  const x = ConcreteArray.zeros(shape, "bool");
  for (let i = 0; i < x.size; i++) x.buffer[i] = r() < 0.5 ? 1 : 0;
  return x;
}

function nums(x: NdArray): number[] {
  return Array.from(x.data());
}
function dotAll(a: readonly NdArray[], b: readonly NdArray[]): number {
  let s = 0;
  a.forEach((x, i) => {
    const xs = nums(x);
    const ys = nums(b[i]!);
    xs.forEach((v, k) => (s += v * ys[k]!));
  });
  return s;
}
function expectClose(
  actual: number[],
  expected: number[],
  rtol: number,
  atol: number,
  what: string,
): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok)
      expect.fail(`${what}: element ${i}: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
  });
}

// ---------------------------------------------------------------- specs --

interface Spec {
  /** Fresh sample operands (float64 for the differentiable ones). */
  args: (r: () => number) => ConcreteArray[];
  params?: unknown;
  /** Indices of the operands to differentiate (default: all float operands). */
  diff?: number[];
  /** The output is not differentiable (bool/int): only vmap is checked. */
  nonDiff?: boolean;
  /** The derivative is zero by definition (stopGradient). */
  zeroDerivative?: boolean;
  /** Skip the batch axis at the back for operands of these indices. */
  frontOnly?: boolean;
  eps?: number;
  tol?: number;
  /** Outside the domain for IEEE specials (linear algebra: nonsingular matrices); skip that check. */
  noSpecials?: true;
}

const S = [2, 3];
const unaryOn =
  (sampler: Sampler): Spec["args"] =>
  (r) => [sample(S, sampler, r)];
const binaryOn =
  (sa: Sampler, sb: Sampler): Spec["args"] =>
  (r) => [sample(S, sa, r), sample(S, sb, r)];
const any = uniform(-2, 2);

/** Every registered primitive, by name: adding a primitive adds its name here and its entry below. */
type PrimName =
  | "sin"
  | "cos"
  | "tan"
  | "asin"
  | "acos"
  | "atan"
  | "sinh"
  | "cosh"
  | "tanh"
  | "exp"
  | "log"
  | "log1p"
  | "expm1"
  | "sqrt"
  | "abs"
  | "sign"
  | "floor"
  | "ceil"
  | "round"
  | "erf"
  | "asinh"
  | "acosh"
  | "atanh"
  | "log2"
  | "log10"
  | "erfc"
  | "erfinv"
  | "ndtr"
  | "logNdtr"
  | "ndtri"
  | "lgamma"
  | "digamma"
  | "polygamma"
  | "incompleteGamma"
  | "incompleteBeta"
  | "i0e"
  | "i1e"
  | "neg"
  | "not"
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "max"
  | "min"
  | "atan2"
  | "rem"
  | "fmod"
  | "floorDivide"
  | "hypot"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "eq"
  | "ne"
  | "and"
  | "or"
  | "select"
  | "convert"
  | "stopGradient"
  | "reshape"
  | "broadcastInDim"
  | "transpose"
  | "slice"
  | "pad"
  | "concatenate"
  | "gather"
  | "scatterAdd"
  | "reduceSum"
  | "reduceMax"
  | "reduceMin"
  | "argmax"
  | "argmin"
  | "cumsum"
  | "matmul"
  | "solve"
  | "det"
  | "logAbsDet"
  | "detSign"
  | "triangularSolve"
  | "cholesky"
  | "bitwiseAnd"
  | "bitwiseOr"
  | "bitwiseXor"
  | "bitwiseNot"
  | "shiftLeft"
  | "shiftRightLogical"
  | "shiftRightArithmetic"
  | "rotateLeft"
  | "portableExp"
  | "portableLog"
  | "portableSin"
  | "portableCos";

const SPECS = {
  sin: { args: unaryOn(any) },
  cos: { args: unaryOn(any) },
  tan: { args: unaryOn(uniform(-1.2, 1.2)) },
  asin: { args: unaryOn(uniform(-0.8, 0.8)) },
  acos: { args: unaryOn(uniform(-0.8, 0.8)) },
  atan: { args: unaryOn(any) },
  sinh: { args: unaryOn(any) },
  cosh: { args: unaryOn(any) },
  tanh: { args: unaryOn(any) },
  exp: { args: unaryOn(any) },
  log: { args: unaryOn(uniform(0.3, 3)) },
  log1p: { args: unaryOn(uniform(-0.5, 3)) },
  expm1: { args: unaryOn(any) },
  sqrt: { args: unaryOn(uniform(0.3, 3)) },
  abs: { args: unaryOn(awayFromZero) },
  sign: { args: unaryOn(awayFromZero) },
  floor: { args: unaryOn(awayFromIntegers) },
  ceil: { args: unaryOn(awayFromIntegers) },
  round: { args: unaryOn(awayFromIntegers) },
  erf: { args: unaryOn(uniform(-3, 3)) },
  asinh: { args: unaryOn(any) },
  acosh: { args: unaryOn(uniform(1.2, 3)) },
  atanh: { args: unaryOn(uniform(-0.8, 0.8)) },
  log2: { args: unaryOn(uniform(0.3, 3)) },
  log10: { args: unaryOn(uniform(0.3, 3)) },
  erfc: { args: unaryOn(uniform(-3, 3)) },
  erfinv: { args: unaryOn(uniform(-0.9, 0.9)) },
  ndtr: { args: unaryOn(uniform(-4, 4)) },
  logNdtr: { args: unaryOn(uniform(-6, 4)) },
  ndtri: { args: unaryOn(uniform(0.05, 0.95)) },
  lgamma: { args: unaryOn(uniform(0.2, 6)) },
  digamma: { args: unaryOn(uniform(0.3, 6)) },
  // n: integer orders 1..3 (not differentiable); x > 0
  polygamma: {
    args: (r) => [sample(S, (q) => 1 + Math.floor(3 * q()), r), sample(S, uniform(0.3, 6), r)],
    diff: [1],
  },
  // (a, x, lgamma(a), upper 0 or 1): the derivative in x only
  incompleteGamma: {
    args: (r) => {
      const a = sample(S, uniform(0.5, 5), r);
      return [
        a,
        sample(S, uniform(0.2, 6), r),
        lgamma(a) as ConcreteArray,
        sample(S, (q) => (q() < 0.5 ? 0 : 1), r),
      ];
    },
    diff: [1],
  },
  // (a, b, x, log B(a, b)): the derivative in x only
  incompleteBeta: {
    args: (r) => {
      const a = sample(S, uniform(0.5, 4), r);
      const b = sample(S, uniform(0.5, 4), r);
      const lb = np.subtract(np.add(lgamma(a), lgamma(b)), lgamma(np.add(a, b))) as ConcreteArray;
      return [a, b, sample(S, uniform(0.1, 0.9), r), lb];
    },
    diff: [2],
  },
  // both sides of |x| = 20, where the power series hands over to the asymptotic one
  i0e: { args: unaryOn((r) => (r() < 0.5 ? -1 : 1) * (0.2 + 24.8 * r())) },
  i1e: { args: unaryOn((r) => (r() < 0.5 ? -1 : 1) * (0.2 + 24.8 * r())) },
  neg: { args: unaryOn(any) },
  not: { args: (r) => [bools(S, r)], nonDiff: true },
  add: { args: binaryOn(any, any) },
  sub: { args: binaryOn(any, any) },
  mul: { args: binaryOn(any, any) },
  div: { args: binaryOn(any, awayFromZero) },
  pow: { args: binaryOn(uniform(0.3, 2), uniform(-2, 2)) },
  max: {
    args: (r) => {
      const a = sample(S, any, r);
      const b = sample(S, any, r);
      return [a, b];
    },
  },
  min: { args: (r) => [sample(S, any, r), sample(S, any, r)] },
  atan2: { args: binaryOn(awayFromZero, awayFromZero) },
  rem: {
    // a = b * (k + 0.2..0.8): away from the jumps of floor(a / b)
    args: (r) => {
      const b = sample(S, uniform(0.5, 2), r);
      const q = sample(S, awayFromIntegers, r);
      const a = ConcreteArray.zeros(S, "float64");
      for (let i = 0; i < a.size; i++) a.buffer[i] = b.buffer[i]! * q.buffer[i]!;
      return [a, b];
    },
  },
  fmod: {
    // a = b * (k + 0.25..0.75), either sign: away from the jumps of trunc(a / b)
    args: (r) => {
      const b = sample(S, uniform(0.5, 2), r);
      const q = sample(S, awayFromIntegers, r);
      const a = ConcreteArray.zeros(S, "float64");
      for (let i = 0; i < a.size; i++) a.buffer[i] = b.buffer[i]! * q.buffer[i]!;
      return [a, b];
    },
  },
  floorDivide: {
    args: (r) => {
      const b = sample(S, uniform(0.5, 2), r);
      const q = sample(S, awayFromIntegers, r);
      const a = ConcreteArray.zeros(S, "float64");
      for (let i = 0; i < a.size; i++) a.buffer[i] = b.buffer[i]! * q.buffer[i]!;
      return [a, b];
    },
  },
  hypot: { args: binaryOn(awayFromZero, awayFromZero) },
  lt: { args: binaryOn(any, any), nonDiff: true },
  le: { args: binaryOn(any, any), nonDiff: true },
  gt: { args: binaryOn(any, any), nonDiff: true },
  ge: { args: binaryOn(any, any), nonDiff: true },
  eq: {
    args: (r) => {
      const a = sample(S, any, r);
      return [a, r() < 0.5 ? a : sample(S, any, r)];
    },
    nonDiff: true,
  },
  ne: { args: binaryOn(any, any), nonDiff: true },
  and: { args: (r) => [bools(S, r), bools(S, r)], nonDiff: true },
  or: { args: (r) => [bools(S, r), bools(S, r)], nonDiff: true },
  select: { args: (r) => [bools(S, r), sample(S, any, r), sample(S, any, r)], diff: [1, 2] },
  convert: {
    args: (r) => [sample(S, any, r, "float32")],
    params: { dtype: "float64" },
    eps: 0.25,
    tol: 1e-6,
  },
  stopGradient: { args: unaryOn(any), zeroDerivative: true },
  reshape: { args: unaryOn(any), params: { shape: [3, 2] } },
  broadcastInDim: {
    args: (r) => [sample([3, 1], any, r)],
    params: { shape: [2, 3, 4], dims: [1, 2] },
  },
  transpose: { args: (r) => [sample([2, 3, 4], any, r)], params: { perm: [2, 0, 1] } },
  slice: {
    args: (r) => [sample([5, 4], any, r)],
    params: { start: [1, 0], limit: [5, 3], step: [2, 1] },
  },
  pad: {
    args: (r) => [sample([2, 3], any, r)],
    params: { lo: [1, 0], hi: [0, 2], interior: [1, 0] },
  },
  concatenate: {
    args: (r) => [sample([2, 3], any, r), sample([2, 1], any, r)],
    params: { axis: 1 },
  },
  gather: {
    args: (r) => [sample([4, 3], any, r), ints([2, 2], 0, 4, r)],
    params: { axis: 0 },
    diff: [0],
  },
  scatterAdd: {
    args: (r) => [sample([3, 2, 2], any, r), ints([2, 2], 0, 4, r)],
    params: { axis: 1, shape: [3, 4] },
    diff: [0],
  },
  reduceSum: { args: (r) => [sample([2, 3, 4], any, r)], params: { axes: [0, 2] } },
  reduceMax: { args: (r) => [distinct([3, 4], r)], params: { axes: [1] } },
  reduceMin: { args: (r) => [distinct([3, 4], r)], params: { axes: [0, 1] } },
  argmax: { args: (r) => [distinct([3, 4], r)], params: { axes: [1] }, nonDiff: true },
  argmin: { args: (r) => [distinct([3, 4], r)], params: { axes: [0] }, nonDiff: true },
  cumsum: { args: (r) => [sample([3, 4], any, r)], params: { axis: 1, reverse: true } },
  // Both operands stored transposed (op(A) [2, 3, 4], op(B) [2, 4, 2]): the
  // rules of every flag combination run, as the JVP, VJP and vmap of this one.
  matmul: {
    args: (r) => [sample([2, 4, 3], any, r), sample([2, 2, 4], any, r)],
    params: { transposeA: true, transposeB: true },
  },
  // The matrix functions take stacks [..., n, n] natively: a stack of two
  // here, so that vmap's batch axis joins an existing stack dimension.
  solve: {
    noSpecials: true,
    args: (r) => [stackOf(2, () => wellConditioned(3, r)), sample([2, 3, 2], any, r)],
  },
  det: {
    noSpecials: true,
    args: (r) => [stackOf(2, () => wellConditioned(3, r))],
  },
  logAbsDet: {
    noSpecials: true,
    args: (r) => [stackOf(2, () => wellConditioned(3, r))],
  },
  detSign: {
    noSpecials: true,
    zeroDerivative: true,
    args: (r) => [stackOf(2, () => wellConditioned(3, r))],
  },
  triangularSolve: {
    noSpecials: true,
    args: (r) => [stackOf(2, () => wellConditioned(3, r)), sample([2, 3, 2], any, r)],
    params: { lower: true },
  },
  cholesky: {
    noSpecials: true,
    args: (r) => [stackOf(2, () => symmetricPositiveDefinite(3, r))],
  },
  // int32 bit operations: no derivative (only vmap and jit = eager are checked).
  bitwiseAnd: { args: (r) => [words(S, r), words(S, r)], nonDiff: true },
  bitwiseOr: { args: (r) => [words(S, r), words(S, r)], nonDiff: true },
  bitwiseXor: { args: (r) => [words(S, r), words(S, r)], nonDiff: true },
  bitwiseNot: { args: (r) => [words(S, r)], nonDiff: true },
  // shift amounts -2..34: inside and outside 0..31
  shiftLeft: { args: (r) => [words(S, r), ints(S, -2, 35, r)], nonDiff: true },
  shiftRightLogical: { args: (r) => [words(S, r), ints(S, -2, 35, r)], nonDiff: true },
  shiftRightArithmetic: { args: (r) => [words(S, r), ints(S, -2, 35, r)], nonDiff: true },
  rotateLeft: { args: (r) => [words(S, r), ints(S, -40, 40, r)], nonDiff: true },
  // JS Math on every backend (for backend-independent random samplers)
  portableExp: { args: unaryOn(any) },
  portableLog: { args: unaryOn(uniform(0.3, 3)) },
  portableSin: { args: unaryOn(any) },
  portableCos: { args: unaryOn(any) },
} satisfies Record<PrimName, Spec>;
const SPEC_OF: ReadonlyMap<string, Spec> = new Map(Object.entries(SPECS));

/** IEEE special values and a few finite ones: where jit and eager must agree bit for bit. */
const SPECIALS = [0, -0, Infinity, -Infinity, NaN, 1, -1, 0.5, -2.5, 3];

/**
 * The sample operands with every float entry replaced by SPECIALS in turn
 * (shapes, ints and bools kept): for primitives that are not elementwise.
 */
function specialsInPlace(args: readonly ConcreteArray[]): ConcreteArray[] | null {
  if (!args.some((a) => a.dtype === "float64" || a.dtype === "float32")) return null;
  let k = 0;
  return args.map((a) => {
    if (a.dtype !== "float64" && a.dtype !== "float32") return a;
    const out = ConcreteArray.zeros([...a.shape], a.dtype);
    for (let i = 0; i < out.size; i++) out.buffer[i] = SPECIALS[(k++ * 3) % SPECIALS.length]!;
    return out;
  });
}

/**
 * Operand lists of special values for an elementwise primitive, shaped like
 * its spec's sample operands: every combination of SPECIALS across its float
 * operands (one array per operand); bool operands alternate; int operands
 * are left out (null: no specials to try).
 */
function specialOperands(args: readonly ConcreteArray[]): ConcreteArray[] | null {
  if (!args.some((a) => a.dtype === "float64" || a.dtype === "float32")) return null;
  const floats = args.filter((a) => a.dtype === "float64" || a.dtype === "float32").length;
  const n = SPECIALS.length ** floats;
  let k = 0;
  return args.map((a) => {
    if (a.dtype === "bool")
      return new ConcreteArray(
        [n],
        "bool",
        Uint8Array.from({ length: n }, (_, i) => i % 2),
      );
    if (a.dtype === "int32") throw new Error("int operand");
    const stride = SPECIALS.length ** k++;
    const buf = a.dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) buf[i] = SPECIALS[Math.floor(i / stride) % SPECIALS.length]!;
    return new ConcreteArray([n], a.dtype, buf);
  });
}

/** Bit-for-bit equality of two results (Object.is per element; NaN matches NaN). */
function expectSameBits(actual: number[], expected: number[], what: string, inputs: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) {
      expect.fail(`${what}: element ${i} (inputs ${inputs}): jit ${a}, eager ${e}`);
    }
  });
}

// -------------------------------------------------------------- checks --

const NO_PARAMS = {};

function diffIndices(spec: Spec, args: ConcreteArray[]): number[] {
  return (
    spec.diff ??
    args
      .map((a, i) => (a.dtype === "float64" || a.dtype === "float32" ? i : -1))
      .filter((i) => i >= 0)
  );
}

/** f as a function of the differentiated operands only. */
function restricted(prim: Primitive, spec: Spec, args: ConcreteArray[], diff: number[]) {
  return (...d: NdArray[]): NdArray => {
    const full: NdArray[] = args.slice();
    diff.forEach((k, i) => (full[k] = d[i]!));
    return bind(prim, full, spec.params ?? NO_PARAMS);
  };
}

function shifted(xs: NdArray[], vs: NdArray[], eps: number): NdArray[] {
  return xs.map((x, i) => np.add(x, np.multiply(vs[i]!, eps)).astype(x.dtype));
}

/** Primitives whose eager wasm kernels are the Wasm math, not JS Math. */
const WASM_MATH = new Set(["exp", "log", "sin", "cos"]);

describe("definePrimitive", () => {
  it("refuses a name that is not a plain identifier (names reach generated code), registering nothing", () => {
    const before = registeredPrimitives().length;
    const declare = () =>
      definePrimitive({
        name: "log-gamma",
        linear: false,
        abstractEval: ([x]) => x!,
        impl: ([x]) => x!,
        jvp: () => null,
        batch: ([x], [d]) => [x!, d!],
      });
    expect(declare).toThrow(InvalidArgumentError);
    expect(declare).toThrow(/definePrimitive: the name "log-gamma" is not a plain identifier/);
    expect(registeredPrimitives().length).toBe(before);
  });
});

describe.each(["js", "wasm"])("conformance of every registered primitive on %s", (backendName) => {
  useBackendAtAllSizes(backendName);

  it("has a conformance entry for each primitive", () => {
    const names = registeredPrimitives().map((p) => p.name);
    expect(names.filter((n) => !SPEC_OF.has(n))).toEqual([]);
    // and no entry for a primitive that does not exist (a misspelt union member)
    expect([...SPEC_OF.keys()].filter((n) => !names.includes(n))).toEqual([]);
  });

  for (const prim of registeredPrimitives()) {
    const spec = SPEC_OF.get(prim.name);
    if (spec === undefined) continue;
    describe(prim.name, () => {
      const r = rng(prim.name.split("").reduce((h, c) => h * 31 + c.charCodeAt(0), 7) >>> 0);
      const args = spec.args(r);
      const diff = diffIndices(spec, args);
      const f = restricted(prim, spec, args, diff);
      const xs = diff.map((k) => args[k]!);
      const eps = spec.eps ?? 1e-6;
      const tol = spec.tol ?? 1e-6;

      if (!spec.nonDiff) {
        const vs = xs.map((x) => sample([...x.shape], uniform(-1, 1), r, x.dtype));
        const out = f(...xs);
        const u = sample([...out.shape], uniform(-1, 1), r, out.dtype);
        const jvpAt = (...p: NdArray[]): NdArray => jvp(f, p, vs)[1] as NdArray;

        it("JVP matches central finite differences", () => {
          const tangent = nums(jvpAt(...xs));
          const fd = spec.zeroDerivative
            ? tangent.map(() => 0)
            : nums(
                np.divide(
                  np.subtract(f(...shifted(xs, vs, eps)), f(...shifted(xs, vs, -eps))),
                  2 * eps,
                ),
              );
          expectClose(tangent, fd, tol, tol, `${prim.name} jvp`);
        });

        it("satisfies <u, J v> = <J^T u, v> (VJP against JVP)", () => {
          const [, pullback] = vjp(f, ...xs);
          const cts = pullback(u) as NdArray[];
          const lhs = dotAll([u], [jvpAt(...xs)]);
          const rhs = dotAll(cts, vs);
          expectClose(
            [rhs],
            [lhs],
            spec.tol ?? 1e-10,
            spec.tol ?? 1e-10,
            `${prim.name} transposition`,
          );
        });

        it("second derivatives match finite differences of the JVP", () => {
          // g(x) = <u, J(x) v>; its derivative along w by forward-over-forward,
          // reverse-over-forward, and central differences of g.
          const ws = xs.map((x) => sample([...x.shape], uniform(-1, 1), r, x.dtype));
          const g = (...p: NdArray[]): NdArray => np.sum(np.multiply(jvpAt(...p), u));
          const fwd = (jvp(g, xs, ws)[1] as NdArray).item();
          const rev = dotAll(grad(g, { argnums: xs.map((_, i) => i) })(...xs) as NdArray[], ws);
          const e2 = 1e-5;
          const fd = spec.zeroDerivative
            ? 0
            : (g(...shifted(xs, ws, e2)).item() - g(...shifted(xs, ws, -e2)).item()) / (2 * e2);
          expectClose([fwd], [fd], 1e-5, 1e-5, `${prim.name} forward-over-forward`);
          expectClose([rev], [fwd], 1e-9, 1e-9, `${prim.name} reverse-over-forward`);
        });

        it("jacfwd equals jacrev", () => {
          const argnums = xs.map((_, i) => i);
          const jf = jacfwd(f, { argnums })(...xs) as NdArray[];
          const jr = jacrev(f, { argnums })(...xs) as NdArray[];
          jf.forEach((j, i) => {
            expect(j.shape).toEqual([...out.shape, ...xs[i]!.shape]);
            expectClose(nums(jr[i]!), nums(j), 1e-12, 1e-12, `${prim.name} jacfwd vs jacrev`);
          });
        });
      }

      it("jit matches eager evaluation", () => {
        const all = (...a: NdArray[]): NdArray => bind(prim, a, spec.params ?? NO_PARAMS);
        // Exact, except that eager exp/log/sin/cos on wasm run the Wasm math
        // kernels (within 2 ulp of JS Math) where jit's small loops call Math.
        const ulp = args[0]?.dtype === "float32" ? 2 ** -23 : 2 ** -52;
        const rtol = backendName === "wasm" && WASM_MATH.has(prim.name) ? 2 * ulp : 0;
        expectClose(
          nums(jit(all)(...args) as NdArray),
          nums(all(...args)),
          rtol,
          0,
          `${prim.name} jit`,
        );
      });

      const specials =
        spec.noSpecials === true
          ? null
          : prim.elementwise === undefined
            ? specialsInPlace(args)
            : specialOperands(args);
      if (specials !== null) {
        it("jit matches eager bit for bit on ±0, ±inf and NaN (arrays and 0-d values)", () => {
          const all = (...a: NdArray[]): NdArray => bind(prim, a, spec.params ?? NO_PARAMS);
          // Eager exp/log/sin/cos on wasm are the Wasm math kernels; their
          // finite results may differ from Math in the last bits, so there only
          // the specials' results (all finite inputs dropped) are compared.
          const approx = backendName === "wasm" && WASM_MATH.has(prim.name);
          const got = nums(jit(all)(...specials) as NdArray);
          const want = nums(all(...specials));
          const label = (i: number) => specials.map((a) => a.buffer[i]).join(", ");
          const keep = (i: number) =>
            !approx || specials.some((a) => !Number.isFinite(a.buffer[i]!) || a.buffer[i] === 0);
          const idx = got.map((_, i) => i).filter(keep);
          expectSameBits(
            idx.map((i) => got[i]!),
            idx.map((i) => want[i]!),
            `${prim.name} jit (array)`,
            "see index",
          );
          const jitted = jit(all);
          if (prim.elementwise === undefined) return; // 0-d cases: elementwise only
          for (const i of idx) {
            const scalars = specials.map((a) => ConcreteArray.scalar(a.buffer[i]!, a.dtype));
            expectSameBits(
              nums(jitted(...scalars) as NdArray),
              nums(all(...scalars)),
              `${prim.name} jit (0-d)`,
              label(i),
            );
          }
        });
      }

      it("vmap matches a loop over the batch", () => {
        const B = 3;
        const batches = Array.from({ length: B }, () => spec.args(r));
        // Batch axis per operand: in front, at the back, or unbatched (operand 0 always batched).
        for (const layout of ["front", "back", "mixed"] as const) {
          const axes = args.map((a, i) => {
            if (layout === "mixed" && i % 2 === 1) return null;
            return layout === "back" ? a.ndim : 0;
          });
          const batched = args.map((_, i) => {
            const ax = axes[i];
            if (ax === null || ax === undefined) return batches[0]![i]!;
            return np.stack(
              batches.map((b) => b[i]!),
              ax,
            );
          });
          const out = vmap((...a: NdArray[]) => bind(prim, a, spec.params ?? NO_PARAMS), {
            inAxes: axes,
          })(...batched) as NdArray;
          const loop = np.stack(
            batches.map((b) =>
              bind(
                prim,
                b.map((x, i) => (axes[i] === null ? batches[0]![i]! : x)),
                spec.params ?? NO_PARAMS,
              ),
            ),
            0,
          );
          expect(out.shape, `${prim.name} vmap ${layout}`).toEqual(loop.shape);
          expectClose(nums(out), nums(loop), 1e-12, 1e-12, `${prim.name} vmap ${layout}`);
        }
      });
    });
  }
});
