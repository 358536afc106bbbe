#!/usr/bin/env python3
"""Coefficient tables for the special-function kernels in src/primitives/special.ts.

Prints, at 17 significant digits (float64 round trip), from mpmath at 50 digits:
  - LGAMMA_Z: z_k = (-1)^k (zeta(k) - 1) / k for k = 2..30, the Taylor series
    lgamma(2 + e) = (1 - euler) e + sum_k z_k e^k, used for |e| <= 1/2;
  - DIGAMMA_ROOT: the positive root x0 of digamma as a float64 pair (hi, lo);
  - DIGAMMA_TAYLOR: c_k = psi^(k)(x0) / k! for k = 1..44, the Taylor series
    digamma(x0 + d) = sum_k c_k d^k, used on [1, 2] (|d| <= 0.54).
Run: python3 scripts/special-coefficients.py
"""
import mpmath as mp

mp.mp.dps = 50


def f17(v):
    return repr(float(v))


z = [(-1) ** k * (mp.zeta(k) - 1) / k for k in range(2, 31)]
print("LGAMMA_Z (k = 2..30):")
print(", ".join(f17(v) for v in z))

x0 = mp.findroot(mp.digamma, 1.46)
hi = float(x0)
lo = float(x0 - mp.mpf(hi))
print("DIGAMMA_ROOT hi, lo:", repr(hi), repr(lo))
c = [mp.polygamma(k, x0) / mp.factorial(k) for k in range(1, 45)]
print("DIGAMMA_TAYLOR (k = 1..44):")
print(", ".join(f17(v) for v in c))

t = [mp.erfc(c) * mp.exp(c * c) for c in [mp.mpf(1) / 2 + mp.mpf(k) / 8 for k in range(0, 21)]]
print("ERFCX_TABLE erfcx(1/2 + k/8), k = 0..20:")
print(", ".join(f17(v) for v in t))
