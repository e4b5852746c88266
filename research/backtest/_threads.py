"""Run small dense kernels on one BLAS thread.

The backtest's matrix products (portfolios x underlyings times underlyings x scenarios) and
its many tiny L-BFGS-B fits are too small to gain from BLAS threads; on a shared machine the
threads mostly contend (measured: a 400-refit GARCH loop took 48 s with default threads and
3 s with one thread on a loaded 2-core box).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    """One controller: discovering the loaded BLAS libraries is slow, so it is done once."""
    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager:
    """Context manager limiting BLAS to one thread inside the block."""
    return _controller().limit(limits=1, user_api="blas")
