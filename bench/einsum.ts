/**
 * einsum of three-operand chains: chainrule's np.einsum (which picks the
 * contraction order itself) against the best pairwise order written by
 * hand with np.matmul, the worst order by hand (what a left-to-right
 * evaluation costs), and jax-js's jnp.einsum. float32, eager, results read
 * back. Checks first that all agree. On the wasm backend it runs once on one
 * thread and once with the worker threads.
 *
 *   node --expose-gc --import tsx bench/einsum.ts [--rounds N]
 *
 * (--expose-gc lets it collect garbage, untimed, before every call; plain
 * `npx tsx bench/einsum.ts` also works.)
 */
import { numpy as jnp } from "@jax-js/jax";
import { setWasmThreadLimit } from "../src/backends/wasm/index.js";
import { type Array, np } from "../src/index.js";
import { type BenchCase, fmt, machineInfo, printTable, runInterleaved } from "./harness.js";
import { chainruleBackends, useChainrule } from "./peers.js"; // also jax-js's Node quirk

// jax-js's einsum parser calls iterator helpers (`matchAll(...).map`), which Node 20
// lacks (they arrived in Node 22). Minimal map/filter on the shared iterator prototype,
// only when missing, so that the peer runs here; chainrule does not use them.
const iterProto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as {
  map?: unknown;
  filter?: unknown;
};
if (iterProto.map === undefined) {
  Object.defineProperty(iterProto, "map", {
    value: function* <T, U>(this: Iterator<T>, f: (v: T, i: number) => U) {
      let i = 0;
      for (let r = this.next(); r.done !== true; r = this.next()) yield f(r.value, i++);
    },
    configurable: true,
    writable: true,
  });
  Object.defineProperty(iterProto, "filter", {
    value: function* <T>(this: Iterator<T>, f: (v: T, i: number) => boolean) {
      let i = 0;
      for (let r = this.next(); r.done !== true; r = this.next())
        if (f(r.value, i++)) yield r.value;
    },
    configurable: true,
    writable: true,
  });
}

const rounds = Number(process.argv[process.argv.indexOf("--rounds") + 1]) || 15;

function data(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31 - 0.5;
  });
}

interface Problem {
  name: string;
  spec: string;
  shapes: number[][];
  /** Best and worst pairwise orders by hand. */
  best: (a: Array, b: Array, c: Array) => Array;
  worst: (a: Array, b: Array, c: Array) => Array;
}

const problems: Problem[] = [
  {
    name: "chain ij,jk,kl->il (1024x32, 32x1024, 1024x32)",
    spec: "ij,jk,kl->il",
    shapes: [
      [1024, 32],
      [32, 1024],
      [1024, 32],
    ],
    best: (a, b, c) => np.matmul(a, np.matmul(b, c)),
    worst: (a, b, c) => np.matmul(np.matmul(a, b), c),
  },
  {
    name: "batched bij,bjk,bkl->bil (16 x 256x16, 16x256, 256x16)",
    spec: "bij,bjk,bkl->bil",
    shapes: [
      [16, 256, 16],
      [16, 16, 256],
      [16, 256, 16],
    ],
    best: (a, b, c) => np.matmul(a, np.matmul(b, c)),
    worst: (a, b, c) => np.matmul(np.matmul(a, b), c),
  },
];

async function main(): Promise<void> {
  const gc =
    (globalThis as { gc?: unknown }).gc === undefined
      ? "no gc between calls"
      : "gc before each call";
  console.log(`einsum benchmark, float32, eager, ${rounds} rounds, ${gc}; ${machineInfo()}`);
  for (const backend of await chainruleBackends()) {
    await useChainrule(backend);
    // On the wasm backend, one thread (0 workers) first: on a shared 2-core host
    // the worker threads' wake-up times dominate products this small.
    const limits = backend === "wasm" ? [0, Infinity] : [Infinity];
    for (const limit of limits) {
      setWasmThreadLimit(limit);
      const label = backend === "wasm" ? `wasm, ${limit === 0 ? "1 thread" : "threads"}` : backend;
      for (const p of problems) await runProblem(p, label);
    }
  }
}

async function runProblem(p: Problem, backend: string): Promise<void> {
  {
    const host = p.shapes.map((s, i) =>
      data(
        s.reduce((x, y) => x * y, 1),
        7 + i,
      ),
    );
    const ops = host.map((h, i) => np.array(h, { shape: p.shapes[i]! }));
    const jops = host.map((h, i) => jnp.array(h, { dtype: jnp.float32 }).reshape(p.shapes[i]!));
    const [a, b, c] = ops as [Array, Array, Array];
    const ref = p.best(a, b, c).data();
    const check = (name: string, got: ArrayLike<number>) => {
      let err = 0;
      for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(got[i]! - ref[i]!));
      if (!(err < 1e-3)) throw new Error(`${name} disagrees with the hand-ordered product: ${err}`);
    };
    check("np.einsum", np.einsum(p.spec, a, b, c).data());
    check("worst order", p.worst(a, b, c).data());
    const jaxRun = () => jnp.einsum(p.spec, ...jops.map((j) => j.ref)).dataSync();
    check("jax-js einsum", jaxRun());
    // An untimed full garbage collection before every call (with --expose-gc), so
    // that no case pays for the garbage of the case before it.
    const collect = (globalThis as { gc?: () => void }).gc;
    const before = collect === undefined ? undefined : () => collect();
    const cases: BenchCase[] = [
      { name: "np.einsum", run: () => np.einsum(p.spec, a, b, c).data(), before },
      { name: "best order by hand", run: () => p.best(a, b, c).data(), before },
      { name: "worst order by hand", run: () => p.worst(a, b, c).data(), before },
      { name: "jax-js jnp.einsum", run: jaxRun, before },
    ];
    const results = await runInterleaved(cases, { rounds, warmup: 3, capMs: 20_000 });
    const bestMs = results.find((r) => r.name === "best order by hand")!.medianMs;
    const path = JSON.stringify(np.einsumPath(p.spec, a, b, c).path);
    console.log(`\n${p.name}, chainrule backend ${backend}; einsum path ${path}`);
    printTable(
      ["case", "median ms", "x best by hand"],
      results.map((r) => [
        r.name,
        fmt(r.medianMs, 3),
        r.medianMs === null || bestMs === null ? (r.note ?? "-") : fmt(r.medianMs / bestMs, 2),
      ]),
    );
  }
}

await main();
