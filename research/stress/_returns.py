"""Return-panel preparation shared by the estimators: window, missing values, degenerate assets."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research._typing import Float64Array2D
from research.data import check_time_index
from research.errors import DataError, DataQualityWarning, InsufficientDataError
from research.stress.windows import Window, WindowLike, _slice, resolve_window, window_label

#: Default fewest complete observations for a correlation estimate in a window. Twenty gives
#: a standard error of about (1 - rho^2) / sqrt(20) ~ 0.2 at rho = 0; fewer is noise.
DEFAULT_MIN_OBS = 20


@dataclass(frozen=True)
class WindowData:
    """Complete rows of a return panel inside a window."""

    values: Float64Array2D
    frame: pd.DataFrame
    labels: list
    window: Window | None
    dropped: int
    notes: tuple[str, ...]


def window_returns(
    returns: pd.DataFrame,
    window: WindowLike,
    *,
    min_obs: int = DEFAULT_MIN_OBS,
    stacklevel: int = 3,
) -> WindowData:
    """Slice a return panel to a window and drop incomplete rows (counted and warned about).

    Parameters
    ----------
    returns : pandas.DataFrame
        Date x asset returns.
    window : StressWindow, sequence of StressWindow (union), (start, end) or None
        Window to use (None: all rows).
    min_obs : int
        Fewest complete rows required.
    stacklevel : int
        Warning stack level (points at the public caller).

    Returns
    -------
    WindowData

    Raises
    ------
    DataError
        Not a DataFrame with at least two assets, an index that is not sorted and unique
        (:func:`research.data.check_time_index`), infinite values, window outside the data,
        or an asset that is constant in the window.
    InsufficientDataError
        Fewer than ``min_obs`` complete rows in the window.
    """
    if not isinstance(returns, pd.DataFrame):
        raise DataError(f"returns must be a date x asset DataFrame, got {type(returns).__name__}")
    check_time_index(returns, what="returns")
    if returns.shape[1] < 2:
        raise DataError(f"a correlation needs at least two assets, got {list(returns.columns)}")
    if min_obs < 3:
        raise DataError(f"min_obs must be at least 3, got {min_obs}")
    resolved = resolve_window(window)
    frame, notes = _slice(returns, resolved, 1)
    numeric = frame.apply(pd.to_numeric, errors="coerce").astype(np.float64)
    infinite = np.isinf(numeric.to_numpy())
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        raise DataError(
            f"return of {numeric.columns[col]!r} on {numeric.index[row].date()} is infinite; "
            "check the price series for zeros"
        )
    complete = numeric.notna().all(axis=1)
    dropped = int((~complete).sum())
    if dropped:
        per_asset = numeric.isna().sum()
        detail = ", ".join(f"{k}: {v}" for k, v in per_asset[per_asset > 0].items())
        where = window_label(resolved)
        notes.append(
            f"dropped {dropped} of {len(numeric)} rows in {where} with missing values "
            f"(missing per asset: {detail})"
        )
    clean = numeric.loc[complete]
    for note in notes:
        warnings.warn(note, DataQualityWarning, stacklevel=stacklevel)
    if len(clean) < min_obs:
        where = window_label(resolved)
        raise InsufficientDataError(
            f"{where} has {len(clean)} complete observations, fewer than min_obs={min_obs}; "
            "use a longer window, fewer assets or a lower min_obs"
        )
    values = clean.to_numpy(dtype=np.float64)
    flat = np.ptp(values, axis=0) == 0.0
    if flat.any():
        raise DataError(
            f"asset {clean.columns[int(np.argmax(flat))]!r} is constant in "
            f"{window_label(resolved)}; its correlation is undefined, "
            "drop it from the panel"
        )
    return WindowData(values, clean, list(clean.columns), resolved, dropped, tuple(notes))
