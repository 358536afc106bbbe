/**
 * W2's jitted training step on ONE thread (issue 18, round 5): chainrule
 * `jit` on the wasm backend with `setWasmThreadLimit(0)` against jax-js
 * `jit`, interleaved call by call (bench/harness.ts runInterleaved). With a
 * core busy all the time our process effectively has one core, so this is
 * the ratio W2 shows beside a spinner. A second chainrule case compiles the
 * same step with the matrix products copied out of the arena and into their
 * group again (`configureWasmJit({ fuseProducts: false })`, as before round
 * 5), so that the fusion's gain is measured in the same run. Before timing,
 * every case runs one step from the same weights and the losses are compared.
 * The order of the cases rotates each round.
 *
 *   npx tsx bench/w2-one.ts [--rounds 41] [--threads]
 *
 * `--threads`: the library's default (worker threads where measured faster)
 * instead of one thread.
 */
import os from "node:os";
import { jit as jaxJit } from "@jax-js/jax";
import { setWasmThreadLimit } from "../src/backends/wasm/index.js";
import { configureWasmJit } from "../src/jit/wasmLowering.js";
import { jit, setBackend } from "../src/index.js";
import {
  type JaxMlpParams,
  type MlpParams,
  jaxMlpArrays,
  jaxMlpStep,
  mlpArrays,
  mlpStep,
} from "./mlpModel.js";
import { W2_SIZES, makeMlpData } from "./web/workloads.js";
import { fmt, machineInfo, printTable, runInterleaved } from "./harness.js";
import "./peers.js";

/** How many kernel calls a compiled program's source makes. */
function kernelCalls(source: string): number {
  return (source.match(/K\[\d+\]\(/g) ?? []).length;
}

/** A chainrule training loop, compiled with or without the fused products. */
function chainruleStep(fuse: boolean): () => number {
  const { x, y, params } = mlpArrays(makeMlpData(W2_SIZES));
  let p: MlpParams = params;
  const step = jit(mlpStep);
  // the first call compiles, with the fusion setting of this case
  configureWasmJit({ fuseProducts: fuse });
  const source = step.lower(p, x, y).compiled.source;
  let first: number | undefined = (() => {
    const [loss, next] = step(p, x, y);
    p = next;
    return loss.item();
  })();
  configureWasmJit({ fuseProducts: true });
  console.log(
    `chainrule, products ${fuse ? "fused" : "copied"}: ${kernelCalls(source)} kernel calls`,
  );
  return () => {
    if (first !== undefined) {
      const loss = first;
      first = undefined;
      return loss;
    }
    const [loss, next] = step(p, x, y);
    p = next;
    return loss.item();
  };
}

function jaxStep(): () => number {
  const { x, y, params } = jaxMlpArrays(makeMlpData(W2_SIZES));
  let q: JaxMlpParams = params;
  const step = jaxJit(
    jaxMlpStep as unknown as Parameters<typeof jaxJit>[0],
  ) as unknown as typeof jaxMlpStep;
  return () => {
    const [loss, next] = step(q, x.ref, y.ref);
    q = next;
    return loss.dataSync()[0]!;
  };
}

async function main(): Promise<void> {
  const i = process.argv.indexOf("--rounds");
  const rounds = i > 0 ? Number(process.argv[i + 1]) : 41;
  const threads = process.argv.includes("--threads");
  await Promise.resolve(setBackend("wasm") as unknown);
  if (!threads) setWasmThreadLimit(0);
  const cases = [
    { name: `chainrule jit (${threads ? "threads" : "1 thread"})`, run: chainruleStep(true) },
    { name: "same, products copied (before)", run: chainruleStep(false) },
    { name: "jax-js jit", run: jaxStep() },
  ];
  const first = cases.map((c) => c.run());
  console.log(`first losses: ${first.map((l) => l.toFixed(6)).join(", ")}`);
  const spread = Math.max(...first) - Math.min(...first);
  if (spread > 1e-4 * Math.abs(first[2]!))
    throw new Error(`w2-one: losses disagree (${first.join(", ")})`);

  console.log(
    `${machineInfo()}; load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const results = await runInterleaved(cases, { rounds, warmup: 10, capMs: 10000, rotate: true });
  const ms = results.map((r) => r.medianMs!);
  printTable(
    ["case", "ms / step", "x jax-js jit", "x before"],
    results.map((r, j) => [
      r.name,
      fmt(ms[j]!, 3),
      fmt(ms[j]! / ms[2]!, 3),
      j < 2 ? fmt(ms[j]! / ms[1]!, 3) : "",
    ]),
  );
}

await main();
