/**
 * The registry-driven conformance suite. For every registered primitive,
 * on random float64 inputs inside its domain:
 *   - JVP against central finite differences (order 1),
 *   - second-order directional derivatives (forward-over-forward and
 *     reverse-over-forward) against finite differences of the JVP,
 *   - the transposition identity <u, J v> = <J^T u, v> (VJP against JVP),
 *   - vmap against a loop over the batch, with the batch axis in front, at
 *     the back, or absent for some operands,
 *   - jacfwd equals jacrev,
 *   - jit equals eager evaluation,
 *   - jit equals eager bit for bit (Object.is; any NaN matches any NaN) on
 *     ±0, ±inf, NaN and a few finite values: for elementwise primitives on
 *     every combination across operands, as arrays (fused loops, Wasm
 *     groups) and as 0-d values (compiled scalar programs); for the others
 *     (movement, reductions, matmul) on operands filled with those values;
 *     linear algebra, whose domain is nonsingular matrices, is left out.
 * SPECS is typed by primitive name (PrimName): an entry missing or misspelt
 * fails tsc, and a registered primitive whose name is not in PrimName fails
 * the suite.
 * The whole suite runs once per backend ("js", and "wasm" with its size
 * thresholds at 0 so that even these small inputs run the Wasm kernels).
 */
import { describe, expect, it } from "vitest";
import { ConcreteArray, type Array as NdArray } from "../src/core/array.js";
import { InvalidArgumentError } from "../src/core/errors.js";
import { definePrimitive, type Primitive, registeredPrimitives } from "../src/core/primitive.js";
import { bind } from "../src/core/trace.js";
import { grad, jacfwd, jacrev, jit, jvp, np, vjp, vmap } from "../src/index.js";
import { rng, useBackendAtAllSizes } from "./helpers.js";
import { SPEC_OF, type Spec, sample, uniform } from "./conformance-specs.js";

function nums(x: NdArray): number[] {
  return Array.from(x.data());
}
function dotAll(a: readonly NdArray[], b: readonly NdArray[]): number {
  let s = 0;
  a.forEach((x, i) => {
    const xs = nums(x);
    const ys = nums(b[i]!);
    xs.forEach((v, k) => (s += v * ys[k]!));
  });
  return s;
}
function expectClose(
  actual: number[],
  expected: number[],
  rtol: number,
  atol: number,
  what: string,
): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok)
      expect.fail(`${what}: element ${i}: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
  });
}

/** IEEE special values and a few finite ones: where jit and eager must agree bit for bit. */
const SPECIALS = [0, -0, Infinity, -Infinity, NaN, 1, -1, 0.5, -2.5, 3];

/**
 * The sample operands with every float entry replaced by SPECIALS in turn
 * (shapes, ints and bools kept): for primitives that are not elementwise.
 */
function specialsInPlace(args: readonly ConcreteArray[]): ConcreteArray[] | null {
  if (!args.some((a) => a.dtype === "float64" || a.dtype === "float32")) return null;
  let k = 0;
  return args.map((a) => {
    if (a.dtype !== "float64" && a.dtype !== "float32") return a;
    const out = ConcreteArray.zeros([...a.shape], a.dtype);
    for (let i = 0; i < out.size; i++) out.buffer[i] = SPECIALS[(k++ * 3) % SPECIALS.length]!;
    return out;
  });
}

/**
 * Operand lists of special values for an elementwise primitive, shaped like
 * its spec's sample operands: every combination of SPECIALS across its float
 * operands (one array per operand); bool operands alternate; int operands
 * are left out (null: no specials to try).
 */
function specialOperands(args: readonly ConcreteArray[]): ConcreteArray[] | null {
  if (!args.some((a) => a.dtype === "float64" || a.dtype === "float32")) return null;
  const floats = args.filter((a) => a.dtype === "float64" || a.dtype === "float32").length;
  const n = SPECIALS.length ** floats;
  let k = 0;
  return args.map((a) => {
    if (a.dtype === "bool")
      return new ConcreteArray(
        [n],
        "bool",
        Uint8Array.from({ length: n }, (_, i) => i % 2),
      );
    if (a.dtype === "int32") throw new Error("int operand");
    const stride = SPECIALS.length ** k++;
    const buf = a.dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) buf[i] = SPECIALS[Math.floor(i / stride) % SPECIALS.length]!;
    return new ConcreteArray([n], a.dtype, buf);
  });
}

/** Bit-for-bit equality of two results (Object.is per element; NaN matches NaN). */
function expectSameBits(actual: number[], expected: number[], what: string, inputs: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) {
      expect.fail(`${what}: element ${i} (inputs ${inputs}): jit ${a}, eager ${e}`);
    }
  });
}

// -------------------------------------------------------------- checks --

const NO_PARAMS = {};

function diffIndices(spec: Spec, args: ConcreteArray[]): number[] {
  return (
    spec.diff ??
    args
      .map((a, i) => (a.dtype === "float64" || a.dtype === "float32" ? i : -1))
      .filter((i) => i >= 0)
  );
}

/** f as a function of the differentiated operands only. */
function restricted(prim: Primitive, spec: Spec, args: ConcreteArray[], diff: number[]) {
  return (...d: NdArray[]): NdArray => {
    const full: NdArray[] = args.slice();
    diff.forEach((k, i) => (full[k] = d[i]!));
    return bind(prim, full, spec.params ?? NO_PARAMS);
  };
}

function shifted(xs: NdArray[], vs: NdArray[], eps: number): NdArray[] {
  return xs.map((x, i) => np.add(x, np.multiply(vs[i]!, eps)).astype(x.dtype));
}

/** Primitives whose eager wasm kernels are the Wasm math, not JS Math. */
const WASM_MATH = new Set(["exp", "log", "sin", "cos"]);

describe("definePrimitive", () => {
  it("refuses a name that is not a plain identifier (names reach generated code), registering nothing", () => {
    const before = registeredPrimitives().length;
    const declare = () =>
      definePrimitive({
        name: "log-gamma",
        linear: false,
        abstractEval: ([x]) => x!,
        impl: ([x]) => x!,
        jvp: () => null,
        batch: ([x], [d]) => [x!, d!],
      });
    expect(declare).toThrow(InvalidArgumentError);
    expect(declare).toThrow(/definePrimitive: the name "log-gamma" is not a plain identifier/);
    expect(registeredPrimitives().length).toBe(before);
  });
});

describe.each(["js", "wasm"])("conformance of every registered primitive on %s", (backendName) => {
  useBackendAtAllSizes(backendName);

  it("has a conformance entry for each primitive", () => {
    const names = registeredPrimitives().map((p) => p.name);
    expect(names.filter((n) => !SPEC_OF.has(n))).toEqual([]);
    // and no entry for a primitive that does not exist (a misspelt union member)
    expect([...SPEC_OF.keys()].filter((n) => !names.includes(n))).toEqual([]);
  });

  for (const prim of registeredPrimitives()) {
    const spec = SPEC_OF.get(prim.name);
    if (spec === undefined) continue;
    describe(prim.name, () => {
      const r = rng(prim.name.split("").reduce((h, c) => h * 31 + c.charCodeAt(0), 7) >>> 0);
      const args = spec.args(r);
      const diff = diffIndices(spec, args);
      const f = restricted(prim, spec, args, diff);
      const xs = diff.map((k) => args[k]!);
      const eps = spec.eps ?? 1e-6;
      const tol = spec.tol ?? 1e-6;

      if (!spec.nonDiff) {
        const vs = xs.map((x) => sample([...x.shape], uniform(-1, 1), r, x.dtype));
        const out = f(...xs);
        const u = sample([...out.shape], uniform(-1, 1), r, out.dtype);
        const jvpAt = (...p: NdArray[]): NdArray => jvp(f, p, vs)[1];

        it("JVP matches central finite differences", () => {
          const tangent = nums(jvpAt(...xs));
          const fd = spec.zeroDerivative
            ? tangent.map(() => 0)
            : nums(
                np.divide(
                  np.subtract(f(...shifted(xs, vs, eps)), f(...shifted(xs, vs, -eps))),
                  2 * eps,
                ),
              );
          expectClose(tangent, fd, tol, tol, `${prim.name} jvp`);
        });

        it("satisfies <u, J v> = <J^T u, v> (VJP against JVP)", () => {
          const [, pullback] = vjp(f, ...xs);
          const cts = pullback(u);
          const lhs = dotAll([u], [jvpAt(...xs)]);
          const rhs = dotAll(cts, vs);
          expectClose(
            [rhs],
            [lhs],
            spec.tol ?? 1e-10,
            spec.tol ?? 1e-10,
            `${prim.name} transposition`,
          );
        });

        it("second derivatives match finite differences of the JVP", () => {
          // g(x) = <u, J(x) v>; its derivative along w by forward-over-forward,
          // reverse-over-forward, and central differences of g.
          const ws = xs.map((x) => sample([...x.shape], uniform(-1, 1), r, x.dtype));
          const g = (...p: NdArray[]): NdArray => np.sum(np.multiply(jvpAt(...p), u));
          const fwd = jvp(g, xs, ws)[1].item();
          const rev = dotAll(grad(g, { argnums: xs.map((_, i) => i) })(...xs), ws);
          const e2 = 1e-5;
          const fd = spec.zeroDerivative
            ? 0
            : (g(...shifted(xs, ws, e2)).item() - g(...shifted(xs, ws, -e2)).item()) / (2 * e2);
          expectClose([fwd], [fd], 1e-5, 1e-5, `${prim.name} forward-over-forward`);
          expectClose([rev], [fwd], 1e-9, 1e-9, `${prim.name} reverse-over-forward`);
        });

        it("jacfwd equals jacrev", () => {
          const argnums = xs.map((_, i) => i);
          const jf = jacfwd(f, { argnums })(...xs);
          const jr = jacrev(f, { argnums })(...xs);
          jf.forEach((j, i) => {
            expect(j.shape).toEqual([...out.shape, ...xs[i]!.shape]);
            expectClose(nums(jr[i]!), nums(j), 1e-12, 1e-12, `${prim.name} jacfwd vs jacrev`);
          });
        });
      }

      it("jit matches eager evaluation", () => {
        const all = (...a: NdArray[]): NdArray => bind(prim, a, spec.params ?? NO_PARAMS);
        // Exact, except that eager exp/log/sin/cos on wasm run the Wasm math
        // kernels (within 2 ulp of JS Math) where jit's small loops call Math.
        const ulp = args[0]?.dtype === "float32" ? 2 ** -23 : 2 ** -52;
        const rtol = backendName === "wasm" && WASM_MATH.has(prim.name) ? 2 * ulp : 0;
        expectClose(nums(jit(all)(...args)), nums(all(...args)), rtol, 0, `${prim.name} jit`);
      });

      const specials =
        spec.noSpecials === true
          ? null
          : prim.elementwise === undefined
            ? specialsInPlace(args)
            : specialOperands(args);
      if (specials !== null) {
        it("jit matches eager bit for bit on ±0, ±inf and NaN (arrays and 0-d values)", () => {
          const all = (...a: NdArray[]): NdArray => bind(prim, a, spec.params ?? NO_PARAMS);
          // Eager exp/log/sin/cos on wasm are the Wasm math kernels; their
          // finite results may differ from Math in the last bits, so there only
          // the specials' results (all finite inputs dropped) are compared.
          const approx = backendName === "wasm" && WASM_MATH.has(prim.name);
          const got = nums(jit(all)(...specials));
          const want = nums(all(...specials));
          const label = (i: number) => specials.map((a) => a.buffer[i]).join(", ");
          const keep = (i: number) =>
            !approx || specials.some((a) => !Number.isFinite(a.buffer[i]!) || a.buffer[i] === 0);
          const idx = got.map((_, i) => i).filter(keep);
          expectSameBits(
            idx.map((i) => got[i]!),
            idx.map((i) => want[i]!),
            `${prim.name} jit (array)`,
            "see index",
          );
          const jitted = jit(all);
          if (prim.elementwise === undefined) return; // 0-d cases: elementwise only
          for (const i of idx) {
            const scalars = specials.map((a) => ConcreteArray.scalar(a.buffer[i]!, a.dtype));
            expectSameBits(
              nums(jitted(...scalars)),
              nums(all(...scalars)),
              `${prim.name} jit (0-d)`,
              label(i),
            );
          }
        });
      }

      it("vmap matches a loop over the batch", () => {
        const B = 3;
        const batches = Array.from({ length: B }, () => spec.args(r));
        // Batch axis per operand: in front, at the back, or unbatched (operand 0 always batched).
        for (const layout of ["front", "back", "mixed"] as const) {
          const axes = args.map((a, i) => {
            if (layout === "mixed" && i % 2 === 1) return null;
            return layout === "back" ? a.ndim : 0;
          });
          const batched = args.map((_, i) => {
            const ax = axes[i];
            if (ax === null || ax === undefined) return batches[0]![i]!;
            return np.stack(
              batches.map((b) => b[i]!),
              ax,
            );
          });
          const out = vmap((...a: NdArray[]) => bind(prim, a, spec.params ?? NO_PARAMS), {
            inAxes: axes,
          })(...batched);
          const loop = np.stack(
            batches.map((b) =>
              bind(
                prim,
                b.map((x, i) => (axes[i] === null ? batches[0]![i]! : x)),
                spec.params ?? NO_PARAMS,
              ),
            ),
            0,
          );
          expect(out.shape, `${prim.name} vmap ${layout}`).toEqual(loop.shape);
          expectClose(nums(out), nums(loop), 1e-12, 1e-12, `${prim.name} vmap ${layout}`);
        }
      });
    });
  }
});
