"""Positions, portfolios, scenario revaluation and books of many portfolios."""

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError, SpecificationError, UnknownUnderlyingError
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    InversePerpetual,
    LinearPerpetual,
    Portfolio,
    PortfolioBook,
    Position,
    Scenarios,
    Spot,
    unit_pnl,
)

CLOSED_FORM = 1e-10


@pytest.fixture
def portfolio():
    return Portfolio(
        [
            Position(EuropeanOption("BTC", 65_000.0, 0.5, "call"), 2.0),
            Position(LinearPerpetual("BTC"), 1.0, "short"),
            Position(InversePerpetual("ETH"), 100.0, "short"),
            Position(DatedFuture("ETH", "2026-06-30"), 3.0),
        ],
        name="book-a",
    )


@pytest.fixture
def scenarios():
    rng = np.random.default_rng(7)
    return Scenarios.from_array(
        rng.normal(0, 0.05, (50, 2)), ["BTC", "ETH"], vol_shifts=rng.normal(0, 0.05, (50, 2))
    )


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, "ten"])
def test_bad_quantity(bad):
    with pytest.raises(DataError, match="quantity of BTC spot"):
        Position(Spot("BTC"), bad)


def test_bad_direction_and_instrument():
    with pytest.raises(SpecificationError, match="direction"):
        Position(Spot("BTC"), 1.0, "sideways")
    with pytest.raises(SpecificationError, match="not an instrument"):
        Position("BTC", 1.0)


def test_duplicate_labels_and_empty():
    with pytest.raises(DataError, match="duplicate"):
        Portfolio([Position(Spot("BTC"), 1.0), Position(Spot("BTC"), 2.0)])
    with pytest.raises(DataError, match="no positions"):
        Portfolio([])


def test_pnl_is_quantity_times_instrument_pnl(market, portfolio, scenarios):
    pnl = portfolio.pnl(market, scenarios)
    for position in portfolio.positions:
        u = position.underlying
        expected = position.signed_quantity * position.instrument.pnl(
            market, scenarios.spot(market, u), scenarios.vol_shift(u)
        )
        assert np.allclose(pnl[position.label], expected, rtol=CLOSED_FORM)


def test_log_and_relative_moves(market):
    p = Portfolio([Position(Spot("BTC"), 1.0)])
    log = p.pnl(market, Scenarios(pd.DataFrame({"BTC": [0.1]}), kind="log")).iloc[0, 0]
    rel = p.pnl(market, Scenarios(pd.DataFrame({"BTC": [0.1]}), kind="relative")).iloc[0, 0]
    assert log == pytest.approx(60_000.0 * (np.exp(0.1) - 1), rel=CLOSED_FORM)
    assert rel == pytest.approx(6_000.0, rel=CLOSED_FORM)


def test_scenarios_validation(market):
    with pytest.raises(DataError, match="scenario 1"):
        Scenarios(pd.DataFrame({"BTC": [0.0, np.nan]}))
    with pytest.raises(DataError, match="relative move"):
        Scenarios(pd.DataFrame({"BTC": [-1.0]}), kind="relative")
    with pytest.raises(UnknownUnderlyingError, match="no moves for underlying 'ETH'"):
        Portfolio([Position(Spot("ETH"), 1.0)]).pnl(market, Scenarios(pd.DataFrame({"BTC": [0.0]})))


def test_exposures(market, portfolio):
    exp = portfolio.exposures(market)
    option_greeks = portfolio.positions[0].instrument.greeks(market)
    assert exp.loc["BTC linear perp", "notional"] == -60_000.0
    assert exp.loc["ETH inverse perp", "notional"] == -10_000.0
    assert exp.loc["ETH inverse perp", "delta"] == pytest.approx(-10_000.0 / 3_000.0)
    net = portfolio.net_delta(market)
    assert net["BTC"] == pytest.approx(2 * option_greeks.delta - 1.0, rel=CLOSED_FORM)
    notional = portfolio.notional_by_underlying(market)
    assert notional.loc["ETH", "gross"] == pytest.approx(
        10_000.0 + 3 * 3_000.0 * np.exp(0.05 * 179 / 365)
    )
    greeks = portfolio.greeks(market)
    assert greeks.loc["BTC", "vega"] == pytest.approx(2 * option_greeks.vega, rel=CLOSED_FORM)
    assert greeks.loc["ETH", "vega"] == 0.0


def test_scale_is_linear(market, portfolio, scenarios):
    assert np.allclose(
        portfolio.scale(2.5).pnl(market, scenarios),
        2.5 * portfolio.pnl(market, scenarios),
        rtol=CLOSED_FORM,
    )


def test_book_matches_portfolios(market, portfolio, scenarios):
    other = Portfolio(
        [Position(LinearPerpetual("BTC"), 4.0), Position(Spot("ETH"), 2.0, "short")], name="book-b"
    )
    book = PortfolioBook.from_portfolios([portfolio, other])
    pnl = book.pnl(market, scenarios)
    for p in (portfolio, other):
        assert np.allclose(pnl.loc[p.name], p.pnl(market, scenarios).sum(axis=1), rtol=CLOSED_FORM)
    assert book.quantities.loc["book-b", "BTC linear perp"] == 4.0
    assert book.quantities.loc["book-a", "BTC linear perp"] == -1.0
    assert book.net_delta(market).loc["book-b", "ETH"] == -2.0
    back = book.portfolio("book-b")
    assert np.allclose(back.pnl(market, scenarios).sum(axis=1), pnl.loc["book-b"])


def test_book_sums_positions_in_the_same_instrument(market):
    p = Portfolio([Position(Spot("BTC"), 1.0, name="a"), Position(Spot("BTC"), 2.0, name="b")])
    assert PortfolioBook.from_portfolios([p]).quantities.iloc[0, 0] == 3.0


def test_book_validation():
    with pytest.raises(DataError, match="non-finite quantities"):
        PortfolioBook((Spot("BTC"),), pd.DataFrame({"BTC spot": [1.0, np.nan]}))
    with pytest.raises(DataError, match="columns"):
        PortfolioBook((Spot("BTC"), Spot("ETH")), pd.DataFrame({"BTC spot": [1.0]}))
    p = Portfolio([Position(Spot("BTC"), 1.0)], name="x")
    with pytest.raises(DataError, match="repeated"):
        PortfolioBook.from_portfolios([p, p])


def test_concat_and_from_portfolios_build_the_same_universe(portfolio):
    other = Portfolio(
        [Position(Spot("ETH"), 2.0), Position(LinearPerpetual("BTC"), 4.0)], name="book-b"
    )
    whole = PortfolioBook.from_portfolios([portfolio, other])
    parts = PortfolioBook.concat(
        [PortfolioBook.from_portfolios([portfolio]), PortfolioBook.from_portfolios([other])]
    )
    assert whole.instruments == parts.instruments
    pd.testing.assert_frame_equal(whole.quantities, parts.quantities)
    clash = Portfolio([Position(LinearPerpetual("BTC", 2.0, name="BTC linear perp"), 1.0)])
    with pytest.raises(DataError, match="labelled 'BTC linear perp'"):
        PortfolioBook.from_portfolios([portfolio, clash])
    with pytest.raises(DataError, match="labelled 'BTC linear perp'"):
        PortfolioBook.concat([whole, PortfolioBook.from_portfolios([clash])])


def test_unit_pnl_shape(market, portfolio, scenarios):
    units = unit_pnl(portfolio.instruments, market, scenarios)
    assert units.shape == (4, 50) and units.flags.c_contiguous
