#!/usr/bin/env python3
"""Coefficients of the float32 WGSL special functions (src/backends/webgpu/special.ts).

Prints, from mpmath at 40 digits:
  - ERFCX_T: p_0..p_10, the polynomial with erfcx(x) ~ t P(t), t = 2 / (2 + x),
    for x in [1/2, 10] (t in [1/6, 4/5]). Fitted by weighted least squares in the
    Chebyshev basis on 2,000 Chebyshev nodes with the weights iterated towards
    equal relative error (the largest relative error of the fit in float64 is
    printed; evaluated in float32 by Horner it is about 2e-7, two ulps);
  - DIGAMMA_AT_H: h = the float32 nearest the positive root x0 of digamma,
    digamma(h), and c_k = psi^(k)(h) / k! for k = 1..22 (the Taylor series
    digamma(h + d) = digamma(h) + sum_k c_k d^k, used on [1, 2]).
Run: python3 scripts/wgsl-special-fit.py
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40


def erfcx(x):
    return mp.exp(x * x) * mp.erfc(x)


LO, HI, DEG = 1 / 6, 0.8, 10
nodes = np.cos(np.pi * (np.arange(2000) + 0.5) / 2000) * (HI - LO) / 2 + (HI + LO) / 2
xs = 2 / nodes - 2
g = np.array([float(erfcx(mp.mpf(x)) / t) for x, t in zip(xs, nodes)])
u = (2 * nodes - (HI + LO)) / (HI - LO)
V = np.polynomial.chebyshev.chebvander(u, DEG)
weights = 1 / g
for _ in range(30):
    c, *_ = np.linalg.lstsq(V * weights[:, None], g * weights, rcond=None)
    e = (V @ c - g) / g
    weights = weights * (1 + 50 * np.abs(e) / np.abs(e).max())
p = np.polynomial.chebyshev.Chebyshev(c, domain=[LO, HI]).convert(kind=np.polynomial.Polynomial).coef
print("ERFCX_T max relative error of the fit (float64):", np.abs(e).max())
print("ERFCX_T p_0..p_%d:" % DEG, ", ".join(repr(float(np.float32(v))) for v in p))

x0 = mp.findroot(mp.digamma, 1.46)
h = mp.mpf(float(np.float32(float(x0))))
print("DIGAMMA_AT_H h, digamma(h):", repr(float(h)), repr(float(mp.digamma(h))))
c = [mp.polygamma(k, h) / mp.factorial(k) for k in range(1, 23)]
print("DIGAMMA_AT_H c_1..c_22:", ", ".join(repr(float(v)) for v in c))
