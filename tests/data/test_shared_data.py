"""Round trip of the offline crypto files in shared/data (skipped when absent).

Expected numbers come from shared/data/README.md.
"""

from __future__ import annotations

import pandas as pd
import pytest

from research.data import align, load_prices, quality_report, read_prices, to_returns
from research.errors import DataError, DataQualityWarning

pytestmark = pytest.mark.shared_data

SPOT_ROWS = {
    "BTC": 3191,
    "ETH": 3191,
    "BNB": 3110,
    "ADA": 2948,
    "XRP": 2931,
    "TRX": 2893,
    "DOGE": 2504,
    "BCH": 2358,
    "SOL": 2101,
}
SPOT_FIRST = {
    "BTC": "2017-08-17",
    "ETH": "2017-08-17",
    "BNB": "2017-11-06",
    "ADA": "2018-04-17",
    "XRP": "2018-05-04",
    "TRX": "2018-06-11",
    "DOGE": "2019-07-05",
    "BCH": "2019-11-28",
    "SOL": "2020-08-11",
}


@pytest.fixture(scope="module")
def spot(shared_data_dir):
    with pytest.warns(DataQualityWarning, match="gap"):
        return read_prices(shared_data_dir / "crypto_spot_daily_binance.csv")


def test_spot_daily_listing_ranges(spot):
    table = quality_report(spot).to_frame()
    assert spot.shape == (3191, 9)
    assert spot.index.tz is None
    assert table["observations"].to_dict() == SPOT_ROWS
    assert table["first"].dt.strftime("%Y-%m-%d").to_dict() == SPOT_FIRST
    assert set(table["last"]) == {pd.Timestamp("2026-05-20")}
    assert table["missing"].sum() == 0
    assert quality_report(spot).calendar == "crypto"


def test_spot_daily_eight_missing_2026_days_are_gaps(spot):
    report = quality_report(spot)
    assert report.to_frame()["gap_periods"].tolist() == [8] * 9
    gaps = report.issues[report.issues["rule"] == "gap"]
    assert (gaps["date"].dt.year == 2026).all()
    assert (gaps["severity"] == "warning").all()
    btc = gaps[gaps["asset"] == "BTC"]["detail"].tolist()
    assert "1 missing day 2026-01-08..2026-01-08" in btc
    assert "3 missing days 2026-03-20..2026-03-22" in btc


def test_spot_daily_common_history_and_returns(spot):
    with pytest.warns(DataQualityWarning, match=r"SOL not listed before 2020-08-11"):
        common = align(spot)
    assert len(common) == 2101  # all 9 together from 2020-08-11
    assert common.attrs["alignment"]["dropped_by_asset"]["SOL"] == 1090
    with pytest.warns(DataQualityWarning):
        filled = align(spot, "ffill", calendar="crypto")
    assert len(filled) == 2101 + 8
    assert filled.attrs["alignment"]["filled"]["BTC"] == 8
    returns = to_returns(filled)
    assert returns.loc["2022-11-09", "SOL"] < -40  # FTX, log return in percent
    with pytest.raises(DataError, match="NaN price for asset 'SOL' on 2017-08-17"):
        to_returns(spot[["ETH", "SOL"]])


def test_hourly_perp(shared_data_dir):
    prices = read_prices(shared_data_dir / "crypto_perp_hourly_binance.csv")
    report = quality_report(prices)
    assert str(prices.index.tz) == "UTC"
    assert report.frequency == "intraday 1h"
    assert report.to_frame()["observations"].tolist() == [4500] * 7
    assert report.to_frame()["gaps"].sum() == 0
    assert prices.index[0] == pd.Timestamp("2025-09-13 08:00", tz="UTC")
    assert report.to_frame().loc["SOL", "last"] == pd.Timestamp("2026-03-19 20:00", tz="UTC")
    window = load_prices(
        shared_data_dir / "crypto_perp_hourly_binance.csv", start="2025-10-10", end="2025-10-10"
    )
    assert len(window) == 24


def test_funding_is_read_as_rates(shared_data_dir):
    rates = read_prices(shared_data_dir / "btc_perp_funding_daily.csv")
    report = quality_report(rates)
    assert rates.shape == (2348, 2)
    assert list(rates.columns) == ["funding_mean", "funding_abs"]
    assert report.values == "rates"
    assert report.to_frame()["gaps"].sum() == 0  # "No day is missing"
    assert rates.index[-1] == pd.Timestamp("2026-02-12")
    assert rates.loc["2020-03-13", "funding_mean"] < 0
    with pytest.raises(DataError, match="rates, not prices"):
        to_returns(rates)
