/**
 * Browser benchmark page, the server: bundles bench/web/page.ts with esbuild
 * (in memory) and serves it with its HTML and TF.js's wasm binaries from
 * node_modules (no CDN). Every response is cross-origin isolated (COOP
 * same-origin, COEP require-corp), which is what lets chainrule's and
 * TF.js's Wasm backends use threads (SharedArrayBuffer) in the page. Used by
 * bench/web/serve.ts and by the smoke test.
 */
import { readFile } from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PAGE_HTML = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>chainrule browser benchmarks (W2, W3)</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
p { margin: 0.2em 0; font-size: 12px; }
pre { background: #f4f4f4; padding: 0.8em; white-space: pre-wrap; }
</style>
<script type="module" src="/page.js"></script>
</head>
<body>
<h1>chainrule browser benchmarks</h1>
<p>Options in the URL: ?quick, libs=chainrule-webgpu,chainrule-wasm,tfjs-webgpu,tfjs-wasm,jax-webgpu,
w=w2,w3, sizes=512,1024,2048,4096, mlp=128x784x256x10, rounds=10, warmup=2, read=sum|full, eager, capms=30000.</p>
<p id="status">loading</p>
<div id="results"></div>
<h2>As text</h2>
<pre id="text"></pre>
</body>
</html>
`;

/** Bundles the page script (browser, ESM) and returns its text. */
export async function buildPage(): Promise<string> {
  const esbuild = await import("esbuild");
  const built = await esbuild.build({
    entryPoints: [fileURLToPath(new URL("./page.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  return built.outputFiles[0]!.text;
}

/** The folder holding TF.js's .wasm files, inside node_modules. */
function tfWasmDist(): string {
  const require = createRequire(import.meta.url);
  return path.join(
    path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")),
    "dist",
  );
}

export interface BenchServer {
  /** e.g. http://127.0.0.1:8080 (a secure context, as WebGPU requires). */
  origin: string;
  close: () => Promise<void>;
}

/** Serves the page on 127.0.0.1 (port 0: any free port). */
export async function startBenchServer(port = 0): Promise<BenchServer> {
  const script = await buildPage();
  const wasmDir = tfWasmDist();
  const server = http.createServer((req, res) => {
    res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    res.setHeader("Cache-Control", "no-store");
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/" || url.pathname === "/index.html") {
      res.setHeader("Content-Type", "text/html; charset=utf-8");
      res.end(PAGE_HTML);
    } else if (url.pathname === "/page.js") {
      res.setHeader("Content-Type", "text/javascript; charset=utf-8");
      res.end(script);
    } else if (/^\/tfjs-wasm\/tfjs-backend-wasm[a-z-]*\.wasm$/.test(url.pathname)) {
      readFile(path.join(wasmDir, path.basename(url.pathname))).then(
        (data) => {
          res.setHeader("Content-Type", "application/wasm");
          res.end(data);
        },
        () => {
          res.statusCode = 404;
          res.end("not found");
        },
      );
    } else {
      res.statusCode = 404;
      res.end("not found");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
