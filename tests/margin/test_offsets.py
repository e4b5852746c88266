"""Offset policy: the EMIR 80% cap, pair-by-pair recognition and breaking pairs."""

import math

import numpy as np
import pandas as pd
import pytest

from research.errors import ParameterError
from research.margin import CorrelationEngine, OffsetPolicy, RiskWeightEngine
from research.portfolio import LinearPerpetual, Market, Portfolio, Position, Spot

CLOSED_FORM = 1e-12


def test_emir_cap_hand_value():
    # isolated 100, cross 40: at most 80% of the 60 offset counts -> 100 - 48 = 52
    assert float(OffsetPolicy(0.8).apply(100.0, 40.0)) == pytest.approx(52.0, rel=CLOSED_FORM)
    assert float(OffsetPolicy(1.0).apply(100.0, 40.0)) == pytest.approx(40.0, rel=CLOSED_FORM)
    assert float(OffsetPolicy(0.0).apply(100.0, 40.0)) == pytest.approx(100.0, rel=CLOSED_FORM)
    # no offset to cap when cross exceeds the isolated sum (e.g. concentration)
    assert float(OffsetPolicy(0.8).apply(100.0, 120.0)) == 120.0


@pytest.fixture
def unit_market():
    return Market(spot={"A": 1.0, "B": 1.0, "C": 1.0})


def test_cap_through_an_engine(unit_market):
    # isolated 0.1 x 700 + 0.1 x 300 = 100, cross 0.1 x 400 = 40
    p = Portfolio([Position(Spot("A"), 700.0), Position(LinearPerpetual("A"), 300.0, "short")])
    result = RiskWeightEngine({"A": 0.1}, offset_policy=OffsetPolicy()).margin(p, unit_market)
    assert result.sum_isolated == pytest.approx(100.0, rel=CLOSED_FORM)
    assert result.portfolio_margin == pytest.approx(40.0, rel=CLOSED_FORM)
    assert result.cross == pytest.approx(52.0, rel=CLOSED_FORM)
    assert result.settings["offset_policy"]["max_fraction"] == 0.8


def _simm(policy):
    labels = ["A", "B", "C"]
    rho = pd.DataFrame(
        [[1.0, 0.6, 0.3], [0.6, 1.0, 0.5], [0.3, 0.5, 1.0]], index=labels, columns=labels
    )
    return CorrelationEngine({"A": 0.1, "B": 0.2, "C": 0.1}, rho, offset_policy=policy)


def test_breaking_pair_gets_no_offset(unit_market):
    # WS = (10, -10): isolated 20, cross sqrt(80); the only offset is the A/B pair's
    p = Portfolio([Position(Spot("A"), 100.0), Position(Spot("B"), 50.0, "short")])
    broken = _simm(OffsetPolicy(0.8, breaking_pairs=[("A", "B")])).margin(p, unit_market)
    assert broken.cross == pytest.approx(20.0, rel=CLOSED_FORM)
    kept = _simm(OffsetPolicy(0.8, per="pair")).margin(p, unit_market)
    assert kept.cross == pytest.approx(20.0 - 0.8 * (20.0 - math.sqrt(80.0)), rel=CLOSED_FORM)


def test_pairwise_recognition_with_three_legs(unit_market):
    p = Portfolio(
        [
            Position(Spot("A"), 100.0),
            Position(Spot("B"), 50.0, "short"),
            Position(Spot("C"), 80.0, "short"),
        ]
    )
    engine = _simm(None)
    margin_of = {}
    for legs in ("A", "B", "C", "AB", "AC", "BC", "ABC"):
        margin_of[legs] = engine.margin(p.subset([f"{x} spot" for x in legs]), unit_market).cross
    pair = {ab: margin_of[ab[0]] + margin_of[ab[1]] - margin_of[ab] for ab in ("AB", "AC", "BC")}
    isolated = margin_of["A"] + margin_of["B"] + margin_of["C"]
    total_offset = isolated - margin_of["ABC"]
    expected = isolated - 0.8 * min(sum(max(o, 0.0) for o in pair.values()), total_offset)
    by_pair = _simm(OffsetPolicy(0.8, per="pair")).margin(p, unit_market)
    assert by_pair.cross == pytest.approx(expected, rel=1e-10)
    by_portfolio = _simm(OffsetPolicy(0.8)).margin(p, unit_market)
    assert by_portfolio.cross == pytest.approx(isolated - 0.8 * total_offset, rel=1e-10)
    assert by_pair.cross >= by_portfolio.cross - 1e-10
    # breaking the A/C pair in portfolio mode removes exactly its pair offset from the total
    no_ac = _simm(OffsetPolicy(0.8, breaking_pairs=[("C", "A")])).margin(p, unit_market)
    assert no_ac.cross == pytest.approx(
        isolated - 0.8 * max(total_offset - max(pair["AC"], 0.0), 0.0), rel=1e-10
    )


def test_policy_vectorised_over_portfolios():
    charged = OffsetPolicy(0.5).apply(np.array([100.0, 10.0]), np.array([40.0, 10.0]))
    assert np.allclose(charged, [70.0, 10.0], rtol=CLOSED_FORM)


def test_policy_validation():
    with pytest.raises(ParameterError, match="max_fraction"):
        OffsetPolicy(1.2)
    with pytest.raises(ParameterError, match="two distinct"):
        OffsetPolicy(breaking_pairs=[("A", "A")])
    assert OffsetPolicy(breaking_pairs=[("A", "B")]).to_dict()["breaking_pairs"] == [["A", "B"]]
