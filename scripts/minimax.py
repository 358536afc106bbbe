#!/usr/bin/env python3
"""
Minimax polynomial coefficients for the float64 Wasm math kernels
(src/backends/wasm/mathKernels.ts), derived by a Remez exchange.

Each kernel approximates a function as a fixed leading part plus a
correction polynomial Q of degree n in a variable t:

    exp:  e^r            = 1 + r + r^2 Q(r),        t = r,   |r| <= ln2/2
    sin:  sin r          = r + r^3 Q(r^2),          t = r^2, |r| <= pi/4
    sin (alone): the same form on the wider range   t = r^2, |r| <= pi/2
          (sin or cos without the other: reduction by pi, one polynomial)
    cos:  cos r          = 1 - r^2/2 + r^4 Q(r^2),  t = r^2, |r| <= pi/4
    log:  2 atanh(s)     = 2s + 2s^3 Q(s^2),        t = s^2, |s| <= 3 - 2 sqrt2

The leading part is exact in float64, so only Q is fitted. Q minimises the
largest RELATIVE error of the whole approximation, i.e. the weighted error

    e(t) = w(t) (g(t) - Q(t)),   g = (F - lead) / m,   w = m / F,

where F is the function, lead the exact leading part and m the monomial
multiplying Q (r^2, r^3, r^4, 2 s^3).

Remez exchange (own implementation): start from n + 2 Chebyshev points;
repeat { solve the linear system Q(t_i) + (-1)^i E / w(t_i) = g(t_i) for the
n + 1 coefficients and the levelled error E; find the extrema of e(t) on a
dense grid refined by golden-section search; keep n + 2 alternating ones }
until the extrema are level to 1e-6. The error is printed for the exact
coefficients and again with the coefficients rounded to float64 (rounding
the first, largest coefficients puts a floor near 2^-57 to 2^-60).

Usage: python3 scripts/minimax.py   (needs mpmath; takes a few seconds)
For each function it prints the error per degree, then the coefficients of
the chosen degree (the lowest whose exact-coefficient error is below 2^-57) as float64
literals, lowest order first, ready to paste into mathKernels.ts.
"""

import mpmath as mp

mp.mp.dps = 60


def series_or(f, series, t, small):
    """f(t), or its Taylor series below `small` (avoids cancellation near 0)."""
    return series(t) if abs(t) < small else f(t)


# ---- the functions, as (g, w) in the fitting variable t ----


def exp_g(t):
    # (e^r - 1 - r) / r^2 = sum_{k>=0} r^k / (k+2)!
    return series_or(
        lambda r: (mp.exp(r) - 1 - r) / r**2,
        lambda r: mp.fsum(r**k / mp.factorial(k + 2) for k in range(40)),
        t,
        mp.mpf("1e-6"),
    )


def exp_w(t):
    return t**2 / mp.exp(t)


def sin_g(t):
    # (sin r - r) / r^3 = sum_{k>=0} (-1)^(k+1) z^k / (2k+3)!,  z = r^2
    def direct(z):
        r = mp.sqrt(z)
        return (mp.sin(r) - r) / r**3

    return series_or(
        direct,
        lambda z: mp.fsum((-1) ** (k + 1) * z**k / mp.factorial(2 * k + 3) for k in range(40)),
        t,
        mp.mpf("1e-6"),
    )


def sin_w(t):
    r = mp.sqrt(t)
    return r**3 / mp.sin(r) if t > 0 else mp.mpf(0)


def cos_g(t):
    # (cos r - 1 + r^2/2) / r^4 = sum_{k>=0} (-1)^k z^k / (2k+4)!
    return series_or(
        lambda z: (mp.cos(mp.sqrt(z)) - 1 + z / 2) / z**2,
        lambda z: mp.fsum((-1) ** k * z**k / mp.factorial(2 * k + 4) for k in range(40)),
        t,
        mp.mpf("1e-6"),
    )


def cos_w(t):
    return t**2 / mp.cos(mp.sqrt(t))


def log_g(t):
    # (atanh(s) - s) / s^3 = sum_{k>=0} z^k / (2k+3),  z = s^2
    def direct(z):
        s = mp.sqrt(z)
        return (mp.atanh(s) - s) / s**3

    return series_or(
        direct,
        lambda z: mp.fsum(z**k / (2 * k + 3) for k in range(40)),
        t,
        mp.mpf("1e-6"),
    )


def log_w(t):
    s = mp.sqrt(t)
    return s**3 / mp.atanh(s) if t > 0 else mp.mpf(0)


# ---- Remez exchange ----


def poly(coeffs, t):
    acc = mp.mpf(0)
    for c in reversed(coeffs):
        acc = acc * t + c
    return acc


def weighted_error(g, w, coeffs, t):
    return w(t) * (g(t) - poly(coeffs, t))


def solve_levelled(g, w, points, n):
    """Coefficients c_0..c_n and E with Q(t_i) + (-1)^i E / w(t_i) = g(t_i)."""
    rows = []
    rhs = []
    for i, t in enumerate(points):
        rows.append([t**j for j in range(n + 1)] + [(-1) ** i / w(t)])
        rhs.append(g(t))
    sol = mp.lu_solve(mp.matrix(rows), mp.matrix(rhs))
    return [sol[j] for j in range(n + 1)], sol[n + 1]


def refine_extremum(err, lo, hi):
    """Golden-section search for the maximum of |err| on [lo, hi]."""
    inv_phi = (mp.sqrt(5) - 1) / 2
    a, b = lo, hi
    c = b - inv_phi * (b - a)
    d = a + inv_phi * (b - a)
    fc, fd = abs(err(c)), abs(err(d))
    for _ in range(60):
        if fc > fd:
            b, d, fd = d, c, fc
            c = b - inv_phi * (b - a)
            fc = abs(err(c))
        else:
            a, c, fc = c, d, fd
            d = a + inv_phi * (b - a)
            fd = abs(err(d))
    best = max([lo, hi, (a + b) / 2], key=lambda t: abs(err(t)))
    return best


def alternating_extrema(err, a, b, count, grid_size=1500):
    """`count` points where err alternates in sign with locally maximal |err|."""
    # Chebyshev-spaced grid (denser near the ends, where extrema crowd).
    grid = [a + (b - a) * (1 - mp.cos(mp.pi * k / (grid_size - 1))) / 2 for k in range(grid_size)]
    values = [err(t) for t in grid]
    # One candidate per run of equal sign: the grid point of largest |err|.
    runs = []
    for k, v in enumerate(values):
        sign = 1 if v >= 0 else -1
        if runs and runs[-1][0] == sign:
            if abs(v) > abs(values[runs[-1][1]]):
                runs[-1][1] = k
        else:
            runs.append([sign, k])
    # Too many runs: drop the smaller end (keeps the alternation).
    while len(runs) > count:
        if abs(values[runs[0][1]]) < abs(values[runs[-1][1]]):
            runs.pop(0)
        else:
            runs.pop()
    if len(runs) < count:
        raise RuntimeError(f"only {len(runs)} sign changes, need {count}")
    points = []
    for _, k in runs:
        lo = grid[max(k - 1, 0)]
        hi = grid[min(k + 1, grid_size - 1)]
        points.append(refine_extremum(err, lo, hi))
    return points


def remez(g, w, a, b, n, max_iter=30):
    count = n + 2
    points = [a + (b - a) * (1 - mp.cos(mp.pi * i / (count - 1))) / 2 for i in range(count)]
    # The weight vanishes at t = 0 (an end, or the middle for exp): move
    # a starting point there slightly aside.
    points = [t + (b - a) * mp.mpf("1e-3") if abs(w(t)) < mp.mpf("1e-20") else t for t in points]
    coeffs = None
    for _ in range(max_iter):
        coeffs, levelled = solve_levelled(g, w, points, n)

        def err(t, cs=coeffs):
            return weighted_error(g, w, cs, t)

        points = alternating_extrema(err, a, b, count)
        extremes = [abs(err(t)) for t in points]
        if max(extremes) / min(extremes) - 1 < mp.mpf("1e-6"):
            break
    return coeffs


def max_error(g, w, coeffs, a, b, samples=4000):
    """max |relative error| on a dense grid (coeffs as given)."""
    worst = mp.mpf(0)
    for k in range(samples + 1):
        t = a + (b - a) * (1 - mp.cos(mp.pi * k / samples)) / 2
        if w(t) == 0:
            continue
        worst = max(worst, abs(weighted_error(g, w, coeffs, t)))
    return worst


# Targets: float64 results need about 2^-57 (the evaluation's own rounding
# then dominates); the float64 polynomials that produce float32 results
# (widened float32 log, and sin/cos beyond the float32 kernels' range) only
# need to stay far below a float32 ulp: 2^-36, the level of the Taylor
# polynomials they replace.
TARGETS = [("float64 results", 57), ("float32 results", 36)]

FUNCTIONS = [
    # name, g, w, interval in t, degrees of Q to try per target
    ("exp", exp_g, exp_w, (-mp.log(2) / 2, mp.log(2) / 2), {57: range(8, 12)}),
    ("sin", sin_g, sin_w, (mp.mpf(0), (mp.pi / 4) ** 2), {57: range(4, 8), 36: range(2, 5)}),
    ("sin alone", sin_g, sin_w, (mp.mpf(0), (mp.pi / 2) ** 2), {57: range(5, 9)}),
    ("cos", cos_g, cos_w, (mp.mpf(0), (mp.pi / 4) ** 2), {57: range(4, 8), 36: range(2, 5)}),
    (
        "log",
        log_g,
        log_w,
        (mp.mpf(0), (3 - 2 * mp.sqrt(2)) ** 2),
        {57: range(5, 10), 36: range(2, 6)},
    ),
]


def main():
    for name, g, w, (a, b), degrees_for in FUNCTIONS:
        for label, target in TARGETS:
            if target not in degrees_for:
                continue
            print(f"== {name} for {label} (target 2^-{target}): t in [{mp.nstr(a, 8)}, {mp.nstr(b, 8)}]")
            chosen = None
            for n in degrees_for[target]:
                coeffs = remez(g, w, a, b, n)
                rounded = [mp.mpf(float(c)) for c in coeffs]
                exact_bits = -mp.log(max_error(g, w, coeffs, a, b), 2)
                rounded_bits = -mp.log(max_error(g, w, rounded, a, b), 2)
                print(
                    f"  Q degree {n}: max relative error 2^-{mp.nstr(exact_bits, 4)}"
                    f" (2^-{mp.nstr(rounded_bits, 4)} with float64 coefficients)"
                )
                if chosen is None and exact_bits >= target:
                    chosen = (n, rounded, exact_bits)
            if chosen is None:
                print("  no degree reached the target")
                continue
            n, rounded, bits = chosen
            print(f"  chosen Q degree {n} (error 2^-{mp.nstr(bits, 4)}); coefficients, lowest first:")
            print("  [" + ", ".join(repr(float(c)) for c in rounded) + "]")


if __name__ == "__main__":
    main()
