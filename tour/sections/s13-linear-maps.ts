/**
 * Section 13 (seed 002): matrix-free linear maps. A program that only
 * computes matrix-vector products still determines its matrix: jvp on basis
 * vectors recovers it column by column, vjp on basis vectors row by row.
 * Then graph_like vs matrix_like (the same matrix from a DAG that "reaches
 * over" a layer), and the seed's hand-written JVP/VJP of
 * z = x1*x2 + x2, whose VJP printout (5, 2) is a bug in the seed. Live: the
 * experiment is s13-linear-maps.live.js (editable in the live page).
 */
import type { Array } from "../../src/index.js";
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { METHOD_COLORS, Plot, plotSvg } from "../lib/plot.js";
import { check, requireLiveSource, type Section, type SectionResult } from "../lib/types.js";

const live: LiveCode = {
  file: "s13-linear-maps.live.js",
  caption:
    "Recovering the matrix from jvp and vjp; graph_like and matrix_like; the seed's Derivatives example (live: edit and run)",
  outputs: {
    byColumns: "object",
    byRows: "object",
    graphM: "object",
    matrixM: "object",
    z: "object",
    dz1: "object",
    dz2: "object",
    g1: "object",
    g2: "object",
  },
};

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  byColumns: Array;
  byRows: Array;
  graphM: Array;
  matrixM: Array;
  z: Array;
  dz1: Array;
  dz2: Array;
  g1: Array;
  g2: Array;
}

/** The seed's hand-written VJP, transcribed as printed (sum_vjp gets x1's slot, not x2's). */
function seedFunctionVjp(x1: number, x2: number, dz: number): [number, [number, number]] {
  const y = x1 * x2;
  const out = y + x2;
  let dy = 0;
  let dx1 = 0;
  let dx2 = 0;
  // sum_vjp(y, x1, dy, dx1, dz): the seed passes dx1 where z = y + x2 needs dx2
  dy += dz;
  dx1 += dz;
  // mul_vjp(x1, x2, dx1, dx2, dy)
  dx2 += dy * x1;
  dx1 += dy * x2;
  return [out, [dx1, dx2]];
}

const show = (m: Array) => JSON.stringify(m.toArray());

export const linearMaps: Section = {
  id: "linear-maps",
  title: "13. Matrix-free linear maps: columns by jvp, rows by vjp",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const { byColumns, byRows, graphM, matrixM, z, dz1, dz2, g1, g2 } = v;
    const expected = [
      [2, 0, 0],
      [0, 1, 3],
    ];
    const expectedGraph = [
      [2, 1, 2],
      [-2, -1, 1],
    ];
    const flatEq = (m: Array, e: number[][]) => {
      const got = globalThis.Array.from(m.data());
      return Math.max(...e.flat().map((v, i) => Math.abs(v - got[i]!)));
    };
    const [seedZ, [seedD1, seedD2]] = seedFunctionVjp(2, 4, 1);
    return {
      id: this.id,
      title: this.title,
      seed:
        'seed 002 "IML 2022 -- Tutorial on Automatic Differentiation": "Recovering Matrix Elements from ' +
        'matrix-free computations", "From Matrices to Graphs" and "Derivatives / Example"',
      explanation:
        "A linear map that is only available as a program (matrix-free) still has a matrix: feeding " +
        "basis vectors to the matrix-vector program gives it one column at a time, feeding them to the " +
        "vector-matrix program one row at a time. For a program that is not linear, jvp and vjp are " +
        "exactly these two programs for its Jacobian at a point, so a wide Jacobian (few outputs) is " +
        "cheaper by rows (reverse mode) and a tall one by columns (forward mode). A DAG that reaches " +
        "over a layer (graph_like) and its layered version with a dummy node (matrix_like) give the " +
        "same matrix.",
      notes: [
        `The seed's hand-written VJP prints (12, [5.0, 2.0]) but the gradient of z = x1*x2 + x2 at ` +
          `(2, 4) is (x2, x1 + 1) = (4, 3), as the seed's own JVP cells show ((12, 4) and (12, 3)). ` +
          `In function_vjp, sum_vjp(y, x1, dy, dx1, dz) routes the cotangent of the sum's second ` +
          `operand, x2, into dx1. Transcribed as printed it gives (${seedZ}, [${seedD1}, ${seedD2}]); ` +
          `chainrule's vjp gives [${g1.item()}, ${g2.item()}].`,
      ],
      code: [{ caption: live.caption, source, live: true }],
      seedValues: [
        {
          what: "M derived from matrix-vector products",
          seed: "[[2 0 0]\n [0 1 3]]",
          chainrule: show(byColumns),
        },
        {
          what: "M derived from vector-matrix products",
          seed: "[[2 0 0]\n [0 1 3]]",
          chainrule: show(byRows),
        },
        {
          what: "M derived from matrix like computation",
          seed: "[[ 2  1  2]\n [-2 -1  1]]",
          chainrule: show(matrixM),
        },
        {
          what: "M derived from graph-like products",
          seed: "[[ 2  1  2]\n [-2 -1  1]]",
          chainrule: show(graphM),
        },
        {
          what: "function_jvp([2,4],[1,0])",
          seed: "(12, 4)",
          chainrule: `(${z.item()}, ${dz1.item()})`,
        },
        {
          what: "function_jvp([2,4],[0,1])",
          seed: "(12, 3)",
          chainrule: `(${z.item()}, ${dz2.item()})`,
        },
        {
          what: "function_vjp([2,4],1.0)",
          seed: "(12, [5.0, 2.0])",
          chainrule: `(${z.item()}, [${g1.item()}, ${g2.item()}])`,
          note: "the seed is wrong here: its sum_vjp call uses x1's slot for x2 (see the note above)",
        },
      ],
      checks: [
        check(
          "matrix by jvp columns: max |entry - seed's|",
          flatEq(byColumns, expected),
          0,
          "seed's printed M",
          0,
        ),
        check(
          "matrix by vjp rows: max |entry - seed's|",
          flatEq(byRows, expected),
          0,
          "seed's printed M",
          0,
        ),
        check(
          "graph_like Jacobian: max |entry - seed's|",
          flatEq(graphM, expectedGraph),
          0,
          "seed's printed M",
          0,
        ),
        check(
          "matrix_like Jacobian: max |entry - seed's|",
          flatEq(matrixM, expectedGraph),
          0,
          "seed's printed M",
          0,
        ),
        check("dz/dx1 at (2, 4) by vjp", g1.item(), 4, "analytic x2", 0),
        check("dz/dx2 at (2, 4) by vjp", g2.item(), 3, "analytic x1 + 1", 0),
        check("dz/dx1 by jvp", dz1.item(), g1.item(), "vjp (the other mode)", 0),
        check("dz/dx2 by jvp", dz2.item(), g2.item(), "vjp (the other mode)", 0),
      ],
      figures: [
        {
          caption:
            "The recovered matrix (rows: outputs i = 0, 1; columns: inputs j = 0, 1, 2): each column from one jvp (blue outline), each row from one vjp (violet dashed band); both give [[2, 0, 0], [0, 1, 3]].",
          svg: plotSvg({
            width: 360,
            height: 200,
            marginLeft: 60,
            marginTop: 30,
            x: { label: null, domain: [0, 1, 2], axis: "top" },
            y: { label: null, domain: [0, 1] },
            marks: [
              Plot.cell(
                [0, 1].flatMap((i) =>
                  [0, 1, 2].map((j) => ({ i, j, v: (byColumns.toArray() as number[][])[i]![j]! })),
                ),
                { x: "j", y: "i", fill: (d: { v: number }) => (d.v === 0 ? "#f3f4f7" : "#dbe7fb") },
              ),
              Plot.cell(
                [0, 1, 2].map((j) => ({ j })),
                { x: "j", fill: "none", stroke: METHOD_COLORS.forward, strokeWidth: 2, inset: 3 },
              ),
              Plot.text(
                [0, 1].flatMap((i) =>
                  [0, 1, 2].map((j) => ({ i, j, v: (byRows.toArray() as number[][])[i]![j]! })),
                ),
                { x: "j", y: "i", text: "v", fontSize: 18 },
              ),
              Plot.cell(
                [0, 1].map((i) => ({ i })),
                {
                  y: "i",
                  fill: "none",
                  stroke: METHOD_COLORS.reverse,
                  strokeWidth: 1.5,
                  strokeDasharray: "4 3",
                  inset: 8,
                },
              ),
            ],
          }),
        },
      ],
    };
  },
};
