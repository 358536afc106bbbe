/**
 * `npm run bench` (full) and `npm run bench:quick` (under two minutes):
 * chainrule next to its peers, interleaved in one process. Record results
 * with the machine line in docs/benchmarks.md.
 *
 * Options: `--only w2,w3` runs some workloads; `--backend js` (repeatable)
 * restricts chainrule to the named backends (default: every backend that
 * `setBackend` accepts in this build, e.g. "js" and "wasm").
 */
import { parseArgs } from "node:util";
import { machineInfo } from "./harness.js";
import { chainruleBackends } from "./peers.js";
import { benchW1 } from "./w1.js";
import { benchW1Jit } from "./w1jit.js";
import { benchW2 } from "./w2.js";
import { benchW3 } from "./w3.js";
import { benchW4 } from "./w4.js";
import { benchW5 } from "./w5.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    backend: { type: "string", multiple: true },
  },
});
const quick = values.quick ?? false;
const only = values.only?.toLowerCase().split(",");
const backends = await chainruleBackends(values.backend ?? ["js", "wasm"]);
if (backends.length === 0) {
  throw new Error(
    `--backend ${values.backend?.join(", ")}: no such chainrule backend in this build`,
  );
}
const wanted = (w: string) => only === undefined || only.includes(w);

console.log(`chainrule benchmarks (${quick ? "quick" : "full"}) on ${machineInfo()}`);
console.log(`chainrule backends: ${backends.join(", ")}\n`);
const t0 = performance.now();
if (wanted("w1")) await benchW1({ quick });
if (wanted("w1jit")) await benchW1Jit({ quick });
if (wanted("w2")) await benchW2({ quick, backends });
if (wanted("w3")) await benchW3({ quick, backends });
if (wanted("w4")) await benchW4({ quick, backends });
if (wanted("w5")) await benchW5({ quick, backends });
console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s`);
