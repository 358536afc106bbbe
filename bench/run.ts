/**
 * `npm run bench` (full) and `npm run bench:quick` (under two minutes):
 * chainrule next to its peers, interleaved in one process. Record results
 * with the machine line in docs/benchmarks.md.
 *
 * Options: `--only w2,w3` runs some workloads; `--backend js` (repeatable)
 * restricts chainrule to the named backends (default: every backend that
 * `setBackend` accepts in this build, e.g. "js" and "wasm"); `--gate-trace`
 * prints, at the end, how often each kernel's ThreadGate (wasm backend)
 * ran its calls on the worker threads and its last estimates.
 */
import { parseArgs } from "node:util";
import { type ThreadGateEvent, setThreadGateTrace } from "../src/backends/wasm/threadGate.js";
import { machineInfo, printTable } from "./harness.js";
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
    "gate-trace": { type: "boolean", default: false },
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
/** Per gate: calls run threaded, calls timed, the last event. */
const gates = new Map<string, { threaded: number; calls: number; last: ThreadGateEvent }>();
if (values["gate-trace"] === true) {
  setThreadGateTrace((e) => {
    const g = gates.get(e.label) ?? { threaded: 0, calls: 0, last: e };
    gates.set(e.label, { threaded: g.threaded + (e.threads ? 1 : 0), calls: g.calls + 1, last: e });
  });
}
const t0 = performance.now();
if (wanted("w1")) await benchW1({ quick });
if (wanted("w1jit")) await benchW1Jit({ quick });
if (wanted("w2")) await benchW2({ quick, backends });
if (wanted("w3")) await benchW3({ quick, backends });
if (wanted("w4")) await benchW4({ quick, backends });
if (wanted("w5")) await benchW5({ quick, backends });
if (gates.size > 0) {
  console.log("\nThreadGate per kernel: calls on the threads / calls, last estimates (ms)");
  printTable(
    ["kernel", "threaded / calls", "1 thread", "threads"],
    [...gates].map(([label, g]) => [
      label,
      `${g.threaded} / ${g.calls}`,
      g.last.oneThreadMs.toFixed(2),
      g.last.threadsMs.toFixed(2),
    ]),
  );
}
console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s`);
