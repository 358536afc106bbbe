/**
 * Binomial checkpointing ("revolve", Griewank 1992; Griewank & Walther 2000):
 * the schedule that reverses a chain of T steps c_{t+1} = step_t(c_t) while
 * keeping at most s states ("snapshots") in memory, with the fewest forward
 * recomputations.
 *
 * Counting conventions. A snapshot holds one state c_t; the initial state c_0
 * occupies one of the s snapshots. "Reversing" step t means running its
 * vector-Jacobian product, which needs c_t (the vjp evaluates the step itself,
 * so that evaluation is not counted). An "advance" is one forward evaluation
 * of a step done only to rebuild a state; the schedule minimises advances.
 *
 * The theory. With s snapshots and every step advanced at most r times, the
 * longest chain that can be reversed is
 *     beta(s, r) = C(s + r, s)                              (binomial number)
 * and, for beta(s, r - 1) < T <= beta(s, r), the fewest advances are
 *     F(T, s) = r T - beta(s + 1, r - 1).
 * F satisfies the recursion of the schedule below: to reverse [a, b) with the
 * state at a in a snapshot and s snapshots in all, advance m steps, store
 * c_{a+m} in a new snapshot, reverse [a+m, b) with s - 1 snapshots, free it,
 * then reverse [a, a+m) with s snapshots:
 *     F(n, s) = min_m  m + F(n - m, s - 1) + F(m, s),   F(1, s) = 0,
 *     F(n, 1) = n (n - 1) / 2   (only c_a: rebuild each state from a).
 * An optimal split (derived from Pascal's rule beta(s, r) = beta(s, r - 1) +
 * beta(s - 1, r)): the left part may use r - 1 repetitions, the right part r,
 *     m = beta(s, r - 1)            if n - beta(s, r - 1) > beta(s - 1, r - 1),
 *     m = n - beta(s - 1, r - 1)    otherwise;
 * both choices give m + F(n - m, s - 1) + F(m, s) = F(n, s) exactly (the tests
 * check this against the recursion solved by dynamic programming).
 */

/** beta(s, r) = C(s + r, s), computed exactly for the sizes used here (< 2^53). */
export function beta(s: number, r: number): number {
  if (r < 0 || s < 0) return 0;
  const n = s + r;
  const k = Math.min(s, r);
  let b = 1;
  // C(n, k) = prod_{i=1..k} (n - k + i) / i; every partial product is an integer.
  for (let i = 1; i <= k; i++) b = (b * (n - k + i)) / i;
  return b;
}

/** The repetition number: the smallest r with beta(s, r) >= n. */
export function repetitions(n: number, s: number): number {
  let r = 0;
  let b = 1; // beta(s, 0)
  while (b < n) {
    r++;
    b = (b * (s + r)) / r; // beta(s, r) = beta(s, r - 1) (s + r) / r
  }
  return r;
}

/** F(n, s): the fewest advances that reverse n steps with s snapshots (s >= 1). */
export function optimalAdvances(n: number, s: number): number {
  if (n <= 1) return 0;
  if (s === 1) return (n * (n - 1)) / 2;
  const r = repetitions(n, s);
  return r * n - beta(s + 1, r - 1);
}

/** Where to place the next snapshot when reversing n >= 2 steps with s >= 2 snapshots. */
export function optimalSplit(n: number, s: number): number {
  const r = repetitions(n, s);
  const left = beta(s, r - 1);
  const rightLimit = beta(s - 1, r - 1);
  return n - left > rightLimit ? left : n - rightLimit;
}

/**
 * The snapshots that the first forward sweep can place (positions of the
 * rightmost chain of splits): storing c_t at these t while computing the
 * primal output saves those advances in the reverse sweep.
 */
export function firstSweepPositions(T: number, snapshots: number): number[] {
  const out: number[] = [];
  let a = 0;
  let s = Math.min(snapshots, T);
  while (T - a >= 2 && s >= 2) {
    a += optimalSplit(T - a, s);
    out.push(a);
    s--;
  }
  return out;
}

/** What a reverse sweep did. */
export interface RevolveStats {
  /** Forward step evaluations done to rebuild states. */
  advances: number;
  /** Most states held at once (snapshots). */
  peakSnapshots: number;
}

/**
 * Reverses steps T-1, ..., 0 in that order: calls reverseStep(c_t, t) with
 * each state c_t, rebuilding states with advance(c_t, t) -> c_{t+1} from at
 * most `snapshots` stored ones. `stored` may hold states that the forward
 * sweep kept at firstSweepPositions(T, snapshots); each is deleted from it
 * once used, so the states held never exceed `snapshots` (a later sweep
 * rebuilds them). Iterative (an explicit task stack), so any T and any
 * number of snapshots is fine.
 */
export function revolve<C>(
  T: number,
  snapshots: number,
  init: C,
  advance: (c: C, t: number) => C,
  reverseStep: (c: C, t: number) => void,
  stored?: Map<number, C>,
): RevolveStats {
  const stats: RevolveStats = { advances: 0, peakSnapshots: 1 };
  if (T <= 0) return stats;
  const run = (c: C, from: number, to: number): C => {
    for (let t = from; t < to; t++) c = advance(c, t);
    stats.advances += to - from;
    return c;
  };
  // The stored states; the top is the state at the start of the current range.
  const snaps: { t: number; c: C }[] = [{ t: 0, c: init }];
  // Pending work: a range [a, b) to reverse with s snapshots, or "free the top snapshot".
  type Task = { a: number; b: number; s: number } | null;
  const tasks: Task[] = [{ a: 0, b: T, s: Math.max(1, Math.min(snapshots, T)) }];
  while (tasks.length > 0) {
    const task = tasks.pop()!;
    if (task === null) {
      // (pop first: `stored?.delete(snaps.pop())` would skip the pop without a map)
      const freed = snaps.pop()!;
      stored?.delete(freed.t);
      continue;
    }
    const { a, b, s } = task;
    const top = snaps[snaps.length - 1]!;
    const n = b - a;
    if (n === 1) {
      reverseStep(top.c, a);
    } else if (s === 1) {
      for (let t = b - 1; t >= a; t--) reverseStep(run(top.c, a, t), t);
    } else {
      const m = a + optimalSplit(n, s);
      const kept = stored?.get(m);
      snaps.push({ t: m, c: kept ?? run(top.c, a, m) });
      stats.peakSnapshots = Math.max(stats.peakSnapshots, snaps.length);
      // LIFO: the right part first, then free its snapshot, then the left part.
      tasks.push({ a, b: m, s }, null, { a: m, b, s: s - 1 });
    }
  }
  return stats;
}
