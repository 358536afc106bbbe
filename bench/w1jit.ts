/**
 * W1 under jit: jit(grad(f)) for the W1 function (see w1.ts). Reports the
 * compile time (trace, optimise, generate and compile JavaScript: the first
 * call) and the run time of the compiled gradient next to plain JS
 * evaluation of f, with jax-js's jit(grad) where its compile time allows.
 */
import { grad as jaxGrad, jit as jaxJit, numpy as jnp } from "@jax-js/jax";
import { type Array, grad, jit, np } from "../src/index.js";
import { type BenchCase, fmt, printTable, runInterleaved } from "./harness.js";

type JaxArray = ReturnType<typeof jnp.array>;

function plainValue(x: number, n: number): number {
  for (let i = 0; i < n; i++) x = Math.sin(x) * x * 0.5 + Math.cos(x);
  return x;
}
const chainruleF = (n: number) => (x: Array) => {
  for (let i = 0; i < n; i++) x = np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x));
  return x;
};
const jaxF = (n: number) => (x: JaxArray) => {
  for (let i = 0; i < n; i++) x = jnp.sin(x.ref).mul(x.ref).mul(0.5).add(jnp.cos(x));
  return x;
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * Milliseconds of the first call of a fresh jit(grad(f)) (trace, optimise,
 * run in the scalar interpreter) and of its second call (compile the
 * program to JS and run it), medians of `reps`.
 */
function chainruleCompileMs(n: number, reps: number): { first: number; second: number } {
  const first: number[] = [];
  const second: number[] = [];
  for (let r = 0; r < reps; r++) {
    const g = jit(grad(chainruleF(n)));
    const t0 = performance.now();
    g(0.3).item();
    const t1 = performance.now();
    g(0.3).item();
    first.push(t1 - t0);
    second.push(performance.now() - t1);
  }
  return { first: median(first), second: median(second) };
}

export async function benchW1Jit(opts: { quick: boolean }): Promise<void> {
  const x0 = 0.3;
  // Warm up the compiler itself (its own code is JIT-compiled by V8 too).
  chainruleCompileMs(200, 5);
  const peerN = opts.quick ? 100 : 200;
  const sizes = opts.quick ? [peerN, 1000] : [peerN, 1000, 10000];
  const compileRows: string[][] = [];
  for (const n of sizes) {
    const ops = 5 * n;
    const ours = jit(grad(chainruleF(n)));
    const compileMs = chainruleCompileMs(n, n >= 10000 ? 3 : 7);
    let jaxCompileMs: number | null = null;
    const cases: BenchCase[] = [
      { name: "plain JS f(x)", run: () => plainValue(x0, n) },
      { name: "chainrule jit(grad)", run: () => ours(x0).item() },
    ];
    if (n <= peerN) {
      const theirs = jaxJit(jaxGrad(jaxF(n)));
      const t0 = performance.now();
      theirs(jnp.array(x0, { dtype: jnp.float64 })).dataSync();
      jaxCompileMs = performance.now() - t0;
      cases.push({
        name: "jax-js jit(grad)",
        run: () => theirs(jnp.array(x0, { dtype: jnp.float64 })).dataSync()[0],
      });
    }
    const check = [ours(x0).item(), grad(chainruleF(n))(x0).item()];
    const results = await runInterleaved(cases, {
      rounds: opts.quick ? 50 : 200,
      warmup: opts.quick ? 50 : 300,
      capMs: 5000,
    });
    const plain = results[0]!.medianMs!;
    console.log(
      `\nW1 jit(grad), N = ${n} (${ops} primitive ops), medians of ${results[1]!.runs} interleaved rounds; ` +
        `compiled equals eager grad: ${check[0] === check[1]}`,
    );
    printTable(
      ["case", "µs / call", "x plain JS"],
      results.map((r) => [
        r.name,
        r.note ?? fmt(r.medianMs === null ? null : r.medianMs * 1000, 1),
        r.medianMs === null ? "-" : fmt(r.medianMs / plain, 2),
      ]),
    );
    compileRows.push([
      String(n),
      fmt(compileMs.first, 1),
      fmt(compileMs.second, 1),
      jaxCompileMs === null ? "-" : fmt(jaxCompileMs, 0),
    ]);
  }
  if (!opts.quick) {
    const big = chainruleCompileMs(100000, 1);
    compileRows.push(["100000", fmt(big.first, 0), fmt(big.second, 0), "-"]);
  }
  console.log(
    "\nW1 jit(grad) compile time, ms: chainrule's first call (trace, optimise, interpret: " +
      "tiers, docs/design.md) and second call (generate and compile JS, run); jax-js's first call",
  );
  printTable(["N", "chainrule 1st call", "chainrule 2nd call", "jax-js"], compileRows);
}
