"""Risk-weight calibration against lognormal closed forms, hand-made samples and seeded data.

A risk weight is the loss per unit of notional of a linear position: 1 - e^m for a long and
e^m - 1 for a short when the price moves by the log return m. For iid N(0, sigma^2) daily log
returns (as fractions), s = sigma sqrt(h) and z = 2.326348 at 99%, these losses are shifted
lognormals with closed-form VaR and ES (written out in ``_lognormal_tail``). Monte-Carlo
tolerances are 4 asymptotic standard errors of the empirical estimators.
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
    position_losses,
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
DAILY_SIGMA = 4.0
"""Daily volatility of the closed-form samples in percent (crypto-like, so that the loss of a
position differs from the log move by many standard errors)."""


def _lognormal_tail(s: float, side: str, method: str, n: int) -> tuple[float, float]:
    """Closed-form VaR or ES of a position's loss under N(0, s^2) log moves, and the
    asymptotic standard error of its empirical estimator from ``n`` independent moves.

    With E_k = E[e^{kX}; tail] = e^{k^2 s^2 / 2} Phi(k s - z) (short: X > z s) or
    e^{k^2 s^2 / 2} Phi(-z - k s) (long: X < -z s) and p = 1 - level:
    short VaR = e^{zs} - 1, ES = E_1 / p - 1; long VaR = 1 - e^{-zs}, ES = 1 - E_1 / p.
    The VaR s.e. is sqrt(level p / n) / f_L(VaR) with the loss density
    f_L = phi(z) / s * e^{-zs} (short) or * e^{zs} (long); the ES s.e. is
    sqrt((Var(L | tail) + level (ES - VaR)^2) / (n p)).
    """
    p = 1 - LEVEL
    if side == "short":

        def mass(k: int) -> float:
            return math.exp(k * k * s * s / 2) * stats.norm.cdf(k * s - Z)

        var, density = math.expm1(Z * s), stats.norm.pdf(Z) / s * math.exp(-Z * s)
        es, second = mass(1) / p - 1, (mass(2) - 2 * mass(1)) / p + 1
    else:

        def mass(k: int) -> float:
            return math.exp(k * k * s * s / 2) * stats.norm.cdf(-Z - k * s)

        var, density = -math.expm1(-Z * s), stats.norm.pdf(Z) / s * math.exp(Z * s)
        es, second = 1 - mass(1) / p, 1 - 2 * mass(1) / p + mass(2) / p
    if method == "var":
        return var, math.sqrt(LEVEL * p / n) / density
    return es, math.sqrt((second - es**2 + LEVEL * (es - var) ** 2) / (n * p))


def _long_loss(moves: np.ndarray) -> np.ndarray:
    """Loss of a long per unit of notional for percent log moves."""
    return 1.0 - np.exp(np.asarray(moves) / 100.0)


def _short_loss(moves: np.ndarray) -> np.ndarray:
    """Loss of a short per unit of notional for percent log moves."""
    return np.exp(np.asarray(moves) / 100.0) - 1.0


def _normal_returns(n: int, sigma: float, seed: int, columns=("A",)) -> pd.DataFrame:
    idx = pd.bdate_range("1990-01-01", periods=n)
    data = as_generator(seed).normal(0.0, sigma, size=(n, len(columns)))
    return pd.DataFrame(data, index=idx, columns=list(columns))


def test_normal_constants():
    assert Z == pytest.approx(2.326348, abs=5e-7)
    assert ES_FACTOR == pytest.approx(2.665214, abs=5e-7)


def test_lognormal_tail_is_the_normal_one_for_small_moves():
    # as s -> 0 the losses are the log moves: VaR -> z s, ES -> phi(z) / p s
    s = 1e-6
    for side in ("long", "short"):
        assert _lognormal_tail(s, side, "var", 1)[0] == pytest.approx(Z * s, rel=1e-5)
        assert _lognormal_tail(s, side, "es", 1)[0] == pytest.approx(ES_FACTOR * s, rel=1e-5)


@pytest.fixture(scope="module")
def normal_returns() -> pd.DataFrame:
    return _normal_returns(500_000, DAILY_SIGMA, seed=42)


@pytest.mark.parametrize("method", ["var", "es"])
@pytest.mark.parametrize("side", ["long", "short"])
def test_closed_form_one_day(normal_returns, method, side):
    res = calibrate_risk_weights(
        normal_returns, level=LEVEL, mpor=1, lookback=None, method=method, side=side
    )
    expected, se = _lognormal_tail(DAILY_SIGMA / 100, side, method, len(normal_returns))
    assert res.risk_weights["A"] == pytest.approx(expected, abs=MC_SIGMAS * se)
    # the quantile of the log move itself is many standard errors away
    log_scale = (Z if method == "var" else ES_FACTOR) * DAILY_SIGMA / 100
    assert abs(log_scale - expected) > 3 * MC_SIGMAS * se


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
    )
    # n / h independent moves; overlapping moves carry at least that information, so the
    # non-overlapping standard error bounds both estimators. A short's loss is the larger.
    m = len(normal_returns) // h
    expected, se = _lognormal_tail(DAILY_SIGMA / 100 * math.sqrt(h), "short", method, m)
    assert res.risk_weights["A"] == pytest.approx(expected, abs=MC_SIGMAS * se)
    assert res.drivers.loc["A", "side"] == "short"
    n_moves = len(normal_returns) - h + 1 if overlapping else len(normal_returns) // h
    assert res.drivers.loc["A", "observations"] == n_moves


def test_units_convert_percent_to_fraction(normal_returns):
    sample = normal_returns.iloc[:5000]
    pct = calibrate_risk_weights(sample, mpor=1, lookback=None)
    dec = calibrate_risk_weights(sample / 100, mpor=1, lookback=None, units="decimal")
    assert pct.risk_weights["A"] == pytest.approx(dec.risk_weights["A"], rel=1e-15)


def test_position_losses():
    moves = np.array([-30.0, -1.0, 0.0, 2.5, 50.0])
    np.testing.assert_allclose(position_losses(moves, "long"), _long_loss(moves), rtol=1e-13)
    np.testing.assert_allclose(position_losses(moves, "short"), _short_loss(moves), rtol=1e-13)
    np.testing.assert_allclose(
        position_losses(moves / 100, "short", units="decimal"), _short_loss(moves), rtol=1e-13
    )
    assert position_losses(np.array([-1e4]), "long")[0] <= 1.0  # a long loses at most 1
    with pytest.raises(SpecificationError, match="side"):
        position_losses(moves, "both")


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
    res = calibrate_risk_weights(returns, level=0.99, mpor=1, lookback=250, side="long")
    last = returns["A"].iloc[-250:]
    expected = np.sort(_long_loss(last.to_numpy()))[-_tail_size(250, 0.99)]
    assert res.risk_weights["A"] == pytest.approx(expected, abs=CLOSED_FORM_TOL)
    quantile_date = res.drivers.loc["A", "quantile_date"]
    assert _long_loss(returns.loc[quantile_date, "A"]) == pytest.approx(
        expected, abs=CLOSED_FORM_TOL
    )
    assert res.drivers.loc["A", "lookback_moves"] == 250


def test_non_overlapping_moves_are_anchored_at_the_last_date():
    returns = _ramp()
    res = calibrate_risk_weights(
        returns, level=0.9, mpor=5, lookback=250, overlapping=False, side="short"
    )
    sums = returns["A"].iloc[-250:].to_numpy().reshape(50, 5).sum(axis=1)
    assert res.drivers.loc["A", "lookback_moves"] == 50
    assert res.risk_weights["A"] == pytest.approx(
        tail_risk(_short_loss(sums), 0.9)[0], abs=CLOSED_FORM_TOL
    )


def test_side_both_is_the_larger_tail():
    returns = _normal_returns(3000, 1.0, seed=3)
    kw = dict(level=0.99, mpor=2, lookback=None)
    long = calibrate_risk_weights(returns, side="long", **kw).risk_weights["A"]
    short = calibrate_risk_weights(returns, side="short", **kw).risk_weights["A"]
    both = calibrate_risk_weights(returns, side="both", **kw)
    assert both.risk_weights["A"] == max(long, short)
    assert both.drivers.loc["A", "side"] == ("long" if long >= short else "short")


# ---------------------------------------------------------------- stress windows


CRASH_MOVES = -np.arange(10.0, 20.0)
"""Ten crash days of -10% to -19% (log returns in percent)."""


@pytest.fixture
def crash() -> tuple[pd.DataFrame, dict]:
    returns = _normal_returns(1000, 1.0, seed=5)
    crash_days = returns.index[100:110]
    returns.loc[crash_days, "A"] = CRASH_MOVES
    window = {"crash": (crash_days[0].date(), crash_days[-1].date())}
    return returns, window


def test_stress_window_included(crash):
    returns, window = crash
    kw = dict(level=0.99, mpor=1, lookback=250, side="long")
    plain = calibrate_risk_weights(returns, **kw)
    stressed = calibrate_risk_weights(returns, stress_windows=window, **kw)
    sample = _long_loss(np.concatenate([returns["A"].iloc[-250:].to_numpy(), CRASH_MOVES]))
    assert stressed.risk_weights["A"] == pytest.approx(
        tail_risk(sample, 0.99)[0], abs=CLOSED_FORM_TOL
    )
    drivers = stressed.drivers.loc["A"]
    assert (drivers["observations"], drivers["stress_moves"]) == (260, 10)
    assert drivers["stress_contribution"] == pytest.approx(
        stressed.risk_weights["A"] - plain.risk_weights["A"], abs=CLOSED_FORM_TOL
    )
    assert stressed.risk_weights["A"] > plain.risk_weights["A"]


def test_stress_window_weighted(crash):
    returns, window = crash
    kw = dict(level=0.99, mpor=1, lookback=250, side="long")
    plain = calibrate_risk_weights(returns, **kw).risk_weights["A"]
    stress_only = tail_risk(_long_loss(CRASH_MOVES), 0.99)[0]
    with pytest.warns(DataQualityWarning, match="only 10 moves in the stress windows"):
        res = calibrate_risk_weights(returns, stress_windows=window, stress_weight=0.25, **kw)
    assert res.risk_weights["A"] == pytest.approx(
        0.75 * plain + 0.25 * stress_only, abs=CLOSED_FORM_TOL
    )
    assert res.drivers.loc["A", "stress_risk"] == pytest.approx(stress_only, abs=CLOSED_FORM_TOL)
    assert any("only 10 moves" in w for w in res.warnings)


def test_stress_windows_from_objects(crash):
    returns, window = crash

    class Window:
        name = "crash"
        start, end = window["crash"]

    kw = dict(level=0.99, mpor=1, lookback=250)
    a = calibrate_risk_weights(returns, stress_windows=window, **kw)
    b = calibrate_risk_weights(returns, stress_windows=[Window()], **kw)
    pd.testing.assert_series_equal(a.risk_weights, b.risk_weights)


# ---------------------------------------------------------------- volatility filter


def test_ewma_matches_direct_recursion():
    r = _normal_returns(200, 1.0, seed=8)["A"]
    lam = 0.94
    var = float((r.iloc[:30] ** 2).mean())  # the package's one start: mean square of 30
    expected = []
    for x in r:
        expected.append(math.sqrt(var))
        var = lam * var + (1 - lam) * x**2
    sigma, forecast = ewma_volatility(r, decay=lam)
    np.testing.assert_allclose(sigma.to_numpy(), expected, rtol=1e-13)
    assert forecast == pytest.approx(math.sqrt(var), rel=1e-13)


def test_fhs_rescales_to_current_volatility():
    calm = _normal_returns(3000, 1.0, seed=9)
    storm = _normal_returns(1000, 3.0, seed=10)
    storm.index = pd.bdate_range(calm.index[-1] + pd.offsets.BDay(), periods=1000)
    returns = pd.concat([calm, storm])
    kw = dict(level=0.99, mpor=1, lookback=None, side="long")
    plain = calibrate_risk_weights(returns, **kw)
    fhs = calibrate_risk_weights(returns, filter="ewma", **kw)
    sigma, forecast = ewma_volatility(returns["A"])
    filtered = returns["A"] / sigma * forecast
    assert fhs.risk_weights["A"] == pytest.approx(
        tail_risk(_long_loss(filtered.to_numpy()), 0.99)[0], rel=1e-12
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
        ({"units": 100.0}, SpecificationError),
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
    returns = _normal_returns(1500, 0.01, seed=14, columns=("A", "B"))
    res = PROFILES["emir-2d-99"].calibrate(returns, units="decimal")
    direct = calibrate_risk_weights(returns, level=0.99, mpor=2, lookback=250, units="decimal")
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
    assert "VAR at 0.99 over 2 days (close-to-close moves)" in str(res)


def test_results_pickle_for_parallel_runs(crash):
    returns, window = crash
    res = calibrate_risk_weights(returns, stress_windows=window, mpor=2, lookback=250)
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_series_equal(back.risk_weights, res.risk_weights)
    assert back.settings == res.settings
    params = res.to_parameters(as_of="2024-01-02")
    assert pickle.loads(pickle.dumps(params)) == params
    assert pickle.loads(pickle.dumps(PROFILES["emir-2d-99"])) == PROFILES["emir-2d-99"]
