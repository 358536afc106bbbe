/**
 * A small WebAssembly binary emitter, written here so that the Wasm backend
 * needs no external toolchain. `ModuleBuilder` writes a module (types,
 * imported functions and memory, functions with locals, exports) in the
 * binary format of the WebAssembly core spec; `Code` appends instructions to
 * one function body, including the SIMD (0xFD prefix) opcodes the kernels use.
 *
 * Only what the kernels need is here. Numbers are LEB128-encoded: unsigned
 * for indices and sizes, signed for i32 constants.
 */

/** Value types. */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64 | typeof V128;

/** Block type of a block or loop that yields nothing. */
const EMPTY_BLOCK = 0x40;

/** Appends the unsigned LEB128 encoding of `n` (a non-negative integer < 2^32). */
export function unsignedLeb(out: number[], n: number): void {
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

/** Appends the signed LEB128 encoding of the 32-bit integer `n`. */
export function signedLeb(out: number[], n: number): void {
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function utf8(out: number[], s: string): void {
  const bytes = new TextEncoder().encode(s);
  unsignedLeb(out, bytes.length);
  for (const b of bytes) out.push(b);
}

/** Plain (prefix-free) opcodes, by their text-format names. */
export const Op = {
  unreachable: 0x00,
  nop: 0x01,
  return: 0x0f,
  drop: 0x1a,
  select: 0x1b,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_gt_u: 0x4b,
  i32_le_s: 0x4c,
  i32_ge_s: 0x4e,
  f32_eq: 0x5b,
  f32_ne: 0x5c,
  f32_lt: 0x5d,
  f32_gt: 0x5e,
  f32_le: 0x5f,
  f32_ge: 0x60,
  f64_eq: 0x61,
  f64_ne: 0x62,
  f64_lt: 0x63,
  f64_gt: 0x64,
  f64_le: 0x65,
  f64_ge: 0x66,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_div_s: 0x6d,
  i32_rem_s: 0x6f,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,
  f32_abs: 0x8b,
  f32_neg: 0x8c,
  f32_ceil: 0x8d,
  f32_floor: 0x8e,
  f32_trunc: 0x8f,
  f32_nearest: 0x90,
  f32_sqrt: 0x91,
  f32_add: 0x92,
  f32_sub: 0x93,
  f32_mul: 0x94,
  f32_div: 0x95,
  f32_min: 0x96,
  f32_max: 0x97,
  f64_abs: 0x99,
  f64_neg: 0x9a,
  f64_ceil: 0x9b,
  f64_floor: 0x9c,
  f64_trunc: 0x9d,
  f64_nearest: 0x9e,
  f64_sqrt: 0x9f,
  f64_add: 0xa0,
  f64_sub: 0xa1,
  f64_mul: 0xa2,
  f64_div: 0xa3,
  f64_min: 0xa4,
  f64_max: 0xa5,
  f32_demote_f64: 0xb6,
  f64_promote_f32: 0xbb,
} as const;

/** Opcodes after the 0xFD (SIMD) prefix. */
export const Simd = {
  v128_load: 0,
  v128_load32_splat: 9,
  v128_load64_splat: 10,
  v128_store: 11,
  v128_const: 12,
  f32x4_splat: 19,
  f64x2_splat: 20,
  f32x4_extract_lane: 31,
  f64x2_extract_lane: 33,
  f32x4_abs: 224,
  f32x4_neg: 225,
  f32x4_sqrt: 227,
  f32x4_add: 228,
  f32x4_sub: 229,
  f32x4_mul: 230,
  f32x4_div: 231,
  f32x4_min: 232,
  f32x4_max: 233,
  f64x2_abs: 236,
  f64x2_neg: 237,
  f64x2_sqrt: 239,
  f64x2_add: 240,
  f64x2_sub: 241,
  f64x2_mul: 242,
  f64x2_div: 243,
  f64x2_min: 244,
  f64x2_max: 245,
  /** Relaxed SIMD: a*b+c, fused or not at the runtime's choice. */
  f32x4_relaxed_madd: 0x105,
  f64x2_relaxed_madd: 0x107,
} as const;

/**
 * One function body under construction. Methods append instructions and
 * return `this`, so a kernel reads as a sequence of instructions.
 */
export class Code {
  readonly bytes: number[] = [];
  /** Extra locals, after the parameters. */
  readonly localTypes: ValType[] = [];

  constructor(readonly paramCount: number) {}

  /** Declares a new local of type `t` and returns its index. */
  local(t: ValType): number {
    this.localTypes.push(t);
    return this.paramCount + this.localTypes.length - 1;
  }

  op(...opcodes: number[]): this {
    this.bytes.push(...opcodes);
    return this;
  }
  simd(opcode: number): this {
    this.bytes.push(0xfd);
    unsignedLeb(this.bytes, opcode);
    return this;
  }
  /** i8x16.shuffle of the two vectors on the stack by 16 byte-lane indices (0..31). */
  shuffle(lanes: readonly number[]): this {
    this.simd(13);
    this.bytes.push(...lanes);
    return this;
  }
  /** A SIMD memory access: opcode, then alignment (log2 bytes) and offset. */
  simdMem(opcode: number, alignLog2: number, offset = 0): this {
    this.simd(opcode);
    unsignedLeb(this.bytes, alignLog2);
    unsignedLeb(this.bytes, offset);
    return this;
  }
  /** A plain memory access (e.g. 0x2b f64.load) with alignment and offset. */
  mem(opcode: number, alignLog2: number, offset = 0): this {
    this.bytes.push(opcode);
    unsignedLeb(this.bytes, alignLog2);
    unsignedLeb(this.bytes, offset);
    return this;
  }
  get(i: number): this {
    this.bytes.push(0x20);
    unsignedLeb(this.bytes, i);
    return this;
  }
  set(i: number): this {
    this.bytes.push(0x21);
    unsignedLeb(this.bytes, i);
    return this;
  }
  tee(i: number): this {
    this.bytes.push(0x22);
    unsignedLeb(this.bytes, i);
    return this;
  }
  i32(n: number): this {
    this.bytes.push(0x41);
    signedLeb(this.bytes, n);
    return this;
  }
  f32(x: number): this {
    this.bytes.push(0x43);
    const b = new Uint8Array(new Float32Array([x]).buffer);
    this.bytes.push(...b);
    return this;
  }
  f64(x: number): this {
    this.bytes.push(0x44);
    const b = new Uint8Array(new Float64Array([x]).buffer);
    this.bytes.push(...b);
    return this;
  }
  call(funcIndex: number): this {
    this.bytes.push(0x10);
    unsignedLeb(this.bytes, funcIndex);
    return this;
  }
  block(): this {
    this.bytes.push(0x02, EMPTY_BLOCK);
    return this;
  }
  loop(): this {
    this.bytes.push(0x03, EMPTY_BLOCK);
    return this;
  }
  if(): this {
    this.bytes.push(0x04, EMPTY_BLOCK);
    return this;
  }
  /** `if` whose two arms each leave one value of type `t`. */
  ifResult(t: ValType): this {
    this.bytes.push(0x04, t);
    return this;
  }
  else(): this {
    this.bytes.push(0x05);
    return this;
  }
  end(): this {
    this.bytes.push(0x0b);
    return this;
  }
  /** Branch to the `depth`-th enclosing label (0 = innermost). */
  br(depth: number): this {
    this.bytes.push(0x0c);
    unsignedLeb(this.bytes, depth);
    return this;
  }
  brIf(depth: number): this {
    this.bytes.push(0x0d);
    unsignedLeb(this.bytes, depth);
    return this;
  }

  /** local[i] += step (i32). */
  inc(i: number, step: number | { local: number }): this {
    this.get(i);
    if (typeof step === "number") this.i32(step);
    else this.get(step.local);
    return this.op(Op.i32_add).set(i);
  }

  /**
   * `for (; counter < limit; counter += step) body()`, with `counter`
   * initialised by the caller. `limit` is a local index. The body sees the
   * loop at depth 0 and the exit block at depth 1.
   */
  forLoop(
    counter: number,
    limit: number,
    step: number | { local: number },
    body: () => void,
  ): this {
    this.block();
    this.get(counter).get(limit).op(Op.i32_ge_s).brIf(0);
    this.loop();
    body();
    this.inc(counter, step);
    this.get(counter).get(limit).op(Op.i32_lt_s).brIf(0);
    this.end();
    this.end();
    return this;
  }
}

interface FuncDef {
  name: string | undefined;
  typeIndex: number;
  code: Code;
}

interface FuncImport {
  module: string;
  field: string;
  typeIndex: number;
}

export interface MemoryImport {
  module: string;
  field: string;
  /** Pages of 64 KiB. */
  initial: number;
  maximum?: number;
  shared?: boolean;
}

/** Builds one module; `finish()` returns its bytes. */
export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly typeBytes: number[][] = [];
  private readonly funcImports: FuncImport[] = [];
  private readonly funcs: FuncDef[] = [];
  private memory: MemoryImport | undefined;

  private typeIndex(params: readonly ValType[], results: readonly ValType[]): number {
    const key = `${params.join(",")}->${results.join(",")}`;
    const found = this.types.indexOf(key);
    if (found >= 0) return found;
    const b: number[] = [0x60];
    unsignedLeb(b, params.length);
    b.push(...params);
    unsignedLeb(b, results.length);
    b.push(...results);
    this.types.push(key);
    this.typeBytes.push(b);
    return this.types.length - 1;
  }

  /** Imports a function; returns its function index. Imports must precede functions. */
  importFunction(
    module: string,
    field: string,
    params: readonly ValType[],
    results: readonly ValType[],
  ): number {
    if (this.funcs.length > 0)
      throw new Error("ModuleBuilder: import functions before defining any");
    this.funcImports.push({ module, field, typeIndex: this.typeIndex(params, results) });
    return this.funcImports.length - 1;
  }

  importMemory(memory: MemoryImport): void {
    this.memory = memory;
  }

  /**
   * Adds a function (exported under `name` when given); `build` writes its
   * body into `code`, whose first locals are the parameters. Returns its index.
   */
  addFunction(
    name: string | undefined,
    params: readonly ValType[],
    results: readonly ValType[],
    build: (code: Code) => void,
  ): number {
    const code = new Code(params.length);
    build(code);
    this.funcs.push({ name, typeIndex: this.typeIndex(params, results), code });
    return this.funcImports.length + this.funcs.length - 1;
  }

  finish(): Uint8Array<ArrayBuffer> {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, body: number[]): void => {
      out.push(id);
      unsignedLeb(out, body.length);
      for (const b of body) out.push(b);
    };
    // 1: types
    const types: number[] = [];
    unsignedLeb(types, this.typeBytes.length);
    for (const t of this.typeBytes) types.push(...t);
    section(1, types);
    // 2: imports
    const imports: number[] = [];
    unsignedLeb(imports, this.funcImports.length + (this.memory ? 1 : 0));
    for (const imp of this.funcImports) {
      utf8(imports, imp.module);
      utf8(imports, imp.field);
      imports.push(0x00);
      unsignedLeb(imports, imp.typeIndex);
    }
    if (this.memory) {
      const m = this.memory;
      utf8(imports, m.module);
      utf8(imports, m.field);
      imports.push(0x02);
      const flags = (m.maximum !== undefined ? 1 : 0) | (m.shared ? 2 : 0);
      imports.push(flags);
      unsignedLeb(imports, m.initial);
      if (m.maximum !== undefined) unsignedLeb(imports, m.maximum);
    }
    section(2, imports);
    // 3: function declarations
    const decls: number[] = [];
    unsignedLeb(decls, this.funcs.length);
    for (const f of this.funcs) unsignedLeb(decls, f.typeIndex);
    section(3, decls);
    // 7: exports
    const exported = this.funcs
      .map((f, i) => ({ name: f.name, index: this.funcImports.length + i }))
      .filter((e): e is { name: string; index: number } => e.name !== undefined);
    const exports: number[] = [];
    unsignedLeb(exports, exported.length);
    for (const e of exported) {
      utf8(exports, e.name);
      exports.push(0x00);
      unsignedLeb(exports, e.index);
    }
    section(7, exports);
    // 10: code
    const code: number[] = [];
    unsignedLeb(code, this.funcs.length);
    for (const f of this.funcs) {
      const body: number[] = [];
      // Locals, run-length encoded by type.
      const runs: [number, ValType][] = [];
      for (const t of f.code.localTypes) {
        const last = runs[runs.length - 1];
        if (last !== undefined && last[1] === t) last[0]++;
        else runs.push([1, t]);
      }
      unsignedLeb(body, runs.length);
      for (const [count, t] of runs) {
        unsignedLeb(body, count);
        body.push(t);
      }
      for (const b of f.code.bytes) body.push(b);
      body.push(0x0b);
      unsignedLeb(code, body.length);
      for (const b of body) code.push(b);
    }
    section(10, code);
    return new Uint8Array(out);
  }
}

/** Whether the runtime validates a module that uses `f32x4.relaxed_madd`. */
export function hasRelaxedSimd(): boolean {
  return validates((c) => {
    c.f32(0).simd(Simd.f32x4_splat).f32(0).simd(Simd.f32x4_splat).f32(0).simd(Simd.f32x4_splat);
    c.simd(Simd.f32x4_relaxed_madd).op(Op.drop);
  });
}

/** Whether the runtime validates a module that uses 128-bit SIMD. */
export function hasSimd(): boolean {
  return validates((c) => {
    c.f32(1).simd(Simd.f32x4_splat).op(Op.drop);
  });
}

function validates(build: (c: Code) => void): boolean {
  if (typeof WebAssembly !== "object") return false;
  const m = new ModuleBuilder();
  m.addFunction("f", [], [], build);
  try {
    return WebAssembly.validate(m.finish());
  } catch {
    return false;
  }
}
