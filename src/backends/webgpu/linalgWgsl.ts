/**
 * WGSL of the webgpu backend's small dense solvers (the device kernel
 * `denseLinalg`): Cholesky factors, triangular solves, LU solves and
 * determinants of stacks of float32 matrices up to 64 x 64, one invocation
 * per matrix (per matrix and right-hand column for triangular solves), in
 * the same order of operations as the CPU backends' loops
 * (primitives/linalg.ts). A kernel cannot throw: where the CPU backends
 * raise an error (a matrix that is not positive definite, a singular
 * system) these give NaN or infinities.
 *
 * params (u32): [matrices (or matrix-columns), n, k (right-hand columns), lower (1 or 0)].
 */
import type { DenseLinalgOp } from "../../core/primitive.js";
import { libraryFor } from "./kernels.js";

/** Invocations per workgroup of the solver kernels (each works alone on its matrix). */
export const LINALG_WORKGROUP = 64;

/** The largest n the solver kernels take (one invocation works through an n x n matrix). */
export const LINALG_MAX_N = 64;

const ENTRY = `@compute @workgroup_size(${LINALG_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let m = gid.x + gid.y * nwg.x * ${LINALG_WORKGROUP}u;
  if (m >= params[0]) { return; }
  let n = params[1];
  let k = params[2];`;

/**
 * Gaussian elimination with partial pivoting of the matrix copied to
 * work[ao ..] (the largest |entry| of the column as pivot, rows swapped,
 * a zero pivot skipped as on the CPU), the multipliers stored below the
 * diagonal; `alongside` is run for each row swap (p, j) and elimination
 * step (row i minus f times row j) so a right-hand side follows.
 */
function eliminate(swapAlongside: string, subtractAlongside: string): string {
  return `for (var i = 0u; i < n * n; i = i + 1u) { work[ao + i] = a[ao + i]; }
  var sign = 1.0;
  for (var j = 0u; j < n; j = j + 1u) {
    var p = j;
    var best = abs(work[ao + j * n + j]);
    for (var i = j + 1u; i < n; i = i + 1u) {
      let v = abs(work[ao + i * n + j]);
      if (v > best) { best = v; p = i; }
    }
    if (p != j) {
      for (var c = 0u; c < n; c = c + 1u) {
        let t = work[ao + j * n + c];
        work[ao + j * n + c] = work[ao + p * n + c];
        work[ao + p * n + c] = t;
      }
      ${swapAlongside}
      sign = -sign;
    }
    let pivot = work[ao + j * n + j];
    if (pivot == 0.0) { continue; }
    for (var i = j + 1u; i < n; i = i + 1u) {
      let f = work[ao + i * n + j] / pivot;
      work[ao + i * n + j] = f;
      for (var c = j + 1u; c < n; c = c + 1u) {
        work[ao + i * n + c] = work[ao + i * n + c] - f * work[ao + j * n + c];
      }
      ${subtractAlongside}
    }
  }`;
}

const BINDINGS_AB = `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;`;

/** x = A^-1 b by LU with partial pivoting, b's rows swapped and eliminated alongside. */
function solveSource(): string {
  return `${BINDINGS_AB}
@group(0) @binding(3) var<storage, read_write> work: array<f32>;
@group(0) @binding(4) var<storage, read> params: array<u32>;
${ENTRY}
  let ao = m * n * n;
  let bo = m * n * k;
  for (var i = 0u; i < n * k; i = i + 1u) { out[bo + i] = b[bo + i]; }
  ${eliminate(
    `for (var c = 0u; c < k; c = c + 1u) {
        let t = out[bo + j * k + c];
        out[bo + j * k + c] = out[bo + p * k + c];
        out[bo + p * k + c] = t;
      }`,
    `for (var c = 0u; c < k; c = c + 1u) {
        out[bo + i * k + c] = out[bo + i * k + c] - f * out[bo + j * k + c];
      }`,
  )}
  for (var t = 0u; t < n; t = t + 1u) {
    let i = n - 1u - t;
    for (var c = 0u; c < k; c = c + 1u) {
      var s = out[bo + i * k + c];
      for (var j = i + 1u; j < n; j = j + 1u) { s = s - work[ao + i * n + j] * out[bo + j * k + c]; }
      out[bo + i * k + c] = s / work[ao + i * n + i];
    }
  }
}`;
}

/** det (sign times the pivots' product), log|det| (sum of log|pivot|) or the sign (1, -1, 0). */
function determinantSource(op: "det" | "logAbsDet" | "detSign"): string {
  const init = op === "logAbsDet" ? "0.0" : "sign";
  const fold =
    op === "det"
      ? "v = v * d;"
      : op === "logAbsDet"
        ? "v = v + logF32(abs(d));"
        : "v = v * select(select(0.0, -1.0, d < 0.0), 1.0, d > 0.0);";
  const body = `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> work: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<u32>;
${ENTRY}
  let ao = m * n * n;
  ${eliminate("", "")}
  var v = ${init};
  for (var i = 0u; i < n; i = i + 1u) {
    let d = work[ao + i * n + i];
    ${fold}
  }
  out[m] = v;
}`;
  return `${libraryFor(body)}\n${body}`;
}

/**
 * x = T^-1 b, T the lower (params[3] = 1) or upper triangle of A, by
 * forward or back substitution; one invocation per (matrix, column).
 */
function triangularSource(): string {
  return `${BINDINGS_AB}
@group(0) @binding(3) var<storage, read> params: array<u32>;
${ENTRY}
  let lower = params[3] == 1u;
  let c = m % k;
  let ao = (m / k) * n * n;
  let bo = (m / k) * n * k;
  for (var t = 0u; t < n; t = t + 1u) {
    let i = select(n - 1u - t, t, lower);
    var s = b[bo + i * k + c];
    let j0 = select(i + 1u, 0u, lower);
    let j1 = select(n, i, lower);
    for (var j = j0; j < j1; j = j + 1u) { s = s - a[ao + i * n + j] * out[bo + j * k + c]; }
    out[bo + i * k + c] = s / a[ao + i * n + i];
  }
}`;
}

/**
 * L with L L^T = (A + A^T) / 2 (the symmetric part, as on the CPU), column
 * by column; a pivot that is not positive gives NaN (the CPU backends throw).
 */
function choleskySource(): string {
  return `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> params: array<u32>;
var<private> NAN_BITS: u32 = 0x7fc00000u;
${ENTRY}
  let o = m * n * n;
  for (var j = 0u; j < n; j = j + 1u) {
    var d = a[o + j * n + j];
    for (var c = 0u; c < j; c = c + 1u) { d = d - out[o + j * n + c] * out[o + j * n + c]; }
    var ljj = bitcast<f32>(NAN_BITS);
    if (d > 0.0) { ljj = sqrt(d); }
    out[o + j * n + j] = ljj;
    for (var i = j + 1u; i < n; i = i + 1u) {
      var s = 0.5 * (a[o + i * n + j] + a[o + j * n + i]);
      for (var c = 0u; c < j; c = c + 1u) { s = s - out[o + i * n + c] * out[o + j * n + c]; }
      out[o + i * n + j] = s / ljj;
      out[o + j * n + i] = 0.0;
    }
  }
}`;
}

/** The WGSL source of one dense solver kernel. */
export function denseLinalgSource(op: DenseLinalgOp): string {
  switch (op) {
    case "solve":
      return solveSource();
    case "triangularSolve":
      return triangularSource();
    case "cholesky":
      return choleskySource();
    case "det":
    case "logAbsDet":
    case "detSign":
      return determinantSource(op);
  }
}
