"""The DCC family of conditional-correlation models (DCC, cDCC, ADCC, CCC), copula-DCC and DECO.

The realized DCC (:class:`RealizedDCC`) is driven by realized correlations from intraday data.
Estimation (:class:`DCC` -> :class:`DCCResult`), forecasts, simulation, rolling refits,
likelihood-ratio tests and a side-by-side comparison of fitted models (:func:`compare`).
"""

from research.correlation.compare import compare, compare_dependence, fit_dependence, lr_tests
from research.correlation.copula import CopulaDCC, CopulaDCCResult, tail_dependence
from research.correlation.covariance import nonlinear_shrinkage
from research.correlation.deco import DECO, DECOResult
from research.correlation.forecast import (
    DCCForecast,
    forecast_correlation,
    forecast_covariance,
    forecast_dcc,
    simulate_correlation_forecast,
)
from research.correlation.lrtest import LikelihoodRatioTest, lr_test
from research.correlation.model import DCC
from research.correlation.realized import (
    RealizedDCC,
    RealizedDCCResult,
    realized_correlation,
    realized_covariance,
)
from research.correlation.results import DCCResult
from research.correlation.rolling import RollingForecast, rolling_forecast
from research.correlation.simulate import DCCSimulation, simulate_correlation_paths, simulate_dcc

__all__ = [
    "DCC",
    "DCCForecast",
    "DCCResult",
    "CopulaDCC",
    "CopulaDCCResult",
    "DCCSimulation",
    "DECO",
    "DECOResult",
    "LikelihoodRatioTest",
    "RealizedDCC",
    "RealizedDCCResult",
    "RollingForecast",
    "compare",
    "compare_dependence",
    "forecast_correlation",
    "fit_dependence",
    "forecast_covariance",
    "forecast_dcc",
    "lr_test",
    "lr_tests",
    "nonlinear_shrinkage",
    "realized_correlation",
    "realized_covariance",
    "rolling_forecast",
    "simulate_correlation_forecast",
    "simulate_correlation_paths",
    "simulate_dcc",
    "tail_dependence",
]
