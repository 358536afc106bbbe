/**
 * Multi-output primitives through every transformation.
 *
 * Two test-only primitives exercise the core: `testSinCos` (non-linear,
 * x -> [sin x, cos x]) and `testSplit` (linear, x -> [x[..., :k], x[..., k:]],
 * so its own JVP records a multi-output equation on the reverse-mode tape and
 * its transpose receives a list of cotangents, some of them absent). The
 * real `sort` primitive ([values, indices], behind np.sort / np.argsort) is
 * checked the same way. References: plain JS loops, analytic derivatives,
 * central finite differences and the other AD mode.
 */
import { describe, expect, it } from "vitest";
import { type Array as NdArray, ConcreteArray, type Aval } from "../src/core/array.js";
import { ChainruleError, ShapeError } from "../src/core/errors.js";
import {
  defineMultiPrimitive,
  type LinearArg,
  type MultiPrimitive,
  type Tangent,
  UndefPrimal,
} from "../src/core/primitive.js";
import { bindAll } from "../src/core/trace.js";
import { optimize } from "../src/ir/passes.js";
import { batchToFront } from "../src/primitives/helpers.js";
import { concatenate } from "../src/primitives/movement.js";
import { sort as sortPrimitive } from "../src/primitives/sort.js";
import {
  checkpoint,
  grad,
  jacfwd,
  jacrev,
  jit,
  jvp,
  linearize,
  makeJaxpr,
  np,
  toDot,
  vjp,
  vmap,
} from "../src/index.js";
import { useBackendAtAllSizes } from "./helpers.js";
import { expectClose, mulberry32, numericGrad, uniform } from "./util.js";

// ------------------------------------------------------ test primitives --

function floatOnly(name: string, x: Aval): void {
  if (x.dtype !== "float64" && x.dtype !== "float32") {
    throw new ShapeError(`${name}: needs a float array, got dtype ${x.dtype}`);
  }
}

/** x -> [sin x, cos x] elementwise, computed by plain loops (no other primitive). */
const sinCosPrim = defineMultiPrimitive<Record<string, never>>({
  name: "testSinCos",
  multipleResults: true,
  linear: false,
  abstractEval([x]) {
    floatOnly("testSinCos", x!);
    return [
      { shape: x!.shape, dtype: x!.dtype },
      { shape: x!.shape, dtype: x!.dtype },
    ];
  },
  impl([x]) {
    const s = new Float64Array(x!.size);
    const c = new Float64Array(x!.size);
    for (let i = 0; i < s.length; i++) {
      s[i] = Math.sin(x!.buffer[i]!);
      c[i] = Math.cos(x!.buffer[i]!);
    }
    return [new ConcreteArray(x!.shape, "float64", s), new ConcreteArray(x!.shape, "float64", c)];
  },
  // d sin = cos dx, d cos = -sin dx (the outputs are reused: no recomputation).
  jvp: (_p, [dx], [s, c]) => [np.multiply(c!, dx!), np.negative(np.multiply(s!, dx!))],
  batch: ([x], [d]) => [sinCos(x!), [d ?? null, d ?? null]],
});

function sinCos(x: NdArray): NdArray[] {
  return bindAll(sinCosPrim, [x], {});
}

/** x -> [x[..., :k], x[..., k:]] along the last axis: linear, with a list of cotangents. */
const splitPrim = defineMultiPrimitive<{ k: number }>({
  name: "testSplit",
  multipleResults: true,
  linear: true,
  abstractEval([x], { k }) {
    const n = x!.shape[x!.shape.length - 1]!;
    const lead = x!.shape.slice(0, -1);
    return [
      { shape: [...lead, k], dtype: x!.dtype },
      { shape: [...lead, n - k], dtype: x!.dtype },
    ];
  },
  impl([x], { k }) {
    const n = x!.shape[x!.shape.length - 1]!;
    const rows = x!.size / n;
    const a = new Float64Array(rows * k);
    const b = new Float64Array(rows * (n - k));
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < n; j++) {
        if (j < k) a[r * k + j] = x!.buffer[r * n + j]!;
        else b[r * (n - k) + j - k] = x!.buffer[r * n + j]!;
      }
    const lead = x!.shape.slice(0, -1);
    return [
      new ConcreteArray([...lead, k], "float64", a),
      new ConcreteArray([...lead, n - k], "float64", b),
    ];
  },
  jvp: (_p, [dx], _outs, { k }) => split(dx!, k),
  transpose(cts, [x], { k }) {
    const shape = (x as UndefPrimal).shape;
    const n = shape[shape.length - 1]!;
    const lead = shape.slice(0, -1);
    // A missing cotangent is zero.
    const a = cts[0] ?? np.zeros([...lead, k]);
    const b = cts[1] ?? np.zeros([...lead, n - k]);
    return [concatenate([a, b], shape.length - 1)];
  },
  batch([x], [d], { k }) {
    const front = batchToFront(x!, d ?? null, x!.shape[d!]!);
    return [split(front, k), [0, 0]];
  },
});

function split(x: NdArray, k: number): NdArray[] {
  return bindAll(splitPrim, [x], { k });
}

const r = mulberry32(12);
const xs = uniform(r, 5, -2, 2);
const x = np.array(xs);
const w = np.array(uniform(r, 5, -1, 1));

// ------------------------------------------------------------ sin / cos --

/** A scalar function of both outputs: sum(w * sin x * cos x + cos x). */
function sinCosLoss(v: NdArray): NdArray {
  const [s, c] = sinCos(v);
  return np.sum(np.add(np.multiply(w, np.multiply(s!, c!)), c!));
}
/** The same in plain JS numbers. */
function sinCosLossJS(v: readonly number[]): number {
  const ws = Array.from(w.data());
  return v.reduce((acc, t, i) => acc + ws[i]! * Math.sin(t) * Math.cos(t) + Math.cos(t), 0);
}
/** Its gradient by hand: w cos 2x - sin x. */
function sinCosGradJS(v: readonly number[]): number[] {
  const ws = Array.from(w.data());
  return v.map((t, i) => ws[i]! * Math.cos(2 * t) - Math.sin(t));
}

describe("a non-linear multi-output primitive (testSinCos)", () => {
  it("eager values match Math.sin and Math.cos", () => {
    const [s, c] = sinCos(x);
    expectClose(s!, xs.map(Math.sin));
    expectClose(c!, xs.map(Math.cos));
  });

  it("jvp gives both output tangents (analytic)", () => {
    const t = np.array(uniform(r, 5));
    const [outs, tangents] = jvp((v: NdArray) => sinCos(v), [x], [t]);
    const ts = Array.from(t.data());
    expectClose(outs[0]!, xs.map(Math.sin));
    expectClose(
      tangents[0]!,
      xs.map((v, i) => Math.cos(v) * ts[i]!),
    );
    expectClose(
      tangents[1]!,
      xs.map((v, i) => -Math.sin(v) * ts[i]!),
    );
  });

  it("grad matches the analytic gradient and finite differences", () => {
    const g = grad(sinCosLoss)(x);
    expectClose(g, sinCosGradJS(xs), 1e-12, 1e-12);
    expectClose(g, numericGrad(sinCosLossJS, xs), 1e-6, 1e-8);
  });

  it("vjp with a cotangent on one output only agrees with jvp (<ct, J t> = <J^T ct, t>)", () => {
    const ct = np.array(uniform(r, 5));
    const t = np.array(uniform(r, 5));
    const [, pullback] = vjp((v: NdArray) => sinCos(v)[1]!, x);
    const [back] = pullback(ct) as NdArray[];
    const [, [, tc]] = jvp((v: NdArray) => sinCos(v), [x], [t]);
    expectClose(np.sum(np.multiply(ct, tc!)), np.sum(np.multiply(back!, t)), 1e-12, 1e-12);
  });

  it("vmap over rows matches a loop over the rows", () => {
    const m = np.array(uniform(r, 12, -2, 2), { shape: [3, 4] });
    const [bs, bc] = vmap((v: NdArray) => sinCos(v), { inAxes: 1 })(m);
    expect(bs!.shape).toEqual([4, 3]);
    for (let j = 0; j < 4; j++) {
      const col = [0, 1, 2].map((i) => m.data()[i * 4 + j]!);
      expectClose(bs!.slice(j), col.map(Math.sin));
      expectClose(bc!.slice(j), col.map(Math.cos));
    }
  });

  it("jit and jit(grad) agree with eager evaluation", () => {
    expectClose(jit(sinCosLoss)(x), sinCosLossJS(xs), 1e-12, 1e-12);
    expectClose(jit(grad(sinCosLoss))(x), sinCosGradJS(xs), 1e-12, 1e-12);
    const both = jit((v: NdArray) => sinCos(v))(x);
    expectClose(both[1]!, xs.map(Math.cos));
  });

  it("grad of grad matches the analytic second derivative", () => {
    // d/dx (w cos 2x - sin x) = -2 w sin 2x - cos x, summed against v.
    const v = np.array(uniform(r, 5));
    const hv = grad((u: NdArray) => np.sum(np.multiply(v, grad(sinCosLoss)(u))))(x);
    const ws = Array.from(w.data());
    const vs = Array.from(v.data());
    const expected = xs.map((t, i) => vs[i]! * (-2 * ws[i]! * Math.sin(2 * t) - Math.cos(t)));
    expectClose(hv, expected, 1e-12, 1e-12);
  });

  it("makeJaxpr prints one equation with both outputs", () => {
    const jaxpr = makeJaxpr((v: NdArray) => {
      const [s, c] = sinCos(v);
      return np.add(s!, c!);
    })(np.zeros([3]));
    expect(jaxpr.toString()).toBe(
      [
        "{ lambda  ; a:f64[3] .",
        "  let",
        "    b:f64[3] c:f64[3] = testSinCos a",
        "    d:f64[3] = add b c",
        "  in ( d ) }",
      ].join("\n"),
    );
  });

  it("CSE merges two identical applications; DCE drops one whose outputs are unused", () => {
    const jaxpr = makeJaxpr((v: NdArray) => {
      const [s1] = sinCos(v);
      const [, c2] = sinCos(v); // the same equation again: CSE maps its outputs to the first's
      sinCos(np.multiply(v, 2)); // nothing uses its outputs: DCE drops it
      return np.add(s1!, c2!);
    })(np.zeros([3]));
    expect(jaxpr.eqns.filter((e) => e.prim.name === "testSinCos")).toHaveLength(3);
    const stats = { folded: 0, simplified: 0, cse: 0, dce: 0 };
    const optimized = optimize(jaxpr, stats);
    const names = optimized.eqns.map((e) => e.prim.name);
    expect(names).toEqual(["testSinCos", "add"]);
    expect(stats.cse).toBe(1);
    // The surviving add reads outputs 0 and 1 of the one remaining equation.
    const [kept, addEqn] = optimized.eqns;
    expect(addEqn!.inputs).toEqual([kept!.outs![0], kept!.outs![1]]);
    // And the optimised program still computes sin + cos.
    expectClose(
      jit((v: NdArray) => {
        const [s1] = sinCos(v);
        const [, c2] = sinCos(v);
        sinCos(np.multiply(v, 2));
        return np.add(s1!, c2!);
      })(x),
      xs.map((t) => Math.sin(t) + Math.cos(t)),
    );
  });

  it("DCE keeps an equation when only its second output is used", () => {
    const jaxpr = makeJaxpr((v: NdArray) => sinCos(v)[1]!)(np.zeros([2]));
    const optimized = optimize(jaxpr);
    expect(optimized.eqns.map((e) => e.prim.name)).toEqual(["testSinCos"]);
    expect(optimized.outVars[0]).toBe(optimized.eqns[0]!.outs![1]);
  });

  it("folds an application to constants when its input is constant", () => {
    const c = np.array([0.5, 1.5]);
    const stats = { folded: 0, simplified: 0, cse: 0, dce: 0 };
    const optimized = optimize(makeJaxpr(() => sinCos(c)[0]!)(), stats);
    expect(optimized.eqns).toHaveLength(0);
    expect(stats.folded).toBeGreaterThanOrEqual(1);
  });

  it("jit's online CSE still merges single-output equations among multi-output ones past the table's growth", () => {
    // 2,100 steps of three kept equations (the multi-output one, add, mul) and a
    // fourth, add with its operands swapped, that CSE merges into the add: over
    // 4,000 single-output entries, past the growth of jit's CSE table.
    const steps = 2100;
    const f = (v: NdArray) => {
      for (let i = 0; i < steps; i++) {
        const [s, c] = sinCos(v);
        v = np.multiply(np.add(s!, c!), np.add(c!, s!));
      }
      return v;
    };
    const jaxpr = jit(f).lower(x).jaxpr;
    const expected: string[] = [];
    for (let i = 0; i < steps; i++) expected.push("testSinCos", "add", "mul");
    expect(jaxpr.eqns.map((e) => e.prim.name)).toEqual(expected);
    // The value, against a plain loop.
    const plain = xs.map((t) => {
      for (let i = 0; i < steps; i++) t = (Math.sin(t) + Math.cos(t)) ** 2;
      return t;
    });
    expectClose(jit(f)(x), plain);
  });

  it("toDot draws one node with both output shapes and labels the edges by output", () => {
    const dot = toDot((v: NdArray) => {
      const [s, c] = sinCos(v);
      return np.add(s!, c!);
    })(np.zeros([3]));
    expect(dot).toContain('label="testSinCos\\nf64[3], f64[3]"');
    expect(dot).toContain('op0 -> op1 [label="#0"];');
    expect(dot).toContain('op0 -> op1 [label="#1"];');
  });

  it("abstract evaluation errors name the primitive", () => {
    expect(() => sinCos(np.array([1, 2], { dtype: "int32" }))).toThrow(/testSinCos: .*int32/);
  });

  it("an impl returning fewer outputs than abstractEval declares is reported", () => {
    const broken = defineMultiPrimitive<Record<string, never>>({
      ...sinCosPrim,
      name: "testBrokenSinCos",
      linear: false,
      impl: (args, params) => sinCosPrim.impl(args, params).slice(0, 1),
    });
    expect(() => bindAll(broken, [x], {})).toThrow(ChainruleError);
    expect(() => bindAll(broken, [x], {})).toThrow(
      /testBrokenSinCos's impl returned 1 outputs but its abstractEval declares 2/,
    );
  });
});

// ----------------------------------------------------- pruning outputs --

/** x -> [x^p for p in powers] elementwise; DCE may narrow `powers` to the used outputs. */
const powersPrim = defineMultiPrimitive<{ powers: readonly number[] }>({
  name: "testPowers",
  multipleResults: true,
  linear: false,
  abstractEval: ([x], { powers }) => powers.map(() => ({ shape: x!.shape, dtype: x!.dtype })),
  impl: ([x], { powers }) =>
    powers.map(
      (p) =>
        new ConcreteArray(
          x!.shape,
          "float64",
          Float64Array.from(x!.buffer, (t) => t ** p),
        ),
    ),
  // d x^p = p x^(p-1) dx
  jvp: ([x], [dx], _outs, { powers }) =>
    powers.map((p) => np.multiply(np.multiply(p, np.power(x!, p - 1)), dx!)),
  batch: ([x], [d], params) => [powersOf(x!, params.powers), params.powers.map(() => d ?? null)],
  pruneOutputs: (used, { powers }) => ({
    params: { powers: powers.filter((_, j) => used[j]) },
    usedInputs: [true],
  }),
});

function powersOf(x: NdArray, powers: readonly number[]): NdArray[] {
  return bindAll(powersPrim, [x], { powers });
}

describe("DCE prunes unused outputs of a primitive that declares pruneOutputs", () => {
  const f = (v: NdArray) => {
    const [, square, , fourth] = powersOf(v, [1, 2, 3, 4]);
    return np.add(square!, fourth!);
  };

  it("keeps one equation with only the used outputs and narrowed parameters", () => {
    const stats = { folded: 0, simplified: 0, cse: 0, dce: 0 };
    const optimized = optimize(makeJaxpr(f)(np.zeros([2])), stats);
    const eqn = optimized.eqns[0]!;
    expect(eqn.prim.name).toBe("testPowers");
    expect(eqn.params).toEqual({ powers: [2, 4] });
    expect(eqn.outs).toHaveLength(2);
    expect(optimized.eqns[1]!.inputs).toEqual(eqn.outs);
    expect(stats.dce).toBe(1);
    expect(optimized.toString()).toContain("b:f64[2] c:f64[2] = testPowers[powers=[2,4]] a");
  });

  it("jit and jit(grad) of the pruned program agree with plain loops", () => {
    expectClose(
      jit(f)(x),
      xs.map((t) => t ** 2 + t ** 4),
      1e-12,
      1e-12,
    );
    const g = jit(grad((v: NdArray) => np.sum(f(v))))(x);
    expectClose(
      g,
      xs.map((t) => 2 * t + 4 * t ** 3),
      1e-12,
      1e-12,
    );
  });
});

// ------------------------------------------------------------------ split --

describe("a linear multi-output primitive (testSplit) on the reverse-mode tape", () => {
  const m = np.array(uniform(r, 10, -1, 1), { shape: [2, 5] });
  const ms = Array.from(m.data());
  /** sum(a^2) + 3 sum(b) for [a, b] = split(m, 2): gradient 2m in the first 2 columns, 3 after. */
  const loss = (v: NdArray) => {
    const [a, b] = split(v, 2);
    return np.add(np.sum(np.square(a!)), np.multiply(3, np.sum(b!)));
  };
  const expected = ms.map((v, i) => (i % 5 < 2 ? 2 * v : 3));

  it("eager values are the two column blocks", () => {
    const [a, b] = split(m, 2);
    expectClose(a!, [ms.slice(0, 2), ms.slice(5, 7)]);
    expectClose(b!, [ms.slice(2, 5), ms.slice(7, 10)]);
  });

  it("grad transposes the equation with both cotangents", () => {
    expectClose(grad(loss)(m), np.array(expected, { shape: [2, 5] }));
  });

  it("grad with a cotangent on only one output gives zeros for the other block", () => {
    const g = grad((v: NdArray) => np.sum(np.square(split(v, 2)[0]!)))(m);
    expectClose(
      g,
      np.array(
        ms.map((v, i) => (i % 5 < 2 ? 2 * v : 0)),
        { shape: [2, 5] },
      ),
    );
  });

  it("linearize replays the multi-output equation forwards (agrees with jvp)", () => {
    const t = np.array(uniform(r, 10), { shape: [2, 5] });
    const [, fJvp] = linearize(loss, m);
    const [, jt] = jvp(loss, [m], [t]);
    expectClose(fJvp(t), jt, 1e-12, 1e-12);
  });

  it("jit(grad), vmap(grad) and grad(grad) agree with the analytic values", () => {
    expectClose(jit(grad(loss))(m), np.array(expected, { shape: [2, 5] }));
    const perRow = vmap(grad((v: NdArray) => loss(np.reshape(v, [1, 5]))))(m);
    expectClose(perRow, np.array(expected, { shape: [2, 5] }));
    // The Hessian of loss is diag(2, 2, 0, 0, 0) per row: H v = 2 v on the first block.
    const v = np.array(uniform(r, 10), { shape: [2, 5] });
    const hv = grad((u: NdArray) => np.sum(np.multiply(v, grad(loss)(u))))(m);
    const vs = Array.from(v.data());
    expectClose(
      hv,
      np.array(
        vs.map((t, i) => (i % 5 < 2 ? 2 * t : 0)),
        { shape: [2, 5] },
      ),
    );
  });

  it("the transpose rule gets null for an output without a cotangent", () => {
    const seen: (NdArray | null)[][] = [];
    const spy: MultiPrimitive = defineMultiPrimitive<{ k: number }>({
      ...splitPrim,
      name: "testSplitSpy",
      linear: true,
      transpose(cts, args: readonly LinearArg[], params) {
        seen.push([...cts]);
        return splitPrim.linear ? splitPrim.transpose(cts, args, params) : [];
      },
      jvp: (_p, [dx], _o, params): Tangent[] => bindAll(spy, [dx!], params),
    });
    grad((v: NdArray) => np.sum(bindAll(spy, [v], { k: 2 })[1]!))(m);
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBeNull();
    expect(seen[0]![1]!.shape).toEqual([2, 3]);
  });
});

// ------------------------------------------------------------------- sort --

/** A stable argsort in plain JS, NaN last. */
function argsortJS(v: readonly number[]): number[] {
  const key = (t: number) => (Number.isNaN(t) ? Infinity : t);
  return v
    .map((t, i) => [t, i] as const)
    .sort((a, b) => {
      const ka = key(a[0]);
      const kb = key(b[0]);
      if (ka !== kb) return ka - kb;
      const na = Number.isNaN(a[0]) ? 1 : 0;
      const nb = Number.isNaN(b[0]) ? 1 : 0;
      return na - nb || a[1] - b[1];
    })
    .map((p) => p[1]);
}

describe("sort: [values, indices]", () => {
  it("values and indices match a stable JS sort, ties and NaN included", () => {
    const v = [3, -1, 2, -1, NaN, 0, 2, Infinity, -Infinity, 3];
    const order = argsortJS(v);
    expect(Array.from(np.argsort(np.array(v)).data())).toEqual(order);
    expect(Array.from(np.sort(np.array(v)).data())).toEqual(order.map((i) => v[i]!));
    expect(np.argsort(np.array(v)).dtype).toBe("int32");
  });

  it("sorts each row, and along axis 0", () => {
    const data = uniform(r, 12, -5, 5).map(Math.round);
    const m = np.array(data, { shape: [3, 4] });
    const sorted = Array.from(np.sort(m).data());
    for (let i = 0; i < 3; i++) {
      const row = data.slice(4 * i, 4 * i + 4);
      expect(sorted.slice(4 * i, 4 * i + 4)).toEqual(argsortJS(row).map((j) => row[j]!));
    }
    const byColumn = np.argsort(m, 0);
    expect(byColumn.shape).toEqual([3, 4]);
    for (let j = 0; j < 4; j++) {
      const col = [0, 1, 2].map((i) => data[4 * i + j]!);
      expect([0, 1, 2].map((i) => byColumn.data()[4 * i + j]!)).toEqual(argsortJS(col));
    }
  });

  it("sorts int32 arrays, keeping the dtype", () => {
    const v = np.array([5, -2, 7, 0], { dtype: "int32" });
    expect(np.sort(v).dtype).toBe("int32");
    expect(Array.from(np.sort(v).data())).toEqual([-2, 0, 5, 7]);
  });

  /** A loss that weighs the sorted values by position: sum(w * sort(x)^2). */
  const sortLoss = (v: NdArray) => np.sum(np.multiply(w, np.square(np.sort(v))));
  const sortLossJS = (v: readonly number[]) => {
    const ws = Array.from(w.data());
    return argsortJS(v).reduce((acc, i, j) => acc + ws[j]! * v[i]! * v[i]!, 0);
  };

  it("jvp, grad and vjp match finite differences and each other", () => {
    const fd = numericGrad(sortLossJS, xs);
    expectClose(grad(sortLoss)(x), fd, 1e-6, 1e-8);
    const t = np.array(uniform(r, 5));
    const [, dt] = jvp(sortLoss, [x], [t]);
    const ts = Array.from(t.data());
    expectClose(
      dt,
      fd.reduce((acc, g, i) => acc + g * ts[i]!, 0),
      1e-6,
      1e-8,
    );
    // vjp of the vector output np.sort: the cotangent scatters back to where each value came from.
    const ct = np.array(uniform(r, 5));
    const [, pullback] = vjp((v: NdArray) => np.sort(v), x);
    const [back] = pullback(ct) as NdArray[];
    const order = argsortJS(xs);
    const cts = Array.from(ct.data());
    const scattered = new Array<number>(5).fill(0);
    order.forEach((i, j) => (scattered[i] = cts[j]!));
    expectClose(back!, scattered);
  });

  it("jacfwd and jacrev of np.sort are the permutation matrix of the stable order", () => {
    const order = argsortJS(xs);
    const perm = order.map((i) => xs.map((_, j) => (j === i ? 1 : 0)));
    expectClose(jacfwd((v: NdArray) => np.sort(v))(x), perm);
    expectClose(jacrev((v: NdArray) => np.sort(v))(x), perm);
  });

  it("vmap over either axis matches sorting each slice", () => {
    const data = uniform(r, 12, -1, 1);
    const m = np.array(data, { shape: [3, 4] });
    const rows = vmap((v: NdArray) => np.sort(v))(m);
    expectClose(rows, np.sort(m));
    // inAxes 1: the batch axis is the last one, which sort would otherwise sort along.
    const cols = vmap((v: NdArray) => np.argsort(v), { inAxes: 1 })(m);
    for (let j = 0; j < 4; j++) {
      const col = [0, 1, 2].map((i) => data[4 * i + j]!);
      expect(Array.from(cols.slice(j).data())).toEqual(argsortJS(col));
    }
  });

  it("jit, jit(grad) and grad(grad) agree with eager values and finite differences", () => {
    expectClose(jit(sortLoss)(x), sortLossJS(xs), 1e-12, 1e-12);
    const both = jit((v: NdArray) => [np.sort(v), np.argsort(v)])(x);
    expect(Array.from(both[1]!.data())).toEqual(argsortJS(xs));
    expectClose(jit(grad(sortLoss))(x), grad(sortLoss)(x), 1e-12, 1e-12);
    // Second order: the Hessian is diag(2 w[rank(i)]); check H v against finite differences of grad.
    const v = np.array(uniform(r, 5));
    const hv = grad((u: NdArray) => np.sum(np.multiply(v, grad(sortLoss)(u))))(x);
    const vs = Array.from(v.data());
    const gradAt = (u: readonly number[]) => Array.from(grad(sortLoss)(np.array(u)).data());
    const eps = 1e-6;
    const plus = gradAt(xs.map((t, i) => t + eps * vs[i]!));
    const minus = gradAt(xs.map((t, i) => t - eps * vs[i]!));
    // The Hessian is symmetric, so H v is also the directional derivative of grad along v.
    expectClose(
      hv,
      plus.map((p, i) => (p - minus[i]!) / (2 * eps)),
      1e-6,
      1e-8,
    );
  });

  it("checkpoint recomputes sort in the backward pass under every policy", () => {
    const expected = numericGrad(sortLossJS, xs);
    for (const policy of ["nothingSaveable", () => true] as const) {
      const g = grad(checkpoint(sortLoss, { policy }))(x);
      expectClose(g, expected, 1e-6, 1e-8, `policy ${String(policy)}`);
    }
  });

  it("vmap of jit and jit of vmap sort each row", () => {
    const m = np.array(uniform(r, 12, -1, 1), { shape: [4, 3] });
    const rows = [0, 1, 2, 3].map((i) => np.sort(m.slice(i)));
    expectClose(vmap(jit((v: NdArray) => np.sort(v)))(m), np.stack(rows));
    expectClose(jit(vmap((v: NdArray) => np.sort(v)))(m), np.stack(rows));
  });

  it("makeJaxpr shows sort's two outputs of different dtypes", () => {
    const text = makeJaxpr((v: NdArray) => np.sort(v))(np.zeros([4])).toString();
    expect(text).toContain("b:f64[4] c:i32[4] = sort a");
  });

  it("refuses 0-d arrays with errors naming the function", () => {
    expect(() => np.sort(3)).toThrow(ShapeError);
    expect(() => np.sort(3)).toThrow(/np\.sort: cannot sort a 0-d array/);
    expect(() => np.argsort(3)).toThrow(/np\.argsort: cannot sort a 0-d array/);
    expect(() => sortPrimitive(np.array(2))).toThrow(/sort: cannot sort a 0-d array .*reshape/);
    expect(() => np.sort([1, 2], 1)).toThrow(/np\.sort: axis 1 is out of range/);
  });
});

describe("multi-output equations on the Wasm backend (jit groups around a sort kernel)", () => {
  useBackendAtAllSizes("wasm");
  it("jit(grad) of a fused loss around sort matches finite differences", () => {
    // The elementwise work before and after sort fuses into Wasm groups; sort itself is a kernel.
    const loss = (v: NdArray) => np.sum(np.multiply(w, np.exp(np.sort(np.multiply(np.sin(v), 2)))));
    const lossJS = (v: readonly number[]) => {
      const ws = Array.from(w.data());
      const s = v.map((t) => 2 * Math.sin(t));
      return argsortJS(s).reduce((acc, i, j) => acc + ws[j]! * Math.exp(s[i]!), 0);
    };
    expectClose(jit(grad(loss))(x), numericGrad(lossJS, xs), 1e-6, 1e-8);
  });
});
