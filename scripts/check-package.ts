/**
 * Checks the published package as a user would get it: packs the built
 * package (`npm pack`), unpacks the tarball into a scratch node_modules, and
 * loads it from a fresh Node process both as an ES module (`import`) and
 * from CommonJS (`require`), computing one derivative each way.
 *
 * Run after `npm run build` (CI does): `npx tsx scripts/check-package.ts`.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const scratch = mkdtempSync(join(tmpdir(), "chainrule-pack-"));
try {
  execFileSync("npm", ["pack", "--silent", "--pack-destination", scratch], { stdio: "ignore" });
  const tarball = readdirSync(scratch).find((f) => f.endsWith(".tgz"));
  if (tarball === undefined) throw new Error("npm pack wrote no tarball");
  const target = join(scratch, "node_modules", "chainrule");
  mkdirSync(target, { recursive: true });
  execFileSync("tar", ["xzf", join(scratch, tarball), "-C", target, "--strip-components=1"]);

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
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
