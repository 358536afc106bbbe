/**
 * Benchmark harness: runs several named cases interleaved (round robin, so
 * that machine noise hits all of them alike), records one wall time per case
 * per round, and reports medians. Cases that are too slow are dropped after
 * their first run instead of stalling the whole benchmark.
 */
import os from "node:os";

export interface BenchCase {
  name: string;
  /** One measured call. It should read its result back (synchronously or awaited). */
  run: () => unknown;
  /** Untimed set-up before each call (e.g. selecting a library's backend). */
  before?: () => unknown;
}

export interface BenchResult {
  name: string;
  /** Median milliseconds per call, or null when the case was skipped. */
  medianMs: number | null;
  runs: number;
  note?: string;
}

export interface BenchOptions {
  rounds: number;
  warmup: number;
  /** A case whose first call takes longer than this is skipped. */
  capMs: number;
  /**
   * Rotate the order of the cases by one each round, so that no case always
   * runs right after the same other one (whose garbage or cache footprint
   * it would then always pay for).
   */
  rotate?: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function runInterleaved(
  cases: BenchCase[],
  opts: BenchOptions,
): Promise<BenchResult[]> {
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const dropped = new Map<string, string>();
  /** Times one call; a peer that throws is reported and dropped, not fatal. */
  const timed = async (c: BenchCase): Promise<number | null> => {
    let t0 = performance.now();
    try {
      if (c.before !== undefined) {
        await c.before();
        t0 = performance.now();
      }
      await c.run();
    } catch (e) {
      dropped.set(c.name, `failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      return null;
    }
    return performance.now() - t0;
  };
  for (const c of cases) {
    const first = await timed(c);
    if (first !== null && first > opts.capMs) {
      dropped.set(c.name, `skipped (${(first / 1000).toFixed(1)} s per call)`);
    }
  }
  for (let w = 1; w < opts.warmup; w++) {
    for (const c of cases) if (!dropped.has(c.name)) await timed(c);
  }
  for (let r = 0; r < opts.rounds; r++) {
    const shift = opts.rotate === true ? r % cases.length : 0;
    for (const c of [...cases.slice(shift), ...cases.slice(0, shift)]) {
      if (dropped.has(c.name)) continue;
      const t = await timed(c);
      if (t !== null) times.get(c.name)!.push(t);
    }
  }
  return cases.map((c) => {
    const ts = times.get(c.name)!;
    const note = dropped.get(c.name);
    return {
      name: c.name,
      medianMs: note === undefined && ts.length > 0 ? median(ts) : null,
      runs: ts.length,
      ...(note !== undefined ? { note } : {}),
    };
  });
}

/** Prints rows as an aligned Markdown table. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  for (const r of rows) console.log(line(r));
}

/** One line describing the machine, for the record. */
export function machineInfo(): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  return `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

export function fmt(x: number | null, digits = 0): string {
  return x === null
    ? "-"
    : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
