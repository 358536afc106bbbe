/**
 * WGSL source of the webgpu backend's compute shaders: elementwise maps
 * (from the primitives' declared `vector` forms), a strided gather
 * (broadcast, transpose, slice), row reductions with a workgroup tree, and a
 * batched matrix product in 16 x 16 workgroup tiles. Sources are pure
 * functions of the operation and dtypes; sizes travel in a small `params`
 * buffer, so one compiled pipeline serves every shape.
 *
 * Storage: float32 as f32, int32 as i32, bool as u32 (0 or 1; WGSL has no
 * 8-bit storage type).
 */
import type { DType } from "../../core/dtype.js";
import type { ElementwiseRule, VectorOp } from "../../core/primitive.js";
import { SPECIAL_WGSL } from "./specialWgsl.js";

/** Threads per workgroup of the 1-D kernels. */
export const WORKGROUP = 256;
/** Threads along each side of a matrix-product workgroup (each computes 4 x 4 outputs). */
export const TILE = 16;

/** The WGSL storage type of a (GPU-capable) dtype. */
export function wgslType(dtype: DType): "f32" | "i32" | "u32" {
  switch (dtype) {
    case "float32":
      return "f32";
    case "int32":
      return "i32";
    case "bool":
      return "u32";
    case "float64":
      throw new Error("internal error: float64 reached a WGSL kernel");
  }
}

/** Which operand dtypes an elementwise form accepts on the GPU. */
type Operands = "float" | "numeric" | "any" | "bool";

interface WgslForm {
  readonly operands: Operands;
  /** The WGSL expression of one element from the operand expressions and the output type. */
  readonly expr: (args: readonly string[], out: "f32" | "i32" | "u32", inType: string) => string;
}

const b01 = (cond: string): string => `select(0u, 1u, ${cond})`;

/**
 * The WGSL form of every Wasm vector form (`VectorOp`): a `Record`, so a new
 * form added to the union fails tsc until it has an entry here. JS semantics
 * kept: max/min propagate NaN (WGSL's max/min need not), int32 arithmetic
 * wraps as Math.imul and `| 0` do, comparisons give bool (0/1).
 */
const FORMS: Record<VectorOp, WgslForm> = {
  add: { operands: "numeric", expr: ([a, b]) => `${a} + ${b}` },
  sub: { operands: "numeric", expr: ([a, b]) => `${a} - ${b}` },
  mul: { operands: "numeric", expr: ([a, b]) => `${a} * ${b}` },
  div: { operands: "float", expr: ([a, b]) => `${a} / ${b}` },
  neg: { operands: "numeric", expr: ([a]) => `-${a}` },
  abs: { operands: "numeric", expr: ([a]) => `abs(${a})` },
  sqrt: { operands: "float", expr: ([a]) => `sqrt(${a})` },
  exp: { operands: "float", expr: ([a]) => `exp(${a})` },
  log: { operands: "float", expr: ([a]) => `log(${a})` },
  sin: { operands: "float", expr: ([a]) => `sin(${a})` },
  cos: { operands: "float", expr: ([a]) => `cos(${a})` },
  max: {
    operands: "numeric",
    expr: ([a, b], _o, t) => `${t === "f32" ? "maxNan" : "max"}(${a}, ${b})`,
  },
  min: {
    operands: "numeric",
    expr: ([a, b], _o, t) => `${t === "f32" ? "minNan" : "min"}(${a}, ${b})`,
  },
  eq: { operands: "any", expr: ([a, b]) => b01(`${a} == ${b}`) },
  ne: { operands: "any", expr: ([a, b]) => b01(`${a} != ${b}`) },
  lt: { operands: "any", expr: ([a, b]) => b01(`${a} < ${b}`) },
  gt: { operands: "any", expr: ([a, b]) => b01(`${a} > ${b}`) },
  le: { operands: "any", expr: ([a, b]) => b01(`${a} <= ${b}`) },
  ge: { operands: "any", expr: ([a, b]) => b01(`${a} >= ${b}`) },
  and: { operands: "bool", expr: ([a, b]) => `${a} & ${b}` },
  or: { operands: "bool", expr: ([a, b]) => `${a} | ${b}` },
  not: { operands: "bool", expr: ([a]) => `1u - ${a}` },
  select: { operands: "any", expr: ([p, a, b]) => `select(${b}, ${a}, ${p} != 0u)` },
  convert: { operands: "any", expr: ([a], out, inType) => convertExpr(a!, inType, out) },
  identity: { operands: "any", expr: ([a]) => a! },
};

function convertExpr(a: string, from: string, to: string): string {
  if (from === to) return a;
  // NaN is falsy in JS: NaN converts to false, as x ? 1 : 0 does.
  if (to === "u32" && from === "f32") return b01(`${a} != 0.0 && ${a} == ${a}`);
  if (to === "u32") return b01(`${a} != ${from}(0)`);
  // float32 -> int32 truncates toward zero, as `x | 0` does in range.
  return `${to}(${a})`;
}

/** Why an elementwise form cannot run on the GPU for these operand dtypes, or null when it can. */
export function elementwiseUnsupported(op: VectorOp, inDtypes: readonly DType[]): string | null {
  const form = FORMS[op];
  const ok = inDtypes.every((d, i) => {
    if (op === "select" && i === 0) return d === "bool";
    switch (form.operands) {
      case "float":
        return d === "float32";
      case "numeric":
        return d === "float32" || d === "int32";
      case "bool":
        return d === "bool";
      case "any":
        return true;
    }
  });
  return ok ? null : `operand dtypes ${inDtypes.join(", ")} are not supported by its WGSL form`;
}

/** The linear thread index of a 1-D kernel dispatched as a 2-D grid of workgroups. */
const INDEX = `let i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;`;
const ENTRY = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;

/** The WGSL expression of one element of vector form `op` on `operands` of `inDtypes`. */
export function vectorExpr(
  op: VectorOp,
  inDtypes: readonly DType[],
  out: DType,
  operands: readonly string[] = operandExprs(inDtypes.length),
): string {
  const ins = inDtypes.map(wgslType);
  // Arithmetic happens in the operands' type (the last operand: select's condition is first).
  return FORMS[op].expr(operands, wgslType(out), ins[ins.length - 1]!);
}

/**
 * The WGSL expression of one element of an elementwise rule on `operands`
 * (WGSL expressions of `inDtypes`), for a result of `out`; or, when the rule
 * has no WGSL form for these dtypes, the reason. In order: the rule's int32
 * form (int32 operands and result), its vector form, its float32 form.
 */
export function ruleExpr(
  rule: ElementwiseRule<unknown>,
  inDtypes: readonly DType[],
  out: DType,
  operands: readonly string[],
): { expr: string } | { why: string } {
  if (out === "int32" && rule.wgslInt32 !== undefined && inDtypes.every((d) => d === "int32")) {
    return { expr: rule.wgslInt32(operands) };
  }
  if (rule.vector !== undefined) {
    const why = elementwiseUnsupported(rule.vector, inDtypes);
    if (why === null) return { expr: vectorExpr(rule.vector, inDtypes, out, operands) };
    if (rule.wgsl === undefined) return { why };
  }
  if (rule.wgsl !== undefined) {
    if (inDtypes.every((d) => d === "float32") && out === "float32") {
      return { expr: rule.wgsl(operands) };
    }
    return {
      why: `its WGSL form takes float32${rule.wgslInt32 === undefined ? "" : " or int32"}, got ${inDtypes.join(", ")}`,
    };
  }
  if (rule.wgslInt32 !== undefined) {
    return { why: `its WGSL form takes int32, got ${inDtypes.join(", ")}` };
  }
  return { why: "it has no WGSL form yet" };
}

/*
 * The kernel library: WGSL functions that elementwise declarations may call
 * by name in their `wgsl`/`wgslInt32` expressions (JS semantics that WGSL's
 * builtins do not give). A shader includes the ones its expressions
 * mention (and what those call). Infinities and NaN come from private
 * variables: WGSL constant expressions may not hold them.
 */
const INF = "bitcast<f32>(INF_BITS)";
const NAN = "bitcast<f32>(NAN_BITS)";
export const WGSL_LIBRARY: Readonly<Record<string, string>> = {
  INF_BITS: "var<private> INF_BITS: u32 = 0x7f800000u;",
  NAN_BITS: "var<private> NAN_BITS: u32 = 0x7fc00000u;",
  // NaN by its bits: WGSL lets compilers assume no NaN occurs, so a != a may fold to false.
  isNanF32: `fn isNanF32(a: f32) -> bool { return (bitcast<u32>(a) & 0x7fffffffu) > 0x7f800000u; }`,
  // max/min propagating NaN as JS does (WGSL's max/min need not).
  maxNan: `fn maxNan(a: f32, b: f32) -> f32 {
  if (isNanF32(a) || isNanF32(b)) { return a + b; }
  return select(b, a, a >= b);
}`,
  minNan: `fn minNan(a: f32, b: f32) -> f32 {
  if (isNanF32(a) || isNanF32(b)) { return a + b; }
  return select(b, a, a <= b);
}`,
  // Math.pow: |a|^b = exp2(b log2 |a|); the sign of a negative base (and of
  // -0) by b's parity; NaN for a negative base and a non-integer b; a^0 = 1
  // even for NaN; 0^b = 0 or inf by b's sign; 1^b = 1 for every b (NaN
  // too) and (-1)^±inf = 1, as C's pow and the other backends (primitives/
  // elementwise.ts ieeePow) give, where b log2 1 = inf * 0 would be NaN.
  jsPow: `fn jsPow(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0 || (a == -1.0 && abs(b) == ${INF})) { return 1.0; }
  let negative = (bitcast<u32>(a) >> 31u) == 1u;
  let integral = b == floor(b);
  let odd = integral && abs(b) < 16777216.0 && (i32(abs(b)) & 1) == 1;
  var m: f32;
  if (a == 0.0) { m = select(0.0, ${INF}, b < 0.0); } else { m = exp2(b * log2(abs(a))); }
  if (a < 0.0 && !integral) { return ${NAN}; }
  return select(m, -m, negative && odd);
}`,
  // log(1 + x): a Taylor polynomial for |x| < 0.05 (relative error below
  // x^5 / 6 < 6e-8, where log(1 + x) would lose x's low bits in 1 + x).
  jsLog1p: `fn jsLog1p(x: f32) -> f32 {
  if (abs(x) < 0.05) {
    return x * (1.0 + x * (-0.5 + x * (0.33333334 + x * (-0.25 + x * 0.2))));
  }
  return log(1.0 + x);
}`,
  // exp(x) - 1: a Taylor polynomial for |x| < 0.05 (error below x^6 / 720),
  // where exp(x) - 1 would cancel.
  jsExpm1: `fn jsExpm1(x: f32) -> f32 {
  if (abs(x) < 0.05) {
    return x * (1.0 + x * (0.5 + x * (0.16666667 + x * (0.041666668 + x * 0.008333334))));
  }
  return exp(x) - 1.0;
}`,
  // erf: for |x| < 0.5 the Maclaurin series 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1))
  // to n = 5 (relative error below 2e-8); beyond, Abramowitz and Stegun 7.1.26,
  // 1 - t (a1 + t (a2 + ...)) exp(-x^2) with t = 1 / (1 + p |x|) (absolute error below 1.5e-7).
  jsErf: `fn jsErf(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.5) {
    let x2 = x * x;
    return x * (1.1283791671 + x2 * (-0.37612638903 + x2 * (0.11283791671 +
      x2 * (-0.026866170645 + x2 * (0.0052239776254 + x2 * -0.00085483270148)))));
  }
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let y = 1.0 - poly * exp(-a * a);
  return select(y, -y, x < 0.0);
}`,
  // JS %: a - trunc(a / b) b with one rounding (fma), the sign of a on zero;
  // a finite dividend over an infinite divisor is the dividend.
  jsFmod: `fn jsFmod(a: f32, b: f32) -> f32 {
  if (abs(b) == ${INF} && abs(a) < ${INF}) { return a; }
  let r = fma(-b, trunc(a / b), a);
  if (r == 0.0) { return a * 0.0; }
  return r;
}`,
  // NumPy's mod: fmod moved by one divisor when its sign differs from the divisor's.
  jsRem: `fn jsRem(a: f32, b: f32) -> f32 {
  let m = jsFmod(a, b);
  if (m != 0.0) { return select(m, m + b, (m < 0.0) != (b < 0.0)); }
  return select(0.0, -0.0, b < 0.0);
}`,
  // NumPy's floor_divide on floats (see floorDivideScalar in primitives/elementwise.ts).
  jsFloorDivide: `fn jsFloorDivide(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return a / b; }
  let m = jsFmod(a, b);
  var q = (a - m) / b;
  if (m != 0.0 && ((m < 0.0) != (b < 0.0))) { q = q - 1.0; }
  if (q == 0.0) {
    let d = a / b;
    return select(0.0, -0.0, d < 0.0 || (bitcast<u32>(d) >> 31u) == 1u);
  }
  let f = floor(q);
  return select(f, f + 1.0, q - f > 0.5);
}`,
  // Math.hypot: scaled by the larger magnitude (no overflow in the squares).
  jsHypot: `fn jsHypot(a: f32, b: f32) -> f32 {
  let x = abs(a);
  let y = abs(b);
  if (x == ${INF} || y == ${INF}) { return ${INF}; }
  let m = max(x, y);
  if (m == 0.0) { return 0.0; }
  let p = x / m;
  let q = y / m;
  return m * sqrt(p * p + q * q);
}`,
  // int32 a / b as (a / b) | 0 in JS: truncated, 0 for b = 0, wrapping for -2^31 / -1.
  jsDivI32: `fn jsDivI32(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  if (b == -1) { return -a; }
  return a / b;
}`,
  jsFmodI32: `fn jsFmodI32(a: i32, b: i32) -> i32 {
  if (b == 0 || b == -1) { return 0; }
  return a % b;
}`,
  jsRemI32: `fn jsRemI32(a: i32, b: i32) -> i32 {
  if (b == 0 || b == -1) { return 0; }
  let m = a % b;
  return select(m, m + b, m != 0 && ((m < 0) != (b < 0)));
}`,
  jsFloorDivideI32: `fn jsFloorDivideI32(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  if (b == -1) { return -a; }
  let q = a / b;
  return select(q, q - 1, (a % b != 0) && ((a < 0) != (b < 0)));
}`,
  // int32 powers by squaring, wrapping (int32Power in primitives/elementwise.ts).
  jsPowI32: `fn jsPowI32(base: i32, exponent: i32) -> i32 {
  if (exponent < 0) {
    if (base == 1) { return 1; }
    if (base == -1) { return select(-1, 1, (exponent & 1) == 0); }
    return 0;
  }
  var result = 1;
  var b = base;
  var e = exponent;
  loop {
    if (e <= 0) { break; }
    if ((e & 1) == 1) { result = result * b; }
    b = b * b;
    e = e >> 1u;
  }
  return result;
}`,
  // The special functions (erfc, ndtr, lgamma, ...): specialWgsl.ts.
  ...SPECIAL_WGSL,
};

/** The library functions `code` mentions, and theirs, in dependency order. */
export function libraryFor(code: string): string {
  const included: string[] = [];
  const visit = (text: string): void => {
    for (const name of Object.keys(WGSL_LIBRARY)) {
      if (included.includes(name) || !new RegExp(`\\b${name}\\b`).test(text)) continue;
      const source = WGSL_LIBRARY[name]!;
      visit(source.replace(new RegExp(`^(fn|var<private>) ${name}\\b`), ""));
      included.push(name);
    }
  };
  visit(code);
  return included.map((n) => WGSL_LIBRARY[n]!).join("\n");
}

/** The operand expressions an elementwise expression is written in: in0[i], in1[i], ... */
export function operandExprs(arity: number): string[] {
  return Array.from({ length: arity }, (_, k) => `in${k}[i]`);
}

/** out[i] = expr (of in0[i], in1[i], ...); params[0] = element count. */
export function elementwiseSource(expr: string, inDtypes: readonly DType[], out: DType): string {
  const ins = inDtypes.map(wgslType);
  const outType = wgslType(out);
  const decls = ins
    .map((t, k) => `@group(0) @binding(${k}) var<storage, read> in${k}: array<${t}>;`)
    .join("\n");
  const n = ins.length;
  return `${libraryFor(expr)}
${decls}
@group(0) @binding(${n}) var<storage, read_write> out: array<${outType}>;
@group(0) @binding(${n + 1}) var<storage, read> params: array<u32>;
${ENTRY} {
  ${INDEX}
  if (i >= params[0]) { return; }
  out[i] = ${expr};
}`;
}

/**
 * WGSL statements declaring `name` = offset + sum_d idx_d(i) * strides[d],
 * idx(i) being element i's multi-index in the shape, for params (i32)
 * [n, ndim, offset, shape..., strides...] (the gather and the scatter).
 */
function stridedPosition(name: string): string {
  return `let ndim = params[1];
  var rest = i32(i);
  var ${name} = params[2];
  for (var d = ndim - 1; d >= 0; d = d - 1) {
    let size = params[3 + d];
    ${name} = ${name} + (rest % size) * params[3 + ndim + d];
    rest = rest / size;
  }`;
}

/**
 * out[j] = x[offset + sum_d idx_d(j) * strides[d]] for j in an array of
 * shape `shape`. params (i32): [n, ndim, offset, shape..., strides...].
 */
export function gatherSource(dtype: DType): string {
  const t = wgslType(dtype);
  return `@group(0) @binding(0) var<storage, read> x: array<${t}>;
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
@group(0) @binding(2) var<storage, read> params: array<i32>;
${ENTRY} {
  ${INDEX}
  let n = u32(params[0]);
  if (i >= n) { return; }
  ${stridedPosition("src")}
  out[i] = x[src];
}`;
}

/**
 * The converse of the gather: out[offset + sum_d idx_d(j) * strides[d]] =
 * x[j] for j in x's shape, positions distinct (pad into zeros,
 * concatenate). params (i32): [n, ndim, offset, x's shape..., strides...].
 */
export function scatterSource(dtype: DType): string {
  const t = wgslType(dtype);
  return `@group(0) @binding(0) var<storage, read> x: array<${t}>;
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
@group(0) @binding(2) var<storage, read> params: array<i32>;
${ENTRY} {
  ${INDEX}
  let n = u32(params[0]);
  if (i >= n) { return; }
  ${stridedPosition("dst")}
  out[dst] = x[i];
}`;
}

/** The reductions of the reduce kernel. */
export type GpuReduceOp = "sum" | "max" | "min";

function reduceIdentity(op: GpuReduceOp, t: string): string {
  if (op === "sum") return `${t}(0)`;
  if (t === "u32") return op === "max" ? "0u" : "1u";
  if (t === "i32") return op === "max" ? "(-2147483647 - 1)" : "2147483647";
  // -inf / +inf: WGSL constant expressions cannot hold infinities, so the bits come in params[2].
  return "bitcast<f32>(params[2])";
}

/** params[2] of the reduce kernel: the bits of a float32 max/min's identity (-inf / +inf). */
export function reduceIdentityBits(op: GpuReduceOp): number {
  return op === "max" ? 0xff800000 : op === "min" ? 0x7f800000 : 0;
}

/**
 * Row reductions: x is [rows, cols] row-major, each row cut into `parts`
 * chunks of `chunk` columns; one workgroup per (row, chunk) folds a strided
 * part of its chunk, then a tree over workgroup memory, and writes
 * out[row * parts + chunk index]. With parts = 1 that is the row's result;
 * with more, a second pass reduces the [rows, parts] partials (so a long row
 * is not folded by one workgroup alone).
 * params (u32): [rows * parts, cols, bits of the float32 identity, parts, chunk].
 */
export function reduceSource(op: GpuReduceOp, dtype: DType): string {
  const t = wgslType(dtype);
  const extreme = t === "f32" ? `${op}Nan` : op;
  const combine = op === "sum" ? "a + b" : `${extreme}(a, b)`;
  return `${libraryFor(combine)}
fn combine(a: ${t}, b: ${t}) -> ${t} { return ${combine}; }
@group(0) @binding(0) var<storage, read> x: array<${t}>;
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
@group(0) @binding(2) var<storage, read> params: array<u32>;
var<workgroup> part: array<${t}, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let groups = params[0];
  let cols = params[1];
  let parts = params[3];
  let chunk = params[4];
  let row = group / parts;
  let start = (group % parts) * chunk;
  let end = min(cols, start + chunk);
  var acc = ${reduceIdentity(op, t)};
  if (group < groups) {
    for (var c = start + lid; c < end; c = c + ${WORKGROUP}u) {
      acc = combine(acc, x[row * cols + c]);
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var half = ${WORKGROUP / 2}u; half > 0u; half = half / 2u) {
    if (lid < half) {
      part[lid] = combine(part[lid], part[lid + half]);
    }
    workgroupBarrier();
  }
  if (lid == 0u && group < groups) {
    out[group] = part[0];
  }
}`;
}

/**
 * Batched C = op(A) op(B) with register tiles: a workgroup of TILE x TILE
 * threads computes a BLOCK x BLOCK block of C (BLOCK = 4 TILE), each thread
 * a 4 x 4 tile of it in registers (four vec4 rows). Per step of TILE along
 * k, the workgroup stages A's BLOCK x TILE panel and B's TILE x BLOCK panel
 * in workgroup memory (B's rows as vec4), four elements per thread; then
 * each thread does 16 multiply-adds per k from one vec4 of B and four
 * scalars of A. Loads are vec4 too where the layout allows: A (not
 * transposed) when k is a multiple of 4, B (not transposed) when n is
 * (`vecA`/`vecB`: the operand is then bound as an array of vec4, every
 * vector aligned because row lengths and batch offsets are multiples of 4).
 * params (u32): [m, k, n]; workgroup z is the batch entry.
 */
export function matmulSource(
  dtype: DType,
  transposeA: boolean,
  transposeB: boolean,
  vecA = false,
  vecB = false,
): string {
  const t = wgslType(dtype);
  const v = `vec4<${t}>`;
  const aAt = (row: string, kk: string) =>
    transposeA ? `a[aBase + ${kk} * m + ${row}]` : `a[aBase + ${row} * k + ${kk}]`;
  const bAt = (kk: string, col: string) =>
    transposeB ? `b[bBase + ${col} * k + ${kk}]` : `b[bBase + ${kk} * n + ${col}]`;
  // A's panel: BLOCK rows x TILE k-values; 4 per thread.
  const loadA = vecA
    ? `{
      let row = blockRow + t / 4u;
      let kk = s * ${TILE}u + (t % 4u) * 4u;
      var q = ${v}(0);
      if (row < m && kk < k) { q = a[(aBase + row * k + kk) / 4u]; }
      let r = t / 4u;
      let c = (t % 4u) * 4u;
      tileA[r][c] = q.x; tileA[r][c + 1u] = q.y; tileA[r][c + 2u] = q.z; tileA[r][c + 3u] = q.w;
    }`
    : `for (var e = 0u; e < 4u; e = e + 1u) {
      let at = t * 4u + e;
      let r = at / ${TILE}u;
      let c = at % ${TILE}u;
      let row = blockRow + r;
      let kk = s * ${TILE}u + c;
      var q = ${t}(0);
      if (row < m && kk < k) { q = ${aAt("row", "kk")}; }
      tileA[r][c] = q;
    }`;
  // B's panel: TILE k-values x BLOCK columns (TILE vec4 per row); 4 per thread.
  const loadB = vecB
    ? `{
      let r = t / ${TILE}u;
      let c4 = t % ${TILE}u;
      let kk = s * ${TILE}u + r;
      let col = blockCol + c4 * 4u;
      var q = ${v}(0);
      if (kk < k && col < n) { q = b[(bBase + kk * n + col) / 4u]; }
      tileB[r][c4] = q;
    }`
    : `for (var e = 0u; e < 4u; e = e + 1u) {
      let at = t * 4u + e;
      let r = at / ${4 * TILE}u;
      let c = at % ${4 * TILE}u;
      let kk = s * ${TILE}u + r;
      let col = blockCol + c;
      var q = ${t}(0);
      if (kk < k && col < n) { q = ${bAt("kk", "col")}; }
      tileB[r][c / 4u][c % 4u] = q;
    }`;
  return `@group(0) @binding(0) var<storage, read> a: array<${vecA ? v : t}>;
@group(0) @binding(1) var<storage, read> b: array<${vecB ? v : t}>;
@group(0) @binding(2) var<storage, read_write> out: array<${t}>;
@group(0) @binding(3) var<storage, read> params: array<u32>;
var<workgroup> tileA: array<array<${t}, ${TILE}>, ${4 * TILE}>;
var<workgroup> tileB: array<array<${v}, ${TILE}>, ${TILE}>;
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m = params[0];
  let k = params[1];
  let n = params[2];
  let batch = wid.z;
  let aBase = batch * m * k;
  let bBase = batch * k * n;
  let blockRow = wid.y * ${4 * TILE}u;
  let blockCol = wid.x * ${4 * TILE}u;
  let t = lid.y * ${TILE}u + lid.x;
  var acc0 = ${v}(0);
  var acc1 = ${v}(0);
  var acc2 = ${v}(0);
  var acc3 = ${v}(0);
  let steps = (k + ${TILE - 1}u) / ${TILE}u;
  for (var s = 0u; s < steps; s = s + 1u) {
    ${loadA}
    ${loadB}
    workgroupBarrier();
    for (var j = 0u; j < ${TILE}u; j = j + 1u) {
      let bv = tileB[j][lid.x];
      acc0 = acc0 + tileA[lid.y * 4u][j] * bv;
      acc1 = acc1 + tileA[lid.y * 4u + 1u][j] * bv;
      acc2 = acc2 + tileA[lid.y * 4u + 2u][j] * bv;
      acc3 = acc3 + tileA[lid.y * 4u + 3u][j] * bv;
    }
    workgroupBarrier();
  }
  let row0 = blockRow + lid.y * 4u;
  let col0 = blockCol + lid.x * 4u;
  var rows = array<${v}, 4>(acc0, acc1, acc2, acc3);
  for (var r = 0u; r < 4u; r = r + 1u) {
    let row = row0 + r;
    if (row < m) {
      for (var c = 0u; c < 4u; c = c + 1u) {
        if (col0 + c < n) { out[batch * m * n + row * n + col0 + c] = rows[r][c]; }
      }
    }
  }
}`;
}

/**
 * gather along an axis: x viewed as [outer, len, inner], out as [outer, m,
 * inner] with out[o, j, i] = x[o, idx[j], i]; negative indices count from
 * the end, out-of-range ones are clamped (a GPU kernel cannot throw; the CPU
 * backends refuse them). params (u32): [n, len, m, inner].
 */
export function indexGatherSource(dtype: DType): string {
  const t = wgslType(dtype);
  return `@group(0) @binding(0) var<storage, read> x: array<${t}>;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<${t}>;
@group(0) @binding(3) var<storage, read> params: array<u32>;
${ENTRY} {
  ${INDEX}
  if (i >= params[0]) { return; }
  let len = params[1];
  let m = params[2];
  let inner = params[3];
  let within = i % inner;
  let j = (i / inner) % m;
  let o = i / (inner * m);
  var k = idx[j];
  if (k < 0) { k = k + i32(len); }
  let kk = u32(clamp(k, 0, i32(len) - 1));
  out[i] = x[(o * len + kk) * inner + within];
}`;
}

/**
 * scatterAdd along an axis, into a cleared out [outer, len, inner]: each
 * update u[o, j, i] is added to out[o, idx[j], i] atomically (float32 by a
 * compare-and-swap loop on the bits: WGSL has no float atomics), so repeated
 * indices sum; out-of-range indices are dropped. params (u32): [n, len, m, inner].
 */
export function scatterAddSource(dtype: DType): string {
  const float = dtype === "float32";
  const add = float
    ? `var old = atomicLoad(&out[dst]);
  loop {
    let next = bitcast<u32>(bitcast<f32>(old) + u[i]);
    let r = atomicCompareExchangeWeak(&out[dst], old, next);
    if (r.exchanged) { break; }
    old = r.old_value;
  }`
    : `atomicAdd(&out[dst], u[i]);`;
  return `@group(0) @binding(0) var<storage, read> u: array<${wgslType(dtype)}>;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<atomic<${float ? "u32" : "i32"}>>;
@group(0) @binding(3) var<storage, read> params: array<u32>;
${ENTRY} {
  ${INDEX}
  if (i >= params[0]) { return; }
  let len = params[1];
  let m = params[2];
  let inner = params[3];
  let within = i % inner;
  let j = (i / inner) % m;
  let o = i / (inner * m);
  var k = idx[j];
  if (k < 0) { k = k + i32(len); }
  if (k < 0 || k >= i32(len)) { return; }
  let dst = (o * len + u32(k)) * inner + within;
  ${add}
}`;
}

/**
 * Running sums along an axis: x viewed as [outer, len, inner], one thread
 * per (outer, inner) line summing it in order (from the end when reverse).
 * params (u32): [lines, len, inner, reverse].
 */
export function cumsumSource(dtype: DType): string {
  const t = wgslType(dtype);
  return `@group(0) @binding(0) var<storage, read> x: array<${t}>;
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
@group(0) @binding(2) var<storage, read> params: array<u32>;
${ENTRY} {
  ${INDEX}
  if (i >= params[0]) { return; }
  let len = params[1];
  let inner = params[2];
  let reverse = params[3] == 1u;
  let base = (i / inner) * len * inner + i % inner;
  var acc = ${t}(0);
  for (var s = 0u; s < len; s = s + 1u) {
    let k = select(s, len - 1u - s, reverse);
    let at = base + k * inner;
    acc = acc + x[at];
    out[at] = acc;
  }
}`;
}

/**
 * argmax / argmin of each row of x [rows, cols] (int32 positions): one
 * workgroup per row; each thread keeps its best (value, position) over a
 * strided part of the row, then a tree in workgroup memory. NaN wins (the
 * first NaN), ties go to the first position, as on the CPU backends.
 * params (u32): [rows, cols].
 */
export function argReduceSource(op: "argmax" | "argmin", dtype: DType): string {
  const t = wgslType(dtype);
  const better = op === "argmax" ? "a > b" : "a < b";
  // By the bits: WGSL lets compilers assume that no NaN occurs, so a != a may fold to false.
  const isNan = t === "f32" ? "isNanF32(a)" : "false";
  return `${t === "f32" ? WGSL_LIBRARY.isNanF32 : ""}
fn isNan(a: ${t}) -> bool { return ${isNan}; }
// Whether (a, ia) comes before (b, ib): NaN first, then the extreme value, then the lower position.
fn wins(a: ${t}, ia: u32, b: ${t}, ib: u32) -> bool {
  if (ib == 0xffffffffu) { return ia != 0xffffffffu; }
  if (ia == 0xffffffffu) { return false; }
  if (isNan(a) || isNan(b)) { return select(false, ia < ib || !isNan(b), isNan(a)); }
  if (a == b) { return ia < ib; }
  return ${better};
}
@group(0) @binding(0) var<storage, read> x: array<${t}>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<storage, read> params: array<u32>;
var<workgroup> bestValue: array<${t}, ${WORKGROUP}>;
var<workgroup> bestAt: array<u32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  let rows = params[0];
  let cols = params[1];
  var value = ${t}(0);
  var at = 0xffffffffu;
  if (row < rows) {
    for (var c = lid; c < cols; c = c + ${WORKGROUP}u) {
      let v = x[row * cols + c];
      if (wins(v, c, value, at)) { value = v; at = c; }
    }
  }
  bestValue[lid] = value;
  bestAt[lid] = at;
  workgroupBarrier();
  for (var half = ${WORKGROUP / 2}u; half > 0u; half = half / 2u) {
    if (lid < half && wins(bestValue[lid + half], bestAt[lid + half], bestValue[lid], bestAt[lid])) {
      bestValue[lid] = bestValue[lid + half];
      bestAt[lid] = bestAt[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u && row < rows) {
    out[row] = i32(bestAt[0]);
  }
}`;
}
