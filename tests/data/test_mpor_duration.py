"""The margin period of risk as periods or a duration, converted with the data's frequency."""

from __future__ import annotations

import pandas as pd
import pytest

from research.data import duration_label, mpor_periods, period_length, period_text
from research.errors import DataError, SpecificationError

HOURLY = pd.date_range("2025-10-01", periods=72, freq="h", tz="UTC")
CRYPTO_DAILY = pd.date_range("2025-01-01", periods=60, freq="D")
EQUITY_DAILY = pd.bdate_range("2025-01-01", periods=60)


@pytest.mark.parametrize(
    "mpor, index, periods",
    [
        ("8h", HOURLY, 8),
        ("1D", HOURLY, 24),
        ("2D", HOURLY, 48),
        ("1D", CRYPTO_DAILY, 1),
        ("2D", CRYPTO_DAILY, 2),
        ("2D", EQUITY_DAILY, 2),  # a day is one bar: a trading day on the equity calendar
        (3, HOURLY, 3),  # periods pass through
        (2.0, CRYPTO_DAILY, 2),
    ],
)
def test_mpor_periods(mpor, index, periods):
    assert mpor_periods(mpor, index) == periods


def test_mpor_that_is_not_whole_periods_is_refused():
    with pytest.raises(SpecificationError, match="8h is not a whole number of 1D periods"):
        mpor_periods("8h", CRYPTO_DAILY)
    with pytest.raises(SpecificationError, match="not a whole number of periods >= 1"):
        mpor_periods(0.5, CRYPTO_DAILY)
    with pytest.raises(SpecificationError, match="periods or a duration"):
        mpor_periods(True, HOURLY)
    with pytest.raises(DataError, match="neither daily nor intraday"):
        mpor_periods("2D", pd.date_range("2020-01-31", periods=12, freq="ME"))


def test_labels_say_hours_or_days():
    assert duration_label(8, HOURLY) == "8 hours"
    assert duration_label(24, HOURLY) == "1 day"
    assert duration_label(1, CRYPTO_DAILY) == "1 day"
    assert duration_label(10, EQUITY_DAILY) == "10 days"
    assert duration_label(3, "30min") == "90 minutes"
    assert period_text(HOURLY) == "1h" and period_text(EQUITY_DAILY) == "1D"
    assert period_length("8h") == pd.Timedelta(hours=8)
    with pytest.raises(SpecificationError, match="positive duration"):
        period_length("-1h")
