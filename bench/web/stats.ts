/**
 * Browser benchmark page, statistics and text: the interleaved timing loop
 * (round robin over the cases, so that noise hits all of them alike),
 * medians and quartiles, and the report as a Markdown table. No DOM and no
 * Node here, so the page and the Node side share it.
 */

export interface TimedCase {
  name: string;
  /** Untimed set-up before each call (selecting the library's backend). */
  before: () => Promise<void> | void;
  /** One measured call; it must wait for the result (an awaited read). */
  run: () => Promise<unknown>;
}

export interface CaseTiming {
  name: string;
  /** Milliseconds of each timed call, in round order. */
  times: number[];
  /** Why the case stopped, if it did (an error, or too slow to repeat). */
  note?: string;
}

export interface Summary {
  name: string;
  runs: number;
  median: number | null;
  q1: number | null;
  q3: number | null;
  note?: string;
}

/** The q-quantile of sorted values, interpolating linearly between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError("quantile: no values");
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(t: CaseTiming): Summary {
  const s = [...t.times].sort((a, b) => a - b);
  const has = s.length > 0 && t.note === undefined;
  return {
    name: t.name,
    runs: s.length,
    median: has ? quantile(s, 0.5) : null,
    q1: has ? quantile(s, 0.25) : null,
    q3: has ? quantile(s, 0.75) : null,
    ...(t.note !== undefined ? { note: t.note } : {}),
  };
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Runs `warmup` untimed rounds and then `rounds` timed ones, each round
 * calling every live case once in turn. A case that throws is dropped with
 * the error as its note; one whose first call takes longer than `capMs` is
 * dropped too (it would stall the page).
 */
export async function runInterleaved(
  cases: readonly TimedCase[],
  opts: { rounds: number; warmup: number; capMs: number; onRound?: (r: number) => void },
): Promise<CaseTiming[]> {
  const out = cases.map((c): CaseTiming => ({ name: c.name, times: [] }));
  const call = async (i: number): Promise<number | null> => {
    const c = cases[i]!;
    try {
      await c.before();
      const t0 = performance.now();
      await c.run();
      return performance.now() - t0;
    } catch (e) {
      out[i]!.note = `failed: ${describe(e)}`;
      return null;
    }
  };
  for (let w = 0; w < opts.warmup; w++) {
    for (let i = 0; i < cases.length; i++) {
      if (out[i]!.note !== undefined) continue;
      const t = await call(i);
      if (w === 0 && t !== null && t > opts.capMs) {
        out[i]!.note = `skipped (${(t / 1000).toFixed(1)} s per call)`;
      }
    }
  }
  for (let r = 0; r < opts.rounds; r++) {
    for (let i = 0; i < cases.length; i++) {
      if (out[i]!.note !== undefined) continue;
      const t = await call(i);
      if (t !== null) out[i]!.times.push(t);
    }
    opts.onRound?.(r);
  }
  return out;
}

/** A number with fixed decimals, or "-" for none. */
export function fmt(x: number | null, digits: number): string {
  return x === null || !Number.isFinite(x) ? "-" : x.toFixed(digits);
}

/** Rows as an aligned Markdown table (header, rule, rows). */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${widths.map((w, i) => (cells[i] ?? "").padEnd(w)).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)]
    .join("\n")
    .concat("\n");
}

/**
 * The rows of one workload's table: median and interquartile range in
 * milliseconds, an optional throughput column (`perMs`, e.g. GFLOP per
 * millisecond of a product, shown per second), and the ratio of each
 * case's median time to each reference case's (above 1: slower than it).
 */
export function timingRows(
  summaries: readonly Summary[],
  references: readonly string[],
  throughput?: { label: string; perCall: number },
): { header: string[]; rows: string[][] } {
  const header = ["case", "median ms", "q1-q3 ms", "runs"];
  if (throughput !== undefined) header.push(throughput.label);
  const refs = references
    .map((r) => summaries.find((s) => s.name === r))
    .filter((s): s is Summary => s !== undefined && s.median !== null);
  for (const r of refs) header.push(`time / ${r.name}`);
  const rows = summaries.map((s) => {
    const row = [
      s.name,
      s.note ?? fmt(s.median, s.median !== null && s.median < 10 ? 3 : 1),
      s.median === null ? "" : `${fmt(s.q1, 2)}-${fmt(s.q3, 2)}`,
      String(s.runs),
    ];
    if (throughput !== undefined) {
      const rate = s.median === null ? null : throughput.perCall / (s.median / 1000);
      row.push(rate === null ? "" : fmt(rate, rate < 10 ? 3 : 1));
    }
    for (const r of refs) row.push(s.median === null ? "" : fmt(s.median / r.median!, 2));
    return row;
  });
  return { header, rows };
}
