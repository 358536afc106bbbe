/**
 * The traced program (a "jaxpr"): inputs, constants, a list of equations in
 * SSA form (one primitive application each, with shapes and dtypes), and
 * outputs; an equation of a multi-output primitive defines several
 * variables. `makeJaxpr(f)(...args)` traces f abstractly: each primitive is
 * recorded instead of computed. The program can be printed, evaluated
 * (`evalJaxpr`, through `bind`, so every transformation applies to it), and
 * later optimised and compiled by jit.
 */
import { Array, type Aval, ConcreteArray } from "../core/array.js";
import { asArray, expectFunction } from "../core/convert.js";
import type { DType } from "../core/dtype.js";
import { ConcretizationError, InvalidArgumentError, fmtShape } from "../core/errors.js";
import { type MultiPrimitive, type Primitive, makePrimitive } from "../core/primitive.js";
import { Trace, Tracer, bindAll, withMainTrace } from "../core/trace.js";
import { flatten, unflatten, type TreeDef } from "../tree/index.js";
import type { Inputs } from "../tree/types.js";

/** A variable of the program: an SSA name with its abstract value. */
export class Var implements Aval {
  constructor(
    readonly id: number,
    readonly shape: readonly number[],
    readonly dtype: DType,
  ) {}
}

/**
 * A map keyed by variables, stored in an array indexed by their ids (dense
 * within a program): much cheaper than a Map on long programs.
 */
export class VarMap<T> {
  private values: (T | undefined)[];
  /**
   * `size`: more than the largest id expected, when known: the array is then
   * allocated whole (V8 keeps `new Array(n)` in its fast mode, 10^6 elements
   * included), and stays so even when a high id is set first (a backward
   * sweep), instead of turning into a dictionary. A larger id than expected
   * grows the array (doubling), never by a store far past its end.
   */
  constructor(size = 0) {
    this.values = size > 0 ? new globalThis.Array<T | undefined>(size) : [];
  }
  get(v: Var): T | undefined {
    return this.values[v.id];
  }
  set(v: Var, value: T): void {
    const id = v.id;
    if (id >= this.values.length) this.grow(id);
    this.values[id] = value;
  }
  private grow(id: number): void {
    const old = this.values;
    const values = new globalThis.Array<T | undefined>(Math.max(2 * old.length, id + 1, 64));
    for (let i = 0; i < old.length; i++) values[i] = old[i];
    this.values = values;
  }
  has(v: Var): boolean {
    return this.values[v.id] !== undefined;
  }
}

interface EqnBase {
  readonly params: unknown;
  readonly inputs: readonly Var[];
  /** The output (for a multi-output primitive, the first one). */
  readonly out: Var;
}

/** An application of a single-output primitive: `out = prim[params] inputs`. */
export interface SingleEqn extends EqnBase {
  readonly prim: Primitive;
  readonly outs?: undefined;
}

/** An application of a multi-output primitive: `outs... = prim[params] inputs` (out is outs[0]). */
export interface MultiEqn extends EqnBase {
  readonly prim: MultiPrimitive;
  readonly outs: readonly Var[];
}

/** One equation; `outs` is present exactly when the primitive has several outputs. */
export type JaxprEqn = SingleEqn | MultiEqn;

/** Every variable an equation defines (one for a single-output primitive). */
export function eqnOutputs(e: JaxprEqn): readonly Var[] {
  return e.outs ?? [e.out];
}

const DTYPE_SHORT: Record<DType, string> = {
  float64: "f64",
  float32: "f32",
  int32: "i32",
  bool: "bool",
};

/** A typed program: { lambda consts ; inputs . let eqns in outputs }. */
export class Jaxpr {
  constructor(
    /** Variables standing for the constants captured from outside the traced function. */
    readonly constVars: readonly Var[],
    /** The constants' values, one per constVar. */
    readonly consts: readonly Array[],
    /** The program's inputs, one per argument leaf. */
    readonly inVars: readonly Var[],
    /** The equations, in order: each applies a primitive to earlier variables. */
    readonly eqns: readonly JaxprEqn[],
    /** The program's outputs, one per output leaf. */
    readonly outVars: readonly Var[],
  ) {}

  /** The program as text, in JAX's jaxpr notation. */
  toString(): string {
    const names = new Map<Var, string>();
    const name = (v: Var): string => {
      let n = names.get(v);
      if (n === undefined) {
        n = varName(names.size);
        names.set(v, n);
      }
      return n;
    };
    const typed = (v: Var): string => `${name(v)}:${DTYPE_SHORT[v.dtype]}[${v.shape.join(",")}]`;
    // Scalar constants print inline as literals; others are named inputs.
    const literal = new Map<Var, string>();
    this.constVars.forEach((v, i) => {
      const c = this.consts[i]!;
      if (c.size === 1 && c instanceof ConcreteArray)
        literal.set(v, formatNumber(c.buffer[0]!, c.dtype));
    });
    const ref = (v: Var): string => literal.get(v) ?? name(v);
    const namedConsts = this.constVars.filter((v) => !literal.has(v));
    const head = `{ lambda ${namedConsts.map(typed).join(" ")} ; ${this.inVars.map(typed).join(" ")} .`;
    const lines = this.eqns.map((e) => {
      const params = formatParams(e.params);
      const lhs = eqnOutputs(e).map(typed).join(" ");
      return `    ${lhs} = ${e.prim.name}${params} ${e.inputs.map(ref).join(" ")}`;
    });
    const body = lines.length > 0 ? `\n  let\n${lines.join("\n")}` : "";
    return `${head}${body}\n  in ( ${this.outVars.map(ref).join(", ")} ) }`;
  }
}

function varName(i: number): string {
  let s = "";
  do {
    s = String.fromCharCode(97 + (i % 26)) + s;
    i = Math.floor(i / 26) - 1;
  } while (i >= 0);
  return s;
}

function formatNumber(x: number, dtype: DType): string {
  if (dtype === "bool") return x ? "True" : "False";
  if (dtype === "int32") return String(x);
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

function formatParams(params: unknown): string {
  if (params === null || typeof params !== "object") return "";
  const entries = Object.entries(params as Record<string, unknown>);
  if (entries.length === 0) return "";
  return `[${entries.map(([k, v]) => `${k}=${JSON.stringify(v)?.replace(/"/g, "")}`).join(" ")}]`;
}

/**
 * What jit's trace hands each equation to as it is recorded, instead of
 * appending it as it is: folding, simplification and CSE applied at once
 * (passes.ts, `EquationOptimizer`), so that the traced program needs no
 * second pass over every equation before DCE.
 */
export interface TraceOptimizer {
  /** The kept equations, in order (the traced program's equations). */
  readonly eqns: readonly JaxprEqn[];
  /** A constant of the program was added. */
  noteConst(v: Var, value: Array): void;
  /** `out = prim[params](inputs)` was traced: the variable standing for its result. */
  single(original: null, prim: Primitive, params: unknown, inputs: readonly Var[], out: Var): Var;
  /**
   * An equation to keep exactly as it is: no folding, simplification or
   * CSE, and none with it later (an input's alias, see `JaxprTrace.aliasOf`).
   */
  keep(eqn: SingleEqn): void;
  /** A multi-output equation was traced: the variables standing for its results. */
  multi(
    prim: MultiPrimitive,
    params: unknown,
    inputs: readonly Var[],
    outs: readonly Var[],
  ): readonly Var[];
}

/**
 * Makes a trace's optimizer: given the trace's way of making variables and
 * its lists of constants (which the optimizer may append to).
 */
export type TraceOptimizerFactory = (
  newVar: (shape: readonly number[], dtype: DType) => Var,
  constVars: Var[],
  consts: Array[],
) => TraceOptimizer;

/** Builds a Jaxpr while tracing. */
class JaxprBuilder {
  /** When set, equations go through it (jit's trace), and it keeps the program's equations. */
  optimizer: TraceOptimizer | null = null;
  readonly eqns: JaxprEqn[] = [];
  readonly constVars: Var[] = [];
  readonly consts: Array[] = [];
  private readonly constOf = new Map<Array, Var>();
  /**
   * Host 0-d constants by dtype and value: a scalar written in a traced loop
   * (`x.mul(0.5)`) becomes a new array at each use, and all of them share
   * one variable (-0 and NaN are left apart, compared by identity only).
   */
  private readonly scalarConstOf = new Map<DType, Map<number, Var>>();
  private nextId = 0;
  /** How many alias equations were recorded (see `JaxprTrace.aliasOf`). */
  aliasCount = 0;

  /** How many variables were made so far (every id is below it). */
  get varCount(): number {
    return this.nextId;
  }
  /** The equations recorded so far, in order (the optimizer's kept ones when there is one). */
  get recorded(): readonly JaxprEqn[] {
    return this.optimizer === null ? this.eqns : this.optimizer.eqns;
  }

  newVar(aval: Aval): Var {
    return this.newVarOf(aval.shape, aval.dtype);
  }
  /**
   * A new variable of this shape and dtype. (Callers read the two fields
   * themselves: newVar sees plain avals from abstractEval in the hot path,
   * and a constant, an Array, would give it a second kind of object, which
   * deoptimises V8's compiled code of it in a program's first trace.)
   */
  newVarOf(shape: readonly number[], dtype: DType): Var {
    return new Var(this.nextId++, shape, dtype);
  }
  private newConst(value: Array): Var {
    const v = this.newVarOf(value.shape, value.dtype);
    this.constOf.set(value, v);
    this.constVars.push(v);
    this.consts.push(value);
    if (this.optimizer !== null) this.optimizer.noteConst(v, value);
    return v;
  }
  /** The table of equal-valued scalar constants that `value` belongs to, if it is one. */
  private scalarsOf(value: Array): Map<number, Var> | undefined {
    if (!(value instanceof ConcreteArray) || value.shape.length !== 0 || !value.onHost) {
      return undefined;
    }
    const x = value.scalarValue;
    if (Number.isNaN(x) || Object.is(x, -0)) return undefined;
    let byValue = this.scalarConstOf.get(value.dtype);
    if (byValue === undefined) {
      byValue = new Map<number, Var>();
      this.scalarConstOf.set(value.dtype, byValue);
    }
    return byValue;
  }
  constVar(value: Array): Var {
    let v = this.constOf.get(value);
    if (v === undefined) {
      if (value.requiresGrad) {
        throw new InvalidArgumentError(
          `jit/makeJaxpr: an array that requires grad (shape ${fmtShape(value.shape)}) is used ` +
            `inside the traced function as a constant (captured from outside), so backward() ` +
            `could not see the operations on it. Pass it as an argument (jit then runs inline ` +
            `and records), use x.detach() for its value, or use grad(jit(f)) instead`,
        );
      }
      const byValue = this.scalarsOf(value);
      if (byValue !== undefined) {
        const x = (value as ConcreteArray).scalarValue;
        // Found by value (not remembered by identity too: W1 makes a new 0.5
        // per iteration, and the map would keep all of them alive).
        const shared = byValue.get(x);
        if (shared !== undefined) return shared;
        v = this.newConst(value);
        byValue.set(x, v);
      } else v = this.newConst(value);
    }
    return v;
  }
}

export class JaxprTracer extends Tracer {
  /**
   * The variable's shape and dtype, as fields (not getters of `v`): every
   * traced operation reads them several times (shape rules, numpy's
   * promotion), and in a program's first trace, mostly unoptimised, each
   * getter read is a call.
   */
  readonly shape: readonly number[];
  readonly dtype: DType;
  constructor(
    trace: Trace,
    readonly v: Var,
    /** The value at the arguments being traced, when tracing at concrete values. */
    readonly known?: ConcreteArray,
  ) {
    super(trace);
    this.shape = v.shape;
    this.dtype = v.dtype;
  }
  concrete(fnName: string): ConcreteArray {
    if (this.known !== undefined) return this.known;
    throw new ConcretizationError(
      `${fnName}: this value (shape ${fmtShape(this.shape)}, dtype ${this.dtype}) is abstract ` +
        `while tracing for jit or makeJaxpr, so it has no JS value. Python-style if/while on ` +
        `traced values cannot be staged: use lax.cond, lax.whileLoop or np.where, or mark the ` +
        `argument static with jit(f, { staticArgnums })`,
    );
  }
}

/**
 * `y = alias x`: y is x under a name of its own, for the duration of a
 * trace. Reverse mode inside jit (transforms/stagedReverse.ts) hands f its
 * differentiated inputs as aliases, so that the equations reading the input
 * through f's argument are told apart from those reading the same value
 * captured from outside (which must not be differentiated: perturbation
 * confusion). Aliases never reach a finished program: `traceToJaxpr`
 * replaces each by its target. Not registered and never bound (only
 * `aliasOf` records it); its rules are the identity's.
 */
export const aliasPrimitive: Primitive = makePrimitive<null>({
  name: "alias",
  linear: true,
  abstractEval: (avals) => avals[0]!,
  impl: (args) => args[0]!,
  jvp: (_primals, tangents) => tangents[0]!,
  transpose: (ct) => [ct],
  batch: (args, dims) => [args[0]!, dims[0]!],
  maskRule: "pass",
});

export class JaxprTrace extends Trace {
  readonly builder = new JaxprBuilder();
  /** Set when tracing at concrete values (values are computed alongside). */
  concrete = false;
  pure(value: Array): Tracer {
    return new JaxprTracer(this, this.builder.constVar(value), knownValue(value));
  }
  newInput(aval: Aval, known?: ConcreteArray): JaxprTracer {
    return new JaxprTracer(this, this.builder.newVar(aval), known);
  }
  /** This trace's value standing for variable `v` of its program. */
  tracerOf(v: Var): JaxprTracer {
    return new JaxprTracer(this, v);
  }
  /**
   * Whether reverse mode may be staged from this trace's recorded equations
   * (transforms/stagedReverse.ts): jit's trace, abstract, with its optimizer.
   */
  get stagesReverse(): boolean {
    return this.builder.optimizer !== null && !this.concrete;
  }
  /**
   * A new variable equal to `x` (this trace's value or a constant), recorded
   * as `alias x`: never folded, simplified or merged with another alias of
   * x, so that it has an identity of its own while the trace lasts.
   */
  aliasOf(x: Array): JaxprTracer {
    const b = this.builder;
    const target = (x as { trace?: unknown }).trace === this ? (x as JaxprTracer).v : b.constVar(x);
    const out = b.newVarOf(x.shape, x.dtype);
    const eqn: SingleEqn = { prim: aliasPrimitive, params: null, inputs: [target], out };
    if (b.optimizer !== null) b.optimizer.keep(eqn);
    else b.eqns.push(eqn);
    b.aliasCount++;
    return new JaxprTracer(this, out);
  }
  processPrimitive(prim: Primitive, args: readonly Array[], params: unknown): Array {
    const aval = prim.abstractEval(args, params);
    const out = this.builder.newVarOf(aval.shape, aval.dtype);
    // A loop, no closures: this runs once per traced operation, mostly before V8 optimises it.
    const inputs = new globalThis.Array<Var>(args.length);
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      // Only this trace's JaxprTracers have `trace === this` (a property read
      // is cheaper than instanceof while this code runs unoptimised).
      inputs[i] =
        (a as { trace?: unknown }).trace === this ? (a as JaxprTracer).v : this.builder.constVar(a);
    }
    const optimizer = this.builder.optimizer;
    // With an optimizer (never while tracing at concrete values), the result may be an earlier variable.
    if (optimizer !== null)
      return new JaxprTracer(this, optimizer.single(null, prim, params, inputs, out));
    this.builder.eqns.push({ prim, params, inputs, out });
    if (!this.concrete) return new JaxprTracer(this, out);
    // Tracing at concrete values: compute the value too, so that JS control flow can branch on it.
    const values = this.knownValues(args);
    const known = values === undefined ? undefined : prim.impl(values, params);
    return new JaxprTracer(this, out, known);
  }
  processMultiPrimitive(prim: MultiPrimitive, args: readonly Array[], params: unknown): Array[] {
    const outs = prim.abstractEval(args, params).map((aval) => this.builder.newVar(aval));
    const own = (a: Array): a is JaxprTracer => a instanceof JaxprTracer && a.trace === this;
    const inputs = args.map((a) => (own(a) ? a.v : this.builder.constVar(a)));
    const optimizer = this.builder.optimizer;
    if (optimizer !== null) {
      return optimizer.multi(prim, params, inputs, outs).map((v) => new JaxprTracer(this, v));
    }
    this.builder.eqns.push({ prim, params, inputs, out: outs[0]!, outs });
    const values = this.concrete ? this.knownValues(args) : undefined;
    const known = values === undefined ? undefined : prim.impl(values, params);
    return outs.map((v, j) => new JaxprTracer(this, v, known?.[j]));
  }
  /** The operands' values when all are known (tracing at concrete values), else undefined. */
  private knownValues(args: readonly Array[]): ConcreteArray[] | undefined {
    const values: ConcreteArray[] = [];
    for (const a of args) {
      const v = a instanceof JaxprTracer && a.trace === this ? a.known : knownValue(a);
      if (v === undefined) return undefined;
      values.push(v);
    }
    return values;
  }
}

/** The concrete value behind a lower-level value, if it has one. */
function knownValue(a: Array): ConcreteArray | undefined {
  if (a instanceof ConcreteArray) return a;
  return undefined;
}

/** A traced program together with the pytree structures of its inputs and outputs. */
/** A traced function: its program and the tree structures of its arguments and output. */
export interface TracedProgram {
  /** The program. */
  jaxpr: Jaxpr;
  /** The structure of the arguments. */
  inDef: TreeDef;
  /** The structure of the output. */
  outDef: TreeDef;
}

/**
 * Traces f on abstract inputs with the given avals (one per leaf of the
 * argument tree `inDef`). With `makeOptimizer` (abstract tracing only: not
 * with `inValues`), every equation goes through the optimizer it makes as
 * it is recorded, and the program has the equations it kept.
 */
export function traceToJaxpr(
  f: (...args: unknown[]) => unknown,
  inDef: TreeDef,
  inAvals: readonly Aval[],
  inValues?: readonly ConcreteArray[],
  makeOptimizer?: TraceOptimizerFactory,
): TracedProgram {
  return withMainTrace(
    (main) => new JaxprTrace(main),
    (main) => {
      const trace = main.trace as JaxprTrace;
      trace.concrete = inValues !== undefined;
      const b = trace.builder;
      if (makeOptimizer !== undefined && inValues === undefined) {
        b.optimizer = makeOptimizer(
          (shape, dtype) => b.newVarOf(shape, dtype),
          b.constVars,
          b.consts,
        );
      }
      const inputs = inAvals.map((a, i) => trace.newInput(a, inValues?.[i]));
      const out = f(...(unflatten(inDef, inputs) as unknown[]));
      const [outLeaves, outDef] = flatten(out);
      const outVars = outLeaves.map((leaf, i) => {
        const x = asArray(leaf, `output ${i} of the traced function`);
        const t =
          x instanceof JaxprTracer && x.trace === trace ? x : (trace.pure(x) as JaxprTracer);
        return t.v;
      });
      const [eqns, outs] = withoutAliases(b.recorded, outVars, b.aliasCount, b.varCount);
      const jaxpr = new Jaxpr(
        b.constVars,
        b.consts,
        inputs.map((t) => t.v),
        eqns,
        outs,
      );
      return { jaxpr, inDef, outDef };
    },
    { dynamic: true },
  );
}

/**
 * The equations and outputs with every alias replaced by its target (and
 * the alias equations dropped); as they are when there is none.
 */
function withoutAliases(
  eqns: readonly JaxprEqn[],
  outVars: readonly Var[],
  aliasCount: number,
  varCount: number,
): [readonly JaxprEqn[], readonly Var[]] {
  if (aliasCount === 0) return [eqns, outVars];
  // A byte per variable marks the aliases (no objects for the collector to
  // scan); their targets are few, in a map.
  const isAlias = new Uint8Array(varCount);
  const targets = new Map<number, Var>();
  const resolve = (v: Var): Var => (isAlias[v.id] === 1 ? targets.get(v.id)! : v);
  const kept: JaxprEqn[] = [];
  for (let e = 0; e < eqns.length; e++) {
    const eqn = eqns[e]!;
    if (eqn.prim === aliasPrimitive) {
      // An alias of an alias resolves to the first target (aliases come after their targets).
      targets.set(eqn.out.id, resolve(eqn.inputs[0]!));
      isAlias[eqn.out.id] = 1;
      continue;
    }
    const inputs = eqn.inputs;
    let renamed = false;
    for (let i = 0; i < inputs.length; i++) if (isAlias[inputs[i]!.id] === 1) renamed = true;
    kept.push(renamed ? { ...eqn, inputs: inputs.map(resolve) } : eqn);
  }
  return [kept, outVars.map(resolve)];
}

/** Evaluates a program on arguments (through bind, so it can be transformed). */
export function evalJaxpr(jaxpr: Jaxpr, args: readonly Array[]): Array[] {
  const env = new Map<Var, Array>();
  jaxpr.constVars.forEach((v, i) => env.set(v, jaxpr.consts[i]!));
  jaxpr.inVars.forEach((v, i) => env.set(v, args[i]!));
  for (const eqn of jaxpr.eqns) {
    const outs = bindAll(
      eqn.prim,
      eqn.inputs.map((v) => env.get(v)!),
      eqn.params,
    );
    eqnOutputs(eqn).forEach((v, j) => env.set(v, outs[j]!));
  }
  return jaxpr.outVars.map((v) => env.get(v)!);
}

/** Options of {@link makeJaxpr}. */
export interface MakeJaxprOptions {
  /**
   * Trace at the arguments' values instead of abstractly: JS control flow
   * (if, while, x.item()) then works, and the program records the branches
   * taken at these arguments.
   */
  concrete?: boolean;
}

/**
 * makeJaxpr(f)(...args): the program f runs on arguments shaped like args,
 * printable with toString().
 */
export function makeJaxpr<Args extends unknown[] = Array[]>(
  f: (...args: Args) => unknown,
  opts?: MakeJaxprOptions,
): (...args: Inputs<Args>) => Jaxpr;
export function makeJaxpr(
  f: (...args: never[]) => unknown,
  opts: MakeJaxprOptions = {},
): (...args: unknown[]) => Jaxpr {
  expectFunction("makeJaxpr", "f", f);
  return (...args: unknown[]): Jaxpr => {
    const [leaves, inDef] = flatten(args);
    const arrays = leaves.map((l, i) => asArray(l, `makeJaxpr: argument leaf ${i}`));
    const avals = arrays.map((x) => ({ shape: x.shape, dtype: x.dtype }));
    const values =
      opts.concrete === true && arrays.every((x) => x instanceof ConcreteArray)
        ? arrays
        : undefined;
    return traceToJaxpr(f as (...a: unknown[]) => unknown, inDef, avals, values).jaxpr;
  };
}
