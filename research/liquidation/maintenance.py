r"""Who is below maintenance: venue margin tiers, or any :mod:`research.margin` engine.

A maintenance rule returns, for a matrix of signed quantities (margin pots x assets) at given
marks, the cross requirement of every pot and the requirement of every position alone. Two
rules:

- :class:`TieredMaintenance`: a venue's maintenance tiers per asset (a flat maintenance
  rate is one tier), the margin stage's :class:`research.margin.venues.MarginTiers`:
  ``MM(N) = N * mmr(tier) - deduction(tier)`` with
  ``deduction(n) = deduction(n-1) + lower_bound(n) * (mmr(n) - mmr(n-1))`` (Hyperliquid
  [S13b]), continuous in the notional ``N``; a cross pot's requirement is the sum over its
  positions (venues margin each position and add).
- :class:`EngineMaintenance`: a margin engine of :mod:`research.margin` (a calibrated parameter
  set through ``params.engine()``, a risk-weight engine, ...) decides: every asset is a linear
  perpetual, the engine's ``margin_book`` gives the cross margin of each pot (with its offsets)
  and the isolated margin of each position, scaled by ``scale``.

:func:`liquidation_price` and :func:`bankruptcy_price` give the closed forms of a single
position (spec §10, T1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D
from research.errors import ParameterError, SpecificationError
from research.margin import MarginEngine
from research.margin.venues import MarginTiers
from research.portfolio import LinearPerpetual, Market, PortfolioBook

__all__ = [
    "EngineMaintenance",
    "Maintenance",
    "TieredMaintenance",
    "bankruptcy_price",
    "liquidation_price",
]


@runtime_checkable
class Maintenance(Protocol):
    """A maintenance rule: cross requirement per pot and requirement per position."""

    def requirement(
        self, assets: Sequence[str], quantities: Float64Array2D, prices: Float64Array
    ) -> tuple[Float64Array, Float64Array2D]:
        """Maintenance of every row of ``quantities`` (pots x assets) at ``prices``.

        Returns
        -------
        tuple of numpy arrays
            ``(cross, per_position)``: shape (pots,) and (pots, assets).
        """
        ...


@dataclass(frozen=True)
class TieredMaintenance:
    """A venue's maintenance tiers per asset; cross requirement = sum over positions.

    Parameters
    ----------
    tiers : MarginTiers or mapping of asset -> MarginTiers
        :class:`research.margin.venues.MarginTiers`: one set for every asset, or one per
        asset (a missing asset raises :class:`~research.errors.ParameterError` when it is
        margined).
    """

    tiers: MarginTiers | Mapping[str, MarginTiers]

    def __post_init__(self) -> None:
        values = [self.tiers] if isinstance(self.tiers, MarginTiers) else self.tiers.values()
        if not all(isinstance(t, MarginTiers) for t in values):
            raise SpecificationError("TieredMaintenance takes MarginTiers (one or per asset)")

    @classmethod
    def flat(cls, rate: float) -> TieredMaintenance:
        """Maintenance = ``rate`` x |notional| for every asset (the spec's test venue).

        One tier at maximum leverage ``1 / rate`` with a maintenance fraction of 1.
        """
        if not (math.isfinite(rate) and 0.0 < rate <= 1.0):
            raise ParameterError(f"maintenance rate is {rate!r}; give a rate in (0, 1]")
        return cls(MarginTiers((0.0,), (1.0 / rate,), maintenance_fraction=1.0))

    def tiers_of(self, asset: str) -> MarginTiers:
        """Return the tiers of ``asset``."""
        if isinstance(self.tiers, MarginTiers):
            return self.tiers
        if asset not in self.tiers:
            raise ParameterError(
                f"no maintenance tiers for asset {asset!r}; the profile covers {sorted(self.tiers)}"
            )
        return self.tiers[asset]

    def requirement(
        self, assets: Sequence[str], quantities: Float64Array2D, prices: Float64Array
    ) -> tuple[Float64Array, Float64Array2D]:
        """Cross and per-position maintenance (see :class:`Maintenance`)."""
        notional = np.abs(quantities) * prices
        per = np.empty_like(notional)
        for j, asset in enumerate(assets):
            per[:, j] = self.tiers_of(asset).maintenance_margin(notional[:, j])
        cross = per[:, 0].copy()
        for j in range(1, per.shape[1]):
            cross += per[:, j]
        return cross, per


@dataclass(frozen=True)
class EngineMaintenance:
    """Maintenance from a :mod:`research.margin` engine: ``scale`` x the engine's margin.

    Parameters
    ----------
    engine : MarginEngine
        Any engine of the one margin interface, e.g. ``params.engine()`` of a calibrated
        :class:`research.calibration.MarginParameters`; its offsets reduce the cross
        requirement of a pot holding hedged positions.
    scale : float
        Maintenance as a multiple of the engine's margin (e.g. 0.5: maintenance = half the
        initial margin, as Hyperliquid sets it [S13a]).

    Notes
    -----
    Each asset is margined as a :class:`research.portfolio.LinearPerpetual` on that asset at the
    current mark. The cascade engine asks once per round for every active pot at once, so the
    cost is one ``margin_book`` call per round: a fixed cost of milliseconds (the book, the
    market and the result are pandas objects) plus microseconds per pot.
    ``benchmarks/liquidation.py`` prints the time per step against :class:`TieredMaintenance`
    with the same maintenance (about 10x on 2,000 accounts x 5 assets); use the tiers for
    long paths when no engine is needed.
    """

    engine: MarginEngine
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.engine, MarginEngine):
            raise SpecificationError(
                "EngineMaintenance needs a research.margin engine, got "
                f"{type(self.engine).__name__}"
            )
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ParameterError(f"scale is {self.scale!r}; give a multiple > 0")

    def requirement(
        self, assets: Sequence[str], quantities: Float64Array2D, prices: Float64Array
    ) -> tuple[Float64Array, Float64Array2D]:
        """Cross and per-position maintenance (see :class:`Maintenance`)."""
        instruments = tuple(LinearPerpetual(a) for a in assets)
        book = PortfolioBook(instruments, pd.DataFrame(quantities, columns=list(assets)))
        result = self.engine.margin_book(book, Market(spot=pd.Series(prices, index=list(assets))))
        cross = result.cross.to_numpy(dtype=float) * self.scale
        return cross, result.isolated.to_numpy(dtype=float) * self.scale


def _side(side: Literal["long", "short"]) -> int:
    if side not in ("long", "short"):
        raise SpecificationError(f"side must be 'long' or 'short', got {side!r}")
    return 1 if side == "long" else -1


def liquidation_price(
    quantity: float, collateral: float, entry: float, rate: float, side: Literal["long", "short"]
) -> float:
    r"""Liquidation price of an isolated position under a flat maintenance rate (spec §10).

    Long: :math:`P_{liq} = (n P_0 - C) / (n (1 - m))`; short:
    :math:`P_{liq} = (n P_0 + C) / (n (1 + m))`, with ``n`` the (positive) quantity.

    Examples
    --------
    >>> round(liquidation_price(1, 10, 100, 0.005, "long"), 12)
    90.452261306533
    """
    s = _side(side)
    return (quantity * entry - s * collateral) / (quantity * (1.0 - s * rate))


def bankruptcy_price(
    quantity: float, collateral: float, entry: float, side: Literal["long", "short"]
) -> float:
    """Price at which an isolated position's equity is zero: ``P0 -/+ C/n`` (spec §10)."""
    return entry - _side(side) * collateral / quantity
