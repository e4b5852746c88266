"""Offset policy: how much of the cross-margin reduction a portfolio may keep."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from research._typing import Float64Array
from research.errors import DataError, ParameterError, SpecificationError

__all__ = ["OffsetPolicy", "EMIR_MAX_OFFSET"]

EMIR_MAX_OFFSET = 0.8
"""Largest share of the portfolio-margining reduction a CCP may recognise
(Commission Delegated Regulation (EU) No 153/2013, Art. 27(4))."""


def _pairs(pairs: Iterable[Iterable[str]]) -> frozenset[frozenset[str]]:
    out = set()
    for pair in pairs:
        members = frozenset(pair)
        if len(members) != 2:
            raise ParameterError(f"a breaking pair needs two distinct underlyings, got {pair!r}")
        out.add(members)
    return frozenset(out)


@dataclass(frozen=True)
class OffsetPolicy:
    r"""Cap on the reduction from isolated to cross margin.

    Parameters
    ----------
    max_fraction : float
        Largest share of the offset ``sum(isolated) - cross`` that may reduce the charged margin;
        EMIR RTS 153/2013 Art. 27 allows at most 0.8.
    per : {"portfolio", "pair"}
        ``"portfolio"``: the cap applies to the portfolio's total offset. ``"pair"``: only
        offsets recognised pair by pair count (netting within an underlying plus, for every
        pair of underlyings ``(a, b)``, ``O_ab = M_a + M_b - M_ab`` where ``M_x`` is the
        engine's margin of the positions on ``x``); the sum is capped at the total offset.
    breaking_pairs : iterable of pairs of underlyings
        Pairs whose correlation breaks down in stress: their pair offset ``O_ab`` is not
        recognised at all.

    Notes
    -----
    With ``I = sum(isolated)``, engine cross margin ``C`` and recognised offset ``O``
    (``O = I - C`` for ``per="portfolio"`` without breaking pairs), the charged margin is

    .. math:: M = \max\bigl(I - f\,\max(O, 0),\; C\bigr).

    Example: ``I = 100``, ``C = 40``, ``f = 0.8`` gives ``M = 100 - 0.8 * 60 = 52``.

    References
    ----------
    Commission Delegated Regulation (EU) No 153/2013, Article 27 (portfolio margining).
    """

    max_fraction: float = EMIR_MAX_OFFSET
    per: Literal["portfolio", "pair"] = "portfolio"
    breaking_pairs: frozenset[frozenset[str]] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_fraction) and 0.0 <= self.max_fraction <= 1.0):
            raise ParameterError(
                f"max_fraction is {self.max_fraction}; give a share in [0, 1] "
                f"(EMIR allows at most {EMIR_MAX_OFFSET})"
            )
        if self.per not in ("portfolio", "pair"):
            raise SpecificationError(f"per must be 'portfolio' or 'pair', got {self.per!r}")
        object.__setattr__(self, "breaking_pairs", _pairs(self.breaking_pairs))

    @property
    def needs_pairs(self) -> bool:
        """Whether applying the policy needs per-underlying and pairwise margins."""
        return self.per == "pair" or bool(self.breaking_pairs)

    def is_breaking(self, a: str, b: str) -> bool:
        """Whether the pair ``(a, b)`` is flagged as breaking in stress."""
        return frozenset((a, b)) in self.breaking_pairs

    def apply(
        self,
        isolated_total: Float64Array | float,
        cross: Float64Array | float,
        single: Float64Array | None = None,
        pair_offsets: dict[tuple[str, str], Float64Array] | None = None,
    ) -> Float64Array:
        """Charged margin after the cap (vectorised over portfolios).

        Parameters
        ----------
        isolated_total : float or ndarray of shape (n_portfolios,)
            Sum of the isolated margins.
        cross : float or ndarray of shape (n_portfolios,)
            The engine's cross (portfolio) margin.
        single : ndarray of shape (n_portfolios,), optional
            Sum over underlyings of the margin of each underlying's positions alone; needed
            when :attr:`needs_pairs`.
        pair_offsets : dict mapping (a, b) to ndarray of shape (n_portfolios,), optional
            Pair offsets ``O_ab``; needed when :attr:`needs_pairs`.

        Returns
        -------
        ndarray
            Charged margin per portfolio.

        Raises
        ------
        DataError
            If a margin or offset given is not finite (the first such portfolio is named).
        """
        total = np.asarray(isolated_total, dtype=float)
        cross = np.asarray(cross, dtype=float)
        given = {"sum of isolated margins": total, "cross margin": cross}
        if single is not None and pair_offsets is not None:
            given["single-underlying margin"] = np.asarray(single, dtype=float)
            given |= {
                f"{a}/{b} offset": np.asarray(o, dtype=float) for (a, b), o in pair_offsets.items()
            }
        for what, values in given.items():
            bad = ~np.isfinite(values)
            if bad.any():
                k = int(np.argmax(bad.ravel()))
                raise DataError(
                    f"the {what} of portfolio {k} is {values.ravel()[k]}; the offset policy "
                    "needs finite margins"
                )
        offset = np.maximum(total - cross, 0.0)
        if self.needs_pairs:
            if single is None or pair_offsets is None:
                raise SpecificationError(
                    "this policy needs per-underlying and pair margins; call it through an engine"
                )
            breaking = sum(
                (
                    np.maximum(o, 0.0)
                    for (a, b), o in pair_offsets.items()
                    if self.is_breaking(a, b)
                ),
                start=np.zeros_like(total),
            )
            if self.per == "portfolio":
                offset = np.maximum(offset - breaking, 0.0)
            else:
                kept = sum(
                    (
                        np.maximum(o, 0.0)
                        for (a, b), o in pair_offsets.items()
                        if not self.is_breaking(a, b)
                    ),
                    start=np.zeros_like(total),
                )
                intra = np.maximum(total - np.asarray(single, dtype=float), 0.0)
                offset = np.minimum(intra + kept, offset)
        return np.maximum(total - self.max_fraction * offset, cross)

    def to_dict(self) -> dict[str, object]:
        """Plain-data form (for reports and parameter files)."""
        return {
            "max_fraction": self.max_fraction,
            "per": self.per,
            "breaking_pairs": sorted(sorted(p) for p in self.breaking_pairs),
        }
