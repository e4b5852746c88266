"""Empirical VaR and ES along the scenario axis with ``np.partition`` (no full sort)."""

from __future__ import annotations

import math

import numpy as np

from research._typing import Float64Array, Float64Array2D
from research.errors import DataError, ParameterError

__all__ = ["tail_count", "var_es", "var_es_of_product"]

CHUNK_ELEMENTS = 1 << 20
"""Rows are processed in chunks of about this many elements to stay in cache."""


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
    """:func:`var_es` of ``quantities @ unit_losses``, one block of rows at a time.

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

    Notes
    -----
    The work is one matrix product (done in cache-sized row blocks) and one partition per
    block; the full portfolio x scenario loss matrix is never held in memory.
    """
    n_rows = quantities.shape[0]
    n = unit_losses.shape[1]
    step = max(1, CHUNK_ELEMENTS // max(n, 1))
    var = np.empty(n_rows)
    es = np.empty(n_rows)
    scenario = np.empty(n_rows, dtype=np.intp)
    for start in range(0, n_rows, step):
        rows = slice(start, start + step)
        var[rows], es[rows], scenario[rows] = var_es(quantities[rows] @ unit_losses, level)
    return var, es, scenario
