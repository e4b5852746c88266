"""The quality report in ``attrs``: survives Parquet, refuses to describe a sliced frame.

Issue 13 item 8: frames returned by the package could not be written with ``to_parquet()``
(the report object in ``attrs`` is not JSON), and a slice kept a report of the full panel.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from research.data import (
    DataQualityReport,
    align,
    load_dataset,
    mpor_returns,
    quality_report,
    read_prices,
    to_returns,
    validate_prices,
)
from research.errors import DataError


def _same_report(left: DataQualityReport, right: DataQualityReport) -> None:
    assert str(left) == str(right)
    pd.testing.assert_frame_equal(left.assets, right.assets)
    pd.testing.assert_frame_equal(left.issues, right.issues)
    pd.testing.assert_frame_equal(left.repairs, right.repairs)


@pytest.mark.parametrize(
    "make",
    [
        lambda: load_dataset("sp500"),
        lambda: to_returns(load_dataset("sp500")),
        lambda: mpor_returns(to_returns(load_dataset("sp500-nasdaq")), 5),
        lambda: align(load_dataset("sp500-nasdaq")),
    ],
    ids=["dataset", "returns", "mpor", "aligned"],
)
def test_frames_of_the_package_round_trip_through_parquet(tmp_path, make):
    frame = make()
    path = tmp_path / "frame.parquet"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas only warns when attrs cannot be written
        frame.to_parquet(path)
    back = pd.read_parquet(path)
    _same_report(quality_report(back), quality_report(frame))


def test_read_prices_output_round_trips_through_parquet(write_csv, tmp_path):
    text = "date,A,B\n" + "".join(f"2024-01-{d:02d},{d},{d + 1}\n" for d in range(1, 11))
    prices = read_prices(write_csv(text), warn=False)
    prices.to_parquet(tmp_path / "p.parquet")
    again = read_prices(tmp_path / "p.parquet", warn=False)
    assert quality_report(again).n_rows == 10


@pytest.mark.parametrize(
    "cut",
    [lambda p: p.iloc[-250:], lambda p: p.iloc[:, :3], lambda p: p.loc["2020"]],
    ids=["rows", "columns", "year"],
)
def test_a_slice_does_not_carry_the_full_panel_report(cut):
    sliced = cut(load_dataset("sp500"))
    with pytest.raises(DataError, match=r"describes 8,313 rows \(1990-01-02..2022-12-28\) x 20"):
        quality_report(sliced)
    assert validate_prices(sliced, warn=False).n_rows == len(sliced)


def test_returns_of_a_slice_carry_no_stale_report():
    returns = to_returns(load_dataset("sp500").iloc[-300:])
    with pytest.raises(DataError, match="carries no data-quality report"):
        quality_report(returns)


def test_frame_without_report():
    with pytest.raises(DataError, match="carries no data-quality report"):
        quality_report(pd.DataFrame({"A": [1.0]}, index=pd.to_datetime(["2024-01-01"])))


def test_report_to_dict_round_trip():
    report = quality_report(load_dataset("sp500-nasdaq"))
    _same_report(DataQualityReport.from_dict(report.to_dict()), report)
