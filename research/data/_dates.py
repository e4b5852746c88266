"""Parse date/time columns: daily dates stay naive, intraday stamps become UTC.

Numeric day/month dates (``03/04/2020``, ``3.4.20``) are read one way for the whole
file: as given by ``date_format`` or ``dayfirst``, else day-first when some first field
exceeds 12, month-first when some second field does, and refused when both readings fit
every row and differ (a monthly ``01/mm/yyyy`` file would otherwise become twelve
consecutive January days).
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from research.errors import DataError

__all__ = ["ParsedStamps", "parse_stamps"]

NUMERIC_DATE = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?=$|[\sT])(.*)$")
"""A date whose first two fields are day and month in some order, the year last."""

CENTURY_PIVOT = 69
"""Two-digit years below this are 20xx, others 19xx (the POSIX ``%y`` rule)."""


class ParsedStamps(NamedTuple):
    """Parsed stamps and how the text was read."""

    index: pd.DatetimeIndex
    """The stamps (naive dates or UTC timestamps), named ``"date"``."""
    reading: str | None
    """How numeric day/month dates were read (e.g. ``"day-first"``), ``"mixed formats"``
    when rows had to be parsed one by one, ``None`` otherwise."""


EPOCH_UNITS: tuple[tuple[float, str], ...] = ((1e11, "s"), (1e14, "ms"), (1e17, "us"))
"""Epoch numbers below each bound are read in that unit (2001-09-09 onwards in seconds is
~1e9, in milliseconds ~1e12); larger numbers are nanoseconds."""


def parse_stamps(
    raw: pd.Series,
    *,
    column: str,
    tz: str = "UTC",
    assets: pd.Series | None = None,
    source: str = "file",
    date_format: str | None = None,
    dayfirst: bool | None = None,
) -> ParsedStamps:
    """Parse a column of dates or timestamps into a DatetimeIndex named ``"date"``.

    Parameters
    ----------
    raw : pandas.Series
        Strings, datetimes or epoch numbers (s, ms, us or ns, detected by magnitude).
    column : str
        Column name, for error messages.
    tz : str
        Time zone of naive intraday stamps (converted to UTC).
    assets : pandas.Series, optional
        Asset of each row (long files), for error messages.
    source : str
        File name, for error messages.
    date_format : str, optional
        ``strftime`` format of text dates (e.g. ``"%d/%m/%Y"``); every row must match.
    dayfirst : bool, optional
        Read numeric dates as day/month (``True``) or month/day (``False``).

    Returns
    -------
    ParsedStamps
        ``index``: naive dates when every stamp is at midnight (daily data; a tz-aware
        midnight keeps its local calendar date), otherwise tz-aware UTC stamps;
        ``reading``: how the text was read.

    Raises
    ------
    DataError
        For a missing or unparsable stamp, naming the row, the value and the asset; for
        numeric dates that read differently day-first and month-first when neither
        ``date_format`` nor ``dayfirst`` says which; and for numeric dates that fit
        neither reading.
    """
    reading = None
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        parsed = _from_epoch(raw)
    elif isinstance(raw.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(raw):
        parsed = pd.Series(raw)
    elif date_format is not None:
        parsed = _to_datetime(raw, format=date_format)
    else:
        parsed, reading = _from_text(raw, dayfirst, column, source)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        position = bad[0]
        asset = f" (asset {assets.iloc[position]!r})" if assets is not None else ""
        value = raw.iloc[position]
        what = "missing date" if pd.isna(value) else f"unparsable date {value!r}"
        raise DataError(
            f"{source}: {what} in column {column!r} at data row {position + 1}{asset}; "
            f"{len(bad)} bad stamp(s) in total - fix the file, or pass date_column=, "
            "date_format= (e.g. '%d/%m/%Y') or dayfirst="
        )
    return ParsedStamps(_normalize(pd.DatetimeIndex(parsed, name="date"), tz), reading)


def _normalize(index: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    if index.tz is None:
        if _all_midnight(index):
            return index
        return index.tz_localize(tz).tz_convert("UTC").rename("date")
    if _all_midnight(index):
        return index.tz_localize(None).rename("date")
    return index.tz_convert("UTC").rename("date")


def _from_epoch(raw: pd.Series) -> pd.Series:
    size = float(np.nanmedian(np.abs(raw.to_numpy(dtype=float, na_value=np.nan))))
    unit = next((name for bound, name in EPOCH_UNITS if size < bound), "ns")
    return pd.to_datetime(raw, unit=unit, utc=True, errors="coerce")


def _to_datetime(values: pd.Series, **options: object) -> pd.Series:
    """``pandas.to_datetime`` with coercion; mixed UTC offsets are converted to UTC."""
    try:
        return pd.to_datetime(values, errors="coerce", **options)
    except ValueError:
        return pd.to_datetime(values, errors="coerce", utc=True, **options)


def _from_text(
    raw: pd.Series, dayfirst: bool | None, column: str, source: str
) -> tuple[pd.Series, str | None]:
    text = raw.astype("string").str.strip()
    fields = text.str.extract(NUMERIC_DATE)
    present = text.notna()
    if present.any() and fields[0].notna()[present].all():
        return _from_numeric(text, fields, dayfirst, column, source)
    if dayfirst is not None:
        return _to_datetime(raw, dayfirst=dayfirst), None
    parsed = _to_datetime(raw)
    retry = parsed.isna() & raw.notna()
    if not retry.any():
        return parsed, None
    again = _to_datetime(raw, format="mixed")
    if again.dtype != parsed.dtype:
        parsed = _to_datetime(raw, utc=True)
        again = _to_datetime(raw, format="mixed", utc=True)
    return parsed.where(~retry, again), "mixed formats"


def _from_numeric(
    text: pd.Series, fields: pd.DataFrame, dayfirst: bool | None, column: str, source: str
) -> tuple[pd.Series, str]:
    first = fields[0].astype("Int64")
    second = fields[2].astype("Int64")
    if dayfirst is None:
        dayfirst = _infer_dayfirst(text, first, second, column, source)
    day, month = (first, second) if dayfirst else (second, first)
    year = fields[3].astype("Int64")
    short = (fields[3].str.len() == 2).fillna(False).astype(bool)
    century = 1900 + 100 * (year < CENTURY_PIVOT).astype("Int64")
    year = year.where(~short, year + century)
    iso = (
        year.astype("string").str.zfill(4)
        + "-"
        + month.astype("string").str.zfill(2)
        + "-"
        + day.astype("string").str.zfill(2)
        + fields[4].fillna("")
    )
    return _to_datetime(iso, format="ISO8601"), "day-first" if dayfirst else "month-first"


def _infer_dayfirst(
    text: pd.Series, first: pd.Series, second: pd.Series, column: str, source: str
) -> bool:
    day_first_fits = bool((second.dropna() <= 12).all())
    month_first_fits = bool((first.dropna() <= 12).all())
    if day_first_fits and not month_first_fits:
        return True
    if month_first_fits and not day_first_fits:
        return False
    if not (day_first_fits or month_first_fits):
        row_day = int(np.flatnonzero((first > 12).fillna(False).to_numpy())[0])
        row_month = int(np.flatnonzero((second > 12).fillna(False).to_numpy())[0])
        raise DataError(
            f"{source}: the dates in column {column!r} fit neither dd/mm nor mm/dd for every "
            f"row: {text.iloc[row_day]!r} (data row {row_day + 1}) needs day-first, "
            f"{text.iloc[row_month]!r} (data row {row_month + 1}) month-first; the file "
            "mixes formats - fix it, or pass date_format= to read one format and see "
            "which rows fail"
        )
    differ = (first != second).fillna(False).to_numpy()
    if not differ.any():
        return True
    row = int(np.flatnonzero(differ)[0])
    raise DataError(
        f"{source}: ambiguous dates in column {column!r}: every value reads both as "
        f"dd/mm and as mm/dd (no field above 12), e.g. {text.iloc[row]!r} (data row "
        f"{row + 1}); pass dayfirst=True or False, or date_format= (e.g. '%d/%m/%Y')"
    )


def _all_midnight(index: pd.DatetimeIndex) -> bool:
    return bool((index == index.normalize()).all())
