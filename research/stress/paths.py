"""Paths through stress windows: a daily series summarised inside against outside the windows.

A conditional correlation path, a tail-dependence path or a DECO equicorrelation path says
"correlations rise in stress" only if its level inside the stress windows differs from its
level outside them. :func:`window_contrast` is that comparison, one row per path, with the
mean in each window beside the pooled one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from research.errors import DataError, InsufficientDataError
from research.stress.windows import StressWindow, window_mask

__all__ = ["window_contrast"]


def window_contrast(
    paths: pd.Series | pd.DataFrame, windows: Sequence[StressWindow]
) -> pd.DataFrame:
    """Mean of each path inside the stress windows, outside them, and in each window.

    Parameters
    ----------
    paths : pandas.Series or pandas.DataFrame
        Date-indexed path(s), one column per path (a Series is one path, named by its name).
    windows : sequence of StressWindow
        The windows; a date in any of them is "inside" (overlapping windows count once).

    Returns
    -------
    pandas.DataFrame
        One row per path: ``days inside`` (dates in the union of the windows), ``mean
        inside``, ``mean outside``, ``inside - outside``, then ``mean <window name>`` for
        every window in the given order (NaN for a window without a date in the sample, so a
        window that the sample misses stays visible).

    Raises
    ------
    DataError
        Paths not indexed by dates, or with missing values.
    InsufficientDataError
        No window, no date inside any window, or no date outside them.

    Examples
    --------
    >>> import pandas as pd
    >>> from research.stress import StressWindow
    >>> path = pd.Series([0.25, 0.25, 0.5, 1.0, 0.25], pd.date_range("2020-03-02", periods=5),
    ...                  name="rho")
    >>> crash = StressWindow("crash", "2020-03-04", "2020-03-05")
    >>> window_contrast(path, [crash]).loc["rho", ["mean inside", "mean outside"]].tolist()
    [0.75, 0.25]
    """
    frame = paths.to_frame() if isinstance(paths, pd.Series) else paths
    if not isinstance(frame, pd.DataFrame) or not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError("window_contrast needs a date-indexed Series or DataFrame of paths")
    if frame.isna().any().any():
        missing = [str(c) for c in frame.columns[frame.isna().any()]]
        raise DataError(f"paths {missing} have missing values")
    windows = tuple(windows)
    if not windows:
        raise InsufficientDataError("window_contrast needs at least one stress window")
    masks = [window_mask(frame.index, w) for w in windows]
    inside = np.logical_or.reduce(masks)
    if not inside.any():
        names = ", ".join(w.name for w in windows)
        raise InsufficientDataError(
            f"no date of the paths ({frame.index[0]:%Y-%m-%d} to {frame.index[-1]:%Y-%m-%d}) "
            f"is inside the windows {names}"
        )
    if inside.all():
        raise InsufficientDataError("every date is inside the windows: nothing to contrast")
    values = frame.to_numpy(dtype=float)
    table = pd.DataFrame(
        {
            "days inside": int(inside.sum()),
            "mean inside": values[inside].mean(axis=0),
            "mean outside": values[~inside].mean(axis=0),
        },
        index=frame.columns,
    )
    table["inside - outside"] = table["mean inside"] - table["mean outside"]
    for window, mask in zip(windows, masks, strict=True):
        table[f"mean {window.name}"] = values[mask].mean(axis=0) if mask.any() else np.nan
    table.index.name = "path"
    return table
