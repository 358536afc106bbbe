/**
 * The arithmetic ceiling of WebAssembly 128-bit SIMD on one thread of this
 * machine, with no memory traffic: `npx tsx bench/simd-peak.ts [--relaxed]
 * [--quick]` (--quick: 5 rounds instead of 15).
 * `--relaxed` turns on V8's relaxed-SIMD flag first (Node 20 ships it behind
 * a flag), so that the fused multiply-add variants run too.
 *
 * Each peak function (generated with our own emitter) runs a counted loop
 * whose body updates N independent v128 accumulators, U times each:
 *   acc_i = acc_i * c1 + c2      (f32x4.mul + f32x4.add: 8 FLOP per pair;
 *                                 f64x2: 4 FLOP)
 *   acc_i = relaxed_madd(acc_i, c1, c2)        (8 FLOP for f32x4, 4 for f64x2)
 * with c1 = 0.999 and c2 = 0.001 in locals (the values tend to the fixed
 * point c2 / (1 - c1) = 1: finite, never subnormal). The function returns
 * the sum of all lanes of all accumulators, so no update is dead code.
 * f32x4 "mul only" and "add only" loops show what each kind of pipe issues
 * alone. (`node --no-liftoff --print-wasm-code --import tsx
 * bench/simd-peak.ts` shows V8's x64 code: one vmulps + vaddps, or one
 * vfmadd213ps, per update, all in registers up to N = 12.)
 *
 * Every update depends on the previous one of the same accumulator, so a
 * loop with N accumulators keeps at most N updates in flight: with a chain
 * latency of L cycles per update and P updates issued per cycle at most, it
 * needs N >= L * P to reach the throughput bound (more than ~13 spill, as V8
 * on x64 gives Wasm 15 vector registers and c1, c2 take two of them).
 *
 * Dependent chains (one accumulator, 5 x 10^7 steps) measure latency x clock:
 * an i32.add chain (1 cycle per step on any current x86 core) gives the
 * clock; f32x4.add / f32x4.mul / relaxed_madd chains are then shown in
 * cycles at that clock, which checks the assumption against the documented
 * latencies (3 cycles for add and mul on Zen 2-4, 4-5 for FMA).
 */
import v8 from "node:v8";
import {
  Code,
  F64,
  I32,
  ModuleBuilder,
  Op,
  Simd,
  V128,
  hasRelaxedSimd,
  hasSimd,
} from "../src/backends/wasm/emitter.js";
import { fmt, machineInfo, printTable } from "./harness.js";

if (process.argv.includes("--relaxed")) v8.setFlagsFromString("--experimental-wasm-relaxed-simd");

/** Vector updates per call of a peak function (about 10-30 ms here). */
const UPDATES_PER_CALL = 2 ** 26;
/** Vector updates per loop iteration, at least (U = ceil(this / N)). */
const UPDATES_PER_ITERATION = 96;
/** Steps of a dependent chain per call. */
const CHAIN_STEPS = 5e7;
/** Dependent steps per loop iteration of a chain function. */
const CHAIN_UNROLL = 100;
const ACCUMULATORS = [4, 8, 10, 12, 14, 16];

interface Variant {
  name: string;
  /** f32x4 or f64x2. */
  lanes: 4 | 2;
  /** FLOP per accumulator update (a multiply and an add per lane). */
  flops: number;
  /** c1 and c2 (default 0.999 and 0.001). */
  constants?: [number, number];
  /** Pushes the update of `acc` (c1, c2 are v128 locals). */
  update: (c: Code, acc: number, c1: number, c2: number) => void;
}

const mulAdd = (mul: number, add: number) => (c: Code, acc: number, c1: number, c2: number) => {
  c.get(acc).get(c1).simd(mul).get(c2).simd(add).set(acc);
};
const madd = (op: number) => (c: Code, acc: number, c1: number, c2: number) => {
  // relaxed_madd(a, b, c) = a * b + c
  c.get(acc).get(c1).get(c2).simd(op).set(acc);
};

const relaxed = hasRelaxedSimd();
const variants: Variant[] = [
  { name: "f32x4 mul+add", lanes: 4, flops: 8, update: mulAdd(Simd.f32x4_mul, Simd.f32x4_add) },
  ...(relaxed
    ? [
        {
          name: "f32x4 relaxed_madd",
          lanes: 4,
          flops: 8,
          update: madd(Simd.f32x4_relaxed_madd),
        } as const,
      ]
    : []),
  // Diagnostics: one kind of operation alone, to see which pipes limit
  // the mul+add form. acc * 1 keeps the values constant (no underflow);
  // acc + 0.001 grows slowly and stays finite.
  {
    name: "f32x4 mul only",
    lanes: 4,
    flops: 4,
    constants: [1, 0],
    update: (c, acc, c1) => c.get(acc).get(c1).simd(Simd.f32x4_mul).set(acc),
  },
  {
    name: "f32x4 add only",
    lanes: 4,
    flops: 4,
    update: (c, acc, _c1, c2) => c.get(acc).get(c2).simd(Simd.f32x4_add).set(acc),
  },
  { name: "f64x2 mul+add", lanes: 2, flops: 4, update: mulAdd(Simd.f64x2_mul, Simd.f64x2_add) },
  ...(relaxed
    ? [
        {
          name: "f64x2 relaxed_madd",
          lanes: 2,
          flops: 4,
          update: madd(Simd.f64x2_relaxed_madd),
        } as const,
      ]
    : []),
];

/** Pushes splat(x) for the f64 value on the stack, as f32x4 or f64x2. */
function splat(c: Code, lanes: 4 | 2): void {
  if (lanes === 4) c.op(Op.f32_demote_f64).simd(Simd.f32x4_splat);
  else c.simd(Simd.f64x2_splat);
}

/** Pushes the sum of the lanes of the v128 local `v` as an f64. */
function laneSum(c: Code, v: number, lanes: 4 | 2): void {
  for (let l = 0; l < lanes; l++) {
    c.get(v);
    if (lanes === 4) c.simd(Simd.f32x4_extract_lane).op(l, Op.f64_promote_f32);
    else c.simd(Simd.f64x2_extract_lane).op(l);
    if (l > 0) c.op(Op.f64_add);
  }
}

/**
 * `i = iters; do { body(); } while (--i != 0)` (iters >= 1). The body is
 * straight-line code, so the only overhead per iteration is the counter,
 * the branch and V8's interrupt check on the back edge.
 */
function countedLoop(c: Code, iters: number, body: () => void): void {
  const i = c.local(I32);
  c.get(iters).set(i);
  c.loop();
  body();
  c.get(i).i32(1).op(Op.i32_sub).tee(i).brIf(0);
  c.end();
}

/**
 * peak(iters, c1, c2, x0): N accumulators starting at x0 + 0.01 i, updated
 * `unroll` times each per iteration; returns the sum of all their lanes.
 */
function addPeakFunction(mb: ModuleBuilder, name: string, v: Variant, n: number, unroll: number) {
  mb.addFunction(name, [I32, F64, F64, F64], [F64], (c) => {
    const [iters, c1In, c2In, x0] = [0, 1, 2, 3];
    const c1 = c.local(V128);
    const c2 = c.local(V128);
    const acc: number[] = [];
    for (let i = 0; i < n; i++) acc.push(c.local(V128));
    c.get(c1In);
    splat(c, v.lanes);
    c.set(c1);
    c.get(c2In);
    splat(c, v.lanes);
    c.set(c2);
    acc.forEach((a, i) => {
      c.get(x0)
        .f64(0.01 * i)
        .op(Op.f64_add);
      splat(c, v.lanes);
      c.set(a);
    });
    countedLoop(c, iters, () => {
      for (let u = 0; u < unroll; u++) for (const a of acc) v.update(c, a, c1, c2);
    });
    c.f64(0);
    for (const a of acc) {
      laneSum(c, a, v.lanes);
      c.op(Op.f64_add);
    }
  });
}

/** An empty counted loop (just the loop overhead); returns 0. */
function addEmptyLoop(mb: ModuleBuilder, name: string) {
  mb.addFunction(name, [I32, F64, F64, F64], [F64], (c) => {
    countedLoop(c, 0, () => {});
    c.f64(0);
  });
}

/**
 * A dependent chain: x = op(x, step) (or relaxed_madd(x, c1, step)),
 * CHAIN_UNROLL times per iteration; returns x (its lane sum for vectors).
 */
type ChainKind = "i32.add" | "f32x4.add" | "f32x4.mul" | "f32x4.relaxed_madd";
function addChain(mb: ModuleBuilder, name: string, kind: ChainKind) {
  mb.addFunction(name, [I32, F64, F64, F64], [F64], (c) => {
    const [iters, c1In, stepIn, x0] = [0, 1, 2, 3];
    if (kind === "i32.add") {
      // x = x + step with step an i32 parameter-derived value (not a constant,
      // so V8 cannot fold the chain into one add).
      const x = c.local(I32);
      const step = c.local(I32);
      c.get(stepIn).op(0xaa /* i32.trunc_f64_s */).set(step);
      c.get(x0).op(0xaa).set(x);
      countedLoop(c, iters, () => {
        for (let u = 0; u < CHAIN_UNROLL; u++) c.get(x).get(step).op(Op.i32_add).set(x);
      });
      c.get(x).op(0xb7 /* f64.convert_i32_s */);
      return;
    }
    const x = c.local(V128);
    const c1 = c.local(V128);
    const step = c.local(V128);
    c.get(x0);
    splat(c, 4);
    c.set(x);
    c.get(c1In);
    splat(c, 4);
    c.set(c1);
    c.get(stepIn);
    splat(c, 4);
    c.set(step);
    countedLoop(c, iters, () => {
      for (let u = 0; u < CHAIN_UNROLL; u++) {
        if (kind === "f32x4.add") c.get(x).get(step).simd(Simd.f32x4_add).set(x);
        else if (kind === "f32x4.mul") c.get(x).get(c1).simd(Simd.f32x4_mul).set(x);
        else c.get(x).get(c1).get(step).simd(Simd.f32x4_relaxed_madd).set(x);
      }
    });
    laneSum(c, x, 4);
  });
}

const constants = (v: Variant): [number, number] => v.constants ?? [0.999, 0.001];

type Fn = (iters: number, c1: number, c2: number, x0: number) => number;

if (!hasSimd()) throw new Error("simd-peak: this runtime has no WebAssembly 128-bit SIMD");

const mb = new ModuleBuilder();
interface PeakCase {
  variant: Variant;
  n: number;
  unroll: number;
  iters: number;
  fn: string;
}
const peaks: PeakCase[] = [];
for (const v of variants)
  for (const n of ACCUMULATORS) {
    const unroll = Math.ceil(UPDATES_PER_ITERATION / n);
    const iters = Math.round(UPDATES_PER_CALL / (unroll * n));
    const fn = `peak_${peaks.length}`;
    addPeakFunction(mb, fn, v, n, unroll);
    peaks.push({ variant: v, n, unroll, iters, fn });
  }
const chainKinds: ChainKind[] = ["i32.add", "f32x4.add", "f32x4.mul"];
if (relaxed) chainKinds.push("f32x4.relaxed_madd");
for (const k of chainKinds) addChain(mb, `chain_${k}`, k);
addEmptyLoop(mb, "empty");
const EMPTY_ITERS = 5e7;

const instance = new WebAssembly.Instance(new WebAssembly.Module(mb.finish()));
const fn = (name: string): Fn => instance.exports[name] as Fn;
const chainIters = CHAIN_STEPS / CHAIN_UNROLL;
/** Chain arguments: c1 = 0.9999999 (mul), step 1e-7 (add), 1 for i32. */
const chainArgs = (k: ChainKind): [number, number, number] =>
  k === "i32.add" ? [0, 1, 0] : [0.9999999, 1e-7, 0.5];

// Warm-up: V8 runs a Wasm function first in its baseline compiler
// (Liftoff) and swaps in the optimizing one (TurboFan) once it is hot; a
// few short calls per function get them all tiered up before timing.
for (let w = 0; w < 5; w++) {
  for (const p of peaks) fn(p.fn)(Math.ceil(p.iters / 50), ...constants(p.variant), 0.5);
  for (const k of chainKinds) fn(`chain_${k}`)(chainIters / 50, ...chainArgs(k));
  fn("empty")(EMPTY_ITERS / 50, 0, 0, 0);
}

const check = (name: string, r: number) => {
  if (!Number.isFinite(r)) throw new Error(`simd-peak: ${name} returned ${r}`);
};
const cases: { name: string; run: () => void }[] = [
  ...peaks.map((p) => ({
    name: p.fn,
    run: () => check(p.fn, fn(p.fn)(p.iters, ...constants(p.variant), 0.5)),
  })),
  ...chainKinds.map((k) => ({
    name: `chain_${k}`,
    run: () => check(k, fn(`chain_${k}`)(chainIters, ...chainArgs(k))),
  })),
  { name: "empty", run: () => check("empty", fn("empty")(EMPTY_ITERS, 0, 0, 0)) },
];

// Rounds interleave all cases (round robin), so that load from other
// processes spreads over all of them; each case keeps its median and its
// best time (other jobs can only add time, so the best run is the closest
// to what the core itself can do).
const rounds = process.argv.includes("--quick") ? 5 : 15;
const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
for (let r = -1; r < rounds; r++) {
  for (const c of cases) {
    const t0 = performance.now();
    c.run();
    const t = performance.now() - t0;
    if (r >= 0) times.get(c.name)!.push(t); // round -1 is one more warm-up
  }
}
const sorted = (name: string): number[] => {
  const ts = times.get(name);
  if (ts === undefined) throw new Error(`simd-peak: no timing for ${name}`);
  return [...ts].sort((a, b) => a - b);
};
/** Median (or best, when `best`) milliseconds per call of a case. */
const ms = (name: string, best = false): number => {
  const s = sorted(name);
  const m = s.length >> 1;
  return best ? s[0]! : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// The clock: one i32.add per cycle along the chain (best run).
const ghz = CHAIN_STEPS / (ms("chain_i32.add", true) * 1e6);
console.log(
  `Wasm SIMD peak, one thread, on ${machineInfo()}; relaxed SIMD ${relaxed ? "on" : "off"}`,
);
console.log(`${rounds} interleaved runs per case: median and best\n`);

console.log(`dependent chains, ${CHAIN_STEPS.toExponential(0)} steps per call`);
const nsPerStep = (name: string, best = false) => (ms(name, best) * 1e6) / CHAIN_STEPS;
printTable(
  ["chain", "ns/step median", "ns/step best", "cycles/step (best, at the i32 clock)"],
  chainKinds.map((k) => [
    k,
    fmt(nsPerStep(`chain_${k}`), 3),
    fmt(nsPerStep(`chain_${k}`, true), 3),
    fmt(nsPerStep(`chain_${k}`, true) * ghz, 2),
  ]),
);
const addGhz = 3 / nsPerStep("chain_f32x4.add", true);
console.log(
  `clock estimate: ${fmt(ghz, 2)} GHz from the i32.add chain (1-cycle latency assumed), ` +
    `${fmt(addGhz, 2)} GHz from the f32x4.add chain (3-cycle latency assumed, as on Zen 2-4)\n`,
);

const emptyNs = (ms("empty", true) * 1e6) / EMPTY_ITERS;
console.log(
  `loop overhead: an empty counted loop takes ${fmt(emptyNs, 3)} ns per iteration ` +
    `(${fmt(emptyNs * ghz, 2)} cycles, best run); the peak loops do >= ${UPDATES_PER_ITERATION} ` +
    `vector updates per iteration, and the counter, branch and interrupt check use the ` +
    `integer ports, not the vector ones\n`,
);

console.log(`peak loops (N independent accumulators), ${UPDATES_PER_CALL} vector updates per call`);
printTable(
  ["variant", "N", "updates/iter", "GFLOP/s median", "GFLOP/s best", "FLOP/cycle (best)"],
  peaks.map((p) => {
    const flop = p.iters * p.unroll * p.n * p.variant.flops;
    const gflops = (best: boolean) => flop / (ms(p.fn, best) * 1e6);
    return [
      p.variant.name,
      String(p.n),
      String(p.n * p.unroll),
      fmt(gflops(false), 1),
      fmt(gflops(true), 1),
      fmt(gflops(true) / ghz, 1),
    ];
  }),
);
