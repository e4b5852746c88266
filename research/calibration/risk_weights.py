"""Risk weights: the level-quantile (VaR) or expected shortfall of MPOR moves per underlying.

A risk weight is the loss on one unit of notional over the margin period of
risk (``mpor`` days) that is exceeded with probability ``1 - level``, estimated
from the ``lookback`` most recent daily log returns, optionally with stress
windows added or weighted in, and optionally volatility-filtered (filtered
historical simulation with an EWMA volatility).

Log returns add up over the MPOR; the loss they cause does not: a price move of log
return :math:`m` costs a long position :math:`1 - e^{m}` and a short one :math:`e^{m} - 1`
per unit of notional (:func:`position_losses`). Risk weights are tail measures of these
losses, so the margin ``risk weight x |notional|`` of a linear position is its VaR (or ES)
exactly, in the same P&L that the offset backtest realizes. Quantiles of the log moves
themselves would overstate a long's risk and understate a short's (by about 0.5 points
for a 2-day 99% equity move of 10%, more for crypto).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from research._typing import Float64Array1D
from research.calibration.parameters import MarginParameters
from research.data import (
    Bars,
    ReturnUnits,
    check_return_units,
    check_time_index,
    duration_label,
    infer_frequency,
    mpor_returns,
    period_text,
    position_losses,  # the package's one loss per unit of notional, re-exported
    units_per_fraction,
    validate_units,
    worst_moves,
)
from research.data.timeindex import range_mask, stamp_text
from research.errors import (
    DataError,
    DataQualityWarning,
    InsufficientDataError,
    ParameterError,
    SpecificationError,
)
from research.margin.tail import var_es
from research.stress.windows import StressWindow
from research.volatility.ewma import ewma_volatility  # the package's one EWMA, re-exported

__all__ = [
    "PROFILES",
    "CalibrationProfile",
    "RiskWeightCalibration",
    "calibrate_risk_weights",
    "ewma_volatility",
    "position_losses",
    "tail_risk",
]

Method = Literal["var", "es"]
Side = Literal["both", "long", "short"]
Filter = Literal["ewma"]
WindowsLike = Mapping[str, tuple[Any, Any]] | Iterable[Any]

_DRIVER_COLUMNS = (
    "observations",
    "lookback_moves",
    "stress_moves",
    "missing_returns",
    "dropped_moves",
    "side",
    "quantile_date",
    "lookback_risk",
    "stress_risk",
    "stress_contribution",
    "volatility_scale",
)


def tail_risk(losses: Float64Array1D, level: float, method: Method = "var") -> tuple[float, int]:
    r"""Empirical VaR or ES of a loss sample and the position of the VaR observation.

    Parameters
    ----------
    losses : ndarray, shape (n,)
        Loss sample (positive = loss), no missing values.
    level : float
        Confidence level in (0, 1).
    method : {"var", "es"}, default "var"
        Value-at-risk (the order statistic) or expected shortfall (mean of the tail).

    Returns
    -------
    risk : float
        The risk measure.
    position : int
        Index into ``losses`` of (the first occurrence of) the VaR observation.

    Raises
    ------
    InsufficientDataError
        Empty sample.
    DataError
        A loss is not finite.

    Notes
    -----
    The package's single tail convention, computed by :func:`research.margin.tail.var_es`:
    with :math:`m = \lceil (1 - \text{level})\, n \rceil` (at least 1,
    :func:`research.margin.tail.tail_count`), VaR is the :math:`m`-th largest loss (3rd worst
    of 250 at 99%, 10th worst of 1000) and ES the mean of the :math:`m` largest losses.

    Examples
    --------
    >>> import numpy as np
    >>> from research.calibration.risk_weights import tail_risk
    >>> tail_risk(np.arange(1.0, 101.0), 0.95)
    (96.0, 95)
    """
    sample = np.asarray(losses, dtype=np.float64)
    if sample.size == 0:
        raise InsufficientDataError("no losses to take a tail risk measure of")
    var, es, scenario = var_es(sample.reshape(1, -1), level)
    risk = var[0] if method == "var" else es[0]
    return float(risk), int(scenario[0])


def _windows(windows: WindowsLike | None) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    if windows is None:
        return {}
    if isinstance(windows, Mapping):
        items = [(name, bounds[0], bounds[1]) for name, bounds in windows.items()]
    else:
        items = []
        for w in windows:
            if not all(hasattr(w, a) for a in ("name", "start", "end")):
                raise SpecificationError(
                    f"stress windows need name, start and end (e.g. research.stress.StressWindow "
                    f"or a mapping name -> (start, end)), got {w!r}"
                )
            items.append((w.name, w.start, w.end))
    out = {}
    for name, start, end in items:
        window = StressWindow(str(name), start, end)  # naive or aware, ordered
        out[window.name] = (window.start, window.end)
    return out


def _moves(returns: pd.Series, mpor: int, overlapping: bool) -> pd.Series:
    """``mpor``-day sums ending on each date (:func:`research.data.mpor_returns`).

    A window with a missing day is NaN; a series shorter than ``mpor`` has no move.
    """
    if returns.size < mpor:
        return pd.Series(np.empty(0), index=returns.index[:0], name=returns.name)
    moves = mpor_returns(
        returns.to_frame(),
        mpor,
        overlapping,
        given="returns",
        check_units=False,
        missing="propagate",
    )
    return moves.iloc[:, 0].rename(returns.name)


def _in_windows(index: pd.DatetimeIndex, windows: Mapping[str, tuple[Any, Any]]) -> np.ndarray:
    mask = np.zeros(index.size, dtype=bool)
    for start, end in windows.values():
        mask |= range_mask(index, start, end)
    return mask


@dataclass(frozen=True, eq=False)
class RiskWeightCalibration:
    """Risk weights and the evidence behind each.

    Parameters
    ----------
    risk_weights : pandas.Series
        Risk weight per underlying, as a fraction of notional.
    drivers : pandas.DataFrame
        Per underlying: ``observations`` (moves used), ``lookback_moves``,
        ``stress_moves``, ``missing_returns``, ``dropped_moves`` (moves with a missing
        day), ``side`` (tail that binds), ``quantile_date`` (end date of the move at the
        VaR order statistic of the binding side; of the lookback sample when stress
        is weighted), ``lookback_risk``, ``stress_risk``,
        ``stress_contribution`` (risk weight minus the lookback-only risk weight) and,
        with a filter, ``volatility_scale`` (current / average filtered volatility).
    settings : mapping
        The calibration settings.
    warnings : tuple of str
        Data-quality messages, also emitted as :class:`DataQualityWarning`.
    """

    risk_weights: pd.Series
    drivers: pd.DataFrame
    settings: Mapping[str, Any]
    warnings: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        """Return the risk weights beside their drivers, one row per underlying.

        Returns
        -------
        pandas.DataFrame
        """
        return pd.concat([self.risk_weights, self.drivers], axis=1)

    def to_parameters(self, **kwargs: Any) -> MarginParameters:
        """Build a :class:`MarginParameters` from these risk weights and settings.

        Parameters
        ----------
        **kwargs
            Further :class:`MarginParameters` fields (offset credits, cap, version...).

        Returns
        -------
        MarginParameters
        """
        s = self.settings
        base = {
            "level": s["level"],
            "mpor": s["mpor"],
            "lookback": s["lookback"],
            "risk_weights": self.risk_weights.to_dict(),
            "stress_windows": dict(s["stress_windows"]),  # intraday bounds keep their times
            "stress_weight": s["stress_weight"],
        }
        if s["period"] is not None:
            base["period"] = s["period"]
        base.update(kwargs)
        return MarginParameters(**base)

    def __str__(self) -> str:
        s = self.settings
        head = (
            f"Risk weights: {s['method'].upper()} at {s['level']:g} over {_horizon(s)} "
            f"({s['moves']} moves), "
            f"lookback {s['lookback']}, {'overlapping' if s['overlapping'] else 'non-overlapping'}"
            f" moves, filter {s['filter']}"
        )
        body = self.summary().to_string()
        notes = "".join(f"\nWarning: {w}" for w in self.warnings)
        return f"{head}\n{body}{notes}"


def _period(index: pd.DatetimeIndex) -> str | None:
    """Return the bar length of daily or intraday returns (``None`` for weekly, irregular)."""
    frequency = infer_frequency(index)
    return None if frequency.step is None else period_text(frequency.step)


def _horizon(settings: Mapping[str, Any]) -> str:
    """Say the MPOR in hours or days when the bar length is known, else in periods."""
    if settings["period"] is None:
        return f"{settings['mpor']} period(s)"
    return duration_label(settings["mpor"], settings["period"])


def _validate(
    level: float,
    mpor: int,
    lookback: int | None,
    method: str,
    side: str,
    filter: str | None,
    ewma_lambda: float,
    stress_weight: float | None,
    units: ReturnUnits,
) -> None:
    validate_units(units)
    if not 0.5 < level < 1.0:
        raise SpecificationError(f"level must lie in (0.5, 1), got {level!r}")
    if isinstance(mpor, bool) or int(mpor) != mpor or mpor < 1:
        raise SpecificationError(f"mpor must be a whole number of days >= 1, got {mpor!r}")
    if lookback is not None and (int(lookback) != lookback or lookback < mpor):
        raise SpecificationError(f"lookback must be a whole number >= mpor, got {lookback!r}")
    if method not in ("var", "es"):
        raise SpecificationError(f"method must be 'var' or 'es', got {method!r}")
    if side not in ("both", "long", "short"):
        raise SpecificationError(f"side must be 'both', 'long' or 'short', got {side!r}")
    if filter not in (None, "ewma"):
        raise SpecificationError(f"filter must be None or 'ewma', got {filter!r}")
    if not 0.0 < ewma_lambda < 1.0:
        raise SpecificationError(f"ewma_lambda must lie in (0, 1), got {ewma_lambda!r}")
    if stress_weight is not None and not 0.0 <= stress_weight <= 1.0:
        raise SpecificationError(f"stress_weight must lie in [0, 1], got {stress_weight!r}")


def _side_risk(
    moves: Float64Array1D | tuple[Float64Array1D, Float64Array1D],
    level: float,
    method: Method,
    side: Side,
    units: ReturnUnits,
) -> tuple[float, int, str]:
    """Risk of the binding side, as a fraction of notional (see :func:`position_losses`).

    ``moves`` is one array of close-to-close moves, or the (long, short) worst moves.
    """
    long, short = moves if isinstance(moves, tuple) else (moves, moves)
    by_side = {"long": long, "short": short}
    candidates = [
        (*tail_risk(position_losses(by_side[name], name, units), level, method), name)
        for name in ("long", "short")
        if side in ("both", name)
    ]
    return max(candidates, key=lambda c: c[0])


def calibrate_risk_weights(
    returns: pd.DataFrame | pd.Series,
    level: float = 0.99,
    mpor: int = 2,
    lookback: int | None = 250,
    method: Method = "var",
    overlapping: bool = True,
    stress_windows: WindowsLike | None = None,
    stress_weight: float | None = None,
    filter: Filter | None = None,
    ewma_lambda: float = 0.94,
    side: Side = "both",
    units: ReturnUnits = "percent",
    check_units: bool = True,
    bars: Bars | None = None,
) -> RiskWeightCalibration:
    r"""Calibrate one risk weight per underlying at ``level`` over the MPOR.

    Parameters
    ----------
    returns : pandas.DataFrame or Series
        Daily log returns (percent by default, as :func:`research.data.to_returns`
        gives them), DatetimeIndex, one column per underlying. Missing values are
        allowed; every move that spans one is dropped and counted. The rows before an
        underlying's first return (listed later than the others) are not missing values:
        its history starts there, with a warning (the lookback counts its own rows).
    level : float, default 0.99
        Confidence level in (0.5, 1).
    mpor : int, default 2
        Margin period of risk in days; moves are sums of ``mpor`` daily returns.
    lookback : int or None, default 250
        Number of most recent daily returns behind the lookback sample (``None``: all).
    method : {"var", "es"}, default "var"
        Quantile (VaR) or expected shortfall of the moves.
    overlapping : bool, default True
        Overlapping moves (one per day) or non-overlapping ones (every ``mpor``-th,
        counted back from the last date).
    stress_windows : mapping name -> (start, end) or iterable of windows, optional
        Stress periods (anything with ``name``, ``start``, ``end``, e.g.
        ``research.stress.StressWindow``). A move belongs to a window when it ends
        inside it; stress moves are taken from the whole history.
    stress_weight : float or None, default None
        ``None``: stress moves are added to the lookback sample. A weight ``w``:
        risk = (1 - w) x lookback risk + w x stress risk.
    filter : {None, "ewma"}, default None
        ``"ewma"``: filtered historical simulation; daily returns are divided by their
        EWMA volatility and rescaled by the current forecast before moves are formed.
    ewma_lambda : float, default 0.94
        EWMA decay factor: the ``decay`` of :func:`research.volatility.ewma_volatility`
        (seeded with the mean square of the first 30 returns of each underlying).
    side : {"both", "long", "short"}, default "both"
        Loss of a long (falling prices), a short (rising prices) or the larger of the two;
        losses per unit of notional as in :func:`position_losses`.
    units : {"percent", "decimal"}, default "percent"
        Units of the returns (:data:`research.data.ReturnUnits`).
    check_units : bool, default True
        Refuse prices given as returns, and returns whose scale contradicts ``units``
        (decimals with ``units="percent"``, percent with ``units="decimal"``;
        :func:`research.data.check_return_units`).
    bars : research.data.Bars, optional
        OHLC bars of the underlyings (:func:`research.data.read_bars`): the losses then
        come from the worst move over each MPOR (:func:`research.data.worst_moves`: the
        lowest low for a long, the highest high for a short, from the close before), not
        from the close-to-close move. The moves' dates, lookback and stress windows stay
        those of ``returns``; a move whose bars are missing is dropped and counted. Not
        with ``filter``.

    Returns
    -------
    RiskWeightCalibration
        ``risk_weights`` (loss per unit of notional, as a fraction) and ``drivers``.

    Raises
    ------
    DataError
        Returns that are not a frame of numbers indexed by sorted, unique dates
        (:func:`research.data.check_time_index`, naming the first offending stamp),
        that fail the units guard, or a zero risk.
    InsufficientDataError
        Fewer moves than ``1 / (1 - level)`` for an underlying (the quantile would be
        the sample maximum); the message names the underlying.
    SpecificationError
        Invalid settings.

    Warns
    -----
    DataQualityWarning
        Lookback longer than the history, dropped moves, or a stress sample too
        small to resolve the quantile; also recorded in ``result.warnings``.

    Notes
    -----
    Each move :math:`m` is turned into the loss of a long, :math:`1 - e^{m}`, and of a short,
    :math:`e^{m} - 1` (:func:`position_losses`). VaR and ES of these losses follow the
    package's tail convention (:func:`tail_risk`, :mod:`research.margin.tail`): the
    ``ceil((1 - level) n)``-th largest loss and the mean of the ``ceil((1 - level) n)``
    largest. For iid :math:`N(0, \sigma^2)` daily log returns (as fractions),
    :math:`s = \sigma\sqrt{h}` and :math:`z = z_{\text{level}}`, the VaR weights tend to
    :math:`1 - e^{-zs}` (long) and :math:`e^{zs} - 1` (short), and the ES weights to
    :math:`1 - e^{s^2/2}\,\Phi(-z - s)/(1 - \text{level})` and
    :math:`e^{s^2/2}\,\Phi(s - z)/(1 - \text{level}) - 1`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from research.calibration import calibrate_risk_weights
    >>> idx = pd.bdate_range("2015-01-01", periods=2000)
    >>> r = pd.DataFrame({"A": np.random.default_rng(0).normal(0, 1, 2000)}, index=idx)
    >>> res = calibrate_risk_weights(r, level=0.99, mpor=1, lookback=None)
    >>> float(round(res.risk_weights["A"], 3)), res.drivers.loc["A", "side"]
    (0.024, 'long')
    """
    _validate(level, mpor, lookback, method, side, filter, ewma_lambda, stress_weight, units)
    frame = returns.to_frame() if isinstance(returns, pd.Series) else returns
    check_time_index(frame, what="returns")
    if frame.empty:
        raise InsufficientDataError("returns are empty")
    try:
        frame = frame.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"returns must be numeric: {exc}") from exc
    if check_units:
        check_return_units(frame, units)
    if bars is not None and filter is not None:
        raise SpecificationError(
            "bars (worst intraperiod moves) cannot be volatility-filtered; drop filter= or bars="
        )
    windows = _windows(stress_windows)
    min_moves = math.ceil(1.0 / (1.0 - level) - 1e-9)
    notes: list[str] = []
    weights: dict[str, float] = {}
    rows: dict[str, dict[str, Any]] = {}
    for asset in frame.columns:
        weights[str(asset)], rows[str(asset)] = _calibrate_one(
            frame[asset],
            str(asset),
            level,
            int(mpor),
            lookback,
            method,
            overlapping,
            windows,
            stress_weight,
            filter,
            ewma_lambda,
            side,
            units,
            min_moves,
            notes,
            None if bars is None else _extremes(bars, str(asset), int(mpor), units),
        )
    for note in notes:
        warnings.warn(note, DataQualityWarning, stacklevel=2)
    settings = {
        "level": float(level),
        "mpor": int(mpor),
        "lookback": int(lookback) if lookback is not None else int(len(frame)),
        "method": method,
        "overlapping": bool(overlapping),
        "stress_windows": windows,
        "stress_weight": stress_weight,
        "filter": filter,
        "ewma_lambda": float(ewma_lambda),
        "side": side,
        "units": units,
        "moves": "close-to-close" if bars is None else "worst intraperiod",
        "period": _period(frame.index),
        "first_date": frame.index[0],
        "last_date": frame.index[-1],
    }
    risk_weights = pd.Series(weights, name="risk_weight", dtype=np.float64)
    risk_weights.index.name = "underlying"
    drivers = pd.DataFrame.from_dict(rows, orient="index")
    drivers = drivers[[c for c in _DRIVER_COLUMNS if c in drivers.columns]]
    drivers.index.name = "underlying"
    return RiskWeightCalibration(risk_weights, drivers, settings, tuple(notes))


def _calibrate_one(
    series: pd.Series,
    asset: str,
    level: float,
    mpor: int,
    lookback: int | None,
    method: Method,
    overlapping: bool,
    windows: Mapping[str, Any],
    stress_weight: float | None,
    filter: Filter | None,
    ewma_lambda: float,
    side: Side,
    units: ReturnUnits,
    min_moves: int,
    notes: list[str],
    extremes: tuple[pd.Series, pd.Series] | None = None,
) -> tuple[float, dict[str, Any]]:
    first = series.first_valid_index()
    if first is None:
        raise InsufficientDataError(f"{asset}: no returns at all")
    if first != series.index[0]:  # listed later: its history starts with its first return
        notes.append(
            f"{asset}: no returns before {stamp_text(first)} (listed later than the sample "
            f"start {stamp_text(series.index[0])}); its own {series.loc[first:].size} returns "
            "are used"
        )
        series = series.loc[first:]
    missing = int(series.isna().sum())
    row: dict[str, Any] = {"missing_returns": missing}
    if filter == "ewma":
        valid = series.dropna()
        if valid.size < 2:
            raise InsufficientDataError(f"{asset}: fewer than two returns to filter")
        sigma, forecast = ewma_volatility(valid, decay=ewma_lambda)
        filtered = valid / sigma * forecast
        series = filtered.reindex(series.index)
        row["volatility_scale"] = forecast / float(sigma.mean())
    window_days = series.size if lookback is None else int(lookback)
    if window_days > series.size:
        notes.append(
            f"{asset}: lookback of {window_days} days but only {series.size} are available; "
            "all are used"
        )
    moves = _moves(series, mpor, overlapping)
    # a lookback move lies entirely inside the last `window_days` returns
    start_pos = series.index.get_indexer(moves.index) - mpor + 1
    in_lookback = (start_pos >= max(series.size - window_days, 0)) & (start_pos >= 0)
    in_stress = _in_windows(moves.index, windows)
    valid = moves.notna().to_numpy()
    if extremes is not None:
        low, high = (e.reindex(moves.index) for e in extremes)
        valid = valid & low.notna().to_numpy() & high.notna().to_numpy()

    def side_moves(mask: np.ndarray) -> Float64Array1D | tuple[Float64Array1D, Float64Array1D]:
        if extremes is None:
            return moves[mask].to_numpy()
        return low[mask].to_numpy(), high[mask].to_numpy()

    row["dropped_moves"] = int(((in_lookback | in_stress) & ~valid).sum())
    lookback_moves = moves[in_lookback & valid]
    stress_moves = moves[in_stress & valid]
    if lookback_moves.size < min_moves:
        raise InsufficientDataError(
            f"{asset}: {lookback_moves.size} valid {mpor}-day moves in the lookback, at least "
            f"{min_moves} are needed at level {level:g}; lengthen the lookback or drop {asset}"
        )
    if row["dropped_moves"]:
        notes.append(f"{asset}: {row['dropped_moves']} moves span a missing return and are dropped")
    if windows and stress_moves.size == 0:
        notes.append(
            f"{asset}: no valid moves inside the stress windows {', '.join(sorted(windows))}"
        )
    elif windows and stress_weight is not None and stress_moves.size < min_moves:
        notes.append(
            f"{asset}: only {stress_moves.size} moves in the stress windows, fewer than the "
            f"{min_moves} needed to resolve the {level:g} quantile; the worst move is used"
        )
    base_risk, base_pos, base_side = _side_risk(
        side_moves(in_lookback & valid), level, method, side, units
    )
    stress_risk = math.nan
    if stress_moves.size:
        stress_risk = _side_risk(side_moves(in_stress & valid), level, method, side, units)[0]
    if stress_weight is None and stress_moves.size:
        sample = moves[(in_lookback | in_stress) & valid]
        risk, pos, bind = _side_risk(
            side_moves((in_lookback | in_stress) & valid), level, method, side, units
        )
        quantile_date = sample.index[pos]
    elif stress_weight is not None and stress_moves.size:
        risk = (1.0 - stress_weight) * base_risk + stress_weight * stress_risk
        quantile_date, bind = lookback_moves.index[base_pos], base_side
    else:
        risk, quantile_date, bind = base_risk, lookback_moves.index[base_pos], base_side
    if not risk > 0:
        raise DataError(
            f"{asset}: the {level:g} {method.upper()} of {mpor}-day moves is {risk:g}, not a loss; "
            "check the returns (constant prices?)"
        )
    row.update(
        {
            "observations": int(((in_lookback | in_stress) & valid).sum())
            if stress_weight is None
            else int(lookback_moves.size + stress_moves.size),
            "lookback_moves": int(lookback_moves.size),
            "stress_moves": int(stress_moves.size),
            "side": bind,
            "quantile_date": quantile_date,
            "lookback_risk": base_risk,
            "stress_risk": stress_risk,
            "stress_contribution": risk - base_risk,
        }
    )
    return risk, row


def _extremes(bars: Bars, asset: str, mpor: int, units: ReturnUnits) -> tuple[pd.Series, pd.Series]:
    """Worst long and short moves of one underlying over the MPOR, in the returns' units."""
    if asset not in bars.close.columns:
        raise DataError(f"bars have no {asset!r} (columns: {list(bars.close.columns)})")
    one = bars[[asset]]
    scale = units_per_fraction(units)
    return tuple(worst_moves(one, mpor, side, scale=scale)[asset] for side in ("long", "short"))  # type: ignore[return-value]


@dataclass(frozen=True)
class CalibrationProfile:
    """A named set of risk-weight calibration settings.

    Parameters
    ----------
    name : str
        Profile name (the key in :data:`PROFILES`).
    level, mpor, lookback, method, overlapping, stress_weight, filter, ewma_lambda
        As in :func:`calibrate_risk_weights`.
    description : str
        Where the settings come from.

    Examples
    --------
    >>> from research.calibration import PROFILES
    >>> PROFILES["emir-5d-99.5"].mpor
    5
    """

    name: str
    level: float
    mpor: int
    lookback: int | None
    method: Method = "var"
    overlapping: bool = True
    stress_weight: float | None = None
    filter: Filter | None = None
    ewma_lambda: float = 0.94
    description: str = ""

    def __post_init__(self) -> None:
        _validate(
            self.level,
            self.mpor,
            self.lookback,
            self.method,
            "both",
            self.filter,
            self.ewma_lambda,
            self.stress_weight,
            "percent",
        )

    def calibrate(
        self,
        returns: pd.DataFrame | pd.Series,
        stress_windows: WindowsLike | None = None,
        **overrides: Any,
    ) -> RiskWeightCalibration:
        """Run :func:`calibrate_risk_weights` with this profile's settings.

        Parameters
        ----------
        returns : pandas.DataFrame or Series
            Daily log returns.
        stress_windows : optional
            Stress windows, as in :func:`calibrate_risk_weights`.
        **overrides
            Any other :func:`calibrate_risk_weights` argument (e.g. ``units="decimal"``).

        Returns
        -------
        RiskWeightCalibration
        """
        settings = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("name", "description")
        }
        allowed = set(inspect.signature(calibrate_risk_weights).parameters) - {
            "returns",
            "stress_windows",
        }
        unknown = set(overrides) - allowed
        if unknown:
            raise ParameterError(f"unknown calibration setting(s) {sorted(unknown)}")
        settings.update(overrides)
        return calibrate_risk_weights(returns, stress_windows=stress_windows, **settings)


PROFILES: Mapping[str, CalibrationProfile] = MappingProxyType(
    {
        p.name: p
        for p in (
            CalibrationProfile(
                "emir-2d-99",
                level=0.99,
                mpor=2,
                lookback=250,
                description="EMIR RTS 153/2013 Arts. 24-26: 99% over 2 days for exchange-traded "
                "derivatives, 12-month lookback",
            ),
            CalibrationProfile(
                "emir-5d-99.5",
                level=0.995,
                mpor=5,
                lookback=250,
                description="EMIR RTS 153/2013 Arts. 24-26: 99.5% over 5 days for OTC derivatives, "
                "12-month lookback",
            ),
            CalibrationProfile(
                "crypto-1d-99",
                level=0.99,
                mpor=1,
                lookback=365,
                description="Crypto venue practice: 99% over 1 day on a 365-day (7-day week) "
                "lookback",
            ),
            CalibrationProfile(
                "crypto-2d-99",
                level=0.99,
                mpor=2,
                lookback=365,
                description="Crypto, conservative: 99% over 2 days on a 365-day lookback",
            ),
        )
    }
)
"""Default calibration profiles, by name."""
