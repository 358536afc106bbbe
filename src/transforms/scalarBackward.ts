/**
 * The backward pass of a tape of scalars, on plain numbers.
 *
 * Eager reverse mode over a scalar program (every node 0-d float64, the
 * common case when people write a function of a few numbers with loops and
 * branches) would otherwise apply each transpose rule through the primitive
 * machinery: an argument list, a `ConcreteArray` per cotangent and per
 * constant, dispatch through `bind`. Here the cotangents live in one
 * Float64Array and each equation's linear primitive maps them with its
 * `transposeScalar` rule, which performs the same float64 operations as its
 * `transpose` (so the gradient has the same bits either way; the generic
 * pass in linearize.ts remains the reference and handles every other tape).
 *
 * For equation e defining node v = prim(args) and output cotangent c = ct[v]:
 *   ct[arg_i] += prim.transposeScalar(c, i, other)   for each node argument i,
 * visited from the last equation to the first, arguments in order, the first
 * contribution to a node assigned rather than added (as the generic pass does).
 */
import type { Tape } from "./tape.js";

/**
 * Internal switch and counter (not exported by the package): tests turn the
 * scalar pass off to compare it with the generic one bit for bit, and read
 * how many backward passes took it.
 */
export const scalarBackward = { enabled: true, passes: 0 };

/**
 * Cotangents of `inputNodes` given the cotangents `outCts` of `outNodes`
 * (a node of -1 is an output that does not depend on the inputs), or null
 * for an input that received none. The tape must have `scalarOnly` set.
 */
export function scalarBackwardPass(
  tape: Tape,
  outNodes: readonly number[],
  outCts: readonly number[],
  inputNodes: readonly number[],
): (number | null)[] {
  scalarBackward.passes++;
  const numNodes = tape.numNodes;
  const ct = new Float64Array(numNodes);
  const has = new Uint8Array(numNodes);
  const accumulate = (node: number, value: number): void => {
    if (has[node] === 0) {
      ct[node] = value;
      has[node] = 1;
    } else {
      ct[node] = ct[node]! + value;
    }
  };
  for (let i = 0; i < outNodes.length; i++) {
    const node = outNodes[i]!;
    if (node >= 0) accumulate(node, outCts[i]!);
  }
  const numInputs = tape.numInputs;
  for (let e = tape.numEqns - 1; e >= 0; e--) {
    const outNode = numInputs + e;
    if (has[outNode] === 0) continue;
    has[outNode] = 0;
    const c = ct[outNode]!;
    const rule = tape.scalarRule(e);
    const numArgs = tape.numArgsOf(e);
    if (numArgs === 1) {
      const a = tape.argCode(e, 0);
      if (a >= 0) accumulate(a, rule(c, 0, null));
      continue;
    }
    const a = tape.argCode(e, 0);
    const b = tape.argCode(e, 1);
    if (a >= 0) accumulate(a, rule(c, 0, b >= 0 ? null : tape.scalarConstant(b)));
    if (b >= 0) accumulate(b, rule(c, 1, a >= 0 ? null : tape.scalarConstant(a)));
  }
  return inputNodes.map((n) => (n >= 0 && has[n] === 1 ? ct[n]! : null));
}
