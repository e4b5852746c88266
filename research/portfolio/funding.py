"""Perpetual funding accrued over a margin period of risk.

A perpetual swap exchanges funding at fixed intervals (every 8 hours on the large venues): a
long pays ``rate x notional`` when the rate is positive and receives it when it is negative.
Over a margin period of risk the payments add up; :class:`~research.portfolio.Market` carries
the total per underlying (``funding``) and the perpetuals subtract it from a long's P&L.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.data import check_time_index, mpor_periods, period_length
from research.errors import DataError

__all__ = ["FUNDING_INTERVAL", "accrued_funding"]

FUNDING_INTERVAL = "8h"
"""Time between two funding payments (Binance, Bybit, OKX: every 8 hours)."""


def accrued_funding(
    rates: pd.Series | pd.DataFrame, horizon: int | str, *, interval: str = FUNDING_INTERVAL
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
    bars = mpor_periods(horizon, rates.index)
    per_bar = rates * (period_length(rates.index) / period_length(interval))
    return per_bar.rolling(bars, min_periods=bars).sum().iloc[bars - 1 :]
