/**
 * customJvp, customVjp and checkpoint on pytree arguments and outputs
 * (lists and dicts), through every transformation, and the errors their
 * rules' results get. References: the same function without the custom
 * rule (differentiated by ordinary AD), analytic derivatives and central
 * finite differences.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NdArray,
  ChainruleError,
  DTypeError,
  InvalidArgumentError,
  ShapeError,
  checkpoint,
  customJvp,
  customVjp,
  grad,
  jacfwd,
  jacrev,
  jit,
  jvp,
  linearize,
  makeJaxpr,
  np,
  vjp,
  vmap,
} from "../src/index.js";
import { expectAllClose, fdScalar } from "./helpers.js";

// f(x) = [sin x * y, {sum: sum(x * y), prod: x * x}] on x: [3], y: [3].
interface Out {
  pair: NdArray[];
  total: NdArray;
}
const plain = (p: { x: NdArray; y: NdArray }): Out => ({
  pair: [np.multiply(np.sin(p.x), p.y), np.multiply(p.x, p.x)],
  total: np.sum(np.multiply(p.x, p.y)),
});
// Its derivative written by hand, as a customJvp rule.
const viaJvp = customJvp<[{ x: NdArray; y: NdArray }], Out>(plain, ([p], [t]) => {
  const { x, y } = p;
  const dOut: Out = {
    pair: [
      np.add(np.multiply(np.multiply(np.cos(x), y), t.x), np.multiply(np.sin(x), t.y)),
      np.multiply(np.multiply(x, 2), t.x),
    ],
    total: np.sum(np.add(np.multiply(t.x, y), np.multiply(x, t.y))),
  };
  return [plain(p), dOut];
});
// The same derivative as a customVjp rule (residuals: a dict).
const viaVjp = customVjp<[{ x: NdArray; y: NdArray }], Out, Out>(
  plain,
  (p) => [plain(p), { x: p.x, y: p.y }],
  (res, ct) => {
    const { x, y } = res as { x: NdArray; y: NdArray };
    const [c0, c1] = ct.pair;
    return {
      x: np.add(
        np.add(np.multiply(np.multiply(np.cos(x), y), c0!), np.multiply(np.multiply(x, 2), c1!)),
        np.multiply(y, ct.total),
      ),
      y: np.add(np.multiply(np.sin(x), c0!), np.multiply(x, ct.total)),
    };
  },
);
const viaCheckpoint = checkpoint(plain);

const p0 = { x: np.array([0.3, -1.2, 0.8]), y: np.array([1.5, 0.4, -0.7]) };
const t0 = { x: np.array([0.2, 0.5, -1]), y: np.array([-0.3, 1, 0.25]) };
const loss = (f: (p: { x: NdArray; y: NdArray }) => Out) => (p: { x: NdArray; y: NdArray }) => {
  const o = f(p);
  return np.add(np.sum(np.multiply(o.pair[0]!, o.pair[1]!)), np.square(o.total));
};
const leaves = (o: Out): NdArray[] => [o.pair[0]!, o.pair[1]!, o.total];

describe("pytree arguments and outputs", () => {
  const forward = { customJvp: viaJvp, checkpoint: viaCheckpoint };
  const all = { ...forward, customVjp: viaVjp };

  it("values keep f's output structure", () => {
    for (const [name, f] of Object.entries(all)) {
      const o = f(p0);
      expect(Object.keys(o), name).toEqual(["pair", "total"]);
      leaves(o).forEach((v, i) => expectAllClose(v, leaves(plain(p0))[i]!, 0, 0));
    }
  });

  it("jvp and jacfwd match plain f (forward-mode rules)", () => {
    const [, tRef] = jvp(plain, [p0], [t0]) as [Out, Out];
    for (const [name, f] of Object.entries(forward)) {
      const [, t] = jvp(f, [p0], [t0]) as [Out, Out];
      leaves(t).forEach((v, i) => expectAllClose(v, leaves(tRef)[i]!, 1e-14, 1e-14));
      const jf = jacfwd((x: NdArray) => f({ x, y: p0.y }).pair[0]!)(p0.x);
      const jRef = jacfwd((x: NdArray) => plain({ x, y: p0.y }).pair[0]!)(p0.x);
      expectAllClose(jf, jRef, 1e-14, 1e-14);
      expect(name).toBeDefined();
    }
  });

  it("grad, vjp, jacrev, jit(grad) and vmap(grad) match plain f", () => {
    const gRef = grad(loss(plain))(p0);
    // Independent check of the reference: finite differences in x[1].
    const fd = fdScalar((v) => {
      const x = np.array([0.3, v, 0.8]);
      return loss(plain)({ x, y: p0.y }).item();
    }, -1.2);
    expect((gRef.x.toArray() as number[])[1]).toBeCloseTo(fd, 7);
    const ct: Out = { pair: [np.array([1, -2, 0.5]), np.array([0.3, 0.3, 1])], total: np.array(2) };
    const [, pullRef] = vjp(plain, p0);
    const vRef = pullRef(ct)[0];
    for (const [name, f] of Object.entries(all)) {
      const g = grad(loss(f))(p0);
      expectAllClose(g.x, gRef.x, 1e-14, 1e-14);
      expectAllClose(g.y, gRef.y, 1e-14, 1e-14);
      const [, pull] = vjp(f, p0);
      const v = pull(ct)[0];
      expectAllClose(v.x, vRef.x, 1e-14, 1e-14);
      expectAllClose(v.y, vRef.y, 1e-14, 1e-14);
      const jr = jacrev((x: NdArray) => f({ x, y: p0.y }).pair[0]!)(p0.x);
      expectAllClose(jr, jacrev((x: NdArray) => plain({ x, y: p0.y }).pair[0]!)(p0.x), 1e-14);
      const gj = jit(grad(loss(f)))(p0);
      expectAllClose(gj.x, gRef.x, 1e-14, 1e-14);
      const ys = np.stack([p0.y, np.multiply(p0.y, -2)]);
      const batched = vmap((y: NdArray) => (grad(loss(f))({ x: p0.x, y }) as { x: NdArray }).x)(ys);
      const loop = vmap((y: NdArray) => (grad(loss(plain))({ x: p0.x, y }) as { x: NdArray }).x)(
        ys,
      );
      expectAllClose(batched, loop, 1e-14, 1e-14);
      expect(name).toBeDefined();
    }
  });

  it("vmap and jit of the functions themselves agree with plain f", () => {
    const xs = np.array([
      [0.1, 0.2, 0.3],
      [-1, 0.5, 2],
    ]);
    for (const f of Object.values(all)) {
      const b = vmap((x: NdArray) => f({ x, y: p0.y }))(xs);
      const r = vmap((x: NdArray) => plain({ x, y: p0.y }))(xs);
      leaves(b).forEach((v, i) => expectAllClose(v, leaves(r)[i]!, 1e-15, 0));
      const j = jit(f)(p0);
      leaves(j).forEach((v, i) => expectAllClose(v, leaves(plain(p0))[i]!, 0, 0));
    }
  });

  it("grad(grad) goes through differentiable rules", () => {
    // d2/dx2 of sum(sin(x) y * x^2) along x[0], against finite differences of grad.
    const scalar = (f: (p: { x: NdArray; y: NdArray }) => Out) => (x: NdArray) => {
      const o = f({ x, y: p0.y });
      return np.sum(np.multiply(o.pair[0]!, o.pair[1]!));
    };
    const dd = (f: (p: { x: NdArray; y: NdArray }) => Out) =>
      grad((x: NdArray) => np.sum(grad(scalar(f))(x)))(p0.x);
    const ref = dd(plain);
    for (const f of Object.values(all)) expectAllClose(dd(f), ref, 1e-13, 1e-13);
    const gradAt = (v: number) => np.sum(grad(scalar(plain))(np.array([v, -1.2, 0.8]))).item();
    expect((ref.toArray() as number[])[0]).toBeCloseTo(fdScalar(gradAt, 0.3), 6);
  });

  it("an int output has no tangent and its cotangent is not asked for", () => {
    const withCount = customJvp(
      (x: NdArray) => ({ y: np.multiply(x, 3), n: np.array(x.size, { dtype: "int32" }) }),
      ([x], [t]) => [
        { y: np.multiply(x, 3), n: x.size },
        { y: np.multiply(t, 3), n: null },
      ],
    );
    const [, t] = jvp(withCount, [np.ones([2])], [np.ones([2])]) as [unknown, { y: NdArray }];
    expectAllClose(t.y, [3, 3], 0, 0);
    expectAllClose(grad((x: NdArray) => np.sum(withCount(x).y))(np.ones([2])), [3, 3]);
  });
});

describe("customVjp checks bwd's cotangents against the primal inputs", () => {
  const make = (bwd: (res: unknown, ct: NdArray) => unknown) =>
    customVjp(
      (a: NdArray, b: NdArray) => np.multiply(a, np.sum(b)),
      (a, b) => [np.multiply(a, np.sum(b)), [a, b]],
      bwd,
    );
  const a = np.array([1, 2]);
  const b = np.array([3, 4, 5]);
  const lossOf = (f: (a: NdArray, b: NdArray) => NdArray) =>
    grad((x: NdArray, y: NdArray) => np.sum(f(x, y)), { argnums: [0, 1] });

  it("a correct bwd gives the gradient (and null means zero)", () => {
    const good = make((res, ct) => {
      const [x, y] = res as NdArray[];
      return [np.multiply(ct, np.sum(y!)), np.broadcastTo(np.sum(np.multiply(ct, x!)), [3])];
    });
    const [ga, gb] = lossOf(good)(a, b) as NdArray[];
    expectAllClose(ga!, [12, 12], 0, 0);
    expectAllClose(gb!, [3, 3, 3], 0, 0);
    const zeroForB = make((res, ct) => [np.multiply(ct, np.sum((res as NdArray[])[1]!)), null]);
    expectAllClose((lossOf(zeroForB)(a, b) as NdArray[])[1]!, [0, 0, 0], 0, 0);
  });

  it("a [3] cotangent for a [2] input is a ShapeError naming both", () => {
    const bad = make(() => [np.ones([3]), np.ones([3])]);
    expect(() => lossOf(bad)(a, b)).toThrow(ShapeError);
    expect(() => lossOf(bad)(a, b)).toThrow(
      /customVjp: bwd returned a cotangent of shape \[3\] \(float64\) for argument 0 of shape \[2\] \(float64\)/,
    );
  });

  it("an int32 cotangent for a float64 input is a DTypeError with advice", () => {
    const bad = make(() => [np.ones([2], { dtype: "int32" }), null]);
    expect(() => lossOf(bad)(a, b)).toThrow(DTypeError);
    expect(() => lossOf(bad)(a, b)).toThrow(
      /customVjp: bwd returned a cotangent of dtype int32 \(shape \[2\]\) for argument 0 of dtype float64 .*astype\("float64"\)/,
    );
  });

  it("the wrong number of cotangents, or the wrong structure, is reported", () => {
    const three = make(() => [np.ones([2]), np.ones([3]), np.ones([1])]);
    expect(() => lossOf(three)(a, b)).toThrow(InvalidArgumentError);
    expect(() => lossOf(three)(a, b)).toThrow(
      /customVjp: bwd returned 3 cotangents for 2 arguments; return a list with one cotangent per argument/,
    );
    const dictArg = customVjp(
      (p: { w: NdArray }) => np.sum(p.w),
      (p) => [np.sum(p.w), null],
      (_res, ct: NdArray) => ({ v: np.broadcastTo(ct, [2]) }),
    );
    expect(() => grad(dictArg)({ w: a })).toThrow(
      /customVjp: bwd's cotangent for argument 0 has structure \{"v":\*\}, but argument 0 has structure \{"w":\*\}/,
    );
  });

  it("fwd must return a pair", () => {
    const bad = customVjp(
      (x: NdArray) => x,
      (x) => x as never,
      (_r, ct) => ct,
    );
    expect(() => grad((x: NdArray) => np.sum(bad(x)))(a)).toThrow(
      /customVjp: fwd must return a pair \[output, residuals\]/,
    );
  });

  it("forward mode is refused in jvp, jacfwd and linearize's tangent map", () => {
    const f = make((res, ct) => [ct, null]);
    const msg = /customVjp: forward mode \(jvp, jacfwd, linearize's tangent map\) is not available/;
    expect(() => jvp(f, [a, b], [a, b])).toThrow(ChainruleError);
    expect(() => jvp(f, [a, b], [a, b])).toThrow(msg);
    expect(() => jacfwd((x: NdArray) => f(x, b))(a)).toThrow(msg);
    const [, fJvp] = linearize((x: NdArray) => f(x, b), a);
    expect(() => fJvp(a)).toThrow(msg);
  });
});

describe("customJvp checks the rule's tangents against f's outputs", () => {
  it("wrong structure, dtype and a rule that is not a pair are reported", () => {
    const twoOut = (rule: (x: NdArray, t: NdArray) => unknown) =>
      customJvp(
        (x: NdArray) => [np.sin(x), np.cos(x)],
        ([x], [t]) => [[np.sin(x), np.cos(x)], rule(x, t)],
      );
    const one = twoOut((_x, t) => [t]);
    expect(() => jvp(one, [np.ones([2])], [np.ones([2])])).toThrow(
      /customJvp: the rule's tangent for output has structure \[\*\], but output has structure \[\*,\*\]/,
    );
    const ints = twoOut((_x, t) => [t, np.ones([2], { dtype: "int32" })]);
    expect(() => jvp(ints, [np.ones([2])], [np.ones([2])])).toThrow(DTypeError);
    expect(() => jvp(ints, [np.ones([2])], [np.ones([2])])).toThrow(
      /customJvp: the rule returned a tangent of dtype int32 \(shape \[2\]\) for output\[1\] of dtype float64/,
    );
    const notPair = customJvp(
      (x: NdArray) => x,
      (_p, [t]) => t as never,
    );
    expect(() => jvp(notPair, [1], [1])).toThrow(/customJvp: the rule must return a pair/);
  });
});

describe("closing over a traced value", () => {
  it("is refused with advice instead of silently losing the derivative", () => {
    for (const wrap of [
      (w: NdArray) =>
        customJvp(
          (x: NdArray) => np.multiply(x, w),
          ([x], [t]) => [np.multiply(x, w), np.multiply(t, w)],
        ),
      (w: NdArray) => checkpoint((x: NdArray) => np.multiply(x, w)),
    ]) {
      const f = (w: NdArray) => np.sum(wrap(w)(np.array([1, 2])));
      expect(() => grad(f)(np.array(3))).toThrow(InvalidArgumentError);
      expect(() => grad(f)(np.array(3))).toThrow(
        /: f uses a value traced by an enclosing transformation .* pass it to the (customJvp|checkpoint) function as an argument instead/,
      );
    }
  });
});

describe("checkpoint keeps f's intermediates off the tape", () => {
  it("the gradient program recomputes a pytree-valued f", () => {
    const text = makeJaxpr(grad(loss(viaCheckpoint)))(p0).toString();
    // Forward: one opaque checkpointCall with three outputs (sin stays inside it); the
    // backward pass recomputes sin(x) from the stored inputs, after that call.
    const lines = text.split("\n");
    const callAt = lines.findIndex((l) => / = checkpointCall\[call=checkpoint#\d+\] /.test(l));
    expect(lines[callAt]).toMatch(/^ +\w+:f64\[3\] \w+:f64\[3\] \w+:f64\[\] = checkpointCall/);
    const sins = lines.flatMap((l, i) => (/ = sin /.test(l) ? [i] : []));
    expect(sins.length).toBe(1);
    expect(sins[0]).toBeGreaterThan(callAt);
    // Without checkpoint, sin is computed once, before anything else uses x.
    const plainLines = makeJaxpr(grad(loss(plain)))(p0)
      .toString()
      .split("\n");
    expect(plainLines.findIndex((l) => / = sin /.test(l))).toBeLessThan(
      plainLines.findIndex((l) => / = cos /.test(l)),
    );
  });
});
