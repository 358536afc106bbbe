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
  frameworks,
  linearMaps,
];

/** Shown at the top of the live page: which sections are live, and why the others are not. */
export const LIVE_NOTE =
  "Sections marked live run in this page: edit their code and press Run (chainrule, " +
  "Observable Plot and Graphviz run in the browser) to redraw their figures and recompute " +
  "their checks. Live: " +
  "finite differences, control flow, higher derivatives, Jacobian cost, dual numbers and " +
  "the tape, the frameworks' idioms and matrix-free linear maps: small experiments where " +
  "changing a function, a point or a grid teaches something and a rerun takes well under a " +
  "second. The others show the code that ran but are not live: the symbolic section and the " +
  "graph/CSE section need the tour's Node-side symbolic helper and read their own TypeScript " +
  "source; the likelihood fit, neural network, long simulations, HMC, sensitivity, mechanics " +
  "and agent-based sections run for seconds to tens of seconds, measure memory with Node's " +
  "gc(), or both.";
