/**
 * The interpreter stack: every transformation (jvp, linearize, vmap, jaxpr
 * tracing) is a `Trace` whose values are `Tracer`s. `bind` applies a
 * primitive by handing it to the innermost (highest-level) trace among its
 * operands, after raising the other operands into that trace. Levels make
 * nested transformations of the same function independent, so perturbation
 * confusion cannot happen.
 *
 * Level 0 is plain evaluation on concrete arrays (no trace object).
 * A "dynamic" trace (jit, makeJaxpr) captures even operations whose operands
 * are all concrete, so that constants are staged into the traced program.
 */
import { Array, type ConcreteArray } from "./array.js";
import { ChainruleError, ConcretizationError, EscapedTracerError } from "./errors.js";
import type { AnyPrimitive, MultiPrimitive, Primitive } from "./primitive.js";

/** One active transformation: its level in the stack and its interpreter. */
export class MainTrace {
  readonly trace: Trace;
  /**
   * A recording main (GradientTape.record) sees every operation, like a
   * dynamic one, but values stay concrete: it is not staging a program.
   */
  recordOnly = false;
  /** The dynamic main that was active when this one was pushed (restored while it evaluates). */
  dynamicBelow: MainTrace | null = null;
  constructor(
    readonly level: number,
    makeTrace: (main: MainTrace) => Trace,
  ) {
    this.trace = makeTrace(this);
  }
}

/** The interpreter of one transformation. */
export abstract class Trace {
  constructor(readonly main: MainTrace) {}
  /** Wraps a value from a lower level (or a concrete array) as a tracer of this trace. */
  abstract pure(value: Array): Tracer;
  /**
   * Applies `prim` to operands that are tracers of this trace or values from
   * lower levels (which the trace treats as constants). Returns the result
   * in its simplest form, as `fullLower` gives it (a value this trace adds
   * nothing to is returned as the lower-level value itself): `bind` passes
   * it on as it is.
   */
  abstract processPrimitive(prim: Primitive, args: readonly Array[], params: unknown): Array;
  /**
   * The same for a primitive with several outputs: returns one value per
   * output. (Kept apart from `processPrimitive` so that the single-output
   * path, which every eager gradient step takes, allocates no result list.)
   */
  abstract processMultiPrimitive(
    prim: MultiPrimitive,
    args: readonly Array[],
    params: unknown,
  ): Array[];
}

/**
 * A value seen by a transformation. Only tracers have a `trace` property
 * (`bind` tells them from concrete arrays by it).
 */
export abstract class Tracer extends Array {
  /*
   * Fields stay parameter properties (class fields). Declaring them and
   * assigning them in the constructor was tried (docs/design.md, "The first
   * jit call, round 6: the trace path"): about 2 ms off the first jit call
   * of the compiled package, but eager grad ran 3-5x slower when the
   * sources run under tsx, which the benchmarks, the tour and TypeScript
   * users running sources directly do: tsx compiles with esbuild's
   * keep-names, which sets each class's `name` in a static block, and in
   * Node 20's V8 a derived class with no instance fields and its `name`
   * redefined constructs its objects about 3.5x slower (a two-level class
   * chain: 45-52 ms per 2 million objects without keep-names, 178-239 with
   * it; 60-67 either way with parameter properties).
   */
  constructor(readonly trace: Trace) {
    super();
  }
  /** The imperative style does not run inside transformations (see src/imperative/). */
  override backward(): void {
    throw new ChainruleError(
      `backward: called on a traced value (shape [${this.shape.join(", ")}]) inside a ` +
        `transformation (grad, jvp, vmap, jit or makeJaxpr). The imperative style runs on ` +
        `eager values only: call backward() outside, or differentiate with grad/vjp instead`,
    );
  }
  /** The simplest representation of this value (a lower-level value when possible). */
  fullLower(): Array {
    return this;
  }
  /**
   * Implicit conversion to a number would silently drop derivatives, so it is
   * refused; conversion to a string (String(x), template literals) describes
   * the tracer, as JAX prints tracers: `Traced<float64[3]>`.
   */
  [Symbol.toPrimitive](hint: string): string | number {
    if (hint === "string") return `Traced<${this.dtype}[${this.shape.join(",")}]>`;
    const advice = isTracingDynamically()
      ? `Inside jit the value is not known while tracing, so x.item() fails too: branch with ` +
        `lax.cond, lax.select or np.where, loop with lax.whileLoop or lax.forILoop, or make ` +
        `the argument static (jit(f, { staticArgnums }))`
      : `Use x.item() for control flow on a concrete value (if (x.item() < 2) ...)`;
    throw new ConcretizationError(
      `chainrule: an Array of shape [${this.shape.join(", ")}] inside a transformation was ` +
        `converted to a JS number implicitly (by an operator such as +, * or <). That would ` +
        `lose its derivative. Use np functions or methods for arithmetic (x.mul(2)). ${advice}.`,
    );
  }
}

const traceStack: MainTrace[] = [];
let dynamicMain: MainTrace | null = null;

/** The level a new main trace would get. */
function nextLevel(): number {
  return traceStack.length + 1;
}

/**
 * Runs `body` with a new main trace pushed on the stack; pops it afterwards
 * even if `body` throws.
 */
export function withMainTrace<T>(
  makeTrace: (main: MainTrace) => Trace,
  body: (main: MainTrace) => T,
  opts: { dynamic?: boolean; recordOnly?: boolean } = {},
): T {
  const main = new MainTrace(nextLevel(), makeTrace);
  main.recordOnly = opts.recordOnly === true;
  main.dynamicBelow = dynamicMain;
  traceStack.push(main);
  const savedDynamic = dynamicMain;
  if (opts.dynamic === true) dynamicMain = main;
  try {
    return body(main);
  } finally {
    traceStack.pop();
    dynamicMain = savedDynamic;
  }
}

/**
 * Runs `fn` as eager code while a dynamic trace (jit, makeJaxpr) is active:
 * what it computes on concrete values is not recorded. jit folds equations
 * of constants as its trace records them (ir/passes.ts), by running the
 * primitive's impl, which must not add equations to that trace.
 */
export function outsideDynamicTrace<T>(fn: () => T): T {
  const saved = dynamicMain;
  dynamicMain = null;
  try {
    return fn();
  } finally {
    dynamicMain = saved;
  }
}

/** True while `main` is on the stack. */
export function isActive(main: MainTrace): boolean {
  return traceStack[main.level - 1] === main;
}

function escaped(value: Tracer): EscapedTracerError {
  return new EscapedTracerError(
    `chainrule: a traced value of shape [${value.shape.join(", ")}] was used outside the ` +
      `transformation that created it (for example stored in a variable inside grad or jit ` +
      `and read after it returned). Return it from the function instead.`,
  );
}

/** The innermost active main trace among the operands (and the dynamic one), or null. */
function topMainTrace(args: readonly Array[]): MainTrace | null {
  let top: MainTrace | null = dynamicMain;
  for (let i = 0; i < args.length; i++) {
    // A tracer's trace; undefined for a concrete array, which has no `trace`
    // field (a field read: cheaper than `instanceof Tracer` in V8's
    // unoptimised tiers, where a program's first trace runs).
    const trace = (args[i] as { trace?: Trace }).trace;
    if (trace !== undefined) {
      const main = trace.main;
      // Level 0 is the imperative (requiresGrad) trace, always open and not on the stack.
      if (traceStack[main.level - 1] !== main && main.level !== 0) throw escaped(args[i] as Tracer);
      if (top === null || main.level > top.level) top = main;
    }
  }
  return top;
}

/**
 * Eager evaluation on a device backend (webgpu): when set, concrete
 * evaluation calls it instead of the primitive's `impl` (which works on host
 * TypedArrays). It returns the outputs. Set by `setBackend`.
 */
export type EagerEvaluator = (
  prim: AnyPrimitive,
  args: readonly ConcreteArray[],
  params: unknown,
) => ConcreteArray[];
let eagerEvaluator: EagerEvaluator | null = null;

/** Routes eager evaluation to a device backend (null: the primitives' own `impl`). */
export function setEagerEvaluator(evaluator: EagerEvaluator | null): void {
  eagerEvaluator = evaluator;
}

/**
 * Applies a single-output primitive to its operands through the innermost
 * active trace. With no tracers and no dynamic trace this is plain evaluation.
 * (The single-output case of `bindAll`, without a result list.)
 */
export function bind(prim: Primitive, args: readonly Array[], params: unknown): Array {
  const top = topMainTrace(args);
  if (top === null) {
    // The shape/dtype rule validates operands in eager mode too.
    prim.abstractEval(args, params);
    if (eagerEvaluator !== null) return eagerEvaluator(prim, args as ConcreteArray[], params)[0]!;
    return prim.impl(args as ConcreteArray[], params);
  }
  // Already in its simplest form (see `Trace.processPrimitive`).
  return top.trace.processPrimitive(prim, args, params);
}

/**
 * Applies a primitive of either kind and returns all its outputs: a list of
 * one for a single-output primitive, one entry per output otherwise.
 */
export function bindAll(prim: AnyPrimitive, args: readonly Array[], params: unknown): Array[] {
  if (prim.multipleResults !== true) return [bind(prim, args, params)];
  const top = topMainTrace(args);
  if (top === null) {
    const avals = prim.abstractEval(args, params);
    const outs =
      eagerEvaluator !== null
        ? eagerEvaluator(prim, args as ConcreteArray[], params)
        : prim.impl(args as ConcreteArray[], params);
    if (outs.length !== avals.length) {
      throw new ChainruleError(
        `internal error: ${prim.name}'s impl returned ${outs.length} outputs but its ` +
          `abstractEval declares ${avals.length}; the two rules must agree`,
      );
    }
    return outs;
  }
  return top.trace
    .processMultiPrimitive(prim, args, params)
    .map((out) => (out instanceof Tracer ? out.fullLower() : out));
}

/** True when a dynamic trace (jit, makeJaxpr) is active. */
export function isTracingDynamically(): boolean {
  return dynamicMain !== null && !dynamicMain.recordOnly;
}

/**
 * The dynamic trace (jit, makeJaxpr) when it is the innermost active
 * transformation, not a recording one: every operation on any value goes
 * to it. Null otherwise.
 */
export function innermostDynamicTrace(): Trace | null {
  if (dynamicMain === null || dynamicMain.recordOnly) return null;
  return traceStack[traceStack.length - 1] === dynamicMain ? dynamicMain.trace : null;
}

/**
 * How many functions are being staged for reverse mode from their recorded
 * equations (transforms/stagedReverse.ts). While one is, the recorded
 * program must keep what only its derivative sees: `stopGradient` is then
 * recorded, not simplified away as the identity it is for values.
 */
let stagingReverse = 0;

/** Runs `body` with derivative barriers kept in the recorded program (see above). */
export function keepingDerivativeBarriers<T>(body: () => T): T {
  stagingReverse++;
  try {
    return body();
  } finally {
    stagingReverse--;
  }
}

/** Whether derivative barriers (`stopGradient`) must stay in the recorded program. */
export function derivativeBarriersKept(): boolean {
  return stagingReverse > 0;
}

/** True while a recording main (a GradientTape's `record`) sees every operation. */
export function isRecording(): boolean {
  return dynamicMain !== null && dynamicMain.recordOnly;
}

/** The active main traces, outermost first (a read-only view of the stack; do not keep it). */
export function activeMainTraces(): readonly MainTrace[] {
  return traceStack;
}

/** How many transformations are active (0 in plain eager code). */
export function activeTraceCount(): number {
  return traceStack.length;
}

/**
 * Applies a primitive below the recording main `main`: with the dynamic
 * trace that was active when `main` was pushed, so that the operation is
 * evaluated (or staged) as if `main` were not there.
 */
export function bindAllBelow(
  main: MainTrace,
  prim: AnyPrimitive,
  args: readonly Array[],
  params: unknown,
): Array[] {
  const saved = dynamicMain;
  dynamicMain = main.dynamicBelow;
  try {
    return bindAll(prim, args, params);
  } finally {
    dynamicMain = saved;
  }
}
