/**
 * What a newcomer from JAX, NumPy or PyTorch writes in a first program, and
 * what must then happen: idioms those libraries allow (iterating over an
 * array, destructuring `random.split`) work the same way here, and the
 * mistakes they make get a clear error naming the function, the shapes or
 * dtypes and what to do instead. Values are checked against plain loops
 * over the data and closed forms.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  InvalidArgumentError,
  ShapeError,
  grad,
  jit,
  lax,
  np,
  optim,
  random,
  vjp,
  vmap,
} from "../src/index.js";

describe("iterating over an array (NumPy and JAX iterate over the first axis)", () => {
  it("random.split destructures into keys equal to the rows of the split", () => {
    const keys = random.split(random.key(7), 3);
    const [a, b, c] = keys;
    const rows = [keys.slice(0), keys.slice(1), keys.slice(2)];
    for (const [got, want] of [a!, b!, c!].map((k, i) => [k, rows[i]!] as const)) {
      expect(got.shape).toEqual([2]);
      expect(got.dtype).toBe("int32");
      expect(Array.from(got.data())).toEqual(Array.from(want.data()));
    }
    // The JAX idiom `key, subkey = random.split(key)` draws what slicing draws.
    const [, subkey] = random.split(random.key(0));
    const viaSlice = random.normal(random.split(random.key(0)).slice(1), [4]);
    expect(Array.from(random.normal(subkey!, [4]).data())).toEqual(Array.from(viaSlice.data()));
  });

  it("for ... of yields the rows; a plain loop over the nested values agrees", () => {
    const values = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const sums: number[] = [];
    for (const row of np.array(values)) {
      expect(row.shape).toEqual([3]);
      sums.push(row.sum().item());
    }
    expect(sums).toEqual(values.map((r) => r.reduce((s, v) => s + v, 0)));
    expect([...np.array([10, 20])].map((x) => x.item())).toEqual([10, 20]);
  });

  it("works on tracers: under grad, jit and vmap", () => {
    // f(x) = sum over rows r of (r . r)^2; df/dx[i, j] = 4 (r_i . r_i) x[i, j].
    const f = (x: NdArray) => {
      let total = np.array(0);
      for (const row of x) total = total.add(np.square(np.sum(np.square(row))));
      return total;
    };
    const values = [
      [1, -2],
      [0.5, 3],
      [2, 1],
    ];
    const x = np.array(values);
    const closed = values.map((r) => {
      const n = r[0]! * r[0]! + r[1]! * r[1]!;
      return r.map((v) => 4 * n * v);
    });
    expect(grad(f)(x).toArray()).toEqual(closed);
    expect(jit(grad(f))(x).toArray()).toEqual(closed);
    // vmap over the rows: each example is a vector, iterated element by element.
    const perRow = vmap((r: NdArray) => {
      let s = np.array(0);
      for (const v of r) s = s.add(v.mul(v));
      return s;
    })(x);
    expect(perRow.toArray()).toEqual(values.map((r) => r[0]! * r[0]! + r[1]! * r[1]!));
  });

  it("a 0-d array cannot be iterated: a ShapeError that says what to do", () => {
    expect(() => [...np.array(3)]).toThrow(ShapeError);
    expect(() => {
      const [first] = np.array(3, { dtype: "float32" });
      return first;
    }).toThrow(/iteration over a 0-d array \(shape \[\], dtype float32\).*x\.item\(\)/);
  });
});

describe("a JS list where one array was meant (a list is a pytree of leaves, as in JAX)", () => {
  it("an np function given a list of Arrays says to stack it", () => {
    // grad of a list argument hands f a list of 0-d Arrays.
    const f = (v: NdArray) => np.sum(np.square(v));
    const bad = () => grad(f as (v: unknown) => NdArray)([1, 2, 3]);
    expect(bad).toThrow(InvalidArgumentError);
    expect(bad).toThrow(
      /np\.square: argument x: .*element \[0\] is an Array of shape \[\] and dtype float64; .*np\.array\(list\) or np\.stack\(list\)/,
    );
    // The advice works: the gradient of sum(v^2) is 2v.
    expect(grad(f)(np.array([1, 2, 3])).toArray()).toEqual([2, 4, 6]);
    // optim.minimize with a list x0 reaches the same message.
    const g = (v: NdArray) => np.sum(np.square(np.subtract(v, [1, 2])));
    expect(() => optim.minimize(g as (v: unknown) => NdArray, [0, 0])).toThrow(/np\.stack\(list\)/);
  });

  it("vmap and lax.scan over a nested JS list name the number and np.array", () => {
    const rowSum = (r: NdArray) => np.sum(r);
    expect(() =>
      vmap(rowSum as (r: unknown) => NdArray)([
        [1, 2],
        [3, 4],
      ]),
    ).toThrow(/vmap: argument leaf 0 is a scalar.*JS number 1: .*pass np\.array\(list\)/);
    expect(
      vmap(rowSum)(
        np.array([
          [1, 2],
          [3, 4],
        ]),
      ).toArray(),
    ).toEqual([3, 7]);
    // A scalar Array keeps the old message without the list hint.
    expect(() => vmap(rowSum)(np.array(1))).toThrow(/use inAxes null for it$/);
    const step = (c: NdArray, x: NdArray): [NdArray, NdArray] => [c.add(x), c];
    expect(() => lax.scan(step, np.array(0), [1, 2, 3] as unknown as NdArray)).toThrow(
      /lax\.scan: xs leaf 0 is a scalar.*JS number 1: .*pass np\.array\(list\)/,
    );
    const [total] = lax.scan(step, np.array(0), np.array([1, 2, 3]));
    expect(total.item()).toBe(6);
  });

  it("a vjp pullback given a JS list for a one-Array output says to wrap it", () => {
    const [y, pullback] = vjp((x: NdArray) => np.square(x), np.array([1, 2]));
    expect(y.toArray()).toEqual([1, 4]);
    expect(() => pullback([1, 1] as unknown as NdArray)).toThrow(
      /cotangent's structure \[\*,\*\] differs from the output's \*; .*np\.array\(list\)/,
    );
    // d(x^2)/dx = 2x, applied to the cotangent [1, 1].
    expect(pullback(np.array([1, 1]))[0].toArray()).toEqual([2, 4]);
  });
});

describe("reading and indexing mistakes", () => {
  it("item() of a vector is a ShapeError naming the shape", () => {
    expect(() => np.array([1, 2]).item()).toThrow(ShapeError);
    expect(() => np.array([1, 2]).item()).toThrow(/item: .*shape \[2\].*x\.sum\(\)/);
    return expect(np.ones([2, 2]).itemAsync()).rejects.toThrow(ShapeError);
  });

  it("a fractional index says it is not an integer (not 'out of bounds')", () => {
    const x = np.array([10, 20, 30]);
    expect(() => x.slice(0.5)).toThrow(InvalidArgumentError);
    expect(() => x.slice(0.5)).toThrow(/index 0\.5 for axis 0 \(of size 3\) is not an integer/);
    expect(x.slice(Math.floor(1.5)).item()).toBe(20);
  });
});
