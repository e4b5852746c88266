"""Stress scores and detected stress windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError, DataQualityWarning, SpecificationError
from research.stress import StressWindow, detect_stress_windows, stress_score, window_statistics

# Same quantity computed two ways (different operation order): only floating-point
# rounding differs, far below 1e-12 for numbers of order one.
ROUNDING_TOL = 1e-12


def frame(values, columns=("a",), start="2021-01-04"):
    values = np.asarray(values, dtype=float).reshape(len(values), -1)
    return pd.DataFrame(
        values, index=pd.bdate_range(start, periods=len(values)), columns=list(columns)
    )


def test_drawdown_score_hand_computed():
    # Windows of 3: [1,-2,-3] -> cum 0,1,-1,-4 -> drawdown 5; [-2,-3,1] -> 0,-2,-5,-4 -> 5;
    # [-3,1,2] -> 0,-3,-2,0 -> 3.
    scores = stress_score(frame([1, -2, -3, 1, 2]), length=3)
    np.testing.assert_allclose(scores.to_numpy(), [5.0, 5.0, 3.0])
    assert scores.index[0] == pd.Timestamp("2021-01-06")


def test_drawdown_uses_portfolio_weights():
    data = frame([[1, -1], [-2, 2], [-3, 3]], columns=("a", "b"))
    equal = stress_score(data, length=3)
    assert equal.iloc[0] == 0.0  # the two legs cancel
    long_a = stress_score(data, length=3, weights=pd.Series({"a": 1.0, "b": 0.0}))
    assert long_a.iloc[0] == pytest.approx(5.0)


def test_volatility_score_is_rolling_cross_sectional_mean():
    data = frame([[1, 3], [2, 4], [3, 5], [10, 10]], columns=("a", "b"))
    np.testing.assert_allclose(
        stress_score(data, score="volatility", length=2).to_numpy(), [2.5, 3.5, 7.0]
    )  # means 2, 3, 4, 10 per date


def test_correlation_score_from_a_path():
    dates = pd.bdate_range("2021-01-04", periods=4)
    blocks = [np.array([[1, r, 0], [r, 1, 0], [0, 0, 1.0]]) for r in (0.0, 0.3, 0.6, 0.9)]
    index = pd.MultiIndex.from_product([dates, ["x", "y", "z"]])
    path = pd.DataFrame(np.concatenate(blocks), index=index, columns=["x", "y", "z"])
    # Average off-diagonal correlation per date = 2 r / 6.
    expected = pd.Series([0.0, 0.1, 0.2, 0.3]).rolling(2).mean().dropna().to_numpy()
    np.testing.assert_allclose(
        stress_score(path, score="correlation", length=2).to_numpy(), expected, atol=ROUNDING_TOL
    )


def test_detects_injected_crashes_without_overlap():
    rng = np.random.default_rng(4)
    data = frame(rng.standard_normal((600, 3)), columns=("a", "b", "c"))
    data.iloc[100:120] -= 2.0
    data.iloc[400:420] -= 1.5
    found = detect_stress_windows(data, length=20, k=3)
    first, second, third = found.windows
    assert first.start <= data.index[119] and first.end >= data.index[100]
    assert second.start <= data.index[419] and second.end >= data.index[400]
    for u, v in [(first, second), (first, third), (second, third)]:
        assert u.end < v.start or v.end < u.start
    assert [w.name for w in found.windows] == ["detected_1", "detected_2", "detected_3"]
    assert (data.loc[first.start : first.end].shape[0]) == 20
    assert found.scores.loc[first.end] == found.scores.max()
    named = [StressWindow("crash", data.index[105], data.index[110])]
    table = found.summary(named)
    assert list(table["overlaps"]) == ["crash", "none", "none"]
    assert not found.warnings


def test_fewer_windows_than_asked_is_recorded():
    data = frame(np.arange(50.0) % 7 - 3)
    with pytest.warns(DataQualityWarning, match="only 2"):
        found = detect_stress_windows(data, length=20, k=5)
    assert len(found.windows) == 2 and "only 2" in found.warnings[0]


def test_bad_input():
    data = frame([1.0, 2.0, np.nan, 4.0])
    with pytest.raises(DataError, match="missing"):
        stress_score(data, length=2)
    with pytest.raises(SpecificationError, match="score"):
        stress_score(frame([1.0, 2.0]), score="vix")
    with pytest.raises(SpecificationError, match="length"):
        stress_score(frame([1.0, 2.0]), length=1)
    with pytest.raises(DataError, match="fewer than the window length"):
        stress_score(frame([1.0, 2.0]), length=5)
    with pytest.raises(SpecificationError, match="k must"):
        detect_stress_windows(frame([1.0, 2.0, 3.0]), length=2, k=0)
    with pytest.raises(SpecificationError, match="weights"):
        stress_score(frame([1.0, 2.0]), length=2, weights=pd.Series({"zz": 1.0}))


def test_window_statistics_hand_computed():
    data = frame([[1, 3], [-2, -4], [-3, -1], [1, 2], [0, 0]], columns=("a", "b"))
    inside = StressWindow("w", data.index[1], data.index[3])
    partial = StressWindow("p", "2020-12-01", data.index[1])
    outside = StressWindow("o", "2010-01-01", "2010-02-01")
    table = window_statistics(data, [inside, partial, outside])
    row = table.loc["w"]
    # Equal-weight portfolio on the window: -3, -2, 1.5 -> cum 0, -3, -5, -3.5.
    assert row["nobs"] == 3 and row["coverage"] == "full"
    assert row["return"] == pytest.approx(-3.5)
    assert row["max_drawdown"] == pytest.approx(5.0)
    assert row["volatility"] == pytest.approx(
        np.mean([np.std([-2, -3, 1], ddof=1), np.std([-4, -1, 2], ddof=1)])
    )
    assert row["mean_correlation"] == pytest.approx(np.corrcoef([-2, -3, 1], [-4, -1, 2])[0, 1])
    assert table.loc["p", "coverage"] == "partial" and np.isnan(table.loc["p", "return"])
    assert table.loc["o", "coverage"] == "none" and table.loc["o", "nobs"] == 0
    with pytest.raises(DataError, match="missing"):
        window_statistics(frame([1.0, np.nan, 2.0]), [inside])


def test_volatility_score_refuses_returns_instead_of_ranking_rallies():
    # Issue 16: returns given to the volatility score were averaged, so the "worst" window
    # was the largest mean return (a rally). Volatilities are non-negative; returns are not.
    rng = np.random.default_rng(7)
    returns = frame(rng.normal(0.0, 1.0, (200, 2)), columns=("a", "b"))
    returns.iloc[50:60] += 3.0  # a rally
    with pytest.raises(DataError, match=r"takes volatilities .* look like returns"):
        detect_stress_windows(returns, score="volatility", length=10, k=1)
    volatile = frame(np.abs(rng.normal(1.0, 0.1, (200, 2))), columns=("a", "b"))
    volatile.iloc[120:130] *= 4.0
    found = detect_stress_windows(volatile, score="volatility", length=10, k=1)
    assert found.windows[0].start == volatile.index[120]


def test_wick_drawdown_reaches_each_period_low():
    # closes: +1, -2, +3 -> cum 0, 1, -1, 2: close drawdown 2 (from 1 to -1).
    # worst moves: 0, -6, -1 -> troughs 0+0, 1-6, -1-1 from peaks 0, 1, 1 -> wick drawdown 6.
    returns = frame([1.0, -2.0, 3.0])
    worst = frame([0.0, -6.0, -1.0])
    assert stress_score(returns, length=3).iloc[0] == pytest.approx(2.0)
    assert stress_score(returns, length=3, worst=worst).iloc[0] == pytest.approx(6.0)
    with pytest.raises(DataError, match="better than the close move"):
        stress_score(returns, length=3, worst=frame([1.0, -1.0, 3.0]))
    with pytest.raises(SpecificationError, match="drawdown score"):
        stress_score(returns.abs(), score="volatility", length=3, worst=worst)
    found = detect_stress_windows(returns, length=2, k=1, worst=worst)
    assert found.score == "drawdown with wicks" and "with wicks" in found.windows[0].description


@pytest.mark.shared_data
def test_wick_detection_on_the_hourly_file_finds_2025_10_10(shared_data_dir):
    from research.data import read_bars, to_returns, worst_moves

    bars = read_bars(shared_data_dir / "crypto_perp_hourly_binance.csv", warn=False)
    close = bars.close.dropna()
    returns = to_returns(close)
    worst = worst_moves(bars, 1, "long").loc[returns.index]
    found = detect_stress_windows(returns, length=24, k=3, worst=worst)
    cascade = pd.Timestamp("2025-10-10 21:00", tz="UTC")
    assert found.windows[0].start <= cascade <= found.windows[0].end
