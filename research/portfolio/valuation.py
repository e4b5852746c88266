"""Unit valuation kernels shared by portfolios and books: one row per instrument."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from research._typing import Float64Array2D
from research.portfolio.instruments import Instrument
from research.portfolio.market import Market
from research.portfolio.scenarios import Scenarios

__all__ = ["unit_pnl", "unit_exposures"]


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
    """
    out = np.empty((len(instruments), scenarios.n_scenarios))
    spots: dict[str, np.ndarray] = {}
    for i, instrument in enumerate(instruments):
        u = instrument.underlying
        if u not in spots:
            spots[u] = scenarios.spot(market, u)
        out[i] = instrument.pnl(market, spots[u], scenarios.vol_shift(u))
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
    """
    rows = []
    for instrument in instruments:
        g = instrument.greeks(market)
        spot = market.spot_of(instrument.underlying)
        rows.append(
            {
                "underlying": instrument.underlying,
                "notional": g.notional,
                "delta": g.delta,
                "delta_notional": g.delta * spot,
                "gamma": g.gamma,
                "vega": g.vega,
                "theta": g.theta,
            }
        )
    frame = pd.DataFrame(rows, index=[i.label for i in instruments])
    frame["underlying"] = frame["underlying"].astype(object)
    return frame
