/**
 * Element types (dtypes) of chainrule arrays: their names, storage, and the
 * promotion rules used when two operands of different dtypes meet.
 *
 * Lattice: bool < int32 < float32 < float64. JS numbers are "weakly typed":
 * they adopt the dtype of the array they meet (as in JAX), so `x32.mul(2)`
 * stays float32.
 */

export type DType = "float64" | "float32" | "int32" | "bool";

export const DTYPES: readonly DType[] = ["float64", "float32", "int32", "bool"];

/** The TypedArrays that hold elements: Float64Array, Float32Array, Int32Array, and Uint8Array for bool. */
export type TypedArray = Float64Array | Float32Array | Int32Array | Uint8Array;

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

export function isDType(x: unknown): x is DType {
  return typeof x === "string" && (DTYPES as readonly string[]).includes(x);
}

export function isFloat(dtype: DType): boolean {
  return dtype === "float64" || dtype === "float32";
}

/** The smallest dtype that holds values of both `a` and `b`. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Allocates zeroed storage of `size` elements for `dtype`. */
export function allocate(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case "float64":
      return new Float64Array(size);
    case "float32":
      return new Float32Array(size);
    case "int32":
      return new Int32Array(size);
    case "bool":
      return new Uint8Array(size);
  }
}

/** The dtype whose storage is this TypedArray's kind, or undefined. */
export function dtypeOfTypedArray(data: unknown): DType | undefined {
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint8Array) return "bool";
  return undefined;
}

/** Converts a JS number to the value stored for `dtype` (truncation, rounding to f32, 0/1). */
export function castScalar(value: number, dtype: DType): number {
  switch (dtype) {
    case "float64":
      return value;
    case "float32":
      return Math.fround(value);
    case "int32":
      return value | 0;
    case "bool":
      return value ? 1 : 0;
  }
}
