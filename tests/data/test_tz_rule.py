"""One time-zone rule through every stage (issue 16 item 1).

Naive means UTC for 24/7 data and the exchange calendar's date for equities
(:func:`research.data.timeindex.as_index_timestamp`). Every consumer of window bounds (stress
windows and their masks, detection, risk-weight calibration, a backtest's window and its stress
replay) is run on a tz-aware hourly frame with naive windows and on naive daily data with
aware windows; the shared hourly file repeats the calls that raised TypeError before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.backtest.replay import stress_replay
from research.backtest.results import BacktestResult
from research.calibration import calibrate_risk_weights
from research.data import align, read_prices, to_returns
from research.data.timeindex import as_index_timestamp, range_mask
from research.errors import InsufficientDataError, SpecificationError
from research.stress import StressWindow, detect_stress_windows, stress_windows, window_mask

HOURLY = pd.date_range("2025-10-08", "2025-10-13 23:00", freq="h", tz="UTC", name="date")
NAIVE_DAILY_CRYPTO = pd.date_range("2025-10-01", "2025-10-31", freq="D", name="date")
NAIVE_DAILY_EQUITY = pd.bdate_range("2025-10-01", "2025-10-31", name="date")


def _hourly_returns(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(0.0, 0.5, (len(HOURLY), 2)), index=HOURLY, columns=["X", "Y"])
    frame.loc["2025-10-10 20:00":"2025-10-10 23:00"] -= 4.0  # a crash on the evening of the 10th
    return frame


# ----- the rule ------------------------------------------------------------------------------


def test_naive_is_utc_on_aware_data_and_a_date_end_covers_the_day():
    assert as_index_timestamp("2025-10-10 21:00", HOURLY) == pd.Timestamp(
        "2025-10-10 21:00", tz="UTC"
    )
    end = as_index_timestamp("2025-10-10", HOURLY, end=True)
    assert HOURLY[HOURLY <= end][-1] == pd.Timestamp("2025-10-10 23:00", tz="UTC")
    # a time of day closes the range exactly
    assert as_index_timestamp("2025-10-10 21:00", HOURLY, end=True).hour == 21
    zurich = pd.Timestamp("2025-10-10 23:30", tz="Europe/Zurich")
    assert as_index_timestamp(zurich, HOURLY) == pd.Timestamp("2025-10-10 21:30", tz="UTC")


def test_aware_stamps_on_naive_daily_data_by_calendar():
    late_new_york = pd.Timestamp("2025-10-10 22:00", tz="America/New_York")  # 02:00 UTC on 11th
    # 24/7 data: the UTC date; equities: the exchange's own (local) date
    assert as_index_timestamp(late_new_york, NAIVE_DAILY_CRYPTO) == pd.Timestamp("2025-10-11")
    assert as_index_timestamp(late_new_york, NAIVE_DAILY_EQUITY) == pd.Timestamp("2025-10-10")
    # a time of day on daily bars falls within its date's bar
    assert as_index_timestamp("2025-10-10 21:00", NAIVE_DAILY_CRYPTO) == pd.Timestamp("2025-10-10")


def test_range_mask_counts():
    assert range_mask(HOURLY, "2025-10-10", "2025-10-10").sum() == 24
    assert range_mask(HOURLY, "2025-10-10 21:00", "2025-10-11 03:00").sum() == 7
    aware_day = (pd.Timestamp("2025-10-10", tz="UTC"), pd.Timestamp("2025-10-12", tz="UTC"))
    assert range_mask(NAIVE_DAILY_CRYPTO, *aware_day).sum() == 3
    assert range_mask(HOURLY, None, None).all()


def test_unreadable_bound_is_a_specification_error():
    with pytest.raises(SpecificationError, match="cannot read start 'soon'"):
        range_mask(HOURLY, "soon", None)


# ----- consumers ------------------------------------------------------------------------------


def test_windows_mix_naive_and_aware_bounds():
    window = StressWindow("crash", pd.Timestamp("2025-10-10 20:00", tz="UTC"), "2025-10-11")
    assert str(window) == "crash (2025-10-10T20:00:00+00:00 .. 2025-10-11)"
    assert window_mask(HOURLY, window).sum() == 4 + 24
    assert window_mask(NAIVE_DAILY_CRYPTO, window).sum() == 2
    assert window.covered_by(HOURLY) and window.overlaps(
        StressWindow("day", "2025-10-11", "2025-10-11")
    )
    assert not window.overlaps(StressWindow("later", "2025-10-12", "2025-10-13"))
    with pytest.raises(SpecificationError, match="before it starts"):
        StressWindow("w", pd.Timestamp("2025-10-10 02:00", tz="Asia/Tokyo"), "2025-10-09 16:00")


def test_detection_on_aware_hourly_data_builds_and_matches_windows():
    found = detect_stress_windows(_hourly_returns(), length=6, k=2)
    first = found.windows[0]
    assert first.start.tzinfo is not None
    assert first.start <= pd.Timestamp("2025-10-10 20:00", tz="UTC")
    assert first.end >= pd.Timestamp("2025-10-10 23:00", tz="UTC")
    table = found.summary(stress_windows("crypto"))
    assert table.loc[0, "overlaps"] == "crypto_oct_2025_liquidations, crypto_oct_10_2025_cascade"


def test_risk_weights_stress_windows_on_aware_hourly_returns():
    returns = _hourly_returns()
    windows = [StressWindow("evening", "2025-10-10 20:00", "2025-10-10 23:00")]
    with pytest.warns(match="only 4 moves in the stress windows"):
        result = calibrate_risk_weights(
            returns, level=0.9, mpor=1, lookback=48, stress_windows=windows, stress_weight=0.5
        )
    assert result.drivers.loc["X", "stress_moves"] == 4


def _result(dates: pd.DatetimeIndex) -> BacktestResult:
    frame = pd.DataFrame({"a": 1.0}, index=dates)
    loss = frame.copy()
    loss.loc[range_mask(dates, "2025-10-10 20:00", "2025-10-10 23:00")] = 5.0
    return BacktestResult(
        margin_isolated=frame * 2,
        margin_cross=frame * 2,
        margin_cross_engine=frame * 2,
        loss=loss,
        isolated_shortfall=frame * 0,
        position_breaches=frame * 0,
        family=pd.Series({"a": "outright"}),
        n_legs=pd.Series({"a": 1}),
        refit_dates=dates[:1],
        settings={"level": 0.99, "horizon": 1, "model": "hand", "measure": "var"},
    )


def test_backtest_window_and_replay_on_aware_dates():
    result = _result(HOURLY)
    assert len(result.window("2025-10-10", "2025-10-10").dates) == 24
    with pytest.raises(InsufficientDataError, match="no margin date between 2024-01-01"):
        result.window("2024-01-01", "2024-01-02")
    replay = stress_replay(result)
    row = replay.loc[("crypto_oct_2025_liquidations", "cross")]
    assert row["exceptions"] == 4 and row["days"] == len(HOURLY[HOURLY >= "2025-10-09"])


# ----- the shared hourly file ----------------------------------------------------------------


@pytest.mark.shared_data
def test_hourly_file_through_every_stage(shared_data_dir):
    prices = read_prices(shared_data_dir / "crypto_perp_hourly_binance.csv", warn=False)
    with pytest.warns(match="dropped"):
        returns = to_returns(align(prices, how="intersection"))
    crypto = stress_windows("crypto")
    october = {w.name: w for w in crypto}["crypto_oct_2025_liquidations"]
    inside = window_mask(returns.index, october)
    assert returns.index[inside][0] == pd.Timestamp(october.start, tz="UTC")
    found = detect_stress_windows(returns, length=24, k=3)
    assert october.name in found.summary(crypto).loc[0, "overlaps"]
    weights = calibrate_risk_weights(returns, mpor=8, lookback=None, stress_windows=crypto)
    assert (weights.drivers["stress_moves"] > 0).all()


def test_a_dates_end_is_at_the_index_resolution_so_searchsorted_works():
    # read_prices gives microsecond stamps; an end at nanosecond resolution could not be
    # searched in them ("Cannot losslessly convert units")
    hourly = pd.date_range("2025-10-09", periods=72, freq="h", tz="UTC", unit="us")
    end = as_index_timestamp("2025-10-10", hourly, end=True)
    assert end == pd.Timestamp("2025-10-10 23:59:59.999999", tz="UTC")
    assert hourly.searchsorted(end, "right") == 48
