"""Rolling refits: alignment, warm starts, filtering with fixed parameters, no look-ahead.

The estimator here is a small stand-in with the ``DCC.fit`` contract: real ``arch``
GARCH(1,1) fits per asset and fixed second-stage parameters, so every number is reproducible
and independent of the DCC optimizer.
"""

from __future__ import annotations

import types
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from arch import arch_model

from research.correlation import DCC
from research.correlation.forecast import forecast_dcc
from research.correlation.rolling import RollingForecast, rolling_forecast
from research.errors import InsufficientDataError, ResearchWarning, SpecificationError
from research.volatility import UnivariateSpec, fit_univariate

# identities (same arithmetic, different order of operations)
IDENTITY_TOL = 1e-12
# the same arch variance recursion run over samples of different length: the arch backcast
# and the parameters are identical, so only summation order differs
RECURSION_TOL = 1e-10


def corr(q):
    d = np.sqrt(np.diag(q))
    return q / np.outer(d, d)


class FixedDCC:
    """Stand-in estimator: arch GARCH(1,1) per asset, DCC(a, b) with fixed a, b."""

    def __init__(self, a=0.04, b=0.93):
        self.a, self.b = a, b
        self.starts = []

    def fit(self, returns, starting_values=None):
        self.starts.append(None if starting_values is None else dict(starting_values))
        fits = {
            c: arch_model(returns[c], mean="Constant", vol="GARCH", p=1, q=1).fit(disp="off")
            for c in returns
        }
        z = pd.DataFrame({c: fits[c].std_resid for c in returns})
        zz = z.to_numpy()
        qbar = zz.T @ zz / len(zz)
        q = qbar.copy()
        for zt in zz:
            q = (1 - self.a - self.b) * qbar + self.a * np.outer(zt, zt) + self.b * q
        # a parameter that depends on the data, to see refits in the output
        drift = float(np.mean(zz[:, 0] ** 2))
        return types.SimpleNamespace(
            kind="dcc",
            params=pd.Series({"a": self.a, "b": self.b, "m": drift}),
            qbar=qbar,
            nbar=None,
            q_next=q,
            std_resid=z,
            univariate=types.SimpleNamespace(results=fits),
            converged=True,
        )


@pytest.fixture(scope="module")
def returns():
    rng = np.random.default_rng(21)
    n_obs, n = 460, 3
    chol = np.linalg.cholesky(0.5 * np.eye(n) + 0.5)
    x = rng.standard_normal((n_obs, n)) @ chol.T
    x *= np.linspace(0.8, 1.6, n_obs)[:, None]  # slowly rising volatility
    return pd.DataFrame(
        x + 0.03, index=pd.bdate_range("2019-01-01", periods=n_obs), columns=["X", "Y", "Z"]
    )


@pytest.fixture(scope="module")
def rolled(returns):
    model = FixedDCC()
    roll = rolling_forecast(returns, model, refit_every=40, window=300, end=returns.index[419])
    return roll, model


def test_shapes_and_labels(rolled, returns):
    roll, model = rolled
    assert isinstance(roll, RollingForecast)
    assert roll.dates[0] == returns.index[300] and roll.dates[-1] == returns.index[419]
    assert roll.correlation.shape == (120 * 3, 3)
    assert list(roll.params.index) == list(returns.index[[300, 340, 380]])
    assert roll.windows["nobs"].eq(300).all()
    assert (roll.windows["last"] < roll.params.index).all()
    assert roll.kind == "dcc" and roll.warm_start
    summary = roll.summary()
    assert list(summary.index) == list(roll.params.index)
    assert {"a", "b", "nobs", "converged", "mean correlation"} <= set(summary.columns)
    first_block = roll.correlation.loc[: returns.index[339]].to_numpy().reshape(40, 3, 3)
    iu = np.triu_indices(3, 1)
    expected = first_block[:, iu[0], iu[1]].mean()
    assert abs(summary["mean correlation"].iloc[0] - expected) < IDENTITY_TOL
    pv = roll.portfolio_variance({"X": 1.0})
    assert np.max(np.abs(pv.to_numpy() - roll.variance["X"].to_numpy())) < IDENTITY_TOL
    assert pv.index.equals(roll.dates)


def test_warm_starts_pass_previous_params(rolled):
    roll, model = rolled
    assert model.starts[0] is None
    for k in range(1, len(model.starts)):
        assert model.starts[k] == dict(roll.params.iloc[k - 1])


def test_block_start_equals_forecast_of_the_refit(rolled, returns):
    roll, model = rolled
    for t0 in (300, 340):
        res = model.fit(returns.iloc[t0 - 300 : t0])
        fc = forecast_dcc(res, horizon=1)
        date = returns.index[t0]
        assert (
            np.max(
                np.abs(roll.correlation_at(date).to_numpy() - fc.correlation_matrix(1).to_numpy())
            )
            < IDENTITY_TOL
        )
        assert (
            np.max(np.abs(roll.variance.loc[date].to_numpy() - fc.variance.iloc[0].to_numpy()))
            < RECURSION_TOL
        )


def test_filtering_inside_a_block_uses_fixed_params_and_past_data(rolled, returns):
    roll, model = rolled
    t0, k = 340, 17
    date = returns.index[t0 + k]
    res = model.fit(returns.iloc[t0 - 300 : t0])
    # univariate: arch with the block's fitted parameters on data through t - 1
    for c, fit in res.univariate.results.items():
        am = arch_model(returns[c].iloc[t0 - 300 : t0 + k], mean="Constant", vol="GARCH")
        v = am.forecast(fit.params, horizon=1, reindex=False).variance.values[-1, 0]
        assert abs(roll.variance.loc[date, c] - v) < RECURSION_TOL
    # correlation: the window recursion continued with the realized block residuals
    z_block = roll.std_resid.iloc[t0 - 300 : t0 - 300 + k].to_numpy()
    q = res.q_next
    for zt in z_block:
        q = (1 - model.a - model.b) * res.qbar + model.a * np.outer(zt, zt) + model.b * q
    assert np.max(np.abs(roll.correlation_at(date).to_numpy() - corr(q))) < RECURSION_TOL


def test_no_look_ahead(returns):
    t = 355  # forecasts for dates <= t + 1 are made with data through t at the latest
    altered = returns.copy()
    rng = np.random.default_rng(0)
    altered.iloc[t + 1 :] = rng.permutation(altered.iloc[t + 1 :].to_numpy()) * 3.0
    kwargs = dict(refit_every=40, window=300, end=returns.index[419])
    base = rolling_forecast(returns, FixedDCC(), **kwargs)
    other = rolling_forecast(altered, FixedDCC(), **kwargs)
    upto = returns.index[t + 1]
    for name in ("correlation", "covariance"):
        a = getattr(base, name).loc[:upto].to_numpy()
        b = getattr(other, name).loc[:upto].to_numpy()
        assert np.array_equal(a, b)
    assert np.array_equal(base.variance.loc[:upto], other.variance.loc[:upto])
    # and the data after t does matter for later forecasts
    assert not np.allclose(
        base.variance.loc[returns.index[t + 2] :], other.variance.loc[returns.index[t + 2] :]
    )


def test_expanding_window_and_cold_start(returns):
    class NoWarm(FixedDCC):
        def fit(self, returns):  # no starting_values
            return super().fit(returns)

    with pytest.warns(ResearchWarning, match="starts cold"):
        roll = rolling_forecast(returns, NoWarm(), refit_every=40, window=None, start=380)
    assert not roll.warm_start and "starts cold" in roll.warnings[0]
    assert roll.windows["first"].eq(returns.index[0]).all()
    assert list(roll.windows["nobs"]) == [380, 420]
    assert roll.dates[-1] == returns.index[-1]


def test_bad_input(returns):
    with pytest.raises(SpecificationError, match="refit_every"):
        rolling_forecast(returns, FixedDCC(), refit_every=0)
    with pytest.raises(InsufficientDataError):
        rolling_forecast(returns, FixedDCC(), window=50)
    with pytest.raises(SpecificationError, match="explicit start"):
        rolling_forecast(returns, FixedDCC(), window=None)
    bad = returns.copy()
    bad.iloc[10, 1] = np.nan
    with pytest.raises(SpecificationError, match="'Y'"):
        rolling_forecast(bad, FixedDCC())
    with pytest.raises(SpecificationError, match="no forecast dates"):
        rolling_forecast(returns, FixedDCC(), window=300, start=len(returns))


class SpecDCC(FixedDCC):
    """Stand-in whose univariate stage is built from a UnivariateSpec (GJR-GARCH, t)."""

    spec = UnivariateSpec(vol="GARCH", o=1, dist="t")

    def fit(self, returns, starting_values=None):
        fits = fit_univariate(returns, self.spec)
        zz = fits.std_resid.to_numpy()
        qbar = zz.T @ zz / len(zz)
        q = qbar.copy()
        for zt in zz:
            q = (1 - self.a - self.b) * qbar + self.a * np.outer(zt, zt) + self.b * q
        return types.SimpleNamespace(
            kind="dcc",
            params=pd.Series({"a": self.a, "b": self.b}),
            qbar=qbar,
            nbar=None,
            q_next=q,
            std_resid=fits.std_resid,
            univariate=fits,
        )


def test_any_arch_spec_is_refiltered_through_its_spec(returns):
    roll = rolling_forecast(returns, SpecDCC(), refit_every=50, window=300, end=returns.index[359])
    t0, k = 300, 30
    res = SpecDCC().fit(returns.iloc[t0 - 300 : t0])
    for c, fit in res.univariate.results.items():
        am = SpecDCC.spec.build(returns[c].iloc[t0 - 300 : t0 + k])
        v = am.forecast(fit.params, horizon=1, reindex=False).variance.values[-1, 0]
        assert abs(roll.variance.loc[returns.index[t0 + k], c] - v) < RECURSION_TOL


def test_mean_model_without_spec_is_refused(returns):
    class ARDCC(FixedDCC):
        def fit(self, returns, starting_values=None):
            res = super().fit(returns, starting_values)
            res.univariate.results = {
                c: arch_model(returns[c], mean="AR", lags=1).fit(disp="off") for c in returns
            }
            return res

    with pytest.raises(SpecificationError, match="mean model ARX"):
        rolling_forecast(returns, ARDCC(), refit_every=100, window=300)


def test_with_the_dcc_estimator(returns):
    model = DCC(kind="dcc", std_errors=False)
    roll = rolling_forecast(returns, model, refit_every=60, window=300, end=returns.index[419])
    assert roll.warm_start and list(roll.params.columns) == ["a", "b"]
    assert roll.windows["converged"].all()
    # the second block's refit started from the first block's estimate
    start = tuple(roll.params.iloc[0])
    res = replace(model, starting_values=start).fit(returns.iloc[60:360])
    assert np.allclose(res.params.to_numpy(), roll.params.iloc[1].to_numpy(), atol=0, rtol=0)
    fc = res.forecast(horizon=1)
    date = returns.index[360]
    diff = roll.correlation_at(date).to_numpy() - fc.correlation_matrix(1).to_numpy()
    assert np.max(np.abs(diff)) < IDENTITY_TOL
