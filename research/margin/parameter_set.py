r"""A calibrated parameter set as a margin engine.

:class:`ParameterSetEngine` margins a book with the risk weights and offset credits of a
parameter set (a :class:`research.calibration.MarginParameters`, or anything with the same
fields: :class:`ParameterSet`), so the set that calibration proposes is the set that is
margined, backtested and reviewed, named by its fingerprint on every result.

.. code-block:: python

    from research.calibration import MarginParameters
    from research.margin import ParameterSetEngine

    params = MarginParameters.from_json("proposal.json")
    engine = ParameterSetEngine(params)          # or params.engine()
    engine.margin(portfolio, market)             # MarginResult
    engine.margin_book(book, market)             # BookMarginResult, one row per portfolio
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D
from research.errors import ParameterError, SpecificationError
from research.margin._checks import book_exposures, checked_book
from research.margin._engine import BookEngine, per_underlying
from research.margin.credits import PairCredit, check_hedge, pair_offsets
from research.margin.offsets import OffsetPolicy
from research.portfolio import Market, PortfolioBook

__all__ = ["ParameterSet", "ParameterSetEngine"]


@runtime_checkable
class ParameterSet(Protocol):
    """What :class:`ParameterSetEngine` reads from a parameter set.

    :class:`research.calibration.MarginParameters` has all of it; the margin stage does not
    import calibration (the later stage), so the engine takes any object of this shape.
    """

    risk_weights: Mapping[str, float]
    offset_credits: Mapping[tuple[str, str], float]
    offset_directions: Mapping[tuple[str, str], str]
    offset_hedge: str
    offset_cap: float
    version: str

    @property
    def fingerprint(self) -> str:
        """First 12 hex characters of the set's SHA-256 fingerprint."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """Return the set as plain data."""
        ...


_REQUIRED = (
    "risk_weights",
    "offset_credits",
    "offset_directions",
    "offset_hedge",
    "offset_cap",
    "version",
    "fingerprint",
    "to_dict",
)


@dataclass(frozen=True)
class _Prep:
    exposure: Float64Array  # signed delta notional of one long unit, per instrument
    column_underlying: np.ndarray  # position of each instrument's underlying
    weights: Float64Array  # risk weight per underlying
    underlyings: np.ndarray
    pairs: tuple[tuple[int, int, PairCredit], ...]


@dataclass(frozen=True)
class ParameterSetEngine(BookEngine):
    r"""Margin of a book under a calibrated parameter set (risk weights and offset credits).

    Parameters
    ----------
    parameters : ParameterSet
        The set, e.g. a :class:`research.calibration.MarginParameters`. The engine keeps its
        own copy, taken at construction, so later changes to the caller's object (its dicts
        are mutable) cannot make a margin disagree with the fingerprint it is labelled with.
        Every underlying of a margined book needs a risk weight (else
        :class:`~research.errors.ParameterError`).
    offset_policy : OffsetPolicy, optional
        A further cap on the offset (e.g. breaking pairs); default none, because the set's
        credits already hold its offset cap.

    Attributes
    ----------
    name : str
        ``"parameter_set[<fingerprint>]"``: every result's ``engine`` names the set.
    fingerprint : str
        The set's 12-character fingerprint.

    Notes
    -----
    *Exposure.* Every instrument counts by its delta notional ``delta x S`` (options through
    their delta; the set defines no scenario treatment). ``E_u`` is the net delta notional of
    the positions on underlying ``u``.

    *Isolated margin* of a position on ``u``: ``w_u |e|`` with the set's risk weight ``w_u`` (a
    loss per unit of notional, the larger of a long's and a short's; the same for both sides).

    *Cross margin*: netting within an underlying, ``M_u = w_u |E_u|``, less the offset of every
    calibrated pair whose legs hedge (opposite net exposures, or equal signs for a
    ``"same"``-direction pair), by the package's one definition of an offset credit
    (:mod:`research.margin.credits`): matched legs ``R_a, R_b`` are charged
    ``(1 - c)(R_a + R_b)``, matched at the set's ``offset_hedge`` ratio, unmatched margin in
    full. Pairs are applied largest credit first (ties by pair name), each leg's margin is
    credited at most once, so

    .. math:: C = \sum_u M_u - \sum_{(a, b)} c_{ab}\, n_{ab} (k_a + k_b)
        \;\ge\; (1 - \text{offset cap}) \sum_u M_u,

    since every credit is at most the set's offset cap (checked). The driver is the underlying
    with the largest ``M_u``.

    *Bits.* Every sum runs element by element in a fixed order (instruments, then
    underlyings, then pairs; no BLAS product, whose blocking depends on the number of rows),
    so a portfolio's margin is the same bits alone (:meth:`margin`) or in any book
    (:meth:`margin_book`).

    *APC.* The engine charges the set's base margin. The anti-procyclicality tools act on a
    margin path (the buffer's release in stress, the floor's 10-year lookback) and are applied
    to the engine's margins over time by ``research.calibration.apply_apc`` with the set's
    ``apc`` settings.

    Examples
    --------
    >>> from research.calibration import MarginParameters
    >>> from research.margin import ParameterSetEngine
    >>> from research.portfolio import Market, Portfolio, Position, Spot
    >>> params = MarginParameters(level=0.99, mpor=2, lookback=250, as_of="2024-01-02",
    ...                           risk_weights={"A": 0.1, "B": 0.2},
    ...                           offset_credits={("A", "B"): 0.5})
    >>> book = Portfolio([Position(Spot("A"), 200.0), Position(Spot("B"), 100.0, "short")])
    >>> ParameterSetEngine(params).margin(book, Market(spot={"A": 1.0, "B": 1.0})).cross
    20.0
    """

    parameters: ParameterSet
    offset_policy: OffsetPolicy | None = None
    _fingerprint: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        missing = [a for a in _REQUIRED if not hasattr(self.parameters, a)]
        if missing:
            raise SpecificationError(
                f"a parameter set needs {missing}; give a research.calibration.MarginParameters"
            )
        p = copy.deepcopy(self.parameters)
        object.__setattr__(self, "parameters", p)
        object.__setattr__(self, "_fingerprint", p.fingerprint)
        check_hedge(p.offset_hedge)
        for (a, b), credit in p.offset_credits.items():
            if not 0.0 <= float(credit) <= float(p.offset_cap):
                raise ParameterError(
                    f"offset credit of {a}/{b} is {credit!r}, outside [0, offset cap "
                    f"{p.offset_cap!r}] of parameter set {p.version} [{p.fingerprint}]"
                )

    @property
    def name(self) -> str:  # type: ignore[override]
        """Engine label naming the set: ``"parameter_set[<fingerprint>]"``."""
        return f"parameter_set[{self._fingerprint}]"

    @property
    def fingerprint(self) -> str:
        """The parameter set's 12-character fingerprint."""
        return self._fingerprint

    def settings(self) -> dict[str, Any]:
        """Return the set as plain data with its fingerprint, and the offset policy."""
        return {
            "fingerprint": self.fingerprint,
            "parameters": self.parameters.to_dict(),
            "offset_policy": None if self.offset_policy is None else self.offset_policy.to_dict(),
        }

    def credited_pairs(self) -> tuple[PairCredit, ...]:
        """Return the set's pairs with a positive credit, in the order the engine applies them."""
        p = self.parameters
        pairs = [
            PairCredit(a, b, float(c), p.offset_directions.get((a, b), "opposite"))  # type: ignore[arg-type]
            for (a, b), c in p.offset_credits.items()
            if c > 0
        ]
        return tuple(sorted(pairs, key=lambda q: (-q.credit, q.name)))

    def _prepare(self, book: PortfolioBook, market: Market) -> _Prep:
        underlyings = book.underlyings
        units = book_exposures(book, market)
        missing = sorted(set(underlyings) - set(self.parameters.risk_weights))
        if missing:
            raise ParameterError(
                f"parameter set {self.parameters.version} [{self.fingerprint}] has no risk "
                f"weight for underlying(s) {missing} of the book; calibrate them or remove "
                "the positions"
            )
        weights = per_underlying(
            self.parameters.risk_weights, underlyings, "risk weight", allow_zero=False
        )
        index = {u: k for k, u in enumerate(underlyings)}
        pairs = tuple(
            (index[q.first], index[q.second], q)
            for q in self.credited_pairs()
            if q.first in index and q.second in index
        )
        return _Prep(
            units["delta_notional"].to_numpy(dtype=float),
            np.array([index[i.underlying] for i in book.instruments], dtype=np.intp),
            weights,
            np.array(underlyings, dtype=object),
            pairs,
        )

    def _terms(
        self, q: Float64Array2D, prep: _Prep
    ) -> tuple[Float64Array2D, Float64Array, Float64Array2D]:
        exposures = np.zeros((q.shape[0], len(prep.weights)))
        for j, k in enumerate(prep.column_underlying):
            exposures[:, k] += q[:, j] * prep.exposure[j]
        margins = np.abs(exposures) * prep.weights
        total, per_pair = pair_offsets(
            margins, exposures, prep.weights, prep.pairs, self.parameters.offset_hedge
        )  # type: ignore[arg-type]
        return margins, total, per_pair

    def _cross(self, q: Float64Array2D, prep: _Prep) -> tuple[Float64Array, np.ndarray]:
        margins, offsets, _ = self._terms(q, prep)
        total = np.zeros(q.shape[0])
        for k in range(margins.shape[1]):
            total += margins[:, k]
        return total - offsets, prep.underlyings[np.argmax(margins, axis=1)]

    def _isolated(self, q: Float64Array2D, prep: _Prep) -> Float64Array2D:
        return np.abs(q * prep.exposure) * prep.weights[prep.column_underlying]

    def pair_offsets(self, book: PortfolioBook, market: Market) -> pd.DataFrame:
        """Offset recognised for each credited pair of each portfolio (before any policy).

        Parameters
        ----------
        book : PortfolioBook
            Portfolios x instruments signed quantities.
        market : Market
            Current market state.

        Returns
        -------
        pandas.DataFrame
            Portfolio x pair (``"first/second"``, in the order applied) offsets; pairs with a
            leg the book does not hold are left out.
        """
        with checked_book(self.name, book, market):
            prep = self._prepare(book, market)
        q = np.ascontiguousarray(book.quantities.to_numpy())
        _, _, per_pair = self._terms(q, prep)
        return pd.DataFrame(
            per_pair,
            index=book.quantities.index,
            columns=pd.Index([pair.name for _, _, pair in prep.pairs], name="pair"),
        )
