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
import type { VectorOp } from "../../core/primitive.js";

/** Threads per workgroup of the 1-D kernels. */
export const WORKGROUP = 256;
/** Side of a matrix-product tile (TILE x TILE threads per workgroup). */
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
  max: { operands: "numeric", expr: ([a, b]) => `maxNan(${a}, ${b})` },
  min: { operands: "numeric", expr: ([a, b]) => `minNan(${a}, ${b})` },
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

const NAN_HELPERS = (t: string): string =>
  t === "f32"
    ? `fn maxNan(a: f32, b: f32) -> f32 { if (a != a || b != b) { return a + b; } return select(b, a, a >= b); }
fn minNan(a: f32, b: f32) -> f32 { if (a != a || b != b) { return a + b; } return select(b, a, a <= b); }`
    : `fn maxNan(a: ${t}, b: ${t}) -> ${t} { return max(a, b); }
fn minNan(a: ${t}, b: ${t}) -> ${t} { return min(a, b); }`;

/** The linear thread index of a 1-D kernel dispatched as a 2-D grid of workgroups. */
const INDEX = `let i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;`;
const ENTRY = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;

/** The WGSL expression of one element of vector form `op` on operands of `inDtypes`. */
export function vectorExpr(op: VectorOp, inDtypes: readonly DType[], out: DType): string {
  const ins = inDtypes.map(wgslType);
  // Arithmetic happens in the operands' type (the last operand: select's condition is first).
  return FORMS[op].expr(operandExprs(ins.length), wgslType(out), ins[ins.length - 1]!);
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
  return `${NAN_HELPERS(ins[ins.length - 1]!)}
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
  let ndim = params[1];
  var rest = i32(i);
  var src = params[2];
  for (var d = ndim - 1; d >= 0; d = d - 1) {
    let size = params[3 + d];
    src = src + (rest % size) * params[3 + ndim + d];
    rest = rest / size;
  }
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
  let ndim = params[1];
  var rest = i32(i);
  var dst = params[2];
  for (var d = ndim - 1; d >= 0; d = d - 1) {
    let size = params[3 + d];
    dst = dst + (rest % size) * params[3 + ndim + d];
    rest = rest / size;
  }
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
 * Row reductions: x is [rows, cols] row-major; one workgroup per row, each
 * thread folds a strided part of the row, then a tree over workgroup memory.
 * params (u32): [rows, cols, bits of the float32 identity].
 */
export function reduceSource(op: GpuReduceOp, dtype: DType): string {
  const t = wgslType(dtype);
  const combine = op === "sum" ? "a + b" : op === "max" ? "maxNan(a, b)" : "minNan(a, b)";
  return `${NAN_HELPERS(t)}
fn combine(a: ${t}, b: ${t}) -> ${t} { return ${combine}; }
@group(0) @binding(0) var<storage, read> x: array<${t}>;
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
@group(0) @binding(2) var<storage, read> params: array<u32>;
var<workgroup> part: array<${t}, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  let rows = params[0];
  let cols = params[1];
  var acc = ${reduceIdentity(op, t)};
  if (row < rows) {
    for (var c = lid; c < cols; c = c + ${WORKGROUP}u) {
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
  if (lid == 0u && row < rows) {
    out[row] = part[0];
  }
}`;
}

/**
 * Batched C = op(A) op(B) in TILE x TILE output tiles: each workgroup loads a
 * TILE x TILE block of A and of B into workgroup memory per step along k.
 * params (u32): [m, k, n]; workgroup z is the batch entry.
 */
export function matmulSource(dtype: DType, transposeA: boolean, transposeB: boolean): string {
  const t = wgslType(dtype);
  const aAt = transposeA ? "a[aBase + kk * m + row]" : "a[aBase + row * k + kk]";
  const bAt = transposeB ? "b[bBase + col * k + kk]" : "b[bBase + kk * n + col]";
  return `@group(0) @binding(0) var<storage, read> a: array<${t}>;
@group(0) @binding(1) var<storage, read> b: array<${t}>;
@group(0) @binding(2) var<storage, read_write> out: array<${t}>;
@group(0) @binding(3) var<storage, read> params: array<u32>;
var<workgroup> tileA: array<array<${t}, ${TILE}>, ${TILE}>;
var<workgroup> tileB: array<array<${t}, ${TILE}>, ${TILE}>;
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m = params[0];
  let k = params[1];
  let n = params[2];
  let batch = wid.z;
  let aBase = batch * m * k;
  let bBase = batch * k * n;
  let outRow = wid.y * ${TILE}u + lid.y;
  let outCol = wid.x * ${TILE}u + lid.x;
  var acc = ${t}(0);
  let steps = (k + ${TILE - 1}u) / ${TILE}u;
  for (var s = 0u; s < steps; s = s + 1u) {
    {
      let row = outRow;
      let kk = s * ${TILE}u + lid.x;
      var v = ${t}(0);
      if (row < m && kk < k) { v = ${aAt}; }
      tileA[lid.y][lid.x] = v;
    }
    {
      let col = outCol;
      let kk = s * ${TILE}u + lid.y;
      var v = ${t}(0);
      if (kk < k && col < n) { v = ${bAt}; }
      tileB[lid.y][lid.x] = v;
    }
    workgroupBarrier();
    for (var j = 0u; j < ${TILE}u; j = j + 1u) {
      acc = acc + tileA[lid.y][j] * tileB[j][lid.x];
    }
    workgroupBarrier();
  }
  if (outRow < m && outCol < n) {
    out[batch * m * n + outRow * n + outCol] = acc;
  }
}`;
}
