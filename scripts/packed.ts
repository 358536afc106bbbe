/**
 * Packs chainrule as npm would publish it and unpacks the tarball where a
 * consumer would find it (`<scratch>/node_modules/chainrule`). Used by
 * scripts/check-package.ts (CI, after `npm run build`: packs the
 * repository's dist/) and by test/package-browser.test.ts (builds the
 * sources into a scratch directory first, so that it never touches the
 * repository's dist/ while other tests may read it).
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is scripts/packed.ts). */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A packed and unpacked package. */
export interface PackedPackage {
  /** Path of the .tgz that `npm pack` wrote. */
  tarball: string;
  /** The unpacked package: `<scratch>/node_modules/chainrule`. */
  dir: string;
  /** The files in the tarball, relative to the package root. */
  files: string[];
}

/**
 * Packs the package into `scratch` and unpacks it into
 * `scratch/node_modules/chainrule`. With `build: true` the sources are
 * first compiled (tsconfig.build.json) into a staging copy of the package
 * under `scratch`; otherwise the repository's dist/ is packed as it is.
 */
export function packPackage(scratch: string, opts: { build?: boolean } = {}): PackedPackage {
  let packDir = REPO_ROOT;
  if (opts.build === true) {
    packDir = join(scratch, "stage");
    mkdirSync(packDir, { recursive: true });
    for (const f of ["package.json", "README.md", "LICENSE", "CHANGELOG.md"])
      copyFileSync(join(REPO_ROOT, f), join(packDir, f));
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const config = join(REPO_ROOT, "tsconfig.build.json");
    // --noCheck: the same output, without the type check (CI runs that on its own).
    const outDir = join(packDir, "dist");
    execFileSync(process.execPath, [tsc, "-p", config, "--outDir", outDir, "--noCheck"], {
      stdio: "inherit",
    });
  }
  execFileSync("npm", ["pack", "--silent", "--pack-destination", scratch], {
    cwd: packDir,
    stdio: "ignore",
  });
  const name = readdirSync(scratch).find((f) => f.endsWith(".tgz"));
  if (name === undefined) throw new Error(`npm pack wrote no tarball into ${scratch}`);
  const tarball = join(scratch, name);
  const dir = join(scratch, "node_modules", "chainrule");
  mkdirSync(dir, { recursive: true });
  execFileSync("tar", ["xzf", tarball, "-C", dir, "--strip-components=1"]);
  const files = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l !== "" && !l.endsWith("/"))
    .map((l) => l.replace(/^package\//, ""));
  return { tarball, dir, files };
}
