/**
 * Browser benchmark page (bundled by bench/web/server.ts): W2 (one MLP
 * training step) and W3 (float32 matrix products) on chainrule webgpu and
 * wasm, TF.js webgpu and wasm, and jax-js webgpu, in one page. Each
 * library's results are checked against plain-JS float64 references and
 * against each other before anything is timed (a library that disagrees is
 * not timed); then the cases run interleaved round by round, and the page
 * shows medians, quartiles and ratios as tables and as Markdown text.
 *
 * URL options: `libs=chainrule-webgpu,tfjs-wasm,...` (default all),
 * `w=w2,w3` (workloads), `sizes=512,1024` (W3), `mlp=128x784x256x10` (W2:
 * batch, inputs, hidden, outputs), `rounds=N`, `warmup=N`, `read=sum|full`
 * (how a timed W3 call reads C), `eager` (also eager W2 steps of chainrule
 * and jax-js), `capms=N` (drop a case whose first call is slower),
 * `quick` (3 rounds, 1 warm-up, sizes 512 and 1024 unless given), and
 * `tamper=<library>` (perturbs that library's results by 1%, to see the
 * checks refuse it: used by the smoke test).
 * When it ends, `globalThis.chainruleBench` holds the report (`done: true`).
 */
import {
  LIB_IDS,
  type Lib,
  type LibId,
  makeLib,
  type MatmulCase,
  type ReadMode,
  type Trainer,
} from "./libs.js";
import {
  type CaseTiming,
  markdownTable,
  runInterleaved,
  type Summary,
  summarize,
  type TimedCase,
  timingRows,
} from "./stats.js";
import {
  makeMatmulData,
  makeMlpData,
  maxRelDiff,
  type MlpSizes,
  plainMlpLoss,
  referenceEntries,
  sampledError,
  sampleEntries,
  W2_SIZES,
} from "./workloads.js";

export interface PageOptions {
  libs: LibId[];
  workloads: ("w2" | "w3")[];
  sizes: number[];
  mlp: MlpSizes;
  rounds: number;
  warmup: number;
  read: ReadMode;
  eager: boolean;
  capMs: number;
  quick: boolean;
  /** For the smoke test: this library's results are perturbed, so its checks must fail. */
  tamper: LibId | null;
}

export interface LibStatus {
  id: LibId;
  label: string;
  available: boolean;
  reason?: string;
}

/** One library's (or one W2 variant's) check before timing. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** W2: the losses of the first three steps. */
  losses?: number[];
  /** W3: C at the sampled entries (`sampleEntries(n, 64)`), for checks outside the page. */
  sample?: number[];
  /** W2: |first loss - float64 loss| / |float64 loss|; W3: worst sampled error / sum |terms|. */
  vsReference?: number;
  /** The largest relative difference from the first library that passed its own check. */
  vsFirst?: number;
  error?: string;
}

export interface WorkloadReport {
  title: string;
  checks: CheckResult[];
  summaries: Summary[];
}

export interface PageReport {
  options: PageOptions;
  environment: string[];
  libs: LibStatus[];
  workloads: WorkloadReport[];
  text: string;
  done: boolean;
  error?: string;
}

/** Largest tolerated relative disagreement (float32 roundoff is orders smaller). */
const TOLERANCE = 1e-3;

function parseOptions(search: string): PageOptions {
  const q = new URLSearchParams(search);
  const quick = q.has("quick");
  const list = (key: string) =>
    q
      .get(key)
      ?.split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  const int = (key: string, fallback: number) => {
    const v = q.get(key);
    if (v === null) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`?${key}=${v}: expected an integer >= 0`);
    return n;
  };
  const libs = (list("libs") ?? [...LIB_IDS]).map((id) => {
    if (!(LIB_IDS as readonly string[]).includes(id)) {
      throw new Error(`?libs: unknown library "${id}"; known: ${LIB_IDS.join(", ")}`);
    }
    return id as LibId;
  });
  const workloads = (list("w") ?? ["w2", "w3"]).map((w) => {
    if (w !== "w2" && w !== "w3") throw new Error(`?w: unknown workload "${w}"; use w2, w3`);
    return w;
  });
  const sizes = (list("sizes") ?? (quick ? ["512", "1024"] : ["512", "1024", "2048", "4096"])).map(
    (s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1) throw new Error(`?sizes: "${s}" is not a positive size`);
      return n;
    },
  );
  let mlp = W2_SIZES;
  const m = q.get("mlp");
  if (m !== null) {
    const parts = m.split("x").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 1)) {
      throw new Error(`?mlp=${m}: expected batch x inputs x hidden x outputs, e.g. 128x784x256x10`);
    }
    mlp = { batch: parts[0]!, nIn: parts[1]!, nHidden: parts[2]!, nOut: parts[3]! };
  }
  const tamper = q.get("tamper");
  if (tamper !== null && !(LIB_IDS as readonly string[]).includes(tamper)) {
    throw new Error(`?tamper: unknown library "${tamper}"; known: ${LIB_IDS.join(", ")}`);
  }
  const read = q.get("read") ?? "sum";
  if (read !== "sum" && read !== "full") throw new Error(`?read=${read}: use sum or full`);
  return {
    libs,
    workloads,
    sizes,
    mlp,
    rounds: int("rounds", quick ? 3 : 10),
    warmup: Math.max(1, int("warmup", quick ? 1 : 2)),
    read,
    eager: q.has("eager"),
    capMs: int("capms", 30_000),
    quick,
    tamper: tamper as LibId | null,
  };
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Browser, GPU adapter and isolation facts for the record. */
async function environment(): Promise<string[]> {
  const lines = [
    `user agent: ${navigator.userAgent}`,
    `cross-origin isolated (Wasm threads): ${String(globalThis.crossOriginIsolated)}, ` +
      `hardwareConcurrency ${navigator.hardwareConcurrency}`,
  ];
  const gpu = (
    navigator as {
      gpu?: { requestAdapter: () => Promise<{ info?: Record<string, string | boolean> } | null> };
    }
  ).gpu;
  if (gpu === undefined) {
    lines.push("WebGPU: navigator.gpu is undefined");
  } else {
    const adapter = await gpu.requestAdapter();
    const info = adapter?.info;
    lines.push(
      adapter === null
        ? "WebGPU: no adapter"
        : `WebGPU adapter: ${["vendor", "architecture", "device", "description"]
            .map((k) => `${k} "${String(info?.[k] ?? "")}"`)
            .join(", ")}`,
    );
    if (info?.architecture === "swiftshader" || info?.isFallbackAdapter === true) {
      lines.push(
        "WARNING: this adapter is a CPU emulation (SwiftShader / fallback adapter), not a GPU: " +
          "its WebGPU timings say nothing about GPU speed",
      );
    }
  }
  return lines;
}

let statusLine: HTMLElement | null = null;
function status(s: string): void {
  statusLine ??= document.getElementById("status");
  if (statusLine !== null) statusLine.textContent = s;
}

function tableElement(header: string[], rows: string[][]): HTMLTableElement {
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  for (const h of header) head.appendChild(document.createElement("th")).textContent = h;
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const c of r) tr.insertCell().textContent = c;
  }
  return table;
}

function show(title: string, lines: string[], header: string[], rows: string[][]): void {
  const out = document.getElementById("results");
  if (out === null) return;
  out.appendChild(document.createElement("h2")).textContent = title;
  for (const l of lines) out.appendChild(document.createElement("p")).textContent = l;
  out.appendChild(tableElement(header, rows));
}

function fmtErr(x: number | undefined): string {
  return x === undefined ? "-" : Number.isFinite(x) ? x.toExponential(1) : String(x);
}

function checkLines(checks: CheckResult[]): string[] {
  return checks.map(
    (c) =>
      `check ${c.name}: ${c.ok ? "ok" : "FAILED (not timed)"}` +
      (c.losses !== undefined ? `, losses ${c.losses.map((l) => l.toFixed(6)).join(" ")}` : "") +
      `, vs float64 reference ${fmtErr(c.vsReference)}, vs first ${fmtErr(c.vsFirst)}` +
      (c.error !== undefined ? ` (${c.error})` : ""),
  );
}

async function timeCases(
  cases: TimedCase[],
  opts: PageOptions,
  label: string,
): Promise<CaseTiming[]> {
  return runInterleaved(cases, {
    rounds: opts.rounds,
    warmup: opts.warmup,
    capMs: opts.capMs,
    onRound: (r) => status(`${label}: round ${r + 1} of ${opts.rounds}`),
  });
}

interface W2Variant {
  name: string;
  lib: Lib;
  jitted: boolean;
}

async function runW2(libs: Lib[], opts: PageOptions): Promise<WorkloadReport> {
  const d = makeMlpData(opts.mlp);
  const { batch, nIn, nHidden, nOut } = opts.mlp;
  const reference = plainMlpLoss(d);
  const variants: W2Variant[] = [];
  for (const lib of libs) {
    if (lib.id.startsWith("tfjs")) {
      variants.push({ name: lib.label, lib, jitted: false });
      continue;
    }
    variants.push({ name: `${lib.label} jit`, lib, jitted: true });
    if (opts.eager) variants.push({ name: `${lib.label} eager`, lib, jitted: false });
  }
  // Checks: three SGD steps from the same start in every variant.
  status("W2: checking");
  const checks: CheckResult[] = [];
  for (const v of variants) {
    let t: Trainer | undefined;
    try {
      await v.lib.select();
      t = v.lib.trainer(d, v.jitted);
      const losses = [await t.step(), await t.step(), await t.step()];
      if (opts.tamper === v.lib.id) losses[0]! *= 1.01;
      const vsReference = Math.abs(losses[0]! - reference) / Math.abs(reference);
      checks.push({ name: v.name, ok: vsReference <= TOLERANCE, losses, vsReference });
    } catch (e) {
      checks.push({ name: v.name, ok: false, error: describe(e) });
    } finally {
      t?.dispose();
    }
  }
  const first = checks.find((c) => c.ok);
  for (const c of checks) {
    if (!c.ok || first === undefined) continue;
    c.vsFirst = Math.max(
      ...c.losses!.map((l, i) => Math.abs(l - first.losses![i]!) / Math.abs(first.losses![i]!)),
    );
    c.ok = c.vsFirst <= TOLERANCE;
  }
  const cases: TimedCase[] = [];
  const trainers: Trainer[] = [];
  for (const [i, v] of variants.entries()) {
    if (!checks[i]!.ok) continue;
    await v.lib.select();
    const t = v.lib.trainer(d, v.jitted);
    trainers.push(t);
    cases.push({ name: v.name, before: v.lib.select, run: t.step });
  }
  const timings = await timeCases(cases, opts, "W2");
  trainers.forEach((t) => t.dispose());
  return {
    title:
      `W2, MLP training step (batch ${batch}, ${nIn}-${nHidden}-${nOut}, float32, ` +
      `loss read back each step), ${opts.rounds} interleaved round${opts.rounds === 1 ? "" : "s"}`,
    checks,
    summaries: timings.map(summarize),
  };
}

async function runW3(libs: Lib[], n: number, opts: PageOptions): Promise<WorkloadReport> {
  const { a, b } = makeMatmulData(n);
  const entries = sampleEntries(n, 64);
  const refs = referenceEntries(a, b, n, entries);
  status(`W3 ${n}: checking`);
  const prepared: ({ lib: Lib; c: MatmulCase } | null)[] = [];
  const checks: CheckResult[] = [];
  let firstProduct: Float32Array | null = null;
  for (const lib of libs) {
    try {
      await lib.select();
      const c = lib.matmul(n, a, b, opts.read);
      const product = await c.product();
      // C[0, 0] is always among the sampled entries
      if (opts.tamper === lib.id) product[0] = product[0]! * 1.01 + 0.01;
      const vsReference = sampledError(product, n, entries, refs);
      const check: CheckResult = {
        name: lib.label,
        ok: vsReference <= TOLERANCE,
        vsReference,
        sample: entries.map(([i, j]) => product[i * n + j]!),
      };
      if (check.ok) {
        firstProduct ??= product;
        check.vsFirst = maxRelDiff(product, firstProduct);
        check.ok = check.vsFirst <= TOLERANCE;
      }
      checks.push(check);
      if (check.ok) {
        prepared.push({ lib, c });
      } else {
        c.dispose();
        prepared.push(null);
      }
    } catch (e) {
      checks.push({ name: lib.label, ok: false, error: describe(e) });
      prepared.push(null);
    }
  }
  const cases: TimedCase[] = prepared
    .filter((p) => p !== null)
    .map((p) => ({ name: p.lib.label, before: p.lib.select, run: p.c.timed }));
  const timings = await timeCases(cases, opts, `W3 ${n}`);
  for (const p of prepared) p?.c.dispose();
  return {
    title:
      `W3, float32 ${n} x ${n} @ ${n} x ${n} (timed call: product and ` +
      `${opts.read === "sum" ? "an awaited read of its sum" : "an awaited read of all of C"}), ` +
      `${opts.rounds} interleaved round${opts.rounds === 1 ? "" : "s"}`,
    checks,
    summaries: timings.map(summarize),
  };
}

/** The whole run: options, library start-up, workloads, report. */
async function main(report: PageReport): Promise<void> {
  const opts = report.options;
  report.environment = await environment();
  const libs: Lib[] = [];
  for (const id of opts.libs) {
    const lib = makeLib(id);
    status(`starting ${lib.label}`);
    try {
      await lib.init();
      libs.push(lib);
      report.libs.push({ id, label: lib.label, available: true });
    } catch (e) {
      report.libs.push({ id, label: lib.label, available: false, reason: describe(e) });
    }
  }
  const text: string[] = [
    ...report.environment.map((l) => `- ${l}`),
    ...report.libs.map(
      (l) => `- ${l.label}: ${l.available ? "available" : `unavailable (${l.reason})`}`,
    ),
    "",
  ];
  const addReport = (
    w: WorkloadReport,
    refs: string[],
    tp?: { label: string; perCall: number },
  ) => {
    report.workloads.push(w);
    const { header, rows } = timingRows(w.summaries, refs, tp);
    const lines = checkLines(w.checks);
    show(w.title, lines, header, rows);
    text.push(`${w.title}`, "", ...lines.map((l) => `- ${l}`), "", markdownTable(header, rows));
    report.text = text.join("\n");
  };
  if (opts.workloads.includes("w2")) {
    addReport(await runW2(libs, opts), ["TF.js webgpu", "jax-js webgpu jit"]);
  }
  if (opts.workloads.includes("w3")) {
    for (const n of opts.sizes) {
      addReport(await runW3(libs, n, opts), ["TF.js webgpu", "jax-js webgpu"], {
        label: "GFLOP/s",
        perCall: (2 * n ** 3) / 1e9,
      });
    }
  }
  const details: string[] = [];
  for (const lib of libs) {
    if (lib.details !== undefined) details.push(`- ${lib.label}: ${await lib.details()}`);
  }
  if (details.length > 0) {
    text.push("How the Wasm backends ran:", "", ...details, "");
    report.text = text.join("\n");
  }
}

async function start(): Promise<void> {
  const report: PageReport = {
    options: parseOptions(""),
    environment: [],
    libs: [],
    workloads: [],
    text: "",
    done: false,
  };
  (globalThis as { chainruleBench?: PageReport }).chainruleBench = report;
  try {
    report.options = parseOptions(location.search);
    await main(report);
    status("done");
  } catch (e) {
    report.error = describe(e);
    report.text += `\nerror: ${report.error}\n`;
    status(`error: ${report.error}`);
  }
  const pre = document.getElementById("text");
  if (pre !== null) pre.textContent = report.text;
  report.done = true;
}

void start();
