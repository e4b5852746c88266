"""Empirical VaR and ES along the scenario axis with ``np.partition`` (no full sort).

This module is the package's single implementation of the empirical tail convention: with
``n`` scenarios at confidence ``level`` the tail is the ``m = ceil((1 - level) n)`` largest
losses (at least one; ``(1 - level) n`` rounded to 9 decimals first), VaR is the ``m``-th
largest loss (the smallest loss in the tail) and ES the mean of the ``m`` largest losses.
Every other VaR/ES of a loss sample in :mod:`research` (risk-weight calibration, APC paths,
the offset backtest) calls :func:`empirical_var_es` or :func:`var_es`.
"""

from __future__ import annotations

import math

import numpy as np

from research._typing import Float64Array, Float64Array2D
from research.errors import DataError, InsufficientDataError, ParameterError

__all__ = ["empirical_var_es", "tail_count", "var_es", "var_es_of_product"]

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


def empirical_var_es(losses: Float64Array, level: float, axis: int = -1,
                     overwrite: bool = False) -> tuple[Float64Array, Float64Array]:
    """Empirical VaR and ES of loss samples along one axis (one ``np.partition``).

    Parameters
    ----------
    losses : ndarray
        Losses (negative P&L); the samples run along ``axis``.
    level : float
        Confidence level in (0, 1), e.g. 0.99.
    axis : int, default -1
        Axis of the scenarios (observations).
    overwrite : bool, default False
        Partition ``losses`` in place when it is a float64 array (saves a copy of a large
        temporary; its order along ``axis`` is lost). Otherwise a copy is partitioned.

    Returns
    -------
    var : ndarray
        The ``m``-th largest loss, ``m = tail_count(n, level)``; shape of ``losses`` without
        ``axis`` (0-d for a 1-D sample).
    es : ndarray
        Mean of the ``m`` largest losses, same shape.

    Raises
    ------
    InsufficientDataError
        If ``losses`` has no scenarios along ``axis``.
    DataError
        If a NaN or ``+inf`` loss (or a ``-inf`` loss inside the tail) makes a result
        non-finite; the message names the first such sample.
    ParameterError
        If ``level`` is not in (0, 1).

    Notes
    -----
    ``partition(kth = n - m)`` puts the ``m`` largest losses, unordered, after position ``kth``;
    VaR is the element at ``kth`` (the smallest of them) and ES their mean. A ``-inf`` loss
    below the tail does not change either and is not reported; use :func:`var_es` for a full
    finiteness check.

    Examples
    --------
    >>> import numpy as np
    >>> from research.margin.tail import empirical_var_es
    >>> var, es = empirical_var_es(np.arange(1.0, 101.0), 0.95)
    >>> float(var), float(es)
    (96.0, 98.0)
    """
    in_place = overwrite and isinstance(losses, np.ndarray) and losses.dtype == np.float64
    work = losses if in_place else np.array(losses, dtype=float)
    if work.ndim == 0:
        raise DataError("losses must have a scenario axis, got a scalar")
    n = work.shape[axis]
    if n == 0:
        raise InsufficientDataError("no losses to take a VaR/ES of; give at least one scenario")
    kth = n - tail_count(n, level)
    work.partition(kth, axis=axis)
    ordered = np.moveaxis(work, axis, -1)
    var = ordered[..., kth].copy()
    es = ordered[..., kth:].mean(axis=-1)
    if not np.isfinite(es).all():
        sample = np.unravel_index(int(np.argmax(~np.isfinite(es))), es.shape)
        raise DataError(f"non-finite loss in sample {tuple(map(int, sample))}; "
                        "check prices and scenarios")
    return var, es


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
    The package's tail convention (see the module docstring): one :func:`empirical_var_es`
    (``np.partition`` at ``kth = n - m``) per cache-sized chunk of rows puts the ``m`` largest
    losses at the end of each row, unordered; VaR is the smallest of them and ES their mean.
    """
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 2:
        raise DataError(f"losses must be 2-D (rows x scenarios), got shape {losses.shape}")
    n_rows, n = losses.shape
    tail_count(n, level)  # validates the level even for an empty set of rows
    var = np.empty(n_rows)
    es = np.empty(n_rows)
    scenario = np.empty(n_rows, dtype=np.intp)
    step = max(1, CHUNK_ELEMENTS // max(n, 1))
    for start in range(0, n_rows, step):
        block = losses[start:start + step]
        if not np.isfinite(block).all():
            row = start + int(np.argwhere(~np.isfinite(block))[0, 0])
            raise DataError(f"non-finite loss in row {row}; check prices and scenarios")
        v, e = empirical_var_es(block, level, axis=1)
        var[start:start + step] = v
        es[start:start + step] = e
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
    tail_count(n, level)  # validates the level even for an empty book
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
            v, e = empirical_var_es(w, level, axis=1, overwrite=True)
            rows = slice(outer + start, outer + start + len(block))
            var[rows] = v
            es[rows] = e
            scenario[rows] = np.argmax(block == v[:, None], axis=1)
    return var, es, scenario
