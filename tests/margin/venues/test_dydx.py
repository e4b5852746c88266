"""dYdX v4-style liquidity tiers: the chain's own unit-test cases, exactly, and the book engine.

The integer cases are ``protocol/x/perpetuals/types/liquidity_tier_test.go`` of
``dydxprotocol/v4-chain`` (``TestGetInitialMarginQuoteQuantums``,
``TestGetAdjustedInitialMarginPpm``, ``TestLiquidityTierGetMaintenanceMarginPpm``,
``TestLiquidityTierValidate``); see
``../shared/research/venues.md`` section 4.3. Amounts are quote quantums (1 USDC = 1e6).
"""

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError, ParameterError, UnknownUnderlyingError
from research.margin.venues import VenueParameters
from research.margin.venues.dydx import (
    DydxEngine,
    LiquidityTier,
    adjusted_initial_margin_ppm,
    initial_margin_quote_quantums,
    liquidity_tiers,
    maintenance_margin_ppm,
    maintenance_margin_quote_quantums,
)
from research.portfolio import (
    LinearPerpetual,
    Market,
    Portfolio,
    PortfolioBook,
    Position,
    Spot,
)


def tier(imf, lower=0, upper=0, fraction=0):
    return LiquidityTier(0, "test", imf, fraction, 1, lower, upper)


@pytest.mark.parametrize(
    ("imf", "lower", "upper", "oi", "notional", "expected"),
    [
        (200_000, 0, 0, 0, 500_000, 100_000),
        (500_000, 0, 0, 0, 1_000_000, 500_000),
        (100_000, 0, 0, 0, 1, 1),
        (567_243, 0, 0, 0, 123_456, 70_030),
        (200_000, 0, 0, 1_500_000_000_000, 500_000, 100_000),
        (200_000, 1_000_000_000_000, 2_000_000_000_000, 1_500_000_000_000, 500_000, 300_000),
        (200_000, 25_000_000_000_000, 50_000_000_000_000, 80_000_000_000_000, 500_000, 500_000),
        (200_000, 25_000_000_000_000, 50_000_000_000_000, 25_000_000_000_000, 500_000, 100_000),
        (200_000, 25_000_000_000_000, 60_000_000_000_000, 28_123_456_789_123, 500_000, 135_697),
    ],
    ids=[
        "20%",
        "50%",
        "round-up-to-1",
        "56.7243%",
        "no-OIMF-caps-0",
        "scaling-0.5",
        "above-upper-cap",
        "at-lower-cap",
        "realistic",
    ],
)
def test_initial_margin_quote_quantums(imf, lower, upper, oi, notional, expected):
    assert initial_margin_quote_quantums(tier(imf, lower, upper), notional, oi) == expected


@pytest.mark.parametrize(
    ("oi", "lower", "upper", "expected"),
    [
        (0, 1_000_000, 2_000_000, 200_000),
        (1_500_000, 1_000_000, 2_000_000, 600_000),
        (1_234_567, 1_000_000, 2_000_000, 387_653),
        (1_000_000, 1_000_000, 2_000_000, 200_000),
        (2_000_000, 1_000_000, 2_000_000, 1_000_000),
        (2_500_000, 1_000_000, 2_000_000, 1_000_000),
        (1_500_000, 0, 0, 200_000),
    ],
    ids=["zero", "within", "within-rounded-down", "at-lower", "at-upper", "above", "no-caps"],
)
def test_adjusted_initial_margin_ppm(oi, lower, upper, expected):
    assert adjusted_initial_margin_ppm(tier(200_000, lower, upper), oi) == expected


@pytest.mark.parametrize(
    ("imf", "fraction", "expected"),
    [
        (150_000, 800_000, 120_000),
        (450_000, 770_000, 346_500),
        (637_239, 289_284, 184_343),
        (1_000_000, 1_000_000, 1_000_000),
        (0, 1_000_000, 0),
        (0, 0, 0),
        (1_000_000, 0, 0),
    ],
)
def test_maintenance_margin_ppm(imf, fraction, expected):
    assert maintenance_margin_ppm(tier(imf, fraction=fraction)) == expected


def test_custom_imf_only_raises_the_initial_margin():
    t = tier(200_000)
    assert initial_margin_quote_quantums(t, 500_000, custom_imf_ppm=100_000) == 100_000
    assert initial_margin_quote_quantums(t, 500_000, custom_imf_ppm=500_000) == 250_000


def test_maintenance_uses_the_base_imf_rounded_up_twice():
    t = tier(200_000, 1_000_000, 2_000_000, fraction=500_000)
    # base IMR ceil(7 x 0.2) = 2, then ceil(2 x 0.5) = 1; open interest does not scale it
    assert maintenance_margin_quote_quantums(t, 7) == 1
    assert maintenance_margin_quote_quantums(t, 1_000_001) == 100_001
    assert initial_margin_quote_quantums(t, 1_000_000, 2_000_000) == 1_000_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"initial_margin_ppm": 1_000_001}, "initial_margin_ppm"),
        ({"maintenance_fraction_ppm": 1_000_001}, "maintenance_fraction_ppm"),
        ({"impact_notional": 0}, "impact_notional"),
        ({"open_interest_lower_cap": 1_000_000, "open_interest_upper_cap": 500_000}, "lower_cap"),
        ({"open_interest_lower_cap": 1_000_000}, "lower_cap"),
        ({"initial_margin_ppm": 0.5}, "initial_margin_ppm"),
    ],
)
def test_tier_validation_names_the_field(fields, message):
    base = {
        "id": 9,
        "name": "x",
        "initial_margin_ppm": 150_000,
        "maintenance_fraction_ppm": 800_000,
        "impact_notional": 3_333_000_000,
    }
    with pytest.raises(ParameterError, match=message):
        LiquidityTier.from_dict({**base, **fields})


def test_genesis_tiers_are_pinned():
    tiers = liquidity_tiers(VenueParameters.load("dydx_2026-03-05"))
    assert {
        k: (t.name, t.initial_margin_ppm, t.maintenance_fraction_ppm) for k, t in tiers.items()
    } == {
        0: ("Large-Cap", 20_000, 600_000),
        1: ("Small-Cap", 100_000, 500_000),
        2: ("Long-Tail", 200_000, 500_000),
        3: ("Safety", 1_000_000, 200_000),
        4: ("Isolated", 50_000, 600_000),
        5: ("Mid-Cap", 50_000, 600_000),
        6: ("FX", 10_000, 500_000),
    }
    assert (tiers[1].open_interest_lower_cap, tiers[1].open_interest_upper_cap) == (
        20_000_000_000_000,
        50_000_000_000_000,
    )
    assert [maintenance_margin_ppm(tiers[k]) for k in range(7)] == [
        12_000,
        50_000,
        100_000,
        200_000,
        30_000,
        30_000,
        5_000,
    ]


MARKET = Market(spot={"BTC": 65_432.1, "ETH": 3_210.5, "SOL": 150.25})


@pytest.mark.parametrize("requirement", ["initial", "maintenance"])
@pytest.mark.parametrize(("asset", "size"), [("BTC", 1.2345), ("ETH", -40.0), ("SOL", 1_000.0)])
def test_engine_matches_the_integer_arithmetic_to_one_quantum(requirement, asset, size):
    oi_usd = 30_000_000.0  # inside SOL's tier-1 caps (20M, 50M)
    engine = DydxEngine(requirement=requirement, open_interest={asset: oi_usd})
    result = engine.margin(Portfolio([Position(LinearPerpetual(asset), abs(size))]), MARKET)
    t = engine.tier_of(asset)
    notional = round(abs(size) * MARKET.spot_of(asset) * 1e6)
    if requirement == "initial":
        exact = initial_margin_quote_quantums(t, notional, round(oi_usd * 1e6))
    else:
        exact = maintenance_margin_quote_quantums(t, notional)
    assert abs(result.cross * 1e6 - exact) <= 2.0  # notional rounding plus the chain's ceil


def test_positions_net_within_a_market_and_markets_do_not_offset():
    book = PortfolioBook(
        (LinearPerpetual("BTC"), LinearPerpetual("BTC", 0.5, name="half"), LinearPerpetual("ETH")),
        pd.DataFrame([[1.0, -1.0, -20.0]], columns=["BTC linear perp", "half", "ETH linear perp"]),
    )
    result = DydxEngine().margin_book(book, MARKET)
    btc = 0.5 * 65_432.1 * 0.02
    eth = 20 * 3_210.5 * 0.02
    assert result.cross.iloc[0] == pytest.approx(btc + eth, rel=1e-12)
    assert result.isolated.iloc[0].tolist() == pytest.approx(
        [65_432.1 * 0.02, 0.5 * 65_432.1 * 0.02, eth], rel=1e-12
    )
    assert result.driver.iloc[0] == "ETH"


def test_open_interest_scales_initial_but_not_maintenance():
    book = Portfolio([Position(LinearPerpetual("SOL"), 100.0)]).to_book()
    notional = 100 * 150.25
    full = DydxEngine(open_interest={"SOL": 60e6}).margin_book(book, MARKET).cross.iloc[0]
    half = DydxEngine(open_interest={"SOL": 35e6}).margin_book(book, MARKET).cross.iloc[0]
    maintenance = (
        DydxEngine(requirement="maintenance", open_interest={"SOL": 60e6})
        .margin_book(book, MARKET)
        .cross.iloc[0]
    )
    assert full == pytest.approx(notional, rel=1e-12)
    assert half == pytest.approx(notional * (0.1 + 0.9 * 0.5), rel=1e-12)
    assert maintenance == pytest.approx(notional * 0.05, rel=1e-12)


def test_bad_input_is_refused_by_name():
    with pytest.raises(UnknownUnderlyingError, match="XRP linear perp"):
        DydxEngine().margin(
            Portfolio([Position(LinearPerpetual("XRP"), 1.0)]), Market(spot={"XRP": 2.0})
        )
    assert DydxEngine(market_tiers={"XRP": 1}).margin(
        Portfolio([Position(LinearPerpetual("XRP"), 1.0)]), Market(spot={"XRP": 2.0})
    ).cross == pytest.approx(0.2, rel=1e-12)
    with pytest.raises(DataError, match="BTC spot"):
        DydxEngine().margin(Portfolio([Position(Spot("BTC"), 1.0)]), MARKET)
    with pytest.raises(ParameterError, match="tier 8"):
        DydxEngine(market_tiers={"XRP": 8})
    with pytest.raises(ParameterError, match="open interest of 'BTC'"):
        DydxEngine(open_interest={"BTC": -1.0})
    data = VenueParameters.load("dydx_2026-03-05").to_dict()
    del data["values"]["markets"]
    with pytest.raises(ParameterError, match="markets"):
        DydxEngine(VenueParameters.from_dict(data))


def test_book_rows_equal_single_portfolios():
    rng = np.random.default_rng(3)
    instruments = tuple(LinearPerpetual(u) for u in ("BTC", "ETH", "SOL"))
    q = pd.DataFrame(rng.normal(0, 5, (5, 3)), columns=[i.label for i in instruments])
    book = PortfolioBook(instruments, q)
    engine = DydxEngine()
    result = engine.margin_book(book, MARKET)
    for name in book.quantities.index:
        assert engine.margin(book.portfolio(name), MARKET).cross == pytest.approx(
            result.cross.loc[name], rel=1e-12
        )
