/**
 * Section 4 (seeds 002 and 004): derivatives of derivatives. f(x) = x^3 and
 * f', f'', f''' on a grid, each by vmap of nested grad, against 3x^2, 6x, 6.
 * Live: the experiment is s04-higher.live.js (editable in the live page).
 */
import { runLiveCode, type LiveCode } from "../lib/live.js";
import { METHOD_COLORS, Plot, colorScale, plotSvg } from "../lib/plot.js";
import { checkWorst, requireLiveSource, type Section, type SectionResult } from "../lib/types.js";

const live: LiveCode = {
  file: "s04-higher.live.js",
  caption: "Nested grad under vmap (live: edit and run)",
  outputs: { xs: "object", values: "object", byHand: "object", names: "object" },
};

/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  xs: number[];
  /** values[k][i]: the k-th function (f, f', ...) at xs[i], by chainrule. */
  values: number[][];
  /** byHand[k][i]: the same by the hand-derived formula. */
  byHand: number[][];
  names: string[];
}

const SERIES_COLORS = [
  METHOD_COLORS.function,
  METHOD_COLORS.chainrule,
  METHOD_COLORS.second,
  METHOD_COLORS.dual,
  METHOD_COLORS.reverse,
  METHOD_COLORS.finiteDifferences,
];

export const higher: Section = {
  id: "higher",
  title: "4. Higher derivatives: vmap of nested grad",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const { xs, values, byHand, names } = runLiveCode(
      this.id,
      live,
      source,
      opts.quick,
    ) as unknown as Values;
    const rows = names.flatMap((name, k) =>
      xs.map((x, i) => ({ x, y: values[k]![i]!, series: name })),
    );
    // The first entry is f itself; the checks are on its derivatives.
    const checks = names
      .slice(1)
      .map((name, k) =>
        checkWorst(`${name} by vmap`, values[k + 1]!, byHand[k + 1]!, "analytic", 1e-14),
      );
    return {
      id: this.id,
      title: this.title,
      explanation:
        "grad returns an ordinary function, so it can be differentiated again; vmap maps the scalar " +
        "derivative over a whole grid without a loop. Three nested grads of x^3 give 3x^2, 6x and the " +
        "constant 6, exactly.",
      code: [{ caption: live.caption, source, live: true }],
      checks,
      figures: [
        {
          caption:
            "x^3 and its first three derivatives, each computed by vmap(grad(...)) on the grid.",
          svg: plotSvg({
            color: colorScale(
              names,
              names.map((_, k) => SERIES_COLORS[k % SERIES_COLORS.length]!),
            ),
            y: { grid: true, label: "value" },
            marks: [
              Plot.ruleY([0], { stroke: "#ccc" }),
              Plot.line(rows, { x: "x", y: "y", stroke: "series", strokeWidth: 2 }),
            ],
          }),
        },
      ],
    };
  },
};
