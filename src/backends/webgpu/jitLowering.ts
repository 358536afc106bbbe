/**
 * jit on the webgpu backend: a traced, optimised program lowered to GPU
 * work. The jit's own grouping (`planUnits` in jit/codegen.ts: runs of
 * elementwise equations of one shape, broadcasts into them, here of arrays
 * too, read at a computed index, and full sums of their members) decides
 * what fuses; each group becomes one WGSL
 * compute shader (split only where the device's limit on storage buffers per
 * shader would be passed, or around an equation without a WGSL form), so a
 * chain of k elementwise operations is one dispatch instead of k. Full sums
 * in a group are fused with their producers: each workgroup folds its
 * elements in registers and then in a workgroup-memory tree (one dispatch
 * when one workgroup covers the group, else one more that folds the
 * workgroups' partial sums). Every other equation runs as eager webgpu
 * evaluation does (`evaluateOnGpu`).
 *
 * Memory: a group's results that only other fused groups read live in the
 * program's arena, buffers allocated on the first call and rewritten by each
 * later one (safe without fences: the queue runs submissions in order, so a
 * later call's writes follow this call's reads). Results that leave the
 * program, or that eager kernels read (a reshape shares its input's buffer),
 * come from the pool as eager results do. Shaders are generated once per
 * program at compile time; their pipelines are cached by source.
 */
import { ConcreteArray } from "../../core/array.js";
import { shapeSize, shapesEqual, stridesOf } from "../../core/shape.js";
import type { Jaxpr, JaxprEqn, Var } from "../../ir/jaxpr.js";
import { planUnits } from "../../jit/codegen.js";
import type { GpuBuffer } from "./gpuTypes.js";
import { evaluateOnGpu } from "./evaluate.js";
import {
  WORKGROUP,
  libraryFor,
  reduceIdentityBits,
  reduceSource,
  ruleExpr,
  wgslType,
} from "./kernels.js";
import {
  type GpuArray,
  arenaBuffer,
  arenaGpuArray,
  dispatch,
  emptyGpuArray,
  groupsFor,
  inOneSubmission,
  onGpu,
  storageBufferLimit,
} from "./runtime.js";

/** What `compileForGpu` returns (the shape of the jit's CompiledProgram). */
export interface GpuProgram {
  run(inputs: readonly ConcreteArray[]): ConcreteArray[];
  readonly source: string;
}

/** Sums one fused shader folds at most (each takes a workgroup-memory array). */
const MAX_SUMS = 8;
/** Elements up to which one workgroup folds a group with sums (a single dispatch). */
const ONE_WORKGROUP_ELEMENTS = 1 << 16;
/** Workgroups at most for the partial sums of a larger group. */
const MAX_SUM_WORKGROUPS = 1024;

/** One fused shader: its equations, what it reads and what it writes. */
interface Fused {
  readonly kind: "fused";
  readonly eqns: readonly JaxprEqn[];
  readonly n: number;
  /** Read operands (array or 0-d), bound first, in order. */
  readonly inputs: readonly Var[];
  /** Elementwise results written per element, bound next. */
  readonly outputs: readonly Var[];
  /** Full sums (0-d results), bound after the outputs. */
  readonly sums: readonly Var[];
  /** The shader when one workgroup folds everything, and the one writing per-workgroup partials. */
  readonly source: string;
  readonly partialSource: string;
}

type Step = Fused | { readonly kind: "eager"; readonly eqn: JaxprEqn };

/** Whether every value an equation touches has a WGSL storage type (float64 has none). */
function gpuTyped(e: JaxprEqn): boolean {
  return [...e.inputs, e.out].every((v) => v.dtype !== "float64");
}

/** The WGSL expression of one element of `e` from operand expressions, or null without one. */
function elementOf(e: JaxprEqn, operands: readonly string[]): string | null {
  if (!gpuTyped(e) || e.prim.multipleResults === true) return null;
  if (e.prim.name === "broadcastInDim") return operands[0]!;
  const rule = e.prim.elementwise;
  if (rule === undefined) return null;
  const found = ruleExpr(
    rule,
    e.inputs.map((v) => v.dtype),
    e.out.dtype,
    operands,
  );
  return "expr" in found ? found.expr : null;
}

/**
 * The index into a broadcast's operand (shape `from`) of output element i
 * (shape `to`, operand axis j on output axis dims[j]): the sum over output
 * axes of coordinate times the operand's stride there (0 where the axis is
 * new or of size 1). Sizes are the program's own, inlined as literals.
 */
function broadcastIndex(
  from: readonly number[],
  to: readonly number[],
  dims: readonly number[],
): string {
  const fromStrides = stridesOf(from);
  const strides = to.map(() => 0);
  dims.forEach((d, j) => {
    if (from[j] !== 1) strides[d] = fromStrides[j]!;
  });
  const toStrides = stridesOf(to);
  const terms = to
    .map((size, d) =>
      strides[d] === 0 ? null : `((i / ${toStrides[d]}u) % ${size}u) * ${strides[d]}u`,
    )
    .filter((t) => t !== null);
  return terms.length === 0 ? "0u" : terms.join(" + ");
}

/** A WGSL literal of a finite 0-d constant, or null (infinities and NaN stay buffers). */
function literalOf(c: ConcreteArray): string | null {
  const v = c.scalarValue;
  if (!Number.isFinite(v)) return null;
  switch (c.dtype) {
    case "float32": {
      const text = String(v);
      return /^-?[0-9.e+-]+$/.test(text) ? `f32(${text})` : null;
    }
    case "int32":
      return `i32(${v | 0})`;
    case "bool":
      return v !== 0 ? "1u" : "0u";
    case "float64":
      return null;
  }
}

/**
 * Lowers `jaxpr` for the webgpu backend: fused WGSL shaders for its
 * elementwise groups, eager GPU kernels for the rest.
 */
export function compileForGpu(jaxpr: Jaxpr): GpuProgram {
  const eqns = jaxpr.eqns;
  const users = new Map<Var, JaxprEqn[]>();
  for (const e of eqns) {
    for (const v of e.inputs) {
      const list = users.get(v);
      if (list === undefined) users.set(v, [e]);
      else list.push(e);
    }
  }
  const programOutputs = new Set(jaxpr.outVars);
  const literals = new Map<Var, string>();
  jaxpr.constVars.forEach((v, i) => {
    const c = jaxpr.consts[i]!;
    if (c instanceof ConcreteArray && c.onHost && c.shape.length === 0) {
      const lit = literalOf(c);
      if (lit !== null) literals.set(v, lit);
    }
  });

  const steps: Step[] = [];
  const limit = storageBufferLimit();
  // Consecutive 0-d elementwise equations ("scalar" units) fuse too, as a run of one element.
  let scalars: JaxprEqn[] = [];
  for (const unit of planUnits(jaxpr, { arrayBroadcasts: true })) {
    if (unit.kind === "scalar") {
      scalars.push(eqns[unit.eqn]!);
      continue;
    }
    planRun(scalars, 1);
    scalars = [];
    if (unit.kind === "group") {
      planRun(
        unit.eqns.map((i) => eqns[i]!),
        shapeSize(unit.shape),
      );
    } else {
      steps.push({ kind: "eager", eqn: eqns[unit.eqn]! });
    }
  }
  planRun(scalars, 1);

  /** Fused steps for a run of equations over n elements (split where needed), eager ones between. */
  function planRun(run: readonly JaxprEqn[], n: number): void {
    let current: JaxprEqn[] = [];
    const flush = () => {
      if (current.length > 0) steps.push(fuse(current, n));
      current = [];
    };
    for (const e of run) {
      const isSum = e.prim.name === "reduceSum";
      const lowerable = isSum
        ? e.out.dtype === "float32" || e.out.dtype === "int32"
        : elementOf(
            e,
            e.inputs.map(() => "x"),
          ) !== null;
      if (!lowerable) {
        flush();
        steps.push({ kind: "eager", eqn: e });
        continue;
      }
      const tentative = [...current, e];
      const { inputs, outputs, sums } = interface_(tentative);
      if (inputs.length + outputs.length + sums.length + 1 > limit || sums.length > MAX_SUMS) {
        flush();
        current = [e];
      } else {
        current = tentative;
      }
    }
    flush();
  }

  /** The operands a run of equations reads and the results it must write. */
  function interface_(run: readonly JaxprEqn[]): {
    inputs: Var[];
    outputs: Var[];
    sums: Var[];
  } {
    const inside = new Set(run);
    const defined = new Set(run.map((e) => e.out));
    const inputs: Var[] = [];
    for (const e of run) {
      for (const v of e.inputs) {
        if (!defined.has(v) && !literals.has(v) && !inputs.includes(v)) inputs.push(v);
      }
    }
    const outputs: Var[] = [];
    const sums: Var[] = [];
    for (const e of run) {
      if (e.prim.name === "reduceSum") {
        sums.push(e.out);
        continue;
      }
      const escapes =
        programOutputs.has(e.out) || (users.get(e.out) ?? []).some((u) => !inside.has(u));
      if (escapes) outputs.push(e.out);
    }
    return { inputs, outputs, sums };
  }

  function fuse(run: readonly JaxprEqn[], n: number): Fused {
    const { inputs, outputs, sums } = interface_(run);
    const decls: string[] = [];
    const operand = new Map<Var, string>();
    inputs.forEach((v, k) => {
      decls.push(
        `@group(0) @binding(${k}) var<storage, read> in${k}: array<${wgslType(v.dtype)}>;`,
      );
      operand.set(v, v.shape.length === 0 ? `in${k}[0]` : `in${k}[i]`);
    });
    let binding = inputs.length;
    const outBinding = new Map<Var, number>();
    for (const v of outputs) {
      outBinding.set(v, binding);
      decls.push(
        `@group(0) @binding(${binding++}) var<storage, read_write> out${outBinding.get(v)}: array<${wgslType(v.dtype)}>;`,
      );
    }
    sums.forEach((v, s) => {
      decls.push(
        `@group(0) @binding(${binding++}) var<storage, read_write> sum${s}: array<${wgslType(v.dtype)}>;`,
      );
      decls.push(`var<workgroup> part${s}: array<${wgslType(v.dtype)}, ${WORKGROUP}>;`);
    });
    decls.push(`@group(0) @binding(${binding}) var<storage, read> params: array<u32>;`);

    let body = "";
    const sumOf = new Map<Var, string>();
    for (const e of run) {
      const t = `t${e.out.id}`;
      const args = e.inputs.map((v) => literals.get(v) ?? operand.get(v)!);
      const source = e.inputs[0]!;
      if (
        e.prim.name === "broadcastInDim" &&
        source.shape.length > 0 &&
        !shapesEqual(source.shape, e.out.shape)
      ) {
        // An array broadcast reads its (outside) operand at the element's computed index.
        const k = inputs.indexOf(source);
        const { dims } = e.params as { dims: readonly number[] };
        args[0] = `in${k}[${broadcastIndex(source.shape, e.out.shape, dims)}]`;
      }
      if (e.prim.name === "reduceSum") {
        const s = sums.indexOf(e.out);
        body += `    acc${s} = acc${s} + ${args[0]!};\n`;
        sumOf.set(e.out, `acc${s}`);
        continue;
      }
      body += `    let ${t}: ${wgslType(e.out.dtype)} = ${elementOf(e, args)!};\n`;
      operand.set(e.out, t);
      const b = outBinding.get(e.out);
      if (b !== undefined) body += `    out${b}[i] = ${t};\n`;
    }
    const library = libraryFor(body);
    const header = `${library}\n${decls.join("\n")}\n`;
    const entry = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>)`;
    if (sums.length === 0) {
      const source = `${header}${entry} {
  let i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;
  if (i >= params[0]) { return; }
${body}}`;
      return { kind: "fused", eqns: run, n, inputs, outputs, sums, source, partialSource: source };
    }
    // With sums: each workgroup strides over the elements, folds its registers in
    // workgroup memory, and writes its total (to the result, or to partials[wid]).
    const shader = (write: string) => `${header}${entry} {
  let n = params[0];
${sums.map((v, s) => `  var acc${s} = ${wgslType(v.dtype)}(0);`).join("\n")}
  for (var i = wid.x * ${WORKGROUP}u + lid; i < n; i = i + nwg.x * ${WORKGROUP}u) {
${body}  }
${sums.map((_, s) => `  part${s}[lid] = acc${s};`).join("\n")}
  workgroupBarrier();
  for (var half = ${WORKGROUP / 2}u; half > 0u; half = half / 2u) {
    if (lid < half) {
${sums.map((_, s) => `      part${s}[lid] = part${s}[lid] + part${s}[lid + half];`).join("\n")}
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
${sums.map((_, s) => `    sum${s}[${write}] = part${s}[0];`).join("\n")}
  }
}`;
    return {
      kind: "fused",
      eqns: run,
      n,
      inputs,
      outputs,
      sums,
      source: shader("0"),
      partialSource: shader("wid.x"),
    };
  }

  // Arena: results of fused shaders that only fused shaders read (never program outputs,
  // never an eager kernel's operand: a reshape or an empty reduction returns its input's buffer).
  const fusedEqns = new Set<JaxprEqn>();
  for (const step of steps) if (step.kind === "fused") step.eqns.forEach((e) => fusedEqns.add(e));
  const readByFusedOnly = (v: Var): boolean =>
    !programOutputs.has(v) && (users.get(v) ?? []).every((u) => fusedEqns.has(u));
  const arenaVars = new Set<Var>();
  for (const step of steps) {
    if (step.kind !== "fused") continue;
    for (const v of [...step.outputs, ...step.sums]) if (readByFusedOnly(v)) arenaVars.add(v);
  }
  const arena = new Map<Var, GpuBuffer>();

  /** The array for result v of a fused shader: from the arena, or fresh from the pool. */
  const resultArray = (v: Var): GpuArray => {
    if (!arenaVars.has(v)) return emptyGpuArray(v.shape, v.dtype);
    let buffer = arena.get(v);
    if (buffer === undefined) {
      buffer = arenaBuffer(shapeSize(v.shape));
      arena.set(v, buffer);
    }
    return arenaGpuArray(v.shape, v.dtype, buffer);
  };

  function runFused(step: Fused, env: Map<Var, ConcreteArray>): void {
    const ins = step.inputs.map((v) => onGpu(env.get(v)!).storage.buffer);
    const outs = step.outputs.map((v) => {
      const out = resultArray(v);
      env.set(v, out);
      return out.storage.buffer;
    });
    const sumArrays = step.sums.map((v) => {
      const out = resultArray(v);
      env.set(v, out);
      return out;
    });
    if (step.sums.length === 0) {
      if (step.n > 0) dispatch(step.source, [...ins, ...outs], [step.n], false, groupsFor(step.n));
      return;
    }
    if (step.n <= ONE_WORKGROUP_ELEMENTS) {
      const sumBuffers = sumArrays.map((a) => a.storage.buffer);
      dispatch(step.source, [...ins, ...outs, ...sumBuffers], [step.n], false, [1, 1, 1]);
      return;
    }
    // Partial sums per workgroup, then one row reduction per sum over them.
    const groups = Math.min(MAX_SUM_WORKGROUPS, Math.ceil(step.n / (WORKGROUP * 16)));
    const partials = step.sums.map((v) => emptyGpuArray([groups], v.dtype));
    dispatch(
      step.partialSource,
      [...ins, ...outs, ...partials.map((p) => p.storage.buffer)],
      [step.n],
      false,
      [groups, 1, 1],
    );
    step.sums.forEach((v, s) => {
      dispatch(
        reduceSource("sum", v.dtype),
        [partials[s]!.storage.buffer, sumArrays[s]!.storage.buffer],
        [1, groups, reduceIdentityBits("sum"), 1, groups],
        false,
        [1, 1, 1],
      );
    });
  }

  function runEager(e: JaxprEqn, env: Map<Var, ConcreteArray>): void {
    const args = e.inputs.map((v) => env.get(v)!);
    const outs = evaluateOnGpu(e.prim, args, e.params);
    const vars = e.outs ?? [e.out];
    vars.forEach((v, i) => env.set(v, outs[i]!));
  }

  const source = steps
    .map((s, k) =>
      s.kind === "fused"
        ? `// step ${k}: fused (${s.inputs.length} in, ${s.outputs.length} out, ${s.sums.length} sums)\n${s.source}`
        : `// step ${k}: ${s.eqn.prim.name}`,
    )
    .join("\n\n");

  return {
    source,
    run(inputs) {
      const env = new Map<Var, ConcreteArray>();
      jaxpr.constVars.forEach((v, i) => env.set(v, jaxpr.consts[i]!.concrete("jit")));
      jaxpr.inVars.forEach((v, i) => env.set(v, inputs[i]!));
      // One command buffer for the whole call.
      inOneSubmission(() => {
        for (const step of steps) {
          if (step.kind === "fused") runFused(step, env);
          else runEager(step.eqn, env);
        }
      });
      return jaxpr.outVars.map((v) => env.get(v)!);
    },
  };
}
