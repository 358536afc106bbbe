/**
 * The tour (`npm run tour`): runs every section (quick mode) into a temporary
 * folder, checks each section's chainrule numbers against their references,
 * then opens the written page in headless Chromium and checks that every
 * section shows its figures with data in them and the numbers it computed.
 * The browser part needs Debian's chromium at /usr/bin/chromium; without it
 * (and outside CI) that part is skipped with a message.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, QUIET_CHROMIUM_ARGS } from "./browser.js";
import { InvalidArgumentError } from "../src/index.js";
import { parseTourArgs } from "../tour/lib/args.js";
import { runTour, type TourRun } from "../tour/lib/runTour.js";
import { buildPlayground, serveDir } from "../tour/lib/serve.js";
import { SECTIONS } from "../tour/sections/index.js";

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(
    `tour.test: ${CHROMIUM} not found, skipping the browser checks of the report ` +
      "(install it with `apt-get install chromium`; in CI they always run)",
  );
}

let outDir = "";
let run: TourRun;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "chainrule-tour-"));
  run = await runTour({ quick: true, outDir });
}, 120_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe("tour sections", () => {
  it("runs every section, each with checks and figures", () => {
    expect(run.sections.map((s) => s.id)).toEqual(SECTIONS.map((s) => s.id));
    expect(run.sections).toHaveLength(SECTIONS.length);
    for (const s of run.sections) {
      expect(s.checks.length, s.id).toBeGreaterThan(0);
      expect(s.figures.length, s.id).toBeGreaterThan(0);
    }
  });

  it("every chainrule number agrees with its independent reference", () => {
    for (const s of run.sections) {
      for (const c of s.checks) {
        const detail = `${s.id}: ${c.label}: ${c.ad} vs ${c.reference}`;
        expect(Number.isFinite(c.ad), detail).toBe(true);
        expect(Math.abs(c.ad - c.reference), detail).toBeLessThanOrEqual(c.tolerance);
        expect(c.passed, detail).toBe(true);
      }
    }
  });

  it("the page is self-contained: no scripts, no external resources", () => {
    const html = readFileSync(run.page, "utf8");
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(http/i);
    expect(html).not.toMatch(/<\?xml|<!DOCTYPE svg/i);
  });
});

describe("tour command line", () => {
  it("reads --quick and --out, and refuses anything else with a clear error", () => {
    expect(parseTourArgs([], "tour")).toEqual({
      quick: false,
      outDir: "tour",
      serve: false,
      port: 8173,
    });
    expect(parseTourArgs(["--quick", "--out", "/tmp/x", "--serve", "--port", "0"], "tour")).toEqual(
      {
        quick: true,
        outDir: "/tmp/x",
        serve: true,
        port: 0,
      },
    );
    expect(() => parseTourArgs(["--port", "x"], "tour")).toThrow(/--port needs a port number/);
    expect(() => parseTourArgs(["--fast"], "tour")).toThrow(InvalidArgumentError);
    expect(() => parseTourArgs(["--fast"], "tour")).toThrow(
      /tour: unknown argument "--fast".*--quick/,
    );
    expect(() => parseTourArgs(["--out"], "tour")).toThrow(/tour: --out needs a directory/);
    expect(() => parseTourArgs(["--out", "--quick"], "tour")).toThrow(/--out needs a directory/);
  });
});

describe.skipIf(!haveChromium && !process.env.CI)("tour report in headless Chromium", () => {
  it("every section shows figures with data marks and the computed numbers", async () => {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--disable-gpu", "--disable-quic", ...QUIET_CHROMIUM_ARGS],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith("file:")) requests.push(r.url());
      });
      await page.goto(pathToFileURL(run.page).href);
      const shown = await page.evaluate(() => {
        // Data-carrying marks: Plot's line/area/contour/vector paths, dots, bars; Graphviz nodes and edges.
        const MARKS = [
          'g[aria-label="line"] path',
          'g[aria-label="dot"] circle',
          'g[aria-label="contour"] path',
          'g[aria-label="vector"] path',
          'g[aria-label="bar"] rect',
          'g[aria-label="cell"] rect',
          "g.node",
          "g.edge",
        ].join(", ");
        return Array.from(document.querySelectorAll("section[data-section]")).map((sec) => ({
          id: sec.getAttribute("data-section"),
          figures: Array.from(sec.querySelectorAll(".figure")).map((fig) => {
            const marks = Array.from(fig.querySelectorAll(MARKS));
            const paths = Array.from(fig.querySelectorAll('g[aria-label="line"] path'));
            const box = fig.querySelector("svg")?.getBoundingClientRect();
            return {
              svgs: fig.querySelectorAll("svg").length,
              marks: marks.length,
              // A line with data has a path with many coordinates, none of them NaN.
              badPaths: paths.filter((p) => {
                const d = p.getAttribute("d") ?? "";
                return d.length < 10 || /NaN/.test(d);
              }).length,
              width: box?.width ?? 0,
              height: box?.height ?? 0,
            };
          }),
          rows: Array.from(sec.querySelectorAll("tr.check")).map((tr) => ({
            ad: tr.querySelector("td.ad")?.textContent ?? "",
            ref: tr.querySelector("td.ref")?.textContent ?? "",
            verdict: tr.querySelector("td.verdict")?.textContent ?? "",
          })),
        }));
      });
      expect(requests).toEqual([]);
      expect(shown.map((s) => s.id)).toEqual(run.sections.map((s) => s.id));
      shown.forEach((s, i) => {
        const result = run.sections[i]!;
        expect(s.figures.length, String(s.id)).toBe(result.figures.length);
        for (const fig of s.figures) {
          expect(fig.svgs, String(s.id)).toBeGreaterThan(0);
          expect(fig.marks, `${s.id}: a figure without data marks`).toBeGreaterThan(0);
          expect(fig.badPaths, `${s.id}: empty or NaN line paths`).toBe(0);
          expect(fig.width * fig.height, `${s.id}: figure drawn with no area`).toBeGreaterThan(0);
        }
        // The table shows each check's numbers (to the printed precision).
        expect(s.rows.length, String(s.id)).toBe(result.checks.length);
        s.rows.forEach((row, k) => {
          const c = result.checks[k]!;
          const close = (text: string, x: number) =>
            Math.abs(Number(text) - x) <= 1e-4 * Math.max(Math.abs(x), 1e-300);
          expect(close(row.ad, c.ad), `${s.id}: shown ${row.ad} vs ${c.ad}`).toBe(true);
          expect(close(row.ref, c.reference), `${s.id}: shown ${row.ref} vs ${c.reference}`).toBe(
            true,
          );
          expect(row.verdict).toMatch(/pass/);
        });
      });
    } finally {
      await browser.close();
    }
  }, 60_000);

  it("the playground runs chainrule in the page, on a function with a branch", async () => {
    await buildPlayground(outDir);
    const { server, url } = await serveDir(outDir, 0);
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--disable-gpu", ...QUIET_CHROMIUM_ARGS],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${url}playground.html`);
      const runAt = async (fn: string, x: number, y: number) => {
        await page.fill("#fn", fn);
        await page.fill("#x0", String(x));
        await page.fill("#y0", String(y));
        await page.evaluate(() => (document.getElementById("status")!.textContent = ""));
        await page.click("#run");
        await page.waitForFunction(() =>
          ["done", "error"].includes(document.getElementById("status")?.textContent ?? ""),
        );
        return page.evaluate(() => ({
          status: document.getElementById("status")!.textContent,
          error: document.getElementById("error")!.textContent,
          rows: Object.fromEntries(
            Array.from(document.querySelectorAll("#results tbody tr")).map((tr) => [
              tr.getAttribute("data-row"),
              [
                Number(tr.querySelector(".ad")!.textContent),
                Number(tr.querySelector(".fd")!.textContent),
              ],
            ]),
          ),
          jaxpr: document.getElementById("jaxpr")!.textContent ?? "",
          source: document.getElementById("source")!.textContent ?? "",
          graphNodes: document.querySelectorAll("#graph svg g.node").length,
        }));
      };
      const fn = "(x, y) => (x.item() > 1 ? x.mul(y) : np.sin(x).mul(y).mul(y))";
      // Branch x <= 1: f = sin(x) y^2, df/dx = cos(x) y^2, df/dy = 2 y sin(x), d2f/dy2 = 2 sin x.
      const low = await runAt(fn, 0.5, 2);
      expect(low.status, low.error ?? "").toBe("done");
      const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;
      expect(close(low.rows["df/dx"]![0], Math.cos(0.5) * 4, 1e-9)).toBe(true);
      expect(close(low.rows["df/dy"]![0], 4 * Math.sin(0.5), 1e-9)).toBe(true);
      expect(close(low.rows["d²f/dy²"]![0], 2 * Math.sin(0.5), 1e-9)).toBe(true);
      expect(close(low.rows["df/dx"]![1], Math.cos(0.5) * 4, 1e-6)).toBe(true);
      expect(low.jaxpr).toMatch(/sin/);
      expect(low.source).toMatch(/function compute\(x0, x1\)/);
      expect(low.graphNodes).toBeGreaterThan(0);
      // Branch x > 1: f = x y, df/dx = y, df/dy = x, and the program changes with it.
      const high = await runAt(fn, 1.5, 2);
      expect(high.rows["df/dx"]![0]).toBe(2);
      expect(high.rows["df/dy"]![0]).toBe(1.5);
      expect(high.rows["d²f/dxdy"]![0]).toBe(1);
      expect(high.jaxpr).not.toMatch(/sin/);
      // A broken function shows its error instead of stale numbers.
      const bad = await runAt("(x, y) => x.nope(y)", 1, 1);
      expect(bad.status).toBe("error");
      expect(bad.error).toMatch(/nope/);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      server.close();
    }
  }, 60_000);

  it("lays out without overlap: no text boxes overlapping in a figure, no sideways scroll at 390 px", async () => {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--disable-gpu", ...QUIET_CHROMIUM_ARGS],
    });
    try {
      for (const width of [1280, 390]) {
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        await page.goto(pathToFileURL(run.page).href);
        const layout = await page.evaluate(() => {
          const overlaps: string[] = [];
          document.querySelectorAll(".figure svg").forEach((svg) => {
            const section = svg.closest("section")?.getAttribute("data-section") ?? "?";
            // Every text box of the figure (tick labels, axis titles, legends, direct labels, node labels).
            const boxes = Array.from(svg.querySelectorAll("text"))
              .filter((t) => (t.textContent ?? "").trim() !== "")
              .map((t) => ({ text: t.textContent ?? "", r: t.getBoundingClientRect() }))
              .filter((b) => b.r.width > 0 && b.r.height > 0);
            for (let i = 0; i < boxes.length; i++) {
              for (let j = i + 1; j < boxes.length; j++) {
                const a = boxes[i]!.r;
                const b = boxes[j]!.r;
                // Overlap by more than 1.5 px both ways (touching baselines are fine).
                const ox = Math.min(a.right, b.right) - Math.max(a.left, b.left);
                const oy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                if (ox > 1.5 && oy > 1.5) {
                  overlaps.push(`${section}: "${boxes[i]!.text}" overlaps "${boxes[j]!.text}"`);
                }
              }
            }
            // Text cut by the figure's own edges (a tick label drawn outside the viewBox).
            const frame = svg.getBoundingClientRect();
            boxes.forEach((b) => {
              if (
                b.r.left < frame.left - 1 ||
                b.r.right > frame.right + 1 ||
                b.r.top < frame.top - 1 ||
                b.r.bottom > frame.bottom + 1
              ) {
                overlaps.push(`${section}: "${b.text}" is cut by the figure's edge`);
              }
            });
          });
          return {
            overlaps,
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
          };
        });
        expect(layout.overlaps, `at ${width} px`).toEqual([]);
        expect(layout.scrollWidth, `page wider than the ${width} px window`).toBeLessThanOrEqual(
          layout.innerWidth,
        );
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }, 60_000);
});
