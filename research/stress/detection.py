"""Detected stress windows: the k worst non-overlapping windows of a given length by a score."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from research.data import check_time_index
from research.errors import DataError, DataQualityWarning, SpecificationError
from research.stress.dcc import path_to_array
from research.stress.windows import StressWindow, window_mask

__all__ = ["DetectedWindows", "detect_stress_windows", "stress_score", "window_statistics"]

Score = Literal["drawdown", "volatility", "correlation"]
_SCORES: tuple[str, ...] = ("drawdown", "volatility", "correlation")


@dataclass(frozen=True)
class DetectedWindows:
    """The k worst windows found by :func:`detect_stress_windows`.

    Attributes
    ----------
    windows : tuple of StressWindow
        Ranked, worst first; names ``detected_1``, ``detected_2``, ...
    scores : pandas.Series
        Score of the window ending at each date (the rolling score).
    score : str
        Which score was used (``"drawdown with wicks"`` when worst moves were given).
    length : int
        Window length in observations.
    warnings : tuple of str
        E.g. fewer than k non-overlapping windows exist.
    """

    windows: tuple[StressWindow, ...]
    scores: pd.Series
    score: str
    length: int
    warnings: tuple[str, ...] = ()

    def summary(self, named: tuple[StressWindow, ...] | list[StressWindow] = ()) -> pd.DataFrame:
        """Table of the detected windows, with the named windows each overlaps.

        Parameters
        ----------
        named : sequence of StressWindow
            Catalog windows to match against (e.g. ``stress_windows("equities")``).

        Returns
        -------
        pandas.DataFrame
            ``rank``, ``start``, ``end``, ``score`` and ``overlaps`` (comma-separated names).
        """
        rows = []
        for rank, window in enumerate(self.windows, start=1):
            hits = [w.name for w in named if w.overlaps(window)]
            rows.append(
                {
                    "rank": rank,
                    "start": window.start,
                    "end": window.end,
                    "score": float(self.scores.loc[window.end]),
                    "overlaps": ", ".join(hits) if hits else "none",
                }
            )
        return pd.DataFrame(rows, columns=["rank", "start", "end", "score", "overlaps"])


def stress_score(
    data: pd.DataFrame,
    *,
    score: Score = "drawdown",
    length: int = 20,
    weights: pd.Series | None = None,
    worst: pd.DataFrame | None = None,
) -> pd.Series:
    """Score the window of ``length`` observations ending at each date (rolling).

    Parameters
    ----------
    data : pandas.DataFrame
        Depends on ``score``:

        * ``"drawdown"``: date x asset (log) returns; the score is the maximum drawdown of
          the portfolio's cumulative return inside the window, in the returns' units.
        * ``"volatility"``: date x asset conditional volatilities (e.g. GARCH sigma_t); the
          score is their cross-sectional mean averaged over the window.
        * ``"correlation"``: a ``(date, asset) x asset`` conditional correlation path (the
          layout of ``DCCResult.correlation``); the score is the average off-diagonal
          correlation averaged over the window.
    score : {"drawdown", "volatility", "correlation"}
        Which score.
    length : int
        Window length in observations (>= 2).
    weights : pandas.Series, optional
        Portfolio weights per asset for ``"drawdown"`` and ``"volatility"`` (default equal
        weights; negative weights describe a long/short portfolio).
    worst : pandas.DataFrame, optional
        ``"drawdown"`` only: the worst move inside each period from the previous close, in
        the returns' units and layout (:func:`research.data.worst_moves` with horizon 1:
        lows for long weights, highs for short ones). The drawdown then also reaches down
        to each period's wick: from the highest close before period ``j`` to the previous
        close plus the weighted worst move of ``j``. The weighted sum of the assets'
        worst moves is a bound, as their extremes need not fall at the same instant.

    Returns
    -------
    pandas.Series
        Indexed by the window's last date (the first ``length - 1`` dates have no score).

    Raises
    ------
    SpecificationError
        Unknown score, ``length`` < 2, weights that do not match the assets, or ``worst``
        with another score.
    DataError
        Missing values, fewer than ``length`` dates, or dates that are not sorted and unique
        (:func:`research.data.check_time_index`); ``worst`` on other stamps or assets than
        the returns, or better than the close move for the weights (the wrong side).
    """
    if worst is not None and score != "drawdown":
        raise SpecificationError(f"worst moves apply to the drawdown score, not to {score!r}")
    if score not in _SCORES:
        raise SpecificationError(f"score must be one of {_SCORES}, got {score!r}")
    if int(length) < 2:
        raise SpecificationError(f"length must be at least 2 observations, got {length}")
    length = int(length)
    if score == "correlation":
        array, dates, _ = path_to_array(data)
        n = array.shape[1]
        if n < 2:
            raise DataError("a correlation score needs at least two assets")
        per_date = (array.sum(axis=(1, 2)) - n) / (n * (n - 1))
        series = pd.Series(per_date, index=dates)
    else:
        if not isinstance(data, pd.DataFrame):
            raise DataError(f"{score} score needs a date x asset DataFrame")
        check_time_index(data, what=f"{score} score data")
        missing = data.isna().any(axis=1)
        if missing.any():
            first = data.index[int(np.argmax(missing.to_numpy()))]
            raise DataError(
                f"{int(missing.sum())} dates have missing values (first {first.date()}); "
                "align the panel (research.data) before scoring"
            )
        if score == "volatility":
            _require_volatilities(data)
        w = _weights(weights, list(data.columns))
        series = pd.Series(data.to_numpy(dtype=np.float64) @ w, index=data.index)
        wick = None if worst is None else _weighted_worst(worst, data, w)
    if len(series) < length:
        raise DataError(f"{len(series)} dates are fewer than the window length {length}")
    values = series.to_numpy()
    if score == "drawdown":
        windows = sliding_window_view(values, length)
        cumulative = np.concatenate([np.zeros((len(windows), 1)), windows.cumsum(axis=1)], axis=1)
        drawdown = np.maximum.accumulate(cumulative, axis=1) - cumulative
        rolled = drawdown.max(axis=1)
        if wick is not None:
            before = cumulative[:, :-1]  # the close before each period of the window
            trough = before + sliding_window_view(wick, length)
            rolled = np.maximum(rolled, (np.maximum.accumulate(before, axis=1) - trough).max(1))
    else:
        rolled = sliding_window_view(values, length).mean(axis=1)
    return pd.Series(rolled, index=series.index[length - 1 :], name=f"{score}_{length}")


def detect_stress_windows(
    data: pd.DataFrame,
    *,
    score: Score = "drawdown",
    length: int = 20,
    k: int = 3,
    weights: pd.Series | None = None,
    worst: pd.DataFrame | None = None,
) -> DetectedWindows:
    """Find the ``k`` worst non-overlapping windows of ``length`` observations by a score.

    Windows are chosen greedily: the highest-scoring window first, then the highest
    remaining window that shares no date with an already chosen one, and so on.

    Parameters
    ----------
    data : pandas.DataFrame
        Returns, volatilities or a correlation path, as for :func:`stress_score`.
    score : {"drawdown", "volatility", "correlation"}
        Stress score.
    length : int
        Window length in observations.
    k : int
        Number of windows wanted (>= 1).
    weights : pandas.Series, optional
        Portfolio weights (see :func:`stress_score`).
    worst : pandas.DataFrame, optional
        Worst intraperiod moves for a wick-aware drawdown (see :func:`stress_score`).

    Returns
    -------
    DetectedWindows
        Fewer than ``k`` windows (with a DataQualityWarning, recorded) if the sample is too
        short to hold ``k`` disjoint windows.

    Raises
    ------
    SpecificationError, DataError
        As for :func:`stress_score`; ``k`` < 1.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from research.stress import detect_stress_windows
    >>> rng = np.random.default_rng(0)
    >>> r = pd.DataFrame(rng.standard_normal((500, 2)),
    ...                  index=pd.bdate_range("2020-01-01", periods=500), columns=["a", "b"])
    >>> r.iloc[200:220] -= 3.0
    >>> found = detect_stress_windows(r, length=20, k=2)
    >>> found.windows[0].start <= r.index[219] and found.windows[0].end >= r.index[200]
    True
    """
    if int(k) < 1:
        raise SpecificationError(f"k must be at least 1, got {k}")
    scores = stress_score(data, score=score, length=length, weights=weights, worst=worst)
    length = int(length)
    label = score if worst is None else f"{score} with wicks"
    dates = scores.index
    all_dates = (
        data.index.get_level_values(0).unique().sort_values()
        if score == "correlation"
        else data.index
    )
    order = np.argsort(-scores.to_numpy(), kind="stable")
    taken: list[int] = []
    for position in order:
        if all(abs(position - other) >= length for other in taken):
            taken.append(int(position))
            if len(taken) == k:
                break
    windows = []
    for rank, position in enumerate(taken, start=1):
        end = dates[position]
        start = all_dates[all_dates.get_loc(end) - length + 1]
        windows.append(
            StressWindow(
                name=f"detected_{rank}",
                start=start,
                end=end,
                asset_class="custom",
                description=f"rank {rank} by {label} over {length} observations: "
                f"{scores.iloc[position]:.4g}",
                source=f"research.stress.detect_stress_windows(score={score!r}, length={length}"
                f"{'' if worst is None else ', worst=...'})",
            )
        )
    notes: list[str] = []
    if len(windows) < k:
        message = (
            f"only {len(windows)} non-overlapping windows of {length} observations fit in the "
            f"sample; asked for k={k}"
        )
        warnings.warn(message, DataQualityWarning, stacklevel=2)
        notes.append(message)
    return DetectedWindows(tuple(windows), scores, label, length, tuple(notes))


def window_statistics(
    returns: pd.DataFrame,
    windows: tuple[StressWindow, ...] | list[StressWindow],
    *,
    weights: pd.Series | None = None,
) -> pd.DataFrame:
    """Describe how stressful each window was in a return panel.

    Parameters
    ----------
    returns : pandas.DataFrame
        Date x asset log returns (complete rows, e.g. after ``research.data.align``).
    windows : sequence of StressWindow
        Named or detected windows.
    weights : pandas.Series, optional
        Portfolio weights (default equal weights).

    Returns
    -------
    pandas.DataFrame
        Indexed by window name: ``start``, ``end`` (window dates), ``coverage`` ("full",
        "partial" or "none"), ``nobs``, ``return`` (cumulative portfolio log return),
        ``max_drawdown`` (of the portfolio, in the returns' units), ``volatility`` (average
        per-asset standard deviation) and ``mean_correlation`` (average off-diagonal sample
        correlation). Windows outside the data keep their row with ``nobs`` 0 and NaN
        statistics.

    Raises
    ------
    DataError
        If the returns are not a date-indexed DataFrame or have missing values.
    """
    if not isinstance(returns, pd.DataFrame) or not isinstance(returns.index, pd.DatetimeIndex):
        raise DataError("window statistics need a date x asset DataFrame of returns")
    if returns.isna().any().any():
        raise DataError("returns have missing values; align the panel (research.data) first")
    w = _weights(weights, list(returns.columns))
    rows = {}
    for window in windows:
        rows_in = returns.loc[window_mask(returns.index, window)]
        coverage = "none" if rows_in.empty else "full" if window.covered_by(returns) else "partial"
        stats = {"start": window.start, "end": window.end, "coverage": coverage}
        stats["nobs"] = len(rows_in)
        if len(rows_in) >= 3:
            portfolio = rows_in.to_numpy() @ w
            cumulative = np.concatenate([[0.0], portfolio.cumsum()])
            corr = np.corrcoef(rows_in.to_numpy(), rowvar=False)
            n = corr.shape[0]
            stats.update(
                {
                    "return": float(cumulative[-1]),
                    "max_drawdown": float((np.maximum.accumulate(cumulative) - cumulative).max()),
                    "volatility": float(rows_in.std(ddof=1).mean()),
                    "mean_correlation": float((np.nansum(corr) - n) / (n * (n - 1))),
                }
            )
        else:
            stats.update(
                {
                    "return": np.nan,
                    "max_drawdown": np.nan,
                    "volatility": np.nan,
                    "mean_correlation": np.nan,
                }
            )
        rows[window.name] = stats
    return pd.DataFrame.from_dict(rows, orient="index")


def _weighted_worst(worst: pd.DataFrame, returns: pd.DataFrame, w: np.ndarray) -> np.ndarray:
    """Return the portfolio's worst move per period, checked against its close move."""
    if not isinstance(worst, pd.DataFrame) or not (
        worst.index.equals(returns.index) and worst.columns.equals(returns.columns)
    ):
        raise DataError(
            "worst moves must be a DataFrame on the returns' stamps and assets (e.g. "
            "research.data.worst_moves(bars, 1, 'long') aligned with to_returns(bars.close))"
        )
    values = worst.to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise DataError("worst moves have missing values; align the bars first")
    weighted = values @ w
    better = weighted > returns.to_numpy(dtype=np.float64) @ w + 1e-9
    if better.any():
        raise DataError(
            f"the weighted worst move is better than the close move on {int(better.sum())} "
            f"date(s), first {returns.index[int(np.argmax(better))]}: pass lows for long "
            "weights and highs for short ones"
        )
    return weighted


def _require_volatilities(data: pd.DataFrame) -> None:
    """Refuse a negative value: the volatility score averages volatilities, not returns.

    Averaged, returns rank the largest mean return first (a rally), so a frame of returns
    given as volatilities must not pass.
    """
    negative = data.to_numpy(dtype=np.float64) < 0
    if negative.any():
        row, column = np.argwhere(negative)[0]
        raise DataError(
            f"the volatility score takes volatilities (non-negative), but {data.columns[column]}"
            f" is {data.iat[row, column]:.4g} on {data.index[row]} "
            f"({int(negative.sum())} negative values): these look like returns. Pass "
            "conditional volatilities (e.g. research.volatility.fit_univariate(returns).sigma) "
            "or score the returns with score='drawdown'"
        )


def _weights(weights: pd.Series | None, labels: list) -> np.ndarray:
    """Portfolio weights aligned on the labels (equal weights by default)."""
    if weights is None:
        return np.full(len(labels), 1.0 / len(labels))
    if not isinstance(weights, pd.Series):
        raise SpecificationError("weights must be a Series indexed by asset")
    missing = [label for label in labels if label not in weights.index]
    if missing:
        raise SpecificationError(f"weights have no entry for assets {missing}")
    w = weights.loc[labels].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(w)) or not np.any(w):
        raise SpecificationError("weights must be finite and not all zero")
    return w
