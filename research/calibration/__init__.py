"""Margin parameter sets, risk weights, offset credits, correlation regimes and anti-procyclicality.

The sensitivity sweep is a hold-out backtest: ``research.backtest.sensitivity_sweep``.

A :class:`MarginParameters` set is the unit that flows on: ``params.engine()`` is a
:class:`research.margin.ParameterSetEngine` (the margin interface every stage calls) and
``params.fingerprint`` (SHA-256 of its canonical JSON, 12 characters shown) names it wherever
it is calibrated, margined, backtested or reviewed. Its offset credits follow the package's one
definition (:mod:`research.margin.credits`).
"""

from research.calibration.apc import (
    APCResult,
    apc_buffer,
    apc_floor,
    apc_from_returns,
    apc_stress_weight,
    apply_apc,
    procyclicality_metrics,
)
from research.calibration.calibrate import (
    CalibrationResult,
    calibrate,
    calibrate_from_config,
    load_config_prices,
    prepare_study,
)
from research.calibration.config import CalibrationConfig, DataConfig, OffsetConfig, StressConfig
from research.calibration.offsets import (
    OffsetCalibrator,
    OffsetCredits,
    OffsetPair,
    copula_regime,
    hedge_credit,
    hedge_side_quantiles,
)
from research.calibration.parameters import APCSettings, APCTool, MarginParameters, Pair
from research.calibration.regimes import regime_correlations
from research.calibration.risk_weights import (
    PROFILES,
    CalibrationProfile,
    RiskWeightCalibration,
    calibrate_risk_weights,
    ewma_volatility,
    position_losses,
    tail_risk,
)

__all__ = [
    "PROFILES",
    "CalibrationConfig",
    "CalibrationResult",
    "DataConfig",
    "OffsetCalibrator",
    "OffsetConfig",
    "OffsetCredits",
    "OffsetPair",
    "StressConfig",
    "calibrate",
    "calibrate_from_config",
    "copula_regime",
    "hedge_credit",
    "hedge_side_quantiles",
    "load_config_prices",
    "prepare_study",
    "regime_correlations",
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
    "position_losses",
    "tail_risk",
]
