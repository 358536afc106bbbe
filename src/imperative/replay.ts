/**
 * Turns recorded operations into a function: the operations that lead from
 * some source arrays to a target array, replayed on new source values. Both
 * imperative styles use it: `backward()` (the graph hangs off each
 * requiresGrad array) and `GradientTape` (a tape maps each recorded result
 * to its operation). Differentiating the replay with vjp/jacrev is then
 * ordinary reverse mode on the linearize tape (src/transforms/linearize.ts).
 */
import type { Array } from "../core/array.js";
import { ChainruleError } from "../core/errors.js";
import { bind, bindAll } from "../core/trace.js";
import type { OpNode } from "./tensor.js";

/** Where a recorded array came from: output `index` of `op`. */
export interface Recorded {
  readonly op: OpNode;
  readonly index: number;
}

/** A recorded computation ready to be replayed. */
export interface Replay {
  /** The operations from the sources to the target, each after its operands' operations. */
  readonly order: readonly OpNode[];
  /** Evaluates the target from new values of the sources (in the order given). */
  readonly run: (...sources: Array[]) => Array;
}

/**
 * Collects the operations that `target` depends on, stopping at `sources`
 * and at arrays that were not recorded (constants). `freed(op)` may throw to
 * refuse an operation. Iterative, so long chains do not overflow the stack.
 */
export function buildReplay(
  target: Array,
  sources: readonly Array[],
  lookup: (a: Array) => Recorded | undefined,
  check: (op: OpNode) => void = () => undefined,
): Replay {
  const sourceIndex = new Map<Array, number>();
  sources.forEach((s, i) => {
    if (!sourceIndex.has(s)) sourceIndex.set(s, i);
  });
  const order: OpNode[] = [];
  const state = new Map<OpNode, 1 | 2>(); // 1: being visited, 2: done
  const start = sourceIndex.has(target) ? undefined : lookup(target);
  if (start !== undefined) {
    const stack: { op: OpNode; next: number }[] = [{ op: start.op, next: 0 }];
    state.set(start.op, 1);
    check(start.op);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.op.args.length) {
        const a = top.op.args[top.next++]!;
        if (sourceIndex.has(a)) continue;
        const rec = lookup(a);
        if (rec === undefined || state.has(rec.op)) continue;
        check(rec.op);
        state.set(rec.op, 1);
        stack.push({ op: rec.op, next: 0 });
      } else {
        state.set(top.op, 2);
        order.push(top.op);
        stack.pop();
      }
    }
  }
  const run = (...values: Array[]): Array => {
    const env = new Map<OpNode, Array[]>();
    const valueOf = (a: Array): Array => {
      const i = sourceIndex.get(a);
      if (i !== undefined) return values[i]!;
      const rec = lookup(a);
      if (rec === undefined) return a;
      const outs = env.get(rec.op);
      if (outs === undefined) {
        throw new ChainruleError("internal error: a recorded operation replayed out of order");
      }
      return outs[rec.index]!;
    };
    for (const op of order) {
      const args = op.args.map(valueOf);
      env.set(
        op,
        op.prim.multipleResults === true
          ? bindAll(op.prim, args, op.params)
          : [bind(op.prim, args, op.params)],
      );
    }
    return valueOf(target);
  };
  return { order, run };
}
