"""Test-only DCC-GARCH simulator with known parameters (independent of research code)."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: True univariate GARCH(1,1) parameters of every simulated asset.
GARCH = {"mu": 0.05, "omega": 0.05, "alpha": 0.08, "beta": 0.9}


def target_correlation(n: int) -> np.ndarray:
    """A well-conditioned correlation matrix with correlations between 0.2 and 0.6."""
    idx = np.arange(n)
    return (
        0.2
        + 0.4 * 0.7 ** np.abs(idx[:, None] - idx[None, :]) * (idx[:, None] != idx)
        + (0.8 * (idx[:, None] == idx))
    )


def negative_moment(corr: np.ndarray, seed: int) -> np.ndarray:
    """E[n n'] of n = min(z, 0), z ~ N(0, corr), by a 400,000-draw Monte Carlo."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((400_000, corr.shape[0])) @ np.linalg.cholesky(corr).T
    n = np.minimum(z, 0)
    return n.T @ n / len(z)


def simulate_dcc_garch(
    kind: str,
    params: dict[str, float],
    n_assets: int,
    n_obs: int,
    seed: int,
    nu: float | None = None,
) -> pd.DataFrame:
    """Returns (percent) of a DCC/cDCC/ADCC-GARCH(1,1) process with Gaussian or t shocks."""
    rng = np.random.default_rng(seed)
    qbar = target_correlation(n_assets)
    nbar = negative_moment(qbar, seed + 1000) if kind == "adcc" else np.zeros_like(qbar)
    a, b, g = params["a"], params["b"], params.get("g", 0.0)
    q = qbar.copy()
    sigma2 = np.full(n_assets, GARCH["omega"] / (1 - GARCH["alpha"] - GARCH["beta"]))
    burn = 500
    out = np.empty((n_obs, n_assets))
    for t in range(n_obs + burn):
        d = np.sqrt(np.diag(q))
        r = q / np.outer(d, d)
        e = rng.standard_normal(n_assets)
        if nu is not None:
            e = e * np.sqrt((nu - 2) / rng.chisquare(nu))
        z = np.linalg.cholesky(r) @ e
        eps = np.sqrt(sigma2) * z
        if t >= burn:
            out[t - burn] = GARCH["mu"] + eps
        sigma2 = GARCH["omega"] + GARCH["alpha"] * eps**2 + GARCH["beta"] * sigma2
        zz = z * d if kind == "cdcc" else z
        n = np.minimum(z, 0)
        q = (1 - a - b) * qbar + a * np.outer(zz, zz) + b * q
        if kind == "adcc":
            q += g * (np.outer(n, n) - nbar)
    idx = pd.bdate_range("2000-01-03", periods=n_obs)
    return pd.DataFrame(out, index=idx, columns=[f"A{i}" for i in range(n_assets)])
