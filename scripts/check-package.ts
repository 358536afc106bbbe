/**
 * Checks the published package as a user would get it: packs the built
 * package (`npm pack`), then
 * - checks the tarball's contents: only dist/, README.md, LICENSE,
 *   CHANGELOG.md and package.json, every source map carrying its sources;
 * - unpacks it into a scratch node_modules and loads it from a fresh Node
 *   process both as an ES module (`import`) and from CommonJS (`require`),
 *   computing one derivative each way;
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
