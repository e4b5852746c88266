"""DECO (dynamic equicorrelation): pinned to an independent likelihood, to cDCC at N = 2, and
to simulated data with known parameters.

The reference likelihood below is written from Engle and Kelly (2012), eqs. (2.5)-(2.8),
with full matrices: the cDCC recursion of Aielli (2013) on N x N matrices, the mean
off-diagonal correlation, and the Gaussian correlation log-likelihood of the equicorrelation
matrix from ``numpy.linalg`` (no closed form), in the package's convention
(``-1/2 [log|R| + z'R^{-1}z - z'z]`` per day). It shares no code with
:mod:`research.correlation.deco` beyond the corrected target, which is re-derived here too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.correlation._likelihood import CorrelationProblem
from research.correlation.deco import DECO, deco_loglik, equicorrelation_path
from research.errors import DataError, InsufficientDataError
from research.volatility import UnivariateFits


def _reference_target(z: np.ndarray, a: float, b: float) -> np.ndarray:
    """Aielli's corrected target: z rescaled by the unit-target diagonal recursions."""
    t_obs, n = z.shape
    q = np.ones(n)
    scaled = np.empty_like(z)
    for t in range(t_obs):
        scaled[t] = z[t] * np.sqrt(q)
        q = (1 - a - b) + a * z[t] ** 2 * q + b * q
    m = scaled.T @ scaled
    d = np.sqrt(np.diag(m))
    return m / np.outer(d, d)


def _reference(z: np.ndarray, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-day equicorrelation and log-likelihood, with full matrices and numpy.linalg."""
    t_obs, n = z.shape
    qbar = _reference_target(z, a, b)
    q = qbar.copy()
    rho = np.empty(t_obs)
    ll = np.empty(t_obs)
    for t in range(t_obs):
        d = np.sqrt(np.diag(q))
        rc = q / np.outer(d, d)
        rho[t] = (rc.sum() - n) / (n * (n - 1))
        r = np.full((n, n), rho[t]) + (1 - rho[t]) * np.eye(n)
        _, logdet = np.linalg.slogdet(r)
        ll[t] = -0.5 * (logdet + z[t] @ np.linalg.solve(r, z[t]) - z[t] @ z[t])
        e = d * z[t]
        q = (1 - a - b) * qbar + a * np.outer(e, e) + b * q
    return rho, ll


def _simulate_deco(a: float, b: float, n: int, t_obs: int, rho_bar: float, seed: int) -> np.ndarray:
    """Standardized residuals of a DECO process with an equicorrelated target."""
    rng = np.random.default_rng(seed)
    qbar = np.full((n, n), rho_bar) + (1 - rho_bar) * np.eye(n)
    q = qbar.copy()
    burn = 300
    out = np.empty((t_obs, n))
    for t in range(t_obs + burn):
        d = np.sqrt(np.diag(q))
        rho = ((q / np.outer(d, d)).sum() - n) / (n * (n - 1))
        r = np.full((n, n), rho) + (1 - rho) * np.eye(n)
        z = np.linalg.cholesky(r) @ rng.standard_normal(n)
        if t >= burn:
            out[t - burn] = z
        e = d * z
        q = (1 - a - b) * qbar + a * np.outer(e, e) + b * q
    return out


def _fits(z: np.ndarray) -> UnivariateFits:
    index = pd.date_range("2010-01-01", periods=len(z), freq="D")
    columns = [f"A{i}" for i in range(z.shape[1])]
    return UnivariateFits.from_arrays(pd.DataFrame(z, index=index, columns=columns))


@pytest.fixture(scope="module")
def residuals() -> np.ndarray:
    return (
        np.random.default_rng(11).standard_normal((400, 4))
        @ np.linalg.cholesky(
            np.array(
                [
                    [1.0, 0.5, 0.3, 0.2],
                    [0.5, 1.0, 0.4, 0.1],
                    [0.3, 0.4, 1.0, 0.6],
                    [0.2, 0.1, 0.6, 1.0],
                ]
            )
        ).T
    )


@pytest.mark.parametrize(("a", "b"), [(0.02, 0.95), (0.08, 0.80), (0.0, 0.5), (0.3, 0.6)])
def test_likelihood_and_path_equal_the_full_matrix_reference(
    residuals: np.ndarray, a: float, b: float
) -> None:
    rho, ll = _reference(residuals, a, b)
    np.testing.assert_allclose(equicorrelation_path(residuals, a, b)[:-1], rho, rtol=0, atol=1e-12)
    np.testing.assert_allclose(deco_loglik(residuals, a, b), ll, rtol=0, atol=1e-10)


@pytest.mark.parametrize(("a", "b"), [(0.03, 0.95), (0.1, 0.85)])
def test_two_assets_deco_is_the_cdcc_likelihood(residuals: np.ndarray, a: float, b: float) -> None:
    z = np.ascontiguousarray(residuals[:, :2])
    problem = CorrelationProblem.build(z, "cdcc", "normal", "full", ["A0", "A1"])
    cdcc, _, ok = problem.loglik(np.array([a, b]))
    assert ok
    np.testing.assert_allclose(deco_loglik(z, a, b), cdcc, rtol=0, atol=1e-10)


def test_fit_is_a_maximum_of_the_reference_likelihood() -> None:
    z = _simulate_deco(0.05, 0.90, n=5, t_obs=1500, rho_bar=0.4, seed=3)
    res = DECO().fit(univariate=_fits(z))
    a, b = res.params["a"], res.params["b"]
    best = _reference(z, a, b)[1].sum()
    assert res.loglikelihood_correlation == pytest.approx(best, abs=1e-8)
    for da, db in [(0.005, 0), (-0.005, 0), (0, 0.005), (0, -0.005), (0.003, -0.003)]:
        assert _reference(z, a + da, b + db)[1].sum() <= best + 1e-9


def test_recovers_known_parameters() -> None:
    """Three seeds, N = 5, T = 3,000: each estimate within 4 standard errors of the truth and
    the mean of the three close to it (the persistence is the less precise: its standard error
    runs 0.013-0.05 on these samples)."""
    a, b = 0.05, 0.90
    estimates = []
    for seed in range(3):
        z = _simulate_deco(a, b, n=5, t_obs=3000, rho_bar=0.4, seed=seed)
        res = DECO().fit(univariate=_fits(z))
        assert res.converged
        se = res.std_errors
        assert (se > 0).all() and (se < 0.06).all()
        assert abs(res.params["a"] - a) < 4 * se["a"]
        assert abs(res.params["b"] - b) < 4 * se["b"]
        assert res.equicorrelation.mean() == pytest.approx(0.4, abs=0.08)
        estimates.append(res.params)
    mean = pd.concat(estimates, axis=1).mean(axis=1)
    assert mean["a"] == pytest.approx(a, abs=0.01)
    assert mean["b"] == pytest.approx(b, abs=0.03)


def test_result_objects() -> None:
    z = _simulate_deco(0.05, 0.90, n=4, t_obs=600, rho_bar=0.3, seed=9)
    res = DECO().fit(univariate=_fits(z))
    date = res.equicorrelation.index[100]
    corr = res.correlation(date)
    assert corr.shape == (4, 4)
    np.testing.assert_allclose(np.diag(corr), 1.0)
    assert corr.iloc[0, 1] == res.equicorrelation.loc[date]
    assert res.correlation().iloc[2, 3] == res.forecast
    assert res.half_life == pytest.approx(np.log(0.5) / np.log(res.params["a"] + res.params["b"]))
    table = res.summary()
    assert {"a", "b", "half-life (days)", "forecast equicorrelation"} <= set(table.index)
    with pytest.raises(DataError, match="not a date of the DECO sample"):
        res.correlation("1990-01-01")


def test_bad_inputs() -> None:
    z = np.random.default_rng(0).standard_normal((50, 3))
    with pytest.raises(InsufficientDataError, match="at least 100"):
        DECO().fit(univariate=_fits(z))
    with pytest.raises(DataError, match="at least 2 assets"):
        DECO().fit(univariate=_fits(np.random.default_rng(0).standard_normal((300, 1))))
    with pytest.raises(DataError, match="pass returns"):
        DECO().fit()
