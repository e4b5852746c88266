"""Threads for dense kernels: one BLAS thread, or row blocks over one thread per core.

Small matrix products (the backtest's portfolios x underlyings times underlyings x scenarios)
and many tiny L-BFGS-B fits gain nothing from BLAS threads; on a shared machine the threads
mostly contend (measured: a 400-refit GARCH loop took 48 s with default threads and 3 s with
one thread on a loaded 2-core box). Large row-wise work (a VaR/ES per portfolio of a big book)
is instead cut into blocks of rows that Python threads take one at a time; the kernels they
call (numba ``nogil`` functions, numpy's BLAS) release the GIL, so the threads run in parallel.
Threads are started per call rather than through numba's ``prange``: GNU OpenMP, numba's
threading layer here, aborts a process forked after using it (``research.parallel`` therefore
starts its workers with ``forkserver`` or ``spawn``, but other code may still fork).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = ["THREADS_VARIABLE", "run_row_blocks", "single_threaded_blas", "usable_cores"]


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    """One controller: discovering the loaded BLAS libraries is slow, so it is done once.

    numpy and scipy each bring their own OpenBLAS; both are loaded first so that the controller
    (which sees only libraries loaded when it is built) limits every BLAS the package calls.
    """
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401

    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager:
    """Context manager limiting BLAS to one thread inside the block."""
    return _controller().limit(limits=1, user_api="blas")


#: Environment variable capping the threads of this package's own row blocks (set to 1 in the
#: workers of ``research.parallel``, which already run one process per core).
THREADS_VARIABLE = "RESEARCH_NUM_THREADS"


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity (where the platform reports it).

    Capped by a positive integer in the environment variable :data:`THREADS_VARIABLE`.
    """
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    cap = os.environ.get(THREADS_VARIABLE, "")
    return min(cores, int(cap)) if cap.isdigit() and int(cap) > 0 else cores


def run_row_blocks(
    n_rows: int,
    rows_per_block: int,
    work: Callable[[int, int, dict[str, Any]], None],
    parallel: bool = True,
    blas: bool = False,
) -> None:
    """Call ``work(start, stop, scratch)`` for consecutive blocks of rows, on threads.

    Parameters
    ----------
    n_rows : int
        Rows to cover; blocks are ``[start, stop)`` with ``stop - start <= rows_per_block``.
    rows_per_block : int
        Rows per block (>= 1).
    work : callable
        Processes one block and writes its results in place. ``scratch`` is a dict private to
        the thread (for buffers reused across its blocks).
    parallel : bool, default True
        Use one thread per usable core (at most one per block); otherwise run every block
        on the calling thread.
    blas : bool, default False
        ``work`` calls BLAS (e.g. a matrix product per block): with more than one thread,
        BLAS is limited to one thread for the duration, so that the block products do not
        compete with BLAS's own threads.

    Notes
    -----
    Threads take the next block when they finish one (dynamic scheduling), so a thread slowed
    by a busy core takes fewer blocks. The first exception raised by ``work`` is re-raised after
    every thread has stopped. Only the calling thread changes BLAS's thread count (OpenBLAS's
    count set from short-lived threads does not reliably restore).
    """
    starts = iter(range(0, n_rows, max(1, rows_per_block)))
    n_blocks = -(-n_rows // max(1, rows_per_block))
    n_threads = min(usable_cores(), n_blocks) if parallel else 1
    errors: list[BaseException] = []

    def worker() -> None:
        scratch: dict[str, Any] = {}
        try:
            for start in starts:  # a range iterator hands out each start once across threads
                if errors:
                    return
                work(start, min(start + rows_per_block, n_rows), scratch)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
            errors.append(exc)

    limit = single_threaded_blas() if blas and n_threads > 1 else nullcontext()
    with limit:
        threads = [threading.Thread(target=worker) for _ in range(n_threads - 1)]
        for thread in threads:
            thread.start()
        worker()
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
