"""compare_dependence: Gaussian DCC, copula-DCC and DECO on the scale of one copula density.

The claim that makes the table's log-likelihoods comparable is checked with an independent
density written with ``scipy.stats``: on normal margins, DECO's correlation log-likelihood is
the Gaussian copula log density of ``u = Phi(z)`` at the equicorrelation matrices, and the
normal DCC's is the same density at its own correlation matrices (the t copula's density is
pinned to scipy in ``test_copula.py``). AIC and BIC are recomputed by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.correlation import DCC, DECO, CopulaDCC
from research.correlation.compare import compare_dependence, fit_dependence
from research.errors import DataError, SpecificationError
from research.volatility import UnivariateFits


def _gaussian_copula_logdensity(z: np.ndarray, paths: np.ndarray) -> float:
    """log c_Gauss(Phi(z_t); R_t) summed over t, from scipy's multivariate normal."""
    joint = sum(
        stats.multivariate_normal(mean=np.zeros(z.shape[1]), cov=paths[t]).logpdf(z[t])
        for t in range(len(z))
    )
    return float(joint - stats.norm.logpdf(z).sum())


def _stage(seed: int, t_obs: int = 400, n: int = 3) -> UnivariateFits:
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((t_obs, 1)) * rng.standard_t(5, (t_obs, 1)) / 1.3
    z = 0.7 * common + 0.7 * rng.standard_normal((t_obs, n))
    z = (z - z.mean(axis=0)) / z.std(axis=0)
    index = pd.bdate_range("2015-01-01", periods=t_obs)
    return UnivariateFits.from_arrays(
        pd.DataFrame(z, index=index, columns=[f"A{i}" for i in range(n)])
    )


@pytest.fixture(scope="module")
def fits():
    stage = _stage(seed=3)
    return stage, fit_dependence(univariate=stage)


def test_fit_dependence_fits_the_three_models_on_one_stage(fits) -> None:
    stage, models = fits
    assert list(models) == ["DCC", "t copula", "DECO"]
    for res in models.values():
        assert res.univariate is stage
    assert models["DCC"].kind == "dcc" and models["DCC"].distribution == "normal"
    assert models["t copula"].model == CopulaDCC(copula="t", kind="dcc")
    pd.testing.assert_series_equal(models["DECO"].params, DECO().fit(univariate=stage).params)
    pd.testing.assert_series_equal(
        models["DCC"].params, DCC(std_errors=False).fit(univariate=stage).params
    )


def test_deco_and_dcc_logliks_are_gaussian_copula_densities(fits) -> None:
    stage, models = fits
    z = stage.std_resid.to_numpy()
    assert np.abs(z).max() < 7.0  # inside the copula transform's exact range
    rho = models["DECO"].equicorrelation.to_numpy()
    equi = np.array([(1 - r) * np.eye(z.shape[1]) + r for r in rho])
    assert models["DECO"].loglikelihood_correlation == pytest.approx(
        _gaussian_copula_logdensity(z, equi), abs=1e-6
    )
    dcc = models["DCC"]
    assert dcc.loglikelihood_correlation == pytest.approx(
        _gaussian_copula_logdensity(z, dcc.correlation_array), abs=1e-6
    )


def test_table_values_and_information_criteria(fits) -> None:
    stage, models = fits
    table = compare_dependence(models)
    assert list(table.index) == ["DCC", "t copula", "DECO"]
    assert "g" not in table  # no ADCC among the fits
    t_obs = len(stage.std_resid)
    for label, loglik, k in (
        ("DCC", models["DCC"].loglikelihood_correlation, 2),
        ("t copula", models["t copula"].loglikelihood_copula, 3),
        ("DECO", models["DECO"].loglikelihood_correlation, 2),
    ):
        row = table.loc[label]
        assert row["copula log-lik."] == loglik
        assert row["parameters"] == k
        assert row["AIC"] == pytest.approx(-2 * loglik + 2 * k)
        assert row["BIC"] == pytest.approx(-2 * loglik + math.log(t_obs) * k)
        assert row["comparable"] and row["note"] == ""
    assert table.loc["t copula", "nu"] == models["t copula"].nu
    assert np.isnan(table.loc["DCC", "nu"]) and np.isnan(table.loc["DECO", "nu"])
    assert table.loc["DECO", "a"] == models["DECO"].params["a"]
    assert table.loc["t copula", "model"] == "t copula, DCC, parametric"


def test_rows_on_other_uniforms_get_no_information_criteria(fits) -> None:
    stage, models = fits
    ranks = CopulaDCC(copula="gaussian", transform="empirical").fit(univariate=stage)
    other = DECO().fit(univariate=_stage(seed=4))
    table = compare_dependence({"DCC": models["DCC"], "ranks": ranks, "other": other})
    assert table.loc["ranks", "note"] == "rank uniforms, not Phi(z)"
    assert table.loc["other", "note"] == "another univariate stage than the first fit"
    for label in ("ranks", "other"):
        assert not table.loc[label, "comparable"]
        assert np.isnan(table.loc[label, ["AIC", "BIC"]].astype(float)).all()
        assert np.isfinite(table.loc[label, "copula log-lik."])
    assert table.loc["DCC", "comparable"]


def test_bad_input() -> None:
    with pytest.raises(DataError, match="at least one fit"):
        compare_dependence({})
    with pytest.raises(SpecificationError, match="'x' is a dict"):
        compare_dependence({"x": {}})
