"""Named stress windows: a catalog shipped as data (windows.yaml) and the window type."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal, get_args

import numpy as np
import pandas as pd
import yaml

from research._typing import DateLike
from research.data import infer_calendar
from research.data.timeindex import as_index_timestamp, range_mask, stamp_text
from research.errors import DataError, DataQualityWarning, InsufficientDataError, SpecificationError

__all__ = [
    "AssetClass",
    "StressWindow",
    "asset_class_of",
    "Window",
    "WindowLike",
    "resolve_window",
    "stress_windows",
    "busiest_span",
    "window_label",
    "window_mask",
]

AssetClass = Literal["equities", "crypto", "custom"]
_ASSET_CLASSES: tuple[str, ...] = get_args(AssetClass)
_CATALOG_FIELDS = ("name", "start", "end", "asset_class", "description", "source")


@dataclass(frozen=True)
class StressWindow:
    """A named, inclusive date window of market stress.

    Parameters
    ----------
    name : str
        Short identifier (e.g. ``"covid_2020"``).
    start, end : date-like
        Inclusive bounds (converted to :class:`pandas.Timestamp`): calendar dates, or times
        of day (detected windows on intraday data, intraday event times). A naive stamp is
        UTC for crypto and the exchange's date for equities; an aware one is converted to
        UTC. A date as ``end`` covers its whole day on intraday data
        (:func:`research.data.timeindex.as_index_timestamp` states the rule).
    asset_class : {"equities", "crypto", "custom"}
        Market the window was defined for (``"custom"`` for ad-hoc and detected windows).
    description : str
        What happened.
    source : str
        Where the dates come from.

    Raises
    ------
    SpecificationError
        If ``end`` is before ``start``, a date cannot be parsed or the asset class is unknown.

    Examples
    --------
    >>> from research.stress import stress_windows
    >>> covid = {w.name: w for w in stress_windows("equities")}["covid_2020"]
    >>> covid.start.date().isoformat(), covid.end.date().isoformat()
    ('2020-02-20', '2020-04-07')
    """

    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    asset_class: AssetClass = "custom"
    description: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        try:
            start = pd.Timestamp(self.start)
            end = pd.Timestamp(self.end)
        except (TypeError, ValueError) as exc:
            raise SpecificationError(
                f"stress window {self.name!r}: cannot read dates {self.start!r}, {self.end!r}"
            ) from exc
        if pd.isna(start) or pd.isna(end):
            raise SpecificationError(f"stress window {self.name!r}: a bound is missing")
        start, end = _utc(start), _utc(end)
        if _naive_utc(end) < _naive_utc(start):
            raise SpecificationError(
                f"stress window {self.name!r} ends ({stamp_text(end)}) before it starts "
                f"({stamp_text(start)})"
            )
        if self.asset_class not in _ASSET_CLASSES:
            raise SpecificationError(
                f"stress window {self.name!r}: asset_class must be one of {_ASSET_CLASSES}, "
                f"got {self.asset_class!r}"
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def covered_by(self, index: pd.Index | pd.DataFrame | pd.Series) -> bool:
        """Whether the data's date range contains the whole window.

        Parameters
        ----------
        index : pandas.DatetimeIndex, DataFrame or Series
            Dates of the data (the index of a frame or series is used).

        Returns
        -------
        bool
        """
        dates = _dates(index)
        return (
            len(dates) > 0
            and dates[0] <= as_index_timestamp(self.start, dates)
            and as_index_timestamp(self.end, dates) <= dates[-1]
        )

    def slice(self, data: pd.DataFrame, *, min_obs: int = 1) -> pd.DataFrame:
        """Rows of ``data`` inside the window.

        Parameters
        ----------
        data : pandas.DataFrame
            Date-indexed data (e.g. returns).
        min_obs : int
            Fewest rows accepted.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        DataError
            If the window does not overlap the data at all.
        InsufficientDataError
            If fewer than ``min_obs`` rows fall inside the window.

        Warns
        -----
        DataQualityWarning
            If the window is only partly covered by the data (estimators record it).
        """
        frame, notes = _slice(data, self, min_obs)
        for note in notes:
            warnings.warn(note, DataQualityWarning, stacklevel=2)
        return frame

    def to_dict(self) -> dict[str, str]:
        """Plain representation (ISO dates), as stored in windows.yaml.

        Returns
        -------
        dict
        """
        return {
            "name": self.name,
            "start": stamp_text(self.start),
            "end": stamp_text(self.end),
            "asset_class": self.asset_class,
            "description": self.description,
            "source": self.source,
        }

    def __str__(self) -> str:
        return f"{self.name} ({stamp_text(self.start)} .. {stamp_text(self.end)})"

    def overlaps(self, other: StressWindow) -> bool:
        """Whether two windows share a moment (dates cover their whole UTC day).

        Parameters
        ----------
        other : StressWindow

        Returns
        -------
        bool
        """
        return _naive_utc(self.start) <= _day_end(other.end) and _naive_utc(
            other.start
        ) <= _day_end(self.end)


#: A resolved window: one interval, or a union of intervals (pooled stress periods).
Window = StressWindow | tuple[StressWindow, ...]
WindowLike = StressWindow | tuple[DateLike, DateLike] | Sequence[StressWindow] | None


def resolve_window(window: WindowLike, name: str = "custom") -> Window | None:
    """Turn a window argument into a :class:`StressWindow` or a union of them.

    Parameters
    ----------
    window : StressWindow, sequence of StressWindow, (start, end) tuple or None
        ``None`` means the whole sample; a sequence of windows means the dates in any of
        them (e.g. every named stress period, pooled).
    name : str
        Name given to a window built from a (start, end) tuple.

    Returns
    -------
    StressWindow, tuple of StressWindow, or None

    Raises
    ------
    SpecificationError
        If ``window`` has another type or is an empty sequence.
    """
    if window is None or isinstance(window, StressWindow):
        return window
    if (
        isinstance(window, list | tuple)
        and window
        and all(isinstance(w, StressWindow) for w in window)
    ):
        return window[0] if len(window) == 1 else tuple(window)
    if isinstance(window, tuple) and len(window) == 2:
        return StressWindow(name, window[0], window[1])
    raise SpecificationError(
        "a window must be a StressWindow, a non-empty sequence of them, a (start, end) tuple "
        f"or None, got {window!r}"
    )


def window_label(window: Window | None) -> str:
    """Describe a resolved window for messages and summaries.

    Parameters
    ----------
    window : StressWindow, tuple of StressWindow or None

    Returns
    -------
    str
    """
    if window is None:
        return "the whole sample"
    if isinstance(window, StressWindow):
        return f"window {window}"
    return "windows " + " + ".join(w.name for w in window)


def window_mask(index: pd.DatetimeIndex, window: Window | None) -> np.ndarray:
    """Boolean mask of the dates inside a window (or inside any window of a union).

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Dates.
    window : StressWindow, tuple of StressWindow or None
        ``None`` selects every date.

    Returns
    -------
    numpy.ndarray of bool
        Bounds compared under the package's time-zone rule
        (:func:`research.data.timeindex.range_mask`): naive or aware windows work on naive
        daily and UTC intraday data alike.
    """
    if window is None:
        return np.ones(len(index), dtype=bool)
    windows = (window,) if isinstance(window, StressWindow) else window
    mask = np.zeros(len(index), dtype=bool)
    for w in windows:
        mask |= range_mask(index, w.start, w.end)
    return mask


def busiest_span(
    index: pd.DatetimeIndex, windows: Window, length: int
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Find the span of ``length`` consecutive dates with the most dates inside the windows.

    Used to cut a short sample (e.g. a notebook's fast mode) that still contains stress.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Dates of the data.
    windows : StressWindow or tuple of StressWindow
        Stress windows.
    length : int
        Number of dates in the span (the whole index if it is shorter).

    Returns
    -------
    (start, end) : tuple of pandas.Timestamp
        First and last date of the span (the earliest such span on ties).

    Raises
    ------
    DataError
        If no date lies inside the windows.
    """
    dates = _dates(index)
    mask = window_mask(dates, windows).astype(np.int64)
    if not mask.any():
        raise DataError(f"no date of the data lies inside {window_label(windows)}")
    length = min(int(length), len(dates))
    counts = np.convolve(mask, np.ones(length, dtype=np.int64), mode="valid")
    first = int(np.argmax(counts))
    return dates[first], dates[first + length - 1]


def asset_class_of(index: pd.Index | pd.DataFrame | pd.Series) -> AssetClass:
    """Return the catalog's asset class for data on a given calendar.

    Parameters
    ----------
    index : pandas.DatetimeIndex, DataFrame or Series
        Dates of the data (the index of a frame or series is used).

    Returns
    -------
    {"crypto", "equities"}
        ``"crypto"`` for data on the 7-day, around-the-clock calendar
        (:func:`research.data.infer_calendar`), ``"equities"`` otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> asset_class_of(pd.date_range("2022-06-01", periods=30, freq="D"))
    'crypto'
    """
    return "crypto" if infer_calendar(_dates(index)) == "crypto" else "equities"


def stress_windows(
    asset_class: AssetClass | None = None,
    *,
    within: pd.Index | pd.DataFrame | pd.Series | None = None,
) -> tuple[StressWindow, ...]:
    """Return the named stress windows shipped in ``research/stress/windows.yaml``.

    ============================  ==========  ==========  =========
    name                          start       end         class
    ============================  ==========  ==========  =========
    gfc_lehman                    2008-09-15  2009-03-09  equities
    aug_2011                      2011-08-01  2011-08-31  equities
    covid_2020                    2020-02-20  2020-04-07  equities
    rates_2022                    2022-01-03  2022-10-12  equities
    crypto_covid_crash            2020-03-09  2020-03-20  crypto
    crypto_mar_12_2020_crash      2020-03-12  2020-03-13  crypto
    crypto_may_2021               2021-05-12  2021-05-25  crypto
    crypto_luna_ust               2022-05-05  2022-05-18  crypto
    crypto_3ac_celsius            2022-06-10  2022-06-21  crypto
    crypto_ftx                    2022-11-06  2022-11-21  crypto
    crypto_oct_2025_liquidations  2025-10-09  2025-10-17  crypto
    crypto_oct_10_2025_cascade    2025-10-10  2025-10-11  crypto
    ============================  ==========  ==========  =========

    Two windows are intraday, in UTC: ``crypto_mar_12_2020_crash`` 2020-03-12 10:00 to
    2020-03-13 02:59:59 (the two legs of the crash on BitMEX, as reported) and
    ``crypto_oct_10_2025_cascade`` 2025-10-10 14:00 to 2025-10-11 02:59:59 (the hours of the
    cascade in the bundled hourly candles). The others are whole days: no cited source gives
    their hours (each window's ``source`` says so).

    Parameters
    ----------
    asset_class : {"equities", "crypto"}, optional
        Keep only that market's windows (default: all).
    within : DatetimeIndex, DataFrame or Series, optional
        Keep only windows wholly inside these dates.

    Returns
    -------
    tuple of StressWindow
        In catalog order. Each has a ``source`` naming where its dates come from.

    Raises
    ------
    SpecificationError
        If ``asset_class`` is unknown.

    Notes
    -----
    The windows are data, not code: edit ``windows.yaml`` to change them. Window dates are
    event dates taken from the cited sources; they are not fitted to any data set.
    """
    if asset_class is not None and asset_class not in _ASSET_CLASSES:
        raise SpecificationError(
            f"asset_class must be one of {_ASSET_CLASSES} or None, got {asset_class!r}"
        )
    selected = tuple(w for w in _catalog() if asset_class is None or w.asset_class == asset_class)
    if within is not None:
        selected = tuple(w for w in selected if w.covered_by(within))
    return selected


@lru_cache(maxsize=1)
def _catalog() -> tuple[StressWindow, ...]:
    """Parse windows.yaml once."""
    text = resources.files("research.stress").joinpath("windows.yaml").read_text("utf-8")
    entries = yaml.safe_load(text)["windows"]
    windows = []
    for entry in entries:
        missing = [key for key in _CATALOG_FIELDS if not entry.get(key)]
        if missing:
            raise SpecificationError(f"windows.yaml entry {entry!r} lacks {missing}")
        windows.append(StressWindow(**{key: entry[key] for key in _CATALOG_FIELDS}))
    names = [w.name for w in windows]
    if len(set(names)) != len(names):
        raise SpecificationError(f"windows.yaml has duplicate names: {names}")
    return tuple(windows)


def _dates(index: pd.Index | pd.DataFrame | pd.Series) -> pd.DatetimeIndex:
    """DatetimeIndex of a frame, series or index (sorted check)."""
    dates = index.index if isinstance(index, pd.DataFrame | pd.Series) else index
    if not isinstance(dates, pd.DatetimeIndex):
        raise DataError(
            f"data must have a DatetimeIndex, got {type(dates).__name__}; "
            "load prices with research.data.load_prices"
        )
    if not dates.is_monotonic_increasing:
        raise DataError("data dates are not sorted; sort the data with .sort_index()")
    return dates


def _slice(
    data: pd.DataFrame, window: Window | None, min_obs: int
) -> tuple[pd.DataFrame, list[str]]:
    """Rows inside the window(s), plus coverage notes; raises on no overlap / too few rows."""
    dates = _dates(data)
    notes: list[str] = []
    label = window_label(window)
    span = f"{stamp_text(dates[0])} .. {stamp_text(dates[-1])}" if len(dates) else "no dates"
    if window is None:
        frame = data
    else:
        windows = (window,) if isinstance(window, StressWindow) else window
        outside = [
            w
            for w in windows
            if len(dates) == 0
            or as_index_timestamp(w.end, dates, end=True) < dates[0]
            or as_index_timestamp(w.start, dates) > dates[-1]
        ]
        if len(outside) == len(windows):
            raise DataError(
                f"{label} lies outside the data ({span}); choose a window inside the data "
                "or load a longer sample"
            )
        for w in windows:
            if w in outside:
                notes.append(f"window {w} lies outside the data ({span}) and adds no rows")
            elif not w.covered_by(dates):
                notes.append(
                    f"window {w} is only partly covered by the data ({span}); the estimate "
                    "uses the covered part"
                )
        frame = data.loc[window_mask(dates, window)]
    if len(frame) < min_obs:
        raise InsufficientDataError(
            f"{label} has {len(frame)} observations, fewer than the {min_obs} required; "
            "use a longer window or lower min_obs"
        )
    return frame, notes


def _utc(stamp: pd.Timestamp) -> pd.Timestamp:
    """Convert an aware stamp to UTC; keep a naive one."""
    return stamp if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _naive_utc(stamp: pd.Timestamp) -> pd.Timestamp:
    """Return a stamp as a naive UTC time, to order windows given naive and aware."""
    return stamp if stamp.tzinfo is None else stamp.tz_convert("UTC").tz_localize(None)


def _day_end(stamp: pd.Timestamp) -> pd.Timestamp:
    """Return the last instant a window end covers (a naive date covers its whole day)."""
    naive = _naive_utc(stamp)
    if stamp.tzinfo is None and naive == naive.normalize():
        return naive + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    return naive
