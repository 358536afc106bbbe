/**
 * The opcode table (backends/wasm/opcodes.ts) is the only place opcode
 * numbers are written: no two names may share a number (a copy-paste slip
 * would emit the wrong instruction), and a module using an entry of each
 * kind validates.
 */
import { describe, expect, it } from "vitest";
import { F64, ModuleBuilder, hasSimd } from "../src/backends/wasm/emitter.js";
import { Op, Simd } from "../src/backends/wasm/opcodes.js";

function duplicates(table: Record<string, number>): string[] {
  const byValue = new Map<number, string[]>();
  for (const [name, value] of Object.entries(table)) {
    byValue.set(value, [...(byValue.get(value) ?? []), name]);
  }
  return [...byValue.values()].filter((names) => names.length > 1).map((n) => n.join(" = "));
}

describe("wasm opcode table", () => {
  it("has one number per name", () => {
    expect(duplicates(Op)).toEqual([]);
    expect(duplicates(Simd)).toEqual([]);
  });

  it("emits a valid module from named opcodes", () => {
    const mb = new ModuleBuilder();
    mb.addFunction("f", [F64, F64], [F64], (c) => {
      c.get(0).get(1).op(Op.f64_add).f64(2).op(Op.f64_mul);
      if (hasSimd()) c.get(0).simd(Simd.f64x2_splat).simd(Simd.f64x2_neg).op(Op.drop);
    });
    const bytes = mb.finish();
    expect(WebAssembly.validate(bytes)).toBe(true);
    const f = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f as (
      a: number,
      b: number,
    ) => number;
    expect(f(1.5, 2)).toBe((1.5 + 2) * 2);
  });
});
