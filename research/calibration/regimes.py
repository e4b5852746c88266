"""Correlation regimes behind offset credits: the recent sample and the pooled stress windows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from research.data.timeindex import range_mask
from research.errors import InsufficientDataError

__all__ = ["MIN_REGIME_OBS", "regime_correlations"]

#: Fewest complete rows behind a regime correlation (the Fisher test needs n > 3).
MIN_REGIME_OBS = 4


def regime_correlations(
    returns: pd.DataFrame,
    lookback: int,
    stress_windows: Mapping[str, tuple[Any, Any]] | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Recent and stressed sample correlations and their numbers of observations.

    Parameters
    ----------
    returns : DataFrame
        Daily returns, date x asset.
    lookback : int
        The recent regime uses the last ``lookback`` complete rows.
    stress_windows : mapping of name to (start, end), optional
        The stressed regime pools the complete rows inside all windows.

    Returns
    -------
    correlations : dict
        ``{"recent": matrix}`` plus ``"stressed"`` when the windows hold at least
        ``MIN_REGIME_OBS`` complete rows of ``returns`` (a window outside the data, e.g. in a
        hold-out, leaves the stressed regime out).
    nobs : dict
        Observations behind each matrix.

    Raises
    ------
    InsufficientDataError
        If the recent regime has fewer than ``MIN_REGIME_OBS`` complete rows.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> idx = pd.bdate_range("2020-01-01", periods=300)
    >>> r = pd.DataFrame(np.random.default_rng(0).normal(size=(300, 2)), idx, ["A", "B"])
    >>> corr, nobs = regime_correlations(r, 250, {"w": ("2020-03-02", "2020-04-30")})
    >>> sorted(corr), nobs["recent"]
    (['recent', 'stressed'], 250)
    """
    complete = returns.dropna()
    recent = complete.tail(int(lookback))
    if len(recent) < MIN_REGIME_OBS:
        raise InsufficientDataError(
            f"{len(recent)} complete rows for the recent correlation; at least {MIN_REGIME_OBS} "
            "are needed - use a longer sample"
        )
    correlations, nobs = {"recent": recent.corr()}, {"recent": len(recent)}
    if stress_windows:
        mask = np.zeros(len(complete), dtype=bool)
        for start, end in stress_windows.values():
            mask |= range_mask(complete.index, start, end)
        if mask.sum() >= MIN_REGIME_OBS:
            correlations["stressed"] = complete[mask].corr()
            nobs["stressed"] = int(mask.sum())
    return correlations, nobs
