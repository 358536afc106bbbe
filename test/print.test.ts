/**
 * Printing against NumPy: test/fixtures/print.json holds arrays and NumPy's
 * own repr() of each (written by scripts/print-fixtures.py with NumPy), and
 * toString() must give the same text; console.log in Node uses it too.
 */
import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { type DType, jit, np, vmap } from "../src/index.js";

interface Case {
  name: string;
  dtype: DType;
  shape: number[];
  data: (number | boolean | string)[];
  numpy: string;
}
const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/print.json", import.meta.url), "utf8"),
) as { numpy: string; cases: Case[] };

const decode = (v: number | boolean | string): number | boolean =>
  v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : (v as number | boolean);

const build = (c: Case) => {
  const flat = c.data.map(decode);
  const typed =
    c.dtype === "float32"
      ? Float32Array.from(flat as number[])
      : c.dtype === "int32"
        ? Int32Array.from(flat as number[])
        : c.dtype === "bool"
          ? Uint8Array.from(flat.map(Number))
          : Float64Array.from(flat as number[]);
  return np.array(typed, { dtype: c.dtype, shape: c.shape });
};

describe(`toString matches NumPy ${fixture.numpy}'s repr`, () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      expect(build(c).toString()).toBe(c.numpy);
    });
  }
});

describe("Node's console.log and util.inspect", () => {
  it("show the NumPy text for arrays and the aval for tracers", () => {
    const c = fixture.cases.find((k) => k.name === "float32 matrix")!;
    expect(inspect(build(c))).toBe(c.numpy);
    let seen = "";
    vmap((row) => {
      seen = inspect(row);
      return row;
    })(np.ones([2, 3]));
    expect(seen).toBe("Traced<float64[3]>");
    jit((x) => {
      seen = inspect(x);
      return x;
    })(np.ones([4], { dtype: "float32" }));
    expect(seen).toBe("Traced<float32[4]>");
  });
});
