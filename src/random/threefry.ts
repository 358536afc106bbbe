/**
 * The Threefry-2x32 block cipher with 20 rounds (Salmon, Moraes, Dror and
 * Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
 * counter-based generator behind chainrule's random numbers, as in JAX.
 *
 * A key is two 32-bit words (k0, k1) and each counter is two 32-bit words
 * (c0, c1); the cipher maps them to two words (y0, y1) that pass the
 * statistical test batteries (BigCrush). chainrule has no uint32 dtype, so
 * every word is an int32 holding the same 32 bits: additions wrap modulo
 * 2^32 in int32 exactly as in uint32, and xor and rotations see only bits.
 *
 * The rounds are written with array primitives (int32 add, bitwiseXor,
 * rotateLeft) on whole arrays of counters: one call hashes n counters with
 * about a hundred elementwise operations, which jit fuses into one loop.
 * The same operations run eagerly, under jit, under vmap and on every
 * backend, so a key and a counter give the same bits everywhere.
 *
 * The algorithm, with ks2 = k0 ^ k1 ^ 0x1BD11BDA (Threefish's key-schedule
 * parity constant) and the rotation constants R = 13 15 26 6 17 29 16 24:
 *   x0 = c0 + k0, x1 = c1 + k1
 *   for round r = 0..19:
 *     x0 += x1; x1 = rotl(x1, R[r mod 8]); x1 ^= x0
 *     after rounds 4, 8, 12, 16, 20 (s = 1..5):
 *       x0 += ks[s mod 3]; x1 += ks[(s + 1) mod 3] + s
 */
import type { Array } from "../core/array.js";
import { scalar } from "../core/convert.js";
import { add } from "../primitives/elementwise.js";
import { bitwiseXor, rotateLeft } from "../primitives/bitwise.js";
import { broadcastInDim } from "../primitives/movement.js";

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;
/** Threefish's key-schedule parity constant, as an int32. */
const PARITY = 0x1bd11bda;

/** A 0-d int32 word as an array of `shape` (a broadcast, which jit fuses). */
function spread(word: Array, shape: readonly number[]): Array {
  return word.ndim === 0 && shape.length > 0 ? broadcastInDim(word, shape, []) : word;
}

/** An int32 constant (its bits) as an array of `shape`. */
export function int32Constant(value: number, shape: readonly number[]): Array {
  return spread(scalar(value | 0, "int32"), shape);
}

/**
 * Threefry-2x32 (20 rounds) of the counters (c0, c1) under the key (k0, k1),
 * all int32. The key words are 0-d or shaped like the counters; c0 may be
 * 0-d (a word shared by every counter). Returns (y0, y1) shaped like c1.
 */
export function threefry2x32(k0: Array, k1: Array, c0: Array, c1: Array): [Array, Array] {
  const shape = c1.shape;
  // The key schedule on the key words (0-d in the common case: cheap), spread once.
  const ks2 = bitwiseXor(bitwiseXor(k0, k1), int32Constant(PARITY, k0.shape));
  const schedule = [k0, k1, ks2];
  const ks = schedule.map((k) => spread(k, shape));
  // x1's injection ks[(s + 1) mod 3] + s, for s = 1..5, added on the key words first.
  const injections = [1, 2, 3, 4, 5].map((s) =>
    spread(add(schedule[(s + 1) % 3]!, int32Constant(s, k0.shape)), shape),
  );
  const rotations = ROTATIONS.map((r) => int32Constant(r, shape));
  let x0 = add(spread(c0, shape), ks[0]!);
  let x1 = add(c1, ks[1]!);
  for (let r = 0; r < 20; r++) {
    x0 = add(x0, x1);
    x1 = bitwiseXor(rotateLeft(x1, rotations[r % 8]!), x0);
    if (r % 4 === 3) {
      const s = (r + 1) / 4;
      x0 = add(x0, ks[s % 3]!);
      x1 = add(x1, injections[s - 1]!);
    }
  }
  return [x0, x1];
}
