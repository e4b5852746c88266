"""A calibrated parameter set as a margin engine, against hand-computed margins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.calibration import MarginParameters
from research.errors import ParameterError, SpecificationError
from research.margin import (
    MarginEngine,
    OffsetPolicy,
    ParameterSetEngine,
    hedged_pair_margin,
)
from research.portfolio import (
    EuropeanOption,
    LinearPerpetual,
    Market,
    Portfolio,
    PortfolioBook,
    Position,
    Spot,
)

CLOSED_FORM = 1e-12


def make_params(**kwargs) -> MarginParameters:
    base = {
        "level": 0.99,
        "mpor": 2,
        "lookback": 250,
        "as_of": "2024-01-02",
        "risk_weights": {"A": 0.10, "B": 0.05, "C": 0.20},
        "offset_credits": {("A", "B"): 0.4},
    }
    return MarginParameters(**{**base, **kwargs})


@pytest.fixture
def market() -> Market:
    return Market(
        spot={"A": 100.0, "B": 50.0, "C": 10.0},
        valuation_date="2026-01-02",
        volatility={"A": 0.5, "B": 0.6, "C": 0.8},
        rate=0.0,
    )


def test_hand_computed_book_with_an_option(market):
    # A: 10 spot long (1,000) and 4 long puts (delta notional 400 delta < 0);
    # B: 30 perpetuals short (-1,500). RW 10% / 5%, credit 40%, equal-risk legs.
    put = EuropeanOption("A", 100.0, 0.5, "put")
    delta = put.greeks(market).delta
    portfolio = Portfolio(
        [
            Position(Spot("A"), 10.0),
            Position(put, 4.0),
            Position(LinearPerpetual("B"), 30.0, "short"),
        ]
    )
    params = make_params()
    result = ParameterSetEngine(params).margin(portfolio, market)
    m_a = 0.10 * abs(1_000.0 + 400.0 * delta)
    m_b = 0.05 * 1_500.0
    matched = min(m_a, m_b)
    expected = m_a + m_b - 0.4 * 2.0 * matched
    assert delta < 0 and m_a > m_b  # the put reduces A's exposure; B is the smaller leg
    assert list(result.isolated) == pytest.approx(
        [100.0, 0.10 * 400.0 * abs(delta), 75.0], rel=CLOSED_FORM
    )
    assert result.cross == pytest.approx(expected, rel=CLOSED_FORM)
    # the matched legs are charged (1 - c)(R_a + R_b), the excess of A in full
    assert result.cross == pytest.approx(
        float(hedged_pair_margin(matched, matched, 0.4)) + (m_a - matched), rel=CLOSED_FORM
    )
    assert result.driver == "A"
    assert result.engine == f"parameter_set[{params.fingerprint}]"
    assert result.settings["fingerprint"] == params.fingerprint
    assert result.settings["parameters"] == params.to_dict()


def test_engine_is_a_margin_engine_and_the_set_builds_it():
    params = make_params()
    engine = params.engine()
    assert isinstance(engine, MarginEngine)
    assert engine == ParameterSetEngine(params)
    assert engine.fingerprint == params.fingerprint


def test_equal_notional_legs(market):
    # A long 1,000 (margin 100), B short 1,500 (margin 75): 1,000 of notional is matched,
    # its margin 100 + 50 earns 40%; B's other 500 (25) is charged in full.
    portfolio = Portfolio(
        [Position(Spot("A"), 10.0), Position(LinearPerpetual("B"), 30.0, "short")]
    )
    engine = ParameterSetEngine(make_params(offset_hedge="equal_notional"))
    assert engine.margin(portfolio, market).cross == pytest.approx(
        0.6 * (100.0 + 50.0) + 25.0, rel=CLOSED_FORM
    )


@pytest.mark.parametrize(
    ("direction", "b_side", "credited"),
    [
        ("opposite", "short", True),
        ("opposite", "long", False),
        ("same", "long", True),
        ("same", "short", False),
    ],
)
def test_only_the_calibrated_direction_earns_the_credit(market, direction, b_side, credited):
    params = make_params(offset_directions={("A", "B"): direction})
    portfolio = Portfolio([Position(Spot("A"), 10.0), Position(Spot("B"), 20.0, b_side)])
    result = params.engine().margin(portfolio, market)
    full = 100.0 + 50.0
    assert result.cross == pytest.approx(full - (0.4 * 100.0 if credited else 0.0))


def test_a_leg_is_credited_once_largest_credit_first(market):
    # A/B 0.5 and B/C 0.3: B (short, margin 100) is matched with A (long, 100) first;
    # nothing of B is left for C (long 100).
    params = make_params(offset_credits={("A", "B"): 0.5, ("B", "C"): 0.3})
    portfolio = Portfolio(
        [
            Position(Spot("A"), 10.0),
            Position(Spot("B"), 40.0, "short"),
            Position(Spot("C"), 50.0),
        ]
    )
    engine = params.engine()
    result = engine.margin(portfolio, market)
    assert result.cross == pytest.approx(300.0 - 0.5 * 200.0, rel=CLOSED_FORM)
    offsets = engine.pair_offsets(portfolio.to_book(), market)
    assert list(offsets.columns) == ["A/B", "B/C"]
    assert offsets.iloc[0].tolist() == pytest.approx([100.0, 0.0])


def test_cross_within_cap_and_isolated_on_random_books(market):
    rng = np.random.default_rng(3)
    instruments = [Spot("A"), LinearPerpetual("B"), Spot("C"), EuropeanOption("A", 90.0, 0.25)]
    book = PortfolioBook(
        instruments,
        pd.DataFrame(rng.normal(0.0, 20.0, (500, 4)), columns=[i.label for i in instruments]),
    )
    params = make_params(offset_credits={("A", "B"): 0.8, ("A", "C"): 0.6, ("B", "C"): 0.5})
    res = params.engine().margin_book(book, market)
    netted = ParameterSetEngine(make_params(offset_credits={})).margin_book(book, market).cross
    assert (res.cross <= res.sum_isolated + 1e-9).all()
    assert (res.cross <= netted + 1e-9).all()
    assert (res.cross >= (1.0 - params.offset_cap) * netted - 1e-9).all()
    assert (res.cross < netted - 1e-6).any()  # the credits do bite on some books
    # a book is margined row by row exactly as each portfolio alone
    for name in book.quantities.index[:5]:
        alone = PortfolioBook(instruments, book.quantities.loc[[name]])
        assert params.engine().margin_book(alone, market).cross.iloc[0] == res.cross[name]


def test_missing_risk_weight_names_the_set(market):
    params = make_params(risk_weights={"A": 0.1, "B": 0.05}, offset_credits={})
    portfolio = Portfolio([Position(Spot("C"), 1.0)])
    with pytest.raises(ParameterError, match=rf"{params.fingerprint}.*\['C'\]"):
        params.engine().margin(portfolio, market)


def test_engine_checks_a_duck_typed_set():
    with pytest.raises(SpecificationError, match="offset_hedge"):
        ParameterSetEngine(object())  # type: ignore[arg-type]


def test_offset_policy_on_top(market):
    portfolio = Portfolio([Position(Spot("A"), 10.0), Position(Spot("B"), 20.0, "short")])
    free = make_params().engine().margin(portfolio, market)
    capped = ParameterSetEngine(
        make_params(), offset_policy=OffsetPolicy(breaking_pairs=[("A", "B")])
    ).margin(portfolio, market)
    assert free.cross == pytest.approx(150.0 - 0.4 * 100.0)
    assert capped.cross == pytest.approx(150.0)  # a breaking pair's offset is not recognised


def test_a_portfolio_is_the_same_bits_alone_or_in_a_large_book():
    # 30 instruments on 10 underlyings, 200 portfolios: a BLAS product or a pairwise row sum
    # would round differently for 1 row than for 200 (the backtest compares them exactly).
    names = [f"U{k:02d}" for k in range(10)]
    rng = np.random.default_rng(5)
    params = make_params(
        risk_weights={u: float(w) for u, w in zip(names, rng.uniform(0.01, 0.3, 10), strict=True)},
        offset_credits={(names[k], names[k + 1]): 0.3 + 0.01 * k for k in range(0, 10, 2)},
    )
    market = Market(spot={u: float(s) for u, s in zip(names, rng.uniform(1, 1e4, 10), strict=True)})
    instruments = [
        LinearPerpetual(names[u], float(size), name=f"{k} {names[u]}")
        for k, (u, size) in enumerate(
            zip(rng.integers(0, 10, 30), rng.uniform(0.01, 10.0, 30), strict=True)
        )
    ]
    book = PortfolioBook(
        instruments,
        pd.DataFrame(
            rng.normal(0.0, 1.0, (200, 30)) * rng.uniform(0.1, 1e3, 30),
            columns=[i.label for i in instruments],
        ),
    )
    engine = params.engine()
    whole = engine.margin_book(book, market).cross
    for name in book.quantities.index:
        alone = PortfolioBook(instruments, book.quantities.loc[[name]])
        assert engine.margin_book(alone, market).cross.iloc[0] == whole[name]
