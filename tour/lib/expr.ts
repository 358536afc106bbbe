/**
 * A minimal symbolic differentiator (the "symbolic differentiation" of the
 * seeds, as sympy does it without common-subexpression elimination), to
 * measure expression swell. Expressions are trees; a subexpression used
 * twice counts twice, as in a printed formula.
 */

export type Expr =
  | { op: "const"; value: number }
  | { op: "x" }
  | { op: "add" | "sub" | "mul"; a: Expr; b: Expr }
  | { op: "pow"; a: Expr; n: number };

export const cst = (value: number): Expr => ({ op: "const", value });
export const X: Expr = { op: "x" };
const isConst = (e: Expr, v: number) => e.op === "const" && e.value === v;

// Constructors with the trivial simplifications a CAS applies on the fly (0 + a, 1 * a, 0 * a).
export function add(a: Expr, b: Expr): Expr {
  if (isConst(a, 0)) return b;
  if (isConst(b, 0)) return a;
  return { op: "add", a, b };
}
export function sub(a: Expr, b: Expr): Expr {
  if (isConst(b, 0)) return a;
  return { op: "sub", a, b };
}
export function mul(a: Expr, b: Expr): Expr {
  if (isConst(a, 0) || isConst(b, 0)) return cst(0);
  if (isConst(a, 1)) return b;
  if (isConst(b, 1)) return a;
  return { op: "mul", a, b };
}
export function pow(a: Expr, n: number): Expr {
  if (n === 1) return a;
  return { op: "pow", a, n };
}

/** d e / dx by the sum, product and power rules. */
export function diff(e: Expr, memo = new Map<Expr, Expr>()): Expr {
  const hit = memo.get(e);
  if (hit !== undefined) return hit;
  let d: Expr;
  switch (e.op) {
    case "const":
      d = cst(0);
      break;
    case "x":
      d = cst(1);
      break;
    case "add":
      d = add(diff(e.a, memo), diff(e.b, memo));
      break;
    case "sub":
      d = sub(diff(e.a, memo), diff(e.b, memo));
      break;
    case "mul": // (ab)' = a'b + ab'
      d = add(mul(diff(e.a, memo), e.b), mul(e.a, diff(e.b, memo)));
      break;
    case "pow": // (a^n)' = n a^(n-1) a'
      d = mul(mul(cst(e.n), pow(e.a, e.n - 1)), diff(e.a, memo));
      break;
  }
  memo.set(e, d);
  return d;
}

/** Number of nodes of the expression written out as a tree (shared parts counted each time). */
export function treeSize(e: Expr, memo = new Map<Expr, number>()): number {
  const hit = memo.get(e);
  if (hit !== undefined) return hit;
  let n: number;
  if (e.op === "const" || e.op === "x") n = 1;
  else if (e.op === "pow") n = 1 + treeSize(e.a, memo) + 1;
  else n = 1 + treeSize(e.a, memo) + treeSize(e.b, memo);
  memo.set(e, n);
  return n;
}

/** Numerical value at x. */
export function evaluate(e: Expr, x: number, memo = new Map<Expr, number>()): number {
  const hit = memo.get(e);
  if (hit !== undefined) return hit;
  let v: number;
  switch (e.op) {
    case "const":
      v = e.value;
      break;
    case "x":
      v = x;
      break;
    case "add":
      v = evaluate(e.a, x, memo) + evaluate(e.b, x, memo);
      break;
    case "sub":
      v = evaluate(e.a, x, memo) - evaluate(e.b, x, memo);
      break;
    case "mul":
      v = evaluate(e.a, x, memo) * evaluate(e.b, x, memo);
      break;
    case "pow":
      v = evaluate(e.a, x, memo) ** e.n;
      break;
  }
  memo.set(e, v);
  return v;
}

const PRECEDENCE = { add: 1, sub: 1, mul: 2, pow: 3, const: 4, x: 4 } as const;

/**
 * The expression as a formula, printed the way sympy prints it (x**2,
 * 3*x + 4). Subexpressions listed in `names` print as that name.
 */
export function toText(e: Expr, names: Map<Expr, string> = new Map(), top = true): string {
  const named = top ? undefined : names.get(e);
  if (named !== undefined) return named;
  const wrap = (child: Expr, minPrec: number): string => {
    const s = toText(child, names, false);
    const prec = names.has(child) ? 4 : PRECEDENCE[child.op];
    return prec < minPrec ? `(${s})` : s;
  };
  switch (e.op) {
    case "const":
      return String(e.value);
    case "x":
      return "x";
    case "add":
      return `${wrap(e.a, 1)} + ${wrap(e.b, 1)}`;
    case "sub":
      return `${wrap(e.a, 1)} - ${wrap(e.b, 2)}`;
    case "mul":
      return `${wrap(e.a, 2)}*${wrap(e.b, 3)}`;
    case "pow":
      return `${wrap(e.a, 4)}**${e.n}`;
  }
}

/** The result of common-subexpression elimination: temporaries, then the result. */
export interface CseForm {
  temps: { name: string; text: string }[];
  result: string;
  /** Binary operations left after elimination (each temporary computed once). */
  operations: number;
}

/**
 * A tiny common-subexpression elimination (what sympy.cse does): equal
 * subtrees are merged (hash-consing on their printed structure), and every
 * merged subexpression used more than once becomes a temporary x0, x1, ...
 * defined before its first use.
 */
export function cse(e: Expr): CseForm {
  // 1. Hash-consing: one canonical node per distinct structure.
  const canon = new Map<string, Expr>();
  const keyOf = new Map<Expr, string>();
  const ids = new Map<Expr, number>();
  const canonical = (n: Expr, memo: Map<Expr, Expr>): Expr => {
    const hit = memo.get(n);
    if (hit !== undefined) return hit;
    let c: Expr;
    if (n.op === "const" || n.op === "x") c = n;
    else if (n.op === "pow") c = { op: "pow", a: canonical(n.a, memo), n: n.n };
    else c = { op: n.op, a: canonical(n.a, memo), b: canonical(n.b, memo) };
    const key =
      c.op === "const"
        ? `c${c.value}`
        : c.op === "x"
          ? "x"
          : c.op === "pow"
            ? `p${ids.get(c.a)},${c.n}`
            : `${c.op}${ids.get(c.a)},${ids.get(c.b)}`;
    let found = canon.get(key);
    if (found === undefined) {
      found = c;
      canon.set(key, c);
      keyOf.set(c, key);
      ids.set(c, ids.size);
    }
    memo.set(n, found);
    return found;
  };
  const root = canonical(e, new Map());
  // 2. Uses of each distinct subexpression by distinct parents, in post-order.
  const uses = new Map<Expr, number>();
  const order: Expr[] = [];
  const seen = new Set<Expr>();
  const visit = (n: Expr): void => {
    if (seen.has(n)) return;
    seen.add(n);
    if (n.op === "add" || n.op === "sub" || n.op === "mul") {
      visit(n.a);
      visit(n.b);
      uses.set(n.a, (uses.get(n.a) ?? 0) + 1);
      uses.set(n.b, (uses.get(n.b) ?? 0) + 1);
    } else if (n.op === "pow") {
      visit(n.a);
      uses.set(n.a, (uses.get(n.a) ?? 0) + 1);
    }
    order.push(n);
  };
  visit(root);
  // 3. Temporaries for repeated non-atomic subexpressions, children first.
  const names = new Map<Expr, string>();
  const temps: { name: string; text: string }[] = [];
  let operations = 0;
  const opsOf = (n: Expr, top: boolean): number =>
    n.op === "const" || n.op === "x" || (!top && names.has(n))
      ? 0
      : n.op === "pow"
        ? 1 + opsOf(n.a, false)
        : 1 + opsOf(n.a, false) + opsOf(n.b, false);
  for (const n of order) {
    if (n === root || n.op === "const" || n.op === "x" || (uses.get(n) ?? 0) < 2) continue;
    const text = toText(n, names);
    operations += opsOf(n, true);
    const name = `x${temps.length}`;
    names.set(n, name);
    temps.push({ name, text });
  }
  operations += opsOf(root, true);
  return { temps, result: toText(root, names), operations };
}
