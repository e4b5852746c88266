"""OHLC bars and the worst move inside them (wicks).

Closes miss what happens inside a bar: on 2025-10-10 the 21:00 UTC hourly candle of ADA
closes 14.8% lower but its low is 61.8% lower. A long position is liquidated at the low, a
short one at the high, so margin and stress questions need the worst intraperiod move as
well as the close-to-close one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from research.data._format import stamp_text
from research.errors import DataError, SpecificationError

__all__ = ["FIELDS", "Bars", "resample_bars", "worst_moves"]

FIELDS: tuple[str, ...] = ("open", "high", "low", "close")
"""The price fields of a bar, in file order."""

Side = Literal["long", "short"]


@dataclass(frozen=True)
class Bars:
    """Open, high, low and close panels of the same stamps and assets.

    Parameters
    ----------
    open, high, low, close : pandas.DataFrame
        Wide panels (stamp x asset), as :func:`research.data.read_prices` returns them.

    Raises
    ------
    DataError
        If the panels differ in stamps or assets, or a bar's low lies above its open or
        close, or its high below them (the message names the asset and the stamp).
    """

    open: pd.DataFrame
    high: pd.DataFrame
    low: pd.DataFrame
    close: pd.DataFrame

    def __post_init__(self) -> None:
        for name in FIELDS[:-1]:
            panel = getattr(self, name)
            if not (
                panel.index.equals(self.close.index) and panel.columns.equals(self.close.columns)
            ):
                raise DataError(
                    f"bars: the {name} panel has other stamps or assets than the close panel"
                )
        body_low = np.fmin(self.open.to_numpy(), self.close.to_numpy())
        body_high = np.fmax(self.open.to_numpy(), self.close.to_numpy())
        for name, bad in (
            ("low above the open or close", self.low.to_numpy() > body_low),
            ("high below the open or close", self.high.to_numpy() < body_high),
        ):
            if bad.any():
                row, column = np.argwhere(bad)[0]
                raise DataError(
                    f"bars: {int(bad.sum())} bar(s) with a {name}, first "
                    f"{self.close.columns[column]} at {stamp_text(self.close.index[row])}; "
                    "check the file's columns"
                )

    def __getitem__(self, assets: list[str]) -> Bars:
        """Return the bars of some assets.

        Parameters
        ----------
        assets : list of str

        Returns
        -------
        Bars
        """
        return Bars(*(getattr(self, name)[assets] for name in FIELDS))


def resample_bars(bars: Bars, rule: str = "1D") -> Bars:
    """Aggregate bars to longer ones: first open, highest high, lowest low, last close.

    Parameters
    ----------
    bars : Bars
        Bars on a regular grid (e.g. hourly, UTC).
    rule : str
        The new bar length (pandas offset alias): ``"1D"`` makes UTC days, labelled by their
        start (midnight, so daily bars of UTC data are naive dates as
        :func:`research.data.read_prices` gives them).

    Returns
    -------
    Bars
        Only complete new bars are kept: a day with a missing hour in any asset is dropped,
        so its low and high are not understated.

    Examples
    --------
    >>> import pandas as pd
    >>> idx = pd.date_range("2025-10-10", periods=48, freq="h", tz="UTC")
    >>> one = pd.DataFrame({"X": range(1, 49)}, index=idx, dtype=float)
    >>> daily = resample_bars(Bars(one, one, one, one))
    >>> daily.low["X"].tolist(), daily.high["X"].tolist(), str(daily.close.index[0])
    ([1.0, 25.0], [24.0, 48.0], '2025-10-10 00:00:00')
    """
    how = {"open": "first", "high": "max", "low": "min", "close": "last"}
    counts = bars.close.resample(rule).count()
    full = (counts == counts.max().max()).all(axis=1)
    panels = {}
    for name, method in how.items():
        panel = getattr(bars, name).resample(rule).agg(method).loc[full]
        if panel.index.tz is not None and bool((panel.index == panel.index.normalize()).all()):
            panel.index = panel.index.tz_convert("UTC").tz_localize(None)
        panel.index.name = bars.close.index.name
        panels[name] = panel
    return Bars(**panels)


def worst_moves(
    bars: Bars, horizon: int = 1, side: Side = "long", *, scale: float = 100.0
) -> pd.DataFrame:
    r"""Worst log move over ``horizon`` bars from the close before them (the wick move).

    .. math::

        W^{\text{long}}_t = s \log \frac{\min(L_{t-h+1}, \dots, L_t)}{C_{t-h}}, \qquad
        W^{\text{short}}_t = s \log \frac{\max(H_{t-h+1}, \dots, H_t)}{C_{t-h}}

    the move at which a position opened at the close :math:`C_{t-h}` and held for the
    margin period of risk is worst off: the lowest low for a long, the highest high for a
    short. Labelled by the last bar, like :func:`research.data.mpor_returns`, and never
    better than the close-to-close move (:math:`W^{\text{long}}_t \le R^{(h)}_t \le
    W^{\text{short}}_t`).

    Parameters
    ----------
    bars : Bars
        OHLC panels (:func:`research.data.read_bars`).
    horizon : int
        Bars in the margin period of risk (>= 1).
    side : {"long", "short"}
        Which extreme: lows for a long position, highs for a short one.
    scale : float
        100 for percent log returns (the package's units), 1 for decimals.

    Returns
    -------
    pandas.DataFrame
        Stamp x asset; the first ``horizon`` stamps have no close before them and are
        dropped. NaN where a price in the window is missing.

    Raises
    ------
    SpecificationError
        For a side other than long or short, or a horizon below 1.

    Examples
    --------
    >>> import pandas as pd
    >>> idx = pd.date_range("2025-10-10 20:00", periods=3, freq="h", tz="UTC")
    >>> panel = lambda values: pd.DataFrame({"ADA": values}, index=idx)
    >>> bars = Bars(panel([0.72, 0.72, 0.62]), panel([0.73, 0.72, 0.64]),
    ...             panel([0.70, 0.27, 0.55]), panel([0.72, 0.62, 0.62]))
    >>> worst_moves(bars, 1, "long", scale=1).round(3)["ADA"].tolist()
    [-0.981, -0.12]
    """
    if side not in ("long", "short"):
        raise SpecificationError(f"side must be 'long' or 'short', got {side!r}")
    if isinstance(horizon, bool) or int(horizon) != horizon or horizon < 1:
        raise SpecificationError(f"horizon must be a whole number of bars >= 1, got {horizon!r}")
    horizon = int(horizon)
    extreme = bars.low if side == "long" else bars.high
    rolled = extreme.rolling(horizon, min_periods=horizon)
    window = rolled.min() if side == "long" else rolled.max()
    moves = scale * np.log(window / bars.close.shift(horizon))
    return moves.iloc[horizon:]
