"""Venue engines margin a book in row blocks (BookEngine.row_block) with the same bits."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from research.margin.venues import (
    DeribitEngine,
    DydxEngine,
    HyperliquidEngine,
    OkxEngine,
    ParadexEngine,
    VenueEngine,
    VenueParameters,
)
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    InversePerpetual,
    LinearPerpetual,
    Market,
    PortfolioBook,
)

MARKET = Market(
    spot={"BTC": 100_000.0, "ETH": 3_000.0},
    valuation_date="2026-01-01",
    volatility={"BTC": 0.6, "ETH": 0.7},
)
OPTIONS_BOOK = (
    LinearPerpetual("BTC"),
    DatedFuture("BTC", 0.2),
    InversePerpetual("BTC"),
    EuropeanOption("BTC", 90_000.0, 0.3, "call"),
    EuropeanOption("ETH", 2_800.0, 0.1, "put"),
    LinearPerpetual("ETH"),
)
PERPS_BOOK = (
    LinearPerpetual("BTC"),
    LinearPerpetual("ETH"),
    LinearPerpetual("BTC", 0.001, name="BTC mini perp"),
)


def _book(instruments: tuple, seed: int) -> PortfolioBook:
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((23, len(instruments))) * rng.choice([0.1, 10.0, 1e3], (23, 1))
    q[rng.random(q.shape) < 0.3] = 0.0
    return PortfolioBook(instruments, pd.DataFrame(q, columns=[i.label for i in instruments]))


@pytest.mark.parametrize(
    ("engine", "instruments"),
    [
        (DeribitEngine(VenueParameters.load("deribit_2026-02-15")), OPTIONS_BOOK),
        (OkxEngine(VenueParameters.load("okx_2025-01-06")), OPTIONS_BOOK),
        (ParadexEngine(), OPTIONS_BOOK),
        (DydxEngine(), PERPS_BOOK),
        (HyperliquidEngine(requirement="maintenance"), PERPS_BOOK),
    ],
    ids=lambda x: getattr(x, "name", ""),
)
def test_row_blocks_give_the_whole_book_bits(engine, instruments, monkeypatch):
    # 23 rows in blocks of 5 (the last block short) against one call over the book
    book = _book(instruments, seed=len(instruments))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # OKX-style: MR2/MR3/MR5 of options charged 0
        monkeypatch.setattr(VenueEngine, "row_block", None)
        whole = engine.margin_book(book, MARKET)
        monkeypatch.setattr(VenueEngine, "row_block", 5)
        blocks = engine.margin_book(book, MARKET)
    np.testing.assert_array_equal(blocks.isolated.to_numpy(), whole.isolated.to_numpy())
    np.testing.assert_array_equal(blocks.cross.to_numpy(), whole.cross.to_numpy())
    np.testing.assert_array_equal(blocks.driver.to_numpy(), whole.driver.to_numpy())
