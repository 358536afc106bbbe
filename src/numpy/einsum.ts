/**
 * np.einsum: Einstein summation over labelled axes, lowered to the
 * primitives the rest of the library differentiates, batches and compiles.
 *
 * 1. Parse "ij,jk->ik" (implicit output: the labels used once, sorted;
 *    "..." stands for broadcast axes, aligned from the right).
 * 2. Per operand: take diagonals for repeated labels (a gather), drop
 *    size-1 axes that broadcast, and sum labels nobody else needs.
 * 3. Pick a pairwise contraction order: optimal by dynamic programming over
 *    subsets for up to 8 operands (cost = product of the sizes of all labels
 *    of a pair, the multiply-adds of that contraction), greedy beyond.
 * 4. Each pair becomes transpose + reshape + one (batched) matmul: shared
 *    labels still needed later are batch axes, shared labels needed nowhere
 *    else are contracted, the others are the matrix rows/columns.
 * Eager calls run this compiled by jit, once per subscripts and shapes.
 */
import { type Array, type ArrayLike, ConcreteArray } from "../core/array.js";
import { jit } from "../jit/jit.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import * as ew from "../primitives/elementwise.js";
import { gather } from "../primitives/indexing.js";
import { matmul as matmulPrim } from "../primitives/linalg.js";
import * as mv from "../primitives/movement.js";
import { int32Vector, promoteAll } from "./arrays.js";

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

interface Parsed {
  inputs: string[][];
  output: string[];
  sizes: Map<string, number>;
}

/** Splits one term into labels; "..." becomes the labels of the broadcast axes. */
function parseTerm(term: string, ndim: number | undefined, where: string): string[] {
  const parts = term.split("...");
  if (parts.length > 2) {
    throw new InvalidArgumentError(`np.einsum: "..." appears twice in ${where} "${term}"`);
  }
  for (const ch of parts.join("")) {
    if (!/[a-zA-Z]/.test(ch)) {
      throw new InvalidArgumentError(
        `np.einsum: invalid subscript "${ch}" in ${where} "${term}"; use letters a-z, A-Z and "..."`,
      );
    }
  }
  const letters = parts.join("").length;
  if (parts.length === 1) return [...term];
  // Broadcast axes are named by their distance from the right end of the ellipsis.
  const e = ndim === undefined ? -1 : ndim - letters;
  if (ndim !== undefined && e < 0) {
    throw new ShapeError(
      `np.einsum: ${where} "${term}" names ${letters} axes but the operand has rank ${ndim}`,
    );
  }
  const ell: string[] = [];
  for (let k = e - 1; k >= 0; k--) ell.push(`.${k}`);
  return [...parts[0]!, ...(ndim === undefined ? ["..."] : ell), ...parts[1]!];
}

function parse(subscripts: string, shapes: readonly (readonly number[])[]): Parsed {
  const spec = subscripts.replace(/\s+/g, "");
  const arrow = spec.split("->");
  if (arrow.length > 2)
    throw new InvalidArgumentError(`np.einsum: "->" appears twice in "${subscripts}"`);
  const terms = arrow[0]!.split(",");
  if (terms.length !== shapes.length) {
    throw new InvalidArgumentError(
      `np.einsum: "${subscripts}" names ${terms.length} operands but ${shapes.length} were given`,
    );
  }
  const inputs = terms.map((t, i) => parseTerm(t, shapes[i]!.length, `operand ${i}'s subscripts`));
  const sizes = new Map<string, number>();
  inputs.forEach((labels, i) => {
    if (labels.length !== shapes[i]!.length) {
      throw new ShapeError(
        `np.einsum: operand ${i} has subscripts "${terms[i]}" (${labels.length} axes) but shape ` +
          `${fmtShape(shapes[i]!)}; give one letter per axis or use "..."`,
      );
    }
    labels.forEach((l, d) => {
      const n = shapes[i]![d]!;
      const prev = sizes.get(l);
      if (prev === undefined || prev === 1) sizes.set(l, n);
      else if (n !== prev && n !== 1) {
        throw new ShapeError(
          `np.einsum: label "${l.startsWith(".") ? "..." : l}" has size ${prev} in one operand ` +
            `and ${n} in operand ${i} (shape ${fmtShape(shapes[i]!)}); sizes must agree or be 1`,
        );
      }
    });
  });
  const maxEll = Math.max(0, ...inputs.map((ls) => ls.filter((l) => l.startsWith(".")).length));
  const ellLabels: string[] = [];
  for (let k = maxEll - 1; k >= 0; k--) ellLabels.push(`.${k}`);
  let output: string[];
  if (arrow.length === 2) {
    const out = parseTerm(arrow[1]!, undefined, "the output");
    output = out.flatMap((l) => (l === "..." ? ellLabels : [l]));
    const seen = new Set<string>();
    for (const l of output) {
      if (seen.has(l))
        throw new InvalidArgumentError(
          `np.einsum: output label "${l}" is repeated in "${subscripts}"`,
        );
      seen.add(l);
      if (!sizes.has(l)) {
        throw new InvalidArgumentError(
          `np.einsum: output label "${l}" does not appear in any input of "${subscripts}"`,
        );
      }
    }
  } else {
    const count = new Map<string, number>();
    for (const ls of inputs)
      for (const l of ls) if (!l.startsWith(".")) count.set(l, (count.get(l) ?? 0) + 1);
    const once = [...count]
      .filter(([, c]) => c === 1)
      .map(([l]) => l)
      .sort();
    output = [...ellLabels, ...once];
  }
  return { inputs, output, sizes };
}

/** An operand during the contraction: the array and one distinct label per axis. */
interface Term {
  x: Array;
  labels: string[];
}

/** Diagonal over the axes that share a label, until every label is distinct. */
function takeDiagonals(t: Term): Term {
  let { x, labels } = t;
  for (;;) {
    const dup = labels.findIndex((l, i) => labels.indexOf(l) !== i);
    if (dup < 0) return { x, labels };
    const first = labels.indexOf(labels[dup]!);
    const rest = labels.map((_, d) => d).filter((d) => d !== first && d !== dup);
    const n = x.shape[first]!;
    const m = x.shape[dup]!;
    if (n !== m) {
      throw new ShapeError(
        `np.einsum: repeated label "${labels[dup]}" on axes of different sizes ${n} and ${m}`,
      );
    }
    const moved = mv.transpose(x, [...rest, first, dup]);
    const lead = rest.map((d) => x.shape[d]!);
    const idx = rangeMap(n, (i) => i * n + i);
    x = gather(mv.reshape(moved, [...lead, n * n]), int32Vector(idx), lead.length);
    labels = [...rest.map((d) => labels[d]!), labels[first]!];
  }
}
function rangeMap(n: number, f: (i: number) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(f(i));
  return out;
}

/** Sums out the axes whose labels are not in `keep`. */
function sumUnneeded(t: Term, keep: ReadonlySet<string>): Term {
  const axes = t.labels.map((l, d) => (keep.has(l) ? -1 : d)).filter((d) => d >= 0);
  if (axes.length === 0) return t;
  return { x: mv.reduceSum(t.x, axes), labels: t.labels.filter((l) => keep.has(l)) };
}

/** Contracts two terms, keeping the labels in `keep`, as one batched matmul. */
function contractPair(a: Term, b: Term, keep: ReadonlySet<string>): Term {
  const inB = new Set(b.labels);
  const inA = new Set(a.labels);
  const batch = a.labels.filter((l) => inB.has(l) && keep.has(l));
  const contr = a.labels.filter((l) => inB.has(l) && !keep.has(l));
  const freeA = a.labels.filter((l) => !inB.has(l));
  const freeB = b.labels.filter((l) => !inA.has(l));
  const size = (t: Term, l: string) => t.x.shape[t.labels.indexOf(l)]!;
  const order = (t: Term, ls: string[]) => ls.map((l) => t.labels.indexOf(l));
  const bs = batch.map((l) => size(a, l));
  const M = prod(freeA.map((l) => size(a, l)));
  const K = prod(contr.map((l) => size(a, l)));
  const N = prod(freeB.map((l) => size(b, l)));
  const B = prod(bs);
  const lead = batch.length > 0 ? [B] : [];
  const am = mv.reshape(mv.transpose(a.x, order(a, [...batch, ...freeA, ...contr])), [
    ...lead,
    M,
    K,
  ]);
  const bm = mv.reshape(mv.transpose(b.x, order(b, [...batch, ...contr, ...freeB])), [
    ...lead,
    K,
    N,
  ]);
  // A pure outer product (K = 1) or a per-batch dot: the matmul kernel still does it in one call.
  const out = matmulPrim(am, bm);
  const labels = [...batch, ...freeA, ...freeB];
  const shape = [...bs, ...freeA.map((l) => size(a, l)), ...freeB.map((l) => size(b, l))];
  return { x: mv.reshape(out, shape), labels };
}

/** One pairwise step of a contraction path: positions in the current operand list. */
export type EinsumStep = [number, number];

/**
 * The contraction order for operands with these label lists: a list of
 * pairs of positions in the shrinking operand list (each step removes both
 * and appends their result), and its cost in multiply-adds.
 */
function planPath(
  labels: readonly string[][],
  output: readonly string[],
  sizes: ReadonlyMap<string, number>,
): { path: EinsumStep[]; cost: number } {
  const n = labels.length;
  if (n <= 1) return { path: [], cost: 0 };
  const outSet = new Set(output);
  const sets = labels.map((ls) => new Set(ls));
  const sz = (s: Iterable<string>) => {
    let p = 1;
    for (const l of s) p *= sizes.get(l)!;
    return p;
  };
  // Labels of the result of contracting the operands in `mask`: theirs that
  // are needed outside the mask (output or another operand).
  const resultLabels = (mask: number): Set<string> => {
    const inside = new Set<string>();
    const outside = new Set<string>(outSet);
    sets.forEach((s, i) => {
      for (const l of s) ((mask >> i) & 1 ? inside : outside).add(l);
    });
    return new Set([...inside].filter((l) => outside.has(l)));
  };
  if (n <= 8) {
    // Optimal order by dynamic programming over subsets.
    const full = (1 << n) - 1;
    const best = new Float64Array(1 << n).fill(Infinity);
    const split = new Int32Array(1 << n);
    const labelsOf = new globalThis.Array<Set<string>>(1 << n);
    for (let m = 1; m <= full; m++) labelsOf[m] = resultLabels(m);
    for (let i = 0; i < n; i++) best[1 << i] = 0;
    for (let m = 1; m <= full; m++) {
      if ((m & (m - 1)) === 0) continue;
      // Each unordered split once: submasks containing the lowest bit of m.
      const low = m & -m;
      for (let s = (m - 1) & m; s > 0; s = (s - 1) & m) {
        if ((s & low) === 0) continue;
        const r = m ^ s;
        const union = new Set([...labelsOf[s]!, ...labelsOf[r]!]);
        const c = best[s]! + best[r]! + sz(union);
        if (c < best[m]!) {
          best[m] = c;
          split[m] = s;
        }
      }
    }
    // Turn the split tree into steps on a shrinking list (post-order).
    const list: number[] = labels.map((_, i) => 1 << i);
    const path: EinsumStep[] = [];
    const emit = (m: number): void => {
      if ((m & (m - 1)) === 0) return;
      const s = split[m]!;
      emit(s);
      emit(m ^ s);
      const i = list.indexOf(s);
      const j = list.indexOf(m ^ s);
      path.push([Math.min(i, j), Math.max(i, j)]);
      list.splice(Math.max(i, j), 1);
      list.splice(Math.min(i, j), 1);
      list.push(m);
    };
    emit(full);
    return { path, cost: best[full]! };
  }
  // Greedy: repeatedly contract the pair whose result is smallest relative to its inputs.
  let current = sets.map((s) => new Set(s));
  const path: EinsumStep[] = [];
  let cost = 0;
  while (current.length > 1) {
    let bestPair: EinsumStep = [0, 1];
    let bestScore = Infinity;
    let bestLabels = new Set<string>();
    let bestCost = 0;
    for (let i = 0; i < current.length; i++) {
      for (let j = i + 1; j < current.length; j++) {
        const others = new Set<string>(outSet);
        current.forEach((s, k) => {
          if (k !== i && k !== j) for (const l of s) others.add(l);
        });
        const union = new Set([...current[i]!, ...current[j]!]);
        const res = new Set([...union].filter((l) => others.has(l)));
        const score = sz(res) - sz(current[i]!) - sz(current[j]!);
        if (score < bestScore || (score === bestScore && sz(union) < bestCost)) {
          bestScore = score;
          bestPair = [i, j];
          bestLabels = res;
          bestCost = sz(union);
        }
      }
    }
    cost += bestCost;
    path.push(bestPair);
    current = current.filter((_, k) => k !== bestPair[0] && k !== bestPair[1]);
    current.push(bestLabels);
  }
  return { path, cost };
}

interface CachedPlan {
  parsed: Parsed;
  path: EinsumStep[];
  cost: number;
}
const planCache = new Map<string, CachedPlan>();
const PLAN_CACHE_LIMIT = 256;

function prepare(subscripts: string, operands: readonly ArrayLike[]) {
  if (typeof subscripts !== "string") {
    throw new InvalidArgumentError(
      `np.einsum: the first argument must be a subscripts string like "ij,jk->ik"`,
    );
  }
  let xs = promoteAll("einsum", operands);
  // bool operands are counted in int32, and the result is whether the count
  // is nonzero (NumPy's and JAX's bool einsum: OR of ANDs).
  const bool = xs[0]!.dtype === "bool";
  if (bool) xs = xs.map((x) => ew.convert(x, "int32"));
  // Parsing and the order search depend only on the subscripts and shapes: cached.
  let key = subscripts;
  for (const x of xs) key += `|${x.shape.join(",")}`;
  let cached = planCache.get(key);
  const parsed =
    cached?.parsed ??
    parse(
      subscripts,
      xs.map((x) => x.shape),
    );
  // Per operand: diagonals, broadcast size-1 axes dropped, private labels summed.
  let terms = xs.map((x, i) => takeDiagonals({ x, labels: parsed.inputs[i]! }));
  terms = terms.map((t) => {
    const drop = t.labels.map((l, d) => (t.x.shape[d] === 1 && parsed.sizes.get(l)! > 1 ? d : -1));
    const axes = drop.filter((d) => d >= 0);
    if (axes.length === 0) return t;
    return {
      x: mv.reshape(
        t.x,
        t.x.shape.filter((_, d) => !axes.includes(d)),
      ),
      labels: t.labels.filter((_, d) => !axes.includes(d)),
    };
  });
  terms = terms.map((t, i) => {
    const keep = new Set(parsed.output);
    terms.forEach((o, k) => {
      if (k !== i) for (const l of o.labels) keep.add(l);
    });
    return sumUnneeded(t, keep);
  });
  if (cached === undefined) {
    cached = {
      parsed,
      ...planPath(
        terms.map((t) => t.labels),
        parsed.output,
        parsed.sizes,
      ),
    };
    if (planCache.size >= PLAN_CACHE_LIMIT) planCache.clear();
    planCache.set(key, cached);
  }
  return { parsed, terms, path: cached.path, cost: cached.cost, bool };
}

/**
 * Einstein summation (NumPy's einsum): `"ij,jk->ik"` is a matrix product,
 * `"ii->"` a trace, `"ii->i"` a diagonal, `"...ij,...jk"` a batched matmul,
 * `"i,i"` a dot product; without "->" the output is the labels used once,
 * sorted. Three or more operands are contracted pairwise in the cheapest
 * order (see `einsumPath`), each pair as one batched matrix product.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const a = np.ones([2, 3]);
 * const b = np.ones([3, 4]);
 * const c = np.einsum("ij,jk->ik", a, b); // shape [2, 4], all 3
 * const t = np.einsum("ii", np.eye(3)); // 3
 * ```
 */
export function einsum(subscripts: string, ...operands: ArrayLike[]): Array {
  if (operands.length === 0) {
    throw new InvalidArgumentError(`np.einsum: needs at least one operand after "${subscripts}"`);
  }
  if (operands.every((x) => x instanceof ConcreteArray)) {
    let f = compiled.get(subscripts);
    if (f === undefined) {
      f = jit((...xs: Array[]) => einsumTraced(subscripts, xs));
      if (compiled.size >= PLAN_CACHE_LIMIT) compiled.clear();
      compiled.set(subscripts, f);
    }
    return f(...(operands as Array[]));
  }
  return einsumTraced(subscripts, operands);
}
/**
 * Eager calls on concrete arrays run einsum compiled by jit (cached per
 * subscripts here, per shapes and dtypes by jit): the parsing, the order
 * search and the bookkeeping of the steps then cost nothing after the first
 * call, leaving the matmul kernels (jit calls their impl, so the values are
 * the same bit for bit). Under a transformation einsum traces inline.
 */
const compiled = new Map<string, (...xs: Array[]) => Array>();

function einsumTraced(subscripts: string, operands: readonly ArrayLike[]): Array {
  const { parsed, terms, path, bool } = prepare(subscripts, operands);
  const list = terms.slice();
  for (const [i, j] of path) {
    const a = list[i]!;
    const b = list[j]!;
    const rest = list.filter((_, k) => k !== i && k !== j);
    const keep = new Set(parsed.output);
    for (const t of rest) for (const l of t.labels) keep.add(l);
    list.splice(j, 1);
    list.splice(i, 1);
    list.push(
      contractPair(
        sumUnneeded(a, new Set([...keep, ...b.labels])),
        sumUnneeded(b, new Set([...keep, ...a.labels])),
        keep,
      ),
    );
  }
  let last = sumUnneeded(list[0]!, new Set(parsed.output));
  // Output labels missing from the result were dropped as broadcast size-1 axes: restore them.
  const missing = parsed.output.filter((l) => !last.labels.includes(l));
  if (missing.length > 0) {
    const shape = [...last.x.shape, ...missing.map((l) => parsed.sizes.get(l)!)];
    last = {
      x: mv.broadcastInDim(
        last.x,
        shape,
        last.labels.map((_, d) => d),
      ),
      labels: [...last.labels, ...missing],
    };
  }
  const perm = parsed.output.map((l) => last.labels.indexOf(l));
  const out = mv.transpose(last.x, perm);
  return bool ? ew.ne(out, ConcreteArray.zeros(out.shape, out.dtype)) : out;
}

/**
 * The pairwise contraction order einsum uses for these operands, as
 * NumPy's einsum_path: `path` lists pairs of positions in the operand list
 * (each step removes both and appends the result), `cost` the multiply-adds
 * of the pairwise products.
 *
 * @example
 * ```ts
 * import { np } from "chainrule";
 * const a = np.ones([100, 2]);
 * const b = np.ones([2, 100]);
 * const c = np.ones([100, 2]);
 * const { path } = np.einsumPath("ij,jk,kl->il", a, b, c); // [[1, 2], [0, 1]]: (b c) first
 * ```
 */
export function einsumPath(
  subscripts: string,
  ...operands: ArrayLike[]
): {
  /**
   * The pairwise steps in order: each [i, j] (i < j) names two positions in
   * the current operand list; both are removed and their product appended.
   * Empty for a single operand.
   */
  path: EinsumStep[];
  /**
   * The total multiply-adds of the steps: for each pair, the product of the
   * sizes of all labels of the two operands (after diagonals and the sums of
   * labels used by one operand only, which einsum does first).
   */
  cost: number;
} {
  const { path, cost } = prepare(subscripts, operands);
  return { path: path.map(([i, j]) => [i, j]), cost };
}
