"""Univariate stage: one ``arch`` volatility model per asset."""

from research.volatility.fit import UnivariateFits, fit_univariate, validate_returns
from research.volatility.spec import UnivariateSpec

__all__ = ["UnivariateFits", "UnivariateSpec", "fit_univariate", "validate_returns"]
