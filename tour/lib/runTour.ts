/**
 * Runs the tour's sections in order and writes the report page. Shared by
 * the command line (tour/run.ts) and the test (test/tour.test.ts).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { SECTIONS } from "../sections/index.js";
import { buildPage } from "./html.js";
import type { SectionResult, TourOptions } from "./types.js";

export interface TourRun {
  sections: SectionResult[];
  /** Path of the written index.html. */
  page: string;
  seconds: number;
}

export async function runTour(
  opts: TourOptions & { outDir: string; playground?: boolean },
  /** Called before each section (done = sections finished, possibly fractional) and at the end. */
  onSection: (done: number, total: number, title: string) => void = () => {},
): Promise<TourRun> {
  const start = performance.now();
  const sections: SectionResult[] = [];
  for (const [i, section] of SECTIONS.entries()) {
    onSection(i, SECTIONS.length, section.title);
    const t0 = performance.now();
    const onProgress = (fraction: number) =>
      onSection(i + fraction, SECTIONS.length, section.title);
    const result = await section.run({ ...opts, onProgress });
    result.seconds = (performance.now() - t0) / 1000;
    sections.push(result);
  }
  onSection(SECTIONS.length, SECTIONS.length, "done");
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const machine = `${cpu} x${cpus().length}, Node ${process.version}, ${process.platform}`;
  const html = buildPage(sections, {
    date: new Date().toISOString(),
    machine,
    quick: opts.quick,
    playground: opts.playground === true,
  });
  mkdirSync(opts.outDir, { recursive: true });
  const page = join(opts.outDir, "index.html");
  writeFileSync(page, html);
  return { sections, page, seconds: (performance.now() - start) / 1000 };
}
