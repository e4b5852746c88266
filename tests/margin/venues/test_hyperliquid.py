"""Hyperliquid-style cross margin: the docs' formulas and the derived examples of the spec.

``../shared/research/venues.md`` section 4.4: maintenance = half of the initial margin at
maximum leverage, margin tiers with maintenance deductions (the docs' testnet DOGE tiers), the
liquidation price formula (derived examples, tolerance 1e-6 on printed values).
"""

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError, ParameterError, UnknownUnderlyingError
from research.margin.venues import VenueParameters
from research.margin.venues.hyperliquid import HyperliquidEngine, MarginTiers, liquidation_price
from research.portfolio import LinearPerpetual, Market, Portfolio, PortfolioBook, Position, Spot

PRINTED = 1e-4  # the spec prints the derived liquidation price to 4 decimals
CLOSED_FORM = 1e-12

DOGE = MarginTiers((0.0, 20_000.0, 100_000.0), (10.0, 5.0, 3.0))


def test_doge_testnet_tiers_rates_and_deductions():
    assert DOGE.rates == pytest.approx([0.05, 0.10, 0.5 / 3], rel=CLOSED_FORM)
    assert DOGE.deductions == pytest.approx([0.0, 1_000.0, 1_000.0 + 100_000 * (0.5 / 3 - 0.1)])
    assert DOGE.deductions[2] == pytest.approx(7_666.67, abs=0.005)
    assert float(DOGE.maintenance_margin(50_000.0)) == pytest.approx(4_000.0, rel=CLOSED_FORM)


@pytest.mark.parametrize("bound", [20_000.0, 100_000.0])
def test_maintenance_margin_is_continuous_across_tiers(bound):
    below, above = DOGE.maintenance_margin(np.array([bound * (1 - 1e-12), bound]))
    assert above == pytest.approx(below, rel=1e-9)
    assert float(DOGE.maintenance_margin(20_000.0)) == pytest.approx(1_000.0, rel=CLOSED_FORM)


def test_maintenance_is_half_the_initial_margin_at_max_leverage():
    tiers = MarginTiers((0.0,), (40.0,))
    notional = np.array([1.0, 1e3, 1e6])
    assert tiers.maintenance_margin(notional) == pytest.approx(
        0.5 * tiers.initial_margin(notional), rel=CLOSED_FORM
    )
    assert tiers.rates[0] == 0.0125
    assert MarginTiers((0.0,), (3.0,)).rates[0] == pytest.approx(0.167, abs=5e-4)


def test_initial_margin_uses_the_account_leverage_capped_by_the_tier():
    assert float(DOGE.initial_margin(10_000.0)) == 1_000.0
    assert float(DOGE.initial_margin(10_000.0, leverage=4.0)) == 2_500.0
    assert float(DOGE.initial_margin(50_000.0, leverage=8.0)) == 10_000.0  # capped at 5x


def test_liquidation_price_long_isolated_example():
    price = liquidation_price(100_000.0, 1, 10_000.0 - 1_250.0, 1.0, 80.0)
    assert float(price) == pytest.approx(91_139.2405, abs=PRINTED)
    equity = 10_000.0 - (100_000.0 - float(price))
    assert equity == pytest.approx(0.0125 * float(price), rel=1e-12)


def test_liquidation_price_short_leaves_exactly_maintenance_margin():
    price = float(liquidation_price(100_000.0, -1, 8_750.0, 1.0, 80.0))
    equity = 10_000.0 - (price - 100_000.0)
    assert equity == pytest.approx(0.0125 * price, rel=1e-12)


def test_liquidation_price_refuses_bad_side_and_leverage():
    with pytest.raises(ParameterError, match="side"):
        liquidation_price(1.0, 0, 1.0, 1.0, 80.0)
    with pytest.raises(ParameterError, match="maintenance leverage"):
        liquidation_price(1.0, 1, 1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("bounds", "leverages", "message"),
    [
        ((10.0,), (5.0,), "start at 0"),
        ((0.0, 5.0, 5.0), (5.0, 4.0, 3.0), "increase strictly"),
        ((0.0, 5.0), (5.0, 10.0), "do not increase"),
        ((0.0,), (0.5,), ">= 1"),
        ((0.0, 5.0), (5.0,), "as many"),
    ],
)
def test_tiers_are_validated(bounds, leverages, message):
    with pytest.raises(ParameterError, match=message):
        MarginTiers(bounds, leverages)


MARKET = Market(spot={"BTC": 100_000.0, "ETH": 3_000.0, "SOL": 150.0})


def test_engine_on_the_shipped_set():
    book = PortfolioBook(
        (LinearPerpetual("BTC"), LinearPerpetual("ETH"), LinearPerpetual("SOL")),
        pd.DataFrame(
            [[1.0, -10.0, 100.0], [0.5, 0.0, 0.0]],
            columns=["BTC linear perp", "ETH linear perp", "SOL linear perp"],
            index=["a", "b"],
        ),
    )
    initial = HyperliquidEngine().margin_book(book, MARKET)
    maintenance = HyperliquidEngine(requirement="maintenance").margin_book(book, MARKET)
    expected = 100_000 / 40 + 30_000 / 25 + 15_000 / 20
    assert initial.cross["a"] == pytest.approx(expected, rel=CLOSED_FORM)
    assert maintenance.cross["a"] == pytest.approx(0.5 * expected, rel=CLOSED_FORM)
    assert initial.driver["a"] == "BTC"
    assert maintenance.cross["b"] == pytest.approx(0.0125 * 50_000, rel=CLOSED_FORM)
    params = VenueParameters.load("hyperliquid_2026-12-04")
    assert params.methodology == "Hyperliquid-style"


def test_engine_tiers_make_isolated_margin_non_linear_and_netting_applies():
    engine = HyperliquidEngine(requirement="maintenance")
    market = Market(spot={"DOGE-testnet": 0.25})
    perp = LinearPerpetual("DOGE-testnet")
    other = LinearPerpetual("DOGE-testnet", name="second")
    book = PortfolioBook(
        (perp, other),
        pd.DataFrame(
            [[200_000.0, 200_000.0], [200_000.0, -100_000.0]], columns=[perp.label, "second"]
        ),
    )
    result = engine.margin_book(book, market)
    assert result.cross.iloc[0] == pytest.approx(9_000.0, rel=CLOSED_FORM)  # 100,000 notional
    assert result.isolated.iloc[0].tolist() == pytest.approx([4_000.0, 4_000.0], rel=1e-12)
    assert result.cross.iloc[1] == pytest.approx(1_500.0, rel=CLOSED_FORM)  # 25,000 notional


def test_engine_account_leverage():
    book = Portfolio([Position(LinearPerpetual("BTC"), 1.0)]).to_book()
    result = HyperliquidEngine(leverage={"BTC": 10.0}).margin_book(book, MARKET)
    assert result.cross.iloc[0] == pytest.approx(10_000.0, rel=CLOSED_FORM)
    with pytest.raises(ParameterError, match="leverage of 'BTC'"):
        HyperliquidEngine(leverage={"BTC": 0.5})


def test_bad_input_is_refused_by_name():
    with pytest.raises(UnknownUnderlyingError, match="ADA linear perp"):
        HyperliquidEngine().margin(
            Portfolio([Position(LinearPerpetual("ADA"), 1.0)]), Market(spot={"ADA": 0.5})
        )
    with pytest.raises(DataError, match="BTC spot"):
        HyperliquidEngine().margin(Portfolio([Position(Spot("BTC"), 1.0)]), MARKET)
    data = VenueParameters.load("hyperliquid_2026-12-04").to_dict()
    del data["values"]["maintenance_fraction_of_initial"]
    with pytest.raises(ParameterError, match="maintenance_fraction_of_initial"):
        HyperliquidEngine(VenueParameters.from_dict(data))
    data = VenueParameters.load("hyperliquid_2026-12-04").to_dict()
    data["values"]["assets"]["BTC"]["tiers"] = [{"lower_bound": 0.0}]
    with pytest.raises(ParameterError, match="assets.BTC.tiers"):
        HyperliquidEngine(VenueParameters.from_dict(data))


def test_book_rows_equal_single_portfolios():
    rng = np.random.default_rng(11)
    instruments = tuple(LinearPerpetual(u) for u in ("BTC", "ETH", "SOL"))
    q = pd.DataFrame(rng.normal(0, 5, (5, 3)), columns=[i.label for i in instruments])
    book = PortfolioBook(instruments, q)
    engine = HyperliquidEngine()
    result = engine.margin_book(book, MARKET)
    for name in book.quantities.index:
        assert engine.margin(book.portfolio(name), MARKET).cross == pytest.approx(
            result.cross.loc[name], rel=1e-12
        )


@pytest.mark.parametrize("requirement", ["initial", "maintenance"])
def test_one_tier_shortcut_equals_the_tier_formula(requirement):
    data = VenueParameters.load("hyperliquid_2026-12-04").to_dict()
    for asset in ("BTC", "ETH", "SOL"):  # a second tier at the same leverage changes nothing
        tier = data["values"]["assets"][asset]["tiers"][0]
        data["values"]["assets"][asset]["tiers"].append({**tier, "lower_bound": 1e15})
    tiered = HyperliquidEngine(
        VenueParameters.from_dict(data), requirement=requirement, leverage={"ETH": 10.0}
    )
    flat = HyperliquidEngine(requirement=requirement, leverage={"ETH": 10.0})
    rng = np.random.default_rng(2)
    instruments = tuple(LinearPerpetual(u) for u in ("BTC", "ETH", "SOL"))
    book = PortfolioBook(
        instruments, pd.DataFrame(rng.normal(0, 5, (8, 3)), columns=[i.label for i in instruments])
    )
    a, b = flat.margin_book(book, MARKET), tiered.margin_book(book, MARKET)
    assert a.cross.equals(b.cross)
    assert a.isolated.equals(b.isolated)
    assert a.driver.equals(b.driver)
