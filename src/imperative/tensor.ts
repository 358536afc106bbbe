/**
 * The imperative (PyTorch-style) autodiff state: arrays with
 * `requiresGrad` are tracers of one always-open trace at level 0, below
 * every transformation. Arrays are immutable and garbage-collected, so the
 * recorded graph is simply each result's reference to the operation that
 * made it (`OpNode`: primitive, parameters, operand arrays); a graph lives
 * exactly as long as the arrays that can reach it.
 *
 * Cost: plain arrays are not tracers, so `bind` takes its eager fast path
 * for them unchanged; only operations with a requiresGrad operand come here.
 *
 * `backward()` does not keep a second, hand-written reverse pass: it turns
 * the recorded operations from the leaves to the output into a function and
 * differentiates it with `vjp` (src/imperative/backward.ts), so the
 * derivative rules, structural zeros and higher order are those of `grad`.
 */
import { Array, type ArrayLike, type BackwardOptions, ConcreteArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { ChainruleError, DTypeError, InvalidArgumentError, fmtShape } from "../core/errors.js";
import type { AnyPrimitive, MultiPrimitive, Primitive } from "../core/primitive.js";
import { MainTrace, Trace, Tracer, bind, bindAll } from "../core/trace.js";

/** One recorded operation: a primitive applied to arrays (tracers or constants). */
export interface OpNode {
  readonly prim: AnyPrimitive;
  readonly params: unknown;
  /** The operands; emptied when the graph is freed by a backward without retainGraph. */
  args: readonly Array[];
  /** Set by a backward() without retainGraph: a later backward through it is refused. */
  freed: boolean;
}

let gradEnabled = true;

/**
 * The level-0 trace of arrays that require grad: evaluates each operation
 * on the concrete values and, for float results, records the operation.
 */
class ImperativeTrace extends Trace {
  pure(value: Array): Tracer {
    // Never needed: operands of other levels are concrete and stay constants.
    throw new ChainruleError(
      `internal error: the imperative trace cannot lift a value of shape ${fmtShape(value.shape)}`,
    );
  }

  processPrimitive(prim: Primitive, args: readonly Array[], params: unknown): Array {
    const out = bind(prim, concreteArgs(args), params);
    if (!gradEnabled || !isFloat(out.dtype)) return out;
    const op: OpNode = { prim, params, args, freed: false };
    return new GradTracer(out as ConcreteArray, op, 0);
  }

  processMultiPrimitive(prim: MultiPrimitive, args: readonly Array[], params: unknown): Array[] {
    const outs = bindAll(prim, concreteArgs(args), params);
    if (!gradEnabled) return outs;
    const op: OpNode = { prim, params, args, freed: false };
    return outs.map((out, j) =>
      isFloat(out.dtype) ? new GradTracer(out as ConcreteArray, op, j) : out,
    );
  }
}

function concreteArgs(args: readonly Array[]): Array[] {
  return args.map((a) => (a instanceof GradTracer ? a.value : a));
}

const imperativeMain = new MainTrace(0, (main) => new ImperativeTrace(main));

/** How `backward` is carried out; installed by src/imperative/backward.ts (no import cycle). */
type BackwardImpl = (y: GradTracer, ct: ArrayLike | undefined, opts: BackwardOptions) => void;
let backwardImpl: BackwardImpl | undefined;

/** Connects `Array.backward` to its implementation (called once by backward.ts). */
export function installBackward(impl: BackwardImpl): void {
  backwardImpl = impl;
}

/**
 * An array that requires grad: its concrete value, and the operation that
 * produced it (null for a leaf, which accumulates `.grad`).
 */
export class GradTracer extends Tracer {
  /** The gradient accumulated by backward() (leaves only). */
  accumulated: Array | null = null;

  constructor(
    readonly value: ConcreteArray,
    /** The producing operation, or null for a leaf. */
    readonly op: OpNode | null,
    /** Which output of `op` this is. */
    readonly index: number,
  ) {
    super(imperativeMain.trace);
  }
  get shape() {
    return this.value.shape;
  }
  get dtype() {
    return this.value.dtype;
  }
  concrete(): ConcreteArray {
    return this.value;
  }
  override get requiresGrad(): boolean {
    return true;
  }
  /** True for an array made with requiresGrad (not computed from one). */
  get isLeaf(): boolean {
    return this.op === null;
  }
  override get grad(): Array | null {
    if (this.op !== null) {
      throw new InvalidArgumentError(
        `grad: this array (shape ${fmtShape(this.shape)}) is not a leaf: it was computed from ` +
          `arrays that require grad (by ${this.op.prim.name}), and only leaves accumulate ` +
          `.grad. Read the gradient of the leaves, or make this value a leaf with ` +
          `np.array(y.detach(), { requiresGrad: true }) and compute from it`,
      );
    }
    return this.accumulated;
  }
  override backward(ct?: ArrayLike, opts: BackwardOptions = {}): void {
    if (backwardImpl === undefined) {
      throw new ChainruleError("chainrule: the imperative module is not loaded");
    }
    backwardImpl(this, ct, opts);
  }
  override zeroGrad(): void {
    this.accumulated = null;
  }
  override detach(): Array {
    return this.value;
  }
  /** Unlike other tracers, the value is known: `+x` and `${x}` work as for plain arrays. */
  override [Symbol.toPrimitive](hint: string): string | number {
    if (hint === "string") return this.toString();
    return this.item();
  }
}

/**
 * A new leaf that requires grad, holding `x`'s values. Only float arrays
 * can: an integer or bool array has no derivative.
 */
export function makeLeaf(fnName: string, x: Array): GradTracer {
  if (!isFloat(x.dtype)) {
    throw new DTypeError(
      `${fnName}: only float arrays can require grad, got dtype ${x.dtype} ` +
        `(shape ${fmtShape(x.shape)}); pass { dtype: "float64" } (or "float32") as well`,
    );
  }
  return new GradTracer(x.detach().concrete(fnName), null, 0);
}

/**
 * Runs `fn` with recording switched off (PyTorch's `torch.no_grad()`):
 * operations on arrays that require grad return plain arrays, so nothing is
 * recorded and nothing is kept alive. Returns fn's value.
 * @example
 * ```ts
 * import { np, noGrad } from "chainrule";
 * const w = np.array([1, 2], { requiresGrad: true });
 * const updated = noGrad(() => w.sub(w.mul(0.1))); // a plain array: requiresGrad false
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  const saved = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = saved;
  }
}
