/**
 * Conversion of JS data (numbers, booleans, nested arrays, TypedArrays) into
 * concrete arrays, with clear errors for anything else.
 */
import { Array, ConcreteArray } from "./array.js";
import { type DType, allocate, castScalar, dtypeOfTypedArray, isDType } from "./dtype.js";
import { InvalidArgumentError, fmtShape } from "./errors.js";
import { shapeSize } from "./shape.js";

/** A short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === undefined) return "undefined";
  if (x === null) return "null";
  if (typeof x === "string")
    return `the string ${JSON.stringify(x.length > 20 ? x.slice(0, 20) + "..." : x)}`;
  if (typeof x === "function") return "a function";
  if (x instanceof Array) return `an Array of shape ${fmtShape(x.shape)} and dtype ${x.dtype}`;
  if (globalThis.Array.isArray(x)) return `a JS array of length ${x.length}`;
  if (typeof x === "object") return `an object (${x.constructor?.name ?? "no prototype"})`;
  if (typeof x === "number" || typeof x === "boolean" || typeof x === "bigint") {
    return `${typeof x} ${x}`;
  }
  return typeof x;
}

/**
 * Constants written in user code (`x.mul(0.5)`) recur on every call; sharing
 * their 0-d arrays saves an allocation each time and keeps reverse-mode
 * tapes smaller. Arrays are immutable, so sharing is safe. Bounded.
 */
const scalarCache = new Map<number, ConcreteArray>();
const SCALAR_CACHE_LIMIT = 1024;

/** A 0-d array holding one number. */
export function scalar(value: number, dtype: DType = "float64"): ConcreteArray {
  // Map keys identify 0 and -0, which must stay distinct: -0 is not cached.
  if (dtype !== "float64" || Object.is(value, -0)) {
    return ConcreteArray.scalar(castScalar(value, dtype), dtype);
  }
  let c = scalarCache.get(value);
  if (c === undefined) {
    c = ConcreteArray.scalar(value, "float64");
    if (scalarCache.size < SCALAR_CACHE_LIMIT) scalarCache.set(value, c);
  }
  return c;
}

/**
 * Converts JS data to a concrete array. `where` names the function and
 * argument for error messages, e.g. "np.add: argument x".
 */
export function fromData(data: unknown, where: string, dtype?: DType): ConcreteArray {
  if (dtype !== undefined && !isDType(dtype)) {
    throw new InvalidArgumentError(
      `${where}: unknown dtype ${describe(dtype)}; use "float64", "float32", "int32" or "bool"`,
    );
  }
  if (typeof data === "number") {
    if (dtype === "int32") checkInt32(data, where, "");
    return scalar(data, dtype ?? "float64");
  }
  if (typeof data === "boolean") return scalar(data ? 1 : 0, dtype ?? "bool");
  const typed = dtypeOfTypedArray(data);
  if (typed !== undefined) {
    const src = data as Float64Array;
    const dt = dtype ?? typed;
    const buf = allocate(dt, src.length);
    if (dt === "bool") for (let i = 0; i < src.length; i++) buf[i] = src[i] ? 1 : 0;
    else {
      if (dt === "int32" && (typed === "float32" || typed === "float64")) {
        for (let i = 0; i < src.length; i++) checkInt32(src[i]!, where, `[${i}]`);
      }
      buf.set(src);
    }
    return new ConcreteArray([src.length], dt, buf);
  }
  if (globalThis.Array.isArray(data)) {
    const shape: number[] = [];
    let probe: unknown = data;
    while (globalThis.Array.isArray(probe)) {
      shape.push(probe.length);
      probe = probe[0];
    }
    const inferred: DType = typeof probe === "boolean" ? "bool" : "float64";
    const dt = dtype ?? inferred;
    const buf = allocate(dt, shapeSize(shape));
    let k = 0;
    const fill = (node: unknown, depth: number, path: number[]): void => {
      if (depth === shape.length) {
        if (typeof node === "number" || typeof node === "boolean") {
          if (dt === "int32") checkInt32(Number(node), where, `[${path.join("][")}]`);
          buf[k++] = castScalar(Number(node), dt);
          return;
        }
        if (globalThis.Array.isArray(node)) {
          throw new InvalidArgumentError(
            `${where}: ragged nested array: element [${path.join("][")}] is a list, but the ` +
              `elements before it suggested shape ${fmtShape(shape)}; all rows must have equal lengths`,
          );
        }
        // A JS list of Arrays: typically the list argument of grad/vmap/jit
        // (a pytree of separate leaves, as in JAX) handed to an np function.
        const stackHint =
          node instanceof Array
            ? `; a JS list is not stacked implicitly: stack it with np.array(list) or ` +
              `np.stack(list) first (a JS list passed to grad, jit or vmap is a pytree of ` +
              `separate leaves, as in JAX: pass np.array([...]) to differentiate one array)`
            : "";
        throw new InvalidArgumentError(
          `${where}: nested arrays must hold numbers or booleans, but element ` +
            `[${path.join("][")}] is ${describe(node)}${stackHint}`,
        );
      }
      if (!globalThis.Array.isArray(node) || node.length !== shape[depth]) {
        throw new InvalidArgumentError(
          `${where}: ragged nested array: element [${path.join("][")}] has ` +
            `${globalThis.Array.isArray(node) ? `length ${node.length}` : describe(node)} ` +
            `where length ${shape[depth]} was expected (shape ${fmtShape(shape)}); ` +
            `all rows must have equal lengths`,
        );
      }
      for (let i = 0; i < node.length; i++) fill(node[i], depth + 1, [...path, i]);
    };
    fill(data, 0, []);
    return new ConcreteArray(shape, dt, buf);
  }
  throw new InvalidArgumentError(
    `${where} must be an Array, a number, a boolean, a TypedArray or nested arrays of numbers; ` +
      `got ${describe(data)}`,
  );
}

/**
 * A JS number converted to int32 must fit: fractions are truncated toward 0
 * (as NumPy does), but a value outside [-2^31, 2^31 - 1], NaN or an infinity
 * would wrap around or become 0 silently, so it is refused (NumPy raises an
 * OverflowError for out-of-range integers too).
 */
function checkInt32(value: number, where: string, element: string): void {
  const t = Math.trunc(value);
  if (!(t >= -(2 ** 31) && t <= 2 ** 31 - 1)) {
    throw new InvalidArgumentError(
      `${where}: value ${String(value)}${element === "" ? "" : ` at element ${element}`} does not ` +
        `fit in int32 (range -2147483648..2147483647); use dtype "float64" (exact integers up ` +
        `to 2^53), or reduce the value (for example modulo 2^32) before converting`,
    );
  }
}

/**
 * Throws an InvalidArgumentError unless `f` is a function. Transformations
 * check their function arguments when they are made, so that the common slip
 * `grad(loss(x))` (the value, not the function) is named where it happens
 * instead of failing later as "f is not a function".
 */
export function expectFunction(fnName: string, argName: string, f: unknown): void {
  if (typeof f === "function") return;
  const hint =
    argName === "f"
      ? `; pass the function itself, e.g. ${fnName}(loss)(x), not its value ${fnName}(loss(x))`
      : "";
  throw new InvalidArgumentError(
    `${fnName}: ${argName} must be a function, got ${describe(f)}${hint}`,
  );
}

/**
 * Throws an InvalidArgumentError unless `opts` is absent or an object with
 * only the `allowed` keys. JAX takes these positionally (`jax.vmap(f, 1)`,
 * `jax.grad(f, 1)`); written that way here, or with a misspelt key
 * (`{ in_axes: 1 }`), they would otherwise be ignored and the result silently
 * differ from what was meant. `example` shows the right form.
 */
export function expectOptions(
  fnName: string,
  opts: unknown,
  allowed: readonly string[],
  example: string,
): void {
  if (opts === undefined) return;
  const form = `{ ${allowed.map((k) => `${k}?`).join(", ")} }`;
  if (typeof opts !== "object" || opts === null || globalThis.Array.isArray(opts)) {
    throw new InvalidArgumentError(
      `${fnName}: the options must be an object ${form}, got ${describe(opts)}; ` +
        `name them, e.g. ${example}`,
    );
  }
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) {
      throw new InvalidArgumentError(
        `${fnName}: unknown option ${JSON.stringify(k)}; the options are ${form}, e.g. ${example}`,
      );
    }
  }
}

/** Returns `x` if it is already an Array, else converts JS data. */
export function asArray(x: unknown, where: string): Array {
  return x instanceof Array ? x : fromData(x, where);
}
