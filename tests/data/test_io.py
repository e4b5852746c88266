"""read_prices: layouts, dates, time zones and every reading rule on crafted files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.data import DataQualityReport, quality_report, read_prices
from research.errors import (
    DataError,
    DataQualityWarning,
    InsufficientDataError,
    SpecificationError,
)

LONG = """
date,asset,open,close
2024-01-01,AAA,1,10.0
2024-01-01,BBB,1,20.0
2024-01-02,AAA,1,11.0
2024-01-02,BBB,1,21.0
2024-01-03,AAA,1,12.0
2024-01-03,BBB,1,22.0
"""

WIDE = """
date,AAA,BBB
2024-01-01,10.0,20.0
2024-01-02,11.0,21.0
2024-01-03,12.0,22.0
"""


def test_long_form_is_pivoted_to_wide(write_csv):
    prices = read_prices(write_csv(LONG))
    assert prices.shape == (3, 2)
    assert list(prices.columns) == ["AAA", "BBB"]
    assert prices.columns.name == "asset"
    assert prices.index.name == "date"
    assert prices.index.tz is None
    assert (prices.dtypes == "float64").all()
    assert prices.loc["2024-01-02", "BBB"] == 21.0
    assert isinstance(quality_report(prices), DataQualityReport)


def test_wide_form_matches_long_form(write_csv):
    wide = read_prices(write_csv(WIDE, "wide.csv"))
    long = read_prices(write_csv(LONG, "long.csv"))
    pd.testing.assert_frame_equal(wide, long)


def test_parquet_with_datetime_index(tmp_path):
    frame = pd.DataFrame(
        {"AAA": [1.0, 2.0, 3.0]}, index=pd.date_range("2024-01-01", periods=3, name="date")
    )
    path = tmp_path / "prices.parquet"
    frame.to_parquet(path)
    prices = read_prices(path)
    np.testing.assert_array_equal(prices["AAA"].to_numpy(), [1.0, 2.0, 3.0])
    assert prices.index[0] == pd.Timestamp("2024-01-01")


def test_ohlc_file_of_one_asset_prefers_adjusted_close(write_csv):
    path = write_csv(
        """
Date,Open,High,Low,Close,Adj Close,Volume
1/4/1999,10,11,9,10.5,5.25,100
1/5/1999,10,11,9,11.0,5.50,100
""",
        "spx.csv",
    )
    prices = read_prices(path, dayfirst=False)
    assert list(prices.columns) == ["spx"]
    np.testing.assert_array_equal(prices["spx"].to_numpy(), [5.25, 5.5])
    assert prices.index[0] == pd.Timestamp("1999-01-04")


def test_intraday_offsets_become_utc(write_csv):
    path = write_csv(
        """
time,asset,close
2024-03-01 10:00+02:00,AAA,1.0
2024-03-01 11:00+02:00,AAA,1.1
2024-03-01 12:00+02:00,AAA,1.2
"""
    )
    prices = read_prices(path)
    assert str(prices.index.tz) == "UTC"
    assert prices.index[0] == pd.Timestamp("2024-03-01 08:00", tz="UTC")
    assert quality_report(prices).frequency == "intraday 1h"


def test_naive_intraday_stamps_are_taken_in_tz(write_csv):
    path = write_csv(
        """
time_utc,asset,close
2024-03-01 10:00,AAA,1.0
2024-03-01 11:00,AAA,1.1
"""
    )
    assert read_prices(path).index[0] == pd.Timestamp("2024-03-01 10:00", tz="UTC")
    shifted = read_prices(path, tz="Europe/Zurich")
    assert shifted.index[0] == pd.Timestamp("2024-03-01 09:00", tz="UTC")


def test_epoch_milliseconds_date_column(write_csv):
    path = write_csv(
        """
timestamp,close
1704067200000,1.0
1704153600000,1.1
"""
    )
    prices = read_prices(path, asset_name="BTC")
    assert prices.index[1] == pd.Timestamp("2024-01-02")


def test_rates_file_is_detected_and_may_be_negative(write_csv):
    path = write_csv(
        """
date,funding_mean,funding_abs
2024-01-01,1e-04,1e-04
2024-01-02,-2e-04,2e-04
2024-01-03,1e-04,1e-04
"""
    )
    rates = read_prices(path)
    assert quality_report(rates).values == "rates"
    assert rates.loc["2024-01-02", "funding_mean"] == -2e-04


def test_negative_value_in_rates_forced_to_prices_raises(write_csv):
    path = write_csv("date,funding_mean\n2024-01-01,1e-04\n2024-01-02,-2e-04")
    with pytest.raises(DataError, match=r"'funding_mean' on 2024-01-02"):
        read_prices(path, values="prices")


@pytest.mark.parametrize("value", ["-1.5", "0"])
def test_non_positive_price_names_asset_and_date(write_csv, value):
    text = LONG.replace("2024-01-02,BBB,1,21.0", f"2024-01-02,BBB,1,{value}")
    with pytest.raises(DataError, match=r"non-positive price for asset 'BBB' on 2024-01-02"):
        read_prices(write_csv(text))


def test_duplicate_stamp_raises_by_default(write_csv):
    text = LONG.replace("2024-01-02,AAA,1,11.0", "2024-01-02,AAA,1,11.0\n2024-01-02,AAA,1,11.5")
    with pytest.raises(DataError, match=r"duplicate stamp for asset 'AAA' on 2024-01-02"):
        read_prices(write_csv(text))


@pytest.mark.parametrize(("policy", "kept"), [("first", 11.0), ("last", 11.5)])
def test_duplicate_policy_keeps_one_row_and_counts(write_csv, policy, kept):
    text = LONG.replace("2024-01-02,AAA,1,11.0", "2024-01-02,AAA,1,11.0\n2024-01-02,AAA,1,11.5")
    prices = read_prices(write_csv(text), duplicates=policy)
    report = quality_report(prices)
    assert prices.loc["2024-01-02", "AAA"] == kept
    assert report.repair_counts()["duplicates_dropped"] == 1
    found = report.issues[report.issues["rule"] == "duplicate_timestamp"]
    assert found["asset"].tolist() == ["AAA"]
    assert "prices differ" in found["detail"].iloc[0]


def test_unsorted_rows_raise_by_default(write_csv):
    text = WIDE.replace(
        "2024-01-02,11.0,21.0\n2024-01-03,12.0,22.0", "2024-01-03,12.0,22.0\n2024-01-02,11.0,21.0"
    )
    with pytest.raises(DataError, match=r"asset 'AAA' has 2024-01-02 after 2024-01-03"):
        read_prices(write_csv(text))


def test_sort_policy_sorts_and_counts(write_csv):
    text = WIDE.replace(
        "2024-01-02,11.0,21.0\n2024-01-03,12.0,22.0", "2024-01-03,12.0,22.0\n2024-01-02,11.0,21.0"
    )
    prices = read_prices(write_csv(text), sort=True)
    assert prices.index.is_monotonic_increasing
    np.testing.assert_array_equal(prices["AAA"].to_numpy(), [10.0, 11.0, 12.0])
    moved = quality_report(prices).repairs.query("action == 'rows_sorted'")
    assert dict(zip(moved["asset"], moved["count"], strict=True)) == {"AAA": 2, "BBB": 2}


def test_unparsable_date_names_row_value_and_asset(write_csv):
    text = LONG.replace("2024-01-03,BBB", "2024-13-45,BBB")
    with pytest.raises(DataError, match=r"unparsable date '2024-13-45'.*row 6 \(asset 'BBB'\)"):
        read_prices(write_csv(text))


def test_unparsable_price_names_asset_and_date(write_csv):
    text = WIDE.replace("2024-01-02,11.0,21.0", "2024-01-02,11.0,n/a?")
    with pytest.raises(DataError, match=r"unparsable price 'n/a\?' for asset 'BBB' on 2024-01-02"):
        read_prices(write_csv(text))


def test_all_nan_asset_names_asset(write_csv):
    text = "date,AAA,BBB\n2024-01-01,1.0,\n2024-01-02,1.1,\n2024-01-03,1.2,\n"
    with pytest.raises(DataError, match=r"asset 'BBB' has no valid value.*from 2024-01-01"):
        read_prices(write_csv(text))


def test_one_row_file_is_insufficient(write_csv):
    with pytest.raises(InsufficientDataError, match=r"1 row\(s\) \(2024-01-01\)"):
        read_prices(write_csv("date,AAA\n2024-01-01,1.0"))


def test_header_only_file(write_csv):
    with pytest.raises(DataError, match="no data rows"):
        read_prices(write_csv("date,AAA"))


def test_long_file_without_price_column(write_csv):
    path = write_csv("date,asset,volume\n2024-01-01,AAA,5\n2024-01-02,AAA,6")
    with pytest.raises(DataError, match=r"no price column found among \['volume'\]"):
        read_prices(path)


def test_explicit_price_column(write_csv):
    path = write_csv("date,asset,volume\n2024-01-01,AAA,5\n2024-01-02,AAA,6")
    prices = read_prices(path, price_column="volume")
    assert prices["AAA"].tolist() == [5.0, 6.0]


def test_no_date_column(write_csv):
    with pytest.raises(DataError, match="no date column found"):
        read_prices(write_csv("label,AAA\nfoo,1.0\nbar,2.0"))


def test_unknown_suffix_and_missing_file(tmp_path):
    bad = tmp_path / "prices.xlsx"
    bad.write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        read_prices(bad)
    with pytest.raises(DataError, match="no such price file"):
        read_prices(tmp_path / "absent.csv")


def test_gap_warning_is_emitted_and_recorded(write_csv):
    days = pd.date_range("2024-01-01", periods=20, freq="D").delete([5, 6])
    text = "date,BTC\n" + "\n".join(f"{d:%Y-%m-%d},{100 + i}" for i, d in enumerate(days))
    with pytest.warns(DataQualityWarning, match=r"1 gap\(s\) in the crypto calendar") as record:
        prices = read_prices(write_csv(text))
    assert record[0].filename == __file__  # attributed to the caller, not to research.data
    report = quality_report(prices)
    assert any("2 missing days 2024-01-06..2024-01-07" in m for m in report.warnings)


def test_unknown_options_raise_before_reading(tmp_path):
    with pytest.raises(SpecificationError, match="duplicates"):
        read_prices(tmp_path / "absent.csv", duplicates="keep")  # type: ignore[arg-type]
    with pytest.raises(SpecificationError, match="values"):
        read_prices(tmp_path / "absent.csv", values="returns")  # type: ignore[arg-type]
