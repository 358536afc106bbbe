/**
 * `npm run tour -- --serve`: the report plus a playground page where
 * chainrule runs in the browser. `buildPlayground` writes the static files
 * (playground.html and chainrule.js, an ES-module bundle of src/index.ts made
 * with esbuild, which the project has through vite) next to index.html, so
 * the folder can be hosted as it is; `serveDir` serves a folder over HTTP
 * (ES modules cannot be loaded from file:// pages). The report itself stays
 * a script-free page that works offline.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { escapeHtml } from "./html.js";

const SRC_INDEX = fileURLToPath(new URL("../../src/index.ts", import.meta.url));
const LIVE_CLIENT = fileURLToPath(new URL("./liveClient.ts", import.meta.url));

/** The function the playground starts with: it branches on x's value. */
export const PLAYGROUND_DEFAULT = "(x, y) => (x.item() > 1 ? x.mul(y) : np.sin(x).mul(y).mul(y))";

/**
 * Writes chainrule.js and playground.html, and tour-live.js (the live page's
 * script: the live sections, Observable Plot and chainrule in one classic
 * script, so live.html also works opened from disk) into outDir. live.html
 * itself is written by runTour with the results it shows first.
 */
export async function buildPlayground(outDir: string): Promise<void> {
  const esbuild = await import("esbuild");
  await esbuild.build({
    entryPoints: [SRC_INDEX],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // package.json's sideEffects names dist/ files; the bundle is made from src/, where
    // esbuild would otherwise drop the imports that install x.backward() and x.at().
    ignoreAnnotations: true,
    outfile: join(outDir, "chainrule.js"),
    logLevel: "silent",
  });
  await esbuild.build({
    entryPoints: [LIVE_CLIENT],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    ignoreAnnotations: true,
    outfile: join(outDir, "tour-live.js"),
    logLevel: "warning",
  });
  writeFileSync(join(outDir, "playground.html"), playgroundHtml());
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Serves the files of `dir` (nothing outside it) on localhost:port (0 picks a free port). */
export function serveDir(dir: string, port: number): Promise<{ server: Server; url: string }> {
  const root = normalize(dir + sep);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    const file = normalize(join(root, path === "/" ? "index.html" : path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  return new Promise((resolve) => {
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const actual = typeof address === "object" && address !== null ? address.port : port;
      resolve({ server, url: `http://127.0.0.1:${actual}/` });
    });
  });
}

/**
 * The playground: a function of x and y typed into the page; chainrule (in
 * the page) shows its value, gradient and Hessian next to central finite
 * differences, the traced program (jaxpr), the generated derivative source
 * and the graph.
 */
function playgroundHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chainrule playground</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
header { background: #1d2330; color: white; padding: 18px 24px; }
main { padding: 12px 24px; max-width: 1100px; }
textarea { width: 100%; box-sizing: border-box; font-family: ui-monospace, monospace; font-size: 14px; }
input { width: 6em; }
pre { background: white; padding: 10px; border-radius: 6px; overflow-x: auto; font-size: 12.5px; }
table { border-collapse: collapse; background: white; }
td, th { border-bottom: 1px solid #e3e6ec; padding: 4px 10px; text-align: right; font-family: ui-monospace, monospace; }
#error { color: #c0262d; white-space: pre-wrap; }
#graph svg { max-width: 100%; height: auto; }
@media (max-width: 700px) { main { padding: 8px; } }
</style></head>
<body>
<header><h1>chainrule playground</h1><p>Any function of x and y (np, lax and nn are in scope); chainrule runs in this page. <a style="color:#9cc3ff" href="index.html">Back to the tour</a></p></header>
<main>
<label for="fn">f(x, y) =</label>
<textarea id="fn" rows="3">${escapeHtml(PLAYGROUND_DEFAULT)}</textarea>
<p>at x = <input id="x0" value="0.5"> y = <input id="y0" value="2"> <button id="run">Run</button> <span id="status"></span></p>
<div id="error"></div>
<table id="results"><thead><tr><th></th><th>chainrule</th><th>finite differences</th></tr></thead><tbody></tbody></table>
<h3>Traced program (jaxpr)</h3><pre id="jaxpr"></pre>
<h3>Generated derivative source: emitSource(grad(f, { argnums: [0, 1] }))</h3><pre id="source"></pre>
<h3>Graph</h3><div id="graph"></div>
</main>
<script type="module">
import * as cr from "./chainrule.js";
const { np, lax, nn, grad, hessian, makeJaxpr, emitSource, toDot, renderSvg } = cr;
const $ = (id) => document.getElementById(id);
const fmt = (v) => (Number.isFinite(v) ? Number(v.toPrecision(10)).toString() : String(v));
async function run() {
  $("error").textContent = "";
  $("status").textContent = "running…";
  try {
    const f = new Function("np", "lax", "nn", "return (" + $("fn").value + ");")(np, lax, nn);
    const x0 = Number($("x0").value), y0 = Number($("y0").value);
    const fj = (x, y) => f(np.array(x), np.array(y)).item();
    const value = f(np.array(x0), np.array(y0)).item();
    const [gx, gy] = grad(f, { argnums: [0, 1] })(x0, y0).map((g) => g.item());
    const H = hessian(f, { argnums: [0, 1] })(x0, y0).map((row) => row.map((h) => h.item()));
    const e = 1e-5, e2 = 1e-4;
    const fdx = (fj(x0 + e, y0) - fj(x0 - e, y0)) / (2 * e);
    const fdy = (fj(x0, y0 + e) - fj(x0, y0 - e)) / (2 * e);
    const d2 = (dx1, dy1, dx2, dy2) => (fj(x0 + dx1 + dx2, y0 + dy1 + dy2) - fj(x0 + dx1 - dx2, y0 + dy1 - dy2) - fj(x0 - dx1 + dx2, y0 - dy1 + dy2) + fj(x0 - dx1 - dx2, y0 - dy1 - dy2)) / (4 * e2 * e2);
    const fdH = [[d2(e2, 0, e2, 0), d2(e2, 0, 0, e2)], [d2(0, e2, e2, 0), d2(0, e2, 0, e2)]];
    const rows = [["f", value, value], ["df/dx", gx, fdx], ["df/dy", gy, fdy],
      ["d²f/dx²", H[0][0], fdH[0][0]], ["d²f/dxdy", H[0][1], fdH[0][1]], ["d²f/dydx", H[1][0], fdH[1][0]], ["d²f/dy²", H[1][1], fdH[1][1]]];
    $("results").tBodies[0].innerHTML = rows.map(([name, ad, fd], i) =>
      '<tr data-row="' + name + '"><th>' + name + '</th><td class="ad">' + fmt(ad) + '</td><td class="fd">' + (i === 0 ? "" : fmt(fd)) + "</td></tr>").join("");
    $("jaxpr").textContent = makeJaxpr(f, { concrete: true })(x0, y0).toString();
    $("source").textContent = emitSource(grad(f, { argnums: [0, 1] }))(x0, y0);
    try {
      $("graph").innerHTML = await renderSvg(toDot(f, { backward: true })(x0, y0));
    } catch (err) {
      $("graph").textContent = toDot(f, { backward: true })(x0, y0);
    }
    $("status").textContent = "done";
  } catch (err) {
    $("error").textContent = String(err && err.message ? err.name + ": " + err.message : err);
    $("status").textContent = "error";
  }
}
$("run").addEventListener("click", run);
run();
</script>
</body></html>
`;
}
