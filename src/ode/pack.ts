/**
 * Packing of a pytree of float arrays (the ODE state) into one flat float64
 * vector and back, with the checks that f returns dy/dt shaped like y.
 */
import { type Array } from "../core/array.js";
import { asArray } from "../core/convert.js";
import { isFloat } from "../core/dtype.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import * as np from "../numpy/index.js";
import { type PyTree, type TreeDef, flatten, treeDefString, unflatten } from "../tree/index.js";

/** Packing of a pytree of float arrays into one flat float64 vector and back. */
export interface Packing {
  def: TreeDef;
  shapes: number[][];
  dtypes: Array["dtype"][];
  size: number;
  ravel(tree: unknown, what: string): Array;
  unravel(v: Array): PyTree;
  /** Rows [n, size] to the tree with a leading axis n on every leaf. */
  unravelRows(rows: Array): PyTree;
}

export function packing(fnName: string, tree: unknown, what: string): Packing {
  const [leaves, def] = flatten(tree);
  const arrays = leaves.map((l, i) => asArray(l, `${fnName}: ${what} leaf ${i}`));
  if (arrays.length === 0) {
    throw new InvalidArgumentError(`${fnName}: ${what} has no array leaves`);
  }
  arrays.forEach((a, i) => {
    if (!isFloat(a.dtype)) {
      throw new InvalidArgumentError(
        `${fnName}: ${what} leaf ${i} has dtype ${a.dtype} (shape ${fmtShape(a.shape)}); ` +
          `the state must be float: convert with astype("float64")`,
      );
    }
  });
  const shapes = arrays.map((a) => a.shape.slice());
  const dtypes = arrays.map((a) => a.dtype);
  const sizes = arrays.map((a) => a.size);
  const size = sizes.reduce((s, v) => s + v, 0);
  const defString = treeDefString(def);
  const ravel = (t: unknown, w: string): Array => {
    const [ls, d] = flatten(t);
    if (treeDefString(d) !== defString) {
      throw new ShapeError(
        `${fnName}: ${w} has structure ${treeDefString(d)} but y0 has ${defString}; ` +
          `f must return dy/dt shaped like y`,
      );
    }
    const parts = ls.map((l, i) => {
      const a = asArray(l, `${fnName}: ${w} leaf ${i}`);
      if (a.shape.length !== shapes[i]!.length || a.shape.some((s, k) => s !== shapes[i]![k])) {
        throw new ShapeError(
          `${fnName}: ${w} leaf ${i} has shape ${fmtShape(a.shape)} but the y0 leaf has ` +
            `${fmtShape(shapes[i]!)}; f must return dy/dt shaped like y`,
        );
      }
      return np.reshape(a.dtype === "float64" ? a : np.astype(a, "float64"), [a.size]);
    });
    return parts.length === 1 ? parts[0]! : np.concatenate(parts, 0);
  };
  const cut = (v: Array, lead: number[]): unknown => {
    let offset = 0;
    const parts = shapes.map((shape, i) => {
      const k = sizes[i]!;
      const index =
        lead.length === 0
          ? [[offset, offset + k] as [number, number]]
          : [null, [offset, offset + k] as [number, number]];
      const piece = np.reshape(np.slice(v, ...index), [...lead, ...shape]);
      offset += k;
      return dtypes[i] === "float64" ? piece : np.astype(piece, dtypes[i]!);
    });
    return unflatten(def, parts);
  };
  return {
    def,
    shapes,
    dtypes,
    size,
    ravel,
    unravel: (v): PyTree => cut(v, []),
    unravelRows: (rows): PyTree => cut(rows, [rows.shape[0]!]),
  };
}
