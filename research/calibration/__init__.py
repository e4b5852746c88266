"""Margin parameter sets, risk-weight calibration and anti-procyclicality tools."""

from research.calibration.apc import (
    APCResult,
    apc_buffer,
    apc_floor,
    apc_from_returns,
    apc_stress_weight,
    apply_apc,
    procyclicality_metrics,
)
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
    "APCResult",
    "APCSettings",
    "APCTool",
    "CalibrationProfile",
    "MarginParameters",
    "Pair",
    "apc_buffer",
    "apc_floor",
    "apc_from_returns",
    "apc_stress_weight",
    "apply_apc",
    "procyclicality_metrics",
    "RiskWeightCalibration",
    "calibrate_risk_weights",
    "ewma_volatility",
    "tail_risk",
]
