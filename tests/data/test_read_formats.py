"""Day-first dates, duplicate headers and calendar names in read_prices (issue 13 items 3, 8)."""

from __future__ import annotations

import pandas as pd
import pytest

from research.data import align, find_gaps, infer_frequency, read_prices, validate_prices
from research.errors import DataError, SpecificationError


def _file(write_csv, stamps: list[str], name: str = "prices.csv") -> object:
    rows = "".join(f"{stamp},{100 + i}\n" for i, stamp in enumerate(stamps))
    return write_csv("date,A\n" + rows, name)


MONTHS_DAY_FIRST = [f"01/{month:02d}/2020" for month in range(1, 13)]
DAYS = pd.date_range("2020-01-01", periods=40)


def test_ambiguous_monthly_day_first_file_is_refused(write_csv):
    with pytest.raises(DataError, match=r"ambiguous dates .* pass dayfirst=True or False"):
        read_prices(_file(write_csv, MONTHS_DAY_FIRST))


def test_dayfirst_reads_the_monthly_file_as_months(write_csv):
    prices = read_prices(_file(write_csv, MONTHS_DAY_FIRST), dayfirst=True, warn=False)
    assert list(prices.index) == list(pd.date_range("2020-01-01", periods=12, freq="MS"))


def test_date_format_is_honoured(write_csv):
    prices = read_prices(_file(write_csv, MONTHS_DAY_FIRST), date_format="%d/%m/%Y", warn=False)
    assert prices.index[1] == pd.Timestamp("2020-02-01")
    prices = read_prices(_file(write_csv, MONTHS_DAY_FIRST), date_format="%m/%d/%Y", warn=False)
    assert prices.index[1] == pd.Timestamp("2020-01-02")


def test_daily_day_first_file_is_read_day_first_for_every_row(write_csv):
    prices = read_prices(_file(write_csv, [f"{d:%d/%m/%Y}" for d in DAYS]))
    assert list(prices.index) == list(DAYS)


def test_daily_month_first_file_is_read_month_first(write_csv):
    prices = read_prices(_file(write_csv, [f"{d:%m/%d/%y}" for d in DAYS]))
    assert list(prices.index) == list(DAYS)


def test_day_first_intraday_stamps(write_csv):
    hours = pd.date_range("2020-01-12 20:00", periods=30, freq="h")
    prices = read_prices(_file(write_csv, [f"{h:%d.%m.%Y %H:%M}" for h in hours]))
    assert list(prices.index) == list(hours.tz_localize("UTC"))


def test_equal_readings_are_not_ambiguous(write_csv):
    stamps = [f"{m:02d}/{m:02d}/2020" for m in range(1, 13)]
    prices = read_prices(_file(write_csv, stamps), warn=False)
    assert prices.index[2] == pd.Timestamp("2020-03-03")


def test_rows_that_need_both_readings_are_refused(write_csv):
    stamps = ["13/01/2020", "01/14/2020", "15/01/2020"]
    with pytest.raises(DataError, match="fit neither dd/mm nor mm/dd"):
        read_prices(_file(write_csv, stamps))


def test_wrong_dayfirst_gives_an_unparsable_date_not_a_sort_hint(write_csv):
    with pytest.raises(DataError, match="unparsable date '13/01/2020'") as caught:
        read_prices(_file(write_csv, [f"{d:%d/%m/%Y}" for d in DAYS]), dayfirst=False)
    assert "sort=True" not in str(caught.value)


def test_disorder_from_mixed_formats_does_not_suggest_sort(write_csv):
    stamps = ["2020-01-02", "13/01/2020", "2020-01-04", "2020-01-05"]
    with pytest.raises(DataError, match="more than one date format") as caught:
        read_prices(_file(write_csv, stamps))
    assert "sort=True" not in str(caught.value)


def test_date_format_and_dayfirst_together_are_refused(write_csv):
    with pytest.raises(SpecificationError, match="either date_format= or dayfirst="):
        read_prices(_file(write_csv, MONTHS_DAY_FIRST), dayfirst=True, date_format="%d/%m/%Y")


@pytest.mark.parametrize(
    "text, name",
    [
        ("date,A,B,A\n2020-01-01,1,2,3\n2020-01-02,1,2,3\n", "'A'"),
        ("date,asset,close,close\n2020-01-01,X,1,2\n2020-01-02,X,1,2\n", "'close'"),
    ],
    ids=["wide", "long"],
)
def test_duplicate_headers_are_refused(write_csv, text, name):
    with pytest.raises(DataError, match=f"duplicate column header {name}"):
        read_prices(write_csv(text))


def test_unknown_calendar_is_refused_everywhere(write_csv):
    path = _file(write_csv, [f"{d:%Y-%m-%d}" for d in DAYS])
    with pytest.raises(SpecificationError, match="unknown calendar 'forex'; valid calendars"):
        read_prices(path, calendar="forex")  # type: ignore[arg-type]
    prices = read_prices(path, warn=False)
    for call in (
        lambda: validate_prices(prices, calendar="forex"),  # type: ignore[arg-type]
        lambda: align(prices, how="ffill", calendar="forex"),  # type: ignore[arg-type]
        lambda: find_gaps(prices.index, "forex", infer_frequency(prices.index)),  # type: ignore[arg-type]
    ):
        with pytest.raises(SpecificationError, match="equity, crypto"):
            call()
