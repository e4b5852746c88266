"""Crypto stress windows: UTC times where a source gives them, checked against the shared data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.stress import stress_windows, window_mask

CATALOG = {w.name: w for w in stress_windows("crypto")}
INTRADAY = ("crypto_mar_12_2020_crash", "crypto_oct_10_2025_cascade")


def test_crypto_windows_have_utc_times_or_say_they_are_whole_days():
    for window in CATALOG.values():
        if window.name in INTRADAY:
            assert str(window.start.tz) == "UTC" and str(window.end.tz) == "UTC"
            assert "whole days" not in window.source.lower()
        else:
            assert window.start.tz is None and window.start == window.start.normalize()
            assert window.end == window.end.normalize()
            assert "Whole days" in window.source, window.name


def test_the_march_12_2020_window_holds_both_legs_of_the_crash():
    crash = CATALOG["crypto_mar_12_2020_crash"]
    hours = pd.date_range("2020-03-11", "2020-03-14 23:00", freq="h", tz="UTC")
    inside = hours[window_mask(hours, crash)]
    assert inside[0] == pd.Timestamp("2020-03-12 10:00", tz="UTC")  # first leg 10:00-11:00
    assert inside[-1] == pd.Timestamp("2020-03-13 02:00", tz="UTC")  # second leg to 02:15
    assert len(inside) == 17
    days = pd.date_range("2020-03-01", "2020-03-31", freq="D")
    assert list(days[window_mask(days, crash)].day) == [12, 13]
    assert window_mask(days, crash).sum() < window_mask(days, CATALOG["crypto_covid_crash"]).sum()


def _panels(path, stamp: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Close and low panels read with plain pandas (independent of research.data)."""
    frame = pd.read_csv(path, usecols=[stamp, "asset", "low", "close"])
    frame[stamp] = pd.to_datetime(frame[stamp], utc=stamp == "time_utc")
    return tuple(frame.pivot(index=stamp, columns="asset", values=f) for f in ("close", "low"))


@pytest.fixture(scope="module")
def hourly(shared_data_dir):
    return _panels(shared_data_dir / "crypto_perp_hourly_binance.csv", "time_utc")


@pytest.fixture(scope="module")
def daily(shared_data_dir):
    close, low = _panels(shared_data_dir / "crypto_spot_daily_binance.csv", "date")
    listed = ["BTC", "ETH", "BNB", "XRP", "ADA"]  # every one listed before 2020
    return close[listed], low[listed]


def _worst(panels, start: str, end: str) -> tuple[pd.Series, pd.Series]:
    """Stamp of each asset's worst close-to-close move and worst low from the previous close."""
    close, low = panels
    previous = close.shift().loc[start:end]
    moves = (np.log(close.loc[start:end] / previous), np.log(low.loc[start:end] / previous))
    return tuple(m.idxmin() for m in moves)


@pytest.mark.shared_data
def test_the_worst_hours_of_october_2025_are_inside_the_cascade_window(hourly):
    cascade = CATALOG["crypto_oct_10_2025_cascade"]
    for worst in _worst(hourly, "2025-10-09", "2025-10-17 23:00"):
        assert window_mask(pd.DatetimeIndex(worst.to_numpy()), cascade).all(), worst


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "month"),
    [
        ("crypto_mar_12_2020_crash", "2020-03"),
        ("crypto_may_2021", "2021-05"),
        ("crypto_ftx", "2022-11"),
        ("crypto_oct_10_2025_cascade", "2025-10"),
    ],
)
def test_the_worst_day_of_the_month_is_inside_the_window(daily, name, month):
    for worst in _worst(daily, f"{month}-01", f"{month}-28"):
        assert window_mask(pd.DatetimeIndex(worst.to_numpy()), CATALOG[name]).all(), worst
