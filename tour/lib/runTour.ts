/**
 * Runs the tour's sections in order and writes the report page (and, with
 * the playground, the live page). Shared by the command line (tour/run.ts)
 * and the tests (test/tour.test.ts, test/tourLive.test.ts). Node only.
 */
import "./nodeDocument.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { SECTIONS } from "../sections/index.js";
import { LIVE_NOTE } from "../sections/live.js";
import { buildPage } from "./html.js";
import { readLiveSource } from "./liveSource.js";
import type { Section, SectionResult, TourOptions } from "./types.js";

export interface TourRun {
  sections: SectionResult[];
  /** Path of the written index.html. */
  page: string;
  /** Path of the written live.html (with the playground only). */
  livePage?: string;
  seconds: number;
}

export async function runTour(
  opts: TourOptions & {
    outDir: string;
    /** Also write live.html (the playground's files come from buildPlayground). */
    playground?: boolean;
    /** Run only these sections (default: all, in the report's order). */
    sections?: readonly Section[];
  },
  /** Called before each section (done = sections finished, possibly fractional) and at the end. */
  onSection: (done: number, total: number, title: string) => void = () => {},
): Promise<TourRun> {
  const start = performance.now();
  const sections: SectionResult[] = [];
  const list = opts.sections ?? SECTIONS;
  for (const [i, section] of list.entries()) {
    onSection(i, list.length, section.title);
    const t0 = performance.now();
    const onProgress = (fraction: number) => onSection(i + fraction, list.length, section.title);
    const result = await section.run({ ...opts, onProgress }, readLiveSource(section));
    result.seconds = (performance.now() - t0) / 1000;
    sections.push(result);
  }
  onSection(list.length, list.length, "done");
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const machine = `${cpu} x${cpus().length}, Node ${process.version}, ${process.platform}`;
  const meta = {
    date: new Date().toISOString(),
    machine,
    quick: opts.quick,
    playground: opts.playground === true,
  };
  mkdirSync(opts.outDir, { recursive: true });
  const page = join(opts.outDir, "index.html");
  writeFileSync(page, buildPage(sections, meta));
  let livePage: string | undefined;
  if (opts.playground === true) {
    livePage = join(opts.outDir, "live.html");
    writeFileSync(livePage, buildPage(sections, { ...meta, live: true, liveNote: LIVE_NOTE }));
  }
  return { sections, page, livePage, seconds: (performance.now() - start) / 1000 };
}
