/**
 * Runge–Kutta methods for `ode.odeint`: one step from (t, y, f(y, t)) with
 * step h, an error estimate for step-size control, and dense output (the
 * solution between the step's ends, for the output times).
 *
 *   dopri5   Dormand–Prince 5(4), FSAL, Shampine's 4th-order dense output
 *   tsit5    Tsitouras 5(4), FSAL, Tsitouras' 4th-order dense output
 *   rk4      classic fixed-step RK4, cubic Hermite dense output
 *   trbdf2   TR-BDF2 (Hosea–Shampine's ESDIRK form), L-stable, 2nd order
 *            with a 3rd-order embedded estimate, stages by Newton's method
 *            with Jacobians from jacfwd; cubic Hermite dense output
 *
 * Everything is written with np operations on a flat float64 state vector,
 * so a step runs eagerly, under every transformation, and staged under jit.
 */
import { type Array } from "../core/array.js";
import * as np from "../numpy/index.js";
import { jacfwd } from "../transforms/jacobian.js";

/** The right-hand side on the flat state: F(y, t) with y of shape [d], t 0-d. */
export type Rhs = (y: Array, t: Array) => Array;

/** Error tolerances: a component's error scale is atol + rtol |y|. */
export interface Tolerances {
  rtol: number;
  atol: number;
}

export interface StepResult {
  /** The state at t + h. */
  y1: Array;
  /** F(y1, t + h) (the first stage of the next step). */
  f1: Array;
  /** The local error estimate (shape [d]); null for a fixed-step method. */
  err: Array | null;
  /** Values the dense output needs (stage derivatives). */
  ks: Array[];
  /** A lower bound for the error ratio: 0-d, > 1 forces a rejection (Newton failed). */
  ratioFloor: Array | null;
}

export interface Method {
  readonly name: string;
  /** Whether steps adapt (false: fixed step `dt`). */
  readonly adaptive: boolean;
  /** The error estimate is O(h^errorOrder): the controller's exponents are 1/errorOrder. */
  readonly errorOrder: number;
  /** The order used to pick the first step. */
  readonly order: number;
  step(F: Rhs, t: Array, y: Array, f0: Array, h: Array, tol: Tolerances): StepResult;
  /** The solution at t + θh for θ of shape [m]: shape [m, d]. */
  interp(y0: Array, y1: Array, f0: Array, f1: Array, ks: Array[], h: Array, theta: Array): Array;
}

/** Σ cᵢ vᵢ over the non-zero coefficients (all vectors of one shape). */
function combine(coeffs: readonly number[], vs: readonly Array[]): Array {
  let acc: Array | null = null;
  coeffs.forEach((c, i) => {
    if (c === 0) return;
    const term = np.multiply(c, vs[i]!);
    acc = acc === null ? term : np.add(acc, term);
  });
  return acc ?? np.zerosLike(vs[0]!);
}

/** An explicit, FSAL Runge–Kutta pair given by its tableau (last row of A = b). */
interface Tableau {
  c: readonly number[];
  /** Rows 2..s of A (row i has i - 1 entries); the last row is b (FSAL). */
  a: readonly (readonly number[])[];
  /** b − b̂: the error estimate is h Σ eᵢ kᵢ. */
  e: readonly number[];
}

function explicitStep(tab: Tableau, F: Rhs, t: Array, y: Array, f0: Array, h: Array): StepResult {
  const ks: Array[] = [f0];
  let yStage = y;
  tab.a.forEach((row, i) => {
    yStage = np.add(y, np.multiply(h, combine(row, ks)));
    ks.push(F(yStage, np.add(t, np.multiply(tab.c[i + 1]!, h))));
  });
  const f1 = ks[ks.length - 1]!;
  return {
    y1: yStage,
    f1,
    err: np.multiply(h, combine(tab.e, ks)),
    ks,
    ratioFloor: null,
  };
}

/** θ of shape [m] as a column [m, 1], to broadcast against state vectors [d]. */
const column = (theta: Array): Array => np.reshape(theta, [theta.shape[0]!, 1]);

/** Cubic Hermite interpolation from both ends' values and derivatives (3rd order). */
function hermite(y0: Array, y1: Array, f0: Array, f1: Array, h: Array, theta: Array): Array {
  const s = column(theta);
  const s2 = np.square(s);
  const s3 = np.multiply(s2, s);
  const h00 = np.add(np.subtract(np.multiply(2, s3), np.multiply(3, s2)), 1);
  const h10 = np.add(np.subtract(s3, np.multiply(2, s2)), s);
  const h01 = np.subtract(np.multiply(3, s2), np.multiply(2, s3));
  const h11 = np.subtract(s3, s2);
  return np.add(
    np.add(np.multiply(h00, y0), np.multiply(h01, y1)),
    np.multiply(h, np.add(np.multiply(h10, f0), np.multiply(h11, f1))),
  );
}

// Dormand & Prince (1980), RK5(4)7FM.
const DOPRI5: Tableau = {
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1],
  a: [
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
  ],
  // b − b̂ with b̂ = (5179/57600, 0, 7571/16695, 393/640, −92097/339200, 187/2100, 1/40)
  e: [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40],
};

// Shampine's (1986) 4th-order continuous extension of DOPRI5 (as in Hairer's DOPRI5 code):
// y(θ) = y0 + θ(Δ + (1−θ)(B + θ(C + (1−θ) D))), Δ = y1 − y0, B = h k1 − Δ,
// C = Δ − h k7 − B, D = h Σ dᵢ kᵢ.
const DOPRI5_DENSE = [
  -12715105075 / 11282082432,
  0,
  87487479700 / 32700410799,
  -10690763975 / 1880347072,
  701980252875 / 199316789632,
  -1453857185 / 822651844,
  69997945 / 29380423,
];

export const dopri5: Method = {
  name: "dopri5",
  adaptive: true,
  errorOrder: 5,
  order: 5,
  step: (F, t, y, f0, h) => explicitStep(DOPRI5, F, t, y, f0, h),
  interp(y0, y1, _f0, _f1, ks, h, theta) {
    const s = column(theta);
    const oneMinus = np.subtract(1, s);
    const delta = np.subtract(y1, y0);
    const bspl = np.subtract(np.multiply(h, ks[0]!), delta);
    const c = np.subtract(np.subtract(delta, np.multiply(h, ks[6]!)), bspl);
    const d = np.multiply(h, combine(DOPRI5_DENSE, ks));
    const inner = np.add(bspl, np.multiply(s, np.add(c, np.multiply(oneMinus, d))));
    return np.add(y0, np.multiply(s, np.add(delta, np.multiply(oneMinus, inner))));
  },
};

// Tsitouras (2011), "Runge–Kutta pairs of order 5(4) satisfying only the first column
// simplifying assumption", Table 1 (float64 values of the published coefficients).
const TSIT5: Tableau = {
  c: [0, 0.161, 0.327, 0.9, 0.9800255409045097, 1, 1],
  a: [
    [0.161],
    [-0.008480655492356989, 0.335480655492357],
    [2.8971530571054935, -6.359448489975075, 4.3622954328695815],
    [5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525],
    [
      5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401,
      -0.028269050394068383,
    ],
    [
      0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081,
      2.324710524099774,
    ],
  ],
  e: [
    -0.001780011052225777, -0.0008164344596567469, 0.007880878010261995, -0.1447110071732629,
    0.5823571654525552, -0.45808210592918697, 0.015151515151515152,
  ],
};

// Tsitouras' dense output: bᵢ(θ) = Σⱼ rᵢⱼ θʲ (j = 1..4), y(θ) = y0 + h Σ bᵢ(θ) kᵢ.
const TSIT5_DENSE: readonly (readonly number[])[] = [
  [1, -2.763706197274826, 2.9132554618219126, -1.0530884977290216],
  [0, 0.13169999999999998, -0.2234, 0.1017],
  [0, 3.9302962368947516, -5.941033872131505, 2.490627285651253],
  [0, -12.411077166933676, 30.33818863028232, -16.548102889244902],
  [0, 37.50931341651104, -88.1789048947664, 47.37952196281928],
  [0, -27.896526289197286, 65.09189467479366, -34.87065786149661],
  [0, 1.5, -4, 2.5],
];

export const tsit5: Method = {
  name: "tsit5",
  adaptive: true,
  errorOrder: 5,
  order: 5,
  step: (F, t, y, f0, h) => explicitStep(TSIT5, F, t, y, f0, h),
  interp(y0, _y1, _f0, _f1, ks, h, theta) {
    const s = column(theta);
    let acc: Array | null = null;
    TSIT5_DENSE.forEach((r, i) => {
      // Horner in θ: θ(r1 + θ(r2 + θ(r3 + θ r4)))
      let b: Array = np.multiply(r[3]!, s);
      for (let j = 2; j >= 0; j--) b = np.multiply(s, np.add(r[j]!, b));
      const term = np.multiply(b, ks[i]!);
      acc = acc === null ? term : np.add(acc, term);
    });
    return np.add(y0, np.multiply(h, acc!));
  },
};

export const rk4: Method = {
  name: "rk4",
  adaptive: false,
  errorOrder: 4,
  order: 4,
  step(F, t, y, f0, h) {
    const half = np.multiply(0.5, h);
    const tHalf = np.add(t, half);
    const k2 = F(np.add(y, np.multiply(half, f0)), tHalf);
    const k3 = F(np.add(y, np.multiply(half, k2)), tHalf);
    const tEnd = np.add(t, h);
    const k4 = F(np.add(y, np.multiply(h, k3)), tEnd);
    const y1 = np.add(y, np.multiply(np.divide(h, 6), combine([1, 2, 2, 1], [f0, k2, k3, k4])));
    return { y1, f1: F(y1, tEnd), err: null, ks: [], ratioFloor: null };
  },
  interp: (y0, y1, f0, f1, _ks, h, theta) => hermite(y0, y1, f0, f1, h, theta),
};

// TR-BDF2 as an ESDIRK (Hosea & Shampine 1996): γ = 2 − √2, d = γ/2, w = √2/4.
//   z2 = y + h(d k1 + d k2),          k2 = F(z2, t + γh)     (trapezoidal rule to t + γh)
//   z3 = y + h(w k1 + w k2 + d k3),   k3 = F(z3, t + h)      (BDF2; y1 = z3, stiffly accurate)
// Embedded 3rd-order weights b̂ = ((1 − w)/3, (3w + 1)/3, d/3); the estimate
// h Σ (bᵢ − b̂ᵢ) kᵢ is filtered by (I − h d J)⁻¹ as Hosea & Shampine do, so stiff
// components do not inflate it.
const GAMMA = 2 - Math.SQRT2;
const D = GAMMA / 2;
const W = Math.SQRT2 / 4;
const TRBDF2_E = [W - (1 - W) / 3, W - (3 * W + 1) / 3, D - D / 3];
const NEWTON_ITERS = 6;

/**
 * Solves z = base + h d F(z, tz) by Newton's method from `guess`, with the
 * Jacobian of F (jacfwd) at each iterate. Returns z and the scaled size of the
 * last correction (0-d), which is small when the iteration converged.
 */
function newtonStage(
  F: Rhs,
  base: Array,
  hd: Array,
  tz: Array,
  guess: Array,
  jac: (z: Array) => Array,
  tol: Tolerances,
): [Array, Array] {
  const n = base.shape[0]!;
  const eye = np.eye(n);
  let z = guess;
  let last: Array = np.array(0);
  for (let i = 0; i < NEWTON_ITERS; i++) {
    const g = np.subtract(np.subtract(z, base), np.multiply(hd, F(z, tz)));
    const m = np.subtract(eye, np.multiply(hd, jac(z)));
    const dz = np.linalg.solve(m, g);
    z = np.subtract(z, dz);
    last = np.sqrt(
      np.mean(np.square(np.divide(dz, np.add(tol.atol, np.multiply(tol.rtol, np.abs(z)))))),
    );
  }
  return [z, last];
}

export const trbdf2: Method = {
  name: "trbdf2",
  adaptive: true,
  errorOrder: 3,
  order: 2,
  step(F, t, y, f0, h, tol) {
    const hd = np.multiply(D, h);
    const t2 = np.add(t, np.multiply(GAMMA, h));
    const t3 = np.add(t, h);
    const jacAt = (tz: Array) => (z: Array) => jacfwd((v: Array) => F(v, tz))(z);
    // stage 2: trapezoidal rule; predictor: explicit Euler
    const base2 = np.add(y, np.multiply(hd, f0));
    const [z2, conv2] = newtonStage(
      F,
      base2,
      hd,
      t2,
      np.add(y, np.multiply(np.multiply(GAMMA, h), f0)),
      jacAt(t2),
      tol,
    );
    const k2 = F(z2, t2);
    // stage 3: BDF2; predictor: the stage-2 slope continued
    const base3 = np.add(y, np.multiply(np.multiply(W, h), np.add(f0, k2)));
    const [z3, conv3] = newtonStage(
      F,
      base3,
      hd,
      t3,
      np.add(y, np.multiply(h, k2)),
      jacAt(t3),
      tol,
    );
    const k3 = F(z3, t3);
    const n = y.shape[0]!;
    const m = np.subtract(np.eye(n), np.multiply(hd, jacAt(t3)(z3)));
    const err = np.linalg.solve(m, np.multiply(h, combine(TRBDF2_E, [f0, k2, k3])));
    // Newton not converged (last correction above a tenth of the error scale): reject.
    const worst = np.maximum(conv2, conv3);
    const ratioFloor = np.where(np.lessEqual(worst, 0.1), 0, 2);
    return { y1: z3, f1: k3, err, ks: [], ratioFloor };
  },
  interp: (y0, y1, f0, f1, _ks, h, theta) => hermite(y0, y1, f0, f1, h, theta),
};

/** Tableau data for the order-condition tests. */
export const tableaus = { dopri5: DOPRI5, tsit5: TSIT5 };
export const trbdf2Coefficients = { gamma: GAMMA, d: D, w: W, e: TRBDF2_E };

export const methods: Record<string, Method> = { dopri5, tsit5, rk4, trbdf2 };
