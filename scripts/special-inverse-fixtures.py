#!/usr/bin/env python3
"""Reference quantiles for test/special-inverse.test.ts, computed independently of
chainrule with mpmath at 40 significant digits: each inverse is the root of
log F(x) - log p, F mpmath's regularised incomplete gamma or beta function, by
bisection (140 halvings) on log x or logit x. SciPy's float64 inverses only supply
the bracket (widened until F changes sign across it), so neither chainrule nor
SciPy decides the digits. Values are the float64 nearest to the root.

Run: python3 scripts/special-inverse-fixtures.py > test/fixtures/special-inverse.json
"""
import json

import mpmath as mp
from scipy import special as sc

mp.mp.dps = 40


def f(v):
    v = mp.mpf(v)
    if mp.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return float(v)


def solve(h, lo, hi, clamp_lo, clamp_hi):
    """The root of h (monotone) in [lo, hi], widened geometrically until it brackets."""
    lo, hi = mp.mpf(lo), mp.mpf(hi)
    for _ in range(200):
        if mp.sign(h(lo)) != mp.sign(h(hi)):
            break
        lo = max(clamp_lo, lo - (hi - lo))
        hi = min(clamp_hi, hi + (hi - lo))
    else:
        raise ValueError("no bracket")
    s_lo = mp.sign(h(lo))
    for _ in range(140):
        mid = (lo + hi) / 2
        if mp.sign(h(mid)) == s_lo:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def gamma_inv(a, p, upper):
    x0 = sc.gammainccinv(a, p) if upper else sc.gammaincinv(a, p)
    a, p = mp.mpf(a), mp.mpf(p)
    if upper:
        F = lambda x: mp.gammainc(a, x, mp.inf, regularized=True)
    else:
        F = lambda x: mp.gammainc(a, 0, x, regularized=True)
    # on u = log x
    u0 = mp.log(x0) if x0 > 0 else mp.mpf(-745)
    u = solve(lambda u: mp.log(F(mp.exp(u))) - mp.log(p), u0 - 1e-6, u0 + 1e-6, -1e5, 1e3)
    return mp.exp(u)


def beta_inv(a, b, p):
    x0 = sc.betaincinv(a, b, p)
    a, b, p = mp.mpf(a), mp.mpf(b), mp.mpf(p)
    # on u = logit x
    x_of = lambda u: 1 / (1 + mp.exp(-u))
    if x0 <= 0:
        u0 = mp.mpf(-745)
    elif x0 >= 1:
        u0 = mp.mpf(40)
    else:
        u0 = mp.log(x0) - mp.log1p(-x0)
    u = solve(
        lambda u: mp.log(mp.betainc(a, b, 0, x_of(u), regularized=True)) - mp.log(p),
        u0 - 1e-6,
        u0 + 1e-6,
        -1e5,
        1e5,
    )
    return x_of(u)


out = {}
gamma_as = [0.01, 0.1, 0.5, 1.0, 3.0, 10.0, 100.0, 1000.0]
gamma_ps = [1e-300, 1e-100, 1e-20, 1e-5, 0.01, 0.3, 0.5, 0.9, 0.999999]
pairs = [(a, p) for a in gamma_as for p in gamma_ps]
out["gammaincinv"] = {
    "a": [t[0] for t in pairs],
    "p": [t[1] for t in pairs],
    "x": [f(gamma_inv(a, p, False)) for a, p in pairs],
}
out["gammainccinv"] = {
    "a": [t[0] for t in pairs],
    "q": [t[1] for t in pairs],
    "x": [f(gamma_inv(a, p, True)) for a, p in pairs],
}
beta_ab = [0.05, 0.5, 1.0, 3.0, 30.0, 300.0]
beta_ps = [1e-100, 1e-10, 0.01, 0.3, 0.5, 0.7, 0.99]
trip = [(a, b, p) for a in beta_ab for b in beta_ab for p in beta_ps]
out["betaincinv"] = {
    "a": [t[0] for t in trip],
    "b": [t[1] for t in trip],
    "p": [t[2] for t in trip],
    "x": [f(beta_inv(*t)) for t in trip],
}
print(json.dumps(out, indent=1))
