"""The crypto studies' sample: the shared Binance files, or a seeded synthetic path without them.

The crypto studies (06 and 07) read the shared hourly perpetual bars, the daily spot bars and
the BTC funding rates (:func:`research.data.shared_data_file`). A fresh clone does not have
those files; the studies then run end to end on a seeded synthetic hourly path with a crash,
whose numbers say nothing about crypto. :func:`crypto_hourly_sample` returns either, with a
source text that says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from research._random import as_generator
from research._typing import Seed
from research.data.bars import FIELDS, Bars, resample_bars
from research.data.datasets import source_label
from research.data.io import read_bars, read_prices
from research.data.shared import shared_data_file
from research.errors import DataError, SpecificationError

__all__ = ["CRYPTO_FILES", "CryptoSample", "crypto_hourly_sample"]

CRYPTO_FILES = {
    "hourly": "crypto_perp_hourly_binance.csv",
    "daily": "crypto_spot_daily_binance.csv",
    "funding": "btc_perp_funding_daily.csv",
}
"""The shared files the sample reads: hourly perpetual bars, daily spot bars, BTC funding."""

CRASH = pd.Timestamp("2025-10-10 21:00", tz="UTC")
"""The synthetic path's crash hour: the liquidation hour of the 2025-10-10 cascade."""


@dataclass(frozen=True)
class CryptoSample:
    """Hourly and daily bars of the crypto studies and the BTC funding rate.

    Attributes
    ----------
    hourly : Bars
        Hourly bars (UTC) on which every asset has all four prices.
    daily : Bars
        Daily bars on which every asset has all four prices: the spot file's, or the synthetic
        hours resampled to days.
    funding : pandas.Series
        BTC perpetual funding rate per 8 hours, one value a day (the file's ``funding_mean``);
        zero on every day of the synthetic path.
    source : str
        What the numbers come from, as a report prints it (file names, or the synthetic path).
    synthetic : bool
        Whether the bars are the synthetic path.
    """

    hourly: Bars
    daily: Bars
    funding: pd.Series
    source: str
    synthetic: bool


def crypto_hourly_sample(
    data_path: str | Path | None = None,
    assets: Sequence[str] = ("BTC", "ETH", "SOL"),
    *,
    start: object = None,
    end: object = None,
    seed: Seed = 0,
    hours: int = 24 * 400,
    after: int = 24 * 60,
) -> CryptoSample:
    """Load the shared crypto files, or draw a synthetic hourly path when they are absent.

    With the shared files (found by :func:`research.data.shared_data_file` from
    ``data_path``): the hourly perpetual bars and the daily spot bars of ``assets`` on the
    stamps where every asset has all four prices, and the BTC funding rate. Without them: an
    hourly path of ``hours`` bars ending ``after`` hours after the crash hour
    :data:`CRASH` (2025-10-10 21:00 UTC), with Student-t (4 degrees of freedom) log moves of
    scale 0.4% an hour correlated 0.4 between every two assets, a crash hour that takes
    10% to 20% off the assets (in ``assets`` order) and lows that run 30% to 80% further
    below the crash hour's close, wicks of about 0.4% on every other bar, the daily bars
    resampled from the hours and zero funding.

    Parameters
    ----------
    data_path : str or pathlib.Path, optional
        A study's data file or folder; the shared files in its folder are preferred.
    assets : sequence of str
        Assets to keep (and to draw on the synthetic path).
    start, end : date-like, optional
        Bounds of the hourly sample (naive stamps are UTC); the daily bars keep every day.
    seed : int, Generator or None
        Seed of the synthetic path.
    hours : int
        Bars of the synthetic path (> ``after``).
    after : int
        Bars of the synthetic path after its crash hour (>= 1).

    Returns
    -------
    CryptoSample

    Raises
    ------
    DataError
        An asset not in a shared file, or no hourly bar between ``start`` and ``end``.
    SpecificationError
        No asset, or ``hours``/``after`` that leave no bar before or after the crash.
    """
    assets = [str(a) for a in assets]
    if not assets:
        raise SpecificationError("give at least one asset")
    if not (isinstance(after, int) and isinstance(hours, int) and 1 <= after < hours):
        raise SpecificationError(
            f"the synthetic path needs 1 <= after < hours, got hours={hours!r}, after={after!r}"
        )
    hourly_file = shared_data_file(CRYPTO_FILES["hourly"], data_path)
    if hourly_file is not None:
        folder = hourly_file.parent
        hourly = _complete(_select(read_bars(hourly_file, warn=False), assets, hourly_file))
        daily_file = folder / CRYPTO_FILES["daily"]
        daily = _complete(_select(read_bars(daily_file, warn=False), assets, daily_file))
        funding_file = folder / CRYPTO_FILES["funding"]
        funding = read_prices(funding_file, warn=False)["funding_mean"]
        source = (
            f"{source_label(hourly_file)} (hourly perpetuals), {source_label(daily_file)} "
            f"(daily spot) and {source_label(funding_file)} (BTC funding)"
        )
        synthetic = False
    else:
        hourly = _synthetic_hours(len(assets), assets, as_generator(seed), hours, after)
        daily = _complete(resample_bars(hourly, "1D"))
        funding = pd.Series(0.0, index=daily.close.index, name="funding_mean")
        source = "a synthetic path (no funding)"
        synthetic = True
    if start is not None or end is not None:
        hourly = Bars(*(getattr(hourly, f).loc[_utc(start) : _utc(end)] for f in FIELDS))
        if hourly.close.empty:
            raise DataError(f"no hourly bar between {start} and {end} in {source}")
    return CryptoSample(hourly, daily, funding, source, synthetic)


def _select(bars: Bars, assets: list[str], path: Path) -> Bars:
    missing = [a for a in assets if a not in bars.close.columns]
    if missing:
        raise DataError(
            f"{source_label(path)} has no prices for {missing}; it has {list(bars.close.columns)}"
        )
    return bars[assets]


def _complete(bars: Bars) -> Bars:
    """Keep the stamps on which every asset has all four prices."""
    keep = np.logical_and.reduce([getattr(bars, f).notna().all(axis=1) for f in FIELDS])
    return Bars(*(getattr(bars, f).loc[keep] for f in FIELDS))


def _utc(stamp: object) -> pd.Timestamp | None:
    if stamp is None:
        return None
    stamp = pd.Timestamp(stamp)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _synthetic_hours(
    n: int, assets: list[str], rng: np.random.Generator, hours: int, after: int
) -> Bars:
    chol = np.linalg.cholesky(0.4 + 0.6 * np.eye(n))
    steps = rng.standard_t(4, (hours, n)) * 0.004 @ chol.T
    crash = hours - 1 - after
    steps[crash] -= np.linspace(0.10, 0.20, n)
    index = pd.date_range(end=CRASH + pd.Timedelta(hours=after), periods=hours, freq="h")
    index.name = "date"
    close = pd.DataFrame(
        100 * np.exp(np.cumsum(steps, axis=0)), index=index, columns=pd.Index(assets, name="asset")
    )
    wick = np.exp(np.abs(rng.normal(0, 0.004, (2, hours, n))))
    wick[0, crash] *= np.linspace(1.3, 1.8, n)
    opened = close.shift(1).fillna(close.iloc[0])
    return Bars(opened, np.fmax(opened, close) * wick[1], np.fmin(opened, close) / wick[0], close)
