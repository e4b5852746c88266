"""Emit data-quality warnings attributed to the caller's code, not to research.data."""

from __future__ import annotations

import sys
import warnings

from research.errors import DataQualityWarning

__all__ = ["warn_quality"]

PACKAGE = "research.data"


def warn_quality(message: str) -> None:
    """Emit a :class:`~research.errors.DataQualityWarning` at the first frame outside the package.

    Parameters
    ----------
    message : str
        The warning text (callers also record it on their result).
    """
    level = 2
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, DataQualityWarning, stacklevel=level)
