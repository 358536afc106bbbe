/**
 * The code shown on the page is the code that ran: a section marks a part
 * of its own source with `// #region name` ... `// #endregion`, and
 * `codeRegion` reads that part back (dedented) from the section's file.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cache = new Map<string, string[]>();

/** The lines between `// #region name` and the next `// #endregion` in the file at `moduleUrl`. */
export function codeRegion(moduleUrl: string, name: string): string {
  const path = fileURLToPath(moduleUrl);
  let lines = cache.get(path);
  if (lines === undefined) {
    lines = readFileSync(path, "utf8").split("\n");
    cache.set(path, lines);
  }
  const start = lines.findIndex((l) => l.trim() === `// #region ${name}`);
  if (start < 0) throw new Error(`tour: no region "${name}" in ${path}`);
  const end = lines.findIndex((l, i) => i > start && l.trim().startsWith("// #endregion"));
  if (end < 0) throw new Error(`tour: region "${name}" in ${path} is not closed`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(
    ...body.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length),
  );
  return body.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join("\n");
}
