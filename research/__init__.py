"""research: stressed correlations, margin calibration and cross-margin offset backtests.

The flow of a study::

    prices -> research.data -> research.volatility -> research.correlation
           -> research.stress -> research.margin -> research.calibration
           -> research.backtest -> research.reporting

Subpackages and the top-level names below are imported on first use, so ``import research``
stays light (no numba, arch or plotting libraries until they are needed).

Examples
--------
>>> import research
>>> prices = research.load_dataset("sp500")
>>> returns = research.to_returns(prices)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from research import errors

__version__ = "0.1.0"

_SUBPACKAGES = (
    "backtest",
    "calibration",
    "correlation",
    "data",
    "liquidation",
    "margin",
    "parallel",
    "portfolio",
    "reporting",
    "stress",
    "volatility",
)

#: Top-level name -> the subpackage that defines it.
_NAMES = {
    "load_dataset": "data",
    "list_datasets": "data",
    "load_prices": "data",
    "read_prices": "data",
    "validate_prices": "data",
    "align": "data",
    "to_returns": "data",
    "mpor_returns": "data",
    "DataQualityReport": "data",
    "UnivariateSpec": "volatility",
    "fit_univariate": "volatility",
    "UnivariateFits": "volatility",
    "DCC": "correlation",
    "DCCResult": "correlation",
    "lr_test": "correlation",
    "MarginParameters": "calibration",
}

__all__ = ["__version__", "errors", *_SUBPACKAGES, *_NAMES]

if TYPE_CHECKING:  # pragma: no cover - for static analysis only
    from research.calibration import MarginParameters  # noqa: F401
    from research.correlation import DCC, DCCResult, lr_test  # noqa: F401
    from research.data import (  # noqa: F401
        DataQualityReport,
        align,
        list_datasets,
        load_dataset,
        load_prices,
        mpor_returns,
        read_prices,
        to_returns,
        validate_prices,
    )
    from research.volatility import UnivariateFits, UnivariateSpec, fit_univariate  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"research.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(f"research.{_NAMES[name]}"), name)
    raise AttributeError(f"module 'research' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
