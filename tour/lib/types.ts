/**
 * The shape of a tour section: what it computes and what the report shows.
 * Every number chainrule computes is paired with a reference obtained
 * another way (analytic formula, finite differences, a hand-written
 * derivative) and a tolerance; the runner prints the checks, the page shows
 * them in a table and the test asserts them.
 */
import { InvalidArgumentError } from "../../src/index.js";
import type { LiveCode } from "./live.js";

export interface Check {
  /** What is compared, e.g. "f'(x) on the grid, max |AD - analytic|". */
  label: string;
  /** The chainrule (automatic differentiation) value. */
  ad: number;
  /** The independent reference value. */
  reference: number;
  /** How the reference was obtained ("analytic", "central FD", ...). */
  referenceKind: string;
  /** Allowed |ad - reference| (absolute). */
  tolerance: number;
  passed: boolean;
}

export interface Figure {
  caption: string;
  /** Inline SVG (or a <figure> holding one) rendered by Observable Plot or Graphviz. */
  svg: string;
}

export interface SectionResult {
  id: string;
  title: string;
  /** A few sentences on what the section shows (the seeds' point). */
  explanation: string;
  checks: Check[];
  figures: Figure[];
  /** Optional extra lines of facts shown under the explanation (HTML-escaped by the builder). */
  notes?: string[];
  /** The seed document (and its part) this section reproduces, by title. */
  seed?: string;
  /** The chainrule code that produced the section's numbers (read from the section's own source). */
  code?: CodeBlock[];
  /** What the seed printed next to what chainrule computes for the same cell. */
  seedValues?: SeedValue[];
  /** Seconds the section took. */
  seconds?: number;
}

export interface CodeBlock {
  caption: string;
  source: string;
  /** Shown folded (a long generated program); open by default. */
  folded?: boolean;
  /** Wrap long lines (a printed formula) instead of scrolling. */
  wrap?: boolean;
  /** The section's live code (tour/lib/live.ts): editable and rerunnable in the live page. */
  live?: boolean;
}

export interface SeedValue {
  /** The cell or expression. */
  what: string;
  /** The seed's own printout (verbatim). */
  seed: string;
  /** chainrule's value, formatted the same way. */
  chainrule: string;
  /** Where the two differ, why (for example a mistake in the seed). */
  note?: string;
}

export interface TourOptions {
  /** Smaller grids and shorter sweeps (for the test). */
  quick: boolean;
  /** Long sections report how far they are (0..1) for the progress bar. */
  onProgress?: (fraction: number) => void;
}

export interface Section {
  id: string;
  title: string;
  /**
   * Present on live sections: the file of plain JavaScript the section runs,
   * editable in the live page (tour/lib/live.ts).
   */
  live?: LiveCode;
  /**
   * Computes the section. A live section takes the text of its live code
   * (the file in Node, the reader's edit in the page) and throws without it.
   */
  run(opts: TourOptions, liveSource?: string): Promise<SectionResult> | SectionResult;
}

/** The live code's text, or a clear error when a live section is run without it. */
export function requireLiveSource(section: Section, liveSource: string | undefined): string {
  if (liveSource === undefined) {
    throw new InvalidArgumentError(
      `tour section "${section.id}" is live: run it with the text of ${section.live?.file ?? "its live file"} ` +
        "(runTour reads it with readLiveSource)",
    );
  }
  return liveSource;
}

/** A check of ad against reference with absolute tolerance tol. */
export function check(
  label: string,
  ad: number,
  reference: number,
  referenceKind: string,
  tolerance: number,
): Check {
  const passed = Number.isFinite(ad) && Math.abs(ad - reference) <= tolerance;
  return { label, ad, reference, referenceKind, tolerance, passed };
}

/** A check with a relative tolerance: |ad - ref| <= rtol * max(|ref|, 1). */
export function checkRel(
  label: string,
  ad: number,
  reference: number,
  referenceKind: string,
  rtol: number,
): Check {
  return check(label, ad, reference, referenceKind, rtol * Math.max(Math.abs(reference), 1));
}

/**
 * A check over many points: reports the point where AD and the reference
 * differ most, so the table shows two real values side by side.
 */
export function checkWorst(
  label: string,
  ad: readonly number[],
  reference: readonly number[],
  referenceKind: string,
  rtol: number,
): Check {
  let worst = 0;
  let worstExcess = -Infinity;
  for (let i = 0; i < ad.length; i++) {
    const excess = Math.abs(ad[i]! - reference[i]!) / Math.max(Math.abs(reference[i]!), 1);
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = excess;
    }
  }
  return checkRel(
    `${label} (worst of ${ad.length} points)`,
    ad[worst]!,
    reference[worst]!,
    referenceKind,
    rtol,
  );
}
