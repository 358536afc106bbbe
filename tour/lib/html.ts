/**
 * Builds the self-contained report page: one <section> per tour section
 * with its explanation, a table of checks (chainrule vs reference) and its
 * figures inlined as SVG. No scripts, no external resources. The live page
 * (live.html, with --serve) is the same page with each live section's code
 * in an editor and one script, tour-live.js, that reruns it and replaces the
 * section's results with `resultsHtml` of the new run. Nothing here is
 * Node-only: the live page's bundle uses these functions too.
 */
import type { Check, CodeBlock, SectionResult, SeedValue } from "./types.js";

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** A number as shown in the report (and parsed back by the test). */
export function formatNumber(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return String(Number(x.toPrecision(10)));
  return x.toExponential(4);
}

function checkRow(c: Check): string {
  const cls = c.passed ? "pass" : "fail";
  return (
    `<tr class="check ${cls}" data-ad="${c.ad}" data-reference="${c.reference}" data-passed="${c.passed}">` +
    `<td>${escapeHtml(c.label)}</td>` +
    `<td class="num ad">${formatNumber(c.ad)}</td>` +
    `<td class="num ref">${formatNumber(c.reference)}</td>` +
    `<td>${escapeHtml(c.referenceKind)}</td>` +
    `<td class="num">${formatNumber(c.tolerance)}</td>` +
    `<td class="verdict">${c.passed ? "✔ pass" : "✘ FAIL"}</td></tr>`
  );
}

function seedRow(v: SeedValue): string {
  return (
    `<tr><td>${escapeHtml(v.what)}</td><td class="code">${escapeHtml(v.seed)}</td>` +
    `<td class="code">${escapeHtml(v.chainrule)}</td><td>${escapeHtml(v.note ?? "")}</td></tr>`
  );
}

function codeHtml(c: CodeBlock, live: boolean): string {
  if (c.live === true && live) {
    return (
      `<div class="live-code"><p class="live-caption">${escapeHtml(c.caption)}</p>` +
      `<textarea class="live-source" spellcheck="false" autocapitalize="off" wrap="off" rows="${Math.min(
        c.source.split("\n").length + 1,
        40,
      )}">${escapeHtml(c.source)}</textarea>` +
      `<p class="live-bar"><button type="button" class="live-run">Run</button> ` +
      `<button type="button" class="live-reset">Reset</button> <span class="live-status"></span></p>` +
      `<pre class="live-error" hidden></pre></div>`
    );
  }
  const open = c.folded === true ? "" : " open";
  const wrap = c.wrap === true ? ' class="wrap"' : "";
  return `<details class="code"${open}><summary>${escapeHtml(c.caption)}</summary><pre${wrap}><code>${escapeHtml(c.source)}</code></pre></details>`;
}

/**
 * What a run of the section computed: notes, the seed's values, the checks
 * and the figures (the part of the section the live page replaces on Run).
 */
export function resultsHtml(s: SectionResult): string {
  const notes = (s.notes ?? []).map((n) => `<li>${escapeHtml(n)}</li>`).join("");
  const figures = s.figures
    .map(
      (f, i) =>
        `<div class="figure" data-figure="${i}">${f.svg}<p class="caption">${escapeHtml(f.caption)}</p></div>`,
    )
    .join("\n");
  return `${notes ? `<ul class="notes">${notes}</ul>` : ""}
${
  s.seedValues !== undefined && s.seedValues.length > 0
    ? `<div class="table-wrap"><table class="seedvalues"><thead><tr><th>cell</th><th>the seed printed</th><th>chainrule</th><th></th></tr></thead><tbody>${s.seedValues.map(seedRow).join("")}</tbody></table></div>`
    : ""
}
<div class="table-wrap"><table class="checks"><thead><tr><th>check</th><th>chainrule</th><th>reference</th><th>reference from</th><th>tolerance</th><th></th></tr></thead>
<tbody>${s.checks.map(checkRow).join("")}</tbody></table></div>
<div class="figures">${figures}</div>
<p class="timing">computed in ${(s.seconds ?? 0).toFixed(2)} s</p>`;
}

function sectionHtml(s: SectionResult, live: boolean): string {
  const isLive = live && (s.code ?? []).some((c) => c.live === true);
  return `<section id="${s.id}" data-section="${s.id}"${isLive ? ` data-live="true"` : ""}>
<h2>${escapeHtml(s.title)}${isLive ? ` <span class="live-badge">live</span>` : ""}</h2>
${s.seed !== undefined ? `<p class="seed">Reproduces: ${escapeHtml(s.seed)}</p>` : ""}
<p class="explanation">${escapeHtml(s.explanation)}</p>
${(s.code ?? []).map((c) => codeHtml(c, live)).join("\n")}
<div class="results">${resultsHtml(s)}</div>
</section>`;
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
header { background: #1d2330; color: white; padding: 24px 40px; }
header h1 { margin: 0 0 6px 0; font-size: 28px; }
header p { margin: 0; color: #c9d1e0; }
nav { padding: 10px 40px; background: #e9ecf2; font-size: 14px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav a { color: #2b4fa8; text-decoration: none; white-space: nowrap; }
main { padding: 10px 40px 40px 40px; max-width: 1400px; }
section { background: white; border-radius: 8px; padding: 18px 24px; margin: 18px 0; box-shadow: 0 1px 3px rgba(0,0,0,0.08); }
h2 { margin-top: 0; font-size: 21px; }
.explanation { max-width: 900px; line-height: 1.45; }
table.checks { border-collapse: collapse; font-size: 13px; margin: 8px 0 14px 0; }
table.checks th, table.checks td { border-bottom: 1px solid #e3e6ec; padding: 4px 10px; text-align: left; }
td.num { font-variant-numeric: tabular-nums; text-align: right; font-family: ui-monospace, monospace; }
tr.pass .verdict { color: #1b7f3b; font-weight: 600; }
tr.fail .verdict { color: #c0262d; font-weight: 700; }
.figures { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.figure { flex: 1 1 560px; max-width: 680px; min-width: 300px; }
.figure svg { max-width: 100%; height: auto; }
.figure figure { margin: 0; }
.caption { font-size: 13px; color: #555; margin: 4px 0 0 0; }
.timing { font-size: 12px; color: #888; margin: 8px 0 0 0; }
.summary td { padding: 2px 10px; }
.seed { font-size: 14px; color: #44506a; font-style: italic; margin: 0 0 6px 0; }
.table-wrap { max-width: 100%; overflow-x: auto; }
table.seedvalues { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
table.seedvalues th, table.seedvalues td { border-bottom: 1px solid #e3e6ec; padding: 4px 10px; text-align: left; vertical-align: top; }
td.code { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; }
details.code { margin: 8px 0; }
details.code summary { cursor: pointer; font-size: 13px; color: #44506a; }
pre { background: #f3f4f7; border-radius: 6px; padding: 10px 12px; overflow-x: auto; font-size: 12.5px; line-height: 1.4; max-width: 100%; box-sizing: border-box; }
pre.wrap { white-space: pre-wrap; word-break: break-all; }
.live-badge { font-size: 12px; font-weight: 600; color: white; background: #1b9e5a; border-radius: 4px; padding: 1px 6px; vertical-align: middle; }
.live-note { background: #e8f5ee; border-left: 4px solid #1b9e5a; padding: 10px 14px; margin: 14px 0 0 0; line-height: 1.45; max-width: 900px; }
.live-code { margin: 8px 0; }
.live-caption { font-size: 13px; color: #44506a; margin: 0 0 4px 0; }
textarea.live-source { width: 100%; box-sizing: border-box; font-family: ui-monospace, monospace; font-size: 12.5px; line-height: 1.4; background: #fbfbfd; border: 1px solid #cfd5e0; border-radius: 6px; padding: 10px 12px; tab-size: 2; }
.live-bar { margin: 4px 0; font-size: 13px; }
.live-status { color: #44506a; }
pre.live-error { color: #c0262d; background: #fdf0f0; white-space: pre-wrap; }
.results.stale { opacity: 0.45; }
@media (max-width: 700px) {
  header, nav { padding-left: 14px; padding-right: 14px; }
  header h1 { font-size: 22px; }
  main { padding: 6px 8px 24px 8px; }
  section { padding: 12px 12px; }
  nav a { white-space: normal; }
  /* Figures keep their drawn size (readable labels) and scroll inside their own box. */
  .figure { flex: 1 1 100%; min-width: 0; max-width: 100%; overflow-x: auto; }
  .figure svg { max-width: none; }
  table.checks, table.seedvalues { font-size: 12px; }
}
`;

/** Page options: live = the live page (editors and the tour-live.js script). */
export interface PageMeta {
  date: string;
  machine: string;
  quick: boolean;
  /** Link the playground and the live page (they exist: the tour was run with --serve). */
  playground?: boolean;
  /** Build the live page: live sections' code in editors, plus the script that reruns it. */
  live?: boolean;
  /** Live page: why the sections that are not live are not (shown above the sections). */
  liveNote?: string;
}

export function buildPage(sections: SectionResult[], meta: PageMeta): string {
  const live = meta.live === true;
  const passed = sections.reduce((n, s) => n + s.checks.filter((c) => c.passed).length, 0);
  const total = sections.reduce((n, s) => n + s.checks.length, 0);
  const nav = sections
    .map((s) => `<a href="#${s.id}">${escapeHtml(s.title.replace(/^\d+\.\s*/, ""))}</a>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chainrule tour${live ? " (live)" : ""}</title>
<style>${STYLE}</style>${live ? `\n<script src="tour-live.js" defer></script>` : ""}</head>
<body data-quick="${meta.quick}">
<header><h1>chainrule: a tour of automatic differentiation</h1>
<p>Every experiment of the seed tutorials, computed live with chainrule and checked against an independent reference.
<span id="score" data-passed="${passed}" data-total="${total}">${passed} of ${total} checks pass.</span>
${meta.quick ? "Quick run (smaller grids)." : ""} Generated ${escapeHtml(meta.date)} on ${escapeHtml(meta.machine)}.
${live ? "" : meta.playground === true ? "The live tour lets you edit and rerun the code of the sections marked live there." : "With <code>npm run tour -- --serve</code> the code of the small sections can be edited and rerun in the browser."}</p></header>
<nav>${nav}${meta.playground === true ? `<a href="playground.html"><b>Playground (live)</b></a>${live ? `<a href="index.html">Static report</a>` : `<a href="live.html"><b>Live tour (edit the code)</b></a>`}` : ""}<a href="../docs/api/index.html" title="Built by npm run docs">API reference (npm run docs)</a></nav>
<main>
${live && meta.liveNote !== undefined ? `<p class="live-note">${escapeHtml(meta.liveNote)}</p>` : ""}
${sections.map((s) => sectionHtml(s, live)).join("\n")}
</main></body></html>
`;
}
