/**
 * Elementwise primitives: unary math, binary arithmetic, comparisons, select
 * and dtype conversion. Operands have equal shapes and dtypes (the np layer
 * broadcasts and promotes). Each rule's derivative is written above it.
 *
 * Each declaration carries its `elementwise` rule (core/primitive.ts): the
 * meaning on one number, the JS expression the jit fuses, the Wasm vector
 * form if any, and commutativity; the linear ones also their mask rule and
 * the exact algebraic rewrites the simplifier may apply. Nothing outside
 * this file lists these primitives (see docs/design.md, "Adding a primitive").
 */
import type { Array, Aval } from "../core/array.js";
import { type DType, castScalar, isFloat } from "../core/dtype.js";
import { DTypeError, InvalidArgumentError, fmtShape } from "../core/errors.js";
import {
  definePrimitive,
  type ElementwiseRule,
  elementScalar,
  type PrimitiveDef,
  type ScalarJvpRule,
  type ScalarTangentTape,
  type SelectedCotangentRule,
  type Tangent,
  UndefPrimal,
  type VectorOp,
} from "../core/primitive.js";
import { bind, derivativeBarriersKept } from "../core/trace.js";
import { backend } from "../backends/index.js";
import { ConcreteArray } from "../core/array.js";
import { fullLike, sameShapeDtype } from "./operands.js";
import { elementwiseBatch } from "./movement.js";

type NoParams = Record<string, never>;

/** A 0-d result, rounded to its dtype. */
function scalarOf(value: number, dtype: DType): ConcreteArray {
  return ConcreteArray.scalar(dtype === "float64" ? value : castScalar(value, dtype), dtype);
}
const NO_PARAMS: NoParams = {};

function requireFloat(name: string, aval: Aval): void {
  if (!isFloat(aval.dtype)) {
    throw new DTypeError(
      `${name}: expected a float array, got dtype ${aval.dtype}; convert with x.astype("float64")`,
    );
  }
}

// The rules a traced operation runs (abstractEval, impl, jvp, transpose,
// simplify) index their operand lists instead of destructuring them
// (`([x]) =>`): V8's interpreter and baseline code run a destructuring
// through the iterator protocol, an iterator and a result object per
// element, and a program's first jit runs these rules mostly unoptimised
// (docs/design.md, "The first jit call, round 5").

// ------------------------------------------------------ tangent algebra --

/** t1 + t2 with null as zero. */
export function tAdd(a: Tangent, b: Tangent): Tangent {
  if (a === null) return b;
  if (b === null) return a;
  return add(a, b);
}

/** t * c with null as zero. */
export function tMul(t: Tangent, c: Array): Tangent {
  return t === null ? null : mul(t, c);
}

/** -t with null as zero. */
export function tNeg(t: Tangent): Tangent {
  return t === null ? null : neg(t);
}

/*
 * The same algebra on the nodes of a scalar tape (see `jvpScalar` in
 * core/primitive.ts): -1 is a zero tangent. Each records what its
 * counterpart above records there, the tangent node first.
 */

/** tAdd on tape nodes. */
function sAdd(tape: ScalarTangentTape, a: number, b: number): number {
  if (a < 0) return b;
  if (b < 0) return a;
  return tape.nodes(addPrim, NO_PARAMS, a, b);
}

/** tMul on a tape node and a constant. */
function sMul(tape: ScalarTangentTape, t: number, c: number): number {
  return t < 0 ? -1 : tape.nodeConst(mulPrim, NO_PARAMS, t, c);
}

/** tNeg on a tape node. */
function sNeg(tape: ScalarTangentTape, t: number): number {
  return t < 0 ? -1 : tape.unary(negPrim, NO_PARAMS, t);
}

/** div(t, c) on a tape node and a constant. */
function sDiv(tape: ScalarTangentTape, t: number, c: number): number {
  return t < 0 ? -1 : tape.nodeConst(divPrim, NO_PARAMS, t, c);
}

/** A tangent as an array (zeros when symbolically zero). */
export function instantiate(t: Tangent, like: Aval): Array {
  return t === null ? fullLike(like, 0) : t;
}

// ---------------------------------------------------------------- unary --

/** A JS expression calling `fn` on the operands. */
const jsCall =
  (fn: string) =>
  (args: readonly string[]): string =>
    `${fn}(${args.join(", ")})`;

/** The Math function `name` (`scalar` itself) as a rule: its scalar, its JS call, its Wasm form if any. */
function math1(
  scalar: (x: number) => number,
  name: string,
  vector?: VectorOp,
): ElementwiseRule<NoParams> {
  const js = jsCall(`Math.${name}`);
  return vector === undefined ? { scalar, js } : { scalar, js, vector };
}

/**
 * `rule` run on webgpu (float32) as a call of `name`: a WGSL builtin, or a
 * function of the webgpu kernel library (backends/webgpu/kernels.ts
 * `WGSL_LIBRARY`); `int32Name`, when given, is the call for int32 results.
 */
function wgslBuiltin(
  rule: ElementwiseRule<NoParams>,
  name: string,
  int32Name?: string,
): ElementwiseRule<NoParams> {
  const call = (fn: string) => (args: readonly string[]) => `${fn}(${args.join(", ")})`;
  return int32Name === undefined
    ? { ...rule, wgsl: call(name) }
    : { ...rule, wgsl: call(name), wgslInt32: call(int32Name) };
}

/**
 * Declares a unary primitive from its elementwise rule. `tangent` gives the
 * derivative rule: d out = tangent(x, dx, out). `floatOnly` ops reject ints.
 */
export function unary(
  name: string,
  rule: ElementwiseRule<NoParams>,
  tangent: ((x: Array, dx: Array, out: Array) => Tangent) | "zero",
  opts: { floatOnly?: boolean; jvpScalar?: ScalarJvpRule } = {},
) {
  const scalar = rule.scalar;
  const int32Scalar = elementScalar(rule, "int32");
  const prim: PrimitiveDef<NoParams> = definePrimitive<NoParams>({
    name,
    linear: false,
    abstractEval(avals) {
      const x = avals[0]!;
      if (opts.floatOnly === true) requireFloat(name, x);
      return x;
    },
    impl(args) {
      const x = args[0]!;
      const dtype = x.dtype;
      if (x.shape.length === 0) {
        return scalarOf((dtype === "int32" ? int32Scalar : scalar)(x.scalarValue), dtype);
      }
      return new ConcreteArray(x.shape, dtype, backend().unary(rule, x.buffer, dtype));
    },
    jvp(primals, tangents, out) {
      const dx = tangents[0]!;
      return tangent === "zero" || dx === null ? null : tangent(primals[0]!, dx, out);
    },
    jvpScalar: opts.jvpScalar,
    batch: elementwiseBatch(([x]) => bind(prim, [x!], NO_PARAMS)),
    elementwise: rule,
  });
  return (x: Array): Array => bind(prim, [x], NO_PARAMS);
}

// d sin x = cos x dx
export const sin = unary("sin", math1(Math.sin, "sin", "sin"), (x, dx) => mul(dx, cos(x)), {
  floatOnly: true,
  jvpScalar: (tape, x, _y, tx) => sMul(tape, tx, Math.cos(x)),
});
// d cos x = -sin x dx
export const cos = unary("cos", math1(Math.cos, "cos", "cos"), (x, dx) => mul(dx, neg(sin(x))), {
  floatOnly: true,
  jvpScalar: (tape, x, _y, tx) => sMul(tape, tx, -Math.sin(x)),
});
// d tan x = (1 + tan^2 x) dx
export const tan = unary(
  "tan",
  wgslBuiltin(math1(Math.tan, "tan"), "tan"),
  (x, dx, out) => mul(dx, add(fullLike(x, 1), mul(out, out))),
  { floatOnly: true, jvpScalar: (tape, _x, _y, tx, _ty, out) => sMul(tape, tx, 1 + out * out) },
);
// d asin x = dx / sqrt(1 - x^2)
export const asin = unary(
  "asin",
  wgslBuiltin(math1(Math.asin, "asin"), "asin"),
  (x, dx) => div(dx, sqrt(sub(fullLike(x, 1), mul(x, x)))),
  { floatOnly: true, jvpScalar: (tape, x, _y, tx) => sDiv(tape, tx, Math.sqrt(1 - x * x)) },
);
// d acos x = -dx / sqrt(1 - x^2)
export const acos = unary(
  "acos",
  wgslBuiltin(math1(Math.acos, "acos"), "acos"),
  (x, dx) => div(dx, neg(sqrt(sub(fullLike(x, 1), mul(x, x))))),
  { floatOnly: true, jvpScalar: (tape, x, _y, tx) => sDiv(tape, tx, -Math.sqrt(1 - x * x)) },
);
// d atan x = dx / (1 + x^2)
export const atan = unary(
  "atan",
  wgslBuiltin(math1(Math.atan, "atan"), "atan"),
  (x, dx) => div(dx, add(fullLike(x, 1), mul(x, x))),
  { floatOnly: true, jvpScalar: (tape, x, _y, tx) => sDiv(tape, tx, 1 + x * x) },
);
// d sinh x = cosh x dx
export const sinh = unary(
  "sinh",
  wgslBuiltin(math1(Math.sinh, "sinh"), "sinh"),
  (x, dx) => mul(dx, cosh(x)),
  { floatOnly: true, jvpScalar: (tape, x, _y, tx) => sMul(tape, tx, Math.cosh(x)) },
);
// d cosh x = sinh x dx
export const cosh = unary(
  "cosh",
  wgslBuiltin(math1(Math.cosh, "cosh"), "cosh"),
  (x, dx) => mul(dx, sinh(x)),
  { floatOnly: true, jvpScalar: (tape, x, _y, tx) => sMul(tape, tx, Math.sinh(x)) },
);
// d tanh x = (1 - tanh^2 x) dx
export const tanh = unary(
  "tanh",
  wgslBuiltin(math1(Math.tanh, "tanh"), "tanh"),
  (x, dx, out) => mul(dx, sub(fullLike(x, 1), mul(out, out))),
  { floatOnly: true, jvpScalar: (tape, _x, _y, tx, _ty, out) => sMul(tape, tx, 1 - out * out) },
);
// d asinh x = dx / sqrt(x^2 + 1)
export const asinh = unary(
  "asinh",
  wgslBuiltin(math1(Math.asinh, "asinh"), "asinh"),
  (x, dx) => div(dx, sqrt(add(mul(x, x), fullLike(x, 1)))),
  { floatOnly: true, jvpScalar: (tape, x, _y, tx) => sDiv(tape, tx, Math.sqrt(x * x + 1)) },
);
// d acosh x = dx / sqrt(x^2 - 1)  (x > 1)
export const acosh = unary(
  "acosh",
  wgslBuiltin(math1(Math.acosh, "acosh"), "acosh"),
  (x, dx) => div(dx, sqrt(sub(mul(x, x), fullLike(x, 1)))),
  { floatOnly: true, jvpScalar: (tape, x, _y, tx) => sDiv(tape, tx, Math.sqrt(x * x - 1)) },
);
// d atanh x = dx / (1 - x^2)
export const atanh = unary(
  "atanh",
  wgslBuiltin(math1(Math.atanh, "atanh"), "atanh"),
  (x, dx) => div(dx, sub(fullLike(x, 1), mul(x, x))),
  { floatOnly: true, jvpScalar: (tape, x, _y, tx) => sDiv(tape, tx, 1 - x * x) },
);
// d log2 x = dx / (x ln 2)
export const log2 = unary(
  "log2",
  wgslBuiltin(math1(Math.log2, "log2"), "log2"),
  (x, dx) => div(dx, mul(x, fullLike(x, Math.LN2))),
  { floatOnly: true, jvpScalar: (tape, x, _y, tx) => sDiv(tape, tx, x * Math.LN2) },
);
// d log10 x = dx / (x ln 10)
export const log10 = unary(
  "log10",
  // WGSL has no log10: log2(x) log10(2)
  { ...math1(Math.log10, "log10"), wgsl: ([a]) => `(log2(${a}) * 0.30102999566)` },
  (x, dx) => div(dx, mul(x, fullLike(x, Math.LN10))),
  { floatOnly: true, jvpScalar: (tape, x, _y, tx) => sDiv(tape, tx, x * Math.LN10) },
);
// d exp x = exp x dx
export const exp = unary("exp", math1(Math.exp, "exp", "exp"), (_x, dx, out) => mul(dx, out), {
  floatOnly: true,
  jvpScalar: (tape, _x, _y, tx, _ty, out) => sMul(tape, tx, out),
});
// d log x = dx / x
export const log = unary("log", math1(Math.log, "log", "log"), (x, dx) => div(dx, x), {
  floatOnly: true,
  jvpScalar: (tape, x, _y, tx) => sDiv(tape, tx, x),
});
// d log1p x = dx / (1 + x)
export const log1p = unary(
  "log1p",
  wgslBuiltin(math1(Math.log1p, "log1p"), "jsLog1p"),
  (x, dx) => div(dx, add(fullLike(x, 1), x)),
  { floatOnly: true, jvpScalar: (tape, x, _y, tx) => sDiv(tape, tx, 1 + x) },
);
// d expm1 x = (expm1 x + 1) dx
export const expm1 = unary(
  "expm1",
  wgslBuiltin(math1(Math.expm1, "expm1"), "jsExpm1"),
  (x, dx, out) => mul(dx, add(out, fullLike(x, 1))),
  { floatOnly: true, jvpScalar: (tape, _x, _y, tx, _ty, out) => sMul(tape, tx, out + 1) },
);
// d sqrt x = dx / (2 sqrt x)
export const sqrt = unary(
  "sqrt",
  { scalar: Math.sqrt, js: jsCall("Math.sqrt"), vector: "sqrt" },
  (x, dx, out) => div(dx, mul(fullLike(x, 2), out)),
  { floatOnly: true, jvpScalar: (tape, _x, _y, tx, _ty, out) => sDiv(tape, tx, 2 * out) },
);
// d |x| = sign(x) dx
export const abs = unary(
  "abs",
  { scalar: Math.abs, js: jsCall("Math.abs"), vector: "abs" },
  (x, dx) => mul(dx, sign(x)),
);
// sign, floor, ceil and round are piecewise constant: zero derivative.
export const sign = unary(
  "sign",
  {
    // sign(±0) = ±0 and sign(NaN) = NaN, as NumPy
    scalar: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
    js: ([a]) => `(${a} > 0 ? 1 : ${a} < 0 ? -1 : ${a})`,
    wgsl: ([a]) => `select(select(${a}, -1.0, ${a} < 0.0), 1.0, ${a} > 0.0)`,
    wgslInt32: ([a]) => `select(select(${a}, -1, ${a} < 0), 1, ${a} > 0)`,
  },
  "zero",
);
export const floor = unary("floor", wgslBuiltin(math1(Math.floor, "floor"), "floor"), "zero");
export const ceil = unary("ceil", wgslBuiltin(math1(Math.ceil, "ceil"), "ceil"), "zero");
/** NumPy rounds halves to even (self-contained: the jit and emitSource call its source). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
// WGSL's round() rounds halves to even too.
export const round = unary("round", wgslBuiltin({ scalar: roundHalfEven }, "round"), "zero");

/**
 * erf x = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, in float64 within 8 ulp
 * (at most 7 measured by test/erf.test.ts against a 200-digit reference:
 * the rounding of exp and of the four products; a polynomial fit would do
 * better, this keeps the maths visible).
 * Self-contained (its source is what compiled code calls). Odd, so it works
 * on |x|:
 *   |x| < 2.5: erf x = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1 3 5 ... (2n+1)),
 *            a series of positive terms (no cancellation), each term the
 *            previous times 2x^2/(2n+1), summed nested from its tail;
 *   2.5 <= |x| < 6: erf x = 1 - erfc x with the continued fraction
 *            erfc x = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
 *            evaluated from depth 100 backwards (converged to double precision from 2.5 on);
 *   |x| >= 6: erfc x < 2e-17, below half an ulp of 1, so erf x = ±1.
 * NaN gives NaN; erf(±0) = ±0.
 */
function erfScalar(x: number): number {
  const a = Math.abs(x);
  if (!(a < 6)) return Number.isNaN(x) ? x : x > 0 ? 1 : -1;
  let result: number;
  if (a < 2.5) {
    const x2 = a * a;
    // the series nested from its tail: 1 + r1 (1 + r2 (1 + ...)), r_n = 2x^2/(2n+1);
    // each level's rounding shrinks on the way out (no error compounding).
    // Depth 60: at |x| < 2.5 the terms left out are below 1e-17 of the sum.
    let nested = 1;
    for (let n = 60; n >= 1; n--) nested = 1 + (nested * (2 * x2)) / (2 * n + 1);
    const sum = a * nested;
    // exp(-x^2) with x^2 = x2 + lo exactly (Veltkamp's split of a into
    // 26-bit halves): exp(-x2 - lo) = exp(-x2) (1 - lo), so the rounding of
    // x^2 (up to 9 ulp of exp's argument near |x| = 3) does not reach the result.
    const split = 134217729 * a; // 2^27 + 1
    const ah = split - (split - a);
    const al = a - ah;
    const lo = ah * ah - x2 + 2 * ah * al + al * al;
    result = 1.1283791670955126 * Math.exp(-x2) * (1 - lo) * sum; // 2 / sqrt(pi)
  } else {
    let fraction = a;
    for (let k = 100; k >= 1; k--) fraction = a + k / 2 / fraction;
    result = 1 - (0.5641895835477563 * Math.exp(-a * a)) / fraction; // 1 / sqrt(pi)
  }
  return x < 0 ? -result : x === 0 ? x : result;
}
/** The error function, elementwise on float arrays (np.erf is the public entry point). */
// d erf x = 2/sqrt(pi) exp(-x^2) dx
export const erf = unary(
  "erf",
  wgslBuiltin({ scalar: erfScalar }, "jsErf"),
  (x, dx) => mul(dx, mul(fullLike(x, 2 / Math.sqrt(Math.PI)), exp(neg(mul(x, x))))),
  { floatOnly: true },
);

/** Logical not of a bool array. */
export const logicalNot = (() => {
  const rule: ElementwiseRule<NoParams> = {
    scalar: (x) => (x ? 0 : 1),
    js: ([a]) => `(${a} ? 0 : 1)`,
    vector: "not",
  };
  const prim: PrimitiveDef<NoParams> = definePrimitive<NoParams>({
    name: "not",
    linear: false,
    abstractEval([x]) {
      if (x!.dtype !== "bool") {
        throw new DTypeError(`logicalNot: expected a bool array, got dtype ${x!.dtype}`);
      }
      return x!;
    },
    impl([x]) {
      return new ConcreteArray(x!.shape, "bool", backend().unary(rule, x!.buffer, "bool"));
    },
    jvp: () => null,
    batch: elementwiseBatch(([x]) => bind(prim, [x!], NO_PARAMS)),
    elementwise: rule,
  });
  return (x: Array): Array => bind(prim, [x], NO_PARAMS);
})();

const negRule: ElementwiseRule<NoParams> = {
  scalar: (x) => -x,
  js: ([a]) => `(-${a})`,
  vector: "neg",
};
/** -x; linear: its transpose is -ct. */
const negPrim: PrimitiveDef<NoParams> = definePrimitive<NoParams>({
  name: "neg",
  linear: true,
  abstractEval(avals) {
    const x = avals[0]!;
    if (x.dtype === "bool") throw new DTypeError(`negative: bool arrays cannot be negated`);
    return x;
  },
  impl(args) {
    const x = args[0]!;
    if (x.shape.length === 0) return scalarOf(-x.scalarValue, x.dtype);
    return new ConcreteArray(x.shape, x.dtype, backend().unary(negRule, x.buffer, x.dtype));
  },
  // d(-x) = -dx
  jvp: (_p, tangents) => tNeg(tangents[0]!),
  jvpScalar: (tape, _x, _y, tx) => sNeg(tape, tx),
  transpose: (ct) => [neg(ct)],
  transposeScalar: (ct) => -ct,
  batch: elementwiseBatch(([x]) => neg(x!)),
  elementwise: negRule,
  maskRule: "pass",
  // -(-x) = x exactly
  simplify(q) {
    const p = q.producer(q.inputs[0]!);
    return p !== undefined && p.prim === negPrim && q.fits(p.inputs[0]) ? p.inputs[0] : null;
  },
});
export function neg(x: Array): Array {
  return bind(negPrim, [x], NO_PARAMS);
}

// --------------------------------------------------------------- binary --

function binaryImpl(rule: ElementwiseRule<NoParams>, outDtype?: DType) {
  // 0-d operands are computed here directly (hot in scalar programs run eagerly).
  const scalar = rule.scalar;
  const int32Scalar = elementScalar(rule, "int32");
  return (args: readonly ConcreteArray[]): ConcreteArray => {
    const a = args[0]!;
    const b = args[1]!;
    const dtype = outDtype ?? a.dtype;
    if (a.shape.length === 0) {
      const f = dtype === "int32" ? int32Scalar : scalar;
      return scalarOf(f(a.scalarValue, b.scalarValue), dtype);
    }
    return new ConcreteArray(a.shape, dtype, backend().binary(rule, a.buffer, b.buffer, dtype));
  };
}

function nonBoolArith(name: string, avals: readonly Aval[]): Aval {
  const aval = sameShapeDtype(name, avals);
  if (aval.dtype === "bool") {
    throw new DTypeError(
      `${name}: arithmetic on bool arrays is not supported; convert with x.astype("int32")`,
    );
  }
  return aval;
}

/**
 * Which input of a product is the linear (unknown) value, 0 or 1; the other
 * is `args[1 - i]`. (An index, not a pair: every product's transpose runs this.)
 */
function linearIndex(name: string, args: readonly (Array | UndefPrimal)[]): 0 | 1 {
  const aLinear = args[0] instanceof UndefPrimal;
  const bLinear = args[1] instanceof UndefPrimal;
  if (aLinear && !bLinear) return 0;
  if (bLinear && !aLinear) return 1;
  throw new Error(`${name}: transpose needs exactly one linear operand`);
}

/** The constant operand of a product's scalar transpose (both linear is an internal error). */
function constantOperand(name: string, other: number | null): number {
  if (other === null) throw new Error(`${name}: transpose needs exactly one linear operand`);
  return other;
}

/** The infix operator `op` as a JS expression. */
const infix =
  (op: string) =>
  ([a, b]: readonly string[]): string =>
    `(${a} ${op} ${b})`;

/**
 * Whether input i holds an additive identity that leaves every value bit for
 * bit unchanged: for floats x + (-0) = x but x + (+0) turns -0 into +0;
 * x - (+0) = x but x - (-0) does the same. Integers have one zero.
 */
function exactZero(u: number | undefined, signed: "+0" | "-0", dtype: DType): boolean {
  if (u !== 0) return false;
  return dtype === "int32" || Object.is(u, signed === "+0" ? 0 : -0);
}

const addRule: ElementwiseRule<NoParams> = {
  scalar: (a, b) => a + b,
  js: infix("+"),
  vector: "add",
  commutative: true,
};
const addPrim = definePrimitive<NoParams>({
  name: "add",
  linear: true,
  abstractEval: (avals) => nonBoolArith("add", avals),
  impl: binaryImpl(addRule),
  // d(a + b) = da + db
  jvp: (_p, tangents) => tAdd(tangents[0]!, tangents[1]!),
  jvpScalar: (tape, _a, _b, ta, tb) => sAdd(tape, ta, tb),
  transpose: (ct, args) => [
    args[0] instanceof UndefPrimal ? ct : null,
    args[1] instanceof UndefPrimal ? ct : null,
  ],
  transposeScalar: (ct) => ct,
  batch: elementwiseBatch(([a, b]) => add(a!, b!)),
  elementwise: addRule,
  maskRule: "pass",
  // x + (-0) = (-0) + x = x (not x + (+0): -0 + 0 = +0)
  simplify(q) {
    const a = q.inputs[0];
    const b = q.inputs[1];
    if (exactZero(q.uniform(1), "-0", q.outDtype) && q.fits(a)) return a;
    if (exactZero(q.uniform(0), "-0", q.outDtype) && q.fits(b)) return b;
    return null;
  },
});
export function add(a: Array, b: Array): Array {
  return bind(addPrim, [a, b], NO_PARAMS);
}

const subRule: ElementwiseRule<NoParams> = {
  scalar: (a, b) => a - b,
  js: infix("-"),
  vector: "sub",
};
const subPrim = definePrimitive<NoParams>({
  name: "sub",
  linear: true,
  abstractEval: (avals) => nonBoolArith("subtract", avals),
  impl: binaryImpl(subRule),
  // d(a - b) = da - db
  jvp: (_p, tangents) => tAdd(tangents[0]!, tNeg(tangents[1]!)),
  jvpScalar: (tape, _a, _b, ta, tb) => sAdd(tape, ta, sNeg(tape, tb)),
  transpose: (ct, args) => [
    args[0] instanceof UndefPrimal ? ct : null,
    args[1] instanceof UndefPrimal ? neg(ct) : null,
  ],
  transposeScalar: (ct, i) => (i === 0 ? ct : -ct),
  batch: elementwiseBatch(([a, b]) => sub(a!, b!)),
  elementwise: subRule,
  maskRule: "pass",
  // x - (+0) = x (not x - (-0): -0 - (-0) = +0)
  simplify(q) {
    const a = q.inputs[0];
    return exactZero(q.uniform(1), "+0", q.outDtype) && q.fits(a) ? a : null;
  },
});
export function sub(a: Array, b: Array): Array {
  return bind(subPrim, [a, b], NO_PARAMS);
}

/** a * b wrapped to int32 (NumPy's int32): the low 32 bits of the exact product. */
const int32Product = (a: number, b: number): number => Math.imul(a, b);

const mulRule: ElementwiseRule<NoParams> = {
  scalar: (a, b) => a * b,
  js: infix("*"),
  int32: { scalar: int32Product, js: jsCall("Math.imul") },
  vector: "mul",
  commutative: true,
};
const mulPrim = definePrimitive<NoParams>({
  name: "mul",
  linear: true, // in each operand separately
  abstractEval: (avals) => nonBoolArith("multiply", avals),
  impl: binaryImpl(mulRule),
  // d(a b) = da b + a db
  jvp: (primals, tangents) =>
    tAdd(tMul(tangents[0]!, primals[1]!), tMul(tangents[1]!, primals[0]!)),
  jvpScalar: (tape, a, b, ta, tb) => sAdd(tape, sMul(tape, ta, b), sMul(tape, tb, a)),
  transpose(ct, args) {
    const i = linearIndex("mul", args);
    const g = mul(ct, args[1 - i] as Array);
    return i === 0 ? [g, null] : [null, g];
  },
  transposeScalar: (ct, _i, other) => ct * constantOperand("mul", other),
  batch: elementwiseBatch(([a, b]) => mul(a!, b!)),
  elementwise: mulRule,
  maskRule: "rezero",
  // x * 1 = 1 * x = x exactly. (x * 0 is NOT folded: inf * 0 and NaN * 0 are
  // NaN and -1 * 0 is -0; symbolic-zero tangents never reach a product.)
  simplify(q) {
    const a = q.inputs[0];
    const b = q.inputs[1];
    if (q.uniform(1) === 1 && q.fits(a)) return a;
    if (q.uniform(0) === 1 && q.fits(b)) return b;
    return null;
  },
});
export function mul(a: Array, b: Array): Array {
  return bind(mulPrim, [a, b], NO_PARAMS);
}

const divRule: ElementwiseRule<NoParams> = {
  scalar: (a, b) => a / b,
  js: infix("/"),
  vector: "div",
  // int32 division on webgpu: (a / b) | 0 (the vector form divides floats only)
  wgslInt32: ([a, b]) => `jsDivI32(${a}, ${b})`,
};
const divPrim = definePrimitive<NoParams>({
  name: "div",
  linear: true, // in the numerator
  abstractEval: (avals) => nonBoolArith("divide", avals),
  impl: binaryImpl(divRule),
  // d(a / b) = (da - (a / b) db) / b
  jvp: (primals, tangents, out) => {
    const num = tAdd(tangents[0]!, tNeg(tMul(tangents[1]!, out)));
    return num === null ? null : div(num, primals[1]!);
  },
  jvpScalar: (tape, _a, b, ta, tb, out) =>
    sDiv(tape, sAdd(tape, ta, sNeg(tape, sMul(tape, tb, out))), b),
  transpose(ct, args) {
    const a = args[0];
    const b = args[1];
    if (!(a instanceof UndefPrimal) || b instanceof UndefPrimal) {
      throw new Error("div: transpose is linear in the numerator only");
    }
    return [div(ct, b!), null];
  },
  transposeScalar: (ct, i, other) => {
    if (i !== 0) throw new Error("div: transpose is linear in the numerator only");
    return ct / constantOperand("div", other);
  },
  batch: elementwiseBatch(([a, b]) => div(a!, b!)),
  elementwise: divRule,
  maskRule: "rezero",
  // x / 1 = x exactly
  simplify(q) {
    const a = q.inputs[0];
    return q.uniform(1) === 1 && q.fits(a) ? a : null;
  },
});
export function div(a: Array, b: Array): Array {
  return bind(divPrim, [a, b], NO_PARAMS);
}

/**
 * Declares a non-linear binary primitive. `tangent(a, b, da, db, out)` gets
 * zero tangents instantiated only when `instantiateZeros` is set.
 */
export function binary(
  name: string,
  rule: ElementwiseRule<NoParams>,
  tangent: (a: Array, b: Array, da: Tangent, db: Tangent, out: Array) => Tangent,
  opts: {
    floatOnly?: boolean;
    check?: (a: ConcreteArray, b: ConcreteArray) => void;
    selectsTangents?: boolean;
    selectedCotangent?: SelectedCotangentRule;
  } = {},
) {
  const impl = binaryImpl(rule);
  const prim: PrimitiveDef<NoParams> = definePrimitive<NoParams>({
    name,
    linear: false,
    abstractEval(avals) {
      const aval = nonBoolArith(name, avals);
      if (opts.floatOnly === true) requireFloat(name, aval);
      return aval;
    },
    impl:
      opts.check === undefined
        ? impl
        : (args) => {
            opts.check!(args[0]!, args[1]!);
            return impl(args);
          },
    jvp: (primals, tangents, out) =>
      tangent(primals[0]!, primals[1]!, tangents[0]!, tangents[1]!, out),
    batch: elementwiseBatch(([a, b]) => bind(prim, [a!, b!], NO_PARAMS)),
    elementwise: rule,
    selectsTangents: opts.selectsTangents,
    selectedCotangent: opts.selectedCotangent,
  });
  return (a: Array, b: Array): Array => bind(prim, [a, b], NO_PARAMS);
}

/**
 * base^exponent on int32, wrapped as NumPy's int32 (by squaring, each product
 * the low 32 bits). Negative exponents: NumPy refuses them (the eager impl
 * does too); compiled code, which cannot throw per element, gives 1 for
 * base 1, ±1 for base -1 and 0 otherwise (the integer part of the result).
 * Self-contained: compiled code calls its source.
 */
function int32Power(base: number, exponent: number): number {
  if (exponent < 0) return base === 1 ? 1 : base === -1 ? (exponent % 2 === 0 ? 1 : -1) : 0;
  let result = 1;
  let b = base | 0;
  for (let e = exponent; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = Math.imul(result, b);
    b = Math.imul(b, b);
  }
  return result;
}

/**
 * a^b as C99's pow (NumPy, XLA): Math.pow, except that 1^b is 1 for every b
 * (NaN included) and (-1)^±inf is 1, where JS's Math.pow gives NaN.
 * Self-contained: compiled code calls its source.
 */
function ieeePow(a: number, b: number): number {
  return a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b);
}

/** NumPy's rule for integer powers: no negative exponents (the result is not an integer). */
function refuseNegativeIntPowers(base: ConcreteArray, exponent: ConcreteArray): void {
  if (exponent.dtype !== "int32") return;
  const e = exponent.shape.length === 0 ? [exponent.scalarValue] : exponent.buffer;
  for (const v of e) {
    if (v < 0) {
      throw new InvalidArgumentError(
        `power: integers to negative integer powers are not allowed (int32 base of shape ` +
          `${fmtShape(base.shape)}, exponent ${v}); convert the base to float first, ` +
          `e.g. np.power(x.astype("float64"), n)`,
      );
    }
  }
}

// d a^b = b a^(b-1) da + log(a) a^b db, with log(a) taken as 0 where a = 0
// (so that 0^b with a constant-free exponent tangent stays finite).
// int32 powers are int32 (wrap-around); their tangents are never asked for.
// Where b = 0, a^0 = 1 is constant in a: its factor b a^(b-1) is 0, also at
// a = 0 (where 0 * 0^-1 would be NaN); as JAX does, b is replaced by 1 there
// before the power, so no inf or NaN arises in the unselected branch either.
export const pow = binary(
  "pow",
  wgslBuiltin(
    {
      scalar: ieeePow,
      js: ([a, b]) =>
        `(${a} === 1 || (${a} === -1 && Math.abs(${b}) === Infinity) ? 1 : Math.pow(${a}, ${b}))`,
      int32: { scalar: int32Power },
    },
    "jsPow",
    "jsPowI32",
  ),
  (a, b, da, db, out) => {
    const viaBase = da === null ? null : mul(da, powBaseFactor(a, b));
    const viaExp =
      db === null ? null : mul(db, mul(out, select(eq(a, fullLike(a, 0)), fullLike(a, 0), log(a))));
    return tAdd(viaBase, viaExp);
  },
  { check: refuseNegativeIntPowers },
);

/** b a^(b-1), taken as 0 where b = 0 (see pow). */
function powBaseFactor(a: Array, b: Array): Array {
  const zeroExp = eq(b, fullLike(b, 0));
  const safeB = select(zeroExp, fullLike(b, 1), b);
  return select(zeroExp, fullLike(b, 0), mul(safeB, pow(a, sub(safeB, fullLike(b, 1)))));
}

// max: the larger operand's tangent; ties split evenly (as JAX does).
// Not declared commutative: max(+0, -0) is +0 but max(-0, +0) is -0.
export const max = binary(
  "max",
  {
    scalar: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
    js: ([a, b]) => `(${a} >= ${b} || ${a} !== ${a} ? ${a} : ${b})`,
    vector: "max",
  },
  (a, b, da, db) => minMaxTangent(gt(a, b), lt(a, b), a, da, db),
  { selectsTangents: true, selectedCotangent: minMaxCotangent("max") },
);
// min: the smaller operand's tangent; ties split evenly.
export const min = binary(
  "min",
  {
    scalar: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
    js: ([a, b]) => `(${a} <= ${b} || ${a} !== ${a} ? ${a} : ${b})`,
    vector: "min",
  },
  (a, b, da, db) => minMaxTangent(lt(a, b), gt(a, b), a, da, db),
  { selectsTangents: true, selectedCotangent: minMaxCotangent("min") },
);

function minMaxTangent(pickA: Array, pickB: Array, like: Array, da: Tangent, db: Tangent): Tangent {
  const dA = instantiate(da, like);
  const dB = instantiate(db, like);
  const half = mul(add(dA, dB), fullLike(like, 0.5));
  return select(pickA, dA, select(pickB, dB, half));
}

/**
 * The transpose of `minMaxTangent` for one operand, with its structural
 * zeros, as the tape's backward pass gives it: operand i's cotangent is ct
 * where i wins (is the larger for max, the smaller for min), half of ct at
 * ties (and NaNs), and a structural zero where the other operand wins (or
 * where ct already is one: ct is zero there, so no entry needs re-zeroing).
 */
function minMaxCotangent(which: "min" | "max"): SelectedCotangentRule {
  return ([a, b], i, ct, mask) => {
    const firstWins = which === "max" ? gt(a!, b!) : lt(a!, b!);
    const secondWins = which === "max" ? lt(a!, b!) : gt(a!, b!);
    const [mine, theirs] = i === 0 ? [firstWins, secondWins] : [secondWins, firstWins];
    const half = mul(ct, fullLike(ct, 0.5));
    const g = select(mine, ct, select(theirs, fullLike(ct, 0), half));
    return [g, mask === null ? theirs : logicalOr(mask, theirs)];
  };
}

// d atan2(a, b) = (b da - a db) / (a^2 + b^2)
export const atan2 = binary(
  "atan2",
  wgslBuiltin({ scalar: Math.atan2, js: jsCall("Math.atan2") }, "atan2"),
  (a, b, da, db) => {
    const num = tAdd(tMul(da, b), tNeg(tMul(db, a)));
    return num === null ? null : div(num, add(mul(a, a), mul(b, b)));
  },
  { floatOnly: true },
);

/**
 * NumPy's mod (remainder with the sign of the divisor): fmod, exact in
 * floating point (JS `%`), moved by one divisor when its sign differs from
 * the divisor's; a zero result takes the divisor's sign. int32: a % 0 is NaN,
 * stored as 0, which is NumPy's integer result. Self-contained (compiled code
 * calls its source).
 */
function modScalar(a: number, b: number): number {
  const m = a % b;
  if (m !== 0) return m < 0 !== b < 0 ? m + b : m;
  return b < 0 ? -0 : 0;
}
// mod(a, b) = a - floor(a / b) b, so d mod = da - floor(a / b) db
export const rem = binary(
  "rem",
  wgslBuiltin({ scalar: modScalar }, "jsRem", "jsRemI32"),
  (a, b, da, db) => tAdd(da, tNeg(tMul(db, floor(div(a, b))))),
);

// fmod(a, b) = a - trunc(a / b) b (C's fmod, JS %: the sign of the dividend),
// so d fmod = da - trunc(a / b) db
export const fmod = binary(
  "fmod",
  wgslBuiltin({ scalar: (a, b) => a % b, js: infix("%") }, "jsFmod", "jsFmodI32"),
  (a, b, da, db) => {
    if (db === null) return da;
    const q = div(a, b);
    return tAdd(da, tNeg(mul(db, select(lt(q, fullLike(q, 0)), ceil(q), floor(q)))));
  },
);

/**
 * NumPy's floor_divide on floats (npy_divmod): (a - fmod(a, b)) / b, less
 * one where the remainder's sign differs from the divisor's, rounded to the
 * nearest integer so that the division's rounding cannot leave it off by
 * one; a zero quotient keeps the sign of a / b, and b = 0 gives a / b.
 * int32: floor(a / b), 0 for b = 0 (NumPy's integer result).
 * Self-contained (compiled code calls its source).
 */
function floorDivideScalar(a: number, b: number): number {
  if (b === 0) return a / b;
  const m = a % b;
  let q = (a - m) / b;
  if (m !== 0 && m < 0 !== b < 0) q -= 1;
  if (q === 0) return a / b < 0 || Object.is(a / b, -0) ? -0 : 0;
  const f = Math.floor(q);
  return q - f > 0.5 ? f + 1 : f;
}
// floorDivide is piecewise constant: zero derivative.
export const floorDivide = binary(
  "floorDivide",
  wgslBuiltin(
    {
      scalar: floorDivideScalar,
      int32: { scalar: (a, b) => (b === 0 ? 0 : Math.floor(a / b)) },
    },
    "jsFloorDivide",
    "jsFloorDivideI32",
  ),
  () => null,
);

// d hypot(a, b) = (a da + b db) / hypot(a, b)
export const hypot = binary(
  "hypot",
  wgslBuiltin({ scalar: Math.hypot, js: jsCall("Math.hypot") }, "jsHypot"),
  (a, b, da, db, out) => {
    const num = tAdd(tMul(da, a), tMul(db, b));
    return num === null ? null : div(num, out);
  },
  { floatOnly: true },
);

// ----------------------------------------------------------- comparison --

/**
 * Declares a comparison or logical operation (a bool result). `op` is the
 * JS operator; the result is 1 or 0.
 */
function comparison(
  name: string,
  scalar: (a: number, b: number) => number,
  op: string,
  boolOperands: "allow" | "only",
  vector: VectorOp,
  commutative: boolean,
) {
  const rule: ElementwiseRule<NoParams> = {
    scalar,
    js: ([a, b]) => `(${a} ${op} ${b} ? 1 : 0)`,
    vector,
    commutative,
  };
  const prim: PrimitiveDef<NoParams> = definePrimitive<NoParams>({
    name,
    linear: false,
    abstractEval(avals) {
      const aval = sameShapeDtype(name, avals);
      if (boolOperands === "only" && aval.dtype !== "bool") {
        throw new DTypeError(`${name}: expected bool arrays, got dtype ${aval.dtype}`);
      }
      return { shape: aval.shape, dtype: "bool" };
    },
    impl: binaryImpl(rule, "bool"),
    jvp: () => null,
    batch: elementwiseBatch(([a, b]) => bind(prim, [a!, b!], NO_PARAMS)),
    elementwise: rule,
  });
  return (a: Array, b: Array): Array => bind(prim, [a, b], NO_PARAMS);
}

export const lt = comparison("lt", (a, b) => (a < b ? 1 : 0), "<", "allow", "lt", false);
export const le = comparison("le", (a, b) => (a <= b ? 1 : 0), "<=", "allow", "le", false);
export const gt = comparison("gt", (a, b) => (a > b ? 1 : 0), ">", "allow", "gt", false);
export const ge = comparison("ge", (a, b) => (a >= b ? 1 : 0), ">=", "allow", "ge", false);
export const eq = comparison("eq", (a, b) => (a === b ? 1 : 0), "===", "allow", "eq", true);
export const ne = comparison("ne", (a, b) => (a !== b ? 1 : 0), "!==", "allow", "ne", true);
export const logicalAnd = comparison("and", (a, b) => (a && b ? 1 : 0), "&&", "only", "and", true);
export const logicalOr = comparison("or", (a, b) => (a || b ? 1 : 0), "||", "only", "or", true);

// --------------------------------------------------------------- select --

const selectPrim = definePrimitive<NoParams>({
  name: "select",
  linear: true, // in the two branches
  abstractEval([pred, a, b]) {
    if (pred!.dtype !== "bool") {
      throw new DTypeError(`where: the condition must be a bool array, got dtype ${pred!.dtype}`);
    }
    sameShapeDtype("where", [{ shape: pred!.shape, dtype: a!.dtype }, a!, b!]);
    return a!;
  },
  impl([pred, a, b]) {
    if (a!.shape.length === 0) return pred!.scalarValue ? a! : b!;
    return new ConcreteArray(
      a!.shape,
      a!.dtype,
      backend().select(pred!.buffer, a!.buffer, b!.buffer, a!.dtype),
    );
  },
  // d where(p, a, b) = where(p, da, db)
  jvp([pred, a], [, da, db]) {
    return select(pred!, instantiate(da!, a!), instantiate(db!, a!));
  },
  transpose(ct, [pred, a, b]) {
    if (pred instanceof UndefPrimal) throw new Error("select: the condition cannot be linear");
    const zeros = fullLike(ct, 0);
    return [
      null,
      a instanceof UndefPrimal ? select(pred!, ct, zeros) : null,
      b instanceof UndefPrimal ? select(pred!, zeros, ct) : null,
    ];
  },
  batch: elementwiseBatch(([p, a, b]) => select(p!, a!, b!)),
  elementwise: {
    scalar: (p, a, b) => (p ? a : b),
    js: ([p, a, b]) => `(${p} ? ${a} : ${b})`,
    vector: "select",
  },
  maskRule: "select",
  // A known condition picks its branch; equal branches are that branch.
  simplify(q) {
    const [, onTrue, onFalse] = q.inputs;
    const p = q.uniform(0);
    if (p === 1 && q.fits(onTrue)) return onTrue;
    if (p === 0 && q.fits(onFalse)) return onFalse;
    if (onTrue === onFalse && q.fits(onTrue)) return onTrue;
    return null;
  },
});
/** Elementwise pred ? onTrue : onFalse (equal shapes). */
export function select(pred: Array, onTrue: Array, onFalse: Array): Array {
  return bind(selectPrim, [pred, onTrue, onFalse], NO_PARAMS);
}

// -------------------------------------------------------------- convert --

interface ConvertParams {
  dtype: DType;
}
const convertPrim = definePrimitive<ConvertParams>({
  name: "convert",
  linear: true,
  abstractEval: ([x], { dtype }) => ({ shape: x!.shape, dtype }),
  impl([x], { dtype }) {
    if (x!.shape.length === 0) return scalarOf(castScalar(x!.scalarValue, dtype), dtype);
    return new ConcreteArray(x!.shape, dtype, backend().convert(x!.buffer, dtype));
  },
  // Between float dtypes the tangent converts too; to int/bool it is zero.
  jvp: ([x], [dx], _out, { dtype }) =>
    isFloat(dtype) && isFloat(x!.dtype) ? convert(dx!, dtype) : null,
  transpose: (ct, [x]) => [convert(ct, (x as UndefPrimal).aval.dtype)],
  batch: ([x], [d], { dtype }) => [convert(x!, dtype), d!],
  // The value as is; the store into the result's dtype rounds it.
  elementwise: { scalar: (x) => x, js: ([a]) => a!, vector: "convert" },
  maskRule: "pass",
  simplify: (q) => (q.fits(q.inputs[0]) ? q.inputs[0] : null),
});
/** Converts to another dtype (identity when equal). */
export function convert(x: Array, dtype: DType): Array {
  if (x.dtype === dtype) return x;
  return bind(convertPrim, [x], { dtype });
}

// ---------------------------------------------------------- stopGradient --

const stopGradientPrim = definePrimitive<NoParams>({
  name: "stopGradient",
  linear: false,
  abstractEval: ([x]) => x!,
  impl: ([x]) => x!,
  // The value passes, its derivative does not.
  jvp: () => null,
  batch: ([x], [d]) => [stopGradient(x!), d!],
  elementwise: { scalar: (x) => x, js: ([a]) => a!, vector: "identity" },
  // The identity for values; kept while reverse mode is staged from the
  // recorded equations, whose backward pass must see it.
  simplify: (q) => (!derivativeBarriersKept() && q.fits(q.inputs[0]) ? q.inputs[0] : null),
});
/** The identity, seen by differentiation as a constant. */
export function stopGradient(x: Array): Array {
  return bind(stopGradientPrim, [x], NO_PARAMS);
}
