/**
 * `y.backward(ct?, { createGraph?, retainGraph? })`: reverse mode for the
 * imperative style. The operations recorded from the requiresGrad leaves to
 * y are replayed as a function of the leaves and differentiated with `vjp`
 * (the linearize tape of src/transforms/linearize.ts); the cotangent of each
 * leaf is added to its `.grad`.
 *
 * Without createGraph the replay runs on the leaves' plain values, so the
 * backward pass records nothing. With createGraph it runs on the leaves
 * themselves: the primal recomputation and every transpose rule then go
 * through the level-0 imperative trace, and the resulting `.grad` arrays
 * require grad, ready for another backward (higher order).
 *
 * Cost: the recorded forward operations are evaluated once more under the
 * JVP/linear trace pair (what grad(f) costs), on top of the eager forward.
 */
import { type Array, type ArrayLike, type BackwardOptions, ConcreteArray } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import {
  ChainruleError,
  DTypeError,
  InvalidArgumentError,
  ShapeError,
  fmtShape,
} from "../core/errors.js";
import { shapesEqual } from "../core/shape.js";
import { activeTraceCount } from "../core/trace.js";
import { add } from "../primitives/elementwise.js";
import { vjp } from "../transforms/linearize.js";
import { type OpNode, GradTracer, installBackward } from "./tensor.js";
import { type Recorded, buildReplay } from "./replay.js";

function lookupGraph(a: Array): Recorded | undefined {
  if (a instanceof GradTracer && a.op !== null) return { op: a.op, index: a.index };
  return undefined;
}

/** The requiresGrad leaves reachable from y (y itself when it is a leaf). */
function leavesOf(y: GradTracer): GradTracer[] {
  const leaves: GradTracer[] = [];
  const seenLeaf = new Set<GradTracer>();
  const seenOp = new Set<OpNode>();
  const stack: Array[] = [y];
  while (stack.length > 0) {
    const a = stack.pop()!;
    if (!(a instanceof GradTracer)) continue;
    if (a.op === null) {
      if (!seenLeaf.has(a)) {
        seenLeaf.add(a);
        leaves.push(a);
      }
      continue;
    }
    if (seenOp.has(a.op)) continue;
    seenOp.add(a.op);
    if (a.op.freed) throw freedError();
    for (const arg of a.op.args) stack.push(arg);
  }
  return leaves;
}

function freedError(): ChainruleError {
  return new ChainruleError(
    `backward: trying to go backward through operations a second time: a previous ` +
      `backward() released them. Pass { retainGraph: true } to the first backward() to ` +
      `call it again, or recompute the output`,
  );
}

function checkCotangent(y: GradTracer, ct: ArrayLike | undefined): Array {
  if (ct === undefined) {
    if (y.size !== 1) {
      throw new ShapeError(
        `backward: the output has shape ${fmtShape(y.shape)}; a cotangent can only be implied ` +
          `for a one-element output. Pass one shaped like the output (y.backward(np.onesLike(y)) ` +
          `sums the gradients of its elements), or reduce it first (y.sum().backward())`,
      );
    }
    return ConcreteArray.full(y.shape, y.dtype, 1);
  }
  const c = asArray(ct, "backward: cotangent");
  if (!shapesEqual(c.shape, y.shape)) {
    throw new ShapeError(
      `backward: the cotangent has shape ${fmtShape(c.shape)} but the output has shape ` +
        `${fmtShape(y.shape)}; pass one shaped like the output`,
    );
  }
  if (!isFloat(c.dtype)) {
    throw new DTypeError(
      `backward: the cotangent has dtype ${c.dtype}; pass a float one ` +
        `(for example ct.astype("${y.dtype}"))`,
    );
  }
  return c.dtype === y.dtype ? c : c.astype(y.dtype);
}

function backward(y: GradTracer, ct: ArrayLike | undefined, opts: BackwardOptions): void {
  if (typeof opts !== "object" || opts === null) {
    throw new InvalidArgumentError(
      `backward: options must be an object { createGraph?, retainGraph? }, got ${String(opts)}`,
    );
  }
  if (activeTraceCount() > 0) {
    throw new ChainruleError(
      `backward: called inside a transformation (grad, jvp, vmap, jit, makeJaxpr or a ` +
        `GradientTape's record). The imperative style runs on eager values only: call ` +
        `backward() outside, or differentiate the function with grad/vjp instead`,
    );
  }
  const createGraph = opts.createGraph === true;
  const retainGraph = opts.retainGraph ?? createGraph;
  const cotangent = checkCotangent(y, ct);
  const leaves = leavesOf(y);
  const replay = buildReplay(y, leaves, lookupGraph, (op) => {
    if (op.freed) throw freedError();
  });
  const primals = createGraph ? leaves : leaves.map((leaf) => leaf.value);
  const [, pullback] = vjp((...xs: Array[]) => replay.run(...xs), ...primals);
  const grads = pullback(createGraph ? cotangent : cotangent.detach());
  leaves.forEach((leaf, i) => {
    const g = grads[i]!;
    leaf.accumulated = leaf.accumulated === null ? g : add(leaf.accumulated, g);
  });
  if (!retainGraph) {
    for (const op of replay.order) {
      op.freed = true;
      op.args = [];
    }
  }
}

installBackward(backward);
