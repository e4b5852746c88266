"""Risk-weight engine: margin = risk weight x |notional|, netting only within an underlying."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D
from research.errors import SpecificationError
from research.margin._checks import book_exposures
from research.margin._engine import BookEngine, per_underlying
from research.margin.offsets import OffsetPolicy
from research.margin.tail import row_product, row_sum
from research.portfolio import Market, PortfolioBook

__all__ = ["RiskWeightEngine"]


@dataclass(frozen=True)
class _Prep:
    exposure: Float64Array  # signed exposure of one long unit, per instrument
    indicator: Float64Array2D  # instruments x underlyings
    weights: Float64Array  # per underlying
    underlyings: np.ndarray


@dataclass(frozen=True)
class RiskWeightEngine(BookEngine):
    """Isolated / risk-weight margin.

    Parameters
    ----------
    risk_weights : mapping or pandas.Series
        Risk weight per underlying as a decimal (0.15 = 15% of notional). A missing underlying
        raises :class:`~research.errors.ParameterError`.
    basis : {"notional", "delta"}
        Exposure measure: the signed contract notional (default) or the delta notional
        ``delta * S`` (differs for options).
    offset_policy : OffsetPolicy, optional
        Cap on the offset between isolated and cross margin.

    Notes
    -----
    Isolated margin of position ``i`` on underlying ``u``: ``RW_u |e_i|``. Cross margin nets
    exposures within an underlying but not across underlyings:
    ``sum_u RW_u |sum_{i in u} e_i|`` (<= the sum of isolated margins by the triangle inequality).
    The driver is the underlying with the largest term.
    """

    risk_weights: Mapping[str, float] | pd.Series
    basis: Literal["notional", "delta"] = "notional"
    offset_policy: OffsetPolicy | None = None
    name: ClassVar[str] = "risk_weight"

    def __post_init__(self) -> None:
        if self.basis not in ("notional", "delta"):
            raise SpecificationError(f"basis must be 'notional' or 'delta', got {self.basis!r}")

    def _prepare(self, book: PortfolioBook, market: Market) -> _Prep:
        units = book_exposures(book, market)
        column = "notional" if self.basis == "notional" else "delta_notional"
        weights = per_underlying(self.risk_weights, book.underlyings, "risk weight")
        return _Prep(
            units[column].to_numpy(dtype=float),
            book.underlying_matrix(),
            weights,
            np.array(book.underlyings, dtype=object),
        )

    def _cross(self, q: Float64Array2D, prep: _Prep) -> tuple[Float64Array, np.ndarray]:
        terms = np.abs(row_product(q * prep.exposure, prep.indicator)) * prep.weights
        # summed in the order of the underlyings' names: the same bits in any book
        by_name = np.argsort(prep.underlyings.astype(str), kind="stable")
        return row_sum(terms[:, by_name]), prep.underlyings[np.argmax(terms, axis=1)]

    def _isolated(self, q: Float64Array2D, prep: _Prep) -> Float64Array2D:
        return np.abs(q * prep.exposure) * (prep.indicator @ prep.weights)
