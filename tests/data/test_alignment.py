"""align: intersection and forward fill, with counts checked by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from research.data import align, quality_report, validate_prices
from research.data.attached import attach_quality
from research.errors import DataError, DataQualityWarning, SpecificationError


def crypto_panel() -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=10, freq="D", name="date")
    late = np.r_[[np.nan] * 4, np.arange(6.0) + 50]
    holey = np.arange(10.0) + 10
    holey[[2, 6, 7]] = np.nan
    frame = pd.DataFrame({"OLD": np.arange(10.0) + 1, "LATE": late, "HOLE": holey}, index=index)
    frame.columns.name = "asset"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        attach_quality(frame, validate_prices(frame))
    return frame


def test_intersection_drops_and_attributes_rows():
    prices = crypto_panel()
    with pytest.warns(DataQualityWarning, match=r"dropped 6 of 10 rows.*LATE not listed before"):
        aligned = align(prices)
    assert aligned.index.strftime("%d").tolist() == ["05", "06", "09", "10"]
    summary = aligned.attrs["alignment"]
    assert summary["rows_dropped"] == 6
    assert summary["dropped_by_asset"] == {"LATE": 4, "HOLE": 3}
    report = quality_report(aligned)
    assert report.repair_counts()["rows_dropped"] == 6
    dropped = report.issues[report.issues["rule"] == "rows_dropped"].set_index("asset")
    assert dropped.loc["LATE", "detail"] == (
        "4 rows: not listed before 2024-01-05 (4 rows from 2024-01-01)"
    )
    assert dropped.loc["HOLE", "detail"] == "3 rows: 3 missing values inside its listed range"
    assert aligned.notna().all().all()


def test_ffill_fills_short_runs_only_inside_listed_range():
    prices = crypto_panel()
    with pytest.warns(DataQualityWarning, match="dropped 4 of 10 rows"):
        aligned = align(prices, "ffill", max_gap=2)
    assert len(aligned) == 6  # the 4 rows before LATE's listing are dropped
    np.testing.assert_array_equal(aligned["HOLE"].to_numpy(), [14, 15, 15, 15, 18, 19])
    assert aligned.attrs["alignment"]["filled"] == {"HOLE": 3}
    assert quality_report(aligned).to_frame().loc["HOLE", "values_filled"] == 3


def test_ffill_long_run_raises_or_drops():
    prices = crypto_panel()
    with pytest.raises(DataError, match=r"'HOLE' has 2 consecutive missing rows 2024-01-07"):
        align(prices, "ffill", max_gap=1)
    with pytest.warns(DataQualityWarning):
        aligned = align(prices, "ffill", max_gap=1, on_long_gap="drop")
    assert aligned.index.strftime("%d").tolist() == ["05", "06", "09", "10"]
    assert aligned.attrs["alignment"]["filled"] == {"HOLE": 1}
    assert "long_gap" in quality_report(aligned).issues["rule"].tolist()


def test_ffill_with_calendar_adds_missing_days():
    index = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-06"])
    frame = pd.DataFrame({"BTC": [1.0, 2.0, 5.0, 6.0]}, index=index.rename("date"))
    aligned = align(frame, "ffill", calendar="crypto", warn=False)
    assert len(aligned) == 6
    np.testing.assert_array_equal(aligned["BTC"].to_numpy(), [1, 2, 2, 2, 5, 6])
    assert aligned.attrs["alignment"]["rows_added"] == 2
    assert quality_report(aligned).repair_counts()["rows_added"] == 2


def test_aligned_clean_panel_is_unchanged():
    index = pd.bdate_range("2024-01-01", periods=5, name="date")
    frame = pd.DataFrame({"A": np.arange(1.0, 6.0)}, index=index)
    aligned = align(frame)
    pd.testing.assert_frame_equal(aligned, frame, check_freq=False)
    assert aligned.attrs["alignment"]["rows_dropped"] == 0


def test_align_rejects_bad_input():
    index = pd.date_range("2024-01-01", periods=4, name="date")
    disjoint = pd.DataFrame(
        {"A": [1.0, 2.0, np.nan, np.nan], "B": [np.nan, np.nan, 3.0, 4.0]}, index=index
    )
    with pytest.raises(DataError, match="left no row"):
        align(disjoint, warn=False)
    with pytest.raises(SpecificationError):
        align(disjoint, how="union")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="sorted unique"):
        align(disjoint.iloc[::-1])
