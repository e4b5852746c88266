"""Risk-weight calibration against normal closed forms, hand-made samples and seeded data.

Closed forms for iid N(0, sigma^2) daily returns and h-day sums (sigma * sqrt(h)):
VaR_0.99 = z sigma sqrt(h) with z = 2.326348, ES_0.99 = phi(z) / 0.01 sigma sqrt(h) = 2.665214
sigma sqrt(h). Monte-Carlo tolerances are 4 asymptotic standard errors of the empirical
estimators (stated next to each test).
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research._random import as_generator
from research.calibration import (
    PROFILES,
    MarginParameters,
    RiskWeightCalibration,
    calibrate_risk_weights,
    ewma_volatility,
    tail_risk,
)
from research.errors import (
    DataError,
    DataQualityWarning,
    InsufficientDataError,
    ParameterError,
    SpecificationError,
)

LEVEL = 0.99
Z = float(stats.norm.ppf(LEVEL))
ES_FACTOR = float(stats.norm.pdf(Z) / (1 - LEVEL))
MC_SIGMAS = 4.0
"""Monte-Carlo tolerance in asymptotic standard errors of the estimator."""
CLOSED_FORM_TOL = 1e-12
"""Exact identities (order statistics, weighted blends): floating-point rounding only."""


def _var_se(n: int, scale: float) -> float:
    """Asymptotic s.e. of the empirical level-quantile: sqrt(p(1-p)/n) / f(q)."""
    return math.sqrt(LEVEL * (1 - LEVEL) / n) / stats.norm.pdf(Z) * scale


def _es_se(n: int, scale: float) -> float:
    """Asymptotic s.e. of empirical ES.

    sqrt((Var(L | L > q) + level (ES - q)^2) / (n (1 - level))), Var(L | L > q) = 1 + z ES - ES^2.
    """
    tail_var = 1 + Z * ES_FACTOR - ES_FACTOR**2
    return math.sqrt((tail_var + LEVEL * (ES_FACTOR - Z) ** 2) / (n * (1 - LEVEL))) * scale


def _normal_returns(n: int, sigma: float, seed: int, columns=("A",)) -> pd.DataFrame:
    idx = pd.bdate_range("1990-01-01", periods=n)
    data = as_generator(seed).normal(0.0, sigma, size=(n, len(columns)))
    return pd.DataFrame(data, index=idx, columns=list(columns))


def test_normal_constants():
    assert Z == pytest.approx(2.326348, abs=5e-7)
    assert ES_FACTOR == pytest.approx(2.665214, abs=5e-7)


@pytest.fixture(scope="module")
def normal_returns() -> pd.DataFrame:
    return _normal_returns(500_000, 1.5, seed=42)


def test_var_closed_form_one_day(normal_returns):
    res = calibrate_risk_weights(
        normal_returns, level=LEVEL, mpor=1, lookback=None, side="long", units=1.0
    )
    n = len(normal_returns)
    assert res.risk_weights["A"] == pytest.approx(Z * 1.5, abs=MC_SIGMAS * _var_se(n, 1.5))


def test_es_closed_form_one_day(normal_returns):
    res = calibrate_risk_weights(
        normal_returns, level=LEVEL, mpor=1, lookback=None, method="es", side="long", units=1.0
    )
    n = len(normal_returns)
    assert res.risk_weights["A"] == pytest.approx(ES_FACTOR * 1.5, abs=MC_SIGMAS * _es_se(n, 1.5))


@pytest.mark.parametrize("method", ["var", "es"])
@pytest.mark.parametrize("overlapping", [False, True])
def test_sqrt_h_scaling(normal_returns, method, overlapping):
    h = 5
    res = calibrate_risk_weights(
        normal_returns,
        level=LEVEL,
        mpor=h,
        lookback=None,
        method=method,
        overlapping=overlapping,
        side="long",
        units=1.0,
    )
    scale = 1.5 * math.sqrt(h)
    # n / h independent moves; overlapping moves carry at least that information, so the
    # non-overlapping standard error bounds both estimators
    m = len(normal_returns) // h
    expected, se = (
        (Z * scale, _var_se(m, scale)) if method == "var" else (ES_FACTOR * scale, _es_se(m, scale))
    )
    assert res.risk_weights["A"] == pytest.approx(expected, abs=MC_SIGMAS * se)
    n_moves = len(normal_returns) - h + 1 if overlapping else len(normal_returns) // h
    assert res.drivers.loc["A", "observations"] == n_moves


def test_units_convert_percent_to_fraction(normal_returns):
    sample = normal_returns.iloc[:5000]
    pct = calibrate_risk_weights(sample, mpor=1, lookback=None)
    dec = calibrate_risk_weights(sample, mpor=1, lookback=None, units=1.0)
    assert pct.risk_weights["A"] == pytest.approx(dec.risk_weights["A"] / 100, rel=1e-15)


# ---------------------------------------------------------------- exact order statistics


def _tail_size(n: int, level: float) -> int:
    """``m = ceil((1 - level) n)``, the documented convention, written out independently."""
    return max(1, math.ceil(round((1.0 - level) * n, 9)))


def test_tail_risk_order_statistics():
    losses = as_generator(1).permutation(np.arange(1.0, 251.0))
    var, pos = tail_risk(losses, 0.99)
    assert var == 248.0 and losses[pos] == 248.0  # ceil(0.01 * 250) = 3: 3rd worst
    es, _ = tail_risk(losses, 0.99, "es")
    assert es == pytest.approx((248 + 249 + 250) / 3, abs=CLOSED_FORM_TOL)
    # (1 - 0.95) * 100 = 5 exactly: the 5th worst, ES the mean of the 5 worst
    assert tail_risk(np.arange(1.0, 101.0), 0.95) == (96.0, 95)
    assert tail_risk(np.arange(1.0, 101.0), 0.95, "es")[0] == pytest.approx(
        98.0, abs=CLOSED_FORM_TOL
    )
    with pytest.raises(InsufficientDataError):
        tail_risk(np.array([]), 0.99)


@pytest.mark.parametrize("n", [250, 1000, 1001])
@pytest.mark.parametrize("level", [0.975, 0.99])
def test_tail_risk_is_the_sorted_tail(n, level):
    losses = as_generator(n).standard_normal(n)
    m = _tail_size(n, level)
    ordered = np.sort(losses)
    var, pos = tail_risk(losses, level)
    assert var == ordered[-m] and losses[pos] == var
    assert tail_risk(losses, level, "es")[0] == pytest.approx(
        ordered[-m:].mean(), abs=CLOSED_FORM_TOL
    )


def _ramp(n: int = 400) -> pd.DataFrame:
    """Returns with distinct values whose order statistics are known."""
    values = as_generator(7).permutation(np.linspace(-2.0, 2.0, n))
    return pd.DataFrame({"A": values}, index=pd.bdate_range("2020-01-01", periods=n))


def test_lookback_uses_last_days_and_quantile_date():
    returns = _ramp()
    res = calibrate_risk_weights(returns, level=0.99, mpor=1, lookback=250, side="long", units=1)
    last = returns["A"].iloc[-250:]
    expected = np.sort(-last.to_numpy())[-_tail_size(250, 0.99)]
    assert res.risk_weights["A"] == expected
    quantile_date = res.drivers.loc["A", "quantile_date"]
    assert -returns.loc[quantile_date, "A"] == expected
    assert res.drivers.loc["A", "lookback_moves"] == 250


def test_non_overlapping_moves_are_anchored_at_the_last_date():
    returns = _ramp()
    res = calibrate_risk_weights(
        returns, level=0.9, mpor=5, lookback=250, overlapping=False, side="short", units=1
    )
    sums = returns["A"].iloc[-250:].to_numpy().reshape(50, 5).sum(axis=1)
    assert res.drivers.loc["A", "lookback_moves"] == 50
    assert res.risk_weights["A"] == pytest.approx(tail_risk(sums, 0.9)[0], abs=CLOSED_FORM_TOL)


def test_side_both_is_the_larger_tail():
    returns = _normal_returns(3000, 1.0, seed=3)
    kw = dict(level=0.99, mpor=2, lookback=None, units=1)
    long = calibrate_risk_weights(returns, side="long", **kw).risk_weights["A"]
    short = calibrate_risk_weights(returns, side="short", **kw).risk_weights["A"]
    both = calibrate_risk_weights(returns, side="both", **kw)
    assert both.risk_weights["A"] == max(long, short)
    assert both.drivers.loc["A", "side"] == ("long" if long >= short else "short")


# ---------------------------------------------------------------- stress windows


@pytest.fixture
def crash() -> tuple[pd.DataFrame, dict]:
    returns = _normal_returns(1000, 1.0, seed=5)
    crash_days = returns.index[100:110]
    returns.loc[crash_days, "A"] = -np.arange(10.0, 20.0)
    window = {"crash": (crash_days[0].date(), crash_days[-1].date())}
    return returns, window


def test_stress_window_included(crash):
    returns, window = crash
    kw = dict(level=0.99, mpor=1, lookback=250, side="long", units=1)
    plain = calibrate_risk_weights(returns, **kw)
    stressed = calibrate_risk_weights(returns, stress_windows=window, **kw)
    sample = np.concatenate([-returns["A"].iloc[-250:].to_numpy(), np.arange(10.0, 20.0)])
    assert stressed.risk_weights["A"] == tail_risk(sample, 0.99)[0]
    drivers = stressed.drivers.loc["A"]
    assert (drivers["observations"], drivers["stress_moves"]) == (260, 10)
    assert drivers["stress_contribution"] == pytest.approx(
        stressed.risk_weights["A"] - plain.risk_weights["A"], abs=CLOSED_FORM_TOL
    )
    assert stressed.risk_weights["A"] > plain.risk_weights["A"]


def test_stress_window_weighted(crash):
    returns, window = crash
    kw = dict(level=0.99, mpor=1, lookback=250, side="long", units=1)
    plain = calibrate_risk_weights(returns, **kw).risk_weights["A"]
    stress_only = tail_risk(np.arange(10.0, 20.0), 0.99)[0]
    with pytest.warns(DataQualityWarning, match="only 10 moves in the stress windows"):
        res = calibrate_risk_weights(returns, stress_windows=window, stress_weight=0.25, **kw)
    assert res.risk_weights["A"] == pytest.approx(
        0.75 * plain + 0.25 * stress_only, abs=CLOSED_FORM_TOL
    )
    assert res.drivers.loc["A", "stress_risk"] == stress_only
    assert any("only 10 moves" in w for w in res.warnings)


def test_stress_windows_from_objects(crash):
    returns, window = crash

    class Window:
        name = "crash"
        start, end = window["crash"]

    kw = dict(level=0.99, mpor=1, lookback=250, units=1)
    a = calibrate_risk_weights(returns, stress_windows=window, **kw)
    b = calibrate_risk_weights(returns, stress_windows=[Window()], **kw)
    pd.testing.assert_series_equal(a.risk_weights, b.risk_weights)


# ---------------------------------------------------------------- volatility filter


def test_ewma_matches_direct_recursion():
    r = _normal_returns(200, 1.0, seed=8)["A"]
    lam = 0.94
    var = r.iloc[:30].var(ddof=1)
    expected = []
    for x in r:
        expected.append(math.sqrt(var))
        var = lam * var + (1 - lam) * x**2
    sigma = ewma_volatility(r, lam)
    np.testing.assert_allclose(sigma.to_numpy(), expected, rtol=1e-13)
    assert sigma.attrs["forecast"] == pytest.approx(math.sqrt(var), rel=1e-13)


def test_fhs_rescales_to_current_volatility():
    calm = _normal_returns(3000, 1.0, seed=9)
    storm = _normal_returns(1000, 3.0, seed=10)
    storm.index = pd.bdate_range(calm.index[-1] + pd.offsets.BDay(), periods=1000)
    returns = pd.concat([calm, storm])
    kw = dict(level=0.99, mpor=1, lookback=None, units=1, side="long")
    plain = calibrate_risk_weights(returns, **kw)
    fhs = calibrate_risk_weights(returns, filter="ewma", **kw)
    sigma = ewma_volatility(returns["A"])
    filtered = returns["A"] / sigma * sigma.attrs["forecast"]
    assert fhs.risk_weights["A"] == pytest.approx(
        tail_risk(-filtered.to_numpy(), 0.99)[0], rel=1e-12
    )
    # the unfiltered quantile mixes the calm and stormy regimes; FHS scales all to the storm
    assert fhs.risk_weights["A"] > 1.15 * plain.risk_weights["A"]
    assert fhs.drivers.loc["A", "volatility_scale"] > 1.5


# ---------------------------------------------------------------- data problems and settings


def test_missing_returns_are_counted_and_warned():
    returns = _normal_returns(600, 1.0, seed=11)
    returns.iloc[-100, 0] = np.nan
    with pytest.warns(DataQualityWarning, match="3 moves span a missing return"):
        res = calibrate_risk_weights(returns, mpor=3, lookback=250)
    assert res.drivers.loc["A", "missing_returns"] == 1
    assert res.drivers.loc["A", "dropped_moves"] == 3
    assert res.drivers.loc["A", "lookback_moves"] == 248 - 3


def test_lookback_longer_than_history_warns():
    returns = _normal_returns(300, 1.0, seed=12)
    with pytest.warns(DataQualityWarning, match="lookback of 500 days but only 300"):
        res = calibrate_risk_weights(returns, mpor=1, lookback=500)
    assert res.drivers.loc["A", "lookback_moves"] == 300


def test_too_few_moves_names_the_asset():
    returns = _normal_returns(300, 1.0, seed=13, columns=("A", "B"))
    returns.iloc[:250, 1] = np.nan
    with pytest.raises(InsufficientDataError, match="B: .* at least 100"):
        calibrate_risk_weights(returns, mpor=1, lookback=250)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"level": 0.4}, SpecificationError),
        ({"mpor": 0}, SpecificationError),
        ({"lookback": 1, "mpor": 2}, SpecificationError),
        ({"method": "cvar"}, SpecificationError),
        ({"filter": "garch"}, SpecificationError),
        ({"ewma_lambda": 1.0}, SpecificationError),
        ({"stress_weight": 2.0}, SpecificationError),
        ({"side": "up"}, SpecificationError),
        ({"units": 0}, SpecificationError),
    ],
)
def test_bad_settings(kwargs, error):
    with pytest.raises(error):
        calibrate_risk_weights(_normal_returns(300, 1.0, seed=0), **kwargs)


def test_bad_data():
    with pytest.raises(DataError, match="DatetimeIndex"):
        calibrate_risk_weights(pd.DataFrame({"A": np.ones(300)}))
    flat = pd.DataFrame({"A": np.zeros(300)}, index=pd.bdate_range("2020-01-01", periods=300))
    with pytest.raises(DataError, match="not a loss"):
        calibrate_risk_weights(flat)
    unsorted = _normal_returns(300, 1.0, seed=0).iloc[::-1]
    with pytest.raises(DataError, match="sorted"):
        calibrate_risk_weights(unsorted)


# ---------------------------------------------------------------- profiles and result


def test_profiles():
    assert set(PROFILES) >= {"emir-2d-99", "emir-5d-99.5", "crypto-1d-99", "crypto-2d-99"}
    assert (PROFILES["emir-5d-99.5"].level, PROFILES["emir-5d-99.5"].mpor) == (0.995, 5)
    assert (PROFILES["crypto-1d-99"].level, PROFILES["crypto-1d-99"].mpor) == (0.99, 1)
    returns = _normal_returns(1500, 1.0, seed=14, columns=("A", "B"))
    res = PROFILES["emir-2d-99"].calibrate(returns, units=1)
    direct = calibrate_risk_weights(returns, level=0.99, mpor=2, lookback=250, units=1)
    pd.testing.assert_series_equal(res.risk_weights, direct.risk_weights)
    with pytest.raises(ParameterError, match="unknown calibration setting"):
        PROFILES["emir-2d-99"].calibrate(returns, confidence=0.99)


def test_result_to_parameters_and_summary(crash):
    returns, window = crash
    res = calibrate_risk_weights(returns, stress_windows=window, mpor=2, lookback=250)
    assert isinstance(res, RiskWeightCalibration)
    params = res.to_parameters(as_of="2024-01-02", version="t1")
    assert isinstance(params, MarginParameters)
    assert params.risk_weights == res.risk_weights.to_dict()
    assert params.stress_windows == {"crash": window["crash"]}
    assert MarginParameters.from_yaml(params.to_yaml()) == params
    summary = res.summary()
    assert list(summary.columns[:2]) == ["risk_weight", "observations"]
    assert "VAR at 0.99 over 2 day(s)" in str(res)


def test_results_pickle_for_parallel_runs(crash):
    returns, window = crash
    res = calibrate_risk_weights(returns, stress_windows=window, mpor=2, lookback=250)
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_series_equal(back.risk_weights, res.risk_weights)
    assert back.settings == res.settings
    params = res.to_parameters(as_of="2024-01-02")
    assert pickle.loads(pickle.dumps(params)) == params
    assert pickle.loads(pickle.dumps(PROFILES["emir-2d-99"])) == PROFILES["emir-2d-99"]
