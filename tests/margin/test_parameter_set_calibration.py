"""The engine of a calibrated set reproduces the calibration's own margin numbers.

The calibration credits a hedged pair with ``cap x (1 - s_ab / (s_a + s_b)) x (1 - haircut)``
(its offset table); a hedge of equal-risk legs is then charged ``(1 - credit)`` of the sum of
its standalone margins, and each leg alone its risk weight times its notional.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from research.calibration import CalibrationResult, calibrate
from research.calibration.calibrate import prepare_study
from research.calibration.config import CalibrationConfig
from research.portfolio import Market, Portfolio, Position, Spot

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"
LEG_MARGIN = 1e6


@pytest.fixture(scope="module")
def default_fast() -> CalibrationResult:
    config, prices = prepare_study(CalibrationConfig.from_yaml(CONFIG), fast=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fast sample's data-quality notes
        return calibrate(config, prices)


def _hedge(result: CalibrationResult, first: str, second: str) -> Portfolio:
    """Equal-risk legs: each has the standalone margin LEG_MARGIN at a price of 1."""
    weights = result.parameters.risk_weights
    return Portfolio(
        [
            Position(Spot(first), LEG_MARGIN / weights[first]),
            Position(Spot(second), LEG_MARGIN / weights[second], "short"),
        ],
        name=f"{first}/{second}",
    )


def test_engine_margins_each_calibrated_hedge_as_the_calibration_credits_it(default_fast):
    params = default_fast.parameters
    table = default_fast.offsets.table
    assert (table["credit"] > 0).any() and (table["credit"] == 0).any()
    engine = params.engine()
    market = Market(spot=dict.fromkeys(params.risk_weights, 1.0))
    for name, row in table.iterrows():
        result = engine.margin(_hedge(default_fast, row["first"], row["second"]), market)
        # the calibration's arithmetic, from its own table
        credit = 0.0 if row["reason"] else row["cap"] * row["raw_credit"] * (1 - row["haircut"])
        assert credit == pytest.approx(params.credit(row["first"], row["second"]), abs=1e-15)
        assert result.isolated.tolist() == pytest.approx([LEG_MARGIN] * 2, rel=1e-12)
        assert result.cross == pytest.approx((1.0 - credit) * 2 * LEG_MARGIN, rel=1e-12), name
        assert result.engine == f"parameter_set[{params.fingerprint}]"


def test_engine_charges_a_leg_alone_its_risk_weight(default_fast):
    params = default_fast.parameters
    market = Market(spot=dict.fromkeys(params.risk_weights, 1.0))
    engine = params.engine()
    for asset, weight in params.risk_weights.items():
        for side in ("long", "short"):
            result = engine.margin(Portfolio([Position(Spot(asset), 1_000.0, side)]), market)
            assert result.cross == pytest.approx(1_000.0 * weight, rel=1e-12)
