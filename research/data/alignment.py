"""Make the calendar policy of a multi-asset panel explicit: intersect or forward-fill."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from research.data._format import stamp_text
from research.data._warn import warn_quality
from research.data.attached import attach_quality, stored_quality
from research.data.calendar import Calendar, calendar_index, check_calendar, infer_frequency
from research.data.quality import ALL_ASSETS, issue_frame, repair_frame
from research.data.validation import validate_prices
from research.errors import DataError, SpecificationError

__all__ = ["DEFAULT_MAX_FILL", "HISTORY_POLICIES", "align", "listed_mask"]

HISTORY_POLICIES: tuple[str, ...] = ("common", "pairwise")
"""How a panel treats an asset listed later (or delisted earlier) than the others:
``"common"`` keeps only the rows where every asset trades, ``"pairwise"`` keeps every
asset's own history (NaN outside its listed range) for pairwise-complete estimation."""

DEFAULT_MAX_FILL = 3
"""Longest run of missing values that ``how="ffill"`` fills (a long weekend of an equity
next to crypto, or the 3-day hole of the shared crypto file in March 2026)."""

ALIGN_ATTR = "alignment"
"""``attrs`` key of the alignment summary."""


def align(
    prices: pd.DataFrame,
    how: Literal["intersection", "ffill"] = "intersection",
    *,
    max_gap: int = DEFAULT_MAX_FILL,
    calendar: Calendar | None = None,
    on_long_gap: Literal["raise", "drop"] = "raise",
    warn: bool = True,
    history: Literal["common", "pairwise"] = "common",
) -> pd.DataFrame:
    """Return a panel with a value for every asset on every row, saying how it got there.

    ``how="intersection"`` keeps the rows where every asset has a price. ``how="ffill"``
    carries each asset's last price forward over runs of at most ``max_gap`` missing
    rows inside its listed range (first to last price), then drops the rows before the
    last listing or after the first delisting, where some asset has no price at all.

    Rows dropped because an asset was not listed yet are attributed to that asset: an
    asset listed years after the others makes the intersection lose those years, and
    the warning and the report say so.

    Parameters
    ----------
    prices : pandas.DataFrame
        Wide panel (sorted unique DatetimeIndex, one column per asset).
    how : {"intersection", "ffill"}
        The calendar policy.
    max_gap : int
        ``"ffill"`` only: longest run of missing rows that is filled.
    calendar : {"equity", "crypto"}, optional
        ``"ffill"`` only: first reindex to every period of this calendar (daily, or
        hourly etc. around the clock for crypto), so that periods absent from the
        file are filled (and counted) too. Default: keep the existing rows.
    on_long_gap : {"raise", "drop"}
        ``"ffill"`` only: a longer run raises :class:`~research.errors.DataError`
        (naming asset and dates) or, with ``"drop"``, its rows are dropped and flagged.
    warn : bool
        Emit a :class:`~research.errors.DataQualityWarning` when rows are dropped.
    history : {"common", "pairwise"}
        Late listings (:data:`HISTORY_POLICIES`). ``"common"``: the rows before an asset's
        first price (or after its last) are dropped like any other missing value, so the
        panel starts when the last asset lists. ``"pairwise"``: those rows are kept, with
        NaN for the asset that does not trade yet, so each asset keeps its own history and
        each pair its complete rows; ``how`` then applies only inside each asset's listed
        range (:func:`listed_mask`).

    Returns
    -------
    pandas.DataFrame
        No NaN with ``history="common"``; with ``"pairwise"``, NaN only outside each asset's
        listed range. ``attrs["alignment"]``: a dict with ``how``, ``history``, ``rows_in``,
        ``rows_added`` (calendar reindex), ``rows_out``, ``rows_dropped``,
        ``dropped_by_asset`` (rows each asset's missing values caused to drop; a row can
        count for several assets), ``filled`` (values filled per asset), ``first_dates``
        (each asset's first stamp in the result, as text) and ``unlisted_rows`` (rows kept
        with NaN for an asset not listed on them; empty with ``"common"``). ``attrs["quality"]``
        (read it with :func:`research.data.quality_report`): the report of the
        aligned panel, with the alignment's findings and repairs added.

    Raises
    ------
    DataError
        Unsorted or duplicate stamps, a run longer than ``max_gap`` (``"ffill"`` with
        ``on_long_gap="raise"``), or no row left.
    SpecificationError
        For an unknown option.

    Examples
    --------
    >>> from research.data import align, load_dataset
    >>> aligned = align(load_dataset("sp500"))
    >>> aligned.attrs["alignment"]["rows_dropped"]
    0
    """
    if how not in ("intersection", "ffill"):
        raise SpecificationError(f"how must be 'intersection' or 'ffill', got {how!r}")
    if history not in HISTORY_POLICIES:
        raise SpecificationError(
            f"history must be one of {HISTORY_POLICIES} (late listings: rows where all "
            f"assets trade, or each asset's own history), got {history!r}"
        )
    if on_long_gap not in ("raise", "drop"):
        raise SpecificationError(f"on_long_gap must be 'raise' or 'drop', got {on_long_gap!r}")
    if max_gap < 0:
        raise SpecificationError(f"max_gap must be >= 0, got {max_gap}")
    if calendar is not None:
        check_calendar(calendar)
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise DataError("align needs a DatetimeIndex; read files with research.data.read_prices")
    if not (prices.index.is_monotonic_increasing and prices.index.is_unique):
        raise DataError("align needs sorted unique stamps; validate the panel first")
    report, _ = stored_quality(prices)
    frame = prices.astype("float64")
    frame.attrs = {}
    rows_in = len(frame)
    issues: list[dict[str, Any]] = []
    repairs: list[dict[str, Any]] = []
    rows_added = 0
    filled: dict[str, int] = {}
    if how == "ffill":
        if calendar is not None:
            grid = calendar_index(
                frame.index[0], frame.index[-1], calendar, infer_frequency(frame.index)
            )
            grid = grid.union(frame.index)
            rows_added = len(grid) - rows_in
            frame = frame.reindex(grid)
            frame.index.name = "date"
            if rows_added:
                repairs.append(
                    _repair("rows_added", ALL_ASSETS, rows_added, f"{calendar} calendar periods")
                )
        frame, filled = _fill(frame, max_gap, on_long_gap, issues, repairs)
    missing = frame.isna().to_numpy()
    if history == "pairwise":  # an asset not listed yet (or any more) drops no row
        empty = [str(a) for a, none in zip(frame.columns, missing.all(axis=0), strict=True) if none]
        if empty:
            raise DataError(f"assets {empty} have no price; drop them before aligning")
        missing = missing & listed_mask(missing)
        dropped_rows = missing.any(axis=1) | frame.isna().to_numpy().all(axis=1)
    else:
        dropped_rows = missing.any(axis=1)
    dropped_by_asset = {
        str(asset): int(count)
        for asset, count in zip(frame.columns, missing[dropped_rows].sum(axis=0), strict=True)
        if count
    }
    reasons = _drop_reasons(frame, missing, dropped_rows)
    for position, asset in enumerate(frame.columns):
        if str(asset) not in reasons:
            continue
        reason, count = reasons[str(asset)], dropped_by_asset[str(asset)]
        first = frame.index[np.flatnonzero(missing[:, position] & dropped_rows)[0]]
        issues.append(_issue("rows_dropped", "warning", asset, first, f"{count:,} rows: {reason}"))
        repairs.append(_repair("rows_dropped_for_asset", asset, count, reason))
    n_dropped = int(dropped_rows.sum())
    result = frame.loc[~dropped_rows]
    if len(result) == 0:
        raise DataError(
            f"align({how!r}) left no row: the assets never trade together ("
            + "; ".join(f"{a}: {r}" for a, r in reasons.items())
            + ")"
        )
    messages = []
    if n_dropped:
        repairs.append(_repair("rows_dropped", ALL_ASSETS, n_dropped, f"align {how}"))
        worst = sorted(dropped_by_asset.items(), key=lambda item: -item[1])[:3]
        message = (
            f"align({how!r}) dropped {n_dropped:,} of {len(frame):,} rows "
            f"({n_dropped / len(frame):.0%}): "
            + "; ".join(f"{asset} {reasons[asset]}" for asset, _ in worst)
            + ". See attrs['alignment'] and research.data.quality_report(aligned)"
        )
        messages.append("align: " + message)
        if warn:
            warn_quality(message)
    unlisted = result.isna().sum()
    for asset, count in unlisted.items():
        if count:
            repairs.append(
                _repair(
                    "unlisted_rows_kept",
                    str(asset),
                    int(count),
                    "history 'pairwise': rows outside its listed range kept as NaN",
                )
            )
    summary = {
        "how": how,
        "history": history,
        "max_gap": max_gap if how == "ffill" else None,
        "calendar": calendar,
        "rows_in": rows_in,
        "rows_added": rows_added,
        "rows_out": len(result),
        "rows_dropped": n_dropped,
        "dropped_by_asset": dropped_by_asset,
        "filled": filled,
        "first_dates": {
            str(asset): stamp_text(result[asset].first_valid_index()) for asset in result.columns
        },
        "unlisted_rows": {str(a): int(n) for a, n in unlisted.items() if n},
    }
    base = report if report is not None else validate_prices(prices, errors="report", warn=False)
    attach_quality(
        result,
        base.extend(issues=issue_frame(issues), repairs=repair_frame(repairs), warnings=messages),
    )
    attach_quality(result, validate_prices(result, warn=False, calendar=base.calendar))
    result.attrs[ALIGN_ATTR] = summary
    return result


def listed_mask(missing: np.ndarray) -> np.ndarray:
    """Where each asset is listed: from its first to its last value (inclusive).

    Parameters
    ----------
    missing : numpy.ndarray of bool, shape (rows, assets)
        True where a value is missing.

    Returns
    -------
    numpy.ndarray of bool, same shape
        True between each column's first and last non-missing row; a column without any
        value is False throughout.

    Examples
    --------
    >>> import numpy as np
    >>> listed_mask(np.array([[True], [False], [True], [False], [True]])).ravel().tolist()
    [False, True, True, True, False]
    """
    present = ~np.asarray(missing, dtype=bool)
    after_first = np.cumsum(present, axis=0) > 0
    before_last = np.cumsum(present[::-1], axis=0)[::-1] > 0
    return after_first & before_last


def _fill(
    frame: pd.DataFrame,
    max_gap: int,
    on_long_gap: str,
    issues: list[dict[str, Any]],
    repairs: list[dict[str, Any]],
) -> tuple[pd.DataFrame, dict[str, int]]:
    filled: dict[str, int] = {}
    columns = {}
    for asset in frame.columns:
        values = frame[asset].to_numpy(dtype=float, na_value=np.nan)
        valid = np.flatnonzero(~np.isnan(values))
        if len(valid) == 0:
            raise DataError(f"asset {asset!r} has no price; drop the column before aligning")
        inside = np.zeros(len(values), dtype=bool)
        inside[valid[0] : valid[-1] + 1] = True
        starts, lengths = _runs(np.isnan(values) & inside)
        fill = np.zeros(len(values), dtype=bool)
        for start, length in zip(starts, lengths, strict=True):
            stamps = (
                f"{stamp_text(frame.index[start])}..{stamp_text(frame.index[start + length - 1])}"
            )
            if length <= max_gap:
                fill[start : start + length] = True
                continue
            if on_long_gap == "raise":
                raise DataError(
                    f"asset {asset!r} has {length} consecutive missing rows {stamps}, more "
                    f"than max_gap={max_gap}; raise max_gap, use how='intersection' or "
                    "on_long_gap='drop'"
                )
            issues.append(
                _issue(
                    "long_gap",
                    "warning",
                    asset,
                    frame.index[start],
                    f"{length} missing rows {stamps} not filled (max_gap={max_gap}); rows dropped",
                )
            )
        carried = pd.Series(values).ffill().to_numpy()
        values = np.where(fill, carried, values)
        count = int(fill.sum())
        if count:
            filled[str(asset)] = count
            repairs.append(
                _repair("values_filled", str(asset), count, f"forward fill, max_gap={max_gap}")
            )
        columns[asset] = values
    out = pd.DataFrame(columns, index=frame.index)
    out.columns = frame.columns
    return out, filled


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start positions and lengths of the runs of True in a boolean vector."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    change = np.diff(padded)
    starts = np.flatnonzero(change == 1)
    ends = np.flatnonzero(change == -1)
    return starts, ends - starts


def _drop_reasons(
    frame: pd.DataFrame, missing: np.ndarray, dropped_rows: np.ndarray
) -> dict[str, str]:
    reasons: dict[str, str] = {}
    index = frame.index
    for position, asset in enumerate(frame.columns):
        hit = missing[:, position] & dropped_rows
        if not hit.any():
            continue
        valid = np.flatnonzero(~missing[:, position])
        parts = []
        if len(valid) == 0:
            reasons[str(asset)] = "no price at all"
            continue
        before = int(hit[: valid[0]].sum())
        after = int(hit[valid[-1] + 1 :].sum())
        inside = int(hit.sum()) - before - after
        if before:
            parts.append(
                f"not listed before {stamp_text(index[valid[0]])} "
                f"({before:,} rows from {stamp_text(index[0])})"
            )
        if after:
            parts.append(f"no price after {stamp_text(index[valid[-1]])} ({after:,} rows)")
        if inside:
            parts.append(f"{inside:,} missing values inside its listed range")
        reasons[str(asset)] = ", ".join(parts)
    return reasons


def _issue(rule: str, severity: str, asset: str, date: Any, detail: str) -> dict[str, Any]:
    return {
        "step": "align",
        "rule": rule,
        "severity": severity,
        "asset": asset,
        "date": date,
        "detail": detail,
    }


def _repair(action: str, asset: str, count: int, detail: str) -> dict[str, Any]:
    return {"step": "align", "action": action, "asset": asset, "count": count, "detail": detail}
