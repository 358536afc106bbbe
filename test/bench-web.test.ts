/**
 * The browser benchmark page (bench/web/). In Node: its statistics and its
 * independent references (quantiles against hand-worked values, the float64
 * MLP loss against log(classes) at zero weights, the sampled product check
 * against a full triple loop, and that it flags a wrong entry). In headless
 * Chromium with WebGPU on SwiftShader (needs /usr/bin/chromium; skipped with
 * the reason otherwise): the page in quick mode at tiny sizes, where every
 * library that is available must pass its checks and be timed, its W2 losses
 * and W3 entries must agree with references computed here in Node, and a
 * library whose results are deliberately perturbed (`tamper=`) must be
 * refused and left untimed; an unknown URL option ends the page with an
 * error naming it. No timing is asserted (SwiftShader emulates a GPU on the
 * CPU).
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, WEBGPU_CHROMIUM_ARGS } from "./browser.js";
import type { PageReport } from "../bench/web/page.js";
import { type BenchServer, startBenchServer } from "../bench/web/server.js";
import { quantile, summarize, timingRows } from "../bench/web/stats.js";
import {
  makeMatmulData,
  makeMlpData,
  maxRelDiff,
  plainMlpLoss,
  referenceEntries,
  sampledError,
  sampleEntries,
} from "../bench/web/workloads.js";

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.log(
    `bench-web.test.ts: browser part skipped: ${CHROMIUM} not found (apt-get install chromium)`,
  );
}

/** C = A B in float64 by the plain triple loop. */
function fullProduct(a: Float32Array, b: Float32Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * b[k * n + j]!;
      c[i * n + j] = s;
    }
  }
  return c;
}

describe("bench/web in Node: statistics and references", () => {
  it("quantiles interpolate linearly between order statistics", () => {
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    // positions (n - 1) q = 0.75 and 2.25 of [1, 2, 3, 4]
    expect(quantile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantile([1, 2, 3, 4], 0.75)).toBeCloseTo(3.25, 12);
    const s = summarize({ name: "c", times: [4, 1, 3, 2] });
    expect([s.median, s.q1, s.q3, s.runs]).toEqual([2.5, 1.75, 3.25, 4]);
    expect(summarize({ name: "d", times: [1], note: "failed: x" }).median).toBeNull();
  });

  it("ratios divide each median by the reference's; throughput is work per second", () => {
    const { header, rows } = timingRows(
      [
        { name: "a", runs: 3, median: 2, q1: 1, q3: 3 },
        { name: "b", runs: 3, median: 8, q1: 7, q3: 9 },
      ],
      ["b", "absent"],
      { label: "GFLOP/s", perCall: 4 },
    );
    expect(header).toEqual(["case", "median ms", "q1-q3 ms", "runs", "GFLOP/s", "time / b"]);
    // 4 GFLOP in 2 ms is 2,000 GFLOP/s; 2 ms / 8 ms = 0.25
    expect(rows[0]).toEqual(["a", "2.000", "1.00-3.00", "3", "2000.0", "0.25"]);
    expect(rows[1]![5]).toBe("1.00");
  });

  it("the float64 MLP loss is log(classes) at zero weights and biases", () => {
    const d = makeMlpData({ batch: 6, nIn: 9, nHidden: 7, nOut: 5 });
    d.w1.fill(0);
    d.b1.fill(0);
    d.w2.fill(0);
    d.b2.fill(0);
    // equal logits: each row's cross-entropy against a one-hot label is log 5
    expect(plainMlpLoss(d)).toBeCloseTo(Math.log(5), 14);
  });

  it("the sampled product check agrees with a full triple loop and flags one wrong entry", () => {
    const n = 33;
    const { a, b } = makeMatmulData(n);
    const full = fullProduct(a, b, n);
    const entries = sampleEntries(n, 64);
    expect(entries).toHaveLength(64);
    expect(entries.every(([i, j]) => i >= 0 && i < n && j >= 0 && j < n)).toBe(true);
    const refs = referenceEntries(a, b, n, entries);
    entries.forEach(([i, j], e) => expect(refs[e]!.value).toBeCloseTo(full[i * n + j]!, 10));
    const c32 = Float32Array.from(full);
    expect(sampledError(c32, n, entries, refs)).toBeLessThan(1e-6);
    const [i, j] = entries[10]!;
    const wrong = Float32Array.from(c32);
    wrong[i * n + j] = wrong[i * n + j]! + 0.05 * refs[10]!.scale;
    expect(sampledError(wrong, n, entries, refs)).toBeGreaterThan(0.04);
    wrong[i * n + j] = NaN;
    expect(sampledError(wrong, n, entries, refs)).toBe(Infinity);
    expect(maxRelDiff(c32, full)).toBeLessThan(1e-6);
    expect(maxRelDiff(wrong, full)).toBe(Infinity);
  });
});

const MLP = { batch: 8, nIn: 20, nHidden: 16, nOut: 5 };
const SIZES = [16, 33];
const ROUNDS = 2;
const OURS = ["chainrule webgpu", "chainrule wasm"];

describe.skipIf(!haveChromium)("bench/web in headless Chromium (SwiftShader)", () => {
  let server: BenchServer;
  let report: PageReport;
  let tampered: PageReport;
  let badOption: PageReport;

  beforeAll(async () => {
    server = await startBenchServer(0);
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...WEBGPU_CHROMIUM_ARGS],
    });
    const load = async (query: string): Promise<PageReport> => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`${server.origin}/?${query}`);
      await page.waitForFunction(
        () => (globalThis as { chainruleBench?: { done: boolean } }).chainruleBench?.done === true,
        undefined,
        { timeout: 50_000, polling: 100 },
      );
      const r = await page.evaluate(
        () => (globalThis as unknown as { chainruleBench: PageReport }).chainruleBench,
      );
      await page.close();
      expect(errors).toEqual([]);
      return r;
    };
    try {
      const mlp = `${MLP.batch}x${MLP.nIn}x${MLP.nHidden}x${MLP.nOut}`;
      report = await load(`quick&sizes=${SIZES.join(",")}&mlp=${mlp}&rounds=${ROUNDS}`);
      const libs = "chainrule-webgpu,chainrule-wasm,tfjs-wasm";
      tampered = await load(
        `quick&sizes=16&mlp=${mlp}&rounds=1&libs=${libs}&tamper=chainrule-wasm`,
      );
      badOption = await load("libs=chainrule-webgpu,nope");
    } finally {
      await browser.close();
    }
  }, 150_000);

  afterAll(async () => {
    await server?.close();
  });

  it("ends without an error, with chainrule webgpu and wasm available", () => {
    expect(report.error).toBeUndefined();
    expect(report.done).toBe(true);
    expect(report.environment.join("\n")).toMatch(/WebGPU adapter: .*swiftshader/);
    expect(report.text).toMatch(/WARNING: this adapter is a CPU emulation/);
    for (const l of report.libs) {
      if (!l.available) console.log(`bench-web.test.ts: ${l.label} unavailable: ${l.reason}`);
    }
    const available = report.libs.filter((l) => l.available).map((l) => l.label);
    expect(available).toEqual(expect.arrayContaining(OURS));
    expect(report.workloads.map((w) => w.title.slice(0, 2))).toEqual(["W2", "W3", "W3"]);
  });

  it("every available library passes its checks and is timed in every round", () => {
    const available = report.libs.filter((l) => l.available).map((l) => l.label);
    for (const w of report.workloads) {
      const failed = w.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.error ?? "wrong"}`);
      expect(failed, w.title).toEqual([]);
      const timed = w.summaries.map((s) => s.name.replace(/ jit$/, ""));
      expect(timed.sort(), w.title).toEqual([...available].sort());
      for (const s of w.summaries) {
        expect(s.note, `${w.title}: ${s.name}`).toBeUndefined();
        expect(s.runs).toBe(ROUNDS);
        expect(s.median).toBeGreaterThan(0);
      }
    }
  });

  it("W2 losses agree with each other and with a float64 loss computed here", () => {
    const reference = plainMlpLoss(makeMlpData(MLP));
    const w2 = report.workloads[0]!;
    const firsts = w2.checks.map((c) => c.losses![0]!);
    for (const l of firsts) expect(Math.abs(l - reference) / reference).toBeLessThan(1e-4);
    // SGD lowers the loss, in every library alike
    for (const step of [1, 2]) {
      const col = w2.checks.map((c) => c.losses![step]!);
      expect(Math.max(...col) - Math.min(...col)).toBeLessThan(1e-4 * reference);
      expect(Math.max(...col)).toBeLessThan(Math.min(...firsts));
    }
  });

  it("W3 products agree with float64 dot products computed here", () => {
    SIZES.forEach((n, s) => {
      const w3 = report.workloads[1 + s]!;
      const { a, b } = makeMatmulData(n);
      const refs = referenceEntries(a, b, n, sampleEntries(n, 64));
      for (const c of w3.checks) {
        expect(c.sample, c.name).toHaveLength(64);
        c.sample!.forEach((v, e) =>
          expect(Math.abs(v - refs[e]!.value), `${c.name} n=${n} entry ${e}`).toBeLessThan(
            1e-5 * refs[e]!.scale,
          ),
        );
      }
    });
  });

  it("a library with perturbed results is refused and not timed; the others still run", () => {
    expect(tampered.error).toBeUndefined();
    expect(tampered.workloads).toHaveLength(2);
    for (const w of tampered.workloads) {
      const bad = w.checks.filter((c) => !c.ok).map((c) => c.name.replace(/ jit$/, ""));
      expect(bad, w.title).toEqual(["chainrule wasm"]);
      const timed = w.summaries.map((s) => s.name);
      expect(timed.some((t) => t.startsWith("chainrule wasm"))).toBe(false);
      expect(timed.some((t) => t.startsWith("chainrule webgpu"))).toBe(true);
    }
  });

  it("an unknown option value ends the page with an error naming it and the choices", () => {
    expect(badOption.done).toBe(true);
    expect(badOption.error).toMatch(
      /\?libs: unknown library "nope"; known: chainrule-webgpu, chainrule-wasm, tfjs-webgpu/,
    );
    expect(badOption.workloads).toEqual([]);
  });
});
