r"""Monte Carlo of cascades over simulated stress paths, on :func:`research.parallel.map_tasks`.

:func:`stress_paths` draws hourly log-return paths from a stated simple model: a multivariate
Student-t with a stressed correlation matrix (every pair at ``correlation``; the spec gives no
sourced regime parameters for crypto, §11), scaled to per-asset hourly volatilities, plus a
drift. Any other generator (e.g. ``research.correlation``'s DCC simulation) can feed
:func:`cascade_distribution` through :meth:`ShockPath.from_returns`.

:func:`cascade_distribution` runs one cascade per path (tasks carry no randomness of their own:
the paths are drawn once from the seed), serially or on local processes or Dask; the result is
bit-identical for a seed on every backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from research._random import as_generator
from research._typing import Seed
from research.data.units import to_decimal
from research.errors import ParameterError
from research.liquidation.engine import CascadeSimulator
from research.liquidation.state import Accounts, ShockPath
from research.parallel import Backend, map_tasks

__all__ = ["cascade_distribution", "paths_from_simulation", "stress_paths"]


def stress_paths(
    hourly_vol: Mapping[str, float] | pd.Series,
    *,
    n_paths: int,
    steps: int,
    correlation: float = 0.9,
    df: float = 4.0,
    drift: float = 0.0,
    seed: Seed = None,
) -> list[ShockPath]:
    r"""Draw multivariate Student-t log-return paths with an equicorrelated stressed matrix.

    Each step's returns are :math:`r = \mu + \sigma \odot L z \sqrt{(\nu - 2) / \chi^2_\nu}`
    (``L`` the Cholesky factor of the correlation matrix, ``z`` standard normal): a Student-t
    with unit variance per asset scaled by ``sigma``, each asset's hourly volatility.

    Parameters
    ----------
    hourly_vol : mapping or pandas.Series
        Hourly log-return volatility per asset (> 0).
    n_paths, steps : int
        Number of paths and hourly steps per path.
    correlation : float
        Common pairwise correlation in stress (in (-1/(N-1), 1)).
    df : float
        Student-t degrees of freedom (> 2).
    drift : float
        Mean log return per step (e.g. negative for a selloff).
    seed : int, numpy.random.Generator or None
        Seed of every draw.

    Returns
    -------
    list of ShockPath
    """
    vol = pd.Series(hourly_vol, dtype=float)
    n = len(vol)
    if n == 0 or (vol <= 0).any() or not np.isfinite(vol.to_numpy()).all():
        raise ParameterError("hourly_vol must be finite and > 0 for every asset")
    if not (-1.0 / max(n - 1, 1) < correlation < 1.0):
        raise ParameterError(f"correlation {correlation} does not give a positive definite matrix")
    if df <= 2:
        raise ParameterError(f"df is {df}; the Student-t needs df > 2 for a variance")
    if n_paths < 1 or steps < 1:
        raise ParameterError("n_paths and steps must be >= 1")
    rng = as_generator(seed)
    corr = np.full((n, n), correlation)
    np.fill_diagonal(corr, 1.0)
    chol = np.linalg.cholesky(corr)
    z = rng.standard_normal((n_paths, steps, n)) @ chol.T
    scale = np.sqrt((df - 2.0) / rng.chisquare(df, (n_paths, steps, 1)))
    returns = drift + z * scale * vol.to_numpy()
    columns = list(map(str, vol.index))
    return [ShockPath.from_returns(pd.DataFrame(r, columns=columns)) for r in returns]


def paths_from_simulation(
    simulation: Any, units: Literal["percent", "decimal"] = "percent"
) -> list[ShockPath]:
    """Shock paths from simulated log returns, e.g. a ``research.correlation`` DCC simulation.

    Parameters
    ----------
    simulation : DCCSimulation or any object with ``returns`` and ``assets``
        ``returns`` of shape (paths, steps, assets) are log returns, one step per row (the
        step of the data the model was fitted on: hourly data give hourly steps).
    units : {"percent", "decimal"}
        Units of ``returns`` (``research.to_returns`` gives percent by default).

    Returns
    -------
    list of ShockPath
    """
    if units not in ("percent", "decimal"):
        raise ParameterError(f"units must be 'percent' or 'decimal', got {units!r}")
    returns = np.asarray(simulation.returns, dtype=float)
    if returns.ndim != 3 or returns.shape[2] != len(simulation.assets):
        raise ParameterError("simulated returns must have shape (paths, steps, assets)")
    columns = list(map(str, simulation.assets))
    decimal = to_decimal(returns, units)
    return [ShockPath.from_returns(pd.DataFrame(r, columns=columns)) for r in decimal]


@dataclass(frozen=True)
class _Task:
    simulator: CascadeSimulator
    accounts: Accounts
    path: ShockPath


def _metrics(task: _Task) -> dict[str, float]:
    result = task.simulator.run(task.accounts, task.path)
    amplification = result.amplification()["amplification"]
    return {
        "bad_debt": result.bad_debt,
        "liquidated_notional": result.liquidated_notional,
        "accounts_liquidated": float(len(result.accounts_liquidated)),
        "fund_drawdown": result.fund_drawdown,
        "adl_haircut": result.adl_haircut,
        "uncovered": result.uncovered,
        "max_amplification": float(amplification.max()) if amplification.notna().any() else np.nan,
    }


def cascade_distribution(
    simulator: CascadeSimulator,
    accounts: Accounts,
    paths: Sequence[ShockPath],
    *,
    backend: Backend = "serial",
    cluster: object = None,
    max_workers: int | None = None,
) -> pd.DataFrame:
    """Run the cascade of ``accounts`` on every path and tabulate the metrics.

    Parameters
    ----------
    simulator : CascadeSimulator
        Venue and markets.
    accounts : Accounts
        The population (the same on every path).
    paths : sequence of ShockPath
        E.g. from :func:`stress_paths`.
    backend, cluster, max_workers
        As in :func:`research.parallel.map_tasks` (default serial).

    Returns
    -------
    pandas.DataFrame
        One row per path: ``bad_debt``, ``liquidated_notional``, ``accounts_liquidated``,
        ``fund_drawdown``, ``adl_haircut``, ``uncovered``, ``max_amplification``.
    """
    tasks = [_Task(simulator, accounts, p) for p in paths]
    rows = map_tasks(
        _metrics,
        tasks,
        backend=backend,
        cluster=cluster,
        max_workers=max_workers,
        progress=False,
        description="cascades",
    )
    return pd.DataFrame(rows, index=pd.RangeIndex(len(rows), name="path"))
