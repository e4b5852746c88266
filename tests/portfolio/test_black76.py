"""Black-76 pricing: a textbook value, put-call parity and Greeks against finite differences."""

import dataclasses

import numpy as np
import pytest
from scipy.stats import norm

from research.errors import DataError, ExpiredInstrumentError
from research.portfolio import EuropeanOption, Market

# Hull, Options, Futures and Other Derivatives (8th ed.), Example 18.6: put on a futures price
# F = K = 20, r = 9%, T = 4 months, sigma = 25% is worth 1.12 (printed to 2 decimals).
HULL_PUT = 1.12
HULL_ROUNDING = 0.005  # the book prints two decimals
CLOSED_FORM = 1e-10  # identities that hold up to floating-point rounding
FD_RELATIVE = 1e-6  # central differences: O(h^2) error with relative bump 1e-4


def test_hull_example_put_price():
    market = Market(spot={"F": 20.0}, valuation_date="2026-01-01", rate=0.09)
    put = EuropeanOption("F", 20.0, 4 / 12, "put", implied_vol=0.25)
    assert abs(float(put.value(market)) - HULL_PUT) < HULL_ROUNDING


@pytest.mark.parametrize("strike", [40_000.0, 60_000.0, 90_000.0])
@pytest.mark.parametrize("expiry", [0.02, 0.5, 2.0])
def test_put_call_parity(market, strike, expiry):
    call = EuropeanOption("ETH", strike / 20, expiry, "call")
    put = dataclasses.replace(call, kind="put")
    forward = market.forward("ETH", expiry)
    parity = np.exp(-market.rate * expiry) * (forward - strike / 20)
    assert float(call.value(market) - put.value(market)) == pytest.approx(
        parity, abs=CLOSED_FORM * forward
    )


def test_price_matches_independent_formula(market):
    option = EuropeanOption("ETH", 3_200.0, 0.75, "call", contract_size=2.0)
    f = 3_000.0 * np.exp(0.05 * 0.75)
    sd = 0.7 * np.sqrt(0.75)
    d1 = np.log(f / 3_200.0) / sd + sd / 2
    expected = 2.0 * np.exp(-0.03 * 0.75) * (f * norm.cdf(d1) - 3_200.0 * norm.cdf(d1 - sd))
    assert float(option.value(market)) == pytest.approx(expected, rel=CLOSED_FORM)


def test_zero_volatility_is_discounted_intrinsic(market):
    option = EuropeanOption("BTC", 50_000.0, 0.5, "call", implied_vol=0.0)
    assert float(option.value(market)) == pytest.approx(
        np.exp(-0.03 * 0.5) * 10_000.0, rel=CLOSED_FORM
    )


@pytest.mark.parametrize("kind", ["call", "put"])
@pytest.mark.parametrize("underlying,strike", [("BTC", 65_000.0), ("ETH", 2_700.0)])
def test_greeks_against_finite_differences(market, kind, underlying, strike):
    option = EuropeanOption(underlying, strike, 0.4, kind, contract_size=3.0)
    g = option.greeks(market)
    s = market.spot_of(underlying)
    h = 1e-4 * s
    up, mid, down = (float(option.value(market, s + d)) for d in (h, 0.0, -h))
    assert g.delta == pytest.approx((up - down) / (2 * h), rel=FD_RELATIVE)
    assert g.gamma == pytest.approx((up - 2 * mid + down) / h**2, rel=1e-4)  # 2nd difference
    dv = 1e-4
    vega_fd = (float(option.value(market, s, dv)) - float(option.value(market, s, -dv))) / (2 * dv)
    assert g.vega == pytest.approx(vega_fd, rel=FD_RELATIVE)
    dt = 1e-5
    later = dataclasses.replace(option, expiry=0.4 - dt)
    earlier = dataclasses.replace(option, expiry=0.4 + dt)
    theta_fd = (float(later.value(market)) - float(earlier.value(market))) / (2 * dt)
    assert g.theta == pytest.approx(theta_fd, rel=FD_RELATIVE)


def test_long_option_without_carry_decays(market):
    assert EuropeanOption("BTC", 60_000.0, 0.25).greeks(market).theta < 0


def test_expiry_as_date_equals_year_fraction(market):
    by_date = EuropeanOption("BTC", 60_000.0, "2026-07-03", "call")
    by_fraction = EuropeanOption("BTC", 60_000.0, 182 / 365, "call")
    assert float(by_date.value(market)) == pytest.approx(
        float(by_fraction.value(market)), rel=CLOSED_FORM
    )


@pytest.mark.parametrize("expiry", ["2026-01-02", "2025-12-01", 0.0, -0.1])
def test_expired_option_is_rejected(market, expiry):
    option = EuropeanOption("BTC", 60_000.0, expiry)
    with pytest.raises(ExpiredInstrumentError, match="BTC call"):
        option.value(market)


def test_negative_volatility_is_rejected(market):
    with pytest.raises(DataError, match="implied_vol"):
        EuropeanOption("BTC", 60_000.0, 0.5, implied_vol=-0.1)
    with pytest.raises(DataError, match="volatility of 'BTC'"):
        Market(spot={"BTC": 1.0}, volatility={"BTC": -0.2})
    with pytest.raises(DataError, match="negative volatility"):
        EuropeanOption("BTC", 60_000.0, 0.5).value(market, 60_000.0, -0.7)


def test_missing_market_volatility(market):
    with pytest.raises(DataError, match="no volatility"):
        EuropeanOption("SOL", 100.0, 0.5).value(Market(spot={"SOL": 100.0}))
