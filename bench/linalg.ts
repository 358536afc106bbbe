/**
 * Batched linear algebra (issue 13): a stack of 64 matrices 32 x 32 through
 * np.linalg.eigh, svd and solve in one call (the native stack), through vmap
 * (its batch rule joins the stack), and through a plain-JS loop calling the
 * unbatched function once per matrix. Before timing, the three routes are
 * checked to give the same values. Run: npx tsx bench/linalg.ts [--quick]
 */
import { type Array as NdArray, np, vmap } from "../src/index.js";
import { type BenchCase, fmt, machineInfo, printTable, runInterleaved } from "./harness.js";

const BATCH = 64;
const N = 32;

/** A fixed pseudo-random float64 array (LCG), entries in [-1, 1). */
function data(shape: number[], seed: number): NdArray {
  let s = seed >>> 0;
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return np.array(out, { shape });
}

/** Reads every output back (so that nothing is left lazy). */
function touch(x: NdArray | NdArray[]): number {
  const xs = Array.isArray(x) ? x : [x];
  return xs.reduce((acc, a) => acc + a.data()[0]!, 0);
}

function maxAbsDiff(a: NdArray, b: NdArray): number {
  const x = a.data();
  const y = b.data();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const raw = data([BATCH, N, N], 1);
  const sym = np.add(raw, np.swapaxes(raw, 1, 2));
  const wellPosed = np.add(raw, np.multiply(np.eye(N), N));
  const rhs = data([BATCH, N, 4], 2);
  const slices = (x: NdArray) => Array.from({ length: BATCH }, (_, i) => np.take(x, i, 0));
  const symList = slices(sym);
  const rawList = slices(raw);
  const aList = slices(wellPosed);
  const bList = slices(rhs);

  const svdOf = (m: NdArray) => np.linalg.svd(m, { fullMatrices: false });
  const workloads: {
    name: string;
    stack: () => NdArray[];
    viaVmap: () => NdArray[];
    loop: () => NdArray[];
  }[] = [
    {
      name: "eigh",
      stack: () => np.linalg.eigh(sym),
      viaVmap: () => vmap((m: NdArray) => np.linalg.eigh(m))(sym),
      loop: () => {
        const outs = symList.map((m) => np.linalg.eigh(m));
        return [np.stack(outs.map((o) => o[0])), np.stack(outs.map((o) => o[1]))];
      },
    },
    {
      name: "svd (reduced)",
      stack: () => svdOf(raw),
      viaVmap: () => vmap(svdOf)(raw),
      loop: () => {
        const outs = rawList.map(svdOf);
        return [0, 1, 2].map((k) => np.stack(outs.map((o) => o[k]!)));
      },
    },
    {
      name: "solve (4 right-hand sides)",
      stack: () => [np.linalg.solve(wellPosed, rhs)],
      viaVmap: () => [vmap((a: NdArray, b: NdArray) => np.linalg.solve(a, b))(wellPosed, rhs)],
      loop: () => [np.stack(aList.map((a, i) => np.linalg.solve(a, bList[i]!)))],
    },
  ];

  console.log(`batched linear algebra, ${BATCH} x (${N}x${N}) float64; ${machineInfo()}`);
  for (const w of workloads) {
    const s = w.stack();
    const v = w.viaVmap();
    const l = w.loop();
    const diff = Math.max(...s.map((x, i) => Math.max(maxAbsDiff(x, v[i]!), maxAbsDiff(x, l[i]!))));
    if (!(diff === 0)) throw new Error(`${w.name}: the three routes differ by ${diff}`);
    const cases: BenchCase[] = [
      { name: "plain-JS loop of unbatched calls", run: () => touch(w.loop()) },
      { name: "one batched call [64, 32, 32]", run: () => touch(w.stack()) },
      { name: "vmap of the unbatched function", run: () => touch(w.viaVmap()) },
    ];
    const results = await runInterleaved(cases, {
      rounds: quick ? 5 : 15,
      warmup: 2,
      capMs: 20000,
    });
    const loopMs = results[0]!.medianMs!;
    console.log(`\n${w.name}: medians of ${results[0]!.runs} interleaved rounds`);
    printTable(
      ["case", "ms / call", "ms / matrix", "speed-up over loop"],
      results.map((r) => [
        r.name,
        r.note ?? fmt(r.medianMs, 2),
        r.medianMs === null ? "-" : fmt(r.medianMs / BATCH, 3),
        r.medianMs === null ? "-" : `${fmt(loopMs / r.medianMs, 2)}x`,
      ]),
    );
  }
}

void main();
