"""
Reference solutions for test/ode.test.ts, computed independently of chainrule
with SciPy (Radau and LSODA at rtol 1e-12; the script checks that the two
agree). Writes test/fixtures/ode-reference.json.

    python3 scripts/ode-reference.py
"""
import json
import pathlib

import numpy as np
from scipy.integrate import solve_ivp


def robertson(t, y):
    return [
        -0.04 * y[0] + 1e4 * y[1] * y[2],
        0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
        3e7 * y[1] ** 2,
    ]


def lotka_volterra(t, y, a, b, c, d):
    return [a * y[0] - b * y[0] * y[1], d * y[0] * y[1] - c * y[1]]


def solve(f, span, y0, ts, args=()):
    runs = [
        solve_ivp(f, span, y0, method=m, t_eval=ts, args=args, rtol=1e-12, atol=1e-20)
        for m in ("Radau", "LSODA")
    ]
    a, b = runs[0].y.T, runs[1].y.T
    assert np.max(np.abs(a - b) / (np.abs(a) + 1e-300)) < 1e-8, "Radau and LSODA disagree"
    return a.tolist()


rob_ts = [0, 0.4, 4, 40, 4e3, 4e5]
lv_ts = np.linspace(0, 15, 16).tolist()
lv_args = (1.5, 1.0, 3.0, 1.0)
out = {
    "robertson": {"ts": rob_ts, "y0": [1, 0, 0], "ys": solve(robertson, (0, 4e5), [1, 0, 0], rob_ts)},
    "lotkaVolterra": {
        "ts": lv_ts,
        "y0": [1.0, 1.0],
        "args": list(lv_args),
        "ys": solve(lotka_volterra, (0, 15), [1.0, 1.0], lv_ts, lv_args),
    },
}
path = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "ode-reference.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print("wrote", path)
