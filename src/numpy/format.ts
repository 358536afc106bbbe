/**
 * NumPy's printing of arrays, reproduced: `toString()` of an Array is the
 * text of NumPy's `repr` for the same values (NumPy 2 defaults: precision 8,
 * line width 75, summarisation past 1000 elements with 3 edge items).
 *
 * - One notation per array: positional unless a non-zero magnitude is
 *   >= 1e8 or < 1e-4, or the largest is over 1000 times the smallest; then
 *   scientific, with every element given the same number of digits.
 * - Positional elements are the shortest decimal that reads back to the same
 *   number (at most 8 fractional digits), padded with spaces so that the
 *   decimal points line up.
 * - Rows wrap at 75 columns; 2-D blocks of higher-rank arrays are separated
 *   by blank lines (one per extra dimension); `...` stands for the middle of
 *   every axis longer than 6 when the array has over 1000 elements.
 * - `dtype=` is added unless it is float64 or bool; `shape=` for empty
 *   arrays of rank > 1 and for summarised ones.
 * Tracers print as `Traced<float64[3]>`, as they have no values.
 */
import { Array, ConcreteArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import { fmtShape } from "../core/errors.js";

/** NumPy's print options (their defaults). */
const LINE_WIDTH = 75;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const PRECISION = 8;

/** The shortest decimal digits of v (as its dtype stores it): [mantissa digits, exponent]. */
function shortestDigits(v: number, dtype: DType): { digits: string; exp: number } {
  let s: string;
  if (dtype === "float32") {
    // The fewest significant digits that read back to the same float32.
    let p = 1;
    while (p < 9 && Math.fround(Number(v.toPrecision(p))) !== v) p++;
    s = Number(v.toPrecision(p)).toExponential();
  } else {
    s = v.toExponential();
  }
  const [mant, e] = s.replace(/^-/, "").split("e") as [string, string];
  return { digits: mant.replace(".", ""), exp: Number(e) };
}

/** Positional text of |v| with at most PRECISION fractional digits, trailing zeros trimmed. */
function positional(v: number, dtype: DType): string {
  const { digits, exp } = shortestDigits(v, dtype);
  let intPart: string;
  let frac: string;
  if (exp >= 0) {
    const padded = digits.padEnd(exp + 1, "0");
    intPart = padded.slice(0, exp + 1);
    frac = padded.slice(exp + 1);
  } else {
    intPart = "0";
    frac = "0".repeat(-exp - 1) + digits;
  }
  if (frac.length > PRECISION) {
    // Round the value itself (not the shortest digits) to PRECISION places.
    const fixed = Math.abs(v).toFixed(PRECISION);
    [intPart, frac] = fixed.split(".") as [string, string];
    frac = frac.replace(/0+$/, "");
  }
  if (frac === "0") frac = "";
  return `${v < 0 || Object.is(v, -0) ? "-" : ""}${intPart}.${frac}`;
}

/** Scientific parts of v: sign+first digit, fractional digits (at most PRECISION), exponent. */
function scientificParts(v: number, dtype: DType): [string, string, number] {
  let { digits, exp } = shortestDigits(v, dtype);
  if (digits.length - 1 > PRECISION) {
    const rounded = Math.abs(v).toExponential(PRECISION);
    const [mant, e] = rounded.split("e") as [string, string];
    digits = mant.replace(".", "").replace(/0+$/, "");
    exp = Number(e);
  }
  digits = digits.replace(/(?<=.)0+$/, "");
  if (v === 0) {
    digits = "0";
    exp = 0;
  }
  const sign = v < 0 || Object.is(v, -0) ? "-" : "";
  return [sign + digits[0]!, digits.slice(1), exp];
}

/** A function formatting every element of `values` the way NumPy's formatter for them does. */
function elementFormatter(values: readonly number[], dtype: DType, is0d: boolean) {
  if (dtype === "bool") {
    return (v: number) => (v ? (is0d ? "True" : " True") : "False");
  }
  if (dtype === "int32") {
    const width = values.reduce((w, v) => Math.max(w, String(v).length), 0);
    return (v: number) => String(v).padStart(width);
  }
  const finite = values.filter((v) => Number.isFinite(v));
  const nonZero = finite.filter((v) => v !== 0).map(Math.abs);
  let scientific = false;
  if (nonZero.length > 0) {
    const max = Math.max(...nonZero);
    const min = Math.min(...nonZero);
    scientific = max >= 1e8 || min < 1e-4 || max / min > 1000;
  }
  let padLeft = 0;
  let padRight = 0;
  let format: (v: number) => string;
  if (finite.length === 0) {
    format = () => "";
  } else if (scientific) {
    const parts = finite.map((v) => scientificParts(v, dtype));
    const precision = parts.reduce((p, [, f]) => Math.max(p, f.length), 0);
    const expDigits = parts.reduce((d, [, , e]) => Math.max(d, String(Math.abs(e)).length), 2);
    padLeft = parts.reduce((p, [i]) => Math.max(p, i.length), 0);
    padRight = expDigits + 2 + precision;
    format = (v) => {
      const [i, f, e] = scientificParts(v, dtype);
      const exp = `${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(expDigits, "0")}`;
      return `${i.padStart(padLeft)}.${f.padEnd(precision, "0")}e${exp}`;
    };
  } else {
    const strs = finite.map((v) => positional(v, dtype).split(".") as [string, string]);
    padLeft = strs.reduce((p, [i]) => Math.max(p, i.length), 0);
    padRight = strs.reduce((p, [, f]) => Math.max(p, f.length), 0);
    format = (v) => {
      const [i, f] = positional(v, dtype).split(".") as [string, string];
      return `${i.padStart(padLeft)}.${f.padEnd(padRight)}`;
    };
  }
  if (finite.length !== values.length) {
    const negInf = values.some((v) => v === -Infinity);
    const offset = padRight + 1;
    padLeft = Math.max(padLeft, 3 - offset, 3 + (negInf ? 1 : 0) - offset);
  }
  return (v: number): string => {
    if (Number.isNaN(v)) return "nan".padStart(padLeft + padRight + 1);
    if (!Number.isFinite(v)) return (v > 0 ? "inf" : "-inf").padStart(padLeft + padRight + 1);
    return format(v);
  };
}

/** Python's text of a shape tuple: (3,) or (2, 3). */
function pyShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/** Indices kept along an axis of length n (all, or the edge items when summarising). */
function keptIndices(n: number, summarise: boolean): number[] {
  const all = globalThis.Array.from({ length: n }, (_, i) => i);
  if (!summarise || n <= 2 * EDGE_ITEMS) return all;
  return [...all.slice(0, EDGE_ITEMS), ...all.slice(n - EDGE_ITEMS)];
}

/** Appends `word` to the current line, wrapping first when it would pass `width`. */
function extendLine(
  out: { s: string; line: string },
  word: string,
  width: number,
  indent: string,
): void {
  if (out.line.length + word.length > width && out.line.length > indent.length) {
    out.s += out.line.trimEnd() + "\n";
    out.line = indent;
  }
  out.line += word;
}

/** NumPy's repr text of a concrete array. */
function formatConcrete(x: ConcreteArray): string {
  const { shape, dtype } = x;
  const size = x.size;
  const buffer = x.buffer;
  const prefix = "array(";
  const extras: string[] = [];
  const summarise = size > THRESHOLD;
  if ((size === 0 && shape.length !== 1) || summarise) extras.push(`shape=${pyShape(shape)}`);
  if ((dtype !== "float64" && dtype !== "bool") || size === 0) extras.push(`dtype=${dtype}`);
  const suffix = extras.length === 0 ? ")" : ",";

  let body: string;
  if (size === 0) {
    body = "[]";
  } else {
    const strides: number[] = [];
    let acc = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      strides[d] = acc;
      acc *= shape[d]!;
    }
    // The elements shown (the edge items only when summarising) decide the format.
    const shown: number[] = [];
    const collect = (dim: number, offset: number): void => {
      if (dim === shape.length) {
        shown.push(buffer[offset]!);
        return;
      }
      for (const i of keptIndices(shape[dim]!, summarise))
        collect(dim + 1, offset + i * strides[dim]!);
    };
    collect(0, 0);
    const fmt = elementFormatter(shown, dtype, shape.length === 0);
    const separator = ", ";
    const recurse = (dim: number, offset: number, indent: string, width: number): string => {
      if (dim === shape.length) return fmt(buffer[offset]!);
      const nextIndent = indent + " ";
      const nextWidth = width - 1;
      const n = shape[dim]!;
      const showSummary = summarise && n > 2 * EDGE_ITEMS;
      const lead = showSummary ? EDGE_ITEMS : n;
      const trailStart = showSummary ? n - EDGE_ITEMS : n;
      const idx = [...keptIndices(n, showSummary)];
      let s: string;
      if (dim === shape.length - 1) {
        const elemWidth = width - Math.max(separator.trimEnd().length, 1);
        const out = { s: "", line: indent };
        idx.forEach((i, k) => {
          const word = recurse(dim + 1, offset + i * strides[dim]!, nextIndent, nextWidth);
          const last = k === idx.length - 1;
          extendLine(out, word, last ? width - 1 : elemWidth, indent);
          if (!last) out.line += separator;
          if (showSummary && k === lead - 1) {
            extendLine(out, "...", elemWidth, indent);
            out.line += separator;
          }
        });
        s = out.s + out.line;
      } else {
        const lineSep = separator.trimEnd() + "\n".repeat(shape.length - dim - 1);
        s = "";
        idx.forEach((i, k) => {
          const nested = recurse(dim + 1, offset + i * strides[dim]!, nextIndent, nextWidth);
          s += indent + nested;
          if (k < idx.length - 1) s += lineSep;
          if (showSummary && i === lead - 1 && trailStart > lead) s += indent + "..." + lineSep;
        });
      }
      return "[" + s.slice(indent.length) + "]";
    };
    body =
      shape.length === 0
        ? fmt(buffer[0]!)
        : recurse(0, 0, " ".repeat(prefix.length + 1), LINE_WIDTH - suffix.length);
  }
  if (extras.length === 0) return `${prefix}${body})`;
  const arrStr = `${prefix}${body},`;
  const extraStr = `${extras.join(", ")})`;
  const lastLineLen = arrStr.length - (arrStr.lastIndexOf("\n") + 1);
  const spacer =
    lastLineLen + extraStr.length + 1 > LINE_WIDTH ? "\n" + " ".repeat(prefix.length) : " ";
  return arrStr + spacer + extraStr;
}

/** NumPy's repr of an array's values; `Traced<dtype[shape]>` for a tracer. */
export function formatArray(x: Array): string {
  if (x.requiresGrad && !(x instanceof ConcreteArray)) {
    // An imperative array: its values are known; say that it records (as PyTorch prints).
    return `${formatArray(x.detach()).slice(0, -1)}, requiresGrad=true)`;
  }
  if (!(x instanceof ConcreteArray)) {
    return `Traced<${x.dtype}${fmtShape(x.shape)}>`;
  }
  return formatConcrete(x);
}
