"""Cross account vs isolated sub-accounts on hand-built and revalued P&L paths."""

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError, ParameterError
from research.margin import (
    CrossAccount,
    IsolatedAccounts,
    MarginResult,
    RiskWeightEngine,
    compare_accounts,
    position_pnl_paths,
)
from research.portfolio import InversePerpetual, LinearPerpetual, Market, Portfolio, Position


@pytest.fixture
def result():
    return MarginResult(
        isolated=pd.Series({"x": 10.0, "y": 10.0}),
        cross=12.0,
        portfolio_margin=12.0,
        driver="",
        engine="hand",
    )


@pytest.fixture
def paths():
    # (paths, steps, positions) cumulative P&L
    return np.array(
        [
            [[0.0, 0.0], [-8.0, 5.0], [-8.0, 5.0]],  # x fails alone; the pool absorbs it
            [[0.0, 0.0], [-9.0, -2.0], [-9.0, -2.0]],  # pool fails, y would survive alone
            [[0.0, 0.0], [-1.0, 1.0], [-20.0, 1.0]],  # everything fails with bad debt
        ]
    )


def test_cross_account(result, paths):
    outcome = CrossAccount.from_margin(result, maintenance_fraction=0.5).run(paths)
    # equity 12 + sum P&L against maintenance 6
    assert np.allclose(outcome.equity[:, -1], [9.0, 1.0, -7.0])
    assert list(outcome.liquidated) == [False, True, True]
    assert list(outcome.liquidation_step) == [-1, 1, 2]
    assert list(outcome.shortfall) == [0.0, 0.0, 7.0]
    assert list(outcome.positions_liquidated) == [0.0, 2.0, 2.0]


def test_isolated_accounts(result, paths):
    outcome = IsolatedAccounts.from_margin(result, maintenance_fraction=0.5).run(paths)
    # equity 10 + own P&L against maintenance 5
    assert outcome.liquidated.tolist() == [[True, False], [True, False], [True, False]]
    assert outcome.liquidation_step.tolist() == [[1, -1], [1, -1], [2, -1]]
    assert outcome.shortfall.tolist() == [[0.0, 0.0], [0.0, 0.0], [10.0, 0.0]]


def test_contagion(result, paths):
    comparison = compare_accounts(result, paths, maintenance_fraction=0.5)
    # path 2 and 3: the cross account closes y, which survives on its own
    assert list(comparison.contagion) == [0.0, 1.0, 1.0]
    table = comparison.summary()
    assert table.loc["liquidation_probability", "cross"] == pytest.approx(2 / 3)
    assert table.loc["liquidation_probability", "isolated"] == 1.0
    assert table.loc["mean_contagion", "cross"] == pytest.approx(2 / 3)


def test_maintenance_fraction_changes_liquidation(result, paths):
    strict = CrossAccount.from_margin(result, maintenance_fraction=0.9).run(paths)
    assert strict.liquidated.tolist() == [True, True, True]  # 9 < 10.8


def test_coin_collateral_moves_equity():
    # a coin-margined long: 1 BTC of collateral and a long inverse perp; a 50% fall costs
    # the contract N (S'/S - 1) and the collateral S' - S
    market = Market(spot={"BTC": 60_000.0})
    p = Portfolio([Position(InversePerpetual("BTC", 100.0), 600.0)])
    moves = np.log(np.array([[[1.0], [0.5]]]))
    pnl = position_pnl_paths(p, market, moves, ["BTC"])
    assert pnl[0, 1, 0] == pytest.approx(-30_000.0)
    collateral_pnl = 60_000.0 * (np.exp(moves[..., 0]) - 1.0)
    account = CrossAccount(collateral=60_000.0, initial_margin=6_000.0)
    outcome = account.run(pnl, collateral_pnl=collateral_pnl)
    assert outcome.equity[0, 1] == pytest.approx(0.0, abs=1e-8)
    assert outcome.liquidated[0]


def test_position_paths_match_portfolio_pnl():
    market = Market(spot={"A": 10.0, "B": 20.0})
    p = Portfolio(
        [Position(LinearPerpetual("A"), 2.0), Position(LinearPerpetual("B"), 1.0, "short")]
    )
    moves = np.random.default_rng(2).normal(0, 0.1, (4, 3, 2)).cumsum(axis=1)
    pnl = position_pnl_paths(p, market, moves, ["A", "B"])
    assert pnl.shape == (4, 3, 2)
    assert pnl[2, 1, 0] == pytest.approx(2.0 * 10.0 * (np.exp(moves[2, 1, 0]) - 1.0))
    assert pnl[3, 2, 1] == pytest.approx(-20.0 * (np.exp(moves[3, 2, 1]) - 1.0))


def test_from_engine_result():
    market = Market(spot={"A": 1.0, "B": 1.0})
    p = Portfolio(
        [Position(LinearPerpetual("A"), 100.0), Position(LinearPerpetual("B"), 100.0, "short")]
    )
    result = RiskWeightEngine({"A": 0.1, "B": 0.1}).margin(p, market)
    comparison = compare_accounts(result, np.zeros((2, 2, 2)), buffer=1.5)
    assert not comparison.cross.liquidated.any()
    assert comparison.isolated.positions == ("A linear perp", "B linear perp")


def test_account_validation(result, paths):
    with pytest.raises(ParameterError, match="cannot open"):
        CrossAccount(collateral=5.0, initial_margin=10.0)
    with pytest.raises(ParameterError, match="maintenance_fraction"):
        CrossAccount(collateral=10.0, initial_margin=10.0, maintenance_fraction=0.0)
    with pytest.raises(ParameterError, match="\\['x'\\]"):
        IsolatedAccounts(pd.Series({"x": 1.0, "y": 20.0}), result.isolated)
    with pytest.raises(DataError, match="non-finite"):
        CrossAccount(10.0, 10.0).run(np.full((1, 1, 1), np.nan))
    with pytest.raises(DataError, match="positions"):
        IsolatedAccounts.from_margin(result).run(np.zeros((1, 1, 3)))
