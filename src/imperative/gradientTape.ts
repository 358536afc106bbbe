/**
 * TensorFlow's `GradientTape`: operations run inside `tape.record(fn)` are
 * recorded when an operand is watched (`tape.watch(x)`), requires grad, or
 * was itself recorded; `tape.gradient(y, x)` then differentiates y with
 * respect to x.
 *
 * Arrays are immutable, so watching cannot change x: the tape identifies
 * arrays by object identity. While `record` runs, a recording main trace is
 * the dynamic trace (it sees every operation, even on plain arrays, and
 * evaluates it below itself); it keeps a WeakMap from each recorded result
 * to its operation. Nothing is recorded, and nothing costs anything, outside
 * `record`. `gradient` and `jacobian` replay the recorded operations from
 * the sources to the target as a function (src/imperative/replay.ts) and
 * differentiate it with vjp / jacrev.
 *
 * Differences from TensorFlow: the recorded block is a callback (JS has no
 * `with`), a source the target does not depend on gets zeros (not None),
 * and arrays with requiresGrad are watched automatically (like trainable
 * tf.Variables).
 */
import { Array, ConcreteArray } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import {
  ChainruleError,
  DTypeError,
  InvalidArgumentError,
  ShapeError,
  fmtShape,
} from "../core/errors.js";
import type { MultiPrimitive, Primitive } from "../core/primitive.js";
import { shapesEqual } from "../core/shape.js";
import {
  type MainTrace,
  Trace,
  type Tracer,
  bindAllBelow,
  isTracingDynamically,
  withMainTrace,
} from "../core/trace.js";
import { jacrev } from "../transforms/jacobian.js";
import { vjp } from "../transforms/linearize.js";
import { type PyTree, flatten, unflatten } from "../tree/index.js";
import type { OpNode } from "./tensor.js";
import { type Recorded, buildReplay } from "./replay.js";

/** Options of `new GradientTape(...)`. */
export interface GradientTapeOptions {
  /** Allow several gradient/jacobian calls (a non-persistent tape allows one). */
  persistent?: boolean;
}

/** The recording main trace of one `record` call. */
class TapeTrace extends Trace {
  constructor(
    main: MainTrace,
    private readonly tape: GradientTape,
  ) {
    super(main);
  }
  pure(value: Array): Tracer {
    throw new ChainruleError(
      `internal error: a GradientTape does not lift values (shape ${fmtShape(value.shape)})`,
    );
  }
  processPrimitive(prim: Primitive, args: readonly Array[], params: unknown): Array {
    const outs = bindAllBelow(this.main, prim, args, params);
    this.tape.note(prim, params, args, outs);
    return outs[0]!;
  }
  processMultiPrimitive(prim: MultiPrimitive, args: readonly Array[], params: unknown): Array[] {
    const outs = bindAllBelow(this.main, prim, args, params);
    this.tape.note(prim, params, args, outs);
    return outs;
  }
}

/**
 * TensorFlow-style recording of operations for reverse-mode derivatives.
 * @example
 * ```ts
 * import { np, GradientTape } from "chainrule";
 * const x = np.array(3);
 * const tape = new GradientTape();
 * const y = tape.record(() => {
 *   tape.watch(x);
 *   return x.mul(x);
 * });
 * const dydx = tape.gradient(y, x).item(); // 6
 * ```
 */
export class GradientTape {
  private readonly persistent: boolean;
  private readonly watched = new Set<Array>();
  private records = new WeakMap<Array, Recorded>();
  private recording = false;
  private used = false;
  /** Whether record has run at least once (gradient before any record is a slip). */
  private everRecorded = false;

  constructor(opts: GradientTapeOptions = {}) {
    if (typeof opts !== "object" || opts === null) {
      throw new InvalidArgumentError(
        `GradientTape: options must be an object { persistent? }, got ${String(opts)}`,
      );
    }
    this.persistent = opts.persistent === true;
  }

  /**
   * Marks arrays (one, a list or any pytree of them) so that operations on
   * them inside `record` are recorded. Only float arrays can be watched.
   * @example
   * ```ts
   * import { np, GradientTape } from "chainrule";
   * const x = np.linspace(0, 10, 5);
   * const tape = new GradientTape();
   * const y = tape.record(() => (tape.watch(x), x.mul(x)));
   * const g = tape.gradient(y, x).toArray(); // [0, 5, 10, 15, 20]
   * ```
   */
  watch(x: PyTree): void {
    const [leaves] = flatten(x);
    leaves.forEach((leaf, i) => {
      if (!(leaf instanceof Array)) {
        throw new InvalidArgumentError(
          `GradientTape.watch: leaf ${i} is a ${typeof leaf}, not an Array; the tape follows ` +
            `arrays by identity, so watch the array object you compute with ` +
            `(const x = np.array(3); tape.watch(x))`,
        );
      }
      if (!isFloat(leaf.dtype)) {
        throw new DTypeError(
          `GradientTape.watch: leaf ${i} has dtype ${leaf.dtype} (shape ` +
            `${fmtShape(leaf.shape)}), which has no derivative; watch a float array ` +
            `(x.astype("float64"))`,
        );
      }
      this.watched.add(leaf);
    });
  }

  /**
   * Runs `fn`, recording the operations on watched arrays (and on arrays
   * computed from them, or that require grad); returns fn's value. May be
   * called several times on one tape.
   * @example
   * ```ts
   * import { np, GradientTape } from "chainrule";
   * const x = np.array(0.5);
   * const tape = new GradientTape();
   * const y = tape.record(() => { tape.watch(x); return np.exp(x.mul(2)); });
   * const g = tape.gradient(y, x).item(); // 2 e
   * ```
   */
  record<T>(fn: () => T): T {
    if (typeof fn !== "function") {
      throw new InvalidArgumentError(
        `GradientTape.record: expected a function to run, got ${typeof fn}`,
      );
    }
    if (this.recording) {
      throw new InvalidArgumentError(
        `GradientTape.record: this tape is already recording (record was called inside its ` +
          `own record); use a second GradientTape for nested recording`,
      );
    }
    if (isTracingDynamically()) {
      throw new InvalidArgumentError(
        `GradientTape.record: called while tracing for jit or makeJaxpr; a tape records eager ` +
          `values. Use grad or vjp inside jitted functions`,
      );
    }
    this.checkUsable("record");
    this.recording = true;
    this.everRecorded = true;
    try {
      return withMainTrace((main) => new TapeTrace(main, this), fn, {
        dynamic: true,
        recordOnly: true,
      });
    } finally {
      this.recording = false;
    }
  }

  /** True when operations on `a` are recorded. */
  private tracks(a: Array): boolean {
    return this.watched.has(a) || this.records.has(a) || a.requiresGrad;
  }

  /**
   * Records an operation whose operands include a tracked array (called by the trace).
   * @internal
   */
  note(prim: Primitive | MultiPrimitive, params: unknown, args: readonly Array[], outs: Array[]) {
    let tracked = false;
    for (const a of args) {
      if (this.tracks(a)) {
        tracked = true;
        break;
      }
    }
    if (!tracked) return;
    const op: OpNode = { prim, params, args, freed: false };
    outs.forEach((out, index) => {
      // An operation that returns an operand unchanged needs no record (and must not
      // overwrite the operand's own).
      if (!isFloat(out.dtype) || args.includes(out)) return;
      this.records.set(out, { op, index });
    });
  }

  private checkUsable(fnName: string): void {
    if (this.used) {
      throw new ChainruleError(
        `GradientTape.${fnName}: this non-persistent tape was already used by a gradient or ` +
          `jacobian call, which releases its records. Create it with ` +
          `new GradientTape({ persistent: true }) to call gradient or jacobian several times`,
      );
    }
  }

  private sourcesOf(fnName: string, sources: PyTree): Array[] {
    const [leaves] = flatten(sources);
    return leaves.map((leaf, i) => {
      if (!(leaf instanceof Array)) {
        throw new InvalidArgumentError(
          `GradientTape.${fnName}: source ${i} is a ${typeof leaf}, not an Array; pass the ` +
            `watched array objects`,
        );
      }
      if (!isFloat(leaf.dtype)) {
        throw new DTypeError(
          `GradientTape.${fnName}: source ${i} has dtype ${leaf.dtype}, which has no ` +
            `derivative; differentiate with respect to float arrays`,
        );
      }
      return leaf;
    });
  }

  private replayFor(fnName: string, target: unknown, sources: PyTree) {
    this.checkUsable(fnName);
    if (!(target instanceof Array)) {
      throw new InvalidArgumentError(
        `GradientTape.${fnName}: the target must be an Array computed inside record, got ` +
          `${typeof target}`,
      );
    }
    const leaves = this.sourcesOf(fnName, sources);
    // TensorFlow records everything inside its `with` block; here the block is
    // a callback. A target computed without any record call (watch, then
    // y = f(x) directly) would silently give zeros: name the slip instead.
    if (!this.everRecorded && !this.tracks(target)) {
      throw new InvalidArgumentError(
        `GradientTape.${fnName}: nothing was recorded on this tape, so the target (shape ` +
          `${fmtShape(target.shape)}) was computed outside it and does not depend on the ` +
          `sources; compute it inside the tape: const y = tape.record(() => f(x)) (JS has no ` +
          `\`with\` block: the recorded code is a callback)`,
      );
    }
    const records = this.records;
    const replay = buildReplay(target, leaves, (a) => records.get(a));
    if (!this.persistent) {
      this.used = true;
      this.records = new WeakMap();
    }
    const [, def] = flatten(sources);
    const f = (tree: PyTree): Array => replay.run(...(flatten(tree)[0] as Array[]));
    return { f, def, leaves, target };
  }

  /**
   * d(sum of target)/d(sources), shaped like `sources` (an array, a list or
   * any pytree of arrays). `outputGradients` weights the target's elements
   * (default all ones). A non-persistent tape allows one call.
   * @example
   * ```ts
   * import { np, GradientTape } from "chainrule";
   * const x = np.array(3, { requiresGrad: true }); // watched automatically, like a tf.Variable
   * const tape = new GradientTape();
   * const y = tape.record(() => x.pow(2));
   * const g = tape.gradient(y, x).item(); // 6
   * ```
   */
  gradient(target: Array, sources: PyTree, opts: { outputGradients?: Array } = {}): PyTree {
    const { f, def, leaves } = this.replayFor("gradient", target, sources);
    let ct: Array = ConcreteArray.full(target.shape, target.dtype, 1);
    if (opts.outputGradients !== undefined) {
      ct = asArray(opts.outputGradients, "GradientTape.gradient: outputGradients");
      if (!shapesEqual(ct.shape, target.shape)) {
        throw new ShapeError(
          `GradientTape.gradient: outputGradients has shape ${fmtShape(ct.shape)} but the ` +
            `target has shape ${fmtShape(target.shape)}; pass one shaped like the target`,
        );
      }
    }
    const [, pullback] = vjp(
      f,
      unflatten(
        def,
        leaves.map((l) => l.detach()),
      ),
    );
    return pullback(ct)[0];
  }

  /**
   * The full Jacobian of `target` with respect to `sources`: for each source
   * leaf an array of shape [...target.shape, ...source.shape].
   * @example
   * ```ts
   * import { np, GradientTape } from "chainrule";
   * const x = np.array([1, 2]);
   * const tape = new GradientTape();
   * const y = tape.record(() => (tape.watch(x), x.mul(x)));
   * const J = tape.jacobian(y, x).toArray(); // [[2, 0], [0, 4]]
   * ```
   */
  jacobian(target: Array, sources: PyTree): PyTree {
    const { f, def, leaves } = this.replayFor("jacobian", target, sources);
    return jacrev(f)(
      unflatten(
        def,
        leaves.map((l) => l.detach()),
      ),
    );
  }
}
