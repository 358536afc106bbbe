/**
 * Section 17 (seed 004, sensitivity analysis): the Lotka–Volterra
 * predator–prey model
 *
 *   dx/dt = α x − β x y,   dy/dt = δ x y − γ y,   θ = (α, β, δ, γ)
 *
 * solved with ode.odeint (adaptive Dormand–Prince). The sensitivities
 * ∂y(t)/∂θ of the whole solution come from forward mode (jacfwd through the
 * solver) and, at a few times, from reverse mode with both adjoints
 * ("checkpoint": the solver's steps differentiated; "backsolve": the
 * continuous adjoint ODE integrated backwards). Reference: central finite
 * differences of a plain-JS fixed-step RK4 solution (step 1e-3), which also
 * checks the solution itself. Live: the model, the solve and the derivatives
 * are s17-sensitivity.live.js (the page reruns it with the shorter `quick`
 * times); this module keeps the plain-JS RK4 reference (its own copy of the
 * vector field, with the live code's theta and y0), the checks and figures.
 */
import { liveCodeBlock, runLiveCode, type LiveCode } from "../lib/live.js";
import { Plot, maxAbsDiff, plotSvg } from "../lib/plot.js";
import {
  check,
  checkWorst,
  requireLiveSource,
  type Check,
  type Section,
  type SectionResult,
} from "../lib/types.js";

const live: LiveCode = {
  file: "s17-sensitivity.live.js",
  caption: "The model, the solve, jacfwd and both adjoints (live: edit and run)",
  outputs: {
    theta0: "object",
    y0: "object",
    tol: "object",
    tEnd: "number",
    nt: "number",
    times: "object",
    solution: "object",
    jac: "object",
    ks: "object",
    checkpointRows: "object",
    backsolveRows: "object",
    seconds: "object",
  },
  quickInPage: true,
};

/** One reverse-mode row: dy_s(t_k)/dtheta for all parameters. */
interface ReverseRow {
  k: number;
  s: number;
  g: number[];
}
/** The values the live code defines (checked by kind in runLiveCode). */
interface Values {
  theta0: number[];
  y0: number[];
  tol: { rtol: number; atol: number };
  tEnd: number;
  nt: number;
  times: number[];
  solution: number[][];
  jac: number[][][];
  ks: number[];
  checkpointRows: ReverseRow[];
  backsolveRows: ReverseRow[];
  seconds: Record<string, number>;
}

const THETA_NAMES = ["α", "β", "δ", "γ"];
const STATE_NAMES = ["prey x", "predator y"];

/** The same model in plain JS, solved by classical RK4 with step dt; y at the times ts. */
function solveJs(theta: number[], y0: number[], ts: number[], dt: number): number[][] {
  const [a, b, d, g] = theta as [number, number, number, number];
  const f = (x: number, y: number): [number, number] => [a * x - b * x * y, d * x * y - g * y];
  let [x, y] = y0 as [number, number];
  let t = ts[0]!;
  const out: number[][] = [[x, y]];
  for (const target of ts.slice(1)) {
    const n = Math.max(1, Math.round((target - t) / dt));
    const h = (target - t) / n;
    for (let s = 0; s < n; s++) {
      const k1 = f(x, y);
      const k2 = f(x + (h / 2) * k1[0], y + (h / 2) * k1[1]);
      const k3 = f(x + (h / 2) * k2[0], y + (h / 2) * k2[1]);
      const k4 = f(x + h * k3[0], y + h * k3[1]);
      x += (h / 6) * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]);
      y += (h / 6) * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]);
    }
    t = target;
    out.push([x, y]);
  }
  return out;
}

export const sensitivity: Section = {
  id: "sensitivity",
  title: "17. Sensitivity analysis: an ODE solution differentiated by forward and reverse mode",
  live,
  run(opts, liveSource): SectionResult {
    const source = requireLiveSource(this, liveSource);
    const v = runLiveCode(this.id, live, source, opts.quick) as unknown as Values;
    const { theta0: THETA, y0: Y0, tol: TOL, tEnd, nt, times, solution, jac, ks } = v;
    const { checkpointRows, backsolveRows, seconds } = v;
    const rev = { checkpoint: checkpointRows, backsolve: backsolveRows };

    // Reference: the plain-JS RK4 solution and its central differences in each θ_j.
    const dt = 1e-3;
    const ref = solveJs(THETA, Y0, times, dt);
    const fd = THETA.map((p, j) => {
      const h = 1e-5 * Math.max(Math.abs(p), 1);
      const plus = THETA.slice();
      const minus = THETA.slice();
      plus[j] = p + h;
      minus[j] = p - h;
      const yp = solveJs(plus, Y0, times, dt);
      const ym = solveJs(minus, Y0, times, dt);
      return yp.map((row, k) => row.map((v, s) => (v - ym[k]![s]!) / (2 * h)));
    }); // fd[j][k][s]

    const checks: Check[] = [];
    for (let s = 0; s < 2; s++) {
      checks.push(
        checkWorst(
          `odeint solution, ${STATE_NAMES[s]}`,
          solution.map((r) => r[s]!),
          ref.map((r) => r[s]!),
          "plain-JS RK4, step 1e-3",
          1e-7,
        ),
      );
    }
    THETA.forEach((_, j) => {
      checks.push(
        checkWorst(
          `∂y(t)/∂${THETA_NAMES[j]} by jacfwd, both states at all ${nt} times`,
          jac.flatMap((row) => [row[0]![j]!, row[1]![j]!]),
          fd[j]!.flatMap((row) => row),
          "central FD of the RK4 solution",
          1e-5,
        ),
      );
    });
    for (const adjoint of ["checkpoint", "backsolve"] as const) {
      const rows = rev[adjoint];
      const where = [...new Set(rows.map((r) => times[r.k]!.toFixed(1)))].join(", ");
      checks.push(
        checkWorst(
          `∂y(t)/∂θ by reverse mode (${adjoint} adjoint), t = ${where}`,
          rows.flatMap((r) => r.g),
          rows.flatMap((r) => THETA.map((_, j) => fd[j]![r.k]![r.s]!)),
          "central FD of the RK4 solution",
          1e-5,
        ),
      );
    }
    const cpRows = rev.checkpoint;
    checks.push(
      check(
        "max |reverse (checkpoint) − forward (jacfwd)|: both differentiate the same solver steps",
        maxAbsDiff(
          cpRows.flatMap((r) => r.g),
          cpRows.flatMap((r) => THETA.map((_, j) => jac[r.k]![r.s]![j]!)),
        ),
        0,
        "forward mode (the other AD mode)",
        1e-9,
      ),
    );

    // Figures.
    const solRows = times.flatMap((t, k) =>
      [0, 1].map((s) => ({ t, value: solution[k]![s]!, state: STATE_NAMES[s]! })),
    );
    const every = Math.max(1, Math.round(nt / 25));
    const refRows = times
      .flatMap((t, k) => [0, 1].map((s) => ({ t, k, value: ref[k]![s]!, state: STATE_NAMES[s]! })))
      .filter((r) => r.k % every === 0);
    const sensRows = times.flatMap((t, k) =>
      [0, 1].flatMap((s) =>
        THETA_NAMES.map((name, j) => ({
          t,
          k,
          value: jac[k]![s]![j]!,
          fd: fd[j]![k]![s]!,
          param: `∂/∂${name}`,
          state: STATE_NAMES[s]!,
        })),
      ),
    );
    const revRows = (adjoint: "checkpoint" | "backsolve") =>
      rev[adjoint].flatMap((r) =>
        r.g.map((value, j) => ({
          t: times[r.k]!,
          value,
          param: `∂/∂${THETA_NAMES[j]}`,
          state: STATE_NAMES[r.s]!,
        })),
      );
    const ms = (name: string) => `${(seconds[name]! * 1000).toFixed(0)} ms`;
    return {
      id: this.id,
      title: this.title,
      explanation:
        "Seed 004 names sensitivity analysis as an application of AD: how much does a model's output " +
        "move when a parameter moves? Here the model is an ODE, the Lotka–Volterra predator–prey " +
        "equations, solved by ode.odeint with adaptive Dormand–Prince steps. Forward mode (jacfwd) " +
        "pushes one tangent per parameter through every solver step and gives ∂y(t)/∂θ at all output " +
        "times at once: cheap for few parameters. Reverse mode gives the derivative of one output " +
        "with respect to all parameters per backward pass, in two ways: the 'checkpoint' adjoint " +
        "differentiates the solver's own steps (replayed from checkpoints) and agrees with forward " +
        "mode to rounding; the 'backsolve' adjoint integrates the continuous adjoint ODE backwards in " +
        "time with O(1) memory and agrees to the solver tolerance. All are compared with central " +
        "finite differences of an independent plain-JS RK4 solver.",
      notes: [
        `θ = (α, β, δ, γ) = (${THETA.join(", ")}), y(0) = (${Y0.join(", ")}), ${nt} output times on ` +
          `[0, ${tEnd}], rtol = atol = ${TOL.rtol}.`,
        `Times: solve ${ms("solve")}; jacfwd (${nt} x 2 x 4 Jacobian) ${ms("jacfwd")}; checkpoint ` +
          `adjoint, one vjp + ${rev.checkpoint.length} pullbacks ${ms("checkpoint")}; backsolve ` +
          `adjoint, ${ks.length} vjps (outputs [0, t_k]) + ${rev.backsolve.length} pullbacks ` +
          `${ms("backsolve")}.`,
      ],
      code: [liveCodeBlock(live, source)],
      checks,
      figures: [
        {
          caption:
            "The solution by ode.odeint (lines) and the plain-JS RK4 reference (dots): prey and " +
            "predator populations oscillate out of phase.",
          svg: plotSvg({
            width: 640,
            height: 300,
            marginBottom: 40,
            color: { legend: true, domain: STATE_NAMES },
            x: { label: "time t", labelAnchor: "center", grid: true },
            y: { label: "population", grid: true },
            marks: [
              Plot.line(solRows, { x: "t", y: "value", stroke: "state", strokeWidth: 2 }),
              Plot.dot(refRows, { x: "t", y: "value", stroke: "state", r: 3 }),
            ],
          }),
        },
        {
          caption:
            "Sensitivities ∂y(t)/∂θ: jacfwd (lines), central finite differences of the RK4 solution " +
            "(small circles), reverse mode with the checkpoint adjoint (crosses) and with the " +
            "backsolve adjoint (large diamonds).",
          // One plot per state (each with its own y scale), stacked.
          svg: STATE_NAMES.map((state, s) => {
            const mine = <T extends { state: string }>(rows: T[]) =>
              rows.filter((r) => r.state === state);
            return plotSvg({
              width: 640,
              height: 300,
              marginBottom: 40,
              color: { legend: s === 0, domain: THETA_NAMES.map((n) => `∂/∂${n}`) },
              x: { label: "time t", labelAnchor: "center", grid: true },
              y: { label: `∂(${state})/∂θ`, grid: true },
              marks: [
                Plot.ruleY([0], { stroke: "#bbb" }),
                Plot.line(mine(sensRows), { x: "t", y: "value", stroke: "param" }),
                Plot.dot(
                  mine(sensRows).filter((r) => r.k % every === 0),
                  { x: "t", y: "fd", stroke: "param", r: 2 },
                ),
                Plot.dot(mine(revRows("checkpoint")), {
                  x: "t",
                  y: "value",
                  stroke: "param",
                  symbol: "times",
                  r: 5,
                  strokeWidth: 2,
                }),
                Plot.dot(mine(revRows("backsolve")), {
                  x: "t",
                  y: "value",
                  stroke: "param",
                  symbol: "diamond",
                  r: 8,
                  strokeWidth: 1.5,
                }),
              ],
            });
          }).join(""),
        },
      ],
    };
  },
};
