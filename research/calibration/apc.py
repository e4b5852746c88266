"""Anti-procyclicality (APC) tools of EMIR RTS 153/2013 Art. 28 and procyclicality metrics.

Three tools turn a *base* margin path into a less procyclical one:

* **buffer** (Art. 28(1)(a)): margin = base x (1 + buffer) in normal times; in stress
  (base margin rising significantly) the buffer is released: the margin holds at its
  previous level as long as that covers the base margin.
* **stress weight** (Art. 28(1)(b)): margin = (1 - w) x base + w x stressed margin,
  with the stressed margin from stressed observations (w >= 25%).
* **floor** (Art. 28(1)(c)): margin = max(base, margin from a 10-year lookback).

:func:`apply_apc` computes all three from a base path (and the stressed margin and
floor); :func:`apc_from_returns` first computes the base, stressed and floor paths
from returns without look-ahead. :func:`procyclicality_metrics` gives the
peak-to-trough ratio and the largest n-day increase of any path.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from research._typing import Float64Array1D
from research.calibration.parameters import APCSettings
from research.calibration.risk_weights import WindowsLike, _in_windows, _windows
from research.data import ReturnUnits, mpor_returns, position_losses, validate_units
from research.errors import DataError, DataQualityWarning, InsufficientDataError, SpecificationError
from research.margin.tail import empirical_var_es

__all__ = [
    "APCResult",
    "apc_buffer",
    "apc_floor",
    "apc_from_returns",
    "apc_stress_weight",
    "apply_apc",
    "procyclicality_metrics",
]

TOOLS = ("buffer", "stress_weight", "floor")
DEFAULT_HORIZONS = (1, 5, 30)


def _as_path(path: pd.Series | Sequence[float], name: str = "margin path") -> pd.Series:
    series = path.copy() if isinstance(path, pd.Series) else pd.Series(path, dtype=np.float64)
    try:
        series = series.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be numeric: {exc}") from exc
    if series.empty:
        raise InsufficientDataError(f"{name} is empty")
    bad = ~np.isfinite(series.to_numpy())
    if bad.any():
        raise DataError(
            f"{name} has {int(bad.sum())} missing or infinite value(s), the first at "
            f"{series.index[int(np.argmax(bad))]}; fill or drop them first"
        )
    if (series <= 0).any():
        first = series.index[int(np.argmax((series <= 0).to_numpy()))]
        raise DataError(f"{name} must be positive; it is {series[first]!r} at {first}")
    return series


def procyclicality_metrics(
    path: pd.Series | Sequence[float], horizons: Sequence[int] = DEFAULT_HORIZONS
) -> pd.Series:
    r"""Peak-to-trough ratio and largest n-day increases of a margin path.

    Parameters
    ----------
    path : pandas.Series or sequence of float
        Margin path in time order (positive).
    horizons : sequence of int, default (1, 5, 30)
        Observation lags ``n`` of the increase :math:`M_t / M_{t-n} - 1`.

    Returns
    -------
    pandas.Series
        ``peak_to_trough`` (:math:`\max_t M_t / \min_t M_t`) and ``max_{n}d_increase``
        for each horizon (NaN when the path is not longer than ``n``).

    Raises
    ------
    DataError
        Missing, infinite or non-positive margins (message names the date).
    InsufficientDataError
        An empty path.
    SpecificationError
        A horizon below 1.

    References
    ----------
    ESMA (2018). Guidelines on EMIR anti-procyclicality margin measures for central
    counterparties, ESMA70-151-1293.

    Examples
    --------
    >>> from research.calibration import procyclicality_metrics
    >>> m = procyclicality_metrics([100, 100, 105, 130, 180, 170, 150, 120, 110])
    >>> float(m["peak_to_trough"]), round(float(m["max_1d_increase"]), 4)
    (1.8, 0.3846)
    """
    series = _as_path(path)
    values = series.to_numpy()
    out = {"peak_to_trough": float(values.max() / values.min())}
    for n in horizons:
        if isinstance(n, bool) or int(n) != n or n < 1:
            raise SpecificationError(f"horizons must be whole numbers >= 1, got {n!r}")
        n = int(n)
        out[f"max_{n}d_increase"] = (
            float(np.max(values[n:] / values[:-n]) - 1.0) if values.size > n else math.nan
        )
    return pd.Series(out, name=series.name, dtype=np.float64)


def _rising(base: Float64Array1D, threshold: float, window: int) -> np.ndarray:
    """Stress flags: base rose more than ``threshold`` above its minimum of the last ``window``."""
    flags = np.zeros(base.size, dtype=bool)
    for t in range(1, base.size):
        trough = base[max(t - window, 0) : t].min()
        flags[t] = base[t] / trough - 1.0 > threshold
    return flags


def apc_buffer(
    base: pd.Series | Sequence[float],
    buffer: float = 0.25,
    stress: pd.Series | Sequence[bool] | None = None,
    release_threshold: float = 0.1,
    release_window: int = 5,
    rebuild_days: int = 1,
) -> tuple[pd.Series, pd.Series]:
    r"""Margin with a buffer that is released in stress (EMIR Art. 28(1)(a)).

    Parameters
    ----------
    base : pandas.Series or sequence of float
        Base margin path.
    buffer : float, default 0.25
        Buffer as a fraction of the base margin.
    stress : boolean Series or sequence, optional
        Days on which the buffer may be used. By default stress is detected: the base
        margin is more than ``release_threshold`` above its minimum over the previous
        ``release_window`` observations.
    release_threshold : float, default 0.1
        Rise that counts as "rising significantly".
    release_window : int, default 5
        Observations over which the rise is measured.
    rebuild_days : int, default 1
        Outside stress a used buffer is refilled by at most ``buffer / rebuild_days``
        of the base margin per observation (1: at once).

    Returns
    -------
    margin : pandas.Series
        Buffered margin path.
    stress : pandas.Series
        Boolean stress flags used.

    Raises
    ------
    DataError
        Invalid base path or stress flags of the wrong length.

    Notes
    -----
    In stress :math:`M_t = \max(B_t, \min((1 + b) B_t, M_{t-1}))`: the margin holds
    while the buffer covers the rise and never falls below the base margin. Outside
    stress :math:`M_t = \min((1 + b) B_t, \max(B_t, M_{t-1} + b B_t / d))` with
    :math:`d` = ``rebuild_days``, so a full buffer gives :math:`M_t = (1 + b) B_t`
    and a used one is rebuilt over about :math:`d` observations instead of in one
    jump of up to :math:`b`. :math:`M_0 = (1 + b) B_0`.

    Examples
    --------
    >>> from research.calibration import apc_buffer
    >>> margin, stress = apc_buffer([100, 100, 105, 130, 180, 170, 150, 120, 110])
    >>> margin.round(2).tolist()
    [125.0, 125.0, 131.25, 131.25, 180.0, 180.0, 180.0, 150.0, 137.5]
    """
    series = _as_path(base, "base margin")
    values = series.to_numpy()
    if stress is None:
        flags = _rising(values, release_threshold, int(release_window))
    else:
        flags = np.asarray(stress.to_numpy() if isinstance(stress, pd.Series) else stress)
        if flags.shape != values.shape or flags.dtype != bool:
            raise DataError(
                f"stress flags must be boolean with one value per margin date "
                f"({values.size}), got dtype {flags.dtype} and shape {flags.shape}"
            )
    if isinstance(rebuild_days, bool) or int(rebuild_days) != rebuild_days or rebuild_days < 1:
        raise SpecificationError(f"rebuild_days must be a whole number >= 1, got {rebuild_days!r}")
    margin = np.empty_like(values)
    margin[0] = (1.0 + buffer) * values[0]
    for t in range(1, values.size):
        buffered = (1.0 + buffer) * values[t]
        if flags[t]:
            margin[t] = max(values[t], min(buffered, margin[t - 1]))
        else:
            refill = margin[t - 1] + buffer * values[t] / rebuild_days
            margin[t] = min(buffered, max(values[t], refill))
    return (
        pd.Series(margin, index=series.index, name="buffer"),
        pd.Series(flags, index=series.index, name="stress"),
    )


def _aligned(values: float | pd.Series, base: pd.Series) -> pd.Series:
    if isinstance(values, pd.Series):
        if not values.index.equals(base.index):
            values = values.reindex(base.index)
        return values.astype(np.float64)
    return pd.Series(float(values), index=base.index)


def apc_stress_weight(
    base: pd.Series | Sequence[float], stressed: float | pd.Series, weight: float = 0.25
) -> pd.Series:
    """Blend of base and stressed margins (EMIR Art. 28(1)(b)).

    Parameters
    ----------
    base : pandas.Series or sequence of float
        Base margin path.
    stressed : float or pandas.Series
        Margin from stressed observations (constant or per date). Dates without a
        stressed margin keep the base margin.
    weight : float, default 0.25
        Weight of the stressed margin.

    Returns
    -------
    pandas.Series
        ``(1 - weight) * base + weight * stressed``.

    Examples
    --------
    >>> from research.calibration import apc_stress_weight
    >>> apc_stress_weight([100.0, 180.0], 200.0).tolist()
    [125.0, 185.0]
    """
    series = _as_path(base, "base margin")
    stress = _aligned(stressed, series)
    blended = (1.0 - weight) * series + weight * stress
    return blended.fillna(series).rename("stress_weight")


def apc_floor(base: pd.Series | Sequence[float], floor: float | pd.Series) -> pd.Series:
    """Floor the base margin by the margin from a 10-year lookback (EMIR Art. 28(1)(c)).

    Parameters
    ----------
    base : pandas.Series or sequence of float
        Base margin path.
    floor : float or pandas.Series
        Floor margin (constant or per date); dates without one keep the base margin.

    Returns
    -------
    pandas.Series
        ``max(base, floor)``.

    Examples
    --------
    >>> from research.calibration import apc_floor
    >>> apc_floor([100.0, 180.0], 120.0).tolist()
    [120.0, 180.0]
    """
    series = _as_path(base, "base margin")
    floors = _aligned(floor, series)
    return np.fmax(series, floors).rename("floor")


@dataclass(frozen=True, eq=False)
class APCResult:
    """Margin paths under each APC tool, which tool binds, and procyclicality metrics.

    Parameters
    ----------
    paths : pandas.DataFrame
        Columns ``base``, ``buffer``, ``stress_weight``, ``floor`` (tools without
        inputs are absent), ``combined`` (the highest) and ``margin`` (the tool
        selected by ``settings.tool``); with :func:`apc_from_returns` also the inputs
        ``stressed_input`` and ``floor_input``.
    binding : pandas.Series
        Per date, the tool with the highest margin, or ``"base"`` when no tool
        raises the margin above the base.
    stress : pandas.Series
        Boolean flags on which the buffer was released.
    settings : APCSettings
        The settings used.
    warnings : tuple of str
        Data-quality messages, also emitted as :class:`DataQualityWarning`.
    """

    paths: pd.DataFrame
    binding: pd.Series
    stress: pd.Series
    settings: APCSettings
    warnings: tuple[str, ...] = ()

    @property
    def margin(self) -> pd.Series:
        """Margin path under the configured tool (``settings.tool``)."""
        return self.paths["margin"]

    @property
    def active(self) -> pd.DataFrame:
        """Per date and tool, whether the tool raises the margin above the base."""
        tools = [t for t in TOOLS if t in self.paths]
        return self.paths[tools].gt(self.paths["base"], axis=0)

    def metrics(self, horizons: Sequence[int] = DEFAULT_HORIZONS) -> pd.DataFrame:
        """Procyclicality metrics of every path (rows) side by side.

        Parameters
        ----------
        horizons : sequence of int, default (1, 5, 30)
            Lags of the largest n-day increase.

        Returns
        -------
        pandas.DataFrame
        """
        names = [c for c in ("base", *TOOLS, "combined") if c in self.paths]
        return pd.DataFrame(
            {n: procyclicality_metrics(self.paths[n], horizons) for n in names}
        ).T.rename_axis("path")

    def summary(self) -> pd.DataFrame:
        """Metrics of each path plus its share of binding days and mean margin.

        ``binding_share`` of ``base`` is the share of days on which no tool raises
        the margin; it is undefined (NaN) for ``combined``.

        Returns
        -------
        pandas.DataFrame
        """
        table = self.metrics()
        share = self.binding.value_counts(normalize=True)
        table["binding_share"] = share.reindex(table.index).fillna(0.0)
        table.loc["combined", "binding_share"] = math.nan
        table["mean_margin"] = self.paths[table.index].mean()
        return table

    def __str__(self) -> str:
        notes = "".join(f"\nWarning: {w}" for w in self.warnings)
        return (
            f"APC ({self.settings.tool}; buffer {self.settings.buffer:g}, stress weight "
            f"{self.settings.stress_weight:g}, floor {self.settings.floor_years} years)\n"
            f"{self.summary().to_string()}{notes}"
        )


def apply_apc(
    base: pd.Series | Sequence[float],
    *,
    stressed: float | pd.Series | None = None,
    floor: float | pd.Series | None = None,
    stress: pd.Series | Sequence[bool] | None = None,
    settings: APCSettings | None = None,
) -> APCResult:
    """Apply the three EMIR APC tools to a base margin path.

    Parameters
    ----------
    base : pandas.Series or sequence of float
        Base margin path (positive, time order).
    stressed : float or pandas.Series, optional
        Stressed margin for the stress-weight tool; without it the tool is skipped.
    floor : float or pandas.Series, optional
        Floor margin (10-year lookback); without it the tool is skipped.
    stress : boolean Series or sequence, optional
        Buffer-release days; detected from the base path by default (see :func:`apc_buffer`).
    settings : APCSettings, optional
        Buffer, stress weight, release rule and the tool behind ``margin``.

    Returns
    -------
    APCResult

    Raises
    ------
    DataError
        Invalid base path.
    SpecificationError
        ``settings.tool`` needs an input that was not given.

    Examples
    --------
    >>> from research.calibration import apply_apc
    >>> res = apply_apc([100, 100, 105, 130, 180, 170, 150, 120, 110], stressed=200.0,
    ...                 floor=120.0)
    >>> res.binding.tolist()[2:5]
    ['stress_weight', 'stress_weight', 'stress_weight']
    """
    settings = APCSettings() if settings is None else settings
    series = _as_path(base, "base margin")
    buffered, flags = apc_buffer(
        series,
        settings.buffer,
        stress,
        settings.release_threshold,
        settings.release_window,
        settings.rebuild_days,
    )
    columns = {"base": series.rename("base"), "buffer": buffered}
    notes: list[str] = []
    if stressed is not None:
        columns["stress_weight"] = apc_stress_weight(series, stressed, settings.stress_weight)
        missing = int(_aligned(stressed, series).isna().sum())
        if missing:
            notes.append(f"no stressed margin on {missing} date(s); the base margin is kept")
    if floor is not None:
        columns["floor"] = apc_floor(series, floor)
        missing = int(_aligned(floor, series).isna().sum())
        if missing:
            notes.append(f"no floor on {missing} date(s); the base margin is kept")
    tools = [t for t in TOOLS if t in columns]
    if settings.tool not in (*tools, "combined"):
        raise SpecificationError(
            f"settings.tool is {settings.tool!r} but no input for it was given "
            "(pass stressed=... for 'stress_weight', floor=... for 'floor')"
        )
    paths = pd.DataFrame(columns)
    paths["combined"] = paths[tools].max(axis=1)
    paths["margin"] = paths[settings.tool]
    top = paths[tools].idxmax(axis=1)
    binding = top.where(paths["combined"] > paths["base"], "base").rename("binding")
    for note in notes:
        warnings.warn(note, DataQualityWarning, stacklevel=2)
    return APCResult(paths, binding, flags, settings, tuple(notes))


def _risk_value(losses: Sequence[Float64Array1D], level: float, method: str) -> float:
    """VaR/ES of the binding side in the convention of :mod:`research.margin.tail`."""
    values = []
    for side_losses in losses:
        var, es = empirical_var_es(side_losses, level)
        values.append(var if method == "var" else es)
    return float(max(values))


def apc_from_returns(
    returns: pd.Series,
    level: float = 0.99,
    mpor: int = 2,
    lookback: int = 250,
    stress_windows: WindowsLike | None = None,
    settings: APCSettings | None = None,
    method: Literal["var", "es"] = "var",
    side: Literal["both", "long", "short"] = "both",
    units: ReturnUnits = "percent",
) -> APCResult:
    """Compute base, stressed and floor margin paths from returns, then the APC tools.

    At each date ``t`` only returns up to ``t`` are used (no look-ahead). Each path is the
    VaR/ES of the position losses (:func:`research.data.position_losses`, the binding
    ``side``) of overlapping ``mpor``-day moves, as in
    :func:`research.calibration.calibrate_risk_weights`:

    * base: the moves in the last ``lookback`` returns;
    * stressed: the moves that ended inside a stress window on or before ``t``;
    * floor: the moves of the last ``settings.floor_years`` calendar years
      (all history while it is shorter).

    Parameters
    ----------
    returns : pandas.Series
        Daily log returns of one underlying or one portfolio (percent by default),
        DatetimeIndex, no missing values.
    level, mpor, lookback, method, side, units
        As in :func:`research.calibration.calibrate_risk_weights`.
    stress_windows : mapping name -> (start, end) or iterable of windows, optional
        Stress windows for the stress-weight tool; without them the tool is skipped.
    settings : APCSettings, optional
        APC settings.

    Returns
    -------
    APCResult
        Paths start on the first date with a full lookback; margins are losses per unit
        of notional (fractions; :func:`research.data.position_losses`).

    Raises
    ------
    DataError
        Not a DatetimeIndexed Series, or missing values (the first date is named).
    InsufficientDataError
        History no longer than the lookback.

    Warns
    -----
    DataQualityWarning
        History shorter than the floor lookback; dates without a stressed margin.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from research.calibration import apc_from_returns
    >>> idx = pd.bdate_range("2000-01-03", periods=600)
    >>> r = pd.Series(np.random.default_rng(0).normal(0, 1, 600), index=idx)
    >>> windows = {"w": ("2000-06-01", "2000-07-31")}
    >>> res = apc_from_returns(r, lookback=250, stress_windows=windows)
    >>> res.paths.columns.tolist()[:5]
    ['base', 'buffer', 'stress_weight', 'floor', 'combined']
    """
    settings = APCSettings() if settings is None else settings
    validate_units(units)
    if not isinstance(returns, pd.Series) or not isinstance(returns.index, pd.DatetimeIndex):
        raise DataError("returns must be a Series with a DatetimeIndex (one underlying)")
    values = returns.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataError(
            f"returns have {int(bad.sum())} missing value(s), the first at "
            f"{returns.index[int(np.argmax(bad))].date()}; drop or fill them first"
        )
    if int(mpor) != mpor or mpor < 1 or int(lookback) != lookback or lookback < mpor:
        raise SpecificationError(
            f"need whole mpor >= 1 and lookback >= mpor, got {mpor}, {lookback}"
        )
    n = values.size
    if n <= lookback:
        raise InsufficientDataError(
            f"{n} returns do not exceed the lookback of {lookback}; shorten the lookback"
        )
    index = returns.index
    moves = np.full(n, np.nan)
    sums = mpor_returns(returns.to_frame(), int(mpor), given="returns", check_units=False)
    moves[mpor - 1 :] = sums.to_numpy()[:, 0]
    windows = _windows(stress_windows)
    in_stress = _in_windows(index, windows) if windows else np.zeros(n, dtype=bool)
    floor_start = index.searchsorted(index - pd.DateOffset(years=settings.floor_years), "right")
    notes: list[str] = []
    if index[-1] - index[0] < pd.Timedelta(days=365 * settings.floor_years):
        notes.append(
            f"history ({index[0].date()} to {index[-1].date()}) is shorter than the "
            f"{settings.floor_years}-year floor lookback; the floor uses all history"
        )
    dates = range(lookback - 1, n)
    base, stressed, floor = (np.empty(len(dates)) for _ in range(3))
    sides = [name for name in ("long", "short") if side in ("both", name)]
    losses = [position_losses(moves, name, units) for name in sides]
    for i, t in enumerate(dates):
        base[i] = _risk_value([x[t - lookback + mpor : t + 1] for x in losses], level, method)
        first = max(floor_start[t] + mpor - 1, mpor - 1)
        floor[i] = _risk_value([x[first : t + 1] for x in losses], level, method)
        past = in_stress[: t + 1] & (np.arange(t + 1) >= mpor - 1)
        stressed[i] = (
            _risk_value([x[: t + 1][past] for x in losses], level, method)
            if past.any()
            else math.nan
        )
    out_index = index[lookback - 1 :]
    base_path = pd.Series(base, index=out_index)
    stressed_path = pd.Series(stressed, index=out_index) if windows else None
    floor_path = pd.Series(floor, index=out_index)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        result = apply_apc(base_path, stressed=stressed_path, floor=floor_path, settings=settings)
    notes += [str(w.message) for w in caught]
    paths = result.paths.copy()
    if stressed_path is not None:
        paths["stressed_input"] = stressed_path
    paths["floor_input"] = floor_path
    for note in notes:
        warnings.warn(note, DataQualityWarning, stacklevel=2)
    return APCResult(paths, result.binding, result.stress, settings, tuple(notes))
