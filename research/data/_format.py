"""Formatting of stamps in messages and reports."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["stamp_label", "stamp_text"]


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


def stamp_label(stamp: Any, *, time: bool | None = None) -> str:
    """Format a stamp for a report's text: a date, or a date and an hour with its zone.

    Parameters
    ----------
    stamp : Timestamp-like or None
        The stamp; ``None`` and ``NaT`` give ``"-"``. An aware stamp is shown in UTC.
    time : bool, optional
        ``True``: always the hour (``2025-10-11 00:00 UTC``, the form for intraday data, where
        midnight is an hour like any other); ``False``: the date only; default: the hour
        unless the stamp is at midnight.

    Returns
    -------
    str
        ``YYYY-MM-DD``, or ``YYYY-MM-DD HH:MM`` followed by ``UTC`` for an aware stamp.

    Examples
    --------
    >>> stamp_label(pd.Timestamp("2025-10-10 21:00", tz="UTC"))
    '2025-10-10 21:00 UTC'
    >>> stamp_label(pd.Timestamp("2025-10-11", tz="UTC")), stamp_label("2025-10-11", time=True)
    ('2025-10-11', '2025-10-11 00:00')
    """
    if stamp is None or pd.isna(stamp):
        return "-"
    stamp = pd.Timestamp(stamp)
    aware = stamp.tzinfo is not None
    if aware:
        stamp = stamp.tz_convert("UTC")
    if time is False or (time is None and stamp == stamp.normalize()):
        return stamp.strftime("%Y-%m-%d")
    return stamp.strftime("%Y-%m-%d %H:%M") + (" UTC" if aware else "")
