/**
 * The live sections: those whose experiment is a file of plain JavaScript
 * that the live page (live.html) lets the reader edit and rerun. Imported by
 * the live page's bundle (tour/lib/liveClient.ts), so these sections and
 * what they import must stay free of Node-only modules.
 */
import type { Section } from "../lib/types.js";
import { finiteDifferences } from "./s01-finite-differences.js";
import { symbolic } from "./s02-symbolic.js";
import { controlFlow } from "./s03-control-flow.js";
import { higher } from "./s04-higher.js";
import { jacobianCost } from "./s05-jacobian-cost.js";
import { manualJvpVjp } from "./s06-manual-jvp-vjp.js";
import { graph } from "./s07-graph.js";
import { likelihoodFit } from "./s08-likelihood-fit.js";
import { dualAndTape } from "./s09-dual-and-tape.js";
import { nnPhysics } from "./s10-nn-physics.js";
import { longSimulations } from "./s11-long-simulations.js";
import { frameworks } from "./s12-frameworks.js";
import { linearMaps } from "./s13-linear-maps.js";
import { graphsCse } from "./s14-graphs-cse.js";
import { byHand } from "./s15-by-hand.js";
import { hmc } from "./s16-hmc.js";
import { sensitivity } from "./s17-sensitivity.js";
import { mechanics } from "./s18-mechanics.js";

/** In the report's order. */
export const LIVE_SECTIONS: Section[] = [
  finiteDifferences,
  symbolic,
  controlFlow,
  higher,
  jacobianCost,
  manualJvpVjp,
  graph,
  likelihoodFit,
  dualAndTape,
  nnPhysics,
  longSimulations,
  frameworks,
  linearMaps,
  graphsCse,
  byHand,
  hmc,
  sensitivity,
  mechanics,
];

/** Shown at the top of the live page: which sections are live, and why the others are not. */
export const LIVE_NOTE =
  "Sections marked live run in this page: edit their code and press Run (or Ctrl+Enter); " +
  "chainrule, Observable Plot and Graphviz run in the browser, redraw the section's figures " +
  "and recompute its checks. The code in the editors is the code the report ran in Node. " +
  "Live: sections 1 to 18. Most rerun in under a second; the long ones (11 long simulations, " +
  "16 HMC, 17 sensitivity, 18 mechanics) rerun here with their smaller `quick` sizes and say " +
  "so above their code, while the results first shown are the report's full run. Section 11's " +
  "memory is measured in Node only (it needs Node's garbage collector). Not live: 19 " +
  "(agent-based models), which another change is rewriting. The code runs in this tab: code " +
  "that never ends (an endless loop) hangs it; reload the page to get the original code back.";
