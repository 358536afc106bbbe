/**
 * Browser benchmark page, the command (`npm run bench:web`, or
 * `npx tsx bench/web/serve.ts`): serves the page on 127.0.0.1 and prints its
 * address, to open in a browser with WebGPU. With `--headless` it instead
 * opens the page in headless Chromium, waits for the run to end and prints
 * the report as text.
 *
 *   --port N         port to serve on (default 8080; 0 picks a free one)
 *   --headless       run the page in headless Chromium and print the report
 *   --query Q        the page's URL options, e.g. "quick&libs=chainrule-webgpu,tfjs-webgpu"
 *   --chromium PATH  browser binary for --headless (default /usr/bin/chromium)
 *   --swiftshader    --headless on SwiftShader, the CPU emulation of a GPU
 *                    (a functional run: its timings say nothing about GPUs)
 *   --timeout S      give up on a --headless run after S seconds (default 3600)
 */
import { startBenchServer } from "./server.js";
import type { PageReport } from "./page.js";

interface Args {
  port: number;
  headless: boolean;
  query: string;
  chromium: string;
  swiftshader: boolean;
  timeoutS: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    port: 8080,
    headless: false,
    query: "",
    chromium: "/usr/bin/chromium",
    swiftshader: false,
    timeoutS: 3600,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench/web/serve.ts: ${a} needs a value`);
      return v;
    };
    if (a === "--port") args.port = Number(value());
    else if (a === "--headless") args.headless = true;
    else if (a === "--query") args.query = value().replace(/^\?/, "");
    else if (a === "--chromium") args.chromium = value();
    else if (a === "--swiftshader") args.swiftshader = true;
    else if (a === "--timeout") args.timeoutS = Number(value());
    else throw new Error(`bench/web/serve.ts: unknown argument ${a} (see the comment at its top)`);
  }
  return args;
}

/** Runs the page in headless Chromium and returns its report. */
async function runHeadless(url: string, args: Args): Promise<PageReport> {
  const { chromium } = await import("playwright-core");
  const flags = [
    "--headless=new",
    "--no-sandbox",
    "--no-first-run",
    "--enable-unsafe-webgpu",
    ...(args.swiftshader
      ? ["--use-webgpu-adapter=swiftshader"]
      : ["--enable-features=Vulkan", "--ignore-gpu-blocklist"]),
  ];
  const browser = await chromium.launch({ executablePath: args.chromium, args: flags });
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => console.error(`page error: ${String(e)}`));
    await page.goto(url);
    let last = "";
    const deadline = Date.now() + args.timeoutS * 1000;
    for (;;) {
      const state = await page.evaluate(() => ({
        status: document.getElementById("status")?.textContent ?? "",
        done: (globalThis as { chainruleBench?: { done: boolean } }).chainruleBench?.done ?? false,
      }));
      if (state.status !== last) {
        console.error(`  ${state.status}`);
        last = state.status;
      }
      if (state.done) break;
      if (Date.now() > deadline) throw new Error(`the page did not finish in ${args.timeoutS} s`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return await page.evaluate(
      () => (globalThis as unknown as { chainruleBench: PageReport }).chainruleBench,
    );
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const server = await startBenchServer(args.port);
  const url = `${server.origin}/${args.query === "" ? "" : `?${args.query}`}`;
  if (!args.headless) {
    console.log(`chainrule browser benchmarks: open ${url} in a browser with WebGPU`);
    console.log("(options: ?quick, libs=..., sizes=..., rounds=...; Ctrl-C stops the server)");
    return;
  }
  try {
    console.error(`running ${url} in headless Chromium (${args.chromium})`);
    const report = await runHeadless(url, args);
    console.log(report.text);
    const failed = report.workloads.flatMap((w) => w.checks.filter((c) => !c.ok));
    if (report.error !== undefined || failed.length > 0) process.exitCode = 1;
  } finally {
    await server.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
