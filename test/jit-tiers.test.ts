/**
 * jit's tiers for scalar programs (docs/design.md, "The first jit call,
 * round 6: tiers"): the first eager call of a jitted scalar program runs in
 * the scalar interpreter (src/jit/scalarInterpreter.ts), the second compiles
 * it (src/jit/scalarProgram.ts). Both tiers must give the same bits, and the
 * bits of eager evaluation: every registered elementwise primitive on sample
 * and special operands in every dtype it accepts, random programs mixing the
 * whole registry (every dtype, conversions, constants, several outputs),
 * random differentiated programs, and the edge cases (inputs that are
 * outputs, constant outputs, programs without equations). Then when code is
 * generated (counted through a stand-in for `Function`) and the fallback
 * where generating code is forbidden.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { type Array as NdArray, ConcreteArray, type Aval } from "../src/core/array.js";
import type { DType } from "../src/core/dtype.js";
import { definePrimitive, type Primitive, registeredPrimitives } from "../src/core/primitive.js";
import { bind } from "../src/core/trace.js";
import type { Jaxpr } from "../src/ir/jaxpr.js";
import { compileOrInterpret } from "../src/jit/jit.js";
import { interpretScalarJaxpr, runScalarJaxprOnce } from "../src/jit/scalarInterpreter.js";
import { compileScalarJaxpr, isScalarProgram } from "../src/jit/scalarProgram.js";
import { jit, makeJaxpr, np, vmap } from "../src/index.js";
import { SPEC_OF } from "./conformance-specs.js";
import { rng } from "./helpers.js";
import { gradCase, gradCaseArb } from "./scalarPrograms.js";

// ------------------------------------------------------------- helpers --

const FLOAT_SPECIALS = [0, -0, Infinity, -Infinity, NaN, 1, -1, 0.5, -2.5, 3, 1e-300, 7.25e15];
const INT_SPECIALS = [0, 1, -1, 2, 31, 32, 33, -33, 2147483647, -2147483648, 65535, -7];

/** Same bits: Object.is per element, any NaN matching any NaN. */
function expectSameBits(actual: readonly number[], expected: readonly number[], what: string) {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) {
      expect.fail(`${what}: output ${i}: ${a} vs ${e}`);
    }
  });
}

const valuesOf = (xs: readonly NdArray[]): number[] => xs.map((x) => x.item());
const dtypesOf = (xs: readonly NdArray[]): DType[] => xs.map((x) => x.dtype);
const asList = (x: unknown): NdArray[] =>
  globalThis.Array.isArray(x) ? (x as NdArray[]) : [x as NdArray];

/** A value of `dtype` (as stored), drawn from the specials or the sampler. */
function draw(dtype: DType, r: () => number, sampled: number): number {
  switch (dtype) {
    case "bool":
      return r() < 0.5 ? 0 : 1;
    case "int32":
      return r() < 0.5 ? INT_SPECIALS[Math.floor(r() * INT_SPECIALS.length)]! : (r() * 2 ** 32) | 0;
    case "float32":
      return Math.fround(
        r() < 0.4 ? FLOAT_SPECIALS[Math.floor(r() * FLOAT_SPECIALS.length)]! : sampled,
      );
    case "float64":
      return r() < 0.4 ? FLOAT_SPECIALS[Math.floor(r() * FLOAT_SPECIALS.length)]! : sampled;
  }
}

/**
 * Runs `jaxpr` through both tiers on each input list, expecting the same
 * bits and dtypes from both, and returns the interpreter's outputs.
 */
function bothTiers(jaxpr: Jaxpr, inputs: readonly ConcreteArray[][], what: string): number[][] {
  expect(isScalarProgram(jaxpr), what).toBe(true);
  const interpreted = interpretScalarJaxpr(jaxpr)!;
  const compiled = compileScalarJaxpr(jaxpr);
  expect(interpreted.source).toBe("");
  return inputs.map((xs) => {
    const a = interpreted.run(xs);
    const b = compiled.run(xs);
    expect(dtypesOf(a), what).toEqual(dtypesOf(b));
    expect(dtypesOf(a), what).toEqual(jaxpr.outVars.map((v) => v.dtype));
    const label = `${what} at (${xs.map((x) => `${x.dtype} ${x.scalarValue}`).join(", ")})`;
    expectSameBits(valuesOf(a), valuesOf(b), `${label}: interpreter vs compiled`);
    // The first tier's one-pass run, its value table starting empty (grown by each id).
    const once = runScalarJaxprOnce(jaxpr, xs, 0)!;
    expect(dtypesOf(once), what).toEqual(dtypesOf(b));
    expectSameBits(valuesOf(once), valuesOf(b), `${label}: one-pass run vs compiled`);
    return valuesOf(a);
  });
}

/** Replaces the global `Function` for the body (generated code is built with `new Function`). */
function withFunction<T>(replacement: FunctionConstructor, body: () => T): T {
  const saved = globalThis.Function;
  Object.defineProperty(globalThis, "Function", { value: replacement, writable: true });
  try {
    return body();
  } finally {
    Object.defineProperty(globalThis, "Function", { value: saved, writable: true });
  }
}

/** A `Function` that counts what it builds. */
function countingFunction(): { ctor: FunctionConstructor; count: () => number } {
  let n = 0;
  const ctor = new Proxy(Function, {
    construct(target, args: string[]) {
      n++;
      return Reflect.construct(target, args);
    },
  });
  return { ctor, count: () => n };
}

/** A `Function` that refuses, as under a Content-Security-Policy without 'unsafe-eval'. */
const refusingFunction = new Proxy(Function, {
  construct(): object {
    throw new EvalError("Code generation from strings disallowed for this context");
  },
});

afterEach(() => {
  // A failed expectation inside withFunction must not leave the stand-in behind.
  expect(globalThis.Function).toBe(Object.getPrototypeOf(() => 0).constructor);
});

// ---------------------------------------------- every elementwise primitive --

const ELEMENTWISE: Primitive[] = registeredPrimitives().filter((p) => p.elementwise !== undefined);

/**
 * The operand dtypes to try for a primitive: those of its conformance
 * sample, and the same with every float operand float32, then int32.
 */
function dtypeVariants(sample: readonly DType[]): DType[][] {
  const isFloat = (d: DType) => d === "float64" || d === "float32";
  const variants = [sample.slice()];
  if (sample.some(isFloat)) {
    variants.push(sample.map((d) => (isFloat(d) ? "float32" : d)));
    variants.push(sample.map((d) => (isFloat(d) ? "int32" : d)));
  }
  return variants;
}

describe("every registered elementwise primitive: both tiers and eager, bit for bit", () => {
  it("covers the registry (more than 60 elementwise primitives, arities 1 to 5)", () => {
    expect(ELEMENTWISE.length).toBeGreaterThan(60);
    const arities = new Set(ELEMENTWISE.map((p) => p.elementwise!.scalar.length));
    expect([...arities].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  for (const prim of ELEMENTWISE) {
    it(prim.name, () => {
      const spec = SPEC_OF.get(prim.name)!;
      const r = rng(prim.name.split("").reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 11));
      const sample = spec.args(r);
      // convert: every target dtype; others: their conformance parameters.
      const paramsList: unknown[] =
        prim.name === "convert"
          ? (["float64", "float32", "int32", "bool"] as const).map((dtype) => ({ dtype }))
          : [spec.params ?? {}];
      let accepted = 0;
      let comparedWithEager = 0;
      for (const dtypes of dtypeVariants(sample.map((a) => a.dtype))) {
        for (const params of paramsList) {
          // 40 operand lists: sample values, specials and random words, per dtype.
          const inputs = globalThis.Array.from({ length: 40 }, (_, k) =>
            dtypes.map((d, m) =>
              ConcreteArray.scalar(
                draw(d, r, sample[m]!.buffer[k % sample[m]!.size]!),
                d === "float32" ? "float32" : d,
              ),
            ),
          );
          let jaxpr: Jaxpr;
          try {
            jaxpr = makeJaxpr((...a: NdArray[]) => bind(prim, a, params))(...inputs[0]!);
          } catch {
            continue; // this dtype combination is refused by the primitive
          }
          accepted++;
          const what = `${prim.name}(${dtypes.join(", ")}) ${JSON.stringify(params)}`;
          const got = bothTiers(jaxpr, inputs, what);
          inputs.forEach((xs, k) => {
            let eager: NdArray;
            try {
              eager = bind(prim, xs, params);
            } catch {
              return; // refused eagerly (an int32 power with a negative exponent)
            }
            comparedWithEager++;
            expectSameBits(
              got[k]!,
              [eager.item()],
              `${what} vs eager at ${valuesOf(xs).join(", ")}`,
            );
          });
        }
      }
      // The conformance sample's dtypes are always accepted, and eager ran on most lists.
      expect(accepted).toBeGreaterThanOrEqual(paramsList.length);
      expect(comparedWithEager).toBeGreaterThanOrEqual(30 * accepted);
    });
  }
});

// ---------------------------------------------------- random programs --

/** One step of a random program: a primitive on earlier values (by index) or constants. */
interface Step {
  prim: Primitive;
  params: unknown;
  operands: ({ value: number } | { constant: number; dtype: DType })[];
}

interface RandomProgram {
  inputs: ConcreteArray[];
  steps: Step[];
  /** Values returned (indices into inputs then step results); -1: a constant. */
  outputs: number[];
}

const ALL_DTYPES: DType[] = ["float64", "float32", "int32", "bool"];

/**
 * A random straight-line program over the whole elementwise registry,
 * grown eagerly: each step picks a primitive, operands of its sample's
 * dtypes (float operands float64 or float32) from earlier values or new
 * constants, and is kept when eager evaluation accepts it.
 */
function randomProgram(seed: number, length: number): RandomProgram {
  const r = rng(seed);
  const inputs = globalThis.Array.from({ length: 1 + Math.floor(r() * 3) }, (_, i) => {
    const dtype = i === 0 ? "float64" : ALL_DTYPES[Math.floor(r() * 4)]!;
    return ConcreteArray.scalar(draw(dtype, r, 4 * r() - 2), dtype);
  });
  const values: NdArray[] = [...inputs];
  const steps: Step[] = [];
  while (steps.length < length) {
    const prim = ELEMENTWISE[Math.floor(r() * ELEMENTWISE.length)]!;
    const spec = SPEC_OF.get(prim.name)!;
    const floatType: DType = r() < 0.5 ? "float64" : "float32";
    const params =
      prim.name === "convert" ? { dtype: ALL_DTYPES[Math.floor(r() * 4)]! } : (spec.params ?? {});
    const operands: Step["operands"] = spec.args(r).map((a) => {
      const dtype = a.dtype === "float64" || a.dtype === "float32" ? floatType : a.dtype;
      const candidates = values.flatMap((v, i) => (v.dtype === dtype ? [i] : []));
      if (candidates.length > 0 && r() < 0.75) {
        return { value: candidates[Math.floor(r() * candidates.length)]! };
      }
      return { constant: draw(dtype, r, 4 * r() - 2), dtype };
    });
    try {
      values.push(bind(prim, operandValues(operands, values), params));
      steps.push({ prim, params, operands });
    } catch {
      // refused (operand dtypes, or eagerly checked values): draw another step
    }
  }
  const n = values.length;
  const outputs = [n - 1, n - 2, Math.floor(r() * n), 0];
  if (r() < 0.5) outputs.push(-1);
  return { inputs, steps, outputs };
}

function operandValues(operands: Step["operands"], values: readonly NdArray[]): NdArray[] {
  return operands.map((o) =>
    "value" in o ? values[o.value]! : np.array(o.constant, { dtype: o.dtype }),
  );
}

/** The program as a function (traced by jit and makeJaxpr, or run eagerly). */
function programFunction(p: RandomProgram): (...xs: NdArray[]) => NdArray[] {
  return (...xs) => {
    const values: NdArray[] = [...xs];
    for (const step of p.steps) {
      values.push(bind(step.prim, operandValues(step.operands, values), step.params));
    }
    return p.outputs.map((i) => (i < 0 ? np.array(0.75, { dtype: "float32" }) : values[i]!));
  };
}

describe("random programs over the whole registry (every dtype, constants, several outputs)", () => {
  it("both tiers, jit's first and second calls, and eager agree bit for bit", () => {
    const dtypesSeen = new Set<DType>();
    for (let seed = 1; seed <= 60; seed++) {
      const p = randomProgram(seed, 25);
      const f = programFunction(p);
      const eager = valuesOf(f(...p.inputs));
      // The traced program as it is (no passes), through both tiers.
      const jaxpr = makeJaxpr(f)(...p.inputs);
      for (const e of jaxpr.eqns) dtypesSeen.add(e.out.dtype);
      const [tiers] = bothTiers(jaxpr, [p.inputs], `program ${seed}`);
      expectSameBits(tiers!, eager, `program ${seed}: tiers vs eager`);
      // jit: the optimised program, interpreted on the first call, compiled on the second.
      const jf = jit(f);
      const first = asList(jf(...p.inputs));
      const second = asList(jf(...p.inputs));
      expect(jf.cacheSize).toBe(1);
      expect(dtypesOf(first)).toEqual(dtypesOf(second));
      expectSameBits(valuesOf(first), eager, `program ${seed}: jit's first call vs eager`);
      expectSameBits(valuesOf(second), eager, `program ${seed}: jit's second call vs eager`);
    }
    expect([...dtypesSeen].sort()).toEqual([...ALL_DTYPES].sort());
  });

  it("random differentiated programs: jit(grad)'s two tiers agree bit for bit, and with eager grad", () => {
    fc.assert(
      fc.property(gradCaseArb, ([p, xs, single]) => {
        const { args, g, tol } = gradCase(p, xs, single);
        const jg = jit(g);
        const first = jg(...args);
        const second = jg(...args);
        expect(jg.cacheSize).toBe(1);
        expectSameBits(valuesOf(first), valuesOf(second), "jit(grad): first vs second call");
        const jaxpr = jg.lower(...args).jaxpr;
        const inputs = args.map((a) => a.concrete("test"));
        expectSameBits(bothTiers(jaxpr, [inputs], "jit(grad)")[0]!, valuesOf(first), "tiers");
        // Eager grad accumulates in its own order: close, not necessarily the same bits.
        const eager = valuesOf(g(...args));
        valuesOf(first).forEach((v, i) => {
          expect(Math.abs(v - eager[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(eager[i]!)));
        });
      }),
      { numRuns: 40, seed: 18 },
    );
  });
});

// ------------------------------------------------------------ edge cases --

describe("edge cases of the interpreter", () => {
  const x = np.array(1.5);
  const y = np.array(-2, { dtype: "int32" });

  it("inputs that are outputs, repeated outputs, constant outputs, several outputs", () => {
    const c = np.array(2.5, { dtype: "float32" });
    const f = (a: NdArray, b: NdArray) => [b, np.add(a, 0.25), a, a, c, np.multiply(b, b)];
    const eager = f(x, y);
    const jf = jit(f);
    for (const call of ["first", "second", "third"]) {
      const out = jf(x, y);
      expect(dtypesOf(out), call).toEqual(dtypesOf(eager));
      expectSameBits(valuesOf(out), valuesOf(eager), `${call} call`);
    }
    expect(jf.cacheSize).toBe(1);
    bothTiers(jf.lower(x, y).jaxpr, [[x.concrete("test"), y.concrete("test")]], "edge");
  });

  it("programs without equations: the identity, a permutation, a constant", () => {
    const c = np.array(-0);
    const cases: [string, (a: NdArray, b: NdArray) => NdArray[]][] = [
      ["identity", (a) => [a]],
      ["permutation", (a, b) => [b, a]],
      ["constant", () => [c]],
    ];
    for (const [name, f] of cases) {
      const jf = jit(f);
      const jaxpr = jf.lower(x, y).jaxpr;
      expect(jaxpr.eqns.length, name).toBe(0);
      const eager = valuesOf(f(x, y));
      expectSameBits(valuesOf(jit(f)(x, y)), eager, `${name}: first call`);
      const inputs = [x.concrete("test"), y.concrete("test")];
      expectSameBits(bothTiers(jaxpr, [inputs], name)[0]!, eager, `${name}: tiers`);
    }
  });

  it("is not built for a program with an array value or a non-elementwise equation", () => {
    const arrays = makeJaxpr((a: NdArray) => np.sin(a))(np.array([1, 2]));
    const reduction = makeJaxpr((a: NdArray) => np.sum(np.sin(a)))(np.array([1, 2]));
    expect(interpretScalarJaxpr(arrays)).toBeUndefined();
    expect(interpretScalarJaxpr(reduction)).toBeUndefined();
    expect(interpretScalarJaxpr(makeJaxpr((a: NdArray) => np.sin(a))(x))).toBeDefined();
    expect(runScalarJaxprOnce(arrays, [], 0)).toBeUndefined();
    expect(runScalarJaxprOnce(reduction, [], 0)).toBeUndefined();
    // 0-d inputs and outputs, but an array and a non-elementwise equation in between.
    const through = makeJaxpr((a: NdArray) => np.reshape(np.cumsum(np.reshape(a, [1])), []))(x);
    expect(through.outVars[0]!.shape).toEqual([]);
    expect(runScalarJaxprOnce(through, [x.concrete("test")], 0)).toBeUndefined();
  });
});

// ---------------------------------------------------------------- tiers --

describe("when jit generates code", () => {
  const f = (a: NdArray) => np.add(np.multiply(np.sin(a), a), np.cos(a));

  it("a scalar program: interpreted on its first call, compiled on its second, then reused", () => {
    const counter = countingFunction();
    const jf = jit(f);
    const [c1, c2, c3] = withFunction(counter.ctor, () => {
      const a = jf(0.5).item();
      const n1 = counter.count();
      const b = jf(0.5).item();
      const n2 = counter.count();
      const c = jf(0.25).item();
      expect([a, b]).toEqual([f(np.array(0.5)).item(), f(np.array(0.5)).item()]);
      expect(c).toBe(f(np.array(0.25)).item());
      return [n1, n2, counter.count()];
    });
    expect(c1).toBe(0);
    expect(c2).toBe(1);
    expect(c3).toBe(1);
    expect(jf.cacheSize).toBe(1);
  });

  it("dead equations: the first call interprets the program as recorded, or after DCE", () => {
    const counter = countingFunction();
    // An unused exp (dead, elementwise: interpreted as recorded) and an unused sum of a
    // broadcast (dead, not elementwise: the recorded program is no scalar program, the
    // program after DCE is).
    const withDeadExp = (a: NdArray) => (np.exp(a), np.sin(a));
    const withDeadSum = (a: NdArray) => (np.sum(np.broadcastTo(a, [3])), np.sin(a));
    const [exp1, exp2, sum1, sum2] = withFunction(counter.ctor, () => {
      const jf = jit(withDeadExp);
      expect(jf(0.5).item()).toBe(Math.sin(0.5));
      const n1 = counter.count();
      expect(jf(0.5).item()).toBe(Math.sin(0.5));
      const n2 = counter.count();
      const jg = jit(withDeadSum);
      expect(jg(0.5).item()).toBe(Math.sin(0.5));
      const n3 = counter.count();
      expect(jg(0.5).item()).toBe(Math.sin(0.5));
      return [n1, n2, n3 - n2, counter.count() - n3];
    });
    expect([exp1, exp2, sum1, sum2]).toEqual([0, 1, 0, 1]);
    const recorded = makeJaxpr(withDeadExp)(np.array(0.5));
    expect(recorded.eqns.map((e) => e.prim.name)).toEqual(["exp", "sin"]);
    expect(
      jit(withDeadExp)
        .lower(0.5)
        .jaxpr.eqns.map((e) => e.prim.name),
    ).toEqual(["sin"]);
  });

  it("lower returns the compiled program, and a call after it reuses that code", () => {
    const counter = countingFunction();
    const jf = jit(f);
    const [source, before, after] = withFunction(counter.ctor, () => {
      const lowered = jf.lower(0.5);
      const n = counter.count();
      expect(jf(0.5).item()).toBe(f(np.array(0.5)).item());
      return [lowered.compiled.source, n, counter.count()];
    });
    expect(source).toContain("Math.sin");
    expect(before).toBe(1);
    expect(after).toBe(1);
  });

  it("an array program is compiled on its first call; vmap of a scalar jit runs one batched program", () => {
    const counter = countingFunction();
    const jf = jit(f);
    const xs = np.array([0.5, -1, 2]);
    const [n, batched] = withFunction(counter.ctor, () => {
      jf(xs);
      return [counter.count(), vmap(jf)(xs)];
    });
    expect(n).toBeGreaterThan(0);
    expect(jf.batchedCacheSize).toBe(1);
    expect(Array.from(batched.data())).toEqual([0.5, -1, 2].map((v) => f(np.array(v)).item()));
  });

  it("where code generation is forbidden, scalar programs run in the interpreter on every call", () => {
    let implCalls = 0;
    // 2x + 1 elementwise; its impl (what evaluation through bind runs) counts its calls.
    const twicePlusOne = definePrimitive<Record<string, never>>({
      name: "testTwicePlusOne",
      linear: false,
      abstractEval: ([a]): Aval => ({ shape: a!.shape, dtype: a!.dtype }),
      impl([a]) {
        implCalls++;
        const out = ConcreteArray.zeros([...a!.shape], a!.dtype);
        for (let i = 0; i < out.size; i++) out.buffer[i] = 2 * a!.buffer[i]! + 1;
        return out;
      },
      jvp: (_, [da]) => np.multiply(da!, 2),
      batch: ([a], [d]) => [np.add(np.multiply(a!, 2), 1), d ?? null],
      elementwise: { scalar: (v) => 2 * v + 1 },
    });
    const g = (a: NdArray) => np.sin(bind(twicePlusOne, [np.cos(a)], {}));
    const want = Math.sin(2 * Math.cos(0.5) + 1);
    const jg = jit(g);
    const results = withFunction(refusingFunction, () => [
      jg(0.5).item(),
      jg(0.5).item(),
      jg(0.5).item(),
      jg.lower(0.5).compiled.source,
    ]);
    expect(results).toEqual([want, want, want, ""]);
    expect(implCalls).toBe(0);
    // compileOrInterpret (used by lax loops) falls back the same way; a non-scalar
    // program still runs through bind.
    const scalar = makeJaxpr(g)(np.array(0.5));
    const arrays = makeJaxpr(g)(np.array([0.5, 1]));
    withFunction(refusingFunction, () => {
      expect(
        compileOrInterpret(scalar)
          .run([ConcreteArray.scalar(0.5, "float64")])[0]!
          .item(),
      ).toBe(want);
      expect(implCalls).toBe(0);
      compileOrInterpret(arrays).run([np.array([0.5, 1]).concrete("test")]);
      expect(implCalls).toBe(1);
    });
  });
});
