/**
 * Checks the published package as a user would get it: packs the built
 * package (`npm pack`), then
 * - checks the tarball's contents: only dist/, README.md, LICENSE,
 *   CHANGELOG.md and package.json, every source map carrying its sources;
 * - unpacks it into a scratch node_modules and loads it from a fresh Node
 *   process both as an ES module (`import`) and from CommonJS (`require`),
 *   computing one derivative each way;
 * - runs a first program (JAX idioms) plainly, under --jitless (no
 *   WebAssembly: the JS backend) and with a 64 MiB heap, and inside the
 *   user's own worker threads, each process under a time limit (a thread
 *   that kept the process alive would exceed it);
 * - compiles a downstream TypeScript file with `declaration: true` that
 *   exports values whose types come from chainrule (a type the package
 *   does not export would fail with TS2742/TS4023 there).
 *
 * Run after `npm run build` (CI does): `npx tsx scripts/check-package.ts`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packPackage } from "./packed.js";

const scratch = mkdtempSync(join(tmpdir(), "chainrule-pack-"));
try {
  const { dir: target, files: listed } = packPackage(scratch);

  // Contents: nothing but the build, the docs a user reads, and the manifest.
  const allowed = (f: string) =>
    f.startsWith("dist/") || ["README.md", "LICENSE", "CHANGELOG.md", "package.json"].includes(f);
  const stray = listed.filter((f) => !allowed(f));
  if (stray.length > 0) throw new Error(`npm pack: unexpected files ${stray.join(", ")}`);
  for (const required of ["README.md", "LICENSE", "CHANGELOG.md", "dist/index.js"]) {
    if (!listed.includes(required)) throw new Error(`npm pack: ${required} is missing`);
  }
  const maps = listed.filter((f) => f.endsWith(".map"));
  for (const m of maps) {
    const map = JSON.parse(readFileSync(join(target, m), "utf8")) as { sourcesContent?: unknown[] };
    if (!Array.isArray(map.sourcesContent) || map.sourcesContent.some((s) => typeof s !== "string"))
      throw new Error(`${m}: a source map without sourcesContent points at files not shipped`);
  }
  console.log(`package check: ${listed.length} files, ${maps.length} source maps with sources`);

  // d/dx sin(x) at 0 is cos(0) = 1; both loaders must agree with it.
  const esm = `import { grad, np } from "chainrule";\nconsole.log(grad((x) => np.sin(x))(0).item());\n`;
  const cjs = `const { grad, np } = require("chainrule");\nconsole.log(grad((x) => np.sin(x))(0).item());\n`;
  writeFileSync(join(scratch, "esm.mjs"), esm);
  writeFileSync(join(scratch, "cjs.cjs"), cjs);
  for (const file of ["esm.mjs", "cjs.cjs"]) {
    const out = execFileSync(process.execPath, [file], { cwd: scratch, encoding: "utf8" }).trim();
    if (out !== "1")
      throw new Error(`${file}: expected the derivative 1, got ${JSON.stringify(out)}`);
    console.log(`package check: ${file === "esm.mjs" ? "import" : "require"} ok`);
  }

  // Code evaluated as an ES module (node --input-type=module -e): the Wasm
  // backend's worker threads inherit that input type, so their script must
  // not use `require`. Products of 512 x 512 ones (large enough to run on the
  // workers), with pauses for the workers to start: each sums to 512^3.
  const evalEsm = `import { jit, np } from "chainrule";
const product = jit((a) => np.sum(np.matmul(a, a)));
const ones = np.ones([512, 512]);
const sums = [];
for (let i = 0; i < 8; i++) {
  sums.push(product(ones).item());
  await new Promise((resolve) => setTimeout(resolve, 25));
}
console.log(sums.every((s) => s === 512 ** 3) ? "ok" : sums.join(" "));`;
  const evalOut = execFileSync(process.execPath, ["--input-type=module", "-e", evalEsm], {
    cwd: scratch,
    encoding: "utf8",
  }).trim();
  if (evalOut !== "ok") throw new Error(`--input-type=module: expected ok, got ${evalOut}`);
  console.log("package check: --input-type=module with worker threads ok");

  // Contexts a user loads the package in, each a fresh process with a time
  // limit (a worker thread that kept the process alive would time out):
  // - the JAX idioms of a first program (destructuring random.split, for...of
  //   over rows), checked against values computed here;
  // - --jitless: no WebAssembly, so the JS backend must run, with the same numbers;
  // - a tiny heap (--max-old-space-size=64) with million-element jit kernels;
  // - inside the user's own worker threads (a module file and an eval'd
  //   CommonJS script), where the Wasm backend starts threads of its own.
  const run = (args: string[]): string =>
    execFileSync(process.execPath, args, {
      cwd: scratch,
      encoding: "utf8",
      timeout: 60_000,
    }).trim();
  const firstProgram = `import { jit, np, random, getBackend } from "chainrule";
const [key, subkey] = random.split(random.key(0));
const same = random.normal(subkey, [3]).data().join() === random.normal(random.split(random.key(0)).slice(1), [3]).data().join();
const rows = [];
for (const row of np.array([[1, 2], [3, 4]])) rows.push(row.sum().item());
const big = jit((a) => np.sum(np.matmul(a, a)))(np.ones([300, 300])).item();
console.log(JSON.stringify({ backend: getBackend(), key: key.shape, same, rows, big }));`;
  writeFileSync(join(scratch, "first.mjs"), firstProgram);
  const wantFirst = (backend: string) =>
    JSON.stringify({ backend, key: [2], same: true, rows: [3, 7], big: 300 ** 3 });
  const plainOut = run(["first.mjs"]);
  if (plainOut !== wantFirst("wasm")) throw new Error(`first program: got ${plainOut}`);
  const jitlessOut = run(["--jitless", "first.mjs"]);
  if (jitlessOut !== wantFirst("js")) throw new Error(`--jitless: got ${jitlessOut}`);
  console.log("package check: first program ok (wasm, and js under --jitless)");

  // sum over 10^6 elements of sin(x)^2 + cos(x)^2 = 10^6 (to rounding).
  const smallHeap = `import { jit, np } from "chainrule";
const f = jit((x) => np.sum(np.add(np.square(np.sin(x)), np.square(np.cos(x)))));
let worst = 0;
for (let i = 0; i < 40; i++) worst = Math.max(worst, Math.abs(f(np.linspace(0, i + 1, 1e6)).item() - 1e6));
console.log(worst < 1e-6 ? "ok" : String(worst));`;
  writeFileSync(join(scratch, "heap.mjs"), smallHeap);
  const heapOut = run(["--max-old-space-size=64", "heap.mjs"]);
  if (heapOut !== "ok") throw new Error(`--max-old-space-size=64: got ${heapOut}`);
  console.log("package check: --max-old-space-size=64 ok");

  const workerHost = `import { Worker } from "node:worker_threads";
const cjs = 'const { jit, np } = require("chainrule"); const f = jit((a) => np.sum(np.matmul(a, a)));' +
  'let ok = true; for (let i = 0; i < 4; i++) ok = ok && f(np.ones([512, 512])).item() === 512 ** 3;' +
  'require("node:worker_threads").parentPort.postMessage(ok ? "ok" : "wrong");';
const results = [];
for (const w of [new Worker(new URL("./first.mjs", import.meta.url), { stdout: true }), new Worker(cjs, { eval: true })]) {
  let out = "";
  w.stdout.on("data", (d) => (out += d));
  w.on("message", (m) => (out += m));
  await new Promise((resolve, reject) => { w.on("error", reject); w.on("exit", resolve); });
  results.push(out.trim());
}
console.log(JSON.stringify(results));`;
  writeFileSync(join(scratch, "workers.mjs"), workerHost);
  const workersOut = run(["workers.mjs"]);
  if (workersOut !== JSON.stringify([wantFirst("wasm"), "ok"]))
    throw new Error(`user worker threads: got ${workersOut}`);
  console.log("package check: inside the user's worker threads ok");

  // Declaration emit downstream: every exported value's type must be nameable.
  const downstream = `
import { grad, jit, lax, makeJaxpr, np, optim, tree, valueAndGrad, vmap } from "chainrule";
export const x = np.array([1, 2, 3]);
export const shape = x.shape;
export const data = x.data();
export const part = x.slice([0, 2]);
export const total = np.sum(x, { keepdims: true });
export const loss = (p: { w: typeof x; b: typeof x }) => np.sum(p.w.mul(p.b));
export const gradLoss = grad(loss);
export const grads = gradLoss({ w: x, b: x });
export const both = valueAndGrad(loss)({ w: x, b: x });
export const jitted = jit((a: typeof x) => a.mul(2));
export const lowered = jitted.lower(x);
export const batched = vmap((a: typeof x) => np.sum(a));
export const jaxprOf = makeJaxpr((a: typeof x) => np.sin(a));
export const opt = optim.adam(0.1);
export const state = opt.init({ w: x });
export const result = optim.minimize((v) => np.sum(np.square(v)), x, { maxIter: 2 });
export const doubled = tree.map((leaf: typeof x) => leaf.mul(2), { w: x });
export const scanned = lax.scan((c, xt) => [c.add(xt), c], np.array(0), x);
`;
  writeFileSync(join(scratch, "downstream.ts"), downstream);
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ type: "module" }));
  const tsconfig = {
    compilerOptions: {
      declaration: true,
      emitDeclarationOnly: true,
      strict: true,
      skipLibCheck: false,
      module: "nodenext",
      moduleResolution: "nodenext",
      target: "es2022",
      lib: ["es2022"],
      types: [],
      outDir: "out",
    },
    files: ["downstream.ts"],
  };
  writeFileSync(join(scratch, "tsconfig.json"), JSON.stringify(tsconfig));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: scratch, stdio: "inherit" });
  console.log("package check: downstream declaration emit ok");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
