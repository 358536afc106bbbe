/**
 * Structural zeros in the backward pass: what makes `where` NaN-safe.
 *
 * The gradient of where(x > 0, sqrt(x), 0) at x = 0 is, by the chain rule,
 * select's cotangent for the sqrt branch (0, the branch is not selected)
 * times sqrt's derivative there (1 / (2 sqrt 0) = inf): 0 * inf = NaN. The
 * zero is not a number that happened to underflow, it is a STRUCTURAL zero:
 * that entry of the branch does not influence the output at all. So the
 * backward pass carries, next to a cotangent, an optional bool mask that is
 * true where the entry is structurally zero:
 *
 *   - select's transpose creates it: the on-true branch's cotangent is
 *     masked where the predicate is false, the on-false branch's where it is
 *     true (or-ed with the incoming mask);
 *   - transposes that only copy, negate or convert entries (add, sub, neg,
 *     convert) keep masked entries zero by themselves: the mask passes on;
 *   - transposes that scale by a residual (mul, div) could turn a masked 0
 *     into 0 * inf or 0 / 0: their result is re-zeroed where masked (a
 *     select) and the mask passes on;
 *   - transposes that move, copy or sum entries (reshape, transpose,
 *     broadcasts and sums, slices, pads, concatenation, gathers, cumsum)
 *     route the mask: an input entry is structural where every entry summed
 *     into it is (computed by the same transpose on a 0/1 indicator);
 *   - every other primitive (matmul, linear algebra, user rules) drops the
 *     mask: conservative, their entries mix with arbitrary coefficients.
 * Each primitive declares which of these it is (`maskRule` in its
 * declaration, core/primitive.ts: "pass", "rezero", "select", "route");
 * none declared means the mask is dropped.
 *   - two cotangents summed into one node are structurally zero only where
 *     both are (the masks are and-ed); one without a mask drops it.
 *
 * Numeric zeros carry no mask, so genuine overflow still shows: the gradient
 * of a naive log(1 + exp(x)) at x = 1000 is 0 * inf = NaN, as it should be.
 * (Making every product absorb zero cotangents was tried and reverted for
 * exactly that reason.)
 *
 * Concrete masks (eager evaluation) are simplified on the spot: all false
 * means no mask; all true means the whole cotangent is structurally zero and
 * is dropped (the symbolic zero, null), so that branch is never visited.
 */
import { type Array, ConcreteArray } from "../core/array.js";
import type { LinearArg, Primitive, Tangent } from "../core/primitive.js";
import { shapesEqual } from "../core/shape.js";
import { eq, logicalAnd, logicalNot, logicalOr, select } from "../primitives/elementwise.js";
import { fullLike } from "../primitives/helpers.js";

/** True where a cotangent entry is structurally zero; null when none is known to be. */
export type Mask = Array | null;

/**
 * `cts` with masks after a transpose: `prim` was transposed with cotangent
 * `ct` (masked by `mask`) on arguments `args`, giving `inCts`. Returns the
 * input cotangents (re-zeroed or dropped where structural) and their masks.
 */
export function propagateMask(
  prim: Primitive,
  ct: Array,
  mask: Mask,
  args: readonly LinearArg[],
  params: unknown,
  inCts: readonly Tangent[],
): [Tangent[], Mask[]] {
  const rule = prim.maskRule;
  if (rule === "select") return selectMasks(args[0] as Array, mask, inCts);
  if (mask === null || rule === undefined) return [[...inCts], inCts.map(() => null)];
  if (rule === "route") return routeMasks(prim, ct, mask, args, params, inCts);
  const outCts: Tangent[] = [];
  const outMasks: Mask[] = [];
  for (const g of inCts) {
    if (g === null || g === undefined || !shapesEqual(g.shape, ct.shape)) {
      outCts.push(g ?? null);
      outMasks.push(null);
      continue;
    }
    outCts.push(rule === "rezero" ? select(mask, fullLike(g, 0), g) : g);
    outMasks.push(mask);
  }
  return [outCts, outMasks];
}

/**
 * Transposes whose entries are sums of subsets of the cotangent's entries
 * (movement, broadcasting, sums, gathers): an input entry is structurally
 * zero when every entry it sums is. The same transpose applied to the
 * indicator of NON-structural entries (1 where live, 0 where structural)
 * counts the live entries that reach each input entry: zero exactly where
 * all of them are structural (and where none reaches it at all, e.g. the
 * part of a slice's input outside the slice).
 */
function routeMasks(
  prim: Primitive,
  ct: Array,
  mask: Array,
  args: readonly LinearArg[],
  params: unknown,
  inCts: readonly Tangent[],
): [Tangent[], Mask[]] {
  if (!prim.linear) return [[...inCts], inCts.map(() => null)];
  const live = select(mask, fullLike(ct, 0), fullLike(ct, 1));
  const counts = prim.transpose(live, args, params);
  const outCts: Tangent[] = [];
  const outMasks: Mask[] = [];
  inCts.forEach((g, i) => {
    const c = counts[i];
    if (g === null || g === undefined || c === null || c === undefined) {
      outCts.push(g ?? null);
      outMasks.push(null);
      return;
    }
    const m = simplify(eq(c, fullLike(c, 0)));
    if (m === "all") {
      outCts.push(null); // nothing live reaches this input: a symbolic zero
      outMasks.push(null);
      return;
    }
    outCts.push(g);
    outMasks.push(m);
  });
  return [outCts, outMasks];
}

/** select(pred, a, b)'s transpose: a's cotangent is structural where !pred, b's where pred. */
function selectMasks(pred: Array, mask: Mask, inCts: readonly Tangent[]): [Tangent[], Mask[]] {
  const [, gA, gB] = inCts;
  const outCts: Tangent[] = [null, null, null];
  const outMasks: Mask[] = [null, null, null];
  const branch = (k: 1 | 2, g: Tangent | undefined, structural: Array): void => {
    if (g === null || g === undefined) return;
    const m = simplify(mask === null ? structural : logicalOr(mask, structural));
    if (m === "all") return; // nothing of this branch is selected: a symbolic zero
    outCts[k] = g;
    outMasks[k] = m;
  };
  if (mask === null && pred instanceof ConcreteArray && pred.onHost && pred.shape.length === 0) {
    // Eager scalar fast path: only the selected branch gets a cotangent, unmasked.
    if (pred.scalarValue !== 0) outCts[1] = gA ?? null;
    else outCts[2] = gB ?? null;
    return [outCts, outMasks];
  }
  if (gA !== null && gA !== undefined) branch(1, gA, logicalNot(pred));
  branch(2, gB, pred);
  return [outCts, outMasks];
}

/** Masks summed into one node: structural only where both are. */
export function combineMasks(a: Mask, b: Mask): Mask {
  if (a === null || b === null) return null;
  const m = simplify(logicalAnd(a, b));
  return m === "all" ? a : m;
}

/**
 * A concrete mask with no true entry is no mask; one with only true entries
 * is "all". A device array (webgpu) is not read: kept as a mask, which is
 * correct either way (re-zeroing where it is true), only not simplified.
 */
function simplify(mask: Array): Mask | "all" {
  if (!(mask instanceof ConcreteArray) || !mask.onHost) return mask;
  if (mask.shape.length === 0) return mask.scalarValue !== 0 ? "all" : null;
  const buf = mask.buffer;
  let any = false;
  let every = true;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0) any = true;
    else every = false;
  }
  if (!any) return null;
  return every ? "all" : mask;
}
