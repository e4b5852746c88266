"""Empirical VaR and ES along the scenario axis without a full sort.

This module is the package's single implementation of the empirical tail convention: with
``n`` scenarios at confidence ``level`` the tail is the ``m = ceil((1 - level) n)`` largest
losses (at least one; ``(1 - level) n`` rounded to 9 decimals first), VaR is the ``m``-th
largest loss (the smallest loss in the tail) and ES the mean of the ``m`` largest losses.
Every other VaR/ES of a loss sample in :mod:`research` (risk-weight calibration, APC paths,
the offset backtest) calls :func:`empirical_var_es` or :func:`var_es`.

Two selection paths give the same VaR and VaR scenario (bit for bit) and the same ES up to
summation order: for a tail of at most ``INSERTION_MAX_TAIL`` losses along the last axis, a
compiled one-pass selection that keeps each row's ``m`` largest losses in a small sorted buffer
(rows in parallel); otherwise one ``np.partition``.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from research._threads import run_row_blocks
from research._typing import Float64Array, Float64Array2D
from research.errors import DataError, InsufficientDataError, ParameterError

__all__ = [
    "empirical_var_es",
    "row_product",
    "row_sum",
    "tail_count",
    "var_es",
    "var_es_of_product",
]

CHUNK_ELEMENTS = 1 << 18
"""Rows are checked and partitioned in blocks of about this many elements (2 MiB) in cache."""

BLOCK_ELEMENTS = 1 << 19
"""Size of the row blocks that threads take, in losses (4 MiB). A block of a book's losses is
computed by BLAS and reduced while it is still in cache, so the full loss matrix is never
stored. On 10,000 portfolios x 1,000 scenarios (2 shared cores) blocks of 0.5-1 MiB were
slower than blocks of 4-8 MiB."""

INSERTION_MAX_TAIL = 32
"""Largest tail ``m`` taken by the compiled sorted-buffer selection. Insertions cost about
``m (1 + ln(n / m))`` shifts of ``m / 2`` entries per row; on 10,000 rows x 1,000 scenarios
(2 shared cores) the selection took 8-9 ms at m = 1, 13-17 ms at m = 10, 28-31 ms at m = 25,
32-40 ms at m = 32 and 60-75 ms at m = 64 against 38-47 ms for ``np.partition``, so larger
tails are partitioned."""

PARALLEL_ELEMENTS = 1 << 20
"""Matrices of at least this many losses (8 MiB) are processed by one thread per core
(:func:`research._threads.run_row_blocks`)."""


@nb.njit(nogil=True, cache=True)
def _select_top(losses, m, rearrange, var, es, scenario):  # pragma: no cover - compiled
    """Keep the ``m`` largest losses of every row in a sorted buffer, in one pass per row.

    The buffer is ascending; a loss tied with buffered ones goes below them, so among equal
    losses the earliest scenarios stay and ``scenario`` is the first column of the VaR loss.
    A row with a NaN gets a NaN VaR and ES. With ``rearrange`` the row is left partitioned:
    its other losses first, then its ``m`` largest in ascending order.
    """
    n_rows, n = losses.shape
    top = np.empty(m)
    where = np.empty(m, dtype=np.intp)
    taken = np.empty(m, dtype=np.bool_)
    for r in range(n_rows):
        row = losses[r]
        filled = 0
        has_nan = False
        for i in range(n):
            x = row[i]
            if x != x:
                has_nan = True
            elif filled < m:
                j = filled
                while j > 0 and top[j - 1] >= x:
                    top[j] = top[j - 1]
                    where[j] = where[j - 1]
                    j -= 1
                top[j] = x
                where[j] = i
                filled += 1
            elif x > top[0]:
                j = 1
                while j < m and top[j] < x:
                    top[j - 1] = top[j]
                    where[j - 1] = where[j]
                    j += 1
                top[j - 1] = x
                where[j - 1] = i
        if has_nan or filled < m:
            var[r] = np.nan
            es[r] = np.nan
            scenario[r] = 0
            continue
        total = 0.0
        first = where[0]
        for p in range(m):
            total += top[p]
            if top[p] == top[0] and where[p] < first:
                first = where[p]
        var[r] = top[0]
        es[r] = total / m
        scenario[r] = first
        if rearrange:
            start = n - m
            taken[:] = False
            for p in range(m):
                if where[p] >= start:
                    taken[where[p] - start] = True
            q = 0
            for p in range(m):
                if where[p] < start:
                    while taken[q]:
                        q += 1
                    row[where[p]] = row[start + q]
                    q += 1
            for p in range(m):
                row[start + p] = top[p]


def _compiled_tail(
    losses: Float64Array2D, m: int, rearrange: bool
) -> tuple[Float64Array, Float64Array, np.ndarray]:
    """VaR, ES and VaR scenario of every row of a C-contiguous writable float64 matrix."""
    n_rows, n = losses.shape
    var = np.empty(n_rows)
    es = np.empty(n_rows)
    scenario = np.empty(n_rows, dtype=np.intp)

    def work(start: int, stop: int, _scratch: dict) -> None:
        rows = slice(start, stop)
        _select_top(losses[rows], m, rearrange, var[rows], es[rows], scenario[rows])

    run_row_blocks(
        n_rows, max(1, BLOCK_ELEMENTS // max(n, 1)), work, parallel=losses.size >= PARALLEL_ELEMENTS
    )
    return var, es, scenario


def _partition_tail(work: Float64Array, m: int, axis: int) -> tuple[Float64Array, Float64Array]:
    """VaR and ES along ``axis`` by one ``np.partition`` of ``work`` in place (unchecked)."""
    kth = work.shape[axis] - m
    work.partition(kth, axis=axis)
    ordered = np.moveaxis(work, axis, -1)
    return ordered[..., kth].copy(), ordered[..., kth:].mean(axis=-1)


def _uses_compiled(m: int) -> bool:
    return m <= INSERTION_MAX_TAIL


def _check_es(es: np.ndarray) -> None:
    if not np.isfinite(es).all():
        sample = np.unravel_index(int(np.argmax(~np.isfinite(es))), es.shape)
        raise DataError(
            f"non-finite loss in sample {tuple(map(int, sample))}; check prices and scenarios"
        )


def tail_count(n_scenarios: int, level: float) -> int:
    """Count the ``m = ceil((1 - level) n)`` worst scenarios in the tail (at least 1).

    ``(1 - level) n`` is rounded to 9 decimals first so that e.g. ``0.01 * 1000`` counts 10.
    """
    if not 0.0 < level < 1.0:
        raise ParameterError(f"level is {level}; give a confidence level in (0, 1)")
    return max(1, math.ceil(round((1.0 - level) * n_scenarios, 9)))


def empirical_var_es(
    losses: Float64Array, level: float, axis: int = -1, overwrite: bool = False
) -> tuple[Float64Array, Float64Array]:
    """Empirical VaR and ES of loss samples along one axis (one pass or one partition).

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
        temporary; its order along ``axis`` is lost). Otherwise ``losses`` is left unchanged.

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
    For 1-D or 2-D losses along the last axis and ``m <= INSERTION_MAX_TAIL``, a compiled pass
    over each row keeps its ``m`` largest losses in a sorted buffer (rows in parallel; in place
    it leaves the row partitioned with the tail sorted at the end). Otherwise
    ``partition(kth = n - m)`` puts the ``m`` largest losses, unordered, after position
    ``kth``. VaR is the smallest of the ``m`` and ES their mean; both paths select the same
    losses, so VaR is identical and ES differs by summation order only. A ``-inf`` loss below
    the tail does not change either and is not reported; use :func:`var_es` for a full
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
    work = losses if in_place else np.asarray(losses, dtype=float)
    if work.ndim == 0:
        raise DataError("losses must have a scenario axis, got a scalar")
    n = work.shape[axis]
    if n == 0:
        raise InsufficientDataError("no losses to take a VaR/ES of; give at least one scenario")
    m = tail_count(n, level)
    if _uses_compiled(m) and work.ndim <= 2 and axis in (-1, work.ndim - 1):
        rows = work.reshape(-1, n) if work.ndim == 1 else work
        if not (rows.flags.c_contiguous and rows.flags.writeable):
            rows = None if in_place else np.array(rows, order="C")
        if rows is not None:
            var, es, _ = _compiled_tail(rows, m, rearrange=in_place)
            var, es = var.reshape(work.shape[:-1]), es.reshape(work.shape[:-1])
            _check_es(es)
            return var, es
    var, es = _partition_tail(work if in_place else np.array(work), m, axis)
    _check_es(es)
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
    The package's tail convention (see the module docstring), per cache-sized chunk of rows:
    a finiteness check, then, when ``m <= INSERTION_MAX_TAIL``, one compiled sorted-buffer
    selection over all rows (which also returns the scenario), else :func:`empirical_var_es`
    (``np.partition`` at ``kth = n - m``) and a comparison of the chunk with the VaR.
    """
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 2:
        raise DataError(f"losses must be 2-D (rows x scenarios), got shape {losses.shape}")
    n_rows, n = losses.shape
    m = tail_count(n, level)  # validates the level even for an empty set of rows
    compiled = _uses_compiled(m) and n > 0
    var = np.empty(n_rows)
    es = np.empty(n_rows)
    scenario = np.empty(n_rows, dtype=np.intp)
    step = max(1, CHUNK_ELEMENTS // max(n, 1))
    for start in range(0, n_rows, step):
        block = losses[start : start + step]
        if not np.isfinite(block).all():
            row = start + int(np.argwhere(~np.isfinite(block))[0, 0])
            raise DataError(f"non-finite loss in row {row}; check prices and scenarios")
        if compiled:
            continue
        v, e = empirical_var_es(block, level, axis=1)
        var[start : start + step] = v
        es[start : start + step] = e
        scenario[start : start + step] = np.argmax(block == v[:, None], axis=1)
    if compiled:  # one call over all rows: the selection runs one thread per core
        var, es, scenario = _compiled_tail(np.require(losses, requirements="CW"), m, False)
        _check_es(es)
    return var, es, scenario


@nb.njit(nogil=True, cache=True)
def _row_product(quantities, matrix, out):  # pragma: no cover - compiled
    """Set ``out[r]`` to the sum of ``quantities[r, j] matrix[j]`` over non-zero quantities.

    The row's non-zero columns are taken in ascending order, four at a time
    (``(q0 m0 + q1 m1) + (q2 m2 + q3 m3)`` added to the row), then one at a time: the grouping
    depends only on the row's own holdings.
    """
    n_rows, k = quantities.shape
    n = matrix.shape[1]
    held = np.empty(k, dtype=np.intp)
    for r in range(n_rows):
        m = 0
        for j in range(k):
            if quantities[r, j] != 0.0:
                held[m] = j
                m += 1
        row = out[r]
        for s in range(n):
            row[s] = 0.0
        g = 0
        while g + 4 <= m:
            j0, j1, j2, j3 = held[g], held[g + 1], held[g + 2], held[g + 3]
            q0, q1 = quantities[r, j0], quantities[r, j1]
            q2, q3 = quantities[r, j2], quantities[r, j3]
            a0, a1, a2, a3 = matrix[j0], matrix[j1], matrix[j2], matrix[j3]
            for s in range(n):
                row[s] += (q0 * a0[s] + q1 * a1[s]) + (q2 * a2[s] + q3 * a3[s])
            g += 4
        while g < m:
            q0, a0 = quantities[r, held[g]], matrix[held[g]]
            for s in range(n):
                row[s] += q0 * a0[s]
            g += 1


def row_product(quantities: Float64Array2D, matrix: Float64Array2D) -> Float64Array2D:
    """``quantities @ matrix`` whose every row depends only on that row's holdings.

    Each row adds ``q_j * matrix[j]`` over its non-zero quantities in column order (four
    columns at a time), so a portfolio's row has the same bits in any book (other rows, zero
    columns) as on its own;
    a BLAS product's rounding depends on the shape of the whole matrix. It is also the cheaper
    product for books of few holdings per portfolio.

    Parameters
    ----------
    quantities : ndarray of shape (n_rows, k)
    matrix : ndarray of shape (k, n)

    Returns
    -------
    ndarray of shape (n_rows, n)
    """
    quantities = np.ascontiguousarray(quantities, dtype=float)
    matrix = np.ascontiguousarray(matrix, dtype=float)
    out = np.empty((quantities.shape[0], matrix.shape[1]))
    _row_product(quantities, matrix, out)
    return out


def row_sum(values: Float64Array2D) -> Float64Array:
    """Row sums added column by column in column order (zero columns leave the bits unchanged).

    The row-stable counterpart of ``values.sum(axis=1)``, whose pairwise grouping depends on
    the number of columns.
    """
    values = np.asarray(values, dtype=float)
    total = np.zeros(values.shape[0])
    for column in values.T:
        total += column
    return total


def var_es_of_product(
    quantities: Float64Array2D, unit_losses: Float64Array2D, level: float
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
    The rows are cut into blocks of about ``BLOCK_ELEMENTS`` losses that threads take one at a
    time (one thread per core for large books). Each block of losses is one row-stable
    :func:`row_product` (a portfolio's losses have the same bits in any book) into a
    buffer of the thread, reduced while it is in cache: by the compiled pass that keeps every
    row's ``m`` largest losses and their scenarios (``m <= INSERTION_MAX_TAIL``), or else by a
    partition of a copy and a comparison of the block with the VaR for the scenario. The full
    loss matrix is never stored, so memory stays bounded for any book.
    """
    quantities = np.ascontiguousarray(quantities, dtype=float)
    unit_losses = np.ascontiguousarray(unit_losses, dtype=float)
    if not (np.isfinite(quantities).all() and np.isfinite(unit_losses).all()):
        raise DataError("non-finite quantities or unit losses; check prices and scenarios")
    n_rows = quantities.shape[0]
    n = unit_losses.shape[1]
    m = tail_count(n, level)  # validates the level even for an empty book
    compiled = _uses_compiled(m) and n > 0
    rows_per_block = max(1, min(n_rows, BLOCK_ELEMENTS // max(n, 1)))
    var = np.empty(n_rows)
    es = np.empty(n_rows)
    scenario = np.empty(n_rows, dtype=np.intp)

    def work(start: int, stop: int, scratch: dict) -> None:
        if "losses" not in scratch:
            scratch["losses"] = np.empty((rows_per_block, n))
        rows = slice(start, stop)
        block = scratch["losses"][: stop - start]
        with np.errstate(over="ignore", invalid="ignore"):  # reported by _check_es below
            _row_product(quantities[rows], unit_losses, block)
        if compiled:
            _select_top(block, m, False, var[rows], es[rows], scenario[rows])
            return
        if "partition" not in scratch:
            scratch["partition"] = np.empty((rows_per_block, n))
        copy = scratch["partition"][: stop - start]
        np.copyto(copy, block)
        var[rows], es[rows] = _partition_tail(copy, m, axis=1)
        scenario[rows] = np.argmax(block == var[rows, None], axis=1)

    run_row_blocks(
        n_rows, rows_per_block, work, parallel=n_rows * n >= PARALLEL_ELEMENTS, blas=True
    )
    _check_es(es)
    return var, es, scenario
