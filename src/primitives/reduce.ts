/**
 * Reductions: sum, max, min (over sorted axes, removing them), argmax/argmin
 * (one axis, int32 result) and cumsum. `keepdims` is the np layer's reshape.
 */
import { type Array, type Aval, ConcreteArray } from "../core/array.js";
import { ShapeError, fmtShape, DTypeError } from "../core/errors.js";
import { definePrimitive, type PrimitiveDef } from "../core/primitive.js";
import { bind } from "../core/trace.js";
import { backend } from "../backends/index.js";
import type { ReduceOp } from "../backends/backend.js";
import { convert, div, eq, mul } from "./elementwise.js";
import { moveAxis } from "./helpers.js";
import { broadcastInDim } from "./movement.js";

interface AxesParams {
  axes: readonly number[];
}

function reducedAval(name: string, x: Aval, axes: readonly number[]): Aval {
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= x.shape.length) {
      throw new ShapeError(`${name}: axis ${a} is out of range for shape ${fmtShape(x.shape)}`);
    }
  }
  return { shape: x.shape.filter((_, d) => !axes.includes(d)), dtype: x.dtype };
}

/** The output axes kept by a reduction, as broadcastInDim dims back into the input. */
function keptDims(ndim: number, axes: readonly number[]): number[] {
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) if (!axes.includes(d)) dims.push(d);
  return dims;
}

/** Batch rule of axis reductions: the batch axis moves to 0 and the axes shift by one. */
function shiftAxesBatch(apply: (x: Array, axes: number[]) => Array) {
  return (
    [x]: readonly Array[],
    [d]: readonly (number | null)[],
    { axes }: AxesParams,
  ): [Array, number] => [
    apply(
      moveAxis(x!, d!, 0),
      axes.map((a) => a + 1),
    ),
    0,
  ];
}

function reduceImpl(op: ReduceOp, outDtype?: "int32") {
  return ([x]: readonly ConcreteArray[], { axes }: AxesParams): ConcreteArray => {
    const dtype = outDtype ?? x!.dtype;
    const shape = x!.shape.filter((_, d) => !axes.includes(d));
    return new ConcreteArray(shape, dtype, backend().reduce(op, x!.buffer, x!.shape, axes, dtype));
  };
}

const reduceSumPrim = definePrimitive<AxesParams>({
  name: "reduceSum",
  linear: true,
  abstractEval([x], { axes }) {
    if (x!.dtype === "bool") {
      throw new DTypeError(`sum: cannot sum a bool array; convert with x.astype("int32")`);
    }
    return reducedAval("sum", x!, axes);
  },
  impl: reduceImpl("sum"),
  // d sum(x) = sum(dx)
  jvp: (_p, [dx], _o, { axes }) => reduceSum(dx!, axes),
  // The adjoint of summing is broadcasting back.
  transpose: (ct, [x], { axes }) => {
    const shape = (x as { aval: Aval }).aval.shape;
    return [broadcastInDim(ct, shape, keptDims(shape.length, axes))];
  },
  batch: shiftAxesBatch((x, axes) => reduceSum(x, axes)),
});
/** Sums over the sorted, distinct `axes`, removing them. */
export function reduceSum(x: Array, axes: readonly number[]): Array {
  if (axes.length === 0) return x;
  return bind(reduceSumPrim, [x], { axes });
}

/**
 * max/min: the tangent is the average of the tangents at the positions that
 * attain the extreme (ties share it), i.e. sum(dx * mask) / sum(mask).
 */
function extremum(name: "reduceMax" | "reduceMin", op: "max" | "min") {
  const prim: PrimitiveDef<AxesParams> = definePrimitive<AxesParams>({
    name,
    linear: false,
    abstractEval: ([x], { axes }) => reducedAval(op, x!, axes),
    impl: reduceImpl(op),
    jvp([x], [dx], out, { axes }) {
      const back = broadcastInDim(out, x!.shape, keptDims(x!.ndim, axes));
      const mask = convert(eq(x!, back), x!.dtype);
      return div(reduceSum(mul(dx!, mask), axes), reduceSum(mask, axes));
    },
    batch: shiftAxesBatch((x, axes) => bind(prim, [x], { axes })),
  });
  return (x: Array, axes: readonly number[]): Array =>
    axes.length === 0 ? x : bind(prim, [x], { axes });
}
export const reduceMax = extremum("reduceMax", "max");
export const reduceMin = extremum("reduceMin", "min");

function argExtremum(name: "argmax" | "argmin") {
  const prim: PrimitiveDef<AxesParams> = definePrimitive<AxesParams>({
    name,
    linear: false,
    abstractEval([x], { axes }) {
      return { shape: reducedAval(name, x!, axes).shape, dtype: "int32" };
    },
    impl: reduceImpl(name, "int32"),
    jvp: () => null,
    batch: shiftAxesBatch((x, axes) => bind(prim, [x], { axes })),
  });
  return (x: Array, axis: number): Array => bind(prim, [x], { axes: [axis] });
}
/** Index of the first maximum along `axis` (int32). */
export const argmax = argExtremum("argmax");
/** Index of the first minimum along `axis` (int32). */
export const argmin = argExtremum("argmin");

interface CumsumParams {
  axis: number;
  reverse: boolean;
}
const cumsumPrim = definePrimitive<CumsumParams>({
  name: "cumsum",
  linear: true,
  abstractEval([x], { axis }) {
    reducedAval("cumsum", x!, [axis]);
    if (x!.dtype === "bool") throw new DTypeError(`cumsum: convert bool arrays to int32 first`);
    return x!;
  },
  impl([x], { axis, reverse }) {
    return new ConcreteArray(
      x!.shape,
      x!.dtype,
      backend().cumsum(x!.buffer, x!.shape, axis, reverse, x!.dtype),
    );
  },
  // d cumsum(x) = cumsum(dx); its adjoint sums from the other end.
  jvp: (_p, [dx], _o, { axis, reverse }) => cumsum(dx!, axis, reverse),
  transpose: (ct, _args, { axis, reverse }) => [cumsum(ct, axis, !reverse)],
  batch: ([x], [d], { axis, reverse }) => [cumsum(moveAxis(x!, d!, 0), axis + 1, reverse), 0],
});
/** Running sum along `axis` (from the end when `reverse`). */
export function cumsum(x: Array, axis: number, reverse = false): Array {
  return bind(cumsumPrim, [x], { axis, reverse });
}
