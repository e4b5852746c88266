"""Sensitivity sweep: a hold-out backtest of margin parameters over a grid of settings.

Every grid point (confidence x MPOR x lookback x EWMA lambda x stress weight x offset cap)
is calibrated on the training part of the sample and tested on the hold-out part: outright
long and short positions against their risk weights, and equal-risk hedged pairs against
their offset-reduced margin. Points run through :func:`research.parallel.map`, on local
processes or a Dask cluster, with identical results: a point is a pure function of its task.

The grid's settings are calibration data (``CalibrationConfig.sweep``, checked by
:func:`research.calibration.config.sweep_settings`); the sweep is a backtest and lives here.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from research import parallel
from research.backtest.coverage import kupiec
from research.calibration.config import SWEEP_AXES, sweep_axis, sweep_settings
from research.calibration.offsets import OffsetCalibrator, OffsetPair
from research.calibration.parameters import MarginParameters
from research.calibration.regimes import regime_correlations
from research.calibration.risk_weights import calibrate_risk_weights, position_losses
from research.data import check_return_units, mpor_returns
from research.errors import DataError, InsufficientDataError, ParameterError
from research.margin.credits import hedged_pair_margin
from research.margin.offsets import EMIR_MAX_OFFSET

__all__ = ["SweepGrid", "SweepResult", "sensitivity_sweep"]

#: Fewest hold-out observations for a coverage figure; at 99% fewer than 100 moves cannot
#: show a single expected exception.
MIN_HOLDOUT = 100

_AXES = SWEEP_AXES


@dataclass(frozen=True)
class SweepGrid:
    """The settings to sweep; the grid is their Cartesian product.

    Parameters
    ----------
    level : sequence of float
        Confidence levels in (0.5, 1).
    mpor : sequence of int
        Margin periods of risk (days).
    lookback : sequence of int
        Lookbacks (observations) behind the risk weights and the recent correlation.
    ewma_lambda : sequence of float or None
        EWMA decay of the volatility filter (FHS); ``None`` means unfiltered moves.
    stress_weight : sequence of float or None
        Weight of the stress-window risk; ``None`` adds stress moves to the sample unweighted.
    offset_cap : sequence of float
        Offset caps in [0, 1].

    Raises
    ------
    ParameterError
        If an axis is empty, has a repeated value, is a string, or holds a value outside its
        range (the ranges of :class:`MarginParameters`).

    Examples
    --------
    >>> SweepGrid(level=(0.99, 0.995), mpor=(1, 2)).size
    4
    """

    level: Sequence[float] = (0.99,)
    mpor: Sequence[int] = (2,)
    lookback: Sequence[int] = (250,)
    ewma_lambda: Sequence[float | None] = (None,)
    stress_weight: Sequence[float | None] = (None,)
    offset_cap: Sequence[float] = (EMIR_MAX_OFFSET,)

    def __post_init__(self) -> None:
        for name in _AXES:
            object.__setattr__(self, name, sweep_axis(name, getattr(self, name)))

    @property
    def size(self) -> int:
        """Number of grid points."""
        return math.prod(len(getattr(self, name)) for name in _AXES)

    def points(self) -> list[dict[str, Any]]:
        """Every grid point as a dict of the six settings, in a fixed order.

        Returns
        -------
        list of dict
        """
        axes = [getattr(self, name) for name in _AXES]
        return [dict(zip(_AXES, combo, strict=True)) for combo in itertools.product(*axes)]

    def to_dict(self) -> dict[str, list[Any]]:
        """Plain-data form (for configs and reports)."""
        return {name: list(getattr(self, name)) for name in _AXES}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepGrid:
        """Build a grid from ``{axis: [values]}``, rejecting unknown axes.

        Parameters
        ----------
        data : mapping
            Axis name -> list of values (a scalar is a one-value axis).

        Returns
        -------
        SweepGrid
            Axes left out of ``data`` take the defaults.

        Raises
        ------
        ParameterError
            If an axis name is unknown or an axis is invalid
            (:func:`research.calibration.config.sweep_settings`).

        Examples
        --------
        >>> SweepGrid.from_dict({"mpor": [1, 2, 5]}).size
        3
        """
        return cls(**sweep_settings(data))


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Outcome of :func:`sensitivity_sweep`.

    Parameters
    ----------
    table : DataFrame
        One row per grid point: the six settings, ``rw_<asset>`` risk weights,
        ``mean_risk_weight``, ``credit_<pair>`` offset credits, ``mean_credit``,
        ``pairs_credited``, and hold-out coverage of outright positions (``outright_*``) and
        hedged pairs (``pair_*``): exceptions, observations, coverage, Kupiec p-value; and
        ``skipped``: why a point could not be calibrated (e.g. fewer moves in its lookback
        than its level needs), empty for the points that ran. A skipped point keeps its
        settings and has NaN results.
    parameters : tuple of MarginParameters or None
        The parameter set of every point, in table order (``None`` for a skipped point).
    train_end, holdout_start : Timestamp
        Last training date and first hold-out date.
    warnings : tuple of str
        Calibration warnings of the points, prefixed by the point number.
    """

    table: pd.DataFrame
    parameters: tuple[MarginParameters | None, ...]
    train_end: pd.Timestamp
    holdout_start: pd.Timestamp
    warnings: tuple[str, ...] = field(default=())

    def pivot(self, value: str, index: str, columns: str, aggfunc: str = "mean") -> pd.DataFrame:
        """Return one result column on two axes, aggregated over the other axes.

        Parameters
        ----------
        value : str
            Result column, e.g. ``"outright_coverage"`` or ``"mean_risk_weight"``.
        index, columns : str
            Two of the sweep axes.
        aggfunc : str
            Aggregation over the remaining axes (default ``"mean"``).

        Returns
        -------
        DataFrame

        Raises
        ------
        ParameterError
            If a column is unknown.
        """
        for name in (value, index, columns):
            if name not in self.table.columns:
                raise ParameterError(
                    f"{name!r} is not a sweep column; choose from {list(self.table.columns)}"
                )
        table = self.table.copy()
        for name in (index, columns):
            table[name] = table[name].astype(object).where(table[name].notna(), "none")
        return table.pivot_table(values=value, index=index, columns=columns, aggfunc=aggfunc)

    def plot_heatmap(
        self, value: str, index: str, columns: str, ax: Any = None, fmt: str = ".3f"
    ) -> Any:
        """Heatmap of :meth:`pivot`.

        Parameters
        ----------
        value, index, columns : str
            As in :meth:`pivot`.
        ax : matplotlib Axes, optional
            Axes to draw on (default: a new figure).
        fmt : str
            Annotation format.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        grid = self.pivot(value, index, columns)
        if ax is None:
            fig, ax = plt.subplots(figsize=(1.5 + 1.1 * grid.shape[1], 1.2 + 0.6 * grid.shape[0]))
        else:
            fig = ax.figure
        sns.heatmap(
            grid.astype(float),
            annot=True,
            fmt=fmt,
            cmap="viridis",
            ax=ax,
            cbar_kws={"label": value},
        )
        return fig

    def summary(self) -> pd.DataFrame:
        """Coverage per point against its target level (``target`` column).

        Returns
        -------
        DataFrame
            With the ``skipped`` reason of the points that could not be calibrated.
        """
        cols = list(_AXES) + [
            "mean_risk_weight",
            "mean_credit",
            "outright_coverage",
            "outright_pvalue",
            "pair_coverage",
            "pair_pvalue",
            "skipped",
        ]
        out = self.table[cols].copy()
        out.insert(len(_AXES), "target", out["level"])
        return out


def sensitivity_sweep(
    returns: pd.DataFrame,
    grid: SweepGrid,
    *,
    pairs: Iterable[OffsetPair | Sequence[str]] = (),
    stress_windows: Mapping[str, tuple[Any, Any]] | None = None,
    holdout: float = 0.3,
    method: str = "var",
    offsets: OffsetCalibrator | None = None,
    backend: str = "auto",
    cluster: Any = None,
    max_workers: int | None = None,
    progress: bool = True,
) -> SweepResult:
    r"""Calibrate and hold-out test margin parameters over a grid of settings.

    Parameters
    ----------
    returns : DataFrame
        Daily log returns in percent (``research.data.to_returns``), date x asset.
    grid : SweepGrid
        Settings to sweep.
    pairs : iterable of OffsetPair or (first, second[, direction])
        Hedged pairs to calibrate offset credits for (none: outright coverage only).
    stress_windows : mapping of name to (start, end), optional
        Stress windows for the risk weights and the stressed correlation.
    holdout : float
        Share of the dates, at the end of the sample, kept out of calibration for testing.
    method : {"var", "es"}
        Risk measure of the risk weights.
    offsets : OffsetCalibrator, optional
        Offset settings other than the cap (the cap comes from the grid).
    backend, cluster, max_workers, progress
        Passed to :func:`research.parallel.map`: local processes by default, a Dask cluster
        when ``cluster`` is an address, a ``distributed.Client`` or a ``LocalCluster``.

    Returns
    -------
    SweepResult

    Raises
    ------
    ParameterError
        If ``holdout`` is outside (0, 1).
    InsufficientDataError
        If the hold-out part has fewer than ``MIN_HOLDOUT`` dates, or if no grid point can
        be calibrated. A point that cannot (too few moves for its level and lookback, a
        lookback shorter than its MPOR) is skipped: its row says why (``skipped``) and the
        reason is in ``warnings``.
    DataError
        If ``returns`` is not a DatetimeIndexed frame, or holds prices or decimal returns
        (:func:`research.data.check_return_units`), before any grid point runs.

    Notes
    -----
    On the hold-out, an outright long (short) position of one unit of notional in asset
    :math:`i` has an exception when its loss over the MPOR, :math:`1 - e^{R^{(h)}_i/100}`
    (:math:`e^{R^{(h)}_i/100} - 1`) for the log move :math:`R^{(h)}_i` in percent, exceeds
    the risk weight. A hedged pair is sized to equal risk
    (:math:`1/RW_a` long :math:`a`, :math:`1/RW_b` short :math:`b`, so each leg's margin is
    1) and has an exception when its loss exceeds :math:`2(1 - \text{credit})`. Moves are
    non-overlapping so that exceptions of one series are independent under the null; the
    Kupiec test pools assets and sides, which are not independent of each other, so its
    p-value is indicative. The hold-out is fixed (calibrate once, test once), a simplification
    of the rolling engine in :mod:`research.backtest`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> idx = pd.bdate_range("2015-01-01", periods=1200)
    >>> r = pd.DataFrame(np.random.default_rng(0).normal(0, 1, (1200, 2)), idx, ["A", "B"])
    >>> res = sensitivity_sweep(r, SweepGrid(mpor=(1, 2)), backend="serial", progress=False)
    >>> res.table[["mpor", "outright_coverage"]].shape
    (2, 2)
    """
    if not isinstance(returns, pd.DataFrame) or not isinstance(returns.index, pd.DatetimeIndex):
        raise DataError("returns must be a DataFrame with a DatetimeIndex (dates x assets)")
    check_return_units(returns, "percent", what="sweep returns")
    if not 0.0 < holdout < 1.0:
        raise ParameterError(f"holdout must be a share in (0, 1), got {holdout}")
    n_test = int(round(holdout * len(returns)))
    if n_test < MIN_HOLDOUT:
        raise InsufficientDataError(
            f"the hold-out has {n_test} dates, at least {MIN_HOLDOUT} are needed; "
            "use a longer sample or a larger holdout share"
        )
    train, test = returns.iloc[:-n_test], returns.iloc[-n_test:]
    candidates = tuple(OffsetPair.coerce(p) for p in pairs)
    calibrator = offsets or OffsetCalibrator()
    windows = {
        str(k): (pd.Timestamp(a), pd.Timestamp(b)) for k, (a, b) in (stress_windows or {}).items()
    }
    tasks = [
        _Task(
            number=i,
            point=point,
            train=train,
            test=test,
            pairs=candidates,
            windows=windows,
            method=method,
            offsets=calibrator,
        )
        for i, point in enumerate(grid.points())
    ]
    outcomes = parallel.map(
        _evaluate,
        tasks,
        backend=backend,
        cluster=cluster,
        max_workers=max_workers,
        progress=progress,
        description="sensitivity sweep",
    )
    table = pd.DataFrame([o[0] for o in outcomes])
    for name in ("ewma_lambda", "stress_weight"):  # None (off) is stored as NaN
        table[name] = table[name].astype("float64")
    if (table["skipped"] != "").all():
        raise InsufficientDataError(
            f"no point of the sweep can be calibrated; the first: {table['skipped'].iloc[0]}"
        )
    notes = tuple(f"point {i}: {w}" for i, o in enumerate(outcomes) for w in o[2])
    return SweepResult(
        table=table,
        parameters=tuple(o[1] for o in outcomes),
        train_end=train.index[-1],
        holdout_start=test.index[0],
        warnings=notes,
    )


@dataclass(frozen=True)
class _Task:
    number: int
    point: Mapping[str, Any]
    train: pd.DataFrame
    test: pd.DataFrame
    pairs: tuple[OffsetPair, ...]
    windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]]
    method: str
    offsets: OffsetCalibrator


def _evaluate(task: _Task) -> tuple[dict[str, Any], MarginParameters | None, tuple[str, ...]]:
    """Calibrate one grid point on the training data and test it on the hold-out.

    A point whose calibration is infeasible is skipped with its reason (the row keeps the
    settings, ``skipped`` says why, and the reason is returned as the point's warning).
    """
    try:
        return _run_point(task)
    except (InsufficientDataError, ParameterError) as exc:
        reason = " ".join(str(exc).split())
        return {**task.point, "skipped": reason}, None, (f"skipped: {reason}",)


def _run_point(task: _Task) -> tuple[dict[str, Any], MarginParameters, tuple[str, ...]]:
    p = task.point
    lam = p["ewma_lambda"]
    with warnings.catch_warnings():
        # the calibration's data-quality warnings are kept in rw.warnings and returned
        warnings.simplefilter("ignore")
        rw = calibrate_risk_weights(
            task.train,
            level=p["level"],
            mpor=p["mpor"],
            lookback=p["lookback"],
            method=task.method,
            stress_windows=task.windows or None,
            stress_weight=p["stress_weight"],
            filter=None if lam is None else "ewma",
            ewma_lambda=0.94 if lam is None else lam,
        )
    weights = rw.risk_weights
    row: dict[str, Any] = dict(p)
    row.update({f"rw_{a}": float(w) for a, w in weights.items()})
    row["mean_risk_weight"] = float(weights.mean())
    credits: dict[str, float] = {}
    if task.pairs:
        correlations, nobs = regime_correlations(task.train, p["lookback"], task.windows)
        cal = OffsetCalibrator(**{**_settings(task.offsets), "cap": p["offset_cap"]})
        credits = cal.fit(correlations, task.pairs, nobs=nobs).to_dict()
        row.update({f"credit_{k}": v for k, v in credits.items()})
        row["mean_credit"] = float(np.mean(list(credits.values())))
        row["pairs_credited"] = int(sum(c > 0 for c in credits.values()))
    else:
        row["mean_credit"], row["pairs_credited"] = math.nan, 0
    moves, dropped = _blocks(task.test, p["mpor"])
    row["holdout_moves_dropped"] = dropped
    w = weights.reindex(moves.columns).to_numpy()
    hits = np.concatenate(
        [(position_losses(moves.to_numpy(), side) > w).ravel() for side in ("long", "short")]
    )
    row.update(_coverage("outright", hits, p["level"]))
    if task.pairs:
        # P&L per unit of notional of a long: minus its loss
        gains = dict(zip(moves.columns, -position_losses(moves.to_numpy(), "long").T, strict=True))
        pair_hits = []
        for pair in task.pairs:
            a, b = gains[pair.first], gains[pair.second]
            spread = a / weights[pair.first] + pair.sign * b / weights[pair.second]
            margin = hedged_pair_margin(1.0, 1.0, credits[pair.name])  # unit-risk legs
            pair_hits += [-spread > margin, spread > margin]
        row.update(_coverage("pair", np.concatenate(pair_hits), p["level"]))
    else:
        row.update(_coverage("pair", np.zeros(0, dtype=bool), p["level"]))
    row["skipped"] = ""
    params = rw.to_parameters(
        offset_credits=credits,
        offset_cap=p["offset_cap"],
        as_of=task.train.index[-1].date(),
        description=f"sensitivity sweep point {task.number}",
    )
    return row, params, tuple(rw.warnings)


def _settings(calibrator: OffsetCalibrator) -> dict[str, Any]:
    return {
        name: getattr(calibrator, name)
        for name in (
            "hedge",
            "significance",
            "break_threshold",
            "break_haircut",
            "reference",
            "min_correlation",
        )
    }


def _blocks(returns: pd.DataFrame, mpor: int) -> tuple[pd.DataFrame, int]:
    """Non-overlapping ``mpor``-day sums anchored at the last date, and how many were dropped.

    A block with a missing return in any asset is dropped (and counted).
    """
    sums = mpor_returns(
        returns, mpor, overlapping=False, given="returns", check_units=False, missing="propagate"
    )
    complete = sums.dropna()
    return complete, len(sums) - len(complete)


def _coverage(prefix: str, hits: np.ndarray, level: float) -> dict[str, Any]:
    n, k = int(hits.size), int(hits.sum())
    if n == 0:
        return {
            f"{prefix}_exceptions": 0,
            f"{prefix}_observations": 0,
            f"{prefix}_coverage": math.nan,
            f"{prefix}_pvalue": math.nan,
        }
    return {
        f"{prefix}_exceptions": k,
        f"{prefix}_observations": n,
        f"{prefix}_coverage": 1.0 - k / n,
        f"{prefix}_pvalue": kupiec(k, n, level).pvalue,
    }
