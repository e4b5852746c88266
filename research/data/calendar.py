"""Trading calendars: frequency and calendar inference, expected periods and gaps.

Equities trade five days a week (Monday to Friday; exchange holidays are not modelled,
so a holiday is a one-day gap), crypto trades seven days a week and around the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from research.errors import DataError, SpecificationError

__all__ = [
    "Calendar",
    "Frequency",
    "Gaps",
    "calendar_index",
    "check_calendar",
    "duration_label",
    "find_gaps",
    "infer_calendar",
    "infer_frequency",
    "mpor_periods",
    "period_length",
    "period_text",
    "periods_per_year",
]

Calendar = Literal["equity", "crypto"]

CALENDARS: tuple[str, ...] = ("equity", "crypto")
"""Calendar names the package knows (see :data:`Calendar`)."""

WEEKEND_SHARE_CRYPTO = 0.10
"""Share of weekend stamps above which a series follows the 7-day (crypto) calendar.

A 7-day calendar has 2/7 = 29% weekend stamps, an equity calendar none."""

ROUND_THE_CLOCK_HOURS = 20
"""Intraday stamps in at least this many distinct hours of the day follow a 24/7 market,
even in a sample too short to contain a weekend."""

DAILY_MIN = pd.Timedelta(hours=20)
"""Typical spacing at or above which stamps are daily (allows DST-shifted stamps)."""

DAILY_MAX = pd.Timedelta(days=4)
"""Typical spacing at or below which stamps are daily (long weekends included)."""


@dataclass(frozen=True)
class Frequency:
    """Sampling frequency of a time index.

    Parameters
    ----------
    kind : {"daily", "intraday", "other"}
        ``"other"`` covers weekly, monthly and irregular data (no gap detection).
    step : pandas.Timedelta or None
        The regular spacing: one day for daily data, the most common spacing for
        intraday data, ``None`` for other data.
    """

    kind: Literal["daily", "intraday", "other"]
    step: pd.Timedelta | None

    def __str__(self) -> str:
        if self.kind == "intraday" and self.step is not None:
            return f"intraday {_step_label(self.step)}"
        return self.kind


@dataclass(frozen=True)
class Gaps:
    """Runs of missing calendar periods between consecutive observations.

    Parameters
    ----------
    start, end : pandas.DatetimeIndex
        First and last missing period of each run.
    periods : numpy.ndarray
        Number of missing calendar periods in each run (int64).
    """

    start: pd.DatetimeIndex
    end: pd.DatetimeIndex
    periods: np.ndarray

    def __len__(self) -> int:
        return len(self.periods)

    def longer_than(self, max_gap: int) -> Gaps:
        """Keep the runs with more than ``max_gap`` missing periods.

        Parameters
        ----------
        max_gap : int
            Largest tolerated run of missing periods.

        Returns
        -------
        Gaps
        """
        keep = self.periods > max_gap
        return Gaps(self.start[keep], self.end[keep], self.periods[keep])


def check_calendar(calendar: object) -> Calendar:
    """Return a calendar name after checking that the package knows it.

    Parameters
    ----------
    calendar : object
        The name given by the user.

    Returns
    -------
    {"equity", "crypto"}

    Raises
    ------
    SpecificationError
        For any other value (e.g. ``"forex"``), listing the valid names: an unknown name
        must not silently become one of the known calendars.
    """
    if calendar not in CALENDARS:
        raise SpecificationError(
            f"unknown calendar {calendar!r}; valid calendars: {', '.join(CALENDARS)} "
            "(equity: Monday to Friday; crypto: every day, around the clock). For another "
            "market, pick the closer one and set max_gap"
        )
    return calendar  # type: ignore[return-value]


def infer_frequency(index: pd.DatetimeIndex) -> Frequency:
    """Infer whether a time index is daily, intraday or something else.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Sorted stamps.

    Returns
    -------
    Frequency
        Daily when the median spacing lies between 20 hours and 4 days, intraday
        (with the most common spacing as step) when it is shorter, otherwise other.

    Examples
    --------
    >>> import pandas as pd
    >>> str(infer_frequency(pd.date_range("2024-01-01", periods=48, freq="h")))
    'intraday 1h'
    """
    if len(index) < 2:
        return Frequency("other", None)
    spacing = pd.Series(index[1:] - index[:-1])
    median = spacing.median()
    if DAILY_MIN <= median <= DAILY_MAX:
        return Frequency("daily", pd.Timedelta(days=1))
    if median < DAILY_MIN:
        step = spacing[spacing > pd.Timedelta(0)].mode()
        return Frequency("intraday", pd.Timedelta(step.iloc[0]) if len(step) else None)
    return Frequency("other", None)


def infer_calendar(index: pd.DatetimeIndex) -> Calendar:
    """Infer the trading calendar from the share of weekend stamps.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Stamps of the observations (all assets together).

    Returns
    -------
    {"equity", "crypto"}
        ``"crypto"`` (7 days a week, around the clock) when more than 10% of the stamps
        fall on a Saturday or Sunday or when intraday stamps cover at least 20 distinct
        hours of the day; ``"equity"`` (Monday to Friday) otherwise.
    """
    if len(index) == 0:
        return "equity"
    weekend = np.asarray(index.day_of_week >= 5)
    if weekend.mean() > WEEKEND_SHARE_CRYPTO:
        return "crypto"
    around_the_clock = len(np.unique(np.asarray(index.hour))) >= ROUND_THE_CLOCK_HOURS
    return "crypto" if around_the_clock else "equity"


def calendar_index(
    first: pd.Timestamp, last: pd.Timestamp, calendar: Calendar, frequency: Frequency
) -> pd.DatetimeIndex:
    """Every period of a calendar between two stamps (inclusive).

    Parameters
    ----------
    first, last : pandas.Timestamp
        Range ends; the time zone of ``first`` is kept.
    calendar : {"equity", "crypto"}
        ``"equity"``: Monday to Friday. ``"crypto"``: every day.
    frequency : Frequency
        Daily or intraday (the intraday grid uses ``frequency.step`` around the clock;
        only the crypto calendar is supported intraday).

    Returns
    -------
    pandas.DatetimeIndex
        Named ``"date"``.

    Raises
    ------
    DataError
        For ``"other"`` frequencies and for intraday equity data, which have no
        well-defined grid without exchange session times.
    """
    calendar = check_calendar(calendar)
    if frequency.kind == "daily":
        days = pd.date_range(first, last, freq="D", name="date")
        return days[days.day_of_week < 5] if calendar == "equity" else days
    if frequency.kind == "intraday" and calendar == "crypto" and frequency.step is not None:
        return pd.date_range(first, last, freq=frequency.step, name="date")
    raise DataError(
        f"no calendar grid for {frequency} data on the {calendar} calendar; "
        "reindexing is supported for daily data and for 24/7 intraday data"
    )


def find_gaps(dates: pd.DatetimeIndex, calendar: Calendar, frequency: Frequency) -> Gaps:
    """Find the runs of calendar periods with no observation between consecutive stamps.

    Parameters
    ----------
    dates : pandas.DatetimeIndex
        Sorted, unique stamps of one asset's valid observations.
    calendar : {"equity", "crypto"}
        Equity days are Monday to Friday (weekends are not gaps); crypto days are
        every day and crypto intraday data are around the clock.
    frequency : Frequency
        From :func:`infer_frequency`.

    Returns
    -------
    Gaps
        Every run with at least one missing period. Empty for ``"other"`` frequencies
        and for intraday equity data (no session times known).
    """
    calendar = check_calendar(calendar)
    if len(dates) < 2 or frequency.kind == "other" or frequency.step is None:
        return _no_gaps(dates)
    if frequency.kind == "intraday" and calendar == "equity":
        return _no_gaps(dates)
    if frequency.kind == "daily":
        days = np.asarray(dates.values, dtype="datetime64[D]")
        before, after = days[:-1], days[1:]
        if calendar == "equity":
            missing = np.busday_count(before + 1, after)
            start = np.busday_offset(before + 1, 0, roll="forward")
            end = np.busday_offset(after - 1, 0, roll="backward")
        else:
            missing = (after - before).astype("int64") - 1
            start, end = before + 1, after - 1
        keep = missing > 0
        return Gaps(
            _as_index(start[keep], dates.tz),
            _as_index(end[keep], dates.tz),
            missing[keep].astype("int64"),
        )
    spacing = np.asarray((dates[1:] - dates[:-1]) / frequency.step, dtype=float)
    missing = np.rint(spacing).astype("int64") - 1
    keep = missing > 0
    starts = dates[:-1][keep] + frequency.step
    ends = dates[1:][keep] - frequency.step
    return Gaps(starts, ends, missing[keep])


def _as_index(days: np.ndarray, tz: object) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(days.astype("datetime64[s]"))
    return index.tz_localize(tz) if tz is not None else index


def _no_gaps(dates: pd.DatetimeIndex) -> Gaps:
    return Gaps(dates[:0], dates[:0], np.zeros(0, dtype="int64"))


def _step_label(step: pd.Timedelta) -> str:
    seconds = int(step.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}min"
    return f"{seconds}s"


def periods_per_year(index: pd.DatetimeIndex) -> float:
    """Observations per year implied by a time index, for annualising.

    Daily data on the crypto calendar give 365, on the equity calendar 252; intraday data
    give the daily figure times the bars per day (24 hourly bars a day on the crypto
    calendar, for example).

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Sorted stamps.

    Returns
    -------
    float

    Raises
    ------
    DataError
        When the spacing is neither daily nor intraday (weekly, monthly, irregular).

    Examples
    --------
    >>> import pandas as pd
    >>> periods_per_year(pd.bdate_range("2024-01-01", periods=60))
    252.0
    """
    frequency = infer_frequency(index)
    days = 365.0 if infer_calendar(index) == "crypto" else 252.0
    if frequency.kind == "daily":
        return days
    if frequency.kind == "intraday" and frequency.step is not None:
        return days * (pd.Timedelta(days=1) / frequency.step)
    raise DataError(
        f"cannot annualise a {frequency} index from {index[0]} to {index[-1]}: "
        "resample to daily or intraday bars first"
    )


def period_length(period: str | pd.Timedelta | pd.DatetimeIndex) -> pd.Timedelta:
    """Return the length of one observation period (one bar), given or read from an index.

    Parameters
    ----------
    period : str, pandas.Timedelta or pandas.DatetimeIndex
        A duration (``"1h"``, ``"1D"``), or the data's stamps: one day for daily data (a
        trading day on the equity calendar), the most common spacing for intraday data.

    Returns
    -------
    pandas.Timedelta
        Positive.

    Raises
    ------
    SpecificationError
        For an unreadable or non-positive duration.
    DataError
        For an index that is neither daily nor intraday (weekly, monthly, irregular).

    Examples
    --------
    >>> period_length(pd.date_range("2025-10-01", periods=48, freq="h", tz="UTC"))
    Timedelta('0 days 01:00:00')
    """
    if isinstance(period, pd.DatetimeIndex):
        frequency = infer_frequency(period)
        if frequency.kind == "other" or frequency.step is None:
            raise DataError(
                f"the data are {frequency}, neither daily nor intraday: no period length to "
                "convert a duration with; resample to daily or intraday bars first"
            )
        return frequency.step
    try:
        length = pd.Timedelta(period)
    except (TypeError, ValueError) as exc:
        raise SpecificationError(
            f"cannot read {period!r} as a duration; use e.g. '8h', '1D' or '2D'"
        ) from exc
    if pd.isna(length) or length <= pd.Timedelta(0):
        raise SpecificationError(f"a period must be a positive duration, got {period!r}")
    return length


def period_text(period: str | pd.Timedelta | pd.DatetimeIndex) -> str:
    """Write a period length the way configs and parameter files hold it.

    Parameters
    ----------
    period : str, pandas.Timedelta or pandas.DatetimeIndex
        As for :func:`period_length`.

    Returns
    -------
    str
        Whole days as ``"1D"``, else whole hours as ``"8h"``, minutes as ``"30min"``,
        seconds as ``"10s"``.

    Examples
    --------
    >>> period_text("24h"), period_text("480min")
    ('1D', '8h')
    """
    seconds = period_length(period).total_seconds()
    for unit, size in (("D", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def mpor_periods(
    mpor: int | str | pd.Timedelta, period: str | pd.Timedelta | pd.DatetimeIndex
) -> int:
    """Express a margin period of risk as a whole number of observation periods.

    Parameters
    ----------
    mpor : int, str or pandas.Timedelta
        A number of periods (an integer, as given), or a duration (``"8h"``, ``"1D"``,
        ``"2D"``) converted with the period length. On daily data a day is one bar: a
        trading day on the equity calendar, a calendar day on the crypto calendar.
    period : str, pandas.Timedelta or pandas.DatetimeIndex
        The length of one period, or the data's stamps (:func:`period_length`).

    Returns
    -------
    int
        At least 1.

    Raises
    ------
    SpecificationError
        For a number that is not a whole number of periods >= 1 (``0.5``: give a duration
        such as ``"12h"``), an unreadable duration, or a duration that is not a whole
        number of periods (``"8h"`` on daily data).

    Examples
    --------
    >>> hourly = pd.date_range("2025-10-01", periods=48, freq="h", tz="UTC")
    >>> mpor_periods("8h", hourly), mpor_periods("1D", hourly), mpor_periods(2, "1D")
    (8, 24, 2)
    """
    if isinstance(mpor, bool) or mpor is None:
        raise SpecificationError(f"mpor must be periods or a duration, got {mpor!r}")
    if isinstance(mpor, int | np.integer | float | np.floating):
        number = float(mpor)
        if not (np.isfinite(number) and number.is_integer() and number >= 1):
            raise SpecificationError(
                f"mpor {mpor!r} is not a whole number of periods >= 1; give a duration for "
                "part of a day (e.g. '12h' on hourly data)"
            )
        return int(number)
    length = period_length(period)
    duration = period_length(mpor)
    ratio = duration / length
    if not float(ratio).is_integer() or ratio < 1:
        raise SpecificationError(
            f"an mpor of {period_text(duration)} is not a whole number of "
            f"{period_text(length)} periods; give a multiple of {period_text(length)}"
        )
    return int(ratio)


def duration_label(periods: int, period: str | pd.Timedelta | pd.DatetimeIndex) -> str:
    """Say how long a number of periods is, in the unit people read (hours or days).

    Parameters
    ----------
    periods : int
        Number of observation periods.
    period : str, pandas.Timedelta or pandas.DatetimeIndex
        As for :func:`period_length`.

    Returns
    -------
    str
        ``"1 day"``, ``"2 days"``, ``"8 hours"``, ``"30 minutes"``: whole days in days,
        otherwise whole hours in hours.

    Examples
    --------
    >>> duration_label(8, "1h"), duration_label(24, "1h"), duration_label(2, "1D")
    ('8 hours', '1 day', '2 days')
    """
    seconds = int(periods) * period_length(period).total_seconds()
    unit, size = next(
        ((u, z) for u, z in (("day", 86400), ("hour", 3600), ("minute", 60)) if seconds % z == 0),
        ("second", 1),
    )
    count = seconds / size
    return f"{count:g} {unit}{'' if count == 1 else 's'}"
