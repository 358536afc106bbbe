/** The tour's sections, in the order of the report. */
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
import { agentBased } from "./s19-agent-based.js";

export const SECTIONS: Section[] = [
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
  agentBased,
];
