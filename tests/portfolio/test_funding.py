"""Perpetual funding in P&L (issue 16 item 4): accrued over the MPOR, paid by longs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.data import read_prices
from research.errors import DataError
from research.portfolio import (
    InversePerpetual,
    LinearPerpetual,
    Market,
    Portfolio,
    Position,
    Scenarios,
    Spot,
    accrued_funding,
)


def test_perpetual_pnl_subtracts_the_funding_a_long_pays():
    market = Market(spot={"BTC": 100_000.0}, funding={"BTC": 0.003})
    linear = LinearPerpetual("BTC", contract_size=2.0)
    np.testing.assert_allclose(
        linear.pnl(market, np.array([100_000.0, 90_000.0])), [-600.0, -20_600.0]
    )
    inverse = InversePerpetual("BTC", contract_value=1000.0)
    np.testing.assert_allclose(inverse.pnl(market, np.array([100_000.0, 110_000.0])), [-3.0, 97.0])
    # no funding given: zero, and spot never pays funding
    assert linear.pnl(Market(spot={"BTC": 100_000.0}), np.array([100_000.0]))[0] == 0.0
    assert Spot("BTC").pnl(market, np.array([100_000.0]))[0] == 0.0


def test_a_hedged_book_keeps_the_funding_leg():
    # long spot, short perp: the price moves cancel and the short receives the funding
    market = Market(spot={"BTC": 50_000.0}, funding={"BTC": 0.01})
    book = Portfolio(
        [Position(Spot("BTC"), 1.0), Position(LinearPerpetual("BTC"), 1.0, direction="short")]
    )
    moves = np.log(np.array([[40_000.0], [60_000.0]]) / 50_000.0)
    pnl = book.pnl(market, Scenarios.from_array(moves, ["BTC"])).sum(axis=1)
    np.testing.assert_allclose(pnl, [500.0, 500.0])


def test_accrued_funding_by_bar_length():
    days = pd.date_range("2021-02-01", periods=4, freq="D", name="date")
    daily = pd.Series([1e-4, -2e-4, 3e-4, 1e-4], index=days)
    np.testing.assert_allclose(accrued_funding(daily, 2), [-3e-4, 3e-4, 1.2e-3])
    np.testing.assert_allclose(accrued_funding(daily, "1D"), 3 * daily)
    hours = pd.date_range("2021-02-01", periods=16, freq="h", tz="UTC", name="date")
    hourly = pd.Series(1e-4, index=hours)
    assert accrued_funding(hourly, "8h").iloc[0] == pytest.approx(1e-4)  # one print in 8 hours
    with pytest.raises(DataError, match="missing rate on 2021-02-03"):
        accrued_funding(daily.where(daily.index != days[2]), 2)


@pytest.mark.shared_data
def test_largest_30_day_btc_funding_in_the_shared_file(shared_data_dir):
    # issue 16: "The largest 30-day cumulative BTC funding in the file is 7.7%."
    rates = read_prices(shared_data_dir / "btc_perp_funding_daily.csv", warn=False)
    accrued = accrued_funding(rates["funding_mean"], "30D")
    assert accrued.max() == pytest.approx(0.07698, abs=5e-6)
    assert accrued.idxmax() == pd.Timestamp("2021-02-27")
