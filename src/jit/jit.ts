/**
 * jit: traces f once per signature (argument structure, shapes, dtypes and
 * static argument values) into a program, caches it, and runs the program on
 * later calls. Under another transformation (grad, vmap, an outer jit) the
 * function is traced inline by that transformation, so jit composes with all
 * of them.
 */
import { asArray } from "../core/convert.js";
import { isTracingDynamically, Tracer } from "../core/trace.js";
import { InvalidArgumentError } from "../core/errors.js";
import type { ConcreteArray } from "../core/array.js";
import { type TracedProgram, traceToJaxpr } from "../ir/jaxpr.js";
import { optimize } from "../ir/passes.js";
import { type CompiledProgram, compileJaxpr } from "./codegen.js";
import { compileScalarJaxpr, isScalarProgram } from "./scalarProgram.js";
import { flatten, treeDefString, unflatten, type PyTree } from "../tree/index.js";

export interface JitOptions {
  /** Positional arguments that are compile-time constants (numbers, strings, objects). */
  staticArgnums?: number | readonly number[];
}

const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;

/** A cache-key fragment for a static argument value. */
function staticKey(value: unknown): string {
  if ((typeof value === "object" && value !== null) || typeof value === "function") {
    let id = objectIds.get(value);
    if (id === undefined) {
      id = nextObjectId++;
      objectIds.set(value, id);
    }
    return `#${id}`;
  }
  return `${typeof value}:${String(value)}`;
}

/** A program traced for one signature, optimised and compiled. */
export interface LoweredProgram extends TracedProgram {
  compiled: CompiledProgram;
}

export interface JittedFunction {
  (...args: unknown[]): PyTree;
  /** Number of distinct signatures traced so far. */
  readonly cacheSize: number;
  /** The optimised program and its generated source for the given arguments (tracing if needed). */
  lower(...args: unknown[]): LoweredProgram;
}

export function jit(f: (...args: never[]) => unknown, opts: JitOptions = {}): JittedFunction {
  const statics = new Set(
    opts.staticArgnums === undefined
      ? []
      : typeof opts.staticArgnums === "number"
        ? [opts.staticArgnums]
        : opts.staticArgnums,
  );
  const cache = new Map<string, LoweredProgram>();

  const split = (args: unknown[]) => {
    for (const s of statics) {
      if (!Number.isInteger(s) || s < 0 || s >= args.length) {
        throw new InvalidArgumentError(
          `jit: staticArgnums ${s} is out of range for a call with ${args.length} arguments`,
        );
      }
    }
    const dynamic = args.filter((_, i) => !statics.has(i));
    const [leaves, inDef] = flatten(dynamic);
    const arrays = leaves.map((l, i) => asArray(l, `jit: argument leaf ${i}`));
    return { dynamic, arrays, inDef };
  };

  const withStatics = (args: unknown[], dyn: unknown[]): unknown[] => {
    let k = 0;
    return args.map((a, i) => (statics.has(i) ? a : dyn[k++]));
  };

  const lower = (...args: unknown[]): LoweredProgram => {
    const { arrays, inDef } = split(args);
    const key =
      treeDefString(inDef) +
      "|" +
      arrays.map((x) => `${x.dtype}[${x.shape.join(",")}]`).join(";") +
      "|" +
      [...statics]
        .sort()
        .map((i) => staticKey(args[i]))
        .join(";");
    let program = cache.get(key);
    if (program === undefined) {
      const traced = traceToJaxpr(
        (...dyn: unknown[]) => (f as (...a: unknown[]) => unknown)(...withStatics(args, dyn)),
        inDef,
        arrays.map((x) => ({ shape: x.shape, dtype: x.dtype })),
      );
      const jaxpr = optimize(traced.jaxpr);
      const compiled = isScalarProgram(jaxpr) ? compileScalarJaxpr(jaxpr) : compileJaxpr(jaxpr);
      program = { ...traced, jaxpr, compiled };
      cache.set(key, program);
    }
    return program;
  };

  const jitted = (...args: unknown[]): PyTree => {
    const { arrays } = split(args);
    // Inside another transformation, trace inline so that it sees every primitive.
    if (isTracingDynamically() || arrays.some((x) => x instanceof Tracer)) {
      return (f as (...a: unknown[]) => unknown)(...args);
    }
    const program = lower(...args);
    const outs = program.compiled.run(arrays as ConcreteArray[]);
    return unflatten(program.outDef, outs);
  };
  Object.defineProperty(jitted, "cacheSize", { get: () => cache.size });
  (jitted as unknown as { lower: typeof lower }).lower = lower;
  return jitted as JittedFunction;
}
