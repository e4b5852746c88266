"""Risk-weight and SIMM-style engines against hand-computed numbers."""

import math

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError, NotPositiveDefiniteError, ParameterError
from research.margin import CorrelationEngine, RiskWeightEngine
from research.portfolio import EuropeanOption, LinearPerpetual, Market, Portfolio, Position, Spot

CLOSED_FORM = 1e-12


@pytest.fixture
def unit_market():
    # spot 1 so that quantities are notionals and delta notionals
    return Market(spot={"A": 1.0, "B": 1.0}, volatility={"A": 0.5, "B": 0.5})


def test_risk_weight_hand_values(unit_market):
    p = Portfolio(
        [
            Position(Spot("A"), 100.0),
            Position(LinearPerpetual("A"), 30.0, "short"),
            Position(Spot("B"), 50.0, "short"),
        ]
    )
    result = RiskWeightEngine({"A": 0.1, "B": 0.2}).margin(p, unit_market)
    assert list(result.isolated) == pytest.approx([10.0, 3.0, 10.0], rel=CLOSED_FORM)
    assert result.cross == pytest.approx(0.1 * 70 + 0.2 * 50, rel=CLOSED_FORM)
    assert result.driver == "B"


def test_risk_weight_delta_basis(unit_market):
    option = EuropeanOption("A", 1.0, 0.5, "put")
    p = Portfolio([Position(option, 10.0)])
    delta = option.greeks(unit_market).delta
    notional = RiskWeightEngine({"A": 0.1}).margin(p, unit_market).cross
    by_delta = RiskWeightEngine({"A": 0.1}, basis="delta").margin(p, unit_market).cross
    assert notional == pytest.approx(0.1 * 10.0, rel=CLOSED_FORM)
    assert by_delta == pytest.approx(0.1 * 10.0 * abs(delta), rel=CLOSED_FORM)


@pytest.mark.parametrize(
    "weights,match",
    [
        ({"A": 0.1}, "missing risk weight for underlying 'B'"),
        ({"A": 0.1, "B": -0.1}, "risk weight of 'B'"),
        ({"A": 0.1, "B": float("nan")}, "risk weight of 'B'"),
    ],
)
def test_missing_or_bad_risk_weight(unit_market, weights, match):
    p = Portfolio([Position(Spot("A"), 1.0), Position(Spot("B"), 1.0)])
    with pytest.raises(ParameterError, match=match):
        RiskWeightEngine(weights).margin(p, unit_market)


def test_simm_two_sensitivities_hand_computed(unit_market):
    # s = (100, -50), RW = (0.1, 0.2), rho = 0.6: WS = (10, -10),
    # K = sqrt(10^2 + 10^2 + 2 * 0.6 * 10 * (-10)) = sqrt(80)
    rho = pd.DataFrame([[1.0, 0.6], [0.6, 1.0]], index=["A", "B"], columns=["A", "B"])
    p = Portfolio([Position(Spot("A"), 100.0), Position(Spot("B"), 50.0, "short")])
    result = CorrelationEngine({"A": 0.1, "B": 0.2}, rho).margin(p, unit_market)
    assert result.cross == pytest.approx(math.sqrt(80.0), rel=CLOSED_FORM)
    assert list(result.isolated) == pytest.approx([10.0, 10.0], rel=CLOSED_FORM)
    assert result.offset == pytest.approx(20.0 - math.sqrt(80.0), rel=CLOSED_FORM)


def test_simm_concentration_factor(unit_market):
    # s = 400 with threshold 100: CR = sqrt(4) = 2, WS = 0.1 * 400 * 2 = 80
    rho = pd.DataFrame([[1.0]], index=["A"], columns=["A"])
    p = Portfolio([Position(Spot("A"), 400.0)])
    engine = CorrelationEngine({"A": 0.1}, rho, concentration_threshold=100.0)
    assert engine.margin(p, unit_market).cross == pytest.approx(80.0, rel=CLOSED_FORM)
    small = Portfolio([Position(Spot("A"), 50.0)])  # below the threshold: CR = 1
    assert engine.margin(small, unit_market).cross == pytest.approx(5.0, rel=CLOSED_FORM)


def test_simm_correlation_checks(unit_market):
    labels = ["A", "B"]
    with pytest.raises(NotPositiveDefiniteError, match="nearest_correlation"):
        CorrelationEngine(
            {"A": 0.1, "B": 0.1},
            pd.DataFrame([[1.0, 1.2], [1.2, 1.0]], index=labels, columns=labels),
        )
    with pytest.raises(DataError, match="symmetric"):
        CorrelationEngine(
            {"A": 0.1, "B": 0.1},
            pd.DataFrame([[1.0, 0.2], [0.3, 1.0]], index=labels, columns=labels),
        )
    engine = CorrelationEngine(
        {"A": 0.1, "B": 0.1}, pd.DataFrame(np.eye(1), index=["A"], columns=["A"])
    )
    with pytest.raises(ParameterError, match="no row for \\['B'\\]"):
        engine.margin(Portfolio([Position(Spot("B"), 1.0)]), unit_market)
