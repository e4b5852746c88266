"""load_prices: dataset names, files, slicing and errors."""

from __future__ import annotations

import pandas as pd
import pytest

from research.data import load_prices, quality_report
from research.errors import DataError, DataQualityWarning, InsufficientDataError


def test_dataset_slice():
    prices = load_prices("sp500", start="2020-01-01", end="2020-12-31")
    assert prices.shape == (253, 20)
    assert prices.index[0] == pd.Timestamp("2020-01-02")
    report = quality_report(prices)
    assert report.n_rows == 253
    assert report.first == pd.Timestamp("2020-01-02")


def test_dataset_without_range_is_the_dataset():
    assert load_prices("sp500-nasdaq").shape == (5031, 2)


def test_file_slice_revalidates_and_warns_once(write_csv):
    days = pd.date_range("2024-01-01", periods=30, freq="D").delete([3])
    text = "date,BTC\n" + "\n".join(f"{d:%Y-%m-%d},{100 + i}" for i, d in enumerate(days))
    path = write_csv(text)
    with pytest.warns(DataQualityWarning) as record:
        full = load_prices(path)
    assert len(record) == 1
    sliced = load_prices(path, start=pd.Timestamp("2024-01-10"))
    assert quality_report(sliced).n_issues == 0  # the gap is outside the range
    assert len(sliced) == 21  # 2024-01-10..2024-01-30
    assert len(full) == 29


def test_intraday_end_date_string_includes_the_whole_day(write_csv):
    stamps = pd.date_range("2024-03-01", periods=72, freq="h")
    text = "time_utc,asset,close\n" + "\n".join(
        f"{t:%Y-%m-%d %H:%M},BTC,{100 + i}" for i, t in enumerate(stamps)
    )
    prices = load_prices(write_csv(text), start="2024-03-02", end="2024-03-02")
    assert len(prices) == 24
    assert prices.index[0] == pd.Timestamp("2024-03-02 00:00", tz="UTC")
    naive = load_prices(write_csv(text), start=pd.Timestamp("2024-03-03 12:00"))
    assert len(naive) == 12


def test_file_options_are_passed(write_csv):
    path = write_csv("date,asset,close\n2024-01-01,A,1\n2024-01-01,A,2\n2024-01-02,A,3")
    prices = load_prices(path, duplicates="last")
    assert prices["A"].tolist() == [2.0, 3.0]


def test_errors():
    with pytest.raises(DataError, match="neither a bundled dataset"):
        load_prices("no-such-thing")
    with pytest.raises(DataError, match="apply to files"):
        load_prices("sp500", sort=True)
    with pytest.raises(InsufficientDataError, match=r"the data cover 1990-01-02..2022-12-28"):
        load_prices("sp500", start="2030-01-01")
