/**
 * Node only: reads a live section's code (tour/sections/<file>.live.js) as
 * text, for the report run and for the live page's editors. The page itself
 * never reads files: the text travels inside live.html.
 */
import { readFileSync } from "node:fs";
import type { Section } from "./types.js";

/** The text of the section's live file, or undefined for a section that is not live. */
export function readLiveSource(section: Section): string | undefined {
  if (section.live === undefined) return undefined;
  return readFileSync(new URL(`../sections/${section.live.file}`, import.meta.url), "utf8");
}
