/**
 * NumPy-like printing of arrays: `array([[1., 2.], [3., 4.]], dtype=float32)`.
 * Tracers print their shape and dtype instead of values.
 */
import { Array, ConcreteArray } from "../core/array.js";
import { fmtShape } from "../core/errors.js";

function formatElement(v: number, dtype: Array["dtype"]): string {
  if (dtype === "bool") return v ? "true" : "false";
  if (dtype === "int32") return String(v);
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.`;
  const s =
    dtype === "float32" ? String(Number(v.toPrecision(7))) : String(Number(v.toPrecision(8)));
  return s;
}

export function formatArray(x: Array): string {
  if (x.requiresGrad && !(x instanceof ConcreteArray)) {
    // An imperative array: its values are known; say that it records (as PyTorch prints).
    return `${formatArray(x.detach()).slice(0, -1)}, requiresGrad=true)`;
  }
  if (!(x instanceof ConcreteArray)) {
    return `Traced<${x.dtype}${fmtShape(x.shape)}>`;
  }
  const parts = globalThis.Array.from(x.buffer, (v) => formatElement(v, x.dtype));
  const width = parts.reduce((w, p) => Math.max(w, p.length), 0);
  const padded = x.ndim > 0 ? parts.map((p) => p.padStart(width)) : parts;
  const prefix = "array(";
  const build = (dim: number, offset: number, indent: number): string => {
    if (dim === x.ndim) return padded[offset]!;
    const n = x.shape[dim]!;
    let stride = 1;
    for (let i = dim + 1; i < x.ndim; i++) stride *= x.shape[i]!;
    const items: string[] = [];
    for (let i = 0; i < n; i++) items.push(build(dim + 1, offset + i * stride, indent + 1));
    const sep = dim === x.ndim - 1 ? ", " : ",\n" + " ".repeat(prefix.length + indent + 1);
    return `[${items.join(sep)}]`;
  };
  const body = build(0, 0, 0);
  const suffix = x.dtype === "float64" ? "" : `, dtype=${x.dtype}`;
  return `${prefix}${body}${suffix})`;
}
