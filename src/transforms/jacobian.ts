/**
 * Jacobians and Hessians. jacfwd pushes one basis tangent per input element
 * through forward mode (vmapped, so one batched pass): cost grows with the
 * number of inputs. jacrev pulls one basis cotangent per output element back
 * through the tape: cost grows with the number of outputs. `jacobian` picks
 * the cheaper one. Output layout follows JAX: out.shape ++ in.shape, with the
 * output tree on the outside and the input tree inside.
 */
import { type Array, ConcreteArray } from "../core/array.js";
import { asArray, expectFunction, expectOptions } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { ConcretizationError, DTypeError, fmtShape } from "../core/errors.js";
import { traceToJaxpr } from "../ir/jaxpr.js";
import { shapeSize } from "../core/shape.js";
import { reshape, slice, transpose } from "../primitives/movement.js";
import { flatten, unflatten, type TreeDef } from "../tree/index.js";
import type { Argnums, GradsAt, Inputs, JacobianOf } from "../tree/types.js";
import { jvp } from "./jvp.js";
import { type GradOptions, resolveArgnums, vjp } from "./linearize.js";
import { vmap } from "./vmap.js";

/** Options of the Jacobian transformations: which arguments to differentiate. */
export type JacobianOptions<A extends Argnums = Argnums> = Pick<GradOptions<A>, "argnums">;

/**
 * The function returned by jacfwd, jacrev and jacobian for f taking `Args`
 * and returning R, differentiated with respect to arguments `A`.
 */
export type JacobianFunction<Args extends unknown[], R, A> = <const In extends Inputs<Args>>(
  ...args: In
) => JacobianOf<R, GradsAt<In, A>>;

/** Row-stacked identity blocks: leaf j gets [total, ...shape_j], one-hot at rows offset_j + k. */
function basis(arrays: readonly Array[]): ConcreteArray[] {
  const total = arrays.reduce((acc, x) => acc + x.size, 0);
  let offset = 0;
  return arrays.map((x) => {
    const n = x.size;
    const b = ConcreteArray.zeros([total, ...x.shape], x.dtype);
    for (let k = 0; k < n; k++) b.buffer[(offset + k) * n + k] = 1;
    offset += n;
    return b;
  });
}

/** The differentiated arguments (by argnums) and a function of just those. */
function selectArgs(
  fnName: string,
  f: (...args: never[]) => unknown,
  opts: JacobianOptions,
  args: unknown[],
) {
  const argnums = resolveArgnums(fnName, opts.argnums, args.length);
  const diffArgs = argnums.map((a) => args[a]);
  const g = (...diff: unknown[]): unknown => {
    const full = args.slice();
    argnums.forEach((a, k) => (full[a] = diff[k]));
    return (f as (...a: unknown[]) => unknown)(...full);
  };
  const [leaves, inDef] = flatten(diffArgs);
  const arrays = leaves.map((l, i) => asArray(l, `${fnName}: input ${i}`));
  arrays.forEach((x, i) => {
    if (!isFloat(x.dtype)) {
      throw new DTypeError(
        `${fnName}: input leaf ${i} has dtype ${x.dtype} (shape ${fmtShape(x.shape)}); ` +
          `Jacobians need float inputs: convert with x.astype("float64")`,
      );
    }
  });
  const single = opts.argnums === undefined || typeof opts.argnums === "number";
  return { g, diffArgs: unflatten(inDef, arrays) as unknown[], arrays, inDef, single };
}

/**
 * Assembles blocks[o][j] (already shaped out_o ++ in_j) into the output tree
 * of input trees.
 */
function assemble(outDef: TreeDef, inDef: TreeDef, single: boolean, blocks: Array[][]): unknown {
  return unflatten(
    outDef,
    blocks.map((row) => {
      const inner = unflatten(inDef, row) as unknown[];
      return single ? inner[0] : inner;
    }),
  );
}

/** Forward-mode Jacobian: one JVP per input element, batched with vmap. */
export function jacfwd<Args extends unknown[] = Array[], R = Array, const A extends Argnums = 0>(
  f: (...args: Args) => R,
  opts?: JacobianOptions<A>,
): JacobianFunction<Args, R, NoInfer<A>>;
export function jacfwd(
  f: (...args: never[]) => unknown,
  opts: JacobianOptions = {},
): (...args: unknown[]) => unknown {
  expectFunction("jacfwd", "f", f);
  expectOptions("jacfwd", opts, ["argnums"], "jacfwd(f, { argnums: 1 })");
  return (...args: unknown[]): unknown => {
    const { g, diffArgs, arrays, inDef, single } = selectArgs("jacfwd", f, opts, args);
    const pushforward = (...tangentLeaves: unknown[]): unknown =>
      jvp(g, diffArgs, unflatten(inDef, tangentLeaves) as unknown[])[1];
    const outTangents: unknown = vmap(pushforward)(...basis(arrays));
    const [outLeaves, outDef] = flatten(outTangents);
    const blocks = (outLeaves as Array[]).map((t) => {
      const outShape = t.shape.slice(1);
      let offset = 0;
      return arrays.map((x) => {
        const rows = slice(t, [offset, ...outShape.map(() => 0)], [offset + x.size, ...outShape]);
        offset += x.size;
        // [in..., out...] -> [out..., in...]
        const r = reshape(rows, [...x.shape, ...outShape]);
        const nIn = x.ndim;
        const perm = [...outShape.map((_, i) => nIn + i), ...x.shape.map((_, i) => i)];
        return transpose(r, perm);
      });
    });
    return assemble(outDef, inDef, single, blocks);
  };
}

/** Reverse-mode Jacobian: one VJP per output element, batched with vmap. */
export function jacrev<Args extends unknown[] = Array[], R = Array, const A extends Argnums = 0>(
  f: (...args: Args) => R,
  opts?: JacobianOptions<A>,
): JacobianFunction<Args, R, NoInfer<A>>;
export function jacrev(
  f: (...args: never[]) => unknown,
  opts: JacobianOptions = {},
): (...args: unknown[]) => unknown {
  expectFunction("jacrev", "f", f);
  expectOptions("jacrev", opts, ["argnums"], "jacrev(f, { argnums: 1 })");
  return (...args: unknown[]): unknown => {
    const { g, diffArgs, arrays, inDef, single } = selectArgs("jacrev", f, opts, args);
    const linearized: [unknown, (ct: unknown) => unknown[]] = vjp(g, ...diffArgs);
    return jacrevFromVjp(linearized[0], linearized[1], arrays, inDef, single);
  };
}

function jacrevFromVjp(
  out: unknown,
  pullback: (ct: unknown) => unknown[],
  arrays: readonly Array[],
  inDef: TreeDef,
  single: boolean,
): unknown {
  const [outLeaves, outDef] = flatten(out);
  const outs = outLeaves as Array[];
  const inCts: unknown = vmap((...ctLeaves: unknown[]) => pullback(unflatten(outDef, ctLeaves)))(
    ...basis(outs),
  );
  const ctLeaves = flatten(inCts)[0] as Array[];
  let offset = 0;
  const blocks = outs.map((o) => {
    const row = ctLeaves.map((c, j) => {
      const inShape = arrays[j]!.shape;
      const rows = slice(c, [offset, ...inShape.map(() => 0)], [offset + o.size, ...inShape]);
      return reshape(rows, [...o.shape, ...inShape]);
    });
    offset += o.size;
    return row;
  });
  return assemble(outDef, inDef, single, blocks);
}

/**
 * Number of output elements of g, found by tracing it abstractly (no
 * arithmetic), or null when g branches on values and cannot be traced.
 */
function outputSize(
  g: (...args: unknown[]) => unknown,
  diffArgs: unknown[],
  arrays: readonly Array[],
): number | null {
  const [, inDef] = flatten(diffArgs);
  try {
    const { jaxpr } = traceToJaxpr(
      g,
      inDef,
      arrays.map((x) => ({ shape: x.shape, dtype: x.dtype })),
    );
    return jaxpr.outVars.reduce((acc, v) => acc + shapeSize(v.shape), 0);
  } catch (e) {
    if (e instanceof ConcretizationError) return null;
    throw e;
  }
}

/**
 * The Jacobian by whichever mode is cheaper: reverse mode when there are
 * fewer output elements than input elements, forward mode otherwise. The
 * output size comes from an abstract trace; a function that branches on
 * values is linearized once and the decision made from its output.
 */
export function jacobian<Args extends unknown[] = Array[], R = Array, const A extends Argnums = 0>(
  f: (...args: Args) => R,
  opts?: JacobianOptions<A>,
): JacobianFunction<Args, R, NoInfer<A>>;
export function jacobian(
  f: (...args: never[]) => unknown,
  opts: JacobianOptions = {},
): (...args: unknown[]) => unknown {
  expectFunction("jacobian", "f", f);
  expectOptions("jacobian", opts, ["argnums"], "jacobian(f, { argnums: 1 })");
  return (...args: unknown[]): unknown => {
    const { g, diffArgs, arrays, inDef, single } = selectArgs("jacobian", f, opts, args);
    const nIn = arrays.reduce((acc, x) => acc + x.size, 0);
    const nOut = outputSize(g, diffArgs, arrays);
    if (nOut !== null && nOut > nIn) return forward(f, opts)(...args);
    const linearized: [unknown, (ct: unknown) => unknown[]] = vjp(g, ...diffArgs);
    const nOutSeen = (flatten(linearized[0])[0] as Array[]).reduce((acc, o) => acc + o.size, 0);
    if (nOutSeen <= nIn) return jacrevFromVjp(linearized[0], linearized[1], arrays, inDef, single);
    return forward(f, opts)(...args);
  };
}

/** jacfwd without its typed overloads, for the internal fallbacks above. */
const forward = jacfwd as (
  f: (...args: never[]) => unknown,
  opts: JacobianOptions,
) => (...args: unknown[]) => unknown;

/** The Hessian: forward mode over reverse mode. */
export function hessian<Args extends unknown[] = Array[], R = Array, const A extends Argnums = 0>(
  f: (...args: Args) => R,
  opts?: JacobianOptions<A>,
): <const In extends Inputs<Args>>(
  ...args: In
) => JacobianOf<JacobianOf<R, GradsAt<In, NoInfer<A>>>, GradsAt<In, NoInfer<A>>>;
export function hessian(
  f: (...args: never[]) => unknown,
  opts: JacobianOptions = {},
): (...args: unknown[]) => unknown {
  expectFunction("hessian", "f", f);
  expectOptions("hessian", opts, ["argnums"], "hessian(f, { argnums: 1 })");
  const reverse = jacrev as typeof forward;
  return forward(reverse(f, opts), opts);
}
