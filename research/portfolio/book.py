"""Many portfolios over one instrument universe: a signed quantity matrix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research._typing import Float64Array2D
from research.errors import DataError
from research.portfolio.instruments import Instrument
from research.portfolio.market import Market
from research.portfolio.positions import Portfolio, Position
from research.portfolio.scenarios import Scenarios
from research.portfolio.valuation import unit_exposures, unit_pnl

__all__ = ["PortfolioBook"]


def _universe(groups: Iterable[Iterable[Instrument]]) -> dict[str, Instrument]:
    """Union of instruments by label, in order of first appearance.

    Raises
    ------
    DataError
        If two different instruments share a label.
    """
    universe: dict[str, Instrument] = {}
    for group in groups:
        for instrument in group:
            if universe.setdefault(instrument.label, instrument) != instrument:
                raise DataError(
                    f"two different instruments are labelled {instrument.label!r}; "
                    "name them distinctly"
                )
    return universe


@dataclass(frozen=True)
class PortfolioBook:
    """Portfolios as rows of a signed quantity matrix over a common list of instruments.

    Parameters
    ----------
    instruments : sequence of Instrument
        One per column of ``quantities``, in the same order.
    quantities : pandas.DataFrame
        Portfolios x instruments signed quantities (positive long, negative short, 0 none).
        Column labels must be unique; row labels name the portfolios.

    Raises
    ------
    DataError
        Shape mismatch, duplicate labels or non-finite quantities (the count and the first
        offending portfolio/instrument are named).

    Notes
    -----
    Revaluing the book is one matrix product: ``pnl = quantities @ unit_pnl`` with
    ``unit_pnl`` of shape (instruments x scenarios).
    """

    instruments: tuple[Instrument, ...]
    quantities: pd.DataFrame

    def __post_init__(self) -> None:
        instruments = tuple(self.instruments)
        q = pd.DataFrame(self.quantities).astype(float)
        if q.shape[1] != len(instruments):
            raise DataError(
                f"quantities has {q.shape[1]} columns for {len(instruments)} "
                "instruments; give one column per instrument"
            )
        for axis, labels in (("portfolio", q.index), ("instrument", q.columns)):
            if labels.has_duplicates:
                repeated = sorted(map(str, labels[labels.duplicated()].unique()))
                raise DataError(f"{axis} labels of a book must be unique; repeated: {repeated}")
        values = q.to_numpy()
        bad = ~np.isfinite(values)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise DataError(
                f"{int(bad.sum())} non-finite quantities (first: portfolio "
                f"{q.index[i]!r}, instrument {q.columns[j]!r}); use 0 for no position"
            )
        object.__setattr__(self, "instruments", instruments)
        object.__setattr__(self, "quantities", q)

    @classmethod
    def from_portfolios(cls, portfolios: Sequence[Portfolio]) -> PortfolioBook:
        """Stack portfolios over the union of their instruments (matched by instrument label).

        Positions of one portfolio in the same instrument are summed.

        Raises
        ------
        DataError
            If two different instruments share a label, or portfolio names repeat.
        """
        universe = _universe(p.instruments for p in portfolios)
        labels = list(universe)
        matrix = np.zeros((len(portfolios), len(labels)))
        column = {label: j for j, label in enumerate(labels)}
        for i, portfolio in enumerate(portfolios):
            for position in portfolio.positions:
                matrix[i, column[position.instrument.label]] += position.signed_quantity
        q = pd.DataFrame(matrix, index=[p.name for p in portfolios], columns=labels)
        return cls(tuple(universe.values()), q)

    @classmethod
    def concat(cls, books: Sequence[PortfolioBook]) -> PortfolioBook:
        """Stack books over the union of their instruments (matched by instrument label).

        Raises
        ------
        DataError
            If two different instruments share a label, or portfolio names repeat.
        """
        universe = _universe(b.instruments for b in books)
        frames = [b.quantities.set_axis([i.label for i in b.instruments], axis=1) for b in books]
        quantities = pd.concat(frames).reindex(columns=list(universe)).fillna(0.0)
        return cls(tuple(universe.values()), quantities)

    @property
    def n_portfolios(self) -> int:
        """Number of portfolios (rows)."""
        return int(self.quantities.shape[0])

    @property
    def underlyings(self) -> tuple[str, ...]:
        """Distinct underlyings of the instruments, in order of first appearance."""
        return tuple(dict.fromkeys(i.underlying for i in self.instruments))

    def underlying_matrix(self) -> Float64Array2D:
        """Return the instruments x underlyings indicator matrix (1 where on it)."""
        index = {u: k for k, u in enumerate(self.underlyings)}
        out = np.zeros((len(self.instruments), len(index)))
        for i, instrument in enumerate(self.instruments):
            out[i, index[instrument.underlying]] = 1.0
        return out

    def portfolio(self, name: object) -> Portfolio:
        """Row ``name`` as a :class:`Portfolio` (zero quantities left out)."""
        row = self.quantities.loc[name]
        positions = [
            Position(inst, abs(q), "long" if q > 0 else "short", name=str(label))
            for inst, (label, q) in zip(self.instruments, row.items(), strict=True)
            if q != 0
        ]
        return Portfolio(tuple(positions), name=str(name))

    def pnl(self, market: Market, scenarios: Scenarios) -> pd.DataFrame:
        """Portfolio x scenario P&L from one matrix product."""
        units = unit_pnl(self.instruments, market, scenarios)
        return pd.DataFrame(
            self.quantities.to_numpy() @ units,
            index=self.quantities.index,
            columns=scenarios.moves.index,
        )

    def net_delta(self, market: Market) -> pd.DataFrame:
        """Portfolio x underlying net delta (units of the underlying)."""
        units = unit_exposures(self.instruments, market)
        values = (self.quantities.to_numpy() * units["delta"].to_numpy()) @ self.underlying_matrix()
        return pd.DataFrame(values, index=self.quantities.index, columns=list(self.underlyings))
