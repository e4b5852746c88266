"""Empirical VaR and ES along the scenario axis with ``np.partition`` (no full sort)."""

from __future__ import annotations

import math

import numpy as np

from research._typing import Float64Array, Float64Array2D
from research.errors import DataError, ParameterError

__all__ = ["tail_count", "var_es", "var_es_of_product"]

CHUNK_ELEMENTS = 1 << 18
"""Rows are partitioned in blocks of about this many elements (2 MiB) to stay in cache."""

PRODUCT_ELEMENTS = 1 << 24
"""Largest portfolio x scenario slab (128 MiB) computed by one matrix product."""


def tail_count(n_scenarios: int, level: float) -> int:
    """Count the ``m = ceil((1 - level) n)`` worst scenarios in the tail (at least 1).

    ``(1 - level) n`` is rounded to 9 decimals first so that e.g. ``0.01 * 1000`` counts 10.
    """
    if not 0.0 < level < 1.0:
        raise ParameterError(f"level is {level}; give a confidence level in (0, 1)")
    return max(1, math.ceil(round((1.0 - level) * n_scenarios, 9)))


def var_es(losses: Float64Array2D, level: float) -> tuple[Float64Array, Float64Array, np.ndarray]:
    """Empirical VaR, ES and the VaR scenario of every row of a loss matrix.

    Parameters
    ----------
    losses : ndarray of shape (n_rows, n_scenarios)
        Losses (negative P&L), one row per portfolio.
    level : float
        Confidence level, e.g. 0.99.

    Returns
    -------
    var : ndarray of shape (n_rows,)
        The ``m``-th largest loss, ``m = tail_count(n_scenarios, level)``.
    es : ndarray of shape (n_rows,)
        Mean of the ``m`` largest losses.
    scenario : ndarray of int, shape (n_rows,)
        Column of (the first occurrence of) the VaR loss.

    Raises
    ------
    DataError
        If a loss is not finite.

    Notes
    -----
    One ``np.partition`` per chunk of rows at ``kth = n - m`` puts the ``m`` largest losses at
    the end of each row, unordered; VaR is the smallest of them and ES their mean.
    """
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 2:
        raise DataError(f"losses must be 2-D (rows x scenarios), got shape {losses.shape}")
    n_rows, n = losses.shape
    m = tail_count(n, level)
    kth = n - m
    var = np.empty(n_rows)
    es = np.empty(n_rows)
    scenario = np.empty(n_rows, dtype=np.intp)
    step = max(1, CHUNK_ELEMENTS // max(n, 1))
    for start in range(0, n_rows, step):
        block = losses[start:start + step]
        if not np.isfinite(block).all():
            row = start + int(np.argwhere(~np.isfinite(block))[0, 0])
            raise DataError(f"non-finite loss in row {row}; check prices and scenarios")
        part = np.partition(block, kth, axis=1)
        v = part[:, kth]
        var[start:start + step] = v
        es[start:start + step] = part[:, kth:].mean(axis=1)
        scenario[start:start + step] = np.argmax(block == v[:, None], axis=1)
    return var, es, scenario


def var_es_of_product(quantities: Float64Array2D, unit_losses: Float64Array2D, level: float
                      ) -> tuple[Float64Array, Float64Array, np.ndarray]:
    """:func:`var_es` of ``quantities @ unit_losses`` without sorting or extra passes.

    Parameters
    ----------
    quantities : ndarray of shape (n_portfolios, n_instruments)
        Signed quantities.
    unit_losses : ndarray of shape (n_instruments, n_scenarios)
        Loss of one long unit of each instrument in each scenario.
    level : float
        Confidence level.

    Returns
    -------
    var, es, scenario : ndarray of shape (n_portfolios,)
        As in :func:`var_es`.

    Raises
    ------
    DataError
        If a quantity or unit loss is not finite.

    Notes
    -----
    The work is one matrix product (in slabs of at most ``PRODUCT_ELEMENTS`` results, so
    memory stays bounded for huge books) and, per cache-sized block of rows, a copy that is
    partitioned in place; the VaR scenario is found by comparing the unpartitioned block with
    the VaR.
    """
    quantities = np.ascontiguousarray(quantities, dtype=float)
    unit_losses = np.ascontiguousarray(unit_losses, dtype=float)
    if not (np.isfinite(quantities).all() and np.isfinite(unit_losses).all()):
        raise DataError("non-finite quantities or unit losses; check prices and scenarios")
    n_rows = quantities.shape[0]
    n = unit_losses.shape[1]
    kth = n - tail_count(n, level)
    slab = max(1, PRODUCT_ELEMENTS // max(n, 1))
    step = max(1, min(n_rows, CHUNK_ELEMENTS // max(n, 1)))
    work = np.empty((step, n))
    var = np.empty(n_rows)
    es = np.empty(n_rows)
    scenario = np.empty(n_rows, dtype=np.intp)
    for outer in range(0, n_rows, slab):
        losses = quantities[outer:outer + slab] @ unit_losses
        for start in range(0, len(losses), step):
            block = losses[start:start + step]
            w = work[:len(block)]
            np.copyto(w, block)
            w.partition(kth, axis=1)
            rows = slice(outer + start, outer + start + len(block))
            var[rows] = w[:, kth]
            es[rows] = w[:, kth:].mean(axis=1)
            scenario[rows] = np.argmax(block == w[:, kth, None], axis=1)
    return var, es, scenario
