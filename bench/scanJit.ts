/**
 * `tsx bench/scanJit.ts`: time to trace and compile (first call) and to run
 * (later calls) a jitted lax.scan over T steps of an array carry, with the
 * scan staged as one `scan` equation (now) and unrolled into T copies of the
 * step (before; scanStaging.enabled = false), interleaved in one process.
 *
 * Workload: carry h (N floats), xs [T, N]; step h' = tanh(a h + x), y = null;
 * loss = sum(h_T). With --ys the step also returns y = h' and the loss adds
 * sum(ys) (the staged scan writes the [T, N] ys in place).
 * Cases: forward value (jit(f)) and gradient (jit(grad(f))).
 *
 * Usage: tsx bench/scanJit.ts [--T 10000] [--N 16] [--repeats 3] [--ys]
 */
import { parseArgs } from "node:util";
import { type Array as NdArray, grad, jit, lax, np } from "../src/index.js";
import { scanStaging } from "../src/lax/scan.js";
import { fmt, machineInfo, printTable } from "./harness.js";

const { values } = parseArgs({
  options: {
    T: { type: "string", default: "10000" },
    N: { type: "string", default: "16" },
    repeats: { type: "string", default: "3" },
    ys: { type: "boolean", default: false },
  },
});
const T = Number(values.T);
const N = Number(values.N);
const repeats = Number(values.repeats);

const withYs = values.ys;

const loss = (a: NdArray, xs: NdArray) => {
  const [h, ys] = lax.scan(
    (h: NdArray, x: NdArray) => {
      const next = np.tanh(np.add(np.multiply(a, h), x));
      return [next, withYs ? next : null];
    },
    np.zeros([N]),
    xs,
  );
  return ys === null ? np.sum(h) : np.add(np.sum(h), np.sum(ys));
};

const a = np.array(0.9);
const xs = np.reshape(np.sin(np.arange(0, T * N)), [T, N]);

function timeCase(
  staged: boolean,
  withGrad: boolean,
): [compile: number, run: number, value: number] {
  scanStaging.enabled = staged;
  // a fresh jit each time, so the first call traces and compiles
  const f = jit(withGrad ? grad(loss) : loss);
  const t0 = performance.now();
  const v = f(a, xs).item();
  const t1 = performance.now();
  f(a, xs);
  const t2 = performance.now();
  scanStaging.enabled = true;
  return [(t1 - t0) / 1000, (t2 - t1) / 1000, v];
}

const results = new Map<string, { compile: number[]; run: number[]; value: number }>();
for (let r = 0; r < repeats; r++) {
  for (const withGrad of [false, true]) {
    for (const staged of [true, false]) {
      const name = `${withGrad ? "jit(grad)" : "jit"} ${staged ? "staged" : "unrolled"}`;
      const [c, run, value] = timeCase(staged, withGrad);
      const entry = results.get(name) ?? { compile: [], run: [], value };
      entry.compile.push(c);
      entry.run.push(run);
      results.set(name, entry);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
console.log(machineInfo());
console.log(
  `T = ${T}, N = ${N}, ys ${withYs ? "[T, N]" : "none"}, ${repeats} repeats (medians, seconds)`,
);
printTable(
  ["case", "first call (trace+compile+run)", "later call (run)", "value"],
  [...results].map(([name, e]) => [
    name,
    fmt(median(e.compile), 3),
    fmt(median(e.run), 3),
    e.value.toPrecision(12),
  ]),
);
