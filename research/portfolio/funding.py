"""Perpetual funding accrued over a margin period of risk.

A perpetual swap exchanges funding at fixed intervals (every 8 hours on the large venues): a
long pays ``rate x notional`` when the rate is positive and receives it when it is negative.
Over a margin period of risk the payments add up; :class:`~research.portfolio.Market` carries
the total per underlying (``funding``) and the perpetuals subtract it from a long's P&L.

A funding *source* (what a backtest is given) is a constant rate per underlying or a rate
series per underlying; :func:`funding_rates` puts it on the bars of the returns, and
:func:`funding_label` states it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from research.data import (
    DataQualityReport,
    check_time_index,
    mpor_periods,
    period_length,
    period_text,
)
from research.data.attached import stored_quality
from research.data.timeindex import stamp_text
from research.errors import DataError, SpecificationError

__all__ = [
    "FUNDING_INTERVAL",
    "FundingSource",
    "accrued_funding",
    "funding_label",
    "funding_rates",
    "funding_sources",
]

FundingSource = float | Mapping[str, "float | pd.Series"] | pd.DataFrame
"""A constant rate for every underlying, a rate or rate series per underlying, or a frame of
rate series (stamps x underlyings); rates per funding interval, as in :func:`accrued_funding`."""

_UNNAMED = DataQualityReport.__dataclass_fields__["source"].default

FUNDING_INTERVAL = "8h"
"""Time between two funding payments (Binance, Bybit, OKX: every 8 hours)."""


def accrued_funding(
    rates: pd.Series | pd.DataFrame,
    horizon: int | str,
    *,
    interval: str = FUNDING_INTERVAL,
    bar: str | pd.Timedelta | None = None,
) -> pd.Series | pd.DataFrame:
    """Funding a long pays over the ``horizon`` ending at each stamp, as a fraction of notional.

    Each bar pays its rate times the number of funding intervals it spans (three a day for
    8-hour funding on daily bars, one eighth of a print per hourly bar); the payments of the
    ``horizon`` bars ending at a stamp are summed.

    Parameters
    ----------
    rates : pandas.Series or pandas.DataFrame
        Funding rate per interval (fraction of notional, ``1e-4`` = 0.01% per 8 hours), one
        value per bar: the mean of the bar's prints, like ``funding_mean`` in the shared
        ``btc_perp_funding_daily.csv`` (read with :func:`research.data.read_prices`, which
        reads it as rates). One column per underlying for a frame.
    horizon : int or str
        The margin period of risk in bars, or a duration (``"8h"``, ``"2D"``), converted with
        the rates' own bar length (:func:`research.data.mpor_periods`).
    interval : str
        Time between two funding payments.
    bar : str or pandas.Timedelta, optional
        Length of one bar; default: read from the stamps
        (:func:`research.data.period_length`), which needs at least two of them.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Labelled by the last bar of each horizon; the first ``horizon - 1`` bars, which have
        no full horizon before them, are dropped. Positive: a long pays.

    Raises
    ------
    DataError
        Unsorted or duplicate stamps, or a missing rate (named by stamp).

    Examples
    --------
    >>> import pandas as pd
    >>> days = pd.date_range("2021-02-01", periods=3, freq="D", name="date")
    >>> accrued_funding(pd.Series([1e-4, 2e-4, 3e-4], index=days), 2).round(6).tolist()
    [0.0009, 0.0015]
    """
    check_time_index(rates, what="funding rates", min_rows=1)
    missing = rates.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing.reshape(len(rates), -1).any(axis=1))[0])
        raise DataError(
            f"funding rates: missing rate on {rates.index[row]} ({int(missing.sum())} in total); "
            "fill the gap (e.g. with 0, stated) or cut the sample"
        )
    length = period_length(rates.index if bar is None else bar)
    bars = mpor_periods(horizon, length)
    per_bar = rates * (length / period_length(interval))
    return per_bar.rolling(bars, min_periods=bars).sum().iloc[bars - 1 :]


def funding_sources(funding: FundingSource | None) -> dict[str, float | pd.Series]:
    """Read a funding source as one constant rate or one rate series per underlying.

    Parameters
    ----------
    funding : float, mapping, pandas.DataFrame or None
        A constant rate per funding interval for every underlying (a float); a mapping of
        underlying to a constant or to a rate series (DatetimeIndex, e.g.
        ``read_prices(btc_perp_funding_daily.csv)["funding_mean"]``); or a frame of rate series,
        one column per underlying. ``None``: no funding.

    Returns
    -------
    dict of str to float or pandas.Series
        Empty for ``None``; a float maps to the key ``"*"`` (every underlying).

    Raises
    ------
    SpecificationError
        Any other type, a bare rate series (give ``{underlying: series}``), a series without a
        DatetimeIndex, or a constant that is not a finite number.
    """
    if funding is None:
        return {}
    if isinstance(funding, bool):
        raise SpecificationError("funding must be a rate, a mapping or a frame, got a bool")
    if isinstance(funding, int | float | np.number):
        items: dict[object, object] = {"*": funding}
    elif isinstance(funding, pd.DataFrame):
        items = {column: funding[column] for column in funding.columns}
    elif isinstance(funding, pd.Series):
        if isinstance(funding.index, pd.DatetimeIndex):
            raise SpecificationError(
                f"a bare funding rate series ({funding.name!r}) names no underlying; give "
                "{underlying: series}, e.g. {'BTC': rates['funding_mean']}"
            )
        items = dict(funding.items())
    elif isinstance(funding, Mapping):
        items = dict(funding.items())
    else:
        raise SpecificationError(
            "funding must be a constant rate, a mapping of underlying to a rate or a rate "
            f"series, or a frame of rate series; got {type(funding).__name__}"
        )
    out: dict[str, float | pd.Series] = {}
    for key, value in items.items():
        name = str(key)
        if isinstance(value, pd.Series):
            if not isinstance(value.index, pd.DatetimeIndex):
                raise SpecificationError(
                    f"funding rates of {name!r} need a DatetimeIndex (one rate per bar), got "
                    f"{type(value.index).__name__}"
                )
            out[name] = value
        elif isinstance(value, int | float | np.number) and not isinstance(value, bool):
            if not math.isfinite(float(value)):
                raise SpecificationError(
                    f"funding rate of {name!r} is {value}; give a finite rate per interval"
                )
            out[name] = float(value)
        else:
            raise SpecificationError(
                f"funding of {name!r} must be a constant rate or a rate series, got "
                f"{type(value).__name__}"
            )
    return out


def funding_rates(
    funding: FundingSource | None, index: pd.DatetimeIndex, underlyings: Sequence[str]
) -> pd.DataFrame:
    """Funding rate per interval on every bar of ``index``, one column per funded underlying.

    A constant fills every bar. A series is read under the package's time-zone rule (naive
    stamps are UTC for 24/7 data) as one rate per period of its own length starting at each
    stamp (a daily row covers its UTC day), paid evenly over the period; a bar stamped ``t``
    covers the time from the end of the bar before it to ``t`` plus one bar length (open-time
    stamps: the return of the day stamped ``t`` runs to the close at the end of ``t``). Each
    bar gets the funding of the time it covers, as a rate per interval of a regular bar:

    * the series' own bars: the rate itself;
    * longer periods (daily rates on hourly bars): the period's rate on each of its bars,
      its funding spread evenly (the exact print times inside the period are not known);
    * shorter periods (hourly rates on daily bars), or a bar after a gap in the returns
      (a missing day): the funding of every period it covers, summed.

    The result feeds :func:`accrued_funding`, which pays each bar its rate times the
    intervals in a bar; over the bars, the funding paid is that of the series (one path:
    the series' own payments come from :func:`accrued_funding` too).

    Parameters
    ----------
    funding : float, mapping, pandas.DataFrame or None
        The source (:func:`funding_sources`).
    index : pandas.DatetimeIndex
        The bars that need a rate (e.g. the returns' stamps over a backtest).
    underlyings : sequence of str
        The underlyings to read, in order; those without a source are left out (no funding),
        sources for other underlyings are not read.

    Returns
    -------
    pandas.DataFrame
        ``index`` x the funded underlyings among ``underlyings``.

    Raises
    ------
    DataError
        A series with unsorted or duplicate stamps, a NaN rate, or no rate for some of the
        time the bars cover (the first uncovered stamp, the count of bars and the series'
        span named).
    SpecificationError
        An unreadable source (:func:`funding_sources`).

    Examples
    --------
    >>> days = pd.date_range("2021-02-01", periods=3, freq="D")
    >>> funding_rates({"BTC": 1e-4}, days, ["BTC", "ETH"]).columns.tolist()
    ['BTC']
    """
    sources = funding_sources(funding)
    columns: dict[str, pd.Series] = {}
    for underlying in underlyings:
        source = sources.get(underlying, sources.get("*"))
        if source is None:
            continue
        if isinstance(source, float):
            columns[underlying] = pd.Series(source, index=index)
            continue
        columns[underlying] = _series_on_bars(underlying, source, index)
    return pd.DataFrame(columns, index=index, dtype=float)


def _on_zone(series: pd.Series, index: pd.DatetimeIndex) -> pd.Series:
    """Put the series' stamps in the zone of ``index`` (naive means UTC for 24/7 data)."""
    out = series.astype(float)
    if out.index.tz is None and index.tz is not None:
        out.index = out.index.tz_localize("UTC").tz_convert(index.tz)
    elif out.index.tz is not None and index.tz is None:
        out.index = out.index.tz_convert("UTC").tz_localize(None)
    return out


def _series_on_bars(underlying: str, source: pd.Series, index: pd.DatetimeIndex) -> pd.Series:
    """One rate per bar of ``index`` from a rate series (see :func:`funding_rates`)."""
    what = f"funding rates of {underlying!r}"
    check_time_index(source, what=what, min_rows=1)
    series = _on_zone(source, index)
    step = period_length(series.index) if len(series) > 1 else period_length(index)
    bar = period_length(index)
    # the time each bar covers: from the end of the bar before it to its own end
    ends = index + bar
    begins = ends[:-1].insert(0, index[0])
    inside = np.asarray((series.index + step > begins[0]) & (series.index < ends[-1]))
    used = series[inside]
    # cumulative funding and covered time at each period's start and end (flat over gaps)
    x = (ends.as_unit("ns").asi8, begins.as_unit("ns").asi8)
    held, funding = np.zeros(len(index)), np.zeros(len(index))
    if len(used):
        starts = used.index.as_unit("ns").asi8
        knots = np.column_stack([starts, starts + step.value]).ravel()
        # each period's funding, in the series' own zone (intraday stamps stay UTC)
        payments = accrued_funding(source[inside].astype(float), 1, bar=step).to_numpy()
        paid = np.cumsum(np.concatenate([[0.0], payments]))
        paid = np.column_stack([paid[:-1], paid[1:]]).ravel()
        time = np.arange(len(used) + 1) * float(step.value)
        time = np.column_stack([time[:-1], time[1:]]).ravel()
        held = np.interp(x[0], knots, time) - np.interp(x[1], knots, time)
        funding = np.interp(x[0], knots, paid) - np.interp(x[1], knots, paid)
    short = held < (x[0] - x[1]).astype(float)
    if short.any():
        raise DataError(
            f"{what} have no rate for {int(short.sum())} of the {len(index)} bars from "
            f"{stamp_text(index[0])} to {stamp_text(index[-1])} (first "
            f"{stamp_text(index[short][0])}; the series runs {stamp_text(series.index[0])} to "
            f"{stamp_text(series.index[-1])}); give rates for those bars or move the "
            "backtest's start/end"
        )
    per_bar = funding * (period_length(FUNDING_INTERVAL) / bar)
    return pd.Series(per_bar, index=index, name=source.name)


def funding_label(
    funding: FundingSource | None,
    underlyings: Sequence[str],
    index: pd.DatetimeIndex | None = None,
) -> str:
    """State the funding each underlying accrues: ``"none"``, ``"constant x"``, ``"series s"``.

    Parameters
    ----------
    funding : float, mapping, pandas.DataFrame or None
        The source (:func:`funding_sources`).
    underlyings : sequence of str
        The underlyings to state (e.g. those of a book's perpetuals).
    index : pandas.DatetimeIndex, optional
        The bars the rates are read on; a series with longer periods is stated as spread
        over them (``"(1D rates spread over 1h bars)"``, :func:`funding_rates`).

    Returns
    -------
    str
        ``"none"`` when no underlying has a source; otherwise ``"<u>: <source>"`` joined by
        ``"; "``, with a series named by its data file (when it carries the package's quality
        report) and its column, and a rate per funding interval.

    Examples
    --------
    >>> funding_label({"BTC": 1e-4}, ["BTC", "ETH"])
    'BTC: constant 0.0001 per 8h; ETH: none'
    """
    sources = funding_sources(funding)
    parts = []
    for underlying in underlyings:
        source = sources.get(underlying, sources.get("*"))
        if source is None:
            parts.append(f"{underlying}: none")
        elif isinstance(source, float):
            parts.append(f"{underlying}: constant {source:g} per {FUNDING_INTERVAL}")
        else:
            report, _ = stored_quality(source.to_frame())
            file = None if report is None or report.source == _UNNAMED else report.source
            name = source.name if source.name is not None else underlying
            text = f"{underlying}: series {f'{file}:' if file else ''}{name}"
            if index is not None and len(source) > 1 and len(index) > 1:
                own, bars = period_text(source.index), period_text(index)
                if own != bars:
                    text += f" ({own} rates on {bars} bars)"
            parts.append(text)
    if all(p.endswith(": none") for p in parts):
        return "none"
    return "; ".join(parts)
