"""Read price files (CSV or Parquet, wide or long form) into a validated wide panel."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from research.data._dates import parse_stamps
from research.data._format import stamp_text
from research.data.attached import attach_quality
from research.data.bars import FIELDS, Bars
from research.data.calendar import Calendar, check_calendar
from research.data.quality import DataQualityReport, issue_frame, repair_frame
from research.data.validation import DEFAULT_OUTLIER_Z, ValueKind, validate_prices
from research.errors import DataError, SpecificationError

__all__ = ["read_bars", "read_prices"]

DATE_NAMES: tuple[str, ...] = (
    "date",
    "datetime",
    "timeutc",
    "timestamputc",
    "time",
    "timestamp",
    "day",
    "dt",
)
"""Date column names tried in order (case, spaces and underscores ignored)."""

ASSET_NAMES: tuple[str, ...] = (
    "asset",
    "symbol",
    "ticker",
    "instrument",
    "coin",
    "security",
    "name",
    "code",
    "id",
)
"""Asset column names tried in order; only a non-numeric column qualifies."""

PRICE_NAMES: tuple[str, ...] = (
    "adjclose",
    "adjustedclose",
    "close",
    "price",
    "settle",
    "settlement",
    "last",
    "pxlast",
    "value",
)
"""Price column names tried in order (adjusted close before close)."""

OHLC_NAMES: frozenset[str] = frozenset({"open", "high", "low", "volume"})
"""Two or more of these in a wide file mean one asset's bars, not one column per asset."""

RATE_PATTERN = re.compile(r"funding|rate|yield|spread|basis|interest")
"""Value columns whose names all match are rates, not prices (positivity not enforced)."""

CSV_SUFFIXES: tuple[str, ...] = (
    ".csv",
    ".csv.gz",
    ".csv.bz2",
    ".csv.zip",
    ".csv.xz",
    ".txt",
    ".tsv",
)
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq", ".parq")


def read_prices(
    path: str | Path,
    *,
    price_column: str | None = None,
    asset_column: str | None = None,
    date_column: str | None = None,
    asset_name: str | None = None,
    values: ValueKind | None = None,
    duplicates: Literal["raise", "first", "last"] = "raise",
    sort: bool = False,
    tz: str = "UTC",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    calendar: Calendar | None = None,
    max_gap: int | None = None,
    outlier_z: float = DEFAULT_OUTLIER_Z,
    min_rows: int = 2,
    warn: bool = True,
) -> pd.DataFrame:
    """Read a CSV or Parquet file of prices into a validated wide panel.

    The layout is detected:

    * **long** form has an asset column (``asset``, ``symbol``, ``ticker``, ...): one row
      per (date, asset) with a price column (``adj_close``, ``close``, ``price``, ...);
      other columns (open, volume, ...) are ignored here: :func:`read_bars` reads the
      open, high, low and close panels of such a file.
    * **wide** form has a date column and one numeric column per asset.
    * a wide file with two or more of ``open/high/low/volume`` holds one asset's bars:
      the price column is taken and the asset is named ``asset_name`` or the file stem.

    The date column is ``date``, ``datetime``, ``time_utc``, ``time``, ``timestamp``, ...
    (or the first column). Daily dates (all stamps at midnight) stay naive dates;
    intraday stamps become tz-aware UTC (naive ones are taken to be in ``tz``).

    Numeric day/month dates (``05/03/2020``, ``5.3.20``) are read one way for the whole
    file, never row by row: as ``date_format`` or ``dayfirst`` say; otherwise day-first
    when some first field is above 12, month-first when some second field is. When every
    value reads both ways and the readings differ (no field above 12, as in a monthly
    ``01/mm/yyyy`` file), the file is refused: pass ``dayfirst`` or ``date_format``.

    Parameters
    ----------
    path : str or pathlib.Path
        ``.csv`` (optionally ``.gz/.bz2/.zip/.xz``), ``.tsv``, ``.txt`` or ``.parquet``.
    price_column, asset_column, date_column : str, optional
        Override the detected columns.
    asset_name : str, optional
        Name of the single asset of an OHLC-bar file (default: the file stem).
    values : {"prices", "rates"}, optional
        ``"rates"`` for series that are not prices (funding rates, yields): no positivity
        rule, outliers on first differences. Default: ``"rates"`` when every value
        column name contains funding/rate/yield/spread/basis/interest, else ``"prices"``.
    duplicates : {"raise", "first", "last"}
        Repeated (date, asset) stamps raise by default; ``"first"``/``"last"`` keep one
        row in file order, and every dropped row is counted in the report.
    sort : bool
        Rows out of date order (within an asset) raise by default; ``True`` sorts them
        and counts the moved rows in the report.
    tz : str
        Time zone of naive intraday stamps.
    date_format : str, optional
        ``strftime`` format of the date column (e.g. ``"%d/%m/%Y %H:%M"``); every row must
        match it.
    dayfirst : bool, optional
        Read numeric dates as day/month (``True``) or month/day (``False``).
    calendar, max_gap, outlier_z, min_rows, warn
        Passed to :func:`research.data.validate_prices`.

    Returns
    -------
    pandas.DataFrame
        float64, DatetimeIndex named ``"date"``, columns named ``"asset"`` (long files:
        in order of first appearance), NaN before an asset's first price. The
        :class:`~research.data.DataQualityReport` is stored in ``attrs["quality"]``
        (read it with :func:`research.data.quality_report`).

    Raises
    ------
    SpecificationError
        For an unknown ``duplicates``, ``values`` or ``calendar`` option, or both
        ``date_format`` and ``dayfirst`` given.
    DataError
        Missing or unreadable file, duplicate column headers, no date or price column,
        unparsable or ambiguous dates (dd/mm or mm/dd), unparsable price, duplicate or
        unsorted stamps (without a policy), non-positive price, all-NaN asset; the
        message names the asset, the date and what to do.
    InsufficientDataError
        Fewer than ``min_rows`` dates.

    Examples
    --------
    >>> prices = read_prices("crypto_spot_daily_binance.csv")  # doctest: +SKIP
    >>> quality_report(prices).summary()  # doctest: +SKIP
    """
    if duplicates not in ("raise", "first", "last"):
        raise SpecificationError(
            f"duplicates must be 'raise', 'first' or 'last', got {duplicates!r}"
        )
    if values not in (None, "prices", "rates"):
        raise SpecificationError(f"values must be 'prices', 'rates' or None, got {values!r}")
    if calendar is not None:
        check_calendar(calendar)
    if dayfirst not in (None, True, False):
        raise SpecificationError(f"dayfirst must be True, False or None, got {dayfirst!r}")
    if date_format is not None and dayfirst is not None:
        raise SpecificationError(
            "pass either date_format= or dayfirst=, not both (the format already says the "
            "order of day and month)"
        )
    dates = {"tz": tz, "date_format": date_format, "dayfirst": dayfirst}
    path = Path(path)
    source = path.name
    raw = _read_table(path)
    if raw.empty:
        raise DataError(f"{source}: the file has no data rows")
    date_col = _date_column(raw, date_column, source)
    value_cols = [c for c in raw.columns if c != date_col]
    asset_col = _asset_column(raw, value_cols, asset_column, source)
    issues: list[dict[str, Any]] = []
    repairs: list[dict[str, Any]] = []
    if asset_col is not None:
        others = [c for c in value_cols if c != asset_col]
        price_col = _price_column(others, price_column, source, required=True)
        frame, kind_names = _from_long(
            raw, date_col, asset_col, price_col, dates, source, duplicates, sort, issues, repairs
        )
    else:
        frame, kind_names = _from_wide(
            raw,
            date_col,
            value_cols,
            price_column,
            asset_name,
            path,
            dates,
            source,
            duplicates,
            sort,
            issues,
            repairs,
        )
    if values is None:
        values = (
            "rates" if all(RATE_PATTERN.search(str(n).lower()) for n in kind_names) else "prices"
        )
    attach_quality(
        frame,
        DataQualityReport(
            assets=pd.DataFrame(),
            issues=issue_frame(issues),
            repairs=repair_frame(repairs),
            source=source,
            values=values,
        ),
    )
    report = validate_prices(
        frame,
        values=values,
        calendar=calendar,
        max_gap=max_gap,
        outlier_z=outlier_z,
        min_rows=min_rows,
        warn=warn,
        source=source,
    )
    attach_quality(frame, report)
    return frame


def read_bars(path: str | Path, **options: Any) -> Bars:
    """Read the open, high, low and close panels of an OHLC file (long or wide bars).

    Each field is read as :func:`read_prices` reads the close (``price_column=field``), so
    the four panels share stamps, assets and checks.

    Parameters
    ----------
    path : str or pathlib.Path
        A long file (``date, asset, open, high, low, close, ...``, like the shared crypto
        files) or one asset's wide bars (``date, open, high, low, close``).
    **options
        Further :func:`read_prices` options (``duplicates``, ``sort``, ``asset_name``,
        ...); validation warnings are given once, for the close.

    Returns
    -------
    Bars
        With the close panel's data-quality report in ``bars.close.attrs["quality"]``.

    Raises
    ------
    DataError
        When the file lacks one of the columns open/high/low/close, or a bar's low or
        high contradicts its open and close.

    Examples
    --------
    >>> bars = read_bars("crypto_perp_hourly_binance.csv")  # doctest: +SKIP
    >>> worst_moves(bars, 8, "long")  # doctest: +SKIP
    """
    if "price_column" in options:
        raise SpecificationError("read_bars reads every field; do not pass price_column=")
    path = Path(path)
    header = _read_table(path).columns
    missing = [f for f in FIELDS if _find(list(header), [f]) is None]
    if missing:
        raise DataError(
            f"{path.name}: no {'/'.join(missing)} column(s) among {list(header)}; read_bars "
            "needs open, high, low and close - read closes with read_prices"
        )
    warn = bool(options.pop("warn", True))
    panels = {
        field: read_prices(
            path,
            price_column=_find(list(header), [field]),
            warn=warn and field == "close",
            **options,
        )
        for field in FIELDS
    }
    return Bars(**panels)


def _read_table(path: Path) -> pd.DataFrame:
    name = path.name.lower()
    if not path.is_file():
        raise DataError(f"no such price file: {path}")
    if not name.endswith(PARQUET_SUFFIXES + CSV_SUFFIXES):
        raise DataError(
            f"{path.name}: unknown file type; use one of "
            f"{', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}"
        )
    try:
        if name.endswith(PARQUET_SUFFIXES):
            table = pd.read_parquet(path)
            if isinstance(table.index, pd.DatetimeIndex):
                table = table.reset_index(names=table.index.name or "date")
            header = list(table.columns)
        else:
            sep = "\t" if name.endswith(".tsv") else ","
            header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str).iloc[0].tolist()
            table = pd.read_csv(path, sep=sep)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError, ValueError) as exc:
        raise DataError(f"{path.name}: cannot read the file ({exc})") from exc
    _refuse_duplicate_headers(header, path.name)
    return table


def _refuse_duplicate_headers(names: list[Any], source: str) -> None:
    """Raise on a repeated column name (pandas would silently rename it ``A.1``)."""
    seen: dict[Any, int] = {}
    for position, name in enumerate(names):
        if name in seen:
            raise DataError(
                f"{source}: duplicate column header {name!r} (columns {seen[name] + 1} and "
                f"{position + 1}); each asset needs one column - rename or drop one of them"
            )
        seen[name] = position


def _key(name: Any) -> str:
    return re.sub(r"[\s_\-.]", "", str(name).lower())


def _find(columns: Sequence[Any], names: Sequence[str]) -> Any | None:
    keys = {_key(c): c for c in reversed(list(columns))}
    return next((keys[n] for n in names if n in keys), None)


def _date_column(raw: pd.DataFrame, explicit: str | None, source: str) -> Any:
    if explicit is not None:
        if explicit not in raw.columns:
            raise DataError(f"{source}: date_column {explicit!r} not among {list(raw.columns)}")
        return explicit
    found = _find(raw.columns, DATE_NAMES)
    if found is not None:
        return found
    first = raw.columns[0]
    column = raw[first]
    if not pd.api.types.is_numeric_dtype(column):
        parsed = pd.to_datetime(column, errors="coerce", format="mixed", utc=True)
        if parsed.notna().mean() > 0.5:
            return first
    raise DataError(f"{source}: no date column found among {list(raw.columns)}; pass date_column=")


def _asset_column(
    raw: pd.DataFrame, value_cols: list[Any], explicit: str | None, source: str
) -> Any | None:
    if explicit is not None:
        if explicit not in raw.columns:
            raise DataError(f"{source}: asset_column {explicit!r} not among {list(raw.columns)}")
        return explicit
    text = [c for c in value_cols if not pd.api.types.is_numeric_dtype(raw[c])]
    return _find(text, ASSET_NAMES)


def _price_column(
    value_cols: list[Any], explicit: str | None, source: str, *, required: bool
) -> Any | None:
    if explicit is not None:
        if explicit not in value_cols:
            raise DataError(f"{source}: price_column {explicit!r} not among {value_cols}")
        return explicit
    found = _find(value_cols, PRICE_NAMES)
    if found is None and required:
        raise DataError(
            f"{source}: no price column found among {value_cols}; expected one of "
            f"close/adj_close/price/settle/last/value - pass price_column="
        )
    return found


def _numeric(
    column: pd.Series,
    assets: pd.Series | None,
    asset: Any,
    stamps: pd.DatetimeIndex,
    name: Any,
    source: str,
) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=float, na_value=np.nan)
    text = column.astype("string").str.strip()
    numbers = pd.to_numeric(text.replace("", pd.NA), errors="coerce")
    bad = np.flatnonzero((numbers.isna() & text.notna() & (text != "")).to_numpy())
    if len(bad):
        position = bad[0]
        label = assets.iloc[position] if assets is not None else asset
        raise DataError(
            f"{source}: unparsable price {column.iloc[position]!r} for asset {label!r} on "
            f"{stamps[position]} (column {name!r}, data row {position + 1}); "
            f"{len(bad)} such value(s) - fix the file"
        )
    return numbers.to_numpy(dtype=float, na_value=np.nan)


def _from_long(
    raw: pd.DataFrame,
    date_col: Any,
    asset_col: Any,
    price_col: Any,
    dates: dict[str, Any],
    source: str,
    duplicates: str,
    sort: bool,
    issues: list[dict[str, Any]],
    repairs: list[dict[str, Any]],
) -> tuple[pd.DataFrame, list[Any]]:
    assets = raw[asset_col]
    if assets.isna().any():
        position = int(np.flatnonzero(assets.isna().to_numpy())[0])
        raise DataError(
            f"{source}: missing asset name in column {asset_col!r} at data row {position + 1} "
            f"(date {raw[date_col].iloc[position]!r}); fix the file"
        )
    assets = assets.astype(str)
    stamps, reading = parse_stamps(
        raw[date_col], column=str(date_col), assets=assets, source=source, **dates
    )
    prices = _numeric(raw[price_col], assets, None, stamps, price_col, source)
    table = pd.DataFrame({"date": stamps, "asset": assets.to_numpy(), "price": prices})
    order = list(pd.unique(table["asset"]))
    table = _sort_rows(table, source, sort, reading, issues, repairs)
    table = _drop_duplicates(table, source, duplicates, issues, repairs)
    frame = table.pivot(index="date", columns="asset", values="price")
    frame = frame.reindex(columns=order).astype("float64")
    frame.columns = pd.Index([str(c) for c in frame.columns], name="asset", dtype=object)
    frame.index.name = "date"
    return frame, [price_col]


def _from_wide(
    raw: pd.DataFrame,
    date_col: Any,
    value_cols: list[Any],
    price_column: str | None,
    asset_name: str | None,
    path: Path,
    dates: dict[str, Any],
    source: str,
    duplicates: str,
    sort: bool,
    issues: list[dict[str, Any]],
    repairs: list[dict[str, Any]],
) -> tuple[pd.DataFrame, list[Any]]:
    stamps, reading = parse_stamps(raw[date_col], column=str(date_col), source=source, **dates)
    bars = sum(_key(c) in OHLC_NAMES for c in value_cols) >= 2
    if bars or price_column is not None:
        price_col = _price_column(value_cols, price_column, source, required=True)
        name = asset_name or path.name.split(".")[0]
        columns = {name: _numeric(raw[price_col], None, name, stamps, price_col, source)}
        kind_names = [price_col]
    else:
        columns = {str(c): _numeric(raw[c], None, c, stamps, c, source) for c in value_cols}
        kind_names = list(value_cols)
    if not columns:
        raise DataError(f"{source}: no price column besides the date column {date_col!r}")
    long = pd.DataFrame(columns).assign(date=stamps.to_numpy())
    long = long.melt(id_vars="date", var_name="asset", value_name="price", ignore_index=False)
    long = long.sort_index(kind="stable").reset_index(drop=True)
    table = _sort_rows(long, source, sort, reading, issues, repairs)
    table = _drop_duplicates(table, source, duplicates, issues, repairs)
    frame = table.pivot(index="date", columns="asset", values="price")
    frame = frame.reindex(columns=list(columns)).astype("float64")
    frame.columns = pd.Index(list(columns), name="asset", dtype=object)
    frame.index.name = "date"
    return frame, kind_names


def _sort_rows(
    table: pd.DataFrame,
    source: str,
    sort: bool,
    reading: str | None,
    issues: list[dict[str, Any]],
    repairs: list[dict[str, Any]],
) -> pd.DataFrame:
    moved_by_asset: dict[str, int] = {}
    first_bad: tuple[str, pd.Timestamp, pd.Timestamp] | None = None
    for asset, group in table.groupby("asset", sort=False):
        stamps = group["date"].to_numpy()
        backwards = np.flatnonzero(stamps[1:] < stamps[:-1])
        if len(backwards):
            moved = np.argsort(stamps, kind="stable") != np.arange(len(stamps))
            moved_by_asset[str(asset)] = int(moved.sum())
            if first_bad is None:
                at = backwards[0]
                first_bad = (str(asset), group["date"].iloc[at + 1], group["date"].iloc[at])
    if first_bad is None:
        return table
    asset, stamp, before = first_bad
    disorder = (
        f"{source}: rows are not in date order: asset {asset!r} has {stamp_text(stamp)} after "
        f"{stamp_text(before)} ({sum(moved_by_asset.values())} rows out of place)"
    )
    if reading == "mixed formats":
        raise DataError(
            f"{disorder}; the date column holds more than one date format, so the order may "
            "come from a misread rather than from the file - pass date_format= (or "
            "dayfirst=) to read every row the same way"
        )
    if not sort:
        how = f" (numeric dates read {reading})" if reading else ""
        raise DataError(
            f"{disorder}{how}; if the dates are read correctly, pass sort=True to sort them"
        )
    for asset, moved in moved_by_asset.items():
        repairs.append(
            {
                "step": "read",
                "action": "rows_sorted",
                "asset": asset,
                "count": moved,
                "detail": "rows moved into date order",
            }
        )
        issues.append(
            {
                "step": "read",
                "rule": "unsorted",
                "severity": "info",
                "asset": asset,
                "date": None,
                "detail": f"{moved} rows out of date order, sorted",
            }
        )
    return table.sort_values(["asset", "date"], kind="stable")


def _drop_duplicates(
    table: pd.DataFrame,
    source: str,
    duplicates: str,
    issues: list[dict[str, Any]],
    repairs: list[dict[str, Any]],
) -> pd.DataFrame:
    repeated = table.duplicated(["asset", "date"], keep=False)
    if not repeated.any():
        return table
    hits = table[repeated]
    first = hits.iloc[0]
    if duplicates == "raise":
        count = int((hits["asset"].eq(first["asset"]) & hits["date"].eq(first["date"])).sum())
        raise DataError(
            f"{source}: duplicate stamp for asset {first['asset']!r} on "
            f"{stamp_text(first['date'])} "
            f"({count} rows; {int(repeated.sum())} repeated rows in total); pass "
            "duplicates='first' or 'last' to keep one row per stamp"
        )
    dropped = table.duplicated(["asset", "date"], keep=duplicates)
    for (asset, stamp), group in hits.groupby(["asset", "date"], sort=False):
        same = group["price"].nunique(dropna=False) == 1
        issues.append(
            {
                "step": "read",
                "rule": "duplicate_timestamp",
                "severity": "info",
                "asset": asset,
                "date": stamp,
                "detail": f"{len(group)} rows, kept {duplicates}"
                f"{'' if same else ' (prices differ)'}",
            }
        )
    for asset, count in table[dropped].groupby("asset", sort=False).size().items():
        repairs.append(
            {
                "step": "read",
                "action": "duplicates_dropped",
                "asset": asset,
                "count": int(count),
                "detail": f"kept the {duplicates} row",
            }
        )
    return table[~dropped]
