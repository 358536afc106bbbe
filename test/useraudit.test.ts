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
  GradientTape,
  InvalidArgumentError,
  ShapeError,
  checkGrads,
  checkpoint,
  customJvp,
  customVjp,
  grad,
  hessian,
  jacfwd,
  jacobian,
  jacrev,
  jit,
  jvp,
  lax,
  linearize,
  makeJaxpr,
  np,
  optim,
  random,
  valueAndGrad,
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

  it("np.concatenate and np.stack take an Array as the list of its rows, as NumPy", () => {
    const m = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(np.concatenate(m).toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    // Stacking the rows along axis 1 is the transpose.
    expect(np.stack(m, 1).toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(np.vstack(m).toArray()).toEqual(m.toArray());
    expect(np.columnStack(m).toArray()).toEqual(m.T.toArray());
    expect(() => np.stack(np.array(1))).toThrow(
      /np\.stack: expected a list of arrays, got a 0-d Array/,
    );
    expect(() => np.concatenate(5 as unknown as NdArray)).toThrow(
      /np\.concatenate: expected a list of arrays, got number 5/,
    );
  });

  it("checkGrads given an Array for its argument list says so (it would spread the rows)", () => {
    const f = (x: NdArray) => np.sum(np.sin(x));
    const x = np.array([0.1, 0.2]);
    expect(() => checkGrads(f, x as unknown as [NdArray])).toThrow(
      /checkGrads: args must be the list of f's arguments, got an Array of shape \[2\].*checkGrads\(f, \[x\]\)/,
    );
    // The list form checks f against finite differences and passes.
    expect(checkGrads(f, [x]).errors["rev/1"]).toBeLessThan(1e-6);
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

  it("a 0-d array is not iterable (a TypeError, as NumPy's)", () => {
    expect(() => [...np.array(3)]).toThrow(TypeError);
    expect(() => {
      const [first] = np.array(3, { dtype: "float32" });
      return first;
    }).toThrow(/not iterable/);
    expect(Symbol.iterator in np.array([1])).toBe(true);
  });

  it("vitest's toEqual still compares arrays by value (it follows iterators)", () => {
    // With an iterator that threw on 0-d rows, every toEqual of arrays threw.
    expect(np.array([1, 2])).toEqual(np.array([1, 2]));
    expect(np.array([1, 2])).not.toEqual(np.array([1, 3]));
    expect(np.array([[1, 2]])).not.toEqual(np.array([[1, 2]], { dtype: "float32" }));
    expect(np.array(1)).toEqual(np.array(1));
    expect(np.array(1)).not.toEqual(np.array(2));
    expect({ w: np.array([0.5, 2]) }).toEqual({ w: np.array([1, 4]).mul(0.5) });
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

  it("a jvp tangent given as a JS list for an Array primal says to wrap it", () => {
    const f = (x: NdArray) => np.sum(np.square(x));
    const x = np.array([1, 2]);
    expect(() => jvp(f, [x], [[1, 0]] as unknown as [NdArray])).toThrow(
      /jvp: primals and tangents must have the same structure, got \[\*\] and \[\[\*,\*\]\]; tangent 0 is a JS list .*np\.array\(list\)/,
    );
    // d/dt sum((x + t e0)^2) = 2 x0 = 2.
    expect(jvp(f, [x], [np.array([1, 0])])[1].item()).toBe(2);
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

describe("a transformation given a value instead of a function", () => {
  // The slip grad(loss(x)): the value where the function belongs.
  const loss = (x: NdArray) => np.sum(np.square(x));
  const value = loss(np.array([1, 2])) as unknown as (x: NdArray) => NdArray;
  const makers: [string, () => unknown][] = [
    ["grad", () => grad(value)],
    ["valueAndGrad", () => valueAndGrad(value)],
    ["jacfwd", () => jacfwd(value)],
    ["jacrev", () => jacrev(value)],
    ["jacobian", () => jacobian(value)],
    ["hessian", () => hessian(value)],
    ["vmap", () => vmap(value)],
    ["jit", () => jit(value)],
    ["makeJaxpr", () => makeJaxpr(value)],
    ["checkpoint", () => checkpoint(value)],
    ["customJvp", () => customJvp(value, (p: [NdArray], t: [NdArray]) => [p[0], t[0]])],
    ["jvp", () => jvp(value, [1], [1])],
    ["vjp", () => vjp(value, 1)],
    ["linearize", () => linearize(value, 1)],
  ];
  for (const [name, make] of makers) {
    it(`${name} says so when it is made, naming what it got`, () => {
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(
        new RegExp(
          `^${name}: f must be a function, got an Array of shape \\[\\] and dtype float64; ` +
            `pass the function itself, e\\.g\\. ${name}\\(loss\\)\\(x\\), not its value`,
        ),
      );
    });
  }
  it("custom rules must be functions too", () => {
    const f = (x: NdArray) => np.sin(x);
    const noRule = undefined as unknown as (p: [NdArray], t: [NdArray]) => [NdArray, NdArray];
    expect(() => customJvp(f, noRule)).toThrow(
      /customJvp: rule .* must be a function, got undefined/,
    );
    const fwd = (x: NdArray): [NdArray, NdArray] => [np.sin(x), x];
    const noBwd = null as unknown as (r: unknown, ct: NdArray) => NdArray;
    expect(() => customVjp(f, fwd, noBwd)).toThrow(
      /customVjp: bwd .* must be a function, got null/,
    );
    // The working form: d sin(x)/dx = cos(x).
    const good = customVjp(f, fwd, (r: unknown, ct: NdArray) => ct.mul(np.cos(r as NdArray)));
    expect(grad(good)(0.5).item()).toBe(Math.cos(0.5));
  });
});

describe("optimisers: hyperparameters and update's arguments", () => {
  it("a learning rate that is not a finite number >= 0 is refused when the optimiser is made", () => {
    expect(() => optim.adam("0.1" as unknown as number)).toThrow(
      /optim\.adam: learningRate must be a finite number >= 0, got the string "0\.1"/,
    );
    expect(() => optim.sgd(Number.NaN)).toThrow(/optim\.sgd: learningRate .* got NaN/);
    expect(() => optim.sgd(-0.1)).toThrow(InvalidArgumentError);
    expect(() => optim.momentum(0.1, 1)).toThrow(
      /optim\.momentum: beta must be a number in \[0, 1\)/,
    );
    expect(() => optim.adam(0.1, 0.9, 1.5)).toThrow(/optim\.adam: b2 must be a number in \[0, 1\)/);
  });

  it("update with its arguments swapped or mis-shaped names optim, the shapes and the order", () => {
    const params = { w: np.ones([2]) };
    const adam = optim.adam(0.1);
    const state = adam.init(params);
    // What a JS caller (no type checking) can write; TypeScript refuses these calls.
    type Untyped = (grads: unknown, state: unknown, params: unknown) => unknown;
    const swapped = () => (adam.update as Untyped)(params, params, state);
    expect(swapped).toThrow(InvalidArgumentError);
    expect(swapped).toThrow(/optim\.adam\.update: the second argument must be the state/);
    const wrong = () => adam.update({ w: np.ones([3]) }, state, params);
    expect(wrong).toThrow(ShapeError);
    expect(wrong).toThrow(
      /optim\.adam\.update: grads leaf 0 has shape \[3\] but its parameter has shape \[2\]; call update\(grads, state, params\)/,
    );
    const sgd = optim.sgd(0.5);
    expect(() => (sgd.update as Untyped)({ b: np.ones([2]) }, null, params)).toThrow(
      /optim\.sgd\.update: grads has structure \{"b":\*\} but params has \{"w":\*\}/,
    );
    // The right call: one sgd step p - lr g, and one Adam step, whose first
    // move is lr * sign(g) (m/(1-b1) = g, v/(1-b2) = g^2) up to eps.
    const [next] = sgd.update({ w: np.array([2, -4]) }, null, params);
    expect(next.w.toArray()).toEqual([1 - 0.5 * 2, 1 + 0.5 * 4]);
    const [moved] = adam.update({ w: np.array([3, -0.5]) }, state, params);
    const got = moved.w.toArray() as number[];
    expect(got[0]).toBeCloseTo(0.9, 6);
    expect(got[1]).toBeCloseTo(1.1, 6);
  });
});

describe("an Array where a shape belongs", () => {
  it("np.zeros(n) with n traced under jit points at x.shape and staticArgnums", () => {
    const make = jit((n: NdArray) => np.zeros(n as unknown as number));
    const bad = () => make(np.array(3, { dtype: "int32" }));
    expect(bad).toThrow(ShapeError);
    expect(bad).toThrow(
      /np\.zeros: shape Traced<int32\[\]> is neither .*an Array is not a size: .*staticArgnums/,
    );
    // The advice: a static size builds the program for that size.
    const zeros = jit((x: NdArray, n: number) => x.add(np.zeros([n])), { staticArgnums: [1] });
    expect(zeros(np.array(1), 3).toArray()).toEqual([1, 1, 1]);
    // Eagerly too, with the concrete array shown.
    expect(() => np.ones([2, np.array(3) as unknown as number])).toThrow(
      /np\.ones: shape \[2, array\(3\.\)\] has a non-number at position 1 .*n\.item\(\)/,
    );
  });
});

describe("GradientTape as a TensorFlow user writes it", () => {
  it("a target computed without record (TF's with-block forgotten) is named, not zeros", () => {
    const x = np.array([1, 2, 3]);
    const tape = new GradientTape();
    tape.watch(x);
    const y = np.sum(np.sin(x)); // not inside tape.record
    expect(() => tape.gradient(y, x)).toThrow(InvalidArgumentError);
    expect(() => tape.gradient(y, x)).toThrow(
      /GradientTape\.gradient: nothing was recorded on this tape.*tape\.record\(\(\) => f\(x\)\)/,
    );
    // Inside record: d/dx sum(sin x) = cos x.
    const recorded = tape.record(() => np.sum(np.sin(x)));
    expect(tape.gradient(recorded, x).toArray()).toEqual([1, 2, 3].map(Math.cos));
  });
  it("a recorded target that does not depend on a source still gets zeros (documented)", () => {
    const x = np.array(2);
    const c = np.array(5);
    const tape = new GradientTape();
    const y = tape.record(() => (tape.watch(x), c.mul(c)));
    expect(tape.gradient(y, x).item()).toBe(0);
  });
});

describe("random samplers with JAX's positional dtype/minval/maxval", () => {
  it("a number where the options object belongs is an error, not ignored", () => {
    const key = random.key(0);
    type Loose = (...args: unknown[]) => NdArray;
    const uniform = random.uniform as Loose;
    // jax.random.uniform(key, (1000,), minval=-1, maxval=1) written positionally.
    expect(() => uniform(key, [1000], -1, 1)).toThrow(InvalidArgumentError);
    expect(() => uniform(key, [1000], -1, 1)).toThrow(
      /random\.uniform: the argument after the shape is the options object \{ dtype\?, minval\?, maxval\? \}, got number -1/,
    );
    // NumPy's normal(2, 3) for a [2, 3] draw.
    expect(() => (random.normal as Loose)(key, 2, 3)).toThrow(/random\.normal: .*got number 3/);
    expect(() => uniform(key, [3], { min: -1 })).toThrow(
      /random\.uniform: unknown option "min"; the options are \{ dtype\?, minval\?, maxval\? \}/,
    );
    // The named form: the same bits as the unit draw, mapped onto [-1, 1).
    const unit = random.uniform(key, [1000]).data();
    const wide = random.uniform(key, [1000], { minval: -1, maxval: 1 }).data();
    let worst = 0;
    for (let i = 0; i < unit.length; i++)
      worst = Math.max(worst, Math.abs(wide[i]! - (2 * unit[i]! - 1)));
    expect(worst).toBeLessThan(1e-15);
    expect(Math.min(...wide)).toBeLessThan(-0.99);
  });
});

describe("JAX's and PyTorch's positional options", () => {
  const x = np.array([
    [1, 2],
    [3, 4],
  ]);
  type Loose = (...args: unknown[]) => unknown;

  it("transformations refuse a positional argnums/inAxes/staticArgnums and unknown keys", () => {
    const f = (a: NdArray, b: NdArray) => np.sum(a.mul(b));
    // jax.grad(f, 1): with the 1 ignored this was df/da = b = 3 instead of df/db = a = 2.
    expect(() => (grad as Loose)(f, 1)).toThrow(
      /^grad: the options must be an object \{ argnums\?, hasAux\? \}, got number 1; name them, e\.g\. grad\(f, \{ argnums: 1 \}\)/,
    );
    expect(grad(f, { argnums: 1 })(np.array(2), np.array(3)).item()).toBe(2);
    // jax.vmap(f, 1): ignored, it mapped over rows ([3, 7]) instead of columns ([4, 6]).
    const total = (v: NdArray) => np.sum(v);
    expect(() => (vmap as Loose)(total, 1)).toThrow(/^vmap: the options must be an object/);
    expect(() => (vmap as Loose)(total, { in_axes: 1 })).toThrow(
      /^vmap: unknown option "in_axes"; the options are \{ inAxes\?, outAxes\? \}/,
    );
    expect(vmap(total, { inAxes: 1 })(x).toArray()).toEqual([1 + 3, 2 + 4]);
    // A tree of axes for the one dict argument must sit in the per-argument list.
    const params = { a: np.ones([3, 2]), b: np.array(1) };
    const g = (d: { a: NdArray; b: NdArray }) => d.a.sum().add(d.b);
    expect(() => vmap(g, { inAxes: { a: 0, b: null } })(params)).toThrow(
      /inAxes has one entry per argument of f, so put a tree for one argument in a list: inAxes: \[\{"a":0,"b":null\}\]/,
    );
    expect(vmap(g, { inAxes: [{ a: 0, b: null }] })(params).toArray()).toEqual([3, 3, 3]);
    expect(() => (jit as Loose)(f, [1])).toThrow(
      /^jit: the options must be an object .*a JS array/,
    );
    expect(() => (jacfwd as Loose)(f, { hasAux: true })).toThrow(
      /^jacfwd: unknown option "hasAux"/,
    );
    expect(() => (hessian as Loose)(f, 0)).toThrow(/^hessian: the options must be an object/);
  });

  it("lax.scan, lax.forILoop and optim.minimize refuse positional or misspelt options", () => {
    const step = (c: NdArray, v: NdArray): [NdArray, NdArray] => [c.add(v), c];
    const xs = np.array([1, 2, 3]);
    // jax.lax.scan(f, init, xs, length, reverse): reverse was silently not applied.
    expect(() => (lax.scan as Loose)(step, np.array(0), xs, 3, true)).toThrow(
      /^lax\.scan: the options must be an object \{ length\?, reverse\?, checkpoint\?, gradientHorizon\? \}, got number 3/,
    );
    expect(() => (lax.scan as Loose)(step, np.array(0), xs, { reversed: true })).toThrow(
      /^lax\.scan: unknown option "reversed"/,
    );
    // reverse: the carries seen are the suffix sums 0, 3, 5 read back in order: [5, 3, 0].
    expect(lax.scan(step, np.array(0), xs, { reverse: true })[1].toArray()).toEqual([5, 3, 0]);
    expect(() =>
      (lax.forILoop as Loose)(0, 3, (i: NdArray, c: NdArray) => c.add(i), 0, { checkpoints: 2 }),
    ).toThrow(/^lax\.forILoop: unknown option "checkpoints"/);
    const sq = (v: NdArray) => np.sum(np.square(v));
    expect(() => optim.minimize(sq, np.array([1, 2]), { maxiter: 1 } as never)).toThrow(
      /^minimize: unknown option "maxiter"; the options are \{ method\?, tol\?, maxIter\?/,
    );
  });

  it("reductions refuse keepdims/ddof given positionally; ddof works beside the axis", () => {
    // PyTorch's x.sum(0, True) is keepdim; ignored, the shape was [2] instead of [1, 2].
    expect(() => (x.sum as Loose)(0, true)).toThrow(
      /np\.sum: the argument after the axis is the options object \{ keepdims\? \}, got boolean true/,
    );
    expect(x.sum(0, { keepdims: true }).shape).toEqual([1, 2]);
    expect(() => (np.mean as Loose)(x, { axis: 0, keepdim: true })).toThrow(
      /np\.mean: unknown option "keepdim" .*\{ axis\?, keepdims\? \}/,
    );
    const v = [1, 2, 3, 4];
    const m = v.reduce((s, e) => s + e, 0) / v.length;
    const ss = v.reduce((s, e) => s + (e - m) ** 2, 0);
    // np.std(x, axis=0, ddof=1) written as one object: the ddof was ignored before.
    expect(np.std(v, { axis: 0, ddof: 1 }).item()).toBeCloseTo(Math.sqrt(ss / 3), 14);
    expect(np.std(v, 0, { ddof: 1 }).item()).toBeCloseTo(Math.sqrt(ss / 3), 14);
    expect(np.var(v).item()).toBeCloseTo(ss / 4, 14);
    expect(() => (np.std as Loose)(v, null, 1)).toThrow(
      /np\.std: the argument after the axis .*number 1/,
    );
  });

  it("np.array takes a dtype positionally, as NumPy; other values are refused", () => {
    const f32 = np.array([1.1, 2], "float32");
    expect(f32.dtype).toBe("float32");
    expect(Array.from(f32.data())).toEqual([Math.fround(1.1), 2]);
    expect(() => (np.array as Loose)([1, 2], 3)).toThrow(
      /np\.array: the second argument is a dtype \("float32"\) or the options .*number 3/,
    );
    expect(() => (np.array as Loose)([1, 2], "int64")).toThrow(/unknown dtype int64/);
  });

  it("an object where an axis goes is named; x.transpose takes the axes one by one", () => {
    expect(() => (np.concatenate as Loose)([x, x], { axis: 1 })).toThrow(
      /np\.concatenate: an axis must be an integer, got object \{"axis":1\}/,
    );
    expect(() => (np.squeeze as Loose)(np.zeros([1, 2]), { axis: 0 })).toThrow(
      /np\.squeeze: an axis must be an integer/,
    );
    expect(np.concatenate([x, x], 1).shape).toEqual([2, 4]);
    const t = np.arange(24).reshape([2, 3, 4]);
    const byList = t.transpose([2, 0, 1]);
    const oneByOne = t.transpose(2, 0, 1);
    expect(oneByOne.shape).toEqual([4, 2, 3]);
    expect(oneByOne.toArray()).toEqual(byList.toArray());
    // Entry [k, i, j] of the permuted array is t[i, j, k] = 12 i + 4 j + k.
    expect((oneByOne.toArray() as number[][][])[3]![1]![2]).toBe(12 * 1 + 4 * 2 + 3);
    expect(() => (np.transpose as Loose)(t, 1)).toThrow(/np\.transpose: axes must be a list/);
  });
});
