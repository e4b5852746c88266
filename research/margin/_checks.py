"""The domain every engine shares: checks of a book before it is margined and of the margins after.

Every engine's :meth:`~research.margin._engine.BookEngine.margin_book` calls :func:`check_book`
(through :func:`checked_book`) before its kernels and :func:`check_margins` on their output, so no
engine returns a NaN or infinite margin and all of them refuse the same absurd inputs with the
same message. The unit exposures the check computes are the ones the engine prepares its kernels
from (:func:`book_exposures`): one valuation of the instruments per call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D
from research.errors import DataError, ParameterError
from research.portfolio import Market, PortfolioBook, unit_exposures

__all__ = ["MAX_AMOUNT", "book_exposures", "check_book", "check_margins", "checked_book"]

MAX_AMOUNT = 1e100
"""Largest amount (reporting currency) an engine accepts: a unit notional, a holding's exposure
``|quantity| x unit notional`` or a margin. No real book comes near it (all OTC derivatives
outstanding are about 1e15 USD of notional), and it is far enough below float64's largest number
(1.8e308) that the engines' sums, squares (correlation aggregation) and concentration factors of
such amounts stay finite. Larger values come from a unit error or a typo and are refused."""


_CHECKED: ContextVar[tuple[PortfolioBook, Market, pd.DataFrame] | None] = ContextVar(
    "checked_book", default=None
)
"""The book and market of the :func:`checked_book` block under way and the unit exposures its
check computed, so that the engine's preparation in that block does not compute them again."""


def _unit_sizes(units: pd.DataFrame) -> Float64Array:
    """Return the unit size ``max(|notional|, |delta notional|)`` of every instrument."""
    return np.maximum(
        np.abs(units["notional"].to_numpy(dtype=float)),
        np.abs(units["delta_notional"].to_numpy(dtype=float)),
    )


def check_book(engine: str, book: PortfolioBook, market: Market) -> pd.DataFrame:
    """Refuse a book that no engine can margin meaningfully; return its unit exposures.

    Parameters
    ----------
    engine : str
        Engine name, for the message.
    book : PortfolioBook
        The portfolios.
    market : Market
        Current market state.

    Returns
    -------
    pandas.DataFrame
        :func:`~research.portfolio.unit_exposures` of the book's instruments, which the check
        computed (see :func:`checked_book` to hand them to the engine's preparation).

    Raises
    ------
    DataError
        If the book has no instruments, an instrument's unit notional exceeds
        :data:`MAX_AMOUNT`, or a holding's exposure ``|quantity| x unit notional`` does; the
        message names the engine, the portfolio, the instrument and the values.
    UnknownUnderlyingError
        If the market has no price for an instrument's underlying.
    """
    if not book.instruments:
        raise DataError(
            f"{engine} engine: the book has no instruments; give at least one instrument column"
        )
    units = unit_exposures(book.instruments, market)
    size = _unit_sizes(units)
    labels = book.quantities.columns
    too_big = ~(size <= MAX_AMOUNT)
    if too_big.any():
        j = int(np.argmax(too_big))
        raise DataError(
            f"{engine} engine: one unit of {labels[j]!r} is worth {size[j]:.6g} (price "
            f"{market.spot_of(book.instruments[j].underlying):.6g}), beyond {MAX_AMOUNT:.0e}; "
            "check its contract size and the market's prices and their units"
        )
    q = book.quantities.to_numpy()
    if not q.size:
        return units
    with np.errstate(over="ignore"):
        # largest |quantity| of each instrument without an |q| copy of the book (NaN stays NaN)
        largest = np.maximum(q.max(axis=0), -q.min(axis=0)) * size
    bad = ~(largest <= MAX_AMOUNT)
    if bad.any():
        j = int(np.argmax(bad))
        i = int(np.argmax(np.abs(q[:, j])))
        raise DataError(
            f"{engine} engine: holding {book.quantities.iat[i, j]:.6g} x {labels[j]!r} in "
            f"portfolio {book.quantities.index[i]!r} has exposure {largest[j]:.6g} (unit "
            f"notional {size[j]:.6g}), beyond {MAX_AMOUNT:.0e}; check the quantity and its "
            "units (contracts, coins, thousands)"
        )
    return units


@contextmanager
def checked_book(engine: str, book: PortfolioBook, market: Market) -> Iterator[pd.DataFrame]:
    """Check ``book`` (:func:`check_book`) and share its unit exposures within the block.

    Inside the block, :func:`book_exposures` of this very ``book`` and ``market`` returns the
    frame the check computed, so an engine's ``_prepare`` does not value the instruments a
    second time; outside it (or for another book or market) it computes them afresh.

    Parameters
    ----------
    engine : str
        Engine name, for the check's messages.
    book : PortfolioBook
        The portfolios.
    market : Market
        Current market state.

    Yields
    ------
    pandas.DataFrame
        The book's unit exposures (read them; do not modify them).

    Raises
    ------
    DataError, UnknownUnderlyingError
        As :func:`check_book`, before the block runs.
    """
    units = check_book(engine, book, market)
    token = _CHECKED.set((book, market, units))
    try:
        yield units
    finally:
        _CHECKED.reset(token)


def book_exposures(book: PortfolioBook, market: Market) -> pd.DataFrame:
    """Return the unit exposures of the book's instruments, computed once per checked call.

    Parameters
    ----------
    book : PortfolioBook
        The portfolios.
    market : Market
        Current market state.

    Returns
    -------
    pandas.DataFrame
        :func:`~research.portfolio.unit_exposures` of ``book.instruments``: within a
        :func:`checked_book` block of the same ``book`` and ``market`` (the same objects) the
        frame its check computed, else a fresh one. Read it; do not modify it.

    Raises
    ------
    DataError, UnknownUnderlyingError
        As :func:`~research.portfolio.unit_exposures`, when computed afresh.
    """
    held = _CHECKED.get()
    if held is not None and held[0] is book and held[1] is market:
        return held[2]
    return unit_exposures(book.instruments, market)


def _first_bad(values: Float64Array) -> int | None:
    # the extremes first: a NaN makes them NaN, so a clean array needs no |values| copy
    if values.size == 0 or (values.max() <= MAX_AMOUNT and values.min() >= -MAX_AMOUNT):
        return None
    bad = ~(np.abs(values) <= MAX_AMOUNT)
    return int(np.argmax(bad)) if bad.any() else None


def check_margins(
    engine: str,
    book: PortfolioBook,
    isolated: Float64Array2D,
    raw: Float64Array,
    driver: np.ndarray,
) -> None:
    """Refuse margins that are not finite or beyond :data:`MAX_AMOUNT`.

    The book passed :func:`check_book`, so such a margin comes from the engine's parameters
    (e.g. a risk weight of 1e300, a tiny concentration threshold) or its scenarios.

    Parameters
    ----------
    engine : str
        Engine name, for the message.
    book : PortfolioBook
        The portfolios that were margined.
    isolated : ndarray of shape (n_portfolios, n_instruments)
        Isolated margin of every holding.
    raw : ndarray of shape (n_portfolios,)
        Engine portfolio margin (before any offset policy).
    driver : ndarray of shape (n_portfolios,)
        Driver of every portfolio margin.

    Raises
    ------
    ParameterError
        Naming the engine, the portfolio (and holding), the margin and its driver.
    """
    index: pd.Index = book.quantities.index
    i = _first_bad(raw)
    if i is not None:
        raise ParameterError(
            f"{engine} engine: the portfolio margin of portfolio {index[i]!r} is {raw[i]:.6g} "
            f"(driver {driver[i]}), not a finite amount up to {MAX_AMOUNT:.0e}; the book's "
            "exposures are in range, so check the engine's parameters and scenarios"
        )
    k = _first_bad(isolated.ravel())
    if k is not None:
        i, j = divmod(k, isolated.shape[1])
        raise ParameterError(
            f"{engine} engine: the isolated margin of {book.quantities.columns[j]!r} in "
            f"portfolio {index[i]!r} is {isolated[i, j]:.6g}, not a finite amount up to "
            f"{MAX_AMOUNT:.0e}; the holding's exposure is in range, so check the engine's "
            "parameters and scenarios"
        )
