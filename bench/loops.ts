/**
 * Loops under jit: lax.forILoop with concrete bounds (unrolled while tracing,
 * re-rolled by the code generator) against traced bounds (one staged `while`
 * primitive), for a scalar and an array carry. Reports the first call (trace,
 * optimise, compile, run) and the median of later calls, next to a plain JS loop.
 *
 *   npx tsx bench/loops.ts [--quick]
 */
import { parseArgs } from "node:util";
import { type Array, grad, jit, lax, np } from "../src/index.js";
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

type Case = { name: string; make: () => (x: Array) => unknown } | { name: string; plain: true };

console.log(`lax.forILoop under jit, ${steps} steps, on ${machineInfo()}\n`);
const rows: string[][] = [];
for (const size of [1, 100]) {
  const data = Float64Array.from({ length: size }, (_, j) => 0.1 + j / size);
  const x = size === 1 ? np.array(data[0]!) : np.array(data);
  const shape = size === 1 ? "scalar" : `[${size}]`;
  const total = (v: Array, n: number | Array) => np.sum(lax.forILoop(0, n, body, v));
  // Fresh jitted functions per round, so that each first call compiles.
  const cases: Case[] = [
    {
      name: `${shape}, concrete bounds (unrolled)`,
      make: () => jit((v: Array) => lax.forILoop(0, steps, body, v)),
    },
    {
      name: `${shape}, traced bounds (while)`,
      make: () => {
        const f = jit((v: Array, n: Array) => lax.forILoop(0, n, body, v));
        return (v: Array) => f(v, steps);
      },
    },
    {
      name: `${shape}, grad, concrete bounds (unrolled)`,
      make: () => jit(grad((v: Array) => total(v, steps))),
    },
    {
      name: `${shape}, grad, traced bounds (while)`,
      make: () => {
        const g = jit(grad(total));
        return (v: Array) => g(v, steps);
      },
    },
    { name: `${shape}, plain JS loop (forward)`, plain: true },
  ];
  const first = cases.map(() => [] as number[]);
  const later = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    const fns = cases.map((c) => ("make" in c ? c.make() : null));
    fns.forEach((f, i) => {
      if (f !== null) first[i]!.push(time(() => f(x)));
    });
    // later calls: warm code, interleaved
    for (let k = 0; k < 5; k++) {
      fns.forEach((f, i) => later[i]!.push(time(() => (f === null ? plain(data, steps) : f(x)))));
    }
  }
  cases.forEach((c, i) =>
    rows.push([
      c.name,
      first[i]!.length > 0 ? fmt(median(first[i]!), 1) : "",
      fmt(median(later[i]!), 2),
    ]),
  );
}
printTable(["case", "first call ms", "later call ms"], rows);
