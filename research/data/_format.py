"""Formatting of stamps in messages and reports."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["stamp_text"]


def stamp_text(stamp: Any) -> str:
    """Format a stamp for a message: ``YYYY-MM-DD`` for dates, ISO 8601 otherwise.

    Parameters
    ----------
    stamp : Timestamp-like or None
        The stamp; ``None`` and ``NaT`` give ``"-"``.

    Returns
    -------
    str
    """
    if stamp is None or pd.isna(stamp):
        return "-"
    stamp = pd.Timestamp(stamp)
    if stamp.tzinfo is None and stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d")
    return stamp.isoformat()
