"""The package's one EWMA volatility: its start, recursion, labels, errors and its callers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from research.backtest.models import RollingFHS
from research.calibration import risk_weights
from research.errors import DataError, ParameterError
from research.margin import fhs
from research.volatility.ewma import EWMA_SEED_OBSERVATIONS, ewma_variance, ewma_volatility

#: The same recursion written out in Python: rounding only.
SAME_TOL = 1e-13


@pytest.fixture(scope="module")
def returns():
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2020-01-01", periods=120)
    return pd.DataFrame(rng.normal(0.0, [1.0, 2.0], (120, 2)), index=index, columns=["A", "B"])


def _naive(values, decay):
    var = sum(x * x for x in values[:EWMA_SEED_OBSERVATIONS]) / min(
        EWMA_SEED_OBSERVATIONS, len(values)
    )
    out = []
    for x in values:
        out.append(math.sqrt(var))
        var = decay * var + (1 - decay) * x * x
    return out, math.sqrt(var)


@pytest.mark.parametrize("n", [10, 120])
def test_seeded_with_the_mean_square_of_the_first_30(returns, n):
    sigma, forecast = ewma_volatility(returns.iloc[:n], decay=0.97)
    for asset in returns:
        expected, last = _naive(returns[asset].iloc[:n].tolist(), 0.97)
        np.testing.assert_allclose(sigma[asset], expected, rtol=SAME_TOL)
        assert forecast[asset] == pytest.approx(last, rel=SAME_TOL)
    assert sigma.index.equals(returns.index[:n]) and forecast.name == "current_volatility"


def test_series_in_series_and_float_out(returns):
    sigma, forecast = ewma_volatility(returns["B"])
    frame_sigma, frame_forecast = ewma_volatility(returns)
    pd.testing.assert_series_equal(sigma, frame_sigma["B"])
    assert isinstance(forecast, float) and forecast == frame_forecast["B"]


def test_every_stage_calls_the_one_ewma(returns):
    assert fhs.ewma_volatility is ewma_volatility
    assert risk_weights.ewma_volatility is ewma_volatility
    fitted = RollingFHS(horizon=1, volatility="ewma", decay=0.9).fit(returns)
    var = ewma_variance(returns.to_numpy(), 0.9)
    np.testing.assert_array_equal(fitted.sigma2_next, var[-1])
    np.testing.assert_allclose(fitted.base[:, 0], returns["A"] / np.sqrt(var[:-1, 0]))


def test_a_given_start_continues_the_recursion(returns):
    values = returns.to_numpy()
    whole = ewma_variance(values, 0.9)
    # run on over the last 20 returns from the variance known before them: the same numbers
    tail = ewma_variance(values[100:], 0.9, start=whole[100])
    np.testing.assert_array_equal(tail, whole[100:])


def test_the_backtest_filters_daily_with_the_one_ewma(returns):
    fitted = RollingFHS(horizon=2, volatility="ewma", decay=0.9).fit(returns.iloc[:100])
    scale = fitted.scale(returns.to_numpy()[100:])
    np.testing.assert_array_equal(scale, np.sqrt(ewma_variance(returns.to_numpy(), 0.9)[100:]))
    assert fitted.scale(np.empty((0, 2))).shape == (1, 2)


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5, float("nan"), "0.9x"])
def test_decay_outside_the_unit_interval_raises(returns, decay):
    with pytest.raises(ParameterError, match="decay"):
        ewma_volatility(returns, decay=decay)


def test_bad_returns_are_named(returns):
    bad = returns.copy()
    bad.iloc[7, 1] = np.inf
    with pytest.raises(DataError, match=f"'B' on {returns.index[7]}"):
        ewma_volatility(bad)
    with pytest.raises(DataError, match="empty"):
        ewma_volatility(returns.iloc[:0])
    with pytest.raises(DataError, match="DataFrame or Series"):
        ewma_volatility(returns.to_numpy())


def test_finite_values_names_the_first_non_finite_value():
    from research.volatility.ewma import finite_values

    dates = pd.date_range("2024-01-01", periods=3)
    frame = pd.DataFrame({"A": [1.0, 2.0, 3.0], "B": [0.5, np.inf, np.nan]}, index=dates)
    message = r"volatility of 'B' on 2024-01-02 .* is inf \(2 non-finite"
    with pytest.raises(DataError, match=message):
        finite_values(frame, "volatility")
    np.testing.assert_array_equal(finite_values(frame[["A"]], "return"), [[1.0], [2.0], [3.0]])
