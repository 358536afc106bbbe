/**
 * Threads or one thread, chosen per kernel from measured time. On a busy
 * machine a worker thread may get a slice of a shared core, and a call split
 * across the calling thread and such a worker runs slower than the calling
 * thread alone (measured: W5 float64 forward 9.9 ms idle with threads, 24 ms
 * with one core busy, 13–18 ms on one thread). A `ThreadGate` belongs to one
 * kernel of fixed size (a lowered jit group, a matrix product shape) and
 * keeps the last few times of each choice.
 *
 * The estimate of a choice is the lower median of its recent times, not
 * their best: under load the threaded times spread widely (a worker
 * sometimes runs at full speed, often late), and the best of a few is a
 * lucky call that says little about the next one; a collection pause or a
 * descheduled caller inflates single calls of either choice, and a median
 * ignores those too. The gate settles within the first few calls: after the
 * first threaded call (not recorded: workers compile the kernel then) it
 * alternates until each choice has SETTLE times, then runs the one with the
 * lower estimate. The other is tried again every EXPLORE_EVERY calls (every
 * EXPLORE_EVERY_FAR calls when it is FAR_RATIO times slower or more on a
 * full window of RECENT times, so that a large gap costs few slow calls; on
 * fewer, the gap may be two unlucky calls: with a core busy, two one-thread
 * calls of W2's product once took 4.8 ms instead of 1.5, and at one retry
 * in 64 calls the product ran threaded, at 2.1 ms, for the whole
 * benchmark); a try that beats the preferred
 * choice's estimate is repeated at once until the estimates swap or a try
 * does not beat it, so a change of load is followed within a few calls in
 * both directions.
 */

/** How many recent times per choice are kept. */
const RECENT = 5;
/** Times of each choice measured before the gate picks by estimate. */
const SETTLE = 2;
/** Every this many calls, the choice not preferred is tried again... */
const EXPLORE_EVERY = 16;
/** ...or every this many when its estimate is FAR_RATIO times the preferred one's or more. */
const EXPLORE_EVERY_FAR = 64;
const FAR_RATIO = 1.5;
/** Calls flagged as warm-up (a worker compiling) left out in a row at most. */
const MAX_WARMUP_SKIPS = 3;

let adaptive = true;

/**
 * Turns the measured choice on or off (on by default). Off, every kernel
 * large enough uses the threads, as tests of the thread protocol need, and
 * no gate records a time.
 */
export function setAdaptiveThreads(on: boolean): void {
  adaptive = on;
}

/** One decision of a gate, for benchmarks that trace the choice (`setThreadGateTrace`). */
export interface ThreadGateEvent {
  /** The kernel the gate belongs to (e.g. "jit group float64 x 1000000"). */
  label: string;
  threads: boolean;
  ms: number;
  /** False for a warm-up call, which is not counted. */
  recorded: boolean;
  /** The estimates after this call (NaN while a choice has no time yet). */
  oneThreadMs: number;
  threadsMs: number;
}

let trace: ((event: ThreadGateEvent) => void) | undefined;

/** Calls `listener` with every call a gate records (undefined: stop). For benchmarks. */
export function setThreadGateTrace(listener: ((event: ThreadGateEvent) => void) | undefined): void {
  trace = listener;
}

/** The lower median: the middle time of an odd count, the lower middle of an even one. */
function estimate(times: readonly number[]): number {
  if (times.length === 0) return NaN;
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1]!;
}

/** One kernel's recent times on one thread and with the workers. */
export class ThreadGate {
  private readonly times: [number[], number[]] = [[], []];
  private warmedUp = false;
  private sinceExplore = 0;
  private warmupSkips = 0;
  /** A choice to run again because its last try beat the preferred one's estimate. */
  private retry: boolean | null = null;

  /** `label` names the kernel in traces. */
  constructor(private readonly label = "") {}

  /** Whether each choice has its first times, so that the estimates decide. */
  private settled(): boolean {
    return this.times[0].length >= SETTLE && this.times[1].length >= SETTLE;
  }

  /** The choice with the lower estimate (threads on a tie). */
  private prefersThreads(): boolean {
    return estimate(this.times[1]) <= estimate(this.times[0]);
  }

  /** Whether the next call should split its work across the workers. */
  useThreads(): boolean {
    if (!adaptive) return true;
    const [one, threads] = this.times;
    if (!this.warmedUp) return true;
    // Alternate until both choices have their first times (threads first).
    if (!this.settled()) return threads.length <= one.length;
    if (this.retry !== null) return this.retry;
    const preferThreads = this.prefersThreads();
    const ratio = preferThreads
      ? estimate(one) / estimate(threads)
      : estimate(threads) / estimate(one);
    // A choice judged far slower on fewer than RECENT times (two calls that a
    // descheduled caller or a pause inflated) is retried at the near rate.
    const otherTimes = this.times[preferThreads ? 0 : 1].length;
    const every = ratio >= FAR_RATIO && otherTimes >= RECENT ? EXPLORE_EVERY_FAR : EXPLORE_EVERY;
    if (++this.sinceExplore >= every) {
      this.sinceExplore = 0;
      return !preferThreads;
    }
    return preferThreads;
  }

  /**
   * Records the time of a call made with (`threads`) or without the
   * workers. A threaded call flagged `warmup` (a worker compiled the kernel
   * during it) is left out, as is the first threaded call.
   */
  record(threads: boolean, ms: number, warmup = false): void {
    if (!adaptive) return;
    let skip = false;
    if (threads && !this.warmedUp) {
      this.warmedUp = true;
      skip = true;
    } else if (threads && warmup && this.warmupSkips < MAX_WARMUP_SKIPS) {
      this.warmupSkips++;
      skip = true;
    }
    if (!skip) {
      this.warmupSkips = 0;
      const preferred = this.settled() ? this.prefersThreads() : null;
      const list = this.times[threads ? 1 : 0];
      list.push(ms);
      if (list.length > RECENT) list.shift();
      // A try of the other choice that beats the preferred estimate is repeated.
      this.retry =
        preferred !== null && threads !== preferred && ms < estimate(this.times[preferred ? 1 : 0])
          ? threads
          : null;
    }
    trace?.({
      label: this.label,
      threads,
      ms,
      recorded: !skip,
      oneThreadMs: estimate(this.times[0]),
      threadsMs: estimate(this.times[1]),
    });
  }
}
