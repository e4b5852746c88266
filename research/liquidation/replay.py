"""Replay of a historical crash: hourly bars with wicks, a stated population, facts to compare.

The historical path already contains the realised cascade, so the replay runs with impact off
(spec §5, ``replay`` mode): it measures who would have been liquidated, when, and the bad debt
left, given the prices that happened. :data:`OCTOBER_10_2025` holds the spec's validation
facts for 2025-10-10 (§9.1) with their sources; :data:`OCTOBER_10_POPULATION` states the
population used against them and which parts are sourced and which are assumptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from research.data import read_prices
from research.errors import DataError
from research.liquidation.impact import AssetMarket
from research.liquidation.results import CascadeResult
from research.liquidation.state import ShockPath

__all__ = [
    "OCTOBER_10_2025",
    "OCTOBER_10_POPULATION",
    "read_bars",
    "replay_markets",
    "replay_path",
    "replay_timing",
]

#: Validation facts of 2025-10-10 (spec §9.1): value and source tag.
OCTOBER_10_2025: Mapping[str, tuple[float, str]] = {
    "total liquidated, USD (14 h to 03:00 UTC)": (9.89e9, "Amberdata [S19]"),
    "liquidated 20:50-21:30 UTC, USD": (6.93e9, "Amberdata [S19]"),
    "share liquidated in those 40 minutes": (0.70, "Amberdata [S19]"),
    "long share of liquidations": (0.839, "Amberdata [S19]"),
    "total liquidated, USD (CoinGlass, 24 h)": (19.13e9, "CoinGlass [S24]"),
    "Hyperliquid ADL notional, USD (12 min)": (2.103e9, "HyperReplay [S23]"),
    "BTC open interest change, low": (-0.17, "JPMorgan via [S31]"),
    "BTC open interest change, high": (-0.26, "CryptoQuant 47 -> 35B [S27]"),
}

#: The synthetic population of the replay: what is sourced and what is assumed.
OCTOBER_10_POPULATION: Mapping[str, tuple[object, str]] = {
    "BTC open interest, USD": (58e9, "midpoint of 47B [S27] and 70B [S26] before the crash"),
    "ETH open interest, USD": (28e9, "JPMorgan via [S31]"),
    "SOL, XRP, DOGE, BNB, ADA open interest, USD": (
        (10e9, 6e9, 4e9, 3e9, 1.5e9),
        "assumption (not found in the spec)",
    ),
    "long share of positions": (0.5, "assumption: open interest is two-sided; not found"),
    "leverage median / log-dispersion / cap": ((10.0, 0.6, 50.0), "assumption (not found)"),
    "entry-price log-dispersion": (0.03, "assumption: positions opened over past weeks"),
}


def read_bars(
    path: str | Path, start: object = None, end: object = None
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """Read close, low and high panels of a long-form bar file (low/high ``None`` if absent).

    Parameters
    ----------
    path : str or Path
        A file :func:`research.data.read_prices` reads (e.g. the shared hourly perp file).
    start, end : date-like, optional
        Window (inclusive).

    Returns
    -------
    tuple of DataFrames
        ``(close, low, high)`` over the assets with a price at every bar of the window.

    Raises
    ------
    DataError
        If no asset has a full window.
    """
    close = read_prices(path).loc[start:end]
    full = close.columns[close.notna().all()]
    if len(full) == 0:
        raise DataError(f"no asset of {path} has a price at every bar from {start} to {end}")
    out: list[pd.DataFrame | None] = [close[full]]
    for column in ("low", "high"):
        try:
            out.append(read_prices(path, price_column=column).loc[start:end, full])
        except DataError:
            out.append(None)
    return out[0], out[1], out[2]  # type: ignore[return-value]


def replay_markets(close: pd.DataFrame) -> dict[str, AssetMarket]:
    """Impact-free markets at the window's first close (replay mode)."""
    return {str(a): AssetMarket(float(p)) for a, p in close.iloc[0].items()}


def replay_timing(result: CascadeResult) -> pd.DataFrame:
    """Liquidated notional per bar (all assets), its cumulative share, and the long share."""
    fills = result.book_fills
    by_step = fills.groupby("step")["notional"].sum()
    longs = fills[fills["side"] == "long"].groupby("step")["notional"].sum()
    frame = pd.DataFrame({"liquidated": by_step, "long": longs}).fillna(0.0)
    frame["cumulative share"] = frame["liquidated"].cumsum() / frame["liquidated"].sum()
    frame["long share"] = frame["long"] / frame["liquidated"]
    return frame.drop(columns="long")


def replay_path(
    close: pd.DataFrame, low: pd.DataFrame | None, high: pd.DataFrame | None
) -> ShockPath:
    """Return the bars as a shock path (low, high, close within each bar if wicks are given)."""
    return ShockPath.from_prices(close, low, high)
