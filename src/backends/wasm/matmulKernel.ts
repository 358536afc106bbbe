/**
 * Generates the Wasm matrix-product kernels (float32 on f32x4, float64 on
 * f64x2): C = A B for one [m, k] @ [k, n] product held in Wasm memory.
 *
 * Layout (E = bytes per element, L = lanes per vector, NR = NV * L):
 *   - A is packed in panels of MR rows: panel p holds, for kk = 0..k-1, the
 *     MR values A[p*MR + r, kk] next to each other (`packA`).
 *   - B is packed in panels of NR columns: panel q holds, for kk = 0..k-1,
 *     the NR values B[kk, q*NR + c] next to each other (`packB`).
 *   - C is row-major with leading dimension ldc = nPanels * NR (rows and
 *     columns padded to whole panels, the padding zero in A and B).
 *
 * `gemm` blocks k by KC so that the KC x NR slice of one B panel stays in
 * L1 while the KC x m slice of A streams from L2; its micro-kernel keeps an
 * MR x NR tile of C in MR * NV vector registers and for each kk does
 *   acc[r][j] += splat(A[r, kk]) * B[kk, j*L .. j*L+L-1]
 * (one relaxed fused multiply-add where the runtime has it, else mul + add).
 * `gemm` takes a range of row panels so that threads can split the rows.
 */
import { Code, F32, F64, I32, ModuleBuilder, Op, Simd, V128 } from "./emitter.js";

export interface MatmulShape {
  /** Rows of the register tile. */
  mr: number;
  /** Vectors per row of the register tile (NR = nv * lanes). */
  nv: number;
  /** k-block length. */
  kc: number;
  /**
   * k steps per loop iteration (a power of two; default 1). Unrolling by 2
   * or 4 measured slower: V8 hoists the extra splat loads and spills.
   */
  unroll?: number;
}

export const MATMUL_TILE: Record<"float32" | "float64", MatmulShape> = {
  // 4 x 2 vectors: 8 accumulators + 2 B vectors + 4 splats fit V8's 15
  // usable vector registers (V8 issues all splat loads first); larger tiles
  // spill and measured 2x slower.
  float32: { mr: 4, nv: 2, kc: 256 },
  float64: { mr: 4, nv: 2, kc: 256 },
};

interface DTypeOps {
  bytes: number;
  lanes: number;
  alignLog2: number;
  load: number;
  store: number;
  splatLoad: number;
  mul: number;
  add: number;
  madd: number;
}

const F32_OPS: DTypeOps = {
  bytes: 4,
  lanes: 4,
  alignLog2: 2,
  load: Op.f32_load,
  store: Op.f32_store,
  splatLoad: Simd.v128_load32_splat,
  mul: Simd.f32x4_mul,
  add: Simd.f32x4_add,
  madd: Simd.f32x4_relaxed_madd,
};
const F64_OPS: DTypeOps = {
  bytes: 8,
  lanes: 2,
  alignLog2: 3,
  load: Op.f64_load,
  store: Op.f64_store,
  splatLoad: Simd.v128_load64_splat,
  mul: Simd.f64x2_mul,
  add: Simd.f64x2_add,
  madd: Simd.f64x2_relaxed_madd,
};

export function dtypeOps(dtype: "float32" | "float64"): DTypeOps {
  return dtype === "float32" ? F32_OPS : F64_OPS;
}

/**
 * Adds `packA_<dtype>`, `packB_<dtype>`, `packStrided_<dtype>`,
 * `packAPanels_<dtype>` and `gemm_<dtype>` to `mb`.
 *
 * packA(src, dst, rows, k, p0, p1): panels p0..p1-1 of src, row-major
 *   [rows, k], at their places in dst; rows past `rows` are written as zeros.
 * packB(src, dst, k, n, nPanels): src is row-major [k, n]; columns past n
 *   are zeros.
 * packStrided(src, dst, width, rows, k, rowStride, kStride, p0, p1): the
 *   same panel layout (width MR for A, NR for B) from any strides, so that a
 *   transposed operand is packed straight from its stored layout: A^T stored
 *   [k, m] is (width MR, rows m, rowStride 1, kStride m); B^T stored [n, k]
 *   is (width NR, rows n, rowStride k, kStride 1).
 * packAPanels(src, dst, rows, k, p0, p1, transposed): packA, or for a
 *   transposed A (stored [k, rows]) packStrided, of panels p0..p1-1; each
 *   thread packs the A panels of the chunks of C it takes.
 * gemm(aPack, bPack, c, k, nPanels, p0, p1): C[rows of panels p0..p1-1] = A B
 *   (C is overwritten; its previous contents are not read).
 * All pointers are byte addresses.
 */
export function addMatmulKernels(
  mb: ModuleBuilder,
  dtype: "float32" | "float64",
  tile: MatmulShape,
  relaxed: boolean,
): void {
  const t = dtypeOps(dtype);
  const { mr, nv, kc } = tile;
  const unroll = tile.unroll ?? 1;
  const nr = nv * t.lanes;
  const E = t.bytes;

  const packA = mb.addFunction(`packA_${dtype}`, [I32, I32, I32, I32, I32, I32], [], (c) => {
    const [src, dst, rows, k, p0, p1] = [0, 1, 2, 3, 4, 5];
    const p = c.local(I32);
    const kk = c.local(I32);
    const r = c.local(I32);
    const row = c.local(I32);
    const mrL = c.local(I32);
    const rowPtr = c.local(I32);
    const kBytes = c.local(I32);
    c.i32(mr).set(mrL);
    c.get(k).i32(E).op(Op.i32_mul).set(kBytes);
    // dst += p0 * mr * k * E: panel p0's place
    c.get(dst).get(p0).i32(mr).op(Op.i32_mul).get(kBytes).op(Op.i32_mul).op(Op.i32_add).set(dst);
    c.get(p0).set(p);
    c.forLoop(p, p1, 1, () => {
      c.i32(0).set(kk);
      // A whole panel inside A: MR unconditional copies per column kk.
      c.get(p).i32(1).op(Op.i32_add).i32(mr).op(Op.i32_mul).get(rows).op(Op.i32_le_s).if();
      // rowPtr = src + p*mr*k*E (the panel's first row, column 0)
      c.get(src).get(p).i32(mr).op(Op.i32_mul).get(kBytes).op(Op.i32_mul).op(Op.i32_add);
      c.set(rowPtr);
      c.forLoop(kk, k, 1, () => {
        for (let r = 0; r < mr; r++) {
          c.get(dst).get(rowPtr);
          if (r > 0) c.get(kBytes).i32(r).op(Op.i32_mul).op(Op.i32_add);
          c.mem(t.load, t.alignLog2).mem(t.store, t.alignLog2, r * E);
        }
        c.inc(rowPtr, E);
        c.inc(dst, mr * E);
      });
      c.else();
      // The last, partial panel: zeros past `rows`.
      c.forLoop(kk, k, 1, () => {
        c.i32(0).set(r);
        c.forLoop(r, mrL, 1, () => {
          // row = p*mr + r; value = row < rows ? src[row*k + kk] : 0
          c.get(p).i32(mr).op(Op.i32_mul).get(r).op(Op.i32_add).set(row);
          storeElement(
            c,
            t,
            dst,
            () => {
              c.get(row).get(rows).op(Op.i32_lt_s);
            },
            () => {
              c.get(src).get(row).get(k).op(Op.i32_mul).get(kk).op(Op.i32_add);
              c.i32(E).op(Op.i32_mul).op(Op.i32_add);
            },
          );
          c.inc(dst, E);
        });
      });
      c.end();
    });
  });

  mb.addFunction(`packB_${dtype}`, [I32, I32, I32, I32, I32], [], (c) => {
    const [src, dst, k, n, nPanels] = [0, 1, 2, 3, 4];
    const q = c.local(I32);
    const kk = c.local(I32);
    const j = c.local(I32);
    const col = c.local(I32);
    const nrL = c.local(I32);
    const rowPtr = c.local(I32);
    c.i32(nr).set(nrL);
    c.i32(0).set(q);
    c.forLoop(q, nPanels, 1, () => {
      c.i32(0).set(kk);
      c.forLoop(kk, k, 1, () => {
        // rowPtr = src + (kk*n + q*nr) * E
        c.get(src).get(kk).get(n).op(Op.i32_mul).get(q).i32(nr).op(Op.i32_mul).op(Op.i32_add);
        c.i32(E).op(Op.i32_mul).op(Op.i32_add).set(rowPtr);
        // A whole panel row inside B: copy it by vectors.
        c.get(q).i32(nr).op(Op.i32_mul).i32(nr).op(Op.i32_add).get(n).op(Op.i32_le_s).if();
        for (let v = 0; v < nv; v++) {
          c.get(dst)
            .get(rowPtr)
            .simdMem(Simd.v128_load, 0, v * 16);
          c.simdMem(Simd.v128_store, 0, v * 16);
        }
        c.inc(dst, nr * E);
        c.else();
        // The last, partial panel: element by element, zeros past n.
        c.i32(0).set(j);
        c.forLoop(j, nrL, 1, () => {
          c.get(q).i32(nr).op(Op.i32_mul).get(j).op(Op.i32_add).set(col);
          storeElement(
            c,
            t,
            dst,
            () => {
              c.get(col).get(n).op(Op.i32_lt_s);
            },
            () => {
              c.get(rowPtr).get(j).i32(E).op(Op.i32_mul).op(Op.i32_add);
            },
          );
          c.inc(dst, E);
        });
        c.end();
      });
    });
  });

  const packStridedArgs = [I32, I32, I32, I32, I32, I32, I32, I32, I32] as const;
  const packStrided = mb.addFunction(`packStrided_${dtype}`, packStridedArgs, [], (c) => {
    // Panels p0..p1-1 of `width` indices i over all kk: dst (panel 0's
    // place) gets, panel by panel and kk by kk, the `width` values
    // src[i*rowStride + kk*kStride] for i = p*width .. p*width+width-1
    // (zeros for i >= rows).
    const [src, dst, width, rows, k, rowStride, kStride, p0, p1] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const p = c.local(I32);
    const kk = c.local(I32);
    const r = c.local(I32);
    const i = c.local(I32);
    const srcP = c.local(I32);
    const kStrideBytes = c.local(I32);
    c.get(kStride).i32(E).op(Op.i32_mul).set(kStrideBytes);
    // dst += p0 * width * k * E
    c.get(dst).get(p0).get(width).op(Op.i32_mul).get(k).op(Op.i32_mul);
    c.i32(E).op(Op.i32_mul).op(Op.i32_add).set(dst);
    c.get(p0).set(p);
    c.forLoop(p, p1, 1, () => {
      c.i32(0).set(kk);
      // A whole A panel read along its rows (A^T stored [k, m]: rowStride 1):
      // its MR values at each kk are adjacent, copied as whole vectors.
      c.get(width).i32(mr).op(Op.i32_eq);
      c.get(rowStride).i32(1).op(Op.i32_eq).op(Op.i32_and);
      c.get(p).i32(1).op(Op.i32_add).get(width).op(Op.i32_mul).get(rows).op(Op.i32_le_s);
      c.op(Op.i32_and).if();
      // srcP = src + p * mr * E
      c.get(src)
        .get(p)
        .i32(mr * E)
        .op(Op.i32_mul)
        .op(Op.i32_add)
        .set(srcP);
      c.forLoop(kk, k, 1, () => {
        for (let v = 0; v < (mr * E) / 16; v++) {
          c.get(dst)
            .get(srcP)
            .simdMem(Simd.v128_load, 0, v * 16);
          c.simdMem(Simd.v128_store, 0, v * 16);
        }
        c.inc(srcP, { local: kStrideBytes });
        c.inc(dst, mr * E);
      });
      c.else();
      c.forLoop(kk, k, 1, () => {
        c.i32(0).set(r);
        c.forLoop(r, width, 1, () => {
          c.get(p).get(width).op(Op.i32_mul).get(r).op(Op.i32_add).set(i);
          storeElement(
            c,
            t,
            dst,
            () => {
              c.get(i).get(rows).op(Op.i32_lt_s);
            },
            () => {
              // src + (i*rowStride + kk*kStride) * E
              c.get(src).get(i).get(rowStride).op(Op.i32_mul);
              c.get(kk).get(kStride).op(Op.i32_mul).op(Op.i32_add);
              c.i32(E).op(Op.i32_mul).op(Op.i32_add);
            },
          );
          c.inc(dst, E);
        });
      });
      c.end();
    });
  });

  mb.addFunction(`packAPanels_${dtype}`, [I32, I32, I32, I32, I32, I32, I32], [], (c) => {
    const [src, dst, rows, k, p0, p1, transposed] = [0, 1, 2, 3, 4, 5, 6];
    c.get(transposed).if();
    // A^T stored [k, rows]: row stride 1, k stride `rows`
    c.get(src).get(dst).i32(mr).get(rows).get(k).i32(1).get(rows).get(p0).get(p1).call(packStrided);
    c.else();
    c.get(src).get(dst).get(rows).get(k).get(p0).get(p1).call(packA);
    c.end();
  });

  mb.addFunction(`gemm_${dtype}`, [I32, I32, I32, I32, I32, I32, I32], [], (c) => {
    const [aPack, bPack, cPtr, k, nPanels, p0, p1] = [0, 1, 2, 3, 4, 5, 6];
    const pc = c.local(I32);
    const kcur = c.local(I32);
    const q = c.local(I32);
    const p = c.local(I32);
    const aP = c.local(I32);
    const bP = c.local(I32);
    const cP = c.local(I32);
    const kk = c.local(I32);
    const kEnd = c.local(I32);
    const ldcBytes = c.local(I32);
    const acc: number[] = [];
    for (let i = 0; i < mr * nv; i++) acc.push(c.local(V128));
    const bv: number[] = [];
    for (let j = 0; j < nv; j++) bv.push(c.local(V128));
    const av = c.local(V128);

    // ldc in bytes = nPanels * nr * E
    c.get(nPanels)
      .i32(nr * E)
      .op(Op.i32_mul)
      .set(ldcBytes);
    c.i32(0).set(pc);
    c.forLoop(pc, k, kc, () => {
      // kcur = min(kc, k - pc)
      c.get(k).get(pc).op(Op.i32_sub).set(kcur);
      c.get(kcur).i32(kc).op(Op.i32_gt_s).if().i32(kc).set(kcur).end();
      c.i32(0).set(q);
      c.forLoop(q, nPanels, 1, () => {
        c.get(p0).set(p);
        c.forLoop(p, p1, 1, () => {
          // aP = aPack + (p*k + pc) * mr * E; bP = bPack + (q*k + pc) * nr * E
          c.get(aPack).get(p).get(k).op(Op.i32_mul).get(pc).op(Op.i32_add);
          c.i32(mr * E)
            .op(Op.i32_mul)
            .op(Op.i32_add)
            .set(aP);
          c.get(bPack).get(q).get(k).op(Op.i32_mul).get(pc).op(Op.i32_add);
          c.i32(nr * E)
            .op(Op.i32_mul)
            .op(Op.i32_add)
            .set(bP);
          // cP = cPtr + p*mr*ldcBytes + q*nr*E
          c.get(cPtr).get(p).i32(mr).op(Op.i32_mul).get(ldcBytes).op(Op.i32_mul).op(Op.i32_add);
          c.get(q)
            .i32(nr * E)
            .op(Op.i32_mul)
            .op(Op.i32_add)
            .set(cP);
          // The C tile: zeros in the first k-block (so C need not be
          // cleared), the partial sums of the previous blocks after it.
          c.get(pc).op(Op.i32_eqz).if();
          for (const a of acc) c.f64(0).simd(Simd.f64x2_splat).set(a);
          c.else();
          for (let r = 0; r < mr; r++)
            for (let j = 0; j < nv; j++) {
              tileAddress(c, cP, ldcBytes, r);
              c.simdMem(Simd.v128_load, 0, j * 16).set(acc[r * nv + j]!);
            }
          c.end();
          // The k loop of the micro-kernel: `unroll` steps per iteration
          // (immediate offsets, one pointer update), then single steps.
          const kStep = (u: number): void => {
            for (let j = 0; j < nv; j++)
              c.get(bP)
                .simdMem(Simd.v128_load, 0, u * nr * E + j * 16)
                .set(bv[j]!);
            for (let r = 0; r < mr; r++) {
              c.get(aP)
                .simdMem(t.splatLoad, t.alignLog2, (u * mr + r) * E)
                .set(av);
              for (let j = 0; j < nv; j++) {
                const a = acc[r * nv + j]!;
                if (relaxed) {
                  c.get(av).get(bv[j]!).get(a).simd(t.madd).set(a);
                } else {
                  c.get(a).get(av).get(bv[j]!).simd(t.mul).simd(t.add).set(a);
                }
              }
            }
          };
          c.i32(0).set(kk);
          if (unroll > 1) {
            // kEnd = kcur rounded down to a multiple of unroll
            c.get(kcur).i32(-unroll).op(Op.i32_and).set(kEnd);
            c.forLoop(kk, kEnd, unroll, () => {
              for (let u = 0; u < unroll; u++) kStep(u);
              c.inc(aP, unroll * mr * E);
              c.inc(bP, unroll * nr * E);
            });
          }
          c.forLoop(kk, kcur, 1, () => {
            kStep(0);
            c.inc(aP, mr * E);
            c.inc(bP, nr * E);
          });
          // Store the C tile.
          for (let r = 0; r < mr; r++)
            for (let j = 0; j < nv; j++) {
              tileAddress(c, cP, ldcBytes, r);
              c.get(acc[r * nv + j]!).simdMem(Simd.v128_store, 0, j * 16);
            }
        });
      });
    });
  });
}

/** Pushes cP + r * ldcBytes. */
function tileAddress(c: Code, cP: number, ldcBytes: number, r: number): void {
  c.get(cP);
  if (r > 0) c.get(ldcBytes).i32(r).op(Op.i32_mul).op(Op.i32_add);
}

/** mem[dst] = cond ? mem[addr] : 0, for one element of the dtype. */
function storeElement(c: Code, t: DTypeOps, dst: number, cond: () => void, addr: () => void): void {
  c.get(dst);
  cond();
  c.ifResult(t.bytes === 4 ? F32 : F64);
  addr();
  c.mem(t.load, t.alignLog2);
  c.else();
  if (t.bytes === 4) c.f32(0);
  else c.f64(0);
  c.end();
  c.mem(t.store, t.alignLog2);
}
