#!/usr/bin/env python3
"""
How accurate is the float64 sin/cos range reduction of the Wasm math kernels
(src/backends/wasm/mathKernels.ts) below its limit TRIG_LIMIT?

Every float64 sin/cos kernel writes x = j pi/2 + r with an integer j (sin and
cos together: any j; sin alone: j = 2q even, i.e. x = q pi + r; cos alone:
j = 2q + 1 odd) and computes

    r = ((x - j*P1) - j*P2) - j*P3,   pi/2 ~ P1 + P2 + P3   (2 P1 = PI_1, ...)

in float64 without fused multiply-adds. j*P1 and j*P2 are exact (P1, P2
have at most 33 significant bits, |j| < 2^20) and x - j*P1 is exact
(Sterbenz); what is left is the truncation of pi/2 to three parts and the
rounding of j*P3 (both about |j| 2^-122) and of the two last subtractions
(relative 2^-53 of r each). The relative error of r is worst where r is
smallest, i.e. for the float64 values closest to a multiple of pi/2: for
each j in [1, J] (J the largest j with j pi/2 below the limit) this script
takes the two float64 neighbours of j pi/2, runs the reduction with Python
floats (IEEE float64, round to nearest, no FMA, as Wasm f64x2) and compares
r with x - j pi/2 computed at 400 bits. Values farther from j pi/2 have
|r| >= half an ulp of x, where the absolute error above is negligible.

Usage: python3 scripts/trig-reduction.py [limit ...]   (default 131072 262144)
Prints, per limit, the largest relative error of r and where it occurs;
errors below about 2^-55 keep sin/cos within 1 ulp of the polynomial's own
result (the kernels' tests allow 2 ulp in total).
"""

import math
import sys

import mpmath as mp

mp.mp.prec = 400

# pi/2 in three parts, as in mathKernels.ts (PIO2_1, PIO2_2, PIO2_3).
P1 = float.fromhex("0x1.921fb54400000p+0")
P2 = float.fromhex("0x1.0b4611a600000p-34")
P3 = float.fromhex("0x1.3198a2e037073p-69")


def significant_bits(v):
    m = mp.mpf(v)
    bits = 0
    while m != mp.floor(m):
        m *= 2
        bits += 1
    return int(mp.floor(mp.log(m, 2))) + 1 if m > 0 else 0


def reduce(x, j):
    """The kernels' reduction in float64."""
    return ((x - j * P1) - j * P2) - j * P3


def neighbours(v):
    """The float64 values just below and above the real v."""
    f = float(v)
    below = f if mp.mpf(f) <= v else math.nextafter(f, -math.inf)
    above = f if mp.mpf(f) >= v else math.nextafter(f, math.inf)
    return below, above


def worst_relative_errors(limit):
    """{parity of j: (largest relative error of r, x, j)} for |x| <= limit."""
    half_pi = mp.pi / 2
    last = int(mp.floor(mp.mpf(limit) / half_pi))
    worst = {0: (mp.mpf(0), 0.0, 0), 1: (mp.mpf(0), 0.0, 0)}
    for j in range(1, last + 1):
        exact_multiple = j * half_pi
        for x in neighbours(exact_multiple):
            if abs(x) > limit:
                continue
            exact = mp.mpf(x) - exact_multiple
            rel = abs((mp.mpf(reduce(x, float(j))) - exact) / exact)
            if rel > worst[j % 2][0]:
                worst[j % 2] = (rel, x, j)
    return worst


def main():
    limits = [float(a) for a in sys.argv[1:]] or [131072.0, 262144.0]
    residual = mp.pi / 2 - mp.mpf(P1) - P2 - P3
    print(
        f"pi/2 - (P1 + P2 + P3) = 2^{mp.nstr(mp.log(abs(residual), 2), 5)};"
        f" significant bits: P1 {significant_bits(P1)}, P2 {significant_bits(P2)},"
        f" P3 {significant_bits(P3)}"
    )
    for limit in limits:
        worst = worst_relative_errors(limit)
        for parity, label in ((0, "j even (x near q pi: sin alone)"), (1, "j odd (cos alone)")):
            rel, x, j = worst[parity]
            print(
                f"|x| <= {limit:g}, {label}: max relative error of r"
                f" 2^{mp.nstr(mp.log(rel, 2), 4)} at x = {x!r}"
                f" (j = {j}, r = {mp.nstr(mp.mpf(x) - j * mp.pi / 2, 5)})"
            )


if __name__ == "__main__":
    main()
