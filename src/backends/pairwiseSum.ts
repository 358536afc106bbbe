/**
 * Pairwise (cascade) summation, used by every float sum: the JS backend's
 * reduce, the Wasm backend's float reduce, and the sums fused into jit loops.
 *
 * A naive running sum of n terms has a rounding error that grows like
 * n * eps (and in float32 it stalls: 2^24 + 1 rounds back to 2^24, so the sum
 * of 2e7 float32 ones was 16777216). Pairwise summation splits the terms in
 * halves, sums each half the same way and adds the two: the error grows like
 * log2(n) * eps. Below a block of PAIRWISE_BLOCK terms the sum is a plain loop
 * (its error is then block * eps, still small), which keeps it as fast as
 * the naive loop. All accumulation is in float64, whatever the storage dtype;
 * the caller rounds the result to it once.
 */

/** Terms summed by a plain loop before pairwise combination takes over. */
export const PAIRWISE_BLOCK = 128;

/** Anything indexable by position: a TypedArray or a plain array of numbers. */
export interface NumberSequence {
  readonly [index: number]: number;
}

/**
 * The sum of data[start..start+count-1], pairwise: sum(a) = sum(first half)
 * + sum(second half), down to leaves of at most PAIRWISE_BLOCK terms. A leaf
 * is summed with four interleaved accumulators (terms k = 0, 1, 2, 3 mod 4),
 * added at the end: each is a short running sum, and the four independent
 * chains keep the adder busy (a single chain waits on each add's latency).
 */
export function pairwiseSum(data: NumberSequence, start: number, count: number): number {
  if (count <= PAIRWISE_BLOCK) {
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    const end = start + count;
    let i = start;
    for (; i + 3 < end; i += 4) {
      a0 += data[i]!;
      a1 += data[i + 1]!;
      a2 += data[i + 2]!;
      a3 += data[i + 3]!;
    }
    for (; i < end; i++) a0 += data[i]!;
    return a0 + a1 + (a2 + a3);
  }
  // Split at a multiple of the block so that the leaves are full blocks.
  const half = Math.ceil(count / 2 / PAIRWISE_BLOCK) * PAIRWISE_BLOCK;
  return pairwiseSum(data, start, half) + pairwiseSum(data, start + half, count - half);
}

/**
 * Pairwise summation of a stream of terms whose length is not known in
 * advance (the sums fused into a jit loop): the loop adds terms to a float64
 * block sum and hands each full block to `pushBlock`; `total` adds the last,
 * partial block. Full blocks are merged like a binary counter: after 2^j
 * blocks the stack holds one sum of 2^j blocks, so block sums are combined in
 * a balanced tree, as `pairwiseSum` does.
 */
export class PairwiseAccumulator {
  private readonly stack: number[] = [];
  private blocks = 0;

  /** Takes the sum of one full block of PAIRWISE_BLOCK terms. */
  pushBlock(blockSum: number): void {
    let s = blockSum;
    // Each trailing 1 bit of the block count is a finished subtree to merge with.
    for (let b = this.blocks; (b & 1) === 1; b >>= 1) s = this.stack.pop()! + s;
    this.stack.push(s);
    this.blocks++;
  }

  /** The sum of all pushed blocks and the final partial block `rest`. */
  total(rest: number): number {
    let s = rest;
    for (let k = this.stack.length - 1; k >= 0; k--) s = this.stack[k]! + s;
    return s;
  }
}
