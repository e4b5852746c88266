"""Bundled datasets: shapes, dates, catalog consistency and no heavy imports."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from research.data import list_datasets, load_dataset, quality_report, source_label
from research.errors import DataError


def test_sp500_shape_and_dates():
    prices = load_dataset("sp500")
    assert prices.shape == (8313, 20)
    assert prices.index[0] == pd.Timestamp("1990-01-02")
    assert prices.index[-1] == pd.Timestamp("2022-12-28")
    assert prices.index.name == "date"
    assert prices.columns.name == "asset"
    assert (prices.dtypes == "float64").all()
    assert prices.loc["1990-01-02", "AAPL"] == 0.264  # first value of skfolio's file
    assert prices.notna().all().all()


def test_sp500_report_lists_known_market_closures():
    report = quality_report(load_dataset("sp500"))
    assert not report.has_errors
    gaps = report.issues[(report.issues["rule"] == "gap") & (report.issues["asset"] == "AAPL")]
    assert gaps["detail"].tolist() == [
        "4 missing days 2001-09-11..2001-09-14",
        "2 missing days 2007-01-01..2007-01-02",
        "2 missing days 2012-10-29..2012-10-30",
    ]
    assert set(gaps["severity"]) == {"info"}


def test_sp500_nasdaq():
    prices = load_dataset("sp500-nasdaq")
    assert prices.shape == (5031, 2)
    assert list(prices.columns) == ["SP500", "NASDAQ"]
    assert prices.index[0] == pd.Timestamp("1999-01-04")
    assert prices.index[-1] == pd.Timestamp("2018-12-31")
    assert prices.loc["1999-01-04", "SP500"] == pytest.approx(1228.099976, abs=1e-9)


@pytest.mark.parametrize("name", ["sp500", "sp500-nasdaq"])
def test_catalog_matches_data(name):
    row = list_datasets().set_index("name").loc[name]
    prices = load_dataset(name)
    assert row["rows"] == len(prices)
    assert row["n_assets"] == prices.shape[1]
    assert row["assets"] == ", ".join(prices.columns)
    assert row["first"] == prices.index[0]
    assert row["last"] == prices.index[-1]
    assert row["calendar"] == quality_report(prices).calendar


def test_list_datasets_columns():
    expected = [
        "name",
        "description",
        "source",
        "assets",
        "n_assets",
        "first",
        "last",
        "rows",
        "frequency",
        "calendar",
        "license",
    ]
    assert list(list_datasets().columns) == expected


def test_unknown_name_lists_valid_names():
    with pytest.raises(
        DataError, match=r"unknown dataset 'sp600'; valid names: sp500, sp500-nasdaq"
    ):
        load_dataset("sp600")


def test_loaded_frames_are_independent():
    first = load_dataset("sp500")
    first.iloc[0, 0] = -1.0
    assert load_dataset("sp500").iloc[0, 0] == 0.264


def test_loading_does_not_import_skfolio_or_arch():
    code = (
        "import sys; from research.data import load_dataset; load_dataset('sp500'); "
        "load_dataset('sp500-nasdaq'); "
        "print(sorted(m for m in ('skfolio', 'arch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_source_is_labelled_by_dataset_or_file_name_never_by_its_folder(tmp_path):
    assert source_label("sp500") == "sp500"
    assert source_label(tmp_path / "prices.csv") == "prices.csv"
    assert source_label(str(tmp_path / "sp500")) == "sp500"
    assert str(tmp_path) not in source_label(tmp_path / "prices.csv")
