/**
 * emitSource(f)(...args): the traced program of f (for example of grad(f) or
 * valueAndGrad(f)), after constant folding, simplification, CSE and DCE, as
 * a standalone, readable JavaScript function that needs nothing from
 * chainrule: the "generate the adjoint program" approach of the seeds, and
 * what SymPy's cse plus a code printer give, but for any program with loops
 * and branches: f is traced at the given arguments, loops unroll and each
 * branch is the one taken there (the code is valid for arguments that take
 * the same branches).
 *
 * Supported: programs whose operations are elementwise (on 0-d values or on
 * arrays of one shape), broadcasts of 0-d values, and full sums. Scalars are
 * JS numbers; arrays are flat row-major JS arrays. The function returns the
 * list of output leaves in order. Identifiers are generated (x0, v3, t1):
 * no user string (function name, pytree key) appears in the source. Each
 * operation's expression comes from its primitive's declaration
 * (`prim.elementwise`, via jit/lowering.ts); a primitive without a JS
 * expression (round, erf) brings its scalar function, whose library source
 * is printed once at the top (`const H_erf = ...`), with the kernels it
 * calls.
 */
import { type Array as NdArray, ConcreteArray } from "../core/array.js";
import type { Inputs } from "../tree/types.js";
import { ChainruleError } from "../core/errors.js";
import { shapeSize, shapesEqual } from "../core/shape.js";
import { type JaxprEqn, makeJaxpr, type Var } from "../ir/jaxpr.js";
import { optimize } from "../ir/passes.js";
import { elementExpr, helpersOf, isElementwise, numberLiteral } from "./lowering.js";

/**
 * Primitives without a JS expression bring their scalar function, printed
 * once as `const H_erf = function erfScalar(x) {...}`, and the kernels their
 * rules list in `uses` (elementwise rules in core/primitive.ts), printed
 * once each as function declarations under their own names, which is how
 * the scalars' source refers to them. A rule marked `standalone: false` is
 * refused, naming the primitive. (Exported for tests, not by the package.)
 */
export function helperSource(eqns: readonly JaxprEqn[]): string[] {
  const helpers = helpersOf(eqns);
  const kernels = new Map<string, (...args: number[]) => number>();
  for (const e of eqns) {
    if (e.prim.multipleResults === true) continue;
    if (e.prim.elementwise?.standalone === false) {
      throw new ChainruleError(
        `emitSource: the program uses ${e.prim.name}, whose elements are computed by ` +
          `library functions that standalone source cannot include; run it with jit instead`,
      );
    }
    for (const kernel of e.prim.elementwise?.uses ?? []) {
      const name = kernel.name;
      const source = kernel.toString();
      const seen = kernels.get(name);
      if (seen === kernel) continue;
      // Generated names (x0, v3, i, H_erf, compute) and a second kernel of the same name would clash.
      if (
        seen !== undefined ||
        /^([xv][0-9]+|i|H_.*|compute)$/.test(name) ||
        !source.startsWith(`function ${name}(`)
      ) {
        throw new ChainruleError(
          `emitSource: ${e.prim.name}'s scalar calls the library function "${name}", which ` +
            `cannot be printed under its own name here (a renamed or minified build?); ` +
            `run the program with jit instead`,
        );
      }
      kernels.set(name, kernel);
    }
  }
  return [
    ...[...kernels.values()].map((kernel) => `  ${kernel.toString()}`),
    ...[...helpers].map(([helper, fn]) => `  const ${helper} = ${fn.toString()};`),
  ];
}

/**
 * The source of a standalone JavaScript function computing f at arguments
 * shaped like these (typically `grad(f)`): straight-line code with loops
 * unrolled and branches as taken at these values, needing no library.
 *
 * @example
 * ```ts
 * import { emitSource, grad, np } from "chainrule";
 * const src = emitSource(grad((x) => np.sum(np.square(x))))(np.array([1, 2]));
 * // src is "function f(x0) { ... }"
 * ```
 */
export function emitSource<Args extends unknown[] = NdArray[]>(
  f: (...args: Args) => unknown,
): (...args: Inputs<Args>) => string;
export function emitSource(f: (...args: unknown[]) => unknown): (...args: unknown[]) => string {
  return (...args: unknown[]): string => {
    const jaxpr = optimize(makeJaxpr(f, { concrete: true })(...args));
    const names = new Map<Var, string>();
    jaxpr.inVars.forEach((v, i) => names.set(v, `x${i}`));
    jaxpr.constVars.forEach((v, i) => {
      const c = jaxpr.consts[i];
      if (!(c instanceof ConcreteArray)) {
        throw new ChainruleError(
          "emitSource: the program closes over a traced value; call it outside other transformations",
        );
      }
      names.set(
        v,
        c.shape.length === 0
          ? numberLiteral(c.scalarValue)
          : `[${Array.from(c.buffer, numberLiteral).join(", ")}]`,
      );
    });
    const ref = (v: Var) => names.get(v)!;
    const isArray = (v: Var) => v.shape.length > 0;
    const lines: string[] = [];
    for (const [k, e] of jaxpr.eqns.entries()) {
      const out = `v${k}`;
      names.set(e.out, out);
      const name = e.prim.name;
      const elementwise = isElementwise(e.prim);
      if (elementwise && !isArray(e.out)) {
        lines.push(`  const ${out} = ${elementExpr(e, e.inputs.map(ref))};`);
      } else if (
        elementwise &&
        e.inputs.every((v) => !isArray(v) || shapesEqual(v.shape, e.out.shape))
      ) {
        const n = shapeSize(e.out.shape);
        const operands = e.inputs.map((v) => (isArray(v) ? `${ref(v)}[i]` : ref(v)));
        lines.push(
          `  const ${out} = new Array(${n});`,
          `  for (let i = 0; i < ${n}; i++) ${out}[i] = ${elementExpr(e, operands)};`,
        );
      } else if (name === "broadcastInDim" && !isArray(e.inputs[0]!)) {
        lines.push(
          `  const ${out} = new Array(${shapeSize(e.out.shape)}).fill(${ref(e.inputs[0]!)});`,
        );
      } else if (name === "reduceSum" && !isArray(e.out)) {
        lines.push(`  const ${out} = ${ref(e.inputs[0]!)}.reduce((a, b) => a + b, 0);`);
      } else if (name === "reshape") {
        lines.push(`  const ${out} = ${ref(e.inputs[0]!)};`);
      } else {
        throw new ChainruleError(
          `emitSource: the program uses ${name} on shape [${e.inputs.map((v) => v.shape.join("x")).join(", ")}], ` +
            `which standalone source does not support yet; emitSource handles elementwise operations, ` +
            `broadcasts of scalars and full sums (use jit for everything else)`,
        );
      }
    }
    const header = [
      `// Generated by chainrule: ${jaxpr.eqns.length} operations after CSE and simplification.`,
      `// Inputs: ${jaxpr.inVars.map((v, i) => `x${i} ${v.shape.length === 0 ? "number" : `array of ${shapeSize(v.shape)} (shape [${v.shape.join(", ")}])`}`).join(", ") || "none"}.`,
      `// Returns the ${jaxpr.outVars.length} output leaves in order.`,
    ];
    return [
      ...header,
      `function compute(${jaxpr.inVars.map((_, i) => `x${i}`).join(", ")}) {`,
      ...helperSource(jaxpr.eqns),
      ...lines,
      `  return [${jaxpr.outVars.map(ref).join(", ")}];`,
      "}",
      "",
    ].join("\n");
  };
}
