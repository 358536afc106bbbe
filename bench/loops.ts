/**
 * Loops under jit: lax.forILoop with concrete bounds (unrolled while tracing,
 * re-rolled by the code generator) against traced bounds (one staged `while`
 * primitive), for a scalar and an array carry. Reports the first call (trace,
 * optimise, compile, run) and the median of later calls, next to a plain JS loop.
 *
 *   npx tsx bench/loops.ts [--quick]
 */
import { parseArgs } from "node:util";
import { type Array, jit, lax, np } from "../src/index.js";
import { fmt, machineInfo, printTable } from "./harness.js";

const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const quick = values.quick ?? false;
const steps = quick ? 2_000 : 10_000;
const rounds = quick ? 3 : 5;

// x <- 0.999 x + sin(x)/10 elementwise
const body = (_i: Array, c: Array) => np.add(np.multiply(c, 0.999), np.multiply(np.sin(c), 0.1));

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

function plain(x: Float64Array, n: number): Float64Array {
  const y = x.slice();
  for (let k = 0; k < n; k++)
    for (let j = 0; j < y.length; j++) y[j] = 0.999 * y[j]! + Math.sin(y[j]!) * 0.1;
  return y;
}

console.log(`lax.forILoop under jit, ${steps} steps, on ${machineInfo()}\n`);
const rows: string[][] = [];
for (const size of [1, 100]) {
  const data = Float64Array.from({ length: size }, (_, j) => 0.1 + j / size);
  const x = size === 1 ? np.array(data[0]!) : np.array(data);
  const first = { concrete: [] as number[], traced: [] as number[] };
  const later = { concrete: [] as number[], traced: [] as number[], plain: [] as number[] };
  let eqns = { concrete: 0, traced: 0 };
  for (let r = 0; r < rounds; r++) {
    // fresh jitted functions each round, so that the first call compiles
    const concrete = jit((v: Array) => lax.forILoop(0, steps, body, v));
    const traced = jit((v: Array, n: Array) => lax.forILoop(0, n, body, v));
    first.concrete.push(time(() => concrete(x)));
    first.traced.push(time(() => traced(x, steps)));
    // later calls: warm code, interleaved
    for (let k = 0; k < 5; k++) {
      later.concrete.push(time(() => concrete(x)));
      later.traced.push(time(() => traced(x, steps)));
      later.plain.push(time(() => plain(data, steps)));
    }
    eqns = {
      concrete: concrete.lower(x).jaxpr.eqns.length,
      traced: traced.lower(x, steps).jaxpr.eqns.length,
    };
  }
  const shape = size === 1 ? "scalar" : `[${size}]`;
  rows.push([
    `${shape}, concrete bounds (unrolled)`,
    String(eqns.concrete),
    fmt(median(first.concrete), 1),
    fmt(median(later.concrete), 2),
  ]);
  rows.push([
    `${shape}, traced bounds (while)`,
    String(eqns.traced),
    fmt(median(first.traced), 1),
    fmt(median(later.traced), 2),
  ]);
  rows.push([`${shape}, plain JS loop`, "", "", fmt(median(later.plain), 2)]);
}
printTable(["case", "program eqns", "first call ms", "later call ms"], rows);
