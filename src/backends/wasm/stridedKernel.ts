/**
 * Generates the Wasm strided-access kernels behind transposes, broadcasts,
 * slices, pads and sum reductions. Both walk the multi-indices i of a shape
 * in row-major order with an odometer, keeping
 *   pos = offset + sum_d i_d * strides[d]
 * up to date (the last axis by a running pointer, the others by carries):
 *   gather_<w>(src, dst, shape, strides, ndim, offset, idx):  dst[i] = src[pos]
 *   scatterAdd_<dtype>(src, dst, shape, strides, ndim, offset, idx):  dst[pos] += src[i]
 * `shape` and `strides` point to ndim i32 each (strides in elements), `idx`
 * to ndim zeroed i32 of scratch; ndim >= 1 and every extent >= 1.
 * A sum over axes is scatterAdd with stride 0 along the reduced axes, in the
 * same element order as the JS reference, hence with identical rounding.
 * Gather copies raw bits of width w = 1, 4 or 8 bytes (NaN payloads kept).
 */
import { type Code, I32, type ModuleBuilder, Op, type ValType } from "./emitter.js";

interface Access {
  bytes: number;
  log2: number;
  load: number;
  store: number;
  /** Opcode adding two loaded values (scatter-add only). */
  add?: number;
}

const GATHER: Record<1 | 4 | 8, Access> = {
  1: { bytes: 1, log2: 0, load: Op.i32_load8_u, store: Op.i32_store8 },
  4: { bytes: 4, log2: 2, load: Op.i32_load, store: Op.i32_store },
  8: { bytes: 8, log2: 3, load: Op.i64_load, store: Op.i64_store },
};

const SCATTER_ADD: Record<"float32" | "float64" | "int32", Access> = {
  float32: { bytes: 4, log2: 2, load: Op.f32_load, store: Op.f32_store, add: Op.f32_add },
  float64: { bytes: 8, log2: 3, load: Op.f64_load, store: Op.f64_store, add: Op.f64_add },
  int32: { bytes: 4, log2: 2, load: Op.i32_load, store: Op.i32_store, add: Op.i32_add },
};

const PARAMS: readonly ValType[] = [I32, I32, I32, I32, I32, I32, I32];

export function addStridedKernels(mb: ModuleBuilder): void {
  for (const w of [1, 4, 8] as const)
    mb.addFunction(`gather_${w}`, PARAMS, [], odometer(GATHER[w], false));
  for (const dtype of ["float32", "float64", "int32"] as const)
    mb.addFunction(`scatterAdd_${dtype}`, PARAMS, [], odometer(SCATTER_ADD[dtype], true));
}

function odometer(t: Access, scatter: boolean): (c: Code) => void {
  return (c) => {
    const [src, dst, shape, strides, ndim, offset, idx] = [0, 1, 2, 3, 4, 5, 6];
    const base = c.local(I32); // pos of the start of the current innermost row
    const pos = c.local(I32);
    const lin = c.local(I32); // byte address of element i in the dense array
    const j = c.local(I32);
    const len = c.local(I32); // extent of the last axis
    const step = c.local(I32); // stride of the last axis, in bytes
    const dAddr = c.local(I32); // 4 * (the axis being carried into)
    const last4 = c.local(I32); // 4 * (ndim - 1)

    c.get(ndim).i32(1).op(Op.i32_sub).i32(2).op(Op.i32_shl).set(last4);
    c.get(shape).get(last4).op(Op.i32_add).mem(Op.i32_load, 2).set(len);
    c.get(strides)
      .get(last4)
      .op(Op.i32_add)
      .mem(Op.i32_load, 2)
      .i32(t.log2)
      .op(Op.i32_shl)
      .set(step);
    // base = the strided array's address + offset * bytes
    c.get(scatter ? dst : src)
      .get(offset)
      .i32(t.log2)
      .op(Op.i32_shl)
      .op(Op.i32_add)
      .set(base);
    c.get(scatter ? src : dst).set(lin);

    c.block(); // exit when the odometer wraps around
    c.loop(); // one innermost row per iteration
    // The row: j = 0..len-1, pos advancing by the last stride.
    c.get(base).set(pos);
    c.i32(0).set(j);
    c.forLoop(j, len, 1, () => {
      if (scatter) {
        // dst[pos] += src[lin]
        c.get(pos);
        c.get(pos).mem(t.load, t.log2);
        c.get(lin).mem(t.load, t.log2);
        c.op(t.add!);
        c.mem(t.store, t.log2);
      } else {
        // dst[lin] = src[pos]
        c.get(lin);
        c.get(pos).mem(t.load, t.log2);
        c.mem(t.store, t.log2);
      }
      c.inc(lin, t.bytes);
      c.inc(pos, { local: step });
    });
    // Carry into the higher axes, from ndim-2 down to 0.
    c.get(last4).set(dAddr);
    c.block(); // carried without wrapping: next row
    c.loop();
    c.get(dAddr).i32(0).op(Op.i32_le_s).brIf(3); // wrapped past axis 0: done
    c.get(dAddr).i32(4).op(Op.i32_sub).set(dAddr);
    // idx[d] += 1; base += strides[d] * bytes
    c.get(idx).get(dAddr).op(Op.i32_add);
    c.get(idx).get(dAddr).op(Op.i32_add).mem(Op.i32_load, 2).i32(1).op(Op.i32_add);
    c.mem(Op.i32_store, 2);
    c.get(base);
    c.get(strides).get(dAddr).op(Op.i32_add).mem(Op.i32_load, 2).i32(t.log2).op(Op.i32_shl);
    c.op(Op.i32_add).set(base);
    // if idx[d] < shape[d]: next row
    c.get(idx).get(dAddr).op(Op.i32_add).mem(Op.i32_load, 2);
    c.get(shape).get(dAddr).op(Op.i32_add).mem(Op.i32_load, 2);
    c.op(Op.i32_lt_s).brIf(1);
    // else: base -= idx[d] * strides[d] * bytes; idx[d] = 0; carry on
    c.get(base);
    c.get(idx).get(dAddr).op(Op.i32_add).mem(Op.i32_load, 2);
    c.get(strides).get(dAddr).op(Op.i32_add).mem(Op.i32_load, 2);
    c.op(Op.i32_mul).i32(t.log2).op(Op.i32_shl);
    c.op(Op.i32_sub).set(base);
    c.get(idx).get(dAddr).op(Op.i32_add).i32(0).mem(Op.i32_store, 2);
    c.br(0);
    c.end(); // carry loop
    c.end(); // carried block
    c.br(0); // next row
    c.end(); // row loop
    c.end(); // exit block
  };
}
