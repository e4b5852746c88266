"""Positions (an instrument, a quantity and a direction) and portfolios of positions."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import pandas as pd

from research.errors import DataError, SpecificationError
from research.portfolio.instruments import Instrument
from research.portfolio.market import Market
from research.portfolio.scenarios import Scenarios
from research.portfolio.valuation import unit_exposures, unit_pnl

if TYPE_CHECKING:
    from research.portfolio.book import PortfolioBook

__all__ = ["Position", "Portfolio"]


@dataclass(frozen=True)
class Position:
    """A holding of one instrument.

    Parameters
    ----------
    instrument : Instrument
        What is held.
    quantity : float
        Number of units or contracts, >= 0 and finite.
    direction : {"long", "short"}
        Sign of the holding.
    name : str, optional
        Label within a portfolio; defaults to the instrument label.

    Raises
    ------
    DataError
        NaN, infinite or negative quantity.
    SpecificationError
        Unknown direction or an object that is not an instrument.
    """

    instrument: Instrument
    quantity: float
    direction: Literal["long", "short"] = "long"
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.instrument, Instrument):
            raise SpecificationError(f"{self.instrument!r} is not an instrument")
        if self.direction not in ("long", "short"):
            raise SpecificationError(
                f"direction of {self.label} must be 'long' or 'short', got {self.direction!r}"
            )
        try:
            quantity = float(self.quantity)
        except (TypeError, ValueError) as exc:
            raise DataError(f"quantity of {self.label} is {self.quantity!r}, not a number") from exc
        if not math.isfinite(quantity):
            raise DataError(f"quantity of {self.label} is {quantity}; give a finite number")
        if quantity < 0:
            raise DataError(
                f"quantity of {self.label} is {quantity}; quantities are >= 0, "
                "use direction='short' for short positions"
            )
        object.__setattr__(self, "quantity", quantity)

    @property
    def label(self) -> str:
        """The name, or the instrument label."""
        return self.name or self.instrument.label

    @property
    def signed_quantity(self) -> float:
        """``+quantity`` for longs, ``-quantity`` for shorts."""
        return self.quantity if self.direction == "long" else -self.quantity

    @property
    def underlying(self) -> str:
        """Underlying of the instrument."""
        return self.instrument.underlying


@dataclass(frozen=True)
class Portfolio:
    """A set of positions, revalued in full under scenarios.

    Parameters
    ----------
    positions : sequence of Position
        The holdings; labels must be unique (name duplicates explicitly).
    name : str
        Portfolio name (used as the row label when portfolios are stacked in a book).

    Raises
    ------
    DataError
        Empty portfolio or duplicate position labels.

    Examples
    --------
    >>> from research.portfolio import Market, Portfolio, Position, LinearPerpetual
    >>> m = Market(spot={"BTC": 50_000.0})
    >>> p = Portfolio([Position(LinearPerpetual("BTC"), 2.0)])
    >>> float(p.net_delta(m)["BTC"])
    2.0
    """

    positions: tuple[Position, ...]
    name: str = "portfolio"

    def __post_init__(self) -> None:
        positions = tuple(self.positions)
        if not positions:
            raise DataError(f"portfolio {self.name!r} has no positions")
        labels = [p.label for p in positions]
        duplicates = sorted({lab for lab in labels if labels.count(lab) > 1})
        if duplicates:
            raise DataError(
                f"portfolio {self.name!r} has duplicate position labels {duplicates};"
                " give the positions distinct names"
            )
        object.__setattr__(self, "positions", positions)

    @property
    def labels(self) -> list[str]:
        """Position labels in order."""
        return [p.label for p in self.positions]

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        """Instruments of the positions, in order."""
        return tuple(p.instrument for p in self.positions)

    @property
    def underlyings(self) -> tuple[str, ...]:
        """Distinct underlyings, in order of first appearance."""
        return tuple(dict.fromkeys(p.underlying for p in self.positions))

    @property
    def quantities(self) -> pd.Series:
        """Signed quantities indexed by position label."""
        return pd.Series(
            [p.signed_quantity for p in self.positions],
            index=self.labels,
            dtype=float,
            name="quantity",
        )

    def scale(self, factor: float) -> Portfolio:
        """Return the portfolio with every quantity multiplied by ``factor`` (> 0)."""
        if not (math.isfinite(factor) and factor > 0):
            raise DataError(f"scale factor is {factor}; it must be finite and > 0")
        return replace(
            self, positions=tuple(replace(p, quantity=p.quantity * factor) for p in self.positions)
        )

    def subset(self, labels: Iterable[str]) -> Portfolio:
        """Return the portfolio restricted to the given position labels."""
        keep = set(labels)
        return replace(self, positions=tuple(p for p in self.positions if p.label in keep))

    def pnl(self, market: Market, scenarios: Scenarios) -> pd.DataFrame:
        """Full-revaluation P&L of every position under every scenario.

        Parameters
        ----------
        market : Market
            Current market state.
        scenarios : Scenarios
            Moves of the underlyings (and volatility shifts for options).

        Returns
        -------
        pandas.DataFrame
            Scenario x position P&L in the reporting currency; ``.sum(axis=1)`` is the
            portfolio P&L.
        """
        units = unit_pnl(self.instruments, market, scenarios)
        values = units.T * self.quantities.to_numpy()
        return pd.DataFrame(values, index=scenarios.moves.index, columns=self.labels)

    def exposures(self, market: Market) -> pd.DataFrame:
        """Signed exposures of every position.

        Returns
        -------
        pandas.DataFrame
            Index: position labels. Columns: ``underlying``, ``quantity`` (signed),
            ``notional`` (signed contract notional), ``delta`` (units of the underlying),
            ``delta_notional`` (``delta * S``), ``gamma``, ``vega``, ``theta``.
        """
        units = unit_exposures(self.instruments, market)
        units.index = self.labels
        q = self.quantities
        out = units[["notional", "delta", "delta_notional", "gamma", "vega", "theta"]].mul(
            q, axis=0
        )
        out.insert(0, "quantity", q)
        out.insert(0, "underlying", units["underlying"])
        return out

    def notional_by_underlying(self, market: Market) -> pd.DataFrame:
        """Net and gross notional per underlying (columns ``net``, ``gross``)."""
        exp = self.exposures(market)
        grouped = exp.groupby("underlying", sort=False)["notional"]
        return pd.DataFrame({"net": grouped.sum(), "gross": grouped.apply(lambda s: s.abs().sum())})

    def net_delta(self, market: Market) -> pd.Series:
        """Net delta per underlying, in units of the underlying."""
        exp = self.exposures(market)
        return exp.groupby("underlying", sort=False)["delta"].sum().rename("net_delta")

    def greeks(self, market: Market) -> pd.DataFrame:
        """Delta, delta notional, gamma, vega and theta summed per underlying."""
        exp = self.exposures(market)
        cols = ["delta", "delta_notional", "gamma", "vega", "theta"]
        return exp.groupby("underlying", sort=False)[cols].sum()

    def to_book(self) -> PortfolioBook:
        """Return the portfolio as a one-row book (one column per position)."""
        from research.portfolio.book import PortfolioBook

        quantities = pd.DataFrame(
            [self.quantities.to_numpy()], index=[self.name], columns=self.labels
        )
        return PortfolioBook(self.instruments, quantities)

    def __len__(self) -> int:
        return len(self.positions)
