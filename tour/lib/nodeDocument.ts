/**
 * Node only: gives Observable Plot (tour/lib/plot.ts) a linkedom document to
 * draw into. Imported for its effect by the runner; kept out of the live
 * page's bundle, which draws into the page's own document.
 */
import { parseHTML } from "linkedom";
import { setPlotDocument } from "./plot.js";

const { document } = parseHTML("<!doctype html><html><head></head><body></body></html>");
setPlotDocument(document);
