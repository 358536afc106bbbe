/**
 * Error classes thrown by chainrule. Every message names the function, the
 * offending argument with its shapes/dtypes, and what to do instead.
 */

/** Base class of all chainrule errors. */
export class ChainruleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit together (broadcasting, matmul, reshape, vmap sizes). */
export class ShapeError extends ChainruleError {}

/** A dtype that an operation cannot take (grad of an int input, bool arithmetic). */
export class DTypeError extends ChainruleError {}

/** A value that is not an array, a number or a nested array of numbers. */
export class InvalidArgumentError extends ChainruleError {}

/**
 * A traced (abstract) value was needed as a concrete JS value, for example
 * `if (x.item() > 0)` inside `jit`.
 */
export class ConcretizationError extends ChainruleError {}

/** A tracer used outside the transformation that created it. */
export class EscapedTracerError extends ChainruleError {}

/** Formats a shape as `[2, 3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
