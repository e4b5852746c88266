"""Synthetic account populations with stated open interest, leverage and long/short mix."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from research._random import as_generator
from research._typing import Seed
from research.errors import ParameterError
from research.liquidation.state import Accounts, Mode

__all__ = ["liquidation_band", "one_asset_accounts", "synthetic_accounts"]


def synthetic_accounts(
    prices: Mapping[str, float] | pd.Series,
    notional: Mapping[str, float] | pd.Series,
    *,
    n_accounts: int,
    long_share: float = 0.5,
    leverage_median: float = 10.0,
    leverage_dispersion: float = 0.6,
    max_leverage: float = 50.0,
    max_assets: int = 3,
    entry_dispersion: float = 0.0,
    mode: Mode = "cross",
    seed: Seed = None,
) -> Accounts:
    r"""Draw a population of perpetual accounts.

    Every account holds between 1 and ``max_assets`` assets (uniform count, uniform choice);
    each position is long with probability ``long_share``; position sizes are lognormal
    (dispersion 1) and scaled so that the population's gross notional of each asset equals
    ``notional[asset]``; each account's leverage (gross notional / equity) is lognormal with
    median ``leverage_median`` and log-dispersion ``leverage_dispersion``, clipped to
    ``[1, max_leverage]``; entry prices are ``price x exp(N(0, entry_dispersion))`` and the
    collateral is set so that the equity at ``prices`` is the notional over the leverage.

    Parameters
    ----------
    prices, notional : mapping or pandas.Series
        Current price and target gross notional (USD) per asset.
    n_accounts : int
        Number of accounts.
    long_share : float
        Probability that a position is long.
    leverage_median, leverage_dispersion, max_leverage : float
        Leverage distribution.
    max_assets : int
        Most assets held by one account.
    entry_dispersion : float
        Log-dispersion of entry prices around the current price.
    mode : {"cross", "isolated"}
        Margin mode of every account.
    seed : int, numpy.random.Generator or None
        Seed of every draw.

    Returns
    -------
    Accounts
    """
    prices = pd.Series(prices, dtype=float)
    notional = pd.Series(notional, dtype=float).reindex(prices.index)
    if notional.isna().any() or (notional <= 0).any() or (prices <= 0).any():
        raise ParameterError("give a positive price and target notional for every asset")
    if not 0.0 <= long_share <= 1.0:
        raise ParameterError(f"long_share is {long_share}; give a probability")
    if not (1.0 <= leverage_median <= max_leverage and math.isfinite(max_leverage)):
        raise ParameterError("need 1 <= leverage_median <= max_leverage < inf")
    if n_accounts < 1 or max_assets < 1:
        raise ParameterError("n_accounts and max_assets must be >= 1")
    rng = as_generator(seed)
    n_assets = len(prices)
    counts = rng.integers(1, min(max_assets, n_assets) + 1, size=n_accounts)
    order = np.argsort(rng.random((n_accounts, n_assets)), axis=1)
    held = np.argsort(order, axis=1) < counts[:, None]
    size = np.where(held, rng.lognormal(0.0, 1.0, (n_accounts, n_assets)), 0.0)
    usd = (
        size / size.sum(axis=0, where=size > 0, initial=0.0).clip(min=1e-300) * notional.to_numpy()
    )
    side = np.where(rng.random((n_accounts, n_assets)) < long_share, 1.0, -1.0)
    entry = prices.to_numpy() * np.exp(rng.normal(0.0, entry_dispersion, (n_accounts, n_assets)))
    quantity = side * usd / prices.to_numpy()
    leverage = np.clip(
        leverage_median * np.exp(rng.normal(0.0, leverage_dispersion, n_accounts)),
        1.0,
        max_leverage,
    )
    upnl = (quantity * (prices.to_numpy() - entry)).sum(axis=1)
    collateral = np.maximum(usd.sum(axis=1) / leverage - upnl, 0.0)
    index = pd.Index([f"acct{i}" for i in range(n_accounts)], name="account")
    columns = list(map(str, prices.index))
    return Accounts(
        pd.DataFrame(quantity, index=index, columns=columns),
        pd.DataFrame(np.where(held, entry, 0.0), index=index, columns=columns),
        pd.Series(collateral, index=index),
        mode,
    )


def liquidation_band(
    k: float,
    *,
    spacing: float = 0.01,
    n_accounts: int = 2000,
    lam: float = 0.001,
    top: float = 100.0,
    rate: float = 0.05,
    asset: str = "X",
) -> Accounts:
    r"""Longs whose liquidation prices are spread uniformly below ``top`` (spec §10, T5).

    Account ``j`` holds ``q = k * spacing / lam`` units bought at ``top`` with the collateral
    that puts its liquidation price (flat maintenance ``rate``) at
    ``top - (j - 1/2) * spacing``; with linear impact ``lam`` the density-impact product is
    ``k = lam * rho`` and a shock ``s`` moves the price by ``s / (1 - k)`` when ``k < 1``.
    """
    if k <= 0 or spacing <= 0 or lam <= 0 or n_accounts < 1:
        raise ParameterError("k, spacing, lam and n_accounts must be positive")
    j = np.arange(1, n_accounts + 1)
    liquidation = top - (j - 0.5) * spacing
    units = k * spacing / lam
    collateral = units * (top - liquidation * (1.0 - rate))
    index = pd.Index([f"band{i}" for i in j], name="account")
    return Accounts(
        pd.DataFrame({asset: np.full(n_accounts, units)}, index=index),
        pd.DataFrame({asset: np.full(n_accounts, top)}, index=index),
        pd.Series(collateral, index=index),
    )


def one_asset_accounts(
    quantities: list[float] | np.ndarray,
    collateral: list[float] | np.ndarray,
    *,
    entry: float = 100.0,
    asset: str = "X",
    names: list[str] | None = None,
) -> Accounts:
    """Accounts holding one asset bought (or sold) at ``entry`` (the spec's test cases)."""
    names = names or [f"a{i}" for i in range(len(quantities))]
    index = pd.Index(names, name="account")
    return Accounts(
        pd.DataFrame({asset: np.asarray(quantities, dtype=float)}, index=index),
        pd.DataFrame({asset: np.full(len(index), float(entry))}, index=index),
        pd.Series(np.asarray(collateral, dtype=float), index=index),
    )
