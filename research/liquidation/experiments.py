"""Experiments of the liquidation study: amplification against k, collateral sized by margin."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from research._random import as_generator
from research._typing import Seed
from research.errors import ParameterError
from research.liquidation.engine import CascadeSimulator
from research.liquidation.impact import AssetMarket, LinearImpact
from research.liquidation.maintenance import Maintenance, TieredMaintenance
from research.liquidation.population import liquidation_band
from research.liquidation.state import Accounts, AdlRule, ShockPath, VenueProfile

__all__ = ["amplification_curve", "collateral_at_margin", "hedged_pairs"]


def amplification_curve(
    ks: Sequence[float],
    *,
    shock: float = 2.0,
    spacing: float = 0.01,
    lam: float = 0.001,
    band: float = 30.0,
) -> pd.DataFrame:
    """Simulate the amplification of a shock against ``k = lam x rho`` on T5's band.

    Parameters
    ----------
    ks : sequence of float
        Density-impact products to run.
    shock : float
        Exogenous move from 100 (price units).
    spacing, lam : float
        Liquidation-price spacing and linear impact of the band (spec §10, T5).
    band : float
        Width of the band below 100 (price units); a runaway cascade stops at its bottom.

    Returns
    -------
    pandas.DataFrame
        Per ``k``: simulated end price, rounds, amplification and the closed form
        ``1 / (1 - k)`` (NaN for ``k >= 1``).
    """
    rows = []
    profile = VenueProfile("band", TieredMaintenance.flat(0.05), 0.0, "full", 1e18, AdlRule())
    for k in ks:
        accounts = liquidation_band(k, spacing=spacing, lam=lam, n_accounts=int(band / spacing))
        sim = CascadeSimulator(profile, {"X": AssetMarket(100.0, LinearImpact(lam))})
        path = ShockPath.from_returns(pd.DataFrame({"X": [np.log((100.0 - shock) / 100.0)]}))
        result = sim.run(accounts, path)
        rows.append(
            {
                "k": k,
                "end price": result.final_prices["X"],
                "rounds": int(result.steps["rounds"].iloc[0]),
                "amplification": result.amplification().loc["X", "amplification"],
                "closed form 1/(1-k)": 1.0 / (1.0 - k) if k < 1 else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("k")


def hedged_pairs(
    prices: pd.Series | dict[str, float],
    long_asset: str,
    short_asset: str,
    *,
    n_accounts: int,
    notional: float,
    seed: Seed = None,
) -> Accounts:
    """Accounts long one asset and short another at equal notional (lognormal sizes).

    Collateral is zero: size it with :func:`collateral_at_margin`.
    """
    prices = pd.Series(prices, dtype=float)
    rng = as_generator(seed)
    usd = rng.lognormal(0.0, 0.5, n_accounts)
    usd *= notional / usd.sum()
    index = pd.Index([f"pair{i}" for i in range(n_accounts)], name="account")
    q = pd.DataFrame(0.0, index=index, columns=list(prices.index))
    q[long_asset] = usd / prices[long_asset]
    q[short_asset] = -usd / prices[short_asset]
    entry = pd.DataFrame(
        np.tile(prices.to_numpy(), (n_accounts, 1)), index=index, columns=q.columns
    )
    return Accounts(q, entry, pd.Series(0.0, index=index))


def collateral_at_margin(
    accounts: Accounts,
    maintenance: Maintenance,
    prices: pd.Series | dict[str, float],
    multiples: Sequence[float] | np.ndarray,
) -> Accounts:
    """Return the positions with collateral = ``multiple`` x cross maintenance at ``prices``.

    Parameters
    ----------
    accounts : Accounts
        Positions (their collateral is replaced).
    maintenance : Maintenance
        The rule whose requirement sizes the collateral (e.g. a calibrated set's engine).
    prices : Series or mapping
        Marks at which the requirement is taken.
    multiples : sequence of float
        One multiple (> 0) per account, e.g. drawn in [1.2, 3].
    """
    prices = pd.Series(prices, dtype=float).reindex(accounts.assets)
    multiples = np.asarray(multiples, dtype=float)
    if multiples.shape != (accounts.n_accounts,) or (multiples <= 0).any():
        raise ParameterError("give one positive collateral multiple per account")
    cross, _ = maintenance.requirement(
        accounts.assets, accounts.quantities.to_numpy(), prices.to_numpy()
    )
    upnl = (accounts.quantities * (prices - accounts.entry)).where(accounts.quantities != 0, 0.0)
    collateral = np.maximum(multiples * cross - upnl.sum(axis=1).to_numpy(), 0.0)
    return Accounts(
        accounts.quantities,
        accounts.entry,
        pd.Series(collateral, index=accounts.quantities.index),
        accounts.mode,
    )
