/**
 * Vectorising map: vmap(f) runs f once on whole batches. Each value carries
 * the axis along which it is batched (or null); a primitive's batch rule says
 * how to apply it to batched operands, so no loop over the batch runs.
 */
import { Array, ConcreteArray } from "../core/array.js";
import { asArray, expectFunction, expectOptions } from "../core/convert.js";
import { ConcretizationError, InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import type { BatchDim, MultiPrimitive, Primitive } from "../core/primitive.js";
import { normalizeAxis } from "../core/shape.js";
import {
  type MainTrace,
  Trace,
  Tracer,
  activeMainTraces,
  bind,
  bindAll,
  withMainTrace,
} from "../core/trace.js";
import { type Jaxpr, evalJaxpr, traceToJaxpr } from "../ir/jaxpr.js";
import { batchToFront, moveAxis } from "../primitives/helpers.js";
import { flatten, numLeaves, treeDefString, unflatten, type TreeDef } from "../tree/index.js";
import type { Arrays, Inputs } from "../tree/types.js";

export class BatchTracer extends Tracer {
  readonly shape: readonly number[];
  constructor(
    trace: Trace,
    readonly val: Array,
    readonly bdim: BatchDim,
  ) {
    super(trace);
    this.shape = bdim === null ? val.shape : val.shape.filter((_, d) => d !== bdim);
  }
  get dtype() {
    return this.val.dtype;
  }
  concrete(fnName: string): ConcreteArray {
    if (this.bdim === null) return this.val.concrete(fnName);
    throw new ConcretizationError(
      `${fnName}: inside vmap this value differs per batch element (batched shape ` +
        `${fmtShape(this.val.shape)}), so it has no single JS value; use np.where or ` +
        `lax.cond instead of if/else on it`,
    );
  }
  fullLower(): Array {
    return this.bdim === null ? this.val : this;
  }
}

export class BatchTrace extends Trace {
  pure(value: Array): Tracer {
    return new BatchTracer(this, value, null);
  }
  processPrimitive(prim: Primitive, args: readonly Array[], params: unknown): Array {
    const own = (a: Array): a is BatchTracer => a instanceof BatchTracer && a.trace === this;
    const vals = args.map((a) => (own(a) ? a.val : a));
    const dims = args.map((a) => (own(a) ? a.bdim : null));
    if (dims.every((d) => d === null)) return bind(prim, vals, params);
    const [out, outDim] = prim.batch(vals, dims, params);
    // In its simplest form (Trace.processPrimitive): an unbatched result is the value itself.
    return outDim === null ? out : new BatchTracer(this, out, outDim);
  }
  processMultiPrimitive(prim: MultiPrimitive, args: readonly Array[], params: unknown): Array[] {
    const own = (a: Array): a is BatchTracer => a instanceof BatchTracer && a.trace === this;
    const vals = args.map((a) => (own(a) ? a.val : a));
    const dims = args.map((a) => (own(a) ? a.bdim : null));
    if (dims.every((d) => d === null)) return bindAll(prim, vals, params);
    const [outs, outDims] = prim.batch(vals, dims, params);
    return outs.map((out, i) => new BatchTracer(this, out, outDims[i] ?? null));
  }
}

/**
 * A call made under eager vmaps only, seen from below: the concrete values
 * behind the arguments and, for each vmap level that batches at least one
 * argument (outermost first), its main trace, its batch size and each
 * argument's batch axis at that level (null: not batched there).
 */
export interface BatchedCall {
  /** The concrete arrays behind the arguments, every batch axis included. */
  readonly values: ConcreteArray[];
  /** The vmap levels that batch some argument, outermost first. */
  readonly levels: readonly BatchLevel[];
}

/** One vmap level of a {@link BatchedCall}. */
export interface BatchLevel {
  readonly main: MainTrace;
  readonly size: number;
  /** Each argument's batch axis at this level, an axis of its value at this level. */
  readonly dims: readonly (number | null)[];
}

/**
 * When every active transformation is an eager vmap (no jvp, grad, jit or
 * tape in the stack) and every argument is a concrete array or a chain of
 * that stack's batch tracers over one, the concrete values and the batch
 * axes of each level; otherwise null. This lets a jitted function called
 * under vmap run one compiled batched program (jit.ts) instead of running op
 * by op through the batching trace.
 */
export function unbatchCall(args: readonly Array[]): BatchedCall | null {
  const mains = activeMainTraces();
  if (mains.length === 0) return null;
  for (const m of mains) {
    if (!(m.trace instanceof BatchTrace) || m.recordOnly) return null;
  }
  const dims: (number | null)[][] = mains.map(() => []);
  const sizes: (number | null)[] = mains.map(() => null);
  const values: ConcreteArray[] = [];
  for (const x of args) {
    let v: Array = x;
    // Peel the innermost level first: a tracer's value lives at the levels below it.
    for (let k = mains.length - 1; k >= 0; k--) {
      if (v instanceof BatchTracer && v.trace.main === mains[k]) {
        dims[k]!.push(v.bdim);
        if (v.bdim !== null) sizes[k] = v.val.shape[v.bdim]!;
        v = v.val;
      } else {
        dims[k]!.push(null);
      }
    }
    if (!(v instanceof ConcreteArray)) return null;
    values.push(v);
  }
  const levels: BatchLevel[] = [];
  mains.forEach((main, k) => {
    const size = sizes[k];
    if (size !== null && size !== undefined) levels.push({ main, size, dims: dims[k]! });
  });
  return { values, levels };
}

/**
 * The batched form of a per-example program: traced (so jit can compile it)
 * on inputs with the shapes `inAvals` (every batch axis included), with one
 * batching trace per level (outermost first) mapping the axes `dims[k]`.
 * Returns the program and each output's batch axis at each level (null: the
 * output does not vary along that level), so no output is broadcast.
 */
export function batchJaxpr(
  jaxpr: Jaxpr,
  inDef: TreeDef,
  inAvals: readonly { shape: readonly number[]; dtype: ConcreteArray["dtype"] }[],
  dims: readonly (readonly (number | null)[])[],
): { jaxpr: Jaxpr; outDims: (number | null)[][] } {
  const outDims: (number | null)[][] = dims.map(() => []);
  const nest = (k: number, xs: readonly Array[]): Array[] => {
    if (k === dims.length) return evalJaxpr(jaxpr, xs);
    return withMainTrace(
      (main) => new BatchTrace(main),
      (main) => {
        const wrapped = xs.map((x, i) => {
          const d = dims[k]![i] ?? null;
          return d === null ? x : new BatchTracer(main.trace, x, d);
        });
        return nest(k + 1, wrapped).map((o, j) => {
          const ours = o instanceof BatchTracer && o.trace.main === main;
          outDims[k]![j] = ours ? o.bdim : null;
          return ours ? o.val : o;
        });
      },
    );
  };
  const traced = traceToJaxpr((...xs: unknown[]) => nest(0, xs as Array[]), inDef, inAvals);
  return { jaxpr: traced.jaxpr, outDims };
}

/** The outputs of a batched program as the batch tracers of the levels of `call`. */
export function rebatchOutputs(
  call: BatchedCall,
  outs: readonly Array[],
  outDims: readonly (readonly (number | null)[])[],
): Array[] {
  return outs.map((out, j) => {
    let v: Array = out;
    call.levels.forEach((level, k) => {
      const d = outDims[k]![j] ?? null;
      if (d !== null) v = new BatchTracer(level.main.trace, v, d);
    });
    return v;
  });
}

/** A vmap axes spec: a number or null for every leaf, or a tree (a prefix of the arguments' or outputs' tree) of them. */
export type Axes = number | null | readonly unknown[] | Record<string, unknown>;

/** Options of {@link vmap}: which axes are batched. */
export interface VmapOptions {
  /** Batch axis of each argument: a number/null for all, or one entry (or subtree) per argument. */
  inAxes?: Axes;
  /** Batch axis of the outputs: a number (default 0), null, or a tree matching the output. */
  outAxes?: Axes;
}

/** Expands an axes spec (a prefix of the tree) into one entry per leaf of `def`. */
function broadcastPrefix(
  fnName: string,
  spec: unknown,
  def: TreeDef,
  what: string,
): (number | null)[] {
  const out: (number | null)[] = [];
  const walk = (s: unknown, d: TreeDef): void => {
    if (s === null || typeof s === "number") {
      const n = numLeaves(d);
      for (let i = 0; i < n; i++) out.push(s);
      return;
    }
    if (d.kind === "list" && globalThis.Array.isArray(s) && s.length === d.children.length) {
      d.children.forEach((c, i) => walk(s[i], c));
      return;
    }
    if (d.kind === "dict" && typeof s === "object" && s !== null && !globalThis.Array.isArray(s)) {
      const rec = s as Record<string, unknown>;
      d.children.forEach((c, i) => {
        const key = d.keys[i]!;
        if (!Object.hasOwn(rec, key)) {
          throw new InvalidArgumentError(
            `${fnName}: ${what} has no entry for key ${JSON.stringify(key)} of the argument ` +
              `${treeDefString(d)}; give a number or null for every key`,
          );
        }
        walk(rec[key], c);
      });
      return;
    }
    // inAxes is per argument (as JAX's in_axes): a tree for one argument goes in a list.
    const perArgument =
      what === "inAxes" && d === def && d.kind === "list" && !globalThis.Array.isArray(s)
        ? `; inAxes has one entry per argument of f, so put a tree for one argument in a ` +
          `list: inAxes: [${JSON.stringify(s)}${d.children.length > 1 ? ", ..." : ""}]`
        : "";
    throw new InvalidArgumentError(
      `${fnName}: ${what} ${JSON.stringify(s)} does not match the structure ${treeDefString(d)}; ` +
        `give a number, null, or a tree with the same structure${perArgument}`,
    );
  };
  walk(spec, def);
  return out;
}

/** Moves a batched value's batch axis to `axis`, broadcasting unbatched values. */
function toOutAxis(main: MainTrace, x: Array, axis: number | null, size: number, i: number): Array {
  const isOurs = x instanceof BatchTracer && x.trace.main === main;
  const val = isOurs ? x.val : x;
  const bdim = isOurs ? x.bdim : null;
  if (axis === null) {
    if (bdim !== null) {
      throw new InvalidArgumentError(
        `vmap: output ${i} is batched but outAxes says null (unbatched); give it a batch axis`,
      );
    }
    return val;
  }
  const front = batchToFront(val, bdim, size);
  return moveAxis(front, 0, normalizeAxis("vmap outAxes", axis, front.ndim));
}

/** vmap(f, { inAxes, outAxes }): f mapped over a batch axis of its arguments. */
export function vmap<Args extends unknown[] = Array[], R = Array>(
  f: (...args: Args) => R,
  opts?: VmapOptions,
): (...args: Inputs<Args>) => Arrays<R>;
export function vmap(
  f: (...args: never[]) => unknown,
  opts: VmapOptions = {},
): (...args: unknown[]) => unknown {
  expectFunction("vmap", "f", f);
  expectOptions("vmap", opts, ["inAxes", "outAxes"], "vmap(f, { inAxes: 1 })");
  return (...args: unknown[]): unknown => {
    const [leaves, inDef] = flatten(args);
    // null is a real value here (nothing mapped), so only a missing option defaults to 0.
    const inSpec = opts.inAxes === undefined ? 0 : opts.inAxes;
    const axes = broadcastPrefix("vmap", inSpec, inDef, "inAxes");
    const arrays = leaves.map((l, i) => asArray(l, `vmap: argument leaf ${i}`));
    let size: number | null = null;
    let sizeFrom = "";
    arrays.forEach((x, i) => {
      const a = axes[i];
      if (a === null || a === undefined) return;
      if (x.ndim === 0) {
        throw new ShapeError(
          `vmap: argument leaf ${i} is a scalar (shape []) but inAxes asks to map over axis ${a}; ` +
            `use inAxes null for it` +
            (typeof leaves[i] === "number" || typeof leaves[i] === "boolean"
              ? ` (it is the JS number ${String(leaves[i])}: a JS list is a pytree whose leaves ` +
                `are its numbers, as in JAX; to map over a list's rows pass np.array(list))`
              : ""),
        );
      }
      const ax = normalizeAxis(`vmap: argument leaf ${i}`, a, x.ndim);
      const n = x.shape[ax]!;
      if (size === null) {
        size = n;
        sizeFrom = `argument leaf ${i} has size ${n} along axis ${ax} (shape ${fmtShape(x.shape)})`;
      } else if (n !== size) {
        throw new ShapeError(
          `vmap: mapped axis sizes disagree: ${sizeFrom}, but argument leaf ${i} has size ${n} ` +
            `along axis ${ax} (shape ${fmtShape(x.shape)}); all mapped axes must have one size`,
        );
      }
    });
    if (size === null) {
      throw new InvalidArgumentError(`vmap: no argument is mapped (all inAxes are null)`);
    }
    const batch: number = size;
    return withMainTrace(
      (main) => new BatchTrace(main),
      (main) => {
        const tracers = arrays.map((x, i) => {
          const a = axes[i];
          if (a === null || a === undefined) return x;
          return new BatchTracer(main.trace, x, normalizeAxis("vmap", a, x.ndim));
        });
        const out = (f as (...a: unknown[]) => unknown)(
          ...(unflatten(inDef, tracers) as unknown[]),
        );
        const [outLeaves, outDef] = flatten(out);
        const outAxes = broadcastPrefix(
          "vmap",
          opts.outAxes === undefined ? 0 : opts.outAxes,
          outDef,
          "outAxes",
        );
        const results = outLeaves.map((l, i) =>
          toOutAxis(main, asArray(l, `vmap: output ${i}`), outAxes[i] ?? null, batch, i),
        );
        return unflatten(outDef, results);
      },
    );
  };
}
