/**
 * Reverse mode inside jit, staged from the traced equations.
 *
 * Inside jit, every operation f performs is recorded as an equation of the
 * program anyway. So grad and vjp there do not run f under the JVP trace (a
 * JVP tracer, a tangent node on a tape and a transpose per operation, the
 * general path of linearize.ts); they let f record its equations plainly,
 * then stage the backward pass from those equations directly: for each
 * equation of f, last to first, the cotangents of its inputs from the
 * cotangent of its output. Less work per operation, the same program.
 *
 * For an equation y = prim(x_1, ..., x_n) with output cotangent c, the
 * cotangent of each differentiated input x_i (one that depends on f's
 * arguments) gains:
 *   - elementwise primitives, x_i shaped and typed like y: the Jacobian in
 *     x_i is diagonal, so equal to its transpose, and
 *       ct(x_i) += jvp(x; c e_i; y),
 *     the primitive's own JVP rule with c as the tangent of x_i and zero
 *     tangents elsewhere (sin: c cos x; mul: c x_2 for x_1);
 *   - select, and linear primitives that copy, move or sum entries (mask
 *     rule "pass" or "route": reshape, broadcasts, sums, slices, pads,
 *     concatenation, gathers, conversions): their transpose, the
 *     differentiated inputs undefined;
 *   - matrix products (bilinear): the transpose in each differentiated
 *     operand, the other one held;
 *   - min and max (their JVP rules select tangents): their own staged
 *     transpose (`selectedCotangent`): c where the operand wins, c / 2 at
 *     ties, and a structural zero where the other operand wins;
 *   - an alias of an input: ct(x) += c;
 *   - any other single-output primitive (reductions by max or product,
 *     elementwise ones with a broadcast operand, ...): its JVP rule on a
 *     tape of its own, transposed as the general path would, masks in and
 *     out (`EquationVjp`). So is an elementwise primitive whose JVP rule
 *     turns out to select the cotangent without declaring it (below).
 * Cotangents reaching one variable are summed as they arrive, last equation
 * first, as the tape's backward pass sums them. Structural zeros (what
 * makes `where` NaN-safe, structuralZeros.ts) are carried as the tape's
 * pass carries them: select's transpose makes a mask, the transposes of
 * "pass" and "route" primitives route it, an elementwise rule's result is
 * re-zeroed where its cotangent is masked (unless its mask rule is "pass"),
 * masks summed into one variable are and-ed, and matrix products drop them.
 *
 * Multi-output primitives among the differentiated equations (control
 * flow, custom rules, sorts, decompositions), and primitives that declare
 * `selectsTangents` but have no `selectedCotangent` rule or meet a
 * broadcast operand (their rule's select of tangents makes structural
 * zeros only the tape's pass carries, and a tape per equation costs more
 * than the general path for loops full of them), send the whole function
 * to the general path, which runs f again under the JVP trace:
 * library code may take another form under differentiation than when
 * merely staged (lax loops, checkpointed solvers), so replaying the
 * recorded equations would not always be the same derivative. The
 * equations of the first run are then dead, and jit's DCE removes them.
 *
 * Derivative barriers: `stopGradient` is the identity for values, and
 * jit's optimizer removes it; while f is recorded here it is kept
 * (`keepingDerivativeBarriers`), so that the backward pass meets it (its
 * JVP rule gives no tangent) and stays in the program as an identity.
 *
 * Perturbation confusion: f receives each differentiated argument as an
 * alias (`JaxprTrace.aliasOf`), a variable of its own. An equation reading
 * the argument reads the alias; one reading the same value captured from
 * outside f reads the original, and is not differentiated. `traceToJaxpr`
 * replaces the aliases by their targets when the trace ends.
 */
import type { Array } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { InvalidArgumentError } from "../core/errors.js";
import { type LinearArg, type Primitive, type Tangent, UndefPrimal } from "../core/primitive.js";
import { shapesEqual } from "../core/shape.js";
import { innermostDynamicTrace, keepingDerivativeBarriers } from "../core/trace.js";
import {
  type JaxprEqn,
  JaxprTrace,
  type JaxprTracer,
  type Var,
  aliasPrimitive,
} from "../ir/jaxpr.js";
import { add, select } from "../primitives/elementwise.js";
import { fullLike } from "../primitives/helpers.js";
import { flatten, unflatten, type TreeDef } from "../tree/index.js";
import { type Mask, combineMasks, propagateMask } from "./structuralZeros.js";

/**
 * Internal switch and counters (not exported by the package): tests turn
 * staging off to compare with the general path, and read which path ran.
 */
export const stagedReverse = { enabled: true, staged: 0, general: 0 };

/** How an equation's input cotangents are staged (NONE: not here; the general path). */
const NONE = 0;
const DIAGONAL = 1;
const TRANSPOSE = 2;
const EACH_OPERAND = 3;
const ALIAS = 4;
const ON_TAPE = 5;
const SELECTED = 6;

/**
 * One equation's input cotangents and their masks by the general path (its
 * JVP rule on a tape of its own, transposed): linearize.ts's
 * `equationVjpOnTape`, passed in (that module imports this one).
 */
export type EquationVjp = (
  prim: Primitive,
  primals: readonly Array[],
  active: readonly boolean[],
  out: Array,
  params: unknown,
  ct: Array,
  mask: Mask,
) => [(Array | null)[], Mask[]];

/**
 * Elementwise primitives whose JVP rule was seen selecting a cotangent
 * without declaring `selectsTangents` (min and max declare it): their
 * equations go on a tape of their own from then on.
 */
const selectingPrimitives = new WeakSet<Primitive>();

/**
 * f linearized at some primals for reverse mode, by either path (staged
 * here, or on the tape in linearize.ts), with its pullback.
 */
export interface Linearization {
  /** The structure of the differentiated arguments, and their leaves. */
  readonly inDef: TreeDef;
  readonly inputs: readonly Array[];
  /** The structure of f's output (without aux), and its leaves. */
  readonly outDef: TreeDef;
  readonly outPrimals: readonly Array[];
  readonly aux: unknown;
  /** Stages the backward pass: the cotangent of each input leaf (null: zero) given one per output leaf. */
  readonly pullback: (cts: readonly Array[]) => (Array | null)[];
}

/** f's result with `hasAux`: the pair [output, aux] it must be. */
export function outputAndAux(fnName: string, result: unknown): [unknown, unknown] {
  if (!globalThis.Array.isArray(result) || result.length !== 2) {
    throw new InvalidArgumentError(`${fnName}: with hasAux, f must return a pair [output, aux]`);
  }
  return [result[0], result[1]];
}

/**
 * Runs f on `args` (the differentiated arguments) inside jit, recording its
 * equations, when the innermost transformation is jit's trace. Null
 * otherwise, and null when an equation f recorded needs the general path,
 * which must then run f (again: what the first run recorded is dead code,
 * which jit's DCE removes). With `hasAux`, f returns [output, aux].
 */
export function stageForward(
  fnName: string,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  hasAux: boolean,
  vjpOnTape: EquationVjp,
): Linearization | null {
  if (!stagedReverse.enabled) return null;
  const trace = innermostDynamicTrace();
  if (!(trace instanceof JaxprTrace) || !trace.stagesReverse) return null;
  const [leaves, inDef] = flatten(args);
  const inputs = leaves.map((leaf, i) => asArray(leaf, `${fnName}: input ${i}`));
  // Only float leaves are differentiated; others enter as they are.
  const aliases = inputs.map((x) => (isFloat(x.dtype) ? trace.aliasOf(x) : null));
  const start = trace.builder.recorded.length;
  const aliased = unflatten(
    inDef,
    inputs.map((x, i) => aliases[i] ?? x),
  ) as never[];
  let out = keepingDerivativeBarriers(() => f(...aliased));
  let aux: unknown = undefined;
  if (hasAux) [out, aux] = outputAndAux(fnName, out);
  const [outLeaves, outDef] = flatten(out);
  const outPrimals = outLeaves.map((leaf, i) => asArray(leaf, `${fnName}: output ${i} of f`));
  const end = trace.builder.recorded.length;
  const eqns = trace.builder.recorded;

  // Which variables depend on the differentiated arguments (float ones only),
  // and whether every equation that reads one has a rule here.
  const active = new Uint8Array(trace.builder.varCount);
  for (const a of aliases) if (a !== null) active[a.v.id] = 1;
  const kinds = new Uint8Array(end - start);
  let supported = true;
  for (let e = start; e < end; e++) {
    const eqn = eqns[e]!;
    let reads = false;
    for (let i = 0; i < eqn.inputs.length; i++) if (active[eqn.inputs[i]!.id] === 1) reads = true;
    if (!reads) continue;
    // Comparisons, integer results: no derivative flows through them.
    if (eqn.outs === undefined && !isFloat(eqn.out.dtype)) continue;
    const kind = ruleKind(eqn, active);
    if (kind === NONE) supported = false;
    kinds[e - start] = kind;
    if (eqn.outs !== undefined) {
      for (const v of eqn.outs) if (isFloat(v.dtype)) active[v.id] = 1;
    } else if (isFloat(eqn.out.dtype)) active[eqn.out.id] = 1;
  }

  const ownVar = (x: Array): Var | null =>
    (x as { trace?: unknown }).trace === trace ? (x as JaxprTracer).v : null;

  if (!supported) stagedReverse.general++;
  const pullback = (cts: readonly Array[]): (Array | null)[] => {
    const ct = new globalThis.Array<Array | undefined>(active.length);
    // A fresh tracer per operand read: a table of them, kept for the whole
    // pass, made the first call slower (its tracers survive the young
    // generation's collections and are copied by each).
    const tracerOf = (v: Var): JaxprTracer => trace.tracerOf(v);
    // Structural-zero masks of the cotangents (structuralZeros.ts), made on first use.
    let masks = null as Mask[] | null;
    const accumulate = (v: Var, g: Tangent, mask: Mask): void => {
      if (g === null) return;
      const prev = ct[v.id];
      if (prev === undefined) {
        ct[v.id] = g;
        if (mask !== null)
          (masks ??= new globalThis.Array<Mask>(active.length).fill(null))[v.id] = mask;
        return;
      }
      ct[v.id] = add(prev, g);
      if (masks !== null) masks[v.id] = combineMasks(masks[v.id] ?? null, mask);
    };
    outPrimals.forEach((p, i) => {
      const v = ownVar(p);
      if (v !== null && active[v.id] === 1) accumulate(v, cts[i]!, null);
    });
    for (let e = end - 1; e >= start; e--) {
      const kind = kinds[e - start]!;
      if (kind === NONE) continue;
      const eqn = eqns[e]! as JaxprEqn & { outs?: undefined };
      const c = ct[eqn.out.id];
      if (c === undefined) continue;
      ct[eqn.out.id] = undefined;
      const mask = masks === null ? null : (masks[eqn.out.id] ?? null);
      if (masks !== null) masks[eqn.out.id] = null;
      stageEquation(tracerOf, vjpOnTape, eqns, eqn, kind, c, mask, active, accumulate);
    }
    stagedReverse.staged++;
    return aliases.map((a) => (a === null ? null : (ct[a.v.id] ?? null)));
  };

  return supported ? { inDef, inputs, outDef, outPrimals, aux, pullback } : null;
}

/** How the input cotangents of `eqn`, which reads an active variable, are staged. */
function ruleKind(eqn: JaxprEqn, active: Uint8Array): number {
  const prim = eqn.prim;
  if (prim === aliasPrimitive) return ALIAS;
  if (eqn.outs !== undefined || prim.multipleResults === true) return NONE;
  // select's transpose (not its JVP rule) makes the structural-zero masks.
  if (prim.maskRule === "select") return prim.linear ? TRANSPOSE : ON_TAPE;
  const out = eqn.out;
  const diagonal = prim.elementwise !== undefined && isFloat(out.dtype) && sameAval(eqn, active);
  // min and max: their rule's select of tangents has a staged transpose
  // (`selectedCotangent`), or needs the tape's pass.
  if (prim.selectsTangents === true) {
    return diagonal && prim.selectedCotangent !== undefined ? SELECTED : NONE;
  }
  if (diagonal && !selectingPrimitives.has(prim)) return DIAGONAL;
  if (prim.linear && (prim.maskRule === "pass" || prim.maskRule === "route")) return TRANSPOSE;
  if (prim.linear && prim.matrixProduct !== undefined) return EACH_OPERAND;
  // Any other single-output primitive (reductions by max, cumulative
  // products, elementwise ones with a broadcast operand, ...): its JVP rule
  // and transposes on a tape of its own. (Single-output primitives are
  // first-order: loops and custom rules are multi-output.)
  return ON_TAPE;
}

/** Whether every active input of `eqn` has its output's shape and dtype. */
function sameAval(eqn: JaxprEqn, active: Uint8Array): boolean {
  const out = eqn.out;
  const inputs = eqn.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const v = inputs[i]!;
    if (active[v.id] === 1 && (v.dtype !== out.dtype || !sameShape(v.shape, out.shape))) {
      return false;
    }
  }
  return true;
}

/** Tangents that are all zero (null) but `c` at `i`, of `n` operands (literals for the usual arities). */
function onlyAt(n: number, i: number, c: Array): Tangent[] {
  if (n === 1) return [c];
  if (n === 2) return i === 0 ? [c, null] : [null, c];
  const tangents = new globalThis.Array<Tangent>(n).fill(null);
  tangents[i] = c;
  return tangents;
}

/** Whether two shapes are equal (a scalar program's, all 0-d, without a call). */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a === b || (a.length === 0 && b.length === 0) || shapesEqual(a, b);
}

/**
 * Stages the input cotangents of one equation given its output cotangent
 * `c` and that cotangent's structural-zero mask (null: none), as the tape's
 * pass treats masks (structuralZeros.ts): select makes them, the
 * transposes of "pass" and "route" primitives carry them, a rule that
 * scales by a residual re-zeroes its result where masked, and matrix
 * products drop them. An equation on a tape of its own (`vjpOnTape`) takes
 * and gives masks as the general path does.
 */
function stageEquation(
  tracerOf: (v: Var) => JaxprTracer,
  vjpOnTape: EquationVjp,
  recorded: readonly JaxprEqn[],
  eqn: JaxprEqn & { outs?: undefined },
  kind: number,
  c: Array,
  mask: Mask,
  active: Uint8Array,
  accumulate: (v: Var, g: Tangent, mask: Mask) => void,
): void {
  const inputs = eqn.inputs;
  const n = inputs.length;
  if (kind === ALIAS) {
    accumulate(inputs[0]!, c, mask);
    return;
  }
  const prim = eqn.prim;
  const primals = new globalThis.Array<Array>(n);
  for (let i = 0; i < n; i++) primals[i] = tracerOf(inputs[i]!);
  if (kind === DIAGONAL) {
    const out = tracerOf(eqn.out);
    // Last input first, as the tape's backward pass meets the rule's terms.
    // The first result is held apart (most equations differentiate one input).
    const before = recorded.length;
    let first: Tangent = null;
    let firstIndex = -1;
    let others: Tangent[] | null = null;
    for (let i = n - 1; i >= 0; i--) {
      if (active[inputs[i]!.id] !== 1) continue;
      const g = prim.jvp(primals, onlyAt(n, i, c), out, eqn.params);
      if (firstIndex < 0) {
        first = g;
        firstIndex = i;
      } else (others ??= new globalThis.Array<Tangent>(n).fill(null))[i] = g;
    }
    if (!selectsIn(recorded, before)) {
      if (firstIndex >= 0) accumulate(inputs[firstIndex]!, rezeroed(prim, first, mask), mask);
      if (others !== null) {
        for (let i = firstIndex - 1; i >= 0; i--) {
          if (active[inputs[i]!.id] === 1)
            accumulate(inputs[i]!, rezeroed(prim, others[i]!, mask), mask);
        }
      }
      return;
    }
    // An undeclared rule that selects a cotangent: what it staged is dead;
    // this equation and the primitive's later ones go on a tape.
    selectingPrimitives.add(prim);
    kind = ON_TAPE;
  }
  if (kind === SELECTED) {
    for (let i = n - 1; i >= 0; i--) {
      if (active[inputs[i]!.id] !== 1) continue;
      const [g, m] = prim.selectedCotangent!(primals, i, c, mask);
      accumulate(inputs[i]!, g, m);
    }
    return;
  }
  if (kind === ON_TAPE) {
    const isActive = inputs.map((v) => active[v.id] === 1);
    const [inCts, inMasks] = vjpOnTape(
      prim,
      primals,
      isActive,
      tracerOf(eqn.out),
      eqn.params,
      c,
      mask,
    );
    for (let i = n - 1; i >= 0; i--) {
      if (isActive[i]) accumulate(inputs[i]!, inCts[i] ?? null, inMasks[i] ?? null);
    }
    return;
  }
  if (!prim.linear) return; // ruleKind admits linear primitives only below
  const linearArgs = (undefinedAt: (i: number) => boolean): LinearArg[] => {
    const args = new globalThis.Array<LinearArg>(n);
    for (let i = 0; i < n; i++) {
      const v = inputs[i]!;
      args[i] = undefinedAt(i) ? new UndefPrimal(v.shape, v.dtype) : primals[i]!;
    }
    return args;
  };
  if (kind === TRANSPOSE) {
    const args = linearArgs((i) => active[inputs[i]!.id] === 1);
    let inCts = prim.transpose(c, args, eqn.params);
    let inMasks: Mask[] | null = null;
    if (mask !== null || prim.maskRule === "select") {
      [inCts, inMasks] = propagateMask(prim, c, mask, args, eqn.params, inCts);
    }
    for (let i = 0; i < n; i++) {
      if (active[inputs[i]!.id] === 1) {
        accumulate(inputs[i]!, inCts[i] ?? null, inMasks?.[i] ?? null);
      }
    }
    return;
  }
  // A bilinear product: the transpose in each differentiated operand, the other held.
  for (let i = n - 1; i >= 0; i--) {
    if (active[inputs[i]!.id] !== 1) continue;
    const inCts = prim.transpose(
      c,
      linearArgs((j) => j === i),
      eqn.params,
    );
    accumulate(inputs[i]!, inCts[i] ?? null, null);
  }
}

/**
 * An elementwise rule's result `g` where its cotangent is structurally
 * zero (`mask`): zero, so that a residual (0 * inf) does not show, as the
 * tape re-zeroes the products and quotients its rules record; as it is for
 * a "pass" primitive (add, sub, neg), whose result is zero there already.
 */
function rezeroed(prim: Primitive, g: Tangent, mask: Mask): Tangent {
  if (g === null || mask === null || prim.maskRule === "pass") return g;
  return select(mask, fullLike(g, 0), g);
}

/**
 * Whether a select was recorded from index `from` on: a JVP rule applied to
 * a cotangent selected it (min and max route tangents through select), and
 * the structural zeros of that select are the general path's to carry.
 */
function selectsIn(recorded: readonly JaxprEqn[], from: number): boolean {
  for (let k = from; k < recorded.length; k++) {
    const eqn = recorded[k]!;
    if (eqn.outs === undefined && eqn.prim.maskRule === "select") return true;
  }
  return false;
}
