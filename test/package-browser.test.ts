/**
 * The published package in a bundled page in headless Chromium. The
 * sources are built into a scratch directory and packed with `npm pack`
 * (scripts/packed.ts), the tarball is unpacked into a scratch consumer
 * project whose page imports from "chainrule", and that page is bundled
 * with esbuild, with Vite 7 and with Vite 8 (the consumer does not install the optional
 * @viz-js/viz: both bundles must build without it, and renderSvg must then
 * say what to install). A server on 127.0.0.1 serves the bundles under
 * five header sets:
 *   coop-coep      cross-origin isolated: Wasm and worker threads;
 *   plain          no isolation: Wasm on one thread;
 *   strict-csp     isolated, but a CSP without 'wasm-unsafe-eval': the JS
 *                  backend must run, say so, and warn once;
 *   readme-csp     isolated, with the CSP the README documents: Wasm and threads;
 *   no-worker-csp  the README's CSP less `worker-src blob:`: Wasm on one
 *                  thread, one warning, and ready() must not wait for the
 *                  blocked workers.
 * The page (test/package-page.ts) runs grad, jit, matmul, vmap and
 * checkpointed scans after `await ready()`; the numbers are compared with
 * analytic values and plain loops computed here, and with the same code
 * run in Node on the source tree. Whether threads ran is read from
 * outside the page: Playwright's list of the page's workers, and the CPU
 * time of Chromium's worker threads (/proc) across a burst of products.
 * Needs /usr/bin/chromium (skipped with the reason otherwise).
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, QUIET_CHROMIUM_ARGS } from "./browser.js";
import * as source from "../src/index.js";
import { packPackage } from "../scripts/packed.js";
import {
  CHAIN_N,
  M_COLS,
  M_INNER,
  M_ROWS,
  SCAN_XS,
  V,
  VMAP_ROWS,
  W,
  X,
  type PageReport,
  chainInput,
  matrix,
  runPageChecks,
} from "./package-page.js";

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.log(`package-browser.test.ts: skipped: ${CHROMIUM} not found (apt-get install chromium)`);
}

const ISOLATION = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

/** The server configurations, and what the page must see under each. */
const CONFIGS = {
  "coop-coep": { headers: ISOLATION, isolated: true, backend: "wasm", threads: true },
  plain: { headers: {}, isolated: false, backend: "wasm", threads: false },
  "strict-csp": {
    headers: { ...ISOLATION, "Content-Security-Policy": "default-src 'self'; script-src 'self'" },
    isolated: true,
    backend: "js",
    threads: false,
  },
  "readme-csp": {
    headers: {
      ...ISOLATION,
      "Content-Security-Policy":
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src blob:",
    },
    isolated: true,
    backend: "wasm",
    threads: true,
  },
  "no-worker-csp": {
    headers: {
      ...ISOLATION,
      "Content-Security-Policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'",
    },
    isolated: true,
    backend: "wasm",
    threads: false,
  },
} as const;
type ConfigName = keyof typeof CONFIGS;
type Bundler = "esbuild" | "vite" | "vite8";
/**
 * The pages opened: the esbuild bundle under every configuration, the Vite
 * bundle (which only loads differently) with threads and under the strict CSP.
 */
const PAGES: [ConfigName, Bundler][] = [
  ...(Object.keys(CONFIGS) as ConfigName[]).map((c): [ConfigName, Bundler] => [c, "esbuild"]),
  ["coop-coep", "vite"],
  ["strict-csp", "vite"],
  ["coop-coep", "vite8"],
  ["strict-csp", "vite8"],
];

/**
 * CPU time the worker threads must show (ms) across at most BURSTS bursts of
 * 40 float32 384^3 products: a burst gives them about 60 ms here, idle
 * workers show 0.
 */
const WORKER_CPU_MS = 10;
const BURSTS = 5;

const CSP_WARNING = /chainrule: this page's Content-Security-Policy refused to compile WebAssembly/;
const WORKER_WARNING =
  /chainrule: (\d) of \1 worker threads could not start \(a Content-Security-Policy without worker-src blob: blocks them\), so the Wasm kernels run on 1 thread; allow worker-src blob: to use them/;

/** The page's entry: the import a user writes, then the shared checks. */
const ENTRY = `import { grad, jit, np, vmap, lax, checkpoint, ready, getBackend, renderSvg } from "chainrule";
import { busyMatmuls, runPageChecks } from "./checks.js";
const lib = { grad, jit, np, vmap, lax, checkpoint, ready, getBackend, renderSvg };
globalThis.chainrulePage = {
  report: runPageChecks(lib, { tryRenderSvg: true }),
  busy: (reps) => busyMatmuls(lib, reps),
};
`;

/**
 * A bare dynamic import of @viz-js/viz, as renderSvg must keep it in a bundle
 * (Vite 8's minifier quotes the specifier with backticks).
 */
const BARE_VIZ_IMPORT = /import\(\s*(\/\*[^]*?\*\/\s*)?["'`]@viz-js\/viz["'`]\s*\)/;

interface PageRun {
  report: PageReport;
  /** Console messages, as "type: text". */
  console: string[];
  pageErrors: string[];
  /** Dedicated workers Playwright saw the page start. */
  workers: number;
  /** CPU time of Chromium's worker threads during busyMatmuls, in ms (undefined without /proc). */
  workerCpuMs: number | undefined;
  /** Worker threads found in the renderer processes. */
  workerThreads: number | undefined;
}

/** Pids of the browser's renderer processes (Chromium's SystemInfo domain). */
async function rendererPids(browser: Browser): Promise<number[]> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const info = (await cdp.send("SystemInfo.getProcessInfo")) as {
      processInfo: { type: string; id: number }[];
    };
    return info.processInfo.filter((p) => p.type === "renderer").map((p) => p.id);
  } finally {
    await cdp.detach();
  }
}

/**
 * CPU time (ns, from /proc/<pid>/task/<tid>/schedstat) of the threads
 * Chromium names "DedicatedWorker thread" in these processes, and their
 * count; undefined where /proc cannot be read.
 */
function workerThreadTime(pids: readonly number[]): { ns: number; threads: number } | undefined {
  if (!existsSync("/proc/self/task")) return undefined;
  let ns = 0;
  let threads = 0;
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // the process has exited
    }
    for (const tid of tids) {
      try {
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8");
        if (!comm.startsWith("DedicatedWorker")) continue;
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
        threads++;
      } catch {
        // the thread has exited
      }
    }
  }
  return { ns, threads };
}

// ---- references computed here, independently of the library ----

function matmulLoop(a: number[], b: number[], m: number, k: number, n: number): number[] {
  const c = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
      c[i * n + j] = s;
    }
  return c;
}

/** The scan's loss (see package-page.ts) as a float64 loop. */
function scanLossLoop(w: number, xs: readonly number[]): number {
  let c = 1;
  let ys = 0;
  for (const x of xs) {
    c = Math.sin(c) * w + x;
    ys += c * c;
  }
  return c + 0.1 * ys;
}

/** Central finite differences of scanLossLoop in w and each x (float64, h = 1e-5). */
function scanGradFd(): { w: number; xs: number[] } {
  const h = 1e-5;
  const dw = (scanLossLoop(W + h, SCAN_XS) - scanLossLoop(W - h, SCAN_XS)) / (2 * h);
  const dxs = SCAN_XS.map((_, i) => {
    const up = SCAN_XS.map((x, j) => (j === i ? x + h : x));
    const down = SCAN_XS.map((x, j) => (j === i ? x - h : x));
    return (scanLossLoop(W, up) - scanLossLoop(W, down)) / (2 * h);
  });
  return { w: dw, xs: dxs };
}

function expectClose(got: readonly number[], want: readonly number[], rel: number, what: string) {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  expect(
    worst,
    `${what}: worst relative error ${worst} at ${at} (${got[at]} vs ${want[at]})`,
  ).toBeLessThanOrEqual(rel);
}

let chainReference: number[] | undefined;

/** exp(2 sin(x) + 1) in float64 at the jit chain's float32 inputs (computed once). */
function chainValues(): number[] {
  chainReference ??= chainInput(CHAIN_N).map((v) => Math.exp(2 * Math.sin(v) + 1));
  return chainReference;
}

/** Checks a report against the references computed here. */
function checkReport(r: PageReport, where: string): void {
  expectClose(
    r.gradSin,
    X.map((x) => Math.cos(x) * x + Math.sin(x)),
    1e-13,
    `${where} grad`,
  );
  const x = 0.7;
  expectClose([r.jitGrad], [Math.cos(x) * x * x + 2 * x * Math.sin(x)], 1e-13, `${where} jit`);
  // float32 arithmetic: each step rounds (relative 6e-8), and exp turns the absolute
  // error of its argument (|2 sin x + 1| <= 3) into a relative one: well within 2e-6.
  expect(r.jitChain, `${where} jit chain dtype`).toBeInstanceOf(Float32Array);
  expectClose(Array.from(r.jitChain), chainValues(), 2e-6, `${where} jit chain`);
  const a = matrix(M_ROWS, M_INNER, 1);
  const b = matrix(M_INNER, M_COLS, 2);
  const c = matmulLoop(a, b, M_ROWS, M_INNER, M_COLS);
  // Every product and partial sum is exact in float32 (see matrix()).
  expect(r.matmul32, `${where} float32 matmul dtype`).toBeInstanceOf(Float32Array);
  expect(r.matmul64, `${where} float64 matmul dtype`).toBeInstanceOf(Float64Array);
  expect(Array.from(r.matmul32), `${where} float32 matmul`).toEqual(c);
  expect(Array.from(r.matmul64), `${where} float64 matmul`).toEqual(c);
  const rows = matrix(VMAP_ROWS, 3, 3);
  const dots = Array.from({ length: VMAP_ROWS }, (_, i) =>
    V.reduce((s, v, j) => s + v * rows[i * 3 + j]!, 0),
  );
  expect(r.vmapDot, `${where} vmap dot`).toEqual(dots);
  const cubes = Array.from({ length: VMAP_ROWS }, (_, i) =>
    rows.slice(i * 3, i * 3 + 3).map((v) => 3 * v * v),
  );
  expect(r.vmapGrad, `${where} vmap grad`).toEqual(cubes);
  expectClose([r.scanLoss], [scanLossLoop(W, SCAN_XS)], 1e-13, `${where} scan loss`);
  const fd = scanGradFd();
  // Finite differences with h = 1e-5 are good to about 1e-9 here.
  expectClose([r.scanGradW, ...r.scanGradXs], [fd.w, ...fd.xs], 1e-8, `${where} scan grad`);
  expectClose(
    [r.checkpointGradW, ...r.checkpointGradXs],
    [fd.w, ...fd.xs],
    1e-8,
    `${where} checkpoint(scan) grad`,
  );
}

/** The float entries of a report, in a fixed order, for comparing two reports. */
function numbers(r: PageReport): number[] {
  return [
    ...r.gradSin,
    r.jitGrad,
    ...Array.from(r.matmul32),
    ...Array.from(r.matmul64),
    ...r.vmapDot,
    ...r.vmapGrad.flat(),
    r.scanLoss,
    r.scanGradW,
    ...r.scanGradXs,
    r.checkpointGradW,
    ...r.checkpointGradXs,
  ];
}

const MIME: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".map": "application/json",
};

/** Every file under dir, by its path relative to dir (with forward slashes). */
function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p).split("\\").join("/"), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe.skipIf(!haveChromium)("the packed package in a bundled page in Chromium", () => {
  let scratch = "";
  let server: http.Server | undefined;
  let browser: Browser | undefined;
  let origin = "";
  const bundles = new Map<Bundler, Map<string, Buffer>>();
  const runs = new Map<string, PageRun>();
  let nodeReport: PageReport;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "chainrule-pkgweb-"));
    packPackage(scratch, { build: true });
    // The consumer project: the unpacked package in node_modules, the page's entry
    // and the shared checks (types stripped), and an index.html for Vite.
    const consumer = scratch;
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(join(consumer, "main.js"), ENTRY);
    const esbuild = await import("esbuild");
    const checksTs = readFileSync(fileURLToPath(new URL("./package-page.ts", import.meta.url)));
    const checks = await esbuild.transform(checksTs.toString(), { loader: "ts", format: "esm" });
    writeFileSync(join(consumer, "checks.js"), checks.code);
    const html = `<!doctype html><html><head><script type="module" src="./main.js"></script></head><body></body></html>`;
    writeFileSync(join(consumer, "index.html"), html);

    const built = await esbuild.build({
      entryPoints: [join(consumer, "main.js")],
      absWorkingDir: consumer,
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    bundles.set(
      "esbuild",
      new Map([
        ["index.html", Buffer.from(html)],
        ["main.js", Buffer.from(built.outputFiles[0]!.contents)],
      ]),
    );

    // Vite 7 (the one vitest brings) and Vite 8 (Rolldown-based; installed under
    // the alias "vite8"): the same consumer built by each.
    const vite7 = await import("vite");
    const vite8 = await import("vite8");
    const viteConfig = (outDir: string) => ({
      root: consumer,
      base: "./",
      configFile: false as const,
      logLevel: "silent" as const,
      build: { outDir, emptyOutDir: false },
    });
    for (const name of ["vite", "vite8"] as const) {
      const viteOut = join(scratch, `${name}-dist`);
      mkdirSync(viteOut);
      if (name === "vite") await vite7.build(viteConfig(viteOut));
      else await vite8.build(viteConfig(viteOut));
      bundles.set(name, filesUnder(viteOut));
    }

    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const [, config, bundler, ...rest] = url.pathname.split("/");
      const files = bundles.get(bundler as Bundler);
      const body = files?.get(rest.join("/") || "index.html");
      if (!(config! in CONFIGS) || body === undefined) {
        res.statusCode = 404;
        res.end();
        return;
      }
      for (const [k, v] of Object.entries(CONFIGS[config as ConfigName].headers))
        res.setHeader(k, v);
      res.setHeader("content-type", MIME[extname(url.pathname)] ?? "text/html");
      res.end(body);
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless=new", ...QUIET_CHROMIUM_ARGS],
    });
    for (const [config, bundler] of PAGES)
      runs.set(`${config}/${bundler}`, await runPage(browser, config, bundler));

    nodeReport = await runPageChecks(source, { tryRenderSvg: false });
  }, 120_000);

  /** Opens the page of one configuration and bundle, and collects what it reports. */
  async function runPage(b: Browser, config: ConfigName, bundler: Bundler): Promise<PageRun> {
    const page: Page = await b.newPage();
    const messages: string[] = [];
    const pageErrors: string[] = [];
    let workers = 0;
    page.on("console", (m) => messages.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("worker", () => workers++);
    try {
      await page.goto(`${origin}/${config}/${bundler}/`);
      await page.waitForFunction(() => "chainrulePage" in globalThis, undefined, {
        timeout: 20_000,
      });
      const report = await page.evaluate(
        () =>
          (globalThis as unknown as { chainrulePage: { report: Promise<PageReport> } })
            .chainrulePage.report,
      );
      const pids = await rendererPids(b);
      const before = workerThreadTime(pids);
      let after = before;
      // Where threads should run: bursts of products until the workers have used
      // WORKER_CPU_MS (a busy host may keep a worker off the CPU for one burst; the
      // calling thread then takes its chunks), at most BURSTS times.
      const used = () => (before && after ? (after.ns - before.ns) / 1e6 : undefined);
      if (CONFIGS[config].threads) {
        for (let burst = 0; burst < BURSTS; burst++) {
          await page.evaluate(() =>
            (
              globalThis as unknown as { chainrulePage: { busy: (n: number) => number } }
            ).chainrulePage.busy(40),
          );
          after = workerThreadTime(pids);
          if ((used() ?? Infinity) > WORKER_CPU_MS) break;
        }
      }
      return {
        report,
        console: messages,
        pageErrors,
        workers,
        workerCpuMs: used(),
        workerThreads: after?.threads,
      };
    } finally {
      await page.close();
    }
  }

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
  });

  it("bundles the package without @viz-js/viz; renderSvg then says what to install", () => {
    const scripts = (bundler: Bundler) =>
      [...bundles.get(bundler)!].filter(([f]) => f.endsWith(".js")).map(([, b]) => b.toString());
    // esbuild leaves renderSvg's dynamic import a bare specifier (resolved at run time).
    expect(scripts("esbuild").some((js) => BARE_VIZ_IMPORT.test(js))).toBe(true);
    // So does Vite 8, the version the issue names.
    expect(scripts("vite8").some((js) => BARE_VIZ_IMPORT.test(js))).toBe(true);
    // Vite 7 reads the optional peerDependenciesMeta and replaces the missing package
    // with a chunk that throws "Could not resolve" when imported (or keeps the import).
    const viteStub = (js: string) => js.includes("Could not resolve") && js.includes("@viz-js/viz");
    expect(scripts("vite").some((js) => BARE_VIZ_IMPORT.test(js) || viteStub(js))).toBe(true);
    // Either way the import fails in the page, and renderSvg names the package to install.
    for (const [name, run] of runs)
      expect(run.report.renderSvgError, name).toMatch(
        /^renderSvg: the optional dependency @viz-js\/viz is not installed; run `npm install @viz-js\/viz`/,
      );
  });

  it("the source tree in Node computes the reference values", () => {
    checkReport(nodeReport, "node");
  });

  for (const [config, bundler] of PAGES) {
    const want = CONFIGS[config];
    const name = `${config}/${bundler}`;
    it(`${name}: right numbers on the ${want.backend} backend, threads ${want.threads ? "used" : "absent"}`, () => {
      const run = runs.get(name)!;
      expect(run.pageErrors, name).toEqual([]);
      const r = run.report;
      expect(r.crossOriginIsolated, name).toBe(want.isolated);
      expect(r.sharedArrayBuffer, name).toBe(want.isolated);
      expect(r.backend, name).toBe(want.backend);
      // ready() is prompt everywhere (it takes well under a second here); where the CSP
      // blocked the workers it used to wait for them for over 10 s.
      expect(r.readyMs, name).toBeLessThan(5000);
      checkReport(r, name);
      // The same computations in Node on the source tree (Wasm there, float64 exact
      // up to the last bits of the transcendental functions).
      expectClose(numbers(r), numbers(nodeReport), 1e-13, `${name} vs node`);
      const chainHere = Array.from(r.jitChain);
      expectClose(chainHere, Array.from(nodeReport.jitChain), 2e-6, `${name} jit chain vs node`);

      // One warning each where the CSP blocks Wasm or the workers, none elsewhere.
      const log = `${name}: ${run.console.join(" | ")}`;
      const count = (re: RegExp) => run.console.filter((m) => re.test(m)).length;
      expect(count(CSP_WARNING), log).toBe(want.backend === "js" ? 1 : 0);
      expect(count(WORKER_WARNING), log).toBe(config === "no-worker-csp" ? 1 : 0);
      if (want.threads) {
        expect(r.hardwareConcurrency, name).toBeGreaterThan(1);
        // The library's pool: one worker per core beyond the page's thread, at most 3.
        expect(run.workers, name).toBe(Math.min(r.hardwareConcurrency - 1, 3));
        if (run.workerCpuMs !== undefined) {
          expect(run.workerThreads, name).toBeGreaterThanOrEqual(1);
          expect(run.workerCpuMs, name).toBeGreaterThan(WORKER_CPU_MS);
        }
      } else {
        // (Playwright's per-page count: the renderer of a page closed just before may
        // still be winding down its worker threads.)
        expect(run.workers, name).toBe(0);
      }
    });
  }
});
