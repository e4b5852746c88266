"""Degenerate and overflowing inputs to the valuation kernels: the limit values, or a named error
instead of a NaN or inf (issue 13, item 8)."""

import math

import numpy as np
import pytest

from research.errors import DataError
from research.portfolio import (
    EuropeanOption,
    InversePerpetual,
    LinearPerpetual,
    Market,
    Portfolio,
    Position,
    Scenarios,
    unit_pnl,
)

EXACT = 1e-14
RATE, EXPIRY = 0.03, 0.5


@pytest.fixture
def flat() -> Market:
    """Zero implied volatility: options are worth their discounted intrinsic value."""
    return Market({"BTC": 100.0}, "2026-01-02", volatility={"BTC": 0.0}, rate=RATE)


@pytest.mark.parametrize(
    "strike,kind,delta,gamma",
    [
        (100.0, "call", 0.5, math.inf),  # at the money: N(0); the kink's gamma
        (100.0, "put", -0.5, math.inf),
        (90.0, "call", 1.0, 0.0),  # in the money: the forward's delta
        (90.0, "put", 0.0, 0.0),
        (110.0, "call", 0.0, 0.0),
        (110.0, "put", -1.0, 0.0),
    ],
)
def test_zero_volatility_greeks_are_their_limits(flat, strike, kind, delta, gamma):
    greeks = EuropeanOption("BTC", strike, EXPIRY, kind).greeks(flat)
    discount = math.exp(-RATE * EXPIRY)
    assert greeks.delta == pytest.approx(delta * discount, rel=EXACT, abs=0.0)
    assert greeks.gamma == gamma
    at_the_money = strike == 100.0
    expected_vega = discount * 100.0 * math.sqrt(EXPIRY / (2 * math.pi)) if at_the_money else 0.0
    assert greeks.vega == pytest.approx(expected_vega, rel=EXACT, abs=0.0)
    assert math.isfinite(greeks.theta)


def test_unit_pnl_that_overflows_is_named():
    market = Market({"BTC": 100.0})
    scenarios = Scenarios.from_array(np.array([[0.0], [5.0]]), ["BTC"], labels=["calm", "crash"])
    # N (S'/S - 1) = 1e307 * (e^5 - 1) overflows
    with pytest.raises(
        DataError, match="one unit of 'BTC inverse perp' is inf in scenario 'crash'"
    ):
        unit_pnl([InversePerpetual("BTC", 1e307)], market, scenarios)


def test_scenario_prices_that_overflow_are_named():
    scenarios = Scenarios.from_array(np.array([[0.1], [710.0]]), ["BTC"])
    with pytest.raises(DataError, match="log move 710 of 'BTC' in scenario 1"):
        scenarios.spot(Market({"BTC": 100.0}), "BTC")


def test_exposures_that_overflow_are_named():
    portfolio = Portfolio([Position(LinearPerpetual("BTC", 1e300), 1.0)])
    with pytest.raises(DataError, match="notional of one unit of 'BTC linear perp' is inf"):
        portfolio.exposures(Market({"BTC": 1e10}))
