"""Parameter sets store their stress windows' bounds: dates, or UTC times for intraday windows."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from research.calibration import MarginParameters, calibrate_risk_weights
from research.errors import ParameterError
from research.stress import stress_windows

BASE = {
    "level": 0.99,
    "mpor": 1,
    "lookback": 30,
    "risk_weights": {"BTC": 0.1, "ETH": 0.12},
    "as_of": "2025-12-31",
}
CATALOG = {w.name: w for w in stress_windows("crypto")}


def _set(windows) -> MarginParameters:
    return MarginParameters(**BASE, stress_windows=windows)


def test_intraday_bounds_keep_their_utc_times_through_json_and_yaml():
    cascade = CATALOG["crypto_oct_10_2025_cascade"]
    params = _set({cascade.name: (cascade.start, cascade.end)})
    start, end = params.stress_windows[cascade.name]
    assert start == dt.datetime(2025, 10, 10, 14, tzinfo=dt.UTC)
    assert end == dt.datetime(2025, 10, 11, 2, 59, 59, tzinfo=dt.UTC)
    written = json.loads(params.to_json())["stress_windows"]
    assert written == [
        {
            "name": cascade.name,
            "start": "2025-10-10T14:00:00+00:00",
            "end": "2025-10-11T02:59:59+00:00",
        }
    ]
    for back in (
        MarginParameters.from_json(params.to_json()),
        MarginParameters.from_yaml(params.to_yaml()),
    ):
        assert back == params and back.fingerprint == params.fingerprint
    assert params.to_frame().loc[("stress window", cascade.name), "value"] == (
        "2025-10-10 14:00:00 UTC to 2025-10-11 02:59:59 UTC"
    )


def test_the_bounds_enter_the_fingerprint_and_other_zones_become_utc():
    tokyo = _set({"w": (pd.Timestamp("2025-10-10 23:00", tz="Asia/Tokyo"), "2025-10-11")})
    utc = _set({"w": ("2025-10-10T14:00:00+00:00", "2025-10-11")})
    assert tokyo == utc and tokyo.fingerprint == utc.fingerprint
    later = _set({"w": ("2025-10-10T15:00:00+00:00", "2025-10-11")})
    assert later.fingerprint != utc.fingerprint
    # a date as end covers its whole day, so an intraday start on that day is in order
    assert _set({"w": ("2025-10-11T20:00:00+00:00", "2025-10-11")}).stress_windows["w"][1] == (
        dt.date(2025, 10, 11)
    )
    with pytest.raises(ParameterError, match="ends"):
        _set({"w": ("2025-10-11T20:00:00+00:00", "2025-10-11T19:00:00+00:00")})
    with pytest.raises(ParameterError, match="not an ISO date"):
        _set({"w": ("2025-10-11 8pm", "2025-10-12")})


def test_whole_day_windows_are_written_as_dates_as_before():
    covid = CATALOG["crypto_covid_crash"]
    as_stamps = _set({covid.name: (covid.start, covid.end)})
    as_dates = _set({covid.name: (dt.date(2020, 3, 9), dt.date(2020, 3, 20))})
    as_text = _set([{"name": covid.name, "start": "2020-03-09", "end": "2020-03-20"}])
    assert as_stamps == as_dates == as_text
    assert as_stamps.fingerprint == as_dates.fingerprint == as_text.fingerprint
    assert as_stamps.to_dict()["stress_windows"][0] == {
        "name": covid.name,
        "start": "2020-03-09",
        "end": "2020-03-20",
    }


def test_a_set_written_before_intraday_bounds_still_loads():
    text = MarginParameters(**BASE).to_dict()
    text["stress_windows"] = [{"name": "crypto_ftx", "start": "2022-11-06", "end": "2022-11-21"}]
    params = MarginParameters.from_dict(text)
    assert params.stress_windows == {"crypto_ftx": (dt.date(2022, 11, 6), dt.date(2022, 11, 21))}
    assert "history" not in params.to_dict() and "period" not in params.to_dict()


def test_risk_weight_calibration_hands_the_window_times_to_the_set():
    hours = pd.date_range("2025-10-01", "2025-10-20", freq="h", tz="UTC", name="date")
    returns = pd.DataFrame(
        {"BTC": np.random.default_rng(5).normal(0.0, 0.5, len(hours))}, index=hours
    )
    cascade = CATALOG["crypto_oct_10_2025_cascade"]
    rw = calibrate_risk_weights(returns, mpor=8, lookback=300, stress_windows=[cascade])
    params = rw.to_parameters(as_of="2025-10-20")
    assert params.stress_windows[cascade.name] == (
        cascade.start.to_pydatetime(),
        cascade.end.to_pydatetime(),
    )
    assert rw.drivers.loc["BTC", "stress_moves"] == 13  # the hours 14:00 .. 02:00


def test_on_daily_data_an_intraday_window_is_recorded_as_the_days_it_touches():
    from research.calibration.calibrate import _stress_windows
    from research.calibration.config import CalibrationConfig

    days = pd.date_range("2020-01-01", "2020-06-30", freq="D", name="date")
    returns = pd.DataFrame({"BTC": np.zeros(len(days))}, index=days)
    config = CalibrationConfig.from_dict({"stress": {"asset_class": "crypto"}})
    notes: list[str] = []
    windows = _stress_windows(config, returns, notes)
    assert windows == {
        "crypto_covid_crash": (pd.Timestamp("2020-03-09"), pd.Timestamp("2020-03-20")),
        "crypto_mar_12_2020_crash": (pd.Timestamp("2020-03-12"), pd.Timestamp("2020-03-13")),
    }
    assert MarginParameters(**BASE, stress_windows=windows).to_dict()["stress_windows"][1] == {
        "name": "crypto_mar_12_2020_crash",
        "start": "2020-03-12",
        "end": "2020-03-13",
    }
    assert "lie outside the data" in notes[0]
