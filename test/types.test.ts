/**
 * Type tests: the static types of the transformations. `npm run typecheck`
 * (tsc) checks this file: every `@ts-expect-error` line must be a type error
 * (tsc fails if it compiles) and every `expectTypeOf` must hold. The `it`
 * blocks also run, so that the values behind the types are checked too.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type Array,
  type Grads,
  type JittedFunction,
  checkpoint,
  customJvp,
  grad,
  hessian,
  jacfwd,
  jacobian,
  jacrev,
  jit,
  jvp,
  lax,
  linearize,
  np,
  optim,
  tree,
  valueAndGrad,
  vjp,
  vmap,
} from "../src/index.js";

interface Params {
  weight: Array;
  bias: Array;
}
const loss = (p: Params, x: Array) => np.sum(np.square(np.add(np.multiply(p.weight, x), p.bias)));
const square = (x: Array) => np.sum(np.square(x));
const params: Params = { weight: np.array([1, 2]), bias: np.array(0.5) };
const x = np.array([3, 4]);

describe("misuses are type errors", () => {
  it("the four misuses of the issue", () => {
    // A string is not a pytree of numbers.
    // @ts-expect-error -- "hello" is not an Array or a number
    expect(() => grad(square)("hello")).toThrow();
    // Three arguments for a one-argument function.
    // @ts-expect-error -- square takes one argument
    expect(() => grad(square)(1, 2, 3)).not.toThrow();
    // A misspelt key of the gradient.
    const gp = grad(loss)(params, x);
    // @ts-expect-error -- the gradient has the keys of Params: weight, bias
    expect(() => gp.wieght.item()).toThrow(TypeError);
    // jit returns Arrays, not numbers.
    // @ts-expect-error -- jit(square)(x) is an Array
    const n: number = jit(square)(x);
    expect(typeof n).toBe("object");
  });

  it("more misuses", () => {
    // @ts-expect-error -- argnums 1 names x, an Array, so there is no .weight
    expect(() => grad(loss, { argnums: 1 })(params, x).weight.item()).toThrow(TypeError);
    // @ts-expect-error -- vmap keeps the arity (at run time the extra argument is ignored)
    expect(vmap(square)(np.ones([2, 2]), x).shape).toEqual([2]);
    // @ts-expect-error -- valueAndGrad returns a pair
    const v: Array = valueAndGrad(square)(x);
    expect(globalThis.Array.isArray(v)).toBe(true);
    // @ts-expect-error -- the carry is an Array, not a string
    expect(() => lax.forILoop(0, 2, (_i, c) => c.toUpperCase(), np.array(1))).toThrow();
    // @ts-expect-error -- tree.map's callback gets the leaves (Arrays here), not strings
    expect(() => tree.map((s: string) => s.toUpperCase(), params)).toThrow(TypeError);
  });
});

describe("types that survive the transformations", () => {
  it("grad and valueAndGrad", () => {
    const gp = grad(loss)(params, x);
    expectTypeOf(gp).toEqualTypeOf<{ weight: Array; bias: Array }>();
    expect(gp.weight.shape).toEqual([2]);
    // Numbers in the argument become Arrays in the gradient.
    const withNumbers = grad((p: { w: number; b: Array }) => np.add(p.w, p.b))({ w: 1, b: 2 });
    expectTypeOf(withNumbers).toEqualTypeOf<{ w: Array; b: Array }>();
    expect(withNumbers.w.item()).toBe(1);
    const both = grad(loss, { argnums: [0, 1] })(params, x);
    expectTypeOf(both).toEqualTypeOf<[{ weight: Array; bias: Array }, Array]>();
    expectTypeOf(grad(loss, { argnums: 1 })(params, x)).toEqualTypeOf<Array>();
    const [[value, aux], g] = valueAndGrad(
      (p: Params): [Array, { norm: Array }] => [loss(p, x), { norm: np.sum(p.weight) }],
      { hasAux: true },
    )(params);
    expectTypeOf(value).toEqualTypeOf<Array>();
    expectTypeOf(aux).toEqualTypeOf<{ norm: Array }>();
    expectTypeOf(g).toEqualTypeOf<{ weight: Array; bias: Array }>();
    expect(aux.norm.item()).toBe(3);
    const [g2, aux2] = grad((y: Array) => [np.sum(y), y.shape.length] as const, { hasAux: true })(
      x,
    );
    expectTypeOf(g2).toEqualTypeOf<Array>();
    expectTypeOf(aux2).toEqualTypeOf<number>();
    // Untyped lambdas get Array parameters; numbers map to Array gradients.
    expectTypeOf(grad((y) => np.sin(y))(0)).toEqualTypeOf<Array>();
    expectTypeOf(grad(grad((y) => np.sin(y)))(0)).toEqualTypeOf<Array>();
    expectTypeOf(grad((ys: number[]) => np.sum(np.stack(ys)))([1, 2])).toEqualTypeOf<
      [Array, Array]
    >();
    expectTypeOf<Grads<{ a: number; b: [number, Array] }>>().toEqualTypeOf<{
      a: Array;
      b: [Array, Array];
    }>();
  });

  it("jit, vmap, jvp, vjp, linearize, jacobians, checkpoint, customJvp", () => {
    const jitted = jit(loss);
    expectTypeOf(jitted).toEqualTypeOf<JittedFunction<[p: Params, x: Array], Array>>();
    expectTypeOf(jitted(params, x)).toEqualTypeOf<Array>();
    const pair = jit((p: Params) => ({ w: p.weight, n: [p.bias, 1] as const }))(params);
    expectTypeOf(pair).toEqualTypeOf<{ w: Array; n: [Array, Array] }>();
    expectTypeOf(vmap((r: Array) => [r, np.sum(r)] as const)(np.ones([2, 3]))).toEqualTypeOf<
      [Array, Array]
    >();
    const [out, tangent] = jvp(square, [x], [np.ones([2])]);
    expectTypeOf(out).toEqualTypeOf<Array>();
    expectTypeOf(tangent).toEqualTypeOf<Array>();
    const [, pullback] = vjp(loss, params, x);
    expectTypeOf(pullback(1)).toEqualTypeOf<[{ weight: Array; bias: Array }, Array]>();
    const [, fJvp] = linearize(square, x);
    expectTypeOf(fJvp(x)).toEqualTypeOf<Array>();
    expectTypeOf(jacrev((p: Params) => np.multiply(p.weight, 2))(params)).toEqualTypeOf<{
      weight: Array;
      bias: Array;
    }>();
    expectTypeOf(jacfwd((y: Array) => [y, y] as const)(x)).toEqualTypeOf<[Array, Array]>();
    expectTypeOf(jacobian(square)(x)).toEqualTypeOf<Array>();
    expectTypeOf(hessian(square)(x)).toEqualTypeOf<Array>();
    expectTypeOf(checkpoint(loss)(params, x)).toEqualTypeOf<Array>();
    const f = customJvp(
      (y: Array) => np.sin(y),
      ([y], [t]) => [np.sin(y), np.multiply(np.cos(y), t)],
    );
    expectTypeOf(f(1)).toEqualTypeOf<Array>();
  });

  it("lax, tree and optim keep the pytree types", () => {
    const [carry, ys] = lax.scan(
      (c, xt) => [{ s: c.s.add(xt) }, c.s],
      { s: np.array(0) },
      np.array([1, 2, 3]),
    );
    expectTypeOf(carry).toEqualTypeOf<{ s: Array }>();
    expectTypeOf(ys).toEqualTypeOf<Array>();
    expect(ys.toArray()).toEqual([0, 1, 3]);
    const [i, acc] = lax.whileLoop(
      ([k]) => k.lt(3),
      ([k, a]) => [k.add(1), a.mul(2)],
      [0, np.array(1)],
    );
    expectTypeOf(i).toEqualTypeOf<Array>();
    expect(acc.item()).toBe(8);
    expectTypeOf(
      lax.cond(
        true,
        (a: Array) => a,
        (a: Array) => a.neg(),
        x,
      ),
    ).toEqualTypeOf<Array>();
    // The example: a typed callback over a tree of Arrays.
    const doubled = tree.map((leaf: Array) => leaf.mul(2), params);
    expectTypeOf(doubled).toEqualTypeOf<{ weight: Array; bias: Array }>();
    expect(doubled.bias.item()).toBe(1);
    expectTypeOf(tree.leaves(params)).toEqualTypeOf<Array[]>();
    const opt = optim.adam(0.1);
    const state = opt.init(params);
    expectTypeOf(state).toEqualTypeOf<optim.AdamState>();
    const [next] = opt.update(grad(loss)(params, x), state, params);
    expectTypeOf(next).toEqualTypeOf<{ weight: Array; bias: Array }>();
  });
});
