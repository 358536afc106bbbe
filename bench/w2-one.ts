/**
 * W2's jitted training step on ONE thread (issue 18, round 5): chainrule
 * `jit` on the wasm backend with `setWasmThreadLimit(0)` against jax-js
 * `jit`, interleaved call by call (bench/harness.ts runInterleaved). With a
 * core busy all the time our process effectively has one core, so this is
 * the ratio W2 shows beside a spinner. Before timing, both libraries run one
 * step from the same weights and their losses are compared.
 *
 *   npx tsx bench/w2-one.ts [--rounds 41]
 */
import os from "node:os";
import { jit as jaxJit } from "@jax-js/jax";
import { setWasmThreadLimit } from "../src/backends/wasm/index.js";
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

async function main(): Promise<void> {
  const i = process.argv.indexOf("--rounds");
  const rounds = i > 0 ? Number(process.argv[i + 1]) : 41;
  await Promise.resolve(setBackend("wasm") as unknown);
  setWasmThreadLimit(0);
  const d = makeMlpData(W2_SIZES);

  const ours = mlpArrays(d);
  let p: MlpParams = ours.params;
  const step = jit(mlpStep) as unknown as typeof mlpStep;
  const oursStep = (): number => {
    const [loss, next] = step(p, ours.x, ours.y);
    p = next;
    return loss.item();
  };

  const theirs = jaxMlpArrays(d);
  let q: JaxMlpParams = theirs.params;
  const jstep = jaxJit(
    jaxMlpStep as unknown as Parameters<typeof jaxJit>[0],
  ) as unknown as typeof jaxMlpStep;
  const theirStep = (): number => {
    const [loss, next] = jstep(q, theirs.x.ref, theirs.y.ref);
    q = next;
    return loss.dataSync()[0]!;
  };

  const a = oursStep();
  const b = theirStep();
  console.log(`first loss: chainrule ${a.toFixed(6)}, jax-js ${b.toFixed(6)}`);
  if (Math.abs(a - b) > 1e-4 * Math.abs(b)) throw new Error(`w2-one: losses disagree (${a}, ${b})`);

  console.log(
    `${machineInfo()}; load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const results = await runInterleaved(
    [
      { name: "chainrule jit (wasm, 1 thread)", run: oursStep },
      { name: "jax-js jit", run: theirStep },
    ],
    { rounds, warmup: 10, capMs: 10000 },
  );
  const jaxMs = results[1]!.medianMs!;
  printTable(
    ["case", "ms / step", "x jax-js jit"],
    results.map((r) => [r.name, fmt(r.medianMs, 3), fmt(r.medianMs! / jaxMs, 3)]),
  );
}

await main();
