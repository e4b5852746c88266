"""Invariants every engine must satisfy: sub-additivity on hedged books, homogeneity of degree 1,
zero offset for one position, and the vectorised book path equal to one portfolio at a time."""

import json

import numpy as np
import pytest

from research.margin import MarginEngine
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    LinearPerpetual,
    Portfolio,
    PortfolioBook,
    Position,
    Spot,
)

RELATIVE = 1e-10  # same arithmetic, different order of operations


def hedged_books():
    return {
        "perp_vs_perp": Portfolio(
            [
                Position(LinearPerpetual("BTC"), 1.0),
                Position(LinearPerpetual("ETH"), 20.0, "short"),
            ],
            name="pp",
        ),
        "spot_vs_future": Portfolio(
            [Position(Spot("ETH"), 10.0), Position(DatedFuture("ETH", 0.25), 10.0, "short")],
            name="sf",
        ),
        "covered_call": Portfolio(
            [
                Position(LinearPerpetual("BTC"), 2.0),
                Position(EuropeanOption("BTC", 70_000.0, 0.25), 2.0, "short"),
            ],
            name="cc",
        ),
        "three_legs": Portfolio(
            [
                Position(LinearPerpetual("BTC"), 1.0, "short"),
                Position(LinearPerpetual("ETH"), 10.0),
                Position(LinearPerpetual("SOL"), 200.0),
                Position(EuropeanOption("SOL", 140.0, 0.1, "put"), 100.0),
            ],
            name="3l",
        ),
    }


def test_engines_implement_the_protocol(engine):
    assert isinstance(engine, MarginEngine)


@pytest.mark.parametrize("name", list(hedged_books()))
def test_cross_at_most_sum_of_isolated(engine, market, name):
    result = engine.margin(hedged_books()[name], market)
    assert result.cross <= result.sum_isolated * (1 + RELATIVE)
    assert result.cross >= 0
    assert result.offset >= -RELATIVE * result.sum_isolated


@pytest.mark.parametrize("name", list(hedged_books()))
@pytest.mark.parametrize("factor", [0.1, 3.0])
def test_homogeneous_of_degree_one(engine, market, name, factor):
    p = hedged_books()[name]
    base, scaled = engine.margin(p, market), engine.margin(p.scale(factor), market)
    assert scaled.cross == pytest.approx(factor * base.cross, rel=RELATIVE, abs=1e-9)
    assert np.allclose(scaled.isolated, factor * base.isolated, rtol=RELATIVE, atol=1e-9)


@pytest.mark.parametrize(
    "position",
    [
        Position(LinearPerpetual("BTC"), 1.5, "short"),
        Position(EuropeanOption("ETH", 3_300.0, 0.2, "call"), 4.0, "short"),
        Position(DatedFuture("SOL", 0.5), 30.0),
    ],
    ids=["perp", "short_call", "future"],
)
def test_one_position_has_zero_offset(engine, market, position):
    result = engine.margin(Portfolio([position]), market)
    assert result.offset == pytest.approx(0.0, abs=RELATIVE * result.sum_isolated)
    assert result.sum_isolated > 0


def test_book_equals_portfolios_one_by_one(engine, market):
    books = list(hedged_books().values())
    result = engine.margin_book(PortfolioBook.from_portfolios(books), market)
    for p in books:
        single = engine.margin(p, market)
        assert result.cross[p.name] == pytest.approx(single.cross, rel=RELATIVE)
        assert result.sum_isolated[p.name] == pytest.approx(single.sum_isolated, rel=RELATIVE)
    assert result.summary().shape == (len(books), 5)
    assert result.result("pp").engine == engine.name


def test_result_summary_and_text(engine, market):
    result = engine.margin(hedged_books()["perp_vs_perp"], market)
    table = result.summary()
    assert table.loc["offset", "margin"] == pytest.approx(result.offset)
    assert table.loc["BTC linear perp", "margin"] == result.isolated["BTC linear perp"]
    assert engine.name in str(result) and "<table" in result._repr_html_()
    json.dumps(result.settings)  # settings are plain data
