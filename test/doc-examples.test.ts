/**
 * Runs every `@example` of the API reference: each ```ts block inside an
 * `@example` tag of a doc comment in src/**\/*.ts is extracted, its
 * `from "chainrule"` imports are pointed at the source entry, and the
 * program runs (top-level await allowed). An example that throws fails
 * here, so the examples cannot rot. New modules are picked up as they are.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const entry = pathToFileURL(join(root, "src", "index.ts")).href;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? sourceFiles(join(dir, d.name))
      : d.name.endsWith(".ts")
        ? [join(dir, d.name)]
        : [],
  );
}

interface Example {
  file: string;
  line: number;
  code: string;
}

/** The ```ts blocks that follow an @example tag inside /** comments of `text`. */
export function extractExamples(file: string, text: string): Example[] {
  const out: Example[] = [];
  const comment = /\/\*\*[\s\S]*?\*\//g;
  for (const m of text.matchAll(comment)) {
    const lines = m[0].split("\n").map((l) => l.replace(/^\s*\*? ?/, ""));
    const startLine = text.slice(0, m.index).split("\n").length;
    let inExample = false;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      if (/^@\w+/.test(l)) inExample = l.startsWith("@example");
      if (inExample && l.trim() === "```ts") {
        const body: string[] = [];
        let j = i + 1;
        while (j < lines.length && lines[j]!.trim() !== "```") body.push(lines[j++]!);
        out.push({ file, line: startLine + i, code: body.join("\n") });
        i = j;
      }
    }
  }
  return out;
}

const examples = sourceFiles(join(root, "src")).flatMap((f) =>
  extractExamples(relative(root, f), readFileSync(f, "utf8")),
);
const scratch = mkdtempSync(join(tmpdir(), "chainrule-examples-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the API reference's examples run", () => {
  it("extracts examples from the sources", () => {
    expect(examples.length).toBeGreaterThan(0);
    const sample = extractExamples(
      "x.ts",
      '/**\n * Doc.\n * @example\n * ```ts\n * import { np } from "chainrule";\n * np.ones([2]);\n * ```\n */',
    );
    expect(sample).toEqual([
      { file: "x.ts", line: 4, code: 'import { np } from "chainrule";\nnp.ones([2]);' },
    ]);
  });
  examples.forEach((ex, k) => {
    it(`${ex.file}:${ex.line}`, async () => {
      expect(ex.code).toMatch(/from "chainrule"/);
      const code = ex.code.replace(/from "chainrule"/g, `from ${JSON.stringify(entry)}`);
      const path = join(scratch, `example${k}.ts`);
      writeFileSync(path, `${code}\nexport {};\n`);
      await import(pathToFileURL(path).href);
    });
  });
});
