/**
 * random, milestone 1: Threefry-2x32 against the Random123 known-answer
 * vectors and a scalar reference written here with uint32 arithmetic; keys,
 * split and foldIn; the bits-to-float step against its definition; the same
 * numbers eagerly, under jit and under vmap (a vmap over keys equals a loop);
 * uniform/normal/bernoulli moments; the bitwise primitives against JS
 * operators; and the error messages.
 */
import { describe, expect, it } from "vitest";
import {
  DTypeError,
  InvalidArgumentError,
  ShapeError,
  grad,
  jit,
  np,
  random,
  vmap,
  type Array as NdArray,
} from "../src/index.js";
import { threefry2x32 } from "../src/random/threefry.js";
import {
  bitwiseAnd,
  bitwiseNot,
  bitwiseOr,
  bitwiseXor,
  rotateLeft,
  shiftLeft,
  shiftRightArithmetic,
  shiftRightLogical,
} from "../src/primitives/bitwise.js";
import { rng, useBackendAtAllSizes } from "./helpers.js";
import { setBackend } from "../src/index.js";
import {
  portableCos,
  portableExp,
  portableLog,
  portableSin,
} from "../src/primitives/portableMath.js";

const i32 = (xs: number[]) =>
  np.array(Int32Array.from(xs.map((v) => v | 0)), { shape: [xs.length] });
const u32 = (x: NdArray) => Array.from(x.data()).map((v) => v >>> 0);

/** Threefry-2x32, 20 rounds, on plain numbers with uint32 arithmetic (>>> 0), from the paper's description. */
function threefryReference(k: [number, number], c: [number, number]): [number, number] {
  const R = [13, 15, 26, 6, 17, 29, 16, 24];
  const ks = [k[0] >>> 0, k[1] >>> 0, (k[0] ^ k[1] ^ 0x1bd11bda) >>> 0];
  let x0 = (c[0] + ks[0]!) >>> 0;
  let x1 = (c[1] + ks[1]!) >>> 0;
  for (let r = 0; r < 20; r++) {
    x0 = (x0 + x1) >>> 0;
    const rot = R[r % 8]!;
    x1 = ((x1 << rot) | (x1 >>> (32 - rot))) >>> 0;
    x1 = (x1 ^ x0) >>> 0;
    if (r % 4 === 3) {
      const s = (r + 1) / 4;
      x0 = (x0 + ks[s % 3]!) >>> 0;
      x1 = (x1 + ks[(s + 1) % 3]! + s) >>> 0;
    }
  }
  return [x0, x1];
}

describe("threefry2x32", () => {
  // Known-answer vectors of Random123 (D. E. Shaw Research), file
  // tests/kat_vectors, lines "threefry2x32 20 ctr0 ctr1 key0 key1 out0 out1".
  const KAT: [number[], number[], number[]][] = [
    [
      [0, 0],
      [0, 0],
      [0x6b200159, 0x99ba4efe],
    ],
    [
      [0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x1cb996fc, 0xbb002be7],
    ],
    [
      [0x243f6a88, 0x85a308d3],
      [0x13198a2e, 0x03707344],
      [0xc4923a9c, 0x483df7a0],
    ],
  ];
  it("matches the Random123 known-answer vectors (20 rounds)", () => {
    for (const [ctr, key, want] of KAT) {
      const [y0, y1] = threefry2x32(
        i32([key[0]!]).reshape([]),
        i32([key[1]!]).reshape([]),
        i32([ctr[0]!]),
        i32([ctr[1]!]),
      );
      expect([...u32(y0), ...u32(y1)]).toEqual(want);
      expect(threefryReference(key as [number, number], ctr as [number, number])).toEqual(want);
    }
  });

  it("matches the scalar reference on random keys and counters, eagerly and under jit", () => {
    const r = rng(5);
    const word = () => Math.floor(r() * 2 ** 32);
    const n = 64;
    const k: [number, number] = [word(), word()];
    const c0 = Array.from({ length: n }, word);
    const c1 = Array.from({ length: n }, word);
    const want0: number[] = [];
    const want1: number[] = [];
    for (let i = 0; i < n; i++) {
      const [a, b] = threefryReference(k, [c0[i]!, c1[i]!]);
      want0.push(a);
      want1.push(b);
    }
    const f = (k0: NdArray, k1: NdArray, a: NdArray, b: NdArray) => threefry2x32(k0, k1, a, b);
    const args = [i32([k[0]]).reshape([]), i32([k[1]]).reshape([]), i32(c0), i32(c1)] as const;
    for (const g of [f, jit(f)]) {
      const [y0, y1] = g(...args) as NdArray[];
      expect(u32(y0!)).toEqual(want0);
      expect(u32(y1!)).toEqual(want1);
    }
  });
});

describe("bitwise primitives", () => {
  const r = rng(9);
  const a = Array.from({ length: 40 }, () => Math.floor(r() * 2 ** 32) | 0);
  const b = Array.from({ length: 40 }, (_, i) => (i < 36 ? i - 2 : [31, 32, 33, -1][i - 36]!));
  const cases: [string, (x: NdArray, y: NdArray) => NdArray, (x: number, y: number) => number][] = [
    ["and", bitwiseAnd, (x, y) => x & y],
    ["or", bitwiseOr, (x, y) => x | y],
    ["xor", bitwiseXor, (x, y) => x ^ y],
    ["shiftLeft", shiftLeft, (x, y) => (y >= 0 && y < 32 ? x << y : 0)],
    ["shiftRightLogical", shiftRightLogical, (x, y) => (y >= 0 && y < 32 ? (x >>> y) | 0 : 0)],
    [
      "shiftRightArithmetic",
      shiftRightArithmetic,
      (x, y) => (y >= 0 && y < 32 ? x >> y : x < 0 ? -1 : 0),
    ],
    // rotation by y mod 32, via a 64-bit BigInt of the word doubled
    [
      "rotateLeft",
      rotateLeft,
      (x, y) => {
        const s = BigInt(((y % 32) + 32) % 32);
        const w = BigInt(x >>> 0);
        return Number(((((w << 32n) | w) << s) >> 32n) & 0xffffffffn) | 0;
      },
    ],
  ];
  for (const [name, op, ref] of cases) {
    it(`${name} matches its definition eagerly, under jit and on 0-d values`, () => {
      const want = a.map((x, i) => ref(x, b[i]!));
      expect(Array.from(op(i32(a), i32(b)).data())).toEqual(want);
      expect(Array.from(jit(op)(i32(a), i32(b)).data())).toEqual(want);
      expect(op(i32([a[3]!]).reshape([]), i32([b[3]!]).reshape([])).item()).toBe(want[3]);
    });
  }
  it("bitwiseNot is ~x", () => {
    expect(Array.from(bitwiseNot(i32(a)).data())).toEqual(a.map((x) => ~x));
  });
  it("refuses non-int32 operands, naming the dtype", () => {
    expect(() => bitwiseXor(np.array([1.5]), np.array([2.5]))).toThrow(DTypeError);
    expect(() => bitwiseXor(np.array([1.5]), np.array([2.5]))).toThrow(
      /bitwiseXor: expected int32 arrays, got dtype float64/,
    );
  });
});

describe("keys", () => {
  it("key(seed) holds the seed's 64-bit words (high, low)", () => {
    expect(u32(random.key(42))).toEqual([0, 42]);
    expect(u32(random.key(-1))).toEqual([0xffffffff, 0xffffffff]);
    expect(u32(random.key(2 ** 40 + 7))).toEqual([256, 7]);
    expect(u32(random.key(np.array(-5, { dtype: "int32" })))).toEqual([0xffffffff, 0xfffffffb]);
    expect(u32(jit((s: NdArray) => random.key(s))(np.array(9, { dtype: "int32" })))).toEqual([
      0, 9,
    ]);
  });

  it("split(key, n)[i] is threefry(key, (0, i)); foldIn(key, d) is threefry(key, (0, d))", () => {
    const k = random.key(1234);
    const keys = random.split(k, 3);
    expect(keys.shape).toEqual([3, 2]);
    const rows = keys.toArray() as number[][];
    rows.forEach((row, i) =>
      expect(row.map((v) => v >>> 0)).toEqual(threefryReference([0, 1234], [0, i])),
    );
    expect(random.split(k, [2, 2]).shape).toEqual([2, 2, 2]);
    expect(u32(random.foldIn(k, 7))).toEqual(threefryReference([0, 1234], [0, 7]));
    expect(u32(random.foldIn(k, 2 ** 33 + 1))).toEqual(threefryReference([0, 1234], [2, 1]));
  });

  it("foldIn under vmap over the data (traced int32) equals a loop", () => {
    const k = random.key(99);
    const data = np.array([0, 1, 5, -3], { dtype: "int32" });
    const mapped = vmap((d: NdArray) => random.foldIn(k, d))(data);
    const loop = [0, 1, 5, -3].map((d) => u32(random.foldIn(k, d)));
    expect((mapped.toArray() as number[][]).map((r) => r.map((v) => v >>> 0))).toEqual(loop);
    // a negative datum's high word is all ones (64-bit two's complement)
    expect(loop[3]).toEqual(threefryReference([0, 99], [0xffffffff, 0xfffffffd]));
  });

  it("the first k samples do not depend on how many are drawn", () => {
    const k = random.key(3);
    expect(Array.from(random.uniform(k, [5]).data())).toEqual(
      Array.from(random.uniform(k, [9]).data()).slice(0, 5),
    );
  });

  it("gives the same numbers eagerly, under jit, and under vmap over keys (as a loop)", () => {
    const keys = random.split(random.key(0), 4);
    const draw = (k: NdArray) =>
      np.stack([
        random.uniform(k, [6]),
        random.normal(k, [6]),
        random.bernoulli(k, 0.4, [6]).astype("float64"),
        random.split(k, 3).astype("float64").reshape([6]),
        // foldIn's two words and split(foldIn)'s first four, as floats
        np.concatenate([
          random.foldIn(k, 5).astype("float64"),
          random.split(random.foldIn(k, 5), 2).reshape([4]).astype("float64"),
        ]),
      ]);
    const loop = np.stack([0, 1, 2, 3].map((i) => draw(keys.slice(i))));
    const mapped = vmap(draw)(keys);
    const jitted = np.stack([0, 1, 2, 3].map((i) => jit(draw)(keys.slice(i))));
    const jitVmap = jit(vmap(draw))(keys);
    for (const other of [mapped, jitted, jitVmap]) {
      expect(Array.from(other.data())).toEqual(Array.from(loop.data()));
    }
    // float32 too
    const d32 = (k: NdArray) => random.normal(k, [7], { dtype: "float32" });
    expect(Array.from(vmap(d32)(keys).data())).toEqual(
      Array.from(np.stack([0, 1, 2, 3].map((i) => d32(keys.slice(i)))).data()),
    );
  });
});

describe("uniform, normal, bernoulli", () => {
  it("uniform's floats are the top mantissa bits of the words, exactly", () => {
    const k = random.key(77);
    const n = 16;
    const [y0, y1] = [0, 1].map(() => [] as number[]);
    for (let i = 0; i < n; i++) {
      const [a, b] = threefryReference([0, 77], [0, i]);
      y0!.push(a);
      y1!.push(b);
    }
    const u32s = Array.from(random.uniform(k, [n], { dtype: "float32" }).data());
    const u64s = Array.from(random.uniform(k, [n]).data());
    for (let i = 0; i < n; i++) {
      expect(u32s[i]).toBe(((y0![i]! ^ y1![i]!) >>> 9) / 2 ** 23);
      const bits = (BigInt(y0![i]!) << 32n) | BigInt(y1![i]!);
      expect(u64s[i]).toBe(Number(bits >> 12n) / 2 ** 52);
    }
  });

  it("uniform on [minval, maxval) has the right moments and gradients", () => {
    const n = 20000;
    const x = random.uniform(random.key(1), [n], { minval: -2, maxval: 3 });
    const xs = Array.from(x.data());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...xs)).toBeLessThan(3);
    const mean = xs.reduce((s, v) => s + v, 0) / n;
    // variance 25/12: standard error of the mean sqrt(25/12/n)
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(25 / 12 / n));
    // d sum(x) / d maxval = sum(u), d / d minval = sum(1 - u)
    const u = Array.from(random.uniform(random.key(1), [n]).data());
    const su = u.reduce((s, v) => s + v, 0);
    const g = grad(
      (lo: NdArray, hi: NdArray) =>
        np.sum(random.uniform(random.key(1), [n], { minval: lo, maxval: hi })),
      {
        argnums: [0, 1],
      },
    )(np.array(-2), np.array(3)) as NdArray[];
    expect(g[0]!.item()).toBeCloseTo(n - su, 6);
    expect(g[1]!.item()).toBeCloseTo(su, 6);
  });

  it("normal has mean 0 and variance 1 (within 5 standard errors), float64 and float32", () => {
    for (const dtype of ["float64", "float32"] as const) {
      const n = 40000;
      const z = Array.from(random.normal(random.key(2), [n], { dtype }).data());
      const mean = z.reduce((s, v) => s + v, 0) / n;
      const m2 = z.reduce((s, v) => s + v * v, 0) / n;
      expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
      // var of z^2 is 2
      expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    }
  });

  it("bernoulli is true with probability p (broadcast over the shape)", () => {
    const n = 20000;
    const p = np.array([0.1, 0.5, 0.9]);
    const b = random.bernoulli(random.key(4), p, [n, 3]);
    expect(b.dtype).toBe("bool");
    const freq = np.mean(b.astype("float64"), 0).toArray() as number[];
    [0.1, 0.5, 0.9].forEach((q, i) =>
      expect(Math.abs(freq[i]! - q)).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / n)),
    );
    expect(random.bernoulli(random.key(4), p).shape).toEqual([3]);
  });

  it("refuses bad keys, shapes and dtypes with messages that say what to do", () => {
    const keys = random.split(random.key(0), 3);
    expect(() => random.normal(keys, [2])).toThrow(ShapeError);
    expect(() => random.normal(keys, [2])).toThrow(
      /random.normal: expected one key.*got shape \[3, 2\].*vmap/,
    );
    expect(() => random.uniform(np.array([0, 1]), [2])).toThrow(DTypeError);
    expect(() => random.uniform(random.key(0), [2], { dtype: "int32" })).toThrow(
      /random.uniform: samples are floats.*randint/,
    );
    expect(() => random.uniform(random.key(0), [-1])).toThrow(InvalidArgumentError);
    expect(() => random.uniform(random.key(0), [2], { minval: np.zeros([3]) })).toThrow(
      /do not broadcast to the requested shape \[2\]/,
    );
    expect(() => random.key(1.5)).toThrow(/random.key: expected an integer/);
    expect(() => random.foldIn(random.key(0), np.array(1.5))).toThrow(
      /random.foldIn: the datum must be an integer or a 0-d int32 array, got float64/,
    );
  });
});

describe("the same numbers on every backend (Wasm kernels at every size)", () => {
  useBackendAtAllSizes("wasm");
  const samplers: [string, (k: NdArray) => NdArray][] = [
    ["normal float64", (k) => random.normal(k, [3000])],
    ["normal float32", (k) => random.normal(k, [3000], { dtype: "float32" })],
    ["exponential", (k) => random.exponential(k, [3000])],
    ["gumbel", (k) => random.gumbel(k, [3000])],
    ["truncatedNormal", (k) => random.truncatedNormal(k, -1, 2, [3000])],
    ["gamma", (k) => random.gamma(k, 1.7, [1000])],
    ["poisson", (k) => random.poisson(k, 25, [600])],
  ];
  it("portable exp/log/sin/cos are JS Math bit for bit on the Wasm backend", () => {
    const xs = Array.from({ length: 5000 }, (_, i) => 0.01 + i * 0.013);
    const x = np.array(xs);
    for (const [op, ref] of [
      [portableExp, Math.exp],
      [portableLog, Math.log],
      [portableSin, Math.sin],
      [portableCos, Math.cos],
    ] as const) {
      expect(Array.from(op(x).data())).toEqual(xs.map(ref));
    }
  });
  for (const [name, f] of samplers) {
    it(`${name}: wasm equals js, and jit and vmap over keys equal a loop`, () => {
      const keys = random.split(random.key(8), 3);
      const onWasm = vmap(f)(keys);
      const loop = np.stack([0, 1, 2].map((i) => f(keys.slice(i))));
      expect(Array.from(onWasm.data())).toEqual(Array.from(loop.data()));
      const jitted = jit(f)(keys.slice(1));
      expect(Array.from(jitted.data())).toEqual(Array.from(loop.slice(1).data()));
      setBackend("js");
      try {
        const onJs = vmap(f)(keys);
        expect(Array.from(onJs.data())).toEqual(Array.from(onWasm.data()));
      } finally {
        setBackend("wasm");
      }
    });
  }
});
