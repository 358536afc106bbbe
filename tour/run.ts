/**
 * `npm run tour [-- --quick] [-- --out <dir>] [-- --serve [--port <n>]]`:
 * runs every experiment of the seed tutorials with chainrule, shows a
 * progress bar (on a terminal), prints a summary of the checks and writes
 * <dir>/index.html (default tour/). With --serve it also writes the live
 * tour (live.html, tour-live.js: the live sections' code editable and
 * rerunnable in the page) and the playground (playground.html,
 * chainrule.js), and serves the folder.
 */
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import cliProgress from "cli-progress";
import { parseTourArgs, type TourArgs } from "./lib/args.js";
import { runTour } from "./lib/runTour.js";
import { buildPlayground, serveDir } from "./lib/serve.js";

/** The path relative to the working directory when it lies below it. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") || rel === "" ? path : rel;
}

let opts: TourArgs;
try {
  opts = parseTourArgs(process.argv.slice(2), dirname(fileURLToPath(import.meta.url)));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(2);
}
const bar = process.stdout.isTTY
  ? new cliProgress.SingleBar(
      {
        format: "tour [{bar}] {percentage}% {section}",
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    )
  : null;
let started = false;
const run = await runTour({ ...opts, playground: opts.serve }, (done, total, title) => {
  if (bar === null) return;
  if (!started) {
    bar.start(total, 0, { section: title });
    started = true;
  } else bar.update(done, { section: title });
});
bar?.stop();

let failures = 0;
for (const s of run.sections) {
  const failed = s.checks.filter((c) => !c.passed);
  failures += failed.length;
  const mark = failed.length === 0 ? "ok  " : "FAIL";
  console.log(
    `${mark} ${s.title}  (${s.checks.length - failed.length}/${s.checks.length} checks, ${s.seconds?.toFixed(1)} s)`,
  );
  for (const c of s.checks) {
    console.log(
      `       ${c.passed ? "✓" : "✗"} ${c.label}: chainrule ${c.ad.toPrecision(6)} vs ${c.referenceKind} ${c.reference.toPrecision(6)}`,
    );
  }
}
console.log(
  `\n${failures === 0 ? "All checks pass" : `${failures} check(s) FAILED`}; ` +
    `report written to ${shortPath(run.page)} in ${run.seconds.toFixed(1)} s`,
);
process.exitCode = failures === 0 ? 0 : 1;
if (opts.serve) {
  await buildPlayground(opts.outDir);
  const { url } = await serveDir(opts.outDir, opts.port);
  console.log(
    `Serving the tour at ${url} (live tour: ${url}live.html, playground: ${url}playground.html); Ctrl-C stops.`,
  );
}
