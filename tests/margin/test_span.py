"""Scenario-grid engine: risk arrays, scan risk of a single future, spread credits by priority."""

import numpy as np
import pytest

from research.errors import ParameterError
from research.margin import ScenarioGridEngine, SpreadCredit, risk_array_grid
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    LinearPerpetual,
    Portfolio,
    PortfolioBook,
    Position,
)

CLOSED_FORM = 1e-10
SCANS = {"BTC": 0.15, "ETH": 0.2, "SOL": 0.3}


def test_grid_layout():
    grid = risk_array_grid()
    assert len(grid) == 16
    assert grid.loc[13, "price"] == -1.0 and grid.loc[13, "vol"] == 1.0
    assert grid.loc[16, "price"] == -2.0 and grid.loc[16, "weight"] == 0.35
    assert sorted(grid["price"].iloc[:14].unique()) == pytest.approx(
        [-1, -2 / 3, -1 / 3, 0, 1 / 3, 2 / 3, 1]
    )
    assert (grid["weight"].iloc[:14] == 1.0).all()


def test_single_long_future(market):
    # scan risk = price scan range; the extreme scenario counts 2 x 35% = 0.7 of the range
    p = Portfolio([Position(DatedFuture("ETH", 0.5), 2.0)])
    engine = ScenarioGridEngine(SCANS)
    result = engine.margin(p, market)
    scan_range = 0.2 * 3_000.0 * 2.0
    assert result.cross == pytest.approx(scan_range, rel=CLOSED_FORM)
    assert result.driver == "ETH scenario 13"
    arrays = engine.risk_arrays(p.to_book(), market).iloc[0] * 2.0
    assert -arrays[16] == pytest.approx(0.7 * scan_range, rel=CLOSED_FORM)
    assert arrays[15] == pytest.approx(0.7 * scan_range, rel=CLOSED_FORM)
    assert -arrays[9] == pytest.approx(2 / 3 * scan_range, rel=CLOSED_FORM)


def test_extreme_move_can_drive_a_short_option(market):
    # a far out-of-the-money short put loses little on -1 range but a lot on the extreme move
    put = EuropeanOption("BTC", 40_000.0, 0.05, "put")
    p = Portfolio([Position(put, 1.0, "short")])
    engine = ScenarioGridEngine(SCANS, vol_scan=0.0, extreme_multiple=3.0)
    result = engine.margin(p, market)
    extreme_loss = 0.35 * float(put.value(market, 60_000.0 * (1 - 0.45)) - put.value(market))
    assert result.cross == pytest.approx(extreme_loss, rel=CLOSED_FORM)
    assert result.driver == "BTC scenario 16"


def test_volatility_scan_on_an_option(market):
    call = EuropeanOption("BTC", 60_000.0, 0.25)
    engine = ScenarioGridEngine(SCANS, vol_scan={"BTC": 0.1})
    arrays = engine.risk_arrays(Portfolio([Position(call, 1.0)]).to_book(), market).iloc[0]
    assert arrays[1] == pytest.approx(
        float(call.value(market, 60_000.0, 0.1) - call.value(market)), rel=CLOSED_FORM
    )
    assert arrays[2] == pytest.approx(
        float(call.value(market, 60_000.0, -0.1) - call.value(market)), rel=CLOSED_FORM
    )


def _book(eth_short, sol_short=0.0):
    positions = [
        Position(LinearPerpetual("BTC"), 1.0),
        Position(LinearPerpetual("ETH"), eth_short, "short"),
    ]
    if sol_short:
        positions.append(Position(LinearPerpetual("SOL"), sol_short, "short"))
    return Portfolio(positions)


def test_full_spread_credit(market):
    # scan risks 9000 (BTC) and 12000 (ETH); one 1:20 spread; credit 0.5 x the smaller leg
    engine = ScenarioGridEngine(SCANS, spreads=[SpreadCredit("BTC", "ETH", 0.5, 1.0, 20.0)])
    result = engine.margin(_book(20.0), market)
    assert result.portfolio_margin == pytest.approx(21_000.0 - 0.5 * 9_000.0, rel=CLOSED_FORM)


def test_partial_spread_credit(market):
    # 10 ETH short: half a spread; legs' risks 0.5 x 9000 and 10 x (6000 / 10); credit 0.5 x 4500
    engine = ScenarioGridEngine(SCANS, spreads=[SpreadCredit("BTC", "ETH", 0.5, 1.0, 20.0)])
    result = engine.margin(_book(10.0), market)
    assert result.portfolio_margin == pytest.approx(15_000.0 - 0.5 * 4_500.0, rel=CLOSED_FORM)


@pytest.mark.parametrize(
    "first,expected", [("SOL", 39_000.0 - 0.3 * 9_000.0), ("ETH", 39_000.0 - 0.5 * 9_000.0)]
)
def test_spreads_in_priority_order(market, first, expected):
    # both spreads want the single BTC delta; the higher-priority one takes it all
    spreads = [
        SpreadCredit("BTC", "ETH", 0.5, 1.0, 20.0, priority=1 if first == "ETH" else 2),
        SpreadCredit("BTC", "SOL", 0.3, 1.0, 400.0, priority=1 if first == "SOL" else 2),
    ]
    engine = ScenarioGridEngine(SCANS, spreads=spreads)
    result = engine.margin(_book(20.0, 400.0), market)
    assert result.portfolio_margin == pytest.approx(expected, rel=CLOSED_FORM)


def test_no_credit_without_a_hedge(market):
    p = Portfolio([Position(LinearPerpetual("BTC"), 1.0), Position(LinearPerpetual("ETH"), 20.0)])
    engine = ScenarioGridEngine(SCANS, spreads=[SpreadCredit("BTC", "ETH", 0.5, 1.0, 20.0)])
    assert engine.margin(p, market).cross == pytest.approx(21_000.0, rel=CLOSED_FORM)


def test_book_credits_are_vectorised(market):
    engine = ScenarioGridEngine(SCANS, spreads=[SpreadCredit("BTC", "ETH", 0.5, 1.0, 20.0)])
    book = PortfolioBook.from_portfolios(
        [
            Portfolio(_book(20.0).positions, name="full"),
            Portfolio(_book(10.0).positions, name="half"),
        ]
    )
    cross = engine.margin_book(book, market).cross
    assert np.allclose(cross, [16_500.0, 12_750.0], rtol=CLOSED_FORM)


def test_parameter_checks(market):
    with pytest.raises(ParameterError, match="prices would reach 0"):
        ScenarioGridEngine({"BTC": 0.5, "ETH": 0.2}).margin(_book(1.0), market)
    with pytest.raises(ParameterError, match="missing price scan range"):
        ScenarioGridEngine({"BTC": 0.1}).margin(_book(1.0), market)
    with pytest.raises(ParameterError, match="credit rate"):
        SpreadCredit("BTC", "ETH", 1.5)
    with pytest.raises(ParameterError, match="two different"):
        SpreadCredit("BTC", "BTC", 0.5)


def test_intra_commodity_charge(market):
    # spot against a future: the grid sees no risk, the charge adds rate x S x spread delta
    p = Portfolio(
        [Position(LinearPerpetual("ETH"), 10.0), Position(DatedFuture("ETH", 0.25), 10.0, "short")]
    )
    plain = ScenarioGridEngine(SCANS).margin(p, market)
    assert plain.cross == pytest.approx(0.0, abs=1e-9)
    charged = ScenarioGridEngine(SCANS, intra_spread_charge={"ETH": 0.02, "BTC": 0.0}).margin(
        p, market
    )
    assert charged.cross == pytest.approx(0.02 * 3_000.0 * 10.0, rel=CLOSED_FORM)
    assert charged.sum_isolated == pytest.approx(2 * 0.2 * 3_000.0 * 10.0, rel=CLOSED_FORM)
