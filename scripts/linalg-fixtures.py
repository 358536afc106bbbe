"""Reference values for test/linalg-decomp.test.ts, computed with NumPy
(LAPACK) and, for expm, mpmath at 40 digits (SciPy's expm is only accurate
to ~1e-13 here), independently of chainrule. Run: python3 scripts/linalg-fixtures.py
(writes test/fixtures/linalg.json), then npx prettier --write test/fixtures/linalg.json. Matrices come from a fixed NumPy seed and
are stored with the results, so the tests read both."""
import json
import numpy as np
import mpmath

rng = np.random.default_rng(20261206)


def mat(m, n):
    return rng.uniform(-1, 1, size=(m, n))


def expm(a):
    mpmath.mp.dps = 40
    return np.array(mpmath.expm(mpmath.matrix(a.tolist())).tolist(), dtype=np.float64)


def lst(x):
    return np.asarray(x, dtype=np.float64).tolist()


out = {}
# A stack of symmetric matrices (one with a nearly repeated pair is avoided).
sym = []
for _ in range(3):
    a = mat(4, 4)
    sym.append(a + a.T)
sym = np.stack(sym)
w, v = np.linalg.eigh(sym)
out["eigh"] = {"a": lst(sym), "w": lst(w)}

# Rectangular stacks (tall and wide) for svd/qr/pinv/norm/rank.
tall = np.stack([mat(5, 3) for _ in range(2)])
wide = np.stack([mat(3, 5) for _ in range(2)])
out["svd"] = {
    "tall": lst(tall),
    "tall_s": lst(np.linalg.svd(tall, compute_uv=False)),
    "wide": lst(wide),
    "wide_s": lst(np.linalg.svd(wide, compute_uv=False)),
    # graded singular values 1 .. 1e-12: the small ones must keep relative accuracy
    "graded": lst(
        np.linalg.qr(mat(6, 6))[0] @ np.diag(10.0 ** -np.arange(0, 13, 2.4)) @ np.linalg.qr(mat(6, 6))[0].T
    ),
}
out["svd"]["graded_s"] = lst(np.linalg.svd(np.array(out["svd"]["graded"]), compute_uv=False))
out["pinv"] = {"tall": lst(np.linalg.pinv(tall)), "wide": lst(np.linalg.pinv(wide))}

sq = np.stack([mat(4, 4) + 2 * np.eye(4) for _ in range(3)])
sign, logabs = np.linalg.slogdet(sq)
out["square"] = {
    "a": lst(sq),
    "det": lst(np.linalg.det(sq)),
    "sign": lst(sign),
    "logabsdet": lst(logabs),
    "inv": lst(np.linalg.inv(sq)),
    "cond": lst(np.linalg.cond(sq)),
    "cond_1": lst(np.linalg.cond(sq, 1)),
    "cond_fro": lst(np.linalg.cond(sq, "fro")),
    "power_5": lst(np.linalg.matrix_power(sq, 5)),
    "power_m3": lst(np.linalg.matrix_power(sq, -3)),
    "expm": lst(np.stack([expm(x) for x in sq])),
    # a larger norm needs squarings
    "expm_big_a": lst(sq[0] * 9.0),
    "expm_big": lst(expm(sq[0] * 9.0)),
}

x = mat(3, 4)
norms = {}
for name, ordv in [("2", 2), ("1", 1), ("inf", np.inf), ("-inf", -np.inf), ("0", 0), ("3", 3), ("0.5", 0.5)]:
    norms["vec_axis1_" + name] = lst(np.linalg.norm(x, ordv, axis=1))
for name, ordv in [("fro", "fro"), ("nuc", "nuc"), ("1", 1), ("-1", -1), ("2", 2), ("-2", -2), ("inf", np.inf), ("-inf", -np.inf)]:
    norms["mat_" + name] = float(np.linalg.norm(x, ordv))
x3 = rng.uniform(-1, 1, size=(2, 3, 4))
norms["x3"] = lst(x3)
norms["x3_axes_2_0_nuc_keepdims"] = lst(np.linalg.norm(x3, "nuc", axis=(2, 0), keepdims=True))
norms["x3_default"] = float(np.linalg.norm(x3))
out["norm"] = {"x": lst(x), **norms}

rank_a = np.stack([mat(4, 2) @ mat(2, 5), mat(4, 5)])
out["rank"] = {"a": lst(rank_a), "rank": lst(np.linalg.matrix_rank(rank_a))}

la = mat(6, 3)
lb = mat(6, 2)
lx, res, rk, s = np.linalg.lstsq(la, lb, rcond=None)
out["lstsq"] = {"a": lst(la), "b": lst(lb), "x": lst(lx), "residuals": lst(res), "rank": int(rk), "s": lst(s)}

# Non-symmetric matrices (sizes 1..7), eigenvalues sorted by (real, imaginary).
eig = {}
for n in range(1, 8):
    a = mat(n, n)
    w = np.linalg.eigvals(a).astype(complex)
    w = sorted(w, key=lambda c: (c.real, c.imag))
    eig[str(n)] = {"a": lst(a), "re": [c.real for c in w], "im": [c.imag for c in w]}
# a stack with repeated and defective eigenvalues (Jordan block) and a rotation
eig["special"] = {"a": lst(np.array([[[2.0, 1, 0], [0, 2, 1], [0, 0, 2]], [[0, -3, 0], [3, 0, 0], [0, 0, 1]]]))}
out["eigvals"] = eig

# 10 x 12 with singular values 1 .. 1e-14 (the SVD's preconditioned path, n >= 8)
g10 = np.linalg.qr(mat(10, 10))[0] @ np.diag(10.0 ** -np.linspace(0, 14, 10)) @ np.linalg.qr(mat(12, 12))[0][:10, :]
out["svd"]["graded10"] = lst(g10)
out["svd"]["graded10_s"] = lst(np.linalg.svd(g10, compute_uv=False))

with open("test/fixtures/linalg.json", "w") as f:
    json.dump(out, f, indent=1)
