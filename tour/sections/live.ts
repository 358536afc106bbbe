/**
 * The live sections: those whose experiment is a file of plain JavaScript
 * that the live page (live.html) lets the reader edit and rerun. Imported by
 * the live page's bundle (tour/lib/liveClient.ts), so these sections and
 * what they import must stay free of Node-only modules.
 */
import type { Section } from "../lib/types.js";
import { finiteDifferences } from "./s01-finite-differences.js";
import { controlFlow } from "./s03-control-flow.js";
import { higher } from "./s04-higher.js";
import { jacobianCost } from "./s05-jacobian-cost.js";
import { manualJvpVjp } from "./s06-manual-jvp-vjp.js";
import { graph } from "./s07-graph.js";
import { dualAndTape } from "./s09-dual-and-tape.js";
import { nnPhysics } from "./s10-nn-physics.js";
import { frameworks } from "./s12-frameworks.js";
import { linearMaps } from "./s13-linear-maps.js";

/** In the report's order. */
export const LIVE_SECTIONS: Section[] = [
  finiteDifferences,
  controlFlow,
  higher,
  jacobianCost,
  manualJvpVjp,
  graph,
  dualAndTape,
  nnPhysics,
  frameworks,
  linearMaps,
];

/** Shown at the top of the live page: which sections are live, and why the others are not. */
export const LIVE_NOTE =
  "Sections marked live run in this page: edit their code and press Run (or Ctrl+Enter); " +
  "chainrule, Observable Plot and Graphviz run in the browser, redraw the section's figures " +
  "and recompute its checks. The code in the editors is the code the report ran in Node. " +
  "Live: 1 finite differences, 3 control flow, 4 higher derivatives, 5 Jacobian cost, " +
  "6 JVP/VJP by hand, 7 the graph, 9 dual numbers and the tape, 10 a neural network and " +
  "Lennard-Jones forces, 12 the frameworks' idioms and 13 matrix-free linear maps: " +
  "experiments where changing a function, a point or a grid teaches something and a rerun " +
  "takes under a second (5, which times both modes at every size, and 10, which trains for " +
  "600 steps, a few seconds in the full run). Not live: 11 and 16-19 compute for seconds " +
  "each (11 also measures memory with Node's gc()); 14 and 15 show several parts of their " +
  "TypeScript module, read from the file in Node; 2 measures expression swell with the " +
  "tour's own symbolic differentiator rather than chainrule code; 8 could be made live the " +
  "same way but is not yet (its log-likelihood is shared with section 15).";
