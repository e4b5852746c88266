"""Validate a wide price panel and describe it in a :class:`DataQualityReport`."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Literal

import numpy as np
import pandas as pd

from research.data._format import stamp_text
from research.data._warn import warn_quality
from research.data.attached import stored_quality
from research.data.calendar import (
    Calendar,
    Frequency,
    check_calendar,
    find_gaps,
    infer_calendar,
    infer_frequency,
)
from research.data.quality import (
    ALL_ASSETS,
    ASSET_COLUMNS,
    DataQualityReport,
    issue_frame,
    repair_frame,
)
from research.data.timeindex import index_findings, tz_problem
from research.data.units import to_percent
from research.errors import DataError, InsufficientDataError

__all__ = ["DEFAULT_OUTLIER_Z", "validate_prices"]

DEFAULT_OUTLIER_Z = 10.0
"""Returns further than this many standard deviations from the asset's mean are flagged."""

DEFAULT_MAX_GAP: dict[str, int] = {"equity": 1, "crypto": 0}
"""Largest run of missing periods that is not reported, by calendar.

Equity: a single missing weekday is an exchange holiday (holidays are not modelled).
Crypto trades every day and every hour, so every missing period is reported."""

EQUITY_CLOSURE_PERIODS = 5
"""Equity gaps up to this many weekdays are plausible exchange closures (e.g. 4 days
after 2001-09-11): reported as ``info``; longer ones are ``warning``."""

ValueKind = Literal["prices", "rates"]

WARNING_PREFIX = "validate: "
"""Report warning messages are prefixed by their step; re-validation replaces its own."""


def validate_prices(
    prices: pd.DataFrame,
    *,
    values: ValueKind | None = None,
    calendar: Calendar | None = None,
    max_gap: int | None = None,
    outlier_z: float = DEFAULT_OUTLIER_Z,
    min_rows: int = 2,
    errors: Literal["raise", "report"] = "raise",
    warn: bool = True,
    source: str | None = None,
) -> DataQualityReport:
    """Check a wide price panel and return its data-quality report.

    Rules, with the severity of a finding:

    ========================  ========  ==================================================
    rule                      severity  meaning
    ========================  ========  ==================================================
    ``duplicate_timestamp``   error     the same stamp appears more than once
    ``unsorted``              error     stamps are not increasing
    ``all_nan``               error     an asset has no valid value at all
    ``non_finite``            error     an infinite value
    ``non_positive_price``    error     a price at or below zero (prices only)
    ``missing``               warning   NaN between an asset's first and last value
    ``gap``                   warning   a run of more than ``max_gap`` missing calendar
                                        periods (``info`` for equity runs of at most
                                        5 weekdays: plausible exchange closures)
    ``outlier_return``        info      a return with ``|z| > outlier_z``
    ``gap_check_skipped``     info      gaps not checked (weekly/irregular data, or
                                        intraday equity data without session times)
    ========================  ========  ==================================================

    Parameters
    ----------
    prices : pandas.DataFrame
        Wide panel: DatetimeIndex of stamps, one column per asset, NaN before an
        asset's listing (its first value) and after its last value.
    values : {"prices", "rates"}, optional
        ``"rates"`` (funding rates, yields) skips the positivity rule and flags outliers
        in first differences instead of log returns. Default: the value kind recorded
        in the report stored in ``prices.attrs["quality"]``, else ``"prices"``.
    calendar : {"equity", "crypto"}, optional
        Calendar for gaps. Default: inferred (:func:`research.data.infer_calendar`).
    max_gap : int, optional
        Largest run of missing calendar periods that is not reported. Default 1 for
        equity (a single holiday), 0 for crypto.
    outlier_z : float
        Threshold of the outlier rule, in standard deviations of the asset's returns.
    min_rows : int
        Fewest stamps accepted (2 are needed for one return).
    errors : {"raise", "report"}
        ``"raise"``: the first error-severity finding raises. ``"report"``: errors are
        only recorded, so that a broken panel can be inspected.
    warn : bool
        Emit one :class:`~research.errors.DataQualityWarning` summarizing the
        warning-severity findings (its message is also stored in the report).
    source : str, optional
        Label of the data's origin. Default: from ``prices.attrs["quality"]``.

    Returns
    -------
    DataQualityReport
        Findings of this validation plus the read/align steps already recorded in
        ``prices.attrs["quality"]`` (if any).

    Raises
    ------
    DataError
        For an error-severity finding when ``errors="raise"``, for a non-datetime
        index, an index that breaks the time-zone policy
        (:func:`research.data.timeindex.tz_problem`) and for non-numeric columns; the
        message names asset and date.
    InsufficientDataError
        When there are fewer than ``min_rows`` stamps.
    SpecificationError
        For an unknown ``calendar`` name.

    Examples
    --------
    >>> from research.data import load_dataset, validate_prices
    >>> report = validate_prices(load_dataset("sp500"), warn=False)
    >>> report.n_rows
    8313
    """
    previous, _ = stored_quality(prices)
    values = values or (previous.values if previous else "prices")
    source = source or (previous.source if previous else "DataFrame")
    _check_structure(prices, min_rows, source)
    index = pd.DatetimeIndex(prices.index)
    frequency = infer_frequency(index)
    calendar = infer_calendar(index) if calendar is None else check_calendar(calendar)
    tolerance = DEFAULT_MAX_GAP[calendar] if max_gap is None else int(max_gap)

    issues: list[dict[str, Any]] = []
    issues.extend(_index_issues(index))
    skipped = _gap_check_skipped(calendar, frequency)
    if skipped:
        issues.append(_issue("gap_check_skipped", "info", ALL_ASSETS, None, skipped))
    rows = []
    for asset in prices.columns:
        row, found = _check_asset(
            asset, prices[asset], values, calendar, frequency, tolerance, outlier_z
        )
        rows.append(row)
        issues.extend(found)
    assets = pd.DataFrame(rows, columns=["asset", *ASSET_COLUMNS]).set_index("asset")
    assets.columns.name = None
    table = issue_frame(issues)
    if errors == "raise":
        _raise_first_error(table, values, source)

    carried_issues = previous.issues[previous.issues["step"] != "validate"] if previous else None
    carried_repairs = previous.repairs if previous else repair_frame([])
    if carried_issues is not None and not carried_issues.empty:
        table = pd.concat([carried_issues, table], ignore_index=True)
    messages = (
        tuple(m for m in previous.warnings if not m.startswith(WARNING_PREFIX)) if previous else ()
    )
    new_message = _warning_message(table, source, calendar)
    if new_message and warn:
        warn_quality(new_message)
    if new_message:
        messages = (*messages, WARNING_PREFIX + new_message)
    return DataQualityReport(
        assets=assets,
        issues=table,
        repairs=carried_repairs,
        source=source,
        values=values,
        calendar=calendar,
        frequency=str(frequency),
        n_rows=len(index),
        first=index[0] if len(index) else None,
        last=index[-1] if len(index) else None,
        warnings=messages,
    )


def _check_structure(prices: pd.DataFrame, min_rows: int, source: str) -> None:
    if not isinstance(prices, pd.DataFrame):
        raise DataError(f"expected a wide DataFrame of prices, got {type(prices).__name__}")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise DataError(
            f"{source}: the index must be a DatetimeIndex of dates, got "
            f"{type(prices.index).__name__}; read files with research.data.read_prices"
        )
    problem = tz_problem(prices.index)
    if problem is not None:
        raise DataError(f"{source}: {problem}")
    for asset in prices.columns:
        if not pd.api.types.is_numeric_dtype(prices[asset]) or pd.api.types.is_bool_dtype(
            prices[asset]
        ):
            raise DataError(
                f"{source}: asset {asset!r} has non-numeric dtype {prices[asset].dtype}; "
                "convert it with pandas.to_numeric or drop the column"
            )
    if prices.shape[1] == 0:
        raise DataError(f"{source}: no asset columns")
    if len(prices) < min_rows:
        when = f" ({prices.index[0]:%Y-%m-%d})" if len(prices) else ""
        raise InsufficientDataError(
            f"{source}: {len(prices)} row(s){when}; at least {min_rows} dates are needed "
            "(one return needs two prices) - load a longer sample"
        )


def _index_issues(index: pd.DatetimeIndex) -> list[dict[str, Any]]:
    return [
        _issue(found.rule, "error", ALL_ASSETS, found.stamp, found.detail)
        for found in index_findings(index)
    ]


def _check_asset(
    asset: Hashable,
    column: pd.Series,
    values: ValueKind,
    calendar: Calendar,
    frequency: Frequency,
    max_gap: int,
    outlier_z: float,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = column.to_numpy(dtype=float, na_value=np.nan)
    valid = ~np.isnan(data)
    found: list[dict[str, Any]] = []
    row: dict[str, Any] = dict.fromkeys(ASSET_COLUMNS, 0)
    row.update(asset=asset, first=pd.NaT, last=pd.NaT, all_nan=not valid.any(), longest_gap=0)
    if not valid.any():
        found.append(
            _issue(
                "all_nan",
                "error",
                asset,
                column.index[0] if len(column) else None,
                f"no valid value in {len(column)} rows",
            )
        )
        return row, found
    index = column.index
    first_pos, last_pos = np.flatnonzero(valid)[[0, -1]]
    row.update(first=index[first_pos], last=index[last_pos], observations=int(valid.sum()))

    for position in np.flatnonzero(np.isinf(data)):
        found.append(
            _issue("non_finite", "error", asset, index[position], f"value {data[position]}")
        )
    finite = valid & np.isfinite(data)
    if values == "prices":
        bad = np.flatnonzero(finite & (data <= 0))
        row["non_positive"] = len(bad)
        for position in bad:
            found.append(
                _issue(
                    "non_positive_price",
                    "error",
                    asset,
                    index[position],
                    f"price {data[position]:g}",
                )
            )

    inside = np.zeros(len(data), dtype=bool)
    inside[first_pos : last_pos + 1] = True
    holes = np.flatnonzero(inside & ~valid)
    row["missing"] = len(holes)
    for position in holes:
        found.append(
            _issue("missing", "warning", asset, index[position], "NaN inside the listed range")
        )

    observed = pd.DatetimeIndex(index[valid])
    if observed.is_monotonic_increasing and observed.is_unique:
        gaps = find_gaps(observed, calendar, frequency).longer_than(max_gap)
        row.update(
            gaps=len(gaps),
            gap_periods=int(gaps.periods.sum()),
            longest_gap=int(gaps.periods.max()) if len(gaps) else 0,
        )
        unit = "day" if frequency.kind == "daily" else "period"
        for start, end, periods in zip(gaps.start, gaps.end, gaps.periods, strict=True):
            closure = calendar == "equity" and periods <= EQUITY_CLOSURE_PERIODS
            severity = "info" if closure else "warning"
            found.append(
                _issue(
                    "gap",
                    severity,
                    asset,
                    start,
                    f"{periods} missing {unit}{'s' if periods > 1 else ''} "
                    f"{stamp_text(start)}..{stamp_text(end)}",
                )
            )

    usable = finite & (data > 0) if values == "prices" else finite
    series = pd.Series(data[usable], index=index[usable])
    change = to_percent(np.log(series).diff(), "decimal") if values == "prices" else series.diff()
    change = change.iloc[1:]
    spread = change.std()
    if len(change) > 2 and spread > 0:
        z = (change - change.mean()) / spread
        flagged = z[z.abs() > outlier_z]
        row["outliers"] = len(flagged)
        label = "log return" if values == "prices" else "change"
        for stamp, score in flagged.items():
            found.append(
                _issue(
                    "outlier_return",
                    "info",
                    asset,
                    stamp,
                    f"{label} {change[stamp]:.4g}{'%' if values == 'prices' else ''}"
                    f" (z = {score:.1f})",
                )
            )
    return row, found


def _gap_check_skipped(calendar: Calendar, frequency: Frequency) -> str | None:
    if frequency.kind == "other":
        return "gaps not checked: the stamps are neither daily nor intraday"
    if frequency.kind == "intraday" and calendar == "equity":
        return "gaps not checked: intraday equity data have no session calendar here"
    return None


def _raise_first_error(table: pd.DataFrame, values: ValueKind, source: str) -> None:
    errors = table[table["severity"] == "error"]
    if errors.empty:
        return
    order = ["duplicate_timestamp", "unsorted", "all_nan", "non_finite", "non_positive_price"]
    rule = next(name for name in order if (errors["rule"] == name).any())
    hits = errors[errors["rule"] == rule]
    first = hits.iloc[0]
    more = f" ({len(hits)} such findings in total)" if len(hits) > 1 else ""
    where = f"asset {first['asset']!r} on {stamp_text(first['date'])}"
    if rule == "duplicate_timestamp":
        message = (
            f"duplicate timestamp {stamp_text(first['date'])}: {first['detail']}{more}; "
            "read the file with duplicates='first' or 'last' to keep one row"
        )
    elif rule == "unsorted":
        message = (
            f"timestamps are not sorted: {stamp_text(first['date'])} {first['detail']}{more};"
            " read the file with sort=True or sort the index"
        )
    elif rule == "all_nan":
        message = (
            f"asset {first['asset']!r} has no valid value ({first['detail']}, from "
            f"{stamp_text(first['date'])}){more}; drop the column or fix the file"
        )
    elif rule == "non_finite":
        message = f"infinite value for {where}: {first['detail']}{more}; fix the file"
    else:
        hint = "" if values == "rates" else ", or pass values='rates' if these are not prices"
        message = (
            f"non-positive price for {where}: {first['detail']}{more}; prices must be "
            f"> 0 - fix or remove the row{hint}"
        )
    raise DataError(f"{source}: {message}")


def _warning_message(table: pd.DataFrame, source: str, calendar: str) -> str | None:
    current = table[(table["step"] == "validate") & (table["severity"] == "warning")]
    if current.empty:
        return None
    parts = []
    holes = current[current["rule"] == "missing"]
    if not holes.empty:
        example = holes.iloc[0]
        parts.append(
            f"{len(holes)} missing value(s) inside listed ranges in "
            f"{holes['asset'].nunique()} asset(s), first {example['asset']} on "
            f"{stamp_text(example['date'])}"
        )
    gaps = current[current["rule"] == "gap"]
    if not gaps.empty:
        example = gaps.iloc[0]
        parts.append(
            f"{len(gaps)} gap(s) in the {calendar} calendar in "
            f"{gaps['asset'].nunique()} asset(s), first {example['asset']}: "
            f"{example['detail']}"
        )
    return (
        f"{source}: "
        + "; ".join(parts)
        + ". Nothing was filled; see research.data.quality_report(prices) and research.data.align"
    )


def _issue(rule: str, severity: str, asset: Hashable, date: Any, detail: str) -> dict[str, Any]:
    return {
        "step": "validate",
        "rule": rule,
        "severity": severity,
        "asset": asset,
        "date": date,
        "detail": detail,
    }
