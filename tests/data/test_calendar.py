"""Calendar inference and gap finding against hand-counted examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.data import (
    Frequency,
    calendar_index,
    find_gaps,
    infer_calendar,
    infer_frequency,
)
from research.errors import DataError

DAILY = Frequency("daily", pd.Timedelta(days=1))
HOURLY = Frequency("intraday", pd.Timedelta(hours=1))


def test_infer_frequency():
    assert infer_frequency(pd.bdate_range("2024-01-01", periods=30)) == DAILY
    assert infer_frequency(pd.date_range("2024-01-01", periods=30, freq="h")) == HOURLY
    assert str(infer_frequency(pd.date_range("2024-01-01", periods=9, freq="15min"))) == (
        "intraday 15min"
    )
    assert infer_frequency(pd.date_range("2024-01-01", periods=30, freq="W")).kind == "other"
    assert infer_frequency(pd.DatetimeIndex(["2024-01-01"])).kind == "other"


def test_infer_calendar():
    assert infer_calendar(pd.bdate_range("2024-01-01", periods=30)) == "equity"
    assert infer_calendar(pd.date_range("2024-01-01", periods=30)) == "crypto"
    assert infer_calendar(pd.DatetimeIndex([])) == "equity"
    # two weekdays of hourly stamps: no weekend to see, but a 24-hour market
    assert infer_calendar(pd.date_range("2024-01-01", periods=48, freq="h")) == "crypto"
    session = pd.date_range("2024-01-01 14:00", periods=7, freq="h")
    assert infer_calendar(session.append(session + pd.Timedelta(days=1))) == "equity"


def test_equity_gaps_skip_weekends():
    # Fri 2024-01-05 -> Wed 2024-01-10: Mon 8 and Tue 9 missing, the weekend is not.
    dates = pd.DatetimeIndex(["2024-01-04", "2024-01-05", "2024-01-10", "2024-01-11"])
    gaps = find_gaps(dates, "equity", DAILY)
    assert gaps.periods.tolist() == [2]
    assert gaps.start[0] == pd.Timestamp("2024-01-08")
    assert gaps.end[0] == pd.Timestamp("2024-01-09")
    assert len(gaps.longer_than(2)) == 0


def test_crypto_daily_gaps_count_every_day():
    dates = pd.DatetimeIndex(["2024-01-05", "2024-01-09", "2024-01-10", "2024-01-12"])
    gaps = find_gaps(dates, "crypto", DAILY)
    assert gaps.periods.tolist() == [3, 1]
    assert gaps.start.strftime("%Y-%m-%d").tolist() == ["2024-01-06", "2024-01-11"]
    assert gaps.end.strftime("%Y-%m-%d").tolist() == ["2024-01-08", "2024-01-11"]


def test_intraday_gaps_in_utc():
    stamps = pd.date_range("2024-01-01", periods=10, freq="h", tz="UTC").delete([3, 4])
    gaps = find_gaps(stamps, "crypto", HOURLY)
    assert gaps.periods.tolist() == [2]
    assert gaps.start[0] == pd.Timestamp("2024-01-01 03:00", tz="UTC")
    assert gaps.end[0] == pd.Timestamp("2024-01-01 04:00", tz="UTC")
    assert len(find_gaps(stamps, "equity", HOURLY)) == 0  # no session times known


def test_calendar_index():
    first, last = pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-09")
    assert len(calendar_index(first, last, "crypto", DAILY)) == 5
    assert calendar_index(first, last, "equity", DAILY).strftime("%a").tolist() == [
        "Fri",
        "Mon",
        "Tue",
    ]
    hours = calendar_index(
        pd.Timestamp("2024-01-01", tz="UTC"),
        pd.Timestamp("2024-01-02", tz="UTC"),
        "crypto",
        HOURLY,
    )
    assert len(hours) == 25
    with pytest.raises(DataError, match="no calendar grid"):
        calendar_index(first, last, "equity", HOURLY)


def test_gaps_empty_for_short_or_other():
    assert len(find_gaps(pd.DatetimeIndex(["2024-01-01"]), "crypto", DAILY)) == 0
    weekly = pd.date_range("2024-01-01", periods=5, freq="W")
    assert np.array_equal(find_gaps(weekly, "crypto", Frequency("other", None)).periods, [])


def test_periods_per_year_follows_frequency_and_calendar():
    import pandas as pd
    import pytest

    from research.data import periods_per_year
    from research.errors import DataError

    assert periods_per_year(pd.bdate_range("2024-01-01", periods=60)) == 252.0
    assert periods_per_year(pd.date_range("2024-01-01", periods=60, freq="D")) == 365.0
    assert (
        periods_per_year(pd.date_range("2024-01-01", periods=200, freq="h", tz="UTC")) == 365.0 * 24
    )
    with pytest.raises(DataError, match="cannot annualise"):
        periods_per_year(pd.date_range("2024-01-01", periods=20, freq="MS"))
