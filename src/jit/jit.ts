/**
 * jit: traces f once per signature (argument structure, shapes, dtypes and
 * static argument values) into a program, caches it, and runs the program on
 * later calls. Called under eager vmaps only (vmap(jit(f)), nested vmaps
 * included), it runs one compiled program for the whole batch: the
 * per-example program batched for the call's batch axes (transforms/vmap.ts),
 * compiled once per pattern, as jit(vmap(f)) would. Under any other
 * transformation (grad, jvp, an outer jit, a GradientTape) the function is
 * traced inline by that transformation, so jit composes with all of them.
 */
import { asArray, expectFunction, expectOptions } from "../core/convert.js";
import { isRecording, isTracingDynamically, Tracer } from "../core/trace.js";
import { InvalidArgumentError, fmtShape } from "../core/errors.js";
import { Array as NdArray, type ConcreteArray } from "../core/array.js";
import { type Jaxpr, type TracedProgram, evalJaxpr, traceToJaxpr } from "../ir/jaxpr.js";
import { EquationOptimizer, deadCodeElimination, optimize } from "../ir/passes.js";
import { type CompiledProgram, compileJaxpr } from "./codegen.js";
import { compileScalarJaxpr, isScalarProgram } from "./scalarProgram.js";
import { interpretScalarJaxpr, runScalarJaxprOnce } from "./scalarInterpreter.js";
import { getBackend } from "../backends/index.js";
import { compileForGpu } from "../backends/webgpu/jitLowering.js";
import { batchJaxpr, rebatchOutputs, unbatchCall } from "../transforms/vmap.js";
import { flatten, treeDefString, unflatten, type TreeDef } from "../tree/index.js";
import type { Arrays, Inputs } from "../tree/types.js";

/** Options of {@link jit}. */
export interface JitOptions {
  /**
   * Positional arguments that are compile-time constants. They must be
   * hashable: numbers, strings, booleans, bigints, null, undefined, functions
   * (by identity) or frozen arrays of these; other objects are refused.
   */
  staticArgnums?: number | readonly number[];
}

/** Tree structures of n plain leaves (and their strings), shared across calls. */
const flatDefs: { def: TreeDef; text: string }[] = [];
function flatDefEntry(n: number): { def: TreeDef; text: string } {
  let entry = flatDefs[n];
  if (entry === undefined) {
    const def = flatten(new globalThis.Array(n).fill(0))[1];
    entry = { def, text: treeDefString(def) };
    flatDefs[n] = entry;
  }
  return entry;
}
function flatDef(n: number): TreeDef {
  return flatDefEntry(n).def;
}

const functionIds = new WeakMap<object, number>();
let nextFunctionId = 0;

/**
 * A cache-key fragment for a static argument value; distinct values give
 * distinct fragments, and each fragment is self-delimiting (strings are
 * JSON-quoted, so no content can imitate a separator).
 *
 * Static values must be hashable, as in JAX: numbers, strings, booleans,
 * bigints, null, undefined, functions (by identity, like JAX) and frozen
 * arrays of these (tuples, `Object.freeze([2, "same"])`). Mutable objects and
 * arrays are refused: a later mutation would leave a stale cached program.
 * Numbers compare with Object.is, so 0 and -0 (and NaN) are distinct entries.
 */
function staticKey(value: unknown, argIndex: number): string {
  switch (typeof value) {
    case "number":
      return Object.is(value, -0) ? "n-0" : `n${String(value)}`;
    case "string":
      return `s${JSON.stringify(value)}`;
    case "boolean":
      return value ? "T" : "F";
    case "bigint":
      return `b${String(value)}`;
    case "undefined":
      return "U";
    case "function": {
      let id = functionIds.get(value);
      if (id === undefined) {
        id = nextFunctionId++;
        functionIds.set(value, id);
      }
      return `f${id}`;
    }
    default:
      if (value === null) return "N";
      if (value instanceof Tracer) {
        throw new InvalidArgumentError(
          `jit: static argument ${argIndex} is a traced array (shape ${fmtShape(value.shape)}, ` +
            `dtype ${value.dtype}) of an enclosing transformation (vmap, grad or jvp): inside ` +
            `vmap it differs per batch element, so it cannot be a compile-time constant; pass ` +
            `it as a dynamic argument (leave it out of staticArgnums)`,
        );
      }
      if (globalThis.Array.isArray(value) && Object.isFrozen(value)) {
        return `(${value.map((v) => staticKey(v, argIndex)).join(",")})`;
      }
      throw new InvalidArgumentError(
        `jit: static argument ${argIndex} is ${globalThis.Array.isArray(value) ? "a mutable array" : `an object (${describeStatic(value)})`}, ` +
          `which cannot be a cache key (a later mutation would reuse a stale program); ` +
          `static arguments must be hashable: numbers, strings, booleans, bigints, null, undefined, ` +
          `functions, or frozen arrays of these (Object.freeze([...])); pass arrays as dynamic ` +
          `arguments or close over the object in f`,
      );
  }
}

function describeStatic(value: unknown): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" ? name : "object";
}

/**
 * The initial size of the tables of jit's online optimizer (equations and
 * variable ids; they grow past it): a program's length is not known while
 * it is traced.
 */
const TRACE_TABLE_SIZE = 4096;

/**
 * The optimised form of a traced program: DCE only when the trace folded,
 * simplified and CSE'd each equation as it recorded it (the optimizer
 * given to traceToJaxpr, whose largest variable id is `maxId`), else all
 * the passes.
 */
function afterTrace(jaxpr: Jaxpr, maxId: number | undefined): Jaxpr {
  if (maxId === undefined) return optimize(jaxpr);
  let bound = maxId;
  for (const v of jaxpr.inVars) bound = Math.max(bound, v.id);
  return deadCodeElimination(jaxpr, undefined, bound + 1);
}

/** A program traced for one signature, optimised and compiled. */
/** What `jit(f).lower(...args)` returns: the optimised program and its compiled form. */
export interface LoweredProgram extends TracedProgram {
  /** The generated code (`compiled.source`) and the function running it. */
  compiled: CompiledProgram;
}

/**
 * The function returned by {@link jit}: called like f (on arguments taking
 * `Args`), it returns f's output structure `R` with an Array at every leaf.
 */
export interface JittedFunction<Args extends unknown[] = unknown[], R = unknown> {
  (...args: Inputs<Args>): Arrays<R>;
  /** Number of distinct signatures traced so far. */
  readonly cacheSize: number;
  /**
   * Number of batched programs compiled so far: called under `vmap` (and no
   * other transformation), the function runs one compiled program for the
   * whole batch, compiled once per signature, batch axes and batch size.
   */
  readonly batchedCacheSize: number;
  /** The optimised program and its generated source for the given arguments (tracing if needed). */
  lower(...args: Inputs<Args>): LoweredProgram;
}

/** What jit's batched path returns when f must run inline instead. */
const INLINE: unique symbol = Symbol("inline");

/**
 * A traced signature: its program as recorded (folded, simplified and CSE'd
 * by the trace), optimised (DCE) and compiled when first needed: on the
 * first eager call, or on the second for a scalar program, or by `lower`.
 */
interface TraceEntry {
  /** The program as the trace recorded it, until `traced` is made. */
  recorded: TracedProgram | undefined;
  /** The online optimizer's largest variable id (undefined: it did not run). */
  maxId: number | undefined;
  /** The optimised program. */
  traced: TracedProgram | undefined;
  lowered: LoweredProgram | undefined;
  /** Whether an eager call has run the program (interpreted or compiled) before. */
  called: boolean;
}

/** The entry's optimised program, made on first use (the recorded one is dropped then). */
function optimisedOf(entry: TraceEntry): TracedProgram {
  if (entry.traced === undefined) {
    const recorded = entry.recorded!;
    entry.traced = { ...recorded, jaxpr: afterTrace(recorded.jaxpr, entry.maxId) };
    entry.recorded = undefined;
  }
  return entry.traced;
}

/** A batched program (vmap of a jitted function) and its outputs' batch axes per vmap level. */
interface BatchedProgram {
  outDef: TreeDef;
  outDims: (number | null)[][];
  compiled: CompiledProgram;
}

/**
 * Compiles an optimised program for the current backend. On webgpu: fused
 * WGSL shaders for the elementwise groups, GPU kernels for the rest
 * (backends/webgpu/jitLowering.ts); the generated JS and Wasm read host buffers.
 */
function compileProgram(jaxpr: Jaxpr): CompiledProgram {
  return getBackend() === "webgpu" ? compileForGpu(jaxpr) : compileOrInterpret(jaxpr);
}

/**
 * Compiles a program to JavaScript; where the environment forbids generating
 * code (a browser page whose Content-Security-Policy has no 'unsafe-eval'),
 * the program is interpreted instead: slower, same results (a scalar
 * program by the scalar interpreter, others equation by equation).
 */
export function compileOrInterpret(jaxpr: Jaxpr): CompiledProgram {
  try {
    return isScalarProgram(jaxpr) ? compileScalarJaxpr(jaxpr) : compileJaxpr(jaxpr);
  } catch (e) {
    if (!(e instanceof EvalError)) throw e;
    return interpretScalarJaxpr(jaxpr) ?? interpreted(jaxpr);
  }
}

/** The program run equation by equation (each primitive through `bind`). */
function interpreted(jaxpr: Jaxpr): CompiledProgram {
  return {
    source: "",
    run: (inputs) => evalJaxpr(jaxpr, inputs).map((x) => x.concrete("jit")),
  };
}

/**
 * Compiles f: traces it once per signature of its arguments (shapes, dtypes,
 * tree structure, and the values of `staticArgnums`), optimises the traced
 * program, and generates JavaScript (and Wasm SIMD kernels on the wasm
 * backend) for it, cached. A scalar program (every value 0-d) runs in tiers:
 * its first call interprets it, its second compiles it, so a function called
 * once never pays for code generation. The result is a function with f's
 * arguments that returns f's output structure with Arrays at the leaves.
 * Inside jit, values are abstract: branch with `lax.cond` and loop with
 * `lax.*` (JS `if` on a traced value throws a ConcretizationError).
 *
 * @example
 * ```ts
 * import { grad, jit, np } from "chainrule";
 * const f = jit((x) => np.sum(np.sin(x).mul(x)));
 * f(np.array([1, 2, 3])); // traced and compiled once for float64[3]
 * const df = jit(grad((x) => np.sum(np.sin(x).mul(x))));
 * df(np.array([1, 2, 3])); // sin x + x cos x
 * const h = jit(grad((x) => np.sin(x).mul(x)));
 * h(0.5); // a scalar program: interpreted on this first call
 * h(0.5); // compiled on the second (same bits)
 * ```
 */
export function jit<Args extends unknown[] = NdArray[], R = NdArray>(
  f: (...args: Args) => R,
  opts?: JitOptions,
): JittedFunction<Args, R>;
export function jit(f: (...args: never[]) => unknown, opts: JitOptions = {}): JittedFunction {
  expectFunction("jit", "f", f);
  expectOptions("jit", opts, ["staticArgnums"], "jit(f, { staticArgnums: [1] })");
  const statics = new Set(
    opts.staticArgnums === undefined
      ? []
      : typeof opts.staticArgnums === "number"
        ? [opts.staticArgnums]
        : opts.staticArgnums,
  );
  const split = (args: unknown[]) => {
    for (const s of statics) {
      if (!Number.isInteger(s) || s < 0 || s >= args.length) {
        throw new InvalidArgumentError(
          `jit: staticArgnums ${s} is out of range for a call with ${args.length} arguments`,
        );
      }
    }
    const dynamic = statics.size === 0 ? args : args.filter((_, i) => !statics.has(i));
    // Fast path for the common call with only arrays and numbers (no containers).
    if (dynamic.every((a) => a instanceof NdArray || typeof a === "number")) {
      const arrays = dynamic.map((a, i) => asArray(a, `jit: argument leaf ${i}`));
      return { dynamic, arrays, inDef: flatDef(dynamic.length) };
    }
    const [leaves, inDef] = flatten(dynamic);
    const arrays = leaves.map((l, i) => asArray(l, `jit: argument leaf ${i}`));
    return { dynamic, arrays, inDef };
  };

  const withStatics = (args: unknown[], dyn: unknown[]): unknown[] => {
    let k = 0;
    return args.map((a, i) => (statics.has(i) ? a : dyn[k++]));
  };

  const staticList = [...statics].sort((a, b) => a - b);

  /** The cache key of a call: argument structure, each leaf's dtype and shape, static values. */
  const signature = (args: unknown[], arrays: readonly NdArray[], inDef: TreeDef): string => {
    const flat = flatDefs[arrays.length];
    let key = flat !== undefined && flat.def === inDef ? flat.text : treeDefString(inDef);
    for (const x of arrays) key += `|${x.dtype}[${x.shape.join(",")}]`;
    for (const i of staticList) key += `|${staticKey(args[i], i)}`;
    // Compiled code depends on the backend (wasmLowering.ts).
    return `${key}|${getBackend()}`;
  };

  /** The per-signature entries: traced; optimised and compiled when first needed. */
  const cache = new Map<string, TraceEntry>();
  /** Batched programs (vmap of a jitted function), per signature, batch axes and sizes. */
  const batchedCache = new Map<string, BatchedProgram>();
  /** Signatures whose function could not be staged under vmap: they run inline there. */
  const inlineUnderVmap = new Set<string>();

  /**
   * The traced program of a signature, from the cache or traced now. A program
   * that captured a traced value from an enclosing transformation (f closes
   * over a vmap or grad variable) is not cached (the value belongs to that
   * call only): that traced value is returned instead, and the caller runs
   * f inline (or, for `lower`, names it in its error).
   */
  const traceSplit = (
    key: string,
    args: unknown[],
    arrays: readonly NdArray[],
    inDef: TreeDef,
  ): TraceEntry | Tracer => {
    let entry = cache.get(key);
    if (entry === undefined) {
      // Folding, simplification and CSE happen as the trace records each equation.
      let optimizer: EquationOptimizer | undefined;
      const traced = traceToJaxpr(
        (...dyn: unknown[]) => (f as (...a: unknown[]) => unknown)(...withStatics(args, dyn)),
        inDef,
        arrays.map((x) => ({ shape: x.shape, dtype: x.dtype })),
        undefined,
        (newVar, constVars, consts) =>
          (optimizer = new EquationOptimizer(newVar, constVars, consts, {
            expectedEqns: TRACE_TABLE_SIZE,
            idSpan: TRACE_TABLE_SIZE,
          })),
      );
      const captured = traced.jaxpr.consts.find((c) => c instanceof Tracer);
      if (captured !== undefined) return captured;
      // The optimizer's tables are not kept: only its largest id, for DCE's tables.
      const maxId = optimizer?.maxId;
      entry = { recorded: traced, maxId, traced: undefined, lowered: undefined, called: false };
      cache.set(key, entry);
    }
    return entry;
  };

  const compiledOf = (entry: TraceEntry): LoweredProgram => {
    if (entry.lowered === undefined) {
      const traced = optimisedOf(entry);
      entry.lowered = { ...traced, compiled: compileProgram(traced.jaxpr) };
    }
    return entry.lowered;
  };

  /**
   * Runs a signature's program on concrete arguments. Tiers: the first call
   * of a scalar program (not on webgpu) runs it in the scalar interpreter,
   * generating no code; the second optimises and compiles it (a program run
   * once never pays for compilation: docs/design.md, "The first jit call,
   * round 6: tiers"). The interpreter takes the program as recorded (DCE
   * costs more than the few dead equations it would skip), or after DCE
   * when a dead equation is not scalar.
   */
  const runEntry = (entry: TraceEntry, arrays: readonly ConcreteArray[]): ConcreteArray[] => {
    if (!entry.called && entry.lowered === undefined && getBackend() !== "webgpu") {
      entry.called = true;
      // Ids below the optimizer's largest + 1 (ids past it grow the value table).
      const idBound = (entry.maxId ?? 0) + 1;
      const outs =
        runScalarJaxprOnce((entry.traced ?? entry.recorded!).jaxpr, arrays, idBound) ??
        runScalarJaxprOnce(optimisedOf(entry).jaxpr, arrays, idBound);
      if (outs !== undefined) return outs;
    }
    return compiledOf(entry).compiled.run(arrays);
  };

  const lowerSplit = (
    args: unknown[],
    arrays: readonly NdArray[],
    inDef: TreeDef,
  ): LoweredProgram | Tracer => {
    const entry = traceSplit(signature(args, arrays, inDef), args, arrays, inDef);
    return entry instanceof Tracer ? entry : compiledOf(entry);
  };

  /**
   * Under eager vmaps only: the per-example program (traced once per
   * signature, as for an eager call) batched for the call's batch axes and
   * sizes, compiled once per pattern, and run on the concrete batched values;
   * the outputs come back as the vmaps' batch tracers. INLINE when f must
   * run inline instead (another transformation in play, a traced static
   * argument, or a program that captured a traced value).
   */
  const callBatched = (args: unknown[], arrays: readonly NdArray[], inDef: TreeDef): unknown => {
    for (const i of staticList) if (args[i] instanceof Tracer) return INLINE;
    const call = unbatchCall(arrays);
    if (call === null) return INLINE;
    const key = signature(args, arrays, inDef);
    let batchKey = key;
    for (const level of call.levels) batchKey += `#${level.size}:${level.dims.join(",")}`;
    let program = batchedCache.get(batchKey);
    if (program === undefined) {
      if (inlineUnderVmap.has(key)) return INLINE;
      try {
        const entry = traceSplit(key, args, arrays, inDef);
        if (entry instanceof Tracer) {
          inlineUnderVmap.add(key);
          return INLINE;
        }
        const batched = batchJaxpr(
          optimisedOf(entry).jaxpr,
          flatDef(arrays.length),
          call.values.map((x) => ({ shape: x.shape, dtype: x.dtype })),
          call.levels.map((level) => level.dims),
        );
        program = {
          outDef: optimisedOf(entry).outDef,
          outDims: batched.outDims,
          compiled: compileProgram(optimize(batched.jaxpr)),
        };
      } catch {
        // f cannot be staged here, but it ran inline under vmap before: JS control flow on
        // an unbatched argument's value (x.item()), or a closed-over array that requires
        // grad. Run it inline, as before, for this signature from now on; a real error in
        // f is raised again by the inline run.
        inlineUnderVmap.add(key);
        return INLINE;
      }
      batchedCache.set(batchKey, program);
    }
    const outs = program.compiled.run(call.values);
    return unflatten(program.outDef, rebatchOutputs(call, outs, program.outDims));
  };

  const lower = (...args: unknown[]): LoweredProgram => {
    const { arrays, inDef } = split(args);
    const program = lowerSplit(args, arrays, inDef);
    if (program instanceof Tracer) {
      throw new InvalidArgumentError(
        `jit(f).lower: f uses a traced value (shape ${fmtShape(program.shape)}, dtype ` +
          `${program.dtype}) of an enclosing transformation (it closes over a variable of ` +
          `grad, vmap or jvp), so it has no program of its own; pass that value as an ` +
          `argument instead`,
      );
    }
    return program;
  };

  const jitted = (...args: unknown[]): unknown => {
    const { arrays, inDef } = split(args);
    if (isTracingDynamically() || isRecording()) {
      // Inside jit/makeJaxpr or while a GradientTape records: trace inline so that
      // the enclosing trace sees every primitive.
      return (f as (...a: unknown[]) => unknown)(...args);
    }
    if (arrays.some((x) => x instanceof Tracer)) {
      // Under eager vmaps only, one compiled batched program; under any other
      // transformation (grad, jvp, and arrays that require grad), inline.
      const out = callBatched(args, arrays, inDef);
      return out !== INLINE ? out : (f as (...a: unknown[]) => unknown)(...args);
    }
    const entry = traceSplit(signature(args, arrays, inDef), args, arrays, inDef);
    if (entry instanceof Tracer) return (f as (...a: unknown[]) => unknown)(...args);
    const outs = runEntry(entry, arrays as ConcreteArray[]);
    return unflatten((entry.traced ?? entry.recorded!).outDef, outs);
  };
  Object.defineProperty(jitted, "cacheSize", { get: () => cache.size });
  Object.defineProperty(jitted, "batchedCacheSize", { get: () => batchedCache.size });
  (jitted as unknown as { lower: typeof lower }).lower = lower;
  return jitted as JittedFunction;
}
