"""
Reference values of split rank-normalised R-hat and bulk/tail ESS (Vehtari,
Gelman, Simpson, Carpenter & Buerkner 2021) for test/infer.test.ts, written
independently of chainrule with NumPy/SciPy: autocovariances by FFT, ranks
by scipy.stats.rankdata, quantiles by numpy.quantile. The draws are AR(1)
chains from a fixed seed, stored in the fixture with the results.

    python3 scripts/mcmc-diagnostics-reference.py
"""
import json
import pathlib

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata


def split(x):  # x: [chains, draws]
    n = x.shape[1]
    half = n // 2
    return np.concatenate([x[:, :half], x[:, n - half :]], axis=0)


def rank_normalize(x):
    r = rankdata(x, method="average").reshape(x.shape)
    return ndtri((r - 3 / 8) / (x.size + 1 / 4))


def rhat_basic(x):
    m, n = x.shape
    b = n * np.var(x.mean(axis=1), ddof=1)
    w = np.mean(np.var(x, axis=1, ddof=1))
    return np.sqrt(((n - 1) / n * w + b / n) / w)


def autocov_fft(x):
    n = len(x)
    c = x - x.mean()
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(c, size)
    return np.fft.irfft(f * np.conj(f), size)[:n] / n


def ess_basic(x):
    m, n = x.shape
    acov = np.array([autocov_fft(c) for c in x])
    mean_var = acov[:, 0].mean() * n / (n - 1)
    var_plus = mean_var * (n - 1) / n
    if m > 1:
        var_plus += np.var(x.mean(axis=1), ddof=1)
    rho = np.zeros(n)
    rho[0] = 1.0
    even = 1.0
    odd = 1 - (mean_var - acov[:, 1].mean()) / var_plus
    rho[1] = odd
    t = 1
    while t < n - 3 and even + odd > 0:
        even = 1 - (mean_var - acov[:, t + 1].mean()) / var_plus
        odd = 1 - (mean_var - acov[:, t + 2].mean()) / var_plus
        if even + odd >= 0:
            rho[t + 1] = even
            rho[t + 2] = odd
        t += 2
    max_t = t
    if even > 0:
        rho[max_t + 1] = even
    t = 1
    while t <= max_t - 2:
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = (rho[t - 1] + rho[t]) / 2
            rho[t + 2] = rho[t + 1]
        t += 2
    total = m * n
    tau = -1 + 2 * rho[: max_t + 1].sum() + (rho[max_t + 1] if max_t + 1 < n else 0)
    tau = max(tau, 1 / np.log10(total))
    return total / tau


def rhat(x):
    s = split(x)
    bulk = rhat_basic(rank_normalize(s))
    folded = np.abs(s - np.median(x))
    return max(bulk, rhat_basic(rank_normalize(folded)))


def ess_bulk(x):
    return ess_basic(rank_normalize(split(x)))


def ess_tail(x):
    out = []
    for q in (0.05, 0.95):
        cut = np.quantile(x, q)
        out.append(ess_basic(split((x <= cut).astype(float))))
    return min(out)


rng = np.random.default_rng(20261206)
chains, draws = 4, 200
params = []
for phi, shift in [(0.0, 0.0), (0.7, 0.0), (0.95, 0.0), (0.5, 0.6)]:
    x = np.zeros((chains, draws))
    for c in range(chains):
        v = rng.normal()
        for i in range(draws):
            v = phi * v + rng.normal()
            x[c, i] = v
    x[0] += shift  # one chain off target: R-hat above 1
    params.append(x)
data = np.stack(params, axis=-1)  # [chains, draws, 4]
out = {
    "draws": data.tolist(),
    "rhat": [rhat(data[..., k]) for k in range(data.shape[-1])],
    "essBulk": [ess_bulk(data[..., k]) for k in range(data.shape[-1])],
    "essTail": [ess_tail(data[..., k]) for k in range(data.shape[-1])],
}
path = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "mcmc-diagnostics.json"
path.write_text(json.dumps(out) + "\n")
print("wrote", path, out["rhat"], out["essBulk"], out["essTail"])
