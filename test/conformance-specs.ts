/**
 * The conformance suite's table: for every registered primitive, how to
 * draw sample operands inside its domain (and its parameters, which
 * operands are differentiated, tolerances). Shared by the registry suite
 * (test/conformance.test.ts, js and wasm) and the webgpu page
 * (test/webgpu-page.ts), which evaluates the same entries on webgpu.
 * SPECS is typed by primitive name (PrimName): an entry missing or misspelt
 * fails tsc. No test framework imports here (the page is bundled for a browser).
 */
import { ConcreteArray } from "../src/core/array.js";
import type { DType } from "../src/core/dtype.js";
import { np } from "../src/index.js";
import { lgamma } from "../src/primitives/special.js";
// ------------------------------------------------------------- helpers --

export type Sampler = (rand: () => number) => number;
export const uniform =
  (lo: number, hi: number): Sampler =>
  (r) =>
    lo + (hi - lo) * r();
/** Values at distance >= 0.2 from zero, either sign. */
export const awayFromZero: Sampler = (r) => (r() < 0.5 ? -1 : 1) * (0.2 + 1.3 * r());
/** k + 0.25..0.75: away from integer jumps. */
const awayFromIntegers: Sampler = (r) => Math.floor(-3 + 6 * r()) + 0.25 + 0.5 * r();

export function sample(
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
export function ints(shape: number[], lo: number, hi: number, r: () => number): ConcreteArray {
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
export function bools(shape: number[], r: () => number): ConcreteArray {
  const x = ConcreteArray.zeros(shape, "bool");
  for (let i = 0; i < x.size; i++) x.buffer[i] = r() < 0.5 ? 1 : 0;
  return x;
}

// ---------------------------------------------------------------- specs --

export interface Spec {
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

export const S = [2, 3];
const unaryOn =
  (sampler: Sampler): Spec["args"] =>
  (r) => [sample(S, sampler, r)];
const binaryOn =
  (sa: Sampler, sb: Sampler): Spec["args"] =>
  (r) => [sample(S, sa, r), sample(S, sb, r)];
export const any = uniform(-2, 2);
/** (a, b) with b in [0.5, 2] and a = b * q, q away from the integers (rem, fmod, floorDivide). */
const quotientAwayFromIntegers: Spec["args"] = (r) => {
  const b = sample(S, uniform(0.5, 2), r);
  const q = sample(S, awayFromIntegers, r);
  const a = ConcreteArray.zeros(S, "float64");
  for (let i = 0; i < a.size; i++) a.buffer[i] = b.buffer[i]! * q.buffer[i]!;
  return [a, b];
};

/** Every registered primitive, by name: adding a primitive adds its name here and its entry below. */
export type PrimName =
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
  | "incompleteGammaInv"
  | "incompleteBetaInv"
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

export const SPECS = {
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
  // (a, p, lgamma(a), upper 0 or 1): the derivative in p only
  incompleteGammaInv: {
    args: (r) => {
      const a = sample(S, uniform(0.5, 5), r);
      return [
        a,
        sample(S, uniform(0.05, 0.95), r),
        lgamma(a) as ConcreteArray,
        sample(S, (q) => (q() < 0.5 ? 0 : 1), r),
      ];
    },
    diff: [1],
  },
  // (a, b, p, log B(a, b), upper 0 or 1): the derivative in p only
  incompleteBetaInv: {
    args: (r) => {
      const a = sample(S, uniform(0.5, 4), r);
      const b = sample(S, uniform(0.5, 4), r);
      const lb = np.subtract(np.add(lgamma(a), lgamma(b)), lgamma(np.add(a, b))) as ConcreteArray;
      const upper = sample(S, (q) => (q() < 0.5 ? 0 : 1), r);
      return [a, b, sample(S, uniform(0.05, 0.95), r), lb, upper];
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
  // a = b * q with q away from the integers: away from the jumps of floor(a / b) and trunc(a / b)
  rem: { args: quotientAwayFromIntegers },
  fmod: { args: quotientAwayFromIntegers },
  floorDivide: { args: quotientAwayFromIntegers },
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
export const SPEC_OF: ReadonlyMap<string, Spec> = new Map(Object.entries(SPECS));
