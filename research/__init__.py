"""research: stressed correlations, margin calibration and cross-margin offset backtests.

The flow of a study::

    prices -> research.data -> research.volatility -> research.correlation
           -> research.stress -> research.margin -> research.calibration
           -> research.backtest -> research.reporting
"""

from research import errors

__version__ = "0.1.0"

__all__ = ["__version__", "errors"]
