#!/usr/bin/env python3
"""Reference values for test/special.test.ts, test/np-elementwise.test.ts and
test/stats-cdf.test.ts, computed independently of chainrule with mpmath at
60 significant digits (scipy.stats only for the multivariate normal and
Dirichlet log-densities). Each value is printed as the float64 nearest to the
exact result (repr of float(mpf)), so a test can count ulps against it.

Run: python3 scripts/special-fixtures.py > test/fixtures/special.json
"""
import json
import math

import mpmath as mp

mp.mp.dps = 60


def f(v):
    """The float64 nearest to v (mpmath rounds to nearest), as a JSON number or string for non-finite."""
    v = mp.mpf(v)
    if mp.isnan(v):
        return "NaN"
    if mp.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return float(v)


def grid(lo, hi, n):
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def logspace(lo, hi, n):
    return [10.0 ** (lo + (hi - lo) * i / (n - 1)) for i in range(n)]


def unary(fn, xs):
    return {"x": xs, "y": [f(fn(mp.mpf(x))) for x in xs]}


def binary(fn, pairs):
    return {
        "a": [p[0] for p in pairs],
        "x": [p[1] for p in pairs],
        "y": [f(fn(mp.mpf(p[0]), mp.mpf(p[1]))) for p in pairs],
    }


out = {}

# ---- special functions
out["erf"] = unary(mp.erf, grid(-6, 6, 121) + [1e-300, 1e-10, -3e-5])
out["erfc"] = unary(mp.erfc, grid(-6, 27, 331) + [1e-10, 0.4999, 0.5, 0.5001, 26.5])
ys = grid(-0.99, 0.99, 199) + [1e-300, 1e-12, -1e-7, 0.4999999, 0.5, 0.5000001]
ys += [1 - 10.0 ** -k for k in range(3, 17)] + [-(1 - 10.0 ** -k) for k in range(3, 17, 2)]
out["erfinv"] = unary(mp.erfinv, ys)


def ndtr(x):
    return mp.ncdf(x)


out["ndtr"] = unary(ndtr, grid(-38, 9, 235) + [-0.7, 0.7, -0.71, 0.71, 1e-5])
out["logNdtr"] = unary(
    lambda x: mp.log(mp.ncdf(x)) if x <= 0 else mp.log1p(-mp.ncdf(-x)),
    grid(-40, 40, 161) + [-1e3, -1e5, -1e10, -0.7, 0.71, -1e-3] + [5.5, 7.5],
)
ps = logspace(-300, -1, 100) + grid(0.01, 0.99, 99) + [0.25, 0.2500001, 0.75, 0.7500001, 0.5, 0.5 + 1e-9]
ps += [1 - 10.0 ** -k for k in range(2, 16)]
def ndtri(p):
    with mp.workdps(700):  # 2p - 1 must keep p's digits down to p = 1e-300
        return mp.sqrt(2) * mp.erfinv(2 * p - 1)


out["ndtri"] = unary(ndtri, ps)
xs = [x for x in grid(-9.95, 0.45, 105) if abs(x - round(x)) > 1e-9]
xs += grid(0.5, 3.0, 126) + logspace(-300, -1, 30) + logspace(0.5, 300, 60) + [0.9999999, 1.0000001, 1.9999999, 2.0000001]
out["gammaln"] = unary(lambda x: mp.log(abs(mp.gamma(x))), xs)
xs = [x for x in grid(-9.95, 0.45, 105) if abs(x - round(x)) > 1e-9 and abs(x) > 1e-9]
xs += grid(0.5, 3.0, 126) + logspace(-6, 15, 60) + [1.4616321449683622, 1.46, 1.47]
out["digamma"] = unary(mp.digamma, xs)
pairs = []
for n in [1, 2, 3, 4, 6]:
    for x in grid(0.05, 10, 40) + logspace(1, 6, 12) + [-0.5, -1.3, -2.7, -4.25]:
        pairs.append((n, x))
out["polygamma"] = binary(lambda n, x: mp.polygamma(int(n), x), pairs)
pairs = [(a, b) for a in [0.1, 0.5, 1.0, 2.5, 7.0, 30.0, 150.0] for b in [0.2, 1.0, 3.5, 12.0, 80.0]]
out["betaln"] = binary(lambda a, b: mp.log(mp.beta(a, b)), pairs)
pairs = [
    (a, x)
    for a in [0.05, 0.5, 1.0, 2.5, 10.0, 40.0, 150.0]
    for x in [1e-3, 0.1, 0.3, 0.9, 2.0, 5.0, 9.5, 12.0, 30.0, 45.0, 140.0, 170.0, 400.0]
]
out["gammainc"] = binary(lambda a, x: mp.gammainc(a, 0, x, regularized=True), pairs)
out["gammaincc"] = binary(lambda a, x: mp.gammainc(a, x, mp.inf, regularized=True), pairs)
trip = [
    (a, b, x)
    for a in [0.5, 1.0, 2.5, 10.0, 40.0]
    for b in [0.5, 1.5, 4.0, 25.0]
    for x in [0.001, 0.05, 0.3, 0.5, 0.77, 0.95, 0.999]
]
out["betainc"] = {
    "a": [t[0] for t in trip],
    "b": [t[1] for t in trip],
    "x": [t[2] for t in trip],
    "y": [f(mp.betainc(t[0], t[1], 0, t[2], regularized=True)) for t in trip],
}
xs = grid(-50, 50, 201) + [1e-8, -1e-8, 19.99, 20.0, 20.01, 700.0, 1e5]
out["i0e"] = unary(lambda x: mp.besseli(0, x) * mp.exp(-abs(x)), xs)
out["i1e"] = unary(lambda x: mp.besseli(1, x) * mp.exp(-abs(x)), xs)
out["expit"] = unary(lambda x: 1 / (1 + mp.exp(-x)), grid(-700, 700, 141) + grid(-5, 5, 41))
out["logit"] = unary(lambda p: mp.log(p / (1 - p)), grid(0.001, 0.999, 100) + [1e-300, 1e-20, 1 - 1e-16])
out["softplus"] = unary(lambda x: mp.log1p(mp.exp(x)), grid(-740, 740, 149) + grid(-5, 5, 41))
pairs = [(x, y) for x in [0.0, 1e-300, 0.3, 2.0, 1e10] for y in [1e-300, 0.01, 0.7, 1.0, 3.0, 1e200]]
out["xlogy"] = binary(lambda x, y: 0 if x == 0 else x * mp.log(y), pairs)
pairs = [(x, y) for x in [0.0, 0.3, 2.0] for y in [-0.99, -1e-10, 1e-12, 0.7, 3.0, 1e200]]
out["xlog1py"] = binary(lambda x, y: 0 if x == 0 else x * mp.log1p(y), pairs)

# ---- np elementwise
pairs = [(a, b) for a in [-800.0, -3.0, -0.5, 0.0, 1e-20, 2.0, 700.0] for b in [-800.0, -1.0, 0.0, 1e-20, 3.5, 710.0]]
with mp.workdps(1200):  # exp(-800) next to 1 must not round away
    out["logaddexp"] = binary(lambda a, b: mp.log(mp.exp(a) + mp.exp(b)), pairs)
    out["logaddexp2"] = binary(lambda a, b: mp.log(mp.power(2, a) + mp.power(2, b), 2), pairs)
out["arcsinh"] = unary(mp.asinh, grid(-20, 20, 81) + [1e-300, -1e-10, 1e300])
out["arccosh"] = unary(mp.acosh, grid(1, 30, 59) + [1.0000001, 1e300])
out["arctanh"] = unary(mp.atanh, grid(-0.99, 0.99, 67) + [1e-300, -1e-10, 0.999999])
out["exp2"] = unary(lambda x: mp.power(2, x), grid(-1070, 1020, 210) + [0.5, -0.25, 10.0, 3.3])
out["log2"] = unary(lambda x: mp.log(x, 2), logspace(-300, 300, 121) + [8.0, 1024.0, 0.125, 3.0])
out["log10"] = unary(mp.log10, logspace(-300, 300, 121) + [1000.0, 1e-5, 3.0])
pairs = [(a, b) for a in [-1e300, -3.0, 0.0, 1e-300, 4.0, 1e200] for b in [-2e300, -4.0, 0.0, 5e-301, 3.0]]
out["hypot"] = binary(lambda a, b: mp.sqrt(a * a + b * b), pairs)
out["sinc"] = unary(lambda x: 1 if x == 0 else mp.sin(mp.pi * x) / (mp.pi * x), grid(-5.05, 5.05, 102) + [0.0, 1e-9, -2e-4])

# ---- stats (mpmath formulas)
pairs = [(t, nu) for t in [-40.0, -3.0, -0.5, 0.0, 0.2, 1.5, 6.0, 100.0] for nu in [0.7, 1.0, 2.0, 5.0, 30.0]]


def student_cdf(t, nu):
    x = nu / (nu + t * t)
    tail = mp.betainc(nu / 2, mp.mpf(1) / 2, 0, x, regularized=True) / 2
    return tail if t < 0 else 1 - tail


out["studentTCdf"] = binary(student_cdf, pairs)
pairs = [(x, k) for x in [0.01, 0.5, 1.0, 3.0, 10.0, 40.0] for k in [1.0, 2.0, 3.0, 7.5, 20.0]]
out["chi2Cdf"] = binary(lambda x, k: mp.gammainc(k / 2, 0, x / 2, regularized=True), pairs)
out["chi2Sf"] = binary(lambda x, k: mp.gammainc(k / 2, x / 2, mp.inf, regularized=True), pairs)
pairs = [(k, lam) for k in [0.0, 1.0, 3.0, 10.0, 40.0] for lam in [0.1, 1.0, 4.5, 12.0, 60.0]]
out["poissonCdf"] = binary(lambda k, lam: mp.nsum(lambda j: mp.exp(-lam) * lam**j / mp.factorial(j), [0, k]), pairs)
trip = [(k, n, p) for (k, n) in [(0, 5), (2, 5), (4, 5), (3, 20), (10, 20), (19, 20), (30, 100)] for p in [0.05, 0.3, 0.5, 0.9]]
out["binomialCdf"] = {
    "k": [t[0] for t in trip],
    "n": [t[1] for t in trip],
    "p": [t[2] for t in trip],
    "y": [f(mp.fsum(mp.binomial(t[1], j) * mp.mpf(t[2]) ** j * (1 - mp.mpf(t[2])) ** (t[1] - j) for j in range(t[0] + 1))) for t in trip],
}

try:
    import numpy as np
    from scipy import stats

    mean = np.array([0.5, -1.0, 2.0])
    a = np.array([[2.0, 0.3, -0.2], [0.3, 1.5, 0.4], [-0.2, 0.4, 1.0]])
    xs = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.5], [-1.5, 0.2, 3.0]])
    out["mvn"] = {
        "mean": mean.tolist(),
        "cov": a.tolist(),
        "x": xs.tolist(),
        "y": stats.multivariate_normal(mean, a).logpdf(xs).tolist(),
    }
    alpha = np.array([0.7, 2.0, 3.5])
    ps = np.array([[0.2, 0.3, 0.5], [0.05, 0.9, 0.05], [1 / 3, 1 / 3, 1 / 3]])
    out["dirichlet"] = {
        "alpha": alpha.tolist(),
        "x": ps.tolist(),
        "y": [float(stats.dirichlet(alpha).logpdf(p)) for p in ps],
    }
except ImportError:
    pass

print(json.dumps(out))
