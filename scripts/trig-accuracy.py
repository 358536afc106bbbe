#!/usr/bin/env python3
"""
Accuracy of the float64 sin/cos Wasm kernels (src/backends/wasm/mathKernels.ts)
by simulating their float64 steps with Python floats (IEEE float64, round to
nearest, no fused multiply-add, as Wasm f64x2) against mpmath. Two parts:

1. Range reduction below its limit TRIG_LIMIT. Every float64 sin/cos kernel
   writes x = j pi/2 + r with an integer j (sin and cos together: any j; sin
   alone: j = 2q even, x = q pi + r; cos alone: j = 2q + 1 odd) and computes

       r = ((x - j*P1) - j*P2) - j*P3,   pi/2 ~ P1 + P2 + P3   (2 P1 = PI_1, ...)

   j*P1 and j*P2 are exact (P1, P2 have at most 33 significant bits,
   |j| < 2^20) and x - j*P1 is exact (Sterbenz); what is left is the
   truncation of pi/2 to three parts and the rounding of j*P3 (both about
   |j| 2^-122) and of the two last subtractions (relative 2^-53 of r each).
   The relative error of r is worst where r is smallest, i.e. for the
   float64 values closest to a multiple of pi/2: for each j in [1, J] (J the
   largest j with j pi/2 below the limit) the script takes the two float64
   neighbours of j pi/2, runs the reduction and compares r with x - j pi/2
   at 400 bits. Values farther from j pi/2 have |r| >= half an ulp of x,
   where the absolute error above is negligible. Near a multiple, sin or cos
   is +-r to first order, so a relative error e of r costs at most about
   e 2^53 ulp there (2^-52.8: 1.2 ulp).

2. The polynomial of sin or cos alone on |r| <= pi/2 (SIN_ALONE_Q), in the
   kernel's form r + (-r^3/8 + r^3 (Q(z) + 1/8)) and, for comparison, two
   other forms, all with the kernel's Estrin order of evaluation
   (src/backends/wasm/simdPolynomial.ts): the largest error against the
   exact sin r on random r in [0, pi/2], in ulp of the result.

Usage: python3 scripts/trig-accuracy.py [--samples N] [limit ...]
(default limits 131072 262144, N = 40000; about a minute in all)
"""

import math
import random
import sys

import mpmath as mp

mp.mp.prec = 400

# pi/2 in three parts, as in mathKernels.ts (PIO2_1, PIO2_2, PIO2_3).
P1 = float.fromhex("0x1.921fb54400000p+0")
P2 = float.fromhex("0x1.0b4611a600000p-34")
P3 = float.fromhex("0x1.3198a2e037073p-69")


def significant_bits(v):
    """Bits from the leading to the last nonzero bit of the positive float64 v."""
    m = mp.mpf(v)
    while m != mp.floor(m):  # scale until the last nonzero bit is the units bit
        m *= 2
    return int(mp.floor(mp.log(m, 2))) + 1


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


# ---- part 2: the polynomial of sin or cos alone ----

# SIN_ALONE_Q of mathKernels.ts (scripts/minimax.py, "sin alone"): Q(z) with
# sin r = r + r^3 Q(r^2) on |r| <= pi/2, lowest order first.
SIN_ALONE_Q = [
    -0.16666666666666666,
    0.008333333333333194,
    -0.00019841269841209218,
    2.755731921113729e-06,
    -2.5052106872803573e-08,
    1.6058939705956408e-10,
    -7.642991490728604e-13,
    2.721174976416612e-15,
]


def estrin(coeffs, z):
    """sum coeffs[j] z^j in the order of simdPolynomial.ts's polynomial()."""
    powers = [z]
    while (1 << len(powers)) < len(coeffs):
        powers.append(powers[-1] * powers[-1])

    def part(lo, count):
        if count == 1:
            return coeffs[lo]
        k = 0
        while (2 << k) < count:
            k += 1
        half = 1 << k
        low = part(lo, half)
        high = part(lo + half, count - half)
        return low + high * powers[k]

    return part(0, len(coeffs))


def sin_kernel(r):
    """sinWideF64: r + (r^3 (-1/8) + r^3 (Q(z) + 1/8)), r^3 (-1/8) exact."""
    z = r * r
    r3 = z * r
    shifted = [SIN_ALONE_Q[0] + 0.125] + SIN_ALONE_Q[1:]
    return r + (r3 * -0.125 + r3 * estrin(shifted, z))


def sin_split_c0(r):
    """r + (r^3 c0 + r^5 Q1(z)), c0 = Q[0] (a form tried before)."""
    z = r * r
    r3 = z * r
    return r + (r3 * SIN_ALONE_Q[0] + (r3 * z) * estrin(SIN_ALONE_Q[1:], z))


def sin_plain(r):
    """The plain form r + (r z) Q(z)."""
    z = r * r
    return r + (r * z) * estrin(SIN_ALONE_Q, z)


def ulp_error(got, r):
    exact = mp.sin(mp.mpf(r))
    exponent = math.floor(math.log2(abs(float(exact))))
    return float(abs(mp.mpf(got) - exact) / mp.mpf(2) ** (exponent - 52))


def evaluation_errors(samples):
    rng = random.Random(20261123)
    rs = [rng.uniform(0, math.pi / 2) for _ in range(samples)]
    forms = (
        ("kernel r + (-r^3/8 + r^3 (Q + 1/8))", sin_kernel),
        ("r + (r^3 c0 + r^5 Q1)", sin_split_c0),
        ("plain r + r^3 Q", sin_plain),
    )
    for name, f in forms:
        errors = [ulp_error(f(r), r) for r in rs]
        worst = max(range(samples), key=lambda i: errors[i])
        print(
            f"sin r on |r| <= pi/2, {name}: max {errors[worst]:.3f} ulp at r = {rs[worst]!r},"
            f" mean {sum(errors) / samples:.3f} ulp ({samples} random r)"
        )


def main():
    args = sys.argv[1:]
    samples = 40000
    if "--samples" in args:
        at = args.index("--samples")
        samples = int(args[at + 1])
        del args[at : at + 2]
    limits = [float(a) for a in args] or [131072.0, 262144.0]
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
    evaluation_errors(samples)


if __name__ == "__main__":
    main()
