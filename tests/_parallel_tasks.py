"""Module-level tasks for the backend-equivalence tests of :mod:`research.parallel`.

Spawned and forkserver workers import tasks by module name, so they live in an importable
module (``tests`` is a namespace package on ``pythonpath``), not in the test file.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

import research

ASSETS = ["AAPL", "AMD", "BAC", "CVX", "GE"]


@lru_cache(maxsize=1)
def _returns():
    prices = research.load_dataset("sp500")[ASSETS].iloc[-1200:]
    return research.to_returns(prices)


@lru_cache(maxsize=2)
def _fit(std_errors: bool):
    return research.DCC(kind="dcc", std_errors=std_errors).fit(_returns())


def dcc_fit_task(kind: str) -> np.ndarray:
    """Fit one DCC-family model; parameters, log-likelihood and the last correlation."""
    res = research.DCC(kind=kind).fit(_returns())
    return np.concatenate(
        [
            res.params.to_numpy(),
            res.std_errors.to_numpy(),
            [res.loglikelihood, res.loglikelihood_correlation],
            res.correlation_array[-1].ravel(),
        ]
    )


def simulation_task(seed: int) -> np.ndarray:
    """FHS simulation from a fixed fit (the fit is cached per process)."""
    sim = _fit(False).simulate(horizon=5, paths=200, method="fhs", seed=seed)
    return sim.returns


def blas_threads_task(_: object) -> int:
    """The largest thread count of any loaded BLAS while the task runs."""
    from threadpoolctl import threadpool_info

    return max(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")
