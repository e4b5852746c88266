"""Shared machinery of the engines: one vectorised path for a book, a portfolio is a 1-row book."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, fields, is_dataclass
from itertools import combinations
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D
from research.errors import ParameterError
from research.margin._checks import check_margins, checked_book
from research.margin.base import BookMarginResult, MarginResult
from research.margin.offsets import OffsetPolicy
from research.margin.tail import row_sum
from research.portfolio import Market, Portfolio, PortfolioBook


def per_underlying(
    values: Mapping[str, float] | pd.Series | float,
    underlyings: tuple[str, ...],
    what: str,
    allow_zero: bool = True,
) -> Float64Array:
    """Look up a per-underlying parameter (a scalar applies to all).

    Raises
    ------
    ParameterError
        Missing underlying, or a value that is not finite and >= 0 (> 0 if not ``allow_zero``).
    """
    if isinstance(values, int | float | np.floating | np.integer):
        values = dict.fromkeys(underlyings, float(values))
    out = np.empty(len(underlyings))
    for k, u in enumerate(underlyings):
        if u not in values:
            raise ParameterError(
                f"missing {what} for underlying {u!r}; the parameters cover "
                f"{sorted(map(str, values.keys()))}"
            )
        v = float(values[u])
        if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
            raise ParameterError(
                f"{what} of {u!r} is {v}; it must be finite and {'>=' if allow_zero else '>'} 0"
            )
        out[k] = v
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Series):
        return {str(k): float(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return {str(c): _plain(value[c]) for c in value.columns}
    if isinstance(value, OffsetPolicy):
        return value.to_dict()
    if isinstance(value, frozenset | set):
        return sorted(map(str, value))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [asdict(v) if is_dataclass(v) else _plain(v) for v in value]
    return value


class BookEngine(ABC):
    """Base of the engines: subclasses give ``_prepare`` and ``_cross`` (and maybe ``_isolated``).

    Subclasses are frozen dataclasses with an ``offset_policy`` field.
    """

    name: ClassVar[str]
    offset_policy: OffsetPolicy | None
    row_block: ClassVar[int | None] = None
    """Rows margined per kernel call (None: the whole book at once)."""

    @abstractmethod
    def _prepare(self, book: PortfolioBook, market: Market) -> Any:
        """Compute the unit quantities of the book's instruments that the kernels need.

        Called inside :func:`~research.margin._checks.checked_book`: take the instruments' unit
        exposures from :func:`~research.margin._checks.book_exposures`, which returns the ones
        the book's check computed.
        """

    @abstractmethod
    def _cross(self, q: Float64Array2D, prep: Any) -> tuple[Float64Array, np.ndarray]:
        """Portfolio margin and driver label of every row of the quantity matrix ``q``."""

    def _isolated(self, q: Float64Array2D, prep: Any) -> Float64Array2D:
        """Margin of each holding alone; by default from unit long and short margins."""
        eye = np.eye(q.shape[1])
        long_unit, _ = self._cross(eye, prep)
        short_unit, _ = self._cross(-eye, prep)
        return np.where(q > 0, q * long_unit, -q * short_unit)

    def _kernels(
        self, q: Float64Array2D, prep: Any
    ) -> tuple[Float64Array2D, Float64Array, np.ndarray]:
        """Isolated margins, portfolio margins and drivers of ``q`` in blocks of ``row_block`` rows.

        The kernels get C-contiguous quantities and work row by row, so a block of rows gets
        the same margins as the whole book; blocks keep an engine's temporaries in cache and
        reuse their memory, and only a block of ``q`` is copied at a time.
        """
        n = q.shape[0]
        step = self.row_block
        if step is None or step >= n:
            q = np.ascontiguousarray(q)
            isolated = self._isolated(q, prep)
            return (isolated, *self._cross(q, prep))
        isolated = np.empty(q.shape)
        raw = np.empty(n)
        driver = np.empty(n, dtype=object)
        for start in range(0, n, step):
            rows = slice(start, start + step)
            block = np.ascontiguousarray(q[rows])
            isolated[rows] = self._isolated(block, prep)
            raw[rows], driver[rows] = self._cross(block, prep)
        return isolated, raw, driver

    def _warnings(self, prep: Any) -> tuple[str, ...]:
        """Warnings (already emitted where they arose) to record on the result; default none."""
        return ()

    def settings(self) -> dict[str, Any]:
        """Engine settings as plain data."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    def _policy(
        self,
        q: Float64Array2D,
        book: PortfolioBook,
        prep: Any,
        isolated: Float64Array2D,
        raw: Float64Array,
    ) -> Float64Array:
        policy = self.offset_policy
        if policy is None:
            return raw
        isolated_total = row_sum(isolated)
        if not policy.needs_pairs:
            return policy.apply(isolated_total, raw)
        q = np.ascontiguousarray(q)
        underlyings = book.underlyings
        masks = book.underlying_matrix().T.astype(bool)
        alone = {u: self._cross(q * masks[k], prep)[0] for k, u in enumerate(underlyings)}
        pair_offsets = {}
        for (i, a), (j, b) in combinations(enumerate(underlyings), 2):
            if policy.per == "pair" or policy.is_breaking(a, b):
                together, _ = self._cross(q * (masks[i] | masks[j]), prep)
                pair_offsets[(a, b)] = alone[a] + alone[b] - together
        single = sum(alone.values(), start=np.zeros(q.shape[0]))
        return policy.apply(isolated_total, raw, single, pair_offsets)

    def margin_book(self, book: PortfolioBook, market: Market) -> BookMarginResult:
        """Isolated and cross margins of every portfolio in ``book``, vectorised across rows.

        Parameters
        ----------
        book : PortfolioBook
            Portfolios x instruments signed quantities.
        market : Market
            Current market state.

        Returns
        -------
        BookMarginResult

        Raises
        ------
        DataError
            If the book has no instruments, or a unit notional or holding exposure is not finite
            or beyond :data:`research.margin._checks.MAX_AMOUNT` (see
            :func:`~research.margin._checks.check_book`).
        ParameterError
            If a margin comes out non-finite or beyond that bound (absurd parameters or
            scenarios; see :func:`~research.margin._checks.check_margins`). The offset policy
            then works on finite margins, so the charged margin is finite too.
        """
        with checked_book(self.name, book, market):
            prep = self._prepare(book, market)
        q = book.quantities.to_numpy()  # a view; the kernels get C-contiguous copies
        with np.errstate(over="ignore", invalid="ignore"):
            isolated, raw, driver = self._kernels(q, prep)
        check_margins(self.name, book, isolated, raw, driver)
        charged = self._policy(q, book, prep, isolated, raw)
        notes = self._warnings(prep)
        index = book.quantities.index
        # the kernels' own arrays are wrapped, not copied (a copy of the portfolios x
        # instruments matrix is fresh memory, as costly as a kernel on a small scenario matrix);
        # a view (of the quantities or of prepared data) and a margin shared by two results
        # are copied
        return BookMarginResult(
            isolated=pd.DataFrame(
                isolated,
                index=index,
                columns=book.quantities.columns,
                copy=isolated.base is not None,
            ),
            cross=pd.Series(
                charged, index=index, name="cross", copy=charged is raw or charged.base is not None
            ),
            portfolio_margin=pd.Series(
                raw, index=index, name="portfolio_margin", copy=raw.base is not None
            ),
            driver=pd.Series(driver, index=index, name="driver", dtype=object),
            engine=self.name,
            settings=self.settings(),
            warnings=notes,
        )

    def margin(self, portfolio: Portfolio, market: Market) -> MarginResult:
        """Isolated margin of each position and cross margin of ``portfolio``.

        Parameters
        ----------
        portfolio : Portfolio
            The positions.
        market : Market
            Current market state.

        Returns
        -------
        MarginResult
        """
        return self.margin_book(portfolio.to_book(), market).result(portfolio.name)
