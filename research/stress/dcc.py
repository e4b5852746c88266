"""Stressed correlation from a conditional correlation path (e.g. a DCC fit) over a window."""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd

from research._typing import Float64Array3D
from research.errors import DataError, DataQualityWarning, SpecificationError
from research.stress._checks import DIAGONAL_TOLERANCE, check_probability
from research.stress.result import CorrelationBand, StressedCorrelation, build_result
from research.stress.windows import WindowLike, _slice, resolve_window

__all__ = ["dcc_correlation", "path_to_array"]


def path_to_array(path: pd.DataFrame) -> tuple[Float64Array3D, pd.DatetimeIndex, list]:
    """Turn a ``(date, asset) x asset`` correlation path into a ``(T, n, n)`` array.

    Parameters
    ----------
    path : pandas.DataFrame
        Conditional correlations with a two-level row index (date, asset) and the assets as
        columns, the layout of ``DCCResult.correlation``.

    Returns
    -------
    array : numpy.ndarray, shape (T, n, n)
    dates : pandas.DatetimeIndex
    assets : list

    Raises
    ------
    DataError
        If the layout is wrong, a date lacks an asset row, values are missing, or a matrix
        does not have a unit diagonal (e.g. covariances were passed).
    """
    if not isinstance(path, pd.DataFrame) or path.index.nlevels != 2:
        raise DataError(
            "a correlation path must be a DataFrame with a (date, asset) row MultiIndex and "
            "the assets as columns (the layout of DCCResult.correlation)"
        )
    assets = list(path.columns)
    dates = path.index.get_level_values(0).unique()
    if not isinstance(dates, pd.DatetimeIndex):
        raise DataError("the first row level of a correlation path must hold dates")
    dates = dates.sort_values()
    row_assets = set(path.index.get_level_values(1).unique())
    if row_assets != set(assets):
        raise DataError(
            f"correlation path row assets {sorted(map(str, row_assets))} differ from its "
            f"columns {sorted(map(str, assets))}"
        )
    full = path.reindex(pd.MultiIndex.from_product([dates, assets]))
    values = full.to_numpy(dtype=np.float64)
    missing = ~np.isfinite(values)
    if missing.any():
        row = int(np.argwhere(missing)[0][0])
        date, asset = full.index[row]
        raise DataError(
            f"correlation path has missing or non-finite values, first on {date.date()} for "
            f"{asset!r}; fit the model on complete data"
        )
    array = values.reshape(len(dates), len(assets), len(assets))
    diagonal = np.diagonal(array, axis1=1, axis2=2)
    if np.abs(diagonal - 1.0).max() > 1e3 * DIAGONAL_TOLERANCE:
        t = int(np.argmax(np.abs(diagonal - 1.0).max(axis=1)))
        raise DataError(
            f"the path on {dates[t].date()} does not have a unit diagonal; pass conditional "
            "correlations R_t, not covariances H_t"
        )
    return array, dates, assets


def dcc_correlation(
    path: pd.DataFrame,
    window: WindowLike = None,
    *,
    statistic: Literal["mean", "median", "lower", "upper"] = "mean",
    level: float = 0.90,
) -> StressedCorrelation:
    """Summarize a conditional correlation path over a window, pair by pair.

    Parameters
    ----------
    path : pandas.DataFrame
        ``(date, asset) x asset`` conditional correlations, e.g. ``DCCResult.correlation``.
    window : StressWindow, sequence of StressWindow (union), (start, end) or None
        Dates to summarize (None: the whole path).
    statistic : {"mean", "median", "lower", "upper"}
        Per-pair summary over the window: the time average, the median, or the
        ``(1 - level) / 2`` (lower) or ``(1 + level) / 2`` (upper) quantile.
    level : float
        Coverage of the quantile band (always attached as ``band``).

    Returns
    -------
    StressedCorrelation
        ``method="dcc-<statistic>"``, ``nobs`` the number of dates, ``band`` the per-pair
        quantile band over the window.

    Raises
    ------
    DataError
        Malformed path or a window outside it.
    SpecificationError
        Unknown statistic or level outside (0, 1).

    Warns
    -----
    PSDRepairWarning
        Entry-wise medians/quantiles of correlation matrices need not be PSD; such a matrix
        is repaired (and ``repaired`` is True). The mean of correlation matrices is always a
        correlation matrix.
    """
    statistics = ("mean", "median", "lower", "upper")
    if statistic not in statistics:
        raise SpecificationError(f"statistic must be one of {statistics}, got {statistic!r}")
    level = check_probability(level, "level")
    array, dates, assets = path_to_array(path)
    resolved = resolve_window(window)
    positions = pd.Series(np.arange(len(dates)), index=dates)
    selected, notes = _slice(positions.to_frame(), resolved, 1)
    for note in notes:
        warnings.warn(note, DataQualityWarning, stacklevel=2)
    sub = array[selected.iloc[:, 0].to_numpy()]
    alpha = (1.0 - level) / 2.0
    lower = np.quantile(sub, alpha, axis=0)
    upper = np.quantile(sub, 1.0 - alpha, axis=0)
    values = {
        "mean": lambda: sub.mean(axis=0),
        "median": lambda: np.median(sub, axis=0),
        "lower": lambda: lower,
        "upper": lambda: upper,
    }[statistic]()
    band = CorrelationBand(
        lower=pd.DataFrame(lower, index=assets, columns=assets),
        upper=pd.DataFrame(upper, index=assets, columns=assets),
        level=level,
        method="path quantiles",
        n_samples=len(sub),
    )
    return build_result(
        np.array(values, dtype=np.float64),
        assets,
        method=f"dcc-{statistic}",
        window=resolved,
        dates=selected.index,
        nobs=len(sub),
        band=band,
        info={"statistic": statistic, "level": level},
        notes=notes,
    )
