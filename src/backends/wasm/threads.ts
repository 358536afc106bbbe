/**
 * Worker threads for the Wasm kernels. Each worker instantiates the same
 * compiled kernel module on the same shared memory. A large matrix product
 * is split into chunks of row panels of C, and a large fused jit group (see
 * jit/wasmLowering.ts) into chunks of elements; all threads (the calling one
 * included) take chunks from a shared counter.
 *
 * Hand-off is through control words at the bottom of the shared memory
 * (Atomics, no messages per job): for worker w, slot w holds
 *   [seq, state, kind, arg0, arg1, ..., failed at index 10, ready at 11].
 * kind 0 / 1: gemm_float32 / gemm_float64 with args
 *   (aPack, bPack, c, k, nPanels, mPanels, chunk), at index 12 the address
 *   of one done flag (i32) per chunk, and at 13..15 the raw A, its rows m
 *   and whether it is stored transposed: the threads take chunks of `chunk`
 *   row panels from a shared counter until all mPanels are done, so a
 *   thread slowed down by the host takes fewer, pack the chunk's A panels
 *   (once the job's inputs word says A is in place), compute it (once it
 *   says B is packed), and flag it, so that the caller can copy it out
 *   while the others compute. The counter and the inputs word are the two
 *   words before the done flags (in the arena: each job has its own);
 * kind 2: a jit group function with args (module id, bytes address, byte
 *   length, address of the float64 call arguments followed by their
 *   strides, argument count, number of chunks, elements per chunk), the
 *   done flags at index 12, the element count at 13, the lanes per vector
 *   at 14 and the thread number (which scratch area) at 15: chunks are
 *   taken and flagged as for a matrix product, once the job's inputs word
 *   says their inputs are in place. Workers
 *   sit in Atomics.wait and cannot take messages, so a group module travels
 *   as bytes in the shared memory the first time a worker needs it; the
 *   worker compiles it, instantiates it on the memory, and keeps it by id.
 * The caller writes the job, sets `state` to posted, bumps `seq` and
 * notifies. A woken worker runs the job only if it moves `state` from
 * posted to running (compare-exchange), and when done stores `failed` (1
 * if it trapped) and sets `state` back to idle. The calling thread never
 * waits for a worker that has not started: it computes every chunk that no
 * worker has taken, and then moves each still-posted job to cancelled (the
 * same compare-exchange, so exactly one side wins). A running worker holds
 * at most one chunk: the caller waits about two of its own chunk times,
 * then computes that chunk again itself (a jit group's in place, since it
 * gives the same values whichever thread computes it; a matrix product's
 * into a spare block, since its k-blocks add into C) and leaves the late
 * worker to finish in the background, its job's arena blocks kept out of
 * later calls' way until it is done (`arenaFloor`). So a call finishes in
 * about one-thread time even if no worker ever wakes, and a worker the
 * host deschedules mid-chunk does not stall it.
 *
 * Threads are created on first use (Node; browsers with cross-origin
 * isolation), synchronously where the engine allows it, so that a plain
 * synchronous loop gets them too (Node's `process.getBuiltinModule`; a
 * browser's `Worker`). A worker sets its `ready` word once it waits for
 * jobs; until then, and wherever SharedArrayBuffer is missing, kernels run
 * on the calling thread.
 */
import { MATH_IMPORTS } from "./mathKernels.js";
import { MATMUL_TILE } from "./matmulKernel.js";
import { CONTROL_BYTES, type WasmRuntime, alloc } from "./runtime.js";
import { type WorkerLayout, type WorkerStart, workerSource } from "./workerProgram.js";
import { ThreadGate } from "./threadGate.js";

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
/** The runtime the pool works on (whose arena floor late workers may raise). */
let poolRuntime: WasmRuntime | undefined;
/** Bumped at every launch: a new pool's workers have compiled no group module yet. */
let poolGeneration = 0;

/** Index of the `failed` word in a slot. */
const FAILED = 10;
/** Index of the `ready` word: 1 once the worker waits for jobs, 0 before and after. */
const READY = 11;
/** Index of the done-flags address of a job's chunks (one i32 per chunk). */
const DONE_FLAGS = 12;
/** Indices of a matrix product's raw A address, its rows m, and whether it is stored transposed. */
const GEMM_A_RAW = 13;
/** Indices of a jit group job's element count and lanes per vector. */
const GROUP_ELEMENTS = 13;
const GROUP_LANES = 14;
/** Index of a jit group job's thread number (1, 2, ...: which scratch area is the worker's). */
const GROUP_THREAD = 15;
/** Index of a slot's job state, and its values. */
const STATE = 1;
const IDLE = 0;
const POSTED = 1;
const RUNNING = 2;
const CANCELLED = 3;
/**
 * Word 10 of slot 0, a test hook: 1 makes woken workers wait before looking
 * at their job, 2 makes them wait after taking a chunk; word 11
 * counts the waits.
 */
const HOLD = 10;
const HELD = 11;
/**
 * A worker waiting for inputs the caller is copying in right now spins this
 * many times before it sleeps in Atomics.wait: being put to sleep and woken
 * again costs tens of microseconds on a virtual machine. (Measured on the
 * 512^3 product and W5, in the same process: faster than sleeping at once
 * in 12 of 16 pairs, by up to 9%, slower by up to 8% in 3; spinning in the
 * caller's wait for the workers' last chunk made no difference.)
 */
const SPINS_BEFORE_SLEEP = 20000;

/** Job kinds (word 2 of a slot). */
const GEMM_F32 = 0;
const GEMM_F64 = 1;
const GROUP = 2;

/** The control-word layout above, as the worker program receives it. */
const LAYOUT: WorkerLayout = {
  slotInts: SLOT_INTS,
  controlInts: CONTROL_BYTES / 4,
  failed: FAILED,
  ready: READY,
  doneFlags: DONE_FLAGS,
  gemmARaw: GEMM_A_RAW,
  groupElements: GROUP_ELEMENTS,
  groupLanes: GROUP_LANES,
  groupThread: GROUP_THREAD,
  state: STATE,
  stateIdle: IDLE,
  statePosted: POSTED,
  stateRunning: RUNNING,
  hold: HOLD,
  held: HELD,
  spinsBeforeSleep: SPINS_BEFORE_SLEEP,
  kindGemmF32: GEMM_F32,
  kindGemmF64: GEMM_F64,
  kindGroup: GROUP,
};

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
 * most 3). Resolves, once they wait for jobs, to the number running (0
 * where threads are unavailable).
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
  if (p === undefined) return;
  for (let slot = 1; slot <= p.workers; slot++) Atomics.store(ctl!, slot * SLOT_INTS + READY, 0);
  await p.stop();
  // terminated workers write nothing more: their jobs' blocks are free
  stragglers = [];
  if (poolRuntime !== undefined) poolRuntime.arenaFloor = null;
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

/** Node's synchronous access to built-in modules (Node >= 20.16), if present. */
function builtinModuleGetter(): ((name: string) => unknown) | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } })
    .process;
  return proc?.getBuiltinModule?.bind(proc);
}

/** Longest wait for the workers to start (ms); a worker that never reports counts as failed. */
const START_TIMEOUT_MS = 10000;

/**
 * Resolves, once each of the `count` workers from slot 1 has either set its
 * `ready` word or failed to start (`failed()` of them: a browser fires an
 * error event at a worker that a Content-Security-Policy without
 * `worker-src blob:` blocked), or after START_TIMEOUT_MS, to how many are
 * usable: the ready ones from slot 1 on without a gap.
 */
async function whenReady(
  words: Int32Array,
  count: number,
  failed: () => number = () => 0,
): Promise<number> {
  const isReady = (slot: number): boolean => Atomics.load(words, slot * SLOT_INTS + READY) === 1;
  const usable = (): number => {
    let n = 0;
    while (n < count && isReady(n + 1)) n++;
    return n;
  };
  const settled = (): number => {
    let n = failed();
    for (let slot = 1; slot <= count; slot++) if (isReady(slot)) n++;
    return n;
  };
  // Timers are clamped (4 ms and more once nested, far more in a background tab):
  // the deadline is measured, not counted in sleeps.
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (settled() < count && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 2));
  return usable();
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
      addEventListener(type: "error", listener: () => void): void;
    };
  };
  // the worker program (workerProgram.ts) as text, called with its WorkerStart
  const source = workerSource();
  const words = new Int32Array(rt.memory.buffer, 0, CONTROL_BYTES / 4);
  const mathNames = Object.keys(MATH_IMPORTS);
  poolGeneration++;
  poolRuntime = rt;
  Atomics.store(words, HOLD, 0);
  for (let slot = 1; slot <= maxSlots; slot++) {
    Atomics.store(words, slot * SLOT_INTS + READY, 0);
    Atomics.store(words, slot * SLOT_INTS + STATE, IDLE);
  }
  if (g.process?.versions?.node !== undefined) {
    // No await before the workers exist where the modules can be had
    // synchronously: this runs inside the caller's first large kernel.
    const getBuiltin = builtinModuleGetter();
    const wt = (getBuiltin?.("node:worker_threads") ??
      (await importNode("node:worker_threads"))) as NodeWorkerThreads;
    const os = (getBuiltin?.("node:os") ?? (await importNode("node:os"))) as NodeOs;
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    const n = Math.min(count ?? Math.min(cores - 1, 3), maxSlots);
    if (n <= 0) return 0;
    const workers: { terminate: () => Promise<number> }[] = [];
    for (let w = 0; w < n; w++) {
      // A dynamic import, not `require`: an eval'd worker inherits the
      // process's --input-type, and under --input-type=module its script is
      // an ES module, where `require` does not exist.
      const script =
        `import("node:worker_threads").then(({ workerData }) => ` + `${source}(workerData));`;
      const workerData: WorkerStart = {
        module: rt.module,
        memory: rt.memory,
        slot: w + 1,
        seen: words[(w + 1) * SLOT_INTS]!,
        mathNames,
        layout: LAYOUT,
      };
      const worker = new wt.Worker(script, { eval: true, workerData });
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
    return whenReady(words, n);
  }
  if (g.Worker !== undefined && g.navigator?.hardwareConcurrency !== undefined) {
    const n = Math.min(count ?? Math.min(g.navigator.hardwareConcurrency - 1, 3), maxSlots);
    if (n <= 0) return 0;
    const script = `onmessage = (e) => ${source}(e.data);`;
    const url = URL.createObjectURL(new Blob([script], { type: "text/javascript" }));
    const workers: { terminate: () => void }[] = [];
    // Workers that could not start (blocked by the page's CSP, or failed to load).
    let failedToStart = 0;
    for (let w = 0; w < n; w++) {
      const worker = new g.Worker(url);
      worker.addEventListener("error", () => failedToStart++);
      const start: WorkerStart = {
        module: rt.module,
        memory: rt.memory,
        slot: w + 1,
        seen: words[(w + 1) * SLOT_INTS]!,
        mathNames,
        layout: LAYOUT,
      };
      worker.postMessage(start);
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
    const started = await whenReady(words, n, () => failedToStart);
    if (failedToStart > 0) {
      console.warn(
        `chainrule: ${failedToStart} of ${n} worker threads could not start (a Content-Security-` +
          "Policy without worker-src blob: blocks them), so the Wasm kernels run on " +
          `${started + 1} thread${started === 0 ? "" : "s"}; allow worker-src blob: to use them`,
      );
    }
    return started;
  }
  return 0;
}

/**
 * A worker still computing a chunk of a job that the calling
 * thread has finished without it (see `runCallerShare`), and the top of
 * that job's arena blocks, which no later call may reuse until it is done.
 */
interface Straggler {
  slot: number;
  top: number;
}
let stragglers: Straggler[] = [];

/** Forgets the stragglers that have finished; true if none is left. */
function pruneStragglers(): boolean {
  const words = ctl;
  if (words === undefined) stragglers = [];
  else
    stragglers = stragglers.filter(
      (s) => Atomics.load(words, s.slot * SLOT_INTS + STATE) === RUNNING,
    );
  return stragglers.length === 0;
}

/**
 * The lowest arena address a new call may use: above the blocks of every
 * job a straggler still works on (installed as the runtime's `arenaFloor`
 * while there is one).
 */
function stragglerFloor(rt: WasmRuntime): number {
  if (pruneStragglers()) {
    rt.arenaFloor = null;
    return CONTROL_BYTES;
  }
  return stragglers.reduce((top, s) => Math.max(top, s.top), CONTROL_BYTES);
}

/**
 * The worker slots (1, 2, ...) a kernel may use now: ready, and not
 * finishing a chunk of an earlier job; none where threads are unavailable
 * or still starting; at most `setWasmThreadLimit`. The first call starts
 * the pool.
 */
function freeWorkerSlots(rt: WasmRuntime): number[] {
  if (pool === undefined && starting === undefined && rt.shared) void startWasmThreads(rt);
  if (ctl === undefined || pool === undefined) return [];
  pruneStragglers();
  const slots: number[] = [];
  for (let slot = 1; slot <= pool.workers && slots.length < workerLimit; slot++) {
    if (Atomics.load(ctl, slot * SLOT_INTS + READY) !== 1) break;
    if (!stragglers.some((s) => s.slot === slot)) slots.push(slot);
  }
  return slots;
}

/**
 * How many workers a kernel may use now: 0 where threads are unavailable
 * or still starting; at most `setWasmThreadLimit`. The first call starts
 * the pool.
 */
export function usableWorkers(rt: WasmRuntime): number {
  return freeWorkerSlots(rt).length;
}

/** Writes a job (kind, then its arguments) into worker `slot` and wakes it. */
function post(slot: number, job: readonly number[]): void {
  const words = ctl!;
  const base = slot * SLOT_INTS;
  words.set(job, base + 2);
  Atomics.store(words, base + STATE, POSTED);
  Atomics.store(words, base, (words[base]! + 1) | 0);
  Atomics.notify(words, base);
}

/**
 * Cancels worker `slot`'s job if it has not started (it will find the job
 * cancelled when it wakes, and leave it); returns whether it did.
 */
function cancelUnstarted(slot: number): boolean {
  const at = slot * SLOT_INTS + STATE;
  if (Atomics.compareExchange(ctl!, at, POSTED, CANCELLED) !== POSTED) return false;
  jobsCancelled++;
  return true;
}

/**
 * Waits until worker `slot` is no longer running a job, or until
 * `deadline` (a performance.now() time); returns whether it finished.
 */
function waitForWorker(slot: number, deadline = Infinity): boolean {
  const words = ctl!;
  const at = slot * SLOT_INTS + STATE;
  if (Atomics.load(words, at) !== RUNNING) return true;
  const t0 = performance.now();
  for (let now = t0; Atomics.load(words, at) === RUNNING; now = performance.now()) {
    if (now >= deadline) break;
    // The worker notifies when it leaves the job (a browser main thread
    // cannot block). A wait with a deadline (a few chunk times) spins
    // instead: with a core busy, a caller that sleeps may not get its core
    // back for a whole time slice once it wakes.
    if (canBlock && deadline === Infinity) Atomics.wait(words, at, RUNNING, 1000);
  }
  joinWaitMs += performance.now() - t0;
  return Atomics.load(words, at) !== RUNNING;
}

/** Whether worker `slot` trapped in the job it last finished. */
function workerFailed(slot: number): boolean {
  return Atomics.load(ctl!, slot * SLOT_INTS + FAILED) !== 0;
}

let jobsCancelled = 0;
let gemmChunksOnWorkers = 0;
let joinWaitMs = 0;
let chunksRecomputed = 0;

/** How many worker jobs the calling thread has cancelled so far, unstarted (for tests). */
export function wasmJobsCancelled(): number {
  return jobsCancelled;
}

/**
 * Counters since the process started, for benchmarks and tests: worker
 * jobs cancelled unstarted, milliseconds the calling thread spent waiting
 * for running workers once no chunk was left, jit group chunks and matrix
 * product chunks computed by the workers, and chunks of late workers that
 * the calling thread computed again itself.
 */
export function wasmThreadStats(): {
  cancelled: number;
  joinWaitMs: number;
  workerChunks: number;
  gemmWorkerChunks: number;
  recomputed: number;
} {
  return {
    cancelled: jobsCancelled,
    joinWaitMs,
    workerChunks: groupChunksOnWorkers,
    gemmWorkerChunks: gemmChunksOnWorkers,
    recomputed: chunksRecomputed,
  };
}

/**
 * Test hook, standing in for a worker the host does not schedule: with
 * "beforeJob", woken workers wait before they look at their job; with
 * "midChunk", a worker that has taken a chunk waits before computing it. "none" lets them go on.
 */
export function holdWasmWorkers(hold: "none" | "beforeJob" | "midChunk"): void {
  if (ctl === undefined) return;
  Atomics.store(ctl, HOLD, hold === "none" ? 0 : hold === "beforeJob" ? 1 : 2);
  if (hold === "none") Atomics.notify(ctl, HOLD);
}

/** How many times workers have stopped at a `holdWasmWorkers` hold (for tests). */
export function wasmWorkerHolds(): number {
  return ctl === undefined ? 0 : Atomics.load(ctl, HELD);
}

/** A compiled jit group module as workers receive it: its bytes, once per worker. */
export interface SharedGroupModule {
  /** Distinct per module (workers cache their instances by it). */
  id: number;
  bytes: Uint8Array;
  /** `generation:slot` of the workers that have compiled it. */
  compiledBy: Set<string>;
}

let nextGroupId = 1;

/** Wraps a group module's bytes for `postGroupShare`. */
export function sharedGroupModule(bytes: Uint8Array): SharedGroupModule {
  return { id: nextGroupId++, bytes, compiledBy: new Set() };
}

/**
 * The arena address of `module`'s bytes for worker `slot`: copied into the
 * arena if that worker has not compiled the module yet, else 0 (nothing to
 * send). The worker counts as having compiled it once it has run a job
 * with it to the end (`markCompiled`).
 */
export function groupBytesFor(rt: WasmRuntime, slot: number, module: SharedGroupModule): number {
  if (module.compiledBy.has(`${poolGeneration}:${slot}`)) return 0;
  const bytesPtr = alloc(rt, module.bytes.length);
  new Uint8Array(rt.memory.buffer, bytesPtr, module.bytes.length).set(module.bytes);
  return bytesPtr;
}

function markCompiled(module: SharedGroupModule, slot: number): void {
  module.compiledBy.add(`${poolGeneration}:${slot}`);
}

/**
 * A job's own control words, in the arena (so that a straggler from an
 * earlier job never touches the next one's): the next chunk to take, how
 * many inputs are in place, then one done flag per chunk, all zero.
 * Returns the address of the done flags (workers find the two words
 * before it) and a view of all of them.
 */
function startChunkedJob(rt: WasmRuntime, nChunks: number): { donePtr: number; job: Int32Array } {
  const ptr = alloc(rt, 4 * (nChunks + 2));
  const job = new Int32Array(rt.memory.buffer, ptr, nChunks + 2).fill(0);
  return { donePtr: ptr + 8, job };
}

/** In a job's control words: the next chunk, the inputs in place, the first done flag. */
const JOB_NEXT = 0;
const JOB_READY = 1;
const JOB_DONE = 2;

/**
 * The calling thread's side of a job split into `nChunks` chunks, once the
 * job is posted to the worker `slots`. Runs the `inputs` steps in order,
 * publishing after each how many are done (a job word that workers wait on
 * before they need them); then takes chunks from the job's counter and
 * computes them (`compute`). `finished(c)` gets every chunk once it is
 * computed: the caller's own at once, the workers' as their done flags show
 * up between the caller's own, so that copying results out overlaps the
 * workers' work, the rest at the end.
 *
 * Once no chunk is left to take, workers that have not started are
 * cancelled. Running workers are waited for, except in a job that can
 * `redo` a chunk on the calling thread while a late worker may still be
 * computing it: there they are waited for about two of the caller's
 * quickest chunk times, and the chunks a late worker still holds are then
 * redone here (`redo(c, nth)`, nth counting the chunks redone in this
 * call, at most one per worker) before `finished(c)`; the late worker
 * becomes a straggler, whose job's arena blocks (up to `rt.top` now) no
 * later call reuses until it is done. Otherwise, whatever happens, no
 * worker is left in the job when this returns or throws; after a failure
 * here, waiting workers are released first. Throws if any thread trapped;
 * returns how many chunks the workers computed.
 */
function runCallerShare(
  rt: WasmRuntime,
  job: {
    slots: readonly number[];
    nChunks: number;
    words: Int32Array;
    inputs: readonly (() => void)[];
    compute: (c: number) => void;
    finished: (c: number) => void;
    redo?: (c: number, nth: number) => void;
    /** Called for each worker that ran the job to the end (trapped or not). */
    ran?: (slot: number) => void;
    /** The kernel, for error messages ("jit group kernel", "float32 matmul"). */
    what: string;
  },
): number {
  const { slots, nChunks, words, inputs, compute, finished, what } = job;
  const handed = new Uint8Array(nChunks);
  const hand = (c: number): void => {
    handed[c] = 1;
    finished(c);
  };
  let callerError: Error | undefined = undefined;
  let callerChunks = 0;
  /** No chunk below this one is left to hand over. */
  let lowest = 0;
  // the calling thread's quickest chunk: what a chunk costs when undisturbed
  let chunkMs = Infinity;
  try {
    inputs.forEach((step, i) => {
      step();
      Atomics.store(words, JOB_READY, i + 1);
      Atomics.notify(words, JOB_READY);
    });
    for (;;) {
      const c = Atomics.add(words, JOB_NEXT, 1);
      if (c >= nChunks) break;
      callerChunks++;
      const t0 = performance.now();
      compute(c);
      chunkMs = Math.min(chunkMs, performance.now() - t0);
      hand(c);
      // the workers' finished chunks, among those taken so far
      while (lowest < nChunks && handed[lowest]) lowest++;
      const taken = Math.min(nChunks, Atomics.load(words, JOB_NEXT));
      for (let d = lowest; d < taken; d++)
        if (!handed[d] && Atomics.load(words, JOB_DONE + d) === 1) hand(d);
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    callerError = new Error(
      `wasm backend: the calling thread trapped in its share of a ${what} (${message})`,
    );
    // No worker may wait for inputs that will not come, nor take another chunk.
    Atomics.store(words, JOB_NEXT, nChunks);
    Atomics.store(words, JOB_READY, inputs.length);
    Atomics.notify(words, JOB_READY);
  }
  const started = slots.filter((slot) => !cancelUnstarted(slot));
  const late: number[] = [];
  if (job.redo !== undefined && callerError === undefined) {
    // A worker running at half the caller's speed or better finishes its
    // last chunk within two chunks' time; one the host has descheduled
    // would stall the call. (The caller took at least one chunk unless the
    // workers took them all, which they do only when they are quick.)
    const deadline = performance.now() + 0.05 + 2 * (chunkMs === Infinity ? 0 : chunkMs);
    for (const slot of started) if (!waitForWorker(slot, deadline)) late.push(slot);
  } else {
    for (const slot of started) waitForWorker(slot);
  }
  const finishedBy = started.filter((slot) => !late.includes(slot));
  if (job.ran !== undefined) finishedBy.forEach(job.ran);
  if (callerError !== undefined) throw callerError;
  const failed = finishedBy.find(workerFailed);
  if (failed !== undefined)
    throw new Error(`wasm backend: worker ${failed} trapped in its share of a ${what}`);
  let recomputed = 0;
  for (let c = 0; c < nChunks; c++) {
    if (handed[c]) continue;
    if (late.length > 0 && Atomics.load(words, JOB_DONE + c) !== 1) {
      // held by a late worker, which may still be computing it
      job.redo!(c, recomputed);
      recomputed++;
    }
    hand(c);
  }
  if (late.length > 0) {
    for (const slot of late) stragglers.push({ slot, top: rt.top });
    rt.arenaFloor = stragglerFloor;
  }
  chunksRecomputed += recomputed;
  return nChunks - callerChunks - recomputed;
}

/**
 * Runs a jit group function over `n` elements in chunks of `chunk` elements
 * (a whole number of vectors of `lanes` lanes) that the calling thread and
 * up to `workers` workers take from the job's counter, so that a thread
 * slowed down by the host takes fewer. Chunk c is called with
 *   argv[j] + c * strides[j]   for every argument but the last three
 * (the addresses of its elements, or scalars with stride 0), then
 *   argv[j] + t * strides[j]   for thread t (0 the caller, 1.. the workers)
 * (its scratch area, allocated for `workers` + 1 threads), then its number
 * of whole vectors and its remainder (set here; only the last chunk has
 * one). `fn` is `module`'s group function on this thread. Once the workers
 * are started, `prepare(c)` is called on the calling thread for every chunk
 * in order: it puts the chunk's inputs in place, and a worker that takes a
 * chunk waits until its inputs are. `finished(c)` and errors: see
 * runCallerShare; a chunk computes the same values whichever thread runs
 * it, so a late worker's chunk is computed again here rather than waited for.
 * Returns whether the module's bytes were sent to a worker in this call (it
 * compiled them: the call's time is no measure of the threads' speed).
 */
export function parallelGroup(
  rt: WasmRuntime,
  module: SharedGroupModule,
  fn: (...args: number[]) => void,
  workers: number,
  argv: readonly number[],
  strides: readonly number[],
  n: number,
  chunk: number,
  lanes: number,
  prepare: (c: number) => void,
  finished: (c: number) => void,
): boolean {
  const argc = argv.length;
  const nChunks = Math.ceil(n / chunk);
  const slots = freeWorkerSlots(rt).slice(0, Math.min(workers, nChunks - 1));
  const words = ctl!;
  // Everything is allocated before the first worker starts: an arena that
  // cannot grow then fails the call while no worker uses it.
  const argsPtr = alloc(rt, 16 * argc);
  const packed = new Float64Array(rt.memory.buffer, argsPtr, 2 * argc);
  packed.set(argv);
  packed.set(strides, argc);
  const bytesPtrs = slots.map((slot) => groupBytesFor(rt, slot, module));
  const { donePtr, job } = startChunkedJob(rt, nChunks);
  /** The call arguments of chunk c. */
  const chunkArgs = (c: number): number[] => {
    const a = argv.slice();
    for (let j = 0; j < argc - 3; j++) a[j] = argv[j]! + c * strides[j]!;
    const count = Math.min(chunk, n - c * chunk);
    const whole = Math.floor(count / lanes);
    a[argc - 2] = whole;
    a[argc - 1] = count - whole * lanes;
    return a;
  };
  slots.forEach((slot, t) => {
    const base = slot * SLOT_INTS;
    words[base + DONE_FLAGS] = donePtr;
    words[base + GROUP_ELEMENTS] = n;
    words[base + GROUP_LANES] = lanes;
    words[base + GROUP_THREAD] = t + 1;
    const share = [GROUP, module.id, bytesPtrs[t]!, module.bytes.length, argsPtr, argc];
    post(slot, [...share, nChunks, chunk]);
  });
  groupChunksOnWorkers += runCallerShare(rt, {
    slots,
    nChunks,
    words: job,
    inputs: Array.from({ length: nChunks }, (_, c) => () => prepare(c)),
    compute: (c) => fn(...chunkArgs(c)),
    finished,
    // a chunk writes the same values whichever thread computes it, even two at once
    redo: (c) => fn(...chunkArgs(c)),
    ran: (slot) => markCompiled(module, slot),
    what: "jit group kernel",
  });
  return bytesPtrs.some((ptr) => ptr !== 0);
}

let groupChunksOnWorkers = 0;

/** How many jit group chunks the workers have computed so far (for tests). */
export function groupChunksRunByWorkers(): number {
  return groupChunksOnWorkers;
}

/**
 * C[row panels 0..mPanels-1] = A B (k >= 1), split across the workers when there
 * are any and the product is large enough. A is given raw (`a.raw`, [m, k],
 * or [k, m] if `a.transposed`): each thread packs the A panels of the chunks
 * it takes into `a.pack`. `a.prepare()` puts raw A in place and
 * `b.prepare()` fills `b.pack`; the caller runs them after starting the
 * workers (waking them takes a while), which wait for A, pack their first
 * A panels, and wait for B before they multiply. `finished(p0, p1, rows)`
 * is called for each range of row panels once it is computed (the caller's
 * own share before the wait for the workers, so that its work overlaps
 * theirs), with the address of its first row (rows `ldc` = nPanels * NR
 * elements apart): in C, or for a chunk that a late worker still holds,
 * in a spare block where the calling thread computed it again. (A chunk
 * adds its k-blocks into C in place, so two threads must not compute it
 * in the same place at once; packing its A panels twice writes the same
 * values.)
 */
export function parallelGemm(
  rt: WasmRuntime,
  dtype: "float32" | "float64",
  a: { raw: number; pack: number; m: number; transposed: boolean; prepare: () => void },
  b: { pack: number; prepare: () => void },
  cPtr: number,
  k: number,
  nPanels: number,
  mPanels: number,
  work: number,
  finished: (p0: number, p1: number, rows: number) => void = () => {},
): void {
  const gemm = rt.kernels[`gemm_${dtype}`]!;
  const packA = rt.kernels[`packAPanels_${dtype}`]!;
  const aPack = a.pack;
  const bPack = b.pack;
  const transposed = a.transposed ? 1 : 0;
  const free = freeWorkerSlots(rt);
  const eligible = free.length > 0 && work >= PARALLEL_MIN_WORK && mPanels >= 2;
  // Threads or the calling thread alone, whichever products of this shape ran faster with lately.
  const gate = eligible ? gemmGate(dtype, k, nPanels, mPanels) : undefined;
  const threads = gate?.useThreads() ?? false;
  const start = performance.now();
  if (!threads) {
    a.prepare();
    b.prepare();
    packA(a.raw, aPack, a.m, k, 0, mPanels, transposed);
    gemm(aPack, bPack, cPtr, k, nPanels, 0, mPanels);
    finished(0, mPanels, cPtr);
    gate?.record(false, performance.now() - start);
    return;
  }
  const slots = free.slice(0, mPanels - 1);
  const { mr, nv } = MATMUL_TILE[dtype];
  const bPackBytes = nPanels * nv * 16 * k;
  const chunk = gemmChunkPanels(mPanels, work / mPanels, slots.length + 1, bPackBytes);
  const kind = dtype === "float32" ? GEMM_F32 : GEMM_F64;
  const words = ctl!;
  const nChunks = Math.ceil(mPanels / chunk);
  // Bytes of one row panel of C, and a spare chunk of C per worker, for
  // chunks redone here while a late worker still computes them in C.
  const panelBytes = mr * nPanels * nv * 16;
  const spare = alloc(rt, slots.length * chunk * panelBytes);
  const { donePtr, job } = startChunkedJob(rt, nChunks);
  for (const slot of slots) {
    const base = slot * SLOT_INTS;
    words[base + DONE_FLAGS] = donePtr;
    words.set([a.raw, a.m, transposed], base + GEMM_A_RAW);
    post(slot, [kind, aPack, bPack, cPtr, k, nPanels, mPanels, chunk]);
  }
  /** The row panels of chunk c. */
  const panels = (c: number): [number, number] => [c * chunk, Math.min((c + 1) * chunk, mPanels)];
  /** Where each chunk's rows are, when not in C. */
  const redoneAt = new Map<number, number>();
  gemmChunksOnWorkers += runCallerShare(rt, {
    slots,
    nChunks,
    words: job,
    // job word 1: 1 once A is in, 2 once B is packed
    inputs: [a.prepare, b.prepare],
    compute: (c) => {
      const [p0, p1] = panels(c);
      packA(a.raw, aPack, a.m, k, p0, p1, transposed);
      gemm(aPack, bPack, cPtr, k, nPanels, p0, p1);
    },
    finished: (c) => {
      const [p0, p1] = panels(c);
      finished(p0, p1, redoneAt.get(c) ?? cPtr + p0 * panelBytes);
    },
    redo: (c, nth) => {
      const [p0, p1] = panels(c);
      const rows = spare + nth * chunk * panelBytes;
      packA(a.raw, aPack, a.m, k, p0, p1, transposed);
      // C's base as the kernel sees it: row panel p0 lands at `rows` (i32 wrap-around)
      gemm(aPack, bPack, (rows - p0 * panelBytes) | 0, k, nPanels, p0, p1);
      redoneAt.set(c, rows);
    },
    what: `${dtype} matmul`,
  });
  gate!.record(true, performance.now() - start);
}

/**
 * Multiply-adds in one chunk of a split matrix product, about (65 us of
 * one thread at 16 G multiply-adds per second): small enough that a worker
 * the host deschedules while it holds one costs the call little (the
 * caller waits about two chunk times for it, then computes the chunk
 * again), large enough that taking a chunk (an atomic add, a call into
 * Wasm, a scan of the done flags) costs under 1% of it. While B fits in L2
 * the chunk size does not change how fast `gemm` runs (measured at 512^3
 * float32: 1-panel and 8-panel chunks alike); beyond it, see below.
 */
const GEMM_CHUNK_WORK = 1 << 20;

/**
 * Packed B up to this size is taken to stay in a core's L2 cache (1 MiB: half
 * of the 2 MiB per core of the Xeon measured, with A and C beside it)...
 */
const GEMM_B_L2_BYTES = 1 << 20;
/** ...and a larger one gets chunks of at least this many row panels. */
const GEMM_MIN_PANELS_LARGE_B = 4;

let chunkPanelsOverride: number | undefined;

/**
 * Test hook: makes every split matrix product use chunks of `panels` row
 * panels (undefined: the default sizes), so that tests can check that the
 * values do not depend on where the chunks fall.
 */
export function setGemmChunkPanels(panels: number | undefined): void {
  chunkPanelsOverride = panels;
}

/**
 * Row panels per chunk of a split matrix product of `mPanels` row panels
 * of `panelWork` multiply-adds each, on `threads` threads: chunks of about
 * GEMM_CHUNK_WORK multiply-adds, and at least 8 chunks per thread (for
 * small products, where a panel is far cheaper than GEMM_CHUNK_WORK);
 * several panels where B (`bPackBytes` packed) is too large for L2.
 * A 512^3 float32 product gets 128 chunks of one panel (64 us each on one
 * thread of the 2-core Xeon); with 8 chunks per thread, as before, a
 * worker descheduled in its last chunk could cost the call 1.5 ms of 8
 * (a wait of two 0.5 ms chunks, then the chunk again).
 */
export function gemmChunkPanels(
  mPanels: number,
  panelWork: number,
  threads: number,
  bPackBytes = 0,
): number {
  if (chunkPanelsOverride !== undefined) return Math.max(1, Math.min(mPanels, chunkPanelsOverride));
  const byCount = Math.ceil(mPanels / (8 * threads));
  let byWork = Math.ceil(GEMM_CHUNK_WORK / Math.max(1, panelWork));
  // A packed B larger than the L2 budget is read from L3 again for every
  // chunk: then each chunk takes several row panels, which reuse each slice
  // of B while it is in L1 (measured: float64 512^3, 2 MiB of B, ran 8%
  // slower in one-panel chunks than in 8-panel ones; float32, 1 MiB, the same).
  if (bPackBytes > GEMM_B_L2_BYTES) byWork = Math.max(byWork, GEMM_MIN_PANELS_LARGE_B);
  return Math.max(1, Math.min(byCount, byWork));
}

/** One gate per product shape (dtype, k, panels of C); the table is cleared past 256 shapes. */
const gemmGates = new Map<string, ThreadGate>();
function gemmGate(dtype: string, k: number, nPanels: number, mPanels: number): ThreadGate {
  const key = `${dtype},${k},${nPanels},${mPanels}`;
  let gate = gemmGates.get(key);
  if (gate === undefined) {
    if (gemmGates.size >= 256) gemmGates.clear();
    gate = new ThreadGate(`${dtype} matmul, k ${k}, ${nPanels} x ${mPanels} panels`);
    gemmGates.set(key, gate);
  }
  return gate;
}
