"""Realized DCC: realized measures by hand, an independent likelihood, simulated recovery.

The simulation draws intraday returns from a known daily correlation path: day t's M bars
are i.i.d. N(0, R_t / M), so the daily sum has correlation R_t and the realized correlation
RC_t drives Q_{t+1} = (1 - a - b) Qbar + a RC_t + b Q_t, the model's own recursion.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal, norm

import research
from research.correlation.realized import (
    RealizedDCC,
    _loglik_and_scores,
    daily_sums,
    realized_correlation,
    realized_covariance,
    realized_dcc_loglik,
)
from research.errors import DataError, DataQualityWarning, SpecificationError
from research.volatility import UnivariateFits

TRUE_A, TRUE_B = 0.25, 0.7
BARS = 24
SEEDS = (1, 2, 3)


def _independent_loglik(z, rc, a, b, qbar) -> float:
    """Plain loop: Q recursion, scipy's multivariate normal minus independent normals."""
    q = qbar.copy()
    total = 0.0
    for t in range(z.shape[0]):
        d = np.sqrt(np.diag(q))
        r = q / np.outer(d, d)
        total += multivariate_normal(np.zeros(len(d)), r).logpdf(z[t]) - norm.logpdf(z[t]).sum()
        q = (1 - a - b) * qbar + a * rc[t] + b * q
    return float(total)


def _simulate(seed: int, days: int = 3000, n: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    qbar = 0.4 + 0.3 * np.eye(n) + 0.05 * np.subtract.outer(np.arange(n), np.arange(n)) / n
    qbar = (qbar + qbar.T) / 2
    sd = np.sqrt(np.diag(qbar))
    qbar = qbar / np.outer(sd, sd)
    q = qbar.copy()
    out = np.empty((days * BARS, n))
    for t in range(days):
        d = np.sqrt(np.diag(q))
        low = np.linalg.cholesky(q / np.outer(d, d))
        bars = rng.standard_normal((BARS, n)) @ low.T / np.sqrt(BARS)
        out[t * BARS : (t + 1) * BARS] = bars
        rv = bars.T @ bars
        s = np.sqrt(np.diag(rv))
        q = (1 - TRUE_A - TRUE_B) * qbar + TRUE_A * rv / np.outer(s, s) + TRUE_B * q
    index = pd.date_range("2010-01-01", periods=days * BARS, freq="h", tz="UTC")
    return pd.DataFrame(out, index=index, columns=[f"A{i}" for i in range(n)])


def _fit(intraday: pd.DataFrame):
    z = daily_sums(intraday)
    return RealizedDCC().fit(intraday, univariate=UnivariateFits.from_arrays(z)), z


def test_realized_covariance_is_the_hand_sum() -> None:
    rng = np.random.default_rng(0)
    index = pd.date_range("2025-10-09", periods=6, freq="8h", tz="UTC")
    x = pd.DataFrame(rng.standard_normal((6, 3)), index=index, columns=["BTC", "ETH", "SOL"])
    rv = realized_covariance(x)
    assert list(rv.index.get_level_values("date").unique().strftime("%Y-%m-%d")) == [
        "2025-10-09",
        "2025-10-10",
    ]
    for day, rows in (("2025-10-09", range(3)), ("2025-10-10", range(3, 6))):
        hand = np.zeros((3, 3))
        for k in rows:
            for i in range(3):
                for j in range(3):
                    hand[i, j] += x.iloc[k, i] * x.iloc[k, j]
        np.testing.assert_allclose(rv.loc[day].to_numpy(), hand, rtol=1e-14)
        s = np.sqrt(np.diag(hand))
        np.testing.assert_allclose(
            realized_correlation(rv).loc[day].to_numpy(), hand / np.outer(s, s), rtol=1e-14
        )
    sums = daily_sums(x)
    np.testing.assert_allclose(sums.loc["2025-10-10"].to_numpy(), x.iloc[3:].sum().to_numpy())


def test_incomplete_days_are_dropped_visibly_and_bad_input_raises() -> None:
    index = pd.date_range("2025-10-09 08:00", periods=40, freq="h", tz="UTC")
    x = pd.DataFrame(np.ones((40, 2)), index=index, columns=["BTC", "ETH"])
    with pytest.warns(DataQualityWarning, match="2025-10-09"):
        rv = realized_covariance(x)
    assert list(rv.index.get_level_values("date").unique().day) == [10]
    bad = x.copy()
    bad.iloc[3, 1] = np.nan
    with pytest.raises(DataError, match="'ETH'"):
        realized_covariance(bad)
    with pytest.raises(DataError, match="sorted"):
        realized_covariance(x.iloc[::-1])
    with pytest.raises(SpecificationError, match="bars_per_day"):
        realized_covariance(x, bars_per_day=0)
    flat = pd.DataFrame(
        np.ones((24, 2)),
        index=pd.date_range("2025-10-10", periods=24, freq="h"),
        columns=["A", "B"],
    )
    flat.iloc[:, 1] = 0.0
    with pytest.raises(DataError, match="zero realized variance"):
        realized_correlation(realized_covariance(flat))


@pytest.fixture(scope="module")
def fitted():
    intraday = _simulate(SEEDS[0], days=600)
    res, z = _fit(intraday)
    rc = realized_correlation(realized_covariance(intraday))
    n = z.shape[1]
    return res, z.to_numpy(), rc.to_numpy().reshape(-1, n, n)


def test_likelihood_matches_independent_loop_and_estimate_is_optimal(fitted) -> None:
    res, z, rc = fitted
    a, b = float(res.params["a"]), float(res.params["b"])
    qbar = res.qbar.to_numpy()
    np.testing.assert_allclose(qbar, rc.mean(axis=0), rtol=1e-14)
    ours = _independent_loglik(z, rc, a, b, qbar)
    assert res.loglikelihood == pytest.approx(ours, rel=1e-10)
    assert realized_dcc_loglik(z, rc, a, b, qbar).sum() == pytest.approx(ours, rel=1e-10)
    for da, db in ((1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3), (1e-3, -1e-3)):
        assert ours >= _independent_loglik(z, rc, a + da, b + db, qbar)


def test_analytic_scores_equal_central_differences(fitted) -> None:
    _, z, rc = fitted
    qbar = rc.mean(axis=0)
    a, b, h = 0.2, 0.6, 1e-6
    _, scores = _loglik_and_scores(z, rc, a, b, qbar)
    for k, (da, db) in enumerate(((h, 0.0), (0.0, h))):
        up = realized_dcc_loglik(z, rc, a + da, b + db, qbar).sum()
        down = realized_dcc_loglik(z, rc, a - da, b - db, qbar).sum()
        # central differences at h = 1e-6 carry about 1e-8 relative error here
        assert scores[:, k].sum() == pytest.approx((up - down) / (2 * h), rel=1e-7)


def test_close_of_day_path_contains_that_days_realized_correlation(fitted) -> None:
    res, _, rc = fitted
    a, b = float(res.params["a"]), float(res.params["b"])
    qbar = res.qbar.to_numpy()
    t = 100
    n = qbar.shape[0]
    r_t = res.correlation.to_numpy().reshape(-1, n, n)
    r_close = res.correlation_close.to_numpy().reshape(-1, n, n)
    np.testing.assert_array_equal(r_close[t - 1], r_t[t])
    q = qbar.copy()
    for k in range(t + 1):
        q = (1 - a - b) * qbar + a * rc[k] + b * q
    d = np.sqrt(np.diag(q))
    np.testing.assert_allclose(r_close[t], q / np.outer(d, d), rtol=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_simulated_recovery(seed: int) -> None:
    res, _ = _fit(_simulate(seed))
    assert res.converged
    # over seeds 1..6 the estimates spread with a standard deviation of about 0.015 for a and
    # for b (means 0.260 and 0.695: a small bias from normalising 24-bar realized
    # covariances); the bounds are the bias plus 2 standard deviations
    assert abs(res.params["a"] - TRUE_A) < 0.04
    assert abs(res.params["b"] - TRUE_B) < 0.04
    # the sandwich standard errors (about 0.02) cover the truth: |t| < 3 on every seed
    t_stats = (res.params - pd.Series({"a": TRUE_A, "b": TRUE_B})) / res.std_errors
    assert np.all(np.abs(t_stats) < 3.0)
    assert np.all((res.std_errors > 0.01) & (res.std_errors < 0.04))


def test_univariate_stage_must_match_the_days() -> None:
    intraday = _simulate(4, days=120, n=3)
    z = daily_sums(intraday).iloc[1:]
    with pytest.raises(DataError, match="complete days"):
        RealizedDCC().fit(intraday, univariate=UnivariateFits.from_arrays(z))


def test_hourly_crypto_file_reacts_within_the_crash_day(shared_data_dir: Path) -> None:
    prices = research.read_prices(shared_data_dir / "crypto_perp_hourly_binance.csv", warn=False)
    hourly = research.to_returns(prices, missing="propagate").dropna()
    with pytest.warns(DataQualityWarning, match="2025-09-13"):
        res = RealizedDCC().fit(hourly)
    assert res.converged
    with pytest.warns(DataQualityWarning):
        daily = daily_sums(hourly)
    dcc = research.DCC().fit(daily, check_units=False)
    on_daily = dcc.correlation["ETH"].xs("BTC", level="asset")
    realized = res.pair("BTC", "ETH")
    crash, before = pd.Timestamp("2025-10-10", tz="UTC"), pd.Timestamp("2025-10-09", tz="UTC")
    # on daily closes the correlation for the crash day is its pre-crash value; the realized
    # DCC's close-of-day estimate moves with the day's hourly bars
    daily_move = abs(on_daily[crash] - on_daily[before])
    realized_move = abs(realized[crash] - realized[before])
    assert daily_move < 0.005
    assert realized_move > 5 * daily_move
