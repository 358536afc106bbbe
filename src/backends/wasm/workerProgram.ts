/**
 * The program each Wasm worker thread runs (see threads.ts for the protocol):
 * instantiate the kernels on the shared memory, then run jobs from its
 * control slot forever.
 *
 * `runKernelWorker` is real TypeScript, checked by tsc and ESLint, but it
 * does not run here: threads.ts turns it into the worker's source with
 * Function.prototype.toString() (`workerSource`). So it must be
 * self-contained: it may use only its argument and the globals every worker
 * has (Atomics, WebAssembly, Math, typed arrays), never an import or a
 * module-level constant, because the worker's copy of the function text has
 * no module scope around it. Everything it needs, the control-word layout
 * included, comes in `WorkerStart`. Being plain text at run time, it survives
 * any bundler, and under tsx/vitest it is the transpiled JS of this file.
 * (A tool that rewrites function bodies to call module-level helpers would
 * break it: source-instrumenting coverage such as istanbul, or transpiling
 * below ES2015 so that `fn(...args)` becomes a helper call. V8 coverage and
 * the ES2022 target do not.)
 */

/** Word indices of the control block the caller and the workers share. */
export interface WorkerLayout {
  /** 32-bit words per worker slot (slot w starts at word w * slotInts). */
  slotInts: number;
  /** Words of the control block in all. */
  controlInts: number;
  /** In a slot: 1 if the job trapped. */
  failed: number;
  /** In a slot: 1 once the worker waits for jobs. */
  ready: number;
  /** In a slot: address of one done flag (i32) per chunk of the job. */
  doneFlags: number;
  /** In a slot: first of a matrix product's raw A address, rows m, transposed. */
  gemmARaw: number;
  /** In a slot: a jit group job's element count, and (next) its lanes per vector. */
  groupElements: number;
  groupLanes: number;
  /** In a slot: a jit group job's thread number (its scratch area). */
  groupThread: number;
  /**
   * In a slot: the job's state (idle, posted, running, cancelled). A woken
   * worker runs the job only if it moves the state from posted to running;
   * the caller, once every chunk is taken, moves a posted job to cancelled,
   * so it never waits for a worker that has not started.
   */
  state: number;
  /** The state values. */
  stateIdle: number;
  statePosted: number;
  stateRunning: number;
  /**
   * In slot 0, a test hook: 1 makes woken workers wait before they look at
   * their job, 2 makes them wait after taking a chunk (while it is either); `held` counts the waits.
   */
  hold: number;
  held: number;
  /** Spins before sleeping while inputs are being copied in. */
  spinsBeforeSleep: number;
  /** Job kinds (word 2 of a slot). */
  kindGemmF32: number;
  kindGemmF64: number;
  kindGroup: number;
}

/** What a worker receives at start (as workerData in Node, a message in browsers). */
export interface WorkerStart {
  /** The compiled kernel module (instantiated again in the worker). */
  module: WebAssembly.Module;
  /** The shared memory the kernels work on. */
  memory: WebAssembly.Memory;
  /** This worker's control slot (1, 2, ...). */
  slot: number;
  /** The slot's sequence number at launch (jobs after it are new). */
  seen: number;
  /** The Math functions that jit group modules import. */
  mathNames: readonly string[];
  layout: WorkerLayout;
}

/** A kernel export as the worker calls it (all arguments are i32 or f64 numbers). */
type KernelFunction = (...args: number[]) => void;

/**
 * The worker's main loop (never returns). Self-contained: see the header
 * for why it must not close over anything in this module.
 */
export function runKernelWorker(start: WorkerStart): void {
  const { module, memory, slot, mathNames, layout } = start;
  const { slotInts, failed: failedWord, ready, doneFlags, gemmARaw } = layout;
  const { groupElements, groupLanes, groupThread, spinsBeforeSleep } = layout;
  const { state, stateIdle, statePosted, stateRunning, hold, held } = layout;
  let seen = start.seen;
  const math: Record<string, KernelFunction> = {};
  const mathFunctions = Math as unknown as Record<string, KernelFunction>;
  for (const name of mathNames) math[name] = mathFunctions[name]!;
  const kernels = new WebAssembly.Instance(module, { env: { memory }, math }).exports as Record<
    string,
    KernelFunction
  >;
  const groups = new Map<number, KernelFunction>();
  const words = new Int32Array(memory.buffer, 0, layout.controlInts);
  const base = slot * slotInts;
  const word = (i: number): number => words[base + i]!;
  // a test stands in for a worker that the host has not scheduled
  const holdWhile = (value: number): void => {
    if (Atomics.load(words, hold) !== value) return;
    Atomics.add(words, held, 1);
    while (Atomics.load(words, hold) === value) Atomics.wait(words, hold, value);
  };
  Atomics.store(words, base + ready, 1);

  // A job's own words (in the arena, before its done flags): [next chunk,
  // inputs in place, done flag of chunk 0, 1, ...].
  const jobWords = (nChunks: number): Int32Array =>
    new Int32Array(memory.buffer, word(doneFlags) - 8, nChunks + 2);
  // Waits until the job's inputs-ready word reaches at least `count`; the
  // caller is copying them in right now, so spin first.
  const waitUntilReady = (job: Int32Array, count: number): void => {
    for (let spins = 0; Atomics.load(job, 1) < count; spins++) {
      const now = Atomics.load(job, 1);
      if (spins > spinsBeforeSleep && now < count) Atomics.wait(job, 1, now, 1);
    }
  };

  // A jit group: args (module id, bytes address, byte length, packed
  // arguments address, argument count, chunks, elements per chunk).
  const runGroup = (): void => {
    const id = word(3);
    let fn = groups.get(id);
    if (fn === undefined) {
      const bytes = new Uint8Array(memory.buffer, word(4), word(5)).slice();
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
        env: { memory },
        math,
      });
      fn = instance.exports.group as KernelFunction;
      groups.set(id, fn);
    }
    const argc = word(7);
    // the call arguments, then their strides per chunk
    const packed = new Float64Array(memory.buffer, word(6), 2 * argc);
    const nChunks = word(8);
    const chunk = word(9);
    const n = word(groupElements);
    const lanes = word(groupLanes);
    const job = jobWords(nChunks);
    const args = Array.from(packed.subarray(0, argc));
    // the scratch address is per thread
    args[argc - 3] = packed[argc - 3]! + word(groupThread) * packed[2 * argc - 3]!;
    for (;;) {
      const c = Atomics.add(job, 0, 1);
      if (c >= nChunks) break;
      holdWhile(2);
      waitUntilReady(job, c + 1);
      for (let j = 0; j < argc - 3; j++) args[j] = packed[j]! + c * packed[argc + j]!;
      const count = Math.min(chunk, n - c * chunk);
      const vectors = Math.floor(count / lanes);
      args[argc - 2] = vectors;
      args[argc - 1] = count - vectors * lanes;
      fn(...args);
      Atomics.store(job, 2 + c, 1);
    }
  };

  // A matrix product: args (aPack, bPack, c, k, nPanels, mPanels, chunk).
  const runGemm = (f32: boolean): void => {
    const gemm = f32 ? kernels.gemm_float32! : kernels.gemm_float64!;
    const packA = f32 ? kernels.packAPanels_float32! : kernels.packAPanels_float64!;
    const [aPack, bPack, cPtr, k, nPanels, mPanels, chunk] = words.slice(base + 3, base + 10);
    const aRaw = word(gemmARaw);
    const m = word(gemmARaw + 1);
    const transposed = word(gemmARaw + 2);
    const job = jobWords(Math.ceil(mPanels! / chunk!));
    for (;;) {
      const c = Atomics.add(job, 0, 1);
      const p0 = c * chunk!;
      if (p0 >= mPanels!) break;
      const p1 = Math.min(p0 + chunk!, mPanels!);
      holdWhile(2);
      // the inputs-ready word: 1 once A is in, 2 once B is packed
      waitUntilReady(job, 1);
      packA(aRaw, aPack!, m, k!, p0, p1, transposed);
      waitUntilReady(job, 2);
      gemm(aPack!, bPack!, cPtr!, k!, nPanels!, p0, p1);
      Atomics.store(job, 2 + c, 1);
    }
  };

  for (;;) {
    Atomics.wait(words, base, seen);
    const seq = Atomics.load(words, base);
    if (seq === seen) continue;
    seen = seq;
    holdWhile(1);
    // The caller may have cancelled the job (it took every chunk itself):
    // then it is not waiting for this worker, which must not touch it.
    if (Atomics.compareExchange(words, base + state, statePosted, stateRunning) !== statePosted)
      continue;
    let failed = 0;
    try {
      const kind = word(2);
      if (kind === layout.kindGroup) runGroup();
      else runGemm(kind === layout.kindGemmF32);
    } catch {
      failed = 1;
    }
    Atomics.store(words, base + failedWord, failed);
    Atomics.store(words, base + state, stateIdle);
    Atomics.notify(words, base + state);
  }
}

/**
 * The worker's source: an expression that evaluates to `runKernelWorker`.
 * Transpilers that keep function names (esbuild's keepNames, used by tsx)
 * may wrap nested functions in a `__name(fn, "name")` helper defined at
 * module level; the prelude defines it as the identity so the text stays
 * self-contained either way.
 */
export function workerSource(): string {
  return `((__name) => (${runKernelWorker.toString()}))((fn) => fn)`;
}
