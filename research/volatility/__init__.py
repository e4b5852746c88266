"""Univariate stage: one volatility model per asset (compiled GARCH(1,1) or ``arch``).

The package's one GARCH(1,1) filter and estimator (:mod:`research.volatility.garch`) and its
one EWMA volatility (:mod:`research.volatility.ewma`) live here; every later stage calls them.
"""

from research.volatility.fit import (
    ArchResults,
    UnivariateFits,
    fit_univariate,
    univariate_stage,
    validate_returns,
)
from research.volatility.garch import Garch11Fit, fit_garch11, garch11_filter, garch11_variance
from research.volatility.spec import UnivariateSpec

__all__ = [
    "ArchResults",
    "Garch11Fit",
    "UnivariateFits",
    "UnivariateSpec",
    "fit_garch11",
    "fit_univariate",
    "univariate_stage",
    "garch11_filter",
    "garch11_variance",
    "validate_returns",
]
