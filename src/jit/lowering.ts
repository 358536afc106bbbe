/**
 * How each elementwise primitive is written as a JavaScript expression on
 * one element (a JS number). Programs made of these compile to straight-line
 * code on locals (0-d values) or to fused loops (arrays). Primitives without
 * an entry run through their own `impl` from the compiled code, so a new
 * primitive works under jit without touching this table.
 *
 * Every expression is built from generated identifiers and numeric literals
 * only; nothing here embeds a user-provided string.
 */
import type { DType } from "../core/dtype.js";

/** Expression of one element of the result, from the operands' expressions. */
export type ElementExpr = (args: readonly string[], params: unknown) => string;

const call = (fn: string) => (args: readonly string[]) => `${fn}(${args.join(", ")})`;

export const ELEMENTWISE: Record<string, ElementExpr> = {
  neg: ([a]) => `(-${a})`,
  sin: call("Math.sin"),
  cos: call("Math.cos"),
  tan: call("Math.tan"),
  asin: call("Math.asin"),
  acos: call("Math.acos"),
  atan: call("Math.atan"),
  sinh: call("Math.sinh"),
  cosh: call("Math.cosh"),
  tanh: call("Math.tanh"),
  exp: call("Math.exp"),
  log: call("Math.log"),
  log1p: call("Math.log1p"),
  expm1: call("Math.expm1"),
  sqrt: call("Math.sqrt"),
  abs: call("Math.abs"),
  floor: call("Math.floor"),
  ceil: call("Math.ceil"),
  round: call("roundHalfEven"),
  sign: ([a]) => `(${a} > 0 ? 1 : ${a} < 0 ? -1 : ${a})`,
  not: ([a]) => `(${a} ? 0 : 1)`,
  add: ([a, b]) => `(${a} + ${b})`,
  sub: ([a, b]) => `(${a} - ${b})`,
  mul: ([a, b]) => `(${a} * ${b})`,
  div: ([a, b]) => `(${a} / ${b})`,
  pow: call("Math.pow"),
  atan2: call("Math.atan2"),
  max: ([a, b]) => `(${a} >= ${b} || ${a} !== ${a} ? ${a} : ${b})`,
  min: ([a, b]) => `(${a} <= ${b} || ${a} !== ${a} ? ${a} : ${b})`,
  rem: ([a, b]) => `(${a} - Math.floor(${a} / ${b}) * ${b})`,
  lt: ([a, b]) => `(${a} < ${b} ? 1 : 0)`,
  le: ([a, b]) => `(${a} <= ${b} ? 1 : 0)`,
  gt: ([a, b]) => `(${a} > ${b} ? 1 : 0)`,
  ge: ([a, b]) => `(${a} >= ${b} ? 1 : 0)`,
  eq: ([a, b]) => `(${a} === ${b} ? 1 : 0)`,
  ne: ([a, b]) => `(${a} !== ${b} ? 1 : 0)`,
  and: ([a, b]) => `(${a} && ${b} ? 1 : 0)`,
  or: ([a, b]) => `(${a} || ${b} ? 1 : 0)`,
  select: ([p, a, b]) => `(${p} ? ${a} : ${b})`,
  convert: ([a]) => a!,
  stopGradient: ([a]) => a!,
};

/** Rounds an element expression to its dtype (as a store into a TypedArray would). */
export function castExpr(expr: string, dtype: DType): string {
  switch (dtype) {
    case "float64":
      return expr;
    case "float32":
      return `Math.fround(${expr})`;
    case "int32":
      return `(${expr} | 0)`;
    case "bool":
      return `(${expr} ? 1 : 0)`;
  }
}

/** A JS numeric literal for a value: safe to embed (digits, sign, exponent, NaN, Infinity). */
export function numberLiteral(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "(-Infinity)";
  if (Object.is(v, -0)) return "(-0)";
  const s = String(v);
  if (!/^-?[0-9.e+-]+$/.test(s)) throw new Error(`internal error: unexpected number text ${s}`);
  return v < 0 ? `(${s})` : s;
}

export const TYPED_ARRAY_NAME: Record<DType, string> = {
  float64: "Float64Array",
  float32: "Float32Array",
  int32: "Int32Array",
  bool: "Uint8Array",
};
