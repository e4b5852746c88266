"""Daily returns and multi-day (margin period of risk) returns."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from research.data._format import stamp_text
from research.data.attached import attach_quality, stored_quality
from research.data.quality import repair_frame
from research.data.timeindex import check_time_index
from research.data.units import check_return_units, units_of_scale
from research.errors import DataError, SpecificationError

__all__ = ["mpor_returns", "overlapping_sums", "to_returns"]

RETURNS_ATTR = "returns"
"""``attrs`` key describing a returns frame: kind, scale and rows dropped."""


def to_returns(
    prices: pd.DataFrame,
    kind: Literal["log", "simple"] = "log",
    scale: float = 100.0,
    *,
    missing: Literal["raise", "propagate"] = "raise",
) -> pd.DataFrame:
    r"""Turn a wide price panel into returns (log returns in percent by default).

    .. math::

        r_t = s \, \log(P_t / P_{t-1}) \quad\text{(log)}, \qquad
        r_t = s \, (P_t / P_{t-1} - 1) \quad\text{(simple)}

    with scale :math:`s` (100 gives percent, the scale ``arch`` models work best in).

    Parameters
    ----------
    prices : pandas.DataFrame
        Prices (DatetimeIndex, one column per asset), e.g. from
        :func:`research.data.load_prices`.
    kind : {"log", "simple"}
        Log returns (additive over time: use them for MPOR sums) or simple returns.
    scale : float
        Multiplier; 100.0 for percent, 1.0 for fractions.
    missing : {"raise", "propagate"}
        NaN prices raise by default: a return across a hole or a listing date would be
        silently lost or silently span several days. Align the panel first with
        :func:`research.data.align`. ``"propagate"`` returns NaN where either price is
        NaN, and counts those values in the report.

    Returns
    -------
    pandas.DataFrame
        Returns indexed by the later date; the first row is dropped (counted in the
        report stored in ``attrs["quality"]`` as ``first_row_dropped``, when ``prices``
        carry a report that describes them, see :func:`research.data.quality_report`).
        ``attrs["returns"]`` records ``kind``, ``scale`` and ``rows_dropped``.

    Raises
    ------
    DataError
        NaN prices with ``missing="raise"`` or a price at or below zero (both name the
        asset and date), fewer than two rows, a frame marked as rates, or an index that
        is not sorted, unique and tz-consistent
        (:func:`research.data.check_time_index`; the message names the first offending
        stamp).
    SpecificationError
        For an unknown ``kind`` or a non-positive ``scale``.

    Examples
    --------
    >>> from research.data import load_dataset, to_returns
    >>> returns = to_returns(load_dataset("sp500-nasdaq"))
    >>> returns.shape
    (5030, 2)
    """
    if kind not in ("log", "simple"):
        raise SpecificationError(f"kind must be 'log' or 'simple', got {kind!r}")
    if not scale > 0:
        raise SpecificationError(f"scale must be positive, got {scale!r}")
    report, describes = stored_quality(prices)
    if report is not None and report.values == "rates":
        raise DataError(
            f"{report.source}: the columns are rates, not prices; use frame.diff() for changes"
        )
    if len(prices) < 2:
        raise DataError(f"to_returns needs at least two rows of prices, got {len(prices)}")
    check_time_index(prices, what="prices")
    values = prices.to_numpy(dtype=float, na_value=np.nan)
    holes = np.isnan(values)
    if holes.any() and missing == "raise":
        row, col = np.argwhere(holes)[0]
        raise DataError(
            f"NaN price for asset {prices.columns[col]!r} on {stamp_text(prices.index[row])} "
            f"({int(holes.sum())} NaN prices in total); call research.data.align(prices) "
            "first, or pass missing='propagate'"
        )
    bad = ~holes & (values <= 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        hint = (
            " (negative values: the frame may hold returns already)"
            if (values[~holes] < 0).any()
            else ""
        )
        raise DataError(
            f"non-positive price {values[row, col]:g} for asset {prices.columns[col]!r} on "
            f"{stamp_text(prices.index[row])}; returns need positive prices{hint}"
        )
    ratio = values[1:] / values[:-1]
    data = np.log(ratio) if kind == "log" else ratio - 1.0
    returns = pd.DataFrame(data * scale, index=prices.index[1:], columns=prices.columns)
    returns.attrs = {}
    lost = int(np.isnan(data).sum())
    if report is not None and describes:
        rows = [
            {
                "step": "returns",
                "action": "first_row_dropped",
                "asset": "*",
                "count": 1,
                "detail": f"no return on {stamp_text(prices.index[0])}",
            }
        ]
        if lost:
            rows.append(
                {
                    "step": "returns",
                    "action": "nan_returns",
                    "asset": "*",
                    "count": lost,
                    "detail": "returns next to NaN prices",
                }
            )
        attach_quality(returns, report.extend(repairs=repair_frame(rows)))
    returns.attrs[RETURNS_ATTR] = {
        "kind": kind,
        "scale": float(scale),
        "rows_dropped": 1,
        "nan_returns": lost,
    }
    return returns


def mpor_returns(
    data: pd.DataFrame,
    horizon: int,
    overlapping: bool = True,
    *,
    given: Literal["auto", "returns", "prices"] = "auto",
    scale: float = 100.0,
    check_units: bool = True,
    missing: Literal["raise", "propagate"] = "raise",
) -> pd.DataFrame:
    r"""Multi-day log returns over a margin period of risk (MPOR) of ``horizon`` days.

    .. math::

        R_t^{(h)} = \sum_{i=0}^{h-1} r_{t-i}

    the sum of ``horizon`` consecutive daily log returns, labelled by the last day and
    added in date order inside its window (a move depends on its own days only, not on
    where the sample starts).

    Parameters
    ----------
    data : pandas.DataFrame
        Daily log returns (e.g. from :func:`to_returns`) or prices.
    horizon : int
        MPOR in periods (rows), at least 1.
    overlapping : bool
        ``True``: one h-day return per day (a rolling sum; consecutive values share
        ``h - 1`` days). ``False``: disjoint blocks anchored at the **last** row, so the
        most recent block is always complete; the ``n mod h`` oldest returns that do not
        fill a block are dropped and counted.
    given : {"auto", "returns", "prices"}
        What ``data`` holds. ``"auto"``: a frame from :func:`to_returns` (marked in its
        ``attrs``) or with any negative value is returns; a frame of positive values is
        prices (prices are never negative, a long sample of returns always has some).
    scale : float
        Scale of log returns computed from prices (100 = percent); for returns given
        without a :func:`to_returns` marker, the scale they are in.
    check_units : bool
        Check returns given as such with :func:`research.data.check_return_units`
        against their scale (100: percent, 1: decimals; other scales are not checked):
        prices passed with ``given="returns"`` or decimals passed as percent raise.
    missing : {"raise", "propagate"}
        A NaN return raises (``"raise"``, the default: align first), or makes every sum
        whose window holds it NaN (``"propagate"``, for callers that drop and count such
        moves themselves); without NaN both give the same values.

    Returns
    -------
    pandas.DataFrame
        h-day log returns, same columns. ``attrs["returns"]`` records ``kind="log"``,
        ``scale``, ``horizon``, ``overlapping`` and ``rows_dropped``.

    Raises
    ------
    SpecificationError
        For ``horizon < 1``, simple returns (they do not add up over time), a
        horizon longer than the sample or an unknown ``missing``.
    DataError
        For NaN returns with ``missing="raise"`` (align first; the message names asset
        and date), an index that
        is not sorted, unique and tz-consistent (:func:`research.data.check_time_index`)
        or returns that fail the units guard.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"A": [1.0, 2.0, 3.0, 4.0]},
    ...                  index=pd.date_range("2024-01-01", periods=4))
    >>> mpor_returns(r, 2, given="returns")["A"].tolist()
    [3.0, 5.0, 7.0]
    >>> mpor_returns(r, 2, overlapping=False, given="returns")["A"].tolist()
    [3.0, 7.0]
    """
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise SpecificationError(f"horizon must be a positive integer, got {horizon!r}")
    if missing not in ("raise", "propagate"):
        raise SpecificationError(f"missing must be 'raise' or 'propagate', got {missing!r}")
    if _is_prices(data, given):
        returns = to_returns(data, "log", scale)
        source_scale = float(scale)
    else:
        marker = data.attrs.get(RETURNS_ATTR, {})
        if marker.get("kind") == "simple":
            raise SpecificationError(
                "simple returns do not add up over time; compute log returns with "
                "to_returns(prices, kind='log')"
            )
        returns = data
        source_scale = float(marker.get("scale", scale))
        check_time_index(returns, what="returns")
        if check_units:
            check_return_units(returns, units_of_scale(source_scale))
    n_rows = len(returns)
    if horizon > n_rows:
        raise SpecificationError(f"horizon {horizon} is longer than the {n_rows} returns given")
    values = returns.to_numpy(dtype=float, na_value=np.nan)
    holes = np.isnan(values)
    if holes.any() and missing == "raise":
        row, col = np.argwhere(holes)[0]
        raise DataError(
            f"NaN return for asset {returns.columns[col]!r} on {stamp_text(returns.index[row])}; "
            "align the prices first (research.data.align)"
        )
    sums = overlapping_sums(values, horizon)
    index = returns.index[horizon - 1 :]
    if not overlapping:
        keep = np.arange(len(sums) - 1, -1, -horizon)[::-1]
        sums, index = sums[keep], index[keep]
    result = pd.DataFrame(sums, index=index, columns=returns.columns)
    result.attrs = {}
    dropped = n_rows - (len(result) if overlapping else len(result) * horizon)
    report, describes = stored_quality(returns)
    if report is not None and describes:
        detail = (
            "first horizon-1 returns start no full window"
            if overlapping
            else "oldest returns that fill no complete block"
        )
        extended = report.extend(
            repairs=repair_frame(
                [
                    {
                        "step": "mpor",
                        "action": "rows_dropped",
                        "asset": "*",
                        "count": dropped,
                        "detail": detail,
                    }
                ]
            )
        )
        attach_quality(result, extended)
    result.attrs[RETURNS_ATTR] = {
        "kind": "log",
        "scale": source_scale,
        "horizon": int(horizon),
        "overlapping": bool(overlapping),
        "rows_dropped": dropped,
    }
    return result


def overlapping_sums(values: np.ndarray, horizon: int) -> np.ndarray:
    r"""Sum every run of ``horizon`` consecutive rows of an array: the package's one MPOR sum.

    .. math:: S_k = \sum_{i=0}^{h-1} x_{k+i}, \qquad k = 0, \dots, n - h,

    the numpy core of :func:`mpor_returns` (row ``k`` is the window that ends on row
    ``k + h - 1``). Each sum adds its own ``horizon`` rows in order, so a move depends on its
    window only (not on the history before it, as differences of a running total would) and
    a NaN makes exactly the sums of its windows NaN.

    Parameters
    ----------
    values : ndarray of shape (n,) or (n, n_assets)
        Daily log returns (any units; the sums are in the same units).
    horizon : int
        Rows per window, ``1 <= horizon <= n``.

    Returns
    -------
    ndarray of shape (n - horizon + 1,) or (n - horizon + 1, n_assets)
        A new C-contiguous float64 array.

    Raises
    ------
    SpecificationError
        If ``horizon`` is not a whole number in ``[1, n]``.

    Examples
    --------
    >>> import numpy as np
    >>> overlapping_sums(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist()
    [3.0, 5.0, 7.0]
    """
    x = np.asarray(values, dtype=np.float64)
    if (
        isinstance(horizon, bool)
        or not isinstance(horizon, int | np.integer)
        or not 1 <= horizon <= x.shape[0]
    ):
        raise SpecificationError(
            f"horizon must be a whole number of rows in [1, {x.shape[0]}], got {horizon!r}"
        )
    count = x.shape[0] - horizon + 1
    sums = np.array(x[:count], dtype=np.float64, order="C", copy=True)
    for lag in range(1, horizon):
        sums += x[lag : lag + count]
    return sums


def _is_prices(data: pd.DataFrame, given: str) -> bool:
    if given not in ("auto", "returns", "prices"):
        raise SpecificationError(f"given must be 'auto', 'returns' or 'prices', got {given!r}")
    if given != "auto":
        return given == "prices"
    if RETURNS_ATTR in data.attrs:
        return False
    values = data.to_numpy(dtype=float, na_value=np.nan)
    return not bool((values < 0).any())
