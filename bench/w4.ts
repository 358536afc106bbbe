/**
 * W4: Jacobians of f(x) = sum(x) * ones(n) for x with m elements (every
 * entry of the n x m Jacobian is 1). jacfwd pushes m tangents forward, so its
 * cost grows with the inputs; jacrev pulls n cotangents back, so its cost
 * grows with the outputs; `jacobian` must pick the cheap one. Eager and
 * jitted, next to jax-js (whose jacrev, in 0.1.25, fails whenever n != m).
 * A second sweep varies m with n fixed and n with m fixed and plots
 * forward and reverse times (the seeds' point).
 */
import { jacfwd as jaxJacfwd, jacrev as jaxJacrev, jit as jaxJit, numpy as jnp } from "@jax-js/jax";
import { type Array, jacfwd, jacobian, jacrev, jit, np } from "../src/index.js";
import { type BenchCase, type BenchResult, fmt, printTable, runInterleaved } from "./harness.js";
import { chainruleBackends, useChainrule } from "./peers.js";

type JaxArray = ReturnType<typeof jnp.array>;
type Read = () => ArrayLike<number>;

/** Every entry of a correct Jacobian is 1: the largest deviation from that. */
function worstEntry(data: ArrayLike<number>, expectedSize: number): number {
  if (data.length !== expectedSize) return Infinity;
  let worst = 0;
  for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(data[i]! - 1));
  return worst;
}

function xData(m: number): Float32Array {
  return new Float32Array(m).map((_, i) => Math.sin(i));
}

/** chainrule cases for one (m, n): jacfwd, jacrev, jacobian, eager and jit. */
function chainruleCases(
  m: number,
  n: number,
  label: string,
  modes: string[],
  quick = false,
): [string, Read][] {
  const f = (x: Array) => np.multiply(np.sum(x), np.ones([n], "float32"));
  const x = np.array(xData(m));
  const transforms = { jacfwd, jacrev, jacobian } as const;
  const out: [string, Read][] = [];
  for (const mode of modes) {
    // Eager Jacobians in the expensive mode build a max(m, n)^2 basis: seconds at 9000.
    const wrongMode = (mode === "jacfwd" && m > n) || (mode === "jacrev" && n > m);
    const skipEager = quick && wrongMode && Math.max(m, n) ** 2 > 1e7;
    if (skipEager) {
      console.log(`  chainrule ${mode} (${label}) at ${m} -> ${n}: left out of the quick run`);
    }
    const t = transforms[mode as keyof typeof transforms];
    const eager = t(f) as (x: Array) => Array;
    const compiled = jit(eager) as unknown as (x: Array) => Array;
    if (!skipEager) out.push([`chainrule ${mode} (${label})`, () => eager(x).data()]);
    out.push([`chainrule jit(${mode}) (${label})`, () => compiled(x).data()]);
  }
  return out;
}

function jaxCases(m: number, n: number, modes: string[]): [string, Read][] {
  const f = (x: JaxArray) => jnp.sum(x).mul(jnp.ones([n], { dtype: jnp.float32 }));
  const x = jnp.array(xData(m), { dtype: jnp.float32 });
  const out: [string, Read][] = [];
  const transforms = { jacfwd: jaxJacfwd, jacrev: jaxJacrev } as const;
  for (const mode of modes) {
    if (mode !== "jacfwd" && mode !== "jacrev") continue;
    const eager = transforms[mode](f);
    const compiled = jaxJit(transforms[mode](f));
    out.push([`jax-js ${mode}`, () => eager(x.ref).dataSync()]);
    out.push([`jax-js jit(${mode})`, () => compiled(x.ref).dataSync()]);
  }
  return out;
}

/** Checks every case (a failure is reported, not fatal) and keeps those that work. */
function checked(cases: [string, Read][], m: number, n: number): BenchCase[] {
  const kept: BenchCase[] = [];
  const bad: string[] = [];
  for (const [name, read] of cases) {
    try {
      const worst = worstEntry(read(), m * n);
      if (worst > 1e-6) bad.push(`${name}: wrong Jacobian (max |J - 1| = ${worst})`);
      else kept.push({ name, run: read });
    } catch (e) {
      bad.push(`${name}: fails (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`);
    }
  }
  for (const b of bad) console.log(`  ${b}`);
  return kept;
}

async function timeAll(
  cases: BenchCase[],
  backend: string,
  quick: boolean,
): Promise<BenchResult[]> {
  await useChainrule(backend);
  return runInterleaved(cases, { rounds: quick ? 5 : 15, warmup: 2, capMs: 5000 });
}

export async function benchW4(opts: { quick: boolean; backends?: string[] }): Promise<void> {
  const ours = opts.backends ?? (await chainruleBackends());
  const sizes = opts.quick ? [1000, 9000] : [1000, 5000, 9000];
  const shapes: [number, number][] = [
    ...sizes.map((n): [number, number] => [10, n]),
    ...sizes.map((m): [number, number] => [m, 10]),
  ];
  /** One row per (m, n, backend): ms per Jacobian by column. */
  const columns = [
    "jacfwd",
    "jit(jacfwd)",
    "jacrev",
    "jit(jacrev)",
    "jacobian",
    "jit(jacobian)",
    "jax-js jacfwd",
    "jax-js jit(jacfwd)",
  ];
  const rows: string[][] = [];
  console.log("\nW4: Jacobian of f(x) = sum(x) * ones(n), x of m elements, float32");
  for (const [m, n] of shapes) {
    const modes = ["jacfwd", "jacrev", "jacobian"];
    for (const backend of ours) {
      await useChainrule(backend);
      const withJax = backend === ours[0];
      const cases = checked(
        [
          ...chainruleCases(m, n, backend, modes, opts.quick),
          ...(withJax ? jaxCases(m, n, modes) : []),
        ],
        m,
        n,
      );
      const results = await timeAll(cases, backend, opts.quick);
      const cell = (column: string): string => {
        const name = column.startsWith("jax-js") ? column : `chainrule ${column} (${backend})`;
        const r = results.find((x) => x.name === name);
        if (r === undefined) return column.startsWith("jax-js") && !withJax ? "" : "-";
        return r.note !== undefined ? "skipped" : fmt(r.medianMs, 3);
      };
      rows.push([String(m), String(n), backend, ...columns.map(cell)]);
    }
  }
  await useChainrule("js");
  console.log(
    `\nW4, ms per Jacobian (read back), medians of ${opts.quick ? 5 : 15} interleaved rounds; ` +
      "jax-js's jacrev fails for n != m; skipped = over 5 s per call, - = left out",
  );
  printTable(["m", "n", "chainrule backend", ...columns], rows);
  await sweep(ours[0] ?? "js", opts.quick);
}

/**
 * The seeds' point: with n fixed, jacfwd's time grows with m and jacrev's
 * does not; with m fixed, the reverse. Eager chainrule, one backend.
 */
async function sweep(backend: string, quick: boolean): Promise<void> {
  const fixed = 10;
  const grid = quick ? [10, 100, 1000, 3000] : [10, 30, 100, 300, 1000, 3000];
  const table: string[][] = [];
  const series: { label: string; points: [number, number][] }[] = [
    { label: "jacfwd, n = 10, m varies", points: [] },
    { label: "jacrev, n = 10, m varies", points: [] },
    { label: "jacfwd, m = 10, n varies", points: [] },
    { label: "jacrev, m = 10, n varies", points: [] },
  ];
  for (const size of grid) {
    const pairs: [number, number][] = [
      [size, fixed],
      [fixed, size],
    ];
    for (const [k, [m, n]] of pairs.entries()) {
      if (k === 1 && size === fixed) {
        series[3]!.points.push(series[1]!.points.at(-1)!);
        series[2]!.points.push(series[0]!.points.at(-1)!);
        continue;
      }
      const cases = checked(chainruleCases(m, n, backend, ["jacfwd", "jacrev"]), m, n).filter(
        (c) => !c.name.includes("jit("),
      );
      const [fwd, rev] = await timeAll(cases, backend, quick);
      table.push([
        String(m),
        String(n),
        fmt(fwd?.medianMs ?? null, 3),
        fmt(rev?.medianMs ?? null, 3),
      ]);
      series[2 * k]!.points.push([size, fwd?.medianMs ?? NaN]);
      series[2 * k + 1]!.points.push([size, rev?.medianMs ?? NaN]);
    }
  }
  console.log(`\nW4 sweep, chainrule eager (${backend}): ms per Jacobian`);
  printTable(["m (inputs)", "n (outputs)", "jacfwd", "jacrev"], table);
  console.log("\nTime against the varied size (log-log, one row per size):");
  for (const s of series) {
    console.log(`  ${s.label}`);
    for (const [size, ms] of s.points) {
      const bar = Number.isFinite(ms)
        ? "#".repeat(Math.max(1, Math.round(8 + 4 * Math.log10(ms))))
        : "";
      console.log(`    ${String(size).padStart(5)} ${bar} ${fmt(ms, 3)} ms`);
    }
  }
}
