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

import {
  EMPTY_BLOCK,
  F32,
  F64,
  I32,
  I64,
  Op,
  SIMD_PREFIX,
  Simd,
  V128,
  type ValType,
} from "./opcodes.js";

// The opcode table lives in opcodes.ts; kernels import it from here or there.
export { F32, F64, I32, I64, Op, Simd, V128, type ValType };

/** Bytes of the module structure (not instructions), from the binary format. */
const MAGIC_AND_VERSION = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // "\0asm", version 1
const FUNC_TYPE = 0x60; // form of a function type in the type section
const EXTERNAL_FUNCTION = 0x00; // kind of an imported or exported function
const EXTERNAL_MEMORY = 0x02; // kind of an imported memory

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
    this.bytes.push(SIMD_PREFIX);
    unsignedLeb(this.bytes, opcode);
    return this;
  }
  /** i8x16.shuffle of the two vectors on the stack by 16 byte-lane indices (0..31). */
  shuffle(lanes: readonly number[]): this {
    this.simd(Simd.i8x16_shuffle);
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
  /** A plain memory access (e.g. Op.f64_load) with alignment and offset. */
  mem(opcode: number, alignLog2: number, offset = 0): this {
    this.bytes.push(opcode);
    unsignedLeb(this.bytes, alignLog2);
    unsignedLeb(this.bytes, offset);
    return this;
  }
  get(i: number): this {
    this.bytes.push(Op.local_get);
    unsignedLeb(this.bytes, i);
    return this;
  }
  set(i: number): this {
    this.bytes.push(Op.local_set);
    unsignedLeb(this.bytes, i);
    return this;
  }
  tee(i: number): this {
    this.bytes.push(Op.local_tee);
    unsignedLeb(this.bytes, i);
    return this;
  }
  i32(n: number): this {
    this.bytes.push(Op.i32_const);
    signedLeb(this.bytes, n);
    return this;
  }
  f32(x: number): this {
    this.bytes.push(Op.f32_const);
    const b = new Uint8Array(new Float32Array([x]).buffer);
    this.bytes.push(...b);
    return this;
  }
  f64(x: number): this {
    this.bytes.push(Op.f64_const);
    const b = new Uint8Array(new Float64Array([x]).buffer);
    this.bytes.push(...b);
    return this;
  }
  call(funcIndex: number): this {
    this.bytes.push(Op.call);
    unsignedLeb(this.bytes, funcIndex);
    return this;
  }
  block(): this {
    this.bytes.push(Op.block, EMPTY_BLOCK);
    return this;
  }
  loop(): this {
    this.bytes.push(Op.loop, EMPTY_BLOCK);
    return this;
  }
  if(): this {
    this.bytes.push(Op.if, EMPTY_BLOCK);
    return this;
  }
  /** `if` whose two arms each leave one value of type `t`. */
  ifResult(t: ValType): this {
    this.bytes.push(Op.if, t);
    return this;
  }
  else(): this {
    this.bytes.push(Op.else);
    return this;
  }
  end(): this {
    this.bytes.push(Op.end);
    return this;
  }
  /** Branch to the `depth`-th enclosing label (0 = innermost). */
  br(depth: number): this {
    this.bytes.push(Op.br);
    unsignedLeb(this.bytes, depth);
    return this;
  }
  brIf(depth: number): this {
    this.bytes.push(Op.br_if);
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
    const b: number[] = [FUNC_TYPE];
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
    const out: number[] = [...MAGIC_AND_VERSION];
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
      imports.push(EXTERNAL_FUNCTION);
      unsignedLeb(imports, imp.typeIndex);
    }
    if (this.memory) {
      const m = this.memory;
      utf8(imports, m.module);
      utf8(imports, m.field);
      imports.push(EXTERNAL_MEMORY);
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
      exports.push(EXTERNAL_FUNCTION);
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
      body.push(Op.end);
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
