"""A portfolio's margin has the same bits in any book as on its own (row-stable products).

Before the compiled row product, ``margin_book`` used BLAS products whose rounding depends on
the shape of the whole quantity matrix: 43 of 300 FHS rows and 30 of 300 risk-weight rows of a
sparse book differed in the last bits from ``margin`` of the same portfolio, so a backtest of a
book could not reproduce the engine's margin of one portfolio exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.margin import FilteredHistoricalSimulation, OffsetPolicy, RiskWeightEngine
from research.margin.tail import row_product, row_sum
from research.portfolio import DatedFuture, EuropeanOption, Market, PortfolioBook, Scenarios, Spot

UNDERLYINGS = [f"A{i}" for i in range(12)]


def _book(seed: int) -> PortfolioBook:
    rng = np.random.default_rng(seed)
    instruments = (
        [Spot(u) for u in UNDERLYINGS]
        + [DatedFuture(u, 0.25) for u in UNDERLYINGS]
        + [EuropeanOption(u, 1.0, 0.25, "call") for u in UNDERLYINGS]
    )
    q = np.where(
        rng.random((120, len(instruments))) < 0.12,
        rng.standard_normal((120, len(instruments))) * 1e6,
        0.0,
    )
    q[(q != 0).sum(axis=1) == 0, 0] = 1e6
    return PortfolioBook(
        tuple(instruments),
        pd.DataFrame(
            q, index=[f"p{i}" for i in range(len(q))], columns=[i.label for i in instruments]
        ),
    )


@pytest.mark.parametrize("which", ["fhs", "risk_weight"])
def test_book_rows_are_the_margin_of_each_portfolio_bit_for_bit(which):
    rng = np.random.default_rng(1)
    book = _book(2)
    market = Market(
        spot=dict.fromkeys(UNDERLYINGS, 1.0),
        volatility=dict.fromkeys(UNDERLYINGS, 0.3),
        carry=dict.fromkeys(UNDERLYINGS, 0.05),
    )
    policy = OffsetPolicy(0.8)
    if which == "fhs":
        scenarios = Scenarios.from_array(rng.standard_normal((500, 12)) * 0.02, UNDERLYINGS)
        engine = FilteredHistoricalSimulation(scenarios, 0.99, "es", offset_policy=policy)
    else:
        engine = RiskWeightEngine(dict.fromkeys(UNDERLYINGS, 0.1), offset_policy=policy)
    together = engine.margin_book(book, market)
    for name in book.quantities.index:
        alone = engine.margin(book.portfolio(name), market)
        assert together.cross[name] == alone.cross
        assert together.portfolio_margin[name] == alone.portfolio_margin
        held = together.isolated.loc[name][book.quantities.loc[name] != 0]
        np.testing.assert_array_equal(held.to_numpy(), alone.isolated.to_numpy())


def test_row_product_and_row_sum_are_the_products_and_sums():
    rng = np.random.default_rng(3)
    q = np.where(rng.random((7, 9)) < 0.4, rng.standard_normal((7, 9)), 0.0)
    m = rng.standard_normal((9, 5))
    np.testing.assert_allclose(row_product(q, m), q @ m, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(row_sum(q), q.sum(axis=1), rtol=1e-13, atol=1e-13)
    # a zero column anywhere leaves every row's bits unchanged
    wide = np.insert(q, [2, 5], 0.0, axis=1)
    np.testing.assert_array_equal(
        row_product(wide, np.insert(m, [2, 5], 9.0, axis=0)), row_product(q, m)
    )
    np.testing.assert_array_equal(row_sum(wide), row_sum(q))
