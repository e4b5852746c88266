"""Stress windows, stressed correlation matrices and the nearest correlation matrix."""

from research.stress.nearest import NearestCorrelation, nearest_correlation

__all__ = ["NearestCorrelation", "nearest_correlation"]
