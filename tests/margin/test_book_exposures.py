"""One valuation of the instruments per margin_book call: the check's unit exposures are reused."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from research.calibration import MarginParameters
from research.errors import DataError
from research.margin import ParameterSetEngine
from research.margin._checks import book_exposures, checked_book
from research.portfolio import (
    EuropeanOption,
    Greeks,
    LinearPerpetual,
    Market,
    PortfolioBook,
    Spot,
    unit_exposures,
)
from tests.margin.conftest import RISK_WEIGHTS, all_engines


@pytest.fixture
def book() -> PortfolioBook:
    instruments = (
        Spot("BTC"),
        _CountedPerpetual("ETH"),
        _CountedPerpetual("SOL"),
        EuropeanOption("BTC", strike=65_000.0, expiry=0.25, kind="call"),
    )
    rng = np.random.default_rng(3)
    quantities = pd.DataFrame(
        rng.normal(0.0, 5.0, (6, len(instruments))), columns=[i.label for i in instruments]
    )
    return PortfolioBook(instruments, quantities)


_VALUATIONS: list[str] = []


@dataclass(frozen=True)
class _CountedPerpetual(LinearPerpetual):
    """A linear perpetual that records every valuation of its Greeks, whoever asks."""

    def greeks(self, market: Market) -> Greeks:
        _VALUATIONS.append(self.label)
        return super().greeks(market)


@pytest.fixture
def counted() -> list[str]:
    _VALUATIONS.clear()
    return _VALUATIONS


def _engines(scenario_set):
    engines = dict(all_engines(scenario_set))
    params = MarginParameters(
        level=0.99,
        mpor=1,
        lookback=250,
        as_of="2025-06-30",
        risk_weights=RISK_WEIGHTS,
        offset_credits={("BTC", "ETH"): 0.4},
    )
    engines["parameter_set"] = ParameterSetEngine(params)
    return engines


def test_one_valuation_per_margin_book(book, market, scenario_set, counted) -> None:
    for name, engine in _engines(scenario_set).items():
        counted.clear()
        result = engine.margin_book(book, market)
        assert counted == ["ETH linear perp", "SOL linear perp"], name
        assert np.isfinite(result.cross.to_numpy()).all(), name
    counted.clear()
    _engines(scenario_set)["parameter_set"].pair_offsets(book, market)
    assert counted == ["ETH linear perp", "SOL linear perp"]


def test_shared_only_within_the_block_and_for_the_same_objects(book, market) -> None:
    other_market = Market(
        spot={"BTC": 50_000.0, "ETH": 2_000.0, "SOL": 100.0},
        volatility={"BTC": 0.5, "ETH": 0.6, "SOL": 0.8},
    )
    other_book = PortfolioBook(book.instruments[:2], book.quantities.iloc[:, :2])
    with checked_book("test", book, market) as units:
        assert book_exposures(book, market) is units
        pd.testing.assert_frame_equal(units, unit_exposures(book.instruments, market))
        fresh = book_exposures(book, other_market)
        assert fresh is not units
        pd.testing.assert_frame_equal(fresh, unit_exposures(book.instruments, other_market))
        assert fresh["notional"].iloc[0] == 50_000.0
        assert book_exposures(other_book, market) is not units
        with checked_book("test", other_book, other_market) as inner:
            assert book_exposures(other_book, other_market) is inner
            assert book_exposures(book, market) is not units
        assert book_exposures(book, market) is units
    assert book_exposures(book, market) is not units


def test_a_refused_book_shares_nothing(book) -> None:
    absurd = Market(
        spot={"BTC": 1e101, "ETH": 3_000.0, "SOL": 150.0},
        volatility={"BTC": 0.6, "ETH": 0.7, "SOL": 0.9},
    )
    with pytest.raises(DataError, match="test engine: one unit of 'BTC spot'"):
        with checked_book("test", book, absurd):
            pytest.fail("the block runs only on a checked book")
    first = book_exposures(book, absurd)
    assert book_exposures(book, absurd) is not first
