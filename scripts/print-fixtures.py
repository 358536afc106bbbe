"""
Writes test/fixtures/print.json: arrays and NumPy's own repr() of each, the
reference for chainrule's printing (test/print.test.ts).

Run with Debian's NumPy (apt-get install python3-numpy):
    python3 scripts/print-fixtures.py
Each case stores the dtype, the shape, the flat data (non-finite values as
the strings "nan", "inf", "-inf") and NumPy's text.
"""
import json
import math

import numpy as np

rng = np.random.default_rng(7)


def cases():
    yield "ints as floats", np.array([1.0, 2.0, 3.0])
    yield "mixed decimals", np.array([1.5, 2.25, -3.0])
    yield "float32 matrix", np.array([[1, 2], [3, 4]], dtype=np.float32)
    yield "3-d blocks", np.arange(12, dtype=np.float64).reshape(2, 2, 3)
    yield "4-d blocks", np.arange(16, dtype=np.float64).reshape(2, 2, 2, 2) / 4
    yield "scientific: tiny and huge", np.array([1e-5, 1.0, 1e10])
    yield "scientific: ratio over 1000", np.array([1.0, 10000.0])
    yield "thirds", np.array([0.1, 0.2, 1 / 3])
    yield "summarised 1-d", np.arange(2000, dtype=np.float64)
    yield "summarised 2-d", np.arange(1200, dtype=np.float64).reshape(20, 60) / 7
    yield "int32 wrap", np.arange(-20, 40, dtype=np.int32) * 1001
    yield "linspace wrap", np.linspace(0, 1, 40)
    yield "non-finite", np.array([np.nan, np.inf, -np.inf, 1.5])
    yield "only nan", np.array([np.nan, np.nan])
    yield "bool", np.array([True, False, True])
    yield "bool all true", np.array([[True], [True]])
    yield "0-d float", np.array(1.5)
    yield "0-d integer float", np.array(2.0)
    yield "0-d float32", np.array(0.1, dtype=np.float32)
    yield "0-d int32", np.array(-7, dtype=np.int32)
    yield "0-d bool", np.array(False)
    yield "empty", np.zeros((0,))
    yield "empty 2-d", np.zeros((0, 3))
    yield "empty int32", np.zeros((0,), dtype=np.int32)
    yield "normal 5x4", rng.standard_normal((5, 4))
    yield "normal float32 3x3", rng.standard_normal((3, 3)).astype(np.float32)
    yield "float32 tenths", np.array([0.1, 0.2, 0.3], dtype=np.float32)
    yield "signed zeros", np.array([-0.0, 0.0])
    yield "extremes", np.array([1e-300, 1e300])
    yield "scientific negatives", np.array([-1.25e-7, 3e9, 0.0])
    yield "many digits", np.array([0.123456789, 123.456789012])
    yield "wide rows", rng.standard_normal((3, 12)) * 1000
    yield "int32 matrix", np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    yield "summarised int32", np.arange(1001, dtype=np.int32)
    yield "summarised 3-d", np.arange(2 * 30 * 40, dtype=np.float64).reshape(2, 30, 40)


def encode(v):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


out = []
for name, a in cases():
    flat = a.reshape(-1)
    if a.dtype == np.bool_:
        data = [bool(v) for v in flat]
    elif a.dtype == np.int32:
        data = [int(v) for v in flat]
    else:
        data = [encode(float(v)) for v in flat]
    dtype = {"float64": "float64", "float32": "float32", "int32": "int32", "bool": "bool"}[
        str(a.dtype)
    ]
    out.append(
        {"name": name, "dtype": dtype, "shape": list(a.shape), "data": data, "numpy": repr(a)}
    )

with open("test/fixtures/print.json", "w") as f:
    json.dump({"numpy": np.__version__, "cases": out}, f, indent=1)
    f.write("\n")
print(f"wrote {len(out)} cases (NumPy {np.__version__})")
