/**
 * Convergence diagnostics of Vehtari, Gelman, Simpson, Carpenter & Bürkner
 * (2021), "Rank-normalization, folding, and localization: an improved R̂ for
 * assessing convergence of MCMC", on concrete draws [chains, draws, ...]:
 *
 *   rhat   max(R̂ of the rank-normalised split chains, R̂ of the rank-
 *          normalised folded split chains |x − median|)
 *   ess    bulk: ESS of the rank-normalised split chains; tail: the smaller
 *          ESS of the indicators I(x ≤ q₀.₀₅) and I(x ≤ q₀.₉₅) (split);
 *          basic: ESS of the split chains themselves
 *
 * ESS uses the autocorrelations combined across chains and Geyer's initial
 * monotone sequence (as Stan and ArviZ). Plain JS on Float64Arrays.
 */
import { asArray } from "../core/convert.js";
import { InvalidArgumentError, ShapeError, fmtShape } from "../core/errors.js";
import * as np from "../numpy/index.js";
import { type PyTree, map as treeMap } from "../tree/index.js";

type Chains = Float64Array[];

/** Each chain cut into two halves (the middle draw of an odd length dropped). */
function splitChains(chains: Chains): Chains {
  const n = chains[0]!.length;
  const half = Math.floor(n / 2);
  return chains.flatMap((c) => [c.subarray(0, half), c.subarray(n - half)]);
}

/** Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2,
    -3.066479806614716e1, 2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1,
    -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < pLow || p > 1 - pLow) {
    const q = Math.sqrt(-2 * Math.log(p < pLow ? p : 1 - p));
    const x =
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
    return p < pLow ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/** Ranks over all draws of all chains (ties get their average rank), mapped through Φ⁻¹((r − 3/8)/(S + 1/4)). */
function rankNormalize(chains: Chains): Chains {
  const n = chains[0]!.length;
  const all = chains.flatMap((c) => Array.from(c));
  const S = all.length;
  const order = all.map((_, i) => i).sort((i, j) => all[i]! - all[j]!);
  const ranks = new Float64Array(S);
  for (let i = 0; i < S;) {
    let j = i;
    while (j + 1 < S && all[order[j + 1]!] === all[order[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = avg;
    i = j + 1;
  }
  return chains.map((_, m) =>
    Float64Array.from({ length: n }, (_, i) =>
      normalQuantile((ranks[m * n + i]! - 3 / 8) / (S + 1 / 4)),
    ),
  );
}

const mean = (x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
};

/** Sample variance with ddof 1. */
const variance = (x: ArrayLike<number>): number => {
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - m) ** 2;
  return s / (x.length - 1);
};

/** The potential scale reduction of chains [M][N] (no splitting or ranking). */
function rhatBasic(chains: Chains): number {
  const n = chains[0]!.length;
  const means = chains.map(mean);
  const B = n * variance(means);
  const W = mean(chains.map(variance));
  return Math.sqrt(((n - 1) / n) * W + B / n) / Math.sqrt(W);
}

/** Autocovariances (biased, 1/N) of one chain for lags 0..N−1, by direct sums. */
function autocov(x: Float64Array): Float64Array {
  const n = x.length;
  const m = mean(x);
  const c = Float64Array.from(x, (v) => v - m);
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    let s = 0;
    for (let i = 0; i + t < n; i++) s += c[i]! * c[i + t]!;
    out[t] = s / n;
  }
  return out;
}

/** Effective sample size of chains [M][N] (no splitting or ranking). */
function essBasic(chains: Chains): number {
  const M = chains.length;
  const n = chains[0]!.length;
  const acov = chains.map(autocov);
  const meanAcov = (t: number) => mean(acov.map((a) => a[t]!));
  const meanVar = meanAcov(0) * (n / (n - 1));
  let varPlus = meanVar * ((n - 1) / n);
  if (M > 1) varPlus += variance(chains.map(mean));
  const rho = new Float64Array(n);
  let rhoEven = 1;
  rho[0] = 1;
  let rhoOdd = 1 - (meanVar - meanAcov(1)) / varPlus;
  rho[1] = rhoOdd;
  // sum pairs of autocorrelations while their sum is positive (Geyer)
  let t = 1;
  while (t < n - 3 && rhoEven + rhoOdd > 0) {
    rhoEven = 1 - (meanVar - meanAcov(t + 1)) / varPlus;
    rhoOdd = 1 - (meanVar - meanAcov(t + 2)) / varPlus;
    if (rhoEven + rhoOdd >= 0) {
      rho[t + 1] = rhoEven;
      rho[t + 2] = rhoOdd;
    }
    t += 2;
  }
  const maxT = t;
  if (rhoEven > 0) rho[maxT + 1] = rhoEven;
  // initial monotone sequence: pair sums may not increase
  for (t = 1; t <= maxT - 2; t += 2) {
    if (rho[t + 1]! + rho[t + 2]! > rho[t - 1]! + rho[t]!) {
      rho[t + 1] = (rho[t - 1]! + rho[t]!) / 2;
      rho[t + 2] = rho[t + 1]!;
    }
  }
  let sum = 0;
  for (let k = 0; k <= maxT; k++) sum += rho[k]!;
  const total = M * n;
  let tau = -1 + 2 * sum + (maxT + 1 < n ? rho[maxT + 1]! : 0);
  tau = Math.max(tau, 1 / Math.log10(total));
  return total / tau;
}

/** Quantile with linear interpolation (NumPy's default). */
function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

function sortedAll(chains: Chains): Float64Array {
  const all = Float64Array.from(chains.flatMap((c) => Array.from(c)));
  return all.sort();
}

/**
 * How `ess` measures: "bulk" (split chains, rank-normalised: the efficiency
 * for the mean and median), "tail" (the smaller ESS of the indicators
 * [x <= q05] and [x <= q95]: the efficiency for the 5% and 95% quantiles) or
 * "basic" (split chains, raw values). Vehtari et al. (2021).
 */
export type EssMethod = "bulk" | "tail" | "basic";

function essOf(chains: Chains, method: EssMethod): number {
  if (method === "basic") return essBasic(splitChains(chains));
  if (method === "bulk") return essBasic(rankNormalize(splitChains(chains)));
  const sorted = sortedAll(chains);
  const indicator = (q: number) => {
    const cut = quantile(sorted, q);
    return splitChains(chains.map((c) => Float64Array.from(c, (v) => (v <= cut ? 1 : 0))));
  };
  return Math.min(essBasic(indicator(0.05)), essBasic(indicator(0.95)));
}

function rhatOf(chains: Chains): number {
  const split = splitChains(chains);
  const bulk = rhatBasic(rankNormalize(split));
  const med = quantile(sortedAll(chains), 0.5);
  const folded = split.map((c) => Float64Array.from(c, (v) => Math.abs(v - med)));
  const tail = rhatBasic(rankNormalize(folded));
  return Math.max(bulk, tail);
}

/** Applies a per-scalar diagnostic to each element of each leaf [chains, draws, ...]. */
function perElement(fnName: string, samples: unknown, f: (chains: Chains) => number): PyTree {
  return treeMap((leaf: unknown) => {
    const x = asArray(leaf, fnName);
    if (x.ndim < 2 || x.shape[1]! < 4) {
      throw new ShapeError(
        `${fnName}: each leaf needs leading axes [chains, draws] with at least 4 draws, got ` +
          `shape ${fmtShape(x.shape)}; add a chain axis with np.expandDims(x, 0)`,
      );
    }
    const [M, N] = [x.shape[0]!, x.shape[1]!];
    const rest = x.shape.slice(2);
    const k = rest.reduce((a, b) => a * b, 1);
    const data = Float64Array.from(x.data() as ArrayLike<number>);
    const out = new Float64Array(k);
    for (let e = 0; e < k; e++) {
      const chains = Array.from({ length: M }, (_, m) =>
        Float64Array.from({ length: N }, (_, i) => data[(m * N + i) * k + e]!),
      );
      out[e] = f(chains);
    }
    return np.array(out, { shape: rest });
  }, samples);
}

/**
 * Effective sample size per element of each leaf of `samples` (leaves shaped
 * [chains, draws, ...]); `method` "bulk" (default: rank-normalised split
 * chains), "tail" (the 5% and 95% quantile indicators) or "basic".
 *
 * @example
 * ```ts
 * import { np, infer } from "chainrule";
 * const draws = np.reshape(np.sin(np.arange(400)), [2, 200]); // two chains
 * const n = infer.ess(draws); // a 0-d array
 * ```
 */
export function ess(samples: unknown, opts: { method?: EssMethod } = {}): PyTree {
  const method = opts.method ?? "bulk";
  if (method !== "bulk" && method !== "tail" && method !== "basic") {
    throw new InvalidArgumentError(
      `infer.ess: unknown method ${JSON.stringify(method)}; use "bulk", "tail" or "basic"`,
    );
  }
  return perElement("infer.ess", samples, (c) => essOf(c, method));
}

/**
 * Split, rank-normalised R̂ (the larger of the bulk and the folded/tail
 * versions) per element of each leaf [chains, draws, ...]; values below
 * 1.01 indicate the chains agree.
 *
 * @example
 * ```ts
 * import { np, infer } from "chainrule";
 * const draws = np.reshape(np.sin(np.arange(400)), [2, 200]);
 * const r = infer.rhat(draws); // close to 1
 * ```
 */
export function rhat(samples: unknown): PyTree {
  return perElement("infer.rhat", samples, rhatOf);
}
