"""Margin parameter sets, risk-weight calibration and anti-procyclicality tools."""

from research.calibration.parameters import APCSettings, APCTool, MarginParameters, Pair
from research.calibration.risk_weights import (
    PROFILES,
    CalibrationProfile,
    RiskWeightCalibration,
    calibrate_risk_weights,
    ewma_volatility,
    tail_risk,
)

__all__ = [
    "PROFILES",
    "APCSettings",
    "APCTool",
    "CalibrationProfile",
    "MarginParameters",
    "Pair",
    "RiskWeightCalibration",
    "calibrate_risk_weights",
    "ewma_volatility",
    "tail_risk",
]
