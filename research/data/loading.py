"""One entry point for studies: a dataset name or a file path in, validated prices out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from research._typing import DateLike
from research.data._format import stamp_text
from research.data.attached import attach_quality, stored_quality
from research.data.datasets import dataset_names, load_dataset
from research.data.io import read_prices
from research.data.timeindex import as_index_timestamp
from research.data.validation import validate_prices
from research.errors import DataError, InsufficientDataError

__all__ = ["load_prices"]

VALIDATION_OPTIONS: tuple[str, ...] = ("calendar", "max_gap", "outlier_z", "min_rows")
"""Reader options that also apply when the sliced panel is validated again."""


def load_prices(
    source: str | Path,
    start: DateLike | None = None,
    end: DateLike | None = None,
    **read_options: Any,
) -> pd.DataFrame:
    """Load validated wide prices from a bundled dataset or a file, sliced to a date range.

    Parameters
    ----------
    source : str or pathlib.Path
        A dataset name (see :func:`research.data.list_datasets`) or the path of a CSV or
        Parquet file (see :func:`research.data.read_prices`).
    start, end : date-like, optional
        Inclusive range. Strings follow pandas partial-string slicing, so
        ``end="2025-10-11"`` includes that whole day of intraday data. Other stamps follow
        the package's time-zone rule (:func:`research.data.timeindex.as_index_timestamp`):
        naive means UTC on 24/7 data, and a date as ``end`` covers its whole day.
    **read_options
        Passed to :func:`research.data.read_prices` for files (e.g. ``duplicates``,
        ``sort``, ``price_column``, ``values``).

    Returns
    -------
    pandas.DataFrame
        Prices as from :func:`research.data.read_prices`; the data-quality report in
        ``attrs["quality"]`` describes the sliced panel and keeps the repairs made while
        reading.

    Raises
    ------
    DataError
        Unknown dataset name that is not an existing file either, or any reading or
        validation error.
    InsufficientDataError
        Fewer than two rows in the range.

    Examples
    --------
    >>> from research.data import load_prices
    >>> prices = load_prices("sp500", start="2020-01-01", end="2020-12-31")
    >>> prices.shape
    (253, 20)
    """
    name = str(source)
    sliced_request = start is not None or end is not None
    warn = bool(read_options.pop("warn", True))
    if isinstance(source, str) and name in dataset_names():
        if read_options:
            raise DataError(f"options {sorted(read_options)} apply to files, not to datasets")
        prices = load_dataset(name)
    elif Path(source).is_file():
        prices = read_prices(source, warn=warn and not sliced_request, **read_options)
    else:
        raise DataError(
            f"{name!r} is neither a bundled dataset ({', '.join(dataset_names())}) "
            "nor an existing file"
        )
    if not sliced_request:
        return prices
    index = prices.index
    lower, upper = _bound(start, index, end=False), _bound(end, index, end=True)
    sliced = prices.loc[lower:upper]
    if len(sliced) < 2:
        raise InsufficientDataError(
            f"{name}: {len(sliced)} row(s) between {stamp_text(lower)} and "
            f"{stamp_text(upper)}; the data cover {stamp_text(index[0])}..{stamp_text(index[-1])}"
        )
    report, _ = stored_quality(prices)
    options = {key: read_options[key] for key in VALIDATION_OPTIONS if key in read_options}
    options.setdefault("calendar", report.calendar)
    attach_quality(sliced, validate_prices(sliced, warn=warn, **options))
    return sliced


def _bound(
    stamp: DateLike | None, index: pd.DatetimeIndex, *, end: bool
) -> pd.Timestamp | str | None:
    """Keep a string for pandas' partial-date slicing; read other stamps by the tz rule."""
    if stamp is None or isinstance(stamp, str):
        return stamp
    return as_index_timestamp(stamp, index, end=end, what="end" if end else "start")
