"""fit_univariate against arch directly; input validation; user-supplied residuals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch import arch_model

from research.errors import DataError, InsufficientDataError
from research.volatility import UnivariateFits, UnivariateSpec, fit_univariate, validate_returns
from research.volatility.derivatives import std_resid_at, univariate_derivatives

#: The same arch fit run twice: identical to rounding.
SAME_FIT_TOL = 1e-10
#: The compiled GARCH(1,1) vs arch: the issue's 1e-5 on parameters (and volatilities);
#: log-likelihoods to SLSQP's stopping tolerance (ftol 1e-6, both optimizers).
FAST_PARAM_TOL = 1e-5
FAST_LL_TOL = 1e-6
#: Our central-difference scores/Hessian vs arch's own numerical sandwich (different steps).
SANDWICH_RTOL = 1e-4


@pytest.fixture(scope="module")
def returns():
    rng = np.random.default_rng(7)
    idx = pd.bdate_range("2015-01-01", periods=800)
    sigma2 = np.ones(3)
    out = np.empty((800, 3))
    for t in range(800):
        e = rng.standard_normal(3) * np.sqrt(sigma2)
        out[t] = 0.05 + e
        sigma2 = 0.05 + 0.08 * e**2 + 0.9 * sigma2
    return pd.DataFrame(out, index=idx, columns=["X", "Y", "Z"])


@pytest.fixture(scope="module")
def fits(returns):
    return fit_univariate(returns)


def test_arch_engine_matches_arch_directly(returns):
    fits = fit_univariate(returns, UnivariateSpec(engine="arch"))
    for asset in returns:
        res = arch_model(returns[asset], mean="Constant", vol="GARCH", p=1, q=1).fit(disp="off")
        np.testing.assert_allclose(fits.params.loc[asset], res.params, atol=SAME_FIT_TOL)
        np.testing.assert_allclose(fits.std_resid[asset], res.std_resid, atol=SAME_FIT_TOL)
        np.testing.assert_allclose(fits.sigma[asset], res.conditional_volatility, atol=SAME_FIT_TOL)
        assert fits.loglikelihoods[asset] == pytest.approx(res.loglikelihood, abs=SAME_FIT_TOL)


def test_default_engine_is_the_compiled_garch_and_matches_arch(returns, fits):
    assert fits.spec.uses_fast_engine
    for asset in returns:
        res = arch_model(returns[asset], mean="Constant", vol="GARCH", p=1, q=1).fit(disp="off")
        np.testing.assert_allclose(fits.params.loc[asset], res.params, atol=FAST_PARAM_TOL)
        sigma = res.conditional_volatility
        np.testing.assert_allclose(fits.sigma[asset], sigma, atol=FAST_PARAM_TOL)
        assert fits.loglikelihoods[asset] == pytest.approx(res.loglikelihood, abs=FAST_LL_TOL)
        assert fits.results[asset].convergence_flag == 0


def test_result_fields(returns, fits):
    assert fits.assets == ["X", "Y", "Z"]
    assert fits.nobs == 800
    assert fits.n_params == 12
    assert fits.converged.all()
    assert fits.loglikelihood == pytest.approx(fits.loglikelihoods.sum())
    assert fits.std_resid.index.equals(returns.index)
    assert set(fits.results) == {"X", "Y", "Z"}
    assert list(fits.summary().columns[-2:]) == ["loglikelihood", "converged"]


def test_ar_mean_drops_and_records_leading_rows(returns):
    with pytest.warns(UserWarning, match="leading rows"):
        fits = fit_univariate(returns, UnivariateSpec(mean="AR", lags=2))
    assert fits.dropped == 2
    assert fits.nobs == 798
    assert "ar[1]" in fits.params.columns and "ar[2]" in fits.params.columns
    assert any("2 leading rows" in w for w in fits.warnings)
    assert not fits.std_resid.isna().any().any()


@pytest.mark.parametrize(
    "mutate, error, match",
    [
        (lambda r: r.iloc[:, 0], DataError, "DataFrame"),
        (lambda r: r.assign(X=np.nan), DataError, "all NaN"),
        (lambda r: r.assign(Y=0.1), DataError, "constant"),
        (
            lambda r: r.drop(columns="Z").assign(Z=r["Z"].where(r.index != r.index[10])),
            DataError,
            "2015-01-15",
        ),
        (lambda r: r.assign(Z=np.inf), DataError, "infinite"),
        (lambda r: r.iloc[:50], InsufficientDataError, "at least 100"),
        (lambda r: r.set_axis(["X", "X", "Z"], axis=1), DataError, "duplicate"),
    ],
    ids=["series", "all-nan", "constant", "nan-inside", "inf", "short", "duplicate"],
)
def test_bad_input_raises(returns, mutate, error, match):
    with pytest.raises(error, match=match):
        validate_returns(mutate(returns))


def test_missing_value_message_names_asset_and_count(returns):
    bad = returns.copy()
    bad.iloc[5, 1] = np.nan
    with pytest.raises(DataError, match=r"1 missing returns in assets \['Y'\]"):
        fit_univariate(bad)


def test_from_arrays(fits):
    wrapped = UnivariateFits.from_arrays(fits.std_resid)
    assert (wrapped.sigma.to_numpy() == 1.0).all()
    assert wrapped.results == {}
    assert np.isnan(wrapped.loglikelihood)
    with_sigma = UnivariateFits.from_arrays(fits.std_resid, fits.sigma, fits.loglikelihoods)
    assert with_sigma.loglikelihood == pytest.approx(fits.loglikelihood)


def test_from_arrays_rejects_misaligned_or_negative_sigma(fits):
    with pytest.raises(DataError, match="same index"):
        UnivariateFits.from_arrays(fits.std_resid, fits.sigma.iloc[1:])
    with pytest.raises(DataError, match="positive"):
        UnivariateFits.from_arrays(fits.std_resid, -fits.sigma)


def test_std_resid_at_fitted_params_reproduces_arch(fits):
    res = fits.results["X"]
    z = std_resid_at(res, res.params.to_numpy())
    np.testing.assert_allclose(z, res.std_resid.to_numpy(), atol=SAME_FIT_TOL)


def test_derivatives_reproduce_arch_robust_std_errors(fits):
    res = fits.results["Y"]
    d = univariate_derivatives(res)
    h_inv = np.linalg.inv(-d.hessian)
    cov = h_inv @ np.cov(d.scores.T) @ h_inv / d.scores.shape[0]
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), res.std_err.to_numpy(), rtol=SANDWICH_RTOL)
    # scores average to zero at the optimum (first-order condition)
    assert np.abs(d.scores.mean(axis=0)).max() < 1e-3
