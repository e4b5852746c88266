"""Copula-DCC: pinned to an independent copula likelihood, to closed forms and to simulation.

The reference likelihood is written from Patton (2006) and rmgarch's ``cgarch`` vignette with
``scipy.stats``: uniforms to standard t quantiles ``x = t_nu^{-1}(u)``, the DCC recursion in
plain numpy on the unit-variance residuals ``y = x sqrt((nu - 2) / nu)`` with the sample
correlation of ``y`` as target, and the copula density
``log multivariate_t(x; R_t, nu) - sum_i log t_nu(x_i)`` (the scale of the quantiles cancels
in the density; it matters only in the recursion). The Gaussian copula on normal uniforms is
the DCC model itself, a second, in-package cross-check.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.correlation import DCC
from research.correlation.copula import (
    CopulaDCC,
    _Copula,
    copula_residuals,
    tail_dependence,
)
from research.errors import DataError, InsufficientDataError, SpecificationError
from research.volatility import UnivariateFits


def _dcc_path(y: np.ndarray, a: float, b: float) -> np.ndarray:
    qbar = np.corrcoef(y, rowvar=False)
    q = qbar.copy()
    out = np.empty((len(y), y.shape[1], y.shape[1]))
    for t in range(len(y)):
        d = np.sqrt(np.diag(q))
        out[t] = q / np.outer(d, d)
        q = (1 - a - b) * qbar + a * np.outer(y[t], y[t]) + b * q
    return out


def _reference_t(u: np.ndarray, a: float, b: float, nu: float) -> float:
    x = stats.t.ppf(u, nu)
    y = x * math.sqrt((nu - 2) / nu)
    paths = _dcc_path(y, a, b)
    joint = sum(
        stats.multivariate_t(loc=np.zeros(u.shape[1]), shape=paths[t], df=nu).logpdf(x[t])
        for t in range(len(u))
    )
    return float(joint - stats.t.logpdf(x, nu).sum())


def _simulate(a: float, b: float, nu: float, n: int, t_obs: int, seed: int) -> np.ndarray:
    """Normal-margin residuals whose copula is a DCC(a, b) Student-t copula."""
    rng = np.random.default_rng(seed)
    loadings = np.linspace(0.4, 0.8, n)
    qbar = np.outer(loadings, loadings)
    np.fill_diagonal(qbar, 1.0)
    q = qbar.copy()
    burn = 300
    out = np.empty((t_obs, n))
    scale = math.sqrt((nu - 2) / nu)
    for t in range(t_obs + burn):
        d = np.sqrt(np.diag(q))
        r = q / np.outer(d, d)
        x = (np.linalg.cholesky(r) @ rng.standard_normal(n)) * math.sqrt(nu / rng.chisquare(nu))
        y = x * scale
        if t >= burn:
            out[t - burn] = stats.norm.ppf(stats.t.cdf(x, nu))
        q = (1 - a - b) * qbar + a * np.outer(y, y) + b * q
    return out


def _fits(z: np.ndarray) -> UnivariateFits:
    index = pd.bdate_range("2010-01-01", periods=len(z))
    return UnivariateFits.from_arrays(
        pd.DataFrame(z, index=index, columns=[f"A{i}" for i in range(z.shape[1])])
    )


def test_tail_dependence_closed_form() -> None:
    # the example: rho 0.8, nu 5 -> about 0.45; by hand 2 t_6(-sqrt(6 * 0.2 / 1.8))
    assert tail_dependence(0.8, 5.0) == pytest.approx(2 * stats.t.cdf(-math.sqrt(6 / 9), 6))
    assert tail_dependence(0.8, 5.0) == pytest.approx(0.4454, abs=1e-4)
    assert tail_dependence(1.0, 5.0) == pytest.approx(1.0)
    assert tail_dependence(-1.0, 5.0) == 0.0
    assert tail_dependence(0.8, math.inf) == 0.0
    grid = tail_dependence(np.array([0.0, 0.5, 0.9]), 4.0)
    assert np.all(np.diff(grid) > 0)  # rises with the correlation
    assert tail_dependence(0.5, 3.0) > tail_dependence(0.5, 30.0)  # and with fatter tails
    with pytest.raises(SpecificationError):
        tail_dependence(1.2, 5.0)
    with pytest.raises(SpecificationError):
        tail_dependence(0.5, 0.0)


@pytest.mark.parametrize(("a", "b", "nu"), [(0.03, 0.94, 6.0), (0.08, 0.85, 15.0)])
def test_t_copula_likelihood_equals_the_scipy_reference(a: float, b: float, nu: float) -> None:
    z = _simulate(0.04, 0.93, 6.0, n=3, t_obs=150, seed=5)
    u = stats.norm.cdf(z)
    model = _Copula(np.ascontiguousarray(u), "t", "dcc", ("A0", "A1", "A2"))
    ours = float(model.loglik(np.array([a, b, nu]))[0].sum())
    assert ours == pytest.approx(_reference_t(u, a, b, nu), abs=1e-7)


def test_gradient_equals_central_differences() -> None:
    z = _simulate(0.04, 0.93, 6.0, n=3, t_obs=400, seed=8)
    model = _Copula(np.ascontiguousarray(stats.norm.cdf(z)), "t", "dcc", ("A0", "A1", "A2"))
    theta = np.array([0.05, 0.9, 7.0])
    _, gradient = model.loglik(theta, want_grad=True)
    for k, h in enumerate((1e-6, 1e-6, 1e-4)):
        step = np.eye(3)[k] * h
        numeric = (model.loglik(theta + step)[0].sum() - model.loglik(theta - step)[0].sum()) / (
            2 * h
        )
        assert gradient[k] == pytest.approx(numeric, rel=1e-5)


def test_gaussian_copula_on_normal_margins_is_dcc() -> None:
    z = _simulate(0.04, 0.93, 8.0, n=3, t_obs=800, seed=2)
    fits = _fits(z)
    copula = CopulaDCC(copula="gaussian").fit(univariate=fits)
    dcc = DCC(std_errors=False).fit(univariate=fits)
    np.testing.assert_allclose(copula.params[["a", "b"]], dcc.params[["a", "b"]], atol=2e-4)
    assert copula.loglikelihood_copula == pytest.approx(dcc.loglikelihood_correlation, abs=1e-3)
    assert copula.nu == math.inf
    assert (copula.tail_dependence("A0", "A1") == 0.0).all()


def test_copula_residuals_have_unit_variance() -> None:
    u = (np.arange(1, 100_000) / 100_000.0).reshape(-1, 1)
    assert copula_residuals(u, "t", 6.0).var() == pytest.approx(1.0, abs=0.01)
    assert copula_residuals(u, "gaussian").var() == pytest.approx(1.0, abs=0.001)


def test_recovers_a_t_copula() -> None:
    """N = 5, T = 3,000, three seeds: (a, b, nu) = (0.04, 0.93, 6)."""
    estimates = []
    for seed in range(3):
        res = CopulaDCC(copula="t").fit(univariate=_fits(_simulate(0.04, 0.93, 6.0, 5, 3000, seed)))
        assert res.converged
        estimates.append(res.params)
        # the fitted optimum beats nearby points of the same likelihood
        model = _Copula(
            np.ascontiguousarray(stats.norm.cdf(res.univariate.std_resid.to_numpy())),
            "t",
            "dcc",
            tuple(res.assets),
        )
        best = float(model.loglik(res.params.to_numpy())[0].sum())
        assert best == pytest.approx(res.loglikelihood_copula, abs=1e-9)
        for step in ([0.004, 0, 0], [0, -0.004, 0], [0, 0, 0.5], [0, 0, -0.5]):
            assert float(model.loglik(res.params.to_numpy() + step)[0].sum()) <= best + 1e-9
    mean = pd.concat(estimates, axis=1).mean(axis=1)
    assert mean["a"] == pytest.approx(0.04, abs=0.01)
    assert mean["b"] == pytest.approx(0.93, abs=0.03)
    assert mean["nu"] == pytest.approx(6.0, abs=1.5)


def test_result_paths_and_empirical_transform() -> None:
    z = _simulate(0.05, 0.90, 5.0, n=3, t_obs=600, seed=4)
    res = CopulaDCC(copula="t", transform="empirical").fit(univariate=_fits(z))
    rho = res.correlation_pair("A0", "A2")
    lam = res.tail_dependence("A0", "A2")
    assert len(rho) == len(lam) == 600
    np.testing.assert_allclose(lam, tail_dependence(rho.to_numpy(), res.nu))
    assert (lam > 0).all() and (lam < 1).all()
    assert res.forecast.shape == (3, 3)
    assert "copula log-likelihood" in res.summary().index
    with pytest.raises(DataError, match="unknown asset"):
        res.correlation_pair("A0", "XYZ")


def test_bad_inputs() -> None:
    with pytest.raises(SpecificationError, match="copula"):
        CopulaDCC(copula="clayton")  # type: ignore[arg-type]
    short = _fits(np.random.default_rng(0).standard_normal((100, 12)))
    with pytest.raises(InsufficientDataError, match="at least 120"):
        CopulaDCC().fit(univariate=short)
    with pytest.raises(DataError, match="pass returns"):
        CopulaDCC().fit()
