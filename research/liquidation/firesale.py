r"""The fire-sale stress test of Farmer, Kleinnijenhuis, Nahai-Williamson and Wetzer (spec §2.3).

A clean-room, vectorised re-implementation (written from the spec's description of
``ox-inet-resilience/firesale_stresstest`` at ``dd861c6``, Apache-2.0) that shares the
package's exponential impact function (:class:`ExponentialImpact`). Banks hold cash, two
tradable assets at price 1, other assets, repayable loans and other liabilities; leverage is
``lambda = E / A``. After an initial price shock, every round:

1. banks that defaulted in the previous round put all their tradables up for sale;
2. the market clears every order placed since the last clearing: ``P <- P exp(-beta v / Q)``
   with ``v`` the units put up for sale, ``Q`` the market size and
   ``beta = -ln(1 - pi) / 0.05``; all orders settle at the midpoint of the old and new price;
3. every surviving bank with ``lambda < lambda_min`` defaults; one with ``lambda`` below the
   buffer pays down loans with its cash by ``A - E / lambda_target`` and, if cash is short, puts
   tradables worth the rest up for sale in proportion to their value (cleared next round, a
   one-round settlement lag).

The systemic-risk measure is the extent of the systemic event (Gai and Kapadia 2010): the share
of banks that default, set to 0 below 5%.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D
from research.errors import DataError, ParameterError
from research.liquidation.impact import ExponentialImpact

__all__ = ["BankBalanceSheets", "FireSaleModel", "FireSaleResult"]

_EPS = 1e-9  # amounts below this are not traded (the model's floating-point tolerance)


@dataclass(frozen=True)
class BankBalanceSheets:
    """Balance sheets of banks (rows) with tradable holdings (columns, units at price 1).

    Parameters
    ----------
    cash, other_assets, loans, other_liabilities : pandas.Series
        Per bank (same index).
    tradables : pandas.DataFrame
        Banks x tradable assets, units held.
    """

    cash: pd.Series
    tradables: pd.DataFrame
    other_assets: pd.Series
    loans: pd.Series
    other_liabilities: pd.Series

    def __post_init__(self) -> None:
        index = self.tradables.index
        for name in ("cash", "other_assets", "loans", "other_liabilities"):
            series = getattr(self, name)
            if not series.index.equals(index):
                raise DataError(f"{name} must be indexed by the banks of tradables")
            if not np.isfinite(series.to_numpy(dtype=float)).all():
                raise DataError(f"{name} must be finite")
        if (self.tradables.to_numpy(dtype=float) < 0).any():
            raise DataError("tradable holdings must be >= 0")

    @classmethod
    def from_eba(cls, frame: pd.DataFrame) -> BankBalanceSheets:
        """Balance sheets from the EBA 2018 stress-test columns of the firesale repository.

        ``frame`` has columns ``bank_id``, ``CET1E``, ``leverage`` (percent), ``debt_sec`` and
        ``govbonds`` (``'+'``-separated terms). Total assets ``A = CET1E / (leverage / 100)``,
        cash ``0.05 A``, government bonds the sum of the terms, corporate bonds
        ``debt_sec - gov``, other assets the rest; liabilities ``A - CET1E`` split evenly
        into repayable loans and other liabilities.
        """
        gov = frame["govbonds"].astype(str).map(lambda s: sum(float(t) for t in s.split("+")))
        equity = frame["CET1E"].astype(float)
        assets = equity / (frame["leverage"].astype(float) / 100.0)
        debt = frame["debt_sec"].astype(float)
        index = pd.Index(frame["bank_id"].astype(str), name="bank")
        liabilities = (assets - equity).to_numpy() / 2.0

        def series(values: object) -> pd.Series:
            return pd.Series(np.asarray(values, dtype=float), index=index)

        return cls(
            cash=series(0.05 * assets),
            tradables=pd.DataFrame(
                {"corporate": (debt - gov).to_numpy(), "government": gov.to_numpy()}, index=index
            ),
            other_assets=series(assets - debt - 0.05 * assets),
            loans=series(liabilities),
            other_liabilities=series(liabilities),
        )


@dataclass(frozen=True, eq=False)
class FireSaleResult:
    """Defaults and sales per round of a fire-sale run.

    Attributes
    ----------
    defaults : tuple of int
        Banks defaulting in each round, starting with round 0 (the shock, always 0).
    sold_fraction : tuple of float
        Cumulative units put up for sale over the total market size, after each round.
    prices : pandas.Series
        Final price of each tradable.
    n_banks : int
        Number of banks.
    """

    defaults: tuple[int, ...]
    sold_fraction: tuple[float, ...]
    prices: pd.Series
    n_banks: int

    @property
    def extent(self) -> float:
        """Extent of the systemic event: share of banks defaulted, 0 if below 5%."""
        share = sum(self.defaults) / self.n_banks
        return 0.0 if share < 0.05 else share


@dataclass(frozen=True)
class FireSaleModel:
    """The threshold (or leverage-targeting) fire-sale model.

    Parameters
    ----------
    leverage_min, leverage_buffer, leverage_target : float
        Default below ``leverage_min``; delever to ``leverage_target`` when below
        ``leverage_buffer`` (``leverage_buffer = 1``: leverage targeting, [S1]).
    price_impact : float
        ``pi``: the price drop when 5% of the market is sold.
    rounds : int
        Rounds simulated after the shock.
    """

    leverage_min: float = 0.03
    leverage_buffer: float = 0.04
    leverage_target: float = 0.05
    price_impact: float = 0.05
    rounds: int = 6

    def __post_init__(self) -> None:
        if not 0.0 <= self.price_impact < 1.0:
            raise ParameterError(f"price_impact is {self.price_impact}; give a drop in [0, 1)")
        if not 0 < self.leverage_min <= self.leverage_target:
            raise ParameterError("need 0 < leverage_min <= leverage_target")
        if int(self.rounds) < 1:
            raise ParameterError("rounds must be >= 1")

    def _impact(self, size: float) -> ExponentialImpact | None:
        if self.price_impact == 0.0 or size <= 0:
            return None
        return ExponentialImpact.from_drop(self.price_impact, size)

    def run(self, banks: BankBalanceSheets, shock: Mapping[str, float]) -> FireSaleResult:
        """Shock the prices (``{asset: fraction lost}``) and run the rounds."""
        assets = list(banks.tradables.columns)
        unknown = sorted(set(shock) - set(assets))
        if unknown:
            raise DataError(f"shock names {unknown}, which no bank holds")
        q: Float64Array2D = banks.tradables.to_numpy(dtype=float).copy()
        cash: Float64Array = banks.cash.to_numpy(dtype=float).copy()
        loans: Float64Array = banks.loans.to_numpy(dtype=float).copy()
        other = banks.other_assets.to_numpy(dtype=float)
        other_liab = banks.other_liabilities.to_numpy(dtype=float)
        size = q.sum(axis=0)
        impacts = [self._impact(s) for s in size]
        prices = np.array([1.0 - float(shock.get(a, 0.0)) for a in assets])
        pending = np.zeros_like(q)  # units put up for sale, not yet cleared
        alive = np.ones(len(cash), dtype=bool)
        trigger = np.zeros(len(cash), dtype=bool)
        cumulative = np.zeros(len(assets))
        defaults, sold = [0], []

        def put_for_sale(rows: np.ndarray, amounts: Float64Array2D) -> None:
            units = np.where(prices > _EPS, amounts / prices, 0.0)
            units = np.where(np.abs(units) > _EPS, units, 0.0)
            pending[rows] += units

        def sell_proportionally(rows: np.ndarray, amount: Float64Array | None) -> None:
            available = np.where(q[rows] > pending[rows], (q[rows] - pending[rows]) * prices, 0.0)
            maximum = available.sum(axis=1)
            wanted = maximum if amount is None else np.minimum(amount, maximum)
            ok = (maximum > 0) & (wanted > 0)
            share = np.where(ok, wanted / np.where(ok, maximum, 1.0), 0.0)
            put_for_sale(rows[ok], available[ok] * share[ok, None])

        for _ in range(int(self.rounds)):
            # 1. banks defaulted last round put everything up for sale
            sell_proportionally(np.flatnonzero(trigger), None)
            trigger[:] = False
            # 2. clear every order placed since the last clearing, at the midpoint
            volume = pending.sum(axis=0)
            old = prices.copy()
            for j, impact in enumerate(impacts):
                if volume[j] > 0 and impact is not None:
                    prices[j] = impact.price(old[j], volume[j])
            cumulative += volume
            filled = np.minimum(q, pending)
            value = filled * (prices + old) / 2.0
            cash += np.where(value >= _EPS, value, 0.0).sum(axis=1)
            q -= filled
            pending[:] = 0.0
            # 3. surviving banks default or delever
            total = cash + (q * prices).sum(axis=1) + other
            equity = total - loans - other_liab
            leverage = equity / total
            default = alive & (leverage < self.leverage_min)
            alive &= ~default
            trigger |= default
            acting = np.flatnonzero(alive & (leverage < self.leverage_buffer))
            if acting.size:
                e, lev = equity[acting], leverage[acting]
                target = np.maximum(0.0, e / lev - e / self.leverage_target)
                pay = np.where(
                    target > 0, np.minimum(np.minimum(target, cash[acting]), loans[acting]), 0.0
                )
                pay = np.where(loans[acting] > 0, pay, 0.0)
                cash[acting] -= pay
                loans[acting] -= pay
                rest = target - pay
                short = cash[acting] < rest
                sell_proportionally(acting[short], (rest - cash[acting])[short])
            defaults.append(int(default.sum()))
            sold.append(float(cumulative.sum() / size.sum()))
        return FireSaleResult(
            defaults=tuple(defaults),
            sold_fraction=tuple(sold),
            prices=pd.Series(prices, index=assets, name="price"),
            n_banks=len(cash),
        )
