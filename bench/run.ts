/**
 * `npm run bench` (full) and `npm run bench:quick` (under two minutes):
 * chainrule next to its peers, interleaved in one process. Record results
 * with the machine line in docs/benchmarks.md.
 */
import { parseArgs } from "node:util";
import { machineInfo } from "./harness.js";
import { benchW1 } from "./w1.js";
import { benchW1Jit } from "./w1jit.js";
import { benchW5 } from "./w5.js";

const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const quick = values.quick ?? false;

console.log(`chainrule benchmarks (${quick ? "quick" : "full"}) on ${machineInfo()}\n`);
await benchW1({ quick });
await benchW1Jit({ quick });
await benchW5({ quick });
