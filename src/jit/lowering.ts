/**
 * Elementwise primitives as JavaScript expressions on one element (a JS
 * number), read from each primitive's declaration (`prim.elementwise`, see
 * core/primitive.ts): its `js` expression, or else a call of its `scalar`
 * function under a generated helper name (H_erf). Programs made of these
 * compile to straight-line code on locals (0-d values) or to fused loops
 * (arrays); emitSource prints the same expressions. Primitives without an
 * elementwise rule run through their own `impl` from the compiled code.
 *
 * Every expression is built from generated identifiers and numeric literals
 * only; nothing here embeds a user-provided string (primitive names, which
 * form helper names, are plain identifiers: definePrimitive checks).
 */
import type { DType } from "../core/dtype.js";
import { type AnyPrimitive, type Primitive, elementScalar } from "../core/primitive.js";

/** What an element expression needs of an equation. */
interface ElementEqn {
  readonly prim: AnyPrimitive;
  readonly params: unknown;
  readonly out: { readonly dtype: DType };
}

/** Whether the primitive has an elementwise rule (so it fuses, compiles to locals, prints). */
export function isElementwise(prim: AnyPrimitive): boolean {
  return elementRule(prim) !== undefined;
}

/** The primitive's elementwise rule (multi-output primitives have none). */
function elementRule(prim: AnyPrimitive): Primitive["elementwise"] {
  return prim.multipleResults === true ? undefined : prim.elementwise;
}

/** The rule's own or int32 part for a result of `dtype`, and the helper name of its scalar. */
function partFor(e: ElementEqn): {
  js: ((args: readonly string[], params: unknown) => string) | undefined;
  scalar: (...args: number[]) => number;
  helper: string;
} {
  const rule = elementRule(e.prim)!;
  if (e.out.dtype === "int32" && rule.int32 !== undefined) {
    return { js: rule.int32.js, scalar: rule.int32.scalar, helper: `H_${e.prim.name}_int32` };
  }
  return { js: rule.js, scalar: rule.scalar, helper: `H_${e.prim.name}` };
}

/**
 * One element of an elementwise equation's result from its operands'
 * expressions, rounded to the result's dtype.
 */
export function elementExpr(e: ElementEqn, operands: readonly string[]): string {
  const part = partFor(e);
  const expr =
    part.js !== undefined ? part.js(operands, e.params) : `${part.helper}(${operands.join(", ")})`;
  return castExpr(expr, e.out.dtype);
}

/**
 * The function computing one element of an elementwise equation's result
 * from its operands, before rounding to the result's dtype: the function
 * that compiled code calls as a helper, and of which the rule's `js`
 * expression is the inline form (the int32 part for int32 results). The
 * scalar interpreter (scalarInterpreter.ts) calls it, then rounds as
 * `ROUNDING` says.
 */
export function elementFunction(e: ElementEqn): (...args: number[]) => number {
  return elementScalar(elementRule(e.prim)!, e.out.dtype);
}

/**
 * `elementFunction(e)` when e's primitive is elementwise, else undefined:
 * both questions in one call, for the first tier's walk over a program
 * (scalarInterpreter.ts), which asks them of every equation once.
 */
export function elementFunctionIfAny(e: ElementEqn): ((...args: number[]) => number) | undefined {
  const prim = e.prim;
  if (prim.multipleResults === true || prim.elementwise === undefined) return undefined;
  return elementScalar(prim.elementwise, e.out.dtype);
}

/**
 * The scalar functions that the element expressions of `eqns` call, by
 * helper name. Compiled code receives them as `H` and binds each name once
 * (`helperBindings`); emitSource prints their source instead.
 */
export function helpersOf(eqns: readonly ElementEqn[]): Map<string, (...args: number[]) => number> {
  const helpers = new Map<string, (...args: number[]) => number>();
  for (let k = 0; k < eqns.length; k++) {
    const e = eqns[k]!;
    const rule = elementRule(e.prim);
    if (rule === undefined) continue;
    // Most rules have a JS expression: decide that before building the part (no object per equation).
    const int32 = e.out.dtype === "int32" && rule.int32 !== undefined;
    if ((int32 ? rule.int32.js : rule.js) !== undefined) continue;
    const part = partFor(e);
    helpers.set(part.helper, part.scalar);
  }
  return helpers;
}

/** Source lines binding each helper name to its function from the argument `H` (a Map). */
export function helperBindings(helpers: ReadonlyMap<string, unknown>): string {
  return [...helpers.keys()].map((h) => `const ${h} = H.get("${h}");\n`).join("");
}

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

/**
 * castExpr's rounding for each dtype as a code, for code that rounds values
 * instead of printing expressions (the scalar interpreter): 0 none (float64),
 * 1 `Math.fround`, 2 `| 0`, 3 `? 1 : 0`.
 */
export const ROUNDING: Readonly<Record<DType, 0 | 1 | 2 | 3>> = {
  float64: 0,
  float32: 1,
  int32: 2,
  bool: 3,
};

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
