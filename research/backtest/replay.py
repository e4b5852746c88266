"""Stress replay: the offset backtest read through each named stress window.

The engine never looks ahead, so the margins of a window are the same whether the backtest is
run on the whole sample or stopped at the window's end; the replay therefore restricts one
full run to each window instead of re-running it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from research.backtest.results import ACCOUNTS, BacktestResult
from research.stress.windows import StressWindow, asset_class_of, stress_windows, window_mask

__all__ = ["stress_replay"]


#: Columns of :func:`stress_replay` (the first two become its index).
_REPLAY_COLUMNS = [
    "window",
    "account",
    "start",
    "end",
    "days",
    "observations",
    "exceptions",
    "coverage",
    "target",
    "largest_breach",
    "average_breach",
    "offset_caused_exceptions",
    "mean_margin",
    "margin_saved_ratio",
]


def stress_replay(
    result: BacktestResult, windows: Iterable[StressWindow] | None = None
) -> pd.DataFrame:
    """Exceptions, breaches and offsets of a backtest within each stress window.

    Parameters
    ----------
    result : BacktestResult
        A backtest whose test period overlaps the windows.
    windows : iterable of StressWindow, optional
        Default: every window of the catalog for the data's asset class
        (:func:`research.stress.windows.asset_class_of` of the margin dates: crypto windows
        for 7-day data, equity windows otherwise) that overlaps the test period.

    Returns
    -------
    pandas.DataFrame
        Index ``(window, account)``; columns ``start``, ``end``, ``days`` (margin dates in the
        window), ``observations``, ``exceptions``, ``coverage``, ``target``,
        ``largest_breach``, ``average_breach``, ``offset_caused_exceptions``,
        ``mean_margin`` and ``margin_saved_ratio`` (cross rows only). Windows without a margin
        date are left out and listed in ``attrs["skipped"]``.
    """
    dates = result.dates
    chosen = tuple(stress_windows(asset_class_of(dates)) if windows is None else windows)
    rows, skipped = [], []
    for w in chosen:
        inside = window_mask(dates, w)
        if not inside.any():
            skipped.append(w.name)
            continue
        sub = result.window(w.start, w.end)
        offset = int(sub.offset_caused().to_numpy().sum())
        saved = sub.margin_saved().to_numpy().sum() / sub.margin_isolated.to_numpy().sum()
        for account in ACCOUNTS:
            exc = sub.exceptions(account).to_numpy()
            over = sub.exceedance(account).to_numpy()
            rows.append(
                {
                    "window": w.name,
                    "account": account,
                    "start": w.start,
                    "end": w.end,
                    "days": int(inside.sum()),
                    "observations": exc.size,
                    "exceptions": int(exc.sum()),
                    "coverage": 1 - exc.sum() / exc.size,
                    "target": result.level,
                    "largest_breach": float(over.max()),
                    "average_breach": float(over[exc].mean()) if exc.any() else 0.0,
                    "offset_caused_exceptions": offset if account == "cross" else 0,
                    "mean_margin": float(sub.margin(account).to_numpy().mean()),
                    "margin_saved_ratio": float(saved) if account == "cross" else np.nan,
                }
            )
    out = pd.DataFrame(rows, columns=_REPLAY_COLUMNS).set_index(["window", "account"])
    out.attrs["skipped"] = skipped  # no window in the data: an empty table, same columns
    return out
