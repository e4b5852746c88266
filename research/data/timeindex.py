"""The one check of a time index, and the one rule for comparing a stamp with it.

Prices, returns, residuals and backtest inputs all pass through :func:`check_time_index`
(directly, or through :func:`research.data.validate_prices`, which reports the same
findings as rows of the data-quality report instead of raising).

Dates given by a user or a catalog (window bounds, sample ranges, a backtest's window) meet
the data through :func:`as_index_timestamp` and :func:`range_mask` only. The rule: **naive
means UTC for 24/7 data, the exchange calendar's date for equities.** On tz-aware (UTC,
intraday) data a naive stamp is a UTC time, and a naive date closing a range covers its
whole UTC day; on naive daily data a tz-aware stamp becomes its UTC date (crypto calendar)
or its date in its own time zone (equity calendar: an exchange's stamps carry the
exchange's zone), and a time of day falls within its date's bar.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from research._typing import DateLike
from research.data._format import stamp_text
from research.data.calendar import Frequency, infer_calendar, infer_frequency
from research.errors import DataError, SpecificationError

__all__ = [
    "IndexFinding",
    "as_index_timestamp",
    "check_time_index",
    "index_findings",
    "range_mask",
    "stamp_text",
    "tz_problem",
]


class IndexFinding(NamedTuple):
    """One duplicate or out-of-order stamp of a time index."""

    rule: str
    """``"duplicate_timestamp"`` or ``"unsorted"``."""
    row: int
    """1-based row of the offending stamp."""
    stamp: pd.Timestamp
    detail: str


def index_findings(index: pd.DatetimeIndex) -> list[IndexFinding]:
    """Duplicate and out-of-order stamps of a time index.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        The stamps, in the order given.

    Returns
    -------
    list of IndexFinding
        One ``duplicate_timestamp`` finding per repeated stamp (at its second
        occurrence), then one ``unsorted`` finding for every stamp earlier than the one
        before it, each in index order.
    """
    found: list[IndexFinding] = []
    repeated = np.flatnonzero(np.asarray(index.duplicated(keep="first")))
    seen: set[pd.Timestamp] = set()
    for position in repeated:
        stamp = index[position]
        if stamp in seen:
            continue
        seen.add(stamp)
        count = int((index == stamp).sum())
        found.append(
            IndexFinding(
                "duplicate_timestamp", int(position) + 1, stamp, f"{count} rows share this stamp"
            )
        )
    backwards = np.flatnonzero(np.asarray(index[1:] < index[:-1]))
    for position in backwards:
        found.append(
            IndexFinding(
                "unsorted",
                int(position) + 2,
                index[position + 1],
                f"comes after {stamp_text(index[position])}",
            )
        )
    return found


def tz_problem(index: pd.DatetimeIndex) -> str | None:
    """Say how a time index breaks the package's time-zone policy (``None`` if it does not).

    The policy: daily data have naive dates (every stamp at midnight, no time zone);
    intraday data have tz-aware UTC stamps (:func:`research.data.read_prices` produces
    both). Naive intraday stamps are refused because their time zone is unknown, and
    stamps in another time zone because day boundaries and gaps would be read in it.

    Parameters
    ----------
    index : pandas.DatetimeIndex

    Returns
    -------
    str or None
        What is wrong and what to do.
    """
    if index.tz is None:
        if len(index) and not bool((index == index.normalize()).all()):
            first = index[np.flatnonzero(np.asarray(index != index.normalize()))[0]]
            return (
                f"intraday stamps without a time zone (first {first}); intraday data must be "
                "in UTC: frame.tz_localize('UTC') (or tz_localize(<zone>).tz_convert('UTC'))"
            )
        return None
    if str(index.tz) not in ("UTC", "UTC+00:00", "utc"):
        return (
            f"stamps are in time zone {index.tz}; the package uses naive dates for daily "
            "data and UTC for intraday data: frame.tz_convert('UTC'), or "
            "frame.tz_localize(None) for dates"
        )
    return None


def check_time_index(
    frame: pd.DataFrame | pd.Series,
    *,
    what: str = "data",
    min_rows: int = 0,
) -> Frequency:
    """Check that a frame is indexed by sorted, unique stamps that follow the tz policy.

    Every public entry point that takes dated data calls this first: a reversed, shuffled
    or duplicated index would otherwise give a silently wrong answer (returns across the
    wrong days, a GARCH recursion run backwards, a backtest margining the future).

    Parameters
    ----------
    frame : pandas.DataFrame or pandas.Series
        Dated data (prices, returns, residuals).
    what : str
        What the data are, for messages (``"returns"``, ``"prices"``, ...).
    min_rows : int
        Fewest rows accepted (0: no minimum here; the caller checks its own).

    Returns
    -------
    Frequency
        The sampling frequency (:func:`research.data.infer_frequency`).

    Raises
    ------
    DataError
        When the index is not a DatetimeIndex, has a missing stamp (NaT), a duplicate
        stamp, a stamp earlier than the one before it (the message names the first
        offending stamp and its row, and says whether the whole index is reversed), or
        breaks the time-zone policy (:func:`tz_problem`); or when there are fewer than
        ``min_rows`` rows.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"A": [1.0, 2.0]}, index=pd.to_datetime(["2024-01-02", "2024-01-01"]))
    >>> check_time_index(frame, what="returns")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    research.errors.DataError: returns: the index is sorted in reverse date order ...
    """
    if not isinstance(frame, pd.DataFrame | pd.Series):
        raise DataError(f"{what} must be a pandas DataFrame or Series, got {type(frame).__name__}")
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        raise DataError(
            f"{what}: the index must be a DatetimeIndex of dates or UTC timestamps, got "
            f"{type(index).__name__}; read files with research.data.read_prices or set the "
            "index with pandas.to_datetime"
        )
    if len(index) < min_rows:
        raise DataError(f"{what}: {len(index)} row(s); at least {min_rows} are needed")
    if index.hasnans:
        row = int(np.flatnonzero(np.asarray(index.isna()))[0])
        raise DataError(f"{what}: missing stamp (NaT) in row {row + 1}; drop or fix that row")
    if not (index.is_monotonic_increasing and index.is_unique):
        raise DataError(f"{what}: {_order_message(index)}")
    problem = tz_problem(index)
    if problem is not None:
        raise DataError(f"{what}: {problem}")
    return infer_frequency(index)


def _order_message(index: pd.DatetimeIndex) -> str:
    if len(index) > 1 and index.is_monotonic_decreasing and index.is_unique:
        return (
            f"the index is sorted in reverse date order ({stamp_text(index[0])} first, "
            f"{stamp_text(index[-1])} last); reverse it with frame.sort_index() - results "
            "on reversed data run time backwards"
        )
    findings = index_findings(index)
    steps = [f for f in findings if f.rule == "unsorted"]
    if steps:
        first = steps[0]
        return (
            f"stamps are not sorted: {stamp_text(first.stamp)} (row {first.row}) "
            f"{first.detail} ({len(steps)} such step(s)); sort with frame.sort_index() "
            "after checking that the dates were read correctly"
        )
    duplicates = [f for f in findings if f.rule == "duplicate_timestamp"]
    first = duplicates[0]
    return (
        f"duplicate stamp {stamp_text(first.stamp)} (row {first.row}): {first.detail} "
        f"({len(duplicates)} repeated stamp(s)); keep one row per stamp, e.g. "
        "frame[~frame.index.duplicated()]"
    )


def as_index_timestamp(
    value: DateLike, index: pd.DatetimeIndex, *, end: bool = False, what: str = "date"
) -> pd.Timestamp:
    """Read a date or time so that it compares with a time index (the package's tz rule).

    * **tz-aware index** (intraday UTC data, 24/7): a naive value is a UTC time, an aware
      one is converted to the index's zone. With ``end=True`` a naive date (midnight, no
      zone) becomes the last instant of that UTC day, so a range ending on a date covers
      the whole day.
    * **naive index** (daily dates): an aware value is read as a date: its UTC date when
      the index follows the crypto calendar, its date in its own time zone on the equity
      calendar (:func:`research.data.infer_calendar`). On daily data (every stamp at
      midnight) a time of day is dropped: the daily bar stands for its whole day.

    Parameters
    ----------
    value : date-like
        A string, date, datetime, Timestamp or numpy datetime64.
    index : pandas.DatetimeIndex
        The data's stamps.
    end : bool
        Whether the value closes an inclusive range (see above).
    what : str
        What the value is, for the error message.

    Returns
    -------
    pandas.Timestamp
        Naive for a naive index, in the index's zone otherwise.

    Raises
    ------
    SpecificationError
        If the value cannot be read as a date or is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> hourly = pd.date_range("2025-10-10", periods=48, freq="h", tz="UTC", unit="us")
    >>> as_index_timestamp("2025-10-10", hourly, end=True)
    Timestamp('2025-10-10 23:59:59.999999+0000', tz='UTC')
    >>> daily = pd.date_range("2025-10-01", periods=30, freq="D")
    >>> as_index_timestamp(pd.Timestamp("2025-10-10 23:30", tz="America/New_York"), daily)
    Timestamp('2025-10-11 00:00:00')
    """
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise SpecificationError(f"cannot read {what} {value!r} as a date or time") from exc
    if pd.isna(stamp):
        raise SpecificationError(f"{what} is missing ({value!r})")
    is_date = stamp.tzinfo is None and stamp == stamp.normalize()
    if index.tz is not None:
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("UTC")
        stamp = stamp.tz_convert(index.tz)
        if end and is_date:  # the day's last instant at the index's resolution
            stamp = stamp + pd.Timedelta(days=1) - pd.Timedelta(1, index.unit)
        return stamp
    if stamp.tzinfo is not None:
        if infer_calendar(index) == "crypto":
            stamp = stamp.tz_convert("UTC")
        stamp = stamp.tz_localize(None)
    if len(index) and bool((index == index.normalize()).all()):
        stamp = stamp.normalize()
    return stamp


def range_mask(index: pd.DatetimeIndex, start: DateLike | None, end: DateLike | None) -> np.ndarray:
    """Boolean mask of the stamps in an inclusive range, under :func:`as_index_timestamp`.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        The data's stamps.
    start, end : date-like or None
        Inclusive bounds (``None``: open). A naive date as ``end`` covers its whole day.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> import pandas as pd
    >>> hourly = pd.date_range("2025-10-10 22:00", periods=4, freq="h", tz="UTC")
    >>> range_mask(hourly, "2025-10-10", "2025-10-10").tolist()
    [True, True, False, False]
    """
    mask = np.ones(len(index), dtype=bool)
    if start is not None:
        mask &= np.asarray(index >= as_index_timestamp(start, index, what="start"))
    if end is not None:
        mask &= np.asarray(index <= as_index_timestamp(end, index, end=True, what="end"))
    return mask
