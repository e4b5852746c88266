"""Parse date/time columns: daily dates stay naive, intraday stamps become UTC."""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.errors import DataError

__all__ = ["parse_stamps"]

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
) -> pd.DatetimeIndex:
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

    Returns
    -------
    pandas.DatetimeIndex
        Naive dates when every stamp is at midnight (daily data; a tz-aware midnight
        keeps its local calendar date), otherwise tz-aware UTC stamps.

    Raises
    ------
    DataError
        For a missing or unparsable stamp, naming the row, the value and the asset.
    """
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        parsed = _from_epoch(raw)
    elif isinstance(raw.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(raw):
        parsed = pd.Series(raw)
    else:
        parsed = _from_text(raw)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        position = bad[0]
        asset = f" (asset {assets.iloc[position]!r})" if assets is not None else ""
        value = raw.iloc[position]
        what = "missing date" if pd.isna(value) else f"unparsable date {value!r}"
        raise DataError(
            f"{source}: {what} in column {column!r} at data row {position + 1}{asset}; "
            f"{len(bad)} bad stamp(s) in total - fix the file or pass date_column="
        )
    index = pd.DatetimeIndex(parsed, name="date")
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


def _from_text(raw: pd.Series) -> pd.Series:
    try:
        parsed = pd.to_datetime(raw, errors="coerce")
    except ValueError:
        parsed = pd.to_datetime(raw, errors="coerce", utc=True)
    retry = parsed.isna() & raw.notna()
    if retry.any():
        try:
            again = pd.to_datetime(raw, errors="coerce", format="mixed")
        except ValueError:
            again = pd.to_datetime(raw, errors="coerce", format="mixed", utc=True)
            parsed = pd.to_datetime(raw, errors="coerce", utc=True)
        if again.dtype == parsed.dtype:
            parsed = parsed.where(~retry, again)
    return parsed


def _all_midnight(index: pd.DatetimeIndex) -> bool:
    return bool((index == index.normalize()).all())
