/**
 * The live tour (`npm run tour -- --serve`): the live sections run in Node
 * from their .live.js files into live.html, the page's editors hold exactly
 * those files, and in headless Chromium (Debian's chromium through
 * playwright-core) rerunning a section in the page reproduces Node's numbers,
 * an edit redraws its figure and updates its checks to values computed here
 * independently, and a broken edit shows its error. The playground is run on
 * a function with a branch and compared with chainrule in Node. Without
 * /usr/bin/chromium the browser part is skipped with a message (not in CI).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, QUIET_CHROMIUM_ARGS } from "./browser.js";
import { InvalidArgumentError, grad, hessian, np, type Array as NdArray } from "../src/index.js";
import { LIVE_SCOPE, runLiveCode } from "../tour/lib/live.js";
import { readLiveSource } from "../tour/lib/liveSource.js";
import { runTour, type TourRun } from "../tour/lib/runTour.js";
import { buildPlayground, serveDir } from "../tour/lib/serve.js";
import { SECTIONS } from "../tour/sections/index.js";
import { LIVE_SECTIONS } from "../tour/sections/live.js";

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(
    `tourLive.test: ${CHROMIUM} not found, skipping the live page in the browser ` +
      "(install it with `apt-get install chromium`; in CI it always runs)",
  );
}

let outDir = "";
let run: TourRun;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "chainrule-tour-live-"));
  run = await runTour({ quick: true, outDir, playground: true, sections: LIVE_SECTIONS });
  await buildPlayground(outDir);
}, 60_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** The textarea's text as the browser parses it from the page's HTML. */
function unescapeHtml(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
}

describe("live sections in Node", () => {
  it("every live section is in the report, runs from its .live.js file, and passes its checks", () => {
    for (const section of LIVE_SECTIONS) {
      expect(SECTIONS).toContain(section);
      expect(section.live?.file).toMatch(/\.live\.js$/);
    }
    for (const [i, result] of run.sections.entries()) {
      const source = readLiveSource(LIVE_SECTIONS[i]!)!;
      const liveBlocks = (result.code ?? []).filter((c) => c.live === true);
      expect(liveBlocks.map((c) => c.source)).toEqual([source]);
      for (const c of result.checks) expect(c.passed, `${result.id}: ${c.label}`).toBe(true);
    }
  });

  it("the live page's editors hold the .live.js files verbatim; the report has no editor or script", () => {
    const live = readFileSync(run.livePage!, "utf8");
    const editors = [...live.matchAll(/<textarea class="live-source"[^>]*>([^]*?)<\/textarea>/g)];
    expect(editors.map((m) => unescapeHtml(m[1]!))).toEqual(
      LIVE_SECTIONS.map((s) => readLiveSource(s)),
    );
    expect(live).toMatch(/<script src="tour-live.js" defer><\/script>/);
    const report = readFileSync(run.page, "utf8");
    expect(report).not.toMatch(/<script|<textarea/i);
  });

  it("eslint knows every name in the live code's scope (no-undef stays on for typos)", () => {
    const config = readFileSync(new URL("../eslint.config.js", import.meta.url), "utf8");
    const block = config.slice(config.indexOf('files: ["tour/**/*.live.js"]'));
    for (const name of [...Object.keys(LIVE_SCOPE), "quick"]) {
      expect(block, name).toContain(`"${name}"`);
    }
  });

  it("the page's bundle carries no Node-only module", () => {
    const bundle = readFileSync(join(outDir, "tour-live.js"), "utf8");
    // Node's file reading (tour/lib/liveSource.ts, tour/lib/code.ts) and the linkedom
    // document (tour/lib/nodeDocument.ts) stay out; the page has its own document.
    expect(bundle).not.toMatch(/readFileSync|fileURLToPath|linkedom/);
  });

  it("refuses live code that does not define what the section needs, naming it", async () => {
    const section = LIVE_SECTIONS.find((s) => s.id === "dual-tape")!;
    const source = readLiveSource(section)!.replace(/const dzdy|, dzdy\]/g, (m) =>
      m.startsWith("const") ? "const unused" : "]",
    );
    const call = () => runLiveCode(section.id, section.live!, source, true);
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(/tour section "dual-tape": its code must define `dzdy` \(a number\)/);
    await expect(async () => section.run({ quick: true })).rejects.toThrow(
      /tour section "dual-tape" is live: run it with the text of s09-dual-and-tape.live.js/,
    );
  });
});

interface ShownSection {
  status: string;
  state: string;
  error: string;
  rows: { label: string; ad: number; reference: number; passed: string }[];
  paths: string[];
}

/** The section's status, error box, checks table (data attributes) and line paths. */
async function shown(page: Page, id: string): Promise<ShownSection> {
  return page.evaluate((sid) => {
    const sec = document.querySelector(`section[data-section="${sid}"]`)!;
    const status = sec.querySelector<HTMLElement>(".live-status")!;
    return {
      status: status.textContent ?? "",
      state: status.dataset.state ?? "",
      error: sec.querySelector<HTMLElement>("pre.live-error")!.hidden
        ? ""
        : (sec.querySelector("pre.live-error")!.textContent ?? ""),
      rows: Array.from(sec.querySelectorAll("tr.check")).map((tr) => ({
        label: tr.querySelector("td")?.textContent ?? "",
        ad: Number(tr.getAttribute("data-ad")),
        reference: Number(tr.getAttribute("data-reference")),
        passed: tr.getAttribute("data-passed") ?? "",
      })),
      paths: Array.from(sec.querySelectorAll('.figure g[aria-label="line"] path')).map(
        (p) => p.getAttribute("d") ?? "",
      ),
    };
  }, id);
}

/** Puts `source` into the section's editor, presses Run and waits for it to finish. */
async function runInPage(page: Page, id: string, source: string): Promise<ShownSection> {
  const sec = `section[data-section="${id}"]`;
  await page.fill(`${sec} textarea.live-source`, source);
  await page.evaluate((s) => {
    delete document.querySelector<HTMLElement>(`${s} .live-status`)!.dataset.state;
  }, sec);
  await page.click(`${sec} button.live-run`);
  await page.waitForFunction(
    (s) => document.querySelector<HTMLElement>(`${s} .live-status`)?.dataset.state !== undefined,
    sec,
  );
  return shown(page, id);
}

describe.skipIf(!haveChromium && !process.env.CI)("the live tour in headless Chromium", () => {
  let browser: Browser;
  let server: Server;
  let url = "";

  beforeAll(async () => {
    ({ server, url } = await serveDir(outDir, 0));
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--disable-gpu", ...QUIET_CHROMIUM_ARGS],
    });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it("rerunning each live section in the page gives the numbers Node computed", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${url}live.html`);
    await page.waitForFunction(() => document.body.dataset.liveReady === "true");
    for (const [i, section] of LIVE_SECTIONS.entries()) {
      const after = await runInPage(page, section.id, readLiveSource(section)!);
      expect(after.state, `${section.id}: ${after.error}`).toBe("done");
      const node = run.sections[i]!.checks;
      expect(after.rows.map((r) => r.label)).toEqual(node.map((c) => c.label));
      after.rows.forEach((r, k) => {
        const c = node[k]!;
        const where = `${section.id}: ${c.label}: page ${r.ad} vs Node ${c.ad}`;
        expect(r.passed, where).toBe("true");
        // A "worst of N points" row shows the point where AD and its reference differ most,
        // i.e. where their rounding noise peaks; the page's engine may round differently
        // (another V8, Wasm threads), so that point may differ: its verdict is compared.
        if (!/\(worst of \d+ points\)$/.test(c.label)) {
          // Same code, same library: the same numbers up to rounding. Training (section 10)
          // amplifies rounding: the initial gradients differ in the last bits between Node and
          // Chromium (measured: ~1e-16), and 150 adam steps turn that into ~0.4% of the final
          // loss (2.089e-3 in Node, 2.096e-3 in the page).
          const tolerance =
            section.id === "nn-physics"
              ? 2e-2 * Math.abs(c.ad)
              : 1e-9 * Math.max(1, Math.abs(c.ad));
          expect(Math.abs(r.ad - c.ad), where).toBeLessThanOrEqual(tolerance);
        }
      });
    }
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  it("an edit redraws the figure and updates the checks; a broken edit shows its error", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${url}live.html`);
    await page.waitForFunction(() => document.body.dataset.liveReady === "true");
    const id = "dual-tape";
    const original = readLiveSource(LIVE_SECTIONS.find((s) => s.id === id)!)!;
    const before = await shown(page, id);
    // Move the sweep to [-1, 3] and the reverse-mode point to (1, 4.2).
    const edited = original
      .replace("grid(-2, 2, quick ? 17 : 41)", "grid(-1, 3, quick ? 17 : 41)")
      .replace("const at = [0.5, 4.2];", "const at = [1, 4.2];");
    expect(edited).not.toBe(original);
    const after = await runInPage(page, id, edited);
    expect(after.state, after.error).toBe("done");
    expect(after.paths.length).toBe(before.paths.length);
    expect(after.paths.length).toBeGreaterThan(0);
    expect(after.paths).not.toEqual(before.paths);
    // dz/dx of x y + sin x at (1, 4.2) is y + cos x, computed here without chainrule.
    const dzdx = after.rows.find((r) => r.label.startsWith("z = xy + sin x at (1, 4.2)"));
    expect(dzdx, JSON.stringify(after.rows.map((r) => r.label))).toBeDefined();
    expect(Math.abs(dzdx!.ad - (4.2 + Math.cos(1)))).toBeLessThanOrEqual(1e-15);
    const dzdy = after.rows.find((r) => r.label.startsWith("dz/dy at (1, 4.2)"));
    expect(dzdy!.ad).toBe(1);
    // The sweep's check now reports points of [-1, 3]: its AD value at the worst point is 3x^2 there.
    const sweep = after.rows.find((r) => r.label.startsWith("d/dx x^3 by jvp"))!;
    const xs = Array.from({ length: 17 }, (_, i) => -1 + (4 * i) / 16);
    expect(xs.some((x) => Math.abs(3 * x * x - sweep.ad) <= 1e-12)).toBe(true);
    // An edit that makes chainrule's function differ from the Dual reference: x^2 (x + 1)
    // instead of x^3. Its checks against the dual numbers fail, the header's score drops by
    // as many, and the value at 2 is 2^2 * 3 = 12 (the Dual class still says 8).
    const wrong = await runInPage(
      page,
      id,
      edited.replace(
        "const cube = (x) => np.multiply(np.multiply(x, x), x);",
        "const cube = (x) => np.multiply(np.multiply(x, x), np.add(x, 1));",
      ),
    );
    expect(wrong.state, wrong.error).toBe("done");
    const valueAt2 = wrong.rows.find((r) => r.label === "x^3 at 2: value by jvp")!;
    expect(valueAt2.ad).toBe(12);
    expect(valueAt2.reference).toBe(8);
    expect(valueAt2.passed).toBe("false");
    const failing = wrong.rows.filter((r) => r.passed === "false").length;
    const total = run.sections.reduce((n, s) => n + s.checks.length, 0);
    const score = await page.evaluate(() => document.getElementById("score")!.dataset);
    expect(score.total).toBe(String(total));
    expect(score.passed).toBe(String(total - failing));
    // A broken edit: the error names what is missing; the old results stay, marked stale.
    const broken = await runInPage(page, id, edited.replace("[dzdx, dzdy]", "[dzdx, dzdyy]"));
    expect(broken.state).toBe("error");
    expect(broken.error).toMatch(/InvalidArgumentError: .*must define `dzdy`/);
    expect(broken.paths).toEqual(wrong.paths);
    const stale = await page.evaluate(() =>
      document
        .querySelector('section[data-section="dual-tape"] .results')!
        .classList.contains("stale"),
    );
    expect(stale).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  it("the live page also works opened from disk (a classic script, no server), and fits 390 px", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 900 } });
    await page.goto(pathToFileURL(run.livePage!).href);
    await page.waitForFunction(() => document.body.dataset.liveReady === "true");
    const id = LIVE_SECTIONS[0]!.id;
    const after = await runInPage(page, id, readLiveSource(LIVE_SECTIONS[0]!)!);
    expect(after.state, after.error).toBe("done");
    const widths = await page.evaluate(() => [
      document.documentElement.scrollWidth,
      window.innerWidth,
    ]);
    expect(widths[0], "live page wider than a 390 px window").toBeLessThanOrEqual(widths[1]!);
    await page.close();
  }, 30_000);

  it("the playground on a function with a branch matches chainrule in Node on both sides", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${url}playground.html`);
    const source = "(x, y) => (x.item() > 1 ? x.mul(x).mul(y) : np.cos(x).mul(y).mul(y))";
    // The same text as a function in Node (np in scope, as in the page).
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const f = new Function("np", `return (${source});`)(np) as (x: NdArray, y: NdArray) => NdArray;
    for (const [x0, y0] of [
      [0.5, 2],
      [1.5, -0.75],
    ] as const) {
      await page.fill("#fn", source);
      await page.fill("#x0", String(x0));
      await page.fill("#y0", String(y0));
      await page.evaluate(() => (document.getElementById("status")!.textContent = ""));
      await page.click("#run");
      await page.waitForFunction(() =>
        ["done", "error"].includes(document.getElementById("status")?.textContent ?? ""),
      );
      const rows = await page.evaluate(() =>
        Object.fromEntries(
          Array.from(document.querySelectorAll("#results tbody tr")).map((tr) => [
            tr.getAttribute("data-row"),
            Number(tr.querySelector(".ad")!.textContent),
          ]),
        ),
      );
      const value = f(np.array(x0), np.array(y0)).item();
      const [gx, gy] = grad(f, { argnums: [0, 1] })(x0, y0).map((g) => g.item());
      const h = hessian(f, { argnums: [0, 1] })(x0, y0).map((r) => r.map((v) => v.item()));
      // The page prints 10 significant digits.
      const near = (shownValue: number | undefined, node: number) =>
        Math.abs((shownValue ?? NaN) - node) <= 1e-9 * Math.max(1, Math.abs(node));
      const where = `at (${x0}, ${y0}): ${JSON.stringify(rows)}`;
      expect(near(rows.f, value), where).toBe(true);
      expect(near(rows["df/dx"], gx!), where).toBe(true);
      expect(near(rows["df/dy"], gy!), where).toBe(true);
      expect(near(rows["d²f/dx²"], h[0]![0]!), where).toBe(true);
      expect(near(rows["d²f/dxdy"], h[0]![1]!), where).toBe(true);
      expect(near(rows["d²f/dy²"], h[1]![1]!), where).toBe(true);
    }
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);
});
