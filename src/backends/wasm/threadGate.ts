/**
 * Threads or one thread, chosen per kernel from measured time. On a busy
 * machine a worker thread may get a slice of a shared core, and a call split
 * across the calling thread and such a worker runs slower than the calling
 * thread alone (measured: W5 float64 forward 9.9 ms idle with threads, 24 ms
 * with one core busy, 13–18 ms on one thread). A `ThreadGate` belongs to one
 * kernel of fixed size (a lowered jit group, a matrix product shape) and
 * keeps the last few times of each choice; it picks the one whose best
 * recent time is lower, and every EXPLORE_EVERY-th call tries the other, so
 * that a change of load is noticed in both directions. The first threaded
 * call is not recorded (workers compile the kernel then).
 */

/** How many recent times per choice are kept (the best of them is its estimate). */
const RECENT = 4;
/** Every this many calls, the choice not preferred is tried again. */
const EXPLORE_EVERY = 16;

let adaptive = true;

/**
 * Turns the measured choice on or off (on by default). Off, every kernel
 * large enough uses the threads, as tests of the thread protocol need.
 */
export function setAdaptiveThreads(on: boolean): void {
  adaptive = on;
}

/** One kernel's recent times on one thread and with the workers. */
export class ThreadGate {
  private readonly times: [number[], number[]] = [[], []];
  private calls = 0;
  private warmedUp = false;

  /** Whether the next call should split its work across the workers. */
  useThreads(): boolean {
    if (!adaptive) return true;
    this.calls++;
    const [one, threads] = this.times;
    if (!this.warmedUp || threads.length === 0) return true;
    if (one.length === 0) return false;
    const preferThreads = Math.min(...threads) <= Math.min(...one);
    return this.calls % EXPLORE_EVERY === 0 ? !preferThreads : preferThreads;
  }

  /** Records the time of a call made with (`threads`) or without the workers. */
  record(threads: boolean, ms: number): void {
    if (threads && !this.warmedUp) {
      this.warmedUp = true;
      return;
    }
    const list = this.times[threads ? 1 : 0];
    list.push(ms);
    if (list.length > RECENT) list.shift();
  }
}
