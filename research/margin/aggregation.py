"""Correlation aggregation of weighted delta sensitivities (SIMM-style)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D
from research.errors import ParameterError
from research.margin._checks import book_exposures
from research.margin._engine import BookEngine, per_underlying
from research.margin.offsets import OffsetPolicy
from research.portfolio import Market, PortfolioBook
from research.stress import check_correlation_frame

__all__ = ["CorrelationEngine"]


@dataclass(frozen=True)
class _Prep:
    sensitivity: Float64Array  # delta notional of one long unit, per instrument
    indicator: Float64Array2D
    weights: Float64Array
    thresholds: Float64Array | None
    rho: Float64Array2D
    underlyings: np.ndarray


@dataclass(frozen=True)
class CorrelationEngine(BookEngine):
    r"""SIMM-style aggregation of weighted delta sensitivities across underlyings.

    Parameters
    ----------
    risk_weights : mapping or pandas.Series
        Risk weight per underlying (decimal move, e.g. 0.15).
    correlation : pandas.DataFrame
        Correlation matrix labelled by underlying on both axes (e.g. a stressed matrix from
        :mod:`research.stress`). It must be symmetric with unit diagonal and positive
        semi-definite (:func:`research.stress.check_correlation_frame` with ``psd=True``;
        rounding is symmetrized away).
    concentration_threshold : mapping, float or None
        Threshold ``T_k`` (in delta-notional currency) of the concentration factor; ``None``
        switches concentration off.
    offset_policy : OffsetPolicy, optional
        Cap on the offset between isolated and cross margin.

    Notes
    -----
    The sensitivity of underlying ``k`` is the net delta notional ``s_k = sum_i q_i delta_i S_k``
    (the first-order P&L of a 100% move). With

    .. math::

        CR_k = \max\Bigl(1, \sqrt{|s_k| / T_k}\Bigr), \quad WS_k = RW_k\, s_k\, CR_k, \quad
        M = \sqrt{\textstyle\sum_k \sum_l \rho_{kl}\, WS_k\, WS_l}.

    A position alone has margin ``RW_k |s_i| CR(s_i)``. The driver is the underlying with the
    largest Euler contribution ``WS_k (rho WS)_k / M``. With concentration on, margins are not
    homogeneous of degree 1 and cross can exceed the sum of isolated margins (that is the
    point of the factor).

    References
    ----------
    ISDA SIMM Methodology, version 2.6 (2023), delta margin aggregation.
    """

    risk_weights: Mapping[str, float] | pd.Series
    correlation: pd.DataFrame
    concentration_threshold: Mapping[str, float] | pd.Series | float | None = None
    offset_policy: OffsetPolicy | None = None
    name: ClassVar[str] = "correlation"

    def __post_init__(self) -> None:
        rho = check_correlation_frame(pd.DataFrame(self.correlation), "correlation", psd=True)
        object.__setattr__(self, "correlation", rho)

    def _prepare(self, book: PortfolioBook, market: Market) -> _Prep:
        underlyings = book.underlyings
        missing = [u for u in underlyings if u not in self.correlation.index]
        if missing:
            raise ParameterError(
                f"the correlation matrix has no row for {missing}; it covers "
                f"{list(self.correlation.index)}"
            )
        units = book_exposures(book, market)
        thresholds = None
        if self.concentration_threshold is not None:
            thresholds = per_underlying(
                self.concentration_threshold,
                underlyings,
                "concentration threshold",
                allow_zero=False,
            )
        return _Prep(
            units["delta_notional"].to_numpy(dtype=float),
            book.underlying_matrix(),
            per_underlying(self.risk_weights, underlyings, "risk weight"),
            thresholds,
            self.correlation.loc[list(underlyings), list(underlyings)].to_numpy(),
            np.array(underlyings, dtype=object),
        )

    @staticmethod
    def _weighted(s: Float64Array2D, prep: _Prep) -> Float64Array2D:
        ws = s * prep.weights
        if prep.thresholds is not None:
            ws = ws * np.maximum(1.0, np.sqrt(np.abs(s) / prep.thresholds))
        return ws

    def _cross(self, q: Float64Array2D, prep: _Prep) -> tuple[Float64Array, np.ndarray]:
        ws = self._weighted((q * prep.sensitivity) @ prep.indicator, prep)
        # the quadratic form of ws / max|ws| cannot under- or overflow where ws squared would
        scale = np.abs(ws).max(axis=1, initial=0.0)
        scale[scale == 0] = 1.0
        unit = ws / scale[:, None]
        contribution = (unit @ prep.rho) * unit
        margin = scale * np.sqrt(np.maximum(contribution.sum(axis=1), 0.0))
        return margin, prep.underlyings[np.argmax(contribution, axis=1)]

    def _isolated(self, q: Float64Array2D, prep: _Prep) -> Float64Array2D:
        s = q * prep.sensitivity
        weights = prep.indicator @ prep.weights
        out = np.abs(s) * weights
        if prep.thresholds is not None:
            out = out * np.maximum(1.0, np.sqrt(np.abs(s) / (prep.indicator @ prep.thresholds)))
        return out
