/**
 * vmap of a jitted function: one compiled batched program (this checkout)
 * next to the references it should match or beat, interleaved round robin
 * in one process; medians and ratios.
 *
 * - random.uniform of 10^4 samples over 8 vmapped keys (random.uniform is
 *   jitted internally): vmap, a JS loop of the 8 single calls, jit(vmap).
 * - a small MLP (64 -> 64 tanh -> 10) of one example, vmapped over a batch
 *   of 128: vmap(jit(f)), vmap(f) (op by op through the batching trace:
 *   what vmap(jit(f)) ran before the batched program), a JS loop of jit(f),
 *   jit(vmap(f)).
 * - a chain of 30 small steps y <- max(0.9 y + 0.1, -0.5 y) on 16 values
 *   (4 cheap elementwise operations each), vmapped over 128:
 *   vmap(jit(f)) against vmap(f) op by op (where one compiled program pays
 *   most: many operations on small arrays).
 *
 * With `--before <checkout>/src/index.ts` the same vmap(jit) cases run on
 * that checkout's library too (loaded alongside this one), for before/after
 * numbers from one run.
 *
 *   npx tsx bench/jit-vmap.ts [--quick] [--before /path/to/other/src/index.ts]
 */
import { pathToFileURL } from "node:url";
import * as lib from "../src/index.js";
import { type BenchCase, fmt, machineInfo, printTable, runInterleaved } from "./harness.js";

type Lib = typeof lib;
type Arr = lib.Array;

const quick = process.argv.includes("--quick");
const beforeAt = process.argv.indexOf("--before");
const beforePath = beforeAt >= 0 ? process.argv[beforeAt + 1] : undefined;

const KEYS = 8;
const SAMPLES = 10_000;
const BATCH = 128;
const IN = 64;
const HIDDEN = 64;
const OUT = 10;
const STEPS = 30;

/** Deterministic data in [-1, 1) (a linear congruential generator), shared by both libraries. */
function data(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** The cases of one library: `tag` names it in the table. */
function cases(l: Lib, tag: string, all: boolean): BenchCase[] {
  const { np, random, vmap, jit } = l;
  const keys = random.split(random.key(0), KEYS);
  const draw = (k: Arr) => random.uniform(k, [SAMPLES]);
  const vdraw = vmap(draw);
  const jvdraw = jit(vmap(draw));
  const keyRows = Array.from({ length: KEYS }, (_, i) => np.take(keys, i, 0));

  const w1 = np.array(data(HIDDEN * IN, 1), { shape: [HIDDEN, IN] }).mul(0.1);
  const b1 = np.array(data(HIDDEN, 2));
  const w2 = np.array(data(OUT * HIDDEN, 3), { shape: [OUT, HIDDEN] }).mul(0.1);
  const b2 = np.array(data(OUT, 4));
  const xs = np.array(data(BATCH * IN, 5), { shape: [BATCH, IN] });
  const mlp = (x: Arr) => np.add(np.matmul(w2, np.tanh(np.add(np.matmul(w1, x), b1))), b2);
  const jmlp = jit(mlp);
  const vjmlp = vmap(jmlp);
  const vmlp = vmap(mlp);
  const jvmlp = jit(vmap(mlp));
  const xRows = Array.from({ length: BATCH }, (_, i) => np.take(xs, i, 0));

  const chain = (x: Arr) => {
    let y = x;
    for (let i = 0; i < STEPS; i++) {
      y = np.maximum(np.add(np.multiply(y, 0.9), 0.1), np.multiply(y, -0.5));
    }
    return y;
  };
  const vjchain = vmap(jit(chain));
  const vchain = vmap(chain);
  const zs = np.array(data(BATCH * 16, 6), { shape: [BATCH, 16] });

  const mine: BenchCase[] = [
    { name: `${tag} random: vmap(uniform) over ${KEYS} keys`, run: () => vdraw(keys).data() },
    { name: `${tag} MLP: vmap(jit(f)) over ${BATCH}`, run: () => vjmlp(xs).data() },
    { name: `${tag} chain: vmap(jit(f)) over ${BATCH}`, run: () => vjchain(zs).data() },
  ];
  if (!all) return mine;
  return [
    mine[0]!,
    {
      name: `${tag} random: loop of ${KEYS} uniform calls`,
      run: () => keyRows.map((k) => draw(k).data()),
    },
    { name: `${tag} random: jit(vmap(uniform))`, run: () => jvdraw(keys).data() },
    mine[1]!,
    { name: `${tag} MLP: vmap(f), op by op`, run: () => vmlp(xs).data() },
    {
      name: `${tag} MLP: loop of ${BATCH} jit(f) calls`,
      run: () => xRows.map((x) => jmlp(x).data()),
    },
    { name: `${tag} MLP: jit(vmap(f))`, run: () => jvmlp(xs).data() },
    mine[2]!,
    { name: `${tag} chain: vmap(f), op by op`, run: () => vchain(zs).data() },
  ];
}

async function main(): Promise<void> {
  console.log(machineInfo());
  const all = cases(lib, "after:", true);
  if (beforePath !== undefined) {
    const before = (await import(pathToFileURL(beforePath).href)) as Lib;
    all.push(...cases(before, "before:", false));
  }
  // Checks: vmap of the jitted function equals the loop of single calls.
  const { np, random, vmap } = lib;
  const keys = random.split(random.key(0), KEYS);
  const batched = vmap((k: Arr) => random.uniform(k, [SAMPLES]))(keys).data();
  for (let i = 0; i < KEYS; i++) {
    const one = random.uniform(np.take(keys, i, 0), [SAMPLES]).data();
    for (let j = 0; j < SAMPLES; j++) {
      if (one[j] !== batched[i * SAMPLES + j]) throw new Error(`uniform differs at key ${i}, ${j}`);
    }
  }
  const results = await runInterleaved(all, {
    rounds: quick ? 7 : 21,
    warmup: 2,
    capMs: 30_000,
  });
  const byName = new Map(results.map((r) => [r.name, r.medianMs]));
  const ref = (name: string) => byName.get(name) ?? null;
  console.log(`\nvmap of a jitted function, medians of ${results[0]!.runs} interleaved rounds`);
  printTable(
    ["case", "ms / call", "time / vmap(jit) after"],
    results.map((r) => {
      const base = r.name.includes("random")
        ? ref(`after: random: vmap(uniform) over ${KEYS} keys`)
        : r.name.includes("MLP")
          ? ref(`after: MLP: vmap(jit(f)) over ${BATCH}`)
          : ref(`after: chain: vmap(jit(f)) over ${BATCH}`);
      return [
        r.name,
        r.note ?? fmt(r.medianMs, 2),
        r.medianMs === null || base === null ? "-" : `${fmt(r.medianMs / base, 2)}x`,
      ];
    }),
  );
}

await main();
