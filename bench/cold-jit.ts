/**
 * The cost of the first jit call in a fresh process: jit(grad(f)) for the
 * W1 function (see w1.ts) with N = 1,000 applications (5,000 primitive
 * operations forward), traced, optimised, compiled and run once, in `runs`
 * fresh Node processes (nothing of the library warmed up, not even V8's
 * code for it). Reports the wall and CPU time of that first call (and of
 * the library's import, apart), medians over the processes.
 *
 *   npx tsx bench/cold-jit.ts [--runs 5] [--n 1000]
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { fmt, machineInfo, printTable } from "./harness.js";

interface Sample {
  importMs: number;
  firstCallMs: number;
  firstCallCpuMs: number;
  secondCallMs: number;
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function child(n: number): Promise<void> {
  const t0 = performance.now();
  const { grad, jit, np } = await import("../src/index.js");
  type A = ReturnType<typeof np.sin>;
  const f = (x: A): A => {
    for (let i = 0; i < n; i++) x = np.add(np.multiply(np.multiply(np.sin(x), x), 0.5), np.cos(x));
    return x;
  };
  const t1 = performance.now();
  const c0 = process.cpuUsage();
  jit(grad(f))(0.3).item();
  const t2 = performance.now();
  const c = process.cpuUsage(c0);
  // a second, separate jit of the same function: the compile once V8 is warm
  jit(grad(f))(0.3).item();
  const t3 = performance.now();
  const sample: Sample = {
    importMs: t1 - t0,
    firstCallMs: t2 - t1,
    firstCallCpuMs: (c.user + c.system) / 1000,
    secondCallMs: t3 - t2,
  };
  console.log(JSON.stringify(sample));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

async function main(): Promise<void> {
  const n = argValue("--n", 1000);
  if (process.argv.includes("--child")) return child(n);
  const runs = argValue("--runs", 5);
  const self = fileURLToPath(import.meta.url);
  const samples: Sample[] = [];
  for (let r = 0; r < runs; r++) {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, self, "--child", "--n", String(n)],
      { encoding: "utf8" },
    );
    samples.push(JSON.parse(out.trim().split("\n").pop()!) as Sample);
  }
  console.log(`${machineInfo()}; W1 jit(grad), N = ${n}, ${runs} fresh processes`);
  const row = (name: string, pick: (s: Sample) => number): string[] => [
    name,
    fmt(median(samples.map(pick)), 1),
    samples.map((s) => fmt(pick(s), 0)).join(", "),
  ];
  printTable(
    ["", "median ms", "each run"],
    [
      row("import of the library", (s) => s.importMs),
      row("first call (wall)", (s) => s.firstCallMs),
      row("first call (CPU, all threads)", (s) => s.firstCallCpuMs),
      row("a second jit of f (wall)", (s) => s.secondCallMs),
    ],
  );
}

await main();
