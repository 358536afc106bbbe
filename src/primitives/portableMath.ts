/**
 * Portable transcendentals: exp, log, sin and cos that compute JavaScript's
 * `Math` functions on every backend, eagerly and under jit. The ordinary
 * primitives (elementwise.ts) run the Wasm backend's own polynomial kernels
 * on large arrays (within 2 ulp of `Math`, but not bit for bit); code whose
 * results must not depend on the backend or on whether it is batched, such
 * as the random samplers (src/random/), uses these instead. They declare no
 * Wasm vector form and loop over `Math` themselves eagerly, so every path
 * (eager on either backend, fused jit loops, the Wasm jit's JS fallback)
 * calls the same `Math` function.
 */
import type { Array, Aval } from "../core/array.js";
import { ConcreteArray } from "../core/array.js";
import { type TypedArray, allocate, castScalar, isFloat } from "../core/dtype.js";
import { DTypeError } from "../core/errors.js";
import {
  definePrimitive,
  type ElementwiseRule,
  type PrimitiveDef,
  type Tangent,
} from "../core/primitive.js";
import { bind } from "../core/trace.js";
import { div, mul, neg } from "./elementwise.js";
import { elementwiseBatch } from "./movement.js";

type NoParams = Record<string, never>;
const NO_PARAMS: NoParams = {};

function requireFloat(name: string, x: Aval): Aval {
  if (!isFloat(x.dtype)) {
    throw new DTypeError(
      `${name}: expected a float array, got dtype ${x.dtype}; convert with x.astype("float64")`,
    );
  }
  return x;
}

/**
 * out[i] = Math[fn](x[i]), one loop per function so that V8 inlines the
 * call (a loop shared by all four through a function value, as the
 * backends' generic elementwise loop is, costs several times more).
 */
function mathLoop(fn: "exp" | "log" | "sin" | "cos", x: TypedArray, out: TypedArray): TypedArray {
  const n = x.length;
  switch (fn) {
    case "exp":
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]!);
      break;
    case "log":
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]!);
      break;
    case "sin":
      for (let i = 0; i < n; i++) out[i] = Math.sin(x[i]!);
      break;
    case "cos":
      for (let i = 0; i < n; i++) out[i] = Math.cos(x[i]!);
      break;
  }
  return out;
}

/** A unary float primitive computing `Math[fn]` (`scalar`) everywhere; `tangent` gives d out. */
function portable(
  name: string,
  fn: "exp" | "log" | "sin" | "cos",
  scalar: (x: number) => number,
  tangent: (x: Array, dx: Array, out: Array) => Tangent,
) {
  const rule: ElementwiseRule<NoParams> = {
    scalar,
    js: ([a]) => `Math.${fn}(${a})`,
  };
  const prim: PrimitiveDef<NoParams> = definePrimitive<NoParams>({
    name,
    linear: false,
    abstractEval: ([x]) => requireFloat(name, x!),
    impl([x]) {
      const dtype = x!.dtype;
      if (x!.shape.length === 0) {
        return ConcreteArray.scalar(castScalar(rule.scalar(x!.scalarValue), dtype), dtype);
      }
      return new ConcreteArray(x!.shape, dtype, mathLoop(fn, x!.buffer, allocate(dtype, x!.size)));
    },
    jvp: ([x], [dx], out) => (dx === null ? null : tangent(x!, dx!, out)),
    batch: elementwiseBatch(([x]) => bind(prim, [x!], NO_PARAMS)),
    elementwise: rule,
  });
  return (x: Array): Array => bind(prim, [x], NO_PARAMS);
}

/** e^x with JS's Math.exp on every backend. */
// d exp x = exp x dx
export const portableExp = portable(
  "portableExp",
  "exp",
  (x) => Math.exp(x),
  (_x, dx, out) => mul(dx, out),
);
/** The natural logarithm with JS's Math.log on every backend. */
// d log x = dx / x
export const portableLog = portable(
  "portableLog",
  "log",
  (x) => Math.log(x),
  (x, dx) => div(dx, x),
);
/** sin x with JS's Math.sin on every backend. */
// d sin x = cos x dx
export const portableSin = portable(
  "portableSin",
  "sin",
  (x) => Math.sin(x),
  (x, dx) => mul(dx, portableCos(x)),
);
/** cos x with JS's Math.cos on every backend. */
// d cos x = -sin x dx
export const portableCos = portable(
  "portableCos",
  "cos",
  (x) => Math.cos(x),
  (x, dx) => mul(dx, neg(portableSin(x))),
);
