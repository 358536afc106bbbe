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
  // While visited: VISITING; once placed: its position in `order`.
  const VISITING = -1;
  const position = new Map<OpNode, number>();
  const start = sourceIndex.has(target) ? undefined : lookup(target);
  if (start !== undefined) {
    const stack: { op: OpNode; next: number }[] = [{ op: start.op, next: 0 }];
    position.set(start.op, VISITING);
    check(start.op);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.op.args.length) {
        const a = top.op.args[top.next++]!;
        if (sourceIndex.has(a)) continue;
        const rec = lookup(a);
        if (rec === undefined || position.has(rec.op)) continue;
        check(rec.op);
        position.set(rec.op, VISITING);
        stack.push({ op: rec.op, next: 0 });
      } else {
        position.set(top.op, order.length);
        order.push(top.op);
        stack.pop();
      }
    }
  }
  const plan = planReplay(order, position, sourceIndex, lookup);
  const targetRef = refOf(target, position, sourceIndex, lookup);
  const run = (...values: Array[]): Array => {
    // outputs[j]: the result of order[j] (a list for a multi-output primitive).
    const outputs = new globalThis.Array<Array | Array[]>(order.length);
    const valueOf = (ref: ArgRef): Array => {
      if (ref.kind === "source") return values[ref.index]!;
      if (ref.kind === "constant") return ref.value;
      const out = outputs[ref.op]!;
      return globalThis.Array.isArray(out) ? out[ref.index]! : out;
    };
    for (let j = 0; j < order.length; j++) {
      const op = order[j]!;
      const refs = plan[j]!;
      const args = new globalThis.Array<Array>(refs.length);
      for (let i = 0; i < refs.length; i++) args[i] = valueOf(refs[i]!);
      outputs[j] =
        op.prim.multipleResults === true
          ? bindAll(op.prim, args, op.params)
          : bind(op.prim, args, op.params);
    }
    return valueOf(targetRef);
  };
  return { order, run };
}

/**
 * Where a replayed operand comes from, resolved once when the replay is
 * built (so running it needs no lookups): source `index`, output `index` of
 * the operation at position `op` of the order, or a constant.
 */
type ArgRef =
  | { readonly kind: "source"; readonly index: number }
  | { readonly kind: "output"; readonly op: number; readonly index: number }
  | { readonly kind: "constant"; readonly value: Array };

function refOf(
  a: Array,
  position: ReadonlyMap<OpNode, number>,
  sourceIndex: ReadonlyMap<Array, number>,
  lookup: (a: Array) => Recorded | undefined,
): ArgRef {
  const i = sourceIndex.get(a);
  if (i !== undefined) return { kind: "source", index: i };
  const rec = lookup(a);
  if (rec === undefined) return { kind: "constant", value: a };
  const op = position.get(rec.op);
  if (op === undefined || op < 0) {
    throw new ChainruleError("internal error: a recorded operation replayed out of order");
  }
  return { kind: "output", op, index: rec.index };
}

/** The operands of each operation of `order`, resolved (see `ArgRef`). */
function planReplay(
  order: readonly OpNode[],
  position: ReadonlyMap<OpNode, number>,
  sourceIndex: ReadonlyMap<Array, number>,
  lookup: (a: Array) => Recorded | undefined,
): ArgRef[][] {
  return order.map((op) => op.args.map((a) => refOf(a, position, sourceIndex, lookup)));
}
