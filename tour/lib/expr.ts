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
