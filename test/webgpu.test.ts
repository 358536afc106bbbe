/**
 * The webgpu backend. In Node (no navigator.gpu) `setBackend("webgpu")`
 * must reject with advice, and the asynchronous reads must equal the
 * synchronous ones on the CPU backends. In headless Chromium with WebGPU on
 * SwiftShader (needs /usr/bin/chromium; skipped with the reason otherwise),
 * a bundled page (test/webgpu-page.ts) runs elementwise ops, reductions,
 * matrix products, the small dense solvers and gradients on webgpu and on
 * the js backend, and the special functions on dense grids against float64;
 * the results must agree within float32 tolerance, and the error messages
 * must name what to do.
 */
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, WEBGPU_CHROMIUM_ARGS } from "./browser.js";
import { getBackend, np, setBackend } from "../src/index.js";
import type { PageResults } from "./webgpu-page.js";
import { SPEC_OF } from "./conformance-specs.js";

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.log(
    `webgpu.test.ts: browser part skipped: ${CHROMIUM} not found (apt-get install chromium)`,
  );
}

describe("webgpu in Node", () => {
  it("setBackend('webgpu') rejects with advice where navigator.gpu is absent", async () => {
    const before = getBackend();
    await expect(setBackend("webgpu")).rejects.toThrow(
      /setBackend\("webgpu"\): WebGPU is not available here \(navigator\.gpu is undefined\); use setBackend\("wasm"\) or setBackend\("js"\)/,
    );
    expect(getBackend()).toBe(before);
    // The CPU backends keep working after the failed attempt.
    expect(np.add(np.array([1, 2]), 1).toArray()).toEqual([2, 3]);
  });

  it("dataAsync, itemAsync and toArrayAsync equal the synchronous reads on the CPU backends", async () => {
    const before = getBackend();
    try {
      for (const name of ["js", "wasm"]) {
        setBackend(name);
        const m = np.array([
          [1, -2, 3],
          [4, 5, -6],
        ]);
        const t = m.T.mul(2);
        // Plain-loop reference for the transpose times two.
        const expected = [
          [2, 8],
          [-4, 10],
          [6, -12],
        ];
        expect(await t.toArrayAsync()).toEqual(expected);
        expect(Array.from(await t.dataAsync())).toEqual(expected.flat());
        expect(await m.sum().itemAsync()).toBe(1 - 2 + 3 + 4 + 5 - 6);
        expect(await np.array(true).itemAsync()).toBe(1);
        // A copy: writing into it leaves the array unchanged.
        const copy = await m.dataAsync();
        copy[0] = 99;
        expect(m.data()[0]).toBe(1);
        await expect(m.itemAsync()).rejects.toThrow(
          /itemAsync: expected an array with one element, got shape \[2, 3\]/,
        );
      }
    } finally {
      setBackend(before);
    }
  });
});

const TRANSCENDENTAL = new Set(
  "sin cos tan arcsin arccos arctan sinh cosh tanh arctan2 gradSin".split(" "),
);

/** Cases compared relative to |value| (log1p and expm1 accurate near 0). */
const RELATIVE_CASES = new Set(["log1pTiny", "expm1Tiny"]);

/**
 * Tolerance of a case, relative to max(1, |value|): float32 roundoff for the
 * exactly rounded operations; for the trigonometric and hyperbolic
 * functions WGSL's accuracy for sin and cos (absolute error at most 2^-11
 * on [-pi, pi]; the others are specified from them, from exp, or in
 * thousands of ulp: SwiftShader's sin differs from the float32 of Math.sin
 * by up to 4.5e-5 here); longer sums for reductions, products and gradients.
 */
function tolerance(name: string): number {
  if (TRANSCENDENTAL.has(name)) return 2 ** -11;
  // pow is exp2(b log2 |a|) in float32; erf within 1.5e-7 absolute (Abramowitz-Stegun).
  if (name.startsWith("pow")) return 2 ** -11;
  if (RELATIVE_CASES.has(name)) return 1e-5;
  if (name.startsWith("cumsum")) return 1e-4;
  if (name === "erfWide" || name === "embeddingGrad") return 1e-5;
  if (name.startsWith("sum") || name === "mean" || name.startsWith("matmul")) return 2e-4;
  if (name.startsWith("grad") || name.startsWith("jit")) return 2e-4;
  // float32 elimination over up to 64 rows (js works in float64): measured at most 2.4e-7
  if (name.startsWith("linalg")) return 2e-6;
  return 2e-5;
}

/**
 * The registry's primitives refused on webgpu (each with an error naming it
 * and the CPU backends): the portable Math functions, whose point is JS Math's
 * exact bits on every backend, and the incomplete gamma and beta inverses
 * (no WGSL form yet). A primitive that starts running on webgpu must leave
 * this list (the test requires it to be refused), so the list stays exact.
 */
const REFUSED_ON_WEBGPU = new Set([
  "portableExp",
  "portableLog",
  "portableSin",
  "portableCos",
  "incompleteGammaInv",
  "incompleteBetaInv",
]);

/** Why `gpu` differs from `ref` (float32 within tol of max(1, |ref|); others exactly), or null. */
function mismatch(dtype: string, gpu: number[] | null, ref: number[], tol: number): string | null {
  if (gpu === null) return "no result";
  if (gpu.length !== ref.length) return `${gpu.length} values for ${ref.length}`;
  for (let i = 0; i < gpu.length; i++) {
    const g = gpu[i]!;
    const e = ref[i]!;
    const ok = dtype === "float32" ? Math.abs(g - e) <= tol * Math.max(1, Math.abs(e)) : g === e;
    if (!ok) return `[${i}] webgpu ${g} vs js ${e} (tolerance ${tol})`;
  }
  return null;
}

/** Primitives computed from WGSL's transcendental builtins (sin, exp, log2, ...). */
const TRANSCENDENTAL_PRIMITIVES = new Set(
  "sin cos tan asin acos atan sinh cosh tanh exp log log1p expm1 erf asinh acosh atanh log2 log10 pow atan2".split(
    " ",
  ),
);

/** Relative tolerance (to max(1, |value|)) of a conformance entry on webgpu against js. */
function conformanceTolerance(name: string): number {
  return TRANSCENDENTAL_PRIMITIVES.has(name) ? 2 ** -11 : 1e-5;
}

/**
 * The largest error of float32 `gpu` against float64 `ref`, relative to
 * max(|ref|, floor) (floor 1: absolute below 1, for functions with zeros
 * that float32 cannot resolve relatively); infinities and NaN must match
 * exactly; where the float32 value of ref is subnormal (below 2^-126),
 * flushing to zero is allowed.
 */
function specialError(ref: number[], gpu: number[], floor: number): { max: number; at: number } {
  let max = 0;
  let at = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = ref[i]!;
    const g = gpu[i]!;
    const e32 = Math.fround(e);
    let err: number;
    if (!Number.isFinite(e32) || Number.isNaN(e)) {
      err = g === e32 || (Number.isNaN(g) && Number.isNaN(e)) ? 0 : Infinity;
    } else if (Math.abs(e32) < 2 ** -126) {
      err = Math.abs(g) <= 2 ** -125 ? 0 : Infinity;
    } else {
      err = Math.abs(g - e) / Math.max(Math.abs(e), floor);
    }
    if (!(err <= max)) {
      max = err;
      at = i;
    }
  }
  return { max, at };
}

/**
 * The bound on the gradients' relative error (specialError with floor 0):
 * about three times the largest error measured on SwiftShader. The rules
 * built on WGSL's exp (erfc's exp(-x^2), logNdtr's exp of a difference of
 * two large logs) lose more; i0e' = i1e - sign(x) i0e and i1e' cancel for
 * large |x| (relative error times about 2|x|).
 */
const SPECIAL_GRAD_TOLERANCE: Record<string, number> = {
  gammaln: 1e-6,
  digamma: 1e-6,
  erfc: 6e-6,
  logNdtr: 1.5e-5,
  erfinv: 1.5e-6,
  ndtri: 2e-6,
  i0e: 5e-5,
  i1e: 5e-5,
};

/**
 * Each grid's bound on specialError (relative, or absolute below `floor`):
 * about three times the largest error measured on SwiftShader (all between
 * 1.5e-7 and 6e-7, polygamma 1.4e-6, the incomplete gamma functions
 * below), so a wrong coefficient or branch fails.
 * `dispatches`: of the jitted v => f(v * 0.5), the product fused into f's shader.
 */
const SPECIAL_BOUNDS: Record<string, { tol: number; floor: number; dispatches: number }> = {
  erfc: { tol: 1e-6, floor: 0, dispatches: 1 },
  ndtr: { tol: 1e-6, floor: 0, dispatches: 1 },
  logNdtr: { tol: 1e-6, floor: 0, dispatches: 1 },
  erfinv: { tol: 1e-6, floor: 0, dispatches: 1 },
  ndtri: { tol: 1e-6, floor: 0, dispatches: 1 },
  lgamma: { tol: 1.5e-6, floor: 0, dispatches: 1 },
  lgammaNegative: { tol: 1.5e-6, floor: 1, dispatches: 1 },
  digamma: { tol: 1e-6, floor: 0, dispatches: 1 },
  digammaNegative: { tol: 2e-6, floor: 1, dispatches: 1 },
  i0e: { tol: 1.5e-6, floor: 0, dispatches: 1 },
  i1e: { tol: 1.5e-6, floor: 0, dispatches: 1 },
  // special.polygamma (digamma where n = 0, polygamma elsewhere): the jit cuts it in two shaders
  polygamma: { tol: 5e-6, floor: 0, dispatches: 2 },
  // P and Q for a <= 15 (3.0e-6 and 1.9e-6 measured); for a = 60, 300, 5000 float32's
  // rounding of eta = (x - a) / a is multiplied by a in the tails (8.1e-6 and 1.5e-5)
  gammainc: { tol: 1e-5, floor: 0, dispatches: 1 },
  gammaincc: { tol: 6e-6, floor: 0, dispatches: 1 },
  gammaincLargeA: { tol: 3e-5, floor: 0, dispatches: 1 },
  gammainccLargeA: { tol: 4e-5, floor: 0, dispatches: 1 },
  // I_x(a, b): 1.0e-5 measured for a, b <= 40 (log B(a, b) from three float32 lgammas;
  // 1 - I_(1-x)(b, a) cancels), 2.4e-5 for a, b >= 20 (the prefactor's a (e1 - log1p e1))
  betainc: { tol: 3e-5, floor: 0, dispatches: 1 },
  betaincLargeAB: { tol: 6e-5, floor: 0, dispatches: 1 },
};

describe.skipIf(!haveChromium)("webgpu in headless Chromium (SwiftShader)", () => {
  let server: http.Server;
  let origin = "";
  let results: PageResults;

  beforeAll(async () => {
    const esbuild = await import("esbuild");
    const built = await esbuild.build({
      entryPoints: [fileURLToPath(new URL("./webgpu-page.ts", import.meta.url))],
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      logLevel: "silent",
      // Every module's top level runs (package.json's sideEffects names dist/ files only,
      // so without this esbuild drops primitive modules that the page does not call).
      ignoreAnnotations: true,
    });
    const script = built.outputFiles[0]!.text;
    const html = `<!doctype html><html><head><script type="module" src="/page.js"></script></head><body></body></html>`;
    server = http.createServer((req, res) => {
      const isScript = req.url === "/page.js";
      res.setHeader("content-type", isScript ? "text/javascript" : "text/html");
      res.end(isScript ? script : html);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...WEBGPU_CHROMIUM_ARGS, "--js-flags=--expose-gc"],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => "chainruleWebgpuChecks" in globalThis, undefined, {
        timeout: 60_000,
      });
      results = await page.evaluate(() =>
        (
          globalThis as unknown as { chainruleWebgpuChecks: () => Promise<PageResults> }
        ).chainruleWebgpuChecks(),
      );
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
    // Generous: a loaded machine (the whole suite in parallel) slows SwiftShader's shader compiles.
  }, 180_000);

  afterAll(() => {
    server?.close();
  });

  it("runs every case on webgpu and agrees with the js backend within float32 tolerance", () => {
    expect(results.backend).toBe("webgpu");
    expect(results.cases.length).toBeGreaterThan(30);
    const failures: string[] = [];
    for (const c of results.cases) {
      if (c.error !== null || c.gpu === null || c.gpu.length !== c.ref.length) {
        failures.push(`${c.name}: ${c.error ?? `got ${c.gpu?.length} values for ${c.ref.length}`}`);
        continue;
      }
      const tol = tolerance(c.name);
      for (let i = 0; i < c.gpu.length; i++) {
        const gpu = c.gpu[i]!;
        const ref = c.ref[i]!;
        // int32 and bool results are exact; float32 within roundoff, relative to
        // max(1, |value|), or to |value| for the cases about small arguments;
        // infinities and NaN exactly.
        const scale = RELATIVE_CASES.has(c.name) ? Math.abs(ref) : Math.max(1, Math.abs(ref));
        // (zeros compare by value: WGSL does not promise to keep the sign of zero)
        const same = gpu === ref || (Number.isNaN(gpu) && Number.isNaN(ref));
        const bad =
          c.dtype === "float32" && Number.isFinite(ref) && ref !== 0
            ? !(Math.abs(gpu - ref) <= tol * scale)
            : !same;
        if (bad) {
          failures.push(`${c.name}[${i}]: webgpu ${gpu} vs js ${ref} (tolerance ${tol})`);
          break;
        }
      }
    }
    // The solvers' largest errors (relative to max(1, |value|)), for docs/design.md.
    const solverErrors = results.cases
      .filter((c) => c.name.startsWith("linalg") && c.gpu !== null)
      .map((c) => {
        const worst = Math.max(
          ...c.ref.map((e, i) => Math.abs(c.gpu![i]! - e) / Math.max(1, Math.abs(e))),
        );
        return `${c.name}: ${worst.toExponential(2)}`;
      });
    console.log(solverErrors.join("\n"));
    expect(failures).toEqual([]);
  });

  it("runs the registry conformance table on webgpu: each primitive agrees with js or is refused by name", () => {
    // Every entry of the table was evaluated (the page registers every primitive).
    expect(results.conformance.map((c) => c.name).sort()).toEqual([...SPEC_OF.keys()].sort());
    const failures: string[] = [];
    const refused: string[] = [];
    for (const c of results.conformance) {
      const tol = conformanceTolerance(c.name);
      if (REFUSED_ON_WEBGPU.has(c.name)) {
        // Refused by name, with the advice; its derivative too.
        const advice = `not supported on webgpu yet: ${c.name}`;
        if (c.error?.includes(advice) === true && c.error.includes('setBackend("wasm")')) {
          refused.push(c.name);
        } else failures.push(`${c.name}: expected a refusal, got ${c.error ?? "a result"}`);
        if (c.vjp !== null && c.vjp.error?.includes(advice) !== true) {
          failures.push(`${c.name} vjp: expected a refusal, got ${c.vjp.error ?? "a result"}`);
        }
        continue;
      }
      const value = c.error ?? mismatch(c.dtype, c.gpu, c.ref, tol);
      if (value !== null) failures.push(`${c.name}: ${value}`);
      if (c.vjp !== null) {
        const cotangent = c.vjp.error ?? mismatch("float32", c.vjp.gpu, c.vjp.ref, 4 * tol);
        if (cotangent !== null) failures.push(`${c.name} vjp: ${cotangent}`);
      }
    }
    expect(failures).toEqual([]);
    expect(refused.sort()).toEqual([...REFUSED_ON_WEBGPU].sort());
    // Most of the table runs (a guard against refusing everything).
    expect(results.conformance.length - refused.length).toBeGreaterThan(60);
  });

  it("jit fuses elementwise chains into one WGSL dispatch, sums included, and agrees with the unfused path", () => {
    const d = results.dispatches;
    // Seven elementwise operations and the broadcasts of the two scalars: nine
    // dispatches eagerly, one under jit.
    expect(d.eagerChain).toBe(9);
    expect(d.jitChain).toBe(1);
    // Seven 0-d operations: one dispatch each eagerly, one in all under jit.
    expect(d.eagerScalarChain).toBe(7);
    expect(d.jitScalarChain).toBe(1);
    // Broadcasts of arrays (a bias row, a column scale) are read by computed index in the
    // same shader: add, multiply and max with both broadcasts are one dispatch.
    expect(d.jitBiasRelu).toBe(1);
    // With its full sum: one dispatch (one workgroup folds 210 elements); 300,000
    // elements take the partial sums' second dispatch.
    expect(d.jitChainSum).toBe(1);
    expect(d.jitChainSumBig).toBe(2);
    // z and sum(z), then z * sum(z): two fused shaders (the second reads the sum).
    expect(d.jitRescale).toBe(2);
    // Ten operands and the result exceed 8 storage buffers per shader: split (greedily,
    // in order: a split can leave the pending product as one more output, so two or
    // three shaders), far fewer than the 19 operations and broadcasts.
    expect(d.jitManyOperands).toBeGreaterThanOrEqual(2);
    expect(d.jitManyOperands).toBeLessThanOrEqual(3);
    // A jitted call is one command buffer, however many dispatches (eager: one each).
    expect(results.jittedGradCost.dispatches).toBeGreaterThan(3);
    expect(results.jittedGradCost.submits).toBe(1);
    expect(results.eagerGradCost.submits).toBe(results.eagerGradCost.dispatches);
    expect(results.jittedGradCost.dispatches).toBeLessThan(results.eagerGradCost.dispatches);
    // The fused results equal the unfused (eager webgpu) ones within float32 roundoff.
    const at = (name: string) => results.cases.find((c) => c.name === name)!.gpu!;
    const pairs: [string, string, number][] = [
      ["jitChain", "jitChainEager", 1e-6],
      ["jitBiasRelu", "jitBiasReluEager", 1e-6],
      ["jitChainSumBig", "jitChainSumBigEager", 1e-5],
    ];
    for (const [fused, eager, tol] of pairs) {
      const a = at(fused);
      const b = at(eager);
      expect(a.length).toBe(b.length);
      a.forEach((v, i) =>
        expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!))),
      );
    }
  });

  it("refuses solvers on matrices beyond 64 x 64 with advice", () => {
    expect(results.linalgTooLarge).toMatch(
      /^ChainruleError: not supported on webgpu yet: solve \(matrices of 65 x 65 \(shape \[2, 65, 65\]\): the webgpu solvers take n <= 64, one matrix per GPU thread\); use setBackend\("wasm"\) \(or "js"\)/,
    );
  });

  it("refuses multi-output primitives by name", () => {
    expect(results.multiOutput).toMatch(
      /^ChainruleError: not supported on webgpu yet: sort; use setBackend\("wasm"\)/,
    );
  });

  it("synchronous reads of GPU arrays name the asynchronous ones", () => {
    const advice =
      /use await x\.dataAsync\(\), await x\.toArrayAsync\(\) or await x\.itemAsync\(\)/;
    expect(results.syncData).toMatch(
      /^ChainruleError: data: this array lives on the webgpu backend/,
    );
    expect(results.syncData).toMatch(advice);
    expect(results.syncItem).toMatch(
      /^ChainruleError: item: this array lives on the webgpu backend/,
    );
    expect(results.syncToString).toMatch(advice);
  });

  it("refuses unsupported primitives and float64 with advice; astype('float32') converts on the host", () => {
    expect(results.unsupported).toMatch(
      /not supported on webgpu yet: portableExp \(it has no WGSL form yet\); use setBackend\("wasm"\) \(or "js"\)/,
    );
    expect(results.wrongDtype).toMatch(
      /^ChainruleError: not supported on webgpu yet: floatOnlyForm \(its WGSL form takes float32, got int32\)/,
    );
    // Under jit too (the fused group falls back to the refusing eager kernel).
    expect(results.jitUnsupported).toMatch(
      /^ChainruleError: not supported on webgpu yet: portableExp/,
    );
    expect(results.jitFloat64).toMatch(/^DTypeError: sin on webgpu: got a float64 array/);
    expect(results.float64).toMatch(
      /^DTypeError: .*got a float64 array .*x\.astype\("float32"\).*setBackend\("wasm"\)/,
    );
    expect(results.astypeFloat32).toEqual([2.5, 3]);
  });

  it("recycles GPU buffers: a loop of 200 steps creates fewer buffers than steps (it uses about 1,200)", () => {
    const { steps, value, createdBefore, createdAfter } = results.loop;
    // The loop's value, sum(tanh(w v + 0.5)), against the js case of the same expression.
    const ref = results.cases.find((c) => c.name === "loopValue")!.ref[0]!;
    expect(Math.abs(value - ref)).toBeLessThan(2 ** -11 * 64);
    const created = createdAfter - createdBefore;
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThan(steps);
  });

  it("reads scalars and nested arrays asynchronously", () => {
    const sum = results.cases.find((c) => c.name === "sumAll")!;
    // The sum of x + y, checked against a plain loop over the js values of x + y.
    const add = results.cases.find((c) => c.name === "add")!;
    const loop = add.ref.reduce((s, v) => s + v, 0);
    expect(Math.abs(results.itemAsync - loop)).toBeLessThan(1e-3);
    expect(sum.gpu).not.toBeNull();
    expect(results.toArrayAsync).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
  });

  it("special functions: float32 WGSL forms against float64 on dense grids, eagerly and under jit", () => {
    const report: string[] = [];
    const failures: string[] = [];
    for (const r of results.special) {
      if (r.error !== null || r.gpu === null || r.jit === null) {
        failures.push(`${r.name}: ${r.error}`);
        continue;
      }
      const bound = SPECIAL_BOUNDS[r.name]!;
      const eager = specialError(r.ref, r.gpu, bound.floor);
      const fused = specialError(r.ref, r.jit, bound.floor);
      report.push(
        `${r.name}: max error ${eager.max.toExponential(2)} at x = ${r.x[eager.at]} (jit ${fused.max.toExponential(2)}, ${r.jitDispatches} dispatch)`,
      );
      if (!(eager.max <= bound.tol))
        failures.push(
          `${r.name}: eager ${eager.max} > ${bound.tol} at x = ${r.x[eager.at]}: ${r.gpu[eager.at]} vs ${r.ref[eager.at]}`,
        );
      if (!(fused.max <= bound.tol))
        failures.push(`${r.name}: jit ${fused.max} > ${bound.tol} at x = ${r.x[fused.at]}`);
      if (r.jitDispatches !== bound.dispatches) {
        failures.push(`${r.name}: jit took ${r.jitDispatches} dispatches`);
      }
    }
    console.log(report.join("\n"));
    expect(failures).toEqual([]);
  });

  it("gradients through the special functions on webgpu (their rules call digamma, polygamma, i1e, ...) agree with float64 on js", () => {
    const report: string[] = [];
    const failures: string[] = [];
    for (const r of results.specialGrads) {
      if (r.error !== null || r.gpu === null || r.jit === null) {
        failures.push(`${r.name}: ${r.error}`);
        continue;
      }
      const eager = specialError(r.ref, r.gpu, 0);
      const fused = specialError(r.ref, r.jit, 0);
      report.push(
        `grad ${r.name}: max error ${eager.max.toExponential(2)} at x = ${r.x[eager.at]} (jit ${fused.max.toExponential(2)}, ${r.jitDispatches} dispatches)`,
      );
      const tol = SPECIAL_GRAD_TOLERANCE[r.name]!;
      if (!(eager.max <= tol))
        failures.push(
          `${r.name}: eager ${eager.max} at x = ${r.x[eager.at]}: ${r.gpu[eager.at]} vs ${r.ref[eager.at]}`,
        );
      if (!(fused.max <= tol)) failures.push(`${r.name}: jit ${fused.max} at x = ${r.x[fused.at]}`);
    }
    console.log(report.join("\n"));
    expect(failures).toEqual([]);
  });
});
