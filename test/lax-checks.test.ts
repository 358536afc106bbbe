/**
 * No silent wrong answers in lax: a loop carry that changes its structure,
 * shape or dtype between steps, and cond/switch branches that disagree, are
 * refused with the same message eagerly and under jit (the branch not taken
 * eagerly is checked by abstract evaluation). Valid programs keep giving the
 * values of plain JS loops and conditionals.
 */
import { describe, expect, it } from "vitest";
import { scanStaging } from "../src/lax/scan.js";
import {
  type Array as NdArray,
  DTypeError,
  InvalidArgumentError,
  ShapeError,
  grad,
  jit,
  lax,
  np,
  vmap,
} from "../src/index.js";
import { expectAllClose } from "./helpers.js";

type ErrorClass = new (...args: never[]) => Error;

/** Asserts that eager and jitted calls both throw `cls` with a message matching `msg`. */
function expectBoth(f: (x: NdArray) => unknown, x: NdArray, cls: ErrorClass, msg: RegExp): void {
  expect(() => f(x)).toThrow(cls);
  expect(() => f(x)).toThrow(msg);
  expect(() => jit(f)(x)).toThrow(cls);
  expect(() => jit(f)(x)).toThrow(msg);
}

const int32 = (v: number) => np.array(v, { dtype: "int32" });

describe("lax.scan: the carry keeps its type", () => {
  it("a carry whose shape changes (eager, jit, checkpointed)", () => {
    const f = (x: NdArray) =>
      lax.scan(((c: NdArray) => [np.concatenate([c, c]), null]) as never, x, null, { length: 3 });
    const msg =
      /lax\.scan: carry is float64\[4\] in f's new carry but float64\[2\] in the initial carry; every step must keep the carry's shapes/;
    expectBoth(f, np.ones([2]), ShapeError, msg);
    const checkpointed = (x: NdArray) =>
      np.sum(
        lax.scan(((c: NdArray) => [np.concatenate([c, c]), null]) as never, x, null, {
          length: 3,
          checkpoint: { snapshots: 2 },
        })[0],
      );
    expect(() => grad(checkpointed)(np.ones([2]))).toThrow(msg);
  });
  it("a carry leaf whose dtype changes is named by its path", () => {
    const f = (x: NdArray) =>
      lax.scan(
        ((c: { n: NdArray; s: NdArray }, xt: NdArray) => [
          { n: np.add(c.n, 0.5), s: np.add(c.s, xt) },
          null,
        ]) as never,
        { n: int32(0), s: np.array(0) },
        x,
      );
    expectBoth(
      f,
      np.ones([3]),
      DTypeError,
      /lax\.scan: carry\.n is float64\[\] in f's new carry but int32\[\] in the initial carry; every step must keep the carry's dtypes: give the initial value the dtype/,
    );
  });
  it("a carry whose structure changes", () => {
    const f = (x: NdArray) =>
      lax.scan(((c: NdArray, xt: NdArray) => [[c, xt], null]) as never, np.array(0), x);
    expectBoth(
      f,
      np.ones([3]),
      InvalidArgumentError,
      /lax\.scan: f's new carry has the structure \[\*,\*\] but the initial carry has \*; f must return a carry of the initial carry's structure/,
    );
  });
  it("per-step outputs y whose shape changes between steps (eager, and unrolled under jit)", () => {
    // f keeps a JS counter: the k-th call returns a y of k + 1 elements
    const makeF = () => {
      let calls = 0;
      return (x: NdArray) =>
        lax.scan(((c: NdArray) => [c, np.ones([++calls])]) as never, x, null, { length: 3 });
    };
    const msg =
      /lax\.scan: y is float64\[2\] in the y of step 1 but float64\[1\] in the y of step 0; every step must return y of the same shapes/;
    expect(() => makeF()(np.array(1))).toThrow(ShapeError);
    expect(() => makeF()(np.array(1))).toThrow(msg);
    // unrolled under jit (a staged scan traces f once, so it never sees the second call)
    scanStaging.enabled = false;
    try {
      expect(() => jit(makeF())(np.array(1))).toThrow(msg);
    } finally {
      scanStaging.enabled = true;
    }
  });
});

describe("lax.whileLoop and lax.forILoop: the carry keeps its type", () => {
  it("whileLoop: shape, dtype and structure changes, eagerly as under jit", () => {
    expectBoth(
      (x) =>
        lax.whileLoop(
          (c: NdArray) => np.less(np.sum(c), 10),
          (c: NdArray) => np.concatenate([c, c]),
          x,
        ),
      np.ones([2]),
      ShapeError,
      /lax\.whileLoop: carry is float64\[4\] in the body's new carry but float64\[2\] in the initial carry/,
    );
    expectBoth(
      (x) =>
        lax.whileLoop(
          (c: { i: NdArray; x: NdArray }) => np.less(c.x, 10),
          (c: { i: NdArray; x: NdArray }) => ({ i: np.add(c.i, 0.5), x: np.add(c.x, 1) }),
          { i: int32(0), x },
        ),
      np.array(1),
      DTypeError,
      /lax\.whileLoop: carry\.i is float64\[\] in the body's new carry but int32\[\] in the initial carry/,
    );
    expectBoth(
      (x) =>
        lax.whileLoop(
          (c: NdArray[]) => np.less(c[0]!, 10),
          (c: NdArray[]) => [np.add(c[0]!, 1)],
          [x, x],
        ),
      np.array(1),
      InvalidArgumentError,
      /lax\.whileLoop: the body's new carry has the structure \[\*\] but the initial carry has \[\*,\*\]/,
    );
  });
  it("forILoop: a dtype change with concrete bounds (JS loop, checkpointed) and traced bounds", () => {
    const body = (_i: NdArray, c: NdArray[]) => [c[0]!, np.multiply(c[1]!, 1.5)];
    const msg =
      /lax\.forILoop: carry\[1\] is float64\[\] in the body's new carry but int32\[\] in the initial carry/;
    const concrete = (x: NdArray) => lax.forILoop(0, 3, body, [x, int32(2)]);
    expectBoth(concrete, np.array(1), DTypeError, msg);
    const checkpointed = (x: NdArray) =>
      lax.forILoop(0, 3, body, [x, int32(2)], { checkpoint: { snapshots: 2 } });
    expect(() => checkpointed(np.array(1))).toThrow(msg);
    const traced = jit((x: NdArray, n: NdArray) => lax.forILoop(0, n, body, [x, int32(2)]));
    expect(() => traced(np.array(1), int32(3))).toThrow(msg);
  });
  it("forILoop: a shape change (eager and traced bounds)", () => {
    const body = (_i: NdArray, c: NdArray) => np.reshape(c, [1, -1]);
    const msg =
      /lax\.forILoop: carry is float64\[1, 3\] in the body's new carry but float64\[3\] in the initial carry/;
    expectBoth((x) => lax.forILoop(0, 2, body, x), np.ones([3]), ShapeError, msg);
    const traced = jit((x: NdArray, n: NdArray) => lax.forILoop(0, n, body, x));
    expect(() => traced(np.ones([3]), int32(2))).toThrow(msg);
  });
  it("valid loops give a plain JS loop's values (pytree carries of mixed dtypes)", () => {
    // Collatz steps from a (int32 counter, float64 running sum of the values)
    const collatz = (a: NdArray) =>
      lax.whileLoop(
        (c: { v: NdArray; k: NdArray; s: NdArray }) => np.greater(c.v, 1),
        (c: { v: NdArray; k: NdArray; s: NdArray }) => {
          const even = np.equal(np.mod(c.v, 2), 0);
          const v = np.where(even, np.divide(c.v, 2), np.add(np.multiply(c.v, 3), 1));
          return { v: v.astype("int32"), k: np.add(c.k, int32(1)), s: np.add(c.s, c.v) };
        },
        { v: a, k: int32(0), s: np.array(0) },
      );
    const plain = (a: number) => {
      let [v, k, s] = [a, 0, 0];
      while (v > 1) {
        s += v;
        v = v % 2 === 0 ? v / 2 : 3 * v + 1;
        k++;
      }
      return [k, s];
    };
    for (const a of [1, 6, 27]) {
      for (const run of [collatz, jit(collatz)]) {
        const out = run(int32(a)) as { k: NdArray; s: NdArray };
        expect(out.k.dtype).toBe("int32");
        expectAllClose([out.k.item(), out.s.item()], plain(a), 0);
      }
    }
    // forILoop: a float carry and an int32 counter, concrete and traced bounds
    const loop = (x: NdArray, n: NdArray | number) =>
      lax.forILoop(
        0,
        n,
        (i: NdArray, c: NdArray[]) => [np.add(np.multiply(c[0]!, 0.5), i), np.add(c[1]!, i)],
        [x, int32(0)],
      ) as NdArray[];
    let [y, m] = [3, 0];
    for (let i = 0; i < 7; i++) [y, m] = [0.5 * y + i, m + i];
    for (const out of [loop(np.array(3), 7), jit(loop)(np.array(3), int32(7))]) {
      expectAllClose([out[0]!.item(), out[1]!.item()], [y, m], 1e-15);
      expect(out[1]!.dtype).toBe("int32");
    }
    // scan: reverse order, pytree carry and ys
    const run = (xs: NdArray) =>
      lax.scan(
        ((c: { s: NdArray; n: NdArray }, x: NdArray) => [
          { s: np.add(np.multiply(c.s, 0.9), x), n: np.add(c.n, int32(1)) },
          { s: c.s },
        ]) as never,
        { s: np.array(0), n: int32(0) },
        xs,
        { reverse: true },
      ) as [{ s: NdArray; n: NdArray }, { s: NdArray }];
    const data = [1, -2, 0.5, 4];
    let s = 0;
    const ys: number[] = [];
    for (let t = data.length - 1; t >= 0; t--) {
      ys[t] = s;
      s = 0.9 * s + data[t]!;
    }
    for (const [carry, out] of [run(np.array(data)), jit(run)(np.array(data))]) {
      expectAllClose(carry.s, s, 1e-15);
      expectAllClose(carry.n, data.length, 0);
      expectAllClose(out.s, ys, 1e-15);
    }
  });
});

describe("lax.cond and lax.switch: the branches agree", () => {
  const v = np.array([1, 2, 3]);
  it("branches of different shapes, whichever is taken, eagerly and under jit and vmap", () => {
    const f = (p: NdArray, x: NdArray) =>
      lax.cond(
        p,
        (y: NdArray) => y,
        (y: NdArray) => np.sum(y),
        x,
      );
    const falseVsTrue =
      /lax\.cond: output is float64\[\] in falseFn's output but float64\[3\] in trueFn's; falseFn and trueFn must return the same shapes/;
    expect(() => f(np.array(true), v)).toThrow(ShapeError);
    expect(() => f(np.array(true), v)).toThrow(falseVsTrue);
    expect(() => f(np.array(false), v)).toThrow(
      /lax\.cond: output is float64\[3\] in trueFn's output but float64\[\] in falseFn's/,
    );
    expect(() => jit(f)(np.array(true), v)).toThrow(falseVsTrue);
    expect(() => vmap(f, { inAxes: [0, null] })(np.array([true, false]), v)).toThrow(falseVsTrue);
  });
  it("branches of different dtypes or structures", () => {
    const dtypes = (p: NdArray, x: NdArray) =>
      lax.cond(
        p,
        (y: NdArray) => [y, y],
        (y: NdArray) => [y, y.astype("float32")],
        x,
      );
    const msg =
      /lax\.cond: output\[1\] is float32\[3\] in falseFn's output but float64\[3\] in trueFn's; .*convert with astype/;
    expect(() => dtypes(np.array(true), v)).toThrow(DTypeError);
    expect(() => dtypes(np.array(true), v)).toThrow(msg);
    expect(() => jit(dtypes)(np.array(false), v)).toThrow(msg);
    const structures = (p: NdArray, x: NdArray) =>
      lax.cond(
        p,
        (y: NdArray) => ({ a: y }),
        (y: NdArray) => ({ b: y }),
        x,
      );
    const structureMsg =
      /lax\.cond: falseFn's output has the structure \{"b":\*\} but trueFn's has \{"a":\*\}/;
    expect(() => structures(np.array(true), v)).toThrow(InvalidArgumentError);
    expect(() => structures(np.array(true), v)).toThrow(structureMsg);
    expect(() => jit(structures)(np.array(true), v)).toThrow(structureMsg);
  });
  it("switch: a branch that disagrees with the taken one is named", () => {
    const branches = [
      (y: NdArray) => np.multiply(y, 2),
      (y: NdArray) => np.negative(y),
      (y: NdArray) => np.reshape(y, [3, 1]),
    ];
    const g = (i: NdArray, x: NdArray) => lax.switch(i, branches, x);
    expect(() => g(int32(0), v)).toThrow(ShapeError);
    expect(() => g(int32(0), v)).toThrow(
      /lax\.switch: output is float64\[3, 1\] in branch 2's output but float64\[3\] in branch 0's/,
    );
    expect(() => jit(g)(int32(1), v)).toThrow(
      /lax\.switch: output is float64\[3, 1\] in branch 2's output but float64\[3\] in branch 0's/,
    );
    expect(() => lax.switch(0, [] as never[], v)).toThrow(InvalidArgumentError);
  });
  it("valid branches give a JS conditional's values; the untaken branch is not run on values", () => {
    const f = (x: NdArray) =>
      lax.cond(
        np.greater(np.sum(x), 0),
        (y: NdArray) => ({ m: np.max(y), d: np.multiply(y, 2) }),
        (y: NdArray) => ({ m: np.min(y), d: np.negative(y) }),
        x,
      );
    for (const data of [
      [1, -2, 3],
      [-1, -2, 0.5],
    ]) {
      const positive = data.reduce((a, b) => a + b, 0) > 0;
      const m = positive ? Math.max(...data) : Math.min(...data);
      const d = data.map((u) => (positive ? 2 * u : -u));
      for (const run of [f, jit(f)]) {
        const out = run(np.array(data));
        expectAllClose(out.m, m, 0);
        expectAllClose(out.d, d, 0);
      }
    }
    // the untaken branch reads a concrete value (x.item()): it is traced, not run, and skipped
    const g = (x: NdArray) =>
      lax.cond(
        true,
        (y: NdArray) => np.multiply(y, 3),
        (y: NdArray) => (y.item() > 0 ? y : np.negative(y)),
        x,
      );
    expectAllClose(g(np.array(2)), 6, 0);
    // branches closing over a differentiated value (no operands): grad is the taken branch's
    const h = (x: NdArray) =>
      lax.cond(
        np.greater(x, 0),
        () => np.sin(x),
        () => np.cos(x),
      );
    expectAllClose(grad(h)(0.3), Math.cos(0.3), 1e-15);
    expectAllClose(grad(h)(-0.3), Math.sin(0.3), 1e-15);
  });
  it("a concrete predicate inside vmap and jvp: the untaken branch is checked on the tracers' avals", () => {
    const pick = (useSin: boolean) => (x: NdArray) =>
      lax.cond(useSin, np.sin, (y: NdArray) => np.multiply(y, y), x);
    const xs = [0.2, -1.5, 3];
    expectAllClose(vmap(pick(true))(np.array(xs)), xs.map(Math.sin), 1e-15);
    expectAllClose(
      vmap(grad(pick(false)))(np.array(xs)),
      xs.map((x) => 2 * x),
      1e-15,
    );
    // a disagreeing untaken branch is found under vmap too (per-element shapes)
    const bad = (x: NdArray) => lax.cond(true, np.sin, (y: NdArray) => np.stack([y, y]), x);
    expect(() => vmap(bad)(np.array(xs))).toThrow(
      /lax\.cond: output is float64\[2\] in falseFn's output but float64\[\] in trueFn's/,
    );
  });
});
