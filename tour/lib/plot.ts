/**
 * Observable Plot for the tour, in Node and in the browser: plots are
 * rendered against a document and returned as inline SVG/HTML strings, so
 * the report needs no script and no network. In Node the document is a
 * linkedom one (a light DOM shim, installed by tour/lib/nodeDocument.ts); in
 * the live page it is the page's own. This module imports nothing Node-only,
 * so the live page's bundle can include it.
 */
import * as Plot from "@observablehq/plot";
import { renderSvg } from "../../src/index.js";

let plotDocument: Document | undefined;

/** The document Plot draws into where there is no global one (Node). */
export function setPlotDocument(doc: Document): void {
  plotDocument = doc;
}

function currentDocument(): Document {
  const doc = plotDocument ?? (globalThis as { document?: Document }).document;
  if (doc === undefined) {
    throw new Error(
      "tour plotSvg: no document to draw into; in Node import tour/lib/nodeDocument.js first",
    );
  }
  return doc;
}

/** Renders a Plot specification to an HTML string (an <svg>, or a <figure> with a legend). */
export function plotSvg(options: Plot.PlotOptions): string {
  // Axis titles centred beside the axes, outside the tick labels (Plot's default puts
  // them at the end of the axis, where they collide with the last tick label), and
  // margins wide enough for tick labels such as "−800" or "10⁻¹²".
  const marginLeft = options.marginLeft ?? 68;
  const marginBottom = options.marginBottom ?? 46;
  const el = Plot.plot({
    style: { background: "white", fontSize: "12px" },
    ...options,
    marginLeft,
    marginBottom,
    x: { labelAnchor: "center", labelArrow: "none", labelOffset: marginBottom - 6, ...options.x },
    y: { labelAnchor: "center", labelArrow: "none", labelOffset: marginLeft - 6, ...options.y },
    document: currentDocument(),
  });
  return el.outerHTML;
}

export { Plot };

/** n numbers evenly spaced from a to b inclusive. */
export function grid(a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}

/** n numbers evenly spaced in log10 from 10^a to 10^b. */
export function logGrid(a: number, b: number, n: number): number[] {
  return grid(a, b, n).map((e) => 10 ** e);
}

/** Largest absolute difference between two equally long lists. */
export function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The elements of a chainrule array as a plain list of numbers. */
export function numbers(a: { data(): ArrayLike<number> }): number[] {
  return Array.from(a.data());
}

/** Graphviz DOT rendered to SVG by chainrule's renderSvg, without the XML prolog and DOCTYPE (inlined in HTML). */
export async function graphSvg(dot: string): Promise<string> {
  const svg = await renderSvg(dot);
  return svg.slice(svg.indexOf("<svg"));
}

/**
 * One colour per method across every plot of the report, so that "finite
 * differences" or "chainrule" look the same wherever they appear.
 */
export const METHOD_COLORS = {
  function: "#1d2330",
  chainrule: "#2b6cd4",
  forward: "#2b6cd4",
  reverse: "#7b3fbf",
  exact: "#8a8f99",
  finiteDifferences: "#e07b16",
  finiteDifferencesFine: "#b8470b",
  dual: "#1b9e5a",
  symbolic: "#8e44ad",
  second: "#c0262d",
} as const;

/** A colour scale for series named in `domain`, with the colours given in the same order. */
export function colorScale(domain: string[], range: string[]): Plot.ScaleOptions {
  return { domain, range, legend: true };
}

const SUPERSCRIPT: Record<string, string> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};

/** Tick labels of a log axis as powers of ten (10⁻⁵), blank between the decades. */
export function powerOfTen(v: number): string {
  const k = Math.log10(v);
  if (Math.abs(k - Math.round(k)) > 1e-9) return "";
  const e = String(Math.round(k));
  if (e === "0") return "1";
  if (e === "1") return "10";
  return `10${[...e].map((c) => SUPERSCRIPT[c] ?? c).join("")}`;
}
