"""One definition of an offset credit, and its conversion to SPAN's spread rate.

An offset credit ``c`` charges matched legs ``(1 - c)(R_a + R_b)``; SPAN's spread rate ``r``
charges ``R_a + R_b - r min(R_a, R_b)``. After ``r = spread_rate(c)`` the two engines give the
same margin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.calibration import MarginParameters, OffsetPair, hedge_credit
from research.errors import ParameterError
from research.margin import (
    PairCredit,
    ParameterSetEngine,
    ScenarioGridEngine,
    SpreadCredit,
    credit_from_spread_rate,
    hedged_pair_margin,
    pair_offsets,
    spread_credit,
    spread_rate,
)
from research.margin.credits import hedge_sign
from research.portfolio import LinearPerpetual, Market, Portfolio, PortfolioBook, Position, Spot

CLOSED_FORM = 1e-12
WEIGHTS = {"BTC": 0.15, "ETH": 0.20}
SPOT = {"BTC": 60_000.0, "ETH": 3_000.0}


@pytest.fixture
def market() -> Market:
    return Market(spot=SPOT, valuation_date="2026-01-02", volatility={"BTC": 0.6, "ETH": 0.7})


def params(credit: float, hedge: str = "equal_risk") -> MarginParameters:
    return MarginParameters(
        level=0.99,
        mpor=2,
        lookback=250,
        as_of="2026-01-02",
        risk_weights=WEIGHTS,
        offset_credits={("BTC", "ETH"): credit},
        offset_hedge=hedge,
    )


def span_engine(credit: float, hedge: str) -> ScenarioGridEngine:
    spread = spread_credit(
        PairCredit("BTC", "ETH", credit),
        WEIGHTS["BTC"],
        WEIGHTS["ETH"],
        SPOT["BTC"],
        SPOT["ETH"],
        hedge,  # type: ignore[arg-type]
    )
    return ScenarioGridEngine(WEIGHTS, spreads=[spread])


def test_worked_example_47_8_percent(market):
    # equal-risk legs of 100,000 margin each: 1,000,000 / 0.15 of BTC long, / 0.20 of ETH short
    legs = Portfolio(
        [
            Position(Spot("BTC"), 1e5 / 0.15 / SPOT["BTC"]),
            Position(LinearPerpetual("ETH"), 1e5 / 0.20 / SPOT["ETH"], "short"),
        ]
    )
    credit = 0.478
    by_credit = params(credit).engine().margin(legs, market).cross
    assert by_credit == pytest.approx(0.522 * 200_000.0, rel=CLOSED_FORM)
    assert by_credit == pytest.approx(float(hedged_pair_margin(1e5, 1e5, credit)), rel=CLOSED_FORM)
    # the same number read as a SPAN rate on the smaller leg leaves much more margin
    as_rate = ScenarioGridEngine(
        WEIGHTS, spreads=[SpreadCredit("BTC", "ETH", credit, 1 / 9_000.0, 1 / 600.0)]
    )
    assert as_rate.margin(legs, market).cross == pytest.approx(200_000.0 - 0.478e5, rel=1e-9)
    # after conversion (r = 2c for equal-risk legs) SPAN gives the credit's margin
    assert spread_rate(credit) == pytest.approx(0.956, rel=CLOSED_FORM)
    converted = span_engine(credit, "equal_risk").margin(legs, market).cross
    assert converted == pytest.approx(by_credit, rel=1e-9)


@pytest.mark.parametrize(("hedge", "credit"), [("equal_risk", 0.45), ("equal_notional", 0.3)])
def test_converted_span_engine_margins_books_like_the_parameter_set(market, hedge, credit):
    rng = np.random.default_rng(7)
    instruments = [Spot("BTC"), LinearPerpetual("ETH"), LinearPerpetual("BTC"), Spot("ETH")]
    book = PortfolioBook(
        instruments,
        pd.DataFrame(
            rng.normal(0.0, 1.0, (300, 4)) * [1.0, 20.0, 1.0, 20.0],
            columns=[i.label for i in instruments],
        ),
    )
    ours = ParameterSetEngine(params(credit, hedge)).margin_book(book, market)
    span = span_engine(credit, hedge).margin_book(book, market)
    np.testing.assert_allclose(span.cross, ours.cross, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(span.isolated, ours.isolated, rtol=1e-12, atol=1e-9)
    assert (ours.cross < ours.sum_isolated - 1.0).any()


@pytest.mark.parametrize(
    ("hedge", "weights", "ratio"),
    [("equal_risk", (0.15, 0.20), 2.0), ("equal_notional", (0.15, 0.20), 0.35 / 0.15)],
)
def test_conversion_formula_and_its_inverse(hedge, weights, ratio):
    for credit in (0.0, 0.1, 0.3, 1.0 / ratio):
        rate = spread_rate(credit, hedge, *weights)
        assert rate == pytest.approx(credit * ratio, rel=CLOSED_FORM)
        assert credit_from_spread_rate(rate, hedge, *weights) == pytest.approx(credit, abs=1e-15)


def test_a_credit_beyond_the_smaller_leg_has_no_span_equivalent():
    with pytest.raises(ParameterError, match="no SPAN equivalent"):
        spread_rate(0.6)
    with pytest.raises(ParameterError, match="same-direction"):
        spread_credit(PairCredit("A", "B", 0.2, "same"), 0.1, 0.1, 1.0, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"first": "A", "second": "A", "credit": 0.1}, "twice"),
        ({"first": "A", "second": "B", "credit": 1.5}, "share"),
        ({"first": "A", "second": "B", "credit": 0.1, "direction": "up"}, "direction"),
    ],
)
def test_pair_credit_checks(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        PairCredit(**kwargs)


@pytest.mark.parametrize(("direction", "sign"), [("opposite", -1.0), ("same", 1.0)])
def test_one_sign_convention_for_a_pairs_direction(direction, sign):
    candidate = OffsetPair("A", "B", direction)
    credited = PairCredit(candidate.first, candidate.second, 0.3, candidate.direction)
    assert hedge_sign(direction) == candidate.sign == credited.sign == sign
    # legs whose exposure product has the pair's sign hedge; the other legs do not
    exposures = np.array([[1.0, sign], [1.0, -sign]])
    total, _ = pair_offsets(np.ones((2, 2)), exposures, np.ones(2), [(0, 1, credited)])
    np.testing.assert_allclose(total, [0.3 * 2.0, 0.0], rtol=0, atol=CLOSED_FORM)
    # the calibration's credit: joint risk sqrt(s_a^2 + s_b^2 + 2 sign rho s_a s_b), so the
    # hedge correlation that earns a credit is -sign * rho
    rho, s_a, s_b = -sign * 0.6, 0.1, 0.3
    joint = np.sqrt(s_a**2 + s_b**2 + 2.0 * sign * rho * s_a * s_b)
    assert float(hedge_credit(rho, s_a, s_b, direction)) == pytest.approx(
        1.0 - joint / (s_a + s_b), abs=CLOSED_FORM
    )
    assert float(hedge_credit(-sign * 1.0, 1.0, 1.0, direction)) == pytest.approx(1.0)


def test_an_unknown_direction_has_no_sign():
    with pytest.raises(ParameterError, match="direction"):
        hedge_sign("up")  # type: ignore[arg-type]
