"""Unit valuation kernels shared by portfolios and books: one row per instrument."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from research._typing import Float64Array2D
from research.errors import DataError
from research.portfolio.instruments import Instrument
from research.portfolio.market import Market
from research.portfolio.scenarios import Scenarios

__all__ = ["unit_pnl", "unit_exposures"]

_EXPOSURE_COLUMNS = ("underlying", "notional", "delta", "delta_notional", "gamma", "vega", "theta")


def unit_pnl(
    instruments: Sequence[Instrument], market: Market, scenarios: Scenarios
) -> Float64Array2D:
    """P&L of one long unit of each instrument under each scenario.

    Parameters
    ----------
    instruments : sequence of Instrument
        The instruments (rows of the result).
    market : Market
        Current market state.
    scenarios : Scenarios
        Moves of the underlyings.

    Returns
    -------
    ndarray of shape (n_instruments, n_scenarios)
        C-contiguous float64; a book's P&L is ``quantities @ unit_pnl(...)``.

    Raises
    ------
    UnknownUnderlyingError
        If an instrument's underlying is missing from the market or the scenarios.
    DataError
        If the P&L of an instrument is not finite in some scenario (a contract size times a
        price that overflows); the instrument and the scenario are named.
    """
    out = np.empty((len(instruments), scenarios.n_scenarios))
    spots: dict[str, np.ndarray] = {}
    for i, instrument in enumerate(instruments):
        u = instrument.underlying
        if u not in spots:
            spots[u] = scenarios.spot(market, u)
        with np.errstate(over="ignore", invalid="ignore"):
            out[i] = instrument.pnl(market, spots[u], scenarios.vol_shift(u))
        bad = ~np.isfinite(out[i])
        if bad.any():
            k = int(np.argmax(bad))
            raise DataError(
                f"P&L of one unit of {instrument.label!r} is {out[i, k]} in scenario "
                f"{scenarios.moves.index[k]!r} (price {market.spot_of(u):.6g} -> "
                f"{spots[u][k]:.6g}); check its contract size and the prices' units"
            )
    return out


def unit_exposures(instruments: Sequence[Instrument], market: Market) -> pd.DataFrame:
    """Notional and Greeks of one long unit of each instrument.

    Parameters
    ----------
    instruments : sequence of Instrument
        The instruments (rows of the result, labelled by ``instrument.label``).
    market : Market
        Current market state.

    Returns
    -------
    pandas.DataFrame
        Columns ``underlying``, ``notional``, ``delta``, ``delta_notional`` (``delta * S``),
        ``gamma``, ``vega``, ``theta``.

    Raises
    ------
    DataError
        If an instrument's notional, delta or delta notional is not finite (a contract size
        times a price, or a carry growth, that overflows); the instrument is named.
    """
    columns: dict[str, list] = {name: [] for name in _EXPOSURE_COLUMNS}
    for instrument in instruments:
        with np.errstate(over="ignore", invalid="ignore"):
            g = instrument.greeks(market)
        spot = market.spot_of(instrument.underlying)
        delta_notional = g.delta * spot
        first_order = {"notional": g.notional, "delta": g.delta, "delta notional": delta_notional}
        for what, value in first_order.items():
            if not math.isfinite(value):
                raise DataError(
                    f"{what} of one unit of {instrument.label!r} is {value} (price "
                    f"{spot:.6g}); check its contract size, expiry and carry and the prices' units"
                )
        for name, value in zip(
            _EXPOSURE_COLUMNS,
            (instrument.underlying, g.notional, g.delta, delta_notional, g.gamma, g.vega, g.theta),
            strict=True,
        ):
            columns[name].append(value)
    # built from columns, not from row dicts (half the time on 20 instruments): each numeric
    # column gets the dtype numpy infers from its values, as a frame of rows would (float64 for
    # floats, int64 if every value is an int); the underlyings stay a Python-object
    # column (not strings inferred by pandas)
    index = pd.Index([i.label for i in instruments])
    data = {"underlying": pd.Series(columns["underlying"], index=index, dtype=object)}
    data.update((name, np.asarray(columns[name])) for name in _EXPOSURE_COLUMNS[1:])
    return pd.DataFrame(data, index=index, copy=False)
