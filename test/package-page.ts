/**
 * The computations of test/package-browser.test.ts's page. The library
 * comes in as an argument: in the browser it is the packed package that a
 * bundler resolved from `import { ... } from "chainrule"` (the page's entry
 * is written by the test), in Node the source tree, so that the test can
 * run the very same code both ways. Only types are imported here; the test
 * transpiles this file on its own into the consumer project.
 */
import type * as Chainrule from "../src/index.js";

/** What the page imports from "chainrule". */
export type PageLibrary = Pick<
  typeof Chainrule,
  "grad" | "jit" | "np" | "vmap" | "lax" | "checkpoint" | "ready" | "getBackend" | "renderSvg"
>;

/**
 * The page's environment and results: numbers, strings, and the large
 * results as TypedArrays (Playwright moves those as bytes).
 */
export interface PageReport {
  /** How long `await ready()` took (ms). */
  readyMs: number;
  backend: string;
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  hardwareConcurrency: number;
  /** grad of sum(sin(x) x) at X. */
  gradSin: number[];
  /** jit(grad(x -> sin(x) x^2)) at 0.7. */
  jitGrad: number;
  /** jit(x -> exp(2 sin(x) + 1)) over the float32 vector chainInput(CHAIN_N). */
  jitChain: Chainrule.TypedArray;
  /** matmul of matrixA(M_ROWS, M_INNER) and matrixB(M_INNER, M_COLS), float32 and float64. */
  matmul32: Chainrule.TypedArray;
  matmul64: Chainrule.TypedArray;
  /** vmap of row -> row . V over the rows of matrixA(VMAP_ROWS, 3). */
  vmapDot: number[];
  /** vmap(grad(row -> sum(row^3))) over the same rows. */
  vmapGrad: number[][];
  /** The scan loss SCAN_XS, W (see scanLoss) and its gradient with the scan's checkpoint option. */
  scanLoss: number;
  scanGradW: number;
  scanGradXs: number[];
  /** The same gradient through checkpoint(scanLoss) without the option. */
  checkpointGradW: number;
  checkpointGradXs: number[];
  /** renderSvg's error where @viz-js/viz is not installed ("" if it rendered). */
  renderSvgError: string;
}

export const X = [0.5, 1, 1.5, -2];
export const CHAIN_N = 1 << 17;
export const M_ROWS = 192;
export const M_INNER = 160;
export const M_COLS = 176;
export const VMAP_ROWS = 5;
export const V = [0.5, -1, 2];
export const SCAN_XS = [0.3, -0.2, 0.5, 0.1, -0.4, 0.25, 0.6, -0.1, 0.05, 0.2, -0.3, 0.45];
export const W = 0.8;
export const SCAN_SNAPSHOTS = 3;

/** The jit chain's inputs: spread over [-5, 5), as float32 rounds them. */
export function chainInput(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.fround(((i * 37) % 1000) / 100 - 5));
}

/**
 * Matrix entries on a grid of 1/4 in [-1.25, 1.25]: with at most a few
 * hundred terms every product and partial sum is exact in float32, so
 * every backend and thread split must give the same numbers.
 */
export function matrix(rows: number, cols: number, seed: number): number[] {
  return Array.from({ length: rows * cols }, (_, k) => {
    const i = Math.floor(k / cols);
    const j = k % cols;
    return (((i * 7 + j * 3 + seed * 5) % 11) - 5) / 4;
  });
}

/**
 * The scan's loss: c_{t+1} = sin(c_t) w + x_t from c_0 = 1, outputs
 * y_t = c_{t+1}^2; loss = c_T + 0.1 sum_t y_t.
 */
function scanLossOf(lib: PageLibrary, opts: { checkpoint?: { snapshots: number } }) {
  const { np, lax } = lib;
  return (w: Chainrule.Array, xs: Chainrule.Array): Chainrule.Array => {
    const [carry, ys] = lax.scan(
      (c, x) => {
        const next = np.sin(c).mul(w).add(x);
        return [next, next.mul(next)];
      },
      np.array(1),
      xs,
      opts,
    );
    return carry.add(np.sum(ys).mul(0.1));
  };
}

/**
 * Runs every computation after `await ready()`; returns plain values.
 * `renderSvg` is tried where asked (the browser page, whose consumer
 * project does not install the optional @viz-js/viz).
 */
export async function runPageChecks(
  lib: PageLibrary,
  opts: { tryRenderSvg: boolean },
): Promise<PageReport> {
  const { grad, jit, np, vmap, checkpoint } = lib;
  const start = performance.now();
  await lib.ready();
  const readyMs = performance.now() - start;
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: Navigator };

  const gradSin = grad((x: Chainrule.Array) => np.sum(np.sin(x).mul(x)))(np.array(X));
  const jitGrad = jit(grad((x: Chainrule.Array) => np.sin(x).mul(x).mul(x)))(0.7);
  const chain = jit((x: Chainrule.Array) => np.exp(np.sin(x).mul(2).add(1)));
  const chainOut = chain(np.array(chainInput(CHAIN_N), { dtype: "float32" }));

  const a = matrix(M_ROWS, M_INNER, 1);
  const b = matrix(M_INNER, M_COLS, 2);
  const product = (dtype: "float32" | "float64") =>
    np.matmul(
      np.array(a, { dtype }).reshape([M_ROWS, M_INNER]),
      np.array(b, { dtype }).reshape([M_INNER, M_COLS]),
    );

  const rows = np.array(matrix(VMAP_ROWS, 3, 3)).reshape([VMAP_ROWS, 3]);
  const vmapDot = vmap((r: Chainrule.Array) => np.dot(r, np.array(V)))(rows);
  const vmapGrad = vmap(grad((r: Chainrule.Array) => np.sum(r.mul(r).mul(r))))(rows);

  const w = np.array(W);
  const xs = np.array(SCAN_XS);
  const withOption = scanLossOf(lib, { checkpoint: { snapshots: SCAN_SNAPSHOTS } });
  const [scanGradW, scanGradXs] = grad(withOption, { argnums: [0, 1] })(w, xs);
  const [ckptGradW, ckptGradXs] = grad(checkpoint(scanLossOf(lib, {})), { argnums: [0, 1] })(w, xs);

  let renderSvgError = "";
  if (opts.tryRenderSvg) {
    try {
      await lib.renderSvg("digraph { a -> b }");
    } catch (e) {
      renderSvgError = e instanceof Error ? e.message : String(e);
    }
  }

  return {
    readyMs,
    backend: lib.getBackend(),
    crossOriginIsolated: g.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer === "function",
    hardwareConcurrency: g.navigator?.hardwareConcurrency ?? 0,
    gradSin: Array.from(gradSin.data()),
    jitGrad: jitGrad.item(),
    jitChain: chainOut.data(),
    matmul32: product("float32").data(),
    matmul64: product("float64").data(),
    vmapDot: Array.from(vmapDot.data()),
    vmapGrad: vmapGrad.toArray() as number[][],
    scanLoss: withOption(w, xs).item(),
    scanGradW: scanGradW.item(),
    scanGradXs: Array.from(scanGradXs.data()),
    checkpointGradW: ckptGradW.item(),
    checkpointGradXs: Array.from(ckptGradXs.data()),
    renderSvgError,
  };
}

/**
 * Work for the thread check: `reps` float32 products of two 384 x 384
 * matrices (large enough to be split across the worker threads). Returns
 * the sum of the last product's entries.
 */
export function busyMatmuls(lib: PageLibrary, reps: number): number {
  const { np } = lib;
  const n = 384;
  const a = np.array(matrix(n, n, 4), { dtype: "float32" }).reshape([n, n]);
  const b = np.array(matrix(n, n, 5), { dtype: "float32" }).reshape([n, n]);
  let total = 0;
  for (let r = 0; r < reps; r++) total = np.sum(np.matmul(a, b)).item();
  return total;
}
