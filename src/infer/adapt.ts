/**
 * Stan-style warm-up for the samplers of `infer`: dual averaging of the step
 * size toward a target acceptance statistic (Hoffman & Gelman 2014, §3.2),
 * Welford estimates of the posterior variance for a diagonal (or dense)
 * mass matrix, and the window schedule (a fast initial buffer, slow windows
 * doubling in length, a fast terminal buffer) of Stan's manual.
 */

/** Dual averaging of log ε; `update` takes one acceptance statistic. */
export class DualAveraging {
  private mu = 0;
  private hBar = 0;
  private logEps = 0;
  private logEpsBar = 0;
  private m = 0;
  constructor(
    eps0: number,
    private readonly target: number,
    private readonly gamma = 0.05,
    private readonly t0 = 10,
    private readonly kappa = 0.75,
  ) {
    this.restart(eps0);
  }
  /** Starts over around ε₀ (μ = log 10ε₀, as Stan). */
  restart(eps0: number): void {
    this.mu = Math.log(10 * eps0);
    this.hBar = 0;
    this.logEps = Math.log(eps0);
    this.logEpsBar = 0;
    this.m = 0;
  }
  /** The step size to use next, after observing acceptance statistic `accept`. */
  update(acceptIn: number): number {
    const accept = Number.isFinite(acceptIn) ? Math.min(1, Math.max(0, acceptIn)) : 0;
    this.m += 1;
    const w = 1 / (this.m + this.t0);
    this.hBar = (1 - w) * this.hBar + w * (this.target - accept);
    this.logEps = this.mu - (Math.sqrt(this.m) / this.gamma) * this.hBar;
    const eta = this.m ** -this.kappa;
    this.logEpsBar = eta * this.logEps + (1 - eta) * this.logEpsBar;
    return Math.exp(this.logEps);
  }
  /** The averaged step size, used after warm-up. */
  final(): number {
    return Math.exp(this.logEpsBar);
  }
}

/** Running mean and (co)variance of vectors (Welford). */
export class Welford {
  n = 0;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  constructor(
    readonly d: number,
    readonly dense: boolean,
  ) {
    this.mean = new Float64Array(d);
    this.m2 = new Float64Array(dense ? d * d : d);
  }
  add(x: Float64Array): void {
    this.n += 1;
    const { d, mean, m2 } = this;
    const delta = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      delta[i] = x[i]! - mean[i]!;
      mean[i] = mean[i]! + delta[i]! / this.n;
    }
    if (this.dense) {
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++) m2[i * d + j] = m2[i * d + j]! + delta[i]! * (x[j]! - mean[j]!);
    } else {
      for (let i = 0; i < d; i++) m2[i] = m2[i]! + delta[i]! * (x[i]! - mean[i]!);
    }
  }
  /**
   * The sample (co)variance shrunk toward 1e-3 I as Stan does:
   * (n/(n+5)) Σ + 1e-3 (5/(n+5)) I. Used as the inverse mass matrix.
   */
  regularized(): Float64Array {
    const { n, d } = this;
    const out = new Float64Array(this.m2.length);
    const shrink = n / (n + 5);
    const add = 1e-3 * (5 / (n + 5));
    for (let k = 0; k < out.length; k++) out[k] = (shrink * this.m2[k]!) / Math.max(n - 1, 1);
    if (this.dense) for (let i = 0; i < d; i++) out[i * d + i] = out[i * d + i]! + add;
    else for (let i = 0; i < d; i++) out[i] = out[i]! + add;
    return out;
  }
  reset(): void {
    this.n = 0;
    this.mean.fill(0);
    this.m2.fill(0);
  }
}

/** Which warm-up iterations update the metric: [start, end) of each slow window. */
export function warmupWindows(numWarmup: number): [number, number][] {
  if (numWarmup < 20) return [];
  let init = 75;
  let term = 50;
  let base = 25;
  if (init + term + base > numWarmup) {
    init = Math.floor(0.15 * numWarmup);
    term = Math.floor(0.1 * numWarmup);
    base = numWarmup - init - term;
  }
  const windows: [number, number][] = [];
  const lastEnd = numWarmup - term;
  let start = init;
  let size = base;
  while (start < lastEnd) {
    let end = start + size;
    // a next window (twice as long) that would not fit is merged into this one
    if (end + 2 * size > lastEnd) end = lastEnd;
    windows.push([start, end]);
    start = end;
    size *= 2;
  }
  return windows;
}
