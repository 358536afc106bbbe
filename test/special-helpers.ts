/**
 * Shared helpers for the special-function, np elementwise and stats cdf
 * tests: the mpmath fixture (scripts/special-fixtures.py), ulp distances in
 * float64 and float32, and central finite differences of scalar functions.
 */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { type Array as NdArray, np } from "../src/index.js";

type Value = number | string;
/** One fixture table: argument columns and the reference y (float64 nearest the exact value). */
export type Table = Record<string, Value[]>;

/** The fixture, keyed by function name. */
export const FIXTURE = JSON.parse(
  readFileSync(new URL("./fixtures/special.json", import.meta.url), "utf8"),
) as Record<string, Table>;

/** A fixture entry as a number ("NaN", "Infinity" and "-Infinity" are strings in JSON). */
export const num = (v: Value): number => (typeof v === "string" ? Number(v) : v);
/** A fixture column as numbers. */
export const column = (t: Table, name: string): number[] => t[name]!.map(num);

const view = new DataView(new ArrayBuffer(8));
/** The position of a float64 on the number line of floats (monotone, -0 = +0). */
function ordinal64(v: number): bigint {
  view.setFloat64(0, v);
  const n = view.getBigInt64(0);
  return n < 0n ? -(n & 0x7fffffffffffffffn) : n;
}
function ordinal32(v: number): number {
  view.setFloat32(0, v);
  const n = view.getInt32(0);
  return n < 0 ? -(n & 0x7fffffff) : n;
}
/** How many float64 values lie between a and b (0 when equal or both NaN; Infinity for a NaN/inf mismatch). */
export function ulps64(a: number, b: number): number {
  if (Object.is(a, b) || a === b || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  const d = ordinal64(a) - ordinal64(b);
  return Number(d < 0n ? -d : d);
}
/** The same in float32 steps (both rounded to float32 first). */
export function ulps32(a: number, b: number): number {
  const x = Math.fround(a);
  const y = Math.fround(b);
  if (x === y || (Number.isNaN(x) && Number.isNaN(y))) return 0;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return Infinity;
  return Math.abs(ordinal32(x) - ordinal32(y));
}

/**
 * Evaluates f on the fixture's argument columns (as float64 arrays, one call)
 * and returns the worst ulp distance to y with the point where it occurs.
 * `tolerance(args, ref)` may widen the bound per point (in ulps).
 */
export function worstUlps(
  t: Table,
  args: readonly string[],
  f: (...xs: NdArray[]) => NdArray,
): { worst: number; at: number[]; got: number[] } {
  const cols = args.map((a) => column(t, a));
  const y = column(t, "y");
  const got = Array.from(f(...cols.map((c) => np.array(c))).data());
  let worst = 0;
  let at: number[] = [];
  got.forEach((g, i) => {
    const d = ulps64(g, y[i]!);
    if (d > worst) {
      worst = d;
      at = [...cols.map((c) => c[i]!), g, y[i]!];
    }
  });
  return { worst, at, got };
}

/** Asserts that f matches the fixture table within `bound` float64 ulps at every point. */
export function expectUlps(
  name: string,
  t: Table,
  args: readonly string[],
  f: (...xs: NdArray[]) => NdArray,
  bound: number,
): void {
  const { worst, at } = worstUlps(t, args, f);
  expect(
    worst,
    `${name}: ${worst} ulps at (args, got, want) = ${at.join(", ")}`,
  ).toBeLessThanOrEqual(bound);
}

/** Central difference of a scalar function (float64), step h. */
export function central(f: (x: number) => number, x: number, h = 1e-6): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

/** |a - e| <= atol + rtol |e|, naming what failed. */
export function expectNear(a: number, e: number, rtol: number, atol: number, what: string): void {
  expect(Math.abs(a - e) <= atol + rtol * Math.abs(e), `${what}: got ${a}, expected ${e}`).toBe(
    true,
  );
}
