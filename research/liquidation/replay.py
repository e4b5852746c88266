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

from research._typing import Seed
from research.data import read_bars, read_prices
from research.errors import DataError
from research.liquidation.impact import AssetMarket
from research.liquidation.population import synthetic_accounts
from research.liquidation.results import CascadeResult
from research.liquidation.state import Accounts, ShockPath

__all__ = [
    "OCTOBER_10_2025",
    "OCTOBER_10_POPULATION",
    "compare_with_facts",
    "october_10_accounts",
    "replay_window",
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
    "open interest BTC, USD": (58e9, "midpoint of 47B [S27] and 70B [S26] before the crash"),
    "open interest ETH, USD": (28e9, "JPMorgan via [S31]"),
    "open interest SOL, USD": (10e9, "assumption (not found in the spec)"),
    "open interest XRP, USD": (6e9, "assumption (not found in the spec)"),
    "open interest DOGE, USD": (4e9, "assumption (not found in the spec)"),
    "open interest BNB, USD": (3e9, "assumption (not found in the spec)"),
    "open interest ADA, USD": (1.5e9, "assumption (not found in the spec)"),
    "long share of positions": (0.5, "assumption: open interest is two-sided; not found"),
    "leverage median": (4.0, "assumption (not found in the spec)"),
    "leverage log-dispersion": (0.7, "assumption (not found in the spec)"),
    "leverage cap": (50.0, "assumption; Hyperliquid's BTC maximum is 40x [S13b]"),
    "assets per account, at most": (3, "assumption"),
    "entry-price log-dispersion": (0.03, "assumption: positions opened over past weeks"),
}


def october_10_accounts(prices: pd.Series, *, n_accounts: int, seed: Seed = None) -> Accounts:
    """Draw the replay's population (:data:`OCTOBER_10_POPULATION`) at ``prices``.

    Parameters
    ----------
    prices : pandas.Series
        Prices of the assets to hold (any of the seven the population states).
    n_accounts : int
        Accounts drawn (each holds up to three assets).
    seed : int, numpy.random.Generator or None
        Seed of the draw.

    Returns
    -------
    Accounts
    """
    value = {k: v for k, (v, _) in OCTOBER_10_POPULATION.items()}
    notional = {a: value[f"open interest {a}, USD"] for a in prices.index}
    return synthetic_accounts(
        prices,
        notional,
        n_accounts=n_accounts,
        long_share=value["long share of positions"],
        leverage_median=value["leverage median"],
        leverage_dispersion=value["leverage log-dispersion"],
        max_leverage=value["leverage cap"],
        max_assets=value["assets per account, at most"],
        entry_dispersion=value["entry-price log-dispersion"],
        seed=seed,
    )


def compare_with_facts(result: CascadeResult) -> pd.DataFrame:
    """Set the replay's numbers beside the facts of :data:`OCTOBER_10_2025` they can meet."""
    timing = replay_timing(result)
    total = result.liquidated_notional
    peak = timing.loc["2025-10-10 20:00":"2025-10-10 21:00", "liquidated"].sum()
    longs = result.liquidated("side").get("long", 0.0)
    oi = result.open_interest().loc["BTC", "change_pct"] / 100 if "BTC" in result.assets else None
    facts = OCTOBER_10_2025
    rows = {
        "total liquidated, USD": (total, "9.89bn (14 h) to 19.13bn (24 h)", "[S19][S24]"),
        "share in the 20:00-21:59 bars": (
            peak / total if total else float("nan"),
            "0.70 in 20:50-21:30",
            facts["share liquidated in those 40 minutes"][1],
        ),
        "long share of liquidations": (
            longs / total if total else float("nan"),
            "0.839",
            facts["long share of liquidations"][1],
        ),
        "BTC long open interest change": (oi, "-0.17 to -0.26", "[S31][S27]"),
    }
    frame = pd.DataFrame(rows, index=["simulated", "reported", "source"]).T
    return frame.astype({"simulated": float})


def replay_window(
    path: str | Path, start: object = None, end: object = None
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """Close, low and high panels of a bar file over a replay window (low/high ``None`` if absent).

    The bars are read by the data stage (:func:`research.data.read_bars`, which checks every
    low and high against its bar's open and close); a file of closes only is read by
    :func:`research.data.read_prices` and replays without wicks.

    Parameters
    ----------
    path : str or Path
        A bar file, e.g. the shared hourly perpetual file.
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
    try:
        bars = read_bars(path, warn=False)
    except DataError as exc:
        if "read closes with read_prices" not in str(exc):  # only a file without OHLC columns
            raise
        bars = None
    close = (bars.close if bars is not None else read_prices(path, warn=False)).loc[start:end]
    full = close.columns[close.notna().all()]
    if len(full) == 0:
        raise DataError(f"no asset of {path} has a price at every bar from {start} to {end}")
    if bars is None:
        return close[full], None, None
    return close[full], bars.low.loc[start:end, full], bars.high.loc[start:end, full]


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
