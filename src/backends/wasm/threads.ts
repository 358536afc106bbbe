/**
 * Worker threads for the Wasm kernels. Each worker instantiates the same
 * compiled kernel module on the same shared memory; a large matrix product
 * is split by row panels of C, the calling thread running the first share.
 *
 * Hand-off is through control words at the bottom of the shared memory
 * (Atomics, no messages per job): for worker w, slot w holds
 *   [seq, done, dtype (0 f32, 1 f64), aPack, bPack, c, k, nPanels, p0, p1, failed].
 * The caller writes the job, bumps `seq` and notifies; the worker runs
 * gemm, stores `failed` (1 if it trapped) and `done = seq`, and notifies;
 * the caller waits for `done` and throws if a share failed.
 *
 * Threads start asynchronously (`startWasmThreads`, called on first use in
 * Node; in browsers with cross-origin isolation); until they are ready, and
 * wherever SharedArrayBuffer is missing, kernels run on the calling thread.
 */
import { CONTROL_BYTES, type WasmRuntime } from "./runtime.js";

const SLOT_INTS = 16;
/**
 * Products with fewer multiply-adds than this (about 100^3, some 50 us on one
 * core) run on one thread: below it, waking a worker and waiting for it
 * costs more than the share it takes (measured: 256x128x10 and 96^3
 * products ran slower with the pool than without).
 */
const PARALLEL_MIN_WORK = 1 << 20;

interface ThreadPool {
  workers: number;
  /** Terminates the workers. */
  stop: () => Promise<void>;
}

let pool: ThreadPool | undefined;
let starting: Promise<number> | undefined;
let ctl: Int32Array | undefined;
/** Whether this thread may block in Atomics.wait (not a browser main thread). */
let canBlock = true;

/**
 * The worker's program (plain JS source, so that it survives any bundler):
 * instantiate the kernels on the shared memory, then run jobs from control
 * slot `slot` forever. `seen` is the slot's sequence number at launch.
 */
const WORKER_BODY = `function runKernelWorker(module, memory, slot, seen) {
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const words = new Int32Array(memory.buffer, 0, ${CONTROL_BYTES / 4});
  const base = slot * ${SLOT_INTS};
  for (;;) {
    Atomics.wait(words, base, seen);
    const seq = Atomics.load(words, base);
    if (seq === seen) continue;
    seen = seq;
    const gemm = words[base + 2] === 0 ? ex.gemm_float32 : ex.gemm_float64;
    let failed = 0;
    try {
      gemm(words[base + 3], words[base + 4], words[base + 5], words[base + 6],
        words[base + 7], words[base + 8], words[base + 9]);
    } catch {
      failed = 1;
    }
    Atomics.store(words, base + 10, failed);
    Atomics.store(words, base + 1, seq);
    Atomics.notify(words, base + 1);
  }
}`;

/** Most workers one kernel may use (the running pool is kept). */
let workerLimit = Infinity;

/**
 * Limits how many of the running workers a kernel uses: 0 runs everything
 * on the calling thread (benchmarks compare one and several threads this way).
 */
export function setWasmThreadLimit(limit: number): void {
  workerLimit = limit;
}

/** Number of worker threads running now (0 until started). */
export function wasmThreadCount(): number {
  return pool?.workers ?? 0;
}

/**
 * Starts `count` worker threads (default: one per core beyond the first, at
 * most 3). Resolves to the number running, 0 where threads are unavailable.
 */
export function startWasmThreads(rt: WasmRuntime, count?: number): Promise<number> {
  if (starting !== undefined) return starting;
  starting = launch(rt, count).catch(() => 0);
  return starting;
}

/** Stops the workers (the next large kernel runs on one thread until restarted). */
export async function stopWasmThreads(): Promise<void> {
  const p = pool;
  pool = undefined;
  starting = undefined;
  if (p !== undefined) await p.stop();
}

/** The parts of Node's modules used here (the core is built without Node's types). */
interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
}
interface NodeWorkerThreads {
  Worker: new (source: string, options: { eval: boolean; workerData: unknown }) => NodeWorker;
}
interface NodeOs {
  availableParallelism?: () => number;
  cpus(): unknown[];
}

/** Imports a Node built-in by a computed name, which bundlers for browsers leave alone. */
function importNode(name: string): Promise<unknown> {
  return import(/* @vite-ignore */ name) as Promise<unknown>;
}

async function launch(rt: WasmRuntime, count?: number): Promise<number> {
  if (!rt.shared) return 0;
  const maxSlots = CONTROL_BYTES / 4 / SLOT_INTS - 1;
  const g = globalThis as {
    process?: { versions?: { node?: string } };
    navigator?: { hardwareConcurrency?: number };
    Worker?: new (url: string) => {
      postMessage(m: unknown): void;
      terminate(): void;
    };
  };
  const source = `(${WORKER_BODY})`;
  const words = new Int32Array(rt.memory.buffer, 0, CONTROL_BYTES / 4);
  if (g.process?.versions?.node !== undefined) {
    const wt = (await importNode("node:worker_threads")) as NodeWorkerThreads;
    const os = (await importNode("node:os")) as NodeOs;
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    const n = Math.min(count ?? Math.min(cores - 1, 3), maxSlots);
    if (n <= 0) return 0;
    const workers: { terminate: () => Promise<number> }[] = [];
    for (let w = 0; w < n; w++) {
      const script =
        `const { workerData } = require("node:worker_threads");` +
        `${source}(workerData.module, workerData.memory, workerData.slot, workerData.seen);`;
      const worker = new wt.Worker(script, {
        eval: true,
        workerData: {
          module: rt.module,
          memory: rt.memory,
          slot: w + 1,
          seen: words[(w + 1) * SLOT_INTS],
        },
      });
      worker.unref();
      workers.push(worker);
    }
    ctl = words;
    pool = {
      workers: n,
      stop: async () => {
        await Promise.all(workers.map((w) => w.terminate()));
      },
    };
    return n;
  }
  if (g.Worker !== undefined && g.navigator?.hardwareConcurrency !== undefined) {
    const n = Math.min(count ?? Math.min(g.navigator.hardwareConcurrency - 1, 3), maxSlots);
    if (n <= 0) return 0;
    const script = `onmessage = (e) => ${source}(e.data.module, e.data.memory, e.data.slot, e.data.seen);`;
    const url = URL.createObjectURL(new Blob([script], { type: "text/javascript" }));
    const workers: { terminate: () => void }[] = [];
    for (let w = 0; w < n; w++) {
      const worker = new g.Worker(url);
      worker.postMessage({
        module: rt.module,
        memory: rt.memory,
        slot: w + 1,
        seen: words[(w + 1) * SLOT_INTS],
      });
      workers.push(worker);
    }
    ctl = words;
    try {
      Atomics.wait(ctl, 0, 1, 0);
    } catch {
      canBlock = false;
    }
    pool = {
      workers: n,
      stop: () => {
        workers.forEach((w) => w.terminate());
        return Promise.resolve();
      },
    };
    return n;
  }
  return 0;
}

/**
 * C[row panels 0..mPanels-1] = A B (k >= 1), split across the workers when there
 * are any and the product is large enough.
 */
export function parallelGemm(
  rt: WasmRuntime,
  dtype: "float32" | "float64",
  aPack: number,
  bPack: number,
  cPtr: number,
  k: number,
  nPanels: number,
  mPanels: number,
  work: number,
): void {
  const gemm = rt.kernels[`gemm_${dtype}`]!;
  if (pool === undefined && starting === undefined && rt.shared) void startWasmThreads(rt);
  const workers = Math.min(pool?.workers ?? 0, workerLimit);
  if (workers === 0 || ctl === undefined || work < PARALLEL_MIN_WORK || mPanels < 2) {
    gemm(aPack, bPack, cPtr, k, nPanels, 0, mPanels);
    return;
  }
  const shares = Math.min(workers + 1, mPanels);
  const bounds = (s: number): number => Math.round((s * mPanels) / shares);
  const seqs: number[] = [];
  for (let s = 1; s < shares; s++) {
    const base = s * SLOT_INTS;
    ctl[base + 2] = dtype === "float32" ? 0 : 1;
    ctl[base + 3] = aPack;
    ctl[base + 4] = bPack;
    ctl[base + 5] = cPtr;
    ctl[base + 6] = k;
    ctl[base + 7] = nPanels;
    ctl[base + 8] = bounds(s);
    ctl[base + 9] = bounds(s + 1);
    const seq = (ctl[base]! + 1) | 0;
    seqs.push(seq);
    Atomics.store(ctl, base, seq);
    Atomics.notify(ctl, base);
  }
  // The caller's share; whatever happens, wait for the workers before
  // returning, so that none still writes to the memory during the next call.
  let callerError: Error | undefined = undefined;
  try {
    gemm(aPack, bPack, cPtr, k, nPanels, 0, bounds(1));
  } catch (e) {
    callerError = e instanceof Error ? e : new Error(`wasm backend: matmul failed: ${String(e)}`);
  }
  let failedWorker = 0;
  for (let s = 1; s < shares; s++) {
    const base = s * SLOT_INTS;
    const seq = seqs[s - 1]!;
    for (;;) {
      const done = Atomics.load(ctl, base + 1);
      if (done === seq) break;
      if (canBlock) Atomics.wait(ctl, base + 1, done, 1000);
    }
    if (Atomics.load(ctl, base + 10) !== 0) failedWorker = s;
  }
  if (callerError !== undefined) throw callerError;
  if (failedWorker !== 0)
    throw new Error(
      `wasm backend: worker ${failedWorker} trapped in its share of a ${dtype} matmul`,
    );
}
