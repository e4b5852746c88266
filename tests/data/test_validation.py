"""validate_prices: every rule on frames with known defects."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from research.data import validate_prices
from research.data.attached import attach_quality
from research.data.quality import repair_frame
from research.errors import DataError, DataQualityWarning, InsufficientDataError


def panel(index, **columns) -> pd.DataFrame:
    frame = pd.DataFrame(columns, index=pd.DatetimeIndex(index, name="date"), dtype=float)
    frame.columns.name = "asset"
    return frame


def business_days(n: int, start: str = "2024-01-01") -> pd.DatetimeIndex:
    return pd.bdate_range(start, periods=n)


def quiet(prices, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return validate_prices(prices, **options)


def test_clean_panel_has_no_findings():
    prices = panel(business_days(30), A=np.linspace(10, 20, 30), B=np.linspace(5, 6, 30))
    report = validate_prices(prices)
    assert report.n_issues == 0
    assert report.calendar == "equity"
    assert report.frequency == "daily"
    assert report.to_frame().loc["A", "observations"] == 30


def test_listing_dates_are_not_missing_values():
    values = np.r_[np.full(10, np.nan), np.linspace(1, 2, 20)]
    prices = panel(business_days(30), A=np.ones(30), LATE=values)
    table = validate_prices(prices).to_frame()
    assert table.loc["LATE", "first"] == business_days(30)[10]
    assert table.loc["LATE", "missing"] == 0


def test_missing_value_inside_listed_range_warns_and_is_recorded():
    values = np.linspace(1, 2, 30)
    values[12] = np.nan
    prices = panel(business_days(30), A=values)
    with pytest.warns(DataQualityWarning, match=r"1 missing value\(s\).*A on 2024-01-17"):
        report = validate_prices(prices)
    assert report.to_frame().loc["A", "missing"] == 1
    assert report.issues["rule"].tolist() == ["missing"]
    assert report.warnings and report.warnings[0].startswith("validate: ")


def test_weekend_is_not_an_equity_gap_but_a_week_is():
    days = business_days(40).delete(list(range(10, 16)))  # six weekdays missing
    prices = panel(days, A=np.linspace(1, 2, len(days)))
    with pytest.warns(DataQualityWarning, match="gap"):
        report = validate_prices(prices)
    gaps = report.issues[report.issues["rule"] == "gap"]
    assert len(gaps) == 1
    assert gaps["severity"].iloc[0] == "warning"
    assert gaps["detail"].iloc[0] == "6 missing days 2024-01-15..2024-01-22"
    assert report.to_frame().loc["A", "gap_periods"] == 6


def test_single_holiday_is_tolerated_and_short_closure_is_info():
    days = business_days(40).delete([5, 20, 21])
    prices = panel(days, A=np.linspace(1, 2, len(days)))
    report = validate_prices(prices)  # no warning: a 2-day closure is plausible
    gaps = report.issues[report.issues["rule"] == "gap"]
    assert gaps["detail"].tolist() == ["2 missing days 2024-01-29..2024-01-30"]
    assert gaps["severity"].tolist() == ["info"]


def test_every_missing_crypto_day_is_a_gap():
    days = pd.date_range("2024-01-01", periods=60, freq="D").delete([30])
    prices = panel(days, BTC=np.linspace(1, 2, len(days)))
    with pytest.warns(DataQualityWarning):
        report = validate_prices(prices)
    assert report.calendar == "crypto"
    assert report.to_frame().loc["BTC", "gaps"] == 1


def test_max_gap_override():
    days = pd.date_range("2024-01-01", periods=60, freq="D").delete([30])
    prices = panel(days, BTC=np.linspace(1, 2, len(days)))
    assert validate_prices(prices, max_gap=1).n_issues == 0


def test_outlier_return_is_flagged_with_z():
    rng = np.random.default_rng(7)
    returns = rng.normal(0, 0.01, 500)
    returns[250] = 0.5  # a 50-sigma jump
    prices = panel(business_days(501), A=100 * np.exp(np.r_[0, np.cumsum(returns)]))
    report = validate_prices(prices)
    outliers = report.issues[report.issues["rule"] == "outlier_return"]
    assert outliers["date"].tolist() == [business_days(501)[251]]
    assert outliers["severity"].tolist() == ["info"]
    assert validate_prices(prices, outlier_z=1e6).n_issues == 0


def test_rates_skip_positivity():
    prices = panel(business_days(5), F=[1e-4, -2e-4, 0.0, 1e-4, 3e-4])
    with pytest.raises(DataError, match=r"'F' on 2024-01-02.*values='rates'"):
        validate_prices(prices)
    assert validate_prices(prices, values="rates").values == "rates"


def test_errors_report_mode_records_without_raising():
    prices = panel(business_days(5), A=[1.0, -1.0, 1.0, 0.0, 1.0], B=[np.nan] * 5)
    report = quiet(prices, errors="report")
    assert report.has_errors
    assert report.to_frame().loc["A", "non_positive"] == 2
    assert bool(report.to_frame().loc["B", "all_nan"])
    assert report.summary().loc["A", "status"] == "error"


def test_all_nan_asset_raises():
    prices = panel(business_days(5), A=np.ones(5), B=[np.nan] * 5)
    with pytest.raises(DataError, match=r"asset 'B' has no valid value"):
        validate_prices(prices)


def test_infinite_value_raises():
    prices = panel(business_days(5), A=[1.0, np.inf, 1.0, 1.0, 1.0])
    with pytest.raises(DataError, match=r"infinite value for asset 'A' on 2024-01-02"):
        validate_prices(prices)


def test_duplicate_and_unsorted_index_raise():
    days = business_days(4)
    duplicated = panel(days.insert(2, days[1]), A=np.ones(5))
    with pytest.raises(DataError, match=r"duplicate timestamp 2024-01-02: 2 rows"):
        validate_prices(duplicated)
    unsorted = panel(days[[0, 2, 1, 3]], A=np.ones(4))
    with pytest.raises(DataError, match=r"not sorted: 2024-01-02 comes after 2024-01-03"):
        validate_prices(unsorted)


def test_structure_errors():
    with pytest.raises(InsufficientDataError):
        validate_prices(panel(business_days(1), A=[1.0]))
    with pytest.raises(DataError, match="DatetimeIndex"):
        validate_prices(pd.DataFrame({"A": [1.0, 2.0]}))
    frame = panel(business_days(2), A=[1.0, 2.0]).assign(B=["x", "y"])
    with pytest.raises(DataError, match=r"asset 'B' has non-numeric dtype"):
        validate_prices(frame)


def test_validation_carries_earlier_steps():
    prices = panel(business_days(10), A=np.linspace(1, 2, 10))
    first = validate_prices(prices)
    attach_quality(
        prices,
        first.extend(
            repairs=repair_frame(
                [
                    {
                        "step": "read",
                        "action": "duplicates_dropped",
                        "asset": "A",
                        "count": 2,
                        "detail": "kept the first row",
                    }
                ]
            )
        ),
    )
    again = validate_prices(prices.iloc[2:])
    assert again.repair_counts()["duplicates_dropped"] == 2
    assert again.n_rows == 8


def test_gap_check_skipped_is_recorded():
    weekly = panel(pd.date_range("2024-01-05", periods=10, freq="W-FRI"), A=np.linspace(1, 2, 10))
    report = validate_prices(weekly)
    assert report.issues["rule"].tolist() == ["gap_check_skipped"]
    hours = pd.date_range("2024-01-01 14:00", periods=6, freq="h", tz="UTC")
    intraday = panel(hours.append(hours + pd.Timedelta(days=1)), A=np.linspace(1, 2, 12))
    assert "session" in validate_prices(intraday, calendar="equity").issues["detail"].iloc[0]
