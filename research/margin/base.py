"""The margin-engine interface and its immutable results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from research.portfolio import Market, Portfolio, PortfolioBook

__all__ = ["MarginEngine", "MarginResult", "BookMarginResult"]


@dataclass(frozen=True, eq=False)
class MarginResult:
    """Margin of one portfolio: isolated per position, cross for the whole, and the offset.

    Attributes
    ----------
    isolated : pandas.Series
        Margin of each position on its own, indexed by position label.
    cross : float
        Charged cross (portfolio) margin, after the engine's offset policy if it has one.
    portfolio_margin : float
        The engine's portfolio margin before any offset policy.
    driver : str
        The scenario or term that determined the cross margin.
    engine : str
        Engine name.
    settings : mapping
        The engine's settings (plain data).
    warnings : tuple of str
        Problems met on the way (also emitted as warnings).
    """

    isolated: pd.Series
    cross: float
    portfolio_margin: float
    driver: str
    engine: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def sum_isolated(self) -> float:
        """Sum of the isolated margins."""
        return float(self.isolated.sum())

    @property
    def offset(self) -> float:
        """``sum(isolated) - cross``: the margin saved by margining the portfolio as a whole."""
        return self.sum_isolated - self.cross

    @property
    def offset_ratio(self) -> float:
        """Offset as a share of the sum of isolated margins (0 when that sum is 0)."""
        total = self.sum_isolated
        return self.offset / total if total > 0 else 0.0

    def summary(self) -> pd.DataFrame:
        """Tabulate the isolated margin per position, then the totals, cross and offset.

        Returns
        -------
        pandas.DataFrame
            One ``margin`` column; rows are the positions followed by ``sum of isolated``,
            ``portfolio margin (engine)``, ``cross margin (charged)`` and ``offset``.
        """
        totals = pd.Series(
            [self.sum_isolated, self.portfolio_margin, self.cross, self.offset],
            index=[
                "sum of isolated",
                "portfolio margin (engine)",
                "cross margin (charged)",
                "offset",
            ],
            dtype=float,
        )
        rows = pd.concat([self.isolated.astype(float), totals])
        rows.index = rows.index.astype(object)
        return rows.rename("margin").to_frame()

    def _repr_html_(self) -> str:
        return f"<p>{self._headline()}</p>{self.summary().to_html()}"

    def _headline(self) -> str:
        return (
            f"{self.engine} margin: cross {self.cross:,.2f} vs isolated "
            f"{self.sum_isolated:,.2f} (offset {self.offset:,.2f}, "
            f"{self.offset_ratio:.1%}); driver: {self.driver}"
        )

    def __str__(self) -> str:
        notes = "".join(f"\nwarning: {w}" for w in self.warnings)
        return f"{self._headline()}\n{self.summary().to_string()}{notes}"


@dataclass(frozen=True, eq=False)
class BookMarginResult:
    """Margins of many portfolios at once (rows of a :class:`~research.portfolio.PortfolioBook`).

    Attributes
    ----------
    isolated : pandas.DataFrame
        Portfolio x instrument isolated margin of each holding (0 where there is none).
    cross : pandas.Series
        Charged cross margin per portfolio (after any offset policy).
    portfolio_margin : pandas.Series
        Engine portfolio margin before any offset policy.
    driver : pandas.Series
        Scenario or term that determined each cross margin.
    engine : str
        Engine name.
    settings : mapping
        Engine settings.
    warnings : tuple of str
        Problems met on the way.
    """

    isolated: pd.DataFrame
    cross: pd.Series
    portfolio_margin: pd.Series
    driver: pd.Series
    engine: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def sum_isolated(self) -> pd.Series:
        """Sum of isolated margins per portfolio."""
        return self.isolated.sum(axis=1).rename("sum_isolated")

    @property
    def offset(self) -> pd.Series:
        """``sum(isolated) - cross`` per portfolio."""
        return (self.sum_isolated - self.cross).rename("offset")

    def summary(self) -> pd.DataFrame:
        """Tabulate per portfolio: sum of isolated, engine margin, charged cross, offset, driver."""
        return pd.DataFrame(
            {
                "sum_isolated": self.sum_isolated,
                "portfolio_margin": self.portfolio_margin,
                "cross": self.cross,
                "offset": self.offset,
                "driver": self.driver,
            }
        )

    def result(self, name: object) -> MarginResult:
        """Return the :class:`MarginResult` of one portfolio (zero holdings kept)."""
        return MarginResult(
            isolated=self.isolated.loc[name].rename(None),
            cross=float(self.cross.loc[name]),
            portfolio_margin=float(self.portfolio_margin.loc[name]),
            driver=str(self.driver.loc[name]),
            engine=self.engine,
            settings=self.settings,
            warnings=self.warnings,
        )

    def __str__(self) -> str:
        return f"{self.engine} margins of {len(self.cross)} portfolios\n{self.summary()}"

    def _repr_html_(self) -> str:
        return (
            f"<p>{self.engine} margins of {len(self.cross)} portfolios</p>"
            f"{self.summary().to_html(max_rows=20)}"
        )


@runtime_checkable
class MarginEngine(Protocol):
    """What every margin engine offers.

    ``margin(portfolio, market)`` returns a :class:`MarginResult`; ``margin_book(book, market)``
    computes the same for every row of a book at once, vectorised across portfolios.
    """

    name: str

    def margin(self, portfolio: Portfolio, market: Market) -> MarginResult:
        """Isolated and cross margin of one portfolio."""
        ...

    def margin_book(self, book: PortfolioBook, market: Market) -> BookMarginResult:
        """Isolated and cross margins of every portfolio of a book."""
        ...
