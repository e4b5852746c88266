"""Linear, inverse and dated instruments: payoffs, deltas and notionals in closed form."""

import numpy as np
import pytest

from research.errors import ExpiredInstrumentError, SpecificationError, UnknownUnderlyingError
from research.portfolio import DatedFuture, InversePerpetual, LinearPerpetual, Market, Spot

CLOSED_FORM = 1e-12
PRICES = np.array([1_000.0, 30_000.0, 60_000.0, 90_000.0, 500_000.0])


def test_spot_and_linear_perpetual(market):
    assert np.allclose(Spot("BTC").pnl(market, PRICES), PRICES - 60_000.0, rtol=CLOSED_FORM)
    perp = LinearPerpetual("BTC", contract_size=0.01)
    assert np.allclose(perp.pnl(market, PRICES), 0.01 * (PRICES - 60_000.0), rtol=CLOSED_FORM)
    g = perp.greeks(market)
    assert (g.notional, g.delta, g.gamma) == (600.0, 0.01, 0.0)


def test_inverse_perpetual_settles_in_coin(market):
    perp = InversePerpetual("BTC", contract_value=100.0)
    coin = perp.pnl_coin(market, PRICES)
    assert np.allclose(coin, 100.0 * (1 / 60_000.0 - 1 / PRICES), rtol=CLOSED_FORM)
    # concave in coin: the long loses more on a fall than it gains on an equal rise
    down, up = perp.pnl_coin(market, np.array([40_000.0, 80_000.0]))
    assert -down > up
    # converted at the scenario price the USD P&L is N (S'/S - 1): linear with delta N/S coins
    assert np.allclose(
        perp.pnl(market, PRICES), 100.0 * (PRICES / 60_000.0 - 1.0), rtol=CLOSED_FORM
    )
    g = perp.greeks(market)
    assert g.notional == 100.0
    assert g.delta == pytest.approx(100.0 / 60_000.0, rel=CLOSED_FORM)


def test_short_inverse_coin_gain_is_unbounded(market):
    perp = InversePerpetual("BTC", contract_value=100.0)
    crash = -perp.pnl_coin(market, np.array([60.0]))[0]  # short, price / 1000
    assert crash == pytest.approx(100.0 * (1 / 60.0 - 1 / 60_000.0), rel=CLOSED_FORM)
    deeper = -perp.pnl_coin(market, np.array([6.0]))[0]
    assert deeper > 9.9 * crash  # grows like 1/S' as the price falls to 0


def test_dated_future_follows_the_forward(market):
    future = DatedFuture("ETH", 0.5, contract_size=10.0)
    growth = np.exp(0.05 * 0.5)
    assert np.allclose(
        future.pnl(market, PRICES / 20), 10.0 * growth * (PRICES / 20 - 3_000.0), rtol=CLOSED_FORM
    )
    g = future.greeks(market)
    assert g.notional == pytest.approx(10.0 * 3_000.0 * growth, rel=CLOSED_FORM)
    assert g.delta == pytest.approx(10.0 * growth, rel=CLOSED_FORM)


def test_expired_future(market):
    with pytest.raises(ExpiredInstrumentError, match="ETH future 2025-12-31"):
        DatedFuture("ETH", "2025-12-31").greeks(market)


def test_unknown_underlying(market):
    with pytest.raises(UnknownUnderlyingError, match="'SOL'"):
        LinearPerpetual("SOL").greeks(market)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_contract_size_must_be_positive(bad):
    with pytest.raises(SpecificationError, match="contract_size"):
        LinearPerpetual("BTC", contract_size=bad)


def test_market_rejects_bad_spot():
    with pytest.raises(Exception, match="spot price of 'BTC'"):
        Market(spot={"BTC": 0.0})


def test_option_kind_is_checked():
    from research.portfolio import EuropeanOption

    with pytest.raises(SpecificationError, match="call"):
        EuropeanOption("BTC", 1.0, 1.0, kind="straddle")


def test_year_fraction_act_365():
    from research.portfolio import year_fraction

    assert year_fraction("2026-01-01", "2027-01-01") == 1.0
    assert year_fraction("2026-01-02", "2026-01-01") == pytest.approx(-1 / 365)
