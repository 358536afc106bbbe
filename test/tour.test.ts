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
import { InvalidArgumentError } from "../src/index.js";
import { parseTourArgs } from "../tour/lib/args.js";
import { runTour, type TourRun } from "../tour/lib/runTour.js";
import { SECTIONS } from "../tour/sections/index.js";

const CHROMIUM = "/usr/bin/chromium";
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
    expect(parseTourArgs([], "tour")).toEqual({ quick: false, outDir: "tour" });
    expect(parseTourArgs(["--quick", "--out", "/tmp/x"], "tour")).toEqual({
      quick: true,
      outDir: "/tmp/x",
    });
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
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
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
});
