/**
 * Pictures and measures of the computational graph (the seeds' torchviz
 * pictures and their expression-tree vs DAG comparison).
 *
 * All trace at the given arguments' values, so JS control flow works and
 * the picture is the graph of that execution (as torchviz draws it).
 *
 *   toDot(f, opts)(...args)   Graphviz DOT of the traced program: inputs,
 *                             one node per operation with its output shape,
 *                             outputs; with { backward: true } the program of
 *                             valueAndGrad(f), backward operations shaded
 *   renderSvg(dot)            SVG through @viz-js/viz (an optional
 *                             dependency, loaded on first use)
 *   graphSize(f)(...args)     operations in the DAG vs in the expression tree
 *                             a symbolic expansion would build
 *
 * An operation with several outputs is one node listing every output's
 * shape; an edge leaving it is labelled with the output it carries (#j).
 *
 * Labels hold only primitive names, shapes, dtypes, numbers and generated
 * names; user strings (pytree keys, function names) are never embedded.
 */
import type { DType } from "../core/dtype.js";
import { valueAndGrad } from "../transforms/linearize.js";
import { type Jaxpr, type Var, eqnOutputs, makeJaxpr } from "./jaxpr.js";
import { type Array, ConcreteArray } from "../core/array.js";
import type { Inputs } from "../tree/types.js";

const SHORT: Record<DType, string> = { float64: "f64", float32: "f32", int32: "i32", bool: "bool" };
const aval = (v: Var) => `${SHORT[v.dtype]}[${v.shape.join(",")}]`;

/** Options of {@link toDot}. */
export interface DotOptions {
  /** Draw the program of valueAndGrad(f) and shade the backward pass. */
  backward?: boolean;
  /** Graph direction (Graphviz rankdir), default "TB". */
  rankdir?: "TB" | "LR";
}

/** DOT text for a traced program. */
export function jaxprToDot(
  jaxpr: Jaxpr,
  opts: DotOptions & { forwardOutputs?: number } = {},
): string {
  const ids = new Map<Var, string>();
  const lines: string[] = [
    "digraph chainrule {",
    `  rankdir=${opts.rankdir ?? "TB"};`,
    '  node [fontname="Helvetica", fontsize=11];',
  ];
  jaxpr.inVars.forEach((v, i) => {
    ids.set(v, `in${i}`);
    lines.push(
      `  in${i} [shape=ellipse, style=filled, fillcolor="#cfe8ff", label="input ${i}\\n${aval(v)}"];`,
    );
  });
  jaxpr.constVars.forEach((v, i) => {
    ids.set(v, `c${i}`);
    const c = jaxpr.consts[i];
    const label =
      c instanceof ConcreteArray && c.size === 1 ? String(c.scalarValue) : `const ${aval(v)}`;
    lines.push(`  c${i} [shape=plaintext, label="${label}"];`);
  });
  // Operations that the value output needs are forward; the rest (with backward) are the gradient's.
  const forward = new Set<Var>();
  const nForward = opts.forwardOutputs ?? jaxpr.outVars.length;
  const stack = jaxpr.outVars.slice(0, nForward);
  const producer = new Map(jaxpr.eqns.flatMap((e) => eqnOutputs(e).map((v) => [v, e] as const)));
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (forward.has(v)) continue;
    forward.add(v);
    for (const u of producer.get(v)?.inputs ?? []) stack.push(u);
  }
  /** For an output of a multi-output operation, the edge attribute naming it. */
  const outputLabel = new Map<Var, string>();
  /** An edge from the node holding u to `to`. */
  const edge = (u: Var, to: string): string =>
    `  ${ids.get(u)} -> ${to}${outputLabel.get(u) ?? ""};`;
  jaxpr.eqns.forEach((e, k) => {
    const id = `op${k}`;
    const outs = eqnOutputs(e);
    outs.forEach((v, j) => {
      ids.set(v, id);
      if (e.outs !== undefined) outputLabel.set(v, ` [label="#${j}"]`);
    });
    const fill = outs.some((v) => forward.has(v)) ? "#fff3c4" : "#e3d7ff";
    lines.push(
      `  ${id} [shape=box, style="rounded,filled", fillcolor="${fill}", label="${e.prim.name}\\n${outs.map(aval).join(", ")}"];`,
    );
    for (const u of e.inputs) lines.push(edge(u, id));
  });
  jaxpr.outVars.forEach((v, i) => {
    const kind = i < nForward ? "output" : "gradient";
    lines.push(
      `  out${i} [shape=doubleoctagon, style=filled, fillcolor="#d5f5d5", label="${kind} ${i}\\n${aval(v)}"];`,
    );
    lines.push(edge(v, `out${i}`));
  });
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** toDot(f, opts)(...args): Graphviz DOT of f's computational graph at these arguments. */
export function toDot<Args extends unknown[] = Array[]>(
  f: (...args: Args) => unknown,
  opts?: DotOptions,
): (...args: Inputs<Args>) => string;
export function toDot(
  f: (...args: unknown[]) => unknown,
  opts: DotOptions = {},
): (...args: unknown[]) => string {
  return (...args: unknown[]): string => {
    if (opts.backward !== true) return jaxprToDot(makeJaxpr(f, { concrete: true })(...args), opts);
    const argnums = args.map((_, i) => i);
    const jaxpr = makeJaxpr(valueAndGrad(f, { argnums }), { concrete: true })(...args);
    return jaxprToDot(jaxpr, { ...opts, forwardOutputs: 1 });
  };
}

/** Renders DOT to SVG with @viz-js/viz (install it to use this). */
export async function renderSvg(dot: string): Promise<string> {
  let viz: { instance(): Promise<{ renderString(src: string, o: { format: string }): string }> };
  try {
    viz = await import(/* @vite-ignore */ "@viz-js/viz");
  } catch {
    throw new Error(
      "renderSvg: the optional dependency @viz-js/viz is not installed; run `npm install @viz-js/viz`, " +
        "or render the DOT text with any Graphviz",
    );
  }
  return (await viz.instance()).renderString(dot, { format: "svg" });
}

/** What {@link graphSize} returns: the size of the graph and of the expression tree it stands for. */
export interface GraphSize {
  /** Operations in the traced program: the DAG, each computed once. */
  dagOperations: number;
  /** Operations in the expression tree that expanding every shared value would build. */
  treeOperations: number;
  /** Leaves (inputs and constants) of that tree. */
  treeLeaves: number;
}

/**
 * graphSize(f)(...args): size of f's DAG against its expanded expression
 * tree (counted by dynamic programming over the DAG, so the tree is never
 * built; counts above 2^53 lose precision).
 */
export function graphSize<Args extends unknown[] = Array[]>(
  f: (...args: Args) => unknown,
): (...args: Inputs<Args>) => GraphSize;
export function graphSize(f: (...args: unknown[]) => unknown): (...args: unknown[]) => GraphSize {
  return (...args: unknown[]): GraphSize => {
    const jaxpr = makeJaxpr(f, { concrete: true })(...args);
    const ops = new Map<Var, number>();
    const leaves = new Map<Var, number>();
    for (const v of [...jaxpr.inVars, ...jaxpr.constVars]) {
      ops.set(v, 0);
      leaves.set(v, 1);
    }
    for (const e of jaxpr.eqns) {
      let o = 1;
      let l = 0;
      for (const u of e.inputs) {
        o += ops.get(u)!;
        l += leaves.get(u)!;
      }
      for (const v of eqnOutputs(e)) {
        ops.set(v, o);
        leaves.set(v, l);
      }
    }
    let treeOperations = 0;
    let treeLeaves = 0;
    for (const v of jaxpr.outVars) {
      treeOperations += ops.get(v)!;
      treeLeaves += leaves.get(v)!;
    }
    return { dagOperations: jaxpr.eqns.length, treeOperations, treeLeaves };
  };
}
