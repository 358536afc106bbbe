/**
 * Elementwise primitives: unary math, binary arithmetic, comparisons, select
 * and dtype conversion. Operands have equal shapes and dtypes (the np layer
 * broadcasts and promotes). Each rule's derivative is written above it.
 */
import type { Array, Aval } from "../core/array.js";
import { type DType, castScalar, isFloat } from "../core/dtype.js";
import { DTypeError } from "../core/errors.js";
import {
  definePrimitive,
  type PrimitiveDef,
  type Tangent,
  UndefPrimal,
} from "../core/primitive.js";
import { bind } from "../core/trace.js";
import { backend } from "../backends/index.js";
import type { BinaryOp, UnaryOp } from "../backends/backend.js";
import { BINARY, UNARY } from "../backends/scalar.js";
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

/** A tangent as an array (zeros when symbolically zero). */
export function instantiate(t: Tangent, like: Aval): Array {
  return t === null ? fullLike(like, 0) : t;
}

// ---------------------------------------------------------------- unary --

/**
 * Declares a unary primitive computed by a backend op. `tangent` gives the
 * derivative rule: d out = tangent(x, dx, out). `floatOnly` ops reject ints.
 */
function unary(
  name: string,
  op: UnaryOp,
  tangent: ((x: Array, dx: Array, out: Array) => Tangent) | "zero",
  opts: { floatOnly?: boolean } = {},
) {
  const prim: PrimitiveDef<NoParams> = definePrimitive<NoParams>({
    name,
    linear: false,
    abstractEval([x]) {
      if (opts.floatOnly === true) requireFloat(name, x!);
      return x!;
    },
    impl([x]) {
      if (x!.shape.length === 0) return scalarOf(UNARY[op](x!.scalarValue), x!.dtype);
      return new ConcreteArray(x!.shape, x!.dtype, backend().unary(op, x!.buffer, x!.dtype));
    },
    jvp([x], [dx], out) {
      return tangent === "zero" || dx === null ? null : tangent(x!, dx!, out);
    },
    batch: elementwiseBatch(([x]) => bind(prim, [x!], NO_PARAMS)),
  });
  return (x: Array): Array => bind(prim, [x], NO_PARAMS);
}

// d sin x = cos x dx
export const sin = unary("sin", "sin", (x, dx) => mul(dx, cos(x)), { floatOnly: true });
// d cos x = -sin x dx
export const cos = unary("cos", "cos", (x, dx) => mul(dx, neg(sin(x))), { floatOnly: true });
// d tan x = (1 + tan^2 x) dx
export const tan = unary(
  "tan",
  "tan",
  (x, dx, out) => mul(dx, add(fullLike(x, 1), mul(out, out))),
  {
    floatOnly: true,
  },
);
// d asin x = dx / sqrt(1 - x^2)
export const asin = unary(
  "asin",
  "asin",
  (x, dx) => div(dx, sqrt(sub(fullLike(x, 1), mul(x, x)))),
  {
    floatOnly: true,
  },
);
// d acos x = -dx / sqrt(1 - x^2)
export const acos = unary(
  "acos",
  "acos",
  (x, dx) => div(dx, neg(sqrt(sub(fullLike(x, 1), mul(x, x))))),
  { floatOnly: true },
);
// d atan x = dx / (1 + x^2)
export const atan = unary("atan", "atan", (x, dx) => div(dx, add(fullLike(x, 1), mul(x, x))), {
  floatOnly: true,
});
// d sinh x = cosh x dx
export const sinh = unary("sinh", "sinh", (x, dx) => mul(dx, cosh(x)), { floatOnly: true });
// d cosh x = sinh x dx
export const cosh = unary("cosh", "cosh", (x, dx) => mul(dx, sinh(x)), { floatOnly: true });
// d tanh x = (1 - tanh^2 x) dx
export const tanh = unary(
  "tanh",
  "tanh",
  (x, dx, out) => mul(dx, sub(fullLike(x, 1), mul(out, out))),
  { floatOnly: true },
);
// d exp x = exp x dx
export const exp = unary("exp", "exp", (_x, dx, out) => mul(dx, out), { floatOnly: true });
// d log x = dx / x
export const log = unary("log", "log", (x, dx) => div(dx, x), { floatOnly: true });
// d log1p x = dx / (1 + x)
export const log1p = unary("log1p", "log1p", (x, dx) => div(dx, add(fullLike(x, 1), x)), {
  floatOnly: true,
});
// d expm1 x = (expm1 x + 1) dx
export const expm1 = unary("expm1", "expm1", (x, dx, out) => mul(dx, add(out, fullLike(x, 1))), {
  floatOnly: true,
});
// d sqrt x = dx / (2 sqrt x)
export const sqrt = unary("sqrt", "sqrt", (x, dx, out) => div(dx, mul(fullLike(x, 2), out)), {
  floatOnly: true,
});
// d |x| = sign(x) dx
export const abs = unary("abs", "abs", (x, dx) => mul(dx, sign(x)));
// sign, floor, ceil and round are piecewise constant: zero derivative.
export const sign = unary("sign", "sign", "zero");
export const floor = unary("floor", "floor", "zero");
export const ceil = unary("ceil", "ceil", "zero");
export const round = unary("round", "round", "zero");

/** Logical not of a bool array. */
export const logicalNot = (() => {
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
      return new ConcreteArray(x!.shape, "bool", backend().unary("not", x!.buffer, "bool"));
    },
    jvp: () => null,
    batch: elementwiseBatch(([x]) => bind(prim, [x!], NO_PARAMS)),
  });
  return (x: Array): Array => bind(prim, [x], NO_PARAMS);
})();

/** -x; linear: its transpose is -ct. */
const negPrim = definePrimitive<NoParams>({
  name: "neg",
  linear: true,
  abstractEval([x]) {
    if (x!.dtype === "bool") throw new DTypeError(`negative: bool arrays cannot be negated`);
    return x!;
  },
  impl([x]) {
    if (x!.shape.length === 0) return scalarOf(-x!.scalarValue, x!.dtype);
    return new ConcreteArray(x!.shape, x!.dtype, backend().unary("neg", x!.buffer, x!.dtype));
  },
  // d(-x) = -dx
  jvp: (_p, [dx]) => tNeg(dx!),
  transpose: (ct) => [neg(ct)],
  batch: elementwiseBatch(([x]) => neg(x!)),
});
export function neg(x: Array): Array {
  return bind(negPrim, [x], NO_PARAMS);
}

// --------------------------------------------------------------- binary --

function binaryImpl(op: BinaryOp, outDtype?: DType) {
  return ([a, b]: readonly ConcreteArray[]): ConcreteArray => {
    const dtype = outDtype ?? a!.dtype;
    if (a!.shape.length === 0) return scalarOf(BINARY[op](a!.scalarValue, b!.scalarValue), dtype);
    return new ConcreteArray(a!.shape, dtype, backend().binary(op, a!.buffer, b!.buffer, dtype));
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

/** The one input of a product that is a linear (unknown) value, and the other. */
function splitLinear(name: string, args: readonly (Array | UndefPrimal)[]): [number, Array] {
  const [a, b] = args;
  if (a instanceof UndefPrimal && !(b instanceof UndefPrimal)) return [0, b!];
  if (b instanceof UndefPrimal && !(a instanceof UndefPrimal)) return [1, a!];
  throw new Error(`${name}: transpose needs exactly one linear operand`);
}

const addPrim = definePrimitive<NoParams>({
  name: "add",
  linear: true,
  abstractEval: (avals) => nonBoolArith("add", avals),
  impl: binaryImpl("add"),
  // d(a + b) = da + db
  jvp: (_p, [da, db]) => tAdd(da!, db!),
  transpose: (ct, [a, b]) => [
    a instanceof UndefPrimal ? ct : null,
    b instanceof UndefPrimal ? ct : null,
  ],
  batch: elementwiseBatch(([a, b]) => add(a!, b!)),
});
export function add(a: Array, b: Array): Array {
  return bind(addPrim, [a, b], NO_PARAMS);
}

const subPrim = definePrimitive<NoParams>({
  name: "sub",
  linear: true,
  abstractEval: (avals) => nonBoolArith("subtract", avals),
  impl: binaryImpl("sub"),
  // d(a - b) = da - db
  jvp: (_p, [da, db]) => tAdd(da!, tNeg(db!)),
  transpose: (ct, [a, b]) => [
    a instanceof UndefPrimal ? ct : null,
    b instanceof UndefPrimal ? neg(ct) : null,
  ],
  batch: elementwiseBatch(([a, b]) => sub(a!, b!)),
});
export function sub(a: Array, b: Array): Array {
  return bind(subPrim, [a, b], NO_PARAMS);
}

const mulPrim = definePrimitive<NoParams>({
  name: "mul",
  linear: true, // in each operand separately
  abstractEval: (avals) => nonBoolArith("multiply", avals),
  impl: binaryImpl("mul"),
  // d(a b) = da b + a db
  jvp: ([a, b], [da, db]) => tAdd(tMul(da!, b!), tMul(db!, a!)),
  transpose(ct, args) {
    const [i, other] = splitLinear("mul", args);
    const g = mul(ct, other);
    return i === 0 ? [g, null] : [null, g];
  },
  batch: elementwiseBatch(([a, b]) => mul(a!, b!)),
});
export function mul(a: Array, b: Array): Array {
  return bind(mulPrim, [a, b], NO_PARAMS);
}

const divPrim = definePrimitive<NoParams>({
  name: "div",
  linear: true, // in the numerator
  abstractEval: (avals) => nonBoolArith("divide", avals),
  impl: binaryImpl("div"),
  // d(a / b) = (da - (a / b) db) / b
  jvp: ([, b], [da, db], out) => {
    const num = tAdd(da!, tNeg(tMul(db!, out)));
    return num === null ? null : div(num, b!);
  },
  transpose(ct, [a, b]) {
    if (!(a instanceof UndefPrimal) || b instanceof UndefPrimal) {
      throw new Error("div: transpose is linear in the numerator only");
    }
    return [div(ct, b!), null];
  },
  batch: elementwiseBatch(([a, b]) => div(a!, b!)),
});
export function div(a: Array, b: Array): Array {
  return bind(divPrim, [a, b], NO_PARAMS);
}

/**
 * Declares a non-linear binary primitive. `tangent(a, b, da, db, out)` gets
 * zero tangents instantiated only when `instantiateZeros` is set.
 */
function binary(
  name: string,
  op: BinaryOp,
  tangent: (a: Array, b: Array, da: Tangent, db: Tangent, out: Array) => Tangent,
  opts: { floatOnly?: boolean } = {},
) {
  const prim: PrimitiveDef<NoParams> = definePrimitive<NoParams>({
    name,
    linear: false,
    abstractEval(avals) {
      const aval = nonBoolArith(name, avals);
      if (opts.floatOnly === true) requireFloat(name, aval);
      return aval;
    },
    impl: binaryImpl(op),
    jvp: ([a, b], [da, db], out) => tangent(a!, b!, da!, db!, out),
    batch: elementwiseBatch(([a, b]) => bind(prim, [a!, b!], NO_PARAMS)),
  });
  return (a: Array, b: Array): Array => bind(prim, [a, b], NO_PARAMS);
}

// d a^b = b a^(b-1) da + log(a) a^b db, with log(a) taken as 0 where a = 0
// (so that 0^b with a constant-free exponent tangent stays finite).
export const pow = binary(
  "pow",
  "pow",
  (a, b, da, db, out) => {
    const viaBase = da === null ? null : mul(da, mul(b, pow(a, sub(b, fullLike(b, 1)))));
    const viaExp =
      db === null ? null : mul(db, mul(out, select(eq(a, fullLike(a, 0)), fullLike(a, 0), log(a))));
    return tAdd(viaBase, viaExp);
  },
  { floatOnly: true },
);

// max: the larger operand's tangent; ties split evenly (as JAX does).
export const max = binary("max", "max", (a, b, da, db) =>
  minMaxTangent(gt(a, b), lt(a, b), a, da, db),
);
// min: the smaller operand's tangent; ties split evenly.
export const min = binary("min", "min", (a, b, da, db) =>
  minMaxTangent(lt(a, b), gt(a, b), a, da, db),
);

function minMaxTangent(pickA: Array, pickB: Array, like: Array, da: Tangent, db: Tangent): Tangent {
  const dA = instantiate(da, like);
  const dB = instantiate(db, like);
  const half = mul(add(dA, dB), fullLike(like, 0.5));
  return select(pickA, dA, select(pickB, dB, half));
}

// d atan2(a, b) = (b da - a db) / (a^2 + b^2)
export const atan2 = binary(
  "atan2",
  "atan2",
  (a, b, da, db) => {
    const num = tAdd(tMul(da, b), tNeg(tMul(db, a)));
    return num === null ? null : div(num, add(mul(a, a), mul(b, b)));
  },
  { floatOnly: true },
);

// rem(a, b) = a - floor(a / b) b, so d rem = da - floor(a / b) db
export const rem = binary("rem", "rem", (a, b, da, db) =>
  tAdd(da, tNeg(tMul(db, floor(div(a, b))))),
);

// ----------------------------------------------------------- comparison --

function comparison(name: string, op: BinaryOp, boolOperands: "allow" | "only" | "deny") {
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
    impl: binaryImpl(op, "bool"),
    jvp: () => null,
    batch: elementwiseBatch(([a, b]) => bind(prim, [a!, b!], NO_PARAMS)),
  });
  return (a: Array, b: Array): Array => bind(prim, [a, b], NO_PARAMS);
}

export const lt = comparison("lt", "lt", "allow");
export const le = comparison("le", "le", "allow");
export const gt = comparison("gt", "gt", "allow");
export const ge = comparison("ge", "ge", "allow");
export const eq = comparison("eq", "eq", "allow");
export const ne = comparison("ne", "ne", "allow");
export const logicalAnd = comparison("and", "and", "only");
export const logicalOr = comparison("or", "or", "only");

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
});
/** The identity, seen by differentiation as a constant. */
export function stopGradient(x: Array): Array {
  return bind(stopGradientPrim, [x], NO_PARAMS);
}
