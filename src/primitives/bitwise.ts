/**
 * Bitwise primitives on int32 arrays: and, or, xor, not, the three shifts
 * and a rotation. They see an int32 as its 32 bits (two's
 * complement), as XLA's bitwise operations see int32 and uint32: a
 * logical right shift fills with zeros and the result, read back as int32,
 * is the same 32 bits. Integer operations have no derivative (their JVP is
 * the zero tangent). The counter-based random generator (src/random/) is
 * built from these and int32 addition, which already wraps modulo 2^32.
 *
 * Shift amounts follow XLA: an amount outside 0..31 shifts every bit out
 * (0 for left and logical right shifts, the sign fill -1 or 0 for the
 * arithmetic one), unlike JS's `<<`, which takes the amount modulo 32.
 *
 * Each declaration carries its `elementwise` rule (scalar and JS
 * expression), so jit fuses chains of them into one loop; the element
 * expressions are cast back to int32 (`| 0`) by the code generators and the
 * stores into Int32Array wrap eagerly, so every path gives the same bits.
 */
import type { Array, Aval } from "../core/array.js";
import { ConcreteArray } from "../core/array.js";
import { DTypeError } from "../core/errors.js";
import { definePrimitive, type ElementwiseRule, type PrimitiveDef } from "../core/primitive.js";
import { bind } from "../core/trace.js";
import { backend } from "../backends/index.js";
import { sameShapeDtype } from "./operands.js";
import { elementwiseBatch } from "./movement.js";

type NoParams = Record<string, never>;
const NO_PARAMS: NoParams = {};

function requireInt32(name: string, aval: Aval): Aval {
  if (aval.dtype !== "int32") {
    throw new DTypeError(
      `${name}: expected int32 arrays, got dtype ${aval.dtype}; bitwise operations work on ` +
        `the bits of int32 values (convert with x.astype("int32"), or use np.logicalAnd/` +
        `logicalOr/logicalNot for bool arrays)`,
    );
  }
  return aval;
}

/** A 0-d or n-d result of an int32 elementwise rule. */
function int32Result(shape: readonly number[], buffer: Int32Array | number): ConcreteArray {
  return typeof buffer === "number"
    ? ConcreteArray.scalar(buffer | 0, "int32")
    : new ConcreteArray(shape, "int32", buffer);
}

/** Declares a binary int32 primitive from its elementwise rule (no derivative). */
function intBinary(name: string, rule: ElementwiseRule<NoParams>) {
  const prim: PrimitiveDef<NoParams> = definePrimitive<NoParams>({
    name,
    linear: false,
    abstractEval: (avals) => requireInt32(name, sameShapeDtype(name, avals)),
    impl([a, b]) {
      if (a!.shape.length === 0)
        return int32Result([], rule.scalar(a!.scalarValue, b!.scalarValue));
      return int32Result(
        a!.shape,
        backend().binary(rule, a!.buffer, b!.buffer, "int32") as Int32Array,
      );
    },
    // Integer results: no tangent.
    jvp: () => null,
    batch: elementwiseBatch(([a, b]) => bind(prim, [a!, b!], NO_PARAMS)),
    elementwise: rule,
  });
  return (a: Array, b: Array): Array => bind(prim, [a, b], NO_PARAMS);
}

/** Bitwise and of two int32 arrays of equal shape. */
export const bitwiseAnd = intBinary("bitwiseAnd", {
  scalar: (a, b) => a & b,
  js: ([a, b]) => `(${a} & ${b})`,
  wgslInt32: ([a, b]) => `(${a} & ${b})`,
  commutative: true,
});
/** Bitwise or of two int32 arrays of equal shape. */
export const bitwiseOr = intBinary("bitwiseOr", {
  scalar: (a, b) => a | b,
  js: ([a, b]) => `(${a} | ${b})`,
  wgslInt32: ([a, b]) => `(${a} | ${b})`,
  commutative: true,
});
/** Bitwise exclusive or of two int32 arrays of equal shape. */
export const bitwiseXor = intBinary("bitwiseXor", {
  scalar: (a, b) => a ^ b,
  js: ([a, b]) => `(${a} ^ ${b})`,
  wgslInt32: ([a, b]) => `(${a} ^ ${b})`,
  commutative: true,
});
/** a << b, 0 where b is outside 0..31 (XLA's shift_left). */
export const shiftLeft = intBinary("shiftLeft", {
  scalar: (a, b) => (b >>> 0 < 32 ? a << b : 0),
  js: ([a, b]) => `(${b} >>> 0 < 32 ? ${a} << ${b} : 0)`,
  wgslInt32: ([a, b]) => `select(0, ${a} << (u32(${b}) & 31u), u32(${b}) < 32u)`,
});
/** a >>> b (zero fill) as int32 bits, 0 where b is outside 0..31 (XLA's shift_right_logical). */
export const shiftRightLogical = intBinary("shiftRightLogical", {
  scalar: (a, b) => (b >>> 0 < 32 ? (a >>> b) | 0 : 0),
  js: ([a, b]) => `(${b} >>> 0 < 32 ? (${a} >>> ${b}) | 0 : 0)`,
  wgslInt32: ([a, b]) =>
    `select(0, bitcast<i32>(bitcast<u32>(${a}) >> (u32(${b}) & 31u)), u32(${b}) < 32u)`,
});
/** a >> b (sign fill), the sign fill where b is outside 0..31 (XLA's shift_right_arithmetic). */
export const shiftRightArithmetic = intBinary("shiftRightArithmetic", {
  scalar: (a, b) => (b >>> 0 < 32 ? a >> b : a >> 31),
  js: ([a, b]) => `(${b} >>> 0 < 32 ? ${a} >> ${b} : ${a} >> 31)`,
  wgslInt32: ([a, b]) => `select(${a} >> 31u, ${a} >> (u32(${b}) & 31u), u32(${b}) < 32u)`,
});

const notRule: ElementwiseRule<NoParams> = {
  scalar: (x) => ~x,
  js: ([a]) => `(~${a})`,
  wgslInt32: ([a]) => `(~${a})`,
};
const bitwiseNotPrim: PrimitiveDef<NoParams> = definePrimitive<NoParams>({
  name: "bitwiseNot",
  linear: false,
  abstractEval: ([x]) => requireInt32("bitwiseNot", x!),
  impl([x]) {
    if (x!.shape.length === 0) return int32Result([], ~x!.scalarValue);
    return int32Result(x!.shape, backend().unary(notRule, x!.buffer, "int32") as Int32Array);
  },
  jvp: () => null,
  batch: elementwiseBatch(([x]) => bitwiseNot(x!)),
  elementwise: notRule,
});
/** Bitwise complement of an int32 array (~x = -x - 1). */
export function bitwiseNot(x: Array): Array {
  return bind(bitwiseNotPrim, [x], NO_PARAMS);
}

/** The bits of a rotated left by b modulo 32 (a rotation by 32 is the identity). */
export const rotateLeft = intBinary("rotateLeft", {
  scalar: (a, b) => (a << (b & 31)) | (a >>> ((32 - b) & 31)),
  js: ([a, b]) => `((${a} << (${b} & 31)) | (${a} >>> ((32 - ${b}) & 31)))`,
  // the same rotation on the unsigned bits
  wgslInt32: ([a, b]) =>
    `bitcast<i32>((bitcast<u32>(${a}) << (u32(${b}) & 31u)) | ` +
    `(bitcast<u32>(${a}) >> ((32u - (u32(${b}) & 31u)) & 31u)))`,
});
